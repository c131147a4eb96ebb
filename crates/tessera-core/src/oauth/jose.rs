//! Compact JWS (RFC 7515) for the tokens Tessera issues and the ones it reads back
//! (UserInfo, later introspection): signing with a tenant key opened once, and
//! verification against the tenant's public JWKs. The signatures themselves are
//! aws-lc-rs; this module only frames them.

use crate::crypto::MasterKey;
use crate::ids::TenantId;
use crate::keys::{SigningAlg, SigningKey, seal_context};
use aws_lc_rs::signature::{self, UnparsedPublicKey};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Map, Value};
use sha2::Digest;

/// A tenant signing key with its private part opened and parsed, ready to sign
/// (parsing once matters: docs/decisions/0010-parsed-signers-kept.md).
pub struct Signer {
    kid: String,
    alg: SigningAlg,
    pair: Pair,
}

enum Pair {
    Ed25519(signature::Ed25519KeyPair),
    P256(signature::EcdsaKeyPair),
    Rsa(signature::RsaKeyPair),
}

impl std::fmt::Debug for Signer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Signer")
            .field("kid", &self.kid)
            .field("alg", &self.alg)
            .finish_non_exhaustive()
    }
}

impl Signer {
    /// Opens `key`'s sealed private part under the master key.
    pub fn open(key: &SigningKey, tenant_id: TenantId, master: &MasterKey) -> Result<Self, String> {
        let pkcs8 = master
            .open(&key.private_sealed, &seal_context(tenant_id, &key.kid))
            .ok_or_else(|| format!("signing key {} does not open under the master key", key.kid))?;
        let bad = |e: aws_lc_rs::error::KeyRejected| format!("signing key {}: {e}", key.kid);
        let pair = match key.alg {
            SigningAlg::EdDSA => {
                Pair::Ed25519(signature::Ed25519KeyPair::from_pkcs8(&pkcs8).map_err(bad)?)
            }
            SigningAlg::ES256 => Pair::P256(
                signature::EcdsaKeyPair::from_pkcs8(
                    &signature::ECDSA_P256_SHA256_FIXED_SIGNING,
                    &pkcs8,
                )
                .map_err(bad)?,
            ),
            SigningAlg::RS256 => Pair::Rsa(signature::RsaKeyPair::from_pkcs8(&pkcs8).map_err(bad)?),
        };
        Ok(Self {
            kid: key.kid.clone(),
            alg: key.alg,
            pair,
        })
    }

    /// The algorithm this key signs with.
    pub fn alg(&self) -> SigningAlg {
        self.alg
    }

    /// `header.claims.signature`, with `typ` in the header (RFC 9068 §2.1 wants `at+jwt`
    /// for access tokens; ID tokens use `JWT`). The header and the claims are written
    /// straight to bytes and encoded into one buffer: going through `Value`'s `Display`
    /// (one formatter call per token of JSON) and a string per part cost about 9 % of a
    /// client_credentials grant's instructions outside the signature
    /// (docs/decisions/0014-typed-claims-to-bytes.md).
    pub fn sign<C: serde::Serialize + ?Sized>(
        &self,
        typ: &str,
        claims: &C,
    ) -> Result<String, String> {
        // RFC 7515 §4.1; the keys in the order the earlier `json!` map gave them.
        #[derive(serde::Serialize)]
        struct Header<'a> {
            alg: &'a str,
            kid: &'a str,
            typ: &'a str,
        }
        let header = serde_json::to_vec(&Header {
            alg: self.alg.as_str(),
            kid: &self.kid,
            typ,
        })
        .map_err(|e| format!("JWT header: {e}"))?;
        let claims = serde_json::to_vec(claims).map_err(|e| format!("JWT claims: {e}"))?;
        // Base64 takes 4 characters per 3 bytes; 512 more leave room for the dots and the
        // signature (342 characters for RS256 with a 2048-bit key), so it rarely grows.
        let mut input = String::with_capacity((header.len() + claims.len()) * 4 / 3 + 512);
        URL_SAFE_NO_PAD.encode_string(&header, &mut input);
        input.push('.');
        URL_SAFE_NO_PAD.encode_string(&claims, &mut input);
        let rng = aws_lc_rs::rand::SystemRandom::new();
        // Ed25519 and ECDSA give a `Signature`, RSA fills a buffer; either is borrowed.
        let fixed: signature::Signature;
        let owned: Vec<u8>;
        let sig: &[u8] = match &self.pair {
            Pair::Ed25519(p) => {
                fixed = p.sign(input.as_bytes());
                fixed.as_ref()
            }
            Pair::P256(p) => {
                fixed = p
                    .sign(&rng, input.as_bytes())
                    .map_err(|_| "ES256 signing failed")?;
                fixed.as_ref()
            }
            Pair::Rsa(p) => {
                let mut buf = vec![0; p.public_modulus_len()];
                p.sign(
                    &signature::RSA_PKCS1_SHA256,
                    &rng,
                    input.as_bytes(),
                    &mut buf,
                )
                .map_err(|_| "RS256 signing failed")?;
                owned = buf;
                &owned
            }
        };
        input.push('.');
        URL_SAFE_NO_PAD.encode_string(sig, &mut input);
        Ok(input)
    }
}

/// OIDC Core §3.1.3.6 (`at_hash`) and §3.3.2.11 (`c_hash`): the left half of the hash
/// of the token's ASCII octets, with the hash of the signing algorithm — SHA-256 for
/// ES256 and RS256, SHA-512 for EdDSA over Ed25519 (as certified providers and
/// openidconnect-rs do).
pub fn left_half_hash(alg: SigningAlg, value: &str) -> String {
    let digest: Vec<u8> = match alg {
        SigningAlg::EdDSA => sha2::Sha512::digest(value.as_bytes()).to_vec(),
        SigningAlg::ES256 | SigningAlg::RS256 => sha2::Sha256::digest(value.as_bytes()).to_vec(),
    };
    URL_SAFE_NO_PAD.encode(&digest[..digest.len() / 2])
}

/// Why a JWT was not accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JwtError {
    /// Not three base64url parts of JSON, or a header without `alg`/`kid`.
    Malformed(&'static str),
    /// No key with that `kid`, or the key's algorithm differs from the header's.
    UnknownKey,
    BadSignature,
}

/// A verified token: its header and claims.
#[derive(Debug, Clone)]
pub struct Verified {
    pub header: Map<String, Value>,
    pub claims: Map<String, Value>,
}

/// The claims of a compact JWS, read without verifying anything: only for choosing
/// before verification (which tenant's keys: the admin API's issuer) or beside a refusal
/// (which app's page may read the error: UserInfo's CORS), never for trusting them.
pub fn unverified_claims(token: &str) -> Result<Map<String, Value>, JwtError> {
    let payload = token
        .split('.')
        .nth(1)
        .ok_or(JwtError::Malformed("a JWT has three dot-separated parts"))?;
    let bytes = URL_SAFE_NO_PAD
        .decode(payload)
        .map_err(|_| JwtError::Malformed("a part is not base64url"))?;
    match serde_json::from_slice::<Value>(&bytes) {
        Ok(Value::Object(m)) => Ok(m),
        _ => Err(JwtError::Malformed("a part is not a JSON object")),
    }
}

/// Tokens whose signature has verified, remembered by the SHA-256 digest of the whole
/// compact token. A resource server introspects (or calls UserInfo with) the same token
/// on every request for its lifetime, and the signature check is most of that work: for
/// an Ed25519 token, 46 % of an introspection's CPU before this memo
/// (docs/decisions/0011-verified-token-memo.md).
///
/// Sound because a signature check is a pure function of the token's bytes and the key:
/// a digest that verified once verifies again under the same key. The key is still
/// looked up by `kid` and `alg` in the current key set on every call, before the memo is
/// asked, so a token whose key has left the set fails as before; and `kid`s are RFC 7638
/// thumbprints, so the same `kid` is the same key. Only successes are remembered, so a
/// forged token costs a full check each time.
pub trait SignatureMemo {
    fn verified_before(&self, digest: &[u8; 32]) -> bool;
    fn remember(&self, digest: [u8; 32]);
}

/// Verifies `token`'s signature against `keys` (public JWKs with `kid` and `alg`). The
/// key is chosen by `kid`, and its `alg` must equal the header's: the algorithm is
/// never taken from the token alone (RFC 8725 §3.1). Claims are the caller's to check.
pub fn verify(token: &str, keys: &[Value]) -> Result<Verified, JwtError> {
    verify_remembering(token, keys, None)
}

/// A compact JWS split and decoded (RFC 7515 §7.1), its signature not yet checked.
pub struct Parsed<'a> {
    pub header: Map<String, Value>,
    pub claims: Map<String, Value>,
    /// `header.claims` as sent: the signing input.
    signed: &'a [u8],
    signature: Vec<u8>,
}

impl Parsed<'_> {
    /// The header member `name`, when it is a string.
    pub fn header_str(&self, name: &str) -> Option<&str> {
        self.header.get(name).and_then(Value::as_str)
    }

    /// Whether the signature verifies under `jwk` with `alg` (the caller has matched
    /// the two: [`JwsAlg::fits`]). `UnknownKey` when the JWK lacks a member `alg` needs.
    pub fn signature_verifies(&self, alg: JwsAlg, jwk: &Value) -> Result<bool, JwtError> {
        let member = |name: &str| {
            jwk[name]
                .as_str()
                .and_then(|v| URL_SAFE_NO_PAD.decode(v).ok())
                .ok_or(JwtError::UnknownKey)
        };
        let (signed, sig) = (self.signed, self.signature.as_slice());
        let rsa = |params: &'static signature::RsaParameters| -> Result<bool, JwtError> {
            Ok(signature::RsaPublicKeyComponents {
                n: member("n")?,
                e: member("e")?,
            }
            .verify(params, signed, sig)
            .is_ok())
        };
        match alg {
            JwsAlg::EdDSA => Ok(UnparsedPublicKey::new(&signature::ED25519, member("x")?)
                .verify(signed, sig)
                .is_ok()),
            JwsAlg::ES256 => {
                let mut point = vec![0x04];
                point.extend(member("x")?);
                point.extend(member("y")?);
                Ok(
                    UnparsedPublicKey::new(&signature::ECDSA_P256_SHA256_FIXED, point)
                        .verify(signed, sig)
                        .is_ok(),
                )
            }
            JwsAlg::RS256 => rsa(&signature::RSA_PKCS1_2048_8192_SHA256),
            JwsAlg::PS256 => rsa(&signature::RSA_PSS_2048_8192_SHA256),
        }
    }
}

/// The JWS algorithms (RFC 7518 §3.1, RFC 8037 §3.1) whose signatures Tessera checks:
/// those of its own keys, and PS256 for clients' keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JwsAlg {
    EdDSA,
    ES256,
    RS256,
    PS256,
}

impl JwsAlg {
    pub const ALL: [JwsAlg; 4] = [Self::RS256, Self::PS256, Self::ES256, Self::EdDSA];

    pub fn parse(value: &str) -> Option<Self> {
        Some(match value {
            "EdDSA" => Self::EdDSA,
            "ES256" => Self::ES256,
            "RS256" => Self::RS256,
            "PS256" => Self::PS256,
            _ => return None,
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::EdDSA => "EdDSA",
            Self::ES256 => "ES256",
            Self::RS256 => "RS256",
            Self::PS256 => "PS256",
        }
    }

    /// Whether `jwk` is a key of this algorithm's type (RFC 7518 §6: `kty`, `crv`), and,
    /// when it names an `alg` of its own (RFC 7517 §4.4), that one; a key meant for
    /// encryption (`use` other than `sig`, §4.2) fits none.
    pub fn fits(self, jwk: &Value) -> bool {
        let member = |name: &str| jwk.get(name).and_then(Value::as_str);
        let kind = match self {
            Self::EdDSA => member("kty") == Some("OKP") && member("crv") == Some("Ed25519"),
            Self::ES256 => member("kty") == Some("EC") && member("crv") == Some("P-256"),
            Self::RS256 | Self::PS256 => member("kty") == Some("RSA"),
        };
        kind && member("alg").is_none_or(|a| a == self.as_str())
            && member("use").is_none_or(|u| u == "sig")
    }
}

/// Splits and decodes a compact JWS without checking its signature.
pub fn parse(token: &str) -> Result<Parsed<'_>, JwtError> {
    let mut parts = token.split('.');
    let (Some(h), Some(c), Some(s), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(JwtError::Malformed("a JWT has three dot-separated parts"));
    };
    let decode = |part: &str| {
        URL_SAFE_NO_PAD
            .decode(part)
            .map_err(|_| JwtError::Malformed("a part is not base64url"))
    };
    let object = |bytes: Vec<u8>| match serde_json::from_slice::<Value>(&bytes) {
        Ok(Value::Object(m)) => Ok(m),
        _ => Err(JwtError::Malformed("a part is not a JSON object")),
    };
    let header = object(decode(h)?)?;
    let claims = object(decode(c)?)?;
    let signature = decode(s)?;
    // RFC 7515 §4.1.11: extensions marked critical must be understood; none are.
    if header.contains_key("crit") {
        return Err(JwtError::Malformed("the header names critical extensions"));
    }
    Ok(Parsed {
        header,
        claims,
        signed: &token.as_bytes()[..h.len() + 1 + c.len()],
        signature,
    })
}

/// [`verify`], skipping the signature check for a token `memo` saw verify before.
pub fn verify_remembering(
    token: &str,
    keys: &[Value],
    memo: Option<&dyn SignatureMemo>,
) -> Result<Verified, JwtError> {
    let parsed = parse(token)?;
    let (Some(alg), Some(kid)) = (parsed.header_str("alg"), parsed.header_str("kid")) else {
        return Err(JwtError::Malformed("the header lacks alg or kid"));
    };
    let jwk = keys
        .iter()
        .find(|k| k["kid"].as_str() == Some(kid) && k["alg"].as_str() == Some(alg))
        .ok_or(JwtError::UnknownKey)?;
    let alg = JwsAlg::parse(alg).ok_or(JwtError::UnknownKey)?;
    let digest: Option<[u8; 32]> = memo.map(|_| sha2::Sha256::digest(token.as_bytes()).into());
    if let (Some(memo), Some(digest)) = (memo, &digest)
        && memo.verified_before(digest)
    {
        return Ok(Verified {
            header: parsed.header,
            claims: parsed.claims,
        });
    }
    if !parsed.signature_verifies(alg, jwk)? {
        return Err(JwtError::BadSignature);
    }
    if let (Some(memo), Some(digest)) = (memo, digest) {
        memo.remember(digest);
    }
    Ok(Verified {
        header: parsed.header,
        claims: parsed.claims,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::{KeyState, generate};
    use crate::rng::SequenceRng;

    fn master() -> MasterKey {
        MasterKey::from_bytes(&[7; 32])
    }

    /// An active key of `alg` for the nil tenant.
    fn key(alg: SigningAlg) -> crate::keys::SigningKey {
        let now = time::macros::datetime!(2026-11-26 12:00 UTC);
        generate(
            alg,
            KeyState::Active,
            TenantId::from_uuid(uuid::Uuid::nil()),
            &master(),
            &SequenceRng::new(1),
            now,
        )
        .unwrap()
    }

    /// `key`'s signature over `claims`.
    fn signed(key: &crate::keys::SigningKey, typ: &str, claims: serde_json::Value) -> String {
        Signer::open(key, TenantId::from_uuid(uuid::Uuid::nil()), &master())
            .unwrap()
            .sign(typ, &claims)
            .unwrap()
    }

    /// `token` with another payload under the same signature.
    fn forged(token: &str) -> String {
        let mut parts: Vec<&str> = token.split('.').collect();
        let payload = URL_SAFE_NO_PAD.encode(r#"{"sub":"mallory"}"#);
        parts[1] = &payload;
        parts.join(".")
    }

    #[test]
    fn every_algorithm_signs_and_verifies_and_refuses_tampering() {
        for alg in SigningAlg::ALL {
            let key = key(alg);
            let token = signed(&key, "at+jwt", serde_json::json!({ "sub": "alice" }));
            let keys = vec![key.public_jwk.clone()];
            let v = verify(&token, &keys).unwrap();
            assert_eq!(v.claims["sub"], "alice");
            // RFC 7515 §4.1: exactly these members, nothing null or extra.
            assert_eq!(
                serde_json::Value::Object(v.header.clone()),
                serde_json::json!({ "alg": alg.as_str(), "kid": key.kid, "typ": "at+jwt" })
            );

            assert_eq!(
                verify(&forged(&token), &keys).unwrap_err(),
                JwtError::BadSignature
            );
            // A key that is not the tenant's.
            assert_eq!(verify(&token, &[]).unwrap_err(), JwtError::UnknownKey);
        }
    }

    #[test]
    fn typed_claims_sign_as_their_json() {
        #[derive(serde::Serialize)]
        struct Claims<'a> {
            sub: &'a str,
            exp: i64,
            #[serde(skip_serializing_if = "Option::is_none")]
            nonce: Option<&'a str>,
        }
        let key = key(SigningAlg::EdDSA);
        let token = Signer::open(&key, TenantId::from_uuid(uuid::Uuid::nil()), &master())
            .unwrap()
            .sign(
                "JWT",
                &Claims {
                    sub: "alice",
                    exp: 42,
                    nonce: None,
                },
            )
            .unwrap();
        let v = verify(&token, std::slice::from_ref(&key.public_jwk)).unwrap();
        assert_eq!(
            serde_json::Value::Object(v.claims),
            serde_json::json!({ "sub": "alice", "exp": 42 })
        );
    }

    /// A memo that counts what it is asked and can be told to claim every digest.
    #[derive(Default)]
    struct CountingMemo {
        seen: std::sync::Mutex<Vec<[u8; 32]>>,
        asked: std::sync::atomic::AtomicUsize,
        claims_everything: bool,
    }

    impl SignatureMemo for CountingMemo {
        fn verified_before(&self, digest: &[u8; 32]) -> bool {
            self.asked
                .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            self.claims_everything || self.seen.lock().unwrap().contains(digest)
        }
        fn remember(&self, digest: [u8; 32]) {
            self.seen.lock().unwrap().push(digest);
        }
    }

    #[test]
    fn the_memo_remembers_successes_only_and_never_stands_in_for_the_key() {
        let key = key(SigningAlg::EdDSA);
        let token = signed(&key, "at+jwt", serde_json::json!({ "sub": "alice" }));
        let keys = vec![key.public_jwk.clone()];
        let memo = CountingMemo::default();
        let v = verify_remembering(&token, &keys, Some(&memo)).unwrap();
        assert_eq!(v.claims["sub"], "alice");
        let digest: [u8; 32] = sha2::Sha256::digest(token.as_bytes()).into();
        assert_eq!(*memo.seen.lock().unwrap(), vec![digest]);
        // Seen again: the same claims, nothing new remembered.
        let again = verify_remembering(&token, &keys, Some(&memo)).unwrap();
        assert_eq!(again.claims, v.claims);
        assert_eq!(memo.seen.lock().unwrap().len(), 1);

        // A forgery fails and is not remembered.
        assert_eq!(
            verify_remembering(&forged(&token), &keys, Some(&memo)).unwrap_err(),
            JwtError::BadSignature
        );
        assert_eq!(memo.seen.lock().unwrap().len(), 1);

        // The key left the set: the remembered token fails before the memo is asked.
        let asked = memo.asked.load(std::sync::atomic::Ordering::Relaxed);
        assert_eq!(
            verify_remembering(&token, &[], Some(&memo)).unwrap_err(),
            JwtError::UnknownKey
        );
        assert_eq!(memo.asked.load(std::sync::atomic::Ordering::Relaxed), asked);

        // Even a memo that claims every digest cannot pass a token without its key, or
        // a malformed one.
        let liar = CountingMemo {
            claims_everything: true,
            ..CountingMemo::default()
        };
        assert_eq!(
            verify_remembering(&token, &[], Some(&liar)).unwrap_err(),
            JwtError::UnknownKey
        );
        assert!(matches!(
            verify_remembering("e30.e30.", &keys, Some(&liar)),
            Err(JwtError::Malformed(_))
        ));
    }

    #[test]
    fn the_header_cannot_choose_another_algorithm() {
        let key = key(SigningAlg::ES256);
        let mut jwk = key.public_jwk.clone();
        jwk["alg"] = "EdDSA".into();
        let token = signed(&key, "JWT", serde_json::json!({}));
        assert_eq!(verify(&token, &[jwk]).unwrap_err(), JwtError::UnknownKey);
    }

    #[test]
    fn garbage_is_malformed_not_a_panic() {
        for t in [
            "",
            "a",
            "a.b",
            "a.b.c.d",
            "!!.!!.!!",
            "e30.e30.",
            "W10.e30.AA",
        ] {
            assert!(matches!(verify(t, &[]), Err(JwtError::Malformed(_))), "{t}");
        }
        // Unverified reading refuses what is not a JSON object payload, never panics.
        for t in ["", "a", "a.!!.c", "a.W10.c", "a.bm90IGpzb24.c"] {
            assert!(unverified_claims(t).is_err(), "{t}");
        }
        let claims = unverified_claims("x.eyJjbGllbnRfaWQiOiJzcGEifQ.forged").unwrap();
        assert_eq!(claims["client_id"], "spa");
    }

    #[test]
    fn critical_extensions_are_refused() {
        let header = URL_SAFE_NO_PAD.encode(r#"{"alg":"EdDSA","kid":"k","crit":["exp"]}"#);
        let err = verify(&format!("{header}.e30.AA"), &[]).unwrap_err();
        assert_eq!(
            err,
            JwtError::Malformed("the header names critical extensions")
        );
    }

    #[test]
    fn at_hash_uses_the_algorithms_hash() {
        // OIDC Core §3.2.2.9 example shape: 16 bytes for SHA-256, 32 for SHA-512.
        assert_eq!(
            URL_SAFE_NO_PAD
                .decode(left_half_hash(SigningAlg::RS256, "x"))
                .unwrap()
                .len(),
            16
        );
        assert_eq!(
            URL_SAFE_NO_PAD
                .decode(left_half_hash(SigningAlg::EdDSA, "x"))
                .unwrap()
                .len(),
            32
        );
    }
}
