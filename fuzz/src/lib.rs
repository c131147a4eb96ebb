//! What the fuzz targets share: a master key, a tenant id and an app to parse against,
//! signing keys, and an in-process server (the whole router on SQLite) for the targets
//! that send requests.
//!
//! Every target checks more than "no panic" where a property is cheap to state: a form
//! re-encodes to itself, a server answers no request with a 5xx.

use std::sync::OnceLock;
use tessera_core::crypto::MasterKey;
use tessera_core::directory::model::App;
use tessera_core::ids::TenantId;
use tessera_core::keys::SigningKey;

pub mod server;

pub fn master() -> &'static MasterKey {
    static MASTER: OnceLock<MasterKey> = OnceLock::new();
    MASTER.get_or_init(|| MasterKey::from_bytes(&[42u8; 32]))
}

pub fn tenant_id() -> TenantId {
    TenantId::from_uuid(uuid::Uuid::from_u128(7))
}

/// A confidential app with every platform's redirect URIs and every grant.
pub fn app() -> &'static App {
    static APP: OnceLock<App> = OnceLock::new();
    APP.get_or_init(|| {
        serde_json::from_value(serde_json::json!({
            "client_id": "web-app", "name": "Web", "multi_tenant": false,
            "assignment_required": false,
            "redirect_uris": {
                "web": ["https://app.test/cb"],
                "spa": ["https://spa.test/cb"],
                "native": ["http://127.0.0.1/cb", "com.example.app:/cb"]
            },
            "post_logout_redirect_uris": ["https://app.test/bye"],
            "secrets": [{ "id": "00000000-0000-0000-0000-000000000001", "hash": "h",
                          "hint": "x", "expires_at": null,
                          "created_at": "2026-01-01T00:00:00Z" }],
            "jwks": null,
            "grant_types": ["authorization_code", "refresh_token", "client_credentials",
                            "urn:ietf:params:oauth:grant-type:device_code",
                            "urn:ietf:params:oauth:grant-type:token-exchange"],
            "implicit": { "id_token": true, "access_token": true },
            "permissions": [{ "api": "https://api.test", "scopes": ["read", "write"],
                              "app_roles": ["Reader"] }],
            "admin_consented": false, "assigned_users": [], "enabled": true
        }))
        .expect("the fixture app parses")
    })
}

/// One active signing key of each algorithm, generated once per process.
pub fn signing_keys() -> &'static [SigningKey] {
    static KEYS: OnceLock<Vec<SigningKey>> = OnceLock::new();
    KEYS.get_or_init(|| {
        tessera_core::keys::SigningAlg::ALL
            .into_iter()
            .map(|alg| {
                let rng = tessera_core::rng::SequenceRng::new(alg as u64);
                let now = time::OffsetDateTime::UNIX_EPOCH + time::Duration::days(20_000);
                tessera_core::keys::generate(
                    alg,
                    tessera_core::keys::KeyState::Active,
                    tenant_id(),
                    master(),
                    &rng,
                    now,
                )
                .expect("a signing key")
            })
            .collect()
    })
}

/// The public JWKs of [`signing_keys`].
pub fn public_jwks() -> Vec<serde_json::Value> {
    signing_keys()
        .iter()
        .map(|k| k.public_jwk.clone())
        .collect()
}
