//! `/{tenant}/discovery/keys`: the tenant's JSON Web Key Set (RFC 7517 §5), so relying
//! parties verify tokens offline. It publishes every key the tenant holds: `next` keys
//! before they sign (so caches already have them at rotation), `active` keys, and
//! `retired` keys until tokens they signed have expired. Public parts only.

use crate::cache::Key;
use crate::error_response::ErrorResponse;
use crate::oauth::signing;
use crate::state::AppState;
use crate::tenant_path::ResolvedTenant;
use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::get;

pub fn routes() -> Router<AppState> {
    Router::new().route("/{tenant}/discovery/keys", get(jwks))
}

async fn jwks(
    State(state): State<AppState>,
    ResolvedTenant(tenant): ResolvedTenant,
) -> Result<Response, ErrorResponse> {
    let body = state
        .cache
        .get(Key::Document(tenant.id, "jwks"), || async {
            let mut keys = signing::public_keys(&state, tenant.id).await?;
            // Stable order, so caches and tests see the same document for the same keys.
            keys.sort_by(|a, b| a["kid"].as_str().cmp(&b["kid"].as_str()));
            Ok(Bytes::from(serde_json::json!({ "keys": keys }).to_string()))
        })
        .await
        .map_err(ErrorResponse::json)?;
    Ok((
        // Short enough that a rotation's new `next` key is picked up well before it is
        // promoted; long enough to spare the endpoint under load.
        [
            (header::CACHE_CONTROL, "public, max-age=300"),
            (header::CONTENT_TYPE, "application/json"),
        ],
        Bytes::clone(&body),
    )
        .into_response())
}
