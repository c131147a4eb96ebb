//! TOTP second factor (RFC 6238): a user with an authenticator (imported with
//! `totp_secret`) enters a code after the password, each code works once, a stale
//! second factor is asked again (MfaExpired) and the flow goes on where it was; a
//! tenant or an app requiring MFA has users enrol, with recovery codes that work once;
//! wrong codes count towards lockout; an administrator resets the authenticator. The
//! codes are computed by the test from the secret and the fixed clock. SQLite and
//! PostgreSQL.

use super::oidc::*;
use super::support::Served;
use serde_json::json;
use tessera_core::clock::Clock;
use tessera_core::directory::totp;
use tessera_core::errors::ErrorName;
use tessera_store::testing::postgres_or_skip;

/// Carol's authenticator key (base32), as the tenant file gives it.
const CAROL_SECRET: &str = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP";

/// The fixture tenant and carol, who has an authenticator.
async fn served(pg: Option<tessera_store::testing::TestDatabase>) -> Served {
    let served = server(pg).await;
    served
        .app
        .import(json!({ "tenants": [{ "slug": TENANT, "display_name": "Fabrikam",
            "users": [ { "username": "carol", "password": PASSWORD, "totp_secret": CAROL_SECRET } ] }] }))
        .await;
    served
}

/// The code of `secret` now by the server's clock, `steps` time steps away.
fn code(served: &Served, secret: &str, steps: i64) -> String {
    let key = totp::secret_bytes(secret).unwrap();
    let step = totp::step_of(served.app.clock.now()) + steps;
    totp::code_at(&key, step, totp::DIGITS)
}

fn ed_app(extra: &[(&'static str, &'static str)]) -> Vec<(&'static str, &'static str)> {
    let mut p = vec![
        ("client_id", "ed-app"),
        ("redirect_uri", WEB_CB),
        ("response_type", "code"),
        ("scope", "openid"),
        ("state", "st"),
    ];
    // An extra parameter replaces the default of that name.
    p.retain(|(k, _)| !extra.iter().any(|(e, _)| e == k));
    p.extend_from_slice(extra);
    p
}

/// Signs `user` in to ed-app in `b` and returns the page that follows the password.
async fn password_step(served: &Served, b: &reqwest::Client, user: &str) -> reqwest::Response {
    sign_in_to_ed_app(served, b, user, PASSWORD, None).await
}

/// Posts `code` on the second-factor page `page`.
async fn enter(served: &Served, b: &reqwest::Client, page: &str, code: &str) -> reqwest::Response {
    b.post(format!("{}/{TENANT}/signin/second-factor", served.base))
        .form(&[
            ("csrf_token", hidden(page, "csrf_token")),
            ("pending", hidden(page, "pending")),
            ("code", code.to_owned()),
        ])
        .send()
        .await
        .unwrap()
}

/// The button of the recovery-codes page: the sign-in goes on.
async fn go_on(served: &Served, b: &reqwest::Client, page: &str) -> reqwest::Response {
    b.post(format!("{}/{TENANT}/signin/second-factor", served.base))
        .form(&[
            ("csrf_token", hidden(page, "csrf_token")),
            ("pending", hidden(page, "pending")),
        ])
        .send()
        .await
        .unwrap()
}

/// The page of a 200 response, asserting it asks for a code.
async fn code_page(r: reqwest::Response) -> String {
    let status = r.status();
    let html = r.text().await.unwrap();
    assert_eq!(status, 200, "{html}");
    assert!(html.contains("Enter your code"), "{html}");
    html
}

/// The ID token's claims for a code of ed-app.
async fn id_claims(served: &Served, redirect: &reqwest::Response) -> serde_json::Value {
    let (target, query) = location_params(redirect);
    assert_eq!(target, WEB_CB);
    let code = param(&query, "code").unwrap_or_else(|| panic!("{query:?}"));
    let r = token_request(
        &served.base,
        &[
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", WEB_CB),
            ("client_id", "ed-app"),
            ("client_secret", WEB_SECRET),
        ],
    )
    .send()
    .await
    .unwrap();
    assert_eq!(r.status(), 200);
    let body: serde_json::Value = r.json().await.unwrap();
    claims_of(body["id_token"].as_str().unwrap())
}

async fn code_after_password_works_once(served: Served) {
    // The password alone starts no session: the code page follows.
    let b = browser();
    let page = code_page(password_step(&served, &b, "carol").await).await;
    // A wrong code says so, on the same page, and the right one goes on to the app.
    let wrong = enter(&served, &b, &page, "000000").await;
    assert_eq!(wrong.status(), 400);
    let again = wrong.text().await.unwrap();
    assert!(
        again.contains(&ErrorName::MfaCodeInvalid.entry().code_str()),
        "{again}"
    );
    let now = code(&served, CAROL_SECRET, 0);
    let redirect = enter(&served, &b, &again, &now).await;
    assert_eq!(redirect.status(), 303);
    let claims = id_claims(&served, &redirect).await;
    assert_eq!(claims["amr"], json!(["pwd", "otp", "mfa"]), "{claims}");
    assert_eq!(claims["acr"], "2");

    // The same code in another browser, a moment later: spent (RFC 6238 §5.2).
    served.app.clock.advance(time::Duration::seconds(1));
    let other = browser();
    let page = code_page(password_step(&served, &other, "carol").await).await;
    let reused = enter(&served, &other, &page, &now).await;
    assert_eq!(reused.status(), 400);
    let page = reused.text().await.unwrap();
    assert!(page.contains(&ErrorName::MfaCodeInvalid.entry().code_str()));
    // The next step's code works (a step ahead is within the drift allowed).
    let next = enter(&served, &other, &page, &code(&served, CAROL_SECRET, 1)).await;
    assert_eq!(next.status(), 303);
    assert!(location_params(&next).1.iter().any(|(k, _)| k == "code"));

    // The session now serves the next app without a code.
    let sso = b
        .get(authorize_url(&served.base, &ed_app(&[("prompt", "none")])))
        .send()
        .await
        .unwrap();
    assert_eq!(sso.status(), 302);
    assert!(location_params(&sso).1.iter().any(|(k, _)| k == "code"));

    // A tampered pending sign-in is refused.
    let forged = other
        .post(format!("{}/{TENANT}/signin/second-factor", served.base))
        .form(&[
            ("csrf_token", hidden(&page, "csrf_token")),
            ("pending", altered(&hidden(&page, "pending"))),
            ("code", "123456".to_owned()),
        ])
        .send()
        .await
        .unwrap();
    assert_error_page(forged, ErrorName::CsrfTokenInvalid).await;
}

#[tokio::test]
async fn a_code_follows_the_password_and_works_once_on_sqlite() {
    code_after_password_works_once(served(None).await).await;
}

#[tokio::test]
async fn a_code_follows_the_password_and_works_once_on_postgres() {
    let Some(db) =
        postgres_or_skip("server::mfa::a_code_follows_the_password_and_works_once_on_postgres")
            .await
    else {
        return;
    };
    code_after_password_works_once(served(Some(db)).await).await;
}

/// An administrator who ends the user's sign-ins between the password and the code
/// ends that sign-in too: the right code then starts no session, and the flow asks to
/// sign in again; signing in again works.
#[tokio::test]
async fn sign_ins_ended_between_the_password_and_the_code_are_ended() {
    let served = served(None).await;
    let b = browser();
    let page = code_page(password_step(&served, &b, "carol").await).await;
    served.app.clock.advance(time::Duration::seconds(1));
    let revoked = served
        .app
        .admin(
            "DELETE",
            &format!("/admin/api/v1/tenants/{TENANT}/users/carol/sessions"),
            None,
        )
        .await;
    assert_eq!(revoked.status, 200, "{}", revoked.body);

    let after = enter(&served, &b, &page, &code(&served, CAROL_SECRET, 0)).await;
    let status = after.status();
    let html = after.text().await.unwrap();
    assert_eq!(status, 200, "{html}");
    assert!(
        html.contains("name=\"password\""),
        "the sign-in page: {html}"
    );
    assert!(!html.contains("Enter your code"), "{html}");
    let none = b
        .get(authorize_url(&served.base, &ed_app(&[("prompt", "none")])))
        .send()
        .await
        .unwrap();
    assert_redirected_error(&none, &served, WEB_CB, Some("st"), ErrorName::LoginRequired);

    // A sign-in begun after the revocation is the user's again.
    served.app.clock.advance(time::Duration::seconds(1));
    let page = code_page(password_step(&served, &b, "carol").await).await;
    let redirect = enter(&served, &b, &page, &code(&served, CAROL_SECRET, 1)).await;
    assert_eq!(redirect.status(), 303);
    assert!(
        location_params(&redirect)
            .1
            .iter()
            .any(|(k, _)| k == "code")
    );
}

#[tokio::test]
async fn a_stale_second_factor_is_asked_again_and_the_flow_goes_on() {
    let served = served(None).await;
    let r = served
        .app
        .admin(
            "PATCH",
            &format!("/admin/api/v1/tenants/{TENANT}"),
            Some(json!({ "policy": { "mfa_max_age_seconds": 300 } })),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let b = browser();
    let page = code_page(password_step(&served, &b, "carol").await).await;
    let first = enter(&served, &b, &page, &code(&served, CAROL_SECRET, 0)).await;
    assert_eq!(first.status(), 303);

    served.app.clock.advance(time::Duration::seconds(301));
    // A request that cannot ask: MfaExpired, sent to the app.
    let silent = b
        .get(authorize_url(&served.base, &ed_app(&[("prompt", "none")])))
        .send()
        .await
        .unwrap();
    assert_redirected_error(&silent, &served, WEB_CB, Some("st"), ErrorName::MfaExpired);
    // One that can: the code page says why, and the request goes on after the code,
    // with no password asked.
    let asked = b
        .get(authorize_url(
            &served.base,
            &ed_app(&[("nonce", "n-1"), ("state", "st-2")]),
        ))
        .send()
        .await
        .unwrap();
    let page = code_page(asked).await;
    assert!(
        page.contains(&ErrorName::MfaExpired.entry().code_str()),
        "{page}"
    );
    let redirect = enter(&served, &b, &page, &code(&served, CAROL_SECRET, 0)).await;
    assert_eq!(redirect.status(), 303);
    let (_, query) = location_params(&redirect);
    // The state of the request asked again, as a duplicate would not be.
    assert!(
        query.iter().any(|(k, v)| k == "state" && v == "st-2"),
        "{query:?}"
    );
    let claims = id_claims(&served, &redirect).await;
    assert_eq!(claims["nonce"], "n-1");
    assert_eq!(claims["amr"], json!(["pwd", "otp", "mfa"]));
}

/// Carol's enrolment page after the password, its secret read off the page.
async fn enrol(served: &Served, b: &reqwest::Client, user: &str) -> (String, String) {
    let r = password_step(served, b, user).await;
    assert_eq!(r.status(), 200);
    let page = r.text().await.unwrap();
    assert!(page.contains("Set up an authenticator app"), "{page}");
    // The QR code (an SVG image; `/` is escaped in the attribute).
    assert!(page.contains("svg+xml;base64,"), "{page}");
    let secret = offered_secret(&page);
    (page, secret)
}

/// The key an enrolment page offers, as shown for typing into an app.
fn offered_secret(page: &str) -> String {
    let marker = "id=\"totp-secret\" class=\"secret\">";
    let start = page.find(marker).unwrap() + marker.len();
    page[start..start + page[start..].find('<').unwrap()].to_owned()
}

/// The recovery codes a page lists.
fn recovery_codes(page: &str) -> Vec<String> {
    page.split("<li><code>")
        .skip(1)
        .map(|s| s[..s.find('<').unwrap()].to_owned())
        .collect()
}

#[tokio::test]
async fn a_tenant_requiring_mfa_enrols_users_and_recovery_codes_work_once() {
    let served = served(None).await;
    let r = served
        .app
        .admin(
            "PATCH",
            &format!("/admin/api/v1/tenants/{TENANT}"),
            Some(json!({ "policy": { "mfa_required": true } })),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let b = browser();
    let (page, secret) = enrol(&served, &b, "bob").await;
    // A code of another key does not enrol.
    let wrong = enter(&served, &b, &page, &code(&served, CAROL_SECRET, 0)).await;
    assert_eq!(wrong.status(), 400);
    let page = wrong.text().await.unwrap();
    let enrolled = enter(&served, &b, &page, &code(&served, &secret, 0)).await;
    assert_eq!(enrolled.status(), 200);
    let page = enrolled.text().await.unwrap();
    let codes = recovery_codes(&page);
    assert_eq!(codes.len(), 10, "{page}");
    // Going on from the recovery codes ends at the app.
    let go_on = go_on(&served, &b, &page).await;
    assert_eq!(go_on.status(), 303);
    let claims = id_claims(&served, &go_on).await;
    assert_eq!(claims["amr"], json!(["pwd", "otp", "mfa"]));
    let user = served
        .app
        .admin(
            "GET",
            &format!("/admin/api/v1/tenants/{TENANT}/users/bob"),
            None,
        )
        .await;
    assert!(
        user.body.contains("\"totp_enrolled\":true"),
        "{}",
        user.body
    );

    // A recovery code stands in for a code, once.
    served.app.clock.advance(time::Duration::seconds(1));
    let other = browser();
    let page = code_page(password_step(&served, &other, "bob").await).await;
    let used = enter(&served, &other, &page, &codes[3].to_uppercase()).await;
    assert_eq!(used.status(), 303);
    let again = browser();
    let page = code_page(password_step(&served, &again, "bob").await).await;
    let reused = enter(&served, &again, &page, &codes[3]).await;
    assert_eq!(reused.status(), 400);

    // prompt=none in a browser with no session: login is what is missing.
    let fresh = browser()
        .get(authorize_url(&served.base, &ed_app(&[("prompt", "none")])))
        .send()
        .await
        .unwrap();
    assert_redirected_error(
        &fresh,
        &served,
        WEB_CB,
        Some("st"),
        ErrorName::LoginRequired,
    );
}

#[tokio::test]
async fn an_app_requiring_mfa_has_a_signed_in_user_enrol() {
    let served = served(None).await;
    let b = browser();
    // Alice signs in to ed-app with her password alone.
    let redirect = password_step(&served, &b, "alice").await;
    assert_eq!(redirect.status(), 303);
    let r = served
        .app
        .admin(
            "PATCH",
            &format!("/admin/api/v1/tenants/{TENANT}/apps/ed-app"),
            Some(json!({ "mfa_required": true })),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.body.contains("\"mfa_required\":true"), "{}", r.body);
    // Silently: MfaRequired.
    let silent = b
        .get(authorize_url(&served.base, &ed_app(&[("prompt", "none")])))
        .send()
        .await
        .unwrap();
    assert_redirected_error(&silent, &served, WEB_CB, Some("st"), ErrorName::MfaRequired);
    // Interactively: enrolment, in the session she has, then the app.
    let asked = b
        .get(authorize_url(&served.base, &ed_app(&[])))
        .send()
        .await
        .unwrap();
    let page = asked.text().await.unwrap();
    assert!(page.contains("Set up an authenticator app"), "{page}");
    let secret = offered_secret(&page);
    let enrolled = enter(&served, &b, &page, &code(&served, &secret, 0)).await;
    assert_eq!(enrolled.status(), 200);
    let page = enrolled.text().await.unwrap();
    let go_on = go_on(&served, &b, &page).await;
    assert_eq!(go_on.status(), 303);
    let claims = id_claims(&served, &go_on).await;
    assert_eq!(claims["amr"], json!(["pwd", "otp", "mfa"]));
}

#[tokio::test]
async fn wrong_codes_lock_the_account_and_a_reset_forgets_the_authenticator() {
    let served = served(None).await;
    let r = served
        .app
        .admin(
            "PATCH",
            &format!("/admin/api/v1/tenants/{TENANT}"),
            Some(json!({ "policy": { "lockout_threshold": 3, "lockout_seconds": 60 } })),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let b = browser();
    let mut page = code_page(password_step(&served, &b, "carol").await).await;
    for i in 0..3 {
        // The right password in between starts nothing over.
        if i == 1 {
            page = code_page(password_step(&served, &b, "carol").await).await;
        }
        let r = enter(&served, &b, &page, "999999").await;
        let expected = if i < 2 { 400 } else { 403 };
        assert_eq!(r.status(), expected);
        page = r.text().await.unwrap();
    }
    assert!(
        page.contains(&ErrorName::AccountLocked.entry().code_str()),
        "{page}"
    );
    // Locked: even the right code is refused, and so is the password.
    let refused = enter(&served, &b, &page, &code(&served, CAROL_SECRET, 0)).await;
    assert_eq!(refused.status(), 403);
    let r = password_step(&served, &browser(), "carol").await;
    assert_eq!(r.status(), 403);

    // An administrator resets the authenticator (and unlocks): the password alone
    // signs in, as the tenant requires no second factor.
    let reset = served
        .app
        .admin(
            "DELETE",
            &format!("/admin/api/v1/tenants/{TENANT}/users/carol/mfa"),
            None,
        )
        .await;
    assert_eq!(reset.status, 204, "{}", reset.body);
    let unlock = served
        .app
        .admin(
            "DELETE",
            &format!("/admin/api/v1/tenants/{TENANT}/users/carol/lockout"),
            None,
        )
        .await;
    assert_eq!(unlock.status, 204);
    let audit = served
        .app
        .admin(
            "GET",
            &format!("/admin/api/v1/tenants/{TENANT}/audit"),
            None,
        )
        .await;
    assert!(audit.body.contains("user.mfa_reset"), "{}", audit.body);
    let r = password_step(&served, &browser(), "carol").await;
    assert_eq!(r.status(), 303);
    let missing = served
        .app
        .admin(
            "DELETE",
            &format!("/admin/api/v1/tenants/{TENANT}/users/nobody/mfa"),
            None,
        )
        .await;
    assert_eq!(missing.status, 404);
}

/// The device page asks for carol's code after her password, then shows the device's
/// confirmation; the device's tokens say a code was presented.
#[tokio::test]
async fn a_device_approval_asks_for_the_code_after_the_password() {
    use super::device_flow::{TV, device_server, poll, start};
    let served = device_server().await;
    served
        .app
        .import(json!({ "tenants": [{ "slug": TENANT, "display_name": "Fabrikam",
            "users": [ { "username": "carol", "password": PASSWORD, "totp_secret": CAROL_SECRET } ] }] }))
        .await;
    let started: serde_json::Value = start(&served, TV, "openid").await.json().await.unwrap();
    let b = browser();
    let user_code = started["user_code"].as_str().unwrap();
    let sign_in_page = super::device_flow::enter(&b, &served, user_code)
        .await
        .text()
        .await
        .unwrap();
    let asked = submit(
        &b,
        &served.base,
        &sign_in_page,
        &format!("/{TENANT}/device/sign-in"),
        &[("username", "carol"), ("password", PASSWORD)],
    )
    .await;
    let page = code_page(asked).await;
    let confirm = enter(&served, &b, &page, &code(&served, CAROL_SECRET, 0)).await;
    assert_eq!(confirm.status(), 200);
    let html = confirm.text().await.unwrap();
    assert!(html.contains("A device is asking"), "{html}");
    let done = submit(
        &b,
        &served.base,
        &html,
        &format!("/{TENANT}/device/confirm"),
        &[("decision", "allow")],
    )
    .await;
    assert_eq!(done.status(), 200);
    served.app.clock.advance(time::Duration::seconds(5));
    let r = poll(&served, started["device_code"].as_str().unwrap()).await;
    assert_eq!(r.status(), 200);
    let tokens: serde_json::Value = r.json().await.unwrap();
    let claims = claims_of(tokens["id_token"].as_str().unwrap());
    assert_eq!(claims["amr"], json!(["pwd", "otp", "mfa"]), "{claims}");
}
