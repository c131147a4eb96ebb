//! HTTP plumbing every route shares: the request context and its middleware, error
//! rendering, extractors, body limits, logs, metrics, tenant resolution, and the
//! catalogued answer to requests hyper refuses before routing.

pub mod client_address;
pub mod context;
pub mod error_response;
pub mod extract;
pub(crate) mod limits;
pub(crate) mod log_format;
pub mod logging;
pub mod malformed;
pub mod metrics;
pub mod request_context;
pub mod serve;
pub mod tenant_path;
pub mod tls;
