//! Requests no route matches: EndpointNotFound (404) and MethodNotAllowed (405), in the
//! format the client accepts.

use crate::http::error_response::{ErrorFormat, ErrorResponse};
use axum::http::{HeaderMap, Method, Uri};
use tessera_core::errors::{CatalogError, ErrorName};

pub async fn not_found(headers: HeaderMap, uri: Uri) -> ErrorResponse {
    let err = CatalogError::new(ErrorName::EndpointNotFound).with("path", uri.path());
    ErrorResponse::new(err, ErrorFormat::negotiate(&headers))
}

pub async fn method_not_allowed(headers: HeaderMap, method: Method, uri: Uri) -> ErrorResponse {
    let err = CatalogError::new(ErrorName::MethodNotAllowed)
        .with("method", method.as_str())
        .with("path", uri.path());
    ErrorResponse::new(err, ErrorFormat::negotiate(&headers))
}
