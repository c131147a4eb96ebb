//! In-process copies of what nearly every request reads and hardly any request writes:
//! tenants (with their policy), apps, a tenant's APIs, its signing keys and its
//! access-token deny-list. Reading them from the store on every request cost more than
//! the whole grant (docs/decisions/0009-in-process-cache.md).
//!
//! Staleness is bounded two ways (docs/deployment.md):
//! - The store announces every change to them (`ChangeListener`): at once on the node
//!   that wrote, and through PostgreSQL's LISTEN/NOTIFY on the others, which is
//!   milliseconds after the commit.
//! - Every entry expires after [`TTL`], the safety net for a notification lost while a
//!   node's listening connection was down, and for another process writing the same
//!   SQLite file.
//!
//! A load that raced an invalidation is not kept: each invalidation bumps a generation,
//! and a value read before the bump is returned to its caller but never cached.
//!
//! While the store does not answer (TemporarilyUnavailable), the public documents
//! (discovery, JWKS) and the tenants they are found by are served as last read, for up
//! to [`MAX_STALE`]: relying parties keep discovering and verifying tokens through a
//! database outage, while everything that needs the store answers 503. After a failed
//! load the store is not asked again for these for [`OUTAGE_BACKOFF`], so a database
//! that drops packets does not make each of them wait out the store's deadline.
//! The TTL uses the monotonic clock rather than the injected one: it bounds freshness,
//! not any protocol time.

use std::any::Any;
use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, RwLock, RwLockReadGuard, RwLockWriteGuard};
use std::time::{Duration, Instant};
use tessera_core::errors::CatalogError;
use tessera_core::ids::TenantId;
use tessera_core::store::object::ObjectKind;
use tessera_core::store::{Change, ChangeListener};

/// How long an entry is trusted without a notification.
pub const TTL: Duration = Duration::from_secs(5);

/// The longest a public document or tenant is served past its TTL while the store is
/// unavailable.
pub const MAX_STALE: Duration = Duration::from_secs(3600);

/// After the store failed to answer, how long stale documents are served without
/// asking it again.
const OUTAGE_BACKOFF: Duration = Duration::from_secs(2);

/// Past this many entries the cache starts over (unknown tenant slugs are cached as
/// absent too, so a scan of random paths must not grow it without bound).
const MAX_ENTRIES: usize = 50_000;

/// What is cached. Everything but `Tenant` belongs to one tenant by id.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Key {
    /// `Option<Arc<Tenant>>` by slug.
    Tenant(String),
    /// `Option<App>` by client_id.
    App(TenantId, String),
    /// `Option<ForeignApp>` (`oauth::lookup`): a multi-tenant app of another tenant,
    /// by client_id, with its home tenant and this tenant's consent to it. It is
    /// built from another tenant's records, whose id the key cannot name: any app or
    /// tenant change drops it (such entries are few; the tenant's own apps keep theirs).
    ForeignApp(TenantId, String),
    /// `Vec<Api>`.
    Apis(TenantId),
    /// `HashSet<String>`: the origins of every app's `spa` redirect URIs (CORS).
    SpaOrigins(TenantId),
    /// `Vec<SigningKey>`.
    SigningKeys(TenantId),
    /// `HashSet<String>` of revoked access tokens' `jti`.
    RevokedAccessTokens(TenantId),
    /// A public JSON document rendered from the tenant's cached data (discovery, JWKS),
    /// as the response body bytes.
    Document(TenantId, &'static str),
}

impl Key {
    /// Whether the entry is served past its TTL while the store is unavailable (see the
    /// module's documentation).
    fn outlives_outage(&self) -> bool {
        matches!(self, Key::Tenant(_) | Key::Document(..))
    }

    /// Whether `change` may make this entry stale. A tenant record's change drops all
    /// of that tenant's entries and every tenant-by-slug entry (they carry no id); an
    /// object change drops only what is built from that kind, so a revoked access
    /// token does not cost every node its copies of the tenant's apps and keys.
    fn stale_after(&self, change: &Change) -> bool {
        let of = |t: &TenantId| *t == change.tenant;
        match (self, change.kind) {
            (Key::Tenant(_), None) => true,
            (Key::Tenant(_), Some(_)) => false,
            (Key::ForeignApp(..), None | Some(ObjectKind::App)) => true,
            (Key::ForeignApp(t, _), Some(ObjectKind::ForeignApp)) => of(t),
            (
                Key::App(t, _)
                | Key::Apis(t)
                | Key::SpaOrigins(t)
                | Key::SigningKeys(t)
                | Key::RevokedAccessTokens(t)
                | Key::Document(t, _),
                None,
            ) => of(t),
            (Key::App(t, _) | Key::SpaOrigins(t), Some(ObjectKind::App))
            | (Key::Apis(t), Some(ObjectKind::Api))
            | (Key::SigningKeys(t), Some(ObjectKind::SigningKey))
            | (Key::Document(t, "jwks"), Some(ObjectKind::SigningKey))
            | (Key::RevokedAccessTokens(t), Some(ObjectKind::RevokedAccessToken)) => of(t),
            _ => false,
        }
    }
}

type Value = Arc<dyn Any + Send + Sync>;

struct Entry {
    /// When it was loaded.
    at: Instant,
    /// False once a change may have made it stale (kept only to outlive an outage).
    valid: bool,
    value: Value,
}

#[derive(Default)]
struct Entries {
    map: HashMap<Key, Entry>,
    generation: u64,
    /// Until when the store is taken to be unavailable, after a load failed so.
    store_down_until: Option<Instant>,
}

struct Inner {
    entries: RwLock<Entries>,
    ttl: Duration,
}

/// The cache; cheap to clone. Register it with the store (`Cache::listen_to`) so
/// changes reach it.
#[derive(Clone)]
pub struct Cache(Arc<Inner>);

impl Default for Cache {
    fn default() -> Self {
        Self::new(TTL)
    }
}

impl Cache {
    pub fn new(ttl: Duration) -> Self {
        Self(Arc::new(Inner {
            entries: RwLock::default(),
            ttl,
        }))
    }

    /// Has `store` tell this cache about changes.
    pub fn listen_to(&self, store: &dyn tessera_core::store::Store) {
        store.listen(self.0.clone());
    }

    /// The cached value of `key`, or `load`'s, which is kept unless an invalidation
    /// happened while it loaded. A failed load is not cached.
    pub async fn get<T, F, Fut>(&self, key: Key, load: F) -> Result<Arc<T>, CatalogError>
    where
        T: Send + Sync + 'static,
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<T, CatalogError>>,
    {
        let (generation, stale) = {
            let entries = self.0.read();
            let found = entries
                .map
                .get(&key)
                .and_then(|e| Some((e, e.value.clone().downcast::<T>().ok()?)));
            if let Some((entry, value)) = &found
                && entry.valid
                && entry.at.elapsed() < self.0.ttl
            {
                return Ok(value.clone());
            }
            let stale = found
                .filter(|(e, _)| key.outlives_outage() && e.at.elapsed() < MAX_STALE)
                .map(|(_, value)| value);
            if let Some(value) = &stale
                && entries
                    .store_down_until
                    .is_some_and(|until| until > Instant::now())
            {
                return Ok(value.clone());
            }
            (entries.generation, stale)
        };
        let value = match load().await {
            Ok(v) => Arc::new(v),
            Err(e) if e.name == tessera_core::errors::ErrorName::TemporarilyUnavailable => {
                self.0.write().store_down_until = Some(Instant::now() + OUTAGE_BACKOFF);
                return stale.ok_or(e);
            }
            Err(e) => return Err(e),
        };
        let mut entries = self.0.write();
        entries.store_down_until = None;
        if entries.generation == generation {
            if entries.map.len() >= MAX_ENTRIES {
                entries.map.clear();
            }
            entries.map.insert(
                key,
                Entry {
                    at: Instant::now(),
                    valid: true,
                    value: value.clone(),
                },
            );
        }
        Ok(value)
    }

    /// Drops what `change` may have made stale; `None` drops everything. The store
    /// does this through `ChangeListener`; tests call it.
    #[cfg(test)]
    fn invalidate(&self, change: Option<Change>) {
        self.0.changed(change);
    }
}

/// A public JSON document of the tenant (discovery, JWKS): rendered by `render` once,
/// then served from the cache until the tenant changes. `Cache-Control: max-age=300` is
/// short enough that a rotation's `next` key is fetched well before it signs. Any origin
/// may read them (CORS `*`).
pub async fn public_document<F, Fut>(
    state: &crate::runtime::state::AppState,
    tenant_id: TenantId,
    name: &'static str,
    render: F,
) -> Result<axum::response::Response, crate::http::error_response::ErrorResponse>
where
    F: FnOnce() -> Fut,
    Fut: Future<Output = Result<serde_json::Value, CatalogError>>,
{
    use axum::body::Bytes;
    use axum::http::{HeaderValue, header};
    use axum::response::IntoResponse;
    let body = state
        .cache
        .get(Key::Document(tenant_id, name), || async {
            Ok(Bytes::from(render().await?.to_string()))
        })
        .await
        .map_err(crate::http::error_response::ErrorResponse::json)?;
    // Static values: each `&str` would be checked and copied into a new allocation in
    // every response (docs/decisions/0009-in-process-cache.md).
    Ok((
        [
            (
                header::CACHE_CONTROL,
                HeaderValue::from_static("public, max-age=300"),
            ),
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            ),
            // Public documents that browser apps (MSAL.js, oidc-client-ts) fetch
            // cross-origin; no credentials are involved.
            (
                header::ACCESS_CONTROL_ALLOW_ORIGIN,
                HeaderValue::from_static("*"),
            ),
        ],
        Bytes::clone(&body),
    )
        .into_response())
}

impl Inner {
    // A poisoned lock means a panic between two plain map operations; the map is
    // still consistent, so keep using it.
    fn read(&self) -> RwLockReadGuard<'_, Entries> {
        self.entries.read().unwrap_or_else(|e| e.into_inner())
    }

    fn write(&self) -> RwLockWriteGuard<'_, Entries> {
        self.entries.write().unwrap_or_else(|e| e.into_inner())
    }
}

impl ChangeListener for Inner {
    fn changed(&self, change: Option<Change>) {
        let mut entries = self.write();
        entries.generation += 1;
        // What may be stale is dropped, or kept marked so to outlive an outage.
        entries.map.retain(|k, e| {
            let stale = change.as_ref().is_none_or(|c| k.stale_after(c));
            if stale {
                e.valid = false;
            }
            !stale || k.outlives_outage()
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use tessera_core::errors::ErrorName;

    fn tenant_record(tenant: TenantId) -> Option<Change> {
        Some(Change { tenant, kind: None })
    }

    fn objects(tenant: TenantId, kind: ObjectKind) -> Option<Change> {
        Some(Change {
            tenant,
            kind: Some(kind),
        })
    }

    async fn load_counted(cache: &Cache, key: Key, loads: &AtomicUsize) -> Arc<usize> {
        cache
            .get(key, || async { Ok(loads.fetch_add(1, Ordering::SeqCst)) })
            .await
            .unwrap()
    }

    #[tokio::test]
    async fn a_value_is_loaded_once_until_its_tenant_changes() {
        let cache = Cache::default();
        let (a, b) = (
            TenantId::from_uuid(uuid::Uuid::from_u128(1)),
            TenantId::from_uuid(uuid::Uuid::from_u128(2)),
        );
        let loads = AtomicUsize::new(0);
        assert_eq!(*load_counted(&cache, Key::Apis(a), &loads).await, 0);
        assert_eq!(*load_counted(&cache, Key::Apis(a), &loads).await, 0);
        assert_eq!(*load_counted(&cache, Key::Apis(b), &loads).await, 1);
        cache.invalidate(tenant_record(b));
        assert_eq!(
            *load_counted(&cache, Key::Apis(a), &loads).await,
            0,
            "a kept"
        );
        assert_eq!(
            *load_counted(&cache, Key::Apis(b), &loads).await,
            2,
            "b reloaded"
        );
        cache.invalidate(None);
        assert_eq!(*load_counted(&cache, Key::Apis(a), &loads).await, 3);
    }

    /// While loads fail with TemporarilyUnavailable, documents and tenants are served as
    /// last read (and the store is not asked again for a while); other entries are not.
    #[tokio::test]
    async fn documents_and_tenants_outlive_an_outage_and_nothing_else_does() {
        let cache = Cache::default();
        let t = TenantId::from_uuid(uuid::Uuid::from_u128(1));
        let loads = AtomicUsize::new(0);
        let down =
            || async { Err::<usize, _>(CatalogError::new(ErrorName::TemporarilyUnavailable)) };
        let document = Key::Document(t, "jwks");
        let tenant = Key::Tenant("contoso".into());
        for key in [&document, &tenant, &Key::Apis(t)] {
            load_counted(&cache, key.clone(), &loads).await;
        }
        // The notification connection was lost: everything may be stale.
        cache.invalidate(None);
        assert_eq!(*cache.get(document.clone(), down).await.unwrap(), 0);
        assert_eq!(*cache.get(tenant.clone(), down).await.unwrap(), 1);
        let refused = cache.get(Key::Apis(t), down).await.unwrap_err();
        assert_eq!(refused.name, ErrorName::TemporarilyUnavailable);
        // Within the backoff the store is not asked for them.
        let asked = AtomicUsize::new(0);
        let counted = || async {
            asked.fetch_add(1, Ordering::SeqCst);
            Ok(99usize)
        };
        assert_eq!(*cache.get(document.clone(), counted).await.unwrap(), 0);
        assert_eq!(asked.load(Ordering::SeqCst), 0);
        // A load that fails otherwise is that failure, stale value or not.
        cache.0.write().store_down_until = None;
        let broken = || async { Err::<usize, _>(CatalogError::new(ErrorName::InternalError)) };
        let failed = cache.get(document.clone(), broken).await.unwrap_err();
        assert_eq!(failed.name, ErrorName::InternalError);
        // Once the store answers, the fresh value replaces the stale one.
        assert_eq!(*cache.get(document.clone(), counted).await.unwrap(), 99);
    }

    #[tokio::test]
    async fn tenants_by_slug_are_dropped_by_any_tenant_change() {
        let cache = Cache::default();
        let loads = AtomicUsize::new(0);
        let key = Key::Tenant("contoso".into());
        load_counted(&cache, key.clone(), &loads).await;
        cache.invalidate(objects(
            TenantId::from_uuid(uuid::Uuid::from_u128(9)),
            ObjectKind::App,
        ));
        assert_eq!(
            *load_counted(&cache, key.clone(), &loads).await,
            0,
            "an object change leaves tenants alone"
        );
        cache.invalidate(tenant_record(TenantId::from_uuid(uuid::Uuid::from_u128(9))));
        assert_eq!(*load_counted(&cache, key, &loads).await, 1);
    }

    /// An object change drops what is built from that kind in that tenant, nothing
    /// else: revoking an access token keeps the tenant's apps and keys cached.
    #[tokio::test]
    async fn an_object_change_drops_only_what_is_built_from_its_kind() {
        let cache = Cache::default();
        let (t, other) = (
            TenantId::from_uuid(uuid::Uuid::from_u128(1)),
            TenantId::from_uuid(uuid::Uuid::from_u128(2)),
        );
        let keys = [
            Key::App(t, "web".into()),
            Key::Apis(t),
            Key::SigningKeys(t),
            Key::Document(t, "jwks"),
            Key::Document(t, "openid-configuration"),
            Key::RevokedAccessTokens(t),
            Key::RevokedAccessTokens(other),
        ];
        let loads = AtomicUsize::new(0);
        let reloaded = |change: Option<Change>| {
            let (cache, keys, loads) = (&cache, &keys, &loads);
            async move {
                for k in keys {
                    load_counted(cache, k.clone(), loads).await;
                }
                cache.invalidate(change);
                let mut out = Vec::new();
                for k in keys {
                    let before = loads.load(Ordering::SeqCst);
                    load_counted(cache, k.clone(), loads).await;
                    if loads.load(Ordering::SeqCst) > before {
                        out.push(k.clone());
                    }
                }
                out
            }
        };
        assert_eq!(
            reloaded(objects(t, ObjectKind::RevokedAccessToken)).await,
            [Key::RevokedAccessTokens(t)]
        );
        assert_eq!(
            reloaded(objects(t, ObjectKind::SigningKey)).await,
            [Key::SigningKeys(t), Key::Document(t, "jwks")]
        );
        assert_eq!(
            reloaded(objects(t, ObjectKind::App)).await,
            [Key::App(t, "web".into())]
        );
        assert_eq!(reloaded(objects(t, ObjectKind::Api)).await, [Key::Apis(t)]);
        assert_eq!(reloaded(tenant_record(t)).await, keys[..6].to_vec());
    }

    #[tokio::test]
    async fn an_expired_entry_is_loaded_again() {
        let cache = Cache::new(Duration::ZERO);
        let loads = AtomicUsize::new(0);
        load_counted(
            &cache,
            Key::Apis(TenantId::from_uuid(uuid::Uuid::nil())),
            &loads,
        )
        .await;
        assert_eq!(
            *load_counted(
                &cache,
                Key::Apis(TenantId::from_uuid(uuid::Uuid::nil())),
                &loads
            )
            .await,
            1
        );
    }

    #[tokio::test]
    async fn a_load_that_raced_an_invalidation_is_returned_but_not_kept() {
        let cache = Cache::default();
        let key = Key::Apis(TenantId::from_uuid(uuid::Uuid::nil()));
        let stale = cache
            .get(key.clone(), || async {
                // The store changes while this (old) value is being read.
                cache.invalidate(tenant_record(TenantId::from_uuid(uuid::Uuid::nil())));
                Ok("old")
            })
            .await
            .unwrap();
        assert_eq!(*stale, "old");
        let fresh = cache.get(key, || async { Ok("new") }).await.unwrap();
        assert_eq!(*fresh, "new");
    }

    #[tokio::test]
    async fn a_failed_load_is_not_kept() {
        let cache = Cache::default();
        let key = Key::Apis(TenantId::from_uuid(uuid::Uuid::nil()));
        let failed: Result<Arc<u8>, _> = cache
            .get(key.clone(), || async {
                Err(CatalogError::new(ErrorName::TemporarilyUnavailable))
            })
            .await;
        assert!(failed.is_err());
        assert_eq!(*cache.get(key, || async { Ok(7u8) }).await.unwrap(), 7);
    }
}
