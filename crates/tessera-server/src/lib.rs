//! Tessera's HTTP server and the `tessera` binary, by role: `cli/` (commands and
//! settings), `http/` (middleware, errors, extractors, logs, metrics), `runtime/`
//! (state, caches, pools, background work), and the routes: `oauth/` (the protocol
//! endpoints), `admin/` (the admin API), `account/` and `pages/` (HTML), `routes/`
//! (health, catalogue, JWKS, assets, the demo). [`app`] builds the whole application.

pub mod account;
pub mod admin;
pub mod cli;
pub mod http;
pub mod oauth;
pub mod pages;
pub mod routes;
pub mod runtime;

pub use runtime::state::AppState;

use axum::Router;

/// The whole HTTP application. Tests call this directly, without a socket.
pub fn app(state: AppState) -> Router {
    let routes = if state.demo {
        routes::router().merge(routes::demo::routes())
    } else {
        routes::router()
    };
    with_middleware(routes, state)
}

/// Wraps `routes` in the middleware every request passes through (trace ids, panic
/// capture, logging, metrics, body limit: one layer, [`http::context::observe`]). Tests use it
/// to mount extra routes.
pub fn with_middleware(routes: Router<AppState>, state: AppState) -> Router {
    routes
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            http::context::observe,
        ))
        .with_state(state)
}
