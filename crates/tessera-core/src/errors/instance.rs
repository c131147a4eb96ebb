//! One occurrence of a catalogued error: which entry, the parameters for its message,
//! and internal detail that is logged with the trace id but never sent.

use super::{Entry, ErrorName, template};
use serde::Serialize;

/// A catalogued error as raised by a handler or a grant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CatalogError {
    pub name: ErrorName,
    /// Values for the message's `{placeholders}`.
    pub params: Vec<(&'static str, String)>,
    /// Field-level causes (admin API validation).
    pub fields: Vec<FieldError>,
    /// Seconds after which a retry may succeed (`Retry-After`).
    pub retry_after: Option<u64>,
    /// What went wrong inside, for the log only. Never rendered.
    pub internal: Option<String>,
}

/// One invalid field of an admin API request, with its JSON path.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldError {
    pub field: String,
    pub code: String,
    pub message: String,
}

impl CatalogError {
    pub fn new(name: ErrorName) -> Self {
        Self {
            name,
            params: Vec::new(),
            fields: Vec::new(),
            retry_after: None,
            internal: None,
        }
    }

    /// Sets the value of the message placeholder `{key}`.
    pub fn with(mut self, key: &'static str, value: impl Into<String>) -> Self {
        self.params.push((key, value.into()));
        self
    }

    pub fn with_fields(mut self, fields: Vec<FieldError>) -> Self {
        self.fields = fields;
        self
    }

    /// Sets `Retry-After`, and the message's `{seconds}` when it has one, so the two
    /// always agree.
    pub fn retry_after(mut self, seconds: u64) -> Self {
        self.retry_after = Some(seconds);
        if self.entry().parameters().contains(&"seconds")
            && !self.params.iter().any(|(k, _)| *k == "seconds")
        {
            self.params.push(("seconds", seconds.to_string()));
        }
        self
    }

    /// Attaches detail for the log (a driver error, a panic message). Not sent.
    pub fn internal(mut self, detail: impl Into<String>) -> Self {
        self.internal = Some(detail.into());
        self
    }

    pub fn entry(&self) -> &'static Entry {
        self.name.entry()
    }

    /// The message with its parameters filled in.
    pub fn message(&self) -> String {
        template::fill(self.entry().message, &self.params)
    }
}

impl std::fmt::Display for CatalogError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.entry().code_str(), self.message())
    }
}

impl std::error::Error for CatalogError {}

impl From<ErrorName> for CatalogError {
    fn from(name: ErrorName) -> Self {
        Self::new(name)
    }
}
