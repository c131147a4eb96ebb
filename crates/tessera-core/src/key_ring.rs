//! The master key ring as the store knows it: one record in the admin tenant
//! ([`KeyRingRecord`]) that holds the root of the keyed hashes, sealed under the ring, and
//! the re-seal of everything else sealed at rest when a new key is put first.
//!
//! The record doubles as the store's key check: a node whose ring opens none of the
//! values sealed in the store would report ready and fail at the first sign-in; with the
//! record it refuses to start (MasterKeyMismatch) and names the key the store needs.
//! Rotation, step by step, is in docs/configuration.md; why the hashes keep one root is
//! in docs/decisions/0018-master-key-ring.md.

use crate::crypto::{KeyId, MasterKey, sealed_with};
use crate::directory::model::User;
use crate::directory::plan::totp_context;
use crate::ids::{TenantId, UserId};
use crate::keys::{SigningKey, seal_context};
use crate::rng::Rng;
use crate::store::object::{ObjectKind, StoredObject, encode};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

/// The record's key, in the admin tenant.
pub const RECORD_KEY: &str = "master-key-ring";

/// What the root of the keyed hashes is sealed to.
const ROOT_CONTEXT: &str = "key-ring/hash-root";

/// The kinds of objects that hold values sealed at rest, which a re-seal visits.
pub const SEALED_KINDS: [ObjectKind; 3] = [
    ObjectKind::KeyRing,
    ObjectKind::SigningKey,
    ObjectKind::User,
];

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyRingRecord {
    /// The root of the keyed hashes (`MasterKey::with_hash_root`), sealed under the
    /// ring. It never changes: a keyed hash cannot be computed again without the value
    /// it hides, so client secrets and the lookup keys of live codes and tokens keep
    /// matching through every rotation.
    pub hash_root_sealed: String,
    /// The last re-seal that finished.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resealed: Option<Resealed>,
}

/// A finished re-seal: every value sealed at rest was under `key_id` at `at`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Resealed {
    pub key_id: String,
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
}

/// No key of the ring opens the store's record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mismatch {
    /// The key that sealed the record, when its id can be read.
    pub sealed_with: Option<KeyId>,
}

impl KeyRingRecord {
    /// The record of a new store: the ring's hash root, sealed under its first key.
    pub fn new(master: &MasterKey, rng: &dyn Rng) -> Self {
        Self {
            hash_root_sealed: master.seal(rng, master.hash_root(), ROOT_CONTEXT),
            resealed: None,
        }
    }

    /// `master` with the store's hash root, when a key of the ring opens it.
    pub fn fit(&self, master: MasterKey) -> Result<MasterKey, Mismatch> {
        let root: [u8; 32] = master
            .open(&self.hash_root_sealed, ROOT_CONTEXT)
            .and_then(|bytes| bytes.try_into().ok())
            .ok_or(Mismatch {
                sealed_with: sealed_with(&self.hash_root_sealed),
            })?;
        Ok(master.with_hash_root(root))
    }
}

/// What a re-seal did to one object.
#[derive(Debug)]
pub enum Reseal {
    /// Every value it holds is sealed under the ring's first key already.
    Current,
    /// The object with its values sealed under the first key, to be written on the
    /// condition that it has not changed since it was read (its version).
    Resealed(StoredObject),
    /// A value no key of the ring opens (sealed under a key since removed, or
    /// altered): left as it is and reported.
    Unopenable,
}

/// The sealed values `object` holds, with the context each is bound to.
fn sealed_values(object: &StoredObject) -> Result<Vec<(String, String)>, String> {
    Ok(match object.kind {
        ObjectKind::KeyRing => {
            let record: KeyRingRecord = object.decode()?;
            vec![(record.hash_root_sealed, ROOT_CONTEXT.to_owned())]
        }
        ObjectKind::SigningKey => {
            let key: SigningKey = object.decode()?;
            let context = seal_context(object.tenant_id, &key.kid);
            vec![(key.private_sealed, context)]
        }
        ObjectKind::User => {
            let user: User = object.decode()?;
            let context = totp_context(object.tenant_id, UserId::of(object.id));
            user.totp_secret_sealed
                .map(|sealed| (sealed, context))
                .into_iter()
                .collect()
        }
        _ => Vec::new(),
    })
}

/// The ids of the keys that sealed the values `object` holds (one per value).
pub fn sealed_by(object: &StoredObject) -> Result<Vec<Option<KeyId>>, String> {
    Ok(sealed_values(object)?
        .iter()
        .map(|(sealed, _)| sealed_with(sealed))
        .collect())
}

/// `object` with every value it holds sealed under the ring's first key.
pub fn reseal(
    master: &MasterKey,
    rng: &dyn Rng,
    object: &StoredObject,
    now: OffsetDateTime,
) -> Result<Reseal, String> {
    let values = sealed_values(object)?;
    if values.iter().all(|(v, _)| master.sealed_by_primary(v)) {
        return Ok(Reseal::Current);
    }
    let mut fresh = Vec::with_capacity(values.len());
    for (sealed, context) in &values {
        match master.open(sealed, context) {
            Some(plain) => fresh.push(master.seal(rng, &plain, context)),
            None => return Ok(Reseal::Unopenable),
        }
    }
    let mut fresh = fresh.into_iter();
    let doc = match object.kind {
        ObjectKind::KeyRing => {
            let mut record: KeyRingRecord = object.decode()?;
            record.hash_root_sealed = fresh.next().unwrap_or_default();
            encode(&record)
        }
        ObjectKind::SigningKey => {
            let mut key: SigningKey = object.decode()?;
            key.private_sealed = fresh.next().unwrap_or_default();
            encode(&key)
        }
        ObjectKind::User => {
            let mut user: User = object.decode()?;
            user.totp_secret_sealed = fresh.next();
            encode(&user)
        }
        _ => return Ok(Reseal::Current),
    };
    Ok(Reseal::Resealed(object.clone().with_doc(doc, now)))
}

/// The key-ring record's object in the admin tenant.
pub fn record_object(
    id: crate::ids::ObjectId,
    admin_tenant: TenantId,
    record: &KeyRingRecord,
    now: OffsetDateTime,
) -> StoredObject {
    StoredObject::new(
        id,
        admin_tenant,
        ObjectKind::KeyRing,
        RECORD_KEY,
        encode(record),
        now,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::SequenceRng;
    use time::macros::datetime;

    fn ring(keys: &[u8]) -> MasterKey {
        let text: String = keys
            .iter()
            .map(|k| {
                let bytes = [*k; 32];
                format!(
                    "{}\n",
                    base64::Engine::encode(&base64::engine::general_purpose::STANDARD, bytes)
                )
            })
            .collect();
        MasterKey::parse(&text).unwrap()
    }

    #[test]
    fn the_hash_root_outlives_the_key_that_sealed_it() {
        let rng = SequenceRng::new(1);
        let old = ring(&[1]);
        let record = KeyRingRecord::new(&old, &rng);
        let secret = crate::secret::Secret::new("a-client-secret-of-enough-length-0001");
        let hash = old.secret_hash(&secret);
        // The new key first, the old one still in the ring: the same hashes.
        let both = record.fit(ring(&[2, 1])).unwrap();
        assert_eq!(both.secret_hash(&secret), hash);
        assert_eq!(both.token_hash("code", "x"), old.token_hash("code", "x"));
        // A ring without the key that sealed the record does not fit, and says which
        // key would.
        let mismatch = record.fit(ring(&[2])).unwrap_err();
        assert_eq!(mismatch.sealed_with, Some(old.primary_id()));
        // Re-sealed under the new key, the record fits the new key alone, hashes unchanged.
        let object = record_object(
            crate::ids::ObjectId::from_uuid(uuid::Uuid::from_u128(7)),
            TenantId::from_uuid(uuid::Uuid::from_u128(8)),
            &record,
            datetime!(2026-12-06 0:00 UTC),
        );
        let Reseal::Resealed(moved) =
            reseal(&both, &rng, &object, datetime!(2026-12-06 0:01 UTC)).unwrap()
        else {
            panic!("the record was under the old key");
        };
        assert!(matches!(
            reseal(&both, &rng, &moved, datetime!(2026-12-06 0:02 UTC)).unwrap(),
            Reseal::Current
        ));
        let moved: KeyRingRecord = moved.decode().unwrap();
        let alone = moved.fit(ring(&[2])).unwrap();
        assert_eq!(alone.secret_hash(&secret), hash);
        // A ring that lost the old key cannot re-seal what only it opened.
        assert!(matches!(
            reseal(&ring(&[2]), &rng, &object, datetime!(2026-12-06 0:03 UTC)).unwrap(),
            Reseal::Unopenable
        ));
    }
}
