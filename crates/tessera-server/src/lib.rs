//! Tessera's HTTP server: the axum application ([`app`]), its middleware, error
//! rendering, pages, and the pieces of the `tessera` binary (settings, commands).

pub mod account;
pub mod admin;
pub mod admin_cli;
pub mod bootstrap;
pub mod cache;
pub mod cli;
pub mod context;
pub mod demo;
pub mod directory_files;
pub mod error_response;
pub mod explain;
pub mod extract;
mod limits;
mod log_format;
pub mod logging;
pub mod master_key;
pub mod metrics;
pub mod oauth;
pub mod pages;
pub mod passwords;
pub(crate) mod retry;
pub mod routes;
pub mod serve;
pub mod settings;
pub mod state;
pub mod sweep;
pub mod tenant_path;

pub use state::AppState;

use axum::Router;

/// The whole HTTP application. Tests call this directly, without a socket.
pub fn app(state: AppState) -> Router {
    let routes = if state.demo {
        routes::router().merge(demo::routes())
    } else {
        routes::router()
    };
    with_middleware(routes, state)
}

/// Wraps `routes` in the middleware every request passes through (trace ids, panic
/// capture, logging, metrics, body limit: one layer, [`context::observe`]). Tests use it
/// to mount extra routes.
pub fn with_middleware(routes: Router<AppState>, state: AppState) -> Router {
    routes
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            context::observe,
        ))
        .with_state(state)
}
