//! SQL shared by both backends, written with PostgreSQL's `$1` placeholders; the SQLite
//! backend rewrites them to `?1` (SQLite numbers `?NNN` parameters explicitly, whereas
//! it would number `$1` by order of appearance). Also the row → domain mapping and the
//! translation of directory writes into statements, so both backends run the very same
//! SQL for them.

use tessera_core::ids::ObjectId;
use tessera_core::ids::TenantId;
use tessera_core::store::object::{ObjectKind, StoredObject, Write, encode};
use tessera_core::store::{Page, StoreError, StoreResult};
use tessera_core::tenant::{Tenant, TenantKind, TenantSlug};
use time::OffsetDateTime;

macro_rules! tenant_columns {
    () => {
        "id, slug, display_name, kind, disabled, created_at, updated_at, policy"
    };
}

macro_rules! object_select {
    () => {
        "SELECT id, tenant_id, kind, key, doc, created_at, updated_at, version, expires_at FROM directory_objects"
    };
}

pub const INSERT_TENANT: &str = "INSERT INTO tenants (id, slug, display_name, kind, disabled, created_at, updated_at, policy) \
     VALUES ($1, $2, $3, $4, FALSE, $5, $5, $6)";

pub const SELECT_TENANT_BY_SLUG: &str = concat!(
    "SELECT ",
    tenant_columns!(),
    " FROM tenants WHERE slug = $1"
);

/// By id, the primary key: the home tenant of a multi-tenant app
/// (`Store::apps_with_client_id`).
pub const SELECT_TENANT_BY_ID: &str =
    concat!("SELECT ", tenant_columns!(), " FROM tenants WHERE id = $1");

pub const LIST_TENANTS_AFTER: &str = concat!(
    "SELECT ",
    tenant_columns!(),
    " FROM tenants WHERE slug > $1 ORDER BY slug LIMIT $2"
);

const DELETE_TENANT_OBJECTS: &str = "DELETE FROM directory_objects WHERE tenant_id = $1";
const DELETE_TENANT: &str = "DELETE FROM tenants WHERE id = $1";
const UPDATE_TENANT: &str = "UPDATE tenants SET display_name = $2, kind = $3, policy = $4, updated_at = $5, disabled = $6 WHERE id = $1";

pub const SELECT_OBJECTS: &str = concat!(
    object_select!(),
    " WHERE tenant_id = $1 AND kind = $2 ORDER BY key"
);

/// One page of a kind in key order: keys after `$3` ('' for the first page), at most
/// `$4`. The (tenant_id, kind, key) unique index serves it as a range scan.
pub const SELECT_OBJECTS_AFTER: &str = concat!(
    object_select!(),
    " WHERE tenant_id = $1 AND kind = $2 AND key > $3 ORDER BY key LIMIT $4"
);

pub const SELECT_OBJECT: &str = concat!(
    object_select!(),
    " WHERE tenant_id = $1 AND kind = $2 AND key = $3"
);

/// The objects of one kind (protocol records, consents) that belong to one user ($3:
/// the owner column). Sorted by key in Rust ([`by_key`]), not by `ORDER BY key`: with
/// that, PostgreSQL's generic plan on a small table read the (tenant_id, kind, key)
/// index for its order and filtered the owner, every record of the kind, and kept that
/// plan as the table grew (see [`UPDATE_OBJECT`]).
pub const SELECT_OBJECTS_OF_USER: &str = concat!(
    object_select!(),
    " WHERE tenant_id = $1 AND kind = $2 AND owner = $3"
);

/// Every app with client_id `$1`, in every tenant, through migration 0009's partial
/// index of app keys.
pub const SELECT_APPS_WITH_CLIENT_ID: &str =
    concat!(object_select!(), " WHERE key = $1 AND kind = 'app'");

/// Puts objects in key order, as `Store::objects_of_user` promises.
pub fn by_key(mut objects: Vec<StoredObject>) -> Vec<StoredObject> {
    objects.sort_unstable_by(|a, b| a.key.cmp(&b.key));
    objects
}

/// By id, the primary key; the tenant and kind must match too. They are tested inside
/// `(…) IS TRUE` so that only `id` can choose an index: see [`UPDATE_OBJECT`].
pub const SELECT_OBJECT_BY_ID: &str = concat!(
    object_select!(),
    " WHERE id = $3 AND (tenant_id = $1 AND kind = $2) IS TRUE"
);

/// An object and the user its document's `user` field names (`Store::object_with_user`),
/// in one read ($4: the user kind): the user's columns are NULL when there is none.
/// A LATERAL subquery with LIMIT, so the user is found through the unique index on all
/// three of tenant, kind and key: as a plain join, PostgreSQL's plan for few users
/// filtered the tenant's users by key instead, which a tenant with many users would
/// pay on every read. The user's key is the owner column (`StoredObject::owner`, written
/// on insert); objects without one have no user.
pub const SELECT_OBJECT_WITH_USER: &str = "SELECT o.id, o.tenant_id, o.kind, o.key, o.doc, o.created_at, o.updated_at, o.version, o.expires_at, \
     u.id, u.tenant_id, u.kind, u.key, u.doc, u.created_at, u.updated_at, u.version, u.expires_at \
     FROM directory_objects o LEFT JOIN LATERAL \
     (SELECT id, tenant_id, kind, key, doc, created_at, updated_at, version, expires_at FROM directory_objects \
     WHERE tenant_id = o.tenant_id AND kind = $4 AND key = o.owner LIMIT 1) u ON TRUE \
     WHERE o.tenant_id = $1 AND o.kind = $2 AND o.key = $3";

/// A new object (`StoredObject::version` 0). A stored object with the same id, or with
/// the same tenant, kind and key, makes it fail with a unique violation, which both
/// backends report as a conflict. The owner ($9) is written on insert only (migration
/// 0006).
const INSERT_OBJECT: &str = "INSERT INTO directory_objects (id, tenant_id, kind, key, doc, created_at, updated_at, version, expires_at, owner) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, 1, $8, $9)";

/// A stored object, replaced only within its own tenant and kind and only if it is
/// still at the version the writer read ($7): a cross-tenant id, a concurrent change or
/// a deletion since the read updates nothing (0 rows), which `apply` reports as a
/// conflict. Plain statements rather than one `INSERT … ON CONFLICT DO UPDATE`: the
/// upsert paid for speculative insertion on every write, and it brought a deleted
/// object back when a writer still held its last version.
///
/// Only `id = $1` may choose the index. PostgreSQL keeps one generic plan per prepared
/// statement, and on a new, small table the plan for plain `tenant_id = $2 AND kind =
/// $3` conditions used the (tenant_id, kind, key) index; kept once the table had grown,
/// it read every refresh token of the tenant on each rotation (600 rotations/s instead
/// of 3,000). Wrapped in `(…) IS TRUE` (the columns are NOT NULL, so the meaning is the
/// same), the conditions are no longer index conditions, only a filter.
pub const UPDATE_OBJECT: &str = "UPDATE directory_objects SET key = $4, doc = $5, updated_at = $6, \
     expires_at = $8, version = version + 1 \
     WHERE id = $1 AND (tenant_id = $2 AND kind = $3 AND version = $7) IS TRUE";

/// [`UPDATE_OBJECT`] for a write that keeps the object's key and expiry, which is nearly
/// every write (a rotation retires its token this way): SQLite only. SQLite decides
/// which indexes an `UPDATE` maintains from the columns it sets, not from whether
/// their values change, so `UPDATE_OBJECT` deletes and re-inserts the object's entries
/// in the (tenant, kind, key) and expiry indexes on every put, dirtying their pages
/// for the WAL. This statement sets neither column and matches only if both are
/// already what the write carries; when it matches nothing (a new key or expiry, or a
/// conflict) the SQLite backend runs `UPDATE_OBJECT`, in the same savepoint. PostgreSQL
/// compares the values itself (an unchanged indexed column keeps an update heap-only),
/// and keeps `UPDATE_OBJECT` alone.
pub const UPDATE_OBJECT_KEEPING_KEY: &str = "UPDATE directory_objects SET doc = $5, updated_at = $6, \
     version = version + 1 \
     WHERE id = $1 AND (tenant_id = $2 AND kind = $3 AND version = $7 AND key = $4 \
     AND expires_at IS NOT DISTINCT FROM $8) IS TRUE";

const INSERT_AUDIT: &str = "INSERT INTO audit_log (id, tenant_id, at, actor, action, target, changes) \
     VALUES ($1, $2, $3, $4, $5, $6, $7)";

/// Optional filters use sentinels (empty actor, the widest times) so the SQL is static.
pub const SELECT_AUDIT: &str = "SELECT id, tenant_id, at, actor, action, target, changes FROM audit_log \
     WHERE tenant_id = $1 AND ($2 = '' OR actor = $2) AND at >= $3 AND at <= $4 \
     ORDER BY at DESC, seq DESC LIMIT $5";

/// At most $4 expired objects of one tenant and kind (a subquery: SQLite's DELETE has no
/// LIMIT by default).
pub const DELETE_EXPIRED: &str = "DELETE FROM directory_objects WHERE id IN \
     (SELECT id FROM directory_objects WHERE tenant_id = $1 AND kind = $2 \
     AND expires_at IS NOT NULL AND expires_at <= $3 LIMIT $4)";

/// By id; the tenant and kind only filter (see [`UPDATE_OBJECT`]).
pub const DELETE_OBJECT: &str =
    "DELETE FROM directory_objects WHERE id = $3 AND (tenant_id = $1 AND kind = $2) IS TRUE";

/// `$N` → `?N` for SQLite.
pub fn for_sqlite(sql: &str) -> String {
    // Only a `$` before a digit is a placeholder: a JSON path such as `'$.member'` stays.
    let mut out = String::with_capacity(sql.len());
    let mut chars = sql.chars().peekable();
    while let Some(c) = chars.next() {
        let placeholder = c == '$' && chars.peek().is_some_and(char::is_ascii_digit);
        out.push(if placeholder { '?' } else { c });
    }
    out
}

/// A bound parameter, the same for both drivers.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Text(String),
    Int(i64),
    /// A nullable integer column.
    OptInt(Option<i64>),
    /// A nullable text column.
    OptText(Option<String>),
    Bool(bool),
}

/// What a statement must have changed for its batch to commit.
#[derive(Debug, Clone, Copy)]
pub enum Expect {
    Any,
    /// At least one row; otherwise the batch fails with this error.
    SomeRow(fn(String) -> StoreError),
}

#[derive(Debug, Clone)]
pub struct Stmt {
    pub sql: &'static str,
    pub params: Vec<Value>,
    pub expect: Expect,
    /// What the statement does, for error messages.
    pub what: String,
}

/// The statements that carry out one directory write.
pub fn statements(write: &Write) -> Stmt {
    use Value::{Bool, Int, OptInt, OptText, Text};
    match write {
        Write::CreateTenant(t) => Stmt {
            sql: INSERT_TENANT,
            params: vec![
                Text(t.id.to_string()),
                Text(t.slug.to_string()),
                Text(t.display_name.clone()),
                Text(t.kind.as_str().to_owned()),
                Int(t.created_at.unix_timestamp()),
                Text(encode(&t.policy)),
            ],
            expect: Expect::Any,
            what: format!("create tenant {}", t.slug),
        },
        Write::UpdateTenant {
            id,
            display_name,
            kind,
            policy,
            disabled,
            at,
        } => Stmt {
            sql: UPDATE_TENANT,
            params: vec![
                Text(id.to_string()),
                Text(display_name.clone()),
                Text(kind.as_str().to_owned()),
                Text(policy.clone()),
                Int(at.unix_timestamp()),
                Bool(*disabled),
            ],
            expect: Expect::SomeRow(StoreError::Internal),
            what: format!("update tenant {id}"),
        },
        Write::Put(o) => {
            // $1–$5 are the same in both statements.
            let mut params = vec![
                Text(o.id.to_string()),
                Text(o.tenant_id.to_string()),
                Text(o.kind.as_str().to_owned()),
                Text(o.key.clone()),
                Text(o.doc.clone()),
            ];
            let expires_at = OptInt(o.expires_at.map(OffsetDateTime::unix_timestamp));
            let updated_at = Int(o.updated_at.unix_timestamp());
            let sql = if o.version == 0 {
                let created_at = Int(o.created_at.unix_timestamp());
                params.extend([created_at, updated_at, expires_at, OptText(o.owner())]);
                INSERT_OBJECT
            } else {
                params.extend([updated_at, Int(o.version), expires_at]);
                UPDATE_OBJECT
            };
            Stmt {
                sql,
                params,
                expect: Expect::SomeRow(StoreError::Conflict),
                what: format!("write {} {}", o.kind.as_str(), o.key),
            }
        }
        Write::Audit(e) => Stmt {
            sql: INSERT_AUDIT,
            params: vec![
                Text(e.id.to_string()),
                Text(e.tenant_id.to_string()),
                Int(e.at.unix_timestamp()),
                Text(e.actor.clone()),
                Text(e.action.clone()),
                Text(e.target.clone()),
                Text(encode(&e.changes)),
            ],
            expect: Expect::Any,
            what: format!("audit {}", e.action),
        },
        Write::DeleteTenantObjects { id } => Stmt {
            sql: DELETE_TENANT_OBJECTS,
            params: vec![Text(id.to_string())],
            expect: Expect::Any,
            what: format!("delete the objects of tenant {id}"),
        },
        // The audit log goes with the row (ON DELETE CASCADE on both backends).
        Write::DeleteTenant { id } => Stmt {
            sql: DELETE_TENANT,
            params: vec![Text(id.to_string())],
            expect: Expect::SomeRow(StoreError::Conflict),
            what: format!("delete tenant {id}"),
        },
        Write::Delete {
            tenant_id,
            kind,
            id,
        } => Stmt {
            sql: DELETE_OBJECT,
            params: vec![
                Text(tenant_id.to_string()),
                Text(kind.as_str().to_owned()),
                Text(id.to_string()),
            ],
            expect: Expect::Any,
            what: format!("delete {} {id}", kind.as_str()),
        },
    }
}

/// A tenant row as both drivers read it.
pub struct TenantRow {
    pub id: String,
    pub slug: String,
    pub display_name: String,
    pub kind: String,
    pub disabled: bool,
    pub created_at: i64,
    pub updated_at: i64,
    pub policy: String,
}

impl TenantRow {
    /// Maps a row to the domain type. A value that fails to parse means the row was
    /// written by something other than Tessera: an internal error, not a client one.
    pub fn into_tenant(self) -> StoreResult<Tenant> {
        let corrupt =
            |what: &str| StoreError::Internal(format!("tenant row {}: bad {what}", self.id));
        Ok(Tenant {
            id: TenantId::parse(&self.id).ok_or_else(|| corrupt("id"))?,
            slug: TenantSlug::parse_path(&self.slug).map_err(|_| corrupt("slug"))?,
            kind: TenantKind::parse(&self.kind).ok_or_else(|| corrupt("kind"))?,
            created_at: from_unix(self.created_at).ok_or_else(|| corrupt("created_at"))?,
            updated_at: from_unix(self.updated_at).ok_or_else(|| corrupt("updated_at"))?,
            policy: serde_json::from_str(&self.policy).map_err(|_| corrupt("policy"))?,
            display_name: self.display_name,
            disabled: self.disabled,
        })
    }
}

/// A directory object row as both drivers read it.
pub struct ObjectRow {
    pub id: String,
    pub tenant_id: String,
    pub kind: String,
    pub key: String,
    pub doc: String,
    pub created_at: i64,
    pub updated_at: i64,
    pub version: i64,
    pub expires_at: Option<i64>,
}

impl ObjectRow {
    pub fn into_object(self) -> StoreResult<StoredObject> {
        let corrupt =
            |what: &str| StoreError::Internal(format!("directory object {}: bad {what}", self.id));
        Ok(StoredObject {
            id: ObjectId::parse(&self.id).ok_or_else(|| corrupt("id"))?,
            tenant_id: TenantId::parse(&self.tenant_id).ok_or_else(|| corrupt("tenant_id"))?,
            kind: ObjectKind::parse(&self.kind).ok_or_else(|| corrupt("kind"))?,
            created_at: from_unix(self.created_at).ok_or_else(|| corrupt("created_at"))?,
            updated_at: from_unix(self.updated_at).ok_or_else(|| corrupt("updated_at"))?,
            version: self.version,
            expires_at: match self.expires_at {
                Some(at) => Some(from_unix(at).ok_or_else(|| corrupt("expires_at"))?),
                None => None,
            },
            key: self.key,
            doc: self.doc,
        })
    }
}

pub fn from_unix(seconds: i64) -> Option<OffsetDateTime> {
    OffsetDateTime::from_unix_timestamp(seconds).ok()
}

/// Page size bounds shared by both backends: at least 1, at most 1000 rows.
pub fn clamp_limit(limit: u32) -> i64 {
    i64::from(limit.clamp(1, 1000))
}

/// Cuts the one-extra row fetched to detect a next page and builds the cursor.
pub fn tenant_page(mut rows: Vec<TenantRow>, limit: i64) -> StoreResult<Page<Tenant>> {
    let more = rows.len() as i64 > limit;
    rows.truncate(limit as usize);
    let items = rows
        .into_iter()
        .map(TenantRow::into_tenant)
        .collect::<StoreResult<Vec<_>>>()?;
    let next = more
        .then(|| items.last().map(|t| t.slug.to_string()))
        .flatten();
    Ok(Page { items, next })
}

/// The parameters of [`SELECT_AUDIT`] for a query.
pub fn audit_params(tenant_id: TenantId, q: &tessera_core::audit::AuditQuery) -> Vec<Value> {
    vec![
        Value::Text(tenant_id.to_string()),
        Value::Text(q.actor.clone().unwrap_or_default()),
        Value::Int(q.since.map_or(i64::MIN, OffsetDateTime::unix_timestamp)),
        Value::Int(q.until.map_or(i64::MAX, OffsetDateTime::unix_timestamp)),
        Value::Int(clamp_limit(q.limit)),
    ]
}

/// An audit row as both drivers read it.
pub struct AuditRow {
    pub id: String,
    pub tenant_id: String,
    pub at: i64,
    pub actor: String,
    pub action: String,
    pub target: String,
    pub changes: String,
}

impl AuditRow {
    pub fn into_entry(self) -> StoreResult<tessera_core::audit::AuditEntry> {
        let corrupt =
            |what: &str| StoreError::Internal(format!("audit entry {}: bad {what}", self.id));
        Ok(tessera_core::audit::AuditEntry {
            id: ObjectId::parse(&self.id).ok_or_else(|| corrupt("id"))?,
            tenant_id: TenantId::parse(&self.tenant_id).ok_or_else(|| corrupt("tenant_id"))?,
            at: from_unix(self.at).ok_or_else(|| corrupt("at"))?,
            changes: serde_json::from_str(&self.changes).map_err(|_| corrupt("changes"))?,
            actor: self.actor,
            action: self.action,
            target: self.target,
        })
    }
}
