//! The admin API's JSON body extractor: the body must be JSON, and a body that does not
//! fit the request type is ValidationFailed naming the field by JSON pointer (unknown
//! fields included), never axum's plain-text rejection.

use super::common::problem;
use crate::http::error_response::ErrorResponse;
use axum::extract::{FromRequest, Request};
use axum::http::header;
use serde::de::DeserializeOwned;
use tessera_core::errors::{CatalogError, ErrorName, FieldError};

pub struct AdminJson<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for AdminJson<T> {
    type Rejection = ErrorResponse;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let content_type = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_owned();
        let media = content_type
            .split(';')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase();
        if media != "application/json" && !media.ends_with("+json") {
            return Err(problem(
                CatalogError::new(ErrorName::UnsupportedMediaType).with(
                    "content_type",
                    if content_type.is_empty() {
                        "(none)"
                    } else {
                        content_type.as_str()
                    },
                ),
            ));
        }
        let bytes = axum::body::Bytes::from_request(req, state)
            .await
            .map_err(|e| {
                problem(
                    CatalogError::new(ErrorName::InvalidRequestFormat)
                        .with("detail", "the body could not be read")
                        .internal(e.to_string()),
                )
            })?;
        let de = &mut serde_json::Deserializer::from_slice(&bytes);
        serde_path_to_error::deserialize(de)
            .map(AdminJson)
            .map_err(|e| {
                let mut field = String::new();
                for seg in e.path().iter() {
                    field.push('/');
                    field.push_str(
                        &seg.to_string()
                            .trim_start_matches('.')
                            .replace(['[', ']'], ""),
                    );
                }
                let message = e.inner().to_string();
                let message = message
                    .rsplit_once(" at line ")
                    .map_or(message.as_str(), |(m, _)| m)
                    .to_owned();
                let fe = FieldError {
                    field: if field.is_empty() || field == "/." {
                        "/".into()
                    } else {
                        field
                    },
                    code: ErrorName::ValidationFailed.entry().code_str(),
                    message,
                };
                problem(
                    CatalogError::new(ErrorName::ValidationFailed)
                        .with("count", "1")
                        .with_fields(vec![fe]),
                )
            })
    }
}

/// ValidationFailed with every field error, or `Ok` when there are none.
pub fn check(fields: Vec<FieldError>) -> Result<(), ErrorResponse> {
    if fields.is_empty() {
        return Ok(());
    }
    Err(problem(
        CatalogError::new(ErrorName::ValidationFailed)
            .with("count", fields.len().to_string())
            .with_fields(fields),
    ))
}
