//! The store contract suite: every case runs against SQLite and PostgreSQL.
//! PostgreSQL cases need `TESSERA_TEST_POSTGRES_URL`; each gets its own database.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;
use std::sync::Arc;
use tessera_core::ids::{ObjectId, TenantId};
use tessera_core::store::object::{ObjectKind, StoredObject, Write};
use tessera_core::store::{Change, Store, StoreError};
use tessera_core::tenant::{NewTenant, TenantKind, TenantSlug};
use tessera_store::DatabaseUrl;
use tessera_store::testing::{TestDatabase, postgres_or_skip};
use time::OffsetDateTime;
use time::macros::datetime;

#[derive(Clone, Copy, Debug)]
enum Backend {
    Sqlite,
    Postgres,
}

/// A fresh, empty store and what it takes to open it again.
struct Fixture {
    store: Arc<dyn Store>,
    url: DatabaseUrl,
    _cleanup: Cleanup,
}

enum Cleanup {
    Dir(PathBuf),
    // Held for its Drop, which drops the database.
    Db(#[allow(dead_code)] Box<TestDatabase>),
}

impl Drop for Cleanup {
    fn drop(&mut self) {
        if let Cleanup::Dir(dir) = self {
            let _ = std::fs::remove_dir_all(dir);
        }
    }
}

impl Fixture {
    async fn new(backend: Backend, test: &str) -> Option<Self> {
        let (url, cleanup) = match backend {
            Backend::Sqlite => {
                let dir = std::env::temp_dir()
                    .join(format!("tessera-store-{}-{test}", std::process::id()));
                let _ = std::fs::remove_dir_all(&dir);
                // A nested path: the store must create missing directories itself.
                let url = DatabaseUrl::Sqlite(dir.join("data").join("tessera.db"));
                (url, Cleanup::Dir(dir))
            }
            Backend::Postgres => {
                let db = postgres_or_skip(&format!("store::postgres::{test}")).await?;
                (
                    DatabaseUrl::Postgres(Box::new(db.options.clone())),
                    Cleanup::Db(Box::new(db)),
                )
            }
        };
        let store = tessera_store::open(&url).await.expect("open a fresh store");
        Some(Self {
            store,
            url,
            _cleanup: cleanup,
        })
    }

    /// Runs `statements` on the database directly, beside the store: to put it in the
    /// state an older binary left.
    async fn raw_sql(&self, statements: &[&str]) {
        match &self.url {
            DatabaseUrl::Sqlite(path) => {
                let c = rusqlite::Connection::open(path).unwrap();
                for s in statements {
                    c.execute(s, []).unwrap();
                }
            }
            DatabaseUrl::Postgres(options) => {
                use sqlx::ConnectOptions;
                let mut c = options.connect().await.unwrap();
                for s in statements {
                    sqlx::query(s).execute(&mut c).await.unwrap();
                }
            }
        }
    }

    async fn reopen(&self) -> Arc<dyn Store> {
        tessera_store::open(&self.url)
            .await
            .expect("reopen the store")
    }
}

fn slug(s: &str) -> TenantSlug {
    TenantSlug::parse(s).unwrap()
}

fn new_tenant(s: &str, at: OffsetDateTime) -> NewTenant {
    NewTenant {
        id: TenantId::from_uuid(uuid::Uuid::from_u128(u128::from_le_bytes({
            let mut b = [0u8; 16];
            b[..s.len().min(16)].copy_from_slice(&s.as_bytes()[..s.len().min(16)]);
            b
        }))),
        slug: slug(s),
        display_name: format!("Tenant {s}"),
        kind: TenantKind::Work,
        policy: Default::default(),
        created_at: at,
    }
}

const T0: OffsetDateTime = datetime!(2026-11-26 19:30:00 UTC);

fn object(tenant: TenantId, kind: ObjectKind, key: &str, doc: &str, id: u128) -> StoredObject {
    StoredObject::new(
        ObjectId::from_uuid(uuid::Uuid::from_u128(id)),
        tenant,
        kind,
        key,
        doc.to_owned(),
        T0,
    )
}

/// Two tenants, `alpha` and `beta`, and their ids.
async fn two_tenants(store: &dyn Store) -> (TenantId, TenantId) {
    let a = store
        .create_tenant(new_tenant("alpha", T0))
        .await
        .unwrap()
        .id;
    let b = store
        .create_tenant(new_tenant("beta", T0))
        .await
        .unwrap()
        .id;
    (a, b)
}

mod cases {
    use super::*;

    /// Deleting a tenant takes its objects, of every kind, and its audit log with it in
    /// one change, announced to caches; another tenant keeps all of its own; the slug
    /// is free again; deleting a tenant that is not there is a conflict.
    pub async fn a_deleted_tenant_takes_everything_it_holds(f: Fixture) {
        use tessera_core::audit::{AuditEntry, AuditQuery};
        let (a, b) = two_tenants(f.store.as_ref()).await;
        let audit = |id: u128, tenant| {
            Write::Audit(AuditEntry {
                id: ObjectId::from_uuid(uuid::Uuid::from_u128(id)),
                tenant_id: tenant,
                at: T0,
                actor: "cli".into(),
                action: "user.create".into(),
                target: format!("user:u{id}"),
                changes: vec![],
            })
        };
        f.store
            .apply(vec![
                Write::Put(object(a, ObjectKind::User, "alice", "{}", 1)),
                Write::Put(object(a, ObjectKind::App, "web", "{}", 2)),
                Write::Put(object(a, ObjectKind::Session, "s", "{}", 3)),
                Write::Put(object(b, ObjectKind::User, "bob", "{}", 4)),
                audit(5, a),
                audit(6, b),
            ])
            .await
            .unwrap();
        let changes = Arc::new(std::sync::Mutex::new(Vec::new()));
        struct Recorder(Arc<std::sync::Mutex<Vec<Change>>>);
        impl tessera_core::store::ChangeListener for Recorder {
            fn changed(&self, change: Option<Change>) {
                if let Some(c) = change {
                    self.0.lock().unwrap().push(c);
                }
            }
        }
        f.store.listen(Arc::new(Recorder(changes.clone())));
        f.store.apply(Write::delete_tenant(a).into()).await.unwrap();
        for kind in ObjectKind::ALL {
            assert!(
                f.store.objects(a, kind).await.unwrap().is_empty(),
                "{kind:?} left"
            );
        }
        let all = AuditQuery {
            actor: None,
            since: None,
            until: None,
            limit: 100,
        };
        assert!(f.store.audit(a, &all).await.unwrap().is_empty());
        assert!(
            f.store
                .tenant(&TenantSlug::parse("alpha").unwrap())
                .await
                .unwrap()
                .is_none()
        );
        assert_eq!(f.store.objects(b, ObjectKind::User).await.unwrap().len(), 1);
        assert_eq!(f.store.audit(b, &all).await.unwrap().len(), 1);
        wait_until(|| {
            changes
                .lock()
                .unwrap()
                .iter()
                .any(|c| c.tenant == a && c.kind.is_none())
        })
        .await;
        f.store
            .create_tenant(new_tenant("alpha", T0))
            .await
            .expect("the slug is free again");
        // A tenant that is not there (deleted by another node meanwhile) conflicts.
        let gone = TenantId::from_uuid(uuid::Uuid::from_u128(0xdead));
        assert!(matches!(
            f.store.apply(Write::delete_tenant(gone).into()).await,
            Err(StoreError::Conflict(_))
        ));
    }

    pub async fn objects_round_trip_in_key_order(f: Fixture) {
        let (a, _) = two_tenants(f.store.as_ref()).await;
        let w = vec![
            Write::Put(object(a, ObjectKind::User, "zoe", r#"{"n":"z"}"#, 1)),
            Write::Put(object(a, ObjectKind::User, "alice", r#"{"n":"a"}"#, 2)),
            Write::Put(object(a, ObjectKind::App, "web", r#"{"c":"w"}"#, 3)),
        ];
        f.store.apply(w).await.unwrap();
        let users = f.store.objects(a, ObjectKind::User).await.unwrap();
        assert_eq!(
            users.iter().map(|o| o.key.as_str()).collect::<Vec<_>>(),
            ["alice", "zoe"]
        );
        assert_eq!(
            users[0],
            StoredObject {
                version: 1,
                ..object(a, ObjectKind::User, "alice", r#"{"n":"a"}"#, 2)
            },
            "stored as written, at version 1"
        );
        let app = f
            .store
            .object(a, ObjectKind::App, "web")
            .await
            .unwrap()
            .unwrap();
        assert_eq!(app.doc, r#"{"c":"w"}"#);
        assert_eq!(
            f.store.object(a, ObjectKind::User, "web").await.unwrap(),
            None,
            "kinds are separate"
        );
    }

    pub async fn put_with_a_known_id_replaces_the_document(f: Fixture) {
        let (a, _) = two_tenants(f.store.as_ref()).await;
        f.store
            .apply(vec![Write::Put(object(
                a,
                ObjectKind::User,
                "alice",
                "{}",
                7,
            ))])
            .await
            .unwrap();
        let mut changed = object(a, ObjectKind::User, "alice", r#"{"v":2}"#, 7);
        changed.updated_at = datetime!(2026-11-27 00:00:00 UTC);
        changed.created_at = datetime!(2030-01-01 00:00:00 UTC);
        changed.version = 1; // the version it was read at
        f.store.apply(vec![Write::Put(changed)]).await.unwrap();
        let got = f
            .store
            .object(a, ObjectKind::User, "alice")
            .await
            .unwrap()
            .unwrap();
        assert_eq!(got.doc, r#"{"v":2}"#);
        assert_eq!(got.created_at, T0, "creation time is kept");
        assert_eq!(got.updated_at, datetime!(2026-11-27 00:00:00 UTC));
        assert_eq!(got.version, 2);
        f.store
            .apply(vec![Write::Delete {
                tenant_id: a,
                kind: ObjectKind::User,
                id: got.id,
            }])
            .await
            .unwrap();
        assert_eq!(
            f.store.object(a, ObjectKind::User, "alice").await.unwrap(),
            None
        );
    }

    /// A put may change an object's key and expiry, or keep them (SQLite then takes a
    /// statement that leaves their indexes alone: `sql::UPDATE_OBJECT_KEEPING_KEY`);
    /// either way the version is checked and the object is found by its new key only.
    pub async fn an_update_may_change_the_key_and_the_expiry(f: Fixture) {
        let (a, _) = two_tenants(f.store.as_ref()).await;
        let store = f.store.as_ref();
        let put = |o: StoredObject| async move { store.apply(vec![Write::Put(o)]).await };
        let read = |key: &'static str| async move {
            store.object(a, ObjectKind::User, key).await.unwrap()
        };
        put(object(a, ObjectKind::User, "alice", "{}", 5))
            .await
            .unwrap();
        let v1 = read("alice").await.unwrap();
        let expiry = datetime!(2027-01-01 00:00:00 UTC);
        put(StoredObject {
            key: "alicia".into(),
            expires_at: Some(expiry),
            ..v1.with_doc(r#"{"v":2}"#.into(), T0)
        })
        .await
        .unwrap();
        assert_eq!(read("alice").await, None, "the old key is gone");
        let v2 = read("alicia").await.unwrap();
        assert_eq!((v2.version, v2.expires_at), (2, Some(expiry)));
        // The key kept, the expiry changed, then cleared.
        let later = datetime!(2028-01-01 00:00:00 UTC);
        put(StoredObject {
            expires_at: Some(later),
            ..v2.with_doc(r#"{"v":3}"#.into(), T0)
        })
        .await
        .unwrap();
        let v3 = read("alicia").await.unwrap();
        assert_eq!((v3.version, v3.expires_at), (3, Some(later)));
        put(StoredObject {
            expires_at: None,
            ..v3.with_doc(r#"{"v":4}"#.into(), T0)
        })
        .await
        .unwrap();
        let v4 = read("alicia").await.unwrap();
        assert_eq!((v4.version, v4.expires_at), (4, None));
        // Key and expiry kept, twice: the second writer holds a stale version.
        let doc = |v: &StoredObject, n: u8| v.clone().with_doc(format!(r#"{{"v":{n}}}"#), T0);
        put(doc(&v4, 5)).await.unwrap();
        let stale = put(doc(&v4, 6)).await;
        assert!(matches!(stale, Err(StoreError::Conflict(_))), "{stale:?}");
        let v5 = read("alicia").await.unwrap();
        assert_eq!((v5.doc.as_str(), v5.version), (r#"{"v":5}"#, 5));
        // A stale writer that also renames: still a conflict, and nothing moves.
        let stale_rename = put(StoredObject {
            key: "ali".into(),
            ..doc(&v4, 7)
        })
        .await;
        assert!(
            matches!(stale_rename, Err(StoreError::Conflict(_))),
            "{stale_rename:?}"
        );
        assert_eq!(read("ali").await, None);
        assert_eq!(read("alicia").await.unwrap().version, 5);
    }

    /// Two writers read the same object; the second write must not silently undo the first.
    pub async fn a_stale_write_is_a_conflict_not_a_lost_update(f: Fixture) {
        let (a, _) = two_tenants(f.store.as_ref()).await;
        f.store
            .apply(vec![Write::Put(object(
                a,
                ObjectKind::App,
                "web",
                r#"{"n":0}"#,
                3,
            ))])
            .await
            .unwrap();
        let read_by_one = f
            .store
            .object(a, ObjectKind::App, "web")
            .await
            .unwrap()
            .unwrap();
        let read_by_two = read_by_one.clone();
        assert_eq!(read_by_one.version, 1);
        f.store
            .apply(vec![Write::Put(
                read_by_one.with_doc(r#"{"n":1}"#.into(), T0),
            )])
            .await
            .unwrap();
        let stale = f
            .store
            .apply(vec![Write::Put(
                read_by_two.with_doc(r#"{"n":2}"#.into(), T0),
            )])
            .await;
        assert!(matches!(stale, Err(StoreError::Conflict(_))), "{stale:?}");
        let now = f
            .store
            .object(a, ObjectKind::App, "web")
            .await
            .unwrap()
            .unwrap();
        assert_eq!((now.doc.as_str(), now.version), (r#"{"n":1}"#, 2));
        // Creating what already exists (version 0) conflicts too, even under its own id.
        let again = f
            .store
            .apply(vec![Write::Put(object(a, ObjectKind::App, "web", "{}", 3))])
            .await;
        assert!(matches!(again, Err(StoreError::Conflict(_))));
        // A writer still holding a version of an object deleted since gets a conflict:
        // its write does not bring the object back.
        f.store
            .apply(vec![Write::Delete {
                tenant_id: a,
                kind: ObjectKind::App,
                id: now.id,
            }])
            .await
            .unwrap();
        let revived = f
            .store
            .apply(vec![Write::Put(now.with_doc(r#"{"n":3}"#.into(), T0))])
            .await;
        assert!(
            matches!(revived, Err(StoreError::Conflict(_))),
            "{revived:?}"
        );
        assert_eq!(
            f.store.object(a, ObjectKind::App, "web").await.unwrap(),
            None
        );
    }

    pub async fn keys_are_unique_per_tenant_and_kind(f: Fixture) {
        let (a, b) = two_tenants(f.store.as_ref()).await;
        f.store
            .apply(vec![Write::Put(object(
                a,
                ObjectKind::User,
                "alice",
                "{}",
                1,
            ))])
            .await
            .unwrap();
        let err = f
            .store
            .apply(vec![Write::Put(object(
                a,
                ObjectKind::User,
                "alice",
                "{}",
                2,
            ))])
            .await
            .unwrap_err();
        assert!(matches!(err, StoreError::Conflict(_)), "{err:?}");
        // The same key in another tenant, or of another kind, is fine.
        f.store
            .apply(vec![
                Write::Put(object(b, ObjectKind::User, "alice", "{}", 3)),
                Write::Put(object(a, ObjectKind::Group, "alice", "{}", 4)),
            ])
            .await
            .unwrap();
    }

    /// Apps are found by client_id from anywhere, with their tenants; a client_id
    /// names at most one multi-tenant app across tenants (a new one, or an app made
    /// multi-tenant, is a conflict), while single-tenant apps share it freely; a tenant
    /// is also read by id.
    pub async fn apps_are_found_by_client_id_from_every_tenant(f: Fixture) {
        let (a, b) = two_tenants(f.store.as_ref()).await;
        let multi = r#"{"multi_tenant": true}"#;
        let single = r#"{"multi_tenant": false}"#;
        let found = |store: Arc<dyn Store>| async move {
            let mut found: Vec<(String, bool)> = store
                .apps_with_client_id("shared")
                .await
                .unwrap()
                .into_iter()
                .map(|(t, o)| {
                    assert_eq!((t.id, o.key.as_str()), (o.tenant_id, "shared"));
                    (t.slug.as_str().to_owned(), o.is_multi_tenant_app())
                })
                .collect();
            found.sort();
            found
        };
        assert!(found(f.store.clone()).await.is_empty());
        f.store
            .apply(vec![
                Write::Put(object(a, ObjectKind::App, "shared", multi, 1)),
                Write::Put(object(b, ObjectKind::App, "shared", single, 2)),
                // Another kind's document with the member is no app.
                Write::Put(object(b, ObjectKind::Api, "shared", multi, 3)),
            ])
            .await
            .unwrap();
        assert_eq!(
            found(f.store.clone()).await,
            [("alpha".to_owned(), true), ("beta".to_owned(), false)]
        );
        assert!(
            f.store
                .apps_with_client_id("SHARED")
                .await
                .unwrap()
                .is_empty()
        );

        // A second multi-tenant app with the client_id, new or by an update: conflict.
        let c = f
            .store
            .create_tenant(new_tenant("gamma", T0))
            .await
            .unwrap()
            .id;
        let err = f
            .store
            .apply(vec![Write::Put(object(
                c,
                ObjectKind::App,
                "shared",
                multi,
                4,
            ))])
            .await
            .unwrap_err();
        assert!(matches!(err, StoreError::Conflict(_)), "{err:?}");
        let b_app = f
            .store
            .object(b, ObjectKind::App, "shared")
            .await
            .unwrap()
            .unwrap();
        let made_multi = b_app.clone().with_doc(multi.into(), T0);
        let err = f
            .store
            .apply(vec![Write::Put(made_multi.clone())])
            .await
            .unwrap_err();
        assert!(matches!(err, StoreError::Conflict(_)), "{err:?}");

        // Once alpha's is single-tenant, beta's may become the one.
        let a_app = f
            .store
            .object(a, ObjectKind::App, "shared")
            .await
            .unwrap()
            .unwrap();
        f.store
            .apply(vec![
                Write::Put(a_app.with_doc(single.into(), T0)),
                Write::Put(made_multi),
            ])
            .await
            .unwrap();
        assert_eq!(
            found(f.store.clone()).await,
            [("alpha".to_owned(), false), ("beta".to_owned(), true)]
        );
        assert_eq!(
            f.store
                .tenant_by_id(b)
                .await
                .unwrap()
                .unwrap()
                .slug
                .as_str(),
            "beta"
        );

        // A deleted tenant takes its apps with it.
        f.store.apply(Write::delete_tenant(b).into()).await.unwrap();
        assert_eq!(found(f.store.clone()).await, [("alpha".to_owned(), false)]);
        assert_eq!(f.store.tenant_by_id(b).await.unwrap(), None);
    }

    pub async fn a_failing_batch_writes_nothing(f: Fixture) {
        let (a, _) = two_tenants(f.store.as_ref()).await;
        f.store
            .apply(vec![Write::Put(object(
                a,
                ObjectKind::User,
                "taken",
                "{}",
                1,
            ))])
            .await
            .unwrap();
        let batch = vec![
            Write::CreateTenant(new_tenant("gamma", T0)),
            Write::Put(object(a, ObjectKind::User, "fresh", "{}", 2)),
            Write::Put(object(a, ObjectKind::User, "taken", "{}", 3)),
        ];
        assert!(matches!(
            f.store.apply(batch).await,
            Err(StoreError::Conflict(_))
        ));
        assert_eq!(f.store.tenant(&slug("gamma")).await.unwrap(), None);
        assert_eq!(
            f.store.object(a, ObjectKind::User, "fresh").await.unwrap(),
            None
        );
        // An update of a tenant that does not exist fails the batch too.
        let batch = vec![
            Write::Put(object(a, ObjectKind::User, "fresh", "{}", 2)),
            Write::UpdateTenant {
                id: TenantId::from_uuid(uuid::Uuid::from_u128(999)),
                display_name: "x".into(),
                kind: TenantKind::Work,
                policy: "{}".into(),
                disabled: false,
                at: T0,
            },
        ];
        assert!(matches!(
            f.store.apply(batch).await,
            Err(StoreError::Internal(_))
        ));
        assert_eq!(
            f.store.object(a, ObjectKind::User, "fresh").await.unwrap(),
            None
        );
    }

    /// The batches grants write (protocol records only; PostgreSQL sends these as one
    /// statement): a stale or duplicate record anywhere in the batch fails all of it and
    /// announces nothing; a batch that commits announces its cached kinds.
    pub async fn a_failing_batch_of_protocol_records_writes_nothing(f: Fixture) {
        let (a, _) = two_tenants(f.store.as_ref()).await;
        let here = Recorder::listening_to(f.store.as_ref());
        let old = object(a, ObjectKind::RefreshToken, "old", r#"{"n":0}"#, 1);
        f.store.apply(vec![Write::Put(old)]).await.unwrap();
        let read = f
            .store
            .object(a, ObjectKind::RefreshToken, "old")
            .await
            .unwrap()
            .unwrap();
        // Another use rotated it first.
        f.store
            .apply(vec![Write::Put(
                read.clone().with_doc(r#"{"n":1}"#.into(), T0),
            )])
            .await
            .unwrap();
        let denied = Some(Change {
            tenant: a,
            kind: Some(ObjectKind::RevokedAccessToken),
        });
        for stale_first in [true, false] {
            let stale = Write::Put(read.clone().with_doc(r#"{"n":2}"#.into(), T0));
            let new = Write::Put(object(a, ObjectKind::RefreshToken, "new", "{}", 2));
            let deny = Write::Put(object(a, ObjectKind::RevokedAccessToken, "jti", "{}", 3));
            let batch = if stale_first {
                vec![stale, new, deny]
            } else {
                vec![new, deny, stale]
            };
            let err = f.store.apply(batch).await.unwrap_err();
            assert!(
                matches!(&err, StoreError::Conflict(m) if m.contains("old")),
                "{err:?}"
            );
            for (kind, key) in [
                (ObjectKind::RefreshToken, "new"),
                (ObjectKind::RevokedAccessToken, "jti"),
            ] {
                assert_eq!(f.store.object(a, kind, key).await.unwrap(), None, "{key}");
            }
        }
        let kept = f.store.object(a, ObjectKind::RefreshToken, "old").await;
        assert_eq!(kept.unwrap().unwrap().doc, r#"{"n":1}"#);
        // A second record under a key already taken fails the batch as well.
        let duplicate = vec![
            Write::Put(object(a, ObjectKind::Session, "s", "{}", 4)),
            Write::Put(object(a, ObjectKind::RefreshToken, "old", "{}", 5)),
        ];
        let err = f.store.apply(duplicate).await.unwrap_err();
        assert!(matches!(err, StoreError::Conflict(_)), "{err:?}");
        assert_eq!(
            f.store.object(a, ObjectKind::Session, "s").await.unwrap(),
            None
        );
        assert_eq!(here.count(denied), 0, "refused batches announce nothing");
        f.store
            .apply(vec![
                Write::Put(object(a, ObjectKind::RefreshToken, "new", "{}", 2)),
                Write::Put(object(a, ObjectKind::RevokedAccessToken, "jti", "{}", 3)),
            ])
            .await
            .unwrap();
        assert!(here.count(denied) >= 1, "a committed deny-list entry");
        assert!(
            f.store
                .object(a, ObjectKind::RefreshToken, "new")
                .await
                .unwrap()
                .is_some()
        );
    }

    /// `apply_if`, as a refresh rotation uses it: the writes are made, and the required
    /// object returned, only while that object exists in the tenant under the kind and
    /// key, with the id, and with `true` as its flag; otherwise nothing is written. A
    /// write that fails while the requirement holds fails the whole. Protocol records
    /// alone go as one statement on PostgreSQL; a batch that announces a change goes
    /// as a transaction, and must behave the same.
    pub async fn writes_on_condition_only_while_the_required_object_meets_it(f: Fixture) {
        use tessera_core::store::Requirement;
        let (a, b) = two_tenants(f.store.as_ref()).await;
        let here = Recorder::listening_to(f.store.as_ref());
        let users = [
            ("alice", r#"{"enabled":true,"name":"Alice"}"#, 10),
            ("bob", r#"{"enabled":false}"#, 11),
            ("carol", r#"{"enabled":"true"}"#, 12),
            ("dave", r#"{"name":"Dave"}"#, 13),
        ];
        for (key, doc, id) in users {
            let user = object(a, ObjectKind::User, key, doc, id);
            f.store.apply(vec![Write::Put(user)]).await.unwrap();
        }
        let old = object(a, ObjectKind::RefreshToken, "old", r#"{"n":0}"#, 1);
        f.store.apply(vec![Write::Put(old)]).await.unwrap();
        let stored = |kind, key: &'static str| {
            let store = f.store.clone();
            async move { store.object(a, kind, key).await.unwrap() }
        };
        let live = stored(ObjectKind::RefreshToken, "old").await.unwrap();
        let required = |tenant, key: &str, id: u128| Requirement {
            tenant_id: tenant,
            kind: ObjectKind::User,
            key: key.to_owned(),
            id: ObjectId::from_uuid(uuid::Uuid::from_u128(id)),
            flag: tessera_core::store::Flag::UserEnabled,
        };
        let app = Change {
            tenant: a,
            kind: Some(ObjectKind::App),
        };
        let denied = Change {
            tenant: a,
            kind: Some(ObjectKind::RevokedAccessToken),
        };
        // Unmet: disabled, a flag that is not `true`, no flag, another id under the key,
        // no such object, the right one asked for in another tenant. Each with records
        // only (one statement) and with an announced object (a transaction).
        let unmet = [
            required(a, "bob", 11),
            required(a, "carol", 12),
            required(a, "dave", 13),
            required(a, "alice", 99),
            required(a, "nobody", 10),
            required(b, "alice", 10),
        ];
        for (n, req) in unmet.iter().enumerate() {
            // Beside the records: nothing, an announced record (a deny-list entry:
            // still one statement), an announced directory object (a transaction).
            for beside in [
                None,
                Some(ObjectKind::RevokedAccessToken),
                Some(ObjectKind::App),
            ] {
                let mut writes = vec![
                    Write::Put(live.clone().with_doc(r#"{"n":1}"#.into(), T0)),
                    Write::Put(object(a, ObjectKind::RefreshToken, "new", "{}", 2)),
                ];
                if let Some(kind) = beside {
                    writes.push(Write::Put(object(a, kind, "beside", "{}", 3)));
                }
                let outcome = f.store.apply_if(req, writes).await;
                assert_eq!(outcome, Ok(None), "requirement {n}, beside {beside:?}");
            }
        }
        assert_eq!(
            stored(ObjectKind::RefreshToken, "old").await,
            Some(live.clone())
        );
        assert_eq!(stored(ObjectKind::RefreshToken, "new").await, None);
        for kind in [ObjectKind::RevokedAccessToken, ObjectKind::App] {
            assert_eq!(stored(kind, "beside").await, None, "{kind:?}");
        }
        assert_eq!(
            here.count(Some(app)) + here.count(Some(denied)),
            0,
            "nothing written, nothing announced"
        );

        // Met: the writes are made and the required object comes back as stored.
        let alice = stored(ObjectKind::User, "alice").await.unwrap();
        let rotate = |old: &StoredObject, new_key: &str, new_id: u128| {
            vec![
                Write::Put(old.clone().with_doc(r#"{"n":1}"#.into(), T0)),
                Write::Put(object(a, ObjectKind::RefreshToken, new_key, "{}", new_id)),
            ]
        };
        let found = f
            .store
            .apply_if(&required(a, "alice", 10), rotate(&live, "new", 2))
            .await;
        assert_eq!(found, Ok(Some(alice.clone())));
        let rotated = stored(ObjectKind::RefreshToken, "old").await.unwrap();
        assert_eq!((rotated.doc.as_str(), rotated.version), (r#"{"n":1}"#, 2));
        assert!(stored(ObjectKind::RefreshToken, "new").await.is_some());

        // Met, but the token was rotated already: a conflict, and nothing written.
        let again = f
            .store
            .apply_if(&required(a, "alice", 10), rotate(&live, "newer", 4))
            .await;
        assert!(matches!(again, Err(StoreError::Conflict(_))), "{again:?}");
        assert_eq!(stored(ObjectKind::RefreshToken, "newer").await, None);

        // Met, with an announced record (one statement on PostgreSQL), then with an
        // announced directory object (a transaction).
        let mut writes = rotate(&rotated, "newer", 5);
        writes.push(Write::Put(object(
            a,
            ObjectKind::RevokedAccessToken,
            "jti",
            "{}",
            3,
        )));
        let found = f.store.apply_if(&required(a, "alice", 10), writes).await;
        assert_eq!(found, Ok(Some(alice.clone())));
        assert!(
            stored(ObjectKind::RevokedAccessToken, "jti")
                .await
                .is_some()
        );
        assert!(here.count(Some(denied)) >= 1, "announced once written");
        let rotated = stored(ObjectKind::RefreshToken, "old").await.unwrap();
        let mut writes = rotate(&rotated, "newest", 8);
        writes.push(Write::Put(object(a, ObjectKind::App, "app", "{}", 9)));
        let found = f.store.apply_if(&required(a, "alice", 10), writes).await;
        assert_eq!(found, Ok(Some(alice)));
        assert!(stored(ObjectKind::RefreshToken, "newest").await.is_some());
        assert!(stored(ObjectKind::App, "app").await.is_some());
        assert!(here.count(Some(app)) >= 1, "announced once written");
        // …and a failing write there fails the whole too.
        let mut writes = rotate(&rotated, "last", 6);
        writes.push(Write::Put(object(a, ObjectKind::App, "app2", "{}", 7)));
        let again = f.store.apply_if(&required(a, "alice", 10), writes).await;
        assert!(matches!(again, Err(StoreError::Conflict(_))), "{again:?}");
        assert_eq!(stored(ObjectKind::RefreshToken, "last").await, None);
        assert_eq!(stored(ObjectKind::App, "app2").await, None);
    }

    /// How a code's redemption wins (its record is first stored at redemption): of
    /// concurrent batches that each create a record under one key, with a record of
    /// their own beside it, exactly one commits, and the others leave nothing behind.
    pub async fn concurrent_new_records_under_one_key_have_exactly_one_winner(f: Fixture) {
        let (a, _) = two_tenants(f.store.as_ref()).await;
        let attempts = (0..16u128).map(|i| {
            let store = f.store.clone();
            let batch = vec![
                Write::Put(object(
                    a,
                    ObjectKind::AuthCode,
                    "code",
                    &format!(r#"{{"n":{i}}}"#),
                    100 + i,
                )),
                Write::Put(object(
                    a,
                    ObjectKind::RefreshToken,
                    &format!("rt{i}"),
                    "{}",
                    200 + i,
                )),
            ];
            tokio::spawn(async move { store.apply(batch).await })
        });
        let results = futures_join(attempts).await;
        let winners: Vec<usize> = results
            .iter()
            .enumerate()
            .filter_map(|(i, r)| r.is_ok().then_some(i))
            .collect();
        let conflicts = results
            .iter()
            .filter(|r| matches!(r, Err(StoreError::Conflict(_))))
            .count();
        assert_eq!((winners.len(), conflicts), (1, 15), "{results:?}");
        let stored = f
            .store
            .object(a, ObjectKind::AuthCode, "code")
            .await
            .unwrap()
            .unwrap();
        assert_eq!(stored.doc, format!(r#"{{"n":{}}}"#, winners[0]));
        let tokens = f.store.objects(a, ObjectKind::RefreshToken).await.unwrap();
        assert_eq!(tokens.len(), 1, "only the winner's refresh token");
        assert_eq!(tokens[0].key, format!("rt{}", winners[0]));
    }

    /// A user's protocol records and consents, by the `user` their documents name: only
    /// that user's, only that kind, only that tenant, and still theirs after an update.
    pub async fn a_users_records_are_found_by_their_owner(f: Fixture) {
        let (a, b) = two_tenants(f.store.as_ref()).await;
        let token = |tenant, key: &str, user: &str, id| {
            object(
                tenant,
                ObjectKind::RefreshToken,
                key,
                &format!(r#"{{"user":"{user}","n":0}}"#),
                id,
            )
        };
        f.store
            .apply(vec![
                Write::Put(token(a, "t1", "alice", 1)),
                Write::Put(token(a, "t2", "alice", 2)),
                Write::Put(token(a, "t3", "bob", 3)),
                Write::Put(token(b, "t4", "alice", 4)),
                Write::Put(object(
                    a,
                    ObjectKind::Session,
                    "s1",
                    r#"{"user":"alice"}"#,
                    5,
                )),
                // A consent names its user too.
                Write::Put(object(
                    a,
                    ObjectKind::Consent,
                    "c1",
                    r#"{"user":"alice"}"#,
                    6,
                )),
                // A kind that names no user: a `user` field in it means nothing.
                Write::Put(object(a, ObjectKind::Group, "g1", r#"{"user":"alice"}"#, 7)),
            ])
            .await
            .unwrap();
        let keys =
            |objects: Vec<StoredObject>| objects.into_iter().map(|o| o.key).collect::<Vec<_>>();
        let alice = f
            .store
            .objects_of_user(a, ObjectKind::RefreshToken, "alice")
            .await
            .unwrap();
        assert_eq!(keys(alice.clone()), ["t1", "t2"]);
        assert_eq!(
            keys(
                f.store
                    .objects_of_user(a, ObjectKind::Session, "alice")
                    .await
                    .unwrap()
            ),
            ["s1"]
        );
        assert_eq!(
            keys(
                f.store
                    .objects_of_user(b, ObjectKind::RefreshToken, "alice")
                    .await
                    .unwrap()
            ),
            ["t4"]
        );
        assert_eq!(
            keys(
                f.store
                    .objects_of_user(a, ObjectKind::Consent, "alice")
                    .await
                    .unwrap()
            ),
            ["c1"]
        );
        assert!(
            f.store
                .objects_of_user(a, ObjectKind::Group, "alice")
                .await
                .unwrap()
                .is_empty()
        );
        assert!(
            f.store
                .objects_of_user(a, ObjectKind::RefreshToken, "carol")
                .await
                .unwrap()
                .is_empty()
        );
        // An update (a rotation marks the old token) keeps it the user's.
        let t1 = alice.into_iter().next().unwrap();
        f.store
            .apply(vec![Write::Put(
                t1.with_doc(r#"{"user":"alice","n":1}"#.into(), T0),
            )])
            .await
            .unwrap();
        let again = f
            .store
            .objects_of_user(a, ObjectKind::RefreshToken, "alice")
            .await
            .unwrap();
        assert_eq!(again.len(), 2);
        assert_eq!(again[0].doc, r#"{"user":"alice","n":1}"#);
    }

    /// A listing's pages: key order, from a cursor, at most the limit, only that
    /// tenant and kind.
    pub async fn objects_are_read_a_page_at_a_time(f: Fixture) {
        let (a, b) = two_tenants(f.store.as_ref()).await;
        let mut writes: Vec<Write> = ["u05", "u01", "u07", "u03", "u02", "u06", "u04"]
            .iter()
            .enumerate()
            .map(|(i, key)| Write::Put(object(a, ObjectKind::User, key, "{}", 100 + i as u128)))
            .collect();
        writes.push(Write::Put(object(b, ObjectKind::User, "u00", "{}", 200)));
        writes.push(Write::Put(object(a, ObjectKind::Group, "u00", "{}", 201)));
        f.store.apply(writes).await.unwrap();
        let page = |after: Option<&'static str>, limit| {
            let store = f.store.clone();
            async move {
                store
                    .objects_after(a, ObjectKind::User, after, limit)
                    .await
                    .unwrap()
                    .into_iter()
                    .map(|o| o.key)
                    .collect::<Vec<_>>()
            }
        };
        assert_eq!(page(None, 3).await, ["u01", "u02", "u03"]);
        assert_eq!(page(Some("u03"), 3).await, ["u04", "u05", "u06"]);
        assert_eq!(page(Some("u06"), 3).await, ["u07"]);
        assert!(page(Some("u07"), 3).await.is_empty());
        // A cursor between keys, and a limit below one read as one.
        assert_eq!(page(Some("u035"), 0).await, ["u04"]);
        assert_eq!(page(None, 1000).await.len(), 7);
    }

    /// Migration 7 gives the consents written before it their owner.
    pub async fn consents_from_before_migration_7_get_their_owner(f: Fixture) {
        let (a, _) = two_tenants(f.store.as_ref()).await;
        let consent = object(
            a,
            ObjectKind::Consent,
            "web alice",
            r#"{"user":"alice"}"#,
            9,
        );
        f.store.apply(vec![Write::Put(consent)]).await.unwrap();
        // As a binary before migration 7 left it: no owner, and neither 7 nor a later one applied.
        f.raw_sql(&[
            "UPDATE directory_objects SET owner = NULL WHERE kind = 'consent'",
            "DELETE FROM tessera_migrations WHERE version >= 7",
        ])
        .await;
        let of_alice = |store: Arc<dyn Store>| async move {
            store
                .objects_of_user(a, ObjectKind::Consent, "alice")
                .await
                .unwrap()
                .into_iter()
                .map(|o| o.key)
                .collect::<Vec<_>>()
        };
        assert!(of_alice(f.store.clone()).await.is_empty());
        assert_eq!(of_alice(f.reopen().await).await, ["web alice"]);
    }

    /// By id: only in its own tenant and kind.
    pub async fn an_object_is_read_by_id_only_in_its_tenant_and_kind(f: Fixture) {
        let (a, b) = two_tenants(f.store.as_ref()).await;
        let alice = object(a, ObjectKind::User, "alice", r#"{"n":1}"#, 77);
        f.store.apply(vec![Write::Put(alice)]).await.unwrap();
        let id = ObjectId::from_uuid(uuid::Uuid::from_u128(77));
        let found = f.store.object_by_id(a, ObjectKind::User, id).await.unwrap();
        assert_eq!(
            found.map(|o| (o.key, o.doc)),
            Some(("alice".to_owned(), r#"{"n":1}"#.to_owned()))
        );
        for (tenant, kind, id) in [
            (b, ObjectKind::User, id),
            (a, ObjectKind::Group, id),
            (
                a,
                ObjectKind::User,
                ObjectId::from_uuid(uuid::Uuid::from_u128(78)),
            ),
        ] {
            assert_eq!(f.store.object_by_id(tenant, kind, id).await.unwrap(), None);
        }
    }

    /// A record and the user it names, read together: only that tenant's user of that
    /// key, and none when there is no such user.
    pub async fn a_record_is_read_with_the_user_it_names(f: Fixture) {
        let (a, b) = two_tenants(f.store.as_ref()).await;
        let alice = object(a, ObjectKind::User, "alice", r#"{"n":"a"}"#, 1);
        f.store
            .apply(vec![
                Write::Put(alice.clone()),
                // Same key, other kind or other tenant: never the one named.
                Write::Put(object(a, ObjectKind::Group, "bob", "{}", 2)),
                Write::Put(object(b, ObjectKind::User, "bob", "{}", 3)),
                Write::Put(object(
                    a,
                    ObjectKind::Session,
                    "s1",
                    r#"{"user":"alice"}"#,
                    4,
                )),
                Write::Put(object(a, ObjectKind::Session, "s2", r#"{"user":"bob"}"#, 5)),
                Write::Put(object(a, ObjectKind::Session, "s3", r#"{"other":1}"#, 6)),
            ])
            .await
            .unwrap();
        let store = f.store.as_ref();
        let (session, user) = store
            .object_with_user(a, ObjectKind::Session, "s1")
            .await
            .unwrap()
            .unwrap();
        assert_eq!((session.key.as_str(), session.version), ("s1", 1));
        let user = user.expect("alice");
        assert_eq!(
            (user.id, user.kind, user.doc.as_str(), user.version),
            (alice.id, ObjectKind::User, alice.doc.as_str(), 1)
        );
        for key in ["s2", "s3"] {
            let (session, user) = store
                .object_with_user(a, ObjectKind::Session, key)
                .await
                .unwrap()
                .unwrap();
            assert_eq!((session.key.as_str(), user), (key, None));
        }
        assert_eq!(
            store
                .object_with_user(b, ObjectKind::Session, "s1")
                .await
                .unwrap(),
            None
        );
        assert_eq!(
            store
                .object_with_user(a, ObjectKind::Session, "none")
                .await
                .unwrap(),
            None
        );
    }

    /// No store call for one tenant returns, or changes, another tenant's rows.
    pub async fn tenants_are_isolated(f: Fixture) {
        let (a, b) = two_tenants(f.store.as_ref()).await;
        f.store
            .apply(vec![Write::Put(object(
                a,
                ObjectKind::App,
                "secret-app",
                r#"{"of":"a"}"#,
                1,
            ))])
            .await
            .unwrap();
        assert!(
            f.store
                .objects(b, ObjectKind::App)
                .await
                .unwrap()
                .is_empty()
        );
        assert_eq!(
            f.store
                .object(b, ObjectKind::App, "secret-app")
                .await
                .unwrap(),
            None
        );
        // Reusing A's object id under tenant B must not take over A's row.
        let hijack = object(b, ObjectKind::App, "mine", r#"{"of":"b"}"#, 1);
        assert!(matches!(
            f.store.apply(vec![Write::Put(hijack)]).await,
            Err(StoreError::Conflict(_))
        ));
        // Nor may B delete it.
        f.store
            .apply(vec![Write::Delete {
                tenant_id: b,
                kind: ObjectKind::App,
                id: ObjectId::from_uuid(uuid::Uuid::from_u128(1)),
            }])
            .await
            .unwrap();
        let still = f
            .store
            .object(a, ObjectKind::App, "secret-app")
            .await
            .unwrap()
            .unwrap();
        assert_eq!(still.doc, r#"{"of":"a"}"#);
    }

    pub async fn audit_entries_filter_and_stay_in_their_tenant(f: Fixture) {
        use tessera_core::audit::{AuditEntry, AuditQuery};
        let (a, b) = two_tenants(f.store.as_ref()).await;
        let entry = |id: u128, tenant, minute: u8, actor: &str| AuditEntry {
            id: ObjectId::from_uuid(uuid::Uuid::from_u128(id)),
            tenant_id: tenant,
            at: T0 + time::Duration::minutes(i64::from(minute)),
            actor: actor.to_owned(),
            action: "user.create".to_owned(),
            target: format!("user:u{id}"),
            changes: vec!["email".to_owned(), "name".to_owned()],
        };
        f.store
            .apply(vec![
                Write::Audit(entry(1, a, 0, "bootstrap")),
                Write::Audit(entry(2, a, 5, "import")),
                Write::Audit(entry(3, a, 10, "bootstrap")),
                Write::Audit(entry(4, b, 1, "bootstrap")),
            ])
            .await
            .unwrap();
        let all = AuditQuery {
            actor: None,
            since: None,
            until: None,
            limit: 100,
        };
        let got = f.store.audit(a, &all).await.unwrap();
        assert_eq!(
            got.iter()
                .map(|e| e.id.as_uuid().as_u128())
                .collect::<Vec<_>>(),
            [3, 2, 1],
            "newest first, tenant a only"
        );
        assert_eq!(got[0], entry(3, a, 10, "bootstrap"));
        let by_actor = AuditQuery {
            actor: Some("bootstrap".into()),
            ..all.clone()
        };
        assert_eq!(f.store.audit(a, &by_actor).await.unwrap().len(), 2);
        let window = AuditQuery {
            since: Some(T0 + time::Duration::minutes(5)),
            until: Some(T0 + time::Duration::minutes(5)),
            ..all.clone()
        };
        assert_eq!(
            f.store
                .audit(a, &window)
                .await
                .unwrap()
                .iter()
                .map(|e| e.id.as_uuid().as_u128())
                .collect::<Vec<_>>(),
            [2]
        );
        // An entry in a failed batch is not written either.
        let failing = vec![
            Write::Audit(entry(5, a, 20, "x")),
            Write::Put(object(a, ObjectKind::User, "dup", "{}", 9)),
            Write::Put(object(a, ObjectKind::User, "dup", "{}", 10)),
        ];
        assert!(f.store.apply(failing).await.is_err());
        assert_eq!(f.store.audit(a, &all).await.unwrap().len(), 3);
    }

    pub async fn tenant_updates_and_policy_round_trip(f: Fixture) {
        let mut t = new_tenant("policy", T0);
        t.policy.lockout_threshold = 9;
        t.policy.blocked_ip_ranges = vec!["203.0.113.0/24".into()];
        let created = f.store.create_tenant(t.clone()).await.unwrap();
        assert_eq!(created.policy, t.policy);
        let mut policy = t.policy.clone();
        policy.code_lifetime_seconds = 30;
        f.store
            .apply(vec![Write::UpdateTenant {
                id: created.id,
                display_name: "Renamed".into(),
                kind: TenantKind::Consumers,
                policy: tessera_core::store::object::encode(&policy),
                disabled: true,
                at: datetime!(2026-11-28 00:00:00 UTC),
            }])
            .await
            .unwrap();
        let got = f.store.tenant(&slug("policy")).await.unwrap().unwrap();
        assert_eq!(
            (got.display_name.as_str(), got.kind, got.policy),
            ("Renamed", TenantKind::Consumers, policy)
        );
        assert_eq!(got.updated_at, datetime!(2026-11-28 00:00:00 UTC));
        assert!(got.disabled);
    }

    pub async fn ping_answers(f: Fixture) {
        f.store.ping().await.unwrap();
    }

    pub async fn created_tenant_reads_back_equal(f: Fixture) {
        let mut t = new_tenant("contoso", datetime!(2026-11-26 19:30:00.750 UTC));
        t.kind = TenantKind::Consumers;
        t.display_name = "Contoso – “Ünïcode” name".into();
        let created = f.store.create_tenant(t.clone()).await.unwrap();
        assert_eq!(created.id, t.id);
        assert_eq!(created.slug, t.slug);
        assert_eq!(created.display_name, t.display_name);
        assert_eq!(created.kind, TenantKind::Consumers);
        assert!(!created.disabled);
        // Stored to the second.
        assert_eq!(created.created_at, datetime!(2026-11-26 19:30:00 UTC));
        assert_eq!(created.updated_at, created.created_at);
        assert_eq!(f.store.tenant(&t.slug).await.unwrap(), Some(created));
    }

    pub async fn unknown_slug_is_none(f: Fixture) {
        assert_eq!(f.store.tenant(&slug("nobody")).await.unwrap(), None);
    }

    pub async fn duplicate_slug_is_a_conflict(f: Fixture) {
        f.store
            .create_tenant(new_tenant("fabrikam", T0))
            .await
            .unwrap();
        let mut again = new_tenant("fabrikam", T0);
        again.id = TenantId::from_uuid(uuid::Uuid::from_u128(42));
        let err = f.store.create_tenant(again).await.unwrap_err();
        assert!(matches!(err, StoreError::Conflict(_)), "{err:?}");
        // The first tenant is untouched.
        let t = f.store.tenant(&slug("fabrikam")).await.unwrap().unwrap();
        assert_ne!(t.id, TenantId::from_uuid(uuid::Uuid::from_u128(42)));
    }

    pub async fn concurrent_creates_of_one_slug_have_exactly_one_winner(f: Fixture) {
        let attempts = (0..16u128).map(|i| {
            let store = f.store.clone();
            let mut t = new_tenant("racy", T0);
            t.id = TenantId::from_uuid(uuid::Uuid::from_u128(1000 + i));
            tokio::spawn(async move { store.create_tenant(t).await })
        });
        let results = futures_join(attempts).await;
        let wins = results.iter().filter(|r| r.is_ok()).count();
        let conflicts = results
            .iter()
            .filter(|r| matches!(r, Err(StoreError::Conflict(_))))
            .count();
        assert_eq!((wins, conflicts), (1, 15), "{results:?}");
        let stored = f.store.tenant(&slug("racy")).await.unwrap().unwrap();
        let winner = results.into_iter().find_map(Result::ok).unwrap();
        assert_eq!(stored, winner);
    }

    pub async fn concurrent_creates_of_many_slugs_all_persist(f: Fixture) {
        let attempts = (0..64).map(|i| {
            let store = f.store.clone();
            tokio::spawn(async move {
                store
                    .create_tenant(new_tenant(&format!("t{i:03}"), T0))
                    .await
            })
        });
        for r in futures_join(attempts).await {
            r.unwrap();
        }
        let page = f.store.list_tenants(None, 1000).await.unwrap();
        assert_eq!(page.items.len(), 64);
        // Durable across a reopen of the store.
        let reopened = f.reopen().await;
        assert_eq!(
            reopened.list_tenants(None, 1000).await.unwrap().items.len(),
            64
        );
    }

    pub async fn list_pages_in_slug_order(f: Fixture) {
        for s in ["delta", "alpha", "echo", "charlie", "bravo"] {
            f.store.create_tenant(new_tenant(s, T0)).await.unwrap();
        }
        let first = f.store.list_tenants(None, 2).await.unwrap();
        let names = |p: &tessera_core::store::Page<tessera_core::tenant::Tenant>| {
            p.items
                .iter()
                .map(|t| t.slug.to_string())
                .collect::<Vec<_>>()
        };
        assert_eq!(names(&first), ["alpha", "bravo"]);
        let second = f
            .store
            .list_tenants(first.next.as_deref(), 2)
            .await
            .unwrap();
        assert_eq!(names(&second), ["charlie", "delta"]);
        let third = f
            .store
            .list_tenants(second.next.as_deref(), 2)
            .await
            .unwrap();
        assert_eq!(names(&third), ["echo"]);
        assert_eq!(third.next, None);
        // A limit of zero is raised to one rather than returning nothing forever.
        assert_eq!(f.store.list_tenants(None, 0).await.unwrap().items.len(), 1);
    }

    pub async fn disable_and_enable(f: Fixture) {
        let created = f
            .store
            .create_tenant(new_tenant("woodgrove", T0))
            .await
            .unwrap();
        let later = datetime!(2026-11-27 08:00:00 UTC);
        let set = |disabled: bool| Write::UpdateTenant {
            id: created.id,
            display_name: created.display_name.clone(),
            kind: created.kind,
            policy: tessera_core::store::object::encode(&created.policy),
            disabled,
            at: later,
        };
        f.store.apply(vec![set(true)]).await.unwrap();
        let t = f.store.tenant(&slug("woodgrove")).await.unwrap().unwrap();
        assert!(t.disabled);
        assert_eq!((t.updated_at, t.created_at), (later, T0));
        f.store.apply(vec![set(false)]).await.unwrap();
        assert!(
            !f.store
                .tenant(&slug("woodgrove"))
                .await
                .unwrap()
                .unwrap()
                .disabled
        );
    }

    /// Local changes are announced before the write returns; on PostgreSQL they also
    /// reach a second store on the same database (another node) through NOTIFY.
    pub async fn changes_to_cached_data_are_announced(f: Fixture) {
        let postgres = f.store.backend() == "postgres";
        let here = Recorder::listening_to(f.store.as_ref());
        let other_node = f.reopen().await;
        let there = Recorder::listening_to(other_node.as_ref());
        if postgres {
            // Its relay announces "everything" once it listens; from then on nothing is
            // missed.
            wait_until(|| there.count(None) > 0).await;
        }
        let tenant = f
            .store
            .create_tenant(new_tenant("announced", T0))
            .await
            .unwrap()
            .id;
        let created = Some(Change { tenant, kind: None });
        assert!(here.count(created) >= 1, "a created tenant");
        let app = object(tenant, ObjectKind::App, "web", "{}", 1);
        f.store.apply(vec![Write::Put(app)]).await.unwrap();
        let app_put = Some(Change {
            tenant,
            kind: Some(ObjectKind::App),
        });
        // On PostgreSQL this node may also hear its own notifications echoed; harmless.
        assert!(here.count(app_put) >= 1, "an app put");
        // Protocol state is not announced.
        let session = object(tenant, ObjectKind::Session, "s", "{}", 3);
        f.store.apply(vec![Write::Put(session)]).await.unwrap();
        if postgres {
            wait_until(|| there.count(created) >= 1 && there.count(app_put) >= 1).await;
        } else {
            // A refused batch changed nothing, so it announces nothing.
            let dup = object(tenant, ObjectKind::App, "web", "{}", 2);
            assert!(f.store.apply(vec![Write::Put(dup)]).await.is_err());
            assert_eq!(here.count(app_put), 1, "a refused write");
            assert_eq!(there.count(app_put), 0, "SQLite: one process only");
        }
        let heard = here.0.lock().unwrap().clone();
        assert!(
            heard
                .iter()
                .flatten()
                .all(|c| c.kind != Some(ObjectKind::Session)),
            "{heard:?}"
        );
    }

    pub async fn expired_objects_are_deleted_in_batches(f: Fixture) {
        let (alpha, beta) = two_tenants(f.store.as_ref()).await;
        let at = |minutes: i64| T0 + time::Duration::minutes(minutes);
        let mut writes = Vec::new();
        for i in 0..5u128 {
            writes.push(Write::Put(
                object(
                    alpha,
                    ObjectKind::RefreshToken,
                    &format!("old{i}"),
                    "{}",
                    100 + i,
                )
                .expiring(at(-1)),
            ));
        }
        writes.push(Write::Put(
            object(alpha, ObjectKind::RefreshToken, "live", "{}", 200).expiring(at(10)),
        ));
        writes.push(Write::Put(object(
            alpha,
            ObjectKind::RefreshToken,
            "forever",
            "{}",
            201,
        )));
        writes.push(Write::Put(
            object(alpha, ObjectKind::Session, "other-kind", "{}", 202).expiring(at(-1)),
        ));
        writes.push(Write::Put(
            object(beta, ObjectKind::RefreshToken, "other-tenant", "{}", 203).expiring(at(-1)),
        ));
        f.store.apply(writes).await.unwrap();
        let live = f
            .store
            .object(alpha, ObjectKind::RefreshToken, "live")
            .await
            .unwrap()
            .unwrap();
        assert_eq!(live.expires_at, Some(at(10)));

        let kind = ObjectKind::RefreshToken;
        assert_eq!(
            f.store.delete_expired(alpha, kind, at(0), 3).await.unwrap(),
            3
        );
        assert_eq!(
            f.store.delete_expired(alpha, kind, at(0), 3).await.unwrap(),
            2
        );
        assert_eq!(
            f.store.delete_expired(alpha, kind, at(0), 3).await.unwrap(),
            0
        );
        let keys =
            |objects: Vec<StoredObject>| objects.into_iter().map(|o| o.key).collect::<Vec<_>>();
        assert_eq!(
            keys(f.store.objects(alpha, kind).await.unwrap()),
            ["forever", "live"]
        );
        assert_eq!(
            keys(f.store.objects(alpha, ObjectKind::Session).await.unwrap()).len(),
            1
        );
        assert_eq!(keys(f.store.objects(beta, kind).await.unwrap()).len(), 1);
        // At its expiry time exactly, an object is expired.
        assert_eq!(
            f.store
                .delete_expired(alpha, kind, at(10), 10)
                .await
                .unwrap(),
            1
        );
    }

    pub async fn migrations_apply_once(f: Fixture) {
        f.store
            .create_tenant(new_tenant("keepme", T0))
            .await
            .unwrap();
        // Opening again re-runs the migrator: nothing is applied twice, nothing is lost.
        let again = f.reopen().await;
        assert!(again.tenant(&slug("keepme")).await.unwrap().is_some());
        let third = f.reopen().await;
        assert_eq!(third.list_tenants(None, 10).await.unwrap().items.len(), 1);
    }
}

/// A change listener that remembers what it was told.
#[derive(Default)]
struct Recorder(std::sync::Mutex<Vec<Option<Change>>>);

impl tessera_core::store::ChangeListener for Recorder {
    fn changed(&self, change: Option<Change>) {
        self.0.lock().unwrap().push(change);
    }
}

impl Recorder {
    fn listening_to(store: &dyn Store) -> Arc<Self> {
        let recorder = Arc::new(Self::default());
        store.listen(recorder.clone());
        recorder
    }

    fn count(&self, change: Option<Change>) -> usize {
        let heard = self.0.lock().unwrap();
        heard.iter().filter(|c| **c == change).count()
    }
}

/// Polls `done` for at most 2 s (notifications arrive in milliseconds).
async fn wait_until(done: impl Fn() -> bool) {
    let start = std::time::Instant::now();
    while !done() {
        assert!(
            start.elapsed() < std::time::Duration::from_secs(2),
            "not announced within 2 s"
        );
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
}

/// Awaits spawned tasks in order.
async fn futures_join<T: Send + 'static>(
    handles: impl Iterator<Item = tokio::task::JoinHandle<T>>,
) -> Vec<T> {
    let mut out = Vec::new();
    for h in handles {
        out.push(h.await.expect("task"));
    }
    out
}

macro_rules! contract {
    ($($case:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $case() {
                    if let Some(f) = super::Fixture::new(super::Backend::Sqlite, stringify!($case)).await {
                        super::cases::$case(f).await;
                    }
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $case() {
                    if let Some(f) = super::Fixture::new(super::Backend::Postgres, stringify!($case)).await {
                        super::cases::$case(f).await;
                    }
                }
            )*
        }
    };
}

contract!(
    ping_answers,
    created_tenant_reads_back_equal,
    unknown_slug_is_none,
    duplicate_slug_is_a_conflict,
    concurrent_creates_of_one_slug_have_exactly_one_winner,
    concurrent_creates_of_many_slugs_all_persist,
    list_pages_in_slug_order,
    disable_and_enable,
    migrations_apply_once,
    objects_round_trip_in_key_order,
    put_with_a_known_id_replaces_the_document,
    keys_are_unique_per_tenant_and_kind,
    apps_are_found_by_client_id_from_every_tenant,
    a_stale_write_is_a_conflict_not_a_lost_update,
    an_update_may_change_the_key_and_the_expiry,
    a_failing_batch_writes_nothing,
    a_failing_batch_of_protocol_records_writes_nothing,
    concurrent_new_records_under_one_key_have_exactly_one_winner,
    writes_on_condition_only_while_the_required_object_meets_it,
    an_object_is_read_by_id_only_in_its_tenant_and_kind,
    objects_are_read_a_page_at_a_time,
    consents_from_before_migration_7_get_their_owner,
    a_users_records_are_found_by_their_owner,
    a_record_is_read_with_the_user_it_names,
    tenants_are_isolated,
    tenant_updates_and_policy_round_trip,
    audit_entries_filter_and_stay_in_their_tenant,
    changes_to_cached_data_are_announced,
    expired_objects_are_deleted_in_batches,
    a_deleted_tenant_takes_everything_it_holds,
);

/// A database whose schema is newer than this binary must be refused, not used.
#[tokio::test]
async fn sqlite_refuses_a_newer_schema() {
    let f = Fixture::new(Backend::Sqlite, "newer_schema").await.unwrap();
    let DatabaseUrl::Sqlite(path) = &f.url else {
        unreachable!()
    };
    let conn = rusqlite::Connection::open(path).unwrap();
    conn.execute(
        "INSERT INTO tessera_migrations (version, name, applied_at) VALUES (999, 'future', 0)",
        [],
    )
    .unwrap();
    drop(conn);
    let err = tessera_store::open(&f.url).await.err().expect("refused");
    assert!(err.to_string().contains("newer than this binary"), "{err}");
}

/// Each PostgreSQL test's database is gone once its guard drops: tests leave nothing behind.
#[tokio::test]
async fn postgres_database_is_dropped_after_the_test() {
    let Some(db) = postgres_or_skip("store::postgres_database_is_dropped_after_the_test").await
    else {
        return;
    };
    let name = db.name.clone();
    let base = std::env::var("TESSERA_TEST_POSTGRES_URL").unwrap();
    drop(db);
    use sqlx::{ConnectOptions, Connection};
    let mut conn = base
        .parse::<sqlx::postgres::PgConnectOptions>()
        .unwrap()
        .connect()
        .await
        .unwrap();
    let left: i64 = sqlx::query_scalar("SELECT count(*) FROM pg_database WHERE datname = $1")
        .bind(&name)
        .fetch_one(&mut conn)
        .await
        .unwrap();
    let _ = conn.close().await;
    assert_eq!(left, 0, "the per-test database {name} was left behind");
}

/// PostgreSQL keeps one generic plan per prepared statement. Made on a new, almost empty
/// table, a plan that found one row through a (tenant_id, kind) prefix of another index
/// would read every object of the kind once the table had grown: each statement here
/// must use its own index in that plan (`testing::statements_and_their_index`).
#[tokio::test]
async fn postgres_generic_plans_use_each_statements_own_index() {
    let Some(f) = Fixture::new(Backend::Postgres, "generic_plans").await else {
        return;
    };
    let DatabaseUrl::Postgres(options) = &f.url else {
        unreachable!()
    };
    use sqlx::{ConnectOptions, Row};
    let mut c = options.connect().await.unwrap();
    sqlx::query("SET plan_cache_mode = force_generic_plan")
        .execute(&mut c)
        .await
        .unwrap();
    for (i, (sql, index)) in tessera_store::testing::statements_and_their_index()
        .into_iter()
        .enumerate()
    {
        let params = (1..=20).filter(|n| sql.contains(&format!("${n}"))).count();
        sqlx::query(&format!("PREPARE p{i} AS {sql}"))
            .execute(&mut c)
            .await
            .unwrap();
        let nulls = vec!["NULL"; params].join(", ");
        let plan: Vec<String> = sqlx::query(&format!("EXPLAIN EXECUTE p{i}({nulls})"))
            .fetch_all(&mut c)
            .await
            .unwrap()
            .iter()
            .map(|r| r.get::<String, _>(0))
            .collect();
        let plan = plan.join("\n");
        // A generic plan shows its parameters unresolved.
        assert!(plan.contains('$'), "{plan}");
        assert!(plan.contains(&format!("using {index} ")), "{sql}\n{plan}");
        let others = [
            "directory_objects_pkey",
            "directory_objects_tenant_id_kind_key_key",
            "directory_objects_owner",
            "directory_objects_expiry",
        ];
        for other in others.iter().filter(|o| **o != index) {
            // The expiry delete then deletes each row it found by its primary key.
            let by_id = *other == "directory_objects_pkey" && index == "directory_objects_expiry";
            assert!(
                by_id || !plan.contains(&format!("using {other} ")),
                "{sql} reads {other}:\n{plan}"
            );
        }
    }
}
