//! Keyed cryptography under the master key: HMAC-SHA-256 of client secrets (they are
//! high-entropy, so a fast keyed hash is enough and keeps the token endpoint fast) and
//! AES-256-GCM for values kept encrypted at rest (TOTP secrets, signing keys). Subkeys
//! are derived with HKDF-SHA-256 (RFC 5869) so one master key never serves two purposes.
//! Bearer values that carry their own record (authorization codes) are sealed with
//! AES-256-GCM-SIV under a subkey of their own. Also Argon2id password hashing
//! (RFC 9106) in PHC string format.

use crate::rng::Rng;
use crate::secret::{Secret, constant_time_eq};
use crate::trace::hex;
use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use aws_lc_rs::aead::{AES_256_GCM_SIV, Aad, LessSafeKey, NONCE_LEN, UnboundKey};
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use hmac::{Hmac, Mac};
use sha2::Sha256;

/// Version tag of sealed values, so the format can change later.
const SEALED_PREFIX: &str = "v1.";

/// First byte of a sealed bearer value (inside the base64), so its format can change.
const BEARER_VERSION: u8 = 1;

/// The length of a key id (`KeyId`) in bytes.
const KEY_ID_LEN: usize = 4;

/// Names one master key in the values it sealed and in the store's key-ring record: the
/// first 4 bytes of an HKDF output of the key, shown as 8 hex digits. It says nothing
/// usable about the key, and 32 bits keep the few keys of one ring apart.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct KeyId([u8; KEY_ID_LEN]);

impl std::fmt::Display for KeyId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&hex(&self.0))
    }
}

impl std::fmt::Debug for KeyId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "KeyId({self})")
    }
}

/// One master key of the ring: its id and the two sealing subkeys derived from it.
#[derive(Clone)]
struct SealingKey {
    id: KeyId,
    aead_key: [u8; 32],
    bearer_key: [u8; 32],
}

impl SealingKey {
    fn derive(master: &[u8; 32]) -> Self {
        let hk = hkdf::Hkdf::<Sha256>::new(Some(b"tessera master key"), master);
        let mut id = [0u8; KEY_ID_LEN];
        let mut aead_key = [0u8; 32];
        let mut bearer_key = [0u8; 32];
        // Outputs this short are far below HKDF-SHA-256's limit; expand cannot fail.
        let _ = hk.expand(b"key id v1", &mut id);
        let _ = hk.expand(b"at-rest aead v1", &mut aead_key);
        let _ = hk.expand(b"sealed bearer aead v1", &mut bearer_key);
        Self {
            id: KeyId(id),
            aead_key,
            bearer_key,
        }
    }

    fn bearer_aead(&self) -> LessSafeKey {
        LessSafeKey::new(
            UnboundKey::new(&AES_256_GCM_SIV, &self.bearer_key)
                .unwrap_or_else(|_| unreachable!("a 32-byte key fits AES-256-GCM-SIV")),
        )
    }
}

/// The master key ring: the keys that seal values at rest and bearer values, and the
/// keys of the keyed hashes. The first key of the ring seals; every key opens what it
/// sealed (each sealed value names its key's id), so a new key can be put first while
/// values sealed under the old one are re-sealed or expire
/// (docs/decisions/0018-master-key-ring.md).
///
/// The keyed hashes (client secrets, bearer values' lookup keys) cannot follow a
/// rotation: a hash cannot be recomputed without the value it hides. Their keys derive
/// from a *hash root*, fixed for the life of the store, which the store keeps sealed
/// under the ring (`crate::key_ring`); a ring made from key bytes alone derives its
/// root from its first key, which is the root a new store records. `Debug` never
/// prints a key.
#[derive(Clone)]
pub struct MasterKey {
    /// Never empty; the first seals.
    ring: Vec<SealingKey>,
    hash_root: [u8; 32],
    hmac_key: [u8; 32],
    token_key: [u8; 32],
}

impl std::fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("MasterKey([redacted])")
    }
}

/// Why a master key file's content was refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error(
    "must hold one or more master keys, one per line, each 32 random bytes in base64 (44 \
     characters) as `tessera` generates; the first seals, all open; lines starting with # \
     are comments"
)]
pub struct BadMasterKey;

/// The root of the keyed hashes that a ring whose first key is `master` starts a new
/// store with.
fn derived_hash_root(master: &[u8; 32]) -> [u8; 32] {
    let hk = hkdf::Hkdf::<Sha256>::new(Some(b"tessera master key"), master);
    let mut root = [0u8; 32];
    let _ = hk.expand(b"hash root v1", &mut root);
    root
}

impl MasterKey {
    /// A ring of one key.
    pub fn from_bytes(master: &[u8; 32]) -> Self {
        Self::from_ring(&[*master])
    }

    /// A ring of `keys`, the first sealing; the hash root derived from the first.
    fn from_ring(keys: &[[u8; 32]]) -> Self {
        let root = keys.first().map(derived_hash_root).unwrap_or_default();
        Self {
            ring: keys.iter().map(SealingKey::derive).collect(),
            hash_root: [0; 32],
            hmac_key: [0; 32],
            token_key: [0; 32],
        }
        .with_hash_root(root)
    }

    /// The same ring with the keyed hashes of `root`: the store's, read from its
    /// key-ring record (`crate::key_ring::fit`).
    pub fn with_hash_root(mut self, root: [u8; 32]) -> Self {
        let hk = hkdf::Hkdf::<Sha256>::new(Some(b"tessera hash root"), &root);
        let _ = hk.expand(b"client secret hmac v1", &mut self.hmac_key);
        let _ = hk.expand(b"token hmac v1", &mut self.token_key);
        self.hash_root = root;
        self
    }

    /// The root of the keyed hashes, for the store's record only.
    pub(crate) fn hash_root(&self) -> &[u8; 32] {
        &self.hash_root
    }

    /// Parses the content of a master key file: one key per line (base64 of 32 bytes),
    /// the first sealing; blank lines and lines starting with `#` are skipped. The same
    /// key twice is refused (it would look like a rotation that is not one).
    pub fn parse(text: &str) -> Result<Self, BadMasterKey> {
        let mut keys: Vec<[u8; 32]> = Vec::new();
        for line in text.lines().map(str::trim) {
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let bytes = STANDARD.decode(line).map_err(|_| BadMasterKey)?;
            let key: [u8; 32] = bytes.try_into().map_err(|_| BadMasterKey)?;
            if keys.contains(&key) {
                return Err(BadMasterKey);
            }
            keys.push(key);
        }
        if keys.is_empty() {
            return Err(BadMasterKey);
        }
        Ok(Self::from_ring(&keys))
    }

    /// A new master key file's content.
    pub fn generate_file_content(rng: &dyn Rng) -> String {
        let mut bytes = [0u8; 32];
        rng.fill(&mut bytes);
        format!("{}\n", STANDARD.encode(bytes))
    }

    /// The id of the key that seals.
    pub fn primary_id(&self) -> KeyId {
        self.ring[0].id
    }

    /// The ids of every key of the ring, the sealing one first.
    pub fn key_ids(&self) -> Vec<KeyId> {
        self.ring.iter().map(|k| k.id).collect()
    }

    fn key(&self, id: &[u8]) -> Option<&SealingKey> {
        self.ring.iter().find(|k| k.id.0 == id)
    }

    /// The stored form of a client secret: hex HMAC-SHA-256 under the derived key.
    pub fn secret_hash(&self, secret: &Secret) -> String {
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&self.hmac_key)
            .unwrap_or_else(|_| unreachable!("HMAC accepts any key length"));
        mac.update(secret.expose().as_bytes());
        hex(&mac.finalize().into_bytes())
    }

    /// Whether `secret` hashes to `stored`, compared in constant time.
    pub fn secret_matches(&self, secret: &Secret, stored: &str) -> bool {
        constant_time_eq(self.secret_hash(secret).as_bytes(), stored.as_bytes())
    }

    /// The stored key of a bearer value Tessera issued (authorization code, refresh
    /// token, session cookie) or a value derived from one (CSRF token): hex
    /// HMAC-SHA-256 under its own subkey, separated by `purpose` so a value of one kind
    /// never matches another kind's hash. The store never sees the value itself.
    pub fn token_hash(&self, purpose: &str, value: &str) -> String {
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&self.token_key)
            .unwrap_or_else(|_| unreachable!("HMAC accepts any key length"));
        mac.update(purpose.as_bytes());
        mac.update(&[0]);
        mac.update(value.as_bytes());
        hex(&mac.finalize().into_bytes())
    }

    /// Encrypts `plaintext` bound to `context` (e.g. the tenant and record id, so a
    /// sealed value copied to another row does not open there), under the ring's first
    /// key: `v1.{key id}.{base64url of nonce, ciphertext and tag}`.
    pub fn seal(&self, rng: &dyn Rng, plaintext: &[u8], context: &str) -> String {
        let key = &self.ring[0];
        let cipher = Aes256Gcm::new((&key.aead_key).into());
        let mut nonce = [0u8; 12];
        rng.fill(&mut nonce);
        let sealed = cipher
            .encrypt(
                Nonce::from_slice(&nonce),
                Payload {
                    msg: plaintext,
                    aad: context.as_bytes(),
                },
            )
            .unwrap_or_else(|_| unreachable!("AES-GCM encryption of in-memory data cannot fail"));
        let mut out = nonce.to_vec();
        out.extend_from_slice(&sealed);
        format!("{SEALED_PREFIX}{}.{}", key.id, URL_SAFE_NO_PAD.encode(out))
    }

    /// Decrypts a value from [`seal`](Self::seal) with the ring's key that sealed it;
    /// `None` when no key of the ring did, or it was sealed under another context, or
    /// altered.
    pub fn open(&self, sealed: &str, context: &str) -> Option<Vec<u8>> {
        let (id, body) = sealed.strip_prefix(SEALED_PREFIX)?.split_once('.')?;
        let key = self.ring.iter().find(|k| k.id.to_string() == id)?;
        let bytes = URL_SAFE_NO_PAD.decode(body).ok()?;
        if bytes.len() < 12 + 16 {
            return None;
        }
        let (nonce, body) = bytes.split_at(12);
        Aes256Gcm::new((&key.aead_key).into())
            .decrypt(
                Nonce::from_slice(nonce),
                Payload {
                    msg: body,
                    aad: context.as_bytes(),
                },
            )
            .ok()
    }

    /// Whether `sealed` (from [`seal`](Self::seal)) was sealed by the ring's first key.
    pub fn sealed_by_primary(&self, sealed: &str) -> bool {
        sealed_with(sealed) == Some(self.primary_id())
    }
}

/// The id of the key that sealed `sealed` (from [`MasterKey::seal`]), read from its
/// prefix; `None` when it is not a sealed value.
pub fn sealed_with(sealed: &str) -> Option<KeyId> {
    let (id, _) = sealed.strip_prefix(SEALED_PREFIX)?.split_once('.')?;
    let mut bytes = [0u8; KEY_ID_LEN];
    if id.len() != 2 * KEY_ID_LEN {
        return None;
    }
    for (i, b) in bytes.iter_mut().enumerate() {
        *b = u8::from_str_radix(id.get(2 * i..2 * i + 2)?, 16).ok()?;
    }
    Some(KeyId(bytes))
}

impl MasterKey {
    /// A bearer value that carries `plaintext` (an authorization code's record), bound to
    /// `context` (its kind and tenant): base64url of a version byte, the sealing key's
    /// id, a random nonce and the AES-256-GCM-SIV ciphertext and tag. GCM-SIV (RFC
    /// 8452), not GCM, because these are minted thousands of times a second under one
    /// long-lived key with random nonces: GCM's random-nonce budget is 2^32 messages per
    /// key (NIST SP 800-38D §8.3), and a repeated GCM nonce gives away the
    /// authentication key, while GCM-SIV is built not to fail that way: a repeated nonce
    /// shows at worst that two values sealed the same plaintext (RFC 8452 §1).
    pub fn seal_bearer(&self, rng: &dyn Rng, plaintext: &[u8], context: &str) -> String {
        let key = &self.ring[0];
        let mut nonce = [0u8; NONCE_LEN];
        rng.fill(&mut nonce);
        let mut out = Vec::with_capacity(1 + KEY_ID_LEN + NONCE_LEN + plaintext.len() + 16);
        out.push(BEARER_VERSION);
        out.extend_from_slice(&key.id.0);
        out.extend_from_slice(&nonce);
        let mut body = plaintext.to_vec();
        key.bearer_aead()
            .seal_in_place_append_tag(
                aws_lc_rs::aead::Nonce::assume_unique_for_key(nonce),
                Aad::from(context.as_bytes()),
                &mut body,
            )
            .unwrap_or_else(|_| unreachable!("sealing in-memory data under a valid key"));
        out.extend_from_slice(&body);
        URL_SAFE_NO_PAD.encode(out)
    }

    /// The plaintext of a value from [`seal_bearer`](Self::seal_bearer), opened with the
    /// ring's key that sealed it; `None` for anything else: a key no longer in the ring,
    /// another context, an altered or truncated value, garbage.
    pub fn open_bearer(&self, value: &str, context: &str) -> Option<Vec<u8>> {
        let bytes = URL_SAFE_NO_PAD.decode(value).ok()?;
        let (&version, rest) = bytes.split_first()?;
        if version != BEARER_VERSION || rest.len() < KEY_ID_LEN + NONCE_LEN + 16 {
            return None;
        }
        let (id, rest) = rest.split_at(KEY_ID_LEN);
        let key = self.key(id)?;
        let (nonce, body) = rest.split_at(NONCE_LEN);
        let nonce = aws_lc_rs::aead::Nonce::try_assume_unique_for_key(nonce).ok()?;
        let mut body = body.to_vec();
        let plain = key
            .bearer_aead()
            .open_in_place(nonce, Aad::from(context.as_bytes()), &mut body)
            .ok()?
            .len();
        body.truncate(plain);
        Some(body)
    }
}

/// A new client secret: 32 bytes (256 bits) from the RNG, base64url without padding, so
/// it needs no escaping in a form, a header or JSON.
pub fn generate_client_secret(rng: &dyn Rng) -> Secret {
    Secret::new(generate_token(rng))
}

/// A new bearer value (authorization code, refresh token, session id, CSRF cookie): 256
/// bits from the injected CSPRNG, base64url without padding (no character needs escaping).
pub fn generate_token(rng: &dyn Rng) -> String {
    let mut bytes = [0u8; 32];
    rng.fill(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// Argon2id parameters (RFC 9106 §4; OWASP's m=19 MiB, t=2, p=1 by default).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PasswordParams {
    pub memory_kib: u32,
    pub iterations: u32,
    pub parallelism: u32,
}

impl Default for PasswordParams {
    fn default() -> Self {
        Self {
            memory_kib: 19 * 1024,
            iterations: 2,
            parallelism: 1,
        }
    }
}

/// Hashes a password with Argon2id into a PHC string. CPU- and memory-heavy (about 20 ms
/// of CPU at the defaults; `benches/calibrate.sh` measures a machine's rate): servers
/// call it off the async executor, on a bounded pool
/// (docs/decisions/0012-argon2-worker-pool.md).
pub fn hash_password(password: &Secret, params: PasswordParams, rng: &dyn Rng) -> String {
    use argon2::password_hash::{PasswordHasher, SaltString};
    let mut salt = [0u8; 16];
    rng.fill(&mut salt);
    let salt = SaltString::encode_b64(&salt)
        .unwrap_or_else(|_| unreachable!("16 bytes is a valid salt length"));
    let argon = argon2::Argon2::new(
        argon2::Algorithm::Argon2id,
        argon2::Version::V0x13,
        argon2::Params::new(
            params.memory_kib,
            params.iterations,
            params.parallelism,
            None,
        )
        .unwrap_or_default(),
    );
    argon
        .hash_password(password.expose().as_bytes(), &salt)
        .map(|h| h.to_string())
        .unwrap_or_else(|_| unreachable!("hashing with valid parameters cannot fail"))
}

/// Verifies a password against a PHC string (any parameters the string names).
pub fn verify_password(password: &Secret, phc: &str) -> bool {
    verify_password_in(password, phc, &mut PasswordScratch::default())
}

/// Argon2's working memory (19 MiB at the defaults), kept by a thread that verifies
/// passwords one after another: allocating it per hash made glibc's heap grow past
/// 200 MB under a sign-in load, as its mmap threshold adapts to the freed blocks.
#[derive(Default)]
pub struct PasswordScratch(Vec<argon2::Block>);

impl PasswordScratch {
    /// Whether it holds Argon2 memory (after a verification), which dropping it frees.
    pub fn holds_memory(&self) -> bool {
        self.0.capacity() > 0
    }
}

/// [`verify_password`] using `scratch` for Argon2's memory. The same computation as
/// the argon2 crate's `PasswordVerifier` (algorithm, version and parameters from the
/// PHC string; constant-time comparison of the output), without its allocation.
pub fn verify_password_in(password: &Secret, phc: &str, scratch: &mut PasswordScratch) -> bool {
    use argon2::password_hash::PasswordHash;
    let Ok(parsed) = PasswordHash::new(phc) else {
        return false;
    };
    let (Some(expected), Some(salt)) = (parsed.hash, parsed.salt) else {
        return false;
    };
    let Ok(algorithm) = argon2::Algorithm::try_from(parsed.algorithm) else {
        return false;
    };
    let version = match parsed.version.map(argon2::Version::try_from).transpose() {
        Ok(v) => v.unwrap_or_default(),
        Err(_) => return false,
    };
    let Ok(params) = argon2::Params::try_from(&parsed) else {
        return false;
    };
    let mut salt_bytes = [0u8; argon2::password_hash::Salt::MAX_LENGTH];
    let Ok(salt) = salt.decode_b64(&mut salt_bytes) else {
        return false;
    };
    let mut out = vec![0u8; expected.len()];
    scratch
        .0
        .resize(params.block_count(), argon2::Block::default());
    argon2::Argon2::new(algorithm, version, params)
        .hash_password_into_with_memory(
            password.expose().as_bytes(),
            salt,
            &mut out,
            &mut scratch.0,
        )
        .is_ok()
        && crate::secret::constant_time_eq(&out, expected.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::SequenceRng;

    fn key() -> MasterKey {
        MasterKey::parse(&MasterKey::generate_file_content(&SequenceRng::new(3))).unwrap()
    }

    #[test]
    fn master_key_files_round_trip_and_bad_ones_are_refused() {
        let text = MasterKey::generate_file_content(&SequenceRng::new(3));
        assert_eq!(text.trim().len(), 44);
        assert!(MasterKey::parse(&text).is_ok());
        assert_eq!(MasterKey::parse("short").err(), Some(BadMasterKey));
        assert_eq!(
            MasterKey::parse(&STANDARD.encode([0u8; 16])).err(),
            Some(BadMasterKey)
        );
        assert_eq!(format!("{:?}", key()), "MasterKey([redacted])");
    }

    #[test]
    fn secret_hashes_are_keyed_and_compare_by_value() {
        let k = key();
        let other = MasterKey::from_bytes(&[9u8; 32]);
        let s = Secret::new("a-very-long-client-secret-value-0001");
        let h = k.secret_hash(&s);
        assert_eq!(h.len(), 64);
        assert!(k.secret_matches(&s, &h));
        assert!(!k.secret_matches(&Secret::new("a-very-long-client-secret-value-0002"), &h));
        assert_ne!(
            other.secret_hash(&s),
            h,
            "another master key gives another hash"
        );
    }

    #[test]
    fn sealed_values_open_only_with_the_same_key_and_context() {
        let k = key();
        let rng = SequenceRng::new(5);
        let sealed = k.seal(&rng, b"JBSWY3DPEHPK3PXP", "tenant-a/user-1");
        assert_eq!(
            k.open(&sealed, "tenant-a/user-1").as_deref(),
            Some(&b"JBSWY3DPEHPK3PXP"[..])
        );
        assert_eq!(k.open(&sealed, "tenant-b/user-1"), None);
        assert_eq!(
            MasterKey::from_bytes(&[1u8; 32]).open(&sealed, "tenant-a/user-1"),
            None
        );
        assert_eq!(k.open("v1.AAAA", "x"), None);
        assert_eq!(k.open("garbage", "x"), None);
    }

    /// A ring seals with its first key and opens with any of its keys; a key taken out
    /// of the ring no longer opens what it sealed; the file format's mistakes are
    /// refused.
    #[test]
    fn a_ring_seals_with_its_first_key_and_opens_with_every_key() {
        let line = |k: u8| format!("{}\n", STANDARD.encode([k; 32]));
        let old = MasterKey::parse(&line(1)).unwrap();
        let both = MasterKey::parse(&format!("# rotation\n{}\n{}", line(2), line(1))).unwrap();
        let new = MasterKey::parse(&line(2)).unwrap();
        let rng = SequenceRng::new(11);
        assert_eq!(both.key_ids(), [new.primary_id(), old.primary_id()]);
        assert_ne!(old.primary_id(), new.primary_id());

        let at_rest = old.seal(&rng, b"secret", "ctx");
        let bearer = old.seal_bearer(&rng, b"record", "ctx");
        assert_eq!(sealed_with(&at_rest), Some(old.primary_id()));
        assert_eq!(both.open(&at_rest, "ctx").as_deref(), Some(&b"secret"[..]));
        assert_eq!(
            both.open_bearer(&bearer, "ctx").as_deref(),
            Some(&b"record"[..])
        );
        assert!(!both.sealed_by_primary(&at_rest));
        assert_eq!(new.open(&at_rest, "ctx"), None);
        assert_eq!(new.open_bearer(&bearer, "ctx"), None);

        let fresh = both.seal(&rng, b"secret", "ctx");
        assert!(both.sealed_by_primary(&fresh));
        assert_eq!(new.open(&fresh, "ctx").as_deref(), Some(&b"secret"[..]));
        assert_eq!(old.open(&fresh, "ctx"), None);
        let fresh_bearer = both.seal_bearer(&rng, b"record", "ctx");
        assert_eq!(
            new.open_bearer(&fresh_bearer, "ctx").as_deref(),
            Some(&b"record"[..])
        );

        for bad in ["", "# only a comment\n", &format!("{}{}", line(1), line(1))] {
            assert_eq!(MasterKey::parse(bad).err(), Some(BadMasterKey), "{bad:?}");
        }
    }

    #[test]
    fn sealed_bearer_values_open_only_unaltered_under_their_key_and_context() {
        let k = key();
        let rng = SequenceRng::new(7);
        let plain = br#"{"client_id":"web"}"#;
        let value = k.seal_bearer(&rng, plain, "authorization_code/tenant-a");
        assert!(
            value
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'),
            "{value}"
        );
        // Version byte, key id, nonce, ciphertext, tag.
        assert_eq!(
            URL_SAFE_NO_PAD.decode(&value).unwrap().len(),
            1 + 4 + 12 + plain.len() + 16
        );
        assert_eq!(
            k.open_bearer(&value, "authorization_code/tenant-a")
                .as_deref(),
            Some(&plain[..])
        );
        assert_ne!(
            value,
            k.seal_bearer(&rng, plain, "authorization_code/tenant-a"),
            "a fresh nonce each time"
        );
        assert_eq!(k.open_bearer(&value, "authorization_code/tenant-b"), None);
        assert_eq!(
            MasterKey::from_bytes(&[1u8; 32]).open_bearer(&value, "authorization_code/tenant-a"),
            None
        );
        // Every single-byte change, a truncation, and values that were never sealed.
        let bytes = URL_SAFE_NO_PAD.decode(&value).unwrap();
        for i in 0..bytes.len() {
            let mut altered = bytes.clone();
            altered[i] ^= 0x01;
            let altered = URL_SAFE_NO_PAD.encode(altered);
            assert_eq!(k.open_bearer(&altered, "authorization_code/tenant-a"), None);
        }
        let truncated = URL_SAFE_NO_PAD.encode(&bytes[..bytes.len() - 1]);
        assert_eq!(
            k.open_bearer(&truncated, "authorization_code/tenant-a"),
            None
        );
        for junk in [
            "",
            "AQ",
            "not base64!",
            "AQAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        ] {
            assert_eq!(k.open_bearer(junk, "authorization_code/tenant-a"), None);
        }
        // The at-rest seal and the bearer seal use different keys.
        assert_eq!(
            k.open(&format!("v1.{value}"), "authorization_code/tenant-a"),
            None
        );
    }

    #[test]
    fn client_secrets_carry_256_bits_in_url_safe_characters() {
        let s = generate_client_secret(&SequenceRng::new(1));
        assert_eq!(s.expose().len(), 43);
        assert!(
            s.expose()
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        );
    }

    #[test]
    fn passwords_hash_with_argon2id_and_verify() {
        let cheap = PasswordParams {
            memory_kib: 1024,
            iterations: 1,
            parallelism: 1,
        };
        let h = hash_password(&Secret::new("correct horse"), cheap, &SequenceRng::new(1));
        assert!(h.starts_with("$argon2id$v=19$m=1024,t=1,p=1$"), "{h}");
        assert!(verify_password(&Secret::new("correct horse"), &h));
        assert!(!verify_password(&Secret::new("correct horsE"), &h));
        assert!(!verify_password(&Secret::new("x"), "not a phc string"));
    }

    /// The scratch-memory verifier agrees with the argon2 crate's own, across
    /// algorithms and parameter sizes, with one scratch reused throughout.
    #[test]
    fn reused_scratch_verifies_like_the_argon2_crate() {
        use argon2::password_hash::{PasswordHasher, PasswordVerifier, SaltString};
        let mut scratch = PasswordScratch::default();
        let salt = SaltString::encode_b64(b"0123456789abcdef").unwrap();
        for (algorithm, m, t) in [
            (argon2::Algorithm::Argon2id, 2048, 1),
            (argon2::Algorithm::Argon2i, 1024, 2),
            (argon2::Algorithm::Argon2d, 4096, 1),
            (argon2::Algorithm::Argon2id, 1024, 3),
        ] {
            let params = argon2::Params::new(m, t, 1, None).unwrap();
            let argon = argon2::Argon2::new(algorithm, argon2::Version::V0x13, params);
            let phc = argon.hash_password(b"hunter2", &salt).unwrap().to_string();
            let parsed = argon2::password_hash::PasswordHash::new(&phc).unwrap();
            for candidate in ["hunter2", "hunter3", ""] {
                let theirs = argon2::Argon2::default()
                    .verify_password(candidate.as_bytes(), &parsed)
                    .is_ok();
                let ours = verify_password_in(&Secret::new(candidate), &phc, &mut scratch);
                assert_eq!(ours, theirs, "{phc} {candidate}");
                assert_eq!(ours, candidate == "hunter2");
            }
        }
        assert!(!verify_password_in(
            &Secret::new("x"),
            "$argon2id$v=19$m=1024,t=1,p=1$c2FsdHNhbHQ",
            &mut scratch
        ));
    }
}
