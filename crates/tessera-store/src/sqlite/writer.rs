//! The single SQLite writer thread with group commit.
//!
//! Callers send a job; the thread takes every job waiting (up to [`MAX_BATCH`]), runs
//! them in one `BEGIN IMMEDIATE … COMMIT`, each inside its own savepoint so one job's
//! failure rolls back only that job, and answers each caller after the commit. One fsync
//! then covers many writes, which is what makes synchronous=FULL affordable.

use super::map_err;
use rusqlite::Connection;
use tessera_core::store::{StoreError, StoreResult};
use tokio::sync::{mpsc, oneshot};

const MAX_BATCH: usize = 128;

/// Called after the batch's commit with its outcome; forwards the job's own result.
type Finish = Box<dyn FnOnce(StoreResult<()>) + Send>;
/// Runs a job's SQL (or, given the reason it cannot run, skips it); returns whether it
/// succeeded and how to answer its caller.
type Job = Box<dyn FnOnce(Result<&Connection, StoreError>) -> (bool, Finish) + Send>;

pub struct Writer {
    jobs: mpsc::UnboundedSender<Job>,
}

impl Writer {
    pub fn start(conn: Connection) -> StoreResult<Self> {
        let (tx, rx) = mpsc::unbounded_channel();
        std::thread::Builder::new()
            .name("tessera-sqlite-writer".into())
            .spawn(move || run(conn, rx))
            .map_err(|e| StoreError::Internal(format!("cannot start the writer thread: {e}")))?;
        Ok(Self { jobs: tx })
    }

    pub async fn submit<T, F>(&self, f: F) -> StoreResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> StoreResult<T> + Send + 'static,
    {
        let (reply, answer) = oneshot::channel();
        let job: Job = Box::new(move |conn| {
            let result = conn.and_then(f);
            let ok = result.is_ok();
            let finish: Finish = Box::new(move |commit| {
                let _ = reply.send(commit.and(result));
            });
            (ok, finish)
        });
        self.jobs
            .send(job)
            .map_err(|_| StoreError::Unavailable("the SQLite writer has stopped".into()))?;
        answer
            .await
            .map_err(|_| StoreError::Internal("the SQLite writer dropped a write".into()))?
    }
}

fn run(mut conn: Connection, mut rx: mpsc::UnboundedReceiver<Job>) {
    while let Some(first) = rx.blocking_recv() {
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        commit_batch(&mut conn, batch);
    }
}

fn commit_batch(conn: &mut Connection, batch: Vec<Job>) {
    let tx = match conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate) {
        Ok(tx) => tx,
        Err(e) => {
            let err = map_err(e);
            for job in batch {
                let (_, finish) = job(Err(err.clone()));
                finish(Ok(()));
            }
            return;
        }
    };
    let mut finishers = Vec::with_capacity(batch.len());
    for job in batch {
        let step = tx.execute_batch("SAVEPOINT job").map_err(map_err);
        if let Err(e) = step {
            finishers.push(job(Err(e)).1);
            continue;
        }
        // A panicking job must not take the writer thread (and every later write) down:
        // its savepoint is rolled back and its caller, whose reply sender unwound with
        // it, sees an internal error.
        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| job(Ok(&*tx))));
        let (ok, finish) = match outcome {
            Ok((ok, finish)) => (ok, Some(finish)),
            Err(_) => {
                tracing::error!("a SQLite write job panicked; it was rolled back");
                (false, None)
            }
        };
        let end = if ok {
            "RELEASE job"
        } else {
            "ROLLBACK TO job; RELEASE job"
        };
        if let Err(e) = tx.execute_batch(end).map_err(map_err) {
            tracing::error!(error = %e, "SQLite savepoint could not be closed");
        }
        finishers.extend(finish);
    }
    let outcome = tx.commit().map_err(map_err);
    for finish in finishers {
        finish(outcome.clone());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_panicking_job_fails_alone_and_the_writer_keeps_going() {
        let conn = Connection::open_in_memory().unwrap();
        conn.execute_batch("CREATE TABLE t (v INTEGER)").unwrap();
        let writer = Writer::start(conn).unwrap();
        let boom: StoreResult<()> = writer
            .submit(|c| {
                c.execute("INSERT INTO t VALUES (1)", []).map_err(map_err)?;
                panic!("bug in a job");
            })
            .await;
        assert!(matches!(boom, Err(StoreError::Internal(_))));
        let count: i64 = writer
            .submit(|c| {
                c.execute("INSERT INTO t VALUES (2)", []).map_err(map_err)?;
                c.query_row("SELECT count(*) FROM t", [], |r| r.get(0))
                    .map_err(map_err)
            })
            .await
            .unwrap();
        assert_eq!(count, 1, "the panicking job's insert was rolled back");
    }
}
