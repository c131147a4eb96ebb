//! Token-signing keys per tenant: RSA-2048 (RS256, the default), Ed25519 (EdDSA) and
//! P-256 (ES256), generated with aws-lc-rs, private parts sealed under the master key
//! (AES-256-GCM), public parts as JWKs (RFC 7517, RFC 7518 §6, RFC 8037) whose `kid` is
//! the RFC 7638 thumbprint. A key moves next → active → retired: `next` is published
//! in the JWKS before it signs anything, so relying parties already have it when it
//! becomes active; `retired` stays published until tokens signed with it have expired.
//!
//! Key generation uses aws-lc-rs's own CSPRNG rather than the injected `Rng`: key
//! material must never come from a test generator.

use crate::crypto::MasterKey;
use crate::ids::TenantId;
use crate::rng::Rng;
use crate::store::object::{ObjectKind, StoredObject, Write, encode};
use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::signature::KeyPair;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};
use sha2::Digest;
use time::OffsetDateTime;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum SigningAlg {
    EdDSA,
    ES256,
    RS256,
}

impl SigningAlg {
    /// What tokens are signed with unless an app (ID tokens) or an API (access tokens)
    /// registered another algorithm: RS256, the one algorithm OIDC Core §15.1 requires
    /// of every provider and that every mainstream JOSE library verifies without
    /// configuration. EdDSA and ES256 sign faster; they are a registration away.
    pub const DEFAULT: SigningAlg = SigningAlg::RS256;

    /// The registered choice, or [`DEFAULT`](Self::DEFAULT).
    pub fn or_default(registered: Option<SigningAlg>) -> SigningAlg {
        registered.unwrap_or(Self::DEFAULT)
    }

    pub const ALL: [SigningAlg; 3] = [SigningAlg::RS256, SigningAlg::ES256, SigningAlg::EdDSA];

    pub fn parse(value: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|a| a.as_str() == value)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            SigningAlg::EdDSA => "EdDSA",
            SigningAlg::ES256 => "ES256",
            SigningAlg::RS256 => "RS256",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum KeyState {
    Next,
    Active,
    Retired,
}

/// A signing key as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SigningKey {
    pub kid: String,
    pub alg: SigningAlg,
    pub state: KeyState,
    /// The public JWK, with `kid`, `alg` and `use`.
    pub public_jwk: serde_json::Value,
    /// PKCS#8 DER sealed under the master key, bound to tenant and kid.
    pub private_sealed: String,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    /// When it entered its `state`: for `active`, the start of its rotation period; for
    /// `retired`, the start of the wait until every token it signed has expired.
    #[serde(with = "time::serde::rfc3339")]
    pub since: OffsetDateTime,
}

/// The AEAD context a key's private part is sealed under.
pub fn seal_context(tenant_id: TenantId, kid: &str) -> String {
    format!("signing-key/{tenant_id}/{kid}")
}

/// Generates a key pair for `alg`; returns the PKCS#8 DER and the public JWK (without
/// `kid`).
fn generate_pair(
    alg: SigningAlg,
) -> Result<(Vec<u8>, serde_json::Map<String, serde_json::Value>), String> {
    let b64 = |b: &[u8]| serde_json::Value::String(URL_SAFE_NO_PAD.encode(b));
    let fail = |what: &str| format!("{what} key generation failed");
    let mut jwk = serde_json::Map::new();
    let pkcs8 = match alg {
        SigningAlg::EdDSA => {
            let pair =
                aws_lc_rs::signature::Ed25519KeyPair::generate().map_err(|_| fail("Ed25519"))?;
            jwk.insert("kty".into(), "OKP".into());
            jwk.insert("crv".into(), "Ed25519".into());
            jwk.insert("x".into(), b64(pair.public_key().as_ref()));
            pair.to_pkcs8()
                .map_err(|_| fail("Ed25519"))?
                .as_ref()
                .to_vec()
        }
        SigningAlg::ES256 => {
            let pair = aws_lc_rs::signature::EcdsaKeyPair::generate(
                &aws_lc_rs::signature::ECDSA_P256_SHA256_FIXED_SIGNING,
            )
            .map_err(|_| fail("P-256"))?;
            // Uncompressed point: 0x04 || X (32 bytes) || Y (32 bytes).
            let point = pair.public_key().as_ref();
            if point.len() != 65 {
                return Err(fail("P-256"));
            }
            jwk.insert("kty".into(), "EC".into());
            jwk.insert("crv".into(), "P-256".into());
            jwk.insert("x".into(), b64(&point[1..33]));
            jwk.insert("y".into(), b64(&point[33..65]));
            pair.to_pkcs8v1()
                .map_err(|_| fail("P-256"))?
                .as_ref()
                .to_vec()
        }
        SigningAlg::RS256 => {
            let pair = aws_lc_rs::rsa::KeyPair::generate(aws_lc_rs::rsa::KeySize::Rsa2048)
                .map_err(|_| fail("RSA"))?;
            let public = pair.public_key();
            jwk.insert("kty".into(), "RSA".into());
            jwk.insert(
                "n".into(),
                b64(public.modulus().big_endian_without_leading_zero()),
            );
            jwk.insert(
                "e".into(),
                b64(public.exponent().big_endian_without_leading_zero()),
            );
            let der =
                AsDer::<aws_lc_rs::encoding::Pkcs8V1Der>::as_der(&pair).map_err(|_| fail("RSA"))?;
            der.as_ref().to_vec()
        }
    };
    Ok((pkcs8, jwk))
}

/// RFC 7638 §3: SHA-256 over the required members in lexicographic order, no spaces.
pub fn thumbprint(jwk: &serde_json::Map<String, serde_json::Value>) -> String {
    let members: &[&str] = match jwk.get("kty").and_then(|v| v.as_str()) {
        Some("OKP") => &["crv", "kty", "x"],
        Some("EC") => &["crv", "kty", "x", "y"],
        _ => &["e", "kty", "n"],
    };
    let canonical: serde_json::Map<String, serde_json::Value> = members
        .iter()
        .filter_map(|m| jwk.get(*m).map(|v| ((*m).to_owned(), v.clone())))
        .collect();
    // serde_json's Map is ordered by key (no preserve_order feature): canonical order.
    let digest = sha2::Sha256::digest(serde_json::to_string(&canonical).unwrap_or_default());
    URL_SAFE_NO_PAD.encode(digest)
}

/// A new key for a tenant, sealed under the master key.
pub fn generate(
    alg: SigningAlg,
    state: KeyState,
    tenant_id: TenantId,
    master: &MasterKey,
    rng: &dyn Rng,
    now: OffsetDateTime,
) -> Result<SigningKey, String> {
    let (pkcs8, mut jwk) = generate_pair(alg)?;
    let kid = thumbprint(&jwk);
    jwk.insert("kid".into(), kid.clone().into());
    jwk.insert("alg".into(), alg.as_str().into());
    jwk.insert("use".into(), "sig".into());
    Ok(SigningKey {
        private_sealed: master.seal(rng, &pkcs8, &seal_context(tenant_id, &kid)),
        public_jwk: serde_json::Value::Object(jwk),
        kid,
        alg,
        state,
        created_at: now,
        since: now,
    })
}

/// The writes that give a new tenant, for each algorithm (RS256 by default; ES256 and
/// EdDSA for apps and APIs that choose them), an active key and the `next` key that
/// the first rotation promotes: published in the JWKS from the start, so even the first
/// rotation never signs with a key no relying party has seen.
pub fn initial_keys(
    tenant_id: TenantId,
    master: &MasterKey,
    rng: &dyn Rng,
    now: OffsetDateTime,
) -> Result<Vec<Write>, String> {
    let mut writes = Vec::new();
    for alg in SigningAlg::ALL {
        for state in [KeyState::Active, KeyState::Next] {
            writes.push(new_key(alg, state, tenant_id, master, rng, now)?);
        }
    }
    Ok(writes)
}

/// The write that stores a new key of `alg` in `state`.
fn new_key(
    alg: SigningAlg,
    state: KeyState,
    tenant_id: TenantId,
    master: &MasterKey,
    rng: &dyn Rng,
    now: OffsetDateTime,
) -> Result<Write, String> {
    let key = generate(alg, state, tenant_id, master, rng, now)?;
    Ok(Write::Put(StoredObject::new(
        rng.object_id(),
        tenant_id,
        ObjectKind::SigningKey,
        key.kid.clone(),
        encode(&key),
        now,
    )))
}

/// The write that moves the stored `key` to `state`.
fn moved(object: &StoredObject, key: &SigningKey, state: KeyState, now: OffsetDateTime) -> Write {
    let key = SigningKey {
        state,
        since: now,
        ..key.clone()
    };
    Write::Put(object.clone().with_doc(encode(&key), now))
}

/// The tenant's stored keys, decoded.
fn decoded(current: &[StoredObject]) -> Result<Vec<(&StoredObject, SigningKey)>, String> {
    current
        .iter()
        .map(|o| o.decode::<SigningKey>().map(|k| (o, k)))
        .collect()
}

/// What a rotation and the removal of an active key share: `alg`'s `next` key (already
/// published) becomes active, or a fresh key when there is none, and a new `next` key
/// is made for the rotation after.
fn promote_next(
    keys: &[(&StoredObject, SigningKey)],
    alg: SigningAlg,
    tenant_id: TenantId,
    master: &MasterKey,
    rng: &dyn Rng,
    now: OffsetDateTime,
) -> Result<[Write; 2], String> {
    let next = keys
        .iter()
        .find(|(_, k)| k.alg == alg && k.state == KeyState::Next);
    let active = match next {
        Some((object, key)) => moved(object, key, KeyState::Active, now),
        None => new_key(alg, KeyState::Active, tenant_id, master, rng, now)?,
    };
    Ok([
        active,
        new_key(alg, KeyState::Next, tenant_id, master, rng, now)?,
    ])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::SequenceRng;
    use time::macros::datetime;

    #[test]
    fn rfc7638_thumbprint_of_the_rfc_example() {
        // RFC 7638 §3.1's RSA example.
        let jwk: serde_json::Map<String, serde_json::Value> = serde_json::from_str(r#"{"kty":"RSA",
            "n":"0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw",
            "e":"AQAB","alg":"RS256","kid":"2011-04-29"}"#).unwrap();
        assert_eq!(
            thumbprint(&jwk),
            "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"
        );
    }

    #[test]
    fn every_algorithm_generates_a_sealed_key_with_a_public_jwk() {
        let master = MasterKey::from_bytes(&[7u8; 32]);
        let rng = SequenceRng::new(1);
        let tenant = TenantId::from_uuid(uuid::Uuid::from_u128(1));
        for alg in SigningAlg::ALL {
            let key = generate(
                alg,
                KeyState::Active,
                tenant,
                &master,
                &rng,
                datetime!(2026-11-26 0:00 UTC),
            )
            .unwrap();
            assert_eq!(key.public_jwk["kid"], key.kid);
            assert_eq!(key.public_jwk["alg"], alg.as_str());
            for private in ["d", "p", "q"] {
                assert!(
                    key.public_jwk.get(private).is_none(),
                    "{alg:?} JWK leaks {private}"
                );
            }
            let pkcs8 = master
                .open(&key.private_sealed, &seal_context(tenant, &key.kid))
                .expect("opens");
            assert!(pkcs8.len() > 32);
            assert!(
                master
                    .open(
                        &key.private_sealed,
                        &seal_context(TenantId::from_uuid(uuid::Uuid::from_u128(2)), &key.kid)
                    )
                    .is_none()
            );
        }
        // The sealed private part and the published JWK are one key pair: a signature
        // made with the former verifies under the latter.
        let ed = generate(
            SigningAlg::EdDSA,
            KeyState::Active,
            tenant,
            &master,
            &rng,
            datetime!(2026-11-26 0:00 UTC),
        )
        .unwrap();
        let pkcs8 = master
            .open(&ed.private_sealed, &seal_context(tenant, &ed.kid))
            .unwrap();
        let pair = aws_lc_rs::signature::Ed25519KeyPair::from_pkcs8(&pkcs8).unwrap();
        let signature = pair.sign(b"header.payload");
        let x = URL_SAFE_NO_PAD
            .decode(ed.public_jwk["x"].as_str().unwrap())
            .unwrap();
        aws_lc_rs::signature::UnparsedPublicKey::new(&aws_lc_rs::signature::ED25519, &x)
            .verify(b"header.payload", signature.as_ref())
            .expect("the JWK verifies the private key's signature");
        let rsa = generate(
            SigningAlg::RS256,
            KeyState::Next,
            tenant,
            &master,
            &rng,
            datetime!(2026-11-26 0:00 UTC),
        )
        .unwrap();
        let n = URL_SAFE_NO_PAD
            .decode(rsa.public_jwk["n"].as_str().unwrap())
            .unwrap();
        assert_eq!(n.len(), 256, "RSA-2048");
    }
}

/// One rotation of a tenant's keys, for every algorithm: the active key retires, the
/// `next` key (already published) becomes active (or, when there is none, a fresh key
/// does), and a new `next` key is generated for the following rotation.
pub fn rotate(
    current: &[StoredObject],
    tenant_id: TenantId,
    master: &MasterKey,
    rng: &dyn Rng,
    now: OffsetDateTime,
) -> Result<Vec<Write>, String> {
    let keys = decoded(current)?;
    let mut writes = Vec::new();
    for alg in SigningAlg::ALL {
        writes.extend(rotate_alg(&keys, alg, tenant_id, master, rng, now)?);
    }
    Ok(writes)
}

/// One rotation of `alg`'s keys: active → retired, next → active, a new next.
fn rotate_alg(
    keys: &[(&StoredObject, SigningKey)],
    alg: SigningAlg,
    tenant_id: TenantId,
    master: &MasterKey,
    rng: &dyn Rng,
    now: OffsetDateTime,
) -> Result<Vec<Write>, String> {
    let mut writes: Vec<Write> = keys
        .iter()
        .filter(|(_, k)| k.alg == alg && k.state == KeyState::Active)
        .map(|(object, key)| moved(object, key, KeyState::Retired, now))
        .collect();
    writes.extend(promote_next(keys, alg, tenant_id, master, rng, now)?);
    Ok(writes)
}

/// What the tenant's key schedule asks for now (`TenantPolicy::signing_key_rotation_days`,
/// `signing_key_publish_seconds`), per algorithm:
/// - an active key older than the rotation period is rotated, once its `next` key has
///   been published at least the publish time (relying parties that cache the JWKS
///   for up to that long already hold it); until then, nothing;
/// - an algorithm with no `next` key gets one (published now, promoted later);
/// - a retired key goes once every token it signed has expired: retired longer than
///   the access- and ID-token lifetime and the verifiers' leeway.
///
/// Several nodes may compute the same change; the writes are versioned (a `Put` of a
/// key read at its version, new keys under new kids), so one applies and the others
/// conflict (`Store::apply`), and all sign with the key the store then names.
pub fn scheduled(
    current: &[StoredObject],
    policy: &crate::tenant::TenantPolicy,
    tenant_id: TenantId,
    master: &MasterKey,
    rng: &dyn Rng,
    now: OffsetDateTime,
) -> Result<Vec<Write>, String> {
    let keys = decoded(current)?;
    let mut writes = Vec::new();
    let days = |d: u32| time::Duration::days(i64::from(d));
    let seconds = |s: u32| time::Duration::seconds(i64::from(s));
    for alg in SigningAlg::ALL {
        let of = |state| keys.iter().find(|(_, k)| k.alg == alg && k.state == state);
        let (Some((_, active)), next) = (of(KeyState::Active), of(KeyState::Next)) else {
            continue;
        };
        match next {
            None => writes.push(new_key(alg, KeyState::Next, tenant_id, master, rng, now)?),
            Some((_, next))
                if policy.signing_key_rotation_days > 0
                    && now - active.since >= days(policy.signing_key_rotation_days)
                    && now - next.created_at >= seconds(policy.signing_key_publish_seconds) =>
            {
                writes.extend(rotate_alg(&keys, alg, tenant_id, master, rng, now)?);
            }
            Some(_) => {}
        }
    }
    // Tokens live `access_token_lifetime_seconds` (ID tokens too); verifiers allow
    // `deny_list::LEEWAY_SECONDS` of clock skew beyond.
    let outlived = seconds(policy.access_token_lifetime_seconds)
        + time::Duration::seconds(crate::oauth::token::deny_list::LEEWAY_SECONDS);
    for (object, key) in &keys {
        if key.state == KeyState::Retired && now - key.since > outlived {
            writes.push(Write::Delete {
                tenant_id,
                kind: ObjectKind::SigningKey,
                id: object.id,
            });
        }
    }
    Ok(writes)
}

/// An emergency rotation: the key `kid` is removed at once, so every token it signed
/// stops verifying (they name a key the JWKS no longer holds). When it was the active
/// key of its algorithm, the `next` key (published already) becomes active, or a fresh
/// key when there is none; when it was active or next, a new `next` key is made, so the
/// following rotation again promotes a key relying parties have seen. `None`: the
/// tenant has no key `kid`.
pub fn remove(
    current: &[StoredObject],
    kid: &str,
    tenant_id: TenantId,
    master: &MasterKey,
    rng: &dyn Rng,
    now: OffsetDateTime,
) -> Result<Option<Vec<Write>>, String> {
    let keys = decoded(current)?;
    let Some((object, removed)) = keys.iter().find(|(_, k)| k.kid == kid) else {
        return Ok(None);
    };
    let mut writes = vec![Write::Delete {
        tenant_id,
        kind: ObjectKind::SigningKey,
        id: object.id,
    }];
    match removed.state {
        KeyState::Active => {
            writes.extend(promote_next(
                &keys,
                removed.alg,
                tenant_id,
                master,
                rng,
                now,
            )?);
        }
        KeyState::Next => {
            writes.push(new_key(
                removed.alg,
                KeyState::Next,
                tenant_id,
                master,
                rng,
                now,
            )?);
        }
        KeyState::Retired => {}
    }
    Ok(Some(writes))
}

#[cfg(test)]
mod rotation_tests {
    use super::*;
    use crate::rng::SequenceRng;
    use time::macros::datetime;

    fn states(writes: &[Write]) -> Vec<(SigningAlg, KeyState, String)> {
        writes
            .iter()
            .filter_map(|w| match w {
                Write::Put(o) => o
                    .decode::<SigningKey>()
                    .ok()
                    .map(|k| (k.alg, k.state, k.kid)),
                _ => None,
            })
            .collect()
    }

    /// `objects` after `writes` (puts replace by id, deletes remove).
    fn applied(mut objects: Vec<StoredObject>, writes: Vec<Write>) -> Vec<StoredObject> {
        for w in writes {
            match w {
                Write::Put(o) => {
                    objects.retain(|x| x.id != o.id);
                    objects.push(o);
                }
                Write::Delete { id, .. } => objects.retain(|x| x.id != id),
                _ => {}
            }
        }
        objects
    }

    fn count(objects: &[StoredObject], state: KeyState) -> usize {
        objects
            .iter()
            .filter(|o| o.decode::<SigningKey>().unwrap().state == state)
            .count()
    }

    #[test]
    fn the_schedule_rotates_after_its_period_prunes_after_the_tokens_and_waits_for_publication() {
        let master = MasterKey::from_bytes(&[1u8; 32]);
        let rng = SequenceRng::new(3);
        let tenant = TenantId::from_uuid(uuid::Uuid::from_u128(6));
        let policy = crate::tenant::TenantPolicy::default();
        let t0 = datetime!(2026-11-26 0:00 UTC);
        let day = time::Duration::days(1);
        let puts = |w: Vec<Write>| applied(Vec::new(), w);
        let keys = puts(initial_keys(tenant, &master, &rng, t0).unwrap());
        let run = |objects: &[StoredObject], at| {
            scheduled(objects, &policy, tenant, &master, &rng, at).unwrap()
        };
        assert!(run(&keys, t0 + day * 89).is_empty(), "not before 90 days");
        let rotation = run(&keys, t0 + day * 90);
        let keys = applied(keys, rotation);
        assert_eq!(
            (
                count(&keys, KeyState::Active),
                count(&keys, KeyState::Next),
                count(&keys, KeyState::Retired)
            ),
            (3, 3, 3)
        );
        // Retired keys stay until the tokens they signed expired (1 h + leeway).
        let t1 = t0 + day * 90;
        assert!(run(&keys, t1 + time::Duration::hours(1)).is_empty());
        let pruning = run(&keys, t1 + time::Duration::hours(2));
        let keys = applied(keys, pruning);
        assert_eq!(count(&keys, KeyState::Retired), 0);
        // A next key made late (after an emergency removal, say) waits for its day of
        // publication even when the active key is due.
        let without_next: Vec<StoredObject> = keys
            .iter()
            .filter(|o| o.decode::<SigningKey>().unwrap().state != KeyState::Next)
            .cloned()
            .collect();
        let t2 = t1 + day * 90;
        let made = run(&without_next, t2);
        assert_eq!(
            states(&made)
                .iter()
                .filter(|(_, s, _)| *s == KeyState::Next)
                .count(),
            3
        );
        assert_eq!(made.len(), 3, "only the missing next keys");
        let keys = applied(without_next, made);
        assert!(run(&keys, t2 + time::Duration::hours(23)).is_empty());
        assert_eq!(
            run(&keys, t2 + day).len(),
            9,
            "three rotations of three writes"
        );
        // 0 turns the schedule off.
        let off = crate::tenant::TenantPolicy {
            signing_key_rotation_days: 0,
            ..policy.clone()
        };
        assert!(
            scheduled(&keys, &off, tenant, &master, &rng, t2 + day * 1000)
                .unwrap()
                .is_empty()
        );
    }

    #[test]
    fn rotation_promotes_next_retires_active_and_prepares_a_new_next() {
        let master = MasterKey::from_bytes(&[1u8; 32]);
        let rng = SequenceRng::new(9);
        let tenant = TenantId::from_uuid(uuid::Uuid::from_u128(5));
        let t0 = datetime!(2026-11-26 0:00 UTC);
        let to_objects = |writes: Vec<Write>| -> Vec<StoredObject> {
            writes
                .into_iter()
                .filter_map(|w| if let Write::Put(o) = w { Some(o) } else { None })
                .collect()
        };
        let first = initial_keys(tenant, &master, &rng, t0).unwrap();
        let initial = states(&first);
        let of_state = |st: KeyState| -> Vec<String> {
            initial
                .iter()
                .filter(|(_, s, _)| *s == st)
                .map(|(_, _, kid)| kid.clone())
                .collect()
        };
        let (active_before, next_before) = (of_state(KeyState::Active), of_state(KeyState::Next));
        // A new tenant has an active and a next key of each algorithm.
        assert_eq!((active_before.len(), next_before.len()), (3, 3));
        let objects = to_objects(first);
        let r1 = rotate(&objects, tenant, &master, &rng, t0).unwrap();
        let s1 = states(&r1);
        // Even the first rotation signs with a key published since the tenant began.
        for kid in &next_before {
            assert!(
                s1.iter()
                    .any(|(_, state, k)| k == kid && *state == KeyState::Active),
                "{kid} promoted by the first rotation"
            );
        }
        // Each algorithm: old active retired, a new active, a new next.
        for alg in SigningAlg::ALL {
            let of = |st: KeyState| s1.iter().filter(|(a, s, _)| *a == alg && *s == st).count();
            assert_eq!(
                (
                    of(KeyState::Retired),
                    of(KeyState::Active),
                    of(KeyState::Next)
                ),
                (1, 1, 1),
                "{alg:?}"
            );
        }
        for (_, state, kid) in &s1 {
            if active_before.contains(kid) {
                assert_eq!(*state, KeyState::Retired);
            }
        }
        // The second rotation promotes the next key prepared by the first.
        let mut objects = objects;
        for o in to_objects(r1) {
            objects.retain(|x| x.id != o.id);
            objects.push(o);
        }
        let nexts: Vec<String> =
            states(&objects.iter().cloned().map(Write::Put).collect::<Vec<_>>())
                .into_iter()
                .filter(|(_, s, _)| *s == KeyState::Next)
                .map(|(_, _, k)| k)
                .collect();
        let s2 = states(&rotate(&objects, tenant, &master, &rng, t0).unwrap());
        for kid in nexts {
            assert!(
                s2.iter()
                    .any(|(_, state, k)| *k == kid && *state == KeyState::Active),
                "{kid} promoted"
            );
        }
    }

    #[test]
    fn removing_the_active_key_promotes_next_and_prepares_another() {
        let master = MasterKey::from_bytes(&[1u8; 32]);
        let rng = SequenceRng::new(3);
        let tenant = TenantId::from_uuid(uuid::Uuid::from_u128(6));
        let t0 = datetime!(2026-11-26 0:00 UTC);
        let objects: Vec<StoredObject> = initial_keys(tenant, &master, &rng, t0)
            .unwrap()
            .into_iter()
            .filter_map(|w| if let Write::Put(o) = w { Some(o) } else { None })
            .collect();
        let keys: Vec<SigningKey> = objects.iter().map(|o| o.decode().unwrap()).collect();
        let of = |state| {
            keys.iter()
                .find(|k| k.alg == SigningAlg::RS256 && k.state == state)
                .unwrap()
                .kid
                .clone()
        };
        let (active, next) = (of(KeyState::Active), of(KeyState::Next));
        assert!(
            remove(&objects, "nope", tenant, &master, &rng, t0)
                .unwrap()
                .is_none()
        );
        let writes = remove(&objects, &active, tenant, &master, &rng, t0)
            .unwrap()
            .unwrap();
        assert!(
            matches!(&writes[0], Write::Delete { id, .. } if objects.iter().any(|o| o.id == *id && o.key == active))
        );
        let put = states(&writes);
        assert_eq!(put.len(), 2, "{put:?}");
        assert!(put.contains(&(SigningAlg::RS256, KeyState::Active, next)));
        assert!(
            put.iter()
                .any(|(alg, state, _)| *alg == SigningAlg::RS256 && *state == KeyState::Next)
        );
    }
}
