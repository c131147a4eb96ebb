//! The embedded SQLite store. Writes go through one writer thread that commits a batch
//! of waiting requests per transaction (group commit: each caller is answered only after
//! the commit that holds its write); reads use a small pool of read connections on
//! blocking threads. WAL mode lets readers run beside the writer, and other processes
//! (`tessera import` beside a running server) wait on `busy_timeout` instead of failing.

mod objects;
mod tenants;
mod writer;

use crate::migrations::{CREATE_MIGRATIONS_TABLE, MIGRATIONS, check_not_newer};
use async_trait::async_trait;
use rusqlite::{Connection, OpenFlags};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use tessera_core::ids::ObjectId;
use tessera_core::ids::TenantId;
use tessera_core::store::{StoreError, StoreResult};
use writer::Writer;

/// Idle read connections kept open.
const READ_POOL: usize = 4;

pub struct SqliteStore {
    path: PathBuf,
    writer: Writer,
    readers: Arc<Mutex<Vec<Connection>>>,
    /// One process owns a SQLite file, so announcing changes locally is enough (another
    /// process writing the same file, such as `tessera import`, is seen within the
    /// caches' TTL).
    listeners: crate::changes::Listeners,
}

impl SqliteStore {
    /// Opens (creating when absent) the database at `path`, then applies migrations.
    pub async fn open(path: &Path) -> StoreResult<Self> {
        let path = path.to_path_buf();
        let p = path.clone();
        let conn = tokio::task::spawn_blocking(move || -> StoreResult<Connection> {
            if let Some(dir) = p.parent().filter(|d| !d.as_os_str().is_empty()) {
                std::fs::create_dir_all(dir).map_err(|e| {
                    StoreError::Unavailable(format!("cannot create {}: {e}", dir.display()))
                })?;
            }
            let mut conn = open_connection(&p, false)?;
            migrate(&mut conn)?;
            Ok(conn)
        })
        .await
        .map_err(|e| StoreError::Internal(format!("migration task failed: {e}")))??;
        Ok(Self {
            writer: Writer::start(conn)?,
            readers: Arc::new(Mutex::new(Vec::new())),
            listeners: Default::default(),
            path,
        })
    }

    /// Runs `f` on a read connection on a blocking thread.
    pub(crate) async fn read<T, F>(&self, f: F) -> StoreResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> StoreResult<T> + Send + 'static,
    {
        let readers = self.readers.clone();
        let path = self.path.clone();
        tokio::task::spawn_blocking(move || with_reader(&readers, &path, f))
            .await
            .map_err(|e| StoreError::Internal(format!("read task failed: {e}")))?
    }

    /// Runs a point lookup `f` (one row by a unique key) on a read connection right
    /// here, on the calling task's thread. Such a read takes microseconds from SQLite's
    /// page cache, while handing it to the blocking pool and back cost more than the
    /// rest of a token request (docs/decisions/0001-sqlite-writer-thread.md). Scans use
    /// [`Self::read`].
    pub(crate) fn lookup<T, F>(&self, f: F) -> StoreResult<T>
    where
        F: FnOnce(&Connection) -> StoreResult<T>,
    {
        with_reader(&self.readers, &self.path, f)
    }

    /// Runs `f` inside the writer's next group transaction; resolves after the commit.
    pub(crate) async fn write<T, F>(&self, f: F) -> StoreResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> StoreResult<T> + Send + 'static,
    {
        self.writer.submit(f).await
    }
}

#[async_trait]
impl tessera_core::store::Store for SqliteStore {
    fn backend(&self) -> &'static str {
        "sqlite"
    }

    async fn ping(&self) -> StoreResult<()> {
        if self.writer.committing() {
            return self
                .read(|c| c.query_row("SELECT 1", [], |_| Ok(())).map_err(map_err))
                .await;
        }
        // The last commit failed (a full disk, a file that cannot be written) while
        // reads may still work: ready again only once a write commits. A row inserted
        // and deleted leaves nothing behind but dirties a page, which the commit must
        // write (an UPDATE to the same value would not: SQLite skips identical cells).
        self.write(|c| {
            c.execute_batch(
                "INSERT INTO tessera_migrations (version, name, applied_at) \
                 VALUES (-1, 'readiness probe', 0); \
                 DELETE FROM tessera_migrations WHERE version = -1;",
            )
            .map_err(map_err)
        })
        .await
    }

    async fn create_tenant(
        &self,
        tenant: tessera_core::tenant::NewTenant,
    ) -> StoreResult<tessera_core::tenant::Tenant> {
        let id = tenant.id;
        let created = tenants::create(self, tenant).await?;
        self.listeners.changed(Some(crate::changes::tenant(id)));
        Ok(created)
    }

    async fn tenant(
        &self,
        slug: &tessera_core::tenant::TenantSlug,
    ) -> StoreResult<Option<tessera_core::tenant::Tenant>> {
        tenants::by_slug(self, slug).await
    }

    async fn tenant_by_id(
        &self,
        id: TenantId,
    ) -> StoreResult<Option<tessera_core::tenant::Tenant>> {
        tenants::by_id(self, id).await
    }

    async fn apps_with_client_id(
        &self,
        client_id: &str,
    ) -> StoreResult<
        Vec<(
            tessera_core::tenant::Tenant,
            tessera_core::store::object::StoredObject,
        )>,
    > {
        let mut found = Vec::new();
        for app in objects::apps_with_client_id(self, client_id).await? {
            // A tenant deleted between the reads took its apps with it.
            if let Some(tenant) = tenants::by_id(self, app.tenant_id).await? {
                found.push((tenant, app));
            }
        }
        Ok(found)
    }

    async fn list_tenants(
        &self,
        after: Option<&str>,
        limit: u32,
    ) -> StoreResult<tessera_core::store::Page<tessera_core::tenant::Tenant>> {
        tenants::list(self, after, limit).await
    }

    async fn objects(
        &self,
        tenant_id: TenantId,
        kind: tessera_core::store::object::ObjectKind,
    ) -> StoreResult<Vec<tessera_core::store::object::StoredObject>> {
        objects::list(self, tenant_id, kind).await
    }

    async fn objects_after(
        &self,
        tenant_id: TenantId,
        kind: tessera_core::store::object::ObjectKind,
        after: Option<&str>,
        limit: u32,
    ) -> StoreResult<Vec<tessera_core::store::object::StoredObject>> {
        objects::page(self, tenant_id, kind, after, limit).await
    }

    async fn object(
        &self,
        tenant_id: TenantId,
        kind: tessera_core::store::object::ObjectKind,
        key: &str,
    ) -> StoreResult<Option<tessera_core::store::object::StoredObject>> {
        objects::get(self, tenant_id, kind, key).await
    }

    async fn objects_of_user(
        &self,
        tenant_id: TenantId,
        kind: tessera_core::store::object::ObjectKind,
        user_key: &str,
    ) -> StoreResult<Vec<tessera_core::store::object::StoredObject>> {
        objects::of_user(self, tenant_id, kind, user_key).await
    }

    async fn object_by_id(
        &self,
        tenant_id: TenantId,
        kind: tessera_core::store::object::ObjectKind,
        id: ObjectId,
    ) -> StoreResult<Option<tessera_core::store::object::StoredObject>> {
        objects::get_by_id(self, tenant_id, kind, id).await
    }

    async fn apply(&self, writes: Vec<tessera_core::store::object::Write>) -> StoreResult<()> {
        let changes = crate::changes::changes(&writes);
        objects::apply(self, writes).await?;
        for change in changes {
            self.listeners.changed(Some(change));
        }
        Ok(())
    }

    async fn apply_if(
        &self,
        required: &tessera_core::store::Requirement,
        writes: Vec<tessera_core::store::object::Write>,
    ) -> StoreResult<Option<tessera_core::store::object::StoredObject>> {
        let changes = crate::changes::changes(&writes);
        let found = objects::apply_if(self, required, writes).await?;
        if found.is_some() {
            for change in changes {
                self.listeners.changed(Some(change));
            }
        }
        Ok(found)
    }

    async fn delete_expired(
        &self,
        tenant_id: TenantId,
        kind: tessera_core::store::object::ObjectKind,
        now: time::OffsetDateTime,
        limit: u32,
    ) -> StoreResult<u64> {
        let deleted = objects::delete_expired(self, tenant_id, kind, now, limit).await?;
        if let Some(change) = crate::changes::deleted(tenant_id, kind, deleted) {
            self.listeners.changed(Some(change));
        }
        Ok(deleted)
    }

    fn listen(&self, listener: Arc<dyn tessera_core::store::ChangeListener>) {
        self.listeners.add(listener);
    }

    async fn audit(
        &self,
        tenant_id: TenantId,
        query: &tessera_core::audit::AuditQuery,
    ) -> StoreResult<Vec<tessera_core::audit::AuditEntry>> {
        objects::audit(self, tenant_id, query).await
    }
}

/// Runs `f` on a pooled read-only connection (opening one when none is idle) and keeps
/// the connection for the next reader while fewer than `READ_POOL` are idle.
fn with_reader<T>(
    readers: &Mutex<Vec<Connection>>,
    path: &Path,
    f: impl FnOnce(&Connection) -> StoreResult<T>,
) -> StoreResult<T> {
    let pooled = readers.lock().unwrap_or_else(|p| p.into_inner()).pop();
    let conn = match pooled {
        Some(c) => c,
        None => open_connection(path, true)?,
    };
    let result = f(&conn);
    let mut pool = readers.lock().unwrap_or_else(|p| p.into_inner());
    if pool.len() < READ_POOL {
        pool.push(conn);
    }
    result
}

fn open_connection(path: &Path, read_only: bool) -> StoreResult<Connection> {
    let flags = if read_only {
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX
    } else {
        OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_CREATE
            | OpenFlags::SQLITE_OPEN_NO_MUTEX
    };
    let conn = Connection::open_with_flags(path, flags)
        .map_err(|e| StoreError::Unavailable(format!("cannot open {}: {e}", path.display())))?;
    // WAL: readers never block the writer. synchronous=FULL: a write reported as done
    // survives power loss (the store contract promises durability on Ok).
    // busy_timeout: another process holding the write lock makes us wait, not fail.
    conn.execute_batch(
        "PRAGMA busy_timeout = 5000; PRAGMA foreign_keys = ON; PRAGMA synchronous = FULL;",
    )
    .map_err(map_err)?;
    if !read_only {
        conn.pragma_update(None, "journal_mode", "WAL")
            .map_err(map_err)?;
        // The writer checkpoints the WAL into the database once it holds 10,000 pages
        // (40 MB) instead of SQLite's 1,000: a checkpoint runs on the one writer thread,
        // between commits, so checkpointing ten times less often let refresh rotations
        // go from 9.1k/s to 10.3k/s (benches/profile.sh refresh), a page rewritten
        // several times between checkpoints being copied back once.
        conn.pragma_update(None, "wal_autocheckpoint", 10000)
            .map_err(map_err)?;
    }
    Ok(conn)
}

fn migrate(conn: &mut Connection) -> StoreResult<()> {
    conn.execute_batch(CREATE_MIGRATIONS_TABLE)
        .map_err(map_err)?;
    // IMMEDIATE takes the write lock first, so two processes starting together apply
    // each migration once.
    let tx = conn
        .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
        .map_err(map_err)?;
    let current: i64 = tx
        .query_row(
            "SELECT COALESCE(MAX(version), 0) FROM tessera_migrations",
            [],
            |r| r.get(0),
        )
        .map_err(map_err)?;
    check_not_newer(current).map_err(StoreError::Internal)?;
    for m in MIGRATIONS.iter().filter(|m| m.version > current) {
        tx.execute_batch(m.sqlite).map_err(|e| {
            StoreError::Internal(format!("migration {} ({}) failed: {e}", m.version, m.name))
        })?;
        tx.execute(
            "INSERT INTO tessera_migrations (version, name, applied_at) VALUES (?1, ?2, unixepoch())",
            rusqlite::params![m.version, m.name],
        )
        .map_err(map_err)?;
        tracing::info!(version = m.version, name = m.name, "applied migration");
    }
    tx.commit().map_err(map_err)
}

/// Maps a SQLite error to the store contract's kinds.
pub(crate) fn map_err(e: rusqlite::Error) -> StoreError {
    use rusqlite::ErrorCode;
    match e.sqlite_error_code() {
        Some(ErrorCode::ConstraintViolation) => StoreError::Conflict(e.to_string()),
        Some(
            ErrorCode::DatabaseBusy
            | ErrorCode::DatabaseLocked
            | ErrorCode::CannotOpen
            | ErrorCode::ReadOnly
            | ErrorCode::DiskFull
            | ErrorCode::SystemIoFailure,
        ) => StoreError::Unavailable(e.to_string()),
        _ => StoreError::Internal(e.to_string()),
    }
}

#[cfg(test)]
mod tests {
    /// The bundled SQLite is built with `.cargo/config.toml`'s LIBSQLITE3_FLAGS: a
    /// build without them (another workspace, a changed variable name) would put
    /// the process-wide page-cache and memory-statistics mutexes back on every page
    /// fetch, silently.
    #[test]
    fn sqlite_is_built_with_a_cache_per_connection_and_no_memory_statistics() {
        let conn = rusqlite::Connection::open_in_memory().expect("in-memory database");
        let mut stmt = conn.prepare("PRAGMA compile_options").expect("pragma");
        let options: Vec<String> = stmt
            .query_map([], |r| r.get(0))
            .expect("compile options")
            .collect::<Result<_, _>>()
            .expect("compile options");
        assert!(
            !options.iter().any(|o| o == "ENABLE_MEMORY_MANAGEMENT"),
            "{options:?}"
        );
        assert!(
            options.iter().any(|o| o == "DEFAULT_MEMSTATUS=0"),
            "{options:?}"
        );
    }

    /// What `sql::UPDATE_OBJECT_KEEPING_KEY` is for: SQLite maintains an index on every
    /// update that sets one of its columns, whatever the value.
    #[test]
    fn an_update_keeping_the_key_leaves_the_indexes_alone() {
        let mut conn = rusqlite::Connection::open_in_memory().expect("in-memory database");
        super::migrate(&mut conn).expect("migrations");
        let index_writes = |sql: &str| -> usize {
            let mut stmt = conn
                .prepare(&format!("EXPLAIN {}", crate::sql::for_sqlite(sql)))
                .expect("explain");
            let nulls = vec![rusqlite::types::Null; stmt.parameter_count()];
            let ops: Vec<String> = stmt
                .query_map(rusqlite::params_from_iter(nulls), |r| r.get(1))
                .expect("opcodes")
                .collect::<Result<_, _>>()
                .expect("opcodes");
            ops.iter()
                .filter(|op| *op == "IdxInsert" || *op == "IdxDelete")
                .count()
        };
        // The (tenant, kind, key), expiry, app client_id and multi-tenant app indexes,
        // each entry deleted and re-inserted.
        assert_eq!(index_writes(crate::sql::UPDATE_OBJECT), 8);
        // Only the multi-tenant app index, whose condition reads the document: its
        // entry is written only for an app (the condition tests the kind first), so a
        // token's or a session's update leaves every index page as it was.
        assert_eq!(index_writes(crate::sql::UPDATE_OBJECT_KEEPING_KEY), 2);
        // And it still finds its row by primary key, not by a scan.
        let plan: String = conn
            .query_row(
                &format!(
                    "EXPLAIN QUERY PLAN {}",
                    crate::sql::for_sqlite(crate::sql::UPDATE_OBJECT_KEEPING_KEY)
                ),
                rusqlite::params_from_iter(vec![rusqlite::types::Null; 8]),
                |r| r.get(3),
            )
            .expect("query plan");
        assert!(plan.contains("(id=?)"), "{plan}");
    }
    /// The lookup of apps by client_id (`Store::apps_with_client_id`) reads its partial
    /// index, not every object.
    #[test]
    fn apps_are_found_by_client_id_through_their_index() {
        let mut conn = rusqlite::Connection::open_in_memory().expect("in-memory database");
        super::migrate(&mut conn).expect("migrations");
        let plan: String = conn
            .query_row(
                &format!(
                    "EXPLAIN QUERY PLAN {}",
                    crate::sql::for_sqlite(crate::sql::SELECT_APPS_WITH_CLIENT_ID)
                ),
                rusqlite::params!["c"],
                |r| r.get(3),
            )
            .expect("query plan");
        assert!(
            plan.contains("USING INDEX directory_objects_app_client_id"),
            "{plan}"
        );
    }
}
