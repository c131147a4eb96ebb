//! Compact JWS (RFC 7515 §7.1) as presented: access tokens at UserInfo and
//! introspection, ID token hints, client assertions, subject tokens. Split, decoded and
//! verified against the tenant's keys (RS256, ES256, EdDSA). Property: only a token
//! whose signature verifies under one of the keys is accepted, and it is one of them
//! that its `kid` names.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tessera_core::oauth::jose;

fuzz_target!(|data: &[u8]| {
    let Ok(token) = std::str::from_utf8(data) else {
        return;
    };
    let _ = jose::unverified_claims(token);
    let _ = jose::parse(token);
    let keys = tessera_fuzz::public_jwks();
    if let Ok(verified) = jose::verify(token, &keys) {
        let kid = verified.header.get("kid").and_then(|k| k.as_str());
        assert!(
            keys.iter().any(|k| k["kid"].as_str() == kid),
            "verified under no key"
        );
    }
});
