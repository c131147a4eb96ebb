//! What Microsoft's MSAL libraries read and send, over HTTP: Entra ID's path layout
//! beside Tessera's (v2.0 discovery, `/oauth2/v2.0/*`, `/discovery/v2.0/keys`, tenant
//! names in any case), token responses with `client_info`, `ext_expires_in`, `scope`
//! and ID tokens with `oid`, `tid`, `preferred_username`; `suberror` on errors MSAL
//! acts on; the device flow's `grant_type=device_code` and no `slow_down` there;
//! on-behalf-of in Entra's JWT-bearer form; the user-realm lookup; `client-request-id`
//! in the query; and built-in TLS with a `tessera dev-cert` certificate.

use super::oidc::*;
use super::support::{Process, Served, TempDir, run_in};
use serde_json::{Value, json};
use tessera_core::errors::ErrorName;

#[tokio::test]
async fn discovery_and_keys_at_the_entra_paths() {
    let served = server(None).await;
    let http = rp_http();
    let get = |path: String| {
        let http = http.clone();
        async move {
            let r = http.get(path).send().await.unwrap();
            assert_eq!(r.status(), 200);
            r.json::<Value>().await.unwrap()
        }
    };
    let issuer = issuer(&served);
    // Tenant names in any case, as MSAL Node lower-cases them and people type them.
    for tenant in [TENANT, "Fabrikam"] {
        let doc = get(format!(
            "{}/{tenant}/v2.0/.well-known/openid-configuration",
            served.base
        ))
        .await;
        assert_eq!(doc["issuer"], issuer);
        assert_eq!(
            doc["authorization_endpoint"],
            format!("{issuer}/oauth2/v2.0/authorize")
        );
        assert_eq!(doc["token_endpoint"], format!("{issuer}/oauth2/v2.0/token"));
        assert_eq!(
            doc["device_authorization_endpoint"],
            format!("{issuer}/oauth2/v2.0/devicecode")
        );
        assert_eq!(
            doc["end_session_endpoint"],
            format!("{issuer}/oauth2/v2.0/logout")
        );
        assert_eq!(doc["jwks_uri"], format!("{issuer}/discovery/v2.0/keys"));
    }
    // Tessera's own document is unchanged.
    let own = get(format!(
        "{}/{TENANT}/.well-known/openid-configuration",
        served.base
    ))
    .await;
    assert_eq!(own["token_endpoint"], format!("{issuer}/oauth2/token"));
    // The same keys at both paths.
    let keys = get(format!("{}/{TENANT}/discovery/keys", served.base)).await;
    let v2 = get(format!("{}/{TENANT}/discovery/v2.0/keys", served.base)).await;
    assert_eq!(keys, v2);
    // Meta-tenants: Entra's issuer template and the v2.0 endpoints.
    let common = get(format!(
        "{}/common/v2.0/.well-known/openid-configuration",
        served.base
    ))
    .await;
    assert_eq!(common["issuer"], format!("{}/{{tenantid}}", served.base));
    assert_eq!(
        common["token_endpoint"],
        format!("{}/common/oauth2/v2.0/token", served.base)
    );
}

/// A code for ed-app through `/oauth2/v2.0/authorize`, with MSAL's extra parameters.
async fn v2_code(served: &Served, nonce: &str) -> String {
    let b = browser();
    let q = serde_urlencoded::to_string([
        ("client_id", "ed-app"),
        ("redirect_uri", WEB_CB),
        ("response_type", "code"),
        ("scope", "openid profile offline_access"),
        ("state", "st"),
        ("nonce", nonce),
        ("client_info", "1"),
        ("x-client-SKU", "MSAL.Python"),
        ("x-client-Ver", "1.31.0"),
        (
            "claims",
            r#"{"access_token":{"xms_cc":{"values":["CP1"]}}}"#,
        ),
    ])
    .unwrap();
    let page = b
        .get(format!(
            "{}/{TENANT}/oauth2/v2.0/authorize?{q}",
            served.base
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    let redirect = sign_in(&b, &served.base, &html, "alice", PASSWORD).await;
    let (_, query) = location_params(&redirect);
    param(&query, "code")
        .unwrap_or_else(|| panic!("{query:?}"))
        .to_owned()
}

fn v2_token(served: &Served, form: &[(&str, &str)]) -> reqwest::RequestBuilder {
    rp_http()
        .post(format!("{}/{TENANT}/oauth2/v2.0/token", served.base))
        .header("client-request-id", "0b8f1e2a-1111-4222-8333-444455556666")
        .form(form)
}

#[tokio::test]
async fn token_responses_carry_what_msal_reads() {
    let served = server(None).await;
    let code = v2_code(&served, "n-msal").await;
    let r = v2_token(
        &served,
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", WEB_CB),
            ("client_id", "ed-app"),
            ("client_secret", WEB_SECRET),
            ("client_info", "1"),
            ("scope", "openid profile offline_access"),
            ("x-client-SKU", "msal.js.node"),
            ("client-request-id", "0b8f1e2a-1111-4222-8333-444455556666"),
        ],
    )
    .send()
    .await
    .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(
        r.headers()["client-request-id"],
        "0b8f1e2a-1111-4222-8333-444455556666"
    );
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["token_type"], "Bearer");
    assert!(body["expires_in"].is_i64(), "{body}");
    assert_eq!(body["ext_expires_in"], body["expires_in"]);
    let scope = body["scope"].as_str().unwrap();
    assert!(
        scope.split(' ').any(|s| s == "openid") && scope.split(' ').any(|s| s == "profile"),
        "{scope}"
    );
    let id = claims_of(body["id_token"].as_str().unwrap());
    assert_eq!(id["oid"], id["sub"]);
    assert_eq!(id["preferred_username"], "alice");
    assert_eq!(id["nonce"], "n-msal");
    assert_eq!(id["aud"], "ed-app");
    // client_info: base64url of {"uid", "utid"}, MSAL's account key.
    use base64::Engine;
    let info: Value = serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(body["client_info"].as_str().unwrap())
            .unwrap(),
    )
    .unwrap();
    assert_eq!(info, json!({ "uid": id["oid"], "utid": id["tid"] }));

    // A refresh without client_info=1 gets none; no nonce where none was sent.
    let refresh = body["refresh_token"].as_str().unwrap().to_owned();
    let r = v2_token(
        &served,
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", &refresh),
            ("client_id", "ed-app"),
            ("client_secret", WEB_SECRET),
        ],
    )
    .send()
    .await
    .unwrap();
    assert_eq!(r.status(), 200);
    let again: Value = r.json().await.unwrap();
    assert!(again.get("client_info").is_none(), "{again}");
    // A refreshed ID token carries no nonce: the refresh request sent none.
    let refreshed = claims_of(again["id_token"].as_str().expect("an ID token"));
    assert!(refreshed.get("nonce").is_none(), "{refreshed}");

    // A revoked refresh token: bad_token, so MSAL drops it.
    assert_eq!(revoke_all_sessions(&served, "alice").await.status, 200);
    let next = again["refresh_token"].as_str().unwrap();
    let r = v2_token(
        &served,
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", next),
            ("client_id", "ed-app"),
            ("client_secret", WEB_SECRET),
        ],
    )
    .send()
    .await
    .unwrap();
    let (_, error) = assert_token_error(r, ErrorName::RefreshTokenRevoked).await;
    assert_eq!(error["suberror"], "bad_token", "{error}");
    assert!(error["timestamp"].is_string() && error["correlation_id"].is_string());
}

#[tokio::test]
async fn client_credentials_answer_with_the_scope_asked_for() {
    let served = server(None).await;
    served
        .app
        .import(
            json!({ "tenants": [{ "slug": TENANT, "display_name": "Fabrikam",
            "apps": [ { "client_id": "daemon", "name": "Daemon",
                        "secrets": [ { "value": WEB_SECRET } ],
                        "grant_types": ["client_credentials"],
                        "permissions": [ { "api": API, "scopes": [] } ] } ] }] }),
        )
        .await;
    for form in [
        vec![("scope", format!("{API}/.default"))],
        vec![("resource", API.to_owned())],
    ] {
        let mut form: Vec<(&str, String)> = form;
        form.extend([
            ("grant_type", "client_credentials".to_owned()),
            ("client_id", "daemon".to_owned()),
            ("client_secret", WEB_SECRET.to_owned()),
        ]);
        let r = rp_http()
            .post(format!("{}/{TENANT}/oauth2/v2.0/token", served.base))
            .form(&form)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        let body: Value = r.json().await.unwrap();
        assert_eq!(body["scope"], format!("{API}/.default"), "{body}");
        assert_eq!(body["ext_expires_in"], body["expires_in"]);
        assert!(body.get("client_info").is_none());
    }
}

#[tokio::test]
async fn the_device_flow_at_the_entra_paths_never_says_slow_down() {
    use super::device_flow::{TV, device_server};
    let served = device_server().await;
    let started: Value = rp_http()
        .post(format!("{}/{TENANT}/oauth2/v2.0/devicecode", served.base))
        .form(&[("client_id", TV), ("scope", "openid offline_access")])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let device_code = started["device_code"].as_str().unwrap().to_owned();
    // A poll at `path` (`oauth2/v2.0/token` or `oauth2/token`) with `grant`; with
    // MSAL Python's duplicate `code` beside the device code.
    let poll = |path: &'static str, grant: &'static str| {
        let served = &served;
        let device_code = device_code.clone();
        async move {
            rp_http()
                .post(format!("{}/{TENANT}/{path}", served.base))
                .form(&[
                    ("grant_type", grant),
                    ("client_id", TV),
                    ("device_code", device_code.as_str()),
                    ("code", device_code.as_str()),
                ])
                .send()
                .await
                .unwrap()
        }
    };
    const ENTRA: &str = "oauth2/v2.0/token";
    const RFC: &str = "oauth2/token";
    const URN: &str = "urn:ietf:params:oauth:grant-type:device_code";
    // MSAL Node's bare grant type.
    let r = poll(ENTRA, "device_code").await;
    assert_token_error(r, ErrorName::DeviceAuthorizationPending).await;
    // Too soon again (the fixed clock has not moved): where RFC 8628 says slow_down,
    // the device waits and hears authorization_pending.
    let started_at = std::time::Instant::now();
    let r = poll(ENTRA, URN).await;
    assert!(started_at.elapsed() >= std::time::Duration::from_secs(4));
    assert_token_error(r, ErrorName::DeviceAuthorizationPending).await;
    // Tessera's own path says slow_down, as RFC 8628 §3.5 has it, and knows only the URN.
    assert_token_error(poll(RFC, URN).await, ErrorName::DeviceSlowDown).await;
    let r = poll(RFC, "device_code").await;
    assert_token_error(r, ErrorName::UnsupportedGrantType).await;
}

#[tokio::test]
async fn on_behalf_of_in_entra_form_is_the_token_exchange() {
    use super::token_exchange::{MIDDLE_CB, chain_server, front_token};
    let served = chain_server().await;
    let subject = front_token(&served).await;
    let (_, challenge) = pkce("obo-consent");
    code_for(
        &served,
        "middle-app",
        MIDDLE_CB,
        &format!("{API}/read"),
        Some(&challenge),
        "alice",
    )
    .await;
    let scope = format!("{API}/read");
    let obo = |assertion: Option<&str>| {
        let mut form = vec![
            ("grant_type", "urn:ietf:params:oauth:grant-type:jwt-bearer"),
            ("requested_token_use", "on_behalf_of"),
            ("scope", scope.as_str()),
            ("client_id", "middle-app"),
            ("client_secret", WEB_SECRET),
        ];
        if let Some(a) = assertion {
            form.push(("assertion", a));
        }
        rp_http()
            .post(format!("{}/{TENANT}/oauth2/v2.0/token", served.base))
            .form(&form)
            .send()
    };
    let r = obo(Some(&subject)).await.unwrap();
    assert_eq!(r.status(), 200);
    let body: Value = r.json().await.unwrap();
    let claims =
        tessera_core::oauth::jose::unverified_claims(body["access_token"].as_str().unwrap())
            .unwrap();
    let original = tessera_core::oauth::jose::unverified_claims(&subject).unwrap();
    assert_eq!(claims["sub"], original["sub"]);
    assert_eq!(claims["aud"], API);
    assert_eq!(claims["act"], json!({ "sub": "middle-app" }));
    assert_json_error(
        obo(None).await.unwrap(),
        ErrorName::TokenExchangeSubjectInvalid,
    )
    .await;
}

#[tokio::test]
async fn the_user_realm_is_managed_and_request_ids_come_back() {
    let served = server(None).await;
    let r = rp_http()
        .get(format!(
            "{}/common/userrealm/alice@fabrikam.test?api-version=1.0",
            served.base
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let realm: Value = r.json().await.unwrap();
    assert_eq!(realm["account_type"], "Managed");
    assert_eq!(realm["domain_name"], "fabrikam.test");
    // MSAL's password flow then meets a catalogued refusal.
    let r = token_request(
        &served.base,
        &[
            ("grant_type", "password"),
            ("client_id", "ed-app"),
            ("client_secret", WEB_SECRET),
            ("username", "alice"),
            ("password", PASSWORD),
        ],
    )
    .send()
    .await
    .unwrap();
    assert_token_error(r, ErrorName::UnsupportedGrantType).await;
    // client-request-id in the query is the correlation id, echoed.
    let id = "5a0c5f4e-2f7b-4c55-9a41-0f1e2d3c4b5a";
    let r = rp_http()
        .get(format!(
            "{}/{TENANT}/oauth2/v2.0/authorize?client-request-id={id}",
            served.base
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(r.headers()["client-request-id"], id);
    assert!(r.text().await.unwrap().contains(id));
}

#[tokio::test]
async fn tessera_serves_https_with_a_dev_cert() {
    let dir = TempDir::new("tls");
    let out = run_in(&dir, ["dev-cert", "--dir", "certs"], None);
    assert!(out.status.success(), "{out:?}");
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(said.contains("--tls-cert"), "{said}");
    let key = std::fs::metadata(dir.path().join("certs/tessera-dev-key.pem")).unwrap();
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(key.permissions().mode() & 0o777, 0o600);
    let server = Process::serve_in(
        &dir,
        &[
            "--tls-cert",
            "certs/tessera-dev-cert.pem",
            "--tls-key",
            "certs/tessera-dev-key.pem",
        ],
    );
    assert!(
        server.base.starts_with("https://127.0.0.1:"),
        "{}",
        server.base
    );
    let ca = std::fs::read(dir.path().join("certs/tessera-dev-ca.pem")).unwrap();
    let trusting = super::support::http_client()
        .add_root_certificate(reqwest::Certificate::from_pem(&ca).unwrap())
        .build()
        .unwrap();
    let doc: Value = trusting
        .get(format!(
            "{}/admin/v2.0/.well-known/openid-configuration",
            server.base
        ))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(doc["issuer"], format!("{}/admin", server.base));
    // Without the CA, the certificate is refused; plain HTTP is not served.
    let plain = super::support::http_client().build().unwrap();
    assert!(plain.get(&server.base).send().await.is_err());
    let http = server.base.replacen("https://", "http://", 1);
    assert!(plain.get(format!("{http}/healthz")).send().await.is_err());

    // One of the pair alone is a bad setting.
    let out = run_in(
        &dir,
        [
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--tls-cert",
            "certs/tessera-dev-cert.pem",
        ],
        None,
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("tls_cert and tls_key go together"));
}
