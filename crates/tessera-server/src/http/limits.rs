//! The request body limit (64 KiB by default, `max_body_bytes`). Protocol requests are
//! small forms; anything larger is refused with RequestTooLarge (413) before a handler
//! sees it, whether the client declared the size (`Content-Length`) or streamed it.

use crate::http::error_response::ErrorResponse;
use axum::body::{Body, HttpBody};
use axum::extract::Request;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use http_body_util::BodyExt;
use tessera_core::errors::{CatalogError, ErrorName};

/// The request with its body read into memory, or the error response that refuses it.
/// Called by [`crate::http::context::observe`] (one middleware rather than two: each
/// `from_fn` layer boxes and clones the service behind it on every request).
pub async fn buffer_body(limit: usize, req: Request) -> Result<Request, Response> {
    // Most requests (every GET) carry no body: nothing to read or limit.
    if req.body().is_end_stream() {
        return Ok(req);
    }
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    let format = crate::http::error_response::ErrorFormat::negotiate(req.headers());
    let refuse = || {
        ErrorResponse::new(
            CatalogError::new(ErrorName::RequestTooLarge).with("limit", limit.to_string()),
            format,
        )
        .into_response()
    };
    if declared.is_some_and(|n| n > limit as u64) {
        return Err(refuse());
    }
    // Read the body up to the limit; a streamed body that grows past it is refused the
    // same way. Handlers then get the buffered bytes.
    let (parts, body) = req.into_parts();
    let bytes = match http_body_util::Limited::new(body, limit).collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(e)
            if e.downcast_ref::<http_body_util::LengthLimitError>()
                .is_some() =>
        {
            return Err(refuse());
        }
        Err(e) => {
            let err = CatalogError::new(ErrorName::InvalidRequestFormat)
                .with("detail", "the request body could not be read")
                .internal(e.to_string());
            return Err(ErrorResponse::new(err, format).into_response());
        }
    };
    Ok(Request::from_parts(parts, Body::from(bytes)))
}
