//! Identifiers that tie a response to the logs: the trace id (ours, per request) and the
//! correlation id (the client's `client-request-id`, echoed, or one we generate).

use crate::rng::Rng;
use std::fmt;

/// A request's trace id: 16 random bytes as 32 lowercase hex digits, the W3C
/// trace-context format, so it can be pasted into any tracing tool.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TraceId(String);

impl TraceId {
    pub fn generate(rng: &dyn Rng) -> Self {
        let mut bytes = [0u8; 16];
        rng.fill(&mut bytes);
        Self(hex(&bytes))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for TraceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The correlation id a client chose (`client-request-id`) or, absent that, a UUID.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CorrelationId(String);

impl CorrelationId {
    /// Accepts the client's value only when it is short, printable ASCII without
    /// characters that would need escaping in a header, JSON or HTML; otherwise `None`
    /// and the caller generates one. An attacker must not be able to inject markup or
    /// split a log line through this header.
    pub fn from_client(value: &str) -> Option<Self> {
        let ok = !value.is_empty()
            && value.len() <= 128
            && value
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b':'));
        ok.then(|| Self(value.to_owned()))
    }

    pub fn generate(rng: &dyn Rng) -> Self {
        // encode_lower writes straight into a buffer, without the formatting machinery.
        let mut buf = uuid::Uuid::encode_buffer();
        Self(rng.uuid().hyphenated().encode_lower(&mut buf).to_owned())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for CorrelationId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Lowercase hex of `bytes`.
pub(crate) fn hex(bytes: &[u8]) -> String {
    // By table into bytes, not `write!("{b:02x}")` nor `String::push` (which encodes each
    // char as UTF-8 and checks capacity per char): this runs for every request's trace id.
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let digits: Vec<u8> = bytes
        .iter()
        .flat_map(|b| [DIGITS[usize::from(b >> 4)], DIGITS[usize::from(b & 0x0f)]])
        .collect();
    // Only ASCII digits and letters were written, so this never falls back.
    String::from_utf8(digits).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::SequenceRng;

    #[test]
    fn trace_id_is_32_hex_digits() {
        let id = TraceId::generate(&SequenceRng::new(1));
        assert_eq!(id.as_str().len(), 32);
        assert!(id.as_str().bytes().all(|b| b.is_ascii_hexdigit()));
    }

    #[test]
    fn hex_is_lower_case_two_digits_a_byte() {
        assert_eq!(hex(&[0x00, 0x0f, 0xa5, 0xff, 0x10]), "000fa5ff10");
        let id = CorrelationId::generate(&SequenceRng::new(1));
        assert_eq!(
            uuid::Uuid::parse_str(id.as_str()).map(|u| u.to_string()),
            Ok(id.0.clone())
        );
    }

    #[test]
    fn client_correlation_ids_are_accepted_only_when_safe() {
        assert!(CorrelationId::from_client("3f2a9c1e-0d4b-4c6a-9a0e-1b2c3d4e5f60").is_some());
        assert!(CorrelationId::from_client("").is_none());
        assert!(CorrelationId::from_client("<script>").is_none());
        assert!(CorrelationId::from_client("a\r\nSet-Cookie: x").is_none());
        assert!(CorrelationId::from_client(&"a".repeat(129)).is_none());
    }
}
