//! CORS (the Fetch standard's CORS protocol) for the endpoints a single-page app calls
//! from the browser: token, revocation and UserInfo. A response may be read by an origin
//! only when it is the origin of one of the calling app's registered `spa` redirect
//! URIs: never a wildcard and never with credentials, since these endpoints
//! authenticate by what the request carries (client_id, PKCE, a bearer token), not by
//! cookies. Discovery and JWKS, public documents that browser apps fetch before they
//! know anything else, allow every origin (`crate::runtime::cache::public_document`).

use crate::http::tenant_path::ResolvedTenant;
use crate::runtime::state::AppState;
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
    let registered = app
        .redirect_uris
        .spa
        .iter()
        .filter_map(|u| url::Url::parse(u).ok())
        .any(|u| u.origin().ascii_serialization() == origin);
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
    if let Ok(Some(app)) = super::lookup::app(state, tenant.id, client_id).await {
        allow_spa_origin(response, headers, &app);
    }
}

/// The answer to a preflight (`OPTIONS` with `Access-Control-Request-Method`). Which
/// app will call is not known before the request itself, so any origin may send it; the
/// actual response is readable only by the app's own origins ([`allow_spa_origin`]),
/// and nothing a preflight permits reaches past the request's own authentication.
pub async fn preflight(ResolvedTenant(_): ResolvedTenant, headers: HeaderMap) -> Response {
    let mut response = StatusCode::NO_CONTENT.into_response();
    let h = response.headers_mut();
    // Whether anything is granted depends on both the origin and the method asked for.
    h.insert(
        header::VARY,
        HeaderValue::from_static("Origin, Access-Control-Request-Method"),
    );
    let method_allowed = headers
        .get(header::ACCESS_CONTROL_REQUEST_METHOD)
        .and_then(|m| Method::from_bytes(m.as_bytes()).ok())
        .is_some_and(|m| m == Method::GET || m == Method::POST);
    if let (true, Some(origin)) = (method_allowed, headers.get(header::ORIGIN)) {
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
