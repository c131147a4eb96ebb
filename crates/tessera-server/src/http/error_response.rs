//! The one place a [`CatalogError`] becomes an HTTP response, in the format the endpoint
//! speaks: OAuth JSON (protocol endpoints), RFC 9457 problem+json (admin API), an HTML
//! error page (browser-facing pages), or whichever the client's `Accept` prefers.
//! Internal detail is logged here with the trace id and never sent.

use crate::http::request_context;
use crate::pages;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use tessera_core::errors::CatalogError;
use tessera_core::errors::render::{at_token_endpoint, oauth_json, oauth_json_as, problem_json};

/// How an error is rendered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorFormat {
    /// `application/json` in the OAuth shape: RFC 6749 §5.2 extended with `error_codes`,
    /// `error_uri`, `timestamp`, `trace_id` and `correlation_id`.
    OAuthJson,
    /// [`ErrorFormat::OAuthJson`] with only the error values the token endpoint may use
    /// (`tessera_core::errors::render::at_token_endpoint`): the token and device
    /// authorization endpoints.
    TokenJson,
    /// `application/problem+json` (RFC 9457).
    Problem,
    /// An HTML error page.
    Page,
}

impl ErrorFormat {
    /// HTML for a browser that asks for it, OAuth JSON otherwise.
    pub fn negotiate(headers: &HeaderMap) -> Self {
        if prefers_html(headers) {
            ErrorFormat::Page
        } else {
            ErrorFormat::OAuthJson
        }
    }
}

/// Whether the `Accept` header ranks `text/html` above JSON. A missing header means a
/// program, not a browser.
pub fn prefers_html(headers: &HeaderMap) -> bool {
    let Some(accept) = headers.get(header::ACCEPT).and_then(|v| v.to_str().ok()) else {
        return false;
    };
    let rank = |wanted: &str| {
        accept
            .split(',')
            .filter_map(|part| {
                let mut it = part.split(';');
                let media = it.next()?.trim();
                if media != wanted {
                    return None;
                }
                let q = it
                    .filter_map(|p| p.trim().strip_prefix("q="))
                    .find_map(|q| q.parse::<f32>().ok())
                    .unwrap_or(1.0);
                Some(q)
            })
            .fold(None, |best: Option<f32>, q| {
                Some(best.map_or(q, |b| b.max(q)))
            })
    };
    match (rank("text/html"), rank("application/json")) {
        (Some(h), Some(j)) => h > j,
        (Some(h), None) => h > 0.0,
        _ => false,
    }
}

/// A catalogued error on its way out.
#[derive(Debug)]
pub struct ErrorResponse {
    /// Boxed: handlers return `Result<_, ErrorResponse>` everywhere, and a small error
    /// keeps every `Ok` path small too.
    pub error: Box<CatalogError>,
    pub format: ErrorFormat,
    /// RFC 6750 §3 / RFC 7235 challenge, when the endpoint needs one.
    pub www_authenticate: Option<String>,
}

impl ErrorResponse {
    pub fn new(error: impl Into<CatalogError>, format: ErrorFormat) -> Self {
        Self {
            error: Box::new(error.into()),
            format,
            www_authenticate: None,
        }
    }

    pub fn json(error: impl Into<CatalogError>) -> Self {
        Self::new(error, ErrorFormat::OAuthJson)
    }

    /// At the token and device authorization endpoints.
    pub fn token(error: impl Into<CatalogError>) -> Self {
        Self::new(error, ErrorFormat::TokenJson)
    }

    pub fn problem(error: impl Into<CatalogError>) -> Self {
        Self::new(error, ErrorFormat::Problem)
    }

    pub fn page(error: impl Into<CatalogError>) -> Self {
        Self::new(error, ErrorFormat::Page)
    }
}

impl IntoResponse for ErrorResponse {
    fn into_response(self) -> Response {
        let ctx = request_context::current();
        let entry = self.error.entry();
        let status =
            StatusCode::from_u16(entry.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        log(&self.error, &ctx.trace_id);
        // RFC 9110 §15.5.2: a 401 names an authentication scheme; a page has none to
        // offer (an unknown client on the sign-in page is the request's fault: 400).
        let mut status = match self.format {
            ErrorFormat::Page if status == StatusCode::UNAUTHORIZED => StatusCode::BAD_REQUEST,
            _ => status,
        };
        let mut response = match self.format {
            ErrorFormat::OAuthJson => (
                [(header::CONTENT_TYPE, "application/json")],
                oauth_json(&self.error, &ctx),
            )
                .into_response(),
            ErrorFormat::TokenJson => {
                let (error, code) = at_token_endpoint(&self.error);
                status = StatusCode::from_u16(code).unwrap_or(status);
                (
                    [(header::CONTENT_TYPE, "application/json")],
                    oauth_json_as(&self.error, &ctx, error),
                )
                    .into_response()
            }
            ErrorFormat::Problem => (
                [(header::CONTENT_TYPE, "application/problem+json")],
                problem_json(&self.error, &ctx),
            )
                .into_response(),
            ErrorFormat::Page => pages::error_page(&self.error, &ctx),
        };
        *response.status_mut() = status;
        let headers = response.headers_mut();
        // RFC 6749 §5.1: responses from the token endpoint must not be cached; errors
        // elsewhere are per-request too.
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        headers.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
        if let Some(seconds) = self.error.retry_after {
            headers.insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        if let Some(challenge) = self
            .www_authenticate
            .and_then(|c| HeaderValue::from_str(&c).ok())
        {
            headers.insert(header::WWW_AUTHENTICATE, challenge);
        }
        debug_assert!(
            status != StatusCode::UNAUTHORIZED || headers.contains_key(header::WWW_AUTHENTICATE),
            "a 401 without WWW-Authenticate: {}",
            self.error.entry().name
        );
        response
    }
}

impl From<CatalogError> for ErrorResponse {
    fn from(error: CatalogError) -> Self {
        Self::json(error)
    }
}

fn log(err: &CatalogError, trace_id: &tessera_core::trace::TraceId) {
    let entry = err.entry();
    let internal = err.internal.as_deref().unwrap_or("");
    if entry.status >= 500 {
        tracing::error!(trace_id = %trace_id, code = %entry.code_str(), name = entry.name, internal, "error response");
    } else {
        tracing::info!(trace_id = %trace_id, code = %entry.code_str(), name = entry.name, internal, "error response");
    }
}

/// Maps a store failure to its catalogue entry, keeping the driver's words for the log.
pub fn store_error(e: tessera_core::store::StoreError) -> CatalogError {
    CatalogError::from(e)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn accept(v: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(
            header::ACCEPT,
            HeaderValue::from_str(v).unwrap_or(HeaderValue::from_static("")),
        );
        h
    }

    #[test]
    fn browsers_get_html_and_programs_get_json() {
        assert!(prefers_html(&accept(
            "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
        )));
        assert!(!prefers_html(&accept("application/json")));
        assert!(!prefers_html(&accept("*/*")));
        assert!(!prefers_html(&HeaderMap::new()));
        assert!(!prefers_html(&accept("text/html;q=0.5, application/json")));
        assert!(!prefers_html(&accept("text/html;q=0")));
    }
}
