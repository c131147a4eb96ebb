//! The single SQLite writer thread with group commit.
//!
//! Callers send a job; the thread takes every job waiting (up to [`MAX_BATCH`]), runs
//! them in one `BEGIN IMMEDIATE … COMMIT`, each inside its own savepoint so one job's
//! failure rolls back only that job, and answers each caller after the commit. One fsync
//! then covers many writes, which is what makes synchronous=FULL affordable.

use super::map_err;
use rusqlite::Connection;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use tessera_core::store::{StoreError, StoreResult};
use tokio::sync::{mpsc, oneshot};

const MAX_BATCH: usize = 128;

/// Called after the batch's commit with its outcome; forwards the job's own result.
type Finish = Box<dyn FnOnce(StoreResult<()>) + Send>;
/// Runs a job's SQL (or, given the reason it cannot run, skips it); returns how it
/// went and how to answer its caller.
type Job = Box<dyn FnOnce(Result<&Connection, StoreError>) -> (Ran, Finish) + Send>;

/// How a job's SQL went.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Ran {
    Ok,
    /// Refused on its own terms (a conflict, a missing row): the store is fine.
    Refused,
    /// The database could not be written (a full disk, an I/O error, a read-only file).
    Unavailable,
}

pub struct Writer {
    jobs: mpsc::UnboundedSender<Job>,
    /// Whether the last transaction committed. A full disk or a file that can no longer
    /// be written fails commits while reads go on, so readiness asks this, not a read.
    committing: Arc<AtomicBool>,
}

impl Writer {
    pub fn start(conn: Connection) -> StoreResult<Self> {
        let (tx, rx) = mpsc::unbounded_channel();
        let committing = Arc::new(AtomicBool::new(true));
        let flag = committing.clone();
        std::thread::Builder::new()
            .name("tessera-sqlite-writer".into())
            .spawn(move || run(conn, rx, &flag))
            .map_err(|e| StoreError::Internal(format!("cannot start the writer thread: {e}")))?;
        Ok(Self {
            jobs: tx,
            committing,
        })
    }

    /// False from a failed commit until the next one succeeds.
    pub fn committing(&self) -> bool {
        self.committing.load(Ordering::Relaxed)
    }

    pub async fn submit<T, F>(&self, f: F) -> StoreResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> StoreResult<T> + Send + 'static,
    {
        let (reply, answer) = oneshot::channel();
        let job: Job = Box::new(move |conn| {
            let result = conn.and_then(f);
            let ran = match &result {
                Ok(_) => Ran::Ok,
                Err(StoreError::Unavailable(_)) => Ran::Unavailable,
                Err(_) => Ran::Refused,
            };
            let finish: Finish = Box::new(move |commit| {
                let _ = reply.send(commit.and(result));
            });
            (ran, finish)
        });
        self.jobs
            .send(job)
            .map_err(|_| StoreError::Unavailable("the SQLite writer has stopped".into()))?;
        answer
            .await
            .map_err(|_| StoreError::Internal("the SQLite writer dropped a write".into()))?
    }
}

fn run(mut conn: Connection, mut rx: mpsc::UnboundedReceiver<Job>, committing: &AtomicBool) {
    while let Some(first) = rx.blocking_recv() {
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        commit_batch(&mut conn, batch, committing);
    }
}

/// Runs and commits one batch. Before anyone is answered, `committing` says whether
/// it committed with every job able to write.
fn commit_batch(conn: &mut Connection, batch: Vec<Job>, committing: &AtomicBool) {
    let tx = match conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate) {
        Ok(tx) => tx,
        Err(e) => {
            committing.store(false, Ordering::Relaxed);
            refuse(batch, map_err(e));
            return;
        }
    };
    let mut finishers = Vec::with_capacity(batch.len());
    let mut jobs = batch.into_iter();
    // A job that could not write (SQLite reports some I/O failures on the statement,
    // not at COMMIT) makes the batch count as failed for readiness, whatever commits.
    let mut unavailable = false;
    while let Some(job) = jobs.next() {
        let step = tx.execute_batch("SAVEPOINT job").map_err(map_err);
        if let Err(e) = step {
            finishers.push(job(Err(e)).1);
            continue;
        }
        // A panicking job must not take the writer thread (and every later write) down:
        // its savepoint is rolled back and its caller, whose reply sender unwound with
        // it, sees an internal error.
        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| job(Ok(&*tx))));
        let (ran, finish) = match outcome {
            Ok((ran, finish)) => (ran, Some(finish)),
            Err(_) => {
                tracing::error!("a SQLite write job panicked; it was rolled back");
                (Ran::Refused, None)
            }
        };
        unavailable |= ran == Ran::Unavailable;
        let end = if ran == Ran::Ok {
            "RELEASE job"
        } else {
            "ROLLBACK TO job; RELEASE job"
        };
        if let Err(e) = tx.execute_batch(end).map_err(map_err) {
            tracing::error!(error = %e, "SQLite savepoint could not be closed");
        }
        finishers.extend(finish);
        // After some errors (a full disk, an I/O error) SQLite rolls the whole
        // transaction back itself (https://sqlite.org/lang_transaction.html, "Response
        // To Errors Within A Transaction"). The jobs before this one are then undone,
        // and a later SAVEPOINT would open a transaction of its own that RELEASE
        // commits: every job of the batch fails instead, so none is answered
        // otherwise than what happened to it.
        if tx.is_autocommit() {
            let err = StoreError::Unavailable(
                "SQLite rolled the transaction back (disk full or I/O error)".into(),
            );
            committing.store(false, Ordering::Relaxed);
            for finish in finishers {
                finish(Err(err.clone()));
            }
            refuse(jobs.collect(), err);
            return;
        }
    }
    let outcome = tx.commit().map_err(map_err);
    committing.store(outcome.is_ok() && !unavailable, Ordering::Relaxed);
    for finish in finishers {
        finish(outcome.clone());
    }
}

/// Answers every job of `batch` with `err` without running its SQL.
fn refuse(batch: Vec<Job>, err: StoreError) {
    for job in batch {
        let (_, finish) = job(Err(err.clone()));
        finish(Ok(()));
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

    /// A job that fills the database (SQLITE_FULL, here from `max_page_count`) may make
    /// SQLite roll back the whole transaction: whatever it does, each job of the batch
    /// is answered as what happened to its write, and the writer goes on.
    #[tokio::test]
    async fn a_full_database_answers_every_job_of_the_batch_truthfully() {
        let conn = Connection::open_in_memory().unwrap();
        conn.execute_batch("CREATE TABLE t (v BLOB)").unwrap();
        let pages: i64 = conn
            .query_row("PRAGMA page_count", [], |r| r.get(0))
            .unwrap();
        conn.pragma_update(None, "max_page_count", pages + 2)
            .unwrap();
        let writer = Writer::start(conn).unwrap();
        let insert = |value: &'static str| {
            writer.submit(move |c| {
                c.execute(&format!("INSERT INTO t VALUES ({value})"), [])
                    .map_err(map_err)?;
                Ok(())
            })
        };
        // Sent together, so one batch holds all three. After SQLite's own rollback,
        // the third job's savepoint would open (and its release commit) a transaction
        // of its own while the batch's COMMIT fails: a write answered as failed.
        let (small, large, after) = tokio::join!(
            insert("x'01'"),
            insert("zeroblob(1000000)"),
            insert("x'02'")
        );
        assert!(
            matches!(large, Err(StoreError::Unavailable(_))),
            "{large:?}"
        );
        let rows: i64 = writer
            .submit(|c| {
                c.query_row("SELECT count(*) FROM t", [], |r| r.get(0))
                    .map_err(map_err)
            })
            .await
            .unwrap();
        let answered_ok = i64::from(small.is_ok()) + i64::from(after.is_ok());
        assert_eq!(rows, answered_ok, "{small:?} {after:?}");
        assert!(writer.committing());
    }
}
