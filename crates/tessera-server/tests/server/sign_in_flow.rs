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

/// The fixture tenant's discovery document, read and checked by openidconnect-rs.
pub(super) async fn discover(served: &Served) -> CoreProviderMetadata {
    let issuer = IssuerUrl::new(format!("{}/{TENANT}", served.base)).unwrap();
    CoreProviderMetadata::discover_async(issuer, &rp_http())
        .await
        .unwrap()
}

/// How many authorization code records the tenant's store holds.
async fn stored_codes(served: &Served) -> usize {
    let store = &served.app.state.store;
    let tenant = fixture_tenant(served).await;
    store
        .objects(tenant.id, tessera_core::store::object::ObjectKind::AuthCode)
        .await
        .unwrap()
        .len()
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
    // The code is its own record, sealed: URL-safe, opaque (nothing of the record shows
    // through but its tenant's id, in front), and nothing about it is stored until it is
    // redeemed.
    let tenant = fixture_tenant(&served).await;
    assert_eq!(
        tessera_core::oauth::records::tenant_of(&code),
        Some(tenant.id)
    );
    let (_, sealed) = code.split_once('~').unwrap();
    assert!(
        sealed
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'),
        "{code}"
    );
    let raw =
        base64::Engine::decode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, sealed).unwrap();
    for plain in [&b"alice"[..], b"web-app", b"openid", WEB_CB.as_bytes()] {
        assert!(!raw.windows(plain.len()).any(|w| w == plain));
    }
    assert_eq!(stored_codes(&served).await, 0);

    let tokens = client
        .exchange_code(AuthorizationCode::new(code))
        .unwrap()
        .set_pkce_verifier(verifier)
        .request_async(&rp_http())
        .await
        .unwrap();
    assert_eq!(stored_codes(&served).await, 1, "the redemption");
    let now = now_of(&served.app);
    // openidconnect-rs's verifier as it comes: it accepts RS256 alone (OIDC Core
    // §3.1.3.7 step 7), which Tessera signs ID tokens with unless the app chose another.
    let id_verifier = client.id_token_verifier().set_time_fn(move || now);
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

    // SSO: a second app in the same browser signs in without a password (ed-app has
    // admin consent), and its ID tokens are EdDSA as it registered.
    let ed = CoreClient::from_provider_metadata(
        metadata.clone(),
        ClientId::new("ed-app".into()),
        Some(ClientSecret::new(WEB_SECRET.into())),
    )
    .set_redirect_uri(RedirectUrl::new(WEB_CB.into()).unwrap());
    let (url, _, nonce) = ed
        .authorize_url(
            CoreAuthenticationFlow::AuthorizationCode,
            CsrfToken::new_random,
            Nonce::new_random,
        )
        .url();
    let redirect = browser.get(url.as_str()).send().await.unwrap();
    assert_eq!(redirect.status(), 302, "no sign-in page with a session");
    let (_, params) = location_params(&redirect);
    let tokens = ed
        .exchange_code(AuthorizationCode::new(
            param(&params, "code").unwrap().into(),
        ))
        .unwrap()
        .request_async(&rp_http())
        .await
        .unwrap();
    let ed_verifier = ed
        .id_token_verifier()
        .set_allowed_algs([CoreJwsSigningAlgorithm::EdDsa])
        .set_time_fn(move || now);
    let ed_claims = tokens
        .id_token()
        .unwrap()
        .claims(&ed_verifier, &nonce)
        .unwrap();
    assert_eq!(ed_claims.subject(), claims.subject());
    assert_eq!(
        tokens.id_token().unwrap().signing_alg().unwrap(),
        &CoreJwsSigningAlgorithm::EdDsa
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

#[tokio::test]
async fn discovery_names_every_endpoint_and_capability_at_both_locations() {
    let served = server(None).await;
    let issuer = format!("{}/{TENANT}", served.base);
    let oidc: serde_json::Value = rp_http()
        .get(format!("{issuer}/.well-known/openid-configuration"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let rfc8414: serde_json::Value = rp_http()
        .get(format!(
            "{}/.well-known/oauth-authorization-server/{TENANT}",
            served.base
        ))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(oidc, rfc8414);
    assert_eq!(oidc["issuer"], issuer);
    for (field, path) in [
        ("authorization_endpoint", "/oauth2/authorize"),
        ("token_endpoint", "/oauth2/token"),
        ("userinfo_endpoint", "/oauth2/userinfo"),
        ("jwks_uri", "/discovery/keys"),
    ] {
        assert_eq!(oidc[field], format!("{issuer}{path}"), "{field}");
    }
    assert_eq!(oidc["authorization_response_iss_parameter_supported"], true);
    assert_eq!(
        oidc["code_challenge_methods_supported"],
        serde_json::json!(["S256"])
    );
    assert_eq!(
        oidc["response_modes_supported"],
        serde_json::json!(["query", "fragment", "form_post"])
    );
    assert_eq!(
        oidc["token_endpoint_auth_methods_supported"],
        serde_json::json!([
            "client_secret_basic",
            "client_secret_post",
            "private_key_jwt",
            "none"
        ])
    );
    assert_eq!(
        oidc["token_endpoint_auth_signing_alg_values_supported"],
        serde_json::json!(["RS256", "PS256", "ES256", "EdDSA"])
    );
    assert_eq!(
        oidc["id_token_signing_alg_values_supported"],
        serde_json::json!(["RS256", "ES256", "EdDSA"])
    );

    let missing = rp_http()
        .get(format!(
            "{}/.well-known/oauth-authorization-server/nope",
            served.base
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), 404);
    let body: serde_json::Value = missing.json().await.unwrap();
    assert_eq!(
        body["error_codes"][0],
        tessera_core::errors::ErrorName::TenantNotFound.entry().code
    );
}

/// With an https public URL every cookie is Secure; an unknown or disabled tenant at the
/// authorization endpoint is an error page for a browser.
#[tokio::test]
async fn https_deployments_get_secure_cookies_and_browsers_get_pages() {
    use axum::body::Body;
    use axum::http::Request;
    let app = super::support::TestApp::new().await;
    app.import(tenant_file()).await;
    let (_, challenge) = pkce("secure");
    let q = serde_urlencoded::to_string([
        ("client_id", "spa-app"),
        ("response_type", "code"),
        ("redirect_uri", SPA_CB),
        ("scope", "openid"),
        ("code_challenge", challenge.as_str()),
        ("code_challenge_method", "S256"),
    ])
    .unwrap();
    let page = app
        .send(
            Request::get(format!("/{TENANT}/oauth2/authorize?{q}"))
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(page.status, 200);
    let cookie = page.header("set-cookie");
    assert!(
        cookie.starts_with("__Host-tessera_csrf=")
            && cookie.contains("; Path=/;")
            && cookie.ends_with("; Secure"),
        "{cookie}"
    );
    // The page may post back to Tessera and be redirected to the app's origin, nowhere else.
    assert!(
        page.header("content-security-policy")
            .contains("form-action 'self' http://localhost:3000;")
    );
    // Signing in sets the session cookie with the __Secure- prefix (RFC 6265bis
    // §4.1.3.1), and only that name carries the session.
    let csrf_pair = cookie.split(';').next().unwrap().to_owned();
    let form = serde_urlencoded::to_string([
        ("csrf_token", hidden(&page.body, "csrf_token")),
        ("request", hidden(&page.body, "request")),
        ("username", "alice".to_owned()),
        ("password", PASSWORD.to_owned()),
    ])
    .unwrap();
    let signed_in = app
        .send(
            Request::post(format!("/{TENANT}/signin/password"))
                .header("content-type", "application/x-www-form-urlencoded")
                .header("cookie", &csrf_pair)
                .body(Body::from(form))
                .unwrap(),
        )
        .await;
    let session = signed_in
        .headers
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .find(|c| c.contains("tessera_session="))
        .unwrap_or_else(|| panic!("no session cookie: {} {}", signed_in.status, signed_in.body));
    assert!(
        session.starts_with("__Secure-tessera_session=")
            && session.contains(&format!("; Path=/{TENANT};"))
            && session.ends_with("; Secure"),
        "{session}"
    );
    let value = session
        .split(';')
        .next()
        .unwrap()
        .split_once('=')
        .unwrap()
        .1
        .to_owned();
    let authorize_with = |name: &str| {
        Request::get(format!("/{TENANT}/oauth2/authorize?{q}"))
            .header("cookie", format!("{csrf_pair}; {name}={value}"))
            .body(Body::empty())
            .unwrap()
    };
    // With the session the sign-in page is skipped; under the unprefixed name the
    // same value is no session at all.
    let with_session = app.send(authorize_with("__Secure-tessera_session")).await;
    assert!(
        !with_session
            .body
            .contains("autocomplete=\"current-password\"")
    );
    let unprefixed = app.send(authorize_with("tessera_session")).await;
    assert_eq!(unprefixed.status, 200);
    assert!(
        unprefixed
            .body
            .contains("autocomplete=\"current-password\"")
    );

    let html = "text/html,application/xhtml+xml";
    let unknown = app
        .send(
            Request::get(format!("/nope/oauth2/authorize?{q}"))
                .header("accept", html)
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(unknown.status, 404);
    assert!(unknown.header("content-type").starts_with("text/html"));
    assert!(
        unknown.body.contains(
            &tessera_core::errors::ErrorName::TenantNotFound
                .entry()
                .code_str()
        )
    );
    let r = app
        .admin(
            "PATCH",
            &format!("/admin/api/v1/tenants/{TENANT}"),
            Some(serde_json::json!({ "disabled": true })),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let disabled = app
        .send(
            Request::get(format!("/{TENANT}/oauth2/authorize?{q}"))
                .header("accept", html)
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(disabled.status, 403);
    assert!(
        disabled.body.contains(
            &tessera_core::errors::ErrorName::TenantDisabled
                .entry()
                .code_str()
        )
    );
}

/// Revoking a user's sessions (admin API) ends the SSO session, so the next authorization
/// shows the sign-in page, and revokes the user's refresh tokens, atomically.
#[tokio::test]
async fn revoking_a_users_sessions_ends_sso_and_revokes_refresh_tokens() {
    use tessera_core::oauth::records::RefreshToken;
    use tessera_core::store::object::ObjectKind;
    let served = server(None).await;
    let base = served.base.clone();
    let (verifier, challenge) = pkce("revoke");
    let url = authorize_url(
        &base,
        &[
            ("client_id", "web-app"),
            ("response_type", "code"),
            ("redirect_uri", WEB_CB),
            ("scope", "openid offline_access"),
            ("code_challenge", &challenge),
            ("code_challenge_method", "S256"),
        ],
    );
    let b = browser();
    let page = b.get(&url).send().await.unwrap().text().await.unwrap();
    let consent_page = sign_in(&b, &base, &page, "alice", PASSWORD)
        .await
        .text()
        .await
        .unwrap();
    let redirect = consent(&b, &base, &consent_page, "allow").await;
    let code = param(&location_params(&redirect).1, "code")
        .unwrap()
        .to_owned();
    let tokens: serde_json::Value = rp_http()
        .post(format!("{base}/{TENANT}/oauth2/token"))
        .basic_auth("web-app", Some(WEB_SECRET))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", code.as_str()),
            ("redirect_uri", WEB_CB),
            ("code_verifier", verifier.as_str()),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(tokens["refresh_token"].is_string(), "{tokens}");
    // With the session, the app gets a code straight away.
    assert_eq!(b.get(&url).send().await.unwrap().status(), 302);

    let r = revoke_all_sessions(&served, "alice").await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(
        r.json(),
        serde_json::json!({ "sessions": 1, "refresh_tokens": 1 })
    );
    let again = b.get(&url).send().await.unwrap();
    assert_eq!(again.status(), 200, "the sign-in page again");
    assert!(
        again
            .text()
            .await
            .unwrap()
            .contains("autocomplete=\"current-password\"")
    );
    let tenant = fixture_tenant(&served).await;
    let stored = served
        .app
        .state
        .store
        .objects(tenant.id, ObjectKind::RefreshToken)
        .await
        .unwrap();
    assert_eq!(stored.len(), 1);
    assert!(
        stored[0]
            .decode::<RefreshToken>()
            .unwrap()
            .revoked
            .is_some()
    );
    // The audit log records who did it.
    let audit = served
        .app
        .admin(
            "GET",
            &format!("/admin/api/v1/tenants/{TENANT}/audit"),
            None,
        )
        .await;
    assert!(
        audit.body.contains("user.revoke_sessions"),
        "{}",
        audit.body
    );
}

/// OIDC Core §5.5: claims asked for by name are released without their scope, in the ID
/// token (also the ones refreshes issue) or at UserInfo as asked; claims Tessera does not
/// have and members it does not know are ignored; a malformed value is refused.
#[tokio::test]
async fn the_claims_parameter_releases_claims_by_name() {
    use tessera_core::errors::ErrorName;
    let served = server(None).await;
    let payload = |jwt: &str| -> serde_json::Value {
        let part = jwt.split('.').nth(1).unwrap();
        serde_json::from_slice(
            &base64::Engine::decode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, part)
                .unwrap(),
        )
        .unwrap()
    };
    let claims = r#"{"id_token":{"email":{"essential":true},"name":null,"shoe_size":null},"userinfo":{"preferred_username":null},"access_token":{"xms_cc":{"values":["CP1"]}}}"#;
    let (verifier, challenge) = pkce("claims");
    let params = [
        ("client_id", "web-app"),
        ("redirect_uri", WEB_CB),
        ("response_type", "code"),
        ("scope", "openid offline_access"),
        ("code_challenge", challenge.as_str()),
        ("code_challenge_method", "S256"),
        ("claims", claims),
    ];
    let redirect = authorize_through_pages(&browser(), &served.base, &params, "alice").await;
    let code = param(&location_params(&redirect).1, "code")
        .unwrap()
        .to_owned();
    let tokens = redeem_web_code(&served, &code, Some(&verifier)).await;
    let id = payload(tokens["id_token"].as_str().unwrap());
    assert_eq!(id["email"], "alice@fabrikam.test");
    assert_eq!(id["name"], "Alice Example");
    for absent in [
        "preferred_username",
        "email_verified",
        "shoe_size",
        "xms_cc",
    ] {
        assert!(id.get(absent).is_none(), "{absent} in {id}");
    }
    let info: serde_json::Value = rp_http()
        .get(format!("{}/{TENANT}/oauth2/userinfo", served.base))
        .bearer_auth(tokens["access_token"].as_str().unwrap())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(info["preferred_username"], "alice");
    assert!(
        info.get("email").is_none() && info.get("name").is_none(),
        "{info}"
    );
    // A refresh keeps what the authorization asked for.
    let refreshed: serde_json::Value = token_request(
        &served.base,
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", tokens["refresh_token"].as_str().unwrap()),
            ("client_id", "web-app"),
            ("client_secret", WEB_SECRET),
        ],
    )
    .send()
    .await
    .unwrap()
    .json()
    .await
    .unwrap();
    assert_eq!(
        payload(refreshed["id_token"].as_str().unwrap())["email"],
        "alice@fabrikam.test"
    );

    let mut bad = params.to_vec();
    bad[6] = ("claims", r#"{"id_token":["email"]}"#);
    bad.push(("state", "st"));
    let r = browser()
        .get(authorize_url(&served.base, &bad))
        .send()
        .await
        .unwrap();
    assert_redirected_error(
        &r,
        &served,
        WEB_CB,
        Some("st"),
        ErrorName::InvalidRequestFormat,
    );
    let meta = served
        .app
        .get(&format!("/{TENANT}/.well-known/openid-configuration"), None)
        .await
        .json();
    assert_eq!(meta["claims_parameter_supported"], true);
}
