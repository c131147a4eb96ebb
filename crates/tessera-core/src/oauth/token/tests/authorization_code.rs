//! `grant_type=authorization_code`: the code's bindings in RFC 6749 §4.1.3's order,
//! single use, and a replay that revokes what the first redemption issued.

use super::*;

async fn redeem(
    f: &Fixture,
    client_id: &str,
    request: CodeRequest,
) -> Result<TokenResponse, CatalogError> {
    let request = TokenRequest::AuthorizationCode(request);
    exchange(&f.ctx(), &f.app(client_id).await, &request).await
}

#[tokio::test]
async fn a_code_gives_an_access_token_an_id_token_and_a_refresh_token() {
    let f = Fixture::new().await;
    let response = f
        .code_flow(&format!("openid profile offline_access {API}/read"))
        .await;
    let access = claims(&response.access_token);
    assert_eq!(access["aud"], API);
    assert_eq!(access["sub"], f.alice_id.to_string());
    assert_eq!(access["scp"], "read offline_access openid profile");
    let id = claims(response.id_token.as_deref().unwrap());
    assert_eq!(id["aud"], WEB);
    assert_eq!(id["nonce"], "n-0S6_WzA2Mj");
    assert_eq!(id["preferred_username"], ALICE);
    assert_eq!(id["sid"], "sid-1");
    assert!(id.get("email").is_none(), "no email scope: {id}");
    let refresh = response.refresh_token.unwrap();
    let stored = f.stored_refresh(&refresh).await;
    assert_eq!(stored.client_id, WEB);
    assert_eq!(stored.revoked, None);
}

#[tokio::test]
async fn without_offline_access_no_refresh_token_and_userinfo_is_the_audience() {
    let f = Fixture::new().await;
    let response = f.code_flow("openid").await;
    assert!(response.refresh_token.is_none());
    assert_eq!(
        claims(&response.access_token)["aud"],
        format!("{ISSUER}/oauth2/userinfo")
    );
    assert_eq!(response.scope.as_deref(), Some("openid"));
}

#[tokio::test]
async fn every_binding_of_the_code_is_checked() {
    let f = Fixture::new().await;
    let fresh = |f: &Fixture| f.seal(&f.code(WEB, WEB_CB, "openid"));
    // Not a code of this tenant.
    let e = redeem(&f, WEB, f.redeem("not-a-code")).await;
    assert_eq!(refused(e), ErrorName::AuthorizationCodeInvalid);
    // Issued to another client.
    let spa_code = f.seal(&f.code(SPA, SPA_CB, "openid"));
    let e = redeem(&f, WEB, f.redeem(&spa_code)).await;
    assert_eq!(refused(e), ErrorName::AuthorizationCodeClientMismatch);
    // Another redirect URI, or none.
    for sent in [Some("https://app.contoso.test/other"), None] {
        let request = CodeRequest {
            redirect_uri: sent.map(str::to_owned),
            ..f.redeem(&fresh(&f))
        };
        let e = redeem(&f, WEB, request).await;
        assert_eq!(refused(e), ErrorName::AuthorizationCodeRedirectMismatch);
    }
    // PKCE: the verifier missing, wrong, or sent for a code without a challenge.
    let request = CodeRequest {
        code_verifier: None,
        ..f.redeem(&fresh(&f))
    };
    assert_eq!(
        refused(redeem(&f, WEB, request).await),
        ErrorName::PkceVerifierMissing
    );
    let request = CodeRequest {
        code_verifier: Some("x".repeat(43)),
        ..f.redeem(&fresh(&f))
    };
    assert_eq!(
        refused(redeem(&f, WEB, request).await),
        ErrorName::PkceVerifierMismatch
    );
    let unchallenged = f.seal(&AuthCode {
        challenge: None,
        ..f.code(WEB, WEB_CB, "openid")
    });
    let e = redeem(&f, WEB, f.redeem(&unchallenged)).await;
    assert_eq!(refused(e), ErrorName::PkceNotExpected);
    // Expired: a code lives 60 seconds.
    let code = fresh(&f);
    f.later(60);
    let e = redeem(&f, WEB, f.redeem(&code)).await;
    assert_eq!(refused(e), ErrorName::AuthorizationCodeExpired);
}

#[tokio::test]
async fn a_single_page_apps_code_is_redeemed_only_by_the_browser() {
    let f = Fixture::new().await;
    let code = f.seal(&f.code(SPA, SPA_CB, "openid"));
    let request = |origin: Option<&str>| CodeRequest {
        redirect_uri: Some(SPA_CB.into()),
        origin: origin.map(str::to_owned),
        ..f.redeem(&code)
    };
    assert_eq!(
        refused(redeem(&f, SPA, request(None)).await),
        ErrorName::SpaOriginRequired
    );
    // Another site's page, or the app's host on another scheme or port.
    for other in [
        "https://evil.test",
        "http://spa.contoso.test",
        "https://spa.contoso.test:8443",
        "null",
    ] {
        assert_refused(
            redeem(&f, SPA, request(Some(other))).await,
            ErrorName::SpaOriginMismatch,
            other,
        );
    }
    assert!(redeem(&f, SPA, request(Some(SPA_ORIGIN))).await.is_ok());
}

#[tokio::test]
async fn a_replayed_code_is_refused_and_revokes_what_it_gave() {
    let f = Fixture::new().await;
    let code = f.seal(&f.code(WEB, WEB_CB, &format!("openid offline_access {API}/read")));
    let first = redeem(&f, WEB, f.redeem(&code)).await.unwrap();
    let refresh = first.refresh_token.unwrap();
    // The client rotated its refresh token before the code came back.
    let rotated = f.refresh(WEB, &refresh, None, None).await.unwrap();
    let e = redeem(&f, WEB, f.redeem(&code)).await;
    assert_eq!(refused(e), ErrorName::AuthorizationCodeRedeemed);
    // The whole family is revoked, and the first access token is on the deny-list.
    let next = rotated.refresh_token.unwrap();
    assert_eq!(
        f.refresh_refused(WEB, &next).await,
        ErrorName::RefreshTokenRevoked
    );
    let jti = claims(&first.access_token)["jti"]
        .as_str()
        .unwrap()
        .to_owned();
    let denied = f
        .store
        .object(f.tenant.id, ObjectKind::RevokedAccessToken, &jti)
        .await
        .unwrap();
    assert!(denied.is_some());
    // A replay is a replay whatever else is wrong with it.
    let request = CodeRequest {
        code_verifier: None,
        ..f.redeem(&code)
    };
    assert_eq!(
        refused(redeem(&f, WEB, request).await),
        ErrorName::AuthorizationCodeRedeemed
    );
}

#[tokio::test]
async fn the_codes_user_must_still_be_there_and_enabled() {
    let f = Fixture::new().await;
    let code = f.seal(&f.code(WEB, WEB_CB, "openid"));
    f.change::<User>(ObjectKind::User, ALICE, |u| u.enabled = false)
        .await;
    let e = redeem(&f, WEB, f.redeem(&code)).await;
    assert_eq!(refused(e), ErrorName::AccountDisabled);
    // Deleted and created again under the same name: someone else.
    let f = Fixture::new().await;
    let code = f.seal(&f.code(WEB, WEB_CB, "openid"));
    let user = f.delete_alice().await;
    f.another_alice(&user).await;
    let e = redeem(&f, WEB, f.redeem(&code)).await;
    assert_eq!(refused(e), ErrorName::AuthorizationCodeInvalid);
    // And nothing was stored: the code was not spent.
    let key = f
        .master
        .token_hash(crate::oauth::records::purpose::CODE, &code);
    let spent = f
        .store
        .object(f.tenant.id, ObjectKind::AuthCode, &key)
        .await;
    assert_eq!(spent.unwrap(), None);
}

/// A code whose sign-in was ended since (the user's sessions revoked, the user disabled
/// or the password reset) is void, even though the user is enabled.
#[tokio::test]
async fn a_code_ends_with_the_sign_in_it_rests_on() {
    let f = Fixture::new().await;
    let code = f.seal(&f.code(WEB, WEB_CB, "openid offline_access"));
    f.later(1);
    let now = f.now();
    f.change::<User>(ObjectKind::User, ALICE, |u| u.end_sign_ins(now))
        .await;
    assert_eq!(
        refused(redeem(&f, WEB, f.redeem(&code)).await),
        ErrorName::AuthorizationCodeRevoked
    );
    // A sign-in after the revocation is a sign-in like any other.
    let fresh = f.seal(&f.code(WEB, WEB_CB, "openid"));
    redeem(&f, WEB, f.redeem(&fresh)).await.unwrap();
}

/// The `alg` in a JWT's header.
fn alg_of(jwt: &str) -> String {
    let header = jwt.split('.').next().unwrap();
    let header: serde_json::Value = serde_json::from_slice(
        &base64::Engine::decode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, header).unwrap(),
    )
    .unwrap();
    header["alg"].as_str().unwrap().to_owned()
}

/// OIDC Core §3.1.3.7 step 7: ID tokens are RS256 unless the app registered
/// `id_token_signed_response_alg`; access tokens take their API's algorithm, RS256 when
/// it registered none, and tokens for UserInfo alone the app's; `at_hash` uses the hash
/// of the ID token's own algorithm.
#[tokio::test]
async fn id_tokens_and_access_tokens_are_rs256_unless_the_app_or_api_chose_otherwise() {
    let f = Fixture::new().await;
    let scopes = format!("openid {API}/read");
    let response = f.code_flow(&scopes).await;
    assert_eq!(alg_of(response.id_token.as_deref().unwrap()), "RS256");
    assert_eq!(alg_of(&response.access_token), "RS256");
    assert_eq!(alg_of(&f.code_flow("openid").await.access_token), "RS256");

    f.change::<App>(ObjectKind::App, WEB, |app| {
        app.id_token_signed_response_alg = Some(SigningAlg::EdDSA);
    })
    .await;
    let response = f.code_flow(&scopes).await;
    let id_token = response.id_token.as_deref().unwrap();
    assert_eq!(alg_of(id_token), "EdDSA");
    assert_eq!(alg_of(&response.access_token), "RS256", "the API decides");
    assert_eq!(
        claims(id_token)["at_hash"],
        crate::oauth::jose::left_half_hash(SigningAlg::EdDSA, &response.access_token)
    );

    f.change::<Api>(ObjectKind::Api, API, |api| {
        api.access_token_signing_alg = Some(SigningAlg::ES256);
    })
    .await;
    let response = f.code_flow(&scopes).await;
    assert_eq!(alg_of(&response.access_token), "ES256");
    assert_eq!(alg_of(response.id_token.as_deref().unwrap()), "EdDSA");
    // A token for UserInfo alone belongs to no API: only Tessera reads it, and it
    // takes the app's ID-token algorithm.
    assert_eq!(alg_of(&f.code_flow("openid").await.access_token), "EdDSA");
}
