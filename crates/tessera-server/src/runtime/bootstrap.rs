//! What Tessera creates for itself in a new store: the built-in `admin` tenant (its
//! apps and roles arrive with the directory).

use tessera_core::clock::Clock;
use tessera_core::crypto::MasterKey;
use tessera_core::ids::TenantId;
use tessera_core::rng::Rng;
use tessera_core::store::object::{ObjectKind, Write};
use tessera_core::store::{Store, StoreError, StoreResult};
use tessera_core::tenant::{NewTenant, TenantKind, TenantSlug};

/// Creates the `admin` tenant, with its signing keys, unless it exists. Safe to run on
/// every start and on several nodes at once: the slug's uniqueness decides the race.
pub async fn ensure_admin_tenant(
    store: &dyn Store,
    master: &MasterKey,
    clock: &dyn Clock,
    rng: &dyn Rng,
) -> StoreResult<()> {
    let slug = TenantSlug::admin();
    if let Some(t) = store.tenant(&slug).await? {
        if store
            .objects(t.id, ObjectKind::SigningKey)
            .await?
            .is_empty()
        {
            let keys = tessera_core::keys::initial_keys(t.id, master, rng, clock.now())
                .map_err(StoreError::Internal)?;
            store.apply(keys).await?;
        }
        return Ok(());
    }
    let id = TenantId::from_uuid(rng.uuid());
    let mut writes = vec![Write::CreateTenant(NewTenant {
        id,
        slug,
        display_name: "Tessera administration".to_owned(),
        kind: TenantKind::Work,
        policy: Default::default(),
        created_at: clock.now(),
    })];
    writes.extend(
        tessera_core::keys::initial_keys(id, master, rng, clock.now())
            .map_err(StoreError::Internal)?,
    );
    match store.apply(writes).await {
        Ok(()) => {
            tracing::info!("created the built-in admin tenant");
            Ok(())
        }
        Err(StoreError::Conflict(_)) => Ok(()),
        Err(e) => Err(e),
    }
}
