//! Argon2id hashing and verification off the async executor, on a bounded pool: each
//! hash at the defaults costs about 20 ms of CPU (the figure measured in
//! ../shared/spec/architecture.md) and 19 MiB, so a flood of sign-ins or password changes queues
//! here instead of stalling every other request.

use std::sync::Arc;
use tessera_core::crypto::{PasswordParams, hash_password, verify_password};
use tessera_core::rng::Rng;
use tessera_core::secret::Secret;
use tokio::sync::Semaphore;

#[derive(Clone)]
pub struct Passwords {
    permits: Arc<Semaphore>,
    params: PasswordParams,
}

impl Passwords {
    /// At most `concurrency` hashes run at once (one per core by default).
    pub fn new(concurrency: usize, params: PasswordParams) -> Self {
        Self {
            permits: Arc::new(Semaphore::new(concurrency.max(1))),
            params,
        }
    }

    pub fn params(&self) -> PasswordParams {
        self.params
    }

    pub async fn hash(&self, password: Secret, rng: Arc<dyn Rng>) -> String {
        let params = self.params;
        self.run(move || hash_password(&password, params, rng.as_ref()))
            .await
    }

    pub async fn verify(&self, password: Secret, phc: String) -> bool {
        self.run(move || verify_password(&password, &phc)).await
    }

    async fn run<T: Send + 'static>(&self, work: impl FnOnce() -> T + Send + 'static) -> T {
        // The semaphore is never closed, so acquiring cannot fail.
        let _permit = self.permits.acquire().await;
        match tokio::task::spawn_blocking(work).await {
            Ok(v) => v,
            // A panic inside argon2 is a bug; surface it as one rather than hide it.
            Err(e) => std::panic::resume_unwind(e.into_panic()),
        }
    }
}

impl Default for Passwords {
    fn default() -> Self {
        let cores = std::thread::available_parallelism().map_or(2, std::num::NonZeroUsize::get);
        Self::new(cores, PasswordParams::default())
    }
}
