//! Directory objects on SQLite: reads on the read pool, batches of writes as one job of
//! the writer thread (so a batch is one savepoint: all of it or none).

use super::{SqliteStore, map_err};
use crate::sql::{self, Expect, ObjectRow, Stmt, Value};
use rusqlite::types::{ToSql, ToSqlOutput};
use rusqlite::{Connection, Row, params};
use tessera_core::ids::ObjectId;
use tessera_core::ids::TenantId;
use tessera_core::store::object::{ObjectKind, StoredObject, Write};
use tessera_core::store::{Requirement, StoreError, StoreResult};

impl ToSql for Value {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        match self {
            Value::Text(s) => s.to_sql(),
            Value::Int(i) => i.to_sql(),
            Value::OptInt(i) => i.to_sql(),
            Value::OptText(t) => t.to_sql(),
            Value::Bool(b) => b.to_sql(),
        }
    }
}

fn row(r: &Row<'_>) -> rusqlite::Result<ObjectRow> {
    Ok(ObjectRow {
        id: r.get(0)?,
        tenant_id: r.get(1)?,
        kind: r.get(2)?,
        key: r.get(3)?,
        doc: r.get(4)?,
        created_at: r.get(5)?,
        updated_at: r.get(6)?,
        version: r.get(7)?,
        expires_at: r.get(8)?,
    })
}

/// The object rows `query` selects with `params`, read on the read pool (whole kinds
/// and pages: possibly many rows).
async fn read_many(
    store: &SqliteStore,
    query: &'static str,
    params: Vec<Value>,
) -> StoreResult<Vec<StoredObject>> {
    let rows = store.read(move |c| select(c, query, &params)).await?;
    rows.into_iter().map(ObjectRow::into_object).collect()
}

/// The same on the calling thread (`SqliteStore::lookup`): point lookups and one user's
/// records, a few rows by index.
fn lookup_many(
    store: &SqliteStore,
    query: &'static str,
    params: &[Value],
) -> StoreResult<Vec<StoredObject>> {
    let rows = store.lookup(|c| select(c, query, params))?;
    rows.into_iter().map(ObjectRow::into_object).collect()
}

/// At most one object: `query` selects by a unique key.
fn lookup_one(
    store: &SqliteStore,
    query: &'static str,
    params: &[Value],
) -> StoreResult<Option<StoredObject>> {
    Ok(lookup_many(store, query, params)?.into_iter().next())
}

fn select(c: &Connection, query: &str, params: &[Value]) -> StoreResult<Vec<ObjectRow>> {
    c.prepare_cached(&sql::for_sqlite(query))
        .and_then(|mut s| {
            s.query_map(rusqlite::params_from_iter(params.iter()), row)?
                .collect::<rusqlite::Result<Vec<_>>>()
        })
        .map_err(map_err)
}

fn scope(tenant_id: TenantId, kind: ObjectKind) -> [Value; 2] {
    [
        Value::Text(tenant_id.to_string()),
        Value::Text(kind.as_str().to_owned()),
    ]
}

pub async fn list(
    store: &SqliteStore,
    tenant_id: TenantId,
    kind: ObjectKind,
) -> StoreResult<Vec<StoredObject>> {
    read_many(store, sql::SELECT_OBJECTS, scope(tenant_id, kind).into()).await
}

pub async fn page(
    store: &SqliteStore,
    tenant_id: TenantId,
    kind: ObjectKind,
    after: Option<&str>,
    limit: u32,
) -> StoreResult<Vec<StoredObject>> {
    let [t, k] = scope(tenant_id, kind);
    let params = vec![
        t,
        k,
        Value::Text(after.unwrap_or_default().to_owned()),
        Value::Int(sql::clamp_limit(limit)),
    ];
    read_many(store, sql::SELECT_OBJECTS_AFTER, params).await
}

pub async fn get(
    store: &SqliteStore,
    tenant_id: TenantId,
    kind: ObjectKind,
    key: &str,
) -> StoreResult<Option<StoredObject>> {
    let [t, k] = scope(tenant_id, kind);
    lookup_one(
        store,
        sql::SELECT_OBJECT,
        &[t, k, Value::Text(key.to_owned())],
    )
}

/// Every app with this client_id, in any tenant (migration 0009's index).
pub async fn apps_with_client_id(
    store: &SqliteStore,
    client_id: &str,
) -> StoreResult<Vec<StoredObject>> {
    lookup_many(
        store,
        sql::SELECT_APPS_WITH_CLIENT_ID,
        &[Value::Text(client_id.to_owned())],
    )
}

pub async fn of_user(
    store: &SqliteStore,
    tenant_id: TenantId,
    kind: ObjectKind,
    user_key: &str,
) -> StoreResult<Vec<StoredObject>> {
    let [t, k] = scope(tenant_id, kind);
    lookup_many(
        store,
        sql::SELECT_OBJECTS_OF_USER,
        &[t, k, Value::Text(user_key.to_owned())],
    )
    .map(sql::by_key)
}

pub async fn get_by_id(
    store: &SqliteStore,
    tenant_id: TenantId,
    kind: ObjectKind,
    id: ObjectId,
) -> StoreResult<Option<StoredObject>> {
    let [t, k] = scope(tenant_id, kind);
    lookup_one(
        store,
        sql::SELECT_OBJECT_BY_ID,
        &[t, k, Value::Text(id.to_string())],
    )
}

pub async fn apply(store: &SqliteStore, writes: Vec<Write>) -> StoreResult<()> {
    let stmts: Vec<Stmt> = writes.iter().map(sql::statements).collect();
    store.write(move |c| run(c, &stmts)).await
}

/// The required object (`Requirement`), if it meets the requirement. `json_type` says
/// `true` only for the boolean (`json_extract` would take 1 for it too).
const SELECT_REQUIRED: &str = "SELECT id, tenant_id, kind, key, doc, created_at, updated_at, version, expires_at \
     FROM directory_objects WHERE tenant_id = $1 AND kind = $2 AND key = $3 AND id = $4 \
     AND json_type(doc, $5) = 'true'";

/// `Store::apply_if`: the required object is read on the writer's connection, inside
/// the job's savepoint, so nothing can change it between the check and the writes.
pub async fn apply_if(
    store: &SqliteStore,
    required: &Requirement,
    writes: Vec<Write>,
) -> StoreResult<Option<StoredObject>> {
    let stmts: Vec<Stmt> = writes.iter().map(sql::statements).collect();
    let required = required.clone();
    store
        .write(move |c| {
            let [t, k] = scope(required.tenant_id, required.kind);
            let params = [
                t,
                k,
                Value::Text(required.key.clone()),
                Value::Text(required.id.to_string()),
                // A JSON path; a parameter, since `sql::for_sqlite` rewrites every `$`.
                Value::Text(format!("$.{}", required.flag.member())),
            ];
            let Some(found) = select(c, SELECT_REQUIRED, &params)?.into_iter().next() else {
                return Ok(None);
            };
            run(c, &stmts)?;
            found.into_object().map(Some)
        })
        .await
}

/// Runs statements in order on the writer's connection; the first failure fails the
/// job, whose savepoint then rolls all of them back.
fn run(c: &Connection, stmts: &[Stmt]) -> StoreResult<()> {
    for stmt in stmts {
        // An update that keeps the key and expiry first tries the statement that
        // leaves their indexes alone (see `sql::UPDATE_OBJECT_KEEPING_KEY`).
        let mut changed = 0;
        if stmt.sql == sql::UPDATE_OBJECT {
            changed = execute(c, sql::UPDATE_OBJECT_KEEPING_KEY, stmt)?;
        }
        if changed == 0 {
            changed = execute(c, stmt.sql, stmt)?;
        }
        if let (Expect::SomeRow(err), 0) = (stmt.expect, changed) {
            return Err(err(format!("{}: no row matched", stmt.what)));
        }
    }
    Ok(())
}

/// `sql` with `stmt`'s parameters; how many rows it changed.
fn execute(c: &Connection, sql: &str, stmt: &Stmt) -> StoreResult<usize> {
    c.prepare_cached(&sql::for_sqlite(sql))
        .and_then(|mut s| s.execute(rusqlite::params_from_iter(stmt.params.iter())))
        .map_err(|e| match map_err(e) {
            StoreError::Conflict(d) => StoreError::Conflict(format!("{}: {d}", stmt.what)),
            other => other,
        })
}

pub async fn delete_expired(
    store: &SqliteStore,
    tenant_id: TenantId,
    kind: ObjectKind,
    now: time::OffsetDateTime,
    limit: u32,
) -> StoreResult<u64> {
    store
        .write(move |c| {
            c.prepare_cached(&sql::for_sqlite(sql::DELETE_EXPIRED))
                .and_then(|mut s| {
                    s.execute(params![
                        tenant_id.to_string(),
                        kind.as_str(),
                        now.unix_timestamp(),
                        limit
                    ])
                })
                .map(|n| n as u64)
                .map_err(map_err)
        })
        .await
}

pub async fn audit(
    store: &SqliteStore,
    tenant_id: TenantId,
    query: &tessera_core::audit::AuditQuery,
) -> StoreResult<Vec<tessera_core::audit::AuditEntry>> {
    let params = sql::audit_params(tenant_id, query);
    let rows = store
        .read(move |c| {
            let mut s = c
                .prepare_cached(&sql::for_sqlite(sql::SELECT_AUDIT))
                .map_err(map_err)?;
            s.query_map(rusqlite::params_from_iter(params.iter()), |r| {
                Ok(sql::AuditRow {
                    id: r.get(0)?,
                    tenant_id: r.get(1)?,
                    at: r.get(2)?,
                    actor: r.get(3)?,
                    action: r.get(4)?,
                    target: r.get(5)?,
                    changes: r.get(6)?,
                })
            })
            .and_then(|rows| rows.collect::<Result<Vec<_>, _>>())
            .map_err(map_err)
        })
        .await?;
    rows.into_iter().map(sql::AuditRow::into_entry).collect()
}
