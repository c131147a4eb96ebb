//! The request body limits: size (64 KiB by default, `max_body_bytes`) and time (10 s
//! by default, `request_body_timeout_ms`). Protocol requests are small forms; anything
//! larger is refused with RequestTooLarge (413) before a handler sees it, whether the
//! client declared the size (`Content-Length`) or streamed it. A body that has not
//! arrived in time is refused with RequestTimeout (408, RFC 9110 §15.5.9) and the
//! connection closed, so a client trickling a body (slowloris) holds a connection for
//! no longer than that; `http::serve` bounds the time for the header section.

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
pub async fn buffer_body(
    limit: usize,
    within: std::time::Duration,
    req: Request,
) -> Result<Request, Response> {
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
    let read = http_body_util::Limited::new(body, limit).collect();
    let Ok(read) = tokio::time::timeout(within, read).await else {
        let seconds = within.as_secs_f64();
        let err =
            CatalogError::new(ErrorName::RequestTimeout).with("seconds", format!("{seconds}"));
        let mut response = ErrorResponse::new(err, format).into_response();
        // RFC 9110 §15.5.9: the server closes the connection after a 408.
        response.headers_mut().insert(
            header::CONNECTION,
            header::HeaderValue::from_static("close"),
        );
        return Err(response);
    };
    let bytes = match read {
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
