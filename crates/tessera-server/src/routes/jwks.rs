//! `/{tenant}/discovery/keys`: the tenant's JSON Web Key Set (RFC 7517 §5), so relying
//! parties verify tokens offline. It publishes every key the tenant holds: `next` keys
//! before they sign (so caches already have them at rotation), `active` keys, and
//! `retired` keys until tokens they signed have expired. Public parts only.

use crate::http::error_response::ErrorResponse;
use crate::http::tenant_path::ResolvedTenant;
use crate::oauth::signing;
use crate::runtime::cache::public_document;
use crate::runtime::state::AppState;
use axum::Router;
use axum::extract::State;
use axum::response::Response;
use axum::routing::get;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/{tenant}/discovery/keys", get(jwks))
        // Entra ID's path for the same keys (docs/msal.md).
        .route("/{tenant}/discovery/v2.0/keys", get(jwks))
}

async fn jwks(
    State(state): State<AppState>,
    ResolvedTenant(tenant): ResolvedTenant,
) -> Result<Response, ErrorResponse> {
    public_document(&state, tenant.id, "jwks", || async {
        let mut keys = signing::public_keys(&state, tenant.id).await?;
        // Stable order, so caches and tests see the same document for the same keys.
        keys.sort_by(|a, b| a["kid"].as_str().cmp(&b["kid"].as_str()));
        Ok(serde_json::json!({ "keys": keys }))
    })
    .await
}
