//! Tenants: the slug rules and the tenant record.

use crate::errors::{CatalogError, ErrorName};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

/// Slugs that name routes or meta-tenants and can never be a tenant's slug. `admin` is
/// the built-in management tenant, which Tessera creates itself.
pub const RESERVED_SLUGS: [&str; 9] = [
    "common",
    "organizations",
    "consumers",
    "errors",
    "healthz",
    "readyz",
    "metrics",
    ".well-known",
    "admin",
];

/// The slug of the built-in management tenant.
pub const ADMIN_TENANT: &str = "admin";

/// A tenant slug: 2–64 characters of lowercase ASCII letters, digits and hyphens. It is
/// the first path segment of every tenant URL and part of the issuer.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct TenantSlug(String);

impl TenantSlug {
    /// Parses a slug a user chose. Reserved words are refused.
    pub fn parse(value: &str) -> Result<Self, CatalogError> {
        if RESERVED_SLUGS.contains(&value) {
            return Err(CatalogError::new(ErrorName::TenantSlugReserved).with("slug", value));
        }
        Self::parse_syntax(value)
    }

    /// Parses a slug from a URL path, where the built-in `admin` tenant is valid too.
    /// (Meta-tenants such as `common` are routed before this point.)
    pub fn parse_path(value: &str) -> Result<Self, CatalogError> {
        if value == ADMIN_TENANT {
            return Ok(Self::admin());
        }
        Self::parse(value)
    }

    /// The built-in management tenant.
    pub fn admin() -> Self {
        Self(ADMIN_TENANT.to_owned())
    }

    fn parse_syntax(value: &str) -> Result<Self, CatalogError> {
        let invalid = |reason: &str| {
            CatalogError::new(ErrorName::TenantSlugInvalid)
                .with("slug", value)
                .with("reason", reason)
        };
        if !(2..=64).contains(&value.len()) {
            return Err(invalid("it must be 2 to 64 characters long"));
        }
        if !value
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        {
            return Err(invalid(
                "it may contain only lowercase letters, digits and hyphens",
            ));
        }
        Ok(Self(value.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for TenantSlug {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for TenantSlug {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let raw = String::deserialize(d)?;
        TenantSlug::parse_path(&raw).map_err(|e| serde::de::Error::custom(e.message()))
    }
}

/// Whether a tenant is for an organisation's accounts or for personal accounts (the
/// `consumers` meta-tenant routes to the latter).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum TenantKind {
    #[default]
    Work,
    Consumers,
}

impl TenantKind {
    pub fn as_str(self) -> &'static str {
        match self {
            TenantKind::Work => "work",
            TenantKind::Consumers => "consumers",
        }
    }

    pub fn parse(value: &str) -> Option<Self> {
        match value {
            "work" => Some(TenantKind::Work),
            "consumers" => Some(TenantKind::Consumers),
            _ => None,
        }
    }
}

/// A tenant as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Tenant {
    pub id: uuid::Uuid,
    pub slug: TenantSlug,
    pub display_name: String,
    pub kind: TenantKind,
    pub policy: crate::directory::model::TenantPolicy,
    pub disabled: bool,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
}

/// What creating a tenant needs. The id and time come from the caller's injected
/// `Rng` and `Clock`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewTenant {
    pub id: uuid::Uuid,
    pub slug: TenantSlug,
    pub display_name: String,
    pub kind: TenantKind,
    pub policy: crate::directory::model::TenantPolicy,
    pub created_at: OffsetDateTime,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs_follow_the_rules() {
        for ok in ["ab", "contoso", "team-42", &"a".repeat(64)] {
            assert!(TenantSlug::parse(ok).is_ok(), "{ok} should be valid");
        }
        for (bad, name) in [
            ("a", ErrorName::TenantSlugInvalid),
            (&"a".repeat(65), ErrorName::TenantSlugInvalid),
            ("Contoso", ErrorName::TenantSlugInvalid),
            ("con_toso", ErrorName::TenantSlugInvalid),
            ("con toso", ErrorName::TenantSlugInvalid),
            ("café", ErrorName::TenantSlugInvalid),
            ("common", ErrorName::TenantSlugReserved),
            ("admin", ErrorName::TenantSlugReserved),
            (".well-known", ErrorName::TenantSlugReserved),
        ] {
            assert_eq!(
                TenantSlug::parse(bad).map_err(|e| e.name),
                Err(name),
                "{bad}"
            );
        }
    }

    #[test]
    fn every_reserved_word_is_refused() {
        for word in RESERVED_SLUGS {
            assert!(TenantSlug::parse(word).is_err(), "{word}");
        }
        assert_eq!(TenantSlug::parse_path("admin"), Ok(TenantSlug::admin()));
        assert!(TenantSlug::parse_path("common").is_err());
    }
}
