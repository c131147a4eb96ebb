//! Time-based one-time passwords (RFC 6238) for authenticator apps, with the parameters
//! every authenticator app supports: HMAC-SHA-1, 6 digits, 30-second steps (RFC 6238
//! §4, §5.2). A code is accepted one step either side of now, for clock drift (§5.2
//! recommends at most one), and only once: a verified code's step is recorded, and a
//! code of that step or an earlier one is refused (§5.2: "the verifier MUST NOT accept
//! the second attempt of the same OTP"). Secrets are RFC 4648 base32, as authenticator
//! apps and `otpauth://` URIs carry them, and are stored sealed (`User::totp_secret_sealed`).
//!
//! This is the arithmetic only; the sign-in step that asks for a code is the server's.

use crate::rng::Rng;
use crate::secret::constant_time_eq;
use time::OffsetDateTime;

/// Digits of a code.
pub const DIGITS: u32 = 6;
/// Seconds a code lasts (RFC 6238 §5.2's recommended time step).
pub const STEP_SECONDS: i64 = 30;
/// Steps before and after now that still verify.
pub const DRIFT_STEPS: i64 = 1;
/// Bytes of a new secret: 160 bits, the length of an HMAC-SHA-1 key (RFC 4226 §4 R6).
pub const SECRET_BYTES: usize = 20;

/// A new secret, base32 without padding (32 characters).
pub fn new_secret(rng: &dyn Rng) -> String {
    let mut bytes = [0u8; SECRET_BYTES];
    rng.fill(&mut bytes);
    data_encoding::BASE32_NOPAD.encode(&bytes)
}

/// The key a base32 secret stands for: letters in any case, spaces and `=` padding
/// ignored (apps show secrets in groups, and some pad them); `None` for anything else.
pub fn secret_bytes(base32: &str) -> Option<Vec<u8>> {
    let cleaned: String = base32
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '=')
        .map(|c| c.to_ascii_uppercase())
        .collect();
    data_encoding::BASE32_NOPAD
        .decode(cleaned.as_bytes())
        .ok()
        .filter(|k| !k.is_empty())
}

/// The time step of `at` (RFC 6238 §4.2: T = (now - T0) / X, with T0 = 0).
pub fn step_of(at: OffsetDateTime) -> i64 {
    at.unix_timestamp().div_euclid(STEP_SECONDS)
}

/// The code of `key` at counter `step`, `digits` long: HOTP (RFC 4226 §5.3), HMAC-SHA-1
/// and dynamic truncation.
pub fn code_at(key: &[u8], step: i64, digits: u32) -> String {
    use aws_lc_rs::hmac;
    let counter = u64::try_from(step).unwrap_or(0).to_be_bytes();
    let tag = hmac::sign(
        &hmac::Key::new(hmac::HMAC_SHA1_FOR_LEGACY_USE_ONLY, key),
        &counter,
    );
    let mac = tag.as_ref();
    let offset = usize::from(mac[mac.len() - 1] & 0x0f);
    let binary = u32::from_be_bytes([
        mac[offset] & 0x7f,
        mac[offset + 1],
        mac[offset + 2],
        mac[offset + 3],
    ]);
    let modulus = 10u32.pow(digits);
    format!("{:0width$}", binary % modulus, width = digits as usize)
}

/// The step `code` matches at `now`, within [`DRIFT_STEPS`], if it is later than
/// `last_used` (the step of the last code accepted, which is spent); `None` otherwise.
/// Each candidate is compared in constant time.
pub fn verify(key: &[u8], code: &str, now: OffsetDateTime, last_used: Option<i64>) -> Option<i64> {
    let code: String = code.chars().filter(|c| !c.is_whitespace()).collect();
    if code.len() != DIGITS as usize || !code.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let now = step_of(now);
    let mut matched = None;
    for step in (now - DRIFT_STEPS)..=(now + DRIFT_STEPS) {
        let expected = code_at(key, step, DIGITS);
        // Every candidate is computed and compared, whichever matches.
        if constant_time_eq(expected.as_bytes(), code.as_bytes()) {
            matched = Some(step);
        }
    }
    matched.filter(|step| last_used.is_none_or(|used| *step > used))
}

/// The `otpauth://` URI an authenticator app reads from a QR code (the Key URI format
/// of Google Authenticator, which every app follows): `issuer:account`, the secret, and
/// the parameters above spelled out.
pub fn otpauth_uri(issuer: &str, account: &str, secret: &str) -> String {
    let enc = |s: &str| {
        url::form_urlencoded::byte_serialize(s.as_bytes())
            .collect::<String>()
            .replace('+', "%20")
    };
    format!(
        "otpauth://totp/{}:{}?secret={secret}&issuer={}&algorithm=SHA1&digits={DIGITS}&period={STEP_SECONDS}",
        enc(issuer),
        enc(account),
        enc(issuer)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 6238 Appendix B's SHA-1 vectors (8 digits; the key is the ASCII string
    /// "12345678901234567890").
    #[test]
    fn rfc_6238_test_vectors() {
        let key = b"12345678901234567890";
        for (time, code) in [
            (59, "94287082"),
            (1_111_111_109, "07081804"),
            (1_111_111_111, "14050471"),
            (1_234_567_890, "89005924"),
            (2_000_000_000, "69279037"),
            (20_000_000_000, "65353130"),
        ] {
            let at = OffsetDateTime::from_unix_timestamp(time).unwrap();
            assert_eq!(code_at(key, step_of(at), 8), code, "at {time}");
        }
    }

    /// RFC 4226 Appendix D: the same key's HOTP codes, 6 digits, counters 0 to 9.
    #[test]
    fn rfc_4226_test_vectors() {
        let key = b"12345678901234567890";
        let expected = [
            "755224", "287082", "359152", "969429", "338314", "254676", "287922", "162583",
            "399871", "520489",
        ];
        for (counter, code) in expected.iter().enumerate() {
            assert_eq!(code_at(key, counter as i64, 6), *code);
        }
    }

    #[test]
    fn a_code_verifies_one_step_either_side_and_only_once() {
        let key = secret_bytes("GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ").unwrap();
        assert_eq!(key, b"12345678901234567890");
        let at = OffsetDateTime::from_unix_timestamp(1_234_567_890).unwrap();
        let now = step_of(at);
        let code = code_at(&key, now, DIGITS);
        assert_eq!(verify(&key, &code, at, None), Some(now));
        // Spaces, as apps show codes, are fine; another code is not.
        let spaced = format!("{} {}", &code[..3], &code[3..]);
        assert_eq!(verify(&key, &spaced, at, None), Some(now));
        let wrong = format!("{:06}", (code.parse::<u32>().unwrap() + 1) % 1_000_000);
        assert_eq!(verify(&key, &wrong, at, None), None);
        // One step early or late still verifies; two do not.
        for (drift, ok) in [(-1, true), (1, true), (-2, false), (2, false)] {
            let other = code_at(&key, now + drift, DIGITS);
            assert_eq!(
                verify(&key, &other, at, None).is_some(),
                ok,
                "drift {drift}"
            );
        }
        // Spent: the same code, or an earlier step's, again.
        assert_eq!(verify(&key, &code, at, Some(now)), None);
        let earlier = code_at(&key, now - 1, DIGITS);
        assert_eq!(verify(&key, &earlier, at, Some(now)), None);
        let later = code_at(&key, now + 1, DIGITS);
        assert_eq!(verify(&key, &later, at, Some(now)), Some(now + 1));
        // Not six digits.
        for bad in ["", "12345", "1234567", "12a456"] {
            assert_eq!(verify(&key, bad, at, None), None);
        }
    }

    #[test]
    fn secrets_are_base32_of_twenty_random_bytes() {
        let s = new_secret(&crate::rng::SequenceRng::new(3));
        assert_eq!(s.len(), 32);
        assert_eq!(secret_bytes(&s).unwrap().len(), SECRET_BYTES);
        assert_eq!(secret_bytes(&s.to_lowercase()), secret_bytes(&s));
        assert_eq!(
            secret_bytes("gezd gnbv gy3t qojq"),
            secret_bytes("GEZDGNBVGY3TQOJQ")
        );
        assert_eq!(secret_bytes("not base32!"), None);
        assert_eq!(secret_bytes(""), None);
        let uri = otpauth_uri("Contoso Tessera", "alice@contoso", &s);
        assert!(
            uri.starts_with("otpauth://totp/Contoso%20Tessera:alice%40contoso?secret="),
            "{uri}"
        );
        assert!(uri.ends_with("&issuer=Contoso%20Tessera&algorithm=SHA1&digits=6&period=30"));
    }
}
