//! JWK Sets as outside parties give them (RFC 7517 §5): an app's registered `jwks` for
//! `private_key_jwt`, against which client assertions are verified. The input is the
//! key set; tokens signed by the tenant's own keys are verified against it. Property:
//! a token verifies only under a key of the same `kid` whose public key is the signer's.
#![no_main]

use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;
use tessera_core::oauth::jose;

/// One token signed by each of the fixture's keys.
fn tokens() -> &'static [String] {
    static TOKENS: OnceLock<Vec<String>> = OnceLock::new();
    TOKENS.get_or_init(|| {
        tessera_fuzz::signing_keys()
            .iter()
            .map(|key| {
                let signer =
                    jose::Signer::open(key, tessera_fuzz::tenant_id(), tessera_fuzz::master())
                        .expect("the fixture key opens");
                signer
                    .sign("JWT", &serde_json::json!({ "iss": "app", "sub": "app" }))
                    .expect("a signature")
            })
            .collect()
    })
}

fuzz_target!(|data: &[u8]| {
    let Ok(serde_json::Value::Object(set)) = serde_json::from_slice::<serde_json::Value>(data)
    else {
        return;
    };
    let Some(serde_json::Value::Array(keys)) = set.get("keys") else {
        return;
    };
    let genuine = tessera_fuzz::public_jwks();
    for token in tokens() {
        if let Ok(verified) = jose::verify(token, keys) {
            let kid = verified.header.get("kid").and_then(|k| k.as_str());
            let signer = genuine.iter().find(|k| k["kid"].as_str() == kid);
            let used = keys.iter().find(|k| k["kid"].as_str() == kid);
            let public =
                |k: &serde_json::Value| ["n", "e", "x", "y", "crv"].map(|m| k.get(m).cloned());
            assert_eq!(
                signer.map(public),
                used.map(public),
                "verified under another key"
            );
        }
    }
});
