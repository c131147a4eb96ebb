//! The error catalogue: the single source of every error Tessera can return.
//!
//! [`catalog`] lists the entries (code, name, OAuth error, status, texts); [`CatalogError`]
//! is one occurrence with its parameters filled in; [`render`] turns an occurrence into
//! each wire format; [`markdown`] writes `docs/errors.md`. Codes are assigned once and
//! never reused (`assigned-codes.txt` beside this crate pins them).

mod catalog;
mod entry;
mod instance;
pub mod markdown;
pub mod render;
mod template;

pub use catalog::{CATALOG, ErrorName};
pub use entry::{Entry, Family, OAuthError};
pub use instance::{CatalogError, FieldError};
pub use template::fill;

/// Finds an entry by code (`TS50001`, `ts50001` or `50001`) or by name (`InvalidScope`,
/// compared case-insensitively).
pub fn lookup(key: &str) -> Option<&'static Entry> {
    let key = key.trim();
    let digits = key
        .strip_prefix("TS")
        .or_else(|| key.strip_prefix("ts"))
        .unwrap_or(key);
    if let Ok(code) = digits.parse::<u32>() {
        return CATALOG.iter().find(|e| e.code == code);
    }
    CATALOG.iter().find(|e| e.name.eq_ignore_ascii_case(key))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn codes_and_names_are_unique_and_codes_sit_in_their_family_range() {
        let mut codes = HashSet::new();
        let mut names = HashSet::new();
        for e in CATALOG {
            assert!(codes.insert(e.code), "code {} assigned twice", e.code);
            assert!(names.insert(e.name), "name {} used twice", e.name);
            assert!(
                Family::of(e.code).is_some(),
                "{} has code {} outside every family",
                e.name,
                e.code
            );
        }
    }

    #[test]
    fn every_name_maps_to_its_own_entry() {
        for e in CATALOG {
            let found = lookup(e.name).expect("lookup by name");
            assert_eq!(found.code, e.code);
            assert_eq!(lookup(&e.code_str()).map(|f| f.name), Some(e.name));
        }
        assert_eq!(
            ErrorName::InvalidScope.entry().name,
            "InvalidScope",
            "enum order and table order agree"
        );
    }

    #[test]
    fn lookup_accepts_codes_with_and_without_prefix_and_names_in_any_case() {
        let e = ErrorName::InvalidScope.entry();
        assert_eq!(
            lookup(&format!("TS{}", e.code)).map(|x| x.name),
            Some("InvalidScope")
        );
        assert_eq!(
            lookup(&format!("{}", e.code)).map(|x| x.name),
            Some("InvalidScope")
        );
        assert_eq!(lookup("invalidscope").map(|x| x.name), Some("InvalidScope"));
        assert!(lookup("NoSuchError").is_none());
        assert!(lookup("TS00000").is_none());
    }

    #[test]
    fn every_entry_is_complete() {
        for e in CATALOG {
            assert!(!e.message.is_empty(), "{}: message", e.name);
            assert!(!e.causes.is_empty(), "{}: causes", e.name);
            assert!(
                !e.developer_action.is_empty(),
                "{}: developer action",
                e.name
            );
            assert!(!e.user_action.is_empty(), "{}: user action", e.name);
            assert!(
                (400..600).contains(&e.status),
                "{}: status {}",
                e.name,
                e.status
            );
            template::placeholders(e.message)
                .unwrap_or_else(|err| panic!("{}: message template: {err}", e.name));
            // RFC 6749 §5.2: error_description is limited to %x20-21 / %x23-5B / %x5D-7E.
            assert!(
                e.message.bytes().all(render::is_oauth_description_byte),
                "{}: message has a character RFC 6749 §5.2 forbids in error_description",
                e.name
            );
            if e.redirectable {
                assert!(
                    e.oauth_error.is_some(),
                    "{}: a redirected error needs an OAuth error code",
                    e.name
                );
            }
        }
    }

    /// The checked-in list of landed codes: a code never disappears and never changes
    /// its name, OAuth error or status; every entry in the catalogue is on the list.
    #[test]
    fn landed_codes_keep_their_meaning() {
        let landed = include_str!("../../assigned-codes.txt");
        let mut listed = HashSet::new();
        for line in landed
            .lines()
            .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        {
            let cols: Vec<&str> = line.split_whitespace().collect();
            let [code, name, oauth, status] = cols[..] else {
                panic!("assigned-codes.txt: malformed line {line:?}");
            };
            let entry = lookup(code)
                .unwrap_or_else(|| panic!("{code} ({name}) has landed and must not disappear"));
            assert_eq!(entry.name, name, "{code} changed its name");
            assert_eq!(
                entry.oauth_error.map_or("-", |o| o.as_str()),
                oauth,
                "{code} changed its OAuth error"
            );
            assert_eq!(
                entry.status.to_string(),
                status,
                "{code} changed its HTTP status"
            );
            listed.insert(entry.code);
        }
        for e in CATALOG {
            assert!(
                listed.contains(&e.code),
                "{} {} is missing from assigned-codes.txt: append `{} {} {} {}`",
                e.code_str(),
                e.name,
                e.code_str(),
                e.name,
                e.oauth_error.map_or("-", |o| o.as_str()),
                e.status
            );
        }
    }
}
