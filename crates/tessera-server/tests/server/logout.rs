//! RP-Initiated Logout with its confirmation page, and the notices to the apps of the
//! session: back-channel logout tokens received by a server in the test, which
//! verifies their signatures against the tenant's JWKS with aws-lc-rs (not Tessera's
//! own code) and their claims as OIDC Back-Channel Logout §2.4 lists them; and
//! front-channel frames on the signed-out page.

use super::oidc::*;
use super::support::Served;
use axum::extract::State;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tessera_core::errors::ErrorName;

const BYE: &str = "https://web.fabrikam.test/bye";
const FRONT: &str = "https://ed.fabrikam.test/front-logout";

/// A back-channel logout receiver: records every `logout_token` POSTed to
/// `/{path}` and answers the first `failures` with 503, then with `status`.
#[derive(Clone, Default)]
struct Receiver {
    received: Arc<Mutex<Vec<(String, String)>>>,
}

struct Answers {
    failures: usize,
    status: u16,
}

async fn receiver(answers: Answers) -> (String, Receiver) {
    let r = Receiver::default();
    let answers = Arc::new(Mutex::new(answers));
    let app = axum::Router::new()
        .route(
            "/{path}",
            axum::routing::post(
                |State((r, answers)): State<(Receiver, Arc<Mutex<Answers>>)>,
                 axum::extract::Path(path): axum::extract::Path<String>,
                 body: String| async move {
                    let form: Vec<(String, String)> = serde_urlencoded::from_str(&body).unwrap();
                    let token = form
                        .into_iter()
                        .find(|(k, _)| k == "logout_token")
                        .map(|(_, v)| v)
                        .unwrap_or_default();
                    r.received.lock().unwrap().push((path, token));
                    let mut a = answers.lock().unwrap();
                    let status = if a.failures > 0 {
                        a.failures -= 1;
                        503
                    } else {
                        a.status
                    };
                    axum::http::StatusCode::from_u16(status).unwrap()
                },
            ),
        )
        .with_state((r.clone(), answers));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    (url, r)
}

impl Receiver {
    /// The tokens received at `path`, once `count` have arrived (or after 10 s).
    async fn tokens(&self, path: &str, count: usize) -> Vec<String> {
        for _ in 0..200 {
            let got: Vec<String> = self
                .received
                .lock()
                .unwrap()
                .iter()
                .filter(|(p, _)| p == path)
                .map(|(_, t)| t.clone())
                .collect();
            if got.len() >= count {
                return got;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("fewer than {count} logout tokens at /{path}");
    }
}

async fn patch_app(served: &Served, client_id: &str, patch: Value) {
    let r = served
        .app
        .admin(
            "PATCH",
            &format!("/admin/api/v1/tenants/{TENANT}/apps/{client_id}"),
            Some(patch),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
}

/// Signs `user` in to `client_id` in `browser` and redeems the code: the ID token.
async fn id_token_for(
    served: &Served,
    browser: &reqwest::Client,
    client_id: &str,
    user: &str,
) -> String {
    id_token_with(served, browser, client_id, user, &[]).await
}

/// As [`id_token_for`], with `extra` parameters in the authorization request.
async fn id_token_with(
    served: &Served,
    browser: &reqwest::Client,
    client_id: &str,
    user: &str,
    extra: &[(&str, &str)],
) -> String {
    let mut params = vec![
        ("client_id", client_id),
        ("redirect_uri", WEB_CB),
        ("response_type", "code"),
        ("scope", "openid"),
        ("state", "st"),
    ];
    params.extend_from_slice(extra);
    let redirect = authorize_through_pages(browser, &served.base, &params, user).await;
    let code = param(&location_params(&redirect).1, "code")
        .unwrap()
        .to_owned();
    let tokens: Value = rp_http()
        .post(format!("{}/{TENANT}/oauth2/token", served.base))
        .basic_auth(client_id, Some(WEB_SECRET))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", code.as_str()),
            ("redirect_uri", WEB_CB),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    tokens["id_token"].as_str().unwrap().to_owned()
}

fn decode(part: &str) -> Value {
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(part).unwrap()).unwrap()
}

/// The claims of a logout token whose signature verifies with the tenant's published
/// key named by its `kid` (aws-lc-rs, EdDSA or RS256).
async fn verified(served: &Served, token: &str) -> (Value, Value) {
    use aws_lc_rs::signature;
    let parts: Vec<&str> = token.split('.').collect();
    assert_eq!(parts.len(), 3);
    let (header, claims) = (decode(parts[0]), decode(parts[1]));
    let jwks: Value = rp_http()
        .get(format!("{}/{TENANT}/discovery/keys", served.base))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let jwk = jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["kid"] == header["kid"])
        .expect("the kid is published");
    let b64 = |v: &Value| URL_SAFE_NO_PAD.decode(v.as_str().unwrap()).unwrap();
    let message = format!("{}.{}", parts[0], parts[1]);
    let sig = URL_SAFE_NO_PAD.decode(parts[2]).unwrap();
    match header["alg"].as_str().unwrap() {
        "EdDSA" => signature::UnparsedPublicKey::new(&signature::ED25519, b64(&jwk["x"]))
            .verify(message.as_bytes(), &sig)
            .expect("EdDSA signature"),
        "RS256" => signature::RsaPublicKeyComponents {
            n: b64(&jwk["n"]),
            e: b64(&jwk["e"]),
        }
        .verify(
            &signature::RSA_PKCS1_2048_8192_SHA256,
            message.as_bytes(),
            &sig,
        )
        .expect("RS256 signature"),
        other => panic!("unexpected alg {other}"),
    }
    (header, claims)
}

/// Back-Channel Logout §2.4's claims of a token for `aud` about `sid` of `sub`.
fn assert_logout_claims(
    served: &Served,
    header: &Value,
    claims: &Value,
    aud: &str,
    sub: &str,
    sid: &str,
) {
    assert_eq!(header["typ"], "logout+jwt");
    assert_eq!(claims["iss"], issuer(served));
    assert_eq!(claims["aud"], aud);
    assert_eq!(claims["sub"], sub);
    assert_eq!(claims["sid"], sid);
    assert!(claims["jti"].as_str().is_some_and(|j| !j.is_empty()));
    let iat = claims["iat"].as_i64().unwrap();
    assert!(claims["exp"].as_i64().unwrap() > iat);
    assert_eq!(
        claims["events"],
        json!({ "http://schemas.openid.net/event/backchannel-logout": {} })
    );
    assert!(
        claims.get("nonce").is_none(),
        "§2.4: a logout token has no nonce"
    );
}

async fn audit(served: &Served) -> String {
    served
        .app
        .admin(
            "GET",
            &format!("/admin/api/v1/tenants/{TENANT}/audit"),
            None,
        )
        .await
        .body
}

/// Opens the logout endpoint with `query`; the response.
async fn logout(
    served: &Served,
    browser: &reqwest::Client,
    query: &[(&str, &str)],
) -> reqwest::Response {
    browser
        .get(format!(
            "{}/{TENANT}/oauth2/logout?{}",
            served.base,
            serde_urlencoded::to_string(query).unwrap()
        ))
        .send()
        .await
        .unwrap()
}

/// Answers the confirmation page `html`.
async fn confirm(served: &Served, browser: &reqwest::Client, html: &str) -> reqwest::Response {
    let action = format!("/{TENANT}/oauth2/logout/confirm");
    assert!(html.contains(&html_escaped(&action)), "{html}");
    submit(browser, &served.base, html, &action, &[]).await
}

/// Whether `browser` still has a session: a silent request to ed-app gets a code.
async fn signed_in(served: &Served, browser: &reqwest::Client) -> bool {
    let r = browser
        .get(authorize_url(
            &served.base,
            &[
                ("client_id", "ed-app"),
                ("redirect_uri", WEB_CB),
                ("response_type", "code"),
                ("scope", "openid"),
                ("prompt", "none"),
            ],
        ))
        .send()
        .await
        .unwrap();
    param(&location_params(&r).1, "code").is_some()
}

#[tokio::test]
async fn logout_ends_the_session_and_tells_every_app_that_took_part() {
    let served = server(None).await;
    let (url, rx) = receiver(Answers {
        failures: 1,
        status: 200,
    })
    .await;
    patch_app(
        &served,
        "ed-app",
        json!({ "backchannel_logout_uri": format!("{url}/ed"), "frontchannel_logout_uri": FRONT,
                "post_logout_redirect_uris": [BYE] }),
    )
    .await;
    patch_app(
        &served,
        "web-app",
        json!({ "backchannel_logout_uri": format!("{url}/web") }),
    )
    .await;
    // es-app registered a receiver too, but alice never used it: it hears nothing.
    patch_app(
        &served,
        "es-app",
        json!({ "backchannel_logout_uri": format!("{url}/es") }),
    )
    .await;

    let b = browser();
    let hint = id_token_for(&served, &b, "ed-app", "alice").await;
    id_token_for(&served, &b, "web-app", "alice").await;
    let id = decode(hint.split('.').nth(1).unwrap());
    let (sub, sid) = (id["sub"].as_str().unwrap(), id["sid"].as_str().unwrap());

    let page = logout(
        &served,
        &b,
        &[
            ("id_token_hint", &hint),
            ("post_logout_redirect_uri", BYE),
            ("state", "bye-1"),
        ],
    )
    .await;
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    assert!(
        html.contains("<strong>EdDSA App</strong> asks to sign you out"),
        "{html}"
    );
    assert!(html.contains("alice"));
    assert!(
        signed_in(&served, &b).await,
        "nothing ends before the user confirms"
    );

    let done = confirm(&served, &b, &html).await;
    assert_eq!(done.status(), 200, "the signed-out page, for its frames");
    let csp = done.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(csp.contains("frame-src https://ed.fabrikam.test;"), "{csp}");
    let cookie = done.headers()["set-cookie"].to_str().unwrap().to_owned();
    assert!(
        cookie.starts_with("tessera_session=;") && cookie.contains("Max-Age=0"),
        "{cookie}"
    );
    let html = done.text().await.unwrap();
    let frame = format!(
        "{FRONT}?iss={}&sid={sid}",
        url::form_urlencoded::byte_serialize(issuer(&served).as_bytes()).collect::<String>()
    );
    assert!(
        html.contains(&format!("src=\"{}\"", html_escaped(&frame))),
        "{html}"
    );
    assert!(
        html.contains(&html_escaped(&format!("{BYE}?state=bye-1"))),
        "{html}"
    );
    assert!(!signed_in(&served, &b).await, "the session ended");

    // ed-app's receiver failed once and got the token again; web-app's at once.
    let ed = rx.tokens("ed", 2).await;
    let (header, claims) = verified(&served, &ed[1]).await;
    assert_eq!(header["alg"], "EdDSA", "ed-app's ID-token algorithm");
    assert_logout_claims(&served, &header, &claims, "ed-app", sub, sid);
    assert_ne!(
        decode(ed[0].split('.').nth(1).unwrap())["jti"],
        claims["jti"],
        "signed afresh"
    );
    let web = rx.tokens("web", 1).await;
    let (header, claims) = verified(&served, &web[0]).await;
    assert_eq!(header["alg"], "RS256");
    assert_logout_claims(&served, &header, &claims, "web-app", sub, sid);
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(rx.received.lock().unwrap().iter().all(|(p, _)| p != "es"));

    let log = audit(&served).await;
    assert!(log.contains("session.logout"), "{log}");
    let delivered = outcomes(&served, "logout.backchannel.delivered", 2).await;
    assert_eq!(
        delivered,
        [
            ("app:ed-app".to_owned(), json!(["attempts=2", "status=200"])),
            (
                "app:web-app".to_owned(),
                json!(["attempts=1", "status=200"])
            ),
        ]
    );
}

/// The `(app, changes)` of the audit entries with `action`, once `count` are there
/// (the outcomes are recorded in the background), by app.
async fn outcomes(served: &Served, action: &str, count: usize) -> Vec<(String, Value)> {
    for _ in 0..200 {
        let log: Value = serde_json::from_str(&audit(served).await).unwrap();
        let mut found: Vec<(String, Value)> = log["items"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["action"] == action)
            .map(|e| {
                let app = e["target"].as_str().unwrap().split('/').next().unwrap();
                (app.to_owned(), e["changes"].clone())
            })
            .collect();
        if found.len() >= count {
            found.sort_by(|a, b| a.0.cmp(&b.0));
            return found;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("fewer than {count} audit entries {action}");
}

#[tokio::test]
async fn a_refused_or_unreachable_receiver_is_recorded_as_failed() {
    let served = server(None).await;
    let (url, rx) = receiver(Answers {
        failures: 0,
        status: 400,
    })
    .await;
    patch_app(
        &served,
        "ed-app",
        json!({ "backchannel_logout_uri": format!("{url}/ed") }),
    )
    .await;
    // Nothing listens on port 9 of the loopback (discard): every attempt fails.
    patch_app(
        &served,
        "web-app",
        json!({ "backchannel_logout_uri": "http://127.0.0.1:9/gone" }),
    )
    .await;
    let b = browser();
    id_token_for(&served, &b, "ed-app", "alice").await;
    id_token_for(&served, &b, "web-app", "alice").await;
    let html = logout(&served, &b, &[]).await.text().await.unwrap();
    assert_eq!(confirm(&served, &b, &html).await.status(), 200);
    assert_eq!(rx.tokens("ed", 1).await.len(), 1);
    let failed = outcomes(&served, "logout.backchannel.failed", 2).await;
    // A 400 is final; a connection failure is tried three times (the tests' pauses).
    assert_eq!(
        failed,
        [
            ("app:ed-app".to_owned(), json!(["attempts=1", "status=400"])),
            (
                "app:web-app".to_owned(),
                json!(["attempts=3", "connection failed"])
            ),
        ]
    );
    assert_eq!(rx.tokens("ed", 1).await.len(), 1, "not retried");
}

#[tokio::test]
async fn a_hinted_logout_ends_only_that_account() {
    let served = server(None).await;
    let b = browser();
    id_token_for(&served, &b, "ed-app", "alice").await;
    let bob_hint = &id_token_with(&served, &b, "ed-app", "bob", &[("prompt", "login")]).await;

    let html = logout(&served, &b, &[("id_token_hint", bob_hint)])
        .await
        .text()
        .await
        .unwrap();
    assert!(html.contains("bob") && !html.contains("alice"), "{html}");
    let done = confirm(&served, &b, &html).await;
    assert_eq!(done.status(), 200);
    assert!(
        done.text()
            .await
            .unwrap()
            .contains("You can close this page")
    );
    // alice alone is left: a silent request needs no account choice.
    assert!(signed_in(&served, &b).await);
}

#[tokio::test]
async fn logout_requests_are_checked_and_expire() {
    let served = server(None).await;
    patch_app(
        &served,
        "ed-app",
        json!({ "post_logout_redirect_uris": [BYE] }),
    )
    .await;
    let b = browser();
    let hint = id_token_for(&served, &b, "ed-app", "alice").await;

    let unregistered = logout(
        &served,
        &b,
        &[
            ("client_id", "ed-app"),
            ("post_logout_redirect_uri", "https://evil.test/"),
        ],
    )
    .await;
    assert_error_page(unregistered, ErrorName::PostLogoutRedirectUriMismatch).await;
    let no_app = logout(&served, &b, &[("post_logout_redirect_uri", BYE)]).await;
    assert_error_page(no_app, ErrorName::PostLogoutRedirectUriMismatch).await;
    let other_app = logout(
        &served,
        &b,
        &[("id_token_hint", &hint), ("client_id", "web-app")],
    )
    .await;
    assert_error_page(other_app, ErrorName::InvalidRequestFormat).await;
    let forged = logout(&served, &b, &[("id_token_hint", &altered(&hint))]).await;
    assert_error_page(forged, ErrorName::IdTokenHintInvalid).await;
    let unknown = logout(&served, &b, &[("client_id", "nope")]).await;
    assert_error_page(unknown, ErrorName::ClientNotFound).await;

    // The confirmation expires after the tenant's five minutes.
    let html = logout(&served, &b, &[("client_id", "ed-app")])
        .await
        .text()
        .await
        .unwrap();
    served.app.clock.advance(time::Duration::seconds(301));
    assert_error_page(
        confirm(&served, &b, &html).await,
        ErrorName::LogoutRequestExpired,
    )
    .await;
    let no_csrf = b
        .post(format!("{}/{TENANT}/oauth2/logout/confirm", served.base))
        .form(&[("request", hidden(&html, "request"))])
        .send()
        .await
        .unwrap();
    assert_error_page(no_csrf, ErrorName::CsrfTokenInvalid).await;
    assert!(signed_in(&served, &b).await, "still signed in");

    // POSTed as a form; with no session to end, straight back to the app with state.
    let r = browser()
        .post(format!("{}/{TENANT}/oauth2/logout", served.base))
        .form(&[
            ("client_id", "ed-app"),
            ("post_logout_redirect_uri", BYE),
            ("state", "s1"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    assert_eq!(r.headers()["location"], format!("{BYE}?state=s1"));

    // Discovery names the endpoint and what it supports.
    let meta: Value = rp_http()
        .get(format!(
            "{}/{TENANT}/.well-known/openid-configuration",
            served.base
        ))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        meta["end_session_endpoint"],
        format!("{}/oauth2/logout", issuer(&served))
    );
    for flag in [
        "backchannel_logout_supported",
        "backchannel_logout_session_supported",
        "frontchannel_logout_supported",
        "frontchannel_logout_session_supported",
    ] {
        assert_eq!(meta[flag], true, "{flag}");
    }
}
