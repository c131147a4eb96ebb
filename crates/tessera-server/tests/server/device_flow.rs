//! The device authorization grant over HTTP (RFC 8628): the endpoint's response, the
//! page driven by a cookie-aware client (code, sign-in, confirmation), polling too fast
//! and after expiry with the fixed clock, a declined request, wrong codes and their
//! limit. The real browser's run is in `browser.rs`.

use super::oidc::*;
use super::support::Served;
use serde_json::{Value, json};
use tessera_core::errors::ErrorName;

pub const TV: &str = "tv-app";
const DEVICE_CODE: &str = "urn:ietf:params:oauth:grant-type:device_code";

/// The fixture server with a public app allowed the device grant.
pub async fn device_server() -> Served {
    let served = server(None).await;
    served
        .app
        .import(json!({ "tenants": [{
            "slug": TENANT, "display_name": "Fabrikam",
            "apps": [ { "client_id": TV, "name": "Fabrikam TV",
                        "grant_types": [DEVICE_CODE, "refresh_token"],
                        "permissions": [ { "api": API, "scopes": ["read"] } ] } ]
        }]}))
        .await;
    served
}

/// Starts a device authorization as the TV app; the endpoint's JSON.
pub async fn start(served: &Served, client_id: &str, scope: &str) -> reqwest::Response {
    rp_http()
        .post(format!("{}/{TENANT}/oauth2/devicecode", served.base))
        .header("user-agent", "FabrikamTV/2.1 (living room)")
        .form(&[("client_id", client_id), ("scope", scope)])
        .send()
        .await
        .unwrap()
}

pub async fn poll(served: &Served, device_code: &str) -> reqwest::Response {
    token_request(
        &served.base,
        &[
            ("grant_type", DEVICE_CODE),
            ("client_id", TV),
            ("device_code", device_code),
        ],
    )
    .send()
    .await
    .unwrap()
}

fn later(served: &Served, seconds: i64) {
    served.app.clock.advance(time::Duration::seconds(seconds));
}

/// The code page, then `typed` submitted on it.
pub(super) async fn enter(
    browser: &reqwest::Client,
    served: &Served,
    typed: &str,
) -> reqwest::Response {
    let page = browser
        .get(format!("{}/{TENANT}/device", served.base))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    browser
        .post(format!("{}/{TENANT}/device", served.base))
        .form(&[
            ("csrf_token", hidden(&page, "csrf_token")),
            ("user_code", typed.to_owned()),
        ])
        .send()
        .await
        .unwrap()
}

/// Enters `user_code`, signs in as alice, and answers `decision`; the final page.
async fn approve(served: &Served, user_code: &str, decision: &str) -> String {
    let done = answer(served, user_code, decision).await;
    assert_eq!(done.status(), 200);
    done.text().await.unwrap()
}

/// [`approve`]'s steps, the answer's response as it comes.
async fn answer(served: &Served, user_code: &str, decision: &str) -> reqwest::Response {
    let browser = browser();
    let sign_in_page = enter(&browser, served, user_code).await;
    assert_eq!(sign_in_page.status(), 200);
    let html = sign_in_page.text().await.unwrap();
    assert!(html.contains("Fabrikam TV"), "{html}");
    let confirm = submit(
        &browser,
        &served.base,
        &html,
        &format!("/{TENANT}/device/sign-in"),
        &[("username", "alice"), ("password", PASSWORD)],
    )
    .await;
    assert_eq!(confirm.status(), 200);
    let html = confirm.text().await.unwrap();
    // Which app, on which device, for whom, asking what.
    for words in [
        "Fabrikam TV",
        "FabrikamTV/2.1 (living room)",
        "alice",
        "Read your orders",
    ] {
        assert!(html.contains(&html_escaped(words)), "{words}: {html}");
    }
    submit(
        &browser,
        &served.base,
        &html,
        &format!("/{TENANT}/device/confirm"),
        &[("decision", decision)],
    )
    .await
}

#[tokio::test]
async fn a_device_is_approved_through_the_page_and_polls_its_tokens() {
    let served = device_server().await;
    let r = start(&served, TV, &format!("openid offline_access {API}/read")).await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["cache-control"], "no-store");
    let started: Value = r.json().await.unwrap();
    let user_code = started["user_code"].as_str().unwrap();
    let device_code = started["device_code"].as_str().unwrap();
    let verification = format!("{}/{TENANT}/device", served.base);
    assert_eq!(started["verification_uri"], verification);
    assert_eq!(
        started["verification_uri_complete"],
        format!("{verification}?user_code={user_code}")
    );
    assert_eq!(started["expires_in"], 900);
    assert_eq!(started["interval"], 5);
    assert!(
        user_code.len() == 9 && &user_code[4..5] == "-",
        "{user_code}"
    );

    // The complete URI prefills the code.
    let page = browser()
        .get(started["verification_uri_complete"].as_str().unwrap())
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains(&format!("value=\"{user_code}\"")), "{page}");
    assert!(page.contains("name=\"user_code\""));

    // Pending, then too fast: slow_down, with the grown interval in the message.
    let (_, body) = assert_json_error(
        poll(&served, device_code).await,
        ErrorName::DeviceAuthorizationPending,
    )
    .await;
    assert_eq!(body["error"], "authorization_pending");
    let (_, body) =
        assert_json_error(poll(&served, device_code).await, ErrorName::DeviceSlowDown).await;
    assert_eq!(body["error"], "slow_down");
    assert!(
        body["error_description"]
            .as_str()
            .unwrap()
            .contains("10 seconds")
    );

    // Typed in lower case: the same code.
    let done = approve(&served, &user_code.to_lowercase(), "allow").await;
    assert!(done.contains("You may return to your device"), "{done}");
    later(&served, 10);
    let r = poll(&served, device_code).await;
    assert_eq!(r.status(), 200);
    let tokens: Value = r.json().await.unwrap();
    assert!(tokens["id_token"].is_string() && tokens["refresh_token"].is_string());
    let claims =
        tessera_core::oauth::jose::unverified_claims(tokens["access_token"].as_str().unwrap())
            .unwrap();
    assert_eq!(claims["aud"], API);
    assert_eq!(claims["client_id"], TV);

    // Spent: the device code and the user code are both used up.
    later(&served, 10);
    assert_json_error(
        poll(&served, device_code).await,
        ErrorName::DeviceCodeInvalid,
    )
    .await;
    let again = enter(&browser(), &served, user_code).await;
    assert_eq!(again.status(), 400);
    assert!(again.text().await.unwrap().contains("TS30023"));
}

#[tokio::test]
async fn declined_expired_and_mistyped_codes() {
    let served = device_server().await;
    let scope = format!("openid {API}/read");
    let started: Value = start(&served, TV, &scope).await.json().await.unwrap();
    let done = approve(&served, started["user_code"].as_str().unwrap(), "deny").await;
    assert!(done.contains("Sign-in declined"), "{done}");
    let (_, body) = assert_json_error(
        poll(&served, started["device_code"].as_str().unwrap()).await,
        ErrorName::DeviceAccessDenied,
    )
    .await;
    assert_eq!(body["error"], "access_denied");

    // Past 15 minutes: expired_token for the device, the expired entry on the page.
    let late: Value = start(&served, TV, "openid").await.json().await.unwrap();
    later(&served, 901);
    let (_, body) = assert_json_error(
        poll(&served, late["device_code"].as_str().unwrap()).await,
        ErrorName::DeviceCodeExpired,
    )
    .await;
    assert_eq!(body["error"], "expired_token");
    let page = enter(&browser(), &served, late["user_code"].as_str().unwrap()).await;
    assert_eq!(page.status(), 400);
    let html = page.text().await.unwrap();
    assert!(
        html.contains("TS30024") && html.contains("name=\"user_code\""),
        "{html}"
    );

    // Wrong codes: the form again with the error, five times; then no more form.
    let browser = browser();
    for typed in ["BCDF-GHJK", "not a code", "", "ZZZZ-ZZZZ", "BCDF-GHJL"] {
        let r = enter(&browser, &served, typed).await;
        assert_eq!(r.status(), 400, "{typed}");
        let html = r.text().await.unwrap();
        assert!(
            html.contains("TS30023") && html.contains("aria-invalid=\"true\""),
            "{html}"
        );
    }
    let fresh: Value = start(&served, TV, "openid").await.json().await.unwrap();
    let r = enter(&browser, &served, fresh["user_code"].as_str().unwrap()).await;
    let html = assert_error_page(r, ErrorName::DeviceUserCodeInvalid).await;
    assert!(!html.contains("name=\"user_code\""), "{html}");
    // Another browser is not held back.
    assert_eq!(
        enter(
            &super::oidc::browser(),
            &served,
            fresh["user_code"].as_str().unwrap()
        )
        .await
        .status(),
        200
    );

    // A submission without the CSRF token is refused.
    let r = super::oidc::browser()
        .post(format!("{}/{TENANT}/device", served.base))
        .form(&[("user_code", fresh["user_code"].as_str().unwrap())])
        .send()
        .await
        .unwrap();
    assert_error_page(r, ErrorName::CsrfTokenInvalid).await;
}

#[tokio::test]
async fn only_apps_allowed_the_grant_may_start_it() {
    let served = device_server().await;
    // native-app is public and not allowed the device grant; web-app must authenticate.
    assert_json_error(
        start(&served, "native-app", "openid").await,
        ErrorName::UnauthorizedGrantType,
    )
    .await;
    assert_json_error(
        start(&served, "web-app", "openid").await,
        ErrorName::MissingClientCredentials,
    )
    .await;
    assert_json_error(
        start(&served, TV, "openid nope").await,
        ErrorName::InvalidScope,
    )
    .await;
    // The discovery document names the endpoint and the grant.
    let doc: Value = rp_http()
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
        doc["device_authorization_endpoint"],
        format!("{}/{TENANT}/oauth2/devicecode", served.base)
    );
    assert!(
        doc["grant_types_supported"]
            .as_array()
            .unwrap()
            .contains(&json!(DEVICE_CODE))
    );
}

/// An app that requires assignment: a user not assigned to it who allows the device is
/// told why on the page, and the device gets access_denied at its next poll instead of
/// polling until the code expires.
#[tokio::test]
async fn a_user_the_app_does_not_admit_cannot_allow_it() {
    let served = device_server().await;
    let r = served
        .app
        .admin(
            "PATCH",
            &format!("/admin/api/v1/tenants/{TENANT}/apps/{TV}"),
            Some(json!({ "assignment_required": true })),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let scope = format!("openid {API}/read");
    let started: Value = start(&served, TV, &scope).await.json().await.unwrap();
    let r = answer(&served, started["user_code"].as_str().unwrap(), "allow").await;
    assert_error_page(r, ErrorName::UserNotAssigned).await;
    assert_token_error(
        poll(&served, started["device_code"].as_str().unwrap()).await,
        ErrorName::DeviceAccessDenied,
    )
    .await;
}
