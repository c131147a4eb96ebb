//! Removing protocol records that can no longer matter: expired sessions, codes,
//! refresh tokens and deny-list entries. `serve` runs it every few minutes; each tenant
//! is one atomic batch, and a record changed meanwhile is left for the next round.

use crate::error_response::store_error;
use crate::state::AppState;
use serde::de::DeserializeOwned;
use tessera_core::directory::object::{ObjectKind, StoredObject, Write};
use tessera_core::errors::CatalogError;
use tessera_core::oauth::records::{AuthCode, RefreshToken, RevokedAccessToken, Session};
use tessera_core::store::StoreError;
use tessera_core::tenant::Tenant;
use time::OffsetDateTime;

/// How often `serve` sweeps.
pub const INTERVAL: std::time::Duration = std::time::Duration::from_secs(300);

/// Sweeps every tenant; returns how many records went.
pub async fn sweep(state: &AppState) -> Result<usize, CatalogError> {
    let mut removed = 0;
    let mut after: Option<String> = None;
    loop {
        let page = state
            .store
            .list_tenants(after.as_deref(), 100)
            .await
            .map_err(store_error)?;
        for tenant in &page.items {
            removed += sweep_tenant(state, tenant).await?;
        }
        match page.next {
            Some(next) => after = Some(next),
            None => return Ok(removed),
        }
    }
}

async fn expired<T: DeserializeOwned>(
    state: &AppState,
    tenant: &Tenant,
    kind: ObjectKind,
    end: impl Fn(&T) -> OffsetDateTime,
) -> Result<Vec<StoredObject>, CatalogError> {
    let now = state.clock.now();
    let objects = state
        .store
        .objects(tenant.id, kind)
        .await
        .map_err(store_error)?;
    // A record that does not decode is left alone (and reported where it is read).
    Ok(objects
        .into_iter()
        .filter(|o| o.decode::<T>().is_ok_and(|r| end(&r) <= now))
        .collect())
}

async fn sweep_tenant(state: &AppState, tenant: &Tenant) -> Result<usize, CatalogError> {
    let access_life =
        time::Duration::seconds(i64::from(tenant.policy.access_token_lifetime_seconds));
    let mut gone = expired::<Session>(state, tenant, ObjectKind::Session, |s| s.expires_at).await?;
    // A redeemed code is kept while the access token it gave can live, so a replay can
    // still revoke it.
    gone.extend(
        expired::<AuthCode>(state, tenant, ObjectKind::AuthCode, |c| {
            c.expires_at + access_life
        })
        .await?,
    );
    gone.extend(
        expired::<RefreshToken>(state, tenant, ObjectKind::RefreshToken, |r| r.expires_at).await?,
    );
    gone.extend(
        expired::<RevokedAccessToken>(state, tenant, ObjectKind::RevokedAccessToken, |r| {
            r.expires_at
        })
        .await?,
    );
    if gone.is_empty() {
        return Ok(0);
    }
    let count = gone.len();
    let writes = gone
        .into_iter()
        .map(|o| Write::Delete {
            tenant_id: tenant.id,
            kind: o.kind,
            id: o.id,
        })
        .collect();
    match state.store.apply(writes).await {
        Ok(()) => Ok(count),
        Err(StoreError::Conflict(_)) => Ok(0),
        Err(e) => Err(store_error(e)),
    }
}
