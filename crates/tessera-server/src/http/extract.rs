//! Extractors whose rejections are catalogued errors. axum's own `Path` and `Query`
//! reject bad input with a bare plain-text 400, and `Query` reads invalid UTF-8 lossily
//! (as U+FFFD) and keeps the last of repeated parameters; these wrap them so every
//! invalid request, those included, gets InvalidRequestFormat with a trace id, in the
//! format the client accepts.

use crate::http::error_response::{ErrorFormat, ErrorResponse};
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderMap, header};
use serde::de::DeserializeOwned;
use tessera_core::errors::{CatalogError, ErrorName};
use tessera_core::oauth::params::Params;

/// Path parameters, or InvalidRequestFormat.
pub struct Path<T>(pub T);

/// Query parameters, or InvalidRequestFormat.
pub struct Query<T>(pub T);

fn invalid(parts: &Parts, detail: &str, rejection: String) -> ErrorResponse {
    let err = CatalogError::new(ErrorName::InvalidRequestFormat)
        .with("detail", detail)
        .internal(rejection);
    ErrorResponse::new(err, ErrorFormat::negotiate(&parts.headers))
}

impl<S, T> FromRequestParts<S> for Path<T>
where
    S: Send + Sync,
    T: DeserializeOwned + Send,
{
    type Rejection = ErrorResponse;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match axum::extract::Path::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Path(value)) => Ok(Self(value)),
            Err(rejection) => Err(invalid(
                parts,
                "the URL path is not valid percent-encoded UTF-8",
                rejection.body_text(),
            )),
        }
    }
}

impl<S, T> FromRequestParts<S> for Query<T>
where
    S: Send + Sync,
    T: DeserializeOwned + Send,
{
    type Rejection = ErrorResponse;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        // axum's Query decodes invalid UTF-8 lossily (into U+FFFD) and keeps the last of
        // repeated parameters: the strict reading comes first and refuses both.
        if let Err(e) = Params::parse(parts.uri.query().unwrap_or_default().as_bytes()) {
            return Err(ErrorResponse::new(
                e,
                ErrorFormat::negotiate(&parts.headers),
            ));
        }
        match axum::extract::Query::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Query(value)) => Ok(Self(value)),
            Err(rejection) => Err(invalid(
                parts,
                "the query string could not be parsed (a parameter repeated, or not valid percent-encoded UTF-8)",
                rejection.body_text(),
            )),
        }
    }
}

/// A form body: `application/x-www-form-urlencoded`, each parameter once (RFC 6749 §3.2).
pub fn form(headers: &HeaderMap, body: &[u8]) -> Result<Params, CatalogError> {
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let media = content_type.split(';').next().unwrap_or_default().trim();
    if !media.eq_ignore_ascii_case("application/x-www-form-urlencoded") {
        return Err(CatalogError::new(ErrorName::UnsupportedMediaType)
            .with("content_type", media.chars().take(64).collect::<String>())
            .with("supported", "application/x-www-form-urlencoded"));
    }
    Params::parse(body)
}
