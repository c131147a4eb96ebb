//! PKCE (RFC 7636): the challenge sent to the authorization endpoint and the check of the
//! verifier at the token endpoint.

use crate::errors::{CatalogError, ErrorName};
use crate::secret::constant_time_eq;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};
use sha2::Digest;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Method {
    S256,
    /// Only when the tenant enables it (RFC 9700 §2.1.1 prefers S256).
    #[serde(rename = "plain")]
    Plain,
}

/// A code challenge as bound to an authorization code.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Challenge {
    pub value: String,
    pub method: Method,
}

/// RFC 7636 §4.1 / §4.2: 43–128 characters of `[A-Za-z0-9-._~]`.
fn well_formed(value: &str) -> bool {
    (43..=128).contains(&value.len())
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~'))
}

impl Challenge {
    /// Parses `code_challenge` and `code_challenge_method` (RFC 7636 §4.3: the method
    /// defaults to `plain` when absent).
    pub fn parse(
        value: &str,
        method: Option<&str>,
        plain_allowed: bool,
    ) -> Result<Self, CatalogError> {
        let supported = if plain_allowed { "S256, plain" } else { "S256" };
        let method = match method.unwrap_or("plain") {
            "S256" => Method::S256,
            "plain" if plain_allowed => Method::Plain,
            other => {
                return Err(CatalogError::new(ErrorName::PkceMethodNotSupported)
                    .with("method", other.chars().take(32).collect::<String>())
                    .with("supported", supported));
            }
        };
        if !well_formed(value) {
            return Err(CatalogError::new(ErrorName::InvalidRequestFormat).with(
                "detail",
                "code_challenge must be 43 to 128 characters of A-Z, a-z, 0-9, '-', '.', '_' or '~' (RFC 7636 section 4.2)",
            ));
        }
        Ok(Self {
            value: value.to_owned(),
            method,
        })
    }

    /// RFC 7636 §4.6: transform the verifier and compare with the stored challenge.
    pub fn verify(&self, verifier: &str) -> Result<(), CatalogError> {
        if !well_formed(verifier) {
            return Err(CatalogError::new(ErrorName::PkceVerifierMismatch)
                .internal("code_verifier is not 43-128 unreserved characters"));
        }
        let derived = match self.method {
            Method::S256 => URL_SAFE_NO_PAD.encode(sha2::Sha256::digest(verifier.as_bytes())),
            Method::Plain => verifier.to_owned(),
        };
        if constant_time_eq(derived.as_bytes(), self.value.as_bytes()) {
            Ok(())
        } else {
            Err(CatalogError::new(ErrorName::PkceVerifierMismatch))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // RFC 7636 Appendix B.
    const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
    const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

    #[test]
    fn s256_matches_the_rfc_example() {
        let c = Challenge::parse(CHALLENGE, Some("S256"), false).unwrap();
        c.verify(VERIFIER).unwrap();
        let wrong = c.verify(&VERIFIER.replace('d', "e")).unwrap_err();
        assert_eq!(wrong.name, ErrorName::PkceVerifierMismatch);
    }

    #[test]
    fn plain_only_when_allowed() {
        let err = Challenge::parse(VERIFIER, None, false).unwrap_err();
        assert_eq!(err.name, ErrorName::PkceMethodNotSupported);
        let c = Challenge::parse(VERIFIER, Some("plain"), true).unwrap();
        c.verify(VERIFIER).unwrap();
    }

    #[test]
    fn malformed_values_are_refused() {
        assert!(Challenge::parse("short", Some("S256"), false).is_err());
        let c = Challenge::parse(CHALLENGE, Some("S256"), false).unwrap();
        assert!(c.verify("short").is_err());
        assert!(c.verify(&"a".repeat(129)).is_err());
    }
}
