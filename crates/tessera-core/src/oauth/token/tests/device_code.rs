//! The device authorization grant: the endpoint's response, polling (pending, slow
//! down, expiry), the user's answer as the device page records it, and redemption.

use super::*;
use crate::oauth::device::{self, Answer, Approval, DeviceAuthorizationResponse};
use crate::oauth::token::request::DeviceCodeRequest;

/// The web app, allowed the device grant.
async fn fixture() -> Fixture {
    let f = Fixture::new().await;
    f.change::<App>(ObjectKind::App, WEB, |a| {
        a.grant_types.insert(GrantType::DeviceCode);
    })
    .await;
    f
}

async fn start(f: &Fixture, scope: &str) -> Result<DeviceAuthorizationResponse, CatalogError> {
    let app = f.app(WEB).await;
    device::start(&f.ctx(), &app, &params(&[("scope", scope)]), Some("TV/1.0")).await
}

async fn poll(f: &Fixture, client_id: &str, code: &str) -> Result<TokenResponse, CatalogError> {
    let request = TokenRequest::DeviceCode(DeviceCodeRequest {
        device_code: Secret::new(code),
    });
    exchange(&f.ctx(), &f.app(client_id).await, &request).await
}

/// Alice's answer on the device page.
async fn answer(f: &Fixture, user_code: &str, allow: bool) {
    let (object, record) =
        device::pending(f.store.as_ref(), &f.master, f.tenant.id, f.now(), user_code)
            .await
            .unwrap();
    let answer = if allow {
        Answer::Approved(Approval {
            user: ALICE.into(),
            user_id: f.alice_id,
            sid: "sid-d".into(),
            auth_time: f.now(),
            amr: vec!["pwd".into()],
        })
    } else {
        Answer::Denied { user: ALICE.into() }
    };
    device::answer(f.store.as_ref(), f.now(), object, record, answer)
        .await
        .unwrap();
}

#[tokio::test]
async fn the_device_polls_until_the_user_allows_then_gets_tokens_once() {
    let f = fixture().await;
    let scope = format!("openid offline_access {API}/read");
    let started = start(&f, &scope).await.unwrap();
    assert_eq!(started.expires_in, 900);
    assert_eq!(started.interval, 5);
    assert_eq!(started.verification_uri, format!("{ISSUER}/device"));
    assert_eq!(
        started.verification_uri_complete,
        format!("{ISSUER}/device?user_code={}", started.user_code)
    );
    assert!(device::normalize(&started.user_code).is_some());
    // The store keeps no form of the device code.
    let stored = f
        .store
        .objects(f.tenant.id, ObjectKind::DeviceCode)
        .await
        .unwrap();
    assert_eq!(stored.len(), 1);
    assert!(!stored[0].doc.contains(&started.device_code));
    assert!(
        !stored[0]
            .key
            .contains(&device::normalize(&started.user_code).unwrap())
    );

    let code = &started.device_code;
    assert_refused(
        poll(&f, WEB, code).await,
        ErrorName::DeviceAuthorizationPending,
        "5 seconds",
    );
    // Again at once: too soon, and the interval grows by 5 s for good (RFC 8628 §3.5).
    f.later(1);
    assert_refused(
        poll(&f, WEB, code).await,
        ErrorName::DeviceSlowDown,
        "10 seconds",
    );
    f.later(6);
    assert_refused(
        poll(&f, WEB, code).await,
        ErrorName::DeviceSlowDown,
        "15 seconds",
    );
    f.later(15);
    assert_refused(
        poll(&f, WEB, code).await,
        ErrorName::DeviceAuthorizationPending,
        "15 seconds",
    );

    // Typed in lower case with a stray space, the code still finds the record.
    answer(&f, &format!(" {}", started.user_code.to_lowercase()), true).await;
    f.later(15);
    let tokens = poll(&f, WEB, code).await.unwrap();
    let c = claims(&tokens.access_token);
    assert_eq!(c["aud"], API);
    assert_eq!(c["sub"], f.alice_id.to_string());
    assert_eq!(c["sid"], "sid-d");
    assert!(tokens.id_token.is_some() && tokens.refresh_token.is_some());
    assert!(
        claims(tokens.id_token.as_deref().unwrap())
            .get("nonce")
            .is_none()
    );
    // The refresh token works like any other.
    f.refresh(WEB, tokens.refresh_token.as_deref().unwrap(), None, None)
        .await
        .unwrap();

    // Spent: another poll, and the page, find nothing to use.
    f.later(15);
    assert_eq!(
        refused(poll(&f, WEB, code).await),
        ErrorName::DeviceCodeInvalid
    );
    let page = device::pending(
        f.store.as_ref(),
        &f.master,
        f.tenant.id,
        f.now(),
        &started.user_code,
    );
    assert_eq!(refused(page.await), ErrorName::DeviceUserCodeInvalid);
}

#[tokio::test]
async fn a_declined_expired_foreign_or_forged_code_gets_its_own_error() {
    let f = fixture().await;
    let declined = start(&f, "openid").await.unwrap();
    answer(&f, &declined.user_code, false).await;
    assert_eq!(
        refused(poll(&f, WEB, &declined.device_code).await),
        ErrorName::DeviceAccessDenied
    );

    let other = start(&f, "openid").await.unwrap();
    // Another app's poll, a forged code, and the user code in its place.
    f.change::<App>(ObjectKind::App, SPA, |a| {
        a.grant_types.insert(GrantType::DeviceCode);
    })
    .await;
    for (client, code) in [
        (SPA, other.device_code.as_str()),
        (WEB, &altered(&other.device_code)),
        (WEB, other.user_code.as_str()),
    ] {
        assert_eq!(
            refused(poll(&f, client, code).await),
            ErrorName::DeviceCodeInvalid
        );
    }

    // Past its 15 minutes: expired for the device and for the page.
    f.later(900);
    assert_refused(
        poll(&f, WEB, &other.device_code).await,
        ErrorName::DeviceCodeExpired,
        "2026-12-01",
    );
    let page = device::pending(
        f.store.as_ref(),
        &f.master,
        f.tenant.id,
        f.now(),
        &other.user_code,
    );
    assert_eq!(refused(page.await), ErrorName::DeviceUserCodeExpired);
    // A code that never was.
    let page = device::pending(
        f.store.as_ref(),
        &f.master,
        f.tenant.id,
        f.now(),
        "BCDF-GHJK",
    );
    assert_eq!(refused(page.await), ErrorName::DeviceUserCodeInvalid);
}

#[tokio::test]
async fn only_allowed_apps_start_and_only_enabled_users_get_tokens() {
    let f = fixture().await;
    // The SPA is not allowed the device grant; unknown scopes are refused up front.
    let spa = f.app(SPA).await;
    let e = device::start(&f.ctx(), &spa, &params(&[("scope", "openid")]), None)
        .await
        .unwrap_err();
    assert_eq!(e.name, ErrorName::UnauthorizedGrantType);
    assert_eq!(
        refused(start(&f, "openid nope").await),
        ErrorName::InvalidScope
    );

    let started = start(&f, "openid").await.unwrap();
    answer(&f, &started.user_code, true).await;
    f.change::<User>(ObjectKind::User, ALICE, |u| u.enabled = false)
        .await;
    assert_eq!(
        refused(poll(&f, WEB, &started.device_code).await),
        ErrorName::AccountDisabled
    );
    // Nothing was spent: re-enabled, the device gets its tokens.
    f.change::<User>(ObjectKind::User, ALICE, |u| u.enabled = true)
        .await;
    poll(&f, WEB, &started.device_code).await.unwrap();
}

/// `value` with one character changed.
fn altered(value: &str) -> String {
    let mut bytes = value.as_bytes().to_vec();
    let i = bytes.len() / 2;
    bytes[i] = if bytes[i] == b'A' { b'B' } else { b'A' };
    String::from_utf8(bytes).unwrap()
}

#[tokio::test]
async fn an_approval_ends_with_the_sign_in_it_rests_on() {
    let f = fixture().await;
    let started = start(&f, "openid").await.unwrap();
    answer(&f, &started.user_code, true).await;
    // An administrator revokes alice's sessions a second later.
    f.later(1);
    let now = f.now();
    f.change::<User>(ObjectKind::User, ALICE, |u| u.end_sign_ins(now))
        .await;
    assert_eq!(
        refused(poll(&f, WEB, &started.device_code).await),
        ErrorName::DeviceAccessDenied
    );
}

/// The app was disabled after the device asked (and enabled again): the device is told
/// no, even though the user allowed it; a disabled app cannot even poll.
#[tokio::test]
async fn an_authorization_ends_with_the_app_disabled_since() {
    let f = fixture().await;
    let started = start(&f, "openid").await.unwrap();
    answer(&f, &started.user_code, true).await;
    f.later(1);
    let now = f.now();
    f.change::<App>(ObjectKind::App, WEB, |a| {
        a.enabled = false;
        a.tokens_valid_from = Some(now);
    })
    .await;
    assert_eq!(
        refused(poll(&f, WEB, &started.device_code).await),
        ErrorName::DeviceAccessDenied,
        "the grant checks the record's time, whatever the client check said"
    );
    f.change::<App>(ObjectKind::App, WEB, |a| a.enabled = true)
        .await;
    assert_eq!(
        refused(poll(&f, WEB, &started.device_code).await),
        ErrorName::DeviceAccessDenied
    );
    // A device that asks after the app is enabled again is served as ever.
    let again = start(&f, "openid").await.unwrap();
    answer(&f, &again.user_code, true).await;
    assert!(poll(&f, WEB, &again.device_code).await.is_ok());
}
