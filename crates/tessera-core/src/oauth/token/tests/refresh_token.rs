//! `grant_type=refresh_token`: rotation, reuse that revokes the family, and the one
//! check list in its order, whichever facts it runs on.

use super::*;
use crate::oauth::records::{ROTATED, RefreshToken, SUPERSEDED};
use crate::oauth::token::grant::refresh_token::usable;

#[tokio::test]
async fn each_use_rotates_and_the_old_token_is_retired() {
    let f = Fixture::new().await;
    let first = f.refresh_token().await;
    f.later(5);
    let response = f.refresh(WEB, &first, None, None).await.unwrap();
    let second = response.refresh_token.unwrap();
    assert_ne!(first, second);
    assert_eq!(
        f.stored_refresh(&first).await.revoked.as_deref(),
        Some(ROTATED)
    );
    let next = f.stored_refresh(&second).await;
    assert_eq!(next.revoked, None);
    let old = f.stored_refresh(&first).await;
    // The same family and grant; a new idle period from now.
    assert_eq!(
        (next.family.as_str(), &next.scopes),
        (old.family.as_str(), &old.scopes)
    );
    assert_eq!(next.issued_at, f.now());
    assert_eq!(next.expires_at, f.now() + time::Duration::days(14));
    let id = claims(response.id_token.as_deref().unwrap());
    assert_eq!(id["sub"], f.alice_id.to_string());
    assert!(
        id.get("nonce").is_none(),
        "OIDC Core §12.2: no nonce on refresh"
    );
    assert_eq!(claims(&response.access_token)["aud"], API);
}

#[tokio::test]
async fn a_rotated_token_used_again_after_its_successor_is_reuse_and_ends_the_family() {
    let f = Fixture::new().await;
    let first = f.refresh_token().await;
    let second = f.rotated(&first).await;
    let third = f.rotated(&second).await;
    // Within the retry period, but its successor was used: two parties hold the family.
    assert_eq!(
        f.refresh_refused(WEB, &first).await,
        ErrorName::RefreshTokenReused
    );
    // The live token is revoked, and the reused one now reads as revoked too.
    assert_eq!(
        f.refresh_refused(WEB, &third).await,
        ErrorName::RefreshTokenRevoked
    );
    assert_eq!(
        f.refresh_refused(WEB, &first).await,
        ErrorName::RefreshTokenRevoked
    );
}

#[tokio::test]
async fn a_rotated_token_used_again_after_the_retry_period_is_reuse() {
    let f = Fixture::new().await;
    let first = f.refresh_token().await;
    let second = f.rotated(&first).await;
    f.later(i64::from(TenantPolicy::default().refresh_token_retry_seconds) + 1);
    assert_eq!(
        f.refresh_refused(WEB, &first).await,
        ErrorName::RefreshTokenReused
    );
    assert_eq!(
        f.refresh_refused(WEB, &second).await,
        ErrorName::RefreshTokenRevoked
    );
}

#[tokio::test]
async fn without_a_retry_period_every_second_use_is_reuse() {
    let mut f = Fixture::new().await;
    f.tenant.policy.refresh_token_retry_seconds = 0;
    let first = f.refresh_token().await;
    f.refresh(WEB, &first, None, None).await.unwrap();
    f.later(1);
    assert_eq!(
        f.refresh_refused(WEB, &first).await,
        ErrorName::RefreshTokenReused
    );
}

/// The answer of a rotation lost (the connection dropped after the commit): the client
/// presents the old token again and gets a new successor in place of the one it never
/// saw, which is void from then on.
#[tokio::test]
async fn a_retry_within_the_period_replaces_the_unused_successor() {
    let f = Fixture::new().await;
    let first = f.refresh_token().await;
    let lost = f.rotated(&first).await;
    f.later(5);
    let retried = f.refresh(WEB, &first, None, None).await.unwrap();
    let second = retried.refresh_token.unwrap();
    assert_ne!(second, lost);
    let stored = f.stored_refresh(&second).await;
    assert_eq!(stored.revoked, None);
    assert_eq!(stored.family, f.stored_refresh(&first).await.family);
    assert_eq!(
        f.stored_refresh(&lost).await.revoked.as_deref(),
        Some(SUPERSEDED)
    );
    // The new successor rotates on; the old token, its successor used now, is reuse.
    let third = f.rotated(&second).await;
    assert_eq!(
        f.refresh_refused(WEB, &first).await,
        ErrorName::RefreshTokenReused
    );
    assert_eq!(
        f.refresh_refused(WEB, &third).await,
        ErrorName::RefreshTokenRevoked
    );
}

/// A retry whose answer was lost too is retried again: each replaces the successor
/// before it, and the newest works.
#[tokio::test]
async fn a_retry_whose_answer_was_lost_is_retried_again() {
    let f = Fixture::new().await;
    let first = f.refresh_token().await;
    let mut lost = Vec::new();
    for _ in 0..3 {
        lost.push(f.rotated(&first).await);
    }
    let newest = lost.pop().unwrap();
    for void in &lost {
        assert_eq!(
            f.stored_refresh(void).await.revoked.as_deref(),
            Some(SUPERSEDED)
        );
    }
    f.refresh(WEB, &newest, None, None).await.unwrap();
}

/// Whoever holds the superseded successor (a thief who used the old token first, or
/// the client itself) presenting it is reuse: the family ends (RFC 9700 §4.14.2).
#[tokio::test]
async fn a_superseded_successor_presented_is_reuse_and_ends_the_family() {
    let f = Fixture::new().await;
    let first = f.refresh_token().await;
    let superseded = f.rotated(&first).await;
    let replacement = f.rotated(&first).await;
    assert_eq!(
        f.refresh_refused(WEB, &superseded).await,
        ErrorName::RefreshTokenReused
    );
    assert_eq!(
        f.refresh_refused(WEB, &replacement).await,
        ErrorName::RefreshTokenRevoked
    );
}

#[tokio::test]
async fn reuse_comes_before_every_other_check() {
    let f = Fixture::new().await;
    let first = f.refresh_token().await;
    f.refresh(WEB, &first, None, None).await.unwrap();
    // Expired as well as rotated: still reuse.
    f.later(91 * 24 * 3600);
    assert_eq!(
        f.refresh_refused(WEB, &first).await,
        ErrorName::RefreshTokenReused
    );
}

#[tokio::test]
async fn the_token_must_be_this_tenants_and_stored() {
    let f = Fixture::new().await;
    assert_eq!(
        refused(f.refresh(WEB, "not-a-token", None, None).await),
        ErrorName::RefreshTokenInvalid
    );
    // Sealed, but its object is gone (swept once it could no longer be used).
    let token = f.refresh_token().await;
    let (id, _) = RefreshToken::open(&f.master, f.tenant.id, &token).unwrap();
    f.store
        .apply(vec![Write::Delete {
            tenant_id: f.tenant.id,
            kind: ObjectKind::RefreshToken,
            id,
        }])
        .await
        .unwrap();
    assert_eq!(
        f.refresh_refused(WEB, &token).await,
        ErrorName::RefreshTokenInvalid
    );
}

#[tokio::test]
async fn another_clients_token_is_refused() {
    let f = Fixture::new().await;
    let token = f.refresh_token().await;
    assert_eq!(
        f.refresh_refused(SPA, &token).await,
        ErrorName::RefreshTokenClientMismatch
    );
    // The refusal spent nothing.
    assert!(f.refresh(WEB, &token, None, None).await.is_ok());
}

#[tokio::test]
async fn a_revoked_token_says_why() {
    let f = Fixture::new().await;
    let token = f.refresh_token().await;
    let record = f.stored_refresh(&token).await;
    let now = f.now();
    let writes = crate::oauth::token::family::revocations(
        f.store.as_ref(),
        now,
        f.tenant.id,
        ALICE,
        "signed out everywhere",
        |_| true,
    )
    .await
    .unwrap();
    f.store.apply(writes).await.unwrap();
    assert_refused(
        f.refresh(WEB, &token, None, None).await,
        ErrorName::RefreshTokenRevoked,
        "signed out everywhere",
    );
    assert_eq!(record.revoked, None);
}

/// A family ends with the sign-in it rests on (the user's sessions revoked, the user
/// disabled, the password reset or changed: `User::sessions_valid_from`), even while
/// its token's record is still live, as it is until the revocation marks it.
#[tokio::test]
async fn a_token_ends_with_the_sign_in_it_rests_on() {
    let f = Fixture::new().await;
    let token = f.refresh_token().await;
    let rotated = f.refresh_token().await;
    f.rotated(&rotated).await;
    f.later(1);
    let now = f.now();
    f.change::<User>(ObjectKind::User, ALICE, |u| u.end_sign_ins(now))
        .await;
    // The rotation assumes the token live and its user enabled, and writes on that
    // condition: the user its write returns ends the sign-in, and no token is given.
    assert_refused(
        f.refresh(WEB, &token, None, None).await,
        ErrorName::RefreshTokenRevoked,
        "sign-in it rests on was ended",
    );
    // Read facts say the same, before reuse: the family is over anyway.
    let web = f.app(WEB).await;
    for value in [&token, &rotated] {
        assert_refused(
            usable(&f.ctx(), &web, value).await,
            ErrorName::RefreshTokenRevoked,
            "sign-in it rests on was ended",
        );
        assert_refused(
            f.refresh(WEB, value, None, None).await,
            ErrorName::RefreshTokenRevoked,
            "sign-in it rests on was ended",
        );
    }
    // A sign-in after the revocation is a sign-in like any other.
    let fresh = f.refresh_token().await;
    f.rotated(&fresh).await;
}

#[tokio::test]
async fn idle_and_absolute_lifetimes_end_a_token() {
    let f = Fixture::new().await;
    let token = f.refresh_token().await;
    f.later(14 * 24 * 3600);
    assert_refused(
        f.refresh(WEB, &token, None, None).await,
        ErrorName::RefreshTokenExpired,
        "idle",
    );

    // Used every 13 days, a family still ends after 90.
    let f = Fixture::new().await;
    let mut token = f.refresh_token().await;
    for _ in 0..6 {
        f.later(13 * 24 * 3600);
        token = f.rotated(&token).await;
    }
    f.later(13 * 24 * 3600);
    assert_refused(
        f.refresh(WEB, &token, None, None).await,
        ErrorName::RefreshTokenExpired,
        "absolute",
    );
}

#[tokio::test]
async fn a_single_page_apps_family_ends_after_its_fixed_day() {
    let f = Fixture::new().await;
    let code = f.seal(&f.code(SPA, SPA_CB, "openid offline_access"));
    let request = TokenRequest::AuthorizationCode(CodeRequest {
        redirect_uri: Some(SPA_CB.into()),
        origin: Some(SPA_ORIGIN.into()),
        ..f.redeem(&code)
    });
    let response = exchange(&f.ctx(), &f.app(SPA).await, &request)
        .await
        .unwrap();
    let mut token = response.refresh_token.unwrap();
    // Like its code, the token is redeemed only from the app's origin (and refusing
    // it spends nothing).
    for (origin, refusal) in [
        (None, ErrorName::SpaOriginRequired),
        (Some("https://evil.test"), ErrorName::SpaOriginMismatch),
    ] {
        let request = TokenRequest::RefreshToken(RefreshRequest {
            refresh_token: Secret::new(&token),
            scope: None,
            resource: None,
            origin: origin.map(str::to_owned),
        });
        let e = exchange(&f.ctx(), &f.app(SPA).await, &request).await;
        assert_eq!(refused(e), refusal);
    }
    // Introspection asks whether the client could use it, not from where.
    assert!(
        crate::oauth::token::grant::refresh_token::usable(&f.ctx(), &f.app(SPA).await, &token)
            .await
            .is_ok()
    );
    f.later(12 * 3600);
    token = f
        .refresh(SPA, &token, None, None)
        .await
        .unwrap()
        .refresh_token
        .unwrap();
    f.later(12 * 3600);
    assert_eq!(
        f.refresh_refused(SPA, &token).await,
        ErrorName::SpaRefreshTokenExpired
    );
}

#[tokio::test]
async fn scopes_may_narrow_and_never_widen() {
    let f = Fixture::new().await;
    let token = f.refresh_token().await;
    let narrowed = f.refresh(WEB, &token, Some("openid"), None).await.unwrap();
    assert_eq!(narrowed.scope.as_deref(), Some("openid"));
    // The family keeps the original grant: the next use may ask for all of it again.
    let next = narrowed.refresh_token.unwrap();
    let full = f.refresh(WEB, &next, None, None).await.unwrap();
    assert_eq!(
        full.scope.as_deref(),
        Some(format!("{API}/read offline_access openid").as_str())
    );
    let next = full.refresh_token.unwrap();
    assert_refused(
        f.refresh(WEB, &next, Some(&format!("openid {API}/write")), None)
            .await,
        ErrorName::ScopeNotSubset,
        &format!("{API}/write"),
    );
    assert_eq!(
        refused(f.refresh(WEB, &next, Some("openid nonsense"), None).await),
        ErrorName::InvalidScope
    );
    // A refusal spent nothing.
    assert!(f.refresh(WEB, &next, None, None).await.is_ok());
}

#[tokio::test]
async fn a_resource_selects_the_consented_scopes_of_that_api() {
    let f = Fixture::new().await;
    let token = f.refresh_token().await;
    assert_eq!(
        refused(
            f.refresh(WEB, &token, None, Some("https://other.contoso.test"))
                .await
        ),
        ErrorName::InvalidResource
    );
    assert_eq!(
        refused(
            f.refresh(
                WEB,
                &token,
                Some(&format!("openid {API}/read")),
                Some("https://other.contoso.test")
            )
            .await
        ),
        ErrorName::InvalidRequestFormat
    );
    let response = f.refresh(WEB, &token, None, Some(API)).await.unwrap();
    assert_eq!(claims(&response.access_token)["aud"], API);
    assert_eq!(
        response.scope.as_deref(),
        Some(format!("{API}/read offline_access openid").as_str())
    );
}

#[tokio::test]
async fn the_user_must_still_be_there_enabled_and_assigned() {
    let f = Fixture::new().await;
    let token = f.refresh_token().await;
    f.change::<User>(ObjectKind::User, ALICE, |u| u.enabled = false)
        .await;
    assert_eq!(
        f.refresh_refused(WEB, &token).await,
        ErrorName::AccountDisabled
    );
    // Nothing was spent: enabled again, the token works.
    f.change::<User>(ObjectKind::User, ALICE, |u| u.enabled = true)
        .await;
    let token = f.rotated(&token).await;

    f.change::<App>(ObjectKind::App, WEB, |a| a.assignment_required = true)
        .await;
    assert_refused(
        f.refresh(WEB, &token, None, None).await,
        ErrorName::RefreshTokenRevoked,
        "assigned",
    );
    f.change::<App>(ObjectKind::App, WEB, |a| {
        a.assigned_users.insert(ALICE.into());
    })
    .await;
    let token = f.rotated(&token).await;

    // Deleted: revoked, and the name given to someone else does not revive it.
    let user = f.delete_alice().await;
    assert_refused(
        f.refresh(WEB, &token, None, None).await,
        ErrorName::RefreshTokenRevoked,
        "no longer exists",
    );
    f.another_alice(&user).await;
    assert_refused(
        f.refresh(WEB, &token, None, None).await,
        ErrorName::RefreshTokenRevoked,
        "deleted",
    );
}

#[tokio::test]
async fn of_two_uses_at_once_one_write_wins_and_the_other_is_a_retry() {
    let f = Fixture::new().await;
    let token = f.refresh_token().await;
    let (a, b) = tokio::join!(
        f.refresh(WEB, &token, None, None),
        f.refresh(WEB, &token, None, None)
    );
    // Both checked the token before either wrote (the store yields before a write): one
    // write wins; the other is refused, reads the token as rotated a moment ago with
    // its successor unused, and replaces that successor.
    let (a, b) = (
        a.unwrap().refresh_token.unwrap(),
        b.unwrap().refresh_token.unwrap(),
    );
    let revoked = [
        f.stored_refresh(&a).await.revoked,
        f.stored_refresh(&b).await.revoked,
    ];
    assert!(
        revoked == [Some(SUPERSEDED.to_owned()), None]
            || revoked == [None, Some(SUPERSEDED.to_owned())],
        "{revoked:?}"
    );
    // Without a retry period, the other is reuse, which ends the family.
    let mut f = Fixture::new().await;
    f.tenant.policy.refresh_token_retry_seconds = 0;
    let token = f.refresh_token().await;
    let (a, b) = tokio::join!(
        f.refresh(WEB, &token, None, None),
        f.refresh(WEB, &token, None, None)
    );
    let (won, lost) = match (a, b) {
        (Ok(won), Err(lost)) | (Err(lost), Ok(won)) => (won, lost),
        other => panic!("one winner expected: {other:?}"),
    };
    assert_eq!(lost.name, ErrorName::RefreshTokenReused);
    let next = won.refresh_token.unwrap();
    assert_eq!(
        f.refresh_refused(WEB, &next).await,
        ErrorName::RefreshTokenRevoked
    );
}

#[tokio::test]
async fn introspection_sees_a_token_as_usable_by_the_same_check_list() {
    let f = Fixture::new().await;
    let token = f.refresh_token().await;
    let web = f.app(WEB).await;
    assert_eq!(usable(&f.ctx(), &web, &token).await.unwrap().client_id, WEB);
    assert_eq!(
        refused(usable(&f.ctx(), &f.app(SPA).await, &token).await),
        ErrorName::RefreshTokenClientMismatch
    );
    f.refresh(WEB, &token, None, None).await.unwrap();
    // Rotated: not usable, and looking does not act on it as reuse would.
    assert_eq!(
        refused(usable(&f.ctx(), &web, &token).await),
        ErrorName::RefreshTokenReused
    );
    assert_eq!(
        f.stored_refresh(&token).await.revoked.as_deref(),
        Some(ROTATED)
    );
}

#[tokio::test]
async fn a_store_failure_is_not_mistaken_for_a_refusal() {
    let f = Fixture::new().await;
    let token = f.refresh_token().await;
    *f.services.signer.lock().unwrap() = None;
    assert_eq!(
        f.refresh_refused(WEB, &token).await,
        ErrorName::InternalError
    );
    // The token was not spent.
    assert_eq!(f.stored_refresh(&token).await.revoked, None);
}

#[tokio::test]
async fn an_unreachable_store_is_temporarily_unavailable_not_a_refusal() {
    let f = Fixture::new().await;
    let token = f.refresh_token().await;
    let web = f.app(WEB).await;
    f.store
        .down
        .store(true, std::sync::atomic::Ordering::SeqCst);
    let request = TokenRequest::RefreshToken(RefreshRequest {
        refresh_token: Secret::new(&token),
        scope: None,
        resource: None,
        origin: None,
    });
    let e = exchange(&f.ctx(), &web, &request).await.unwrap_err();
    assert_eq!(e.name, ErrorName::TemporarilyUnavailable);
    f.store
        .down
        .store(false, std::sync::atomic::Ordering::SeqCst);
    assert_eq!(f.stored_refresh(&token).await.revoked, None);
    assert!(f.refresh(WEB, &token, None, None).await.is_ok());
}
