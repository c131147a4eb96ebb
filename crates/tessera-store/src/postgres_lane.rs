//! The PostgreSQL connections that serve single statements (reads, one write, a batch as
//! one statement): nearly every request's store traffic. Tessera hands them out itself
//! rather than through sqlx's pool, because sqlx 0.8's pool pings every connection as it
//! takes it back (`PoolConnection::return_to_pool`: a `Sync` and its `ReadyForQuery`),
//! a second round trip after every query, which on two cores shared with the database
//! cost as much as the query. Transactions, migrations and the listening connection
//! still use the pool.
//!
//! What the ping guarded against is handled here instead: a connection goes back only
//! when its statement ran to the end, with or without a database error (sqlx then
//! drains the rest of the exchange before the next statement). One whose statement
//! was cut short (a cancelled request, an I/O error) is closed, since it may be out of
//! step with the server, and a connection idle for a while is pinged before reuse.

use sqlx::postgres::{PgConnectOptions, PgConnection};
use sqlx::{ConnectOptions, Connection};
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};
use tokio::sync::{Semaphore, SemaphorePermit};

/// Connections that served a statement recently, most recent last.
pub struct Lane {
    options: PgConnectOptions,
    idle: Mutex<Vec<Idle>>,
    permits: Semaphore,
    acquire_timeout: Duration,
    check_idle_after: Duration,
}

struct Idle {
    conn: PgConnection,
    since: Instant,
}

/// One connection, lent for one statement.
pub struct Lease<'a> {
    lane: &'a Lane,
    /// `None` only after `finish` gave it back.
    conn: Option<PgConnection>,
    _permit: SemaphorePermit<'a>,
}

impl Lane {
    /// At most `size` connections, opened as needed.
    pub fn new(
        options: PgConnectOptions,
        size: usize,
        acquire_timeout: Duration,
        check_idle_after: Duration,
    ) -> Self {
        Self {
            options,
            idle: Mutex::new(Vec::with_capacity(size)),
            permits: Semaphore::new(size),
            acquire_timeout,
            check_idle_after,
        }
    }

    /// A connection: the most recently used one, or a new one. Waits at most the
    /// acquire timeout for one to come free, and as long again for it to be ready
    /// (`PoolTimedOut`, as sqlx's pool says).
    pub async fn acquire(&self) -> Result<Lease<'_>, sqlx::Error> {
        let permit = tokio::time::timeout(self.acquire_timeout, self.permits.acquire())
            .await
            .map_err(|_| sqlx::Error::PoolTimedOut)?
            .map_err(|_| sqlx::Error::PoolClosed)?;
        let idle = self
            .idle
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .pop();
        // Connecting to an unreachable server can hang far longer than a request may.
        let conn = tokio::time::timeout(self.acquire_timeout, self.ready(idle))
            .await
            .map_err(|_| sqlx::Error::PoolTimedOut)??;
        Ok(Lease {
            lane: self,
            conn: Some(conn),
            _permit: permit,
        })
    }

    /// `idle` if it is still usable, else a new connection.
    async fn ready(&self, idle: Option<Idle>) -> Result<PgConnection, sqlx::Error> {
        match idle {
            Some(i) if i.since.elapsed() < self.check_idle_after => Ok(i.conn),
            // A server restart or a proxy may have closed a connection idle this long.
            Some(mut i) => match i.conn.ping().await {
                Ok(()) => Ok(i.conn),
                Err(_) => self.options.connect().await,
            },
            None => self.options.connect().await,
        }
    }

    /// Ends the lane: later acquires fail (`PoolClosed`) and the idle connections are
    /// closed with the protocol's Terminate, so the server sees a client leave rather
    /// than a connection reset (a line in its log per connection, on every restart).
    /// A connection still lent out is dropped when its lease ends.
    pub async fn close(&self) {
        self.permits.close();
        let idle = std::mem::take(&mut *self.idle.lock().unwrap_or_else(PoisonError::into_inner));
        for i in idle {
            // A server that does not answer must not hold up the process's exit.
            let _ = tokio::time::timeout(self.acquire_timeout, i.conn.close()).await;
        }
    }

    /// How many connections wait idle (for tests).
    #[cfg(test)]
    fn idle_count(&self) -> usize {
        self.idle
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .len()
    }
}

impl Lease<'_> {
    pub fn conn(&mut self) -> &mut PgConnection {
        self.conn
            .as_mut()
            .unwrap_or_else(|| unreachable!("a lease holds its connection until finish"))
    }

    /// Ends the lease with its statement's outcome: the connection goes back when the
    /// exchange with the server completed (success, or an error the server reported);
    /// otherwise it is closed by dropping it.
    pub fn finish<T>(mut self, outcome: Result<T, sqlx::Error>) -> Result<T, sqlx::Error> {
        if matches!(&outcome, Ok(_) | Err(sqlx::Error::Database(_)))
            && let Some(conn) = self.conn.take()
        {
            self.lane
                .idle
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .push(Idle {
                    conn,
                    since: Instant::now(),
                });
        }
        outcome
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{TestDatabase, postgres_or_skip};

    async fn lane(test: &str) -> Option<(TestDatabase, Lane)> {
        let db = postgres_or_skip(test).await?;
        let lane = Lane::new(
            db.options.clone(),
            2,
            Duration::from_secs(3),
            Duration::from_secs(10),
        );
        Some((db, lane))
    }

    async fn backend_pid(lane: &Lane) -> i32 {
        let mut lease = lane.acquire().await.unwrap();
        let pid = sqlx::query_scalar("SELECT pg_backend_pid()")
            .fetch_one(lease.conn())
            .await;
        lease.finish(pid).unwrap()
    }

    #[tokio::test]
    async fn a_connection_is_reused_after_success_and_after_a_database_error() {
        let Some((_db, lane)) = lane("lane_reuse").await else {
            return;
        };
        let first = backend_pid(&lane).await;
        assert_eq!(backend_pid(&lane).await, first, "the same connection again");
        let mut lease = lane.acquire().await.unwrap();
        let failed = sqlx::query("SELECT 1/0").execute(lease.conn()).await;
        assert!(matches!(
            lease.finish(failed),
            Err(sqlx::Error::Database(_))
        ));
        assert_eq!(lane.idle_count(), 1);
        assert_eq!(
            backend_pid(&lane).await,
            first,
            "still in step after the error"
        );
    }

    #[tokio::test]
    async fn a_connection_whose_statement_was_cut_short_is_closed() {
        let Some((_db, lane)) = lane("lane_cancel").await else {
            return;
        };
        let first = backend_pid(&lane).await;
        let mut lease = lane.acquire().await.unwrap();
        let slow = sqlx::query("SELECT pg_sleep(5)").execute(lease.conn());
        assert!(
            tokio::time::timeout(Duration::from_millis(100), slow)
                .await
                .is_err()
        );
        drop(lease);
        assert_eq!(lane.idle_count(), 0, "not handed back");
        let next = backend_pid(&lane).await;
        assert_ne!(next, first, "a new connection, in step with its server");
    }

    #[tokio::test]
    async fn waiting_for_a_connection_times_out() {
        let Some((db, _)) = lane("lane_timeout").await else {
            return;
        };
        let lane = Lane::new(
            db.options.clone(),
            1,
            Duration::from_millis(100),
            Duration::from_secs(10),
        );
        let held = lane.acquire().await.unwrap();
        assert!(matches!(
            lane.acquire().await.err(),
            Some(sqlx::Error::PoolTimedOut)
        ));
        drop(held);
        assert_ne!(backend_pid(&lane).await, 0);
    }

    #[tokio::test]
    async fn closing_terminates_idle_connections_and_refuses_new_leases() {
        let Some((db, lane)) = lane("lane_close").await else {
            return;
        };
        let pid = backend_pid(&lane).await;
        lane.close().await;
        assert_eq!(lane.idle_count(), 0);
        assert!(matches!(
            lane.acquire().await.err(),
            Some(sqlx::Error::PoolClosed)
        ));
        // The backend ends once it has read the Terminate; give it a moment.
        let mut other = db.options.connect().await.unwrap();
        let mut left = true;
        for _ in 0..100 {
            let n: i64 = sqlx::query_scalar("SELECT count(*) FROM pg_stat_activity WHERE pid = $1")
                .bind(pid)
                .fetch_one(&mut other)
                .await
                .unwrap();
            if n == 0 {
                left = false;
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        assert!(!left, "backend {pid} still there after close");
        // Ended with a Terminate: PostgreSQL counts a session whose client went away
        // without one as abandoned.
        let abandoned: i64 = sqlx::query_scalar(
            "SELECT sessions_abandoned FROM pg_stat_database WHERE datname = current_database()",
        )
        .fetch_one(&mut other)
        .await
        .unwrap();
        assert_eq!(abandoned, 0);
    }

    /// A server that accepts the connection and never answers costs a request the
    /// acquire timeout, not the operating system's (or no) timeout.
    #[tokio::test]
    async fn connecting_gives_up_after_the_acquire_timeout() {
        let silent = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = silent.local_addr().unwrap().port();
        // Accepts and holds the connections, never speaking the protocol.
        let held = tokio::spawn(async move {
            let mut open = Vec::new();
            while let Ok((socket, _)) = silent.accept().await {
                open.push(socket);
            }
        });
        let lane = Lane::new(
            PgConnectOptions::new().host("127.0.0.1").port(port),
            1,
            Duration::from_millis(200),
            Duration::from_secs(10),
        );
        let started = Instant::now();
        let err = lane.acquire().await.err();
        assert!(matches!(err, Some(sqlx::Error::PoolTimedOut)), "{err:?}");
        assert!(started.elapsed() < Duration::from_secs(2));
        held.abort();
    }
}
