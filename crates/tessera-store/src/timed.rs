//! A deadline on every store call: a database that stops answering (a network that
//! drops packets, a server frozen mid-failover) would otherwise hold a request for as
//! long as TCP takes to give up, minutes. Past [`Timed`]'s limit the call is abandoned
//! and answers `Unavailable` (TemporarilyUnavailable, 503 with `Retry-After`), and the
//! request is answered at once.
//!
//! Abandoning a call drops its future. A PostgreSQL statement cut short closes its
//! connection (`postgres_lane`), and a transaction cut short is rolled back by the
//! server when its connection goes, so nothing is half-applied. A commit whose answer
//! was lost may still have happened, as with any database; on SQLite, a write already
//! handed to the writer thread still commits after its caller gave up. Writes carry
//! versions and conditions, so a retry never writes twice: a refresh token whose
//! rotation committed after its 503 rotates again within the tenant's retry period,
//! voiding the successor its client never saw (`grant::refresh_token`).

use async_trait::async_trait;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;
use tessera_core::audit::{AuditEntry, AuditQuery};
use tessera_core::ids::{ObjectId, TenantId};
use tessera_core::store::object::{ObjectKind, StoredObject, Write};
use tessera_core::store::{ChangeListener, Page, Requirement, Store, StoreError, StoreResult};
use tessera_core::tenant::{NewTenant, Tenant, TenantSlug};

/// `inner`, each of whose calls answers within `limit` or is `Unavailable`.
pub struct Timed {
    inner: Arc<dyn Store>,
    limit: Duration,
}

impl Timed {
    pub fn new(inner: Arc<dyn Store>, limit: Duration) -> Self {
        Self { inner, limit }
    }

    async fn within<T>(&self, call: impl Future<Output = StoreResult<T>>) -> StoreResult<T> {
        match tokio::time::timeout(self.limit, call).await {
            Ok(answer) => answer,
            Err(_) => Err(StoreError::Unavailable(format!(
                "the database did not answer within {} ms",
                self.limit.as_millis()
            ))),
        }
    }
}

#[async_trait]
impl Store for Timed {
    fn backend(&self) -> &'static str {
        self.inner.backend()
    }

    async fn ping(&self) -> StoreResult<()> {
        self.within(self.inner.ping()).await
    }

    async fn create_tenant(&self, tenant: NewTenant) -> StoreResult<Tenant> {
        self.within(self.inner.create_tenant(tenant)).await
    }

    async fn tenant(&self, slug: &TenantSlug) -> StoreResult<Option<Tenant>> {
        self.within(self.inner.tenant(slug)).await
    }

    async fn tenant_by_id(&self, id: TenantId) -> StoreResult<Option<Tenant>> {
        self.within(self.inner.tenant_by_id(id)).await
    }

    async fn apps_with_client_id(
        &self,
        client_id: &str,
    ) -> StoreResult<Vec<(Tenant, StoredObject)>> {
        self.within(self.inner.apps_with_client_id(client_id)).await
    }

    async fn list_tenants(&self, after: Option<&str>, limit: u32) -> StoreResult<Page<Tenant>> {
        self.within(self.inner.list_tenants(after, limit)).await
    }

    async fn objects(
        &self,
        tenant_id: TenantId,
        kind: ObjectKind,
    ) -> StoreResult<Vec<StoredObject>> {
        self.within(self.inner.objects(tenant_id, kind)).await
    }

    async fn objects_after(
        &self,
        tenant_id: TenantId,
        kind: ObjectKind,
        after: Option<&str>,
        limit: u32,
    ) -> StoreResult<Vec<StoredObject>> {
        self.within(self.inner.objects_after(tenant_id, kind, after, limit))
            .await
    }

    async fn object(
        &self,
        tenant_id: TenantId,
        kind: ObjectKind,
        key: &str,
    ) -> StoreResult<Option<StoredObject>> {
        self.within(self.inner.object(tenant_id, kind, key)).await
    }

    async fn objects_of_user(
        &self,
        tenant_id: TenantId,
        kind: ObjectKind,
        user_key: &str,
    ) -> StoreResult<Vec<StoredObject>> {
        self.within(self.inner.objects_of_user(tenant_id, kind, user_key))
            .await
    }

    async fn object_by_id(
        &self,
        tenant_id: TenantId,
        kind: ObjectKind,
        id: ObjectId,
    ) -> StoreResult<Option<StoredObject>> {
        self.within(self.inner.object_by_id(tenant_id, kind, id))
            .await
    }

    async fn object_with_user(
        &self,
        tenant_id: TenantId,
        kind: ObjectKind,
        key: &str,
    ) -> StoreResult<Option<(StoredObject, Option<StoredObject>)>> {
        self.within(self.inner.object_with_user(tenant_id, kind, key))
            .await
    }

    async fn apply(&self, writes: Vec<Write>) -> StoreResult<()> {
        self.within(self.inner.apply(writes)).await
    }

    async fn apply_if(
        &self,
        required: &Requirement,
        writes: Vec<Write>,
    ) -> StoreResult<Option<StoredObject>> {
        self.within(self.inner.apply_if(required, writes)).await
    }

    async fn delete_expired(
        &self,
        tenant_id: TenantId,
        kind: ObjectKind,
        now: time::OffsetDateTime,
        limit: u32,
    ) -> StoreResult<u64> {
        self.within(self.inner.delete_expired(tenant_id, kind, now, limit))
            .await
    }

    fn listen(&self, listener: Arc<dyn ChangeListener>) {
        self.inner.listen(listener);
    }

    async fn close(&self) {
        self.inner.close().await;
    }

    async fn audit(&self, tenant_id: TenantId, query: &AuditQuery) -> StoreResult<Vec<AuditEntry>> {
        self.within(self.inner.audit(tenant_id, query)).await
    }
}
