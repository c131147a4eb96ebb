//! The storage contract. Backends (SQLite, PostgreSQL) live in `tessera-store`; the
//! contract is written here, on the trait, so both implement the same behaviour and one
//! test suite checks both.

#[cfg(test)]
pub(crate) mod memory;
pub mod object;
pub mod read;

use crate::ids::{ObjectId, TenantId};
use crate::tenant::{NewTenant, Tenant, TenantSlug};
use async_trait::async_trait;
use object::{ObjectKind, StoredObject, Write};

/// Why a store operation failed. Each variant maps to one catalogue entry at the edge:
/// `Conflict` → Conflict, `Unavailable` → TemporarilyUnavailable, `Internal` →
/// InternalError. The strings are for the log, never for a response.
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub enum StoreError {
    /// A uniqueness rule was violated (e.g. a tenant slug already taken).
    #[error("conflict: {0}")]
    Conflict(String),
    /// The database cannot be reached or is shutting down; retrying later may work.
    #[error("store unavailable: {0}")]
    Unavailable(String),
    /// Anything else: a bug, corrupt data, an unexpected driver error.
    #[error("store failure: {0}")]
    Internal(String),
}

pub type StoreResult<T> = Result<T, StoreError>;

/// A page of results and the cursor for the next one (`None` on the last page).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next: Option<String>,
}

/// Told when cached data may have changed, so an in-process cache can drop its copy.
/// Stores call it after a commit that changed a tenant or an object of a cached kind
/// (`ObjectKind::is_cached`), on this node and, for stores shared by several nodes, on
/// every other node too.
pub trait ChangeListener: Send + Sync + 'static {
    /// `Some(change)`: what changed. `None`: anything may have changed (the channel
    /// that announces other nodes' changes was lost).
    fn changed(&self, change: Option<Change>);
}

/// One announced change: a tenant record (`kind: None`), or objects of one cached kind
/// in a tenant. Precise, so that revoking an access token does not drop the tenant's
/// apps and keys from every node's cache.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Change {
    pub tenant: TenantId,
    pub kind: Option<ObjectKind>,
}

impl Change {
    /// The form sent between nodes: `tenant` or `tenant:kind`.
    pub fn encode(&self) -> String {
        match self.kind {
            None => self.tenant.to_string(),
            Some(kind) => format!("{}:{}", self.tenant, kind.as_str()),
        }
    }

    /// Reads [`Change::encode`]'s form; `None` for anything else.
    pub fn decode(s: &str) -> Option<Self> {
        let (tenant, kind) = match s.split_once(':') {
            Some((t, k)) => (t, Some(ObjectKind::parse(k)?)),
            None => (s, None),
        };
        Some(Self {
            tenant: TenantId::parse(tenant)?,
            kind,
        })
    }
}

/// The object a conditional write ([`Store::apply_if`]) depends on: the one of `kind`
/// with `key` in the tenant, which must have this `id` (not another object created
/// under the same key since) and its [`Flag`] set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Requirement {
    pub tenant_id: TenantId,
    pub kind: ObjectKind,
    pub key: String,
    pub id: ObjectId,
    pub flag: Flag,
}

/// A boolean of a stored document that a conditional write can require. The backends'
/// SQL names no document member: each flag says which member it is
/// ([`Flag::member`]), and a test holds that to the model's serialization.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flag {
    /// `User::enabled`.
    UserEnabled,
}

impl Flag {
    /// The flag's member in the document: it is set when that member is the JSON
    /// boolean `true` (not the string, not 1).
    pub fn member(self) -> &'static str {
        match self {
            Flag::UserEnabled => "enabled",
        }
    }
}

/// Tessera's store.
///
/// Contract, for every backend:
/// - Each method is atomic: it fully happens or not at all.
/// - Writes are durable when the method returns `Ok`.
/// - Times are stored to the second; what is read back equals what was written at that
///   precision.
/// - `Conflict` is returned for uniqueness violations and for nothing else.
#[async_trait]
pub trait Store: Send + Sync + 'static {
    /// Which backend this is (`sqlite` or `postgres`), for logs and metrics.
    fn backend(&self) -> &'static str;

    /// Succeeds when the database answers a trivial query; `/readyz` calls this.
    async fn ping(&self) -> StoreResult<()>;

    /// Creates a tenant. `Conflict` when the slug is taken (slugs are unique
    /// case-insensitively, which `TenantSlug` guarantees by being lowercase).
    async fn create_tenant(&self, tenant: NewTenant) -> StoreResult<Tenant>;

    /// The tenant with this slug, enabled or not.
    async fn tenant(&self, slug: &TenantSlug) -> StoreResult<Option<Tenant>>;

    /// The tenant with this id, enabled or not.
    async fn tenant_by_id(&self, id: TenantId) -> StoreResult<Option<Tenant>>;

    /// Every app (`ObjectKind::App`) with this client_id, in every tenant, each with
    /// its tenant, in no particular order. Single-tenant apps share client_ids freely,
    /// but a client_id names at most one multi-tenant app
    /// ([`StoredObject::is_multi_tenant_app`]) across all tenants: a write that would
    /// make a second (a new one, or an app made multi-tenant) is a `Conflict`.
    async fn apps_with_client_id(
        &self,
        client_id: &str,
    ) -> StoreResult<Vec<(Tenant, StoredObject)>>;

    /// Tenants in slug order, at most `limit`, starting after the cursor `after` (an
    /// opaque string from a previous page's `next`).
    async fn list_tenants(&self, after: Option<&str>, limit: u32) -> StoreResult<Page<Tenant>>;

    /// Every directory object of one kind in one tenant, ordered by key. Objects of other
    /// tenants are never returned.
    async fn objects(
        &self,
        tenant_id: TenantId,
        kind: ObjectKind,
    ) -> StoreResult<Vec<StoredObject>>;

    /// One page of [`Store::objects`]: at most `limit` (1 to 1,000) objects whose key
    /// sorts after `after` (from the first when `None`), in key order, so a listing
    /// reads what it shows instead of the whole kind.
    async fn objects_after(
        &self,
        tenant_id: TenantId,
        kind: ObjectKind,
        after: Option<&str>,
        limit: u32,
    ) -> StoreResult<Vec<StoredObject>>;

    /// The object of `kind` with `key` in this tenant (and only this tenant).
    async fn object(
        &self,
        tenant_id: TenantId,
        kind: ObjectKind,
        key: &str,
    ) -> StoreResult<Option<StoredObject>>;

    /// The objects of `kind` (sessions, codes, refresh tokens, consents:
    /// `ObjectKind::names_its_user`) whose owner ([`StoredObject::owner`]) is
    /// `user_key`, in key order: a user's records, found by index, not by reading the tenant's (signing
    /// out everywhere, a reused token's family, the account page's consents).
    async fn objects_of_user(
        &self,
        tenant_id: TenantId,
        kind: ObjectKind,
        user_key: &str,
    ) -> StoreResult<Vec<StoredObject>>;

    /// The object of `kind` with this id in this tenant (and only this tenant): for
    /// callers that hold an id, not a key (UserInfo's `sub` is the user's id).
    async fn object_by_id(
        &self,
        tenant_id: TenantId,
        kind: ObjectKind,
        id: ObjectId,
    ) -> StoreResult<Option<StoredObject>>;

    /// The object of `kind` with `key`, and the user (`ObjectKind::User`) that owns it
    /// ([`StoredObject::owner`]: protocol records and consents). `None` for the user
    /// when there is no such user, or the object has no owner. A remote store reads both
    /// in one round trip; by default, two reads.
    async fn object_with_user(
        &self,
        tenant_id: TenantId,
        kind: ObjectKind,
        key: &str,
    ) -> StoreResult<Option<(StoredObject, Option<StoredObject>)>> {
        let Some(object) = self.object(tenant_id, kind, key).await? else {
            return Ok(None);
        };
        let user = match object.owner() {
            Some(owner) => self.object(tenant_id, ObjectKind::User, &owner).await?,
            None => None,
        };
        Ok(Some((object, user)))
    }

    /// Applies `writes` in order, all or nothing: if any write fails, none has happened.
    /// `Put` inserts (version 0), or replaces the key and document of the object with that
    /// id within the same tenant, only while it is still at the `version` the writer read
    /// (otherwise `Conflict`: no lost updates); an id of another tenant is never touched
    /// (`Conflict`). Every write increments the stored version. Two
    /// objects of one tenant and kind with the same key are a `Conflict`. `UpdateTenant`
    /// of an unknown id is an `Internal` error.
    async fn apply(&self, writes: Vec<Write>) -> StoreResult<()>;

    /// [`Store::apply`], on condition: the writes are made only if the object that
    /// `required` names exists and meets it as the same transaction reads it, and that
    /// object is returned. `Ok(None)`: it does not, and nothing was written. A write that
    /// fails while the requirement is met fails the whole as `apply` would (`Conflict`).
    /// Like a read followed by a write, it does not wait for a change to that object
    /// that another writer commits meanwhile. What it saves is the read's round trip:
    /// the refresh and code grants check their user this way, one statement on
    /// PostgreSQL.
    async fn apply_if(
        &self,
        required: &Requirement,
        writes: Vec<Write>,
    ) -> StoreResult<Option<StoredObject>>;

    /// Deletes at most `limit` objects of `kind` in this tenant whose `expires_at` is at or
    /// before `now`, by index (nothing else is read), and says how many went. Deleting
    /// objects of a cached kind is announced like any change.
    async fn delete_expired(
        &self,
        tenant_id: TenantId,
        kind: ObjectKind,
        now: time::OffsetDateTime,
        limit: u32,
    ) -> StoreResult<u64>;

    /// Registers `listener` for changes to cached data (see `ChangeListener`). Changes
    /// made through this store are announced before the writing method returns.
    fn listen(&self, listener: std::sync::Arc<dyn ChangeListener>);

    /// Ends the store's connections cleanly once the last request is answered (the
    /// server's shutdown). Nothing may use the store afterwards (PostgreSQL refuses
    /// such a call with `Unavailable`). Nothing to do by default, nor on SQLite, whose
    /// every write is durable when it returns.
    async fn close(&self) {}

    /// Audit entries of one tenant, newest first, filtered by actor and time (inclusive).
    async fn audit(
        &self,
        tenant_id: TenantId,
        query: &crate::audit::AuditQuery,
    ) -> StoreResult<Vec<crate::audit::AuditEntry>>;
}

impl From<StoreError> for crate::errors::CatalogError {
    /// The catalogue entry of a store failure; the detail goes to the log only.
    fn from(e: StoreError) -> Self {
        use crate::errors::{CatalogError, ErrorName};
        match e {
            StoreError::Conflict(detail) => CatalogError::new(ErrorName::Conflict)
                .with("resource", "The object")
                .internal(detail),
            StoreError::Unavailable(detail) => CatalogError::new(ErrorName::TemporarilyUnavailable)
                .retry_after(5)
                .internal(detail),
            StoreError::Internal(detail) => {
                CatalogError::new(ErrorName::InternalError).internal(detail)
            }
        }
    }
}
