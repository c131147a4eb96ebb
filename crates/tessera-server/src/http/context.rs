//! Per-request context and the outermost middleware.
//!
//! [`observe`] gives every request a trace id and a correlation id (the client's
//! `client-request-id`, echoed back, or a generated one), makes them available to error
//! rendering ([`request_context`]), turns a panicking handler into InternalError, and
//! records one log line and the metrics for the request. It never logs query strings or
//! bodies: they can carry codes, tokens and secrets. It also applies the body limit
//! ([`crate::http::limits::buffer_body`]), so every request passes one middleware, not two.

use crate::http::error_response::ErrorResponse;
use crate::http::request_context;
use crate::runtime::state::AppState;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderName, HeaderValue};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use futures_util::FutureExt;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::time::Instant;
use tessera_core::errors::render::ErrorContext;
use tessera_core::errors::{CatalogError, ErrorName};
use tessera_core::trace::{CorrelationId, TraceId};

pub const CLIENT_REQUEST_ID: HeaderName = HeaderName::from_static("client-request-id");
pub const TRACE_ID_HEADER: HeaderName = HeaderName::from_static("x-trace-id");

pub async fn observe(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let started = Instant::now();
    // A client's own id of the request: the header, or (as Microsoft's MSAL libraries
    // also send it) the query parameter of the same name.
    let client_id_header = req
        .headers()
        .get(&CLIENT_REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .and_then(CorrelationId::from_client)
        .or_else(|| {
            let query = req.uri().query()?;
            url::form_urlencoded::parse(query.as_bytes())
                .find(|(name, _)| name == CLIENT_REQUEST_ID.as_str())
                .and_then(|(_, value)| CorrelationId::from_client(&value))
        });
    let echoed = client_id_header.is_some();
    let ctx = Arc::new(ErrorContext {
        trace_id: TraceId::generate(state.rng.as_ref()),
        correlation_id: client_id_header
            .unwrap_or_else(|| CorrelationId::generate(state.rng.as_ref())),
        timestamp: state.clock.now(),
        public_url: state.public_url.clone(),
    });
    let method = req.method().clone();
    let route = req.extensions().get::<MatchedPath>().cloned();
    // A clone of the URI shares its bytes; only the path is ever logged.
    let uri = req.uri().clone();

    let (limit, within) = (state.max_body_bytes, state.body_timeout);
    let handle = async move {
        match crate::http::limits::buffer_body(limit, within, req).await {
            Ok(req) => next.run(req).await,
            Err(refused) => refused,
        }
    };
    let outcome =
        request_context::scope(ctx.clone(), AssertUnwindSafe(handle).catch_unwind()).await;
    let mut response = match outcome {
        Ok(response) => response,
        Err(panic) => {
            let what = panic
                .downcast_ref::<&str>()
                .map(|s| (*s).to_owned())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "non-string panic payload".to_owned());
            let err = CatalogError::new(ErrorName::InternalError)
                .internal(format!("handler panicked: {what}"));
            request_context::sync_scope(ctx.clone(), || ErrorResponse::json(err).into_response())
        }
    };

    let headers = response.headers_mut();
    if let Ok(v) = HeaderValue::from_str(ctx.trace_id.as_str()) {
        headers.insert(TRACE_ID_HEADER, v);
    }
    if let (true, Ok(v)) = (echoed, HeaderValue::from_str(ctx.correlation_id.as_str())) {
        headers.insert(CLIENT_REQUEST_ID, v);
    }

    let status = response.status().as_u16();
    let elapsed = started.elapsed();
    let route = route.as_ref().map_or("unmatched", MatchedPath::as_str);
    state.metrics.record(&method, route, status, elapsed);
    crate::http::logging::request(&crate::http::log_format::RequestLine {
        trace_id: ctx.trace_id.as_str(),
        correlation_id: ctx.correlation_id.as_str(),
        method: method.as_str(),
        path: uri.path(),
        status,
        micros: elapsed.as_micros() as u64,
    });
    response
}
