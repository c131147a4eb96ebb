//! Tenants: the slug rules and the tenant record.

use crate::errors::{CatalogError, ErrorName};
use crate::ids::TenantId;
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
        // Tenant names in paths are not case-sensitive, as in Entra ID (`/Contoso/`
        // is `/contoso/`); slugs are stored in lower case.
        if value.bytes().any(|b| b.is_ascii_uppercase()) {
            return Self::parse_path(&value.to_ascii_lowercase());
        }
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
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default, schemars::JsonSchema,
)]
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
    pub id: TenantId,
    pub slug: TenantSlug,
    pub display_name: String,
    pub kind: TenantKind,
    pub policy: TenantPolicy,
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
    pub id: TenantId,
    pub slug: TenantSlug,
    pub display_name: String,
    pub kind: TenantKind,
    pub policy: TenantPolicy,
    pub created_at: OffsetDateTime,
}

/// A tenant's sign-in policy (`policy` in the tenant file).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct TenantPolicy {
    /// Failed sign-ins before the account locks (smart lockout).
    pub lockout_threshold: u32,
    /// How long an account stays locked after `lockout_threshold` failures (each
    /// further lockout before a successful sign-in lasts twice as long, at most a day).
    pub lockout_seconds: u32,
    /// The span within which `lockout_threshold` failures lock the account; failures
    /// older than this are forgotten.
    pub lockout_window_seconds: u32,
    /// How old a second factor may be before it is asked for again, when an app is
    /// signed in to with the session; 0: as old as the session.
    pub mfa_max_age_seconds: u32,
    /// Every user must enrol an authenticator app and present a code at each sign-in
    /// (MfaRequired where the request cannot ask).
    pub mfa_required: bool,
    /// Authorization code lifetime (RFC 6749 §4.1.2 recommends at most 10 minutes).
    pub code_lifetime_seconds: u32,
    /// CIDR ranges whose sign-ins are refused (SignInBlockedNetwork).
    pub blocked_ip_ranges: Vec<String>,
    /// How long an SSO session lasts after the password was entered.
    pub session_lifetime_seconds: u32,
    /// Lifetime of access and ID tokens.
    pub access_token_lifetime_seconds: u32,
    /// Absolute lifetime of a refresh token family (from the sign-in; rotation never
    /// extends it).
    pub refresh_token_lifetime_seconds: u32,
    /// A refresh token unused this long expires (each rotation starts a new period).
    pub refresh_token_idle_seconds: u32,
    /// For this long after a rotation, the rotated-out token may be presented again
    /// while its successor is unused: the client whose answer was lost (a dropped
    /// connection, a 503 after the commit) retries and gets a new successor, the unused
    /// one is void. 0: every second use is reuse, which revokes the family.
    pub refresh_token_retry_seconds: u32,
    /// The fixed lifetime of refresh tokens issued through a `spa` redirect URI: browsers
    /// keep them where scripts can reach, so their life is short and never extended.
    pub spa_refresh_token_lifetime_seconds: u32,
    /// Accept `code_challenge_method=plain` (RFC 7636 §4.2); off by default because
    /// RFC 9700 §2.1.1 recommends S256.
    pub pkce_plain_allowed: bool,
    /// How long a sign-out confirmation page may be answered (LogoutRequestExpired).
    pub logout_request_seconds: u32,
    /// Days an active signing key signs before the schedule rotates it; 0: only manual
    /// rotation.
    pub signing_key_rotation_days: u32,
    /// The least time a `next` key is published in the JWKS before the schedule lets it
    /// sign, so relying parties that cache the JWKS that long already hold it.
    pub signing_key_publish_seconds: u32,
    /// The fewest characters a new password may have (8 to 256).
    pub password_min_length: u32,
    /// Requests a minute one client address may make to each kind of endpoint
    /// (authorization, password sign-in, token, device), per node; 0: no limit.
    pub rate_limit_per_address_per_minute: u32,
    /// Requests a minute one client may make to the token and device authorization
    /// endpoints once authenticated, per node; 0: no limit.
    pub rate_limit_per_client_per_minute: u32,
    /// Days the sign-in log keeps each attempt (1 to 365).
    pub sign_in_log_days: u32,
    /// The device platforms users may sign in from (PlatformNotAllowed); empty: all.
    /// Taken from the browser's user agent, which a user can change.
    pub allowed_platforms: Vec<crate::platform::Platform>,
    /// The other tenants (slugs) whose users may sign in to this tenant's multi-tenant
    /// apps (TenantAccessRestricted); `null`: every tenant. This tenant's own users are
    /// always admitted.
    pub admitted_tenants: Option<Vec<String>>,
}

impl Default for TenantPolicy {
    fn default() -> Self {
        Self {
            lockout_threshold: 5,
            lockout_seconds: 60,
            lockout_window_seconds: 600,
            mfa_max_age_seconds: 3600,
            mfa_required: false,
            code_lifetime_seconds: 60,
            blocked_ip_ranges: Vec::new(),
            // Keycloak's SSO Session Max default.
            session_lifetime_seconds: 10 * 3600,
            access_token_lifetime_seconds: 3600,
            // Entra ID's default for refresh tokens.
            refresh_token_lifetime_seconds: 90 * 24 * 3600,
            refresh_token_idle_seconds: 14 * 24 * 3600,
            // Okta's default grace period for rotated refresh tokens.
            refresh_token_retry_seconds: 30,
            // Entra ID's fixed SPA refresh token lifetime.
            spa_refresh_token_lifetime_seconds: 24 * 3600,
            pkce_plain_allowed: false,
            logout_request_seconds: 300,
            // Entra ID rolls its keys over every few weeks; a quarter is a common policy.
            signing_key_rotation_days: 90,
            signing_key_publish_seconds: 24 * 3600,
            // NIST SP 800-63B §5.1.1.2's floor for passwords a user chooses.
            password_min_length: 8,
            // A busy office behind one address stays well within these; a script
            // guessing or a runaway loop does not.
            rate_limit_per_address_per_minute: 1200,
            rate_limit_per_client_per_minute: 6000,
            // Entra ID keeps sign-in logs 30 days.
            sign_in_log_days: 30,
            allowed_platforms: Vec::new(),
            admitted_tenants: None,
        }
    }
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
