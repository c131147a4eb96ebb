//! Tenant queries on SQLite.

use super::{SqliteStore, map_err};
use crate::sql::{self, TenantRow};
use rusqlite::{OptionalExtension, Row, params};
use tessera_core::ids::TenantId;
use tessera_core::store::{Page, StoreError, StoreResult};
use tessera_core::tenant::{NewTenant, Tenant, TenantSlug};

fn row(r: &Row<'_>) -> rusqlite::Result<TenantRow> {
    Ok(TenantRow {
        id: r.get(0)?,
        slug: r.get(1)?,
        display_name: r.get(2)?,
        kind: r.get(3)?,
        disabled: r.get(4)?,
        created_at: r.get(5)?,
        updated_at: r.get(6)?,
        policy: r.get(7)?,
    })
}

pub async fn create(store: &SqliteStore, t: NewTenant) -> StoreResult<Tenant> {
    let slug = t.slug.clone();
    store
        .write(move |c| {
            c.prepare_cached(&sql::for_sqlite(sql::INSERT_TENANT))
                .and_then(|mut s| {
                    s.execute(params![
                        t.id.to_string(),
                        t.slug.as_str(),
                        t.display_name,
                        t.kind.as_str(),
                        t.created_at.unix_timestamp(),
                        tessera_core::store::object::encode(&t.policy)
                    ])
                })
                .map_err(|e| match map_err(e) {
                    StoreError::Conflict(_) => {
                        StoreError::Conflict(format!("tenant slug {} is taken", t.slug))
                    }
                    other => other,
                })?;
            Ok(())
        })
        .await?;
    by_slug(store, &slug)
        .await?
        .ok_or_else(|| StoreError::Internal("a tenant vanished right after its insert".into()))
}

pub async fn by_slug(store: &SqliteStore, slug: &TenantSlug) -> StoreResult<Option<Tenant>> {
    store
        .lookup(|c| {
            c.prepare_cached(&sql::for_sqlite(sql::SELECT_TENANT_BY_SLUG))
                .and_then(|mut s| s.query_row(params![slug.as_str()], row).optional())
                .map_err(map_err)
        })?
        .map(TenantRow::into_tenant)
        .transpose()
}

pub async fn by_id(store: &SqliteStore, id: TenantId) -> StoreResult<Option<Tenant>> {
    store
        .lookup(|c| {
            c.prepare_cached(&sql::for_sqlite(sql::SELECT_TENANT_BY_ID))
                .and_then(|mut s| s.query_row(params![id.to_string()], row).optional())
                .map_err(map_err)
        })?
        .map(TenantRow::into_tenant)
        .transpose()
}

pub async fn list(
    store: &SqliteStore,
    after: Option<&str>,
    limit: u32,
) -> StoreResult<Page<Tenant>> {
    let after = after.unwrap_or_default().to_owned();
    let limit = sql::clamp_limit(limit);
    let rows = store
        .read(move |c| {
            let mut s = c
                .prepare_cached(&sql::for_sqlite(sql::LIST_TENANTS_AFTER))
                .map_err(map_err)?;
            // One row more than asked tells whether another page follows.
            let rows = s
                .query_map(params![after, limit + 1], row)
                .and_then(|rows| rows.collect::<Result<Vec<_>, _>>())
                .map_err(map_err)?;
            Ok(rows)
        })
        .await?;
    sql::tenant_page(rows, limit)
}
