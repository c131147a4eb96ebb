//! `/{t}/oauth2/introspect` (RFC 7662): for authenticated confidential clients (an API
//! checking a token it received). Anything not currently valid is `{"active": false}`
//! and nothing more (§2.2); active tokens get the standard members. A token is described
//! only to those it concerns (§4: introspection must not become a way to learn about
//! other apps' tokens): an access token to the client it was issued to, to the app that
//! serves its API (`Api::client_id`), and to apps granted the management API's
//! `Tokens.Introspect` role; a refresh token to its own client only. To anyone else it
//! is inactive.

use super::access_token;
use super::token::{context, form_and_client};
use crate::http::error_response::ErrorResponse;
use crate::http::tenant_path::ResolvedTenant;
use crate::runtime::state::AppState;
use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use tessera_core::directory::model::{App, ROLE_TOKENS_INTROSPECT};
use tessera_core::errors::{CatalogError, ErrorName};
use tessera_core::oauth::token::grant::refresh_token;
use tessera_core::tenant::Tenant;

/// Whether the access token with claims `c` concerns `app` (the module's rule).
async fn concerns(
    state: &AppState,
    tenant: &Tenant,
    app: &App,
    c: &serde_json::Map<String, Value>,
) -> Result<bool, CatalogError> {
    let text = |name: &str| c.get(name).and_then(Value::as_str).unwrap_or_default();
    if text("client_id") == app.client_id.as_str()
        || app.has_management_role(ROLE_TOKENS_INTROSPECT)
    {
        return Ok(true);
    }
    let audience = text("aud");
    let apis = super::lookup::apis(state, tenant.id).await?;
    Ok(apis
        .iter()
        .any(|api| api.identifier == audience && api.client_id.as_ref() == Some(&app.client_id)))
}

pub async fn introspect(
    State(state): State<AppState>,
    ResolvedTenant(tenant): ResolvedTenant,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let mut response = match handle(&state, &tenant, &headers, &body).await {
        Ok(v) => Json(v).into_response(),
        Err(e) => e.into_response(),
    };
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

async fn handle(
    state: &AppState,
    tenant: &Tenant,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<Value, ErrorResponse> {
    let (params, app) = form_and_client(state, tenant, headers, body).await?;
    if !app.is_confidential() {
        let mut e = ErrorResponse::json(
            CatalogError::new(ErrorName::ClientAuthenticationRequired)
                .with("endpoint", "introspection")
                .with("client_id", app.client_id.clone()),
        );
        // RFC 9110 §15.5.2: the scheme a confidential client would use.
        e.www_authenticate = Some(super::token::basic_challenge(tenant));
        return Err(e);
    }
    let token = params.require("token").map_err(ErrorResponse::json)?;
    let inactive = json!({ "active": false });
    // Refresh tokens are opaque base64url values, never containing '.', while access
    // tokens are JWTs: the shape says which to look for, so introspecting an access
    // token costs no store read (RFC 7662 §2.1 lets the server find the token its own
    // way; token_type_hint is only a hint).
    if !token.contains('.') {
        // RFC 7662 §2.2: active only while the token could be used by this client: the
        // refresh grant's own check list decides.
        let r = match refresh_token::usable(&context(state, tenant), &app, token).await {
            Ok(r) => r,
            Err(e) if e.entry().status >= 500 => return Err(ErrorResponse::json(e)),
            Err(_) => return Ok(inactive),
        };
        return Ok(json!({
            "active": true,
            "token_type": "refresh_token",
            "client_id": r.client_id,
            "username": r.user,
            "scope": r.scopes.iter().cloned().collect::<Vec<_>>().join(" "),
            "iat": r.issued_at.unix_timestamp(),
            "exp": r.expires_at.unix_timestamp(),
            "iss": state.issuer(tenant.slug.as_str()),
        }));
    }
    let c = match access_token::verify(state, tenant, token).await {
        Ok(c) => c,
        // Tessera could not check it (the store is down): say so, not "inactive".
        Err(e) if e.entry().status >= 500 => return Err(ErrorResponse::json(e)),
        Err(_) => return Ok(inactive),
    };
    if !concerns(state, tenant, &app, &c)
        .await
        .map_err(ErrorResponse::json)?
    {
        return Ok(inactive);
    }
    let mut out = json!({ "active": true, "token_type": "Bearer" });
    for member in [
        "scope",
        "client_id",
        "sub",
        "aud",
        "iss",
        "exp",
        "iat",
        "nbf",
        "jti",
        "roles",
        // RFC 8693 §4.1: the actor of an on-behalf-of token.
        "act",
    ] {
        if let Some(v) = c.get(member) {
            out[member] = v.clone();
        }
    }
    Ok(out)
}
