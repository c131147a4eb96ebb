//! `/{t}/oauth2/token` (RFC 6749 §3.2): strict form parsing, client authentication,
//! dispatch by grant type, and one renderer for success and failure. Every response
//! carries `Cache-Control: no-store` (§5.1).

mod authorization_code;
pub(crate) mod client_auth;
mod client_credentials;
pub mod issue;
pub(crate) mod refresh_token;

use super::form;
use crate::error_response::ErrorResponse;
use crate::state::AppState;
use crate::tenant_path::ResolvedTenant;
use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use tessera_core::directory::model::{App, GrantType};
use tessera_core::errors::{CatalogError, ErrorName};
use tessera_core::oauth::params::Params;
use tessera_core::tenant::Tenant;

/// Grants this endpoint serves so far.
const SUPPORTED: &str = "authorization_code, refresh_token, client_credentials";

pub async fn token(
    State(state): State<AppState>,
    ResolvedTenant(tenant): ResolvedTenant,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let (result, app) = handle(&state, &tenant, &headers, &body).await;
    let mut response = match result {
        Ok(body) => {
            let mut r = Json(body).into_response();
            r.headers_mut()
                .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            r.headers_mut()
                .insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
            r
        }
        Err(e) => e.into_response(),
    };
    if let Some(app) = app {
        super::cors::allow_spa_origin(&mut response, &headers, &app);
    }
    response
}

/// Client authentication for the token, introspection and revocation endpoints; a 401
/// after Basic authentication carries the Basic challenge (RFC 6749 §5.2).
async fn authenticate_client(
    state: &AppState,
    tenant: &Tenant,
    headers: &HeaderMap,
    params: &Params,
) -> Result<client_auth::Client, ErrorResponse> {
    client_auth::authenticate(state, tenant, headers, params)
        .await
        .map_err(|failure| {
            let mut e = ErrorResponse::json(failure.error);
            if failure.basic && e.error.entry().status == 401 {
                e.www_authenticate = Some(format!("Basic realm=\"{}\"", tenant.slug.as_str()));
            }
            e
        })
}

/// The strict form and the client it authenticates: the first two steps of the token,
/// revocation and introspection endpoints.
pub(crate) async fn form_and_client(
    state: &AppState,
    tenant: &Tenant,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<(Params, client_auth::Client), ErrorResponse> {
    let params = form(headers, body).map_err(ErrorResponse::json)?;
    let client = authenticate_client(state, tenant, headers, &params).await?;
    Ok((params, client))
}

pub(crate) async fn handle(
    state: &AppState,
    tenant: &Tenant,
    headers: &HeaderMap,
    body: &[u8],
) -> (Result<issue::TokenResponse, ErrorResponse>, Option<App>) {
    let (params, client) = match form_and_client(state, tenant, headers, body).await {
        Ok(v) => v,
        Err(e) => return (Err(e), None),
    };
    let result = grant(state, tenant, headers, &params, &client)
        .await
        .map_err(ErrorResponse::json);
    (result, Some(client.app))
}

async fn grant(
    state: &AppState,
    tenant: &Tenant,
    headers: &HeaderMap,
    params: &Params,
    client: &client_auth::Client,
) -> Result<issue::TokenResponse, CatalogError> {
    let value = params.require("grant_type")?;
    let unsupported = || {
        CatalogError::new(ErrorName::UnsupportedGrantType)
            .with("value", value.chars().take(100).collect::<String>())
            .with("supported", SUPPORTED)
    };
    let grant_type = GrantType::parse(value).ok_or_else(unsupported)?;
    if !client.app.grant_types.contains(&grant_type) {
        return Err(CatalogError::new(ErrorName::UnauthorizedGrantType)
            .with("client_id", client.app.client_id.clone())
            .with("grant_type", grant_type.as_str()));
    }
    match grant_type {
        GrantType::AuthorizationCode => {
            authorization_code::exchange(state, tenant, client, headers, params)
                .await
                .map(|i| i.body)
        }
        GrantType::ClientCredentials => {
            client_credentials::exchange(state, tenant, client, params).await
        }
        GrantType::RefreshToken => refresh_token::exchange(state, tenant, client, params)
            .await
            .map(|i| i.body),
        GrantType::DeviceCode | GrantType::TokenExchange | GrantType::JwtBearer => {
            Err(unsupported())
        }
    }
}
