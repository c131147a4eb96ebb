//! SQL shared by both backends, written with PostgreSQL's `$1` placeholders; the SQLite
//! backend rewrites them to `?1` (SQLite numbers `?NNN` parameters explicitly, whereas
//! it would number `$1` by order of appearance). Also the row → domain mapping.

use tessera_core::store::{Page, StoreError, StoreResult};
use tessera_core::tenant::{Tenant, TenantKind, TenantSlug};
use time::OffsetDateTime;

pub const INSERT_TENANT: &str = "INSERT INTO tenants (id, slug, display_name, kind, disabled, created_at, updated_at) \
     VALUES ($1, $2, $3, $4, FALSE, $5, $5)";

pub const SELECT_TENANT_BY_SLUG: &str = "SELECT id, slug, display_name, kind, disabled, created_at, updated_at \
     FROM tenants WHERE slug = $1";

pub const LIST_TENANTS_AFTER: &str = "SELECT id, slug, display_name, kind, disabled, created_at, updated_at \
     FROM tenants WHERE slug > $1 ORDER BY slug LIMIT $2";

pub const SET_TENANT_DISABLED: &str = "UPDATE tenants SET disabled = $2, updated_at = $3 WHERE slug = $1 \
     RETURNING id, slug, display_name, kind, disabled, created_at, updated_at";

/// `$N` → `?N` for SQLite.
pub fn for_sqlite(sql: &str) -> String {
    sql.replace('$', "?")
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
}

impl TenantRow {
    /// Maps a row to the domain type. A value that fails to parse means the row was
    /// written by something other than Tessera: an internal error, not a client one.
    pub fn into_tenant(self) -> StoreResult<Tenant> {
        let corrupt =
            |what: &str| StoreError::Internal(format!("tenant row {}: bad {what}", self.id));
        Ok(Tenant {
            id: uuid::Uuid::parse_str(&self.id).map_err(|_| corrupt("id"))?,
            slug: TenantSlug::parse_path(&self.slug).map_err(|_| corrupt("slug"))?,
            kind: TenantKind::parse(&self.kind).ok_or_else(|| corrupt("kind"))?,
            created_at: from_unix(self.created_at).ok_or_else(|| corrupt("created_at"))?,
            updated_at: from_unix(self.updated_at).ok_or_else(|| corrupt("updated_at"))?,
            display_name: self.display_name,
            disabled: self.disabled,
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
