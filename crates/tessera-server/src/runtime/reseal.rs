//! The second half of a master key rotation: the ring's status (every value sealed at
//! rest, counted by the key that sealed it) and the re-seal sweep that moves each under
//! the ring's first key. Values at rest are the signing keys' private parts, users'
//! TOTP secrets and the root of the keyed hashes (`tessera_core::key_ring`). Each
//! object is rewritten on the condition that it is still at the version that was read
//! (`StoredObject::version`), and read again when it is not, so a sweep beside live
//! traffic, admin writes and other nodes loses no change. Bearer values (codes, refresh
//! tokens, device codes) are in clients' hands and cannot be moved: they open under the
//! old key until they expire, which the status dates.

use crate::runtime::state::AppState;
use serde::Serialize;
use std::collections::BTreeMap;
use tessera_core::ids::TenantId;
use tessera_core::key_ring::{KeyRingRecord, RECORD_KEY, Reseal, Resealed, SEALED_KINDS};
use tessera_core::store::object::{ObjectKind, StoredObject, Write};
use tessera_core::store::{Store, StoreError, StoreResult};
use tessera_core::tenant::{Tenant, TenantSlug};
use time::OffsetDateTime;
use utoipa::ToSchema;

/// Objects read per page.
const PAGE: u32 = 500;

/// How often a re-seal reads an object again after another writer changed it.
const ATTEMPTS: usize = 5;

/// The master key ring as this node holds it and as the store uses it.
#[derive(Debug, Serialize, ToSchema)]
pub struct RingStatus {
    /// This node's ring: the id of each key, the sealing one first.
    pub ring: Vec<String>,
    /// Values sealed at rest, by the id of the key that sealed them.
    pub sealed: BTreeMap<String, u64>,
    /// Values at rest sealed under another key than this node's first: what a re-seal
    /// moves.
    pub to_reseal: u64,
    /// Values at rest sealed under a key this node's ring lacks: they cannot be opened
    /// here, and a re-seal leaves them.
    pub unopenable: u64,
    /// When the last re-seal finished, and under which key everything was then.
    pub resealed_at: Option<String>,
    pub resealed_under: Option<String>,
    /// Until when a bearer value sealed under an older key may still be presented: the
    /// last re-seal plus the longest refresh-token lifetime of any tenant. An older key
    /// may leave the ring once `to_reseal` is 0 and this time has passed; refresh
    /// tokens it sealed stop working when it leaves.
    pub older_keys_needed_until: Option<String>,
}

/// Every tenant, in slug order.
async fn tenants(store: &dyn Store) -> StoreResult<Vec<Tenant>> {
    let mut all = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let page = store.list_tenants(after.as_deref(), PAGE).await?;
        all.extend(page.items);
        match page.next {
            Some(next) => after = Some(next),
            None => return Ok(all),
        }
    }
}

/// The pages of objects that hold values sealed at rest, tenant by tenant, kind by
/// kind, in key order.
struct Walk<'a> {
    store: &'a dyn Store,
    tenants: Vec<TenantId>,
    tenant: usize,
    kind: usize,
    after: Option<String>,
}

impl<'a> Walk<'a> {
    fn new(store: &'a dyn Store, tenants: &[Tenant]) -> Self {
        Self {
            store,
            tenants: tenants.iter().map(|t| t.id).collect(),
            tenant: 0,
            kind: 0,
            after: None,
        }
    }

    async fn next_page(&mut self) -> StoreResult<Option<Vec<StoredObject>>> {
        loop {
            let Some(&tenant) = self.tenants.get(self.tenant) else {
                return Ok(None);
            };
            let Some(&kind) = SEALED_KINDS.get(self.kind) else {
                self.tenant += 1;
                self.kind = 0;
                continue;
            };
            let page = self
                .store
                .objects_after(tenant, kind, self.after.as_deref(), PAGE)
                .await?;
            if page.len() < PAGE as usize {
                self.kind += 1;
                self.after = None;
            } else {
                self.after = page.last().map(|o| o.key.clone());
            }
            if !page.is_empty() {
                return Ok(Some(page));
            }
        }
    }
}

fn internal(e: String) -> StoreError {
    StoreError::Internal(e)
}

/// The ring's status: every value at rest counted by the key that sealed it.
pub async fn status(state: &AppState) -> StoreResult<RingStatus> {
    let store = state.store.as_ref();
    let tenants = tenants(store).await?;
    let ring: Vec<String> = state
        .master
        .key_ids()
        .iter()
        .map(ToString::to_string)
        .collect();
    let mut sealed: BTreeMap<String, u64> = BTreeMap::new();
    let mut walk = Walk::new(store, &tenants);
    while let Some(page) = walk.next_page().await? {
        for object in &page {
            for key in tessera_core::key_ring::sealed_by(object).map_err(internal)? {
                let id = key.map_or_else(|| "unreadable".to_owned(), |k| k.to_string());
                *sealed.entry(id).or_default() += 1;
            }
        }
    }
    let primary = ring.first().cloned().unwrap_or_default();
    let count = |keep: &dyn Fn(&str) -> bool| -> u64 {
        sealed
            .iter()
            .filter(|(id, _)| keep(id))
            .map(|(_, n)| *n)
            .sum()
    };
    let to_reseal = count(&|id| id != primary);
    let unopenable = count(&|id| !ring.iter().any(|r| r == id));
    let record = record(state).await?;
    let resealed = record.and_then(|(_, r)| r.resealed);
    let longest = tenants
        .iter()
        .map(|t| i64::from(t.policy.refresh_token_lifetime_seconds))
        .max()
        .unwrap_or(0);
    Ok(RingStatus {
        ring,
        sealed,
        to_reseal,
        unopenable,
        resealed_at: resealed.as_ref().map(|r| timestamp(r.at)),
        resealed_under: resealed.as_ref().map(|r| r.key_id.clone()),
        older_keys_needed_until: resealed
            .as_ref()
            .map(|r| timestamp(r.at + time::Duration::seconds(longest))),
    })
}

fn timestamp(at: OffsetDateTime) -> String {
    tessera_core::errors::render::timestamp(at)
}

/// The key-ring record and its object.
async fn record(state: &AppState) -> StoreResult<Option<(StoredObject, KeyRingRecord)>> {
    let Some(admin) = state.store.tenant(&TenantSlug::admin()).await? else {
        return Ok(None);
    };
    let Some(object) = state
        .store
        .object(admin.id, ObjectKind::KeyRing, RECORD_KEY)
        .await?
    else {
        return Ok(None);
    };
    let record = object.decode().map_err(internal)?;
    Ok(Some((object, record)))
}

/// Re-seals one object under the ring's first key, reading it again when another
/// writer changed it first. Whether it was moved.
async fn reseal_one(state: &AppState, mut object: StoredObject) -> StoreResult<bool> {
    for _ in 0..ATTEMPTS {
        let now = state.clock.now();
        match tessera_core::key_ring::reseal(&state.master, state.rng.as_ref(), &object, now)
            .map_err(internal)?
        {
            Reseal::Current | Reseal::Unopenable => return Ok(false),
            Reseal::Resealed(moved) => match state.store.apply(vec![Write::Put(moved)]).await {
                Ok(()) => return Ok(true),
                Err(StoreError::Conflict(_)) => {
                    match state
                        .store
                        .object(object.tenant_id, object.kind, &object.key)
                        .await?
                    {
                        Some(current) => object = current,
                        None => return Ok(false),
                    }
                }
                Err(e) => return Err(e),
            },
        }
    }
    Err(StoreError::Conflict(format!(
        "{} {} kept changing during the re-seal",
        object.kind.as_str(),
        object.key
    )))
}

/// Moves every value sealed at rest under the ring's first key; when nothing is left
/// under another key, records the re-seal (which dates the older keys' retirement).
/// Safe to run again, and on several nodes at once.
pub async fn reseal(state: &AppState) -> StoreResult<RingStatus> {
    let tenants = tenants(state.store.as_ref()).await?;
    let mut moved = 0u64;
    let mut walk = Walk::new(state.store.as_ref(), &tenants);
    while let Some(page) = walk.next_page().await? {
        for object in page {
            if reseal_one(state, object).await? {
                moved += 1;
            }
        }
    }
    let after = status(state).await?;
    tracing::info!(
        moved,
        to_reseal = after.to_reseal,
        unopenable = after.unopenable,
        "re-sealed values at rest under the master key ring's first key"
    );
    if after.to_reseal == 0
        && let Some((object, mut record)) = record(state).await?
    {
        record.resealed = Some(Resealed {
            key_id: state.master.primary_id().to_string(),
            at: state.clock.now(),
        });
        let now = state.clock.now();
        let written = tessera_core::store::object::encode(&record);
        match state
            .store
            .apply(vec![Write::Put(object.with_doc(written, now))])
            .await
        {
            // Another node finished a re-seal at the same moment: its date stands.
            Ok(()) | Err(StoreError::Conflict(_)) => {}
            Err(e) => return Err(e),
        }
        return status(state).await;
    }
    Ok(after)
}
