//! An in-memory [`Store`] for the core's unit tests: the contract on the trait (atomic
//! batches, versions, tenant scoping, conditional writes), with none of the I/O. The
//! real backends are checked against the same contract by `tessera-store`'s suite;
//! this one lets the grants be tested without a database.

use super::object::{ObjectKind, StoredObject, Write};
use super::{ChangeListener, Page, Requirement, Store, StoreError, StoreResult};
use crate::ids::ObjectId;
use crate::ids::TenantId;
use crate::tenant::{NewTenant, Tenant, TenantSlug};
use async_trait::async_trait;
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

#[derive(Default)]
pub struct MemoryStore {
    state: Mutex<State>,
    /// While set, every read and write fails as an unreachable database does.
    pub down: std::sync::atomic::AtomicBool,
}

#[derive(Default, Clone)]
struct State {
    tenants: BTreeMap<String, Tenant>,
    objects: BTreeMap<ObjectId, StoredObject>,
}

impl State {
    fn find(&self, tenant_id: TenantId, kind: ObjectKind, key: &str) -> Option<&StoredObject> {
        self.objects
            .values()
            .find(|o| o.tenant_id == tenant_id && o.kind == kind && o.key == key)
    }

    fn apply(&mut self, write: Write) -> StoreResult<()> {
        let conflict = |why: &str| Err(StoreError::Conflict(why.to_owned()));
        match write {
            Write::Put(mut object) => {
                if let Some(other) = self.find(object.tenant_id, object.kind, &object.key)
                    && other.id != object.id
                {
                    return conflict("key taken");
                }
                if object.is_multi_tenant_app()
                    && self.objects.values().any(|o| {
                        o.id != object.id && o.key == object.key && o.is_multi_tenant_app()
                    })
                {
                    return conflict("multi-tenant client_id taken");
                }
                match self.objects.get(&object.id) {
                    None if object.version == 0 => {}
                    Some(stored)
                        if stored.tenant_id == object.tenant_id
                            && stored.kind == object.kind
                            && stored.version == object.version
                            && object.version > 0 =>
                    {
                        object.created_at = stored.created_at;
                    }
                    _ => return conflict("version"),
                }
                object.version += 1;
                self.objects.insert(object.id, object);
                Ok(())
            }
            Write::Delete {
                tenant_id,
                kind,
                id,
            } => {
                if self
                    .objects
                    .get(&id)
                    .is_some_and(|o| o.tenant_id == tenant_id && o.kind == kind)
                {
                    self.objects.remove(&id);
                }
                Ok(())
            }
            Write::DeleteTenantObjects { id } => {
                self.objects.retain(|_, o| o.tenant_id != id);
                Ok(())
            }
            Write::DeleteTenant { id } => {
                self.tenants.retain(|_, t| t.id != id);
                Ok(())
            }
            Write::CreateTenant(_) | Write::UpdateTenant { .. } | Write::Audit(_) => Ok(()),
        }
    }

    /// Every write or none.
    fn apply_all(&mut self, writes: Vec<Write>) -> StoreResult<()> {
        let mut next = self.clone();
        for w in writes {
            next.apply(w)?;
        }
        *self = next;
        Ok(())
    }
}

impl MemoryStore {
    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn reachable(&self) -> StoreResult<()> {
        if self.down.load(std::sync::atomic::Ordering::SeqCst) {
            return Err(StoreError::Unavailable(
                "the test took the store down".into(),
            ));
        }
        Ok(())
    }
}

#[async_trait]
impl Store for MemoryStore {
    fn backend(&self) -> &'static str {
        "memory"
    }

    async fn ping(&self) -> StoreResult<()> {
        Ok(())
    }

    async fn create_tenant(&self, t: NewTenant) -> StoreResult<Tenant> {
        let tenant = Tenant {
            id: t.id,
            slug: t.slug.clone(),
            display_name: t.display_name,
            kind: t.kind,
            policy: t.policy,
            disabled: false,
            created_at: t.created_at,
            updated_at: t.created_at,
        };
        let mut state = self.lock();
        if state.tenants.contains_key(t.slug.as_str()) {
            return Err(StoreError::Conflict("slug taken".into()));
        }
        state
            .tenants
            .insert(t.slug.as_str().to_owned(), tenant.clone());
        Ok(tenant)
    }

    async fn tenant(&self, slug: &TenantSlug) -> StoreResult<Option<Tenant>> {
        Ok(self.lock().tenants.get(slug.as_str()).cloned())
    }

    async fn tenant_by_id(&self, id: TenantId) -> StoreResult<Option<Tenant>> {
        Ok(self.lock().tenants.values().find(|t| t.id == id).cloned())
    }

    async fn apps_with_client_id(
        &self,
        client_id: &str,
    ) -> StoreResult<Vec<(Tenant, StoredObject)>> {
        let state = self.lock();
        Ok(state
            .objects
            .values()
            .filter(|o| o.key == client_id && o.kind == ObjectKind::App)
            .filter_map(|o| {
                let tenant = state.tenants.values().find(|t| t.id == o.tenant_id)?;
                Some((tenant.clone(), o.clone()))
            })
            .collect())
    }

    async fn list_tenants(&self, _after: Option<&str>, _limit: u32) -> StoreResult<Page<Tenant>> {
        Ok(Page {
            items: self.lock().tenants.values().cloned().collect(),
            next: None,
        })
    }

    async fn objects(
        &self,
        tenant_id: TenantId,
        kind: ObjectKind,
    ) -> StoreResult<Vec<StoredObject>> {
        self.reachable()?;
        let mut found: Vec<StoredObject> = self
            .lock()
            .objects
            .values()
            .filter(|o| o.tenant_id == tenant_id && o.kind == kind)
            .cloned()
            .collect();
        found.sort_by(|a, b| a.key.cmp(&b.key));
        Ok(found)
    }

    async fn objects_after(
        &self,
        tenant_id: TenantId,
        kind: ObjectKind,
        after: Option<&str>,
        limit: u32,
    ) -> StoreResult<Vec<StoredObject>> {
        let all = self.objects(tenant_id, kind).await?;
        Ok(all
            .into_iter()
            .filter(|o| after.is_none_or(|a| o.key.as_str() > a))
            .take(limit as usize)
            .collect())
    }

    async fn object(
        &self,
        tenant_id: TenantId,
        kind: ObjectKind,
        key: &str,
    ) -> StoreResult<Option<StoredObject>> {
        self.reachable()?;
        Ok(self.lock().find(tenant_id, kind, key).cloned())
    }

    async fn objects_of_user(
        &self,
        tenant_id: TenantId,
        kind: ObjectKind,
        user_key: &str,
    ) -> StoreResult<Vec<StoredObject>> {
        let all = self.objects(tenant_id, kind).await?;
        Ok(all
            .into_iter()
            .filter(|o| o.owner().as_deref() == Some(user_key))
            .collect())
    }

    async fn object_by_id(
        &self,
        tenant_id: TenantId,
        kind: ObjectKind,
        id: ObjectId,
    ) -> StoreResult<Option<StoredObject>> {
        Ok(self
            .lock()
            .objects
            .get(&id)
            .filter(|o| o.tenant_id == tenant_id && o.kind == kind)
            .cloned())
    }

    async fn apply(&self, writes: Vec<Write>) -> StoreResult<()> {
        self.reachable()?;
        self.lock().apply_all(writes)
    }

    async fn apply_if(
        &self,
        required: &Requirement,
        writes: Vec<Write>,
    ) -> StoreResult<Option<StoredObject>> {
        // A real store answers later: let other requests of the test run up to their own
        // writes first, so concurrent uses of one token really race.
        tokio::task::yield_now().await;
        self.reachable()?;
        let mut state = self.lock();
        let Some(found) = state
            .find(required.tenant_id, required.kind, &required.key)
            .filter(|o| o.id == required.id)
            .filter(|o| {
                serde_json::from_str::<serde_json::Value>(&o.doc)
                    .is_ok_and(|d| d[required.flag.member()] == serde_json::Value::Bool(true))
            })
            .cloned()
        else {
            return Ok(None);
        };
        state.apply_all(writes)?;
        Ok(Some(found))
    }

    async fn delete_expired(
        &self,
        tenant_id: TenantId,
        kind: ObjectKind,
        now: time::OffsetDateTime,
        limit: u32,
    ) -> StoreResult<u64> {
        let mut state = self.lock();
        let gone: Vec<ObjectId> = state
            .objects
            .values()
            .filter(|o| o.tenant_id == tenant_id && o.kind == kind)
            .filter(|o| o.expires_at.is_some_and(|e| e <= now))
            .take(limit as usize)
            .map(|o| o.id)
            .collect();
        for id in &gone {
            state.objects.remove(id);
        }
        Ok(gone.len() as u64)
    }

    fn listen(&self, _listener: Arc<dyn ChangeListener>) {}

    async fn audit(
        &self,
        _tenant_id: TenantId,
        _query: &crate::audit::AuditQuery,
    ) -> StoreResult<Vec<crate::audit::AuditEntry>> {
        Ok(Vec::new())
    }
}
