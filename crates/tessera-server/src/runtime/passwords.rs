//! Argon2id hashing and verification off the async executor, on a bounded pool: each
//! hash at the defaults costs about 20 ms of CPU and 19 MiB, so a flood of sign-ins or
//! password changes queues here instead of stalling every other request
//! (docs/decisions/0012-argon2-worker-pool.md).

use std::collections::VecDeque;
use std::panic::{AssertUnwindSafe, catch_unwind, resume_unwind};
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;
use tessera_core::crypto::{PasswordParams, PasswordScratch, hash_password, verify_password_in};
use tessera_core::rng::Rng;
use tessera_core::secret::Secret;
use tokio::sync::oneshot;

/// Work for a hashing thread, given that thread's Argon2 memory.
type Job = Box<dyn FnOnce(&mut PasswordScratch) + Send>;

/// How long a worker waits for a job before it gives its Argon2 memory back and ends:
/// a server then idles at its base memory after a burst of sign-ins instead of keeping
/// 19 MiB per worker for good. Under load a worker never waits this long, so sign-ins
/// keep reusing their memory; the first hash after an idle period starts a worker and
/// allocates again (a fraction of a millisecond beside the hash's 20 ms).
pub const IDLE_RELEASE: Duration = Duration::from_secs(5);

/// After dropping its memory a worker stays this long more (taking any job that comes)
/// before it ends: mimalloc, the binary's allocator, returns freed memory to the system
/// only after its purge delay (1 s), when a thread frees a page or ends; a thread that
/// ends after the delay has passed purges it (docs/decisions/0019).
const PURGE_WAIT: Duration = Duration::from_millis(1_100);

/// Verifications waiting beyond this many per worker are refused ([`Busy`]) rather than
/// queued: a flood of sign-ins is shed at once with a catalogued 503 (at 20 ms a hash,
/// sixteen waiting is a third of a second), instead of every sign-in waiting longer and
/// the queue growing without bound. Places taken ([`Passwords::try_reserve`]) count as
/// waiting.
pub const QUEUED_PER_WORKER: usize = 16;

/// Puts the calling thread (a hashing worker) under Linux's SCHED_IDLE (sched(7)):
/// it runs when no thread of normal priority (the request handlers) wants the core,
/// and is preempted as soon as one does. A flood of password sign-ins then cannot hold
/// up token requests on a machine whose cores it fills: the hashes wait, their queue
/// fills, and further sign-ins are shed at once ([`Busy`]). Measured with
/// `benches/overload.sh`: docs/decisions/0022-hashing-at-idle-priority.md. Elsewhere, or
/// if the system refuses, the thread keeps its priority.
fn yield_to_requests() {
    #[cfg(target_os = "linux")]
    {
        use thread_priority::unix::{
            NormalThreadSchedulePolicy, ThreadSchedulePolicy, set_thread_priority_and_policy,
            thread_native_id,
        };
        let idle = ThreadSchedulePolicy::Normal(NormalThreadSchedulePolicy::Idle);
        let priority = thread_priority::ThreadPriority::Min;
        if let Err(e) = set_thread_priority_and_policy(thread_native_id(), priority, idle) {
            tracing::debug!(error = ?e, "the hashing worker keeps its priority");
        }
    }
}

/// More hashes wait or are reserved than the pool queues ([`Passwords::try_reserve`]).
#[derive(Debug)]
pub struct Busy;

/// The pool's shared state: the queue, and how many workers run and wait.
struct State {
    jobs: VecDeque<Job>,
    /// Places taken in the queue whose job is not queued yet ([`Reserved`]).
    reserved: usize,
    /// Workers alive.
    live: usize,
    /// Workers waiting for a job.
    idle: usize,
    /// The last `Passwords` was dropped: workers end.
    closed: bool,
}

struct Pool {
    state: Mutex<State>,
    ready: Condvar,
    /// At most this many workers, so at most this many hashes at once.
    max: usize,
    /// [`IDLE_RELEASE`] and [`PURGE_WAIT`] (shorter in tests).
    idle_release: Duration,
    purge_wait: Duration,
}

/// Hashing threads started on demand, at most one per core, one hash at a time each.
/// Dedicated threads rather than tokio's blocking pool: each Argon2id hash allocates its
/// 19 MiB there, and spread over the many blocking-pool threads (which also serve SQLite
/// reads) glibc kept a copy per thread arena: the benchmark saw 1.3 GB resident after a
/// sign-in load. A worker keeps one Argon2 memory while it is busy and verifies in it,
/// so memory stays at 19 MiB per worker however many sign-ins run; after [`IDLE_RELEASE`]
/// without work it frees it and ends (docs/decisions/0012, 0019).
#[derive(Clone)]
pub struct Passwords {
    pool: Arc<Closing>,
    params: PasswordParams,
}

/// Closes the pool when the last `Passwords` goes, which ends the workers.
struct Closing(Arc<Pool>);

impl Drop for Closing {
    fn drop(&mut self) {
        if let Ok(mut state) = self.0.state.lock() {
            state.closed = true;
        }
        self.0.ready.notify_all();
    }
}

/// A worker: jobs one after another in one Argon2 memory, until it has waited
/// [`IDLE_RELEASE`] and then [`PURGE_WAIT`] without one.
fn work(pool: &Pool) {
    yield_to_requests();
    let mut scratch = PasswordScratch::default();
    let mut freed = false;
    // A poisoned lock cannot happen: jobs run outside it and catch their own panics.
    let Ok(mut state) = pool.state.lock() else {
        return;
    };
    loop {
        if let Some(job) = state.jobs.pop_front() {
            drop(state);
            freed = false;
            job(&mut scratch);
            state = match pool.state.lock() {
                Ok(s) => s,
                Err(_) => return,
            };
            continue;
        }
        if state.closed {
            state.live -= 1;
            return;
        }
        let wait = if freed {
            pool.purge_wait
        } else {
            pool.idle_release
        };
        state.idle += 1;
        let (guard, timeout) = match pool.ready.wait_timeout(state, wait) {
            Ok(v) => v,
            Err(_) => return,
        };
        state = guard;
        state.idle -= 1;
        if timeout.timed_out() && state.jobs.is_empty() {
            if freed {
                // Ending now lets mimalloc purge the memory freed a purge delay ago.
                state.live -= 1;
                return;
            }
            scratch = PasswordScratch::default();
            freed = true;
        }
    }
}

impl Passwords {
    /// At most `concurrency` hashes run at once (one per core by default); the others
    /// queue.
    pub fn new(concurrency: usize, params: PasswordParams) -> Self {
        Self::with_idle_times(concurrency, params, IDLE_RELEASE, PURGE_WAIT)
    }

    /// [`Passwords::new`] with other idle times than [`IDLE_RELEASE`] and [`PURGE_WAIT`].
    pub fn with_idle_times(
        concurrency: usize,
        params: PasswordParams,
        idle_release: Duration,
        purge_wait: Duration,
    ) -> Self {
        let pool = Arc::new(Pool {
            state: Mutex::new(State {
                jobs: VecDeque::new(),
                reserved: 0,
                live: 0,
                idle: 0,
                closed: false,
            }),
            ready: Condvar::new(),
            max: concurrency.max(1),
            idle_release,
            purge_wait,
        });
        Self {
            pool: Arc::new(Closing(pool)),
            params,
        }
    }

    /// Queues `job` for a worker, starting one when none waits and fewer than the
    /// maximum run; `Err(job)` when none runs and none could be started. `reserved`: the
    /// job takes a place reserved for it ([`Reserved`]), given up in the same step so
    /// the count of places never dips.
    fn submit(&self, job: Job, reserved: bool) -> Result<(), Job> {
        let pool = &self.pool.0;
        let Ok(mut state) = pool.state.lock() else {
            return Err(job);
        };
        if reserved {
            state.reserved -= 1;
        }
        if state.idle == 0 && state.live < pool.max {
            let worker_pool = pool.clone();
            match std::thread::Builder::new()
                .name("tessera-argon2".to_owned())
                .spawn(move || work(&worker_pool))
            {
                Ok(_) => state.live += 1,
                Err(e) => {
                    tracing::error!(error = %e, "cannot start a password hashing thread");
                    if state.live == 0 {
                        return Err(job);
                    }
                }
            }
        }
        state.jobs.push_back(job);
        drop(state);
        pool.ready.notify_one();
        Ok(())
    }

    /// How many hashing workers are running now.
    pub fn workers(&self) -> usize {
        self.pool.0.state.lock().map_or(0, |s| s.live)
    }

    pub fn params(&self) -> PasswordParams {
        self.params
    }

    pub async fn hash(&self, password: Secret, rng: Arc<dyn Rng>) -> String {
        let params = self.params;
        self.run(move |_| hash_password(&password, params, rng.as_ref()))
            .await
    }

    /// A place in the queue for one verification ([`Reserved::verify`]), unless
    /// [`QUEUED_PER_WORKER`] per worker already wait or are reserved: then [`Busy`] at
    /// once. A sign-in takes its place before it reads anything, so one that would be
    /// shed costs no store read (`oauth::password::authenticate`): under a flood most
    /// are, and what they cost is taken from the token requests sharing the cores.
    pub fn try_reserve(&self) -> Result<Reserved, Busy> {
        let pool = &self.pool.0;
        let Ok(mut state) = pool.state.lock() else {
            return Err(Busy);
        };
        if state.jobs.len() + state.reserved >= pool.max * QUEUED_PER_WORKER {
            return Err(Busy);
        }
        state.reserved += 1;
        Ok(Reserved {
            passwords: self.clone(),
            taken: true,
        })
    }

    async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce(&mut PasswordScratch) -> T + Send + 'static,
    ) -> T {
        self.run_in(work, false).await
    }

    /// Runs `work` on a worker; `reserved`: in a place reserved for it.
    async fn run_in<T: Send + 'static>(
        &self,
        work: impl FnOnce(&mut PasswordScratch) -> T + Send + 'static,
        reserved: bool,
    ) -> T {
        let (done, result) = oneshot::channel();
        let job: Job = Box::new(move |scratch| {
            let _ = done.send(catch_unwind(AssertUnwindSafe(|| work(scratch))));
        });
        if let Err(job) = self.submit(job, reserved) {
            // No worker could be started (logged in `submit`): hash on tokio's blocking
            // pool instead, with fresh memory, rather than fail every sign-in. The job
            // answers through its channel; the task handle is not needed.
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

/// A place in the hashing queue ([`Passwords::try_reserve`]): used by one verification,
/// or given back when dropped unused (a locked account, a store error before the hash).
pub struct Reserved {
    passwords: Passwords,
    /// Not yet used or given back.
    taken: bool,
}

impl Reserved {
    /// Verifies `password` against `phc` in the place reserved.
    pub async fn verify(mut self, password: Secret, phc: String) -> bool {
        self.taken = false;
        self.passwords
            .run_in(
                move |scratch| verify_password_in(&password, &phc, scratch),
                true,
            )
            .await
    }
}

impl Drop for Reserved {
    fn drop(&mut self) {
        if self.taken
            && let Ok(mut state) = self.passwords.pool.0.state.lock()
        {
            state.reserved -= 1;
        }
    }
}

impl Default for Passwords {
    fn default() -> Self {
        let cores = std::thread::available_parallelism().map_or(2, std::num::NonZeroUsize::get);
        Self::new(cores, PasswordParams::default())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tessera_core::rng::SequenceRng;

    const CHEAP: PasswordParams = PasswordParams {
        memory_kib: 1024,
        iterations: 1,
        parallelism: 1,
    };

    /// The workers hash at idle priority, so a flood of sign-ins leaves the cores to
    /// the request handlers (decision 0022).
    #[cfg(target_os = "linux")]
    #[tokio::test]
    async fn workers_hash_at_idle_priority() {
        use thread_priority::unix::{
            NormalThreadSchedulePolicy, ThreadSchedulePolicy, thread_schedule_policy,
        };
        let passwords = Passwords::new(1, CHEAP);
        let policy = passwords.run(|_| thread_schedule_policy()).await;
        assert_eq!(
            policy.unwrap(),
            ThreadSchedulePolicy::Normal(NormalThreadSchedulePolicy::Idle)
        );
        // The request handlers' threads are untouched.
        assert_eq!(
            thread_schedule_policy().unwrap(),
            ThreadSchedulePolicy::Normal(NormalThreadSchedulePolicy::Other)
        );
    }

    async fn until(what: &str, check: impl Fn() -> bool) {
        for _ in 0..200 {
            if check() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        panic!("never: {what}");
    }

    /// Verifies as a sign-in does: a place in the queue, then the hash.
    async fn verify(p: &Passwords, password: &str, phc: String) -> bool {
        let place = p.try_reserve().expect("a place in the queue");
        place.verify(Secret::new(password), phc).await
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn workers_start_on_demand_end_when_idle_and_start_again() {
        let p = Passwords::with_idle_times(
            2,
            CHEAP,
            Duration::from_millis(50),
            Duration::from_millis(20),
        );
        assert_eq!(p.workers(), 0, "none before the first hash");
        let hash = p
            .hash(Secret::new("pw"), Arc::new(SequenceRng::new(1)))
            .await;
        assert!(verify(&p, "pw", hash.clone()).await);
        assert!(!verify(&p, "nope", hash.clone()).await);
        // One request at a time: one worker, or two when a request came while the first
        // was between its answer and its next wait.
        assert!((1..=2).contains(&p.workers()));
        until("the idle worker ends", || p.workers() == 0).await;
        // Eight at once: at most two workers, every answer right.
        let all = (0..8).map(|i| {
            let (p, hash) = (p.clone(), hash.clone());
            async move { verify(&p, if i % 2 == 0 { "pw" } else { "x" }, hash).await }
        });
        let answers = futures_util::future::join_all(all).await;
        assert_eq!(
            answers,
            [true, false, true, false, true, false, true, false]
        );
        assert!(p.workers() <= 2);
        until("both end", || p.workers() == 0).await;
    }

    /// With its one worker held and the queue full (places reserved count), a
    /// verification is refused at once; a place given back unused is free again; once
    /// the worker is free, verifications run again.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_full_queue_refuses_verifications() {
        let p =
            Passwords::with_idle_times(1, CHEAP, Duration::from_secs(60), Duration::from_secs(60));
        let hash = p
            .hash(Secret::new("pw"), Arc::new(SequenceRng::new(1)))
            .await;
        let (release, held) = std::sync::mpsc::channel::<()>();
        let blocker = tokio::spawn({
            let p = p.clone();
            async move {
                p.run(move |_| {
                    let _ = held.recv();
                })
                .await
            }
        });
        until("the worker is held", || {
            p.pool
                .0
                .state
                .lock()
                .is_ok_and(|s| s.jobs.is_empty() && s.idle == 0 && s.live == 1)
        })
        .await;
        let waiting: Vec<_> = (0..QUEUED_PER_WORKER - 1)
            .map(|_| {
                tokio::spawn({
                    let (p, hash) = (p.clone(), hash.clone());
                    async move { verify(&p, "pw", hash).await }
                })
            })
            .collect();
        until("all but one place taken", || {
            p.pool.0.state.lock().map_or(0, |s| s.jobs.len()) == QUEUED_PER_WORKER - 1
        })
        .await;
        let last = p.try_reserve().expect("the last place");
        assert!(p.try_reserve().is_err(), "the queue is full");
        drop(last);
        let last = p.try_reserve().expect("the place given back");
        assert!(p.try_reserve().is_err(), "full again");
        let queued = tokio::spawn({
            let hash = hash.clone();
            async move { last.verify(Secret::new("pw"), hash).await }
        });
        until("the reserved job is queued", || {
            p.pool
                .0
                .state
                .lock()
                .is_ok_and(|s| s.jobs.len() == QUEUED_PER_WORKER && s.reserved == 0)
        })
        .await;
        assert!(p.try_reserve().is_err(), "a queued job keeps its place");
        release.send(()).unwrap();
        blocker.await.unwrap();
        for w in waiting {
            assert!(w.await.unwrap());
        }
        assert!(queued.await.unwrap());
        let place = p.try_reserve().expect("room again");
        assert!(!place.verify(Secret::new("nope"), hash).await);
        assert_eq!(p.pool.0.state.lock().map(|s| s.reserved).unwrap(), 0);
    }

    #[tokio::test]
    async fn dropping_the_last_handle_ends_the_workers() {
        let p =
            Passwords::with_idle_times(1, CHEAP, Duration::from_secs(60), Duration::from_secs(60));
        let hash = p
            .hash(Secret::new("pw"), Arc::new(SequenceRng::new(1)))
            .await;
        let pool = p.pool.0.clone();
        assert!(verify(&p, "pw", hash).await);
        drop(p);
        until("the worker ends", || {
            pool.state.lock().map_or(0, |s| s.live) == 0
        })
        .await;
    }
}
