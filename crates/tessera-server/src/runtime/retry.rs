//! The core's [`tessera_core::retry::on_conflict`] with tokio's timer as its pause.

use tessera_core::errors::CatalogError;

/// Runs `attempt` until it succeeds, fails other than with a Conflict, or has run
/// `tessera_core::retry::ATTEMPTS` times, sleeping between attempts.
pub async fn on_conflict<T, F, Fut>(attempt: F) -> Result<T, CatalogError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, CatalogError>>,
{
    tessera_core::retry::on_conflict(tokio::time::sleep, attempt).await
}
