//! `/{t}/oauth2/revoke` (RFC 7009). A refresh token revokes its whole family; an access
//! token goes on the deny-list by `jti` until it expires (UserInfo and introspection
//! consult it). Unknown, malformed or already invalid tokens answer 200 like success
//! (§2.2), so the endpoint tells nothing about tokens it does not hold for the caller.

use super::token::form_and_client;
use super::{access_token, lookup};
use crate::http::error_response::ErrorResponse;
use crate::http::tenant_path::ResolvedTenant;
use crate::runtime::state::AppState;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use tessera_core::directory::model::App;
use tessera_core::errors::{CatalogError, ErrorName};
use tessera_core::oauth::params::Params;
use tessera_core::oauth::records::RefreshToken;
use tessera_core::oauth::token::family::revoke_family;
use tessera_core::store::object::ObjectKind;
use tessera_core::tenant::Tenant;

pub async fn revoke(
    State(state): State<AppState>,
    ResolvedTenant(tenant): ResolvedTenant,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let (result, app) = handle(&state, &tenant, &headers, &body).await;
    let mut response = match result {
        Ok(()) => StatusCode::OK.into_response(),
        Err(e) => e.into_response(),
    };
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    // A browser app signing out revokes its own tokens cross-origin.
    if let Some(app) = app {
        super::cors::allow_spa_origin(&mut response, &headers, &app);
    }
    response
}

/// The outcome, and the app once the client is identified (for CORS).
async fn handle(
    state: &AppState,
    tenant: &Tenant,
    headers: &HeaderMap,
    body: &[u8],
) -> (Result<(), ErrorResponse>, Option<App>) {
    let (params, app) = match form_and_client(state, tenant, headers, body).await {
        Ok(v) => v,
        Err(e) => return (Err(e), None),
    };
    let result = revoke_token(state, tenant, &params, &app).await;
    (result, Some(app))
}

async fn revoke_token(
    state: &AppState,
    tenant: &Tenant,
    params: &Params,
    app: &App,
) -> Result<(), ErrorResponse> {
    let token = params.require("token").map_err(ErrorResponse::json)?;
    match params.get("token_type_hint") {
        None | Some("refresh_token" | "access_token") => {}
        // §2.2.1: a hint the server does not know of.
        Some(other) => {
            return Err(ErrorResponse::json(
                CatalogError::new(ErrorName::UnsupportedTokenType)
                    .with("token_type", other.chars().take(64).collect::<String>())
                    .with("supported", "refresh_token, access_token"),
            ));
        }
    }
    // The hint only orders the lookups (§2.1); both kinds are tried.
    let stored = match RefreshToken::open(&state.master, tenant.id, token) {
        Some((id, _)) => lookup::get::<RefreshToken>(
            state,
            tenant.id,
            ObjectKind::RefreshToken,
            &RefreshToken::id_key(id),
        )
        .await
        .map_err(ErrorResponse::json)?,
        None => None,
    };
    if let Some((_, record)) = stored {
        // §2.1: a token issued to another client is refused.
        if record.client_id != app.client_id {
            return Err(ErrorResponse::json(
                CatalogError::new(ErrorName::RefreshTokenClientMismatch)
                    .with("client_id", app.client_id.clone()),
            ));
        }
        let reason = "revoked by the client";
        return revoke_family(
            state.store.as_ref(),
            state.clock.now(),
            tenant.id,
            &record,
            reason,
            tokio::time::sleep,
        )
        .await
        .map_err(ErrorResponse::json);
    }
    let claims = match access_token::verify(state, tenant, token).await {
        Ok(c) => c,
        // A store failure must not answer 200 as if the token were revoked.
        Err(e) if e.entry().status >= 500 => return Err(ErrorResponse::json(e)),
        // Not a valid access token of this tenant: nothing to revoke (RFC 7009 §2.2).
        Err(_) => return Ok(()),
    };
    // Only the client the token was issued to may revoke it; for others it stays as is
    // and the answer is the same 200 (nothing learned about another client's token).
    if claims.get("client_id").and_then(|v| v.as_str()) != Some(app.client_id.as_str()) {
        return Ok(());
    }
    let (Some(jti), Some(exp)) = (
        claims.get("jti").and_then(|v| v.as_str()),
        claims.get("exp").and_then(serde_json::Value::as_i64),
    ) else {
        return Ok(());
    };
    let expires_at = time::OffsetDateTime::from_unix_timestamp(exp).map_err(|e| {
        ErrorResponse::json(CatalogError::new(ErrorName::InternalError).internal(e.to_string()))
    })?;
    access_token::deny(state, tenant, jti, expires_at, "revoked by the client")
        .await
        .map_err(ErrorResponse::json)
}
