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
        decode(&bytes).map(AdminJson)
    }
}

/// A JSON body read as `T`; one that does not fit is ValidationFailed naming the field.
pub(crate) fn decode<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ErrorResponse> {
    let de = &mut serde_json::Deserializer::from_slice(bytes);
    serde_path_to_error::deserialize(de).map_err(|e| invalid(vec![field_error("", e)]))
}

/// The field error of a value that does not fit its type, named by JSON pointer under
/// `base` (`""` for the body itself).
fn field_error<E: std::fmt::Display>(base: &str, e: serde_path_to_error::Error<E>) -> FieldError {
    let mut field = base.to_owned();
    for seg in e.path().iter() {
        let seg = seg.to_string();
        let seg = seg.trim_start_matches('.').replace(['[', ']'], "");
        if !seg.is_empty() {
            field.push('/');
            field.push_str(&seg);
        }
    }
    let message = e.inner().to_string();
    let message = message
        .rsplit_once(" at line ")
        .map_or(message.as_str(), |(m, _)| m)
        .to_owned();
    FieldError {
        field: if field.is_empty() { "/".into() } else { field },
        code: ErrorName::ValidationFailed.entry().code_str(),
        message,
    }
}

/// A PATCH of the nested object at `field` (RFC 7396, JSON Merge Patch): `patch`'s
/// members replace `current`'s, members set to `null` return to `default`'s, members it
/// leaves out keep their value; the result read back as `T`. So a client that sends
/// one member of a policy never resets the others. A patch that is not an object, or a
/// result that does not fit `T`, is a field error.
pub fn merge_patch<T: serde::Serialize + DeserializeOwned>(
    field: &str,
    current: &T,
    default: &T,
    patch: &serde_json::Value,
) -> Result<T, FieldError> {
    if !patch.is_object() {
        return Err(FieldError {
            field: field.to_owned(),
            code: ErrorName::ValidationFailed.entry().code_str(),
            message: "must be an object: the members to change (RFC 7396 JSON Merge Patch)".into(),
        });
    }
    let mut merged = serde_json::to_value(current).unwrap_or_default();
    json_patch::merge(&mut merged, patch);
    // Members the patch removed take their default.
    let mut result = serde_json::to_value(default).unwrap_or_default();
    json_patch::merge(&mut result, &merged);
    serde_path_to_error::deserialize(result).map_err(|e| field_error(field, e))
}

/// ValidationFailed with every field error, or `Ok` when there are none.
pub fn check(fields: Vec<FieldError>) -> Result<(), ErrorResponse> {
    if fields.is_empty() {
        return Ok(());
    }
    Err(invalid(fields))
}

/// ValidationFailed with these field errors.
pub fn invalid(fields: Vec<FieldError>) -> ErrorResponse {
    problem(
        CatalogError::new(ErrorName::ValidationFailed)
            .with("count", fields.len().to_string())
            .with_fields(fields),
    )
}
