//! `grant_type=client_credentials`: one API's token with the app's roles on it.

use super::*;
use crate::oauth::token::request::ClientCredentialsRequest;

async fn grant(f: &Fixture, api: &str) -> Result<TokenResponse, CatalogError> {
    let request = TokenRequest::ClientCredentials(ClientCredentialsRequest { api: api.into() });
    exchange(&f.ctx(), &f.app(WEB).await, &request).await
}

#[tokio::test]
async fn the_app_gets_a_token_for_the_api_with_its_roles() {
    let f = Fixture::new().await;
    let response = grant(&f, API).await.unwrap();
    assert_eq!(response.token_type, "Bearer");
    assert_eq!(response.expires_in, 3600);
    assert!(response.refresh_token.is_none() && response.id_token.is_none());
    let c = claims(&response.access_token);
    assert_eq!(c["aud"], API);
    assert_eq!(c["sub"], WEB);
    assert_eq!(c["client_id"], WEB);
    assert_eq!(c["iss"], ISSUER);
    assert_eq!(c["roles"], serde_json::json!(["Reader"]));
    assert_eq!(c["exp"], f.now().unix_timestamp() + 3600);
    assert_eq!(c["tid"], f.tenant.id.to_string());
}

#[tokio::test]
async fn an_api_the_app_was_not_granted_or_that_is_gone_is_invalid() {
    let f = Fixture::new().await;
    assert_refused(
        grant(&f, "https://other.contoso.test").await,
        ErrorName::InvalidResource,
        API,
    );
    // The API was deleted after the app was granted it.
    let (object, _) = read::get::<Api>(f.store.as_ref(), f.tenant.id, ObjectKind::Api, API)
        .await
        .unwrap()
        .unwrap();
    f.store
        .apply(vec![Write::Delete {
            tenant_id: f.tenant.id,
            kind: ObjectKind::Api,
            id: object.id,
        }])
        .await
        .unwrap();
    assert_eq!(refused(grant(&f, API).await), ErrorName::InvalidResource);
}

#[tokio::test]
async fn without_an_active_key_the_failure_is_internal() {
    let f = Fixture::new().await;
    *f.services.signer.lock().unwrap() = None;
    assert_eq!(refused(grant(&f, API).await), ErrorName::InternalError);
}

/// The API's registered algorithm signs its tokens; RS256 when it registered none. The
/// app's `id_token_signed_response_alg` is about ID tokens and does not enter.
#[tokio::test]
async fn the_token_is_signed_with_the_apis_algorithm() {
    let f = Fixture::new().await;
    f.change::<App>(ObjectKind::App, WEB, |app| {
        app.id_token_signed_response_alg = Some(SigningAlg::ES256);
    })
    .await;
    grant(&f, API).await.unwrap();
    f.change::<Api>(ObjectKind::Api, API, |api| {
        api.access_token_signing_alg = Some(SigningAlg::EdDSA);
    })
    .await;
    grant(&f, API).await.unwrap();
    assert_eq!(
        *f.services.algs_asked.lock().unwrap(),
        [SigningAlg::RS256, SigningAlg::EdDSA]
    );
}
