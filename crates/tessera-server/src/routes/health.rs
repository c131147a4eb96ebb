//! Liveness (`/healthz`), readiness (`/readyz`: the store answers) and Prometheus
//! metrics (`/metrics`), for load balancers and monitoring.

use crate::http::error_response::{ErrorResponse, store_error};
use crate::runtime::state::AppState;
use axum::Router;
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use std::time::Duration;
use tessera_core::errors::{CatalogError, ErrorName};

/// How long readiness waits for the store before calling it unreachable.
const READY_TIMEOUT: Duration = Duration::from_secs(2);

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
}

async fn healthz() -> impl IntoResponse {
    (
        [(header::CACHE_CONTROL, "no-store")],
        axum::Json(serde_json::json!({ "status": "ok" })),
    )
}

async fn readyz(State(state): State<AppState>) -> Response {
    let outcome = tokio::time::timeout(READY_TIMEOUT, state.store.ping()).await;
    let err = match outcome {
        Ok(Ok(())) => {
            return (
                [(header::CACHE_CONTROL, "no-store")],
                axum::Json(
                    serde_json::json!({ "status": "ready", "store": state.store.backend() }),
                ),
            )
                .into_response();
        }
        Ok(Err(e)) => store_error(e),
        Err(_) => CatalogError::new(ErrorName::TemporarilyUnavailable)
            .internal(format!("store ping timed out after {READY_TIMEOUT:?}")),
    };
    // Readiness failing is always "unavailable", whatever the store said.
    let err = CatalogError {
        name: ErrorName::TemporarilyUnavailable,
        ..err
    }
    .retry_after(5);
    ErrorResponse::json(err).into_response()
}

async fn metrics(State(state): State<AppState>) -> impl IntoResponse {
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        state.metrics.render(),
    )
}
