//! Identifiers, typed: a tenant's id, a stored object's id and a user's id are all
//! UUIDs, and swapping one for another must not compile. Each serializes and prints
//! exactly as its UUID (hyphenated), so documents, sealed values and SQL parameters
//! are the same as with a bare `uuid::Uuid`.

use serde::{Deserialize, Serialize};

macro_rules! uuid_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(
            Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize,
        )]
        #[serde(transparent)]
        pub struct $name(uuid::Uuid);

        impl $name {
            pub const fn from_uuid(id: uuid::Uuid) -> Self {
                Self(id)
            }

            pub const fn as_uuid(&self) -> uuid::Uuid {
                self.0
            }

            /// From its hyphenated (or any RFC 9562) text form.
            pub fn parse(text: &str) -> Option<Self> {
                uuid::Uuid::parse_str(text).ok().map(Self)
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                self.0.fmt(f)
            }
        }
    };
}

uuid_id!(
    /// A tenant (`Tenant::id`): every stored object and every token belongs to one.
    TenantId
);
uuid_id!(
    /// A stored object (`StoredObject::id`), unique across the store.
    ObjectId
);
uuid_id!(
    /// A user: the id of the user's object, which is also the `sub` of its tokens. A user
    /// deleted and created again under the same name gets another one.
    UserId
);

impl UserId {
    /// The id of the user stored as `object`.
    pub const fn of(object: ObjectId) -> Self {
        Self(object.0)
    }

    /// The id of the object that stores this user.
    pub const fn object(self) -> ObjectId {
        ObjectId(self.0)
    }
}

impl ObjectId {
    /// Whether this object is the user `user`.
    pub fn is(&self, user: UserId) -> bool {
        self.0 == user.0
    }
}

/// An app's `client_id` (RFC 6749 §2.2), unique within its tenant. Registration
/// checks its characters (`directory::names::check_client_id`); this type only keeps a
/// client id from being taken for another string (a username, a key).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ClientId(String);

impl ClientId {
    pub fn new(id: impl Into<String>) -> Self {
        Self(id.into())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for ClientId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<&str> for ClientId {
    fn from(id: &str) -> Self {
        Self(id.to_owned())
    }
}

impl From<ClientId> for String {
    fn from(id: ClientId) -> Self {
        id.0
    }
}

impl PartialEq<str> for ClientId {
    fn eq(&self, other: &str) -> bool {
        self.0 == other
    }
}

impl PartialEq<&str> for ClientId {
    fn eq(&self, other: &&str) -> bool {
        self.0 == *other
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_read_and_write_as_their_uuid() {
        let uuid = uuid::Uuid::from_u128(0x0123_4567_89ab_cdef_0123_4567_89ab_cdef);
        let tenant = TenantId::from_uuid(uuid);
        assert_eq!(tenant.to_string(), uuid.to_string());
        assert_eq!(
            serde_json::to_string(&tenant).unwrap(),
            serde_json::to_string(&uuid).unwrap()
        );
        assert_eq!(TenantId::parse(&uuid.to_string()), Some(tenant));
        assert_eq!(ObjectId::parse("not-an-id"), None);
        let user = UserId::of(ObjectId::from_uuid(uuid));
        assert!(ObjectId::from_uuid(uuid).is(user));
        assert_eq!(user.as_uuid(), uuid);
    }
}
