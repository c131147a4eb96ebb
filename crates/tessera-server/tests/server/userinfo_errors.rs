//! Every error path of the UserInfo endpoint (OIDC Core §5.3): a bearer token (RFC 6750
//! §2.1 header or §2.2 form body, never both) that Tessera issued for this endpoint.
//! Failures are 401 with a `WWW-Authenticate: Bearer` challenge (RFC 6750 §3).

use super::oidc::*;
use super::support::Served;
use tessera_core::errors::ErrorName;

fn url(served: &Served) -> String {
    format!("{}/{TENANT}/oauth2/userinfo", served.base)
}

async fn with_bearer(served: &Served, token: &str) -> reqwest::Response {
    rp_http()
        .get(url(served))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
}

/// Checks the RFC 6750 §3 challenge of a rejected token.
fn invalid_request_challenge(headers: &reqwest::header::HeaderMap) {
    let challenge = headers["www-authenticate"].to_str().unwrap();
    assert!(
        challenge.starts_with(
            "Bearer realm=\"fabrikam\", error=\"invalid_request\", error_description=\""
        ),
        "{challenge}"
    );
}

fn invalid_token_challenge(headers: &reqwest::header::HeaderMap) {
    let www = headers["www-authenticate"].to_str().unwrap();
    assert!(
        www.starts_with(&format!("Bearer realm=\"{TENANT}\"")),
        "{www}"
    );
    assert!(www.contains("error=\"invalid_token\""), "{www}");
}

#[tokio::test]
async fn no_token_is_a_bare_bearer_challenge() {
    let served = server(None).await;
    let r = rp_http().get(url(&served)).send().await.unwrap();
    let (headers, _) = assert_json_error(r, ErrorName::BearerTokenMissing).await;
    // RFC 6750 §3.1: no error code when the request had no token at all.
    assert_eq!(
        headers["www-authenticate"],
        format!("Bearer realm=\"{TENANT}\"")
    );
}

#[tokio::test]
async fn malformed_token_is_refused() {
    let served = server(None).await;
    let r = with_bearer(&served, "not-a-jwt").await;
    let (headers, _) = assert_json_error(r, ErrorName::BearerTokenMalformed).await;
    invalid_token_challenge(&headers);
    // An ID token is a JWT Tessera signed, but not an access token (typ at+jwt).
    let tokens = web_tokens(&served, "openid").await;
    let r = with_bearer(&served, tokens["id_token"].as_str().unwrap()).await;
    let (headers, _) = assert_json_error(r, ErrorName::BearerTokenMalformed).await;
    invalid_token_challenge(&headers);
}

#[tokio::test]
async fn tampered_signature_is_refused() {
    let served = server(None).await;
    let tokens = web_tokens(&served, "openid").await;
    let token = tokens["access_token"].as_str().unwrap();
    let (signed, signature) = token.rsplit_once('.').unwrap();
    // Change a character in the middle of the signature, so real bits change (the last
    // character of unpadded base64url may carry only padding bits).
    let mut sig: Vec<u8> = signature.bytes().collect();
    let i = sig.len() / 2;
    sig[i] = if sig[i] == b'A' { b'B' } else { b'A' };
    let tampered = format!("{signed}.{}", String::from_utf8(sig).unwrap());
    let r = with_bearer(&served, &tampered).await;
    let (headers, _) = assert_json_error(r, ErrorName::BearerTokenSignatureInvalid).await;
    invalid_token_challenge(&headers);
    // The untouched token still works.
    assert_eq!(with_bearer(&served, token).await.status(), 200);
}

#[tokio::test]
async fn expired_token_is_refused() {
    let served = server(None).await;
    let tokens = web_tokens(&served, "openid").await;
    let token = tokens["access_token"].as_str().unwrap();
    assert_eq!(tokens["expires_in"], 3600);
    served.app.clock.advance(time::Duration::seconds(3600 + 31)); // past exp and the 30 s leeway
    let r = with_bearer(&served, token).await;
    let (headers, _) = assert_json_error(r, ErrorName::BearerTokenExpired).await;
    invalid_token_challenge(&headers);
}

#[tokio::test]
async fn token_for_an_api_is_audience_mismatch() {
    let served = server(None).await;
    // alice consents to api://orders/read for web-app: the access token is for the API.
    let tokens = web_tokens(&served, "openid api://orders/read").await;
    let r = with_bearer(&served, tokens["access_token"].as_str().unwrap()).await;
    let (headers, body) = assert_json_error(r, ErrorName::BearerTokenAudienceMismatch).await;
    invalid_token_challenge(&headers);
    assert!(
        body["error_description"].as_str().unwrap().contains(API),
        "{body}"
    );
}

#[tokio::test]
async fn post_with_the_token_in_the_form_body_works() {
    let served = server(None).await;
    let tokens = web_tokens(&served, "openid profile").await;
    let r = rp_http()
        .post(url(&served))
        .form(&[("access_token", tokens["access_token"].as_str().unwrap())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["cache-control"], "no-store");
    let claims: serde_json::Value = r.json().await.unwrap();
    assert_eq!(claims["preferred_username"], "alice");
    assert!(claims["sub"].is_string());
}

#[tokio::test]
async fn token_in_header_and_body_is_invalid_request() {
    let served = server(None).await;
    let tokens = web_tokens(&served, "openid").await;
    let token = tokens["access_token"].as_str().unwrap();
    let r = rp_http()
        .post(url(&served))
        .bearer_auth(token)
        .form(&[("access_token", token)])
        .send()
        .await
        .unwrap();
    // RFC 6750 §3.1: a malformed request is invalid_request, with its challenge too.
    invalid_request_challenge(r.headers());
    let (_, body) = assert_json_error(r, ErrorName::InvalidRequestFormat).await;
    assert!(
        body["error_description"]
            .as_str()
            .unwrap()
            .contains("both in the header and in the body"),
        "{body}"
    );
}

/// The user is found by the token's `sub` (their id) on every call: once deleted, their
/// still-unexpired token gets nothing more.
#[tokio::test]
async fn a_deleted_users_token_is_refused() {
    let served = server(None).await;
    let tokens = web_tokens(&served, "openid profile").await;
    let access = tokens["access_token"].as_str().unwrap();
    assert_eq!(with_bearer(&served, access).await.status(), 200);
    delete_user(&served, "alice").await;
    let refused = with_bearer(&served, access).await;
    assert_eq!(refused.status(), 401);
    invalid_token_challenge(refused.headers());
}

/// RFC 6750 §2.2: only a form-encoded body carries a token. Without a header, a token
/// in a body of another type is the wrong media type; beside a header, such a body is
/// not a second token and is ignored.
#[tokio::test]
async fn only_a_form_encoded_body_carries_the_token() {
    let served = server(None).await;
    let tokens = web_tokens(&served, "openid").await;
    let token = tokens["access_token"].as_str().unwrap();
    let r = rp_http()
        .post(url(&served))
        .header("content-type", "text/plain")
        .body(format!("access_token={token}"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 415);
    invalid_request_challenge(r.headers());
    assert_json_error(r, ErrorName::UnsupportedMediaType).await;
    let r = rp_http()
        .post(url(&served))
        .bearer_auth(token)
        .header("content-type", "application/json")
        .body(format!(r#"{{"access_token":"{token}"}}"#))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
}

/// A token for the UserInfo endpoint without the `openid` scope: 403 with the
/// insufficient_scope challenge naming the scope (RFC 6750 §3.1).
#[tokio::test]
async fn a_token_without_openid_is_insufficient_scope() {
    let served = super::oidc::server(None).await;
    let t = super::refresh::tokens_for(&served, "web-app", super::oidc::WEB_CB, "profile").await;
    let r = super::oidc::rp_http()
        .get(format!(
            "{}/{}/oauth2/userinfo",
            served.base,
            super::oidc::TENANT
        ))
        .bearer_auth(t["access_token"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    let challenge = r.headers()["www-authenticate"].to_str().unwrap().to_owned();
    assert!(
        challenge.starts_with("Bearer ") && challenge.contains("error=\"insufficient_scope\""),
        "{challenge}"
    );
    assert!(challenge.contains("scope=\"openid\""), "{challenge}");
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(
        body["error_codes"][0],
        tessera_core::errors::ErrorName::InsufficientScope
            .entry()
            .code
    );
}
