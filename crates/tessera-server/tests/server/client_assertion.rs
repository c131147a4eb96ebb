//! `private_key_jwt` over HTTP: a confidential app with a registered key (and no secret)
//! authenticates at the token, introspection and revocation endpoints with assertions
//! signed in the test; a replayed assertion is refused, also when the replay reaches
//! another node on the same database.

use super::multi_node::two_nodes;
use super::oidc::*;
use super::support::Served;
use serde_json::{Value, json};
use tessera_core::errors::ErrorName;
use tessera_core::keys::{KeyState, SigningAlg, SigningKey};
use tessera_core::oauth::jose::Signer;

const CERT_APP: &str = "cert-daemon";
const ASSERTION_TYPE: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

/// A client key pair, made in the test: only its public half is registered.
struct ClientKey {
    key: SigningKey,
    signer: Signer,
}

impl ClientKey {
    fn new() -> Self {
        let master = tessera_core::crypto::MasterKey::from_bytes(&[1; 32]);
        let tenant = tessera_core::ids::TenantId::from_uuid(uuid::Uuid::nil());
        let key = tessera_core::keys::generate(
            SigningAlg::ES256,
            KeyState::Active,
            tenant,
            &master,
            &tessera_core::rng::OsRng,
            super::support::T0,
        )
        .unwrap();
        let signer = Signer::open(&key, tenant, &master).unwrap();
        Self { key, signer }
    }

    /// A fresh assertion for `served`'s token endpoint, made at the server's time.
    fn assertion(&self, served: &Served, jti: &str) -> String {
        let now = served.app.clock.now().unix_timestamp();
        self.signer
            .sign(
                "JWT",
                &json!({
                    "iss": CERT_APP, "sub": CERT_APP, "jti": jti,
                    "aud": format!("{}/oauth2/token", issuer(served)),
                    "iat": now, "exp": now + 120,
                }),
            )
            .unwrap()
    }
}

use tessera_core::clock::Clock;

/// The fixture server, plus an app whose only credential is `key`.
async fn register(served: &Served, key: &ClientKey) {
    served
        .app
        .import(json!({ "tenants": [{
            "slug": TENANT, "display_name": "Fabrikam",
            "apps": [ { "client_id": CERT_APP, "name": "Certificate Daemon",
                        "grant_types": ["client_credentials",
                                        "urn:ietf:params:oauth:grant-type:device_code"],
                        "jwks": { "keys": [key.key.public_jwk] },
                        "permissions": [ { "api": API, "scopes": ["read"] } ] } ]
        }]}))
        .await;
}

fn form_with<'a>(assertion: &'a str, rest: &[(&'a str, &'a str)]) -> Vec<(&'a str, &'a str)> {
    let mut form = vec![
        ("client_assertion_type", ASSERTION_TYPE),
        ("client_assertion", assertion),
    ];
    form.extend_from_slice(rest);
    form
}

async fn client_credentials(base: &str, assertion: &str) -> reqwest::Response {
    let scope = format!("{API}/.default");
    token_request(
        base,
        &form_with(
            assertion,
            &[("grant_type", "client_credentials"), ("scope", &scope)],
        ),
    )
    .send()
    .await
    .unwrap()
}

#[tokio::test]
async fn an_app_with_a_registered_key_authenticates_at_every_endpoint() {
    let served = server(None).await;
    let key = ClientKey::new();
    register(&served, &key).await;
    let base = &served.base;

    let r = client_credentials(base, &key.assertion(&served, "t-1")).await;
    assert_eq!(r.status(), 200);
    let access: Value = r.json().await.unwrap();
    let access = access["access_token"].as_str().unwrap().to_owned();

    // The same assertion again: replayed, with the entry's own code and the jti named.
    let replay = key.assertion(&served, "t-1");
    let (_, body) = assert_json_error(
        client_credentials(base, &replay).await,
        ErrorName::ClientAssertionReplayed,
    )
    .await;
    assert!(body["error_description"].as_str().unwrap().contains("t-1"));

    // Introspection and revocation take the same method, each with a new assertion.
    let introspected: Value = rp_http()
        .post(format!("{base}/{TENANT}/oauth2/introspect"))
        .form(&form_with(
            &key.assertion(&served, "i-1"),
            &[("token", access.as_str())],
        ))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(introspected["active"], true, "{introspected}");
    let revoked = rp_http()
        .post(format!("{base}/{TENANT}/oauth2/revoke"))
        .form(&form_with(
            &key.assertion(&served, "r-1"),
            &[("token", access.as_str())],
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(revoked.status(), 200);
    let device = rp_http()
        .post(format!("{base}/{TENANT}/oauth2/devicecode"))
        .form(&form_with(
            &key.assertion(&served, "d-1"),
            &[("scope", "openid")],
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(device.status(), 200, "{}", device.text().await.unwrap());

    // A secret is no credential of this app; an assertion signed by another key fails.
    let r = token_request(
        base,
        &[
            ("grant_type", "client_credentials"),
            ("client_id", CERT_APP),
            ("client_secret", WEB_SECRET),
        ],
    )
    .send()
    .await
    .unwrap();
    assert_json_error(r, ErrorName::InvalidClientSecret).await;
    let stranger = ClientKey::new();
    assert_json_error(
        client_credentials(base, &stranger.assertion(&served, "t-2")).await,
        ErrorName::ClientAssertionKeyNotFound,
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_assertion_used_at_one_node_is_refused_at_the_other() {
    let Some((a, b, _task)) =
        two_nodes("an_assertion_used_at_one_node_is_refused_at_the_other").await
    else {
        return;
    };
    let key = ClientKey::new();
    register(&a, &key).await;
    let assertion = key.assertion(&a, "across-nodes");
    assert_eq!(client_credentials(&a.base, &assertion).await.status(), 200);
    assert_json_error(
        client_credentials(&b, &assertion).await,
        ErrorName::ClientAssertionReplayed,
    )
    .await;

    // Sent to both nodes at once, 20 times over: exactly one is accepted.
    let assertion = key.assertion(&a, "raced");
    let tasks: Vec<_> = (0..20)
        .map(|i| {
            let base = if i % 2 == 0 {
                a.base.clone()
            } else {
                b.clone()
            };
            let assertion = assertion.clone();
            tokio::spawn(async move {
                let r = client_credentials(&base, &assertion).await;
                let status = r.status().as_u16();
                let body: Value = r.json().await.unwrap_or(Value::Null);
                (status, body["error_codes"][0].clone())
            })
        })
        .collect();
    let mut ok = 0;
    let replayed = json!(ErrorName::ClientAssertionReplayed.entry().code);
    for t in tasks {
        let (status, code) = t.await.unwrap();
        // Every loser is told the assertion was used already.
        assert!(
            status == 200 || (status == 401 && code == replayed),
            "{status} {code}"
        );
        ok += usize::from(status == 200);
    }
    assert_eq!(ok, 1);
}
