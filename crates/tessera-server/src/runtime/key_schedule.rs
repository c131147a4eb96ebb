//! Each tenant's signing-key schedule (`tessera_core::keys::scheduled`: rotation after
//! `signing_key_rotation_days` once the next key has been published long enough, a
//! next key where one is missing, retired keys removed once their tokens expired), run
//! with every sweep. Every node runs it; the writes are versioned, so when two nodes
//! compute the same rotation one applies it and the other's conflicts, and both then
//! sign with the key the store names (the change reaches every node's cache).

use crate::http::error_response::store_error;
use crate::runtime::state::AppState;
use tessera_core::audit::AuditEntry;
use tessera_core::errors::{CatalogError, ErrorName};
use tessera_core::store::StoreError;
use tessera_core::store::object::{ObjectKind, Write};
use tessera_core::tenant::Tenant;

/// Applies what the tenant's schedule asks for now; how many keys changed.
pub async fn keep(state: &AppState, tenant: &Tenant) -> Result<usize, CatalogError> {
    let current = state
        .store
        .objects(tenant.id, ObjectKind::SigningKey)
        .await
        .map_err(store_error)?;
    let now = state.clock.now();
    let mut writes = tessera_core::keys::scheduled(
        &current,
        &tenant.policy,
        tenant.id,
        &state.master,
        state.rng.as_ref(),
        now,
    )
    .map_err(|e| CatalogError::new(ErrorName::InternalError).internal(e))?;
    if writes.is_empty() {
        return Ok(0);
    }
    let changed = writes.len();
    writes.push(Write::Audit(AuditEntry {
        id: state.rng.object_id(),
        tenant_id: tenant.id,
        at: now,
        actor: "tessera".to_owned(),
        action: "keys.schedule".to_owned(),
        target: format!("tenant:{}", tenant.slug),
        changes: vec!["signing_keys".to_owned()],
    }));
    match state.store.apply(writes).await {
        Ok(()) => {
            tracing::info!(tenant = %tenant.slug, changed, "signing keys changed on schedule");
            Ok(changed)
        }
        // Another node applied the same change first.
        Err(StoreError::Conflict(_)) => Ok(0),
        Err(e) => Err(store_error(e)),
    }
}
