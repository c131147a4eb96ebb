//! HTTP plumbing every route shares: the request context and its middleware, error
//! rendering, extractors, body limits, logs, metrics and tenant resolution.

pub mod context;
pub mod error_response;
pub mod extract;
pub(crate) mod limits;
pub(crate) mod log_format;
pub mod logging;
pub mod metrics;
pub mod request_context;
pub mod tenant_path;
