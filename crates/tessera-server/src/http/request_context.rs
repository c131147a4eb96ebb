//! The current request's trace id, correlation id and time, for whatever renders an
//! error or a page during it: a task-local that `context::observe` sets around each
//! request. A leaf module, so error rendering and pages can read it without depending
//! on the middleware.

use std::sync::Arc;
use tessera_core::errors::render::ErrorContext;
use tessera_core::trace::{CorrelationId, TraceId};

tokio::task_local! {
    // Shared, not cloned per request: only an error rendering reads it.
    static CONTEXT: Arc<ErrorContext>;
}

/// The current request's context. Outside a request (a CLI command, a test calling a
/// renderer directly) it is a fresh one.
pub fn current() -> ErrorContext {
    CONTEXT
        .try_with(|c| ErrorContext::clone(c))
        .unwrap_or_else(|_| {
            let rng = tessera_core::rng::OsRng;
            ErrorContext {
                trace_id: TraceId::generate(&rng),
                correlation_id: CorrelationId::generate(&rng),
                timestamp: tessera_core::clock::Clock::now(&tessera_core::clock::SystemClock),
                public_url: Arc::from(""),
            }
        })
}

/// `fut` with `ctx` as the current request's context. tokio's own scoped future, not
/// an `async fn` around it: a wrapper would move the whole request's future once more.
pub fn scope<F: Future>(
    ctx: Arc<ErrorContext>,
    fut: F,
) -> tokio::task::futures::TaskLocalFuture<Arc<ErrorContext>, F> {
    CONTEXT.scope(ctx, fut)
}

/// Runs `f` with `ctx` as the current request's context (outside the request's task).
pub fn sync_scope<R>(ctx: Arc<ErrorContext>, f: impl FnOnce() -> R) -> R {
    CONTEXT.sync_scope(ctx, f)
}
