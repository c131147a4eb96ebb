//! What Tessera creates for itself in a new store: the built-in `admin` tenant (its
//! apps and roles arrive with the directory).

use tessera_core::clock::Clock;
use tessera_core::rng::Rng;
use tessera_core::store::{Store, StoreError, StoreResult};
use tessera_core::tenant::{NewTenant, TenantKind, TenantSlug};

/// Creates the `admin` tenant unless it exists. Safe to run on every start and on
/// several nodes at once: the slug's uniqueness decides the race.
pub async fn ensure_admin_tenant(
    store: &dyn Store,
    clock: &dyn Clock,
    rng: &dyn Rng,
) -> StoreResult<()> {
    let slug = TenantSlug::admin();
    if store.tenant(&slug).await?.is_some() {
        return Ok(());
    }
    let created = store
        .create_tenant(NewTenant {
            id: rng.uuid(),
            slug,
            display_name: "Tessera administration".to_owned(),
            kind: TenantKind::Work,
            policy: Default::default(),
            created_at: clock.now(),
        })
        .await;
    match created {
        Ok(_) => {
            tracing::info!("created the built-in admin tenant");
            Ok(())
        }
        Err(StoreError::Conflict(_)) => Ok(()),
        Err(e) => Err(e),
    }
}
