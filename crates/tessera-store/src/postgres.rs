//! The PostgreSQL store (sqlx), for several Tessera nodes sharing one database.

use crate::migrations::{CREATE_MIGRATIONS_TABLE, MIGRATIONS, check_not_newer};
use crate::postgres_lane::Lane;
use crate::sql::{self, Expect, ObjectRow, TenantRow, Value};
use async_trait::async_trait;
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions, PgRow};
use sqlx::{Row, raw_sql};
use std::time::Duration;
use tessera_core::ids::ObjectId;
use tessera_core::ids::TenantId;
use tessera_core::store::object::{ObjectKind, StoredObject, Write};
use tessera_core::store::{Change, Page, Store, StoreError, StoreResult};
use tessera_core::tenant::{NewTenant, Tenant, TenantSlug};

/// Connections for single statements (`postgres_lane`): enough to keep two cores busy
/// while some wait on fsync.
const LANE_SIZE: usize = 12;
/// sqlx's pool, for transactions and migrations (and the listening connection beside).
const POOL_SIZE: u32 = 4;
/// How long a statement waits for a free connection before the store is Unavailable.
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(3);
/// A connection idle this long is pinged before use.
const CHECK_IDLE_AFTER: Duration = Duration::from_secs(10);
/// Any key unique to Tessera; serialises migration runs across nodes starting together.
const MIGRATION_LOCK: i64 = 0x7E55_E7A0;

pub struct PgStore {
    pool: PgPool,
    lane: Lane,
    listeners: crate::changes::Listeners,
    /// The task relaying other nodes' notifications, started by the first `listen`;
    /// taken by `close`.
    relay: std::sync::Mutex<Option<tokio::task::JoinHandle<()>>>,
    /// Tells the relay to stop (`close`).
    stop_relay: tokio::sync::watch::Sender<bool>,
}

impl Drop for PgStore {
    fn drop(&mut self) {
        if let Some(relay) = self.relay.get_mut().ok().and_then(|r| r.as_ref()) {
            relay.abort();
        }
    }
}

impl PgStore {
    /// Connects and applies pending migrations.
    pub async fn connect(options: PgConnectOptions) -> StoreResult<Self> {
        let lane = Lane::new(
            options.clone(),
            LANE_SIZE,
            ACQUIRE_TIMEOUT,
            CHECK_IDLE_AFTER,
        );
        let pool = PgPoolOptions::new()
            // One more for the connection that listens for other nodes' changes.
            .max_connections(POOL_SIZE + 1)
            .acquire_timeout(ACQUIRE_TIMEOUT)
            // sqlx pings every connection it hands out by default: a second round trip
            // per query, which on two cores cost as much as the query itself. Only a
            // connection idle for a while (a server restart or a proxy may have closed
            // it) is checked first.
            .test_before_acquire(false)
            .before_acquire(|conn, meta| {
                Box::pin(async move {
                    if meta.idle_for >= CHECK_IDLE_AFTER {
                        sqlx::Connection::ping(conn).await?;
                    }
                    Ok(true)
                })
            })
            .connect_with(options)
            .await
            .map_err(map_err)?;
        let store = Self {
            pool,
            lane,
            listeners: Default::default(),
            relay: std::sync::Mutex::new(None),
            stop_relay: tokio::sync::watch::Sender::new(false),
        };
        store.migrate().await?;
        Ok(store)
    }

    /// The object a read by tenant, kind and `third` ($3: a key or an id) finds.
    /// The tenant a read by slug or id finds.
    async fn one_tenant(&self, sql: &'static str, key: String) -> StoreResult<Option<Tenant>> {
        let mut lease = self.lane.acquire().await.map_err(map_err)?;
        let row = sqlx::query(sql)
            .bind(key)
            .fetch_optional(lease.conn())
            .await;
        let row = lease.finish(row).map_err(map_err)?;
        row.map(|r| tenant_row(&r).map_err(map_err)?.into_tenant())
            .transpose()
    }

    async fn one_object(
        &self,
        sql: &'static str,
        tenant_id: TenantId,
        kind: ObjectKind,
        third: String,
    ) -> StoreResult<Option<StoredObject>> {
        let mut lease = self.lane.acquire().await.map_err(map_err)?;
        let row = sqlx::query(sql)
            .bind(tenant_id.to_string())
            .bind(kind.as_str())
            .bind(third)
            .fetch_optional(lease.conn())
            .await;
        let row = lease.finish(row).map_err(map_err)?;
        row.map(|r| object_row(&r).map_err(map_err)?.into_object())
            .transpose()
    }

    /// The objects a read by tenant, kind and, when the SQL has one, `third` finds.
    async fn all_objects(
        &self,
        sql: &'static str,
        tenant_id: TenantId,
        kind: ObjectKind,
        third: Option<String>,
    ) -> StoreResult<Vec<StoredObject>> {
        let mut lease = self.lane.acquire().await.map_err(map_err)?;
        let mut query = sqlx::query(sql)
            .bind(tenant_id.to_string())
            .bind(kind.as_str());
        if let Some(third) = third {
            query = query.bind(third);
        }
        let rows = query.fetch_all(lease.conn()).await;
        decode_objects(lease.finish(rows).map_err(map_err)?)
    }

    /// Writes that must not go as one statement: `BEGIN`, each in order, `COMMIT`.
    async fn apply_in_transaction(
        &self,
        statements: &[sql::Stmt],
        changes: &std::collections::BTreeSet<Change>,
    ) -> StoreResult<()> {
        let mut tx = self.pool.begin().await.map_err(map_err)?;
        for stmt in statements {
            // An error drops the transaction, which rolls it back.
            checked(stmt, execute(&mut *tx, stmt).await)?;
        }
        // Inside the transaction: PostgreSQL delivers the notification to the other
        // nodes when, and only if, the transaction commits.
        for change in changes {
            announce(&mut *tx, *change).await.map_err(map_err)?;
        }
        tx.commit().await.map_err(map_err)
    }

    async fn migrate(&self) -> StoreResult<()> {
        let mut tx = self.pool.begin().await.map_err(map_err)?;
        sqlx::query("SELECT pg_advisory_xact_lock($1)")
            .bind(MIGRATION_LOCK)
            .execute(&mut *tx)
            .await
            .map_err(map_err)?;
        raw_sql(CREATE_MIGRATIONS_TABLE)
            .execute(&mut *tx)
            .await
            .map_err(map_err)?;
        let current: i64 =
            sqlx::query_scalar("SELECT COALESCE(MAX(version), 0) FROM tessera_migrations")
                .fetch_one(&mut *tx)
                .await
                .map_err(map_err)?;
        check_not_newer(current).map_err(StoreError::Internal)?;
        for m in MIGRATIONS.iter().filter(|m| m.version > current) {
            raw_sql(m.postgres).execute(&mut *tx).await.map_err(|e| {
                StoreError::Internal(format!("migration {} ({}) failed: {e}", m.version, m.name))
            })?;
            sqlx::query(
                "INSERT INTO tessera_migrations (version, name, applied_at) \
                 VALUES ($1, $2, EXTRACT(EPOCH FROM now())::BIGINT)",
            )
            .bind(m.version)
            .bind(m.name)
            .execute(&mut *tx)
            .await
            .map_err(map_err)?;
            tracing::info!(version = m.version, name = m.name, "applied migration");
        }
        tx.commit().await.map_err(map_err)
    }
}

fn tenant_row(r: &PgRow) -> Result<TenantRow, sqlx::Error> {
    Ok(TenantRow {
        id: r.try_get(0)?,
        slug: r.try_get(1)?,
        display_name: r.try_get(2)?,
        kind: r.try_get(3)?,
        disabled: r.try_get(4)?,
        created_at: r.try_get(5)?,
        updated_at: r.try_get(6)?,
        policy: r.try_get(7)?,
    })
}

fn object_row(r: &PgRow) -> Result<ObjectRow, sqlx::Error> {
    object_row_at(r, 0)
}

/// The object whose columns start at `at` (a join returns two).
fn object_row_at(r: &PgRow, at: usize) -> Result<ObjectRow, sqlx::Error> {
    Ok(ObjectRow {
        id: r.try_get(at)?,
        tenant_id: r.try_get(at + 1)?,
        kind: r.try_get(at + 2)?,
        key: r.try_get(at + 3)?,
        doc: r.try_get(at + 4)?,
        created_at: r.try_get(at + 5)?,
        updated_at: r.try_get(at + 6)?,
        version: r.try_get(at + 7)?,
        expires_at: r.try_get(at + 8)?,
    })
}

fn audit_row(r: &PgRow) -> Result<sql::AuditRow, sqlx::Error> {
    Ok(sql::AuditRow {
        id: r.try_get(0)?,
        tenant_id: r.try_get(1)?,
        at: r.try_get(2)?,
        actor: r.try_get(3)?,
        action: r.try_get(4)?,
        target: r.try_get(5)?,
        changes: r.try_get(6)?,
    })
}

#[async_trait]
impl Store for PgStore {
    fn backend(&self) -> &'static str {
        "postgres"
    }

    async fn ping(&self) -> StoreResult<()> {
        sqlx::query("SELECT 1")
            .execute(&self.pool)
            .await
            .map_err(map_err)?;
        Ok(())
    }

    async fn create_tenant(&self, t: NewTenant) -> StoreResult<Tenant> {
        sqlx::query(sql::INSERT_TENANT)
            .bind(t.id.to_string())
            .bind(t.slug.as_str())
            .bind(&t.display_name)
            .bind(t.kind.as_str())
            .bind(t.created_at.unix_timestamp())
            .bind(tessera_core::store::object::encode(&t.policy))
            .execute(&self.pool)
            .await
            .map_err(|e| match map_err(e) {
                StoreError::Conflict(_) => {
                    StoreError::Conflict(format!("tenant slug {} is taken", t.slug))
                }
                other => other,
            })?;
        let change = crate::changes::tenant(t.id);
        notify(&self.pool, change).await;
        self.listeners.changed(Some(change));
        self.tenant(&t.slug)
            .await?
            .ok_or_else(|| StoreError::Internal("a tenant vanished right after its insert".into()))
    }

    async fn tenant(&self, slug: &TenantSlug) -> StoreResult<Option<Tenant>> {
        self.one_tenant(sql::SELECT_TENANT_BY_SLUG, slug.as_str().to_owned())
            .await
    }

    async fn tenant_by_id(&self, id: TenantId) -> StoreResult<Option<Tenant>> {
        self.one_tenant(sql::SELECT_TENANT_BY_ID, id.to_string())
            .await
    }

    async fn apps_with_client_id(
        &self,
        client_id: &str,
    ) -> StoreResult<Vec<(Tenant, StoredObject)>> {
        let mut lease = self.lane.acquire().await.map_err(map_err)?;
        let rows = sqlx::query(sql::SELECT_APPS_WITH_CLIENT_ID)
            .bind(client_id)
            .fetch_all(lease.conn())
            .await;
        let rows = lease.finish(rows).map_err(map_err)?;
        let mut found = Vec::new();
        for row in rows {
            let app = object_row(&row).map_err(map_err)?.into_object()?;
            // A tenant deleted between the reads took its apps with it.
            if let Some(tenant) = self.tenant_by_id(app.tenant_id).await? {
                found.push((tenant, app));
            }
        }
        Ok(found)
    }

    async fn list_tenants(&self, after: Option<&str>, limit: u32) -> StoreResult<Page<Tenant>> {
        let limit = sql::clamp_limit(limit);
        let rows = sqlx::query(sql::LIST_TENANTS_AFTER)
            .bind(after.unwrap_or_default())
            .bind(limit + 1)
            .fetch_all(&self.pool)
            .await
            .map_err(map_err)?
            .iter()
            .map(tenant_row)
            .collect::<Result<Vec<_>, _>>()
            .map_err(map_err)?;
        sql::tenant_page(rows, limit)
    }

    async fn objects(
        &self,
        tenant_id: TenantId,
        kind: ObjectKind,
    ) -> StoreResult<Vec<StoredObject>> {
        self.all_objects(sql::SELECT_OBJECTS, tenant_id, kind, None)
            .await
    }

    async fn objects_after(
        &self,
        tenant_id: TenantId,
        kind: ObjectKind,
        after: Option<&str>,
        limit: u32,
    ) -> StoreResult<Vec<StoredObject>> {
        let mut lease = self.lane.acquire().await.map_err(map_err)?;
        let rows = sqlx::query(sql::SELECT_OBJECTS_AFTER)
            .bind(tenant_id.to_string())
            .bind(kind.as_str())
            .bind(after.unwrap_or_default())
            .bind(sql::clamp_limit(limit))
            .fetch_all(lease.conn())
            .await;
        decode_objects(lease.finish(rows).map_err(map_err)?)
    }

    async fn object(
        &self,
        tenant_id: TenantId,
        kind: ObjectKind,
        key: &str,
    ) -> StoreResult<Option<StoredObject>> {
        self.one_object(sql::SELECT_OBJECT, tenant_id, kind, key.to_owned())
            .await
    }

    async fn object_by_id(
        &self,
        tenant_id: TenantId,
        kind: ObjectKind,
        id: ObjectId,
    ) -> StoreResult<Option<StoredObject>> {
        self.one_object(sql::SELECT_OBJECT_BY_ID, tenant_id, kind, id.to_string())
            .await
    }

    async fn objects_of_user(
        &self,
        tenant_id: TenantId,
        kind: ObjectKind,
        user_key: &str,
    ) -> StoreResult<Vec<StoredObject>> {
        self.all_objects(
            sql::SELECT_OBJECTS_OF_USER,
            tenant_id,
            kind,
            Some(user_key.to_owned()),
        )
        .await
        .map(sql::by_key)
    }

    async fn object_with_user(
        &self,
        tenant_id: TenantId,
        kind: ObjectKind,
        key: &str,
    ) -> StoreResult<Option<(StoredObject, Option<StoredObject>)>> {
        let mut lease = self.lane.acquire().await.map_err(map_err)?;
        let row = sqlx::query(sql::SELECT_OBJECT_WITH_USER)
            .bind(tenant_id.to_string())
            .bind(kind.as_str())
            .bind(key)
            .bind(ObjectKind::User.as_str())
            .fetch_optional(lease.conn())
            .await;
        let Some(row) = lease.finish(row).map_err(map_err)? else {
            return Ok(None);
        };
        let object = object_row(&row).map_err(map_err)?.into_object()?;
        // The user's id column is NULL when the join found no user.
        let user = match row.try_get::<Option<String>, _>(9).map_err(map_err)? {
            Some(_) => Some(object_row_at(&row, 9).map_err(map_err)?.into_object()?),
            None => None,
        };
        Ok(Some((object, user)))
    }

    async fn audit(
        &self,
        tenant_id: TenantId,
        query: &tessera_core::audit::AuditQuery,
    ) -> StoreResult<Vec<tessera_core::audit::AuditEntry>> {
        let mut q = sqlx::query(sql::SELECT_AUDIT);
        for v in &sql::audit_params(tenant_id, query) {
            q = bind(q, v);
        }
        let rows = q.fetch_all(&self.pool).await.map_err(map_err)?;
        rows.iter()
            .map(|r| audit_row(r).map_err(map_err)?.into_entry())
            .collect()
    }

    async fn apply(&self, writes: Vec<Write>) -> StoreResult<()> {
        let changes = crate::changes::changes(&writes);
        let statements: Vec<sql::Stmt> = writes.iter().map(sql::statements).collect();
        // One statement with nothing to announce is atomic on its own: sent without
        // BEGIN and COMMIT it costs one round trip instead of three (a session, a code).
        if let ([stmt], true) = (statements.as_slice(), changes.is_empty()) {
            let mut lease = self.lane.acquire().await.map_err(map_err)?;
            let changed = execute(lease.conn(), stmt).await;
            return checked(stmt, lease.finish(changed));
        }
        if let Some(batch) = crate::postgres_batch::Batch::of(&writes, &statements, &changes) {
            let mut lease = self.lane.acquire().await.map_err(map_err)?;
            let done = batch_query(&batch).execute(lease.conn()).await.map(|_| ());
            lease.finish(done).map_err(|e| batch_error(&batch, e))?;
        } else {
            self.apply_in_transaction(&statements, &changes).await?;
        }
        for change in changes {
            self.listeners.changed(Some(change));
        }
        Ok(())
    }

    async fn apply_if(
        &self,
        required: &tessera_core::store::Requirement,
        writes: Vec<Write>,
    ) -> StoreResult<Option<StoredObject>> {
        let changes = crate::changes::changes(&writes);
        let statements: Vec<sql::Stmt> = writes.iter().map(sql::statements).collect();
        if let Some(batch) =
            crate::postgres_batch::Batch::required(&writes, &statements, &changes, required)
        {
            let mut lease = self.lane.acquire().await.map_err(map_err)?;
            // The required object's row (the writes made), or the error
            // `tessera_expect_row` raised when it was not found meeting the requirement.
            let row = batch_query(&batch).fetch_one(lease.conn()).await;
            let row = match lease.finish(row) {
                Ok(row) => row,
                // Not met: the statement raised, so nothing was written or announced.
                Err(sqlx::Error::Database(db))
                    if db.code().as_deref() == Some(crate::postgres_batch::NO_ROW)
                        && batch.unmet(db.message()) =>
                {
                    return Ok(None);
                }
                Err(e) => return Err(batch_error(&batch, e)),
            };
            let found = object_row(&row).map_err(map_err)?.into_object()?;
            for change in changes {
                self.listeners.changed(Some(change));
            }
            return Ok(Some(found));
        }
        // Otherwise (directory objects among the writes) one transaction: the required
        // object read first, then the writes.
        let mut tx = self.pool.begin().await.map_err(map_err)?;
        let mut query = sqlx::query(crate::postgres_batch::SELECT_REQUIRED);
        for v in &crate::postgres_batch::required_params(required) {
            query = bind(query, v);
        }
        let found = query.fetch_optional(&mut *tx).await.map_err(map_err)?;
        let Some(found) = found else {
            return Ok(None);
        };
        let found = object_row(&found).map_err(map_err)?.into_object()?;
        for stmt in &statements {
            // An error drops the transaction, which rolls it back.
            checked(stmt, execute(&mut *tx, stmt).await)?;
        }
        for change in &changes {
            announce(&mut *tx, *change).await.map_err(map_err)?;
        }
        tx.commit().await.map_err(map_err)?;
        for change in changes {
            self.listeners.changed(Some(change));
        }
        Ok(Some(found))
    }

    async fn delete_expired(
        &self,
        tenant_id: TenantId,
        kind: ObjectKind,
        now: time::OffsetDateTime,
        limit: u32,
    ) -> StoreResult<u64> {
        let deleted = sqlx::query(sql::DELETE_EXPIRED)
            .bind(tenant_id.to_string())
            .bind(kind.as_str())
            .bind(now.unix_timestamp())
            .bind(i64::from(limit))
            .execute(&self.pool)
            .await
            .map_err(map_err)?
            .rows_affected();
        if let Some(change) = crate::changes::deleted(tenant_id, kind, deleted) {
            notify(&self.pool, change).await;
            self.listeners.changed(Some(change));
        }
        Ok(deleted)
    }

    async fn close(&self) {
        // The relay stops between two steps of its exchange (aborted, it could drop a
        // connection mid-handshake) and gives its connection back once the pool closes.
        let _ = self.stop_relay.send(true);
        self.lane.close().await;
        // sqlx's close ends each connection with a Terminate, after waiting for the ones
        // lent out to come back.
        let closing = async {
            // sqlx 0.8.6's close can return with a connection still open: one whose
            // return (with its ping) was under way goes into the idle queue after
            // close emptied it for the last time. Closing again empties it again.
            loop {
                self.pool.close().await;
                if self.pool.size() == 0 {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(2)).await;
            }
        };
        let _ = tokio::time::timeout(ACQUIRE_TIMEOUT, closing).await;
        let relay = self
            .relay
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .take();
        if let Some(relay) = relay {
            let _ = tokio::time::timeout(ACQUIRE_TIMEOUT, relay).await;
        }
    }

    fn listen(&self, listener: std::sync::Arc<dyn tessera_core::store::ChangeListener>) {
        self.listeners.add(listener);
        let mut relay_task = self
            .relay
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if relay_task.is_none() && !*self.stop_relay.borrow() {
            *relay_task = Some(tokio::spawn(relay(
                self.pool.clone(),
                self.listeners.clone(),
                self.stop_relay.subscribe(),
            )));
        }
    }
}

type PgQuery<'q> = sqlx::query::Query<'q, sqlx::Postgres, sqlx::postgres::PgArguments>;

/// Binds the next parameter.
fn bind<'q>(q: PgQuery<'q>, v: &Value) -> PgQuery<'q> {
    match v {
        Value::Text(s) => q.bind(s.clone()),
        Value::Int(i) => q.bind(*i),
        Value::OptInt(i) => q.bind(*i),
        Value::OptText(t) => q.bind(t.clone()),
        Value::Bool(b) => q.bind(*b),
    }
}

/// Runs one write statement: how many rows it changed.
async fn execute<'e>(
    executor: impl sqlx::PgExecutor<'e>,
    stmt: &sql::Stmt,
) -> Result<u64, sqlx::Error> {
    let mut q = sqlx::query(stmt.sql);
    for v in &stmt.params {
        q = bind(q, v);
    }
    Ok(q.execute(executor).await?.rows_affected())
}

/// A write statement's outcome in the store's terms: a statement that must change a
/// row and changed none is that statement's error.
fn checked(stmt: &sql::Stmt, changed: Result<u64, sqlx::Error>) -> StoreResult<()> {
    let changed = changed.map_err(|e| match map_err(e) {
        StoreError::Conflict(d) => StoreError::Conflict(format!("{}: {d}", stmt.what)),
        other => other,
    })?;
    match (stmt.expect, changed) {
        (Expect::SomeRow(err), 0) => Err(err(format!("{}: no row matched", stmt.what))),
        _ => Ok(()),
    }
}

/// A batch of writes as one statement (see `postgres_batch`), its parameters bound.
fn batch_query<'q>(batch: &'q crate::postgres_batch::Batch<'_>) -> PgQuery<'q> {
    let mut q = sqlx::query(&batch.sql);
    for v in &batch.params {
        q = bind(q, v);
    }
    q
}

/// A failed batch's error: the write `tessera_expect_row` named, or the database's.
fn batch_error(batch: &crate::postgres_batch::Batch<'_>, e: sqlx::Error) -> StoreError {
    match e {
        sqlx::Error::Database(db)
            if db.code().as_deref() == Some(crate::postgres_batch::NO_ROW) =>
        {
            batch.no_row(db.message())
        }
        e => map_err(e),
    }
}

/// Tells every listening node about `change` (inside a transaction: when it commits).
async fn announce<'e>(
    executor: impl sqlx::PgExecutor<'e>,
    change: Change,
) -> Result<(), sqlx::Error> {
    sqlx::query("SELECT pg_notify($1, $2)")
        .bind(crate::changes::POSTGRES_CHANNEL)
        .bind(change.encode())
        .execute(executor)
        .await
        .map(|_| ())
}

/// Announces a change already committed (a tenant created, expired deny-list entries
/// deleted). A failure only delays other nodes until their caches' TTL, so it is
/// logged, not returned.
async fn notify(pool: &PgPool, change: Change) {
    if let Err(e) = announce(pool, change).await {
        tracing::warn!(error = %e, "could not announce a tenant change to other nodes");
    }
}

/// Relays other nodes' change notifications to this node's listeners until `stop`
/// says the store is closing. Whenever the listening connection is (re)established,
/// everything is announced as changed: notifications sent while no connection listened
/// are lost, so anything cached before then may be stale.
async fn relay(
    pool: PgPool,
    listeners: crate::changes::Listeners,
    mut stop: tokio::sync::watch::Receiver<bool>,
) {
    loop {
        let outcome = listen_once(&pool, &listeners, &mut stop).await;
        if *stop.borrow() {
            return;
        }
        match outcome {
            Ok(()) => tracing::warn!("the change notification connection was lost"),
            Err(e) => tracing::warn!(error = %e, "cannot listen for changes of other nodes"),
        }
        listeners.changed(None);
        tokio::select! {
            () = tokio::time::sleep(Duration::from_secs(1)) => {}
            _ = stop.changed() => return,
        }
    }
}

/// Listens until the connection is lost or `stop` changes (`Ok`), or fails. Connecting
/// and subscribing are not cut short by `stop`: a connection dropped mid-handshake would
/// be reset, and this one goes back to the pool, to be closed with the rest.
async fn listen_once(
    pool: &PgPool,
    listeners: &crate::changes::Listeners,
    stop: &mut tokio::sync::watch::Receiver<bool>,
) -> Result<(), sqlx::Error> {
    let mut listener = sqlx::postgres::PgListener::connect_with(pool).await?;
    listener.listen(crate::changes::POSTGRES_CHANNEL).await?;
    listeners.changed(None);
    loop {
        // `try_recv` answers `None` when the connection dropped (and would reconnect on
        // the next call): we start over instead, so the "everything changed" above
        // follows the new LISTEN. Between two messages it can stop at any point.
        tokio::select! {
            received = listener.try_recv() => match received? {
                // An unreadable payload (a newer node's format?) counts as "everything".
                Some(n) => listeners.changed(Change::decode(n.payload())),
                None => return Ok(()),
            },
            _ = stop.changed() => {
                // The listener's connection goes back (its drop runs `UNLISTEN *`) only
                // once the pool is closing, which ends it with a Terminate; back in an
                // open pool it would be pinged and queued as idle, to be closed later.
                let _ = tokio::time::timeout(ACQUIRE_TIMEOUT, pool.close_event()).await;
                return Ok(());
            }
        }
    }
}

/// Maps a sqlx error to the store contract's kinds.
pub(crate) fn map_err(e: sqlx::Error) -> StoreError {
    match &e {
        sqlx::Error::Database(db) => match db.code().as_deref() {
            // 23505 unique_violation
            Some("23505") => StoreError::Conflict(db.message().to_owned()),
            // Class 08 connection exception, 57P0x operator intervention (shutdown),
            // 3D000 the database does not exist (dropped underneath us).
            Some(c) if c.starts_with("08") || c.starts_with("57P") || c == "3D000" => {
                StoreError::Unavailable(e.to_string())
            }
            _ => StoreError::Internal(e.to_string()),
        },
        sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::WorkerCrashed => StoreError::Unavailable(e.to_string()),
        _ => StoreError::Internal(e.to_string()),
    }
}

fn decode_objects(rows: Vec<sqlx::postgres::PgRow>) -> StoreResult<Vec<StoredObject>> {
    rows.iter()
        .map(|r| object_row(r).map_err(map_err)?.into_object())
        .collect()
}
