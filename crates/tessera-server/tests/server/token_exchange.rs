//! Token exchange on-behalf-of over HTTP, the chain web app → API A → API B: a web app
//! signs alice in with openidconnect-rs for the middle tier's API (`api://middle`); the
//! middle tier (`middle-app`, which serves that API) exchanges her token for one to the
//! orders API, first refused for want of her consent, then, once she consented to the
//! middle tier, granted; the orders API sees alice as the subject and the middle tier
//! as the actor.

use super::oidc::*;
use super::support::Served;
use openidconnect::core::{CoreAuthenticationFlow, CoreClient, CoreTokenResponse};
use openidconnect::{
    ClientId, ClientSecret, CsrfToken, Nonce, OAuth2TokenResponse, PkceCodeChallenge, RedirectUrl,
    Scope,
};
use serde_json::{Value, json};
use tessera_core::errors::ErrorName;

const MIDDLE_API: &str = "api://middle";
const FRONT_CB: &str = "https://front.fabrikam.test/cb";
pub(super) const MIDDLE_CB: &str = "https://middle.fabrikam.test/cb";
const EXCHANGE: &str = "urn:ietf:params:oauth:grant-type:token-exchange";
const ACCESS_TOKEN_TYPE: &str = "urn:ietf:params:oauth:token-type:access_token";

pub(super) async fn chain_server() -> Served {
    let served = server(None).await;
    served
        .app
        .import(json!({ "tenants": [{
            "slug": TENANT, "display_name": "Fabrikam",
            "apis": [ { "identifier": MIDDLE_API, "name": "Middle tier",
                        "scopes": ["access"], "client_id": "middle-app" },
                      // The orders API, now with the app that serves it (and introspects).
                      { "identifier": API, "name": "Orders", "client_id": "orders-api",
                        "scopes": [ { "name": "read", "description": "Read your orders" },
                                    { "name": "admin", "description": "Manage every order",
                                      "admin_consent_required": true } ] } ],
            "apps": [
                { "client_id": "front-app", "name": "Front",
                  "redirect_uris": { "web": [FRONT_CB] },
                  "secrets": [ { "value": WEB_SECRET } ],
                  "permissions": [ { "api": MIDDLE_API, "scopes": ["access"] } ],
                  "admin_consented": true },
                { "client_id": "orders-api", "name": "Orders API",
                  "secrets": [ { "value": WEB_SECRET } ], "grant_types": ["client_credentials"] },
                { "client_id": "middle-app", "name": "Middle Tier",
                  "redirect_uris": { "web": [MIDDLE_CB] },
                  "secrets": [ { "value": WEB_SECRET } ],
                  "grant_types": ["authorization_code", EXCHANGE],
                  "permissions": [ { "api": API, "scopes": ["read"] } ] }
            ]
        }]}))
        .await;
    served
}

/// The front app's access token for the middle tier, by the code flow run by
/// openidconnect-rs (the pages filled in by a cookie-aware client).
pub(super) async fn front_token(served: &Served) -> String {
    let client = CoreClient::from_provider_metadata(
        super::sign_in_flow::discover(served).await,
        ClientId::new("front-app".into()),
        Some(ClientSecret::new(WEB_SECRET.into())),
    )
    .set_redirect_uri(RedirectUrl::new(FRONT_CB.into()).unwrap());
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let (url, _, _) = client
        .authorize_url(
            CoreAuthenticationFlow::AuthorizationCode,
            CsrfToken::new_random,
            Nonce::new_random,
        )
        .add_scope(Scope::new(format!("{MIDDLE_API}/access")))
        .set_pkce_challenge(challenge)
        .url();
    let browser = browser();
    let page = browser.get(url.as_str()).send().await.unwrap();
    let html = page.text().await.unwrap();
    let redirect = sign_in(&browser, &served.base, &html, "alice", PASSWORD).await;
    let (_, params) = location_params(&redirect);
    let code = param(&params, "code").expect("a code").to_owned();
    let tokens = client
        .exchange_code(openidconnect::AuthorizationCode::new(code))
        .unwrap()
        .set_pkce_verifier(verifier)
        .request_async(&rp_http())
        .await
        .unwrap();
    tokens.access_token().secret().clone()
}

/// The middle tier's exchange of `subject` for the orders API's `read`.
async fn exchange(served: &Served, subject: &str) -> reqwest::Response {
    let scope = format!("{API}/read");
    token_request(
        &served.base,
        &[
            ("grant_type", EXCHANGE),
            ("subject_token", subject),
            ("subject_token_type", ACCESS_TOKEN_TYPE),
            ("requested_token_type", ACCESS_TOKEN_TYPE),
            ("scope", &scope),
        ],
    )
    .basic_auth("middle-app", Some(WEB_SECRET))
    .send()
    .await
    .unwrap()
}

#[tokio::test]
async fn web_app_to_api_a_to_api_b_on_behalf_of_the_user() {
    let served = chain_server().await;
    let subject = front_token(&served).await;

    // Alice never consented to the middle tier reading her orders.
    let (_, body) = assert_token_error(
        exchange(&served, &subject).await,
        ErrorName::ConsentRequired,
    )
    .await;
    assert!(
        body["error_description"]
            .as_str()
            .unwrap()
            .contains(&format!("{API}/read"))
    );

    // She signs in to the middle tier once and allows it.
    let (_, challenge) = pkce("middle-consent");
    code_for(
        &served,
        "middle-app",
        MIDDLE_CB,
        &format!("{API}/read"),
        Some(&challenge),
        "alice",
    )
    .await;

    let r = exchange(&served, &subject).await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["cache-control"], "no-store");
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["issued_token_type"], ACCESS_TOKEN_TYPE, "{body}");
    assert!(body.get("refresh_token").is_none() && body.get("id_token").is_none());
    // The strict client library reads it as a token response.
    let parsed: CoreTokenResponse = serde_json::from_value(body.clone()).unwrap();
    let downstream = parsed.access_token().secret().clone();

    // The orders API asks who this is: alice, through the middle tier.
    let info: Value = rp_http()
        .post(format!("{}/{TENANT}/oauth2/introspect", served.base))
        .basic_auth("orders-api", Some(WEB_SECRET))
        .form(&[("token", downstream.as_str())])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let original = tessera_core::oauth::jose::unverified_claims(&subject).unwrap();
    assert_eq!(info["active"], true, "{info}");
    assert_eq!(info["aud"], API);
    assert_eq!(info["sub"], original["sub"]);
    assert_eq!(info["client_id"], "middle-app");
    assert_eq!(info["act"], json!({ "sub": "middle-app" }));
    assert_eq!(info["scope"], format!("{API}/read"));

    // The downstream token is not the middle tier's to exchange again (it is for the
    // orders API, which no app serves).
    assert_json_error(
        exchange(&served, &downstream).await,
        ErrorName::TokenExchangeSubjectInvalid,
    )
    .await;
    // The front app may not exchange at all.
    let r = token_request(
        &served.base,
        &[
            ("grant_type", EXCHANGE),
            ("subject_token", subject.as_str()),
            ("subject_token_type", ACCESS_TOKEN_TYPE),
            ("scope", &format!("{API}/read")),
        ],
    )
    .basic_auth("front-app", Some(WEB_SECRET))
    .send()
    .await
    .unwrap();
    assert_json_error(r, ErrorName::TokenExchangeNotAllowed).await;
}
