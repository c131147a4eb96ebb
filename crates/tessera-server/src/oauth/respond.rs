//! Authorization responses sent to the client's verified redirect URI: a code and/or
//! tokens on success (RFC 6749 §4.1.2, §4.2.2; OIDC Core §3.2.2.5, §3.3.2.5), or an
//! error (§4.1.2.1), each with `state` and `iss` (RFC 9207), in the `query`,
//! `fragment` or `form_post` response mode.

use crate::pages;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use tessera_core::errors::CatalogError;
use tessera_core::errors::render::{ResponseMode, redirect_location, redirect_params};
use tessera_core::oauth::authorize::VerifiedRedirect;

/// Sends `params` to the redirect URI. 303 See Other after a form POST, so the browser
/// follows with a GET (RFC 9700 §4.11); 302 after the app's own GET.
pub fn to_client(
    redirect: &VerifiedRedirect,
    params: &[(&'static str, String)],
    after_post: bool,
) -> Response {
    match redirect.mode {
        ResponseMode::FormPost => {
            // Like the redirect below: the page carries a code or an error for this one
            // request and must not be cached on the way.
            let mut response = pages::form_post(&redirect.uri, params);
            response
                .headers_mut()
                .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            response
        }
        mode => {
            let location = redirect_location(&redirect.uri, mode, params);
            let status = if after_post {
                StatusCode::SEE_OTHER
            } else {
                StatusCode::FOUND
            };
            let mut response = status.into_response();
            match HeaderValue::from_str(&location) {
                Ok(v) => {
                    response.headers_mut().insert(header::LOCATION, v);
                }
                Err(_) => return internal_page("redirect location is not a header value"),
            }
            response
                .headers_mut()
                .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            response.headers_mut().insert(
                header::REFERRER_POLICY,
                HeaderValue::from_static("no-referrer"),
            );
            response
        }
    }
}

/// A successful response for the client: a code, tokens, or both (`params`).
pub fn success(
    redirect: &VerifiedRedirect,
    mut params: Vec<(&'static str, String)>,
    issuer: &str,
    after_post: bool,
) -> Response {
    if let Some(state) = &redirect.state {
        params.push(("state", state.clone()));
    }
    params.push(("iss", issuer.to_owned()));
    to_client(redirect, &params, after_post)
}

/// An error for the client, logged like every other error response.
pub fn error(
    redirect: &VerifiedRedirect,
    err: &CatalogError,
    issuer: &str,
    after_post: bool,
) -> Response {
    let ctx = logged(err);
    let params = redirect_params(err, &ctx, redirect.state.as_deref(), issuer);
    to_client(redirect, &params, after_post)
}

/// [`error`] from a meta-tenant (`super::meta`), which is no issuer: without `iss`
/// (RFC 9207 §2 names the issuer that made the response, and no tenant did).
pub fn error_without_issuer(
    redirect: &VerifiedRedirect,
    err: &CatalogError,
    after_post: bool,
) -> Response {
    let ctx = logged(err);
    let mut params = redirect_params(err, &ctx, redirect.state.as_deref(), "");
    params.retain(|(name, _)| *name != "iss");
    to_client(redirect, &params, after_post)
}

/// Logs an error sent to the client, like every other error response; its context.
fn logged(err: &CatalogError) -> tessera_core::errors::render::ErrorContext {
    let ctx = crate::http::request_context::current();
    let entry = err.entry();
    tracing::info!(trace_id = %ctx.trace_id, code = %entry.code_str(), name = entry.name,
        internal = err.internal.as_deref().unwrap_or(""), "error redirected to the client");
    ctx
}

/// An error page for a failure that is Tessera's, not the request's.
pub(crate) fn internal_page(detail: &str) -> Response {
    crate::http::error_response::ErrorResponse::page(
        tessera_core::errors::CatalogError::new(tessera_core::errors::ErrorName::InternalError)
            .internal(detail.to_owned()),
    )
    .into_response()
}
