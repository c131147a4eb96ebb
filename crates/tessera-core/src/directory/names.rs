//! Name rules for directory objects, each a newtype that can only hold a valid value.

use serde::{Deserialize, Serialize};

/// A username: 1–128 printable characters without spaces. Unique per tenant compared
/// case-insensitively: [`Username::key`] is the lowercase form the store indexes.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Username(String);

impl Username {
    pub fn parse(value: &str) -> Result<Self, &'static str> {
        if value.is_empty() || value.chars().count() > 128 {
            return Err("must be 1 to 128 characters");
        }
        if value.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err("must not contain spaces or control characters");
        }
        Ok(Self(value.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The case-insensitive key: `Alice` and `alice` are the same user.
    pub fn key(&self) -> String {
        self.0.to_lowercase()
    }
}

impl TryFrom<String> for Username {
    type Error = &'static str;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<Username> for String {
    fn from(u: Username) -> Self {
        u.0
    }
}

/// A client_id: 1–128 characters of letters, digits and `-._~:` (unreserved URI
/// characters plus `:`), so it needs no escaping in a URL, a form or a Basic header.
pub fn check_client_id(value: &str) -> Result<(), &'static str> {
    if value.is_empty() || value.len() > 128 {
        return Err("must be 1 to 128 characters");
    }
    if !value
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b"-._~:".contains(&b))
    {
        return Err("may contain only letters, digits and - . _ ~ :");
    }
    Ok(())
}

/// A group name, an app role or a scope name: 1–128 characters of letters, digits and
/// `-._:/`. Scope tokens may not contain spaces or quotes (RFC 6749 §3.3).
pub fn check_token_name(value: &str) -> Result<(), &'static str> {
    if value.is_empty() || value.len() > 128 {
        return Err("must be 1 to 128 characters");
    }
    if !value
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b"-._:/".contains(&b))
    {
        return Err("may contain only letters, digits and - . _ : /");
    }
    Ok(())
}

/// An API identifier (the audience of its tokens): an absolute URI such as
/// `https://api.contoso.test` or `api://contoso-api`, without a fragment.
pub fn check_api_identifier(value: &str) -> Result<(), &'static str> {
    if value.len() > 256 {
        return Err("must be at most 256 characters");
    }
    let url = url::Url::parse(value)
        .map_err(|_| "must be an absolute URI such as https://api.example.com or api://my-api")?;
    if url.fragment().is_some() {
        return Err("must not have a fragment");
    }
    if value.chars().any(|c| c.is_whitespace()) {
        return Err("must not contain spaces");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usernames_compare_case_insensitively() {
        let a = Username::parse("Alice").unwrap();
        assert_eq!(a.key(), "alice");
        assert_eq!(a.as_str(), "Alice");
        assert!(Username::parse("").is_err());
        assert!(Username::parse("a b").is_err());
        assert!(Username::parse(&"a".repeat(129)).is_err());
        assert!(Username::parse("alice@contoso.test").is_ok());
    }

    #[test]
    fn client_ids_scope_names_and_identifiers() {
        assert!(check_client_id("contoso-web").is_ok());
        assert!(check_client_id("a b").is_err());
        assert!(check_client_id("a%20").is_err());
        assert!(check_token_name("Directory.Read").is_ok());
        assert!(check_token_name("read write").is_err());
        assert!(check_token_name("\"q\"").is_err());
        assert!(check_api_identifier("https://api.contoso.test").is_ok());
        assert!(check_api_identifier("api://contoso-api").is_ok());
        assert!(check_api_identifier("contoso-api").is_err());
        assert!(check_api_identifier("https://api.contoso.test/#x").is_err());
    }
}
