//! Test support (feature `test-support`): a fresh PostgreSQL database per test, dropped
//! when the guard goes out of scope, so tests run in parallel and leave nothing behind.
//!
//! Tests read `TESSERA_TEST_POSTGRES_URL` (e.g. `postgres://postgres@127.0.0.1:5432/postgres`).
//! Unset, [`postgres_or_skip`] prints a visible skip line and returns `None`; with
//! `TESSERA_TEST_REQUIRE_ALL=1` it panics instead, so CI cannot pass on a skip.

use sqlx::postgres::PgConnectOptions;
use sqlx::{ConnectOptions, Connection};
use std::io::Write;
use std::str::FromStr;

/// The directory statements that must find their rows through one particular index,
/// whatever the table's statistics, with the name of that index: a test checks
/// PostgreSQL's generic plan for each on a new, almost empty table, the plan a prepared
/// statement keeps (`sql::UPDATE_OBJECT` tells why).
pub fn statements_and_their_index() -> Vec<(&'static str, &'static str)> {
    use crate::sql;
    vec![
        (sql::UPDATE_OBJECT, "directory_objects_pkey"),
        (sql::SELECT_OBJECT_BY_ID, "directory_objects_pkey"),
        (sql::DELETE_OBJECT, "directory_objects_pkey"),
        (sql::SELECT_OBJECTS_OF_USER, "directory_objects_owner"),
        (
            sql::SELECT_OBJECT_WITH_USER,
            "directory_objects_tenant_id_kind_key_key",
        ),
        (sql::DELETE_EXPIRED, "directory_objects_expiry"),
        (
            sql::SELECT_APPS_WITH_CLIENT_ID,
            "directory_objects_app_client_id",
        ),
    ]
}

pub const POSTGRES_URL_VAR: &str = "TESSERA_TEST_POSTGRES_URL";
pub const REQUIRE_ALL_VAR: &str = "TESSERA_TEST_REQUIRE_ALL";

/// Reports a skipped test where a person will see it: straight to the process's stderr,
/// bypassing the test harness's output capture. Fails instead under REQUIRE_ALL.
pub fn skip(test: &str, reason: &str) {
    if std::env::var(REQUIRE_ALL_VAR).is_ok_and(|v| v == "1") {
        panic!("{test}: cannot be skipped with {REQUIRE_ALL_VAR}=1: {reason}");
    }
    let _ = writeln!(std::io::stderr(), "SKIPPED {test}: {reason}");
}

/// A database created for one test; dropped (with its connections) on drop.
pub struct TestDatabase {
    admin: PgConnectOptions,
    pub name: String,
    pub url: String,
    pub options: PgConnectOptions,
}

impl TestDatabase {
    pub async fn create(base_url: &str) -> Self {
        let admin = PgConnectOptions::from_str(base_url).expect("TESSERA_TEST_POSTGRES_URL parses");
        let name = format!(
            "tessera_test_{}",
            uuid::Uuid::from_u128(rand_u128()).simple()
        );
        let mut conn = admin
            .connect()
            .await
            .expect("connect to TESSERA_TEST_POSTGRES_URL");
        sqlx::query(&format!("CREATE DATABASE {name}"))
            .execute(&mut conn)
            .await
            .expect("create test database");
        let _ = conn.close().await;
        let url = match base_url.rsplit_once('/') {
            Some((prefix, last)) if !prefix.ends_with('/') => {
                let query = last
                    .split_once('?')
                    .map(|(_, q)| format!("?{q}"))
                    .unwrap_or_default();
                format!("{prefix}/{name}{query}")
            }
            _ => format!("{}/{name}", base_url.trim_end_matches('/')),
        };
        let options = admin.clone().database(&name);
        Self {
            admin,
            name,
            url,
            options,
        }
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        let admin = self.admin.clone();
        let name = self.name.clone();
        // Drop runs inside or outside a runtime; a thread with its own runtime works in both.
        let _ = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build();
            if let Ok(rt) = rt {
                rt.block_on(async {
                    if let Ok(mut conn) = admin.connect().await {
                        let _ =
                            sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                                .execute(&mut conn)
                                .await;
                    }
                });
            }
        })
        .join();
    }
}

/// The test database for `test`, or `None` after a visible skip.
pub async fn postgres_or_skip(test: &str) -> Option<TestDatabase> {
    match std::env::var(POSTGRES_URL_VAR) {
        Ok(url) if !url.is_empty() => Some(TestDatabase::create(&url).await),
        _ => {
            skip(test, &format!("{POSTGRES_URL_VAR} is not set"));
            None
        }
    }
}

/// Test databases need unique names, not secure ones; mixes the clock with a counter.
fn rand_u128() -> u128 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    #[allow(clippy::disallowed_methods)]
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default();
    let pid = u128::from(std::process::id());
    nanos ^ (pid << 96) ^ u128::from(COUNTER.fetch_add(1, Ordering::Relaxed)) << 64
}
