//! Strict parsing of protocol parameters (`application/x-www-form-urlencoded` query
//! strings and bodies). RFC 6749 §3.1 and §3.2: "Request and response parameters MUST
//! NOT be included more than once", and "parameters sent without a value MUST be treated
//! as if they were omitted from the request".

use crate::errors::{CatalogError, ErrorName};
use std::collections::BTreeMap;

/// The parameters of one request, each at most once, empty values dropped.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Params(BTreeMap<String, String>);

impl Params {
    /// Parses `raw`; a repeated parameter or an undecodable one is InvalidRequestFormat
    /// naming it.
    pub fn parse(raw: &[u8]) -> Result<Self, CatalogError> {
        let mut map = BTreeMap::new();
        for (name, value) in form_urlencoded_pairs(raw)? {
            if value.is_empty() {
                // Still a repetition if it appears again with a value.
                if map.contains_key(&name) {
                    return Err(repeated(&name));
                }
                map.insert(name, value);
                continue;
            }
            if map.insert(name.clone(), value).is_some() {
                return Err(repeated(&name));
            }
        }
        map.retain(|_, v: &mut String| !v.is_empty());
        Ok(Self(map))
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.0.get(name).map(String::as_str)
    }

    /// A required parameter, or InvalidRequestFormat naming it.
    pub fn require(&self, name: &str) -> Result<&str, CatalogError> {
        self.get(name).ok_or_else(|| {
            CatalogError::new(ErrorName::InvalidRequestFormat)
                .with("detail", format!("the parameter {name} is missing"))
        })
    }

    /// Every parameter, in name order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.0.iter().map(|(n, v)| (n.as_str(), v.as_str()))
    }

    /// These parameters with `name` set to `value` (replacing any value it had).
    pub fn with(&self, name: &str, value: &str) -> Self {
        let mut map = self.0.clone();
        map.insert(name.to_owned(), value.to_owned());
        Self(map)
    }

    /// These parameters but `name`.
    pub fn without(&self, name: &str) -> Self {
        let mut map = self.0.clone();
        map.remove(name);
        Self(map)
    }

    /// Re-encodes the parameters (used to carry an authorization request through the
    /// sign-in pages).
    pub fn encode(&self) -> String {
        serde_urlencoded::to_string(&self.0).unwrap_or_default()
    }
}

fn repeated(name: &str) -> CatalogError {
    CatalogError::new(ErrorName::InvalidRequestFormat).with(
        "detail",
        format!(
            "the parameter {} appears more than once",
            printable(name, 64)
        ),
    )
}

/// A parameter name as it may appear in a message: printable, bounded.
fn printable(s: &str, max: usize) -> String {
    s.chars()
        .take(max)
        .map(|c| if c.is_ascii_graphic() { c } else { '?' })
        .collect()
}

fn form_urlencoded_pairs(raw: &[u8]) -> Result<Vec<(String, String)>, CatalogError> {
    // serde_urlencoded decodes lossily into a map; decoding pair by pair keeps repeats
    // visible and refuses invalid UTF-8 instead of replacing it.
    let mut pairs = Vec::new();
    for part in raw.split(|b| *b == b'&').filter(|p| !p.is_empty()) {
        let (name, value) = match part.iter().position(|b| *b == b'=') {
            Some(i) => (&part[..i], &part[i + 1..]),
            None => (part, &[][..]),
        };
        let name = decode(name)?;
        let value = decode(value).map_err(|_| {
            CatalogError::new(ErrorName::InvalidRequestFormat).with(
                "detail",
                format!(
                    "the value of {} is not valid percent-encoded UTF-8",
                    printable(&name, 64)
                ),
            )
        })?;
        pairs.push((name, value));
    }
    Ok(pairs)
}

/// One `application/x-www-form-urlencoded` value decoded (`+` is a space, `%XX` a
/// byte), as RFC 6749 §2.3.1 encodes client credentials in HTTP Basic.
pub fn form_decode(value: &str) -> Result<String, CatalogError> {
    decode(value.as_bytes())
}

fn decode(bytes: &[u8]) -> Result<String, CatalogError> {
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' => {
                // Exactly two hex digits (from_str_radix alone would accept "+A").
                let hex = bytes
                    .get(i + 1..i + 3)
                    .filter(|h| h.iter().all(u8::is_ascii_hexdigit))
                    .and_then(|h| std::str::from_utf8(h).ok())
                    .and_then(|h| u8::from_str_radix(h, 16).ok());
                match hex {
                    Some(b) => {
                        out.push(b);
                        i += 2;
                    }
                    None => return Err(undecodable()),
                }
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8(out).map_err(|_| undecodable())
}

fn undecodable() -> CatalogError {
    CatalogError::new(ErrorName::InvalidRequestFormat).with(
        "detail",
        "a parameter is not valid percent-encoded UTF-8".to_owned(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_drops_empty_values() {
        let p = Params::parse(b"a=1&b=&c=x+y%2Bz").unwrap();
        assert_eq!(p.get("a"), Some("1"));
        assert_eq!(p.get("b"), None);
        assert_eq!(p.get("c"), Some("x y+z"));
    }

    #[test]
    fn repeated_parameters_are_refused_by_name() {
        for raw in [
            &b"scope=a&scope=b"[..],
            b"scope=&scope=b",
            b"scope=a&scope=",
        ] {
            let err = Params::parse(raw).unwrap_err();
            assert_eq!(err.name, ErrorName::InvalidRequestFormat);
            assert!(err.message().contains("scope appears more than once"));
        }
    }

    #[test]
    fn invalid_encoding_is_refused() {
        for raw in [
            &b"a=%FF"[..],
            b"a=%G1",
            b"a=%4",
            b"%FF=1",
            b"a=%+A",
            b"a=%-1",
        ] {
            assert!(Params::parse(raw).is_err(), "{raw:?}");
        }
    }

    #[test]
    fn one_value_decodes_whole() {
        // Basic credentials (RFC 6749 §2.3.1): an '&' is part of the value, not a separator.
        assert_eq!(form_decode("a&b%26c+d").unwrap(), "a&b&c d");
        assert!(form_decode("%+A").is_err());
    }

    #[test]
    fn encode_round_trips() {
        let p = Params::parse(b"redirect_uri=https%3A%2F%2Fa.test%2Fcb%3Fx%3D1&state=a+b").unwrap();
        assert_eq!(Params::parse(p.encode().as_bytes()).unwrap(), p);
    }
}
