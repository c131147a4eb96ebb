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

/// The 32-byte master key. `Debug` never prints it.
#[derive(Clone)]
pub struct MasterKey {
    hmac_key: [u8; 32],
    aead_key: [u8; 32],
    token_key: [u8; 32],
    bearer_key: [u8; 32],
}

impl std::fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("MasterKey([redacted])")
    }
}

/// Why a master key file's content was refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("must hold 32 random bytes in base64 (44 characters), as `tessera` generates")]
pub struct BadMasterKey;

impl MasterKey {
    pub fn from_bytes(master: &[u8; 32]) -> Self {
        let hk = hkdf::Hkdf::<Sha256>::new(Some(b"tessera master key"), master);
        let mut hmac_key = [0u8; 32];
        let mut aead_key = [0u8; 32];
        let mut token_key = [0u8; 32];
        let mut bearer_key = [0u8; 32];
        // 32-byte outputs are far below HKDF-SHA-256's limit; expand cannot fail.
        let _ = hk.expand(b"client secret hmac v1", &mut hmac_key);
        let _ = hk.expand(b"at-rest aead v1", &mut aead_key);
        let _ = hk.expand(b"token hmac v1", &mut token_key);
        let _ = hk.expand(b"sealed bearer aead v1", &mut bearer_key);
        Self {
            hmac_key,
            aead_key,
            token_key,
            bearer_key,
        }
    }

    /// Parses the content of a master key file (base64 of 32 bytes, whitespace ignored).
    pub fn parse(text: &str) -> Result<Self, BadMasterKey> {
        let bytes = STANDARD.decode(text.trim()).map_err(|_| BadMasterKey)?;
        let bytes: [u8; 32] = bytes.try_into().map_err(|_| BadMasterKey)?;
        Ok(Self::from_bytes(&bytes))
    }

    /// A new master key file's content.
    pub fn generate_file_content(rng: &dyn Rng) -> String {
        let mut bytes = [0u8; 32];
        rng.fill(&mut bytes);
        format!("{}\n", STANDARD.encode(bytes))
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
    /// sealed value copied to another row does not open there).
    pub fn seal(&self, rng: &dyn Rng, plaintext: &[u8], context: &str) -> String {
        let cipher = Aes256Gcm::new((&self.aead_key).into());
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
        format!("{SEALED_PREFIX}{}", URL_SAFE_NO_PAD.encode(out))
    }

    /// Decrypts a value from [`seal`](Self::seal); `None` when it was sealed under another
    /// key or context, or was altered.
    pub fn open(&self, sealed: &str, context: &str) -> Option<Vec<u8>> {
        let bytes = URL_SAFE_NO_PAD
            .decode(sealed.strip_prefix(SEALED_PREFIX)?)
            .ok()?;
        if bytes.len() < 12 + 16 {
            return None;
        }
        let (nonce, body) = bytes.split_at(12);
        Aes256Gcm::new((&self.aead_key).into())
            .decrypt(
                Nonce::from_slice(nonce),
                Payload {
                    msg: body,
                    aad: context.as_bytes(),
                },
            )
            .ok()
    }
}

impl MasterKey {
    /// A bearer value that carries `plaintext` (an authorization code's record), bound to
    /// `context` (its kind and tenant): base64url of a version byte, a random nonce and
    /// the AES-256-GCM-SIV ciphertext and tag. GCM-SIV (RFC 8452), not GCM, because these
    /// are minted thousands of times a second under one long-lived key with random
    /// nonces: GCM's random-nonce budget is 2^32 messages per key (NIST SP 800-38D
    /// §8.3), and a repeated GCM nonce gives away the authentication key, while
    /// GCM-SIV is built not to fail that way: a repeated nonce shows at worst that two
    /// values sealed the same plaintext (RFC 8452 §1).
    pub fn seal_bearer(&self, rng: &dyn Rng, plaintext: &[u8], context: &str) -> String {
        let mut nonce = [0u8; NONCE_LEN];
        rng.fill(&mut nonce);
        let mut out = Vec::with_capacity(1 + NONCE_LEN + plaintext.len() + 16);
        out.push(BEARER_VERSION);
        out.extend_from_slice(&nonce);
        let mut body = plaintext.to_vec();
        self.bearer_aead()
            .seal_in_place_append_tag(
                aws_lc_rs::aead::Nonce::assume_unique_for_key(nonce),
                Aad::from(context.as_bytes()),
                &mut body,
            )
            .unwrap_or_else(|_| unreachable!("sealing in-memory data under a valid key"));
        out.extend_from_slice(&body);
        URL_SAFE_NO_PAD.encode(out)
    }

    /// The plaintext of a value from [`seal_bearer`](Self::seal_bearer); `None` for
    /// anything else: another key or context, an altered or truncated value, garbage.
    pub fn open_bearer(&self, value: &str, context: &str) -> Option<Vec<u8>> {
        let bytes = URL_SAFE_NO_PAD.decode(value).ok()?;
        let (&version, rest) = bytes.split_first()?;
        if version != BEARER_VERSION || rest.len() < NONCE_LEN + 16 {
            return None;
        }
        let (nonce, body) = rest.split_at(NONCE_LEN);
        let nonce = aws_lc_rs::aead::Nonce::try_assume_unique_for_key(nonce).ok()?;
        let mut body = body.to_vec();
        let plain = self
            .bearer_aead()
            .open_in_place(nonce, Aad::from(context.as_bytes()), &mut body)
            .ok()?
            .len();
        body.truncate(plain);
        Some(body)
    }

    fn bearer_aead(&self) -> LessSafeKey {
        LessSafeKey::new(
            UnboundKey::new(&AES_256_GCM_SIV, &self.bearer_key)
                .unwrap_or_else(|_| unreachable!("a 32-byte key fits AES-256-GCM-SIV")),
        )
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
        // Version byte, nonce, ciphertext, tag.
        assert_eq!(
            URL_SAFE_NO_PAD.decode(&value).unwrap().len(),
            1 + 12 + plain.len() + 16
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
