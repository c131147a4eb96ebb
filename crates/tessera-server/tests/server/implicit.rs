//! The implicit and hybrid response types (OIDC Core §3.2, §3.3), for an app that
//! enabled them: requests built by openidconnect-rs, tokens in the fragment checked
//! with its verifier (signature, nonce, `at_hash`, `c_hash`), and each refusal.

use super::oidc::*;
use super::sign_in_flow::discover;
use super::support::Served;
use openidconnect::core::{
    CoreAuthenticationFlow, CoreClient, CoreIdToken, CoreJwsSigningAlgorithm, CoreResponseType,
};
use openidconnect::{
    AccessToken, AccessTokenHash, AuthorizationCode, AuthorizationCodeHash, ClientId, ClientSecret,
    CsrfToken, Nonce, OAuth2TokenResponse, RedirectUrl, Scope,
};
use serde_json::json;
use tessera_core::errors::ErrorName;

/// ed-app with implicit ID and access tokens enabled, and a browser signed in to it.
async fn enabled(served: &Served) -> reqwest::Client {
    let r = served
        .app
        .admin(
            "PATCH",
            &format!("/admin/api/v1/tenants/{TENANT}/apps/ed-app"),
            Some(json!({ "implicit_id_token": true, "implicit_access_token": true })),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let b = browser();
    let params = [
        ("client_id", "ed-app"),
        ("redirect_uri", WEB_CB),
        ("response_type", "code"),
        ("scope", "openid"),
    ];
    authorize_through_pages(&b, &served.base, &params, "alice").await;
    b
}

/// The parameters of a redirect's fragment.
fn fragment(response: &reqwest::Response) -> Vec<(String, String)> {
    let location = response.headers()["location"].to_str().unwrap();
    let url = url::Url::parse(location).unwrap();
    assert!(url.query().is_none(), "nothing in the query: {location}");
    url::form_urlencoded::parse(url.fragment().unwrap_or_default().as_bytes())
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

macro_rules! client {
    ($metadata:expr) => {
        CoreClient::from_provider_metadata(
            $metadata.clone(),
            ClientId::new("ed-app".into()),
            Some(ClientSecret::new(WEB_SECRET.into())),
        )
        .set_redirect_uri(RedirectUrl::new(WEB_CB.into()).unwrap())
    };
}

#[tokio::test]
async fn every_response_type_returns_its_tokens_in_the_fragment() {
    let served = server(None).await;
    let b = enabled(&served).await;
    let metadata = discover(&served).await;
    let types = metadata
        .response_types_supported()
        .iter()
        .map(|t| {
            let parts: &Vec<CoreResponseType> = t;
            parts
                .iter()
                .map(|r| r.as_ref().to_owned())
                .collect::<Vec<_>>()
                .join(" ")
        })
        .collect::<Vec<_>>();
    assert!(
        types.contains(&"code id_token token".to_owned()),
        "{types:?}"
    );
    let client = client!(metadata);
    let now = now_of(&served.app);
    let verifier = client
        .id_token_verifier()
        .set_allowed_algs([CoreJwsSigningAlgorithm::EdDsa])
        .set_time_fn(move || now);

    use CoreResponseType::{Code, IdToken, Token};
    let flows = [
        (
            CoreAuthenticationFlow::Implicit(false),
            (false, true, false),
        ),
        (CoreAuthenticationFlow::Implicit(true), (false, true, true)),
        (
            CoreAuthenticationFlow::Hybrid(vec![Code, IdToken]),
            (true, true, false),
        ),
        (
            CoreAuthenticationFlow::Hybrid(vec![Code, Token]),
            (true, false, true),
        ),
        (
            CoreAuthenticationFlow::Hybrid(vec![Code, IdToken, Token]),
            (true, true, true),
        ),
    ];
    for (flow, (code, id, access)) in flows {
        let (url, state, nonce) = client
            .authorize_url(flow, CsrfToken::new_random, Nonce::new_random)
            .add_scope(Scope::new("offline_access".into()))
            .url();
        let r = b.get(url.as_str()).send().await.unwrap();
        assert_eq!(r.status(), 302, "{url}");
        let got = fragment(&r);
        let kind = url
            .query_pairs()
            .find(|(k, _)| k == "response_type")
            .unwrap()
            .1
            .into_owned();
        assert_eq!(
            param(&got, "state"),
            Some(state.secret().as_str()),
            "{kind}"
        );
        assert_eq!(param(&got, "iss"), Some(issuer(&served).as_str()), "{kind}");
        assert_eq!(param(&got, "code").is_some(), code, "{kind}");
        assert_eq!(param(&got, "id_token").is_some(), id, "{kind}");
        assert_eq!(param(&got, "access_token").is_some(), access, "{kind}");
        assert!(
            param(&got, "refresh_token").is_none(),
            "never through the browser: {kind}"
        );
        if access {
            assert_eq!(param(&got, "token_type"), Some("Bearer"));
            assert_eq!(param(&got, "expires_in"), Some("3600"));
        }
        if let Some(raw) = param(&got, "id_token") {
            let token: CoreIdToken = serde_json::from_value(json!(raw)).unwrap();
            let claims = token.claims(&verifier, &nonce).unwrap();
            let alg = token.signing_alg().unwrap();
            let key = token.signing_key(&verifier).unwrap();
            // OIDC Core §3.3.2.11: c_hash with a code, at_hash with an access token.
            match param(&got, "code") {
                Some(c) => assert_eq!(
                    claims.code_hash(),
                    Some(
                        &AuthorizationCodeHash::from_code(
                            &AuthorizationCode::new(c.into()),
                            alg,
                            key
                        )
                        .unwrap()
                    ),
                    "{kind}"
                ),
                None => assert!(claims.code_hash().is_none(), "{kind}"),
            }
            match param(&got, "access_token") {
                Some(t) => assert_eq!(
                    claims.access_token_hash(),
                    Some(
                        &AccessTokenHash::from_token(&AccessToken::new(t.into()), alg, key)
                            .unwrap()
                    ),
                    "{kind}"
                ),
                None => assert!(claims.access_token_hash().is_none(), "{kind}"),
            }
        }
        if let Some(t) = param(&got, "access_token") {
            let info = rp_http()
                .get(format!("{}/{TENANT}/oauth2/userinfo", served.base))
                .bearer_auth(t)
                .send()
                .await
                .unwrap();
            assert_eq!(info.status(), 200, "{kind}: the access token is a real one");
        }
        if let Some(c) = param(&got, "code") {
            // The hybrid flow's code is redeemed at the token endpoint as usual.
            let tokens = client
                .exchange_code(AuthorizationCode::new(c.into()))
                .unwrap()
                .request_async(&rp_http())
                .await
                .unwrap();
            assert!(
                tokens.refresh_token().is_some(),
                "{kind}: offline_access via the code"
            );
        }
    }

    // token alone (RFC 6749 §4.2), and form_post instead of the fragment.
    let base = [
        ("client_id", "ed-app"),
        ("redirect_uri", WEB_CB),
        ("scope", "openid"),
        ("nonce", "n"),
        ("state", "s"),
    ];
    let mut token_only = base.to_vec();
    token_only.push(("response_type", "token"));
    let r = b
        .get(authorize_url(&served.base, &token_only))
        .send()
        .await
        .unwrap();
    let got = fragment(&r);
    assert!(param(&got, "access_token").is_some() && param(&got, "id_token").is_none());
    let mut posted = base.to_vec();
    posted.extend([
        ("response_type", "code id_token"),
        ("response_mode", "form_post"),
    ]);
    let page = b
        .get(authorize_url(&served.base, &posted))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    assert!(
        html.contains("name=\"id_token\"") && html.contains("name=\"code\""),
        "{html}"
    );
}

/// An error of a front-channel request reaches the client in the fragment.
fn assert_fragment_error(served: &Served, r: &reqwest::Response, name: ErrorName) {
    assert_eq!(r.status(), 302);
    let got = fragment(r);
    assert_eq!(param(&got, "error"), Some(oauth_error(name)), "{got:?}");
    assert!(
        param(&got, "error_description")
            .unwrap()
            .starts_with(&name.entry().code_str()),
        "{got:?}"
    );
    assert_eq!(param(&got, "iss"), Some(issuer(served).as_str()));
}

#[tokio::test]
async fn front_channel_requests_are_refused_clearly() {
    let served = server(None).await;
    let b = enabled(&served).await;
    let get = |params: Vec<(&'static str, &'static str)>| {
        let url = authorize_url(&served.base, &params);
        let b = b.clone();
        async move { b.get(url).send().await.unwrap() }
    };
    let with = |app: &'static str, extra: &[(&'static str, &'static str)]| {
        let mut p = vec![
            ("client_id", app),
            ("redirect_uri", WEB_CB),
            ("scope", "openid"),
            ("nonce", "n"),
            ("state", "st"),
        ];
        p.extend_from_slice(extra);
        p
    };
    // web-app never enabled them: said in the fragment the type asked for.
    let r = get(with("web-app", &[("response_type", "id_token")])).await;
    assert_fragment_error(&served, &r, ErrorName::ImplicitIdTokenNotEnabled);
    for access in ["code token", "token"] {
        let r = get(with("web-app", &[("response_type", access)])).await;
        assert_fragment_error(&served, &r, ErrorName::ImplicitAccessTokenNotEnabled);
    }
    // OIDC Core §3.2.2.1: an ID token from the authorization endpoint needs a nonce.
    let r = get(vec![
        ("client_id", "ed-app"),
        ("redirect_uri", WEB_CB),
        ("scope", "openid"),
        ("response_type", "id_token"),
    ])
    .await;
    assert_fragment_error(&served, &r, ErrorName::InvalidRequestFormat);
    let r = get(vec![
        ("client_id", "ed-app"),
        ("redirect_uri", WEB_CB),
        ("scope", "profile"),
        ("nonce", "n"),
        ("state", "st"),
        ("response_type", "id_token"),
    ])
    .await;
    assert_fragment_error(&served, &r, ErrorName::InvalidRequestFormat);
    let r = get(with(
        "ed-app",
        &[
            ("response_type", "id_token token"),
            (
                "code_challenge",
                "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
            ),
            ("code_challenge_method", "S256"),
        ],
    ))
    .await;
    assert_fragment_error(&served, &r, ErrorName::PkceNotExpected);
    for bad in ["code code", "id_token none", "tokens"] {
        let r = get(with("ed-app", &[("response_type", bad)])).await;
        assert_redirected_error(
            &r,
            &served,
            WEB_CB,
            Some("st"),
            ErrorName::UnsupportedResponseType,
        );
    }
    // Tokens never go in a query: the refusal itself may.
    let r = get(with(
        "ed-app",
        &[("response_type", "id_token"), ("response_mode", "query")],
    ))
    .await;
    assert_redirected_error(
        &r,
        &served,
        WEB_CB,
        Some("st"),
        ErrorName::UnsupportedResponseMode,
    );
    // prompt=none without a session, in a browser of its own.
    let url = authorize_url(
        &served.base,
        &with(
            "ed-app",
            &[("response_type", "id_token"), ("prompt", "none")],
        ),
    );
    let r = browser().get(url).send().await.unwrap();
    assert_fragment_error(&served, &r, ErrorName::LoginRequired);
}
