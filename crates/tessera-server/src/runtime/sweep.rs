//! Removing protocol records that can no longer matter: expired sessions, codes,
//! refresh tokens and deny-list entries; keeping each tenant's signing-key schedule
//! (`runtime::key_schedule`); forgetting rate-limit counts back at a full allowance.
//! `serve` runs it every few minutes.

use crate::http::error_response::store_error;
use crate::runtime::state::AppState;
use tessera_core::errors::CatalogError;
use tessera_core::store::object::ObjectKind;
use tessera_core::tenant::Tenant;

/// How often `serve` sweeps.
pub const INTERVAL: std::time::Duration = std::time::Duration::from_secs(300);

/// Sweeps every tenant; returns how many records went.
pub async fn sweep(state: &AppState) -> Result<usize, CatalogError> {
    state.rate_limits.forget_idle();
    let mut removed = 0;
    let mut after: Option<String> = None;
    loop {
        let page = state
            .store
            .list_tenants(after.as_deref(), 100)
            .await
            .map_err(store_error)?;
        for tenant in &page.items {
            // One tenant's failure must not leave the others unswept.
            match sweep_tenant(state, tenant).await {
                Ok(n) => removed += n,
                Err(e) => {
                    tracing::warn!(tenant = %tenant.slug, error = %e, "sweeping a tenant failed; retrying next round")
                }
            }
            if let Err(e) = crate::runtime::key_schedule::keep(state, tenant).await {
                tracing::warn!(tenant = %tenant.slug, error = %e, "the signing-key schedule failed; retrying next round");
            }
        }
        match page.next {
            Some(next) => after = Some(next),
            None => return Ok(removed),
        }
    }
}

/// Expired records are deleted in batches this size, so one round never holds a long
/// write transaction (each batch is its own).
const BATCH: u32 = 5_000;

/// Deletes the tenant's protocol records past their `expires_at` (set when each was
/// written: a session's end, a code's end plus the access-token lifetime so a replay
/// can still revoke, a refresh token's idle or family end, a deny-list entry's token
/// expiry plus the verifier's leeway). By index: nothing is read, so a million stored refresh tokens cost this
/// round no memory.
async fn sweep_tenant(state: &AppState, tenant: &Tenant) -> Result<usize, CatalogError> {
    let now = state.clock.now();
    let mut removed = 0;
    for kind in ObjectKind::ALL
        .into_iter()
        .filter(|k| k.is_protocol_state())
    {
        loop {
            let n = state
                .store
                .delete_expired(tenant.id, kind, now, BATCH)
                .await
                .map_err(store_error)?;
            removed += usize::try_from(n).unwrap_or(usize::MAX);
            if n < u64::from(BATCH) {
                break;
            }
        }
    }
    Ok(removed)
}
