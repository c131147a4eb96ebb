//! The storage envelope: everything Tessera keeps (directory content and protocol
//! records alike) is one JSON document per object, addressed by tenant, kind and a key
//! unique within the tenant and kind. The store sees only this shape; the typed model
//! lives in `crate::directory::model` and `crate::oauth::records`.

use crate::ids::{ObjectId, TenantId};
use serde::{Serialize, de::DeserializeOwned};
use time::OffsetDateTime;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ObjectKind {
    User,
    Group,
    Api,
    App,
    /// A tenant's token-signing key pair (`crate::keys`); never exported.
    SigningKey,
    /// A user's consent to an app's scopes (`model::Consent`); key `client_id user_key`.
    Consent,
    /// Protocol state (`crate::oauth::records`), keyed by the hash of the bearer value.
    Session,
    AuthCode,
    RefreshToken,
    /// A device authorization (RFC 8628), keyed by the hash of its user code
    /// (`oauth::device`).
    DeviceCode,
    /// Keyed by the access token's `jti`.
    RevokedAccessToken,
    /// A `private_key_jwt` assertion already used, keyed by the hash of its client and
    /// `jti` (`oauth::token::client_assertion`).
    UsedClientAssertion,
    /// A user's failed sign-ins (`directory::lockout`), keyed by the user's key.
    SignInFailures,
    /// One event of the sign-in log (`audit::SignInEvent`), keyed by trace id and id.
    SignInEvent,
    /// A multi-tenant app of another tenant admitted into this one by an
    /// administrator's consent (`model::ForeignApp`), keyed by client_id.
    ForeignApp,
    /// The store's record of the master key ring (`crate::key_ring`), one, in the
    /// admin tenant; never exported.
    KeyRing,
}

impl ObjectKind {
    pub const ALL: [ObjectKind; 16] = [
        ObjectKind::User,
        ObjectKind::Group,
        ObjectKind::Api,
        ObjectKind::App,
        ObjectKind::SigningKey,
        ObjectKind::Consent,
        ObjectKind::Session,
        ObjectKind::AuthCode,
        ObjectKind::RefreshToken,
        ObjectKind::DeviceCode,
        ObjectKind::RevokedAccessToken,
        ObjectKind::UsedClientAssertion,
        ObjectKind::SignInFailures,
        ObjectKind::SignInEvent,
        ObjectKind::ForeignApp,
        ObjectKind::KeyRing,
    ];

    /// The kinds a tenant file declares (signing keys belong to the installation).
    pub const DECLARED: [ObjectKind; 4] = [
        ObjectKind::User,
        ObjectKind::Group,
        ObjectKind::Api,
        ObjectKind::App,
    ];

    /// Short-lived protocol state rather than directory content: never imported or
    /// exported.
    pub fn is_protocol_state(self) -> bool {
        matches!(
            self,
            ObjectKind::Session
                | ObjectKind::AuthCode
                | ObjectKind::RefreshToken
                | ObjectKind::DeviceCode
                | ObjectKind::RevokedAccessToken
                | ObjectKind::UsedClientAssertion
                | ObjectKind::SignInFailures
                | ObjectKind::SignInEvent
        )
    }

    /// Objects whose document names, in its `user` field, the one user they belong to
    /// for good: protocol records (a deny-list entry names none) and consents. The store
    /// indexes that user (`Store::objects_of_user`).
    pub fn names_its_user(self) -> bool {
        self.is_protocol_state() || self == ObjectKind::Consent
    }

    /// Read on nearly every request and rarely written: servers keep these in memory,
    /// and the store announces their changes (`crate::store::ChangeListener`) so every
    /// node drops its copy.
    pub fn is_cached(self) -> bool {
        matches!(
            self,
            ObjectKind::Api
                | ObjectKind::App
                | ObjectKind::ForeignApp
                | ObjectKind::SigningKey
                | ObjectKind::RevokedAccessToken
        )
    }

    pub fn as_str(self) -> &'static str {
        match self {
            ObjectKind::User => "user",
            ObjectKind::Group => "group",
            ObjectKind::Api => "api",
            ObjectKind::App => "app",
            ObjectKind::SigningKey => "signing_key",
            ObjectKind::Consent => "consent",
            ObjectKind::Session => "session",
            ObjectKind::AuthCode => "authorization_code",
            ObjectKind::RefreshToken => "refresh_token",
            ObjectKind::DeviceCode => "device_code",
            ObjectKind::RevokedAccessToken => "revoked_access_token",
            ObjectKind::UsedClientAssertion => "used_client_assertion",
            ObjectKind::SignInFailures => "sign_in_failures",
            ObjectKind::SignInEvent => "sign_in_event",
            ObjectKind::ForeignApp => "foreign_app",
            ObjectKind::KeyRing => "key_ring",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

/// One stored object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredObject {
    pub id: ObjectId,
    pub tenant_id: TenantId,
    pub kind: ObjectKind,
    /// Unique per tenant and kind: lowercase username, group name, API identifier,
    /// client_id.
    pub key: String,
    /// The JSON document.
    pub doc: String,
    pub created_at: OffsetDateTime,
    pub updated_at: OffsetDateTime,
    /// Optimistic concurrency: the store increments it on every write, and a `Put` of an
    /// object read at version `v` succeeds only while the object is still at `v` (version
    /// 0: the object must not exist yet). Two writers that read the same object can
    /// therefore not silently overwrite each other; the second gets `Conflict`.
    pub version: i64,
    /// When the store may delete it (`Store::delete_expired`): protocol records carry
    /// the end of their usefulness; directory content is `None`, kept until deleted.
    pub expires_at: Option<OffsetDateTime>,
}

impl StoredObject {
    /// A new object (version 0: it must not exist yet).
    pub fn new(
        id: ObjectId,
        tenant_id: TenantId,
        kind: ObjectKind,
        key: impl Into<String>,
        doc: String,
        now: OffsetDateTime,
    ) -> Self {
        Self {
            id,
            tenant_id,
            kind,
            key: key.into(),
            doc,
            created_at: now,
            updated_at: now,
            version: 0,
            expires_at: None,
        }
    }

    /// This object, deletable by the sweeper from `at` on.
    pub fn expiring(self, at: OffsetDateTime) -> Self {
        Self {
            expires_at: Some(at),
            ..self
        }
    }

    /// This object with a new document, as of `now` (same id, key, creation time, expiry
    /// and the version it was read at).
    pub fn with_doc(self, doc: String, now: OffsetDateTime) -> Self {
        Self {
            doc,
            updated_at: now,
            ..self
        }
    }

    /// The key of the user this object belongs to for good: the `user` member of a
    /// protocol record's or a consent's document (`ObjectKind::names_its_user`), which
    /// the store keeps in a column of its own (`Store::objects_of_user`,
    /// `Store::object_with_user`) so that no SQL reads the document for it.
    pub fn owner(&self) -> Option<String> {
        #[derive(serde::Deserialize)]
        struct Owned {
            user: Option<String>,
        }
        if !self.kind.names_its_user() {
            return None;
        }
        serde_json::from_str::<Owned>(&self.doc).ok()?.user
    }

    /// Whether this is an app open to every tenant: `ObjectKind::App` whose document's
    /// [`MULTI_TENANT_MEMBER`] is the JSON boolean `true`. The backends' unique index
    /// on such apps' keys (`Store::apps_with_client_id`) tests the same member.
    pub fn is_multi_tenant_app(&self) -> bool {
        self.kind == ObjectKind::App
            && serde_json::from_str::<serde_json::Value>(&self.doc)
                .is_ok_and(|d| d.get(MULTI_TENANT_MEMBER) == Some(&serde_json::Value::Bool(true)))
    }

    pub fn decode<T: DeserializeOwned>(&self) -> Result<T, String> {
        serde_json::from_str(&self.doc).map_err(|e| {
            format!(
                "{} {} has a malformed document: {e}",
                self.kind.as_str(),
                self.id
            )
        })
    }
}

/// Serializes a model value into a document.
pub fn encode<T: Serialize>(value: &T) -> String {
    // Model types are plain data with string keys; serialization cannot fail.
    serde_json::to_string(value).unwrap_or_default()
}

/// One step of an atomic batch of directory writes.
/// The member of an app's document that makes it multi-tenant
/// (`crate::directory::model::App::multi_tenant`), named by the backends' index of
/// multi-tenant client_ids (migration 0009); a test holds it to the model.
pub const MULTI_TENANT_MEMBER: &str = "multi_tenant";

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Write {
    CreateTenant(crate::tenant::NewTenant),
    UpdateTenant {
        id: TenantId,
        display_name: String,
        kind: crate::tenant::TenantKind,
        policy: String,
        disabled: bool,
        at: OffsetDateTime,
    },
    /// Inserts the object, or replaces the document of the object with the same id.
    Put(StoredObject),
    Delete {
        tenant_id: TenantId,
        kind: ObjectKind,
        id: ObjectId,
    },
    /// Appends to the audit log, atomically with the change it records.
    Audit(crate::audit::AuditEntry),
    /// Deletes every directory object of the tenant (the first half of deleting it:
    /// [`Write::delete_tenant`]).
    DeleteTenantObjects {
        id: TenantId,
    },
    /// Deletes the tenant's row and its audit log.
    DeleteTenant {
        id: TenantId,
    },
}

impl Write {
    /// The writes that delete a tenant and everything it holds, in one change: its
    /// objects first (PostgreSQL keeps no foreign key from objects to tenants, decision
    /// 0005), then the tenant and its audit log.
    pub fn delete_tenant(id: TenantId) -> [Write; 2] {
        [
            Write::DeleteTenantObjects { id },
            Write::DeleteTenant { id },
        ]
    }

    /// What cached data (a tenant record, or objects of a cached kind) this write
    /// changes; `None` for writes no cache holds.
    pub fn change(&self) -> Option<crate::store::Change> {
        use crate::store::Change;
        match self {
            Write::CreateTenant(t) => Some(Change {
                tenant: t.id,
                kind: None,
            }),
            Write::UpdateTenant { id, .. }
            | Write::DeleteTenantObjects { id }
            | Write::DeleteTenant { id } => Some(Change {
                tenant: *id,
                kind: None,
            }),
            Write::Put(o) if o.kind.is_cached() => Some(Change {
                tenant: o.tenant_id,
                kind: Some(o.kind),
            }),
            Write::Delete {
                tenant_id, kind, ..
            } if kind.is_cached() => Some(Change {
                tenant: *tenant_id,
                kind: Some(*kind),
            }),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn put(kind: ObjectKind, tenant: TenantId) -> Write {
        Write::Put(StoredObject::new(
            ObjectId::from_uuid(uuid::Uuid::nil()),
            tenant,
            kind,
            "k",
            "{}".into(),
            OffsetDateTime::UNIX_EPOCH,
        ))
    }

    /// Exactly the kinds servers cache are announced; sessions, codes and refresh
    /// tokens are written on every sign-in and grant, and announcing them would flood
    /// every node's cache.
    #[test]
    fn only_writes_to_cached_data_are_changes() {
        use crate::store::Change;
        let t = TenantId::from_uuid(uuid::Uuid::from_u128(7));
        let announced: Vec<ObjectKind> = ObjectKind::ALL
            .into_iter()
            .filter(|k| put(*k, t).change().is_some())
            .collect();
        assert_eq!(
            announced,
            [
                ObjectKind::Api,
                ObjectKind::App,
                ObjectKind::SigningKey,
                ObjectKind::RevokedAccessToken,
                ObjectKind::ForeignApp
            ]
        );
        for kind in announced {
            let delete = Write::Delete {
                tenant_id: t,
                kind,
                id: ObjectId::from_uuid(uuid::Uuid::nil()),
            };
            let expected = Some(Change {
                tenant: t,
                kind: Some(kind),
            });
            assert_eq!(delete.change(), expected, "{kind:?}");
            assert_eq!(put(kind, t).change(), expected, "{kind:?}");
        }
        let update = Write::UpdateTenant {
            id: t,
            display_name: String::new(),
            kind: crate::tenant::TenantKind::Work,
            policy: String::new(),
            disabled: true,
            at: OffsetDateTime::UNIX_EPOCH,
        };
        assert_eq!(
            update.change(),
            Some(Change {
                tenant: t,
                kind: None
            })
        );
    }

    /// The owner column is the `user` of the records that name one, and of nothing else;
    /// a required flag is the model's own member.
    #[test]
    fn owners_and_flags_follow_the_model() {
        let doc = |v: serde_json::Value| v.to_string();
        let t = TenantId::from_uuid(uuid::Uuid::from_u128(7));
        let id = ObjectId::from_uuid(uuid::Uuid::nil());
        let at = OffsetDateTime::UNIX_EPOCH;
        let session = StoredObject::new(
            id,
            t,
            ObjectKind::Session,
            "k",
            doc(serde_json::json!({"user": "alice"})),
            at,
        );
        assert_eq!(session.owner().as_deref(), Some("alice"));
        let api = StoredObject::new(
            id,
            t,
            ObjectKind::Api,
            "k",
            doc(serde_json::json!({"user": "alice"})),
            at,
        );
        assert_eq!(api.owner(), None);
        let user = crate::directory::model::User {
            username: crate::directory::names::Username::parse("alice").unwrap(),
            email: None,
            name: None,
            enabled: true,
            password_hash: None,
            totp_secret_sealed: None,
            recovery_codes: Vec::new(),
            groups: Default::default(),
            app_roles: Default::default(),
            sessions_valid_from: None,
            password_change_required: false,
        };
        let member = crate::store::Flag::UserEnabled.member();
        assert_eq!(serde_json::to_value(&user).unwrap()[member], true);
    }

    #[test]
    fn the_multi_tenant_member_is_the_models() {
        let app = |multi: bool| -> crate::directory::model::App {
            serde_json::from_value(serde_json::json!({
                "client_id": "c", "name": "C", "multi_tenant": multi, "assignment_required": false,
                "redirect_uris": {"web": [], "spa": [], "native": []}, "post_logout_redirect_uris": [], "secrets": [], "jwks": null,
                "grant_types": [], "implicit": {}, "permissions": [], "admin_consented": false,
                "assigned_users": [], "enabled": true
            }))
            .unwrap()
        };
        let t = TenantId::from_uuid(uuid::Uuid::from_u128(3));
        let stored = |kind, multi| {
            StoredObject::new(
                ObjectId::from_uuid(uuid::Uuid::nil()),
                t,
                kind,
                "c",
                encode(&app(multi)),
                OffsetDateTime::UNIX_EPOCH,
            )
        };
        assert!(stored(ObjectKind::App, true).is_multi_tenant_app());
        assert!(!stored(ObjectKind::App, false).is_multi_tenant_app());
        assert!(!stored(ObjectKind::Api, true).is_multi_tenant_app());
        assert_eq!(
            serde_json::to_value(app(true)).unwrap()[MULTI_TENANT_MEMBER],
            true
        );
    }

    #[test]
    fn changes_round_trip_between_nodes() {
        use crate::store::Change;
        let tenant = TenantId::from_uuid(uuid::Uuid::from_u128(9));
        for kind in [
            None,
            Some(ObjectKind::App),
            Some(ObjectKind::RevokedAccessToken),
        ] {
            let c = Change { tenant, kind };
            assert_eq!(Change::decode(&c.encode()), Some(c));
        }
        assert_eq!(Change::decode("not-a-uuid"), None);
        assert_eq!(Change::decode(&format!("{tenant}:nonsense")), None);
    }
}
