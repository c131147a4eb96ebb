//! Argon2id hashing and verification off the async executor, on a bounded pool: each
//! hash at the defaults costs about 20 ms of CPU and 19 MiB, so a flood of sign-ins or
//! password changes queues here instead of stalling every other request
//! (docs/decisions/0012-argon2-worker-pool.md).

use std::panic::{AssertUnwindSafe, catch_unwind, resume_unwind};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use tessera_core::crypto::{PasswordParams, PasswordScratch, hash_password, verify_password_in};
use tessera_core::rng::Rng;
use tessera_core::secret::Secret;
use tokio::sync::oneshot;

/// Work for a hashing thread, given that thread's Argon2 memory.
type Job = Box<dyn FnOnce(&mut PasswordScratch) + Send>;

/// A fixed set of worker threads, one hash at a time each. Dedicated threads rather
/// than tokio's blocking pool: each Argon2id hash allocates its 19 MiB there, and
/// spread over the many blocking-pool threads (which also serve SQLite reads) glibc kept
/// a copy per thread arena: the benchmark saw 1.3 GB resident after a sign-in load.
/// Each worker keeps one Argon2 memory for good (19 MiB at the defaults) and verifies
/// in it, so memory stays at that per worker however many sign-ins run.
/// Workers stop when the last `Passwords` clone is dropped.
#[derive(Clone)]
pub struct Passwords {
    jobs: mpsc::Sender<Job>,
    params: PasswordParams,
}

impl Passwords {
    /// At most `concurrency` hashes run at once (one per core by default); the others
    /// queue.
    pub fn new(concurrency: usize, params: PasswordParams) -> Self {
        let (jobs, queue) = mpsc::channel::<Job>();
        let queue = Arc::new(Mutex::new(queue));
        for i in 0..concurrency.max(1) {
            let queue = queue.clone();
            let worker = move || {
                let mut scratch = PasswordScratch::default();
                loop {
                    // Hold the lock only to take a job; a poisoned lock cannot happen
                    // (jobs run outside it and catch their own panics).
                    let job = match queue.lock().map(|q| q.recv()) {
                        Ok(Ok(job)) => job,
                        _ => return,
                    };
                    job(&mut scratch);
                }
            };
            if let Err(e) = std::thread::Builder::new()
                .name(format!("tessera-argon2-{i}"))
                .spawn(worker)
            {
                // With no worker at all every sign-in would hang: say so loudly.
                tracing::error!(error = %e, "cannot start a password hashing thread");
            }
        }
        Self { jobs, params }
    }

    pub fn params(&self) -> PasswordParams {
        self.params
    }

    pub async fn hash(&self, password: Secret, rng: Arc<dyn Rng>) -> String {
        let params = self.params;
        self.run(move |_| hash_password(&password, params, rng.as_ref()))
            .await
    }

    pub async fn verify(&self, password: Secret, phc: String) -> bool {
        self.run(move |scratch| verify_password_in(&password, &phc, scratch))
            .await
    }

    async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce(&mut PasswordScratch) -> T + Send + 'static,
    ) -> T {
        let (done, result) = oneshot::channel();
        let job: Job = Box::new(move |scratch| {
            let _ = done.send(catch_unwind(AssertUnwindSafe(|| work(scratch))));
        });
        if let Err(mpsc::SendError(job)) = self.jobs.send(job) {
            // No worker could be started (logged in `new`): hash on tokio's blocking
            // pool instead, with fresh memory, rather than fail every sign-in.
            // The job answers through its channel; the task handle is not needed.
            drop(tokio::task::spawn_blocking(move || {
                job(&mut PasswordScratch::default())
            }));
        }
        match result.await {
            Ok(Ok(v)) => v,
            // A panic inside argon2 is a bug; surface it as one rather than hide it.
            Ok(Err(panic)) => resume_unwind(panic),
            // Only if the job was dropped unrun, which neither path does.
            Err(_) => panic!("the password hashing job was dropped"),
        }
    }
}

impl Default for Passwords {
    fn default() -> Self {
        let cores = std::thread::available_parallelism().map_or(2, std::num::NonZeroUsize::get);
        Self::new(cores, PasswordParams::default())
    }
}
