//! The authorization code flow end to end, driven by openidconnect-rs (which checks
//! discovery, the ID token's signature, nonce, at_hash and claims) with a cookie-aware
//! client filling in the pages, on SQLite and on PostgreSQL.

use super::oidc::*;
use super::support::Served;
use openidconnect::core::{
    CoreAuthenticationFlow, CoreClient, CoreJwsSigningAlgorithm, CoreProviderMetadata,
    CoreUserInfoClaims,
};
use openidconnect::{
    AccessTokenHash, AuthorizationCode, ClientId, ClientSecret, CsrfToken, IssuerUrl, Nonce,
    OAuth2TokenResponse, PkceCodeChallenge, RedirectUrl, Scope, TokenResponse,
};

async fn discover(served: &Served) -> CoreProviderMetadata {
    let issuer = IssuerUrl::new(format!("{}/{TENANT}", served.base)).unwrap();
    CoreProviderMetadata::discover_async(issuer, &rp_http())
        .await
        .unwrap()
}

/// One sign-in through the pages, then a token request, checked by openidconnect-rs.
async fn full_flow(served: Served) {
    let base = served.base.clone();
    let metadata = discover(&served).await;
    let client = CoreClient::from_provider_metadata(
        metadata.clone(),
        ClientId::new("web-app".into()),
        Some(ClientSecret::new(WEB_SECRET.into())),
    )
    .set_redirect_uri(RedirectUrl::new(WEB_CB.into()).unwrap());
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let (url, state, nonce) = client
        .authorize_url(
            CoreAuthenticationFlow::AuthorizationCode,
            CsrfToken::new_random,
            Nonce::new_random,
        )
        .add_scope(Scope::new("profile".into()))
        .add_scope(Scope::new("email".into()))
        .add_scope(Scope::new("offline_access".into()))
        .set_pkce_challenge(challenge)
        .url();

    let browser = browser();
    let page = browser.get(url.as_str()).send().await.unwrap();
    assert_eq!(page.status(), 200);
    for (h, v) in [
        ("x-frame-options", "DENY"),
        ("referrer-policy", "no-referrer"),
        ("cache-control", "no-store"),
    ] {
        assert_eq!(page.headers()[h], v, "{h}");
    }
    assert!(
        page.headers()["content-security-policy"]
            .to_str()
            .unwrap()
            .contains("frame-ancestors 'none'")
    );
    let csrf_cookie = page
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .find(|c| c.starts_with("tessera_csrf="))
        .unwrap();
    assert!(
        csrf_cookie.contains("HttpOnly") && csrf_cookie.contains("SameSite=Lax"),
        "{csrf_cookie}"
    );
    let html = page.text().await.unwrap();
    assert!(
        html.contains("autocomplete=\"username\"")
            && html.contains("autocomplete=\"current-password\"")
    );
    assert!(html.contains("Fabrikam Web"));

    let consent_page = sign_in(&browser, &base, &html, "Alice", PASSWORD).await;
    assert_eq!(consent_page.status(), 200);
    let session_cookie = consent_page
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .find(|c| c.starts_with("tessera_session="))
        .unwrap();
    assert!(
        session_cookie.contains(&format!("Path=/{TENANT}"))
            && session_cookie.contains("HttpOnly")
            && session_cookie.contains("SameSite=Lax")
    );
    let consent_html = consent_page.text().await.unwrap();
    assert!(
        consent_html.contains("See your email address"),
        "{consent_html}"
    );
    assert!(consent_html.contains("Fabrikam Web wants to"));

    let redirect = consent(&browser, &base, &consent_html, "allow").await;
    assert_eq!(redirect.status(), 303);
    let (target, params) = location_params(&redirect);
    assert_eq!(target, WEB_CB);
    assert_eq!(param(&params, "state"), Some(state.secret().as_str()));
    assert_eq!(
        param(&params, "iss"),
        Some(format!("{base}/{TENANT}").as_str())
    );
    let code = param(&params, "code").unwrap().to_owned();
    assert_eq!(code.len(), 43, "256 bits, base64url");

    let tokens = client
        .exchange_code(AuthorizationCode::new(code))
        .unwrap()
        .set_pkce_verifier(verifier)
        .request_async(&rp_http())
        .await
        .unwrap();
    let now = now_of(&served.app);
    let id_verifier = client
        .id_token_verifier()
        .set_allowed_algs([CoreJwsSigningAlgorithm::EdDsa])
        .set_time_fn(move || now);
    let id_token = tokens.id_token().expect("an ID token for openid");
    let claims = id_token.claims(&id_verifier, &nonce).unwrap();
    assert_eq!(claims.preferred_username().unwrap().as_str(), "alice");
    assert_eq!(claims.email().unwrap().as_str(), "alice@fabrikam.test");
    assert!(claims.auth_time().is_some());
    let expected_hash = AccessTokenHash::from_token(
        tokens.access_token(),
        id_token.signing_alg().unwrap(),
        id_token.signing_key(&id_verifier).unwrap(),
    )
    .unwrap();
    assert_eq!(claims.access_token_hash(), Some(&expected_hash));
    assert!(
        tokens.refresh_token().is_some(),
        "offline_access was granted"
    );

    let info: CoreUserInfoClaims = client
        .user_info(
            tokens.access_token().clone(),
            Some(claims.subject().clone()),
        )
        .unwrap()
        .request_async(&rp_http())
        .await
        .unwrap();
    assert_eq!(info.preferred_username().unwrap().as_str(), "alice");

    // SSO: a second app in the same browser signs in without a password (rs-app has
    // admin consent), and its tokens are RS256 as it asked.
    let rs = CoreClient::from_provider_metadata(
        metadata.clone(),
        ClientId::new("rs-app".into()),
        Some(ClientSecret::new(WEB_SECRET.into())),
    )
    .set_redirect_uri(RedirectUrl::new(WEB_CB.into()).unwrap());
    let (url, _, nonce) = rs
        .authorize_url(
            CoreAuthenticationFlow::AuthorizationCode,
            CsrfToken::new_random,
            Nonce::new_random,
        )
        .url();
    let redirect = browser.get(url.as_str()).send().await.unwrap();
    assert_eq!(redirect.status(), 302, "no sign-in page with a session");
    let (_, params) = location_params(&redirect);
    let tokens = rs
        .exchange_code(AuthorizationCode::new(
            param(&params, "code").unwrap().into(),
        ))
        .unwrap()
        .request_async(&rp_http())
        .await
        .unwrap();
    let rs_verifier = rs.id_token_verifier().set_time_fn(move || now);
    let rs_claims = tokens
        .id_token()
        .unwrap()
        .claims(&rs_verifier, &nonce)
        .unwrap();
    assert_eq!(rs_claims.subject(), claims.subject());
    assert_eq!(
        tokens.id_token().unwrap().signing_alg().unwrap(),
        &CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256
    );

    // The first app again: consent was given once, so it is not asked again.
    let (challenge, _) = PkceCodeChallenge::new_random_sha256();
    let (url, _, _) = client
        .authorize_url(
            CoreAuthenticationFlow::AuthorizationCode,
            CsrfToken::new_random,
            Nonce::new_random,
        )
        .add_scope(Scope::new("email".into()))
        .set_pkce_challenge(challenge)
        .url();
    let redirect = browser.get(url.as_str()).send().await.unwrap();
    assert_eq!(redirect.status(), 302);
    assert!(param(&location_params(&redirect).1, "code").is_some());
}

#[tokio::test]
async fn code_flow_end_to_end_on_sqlite() {
    full_flow(server(None).await).await;
}

#[tokio::test]
async fn code_flow_end_to_end_on_postgres() {
    let Some(db) =
        tessera_store::testing::postgres_or_skip("code_flow_end_to_end_on_postgres").await
    else {
        return;
    };
    full_flow(server(Some(db)).await).await;
}
