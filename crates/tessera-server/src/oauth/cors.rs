//! CORS (the Fetch standard's CORS protocol) for the endpoints a single-page app calls
//! from the browser: token, revocation and UserInfo. A preflight is granted only to an
//! origin of some app's registered `spa` redirect URI in the tenant (which app will
//! call is not known before the request itself); a response may be read by an origin
//! only when it is one of the calling app's own. Never a wildcard, never a reflected
//! origin, never with credentials, since these endpoints authenticate by what the
//! request carries (client_id, PKCE, a bearer token), not by cookies. Discovery and
//! JWKS, public documents that browser apps fetch before they know anything else, allow
//! every origin (`crate::runtime::cache::public_document`).

use crate::http::tenant_path::ResolvedTenant;
use crate::runtime::state::AppState;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use tessera_core::directory::model::App;
use tessera_core::tenant::Tenant;

/// Request headers a browser may send cross-origin beside the CORS-safelisted ones: a
/// bearer token (UserInfo), a form or JSON content type, the correlation id
/// (`client-request-id`, which Tessera echoes back as part of its documented interface)
/// and what Microsoft's MSAL.js clients send beside it (`return-client-request-id`,
/// `x-anchormailbox`).
const ALLOWED_HEADERS: &str =
    "authorization, content-type, client-request-id, return-client-request-id, x-anchormailbox";
/// Response headers a page's script may read: the challenge of a refused bearer token
/// (RFC 6750 §3), the trace and correlation ids, and when to try again.
const EXPOSED_HEADERS: &str = "www-authenticate, x-trace-id, client-request-id, retry-after";
/// How long a browser may cache a preflight's answer, in seconds.
const PREFLIGHT_MAX_AGE: &str = "600";

/// Lets `app`'s own SPA origins read `response`, when the request came with one.
pub fn allow_spa_origin(response: &mut Response, headers: &HeaderMap, app: &App) {
    let Some(origin) = headers.get(header::ORIGIN).and_then(|o| o.to_str().ok()) else {
        return;
    };
    let registered = tessera_core::oauth::token::browser::spa_origins(app).any(|o| o == origin);
    // The answer depends on the Origin either way, so shared caches must key on it.
    response
        .headers_mut()
        .append(header::VARY, HeaderValue::from_static("Origin"));
    if registered && let Ok(v) = HeaderValue::from_str(origin) {
        let h = response.headers_mut();
        h.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, v);
        h.insert(
            header::ACCESS_CONTROL_EXPOSE_HEADERS,
            HeaderValue::from_static(EXPOSED_HEADERS),
        );
    }
}

/// [`allow_spa_origin`] for the app with this client_id. Looked up only for a request
/// that came with an Origin (a browser's); an app that cannot be read gets no CORS.
pub async fn allow_client_origin(
    state: &AppState,
    tenant: &Tenant,
    response: &mut Response,
    headers: &HeaderMap,
    client_id: &str,
) {
    if !headers.contains_key(header::ORIGIN) {
        return;
    }
    if let Ok(Some(app)) = super::lookup::app(state, tenant, client_id).await {
        allow_spa_origin(response, headers, &app);
    }
}

/// The answer to a preflight (`OPTIONS` with `Access-Control-Request-Method`): granted
/// to an origin of some app's `spa` redirect URI in the tenant, for GET or POST; to any
/// other origin a 204 without CORS headers, which the browser reads as a refusal. The
/// actual response is then readable only by the calling app's own origins
/// ([`allow_spa_origin`]).
pub async fn preflight(
    State(state): State<AppState>,
    ResolvedTenant(tenant): ResolvedTenant,
    headers: HeaderMap,
) -> Response {
    let method_allowed = headers
        .get(header::ACCESS_CONTROL_REQUEST_METHOD)
        .and_then(|m| Method::from_bytes(m.as_bytes()).ok())
        .is_some_and(|m| m == Method::GET || m == Method::POST);
    let origin = headers.get(header::ORIGIN);
    let registered = match origin.and_then(|o| o.to_str().ok()) {
        // An origin the tenant's apps cannot be read for (the store is down) is refused.
        Some(o) if method_allowed => super::lookup::spa_origins(&state, tenant.id)
            .await
            .is_ok_and(|origins| origins.contains(o)),
        _ => false,
    };
    let mut response = StatusCode::NO_CONTENT.into_response();
    let h = response.headers_mut();
    // Whether anything is granted depends on both the origin and the method asked for.
    h.insert(
        header::VARY,
        HeaderValue::from_static("Origin, Access-Control-Request-Method"),
    );
    if let (true, Some(origin)) = (registered, origin) {
        h.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin.clone());
        h.insert(
            header::ACCESS_CONTROL_ALLOW_METHODS,
            HeaderValue::from_static("GET, POST"),
        );
        h.insert(
            header::ACCESS_CONTROL_ALLOW_HEADERS,
            HeaderValue::from_static(ALLOWED_HEADERS),
        );
        h.insert(
            header::ACCESS_CONTROL_MAX_AGE,
            HeaderValue::from_static(PREFLIGHT_MAX_AGE),
        );
    }
    response
}
