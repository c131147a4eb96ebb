//! `/{tenant}/discovery/keys`: the tenant's JSON Web Key Set (RFC 7517 §5), so relying
//! parties verify tokens offline. It publishes every key the tenant holds: `next` keys
//! before they sign (so caches already have them at rotation), `active` keys, and
//! `retired` keys until tokens they signed have expired. Public parts only.

use crate::error_response::{ErrorResponse, store_error};
use crate::state::AppState;
use crate::tenant_path::ResolvedTenant;
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use tessera_core::directory::object::ObjectKind;
use tessera_core::errors::{CatalogError, ErrorName};
use tessera_core::keys::SigningKey;

pub fn routes() -> Router<AppState> {
    Router::new().route("/{tenant}/discovery/keys", get(jwks))
}

async fn jwks(
    State(state): State<AppState>,
    ResolvedTenant(tenant): ResolvedTenant,
) -> Result<Response, ErrorResponse> {
    let objects = state
        .store
        .objects(tenant.id, ObjectKind::SigningKey)
        .await
        .map_err(|e| ErrorResponse::json(store_error(e)))?;
    let mut keys = objects
        .iter()
        .map(|o| o.decode::<SigningKey>().map(|k| k.public_jwk))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| {
            ErrorResponse::json(CatalogError::new(ErrorName::InternalError).internal(e))
        })?;
    // Stable order, so caches and tests see the same document for the same keys.
    keys.sort_by(|a, b| a["kid"].as_str().cmp(&b["kid"].as_str()));
    Ok((
        // Short enough that a rotation's new `next` key is picked up well before it is
        // promoted; long enough to spare the endpoint under load.
        [(header::CACHE_CONTROL, "public, max-age=300")],
        Json(serde_json::json!({ "keys": keys })),
    )
        .into_response())
}
