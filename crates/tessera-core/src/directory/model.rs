//! Directory objects as stored (each serialized to one JSON document). Values that must
//! not be kept in clear are stored as hashes (passwords: Argon2id PHC; client secrets:
//! keyed HMAC) or sealed with the master key (TOTP secrets).

use super::names::Username;
use super::redirect::Platform;
use crate::ids::ClientId;
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;
use time::OffsetDateTime;

/// The admin REST API as a resource: every tenant has it implicitly (it is not declared
/// in tenant files). An app granted its roles gets access tokens for it by client
/// credentials; a token from the `admin` tenant's issuer acts on every tenant, a token
/// from another tenant's issuer only on that tenant.
pub const MANAGEMENT_API: &str = "api://tessera-management";
/// Create, update and disable tenants (with the `admin` issuer) and everything below.
pub const ROLE_TENANTS_READ_WRITE: &str = "Tenants.ReadWrite";
/// Read and change users, groups, apps, APIs, keys and consents.
pub const ROLE_DIRECTORY_READ_WRITE: &str = "Directory.ReadWrite";
/// Read them only.
pub const ROLE_DIRECTORY_READ: &str = "Directory.Read";
/// Not a right on the admin API: the app may introspect every token of its tenant, not
/// only its own and those for the APIs it serves (RFC 7662 §4).
pub const ROLE_TOKENS_INTROSPECT: &str = "Tokens.Introspect";
pub const MANAGEMENT_ROLES: [&str; 4] = [
    ROLE_TENANTS_READ_WRITE,
    ROLE_DIRECTORY_READ_WRITE,
    ROLE_DIRECTORY_READ,
    ROLE_TOKENS_INTROSPECT,
];

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct User {
    pub username: Username,
    pub email: Option<String>,
    pub name: Option<String>,
    pub enabled: bool,
    /// Argon2id PHC string; `None`: the user cannot sign in with a password.
    pub password_hash: Option<String>,
    /// The TOTP secret sealed under the master key.
    pub totp_secret_sealed: Option<String>,
    /// Keyed hashes of the recovery codes not yet used (`directory::mfa`), each of which
    /// stands in once for a code from the authenticator.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub recovery_codes: Vec<String>,
    /// Group names.
    pub groups: BTreeSet<String>,
    /// App roles of APIs granted to the user directly (group roles add to these).
    #[serde(default)]
    pub app_roles: BTreeSet<RoleAssignment>,
    /// Sign-ins before this moment count for nothing: a session, an authorization code,
    /// a refresh token or a device approval that rests on one is refused, and enabling
    /// the user again does not revive it. Set when an administrator revokes the user's
    /// sessions, disables the user or resets the password, and when the user changes it
    /// (Entra ID's `signInSessionsValidFromDateTime`).
    #[serde(
        default,
        with = "time::serde::rfc3339::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub sessions_valid_from: Option<OffsetDateTime>,
    /// An administrator set a temporary password: signing in is refused
    /// (PasswordChangeRequired) until the user chooses a new one on the account page.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub password_change_required: bool,
}

impl User {
    /// Whether a sign-in at `auth_time` was ended by a revocation since
    /// ([`User::sessions_valid_from`]; to the second, as times are stored).
    pub fn sign_in_revoked(&self, auth_time: OffsetDateTime) -> bool {
        self.sessions_valid_from
            .is_some_and(|from| auth_time.unix_timestamp() < from.unix_timestamp())
    }

    /// Ends every sign-in of the user up to `now` (see [`User::sessions_valid_from`]).
    pub fn end_sign_ins(&mut self, now: OffsetDateTime) {
        self.sessions_valid_from = Some(now);
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Group {
    pub name: String,
    /// App roles every member holds.
    #[serde(default)]
    pub app_roles: BTreeSet<RoleAssignment>,
}

/// An app role of an API, assigned to a user or a group.
#[derive(
    Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, schemars::JsonSchema,
)]
#[serde(deny_unknown_fields)]
pub struct RoleAssignment {
    /// The API identifier.
    pub api: String,
    /// The role's name, one of the API's `app_roles`.
    pub role: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiScope {
    pub name: String,
    /// Shown on the consent page.
    pub description: String,
    pub admin_consent_required: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Api {
    /// The audience of its access tokens.
    pub identifier: String,
    pub name: String,
    pub scopes: Vec<ApiScope>,
    pub app_roles: Vec<String>,
    /// The app registration that is this API's own identity: the one app that may
    /// exchange the API's access tokens on behalf of their users (RFC 8693,
    /// `oauth::token::grant::token_exchange`) and introspect them (RFC 7662 §4).
    /// `None`: no app may.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_id: Option<ClientId>,
    /// The algorithm of its access tokens' signatures; `None`: RS256, which the
    /// mainstream resource-server libraries verify without configuration
    /// (docs/validating-tokens.md has the table). EdDSA is the fastest to sign.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub access_token_signing_alg: Option<crate::keys::SigningAlg>,
}

/// Grant types an app may use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum GrantType {
    #[serde(rename = "authorization_code")]
    AuthorizationCode,
    #[serde(rename = "refresh_token")]
    RefreshToken,
    #[serde(rename = "client_credentials")]
    ClientCredentials,
    /// RFC 8628
    #[serde(rename = "urn:ietf:params:oauth:grant-type:device_code")]
    DeviceCode,
    /// RFC 8693
    #[serde(rename = "urn:ietf:params:oauth:grant-type:token-exchange")]
    TokenExchange,
    /// RFC 7523 §2.1
    #[serde(rename = "urn:ietf:params:oauth:grant-type:jwt-bearer")]
    JwtBearer,
}

impl GrantType {
    pub const ALL: [GrantType; 6] = [
        GrantType::AuthorizationCode,
        GrantType::RefreshToken,
        GrantType::ClientCredentials,
        GrantType::DeviceCode,
        GrantType::TokenExchange,
        GrantType::JwtBearer,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            GrantType::AuthorizationCode => "authorization_code",
            GrantType::RefreshToken => "refresh_token",
            GrantType::ClientCredentials => "client_credentials",
            GrantType::DeviceCode => "urn:ietf:params:oauth:grant-type:device_code",
            GrantType::TokenExchange => "urn:ietf:params:oauth:grant-type:token-exchange",
            GrantType::JwtBearer => "urn:ietf:params:oauth:grant-type:jwt-bearer",
        }
    }

    pub fn parse(value: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|g| g.as_str() == value)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct RedirectUris {
    pub web: Vec<String>,
    pub spa: Vec<String>,
    pub native: Vec<String>,
}

impl RedirectUris {
    pub fn of(&self, platform: Platform) -> &[String] {
        match platform {
            Platform::Web => &self.web,
            Platform::Spa => &self.spa,
            Platform::Native => &self.native,
        }
    }
}

/// A client secret as stored: its keyed hash, never its value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClientSecret {
    pub id: uuid::Uuid,
    /// Hex HMAC-SHA-256 under the master key (`MasterKey::secret_hash`).
    pub hash: String,
    /// The first characters of the value, to tell secrets apart in lists.
    pub hint: String,
    #[serde(with = "time::serde::rfc3339::option")]
    pub expires_at: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
}

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, schemars::JsonSchema,
)]
#[serde(deny_unknown_fields, default)]
pub struct Implicit {
    /// The authorization endpoint may return an ID token.
    pub id_token: bool,
    /// The authorization endpoint may return an access token.
    pub access_token: bool,
}

/// Permissions an app requests on one API.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Permission {
    /// The API's identifier.
    pub api: String,
    /// Delegated scopes of that API the app may ask users for.
    #[serde(default)]
    pub scopes: Vec<String>,
    /// App roles of that API the app holds itself (client credentials).
    #[serde(default)]
    pub app_roles: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct App {
    pub client_id: ClientId,
    pub name: String,
    pub multi_tenant: bool,
    /// Users of personal-account tenants may sign in to it (a multi-tenant app only).
    #[serde(default)]
    pub personal_accounts: bool,
    pub assignment_required: bool,
    /// Every user signing in to it must present a second factor, enrolling an
    /// authenticator if they have none (`directory::mfa`).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub mfa_required: bool,
    pub redirect_uris: RedirectUris,
    pub post_logout_redirect_uris: Vec<String>,
    /// Where a logout token is POSTed when a session the app took part in ends (OIDC
    /// Back-Channel Logout §2.2).
    pub backchannel_logout_uri: Option<String>,
    /// Loaded in a frame of the signed-out page, with `iss` and `sid` (OIDC
    /// Front-Channel Logout §2).
    pub frontchannel_logout_uri: Option<String>,
    pub secrets: Vec<ClientSecret>,
    /// Certificate credentials for `private_key_jwt`: a JWK Set, kept as given.
    pub jwks: Option<serde_json::Value>,
    pub grant_types: BTreeSet<GrantType>,
    pub implicit: Implicit,
    pub permissions: Vec<Permission>,
    pub admin_consented: bool,
    /// Usernames (case-insensitive keys) assigned to the app.
    pub assigned_users: BTreeSet<String>,
    /// Groups assigned to the app: their members are admitted too.
    #[serde(default, skip_serializing_if = "BTreeSet::is_empty")]
    pub assigned_groups: BTreeSet<String>,
    /// The device platforms its users may sign in from (PlatformNotAllowed); empty: all.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub allowed_platforms: Vec<crate::platform::Platform>,
    /// The algorithm of its ID tokens' signatures (OIDC Registration §2
    /// `id_token_signed_response_alg`); `None`: RS256, which every relying party can
    /// verify (OIDC Core §3.1.3.7 step 7).
    #[serde(default)]
    pub id_token_signed_response_alg: Option<crate::keys::SigningAlg>,
    /// A disabled app gets nothing: no sign-in, no token, no client authentication
    /// (AppDisabled).
    pub enabled: bool,
    /// Codes, refresh tokens and device authorizations of the app issued before this
    /// moment are void: it is set when the app is registered (so a new app with the
    /// client_id of a deleted one inherits nothing) and when it is disabled (so enabling
    /// it again revives nothing).
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub tokens_valid_from: Option<OffsetDateTime>,
}

impl App {
    /// The app a request names, when it may be used: ClientNotFound when the tenant has
    /// none with `client_id`, AppDisabled when an administrator disabled it.
    pub fn usable(
        found: Option<App>,
        client_id: &str,
        tenant: &str,
    ) -> Result<App, crate::errors::CatalogError> {
        use crate::errors::{CatalogError, ErrorName};
        let app = found.ok_or_else(|| {
            CatalogError::new(ErrorName::ClientNotFound)
                .with("client_id", client_id.chars().take(128).collect::<String>())
                .with("tenant", tenant.to_owned())
        })?;
        if !app.enabled {
            return Err(
                CatalogError::new(ErrorName::AppDisabled).with("client_id", app.client_id.clone())
            );
        }
        Ok(app)
    }

    /// Whether a credential of the app issued at `issued_at` was voided since
    /// ([`App::tokens_valid_from`]; to the second, as times are stored).
    pub fn tokens_revoked(&self, issued_at: OffsetDateTime) -> bool {
        self.tokens_valid_from
            .is_some_and(|from| issued_at.unix_timestamp() < from.unix_timestamp())
    }

    /// Whether the app holds `role` of Tessera's management API (granted in its
    /// registration, like any permission).
    pub fn has_management_role(&self, role: &str) -> bool {
        self.permissions
            .iter()
            .any(|p| p.api == MANAGEMENT_API && p.app_roles.iter().any(|r| r == role))
    }

    /// Whether the user with key `user_key`, a member of `groups`, may use the app:
    /// anyone, unless the app requires assignment and neither the user nor one of the
    /// user's groups is assigned to it (UserNotAssigned).
    pub fn admits(&self, user_key: &str, groups: &BTreeSet<String>) -> bool {
        !self.assignment_required
            || self.assigned_users.contains(user_key)
            || !self.assigned_groups.is_disjoint(groups)
    }

    /// Confidential apps authenticate at the token endpoint (secrets or keys); apps with
    /// neither are public clients.
    pub fn is_confidential(&self) -> bool {
        !self.secrets.is_empty() || self.jwks.is_some()
    }
}

/// A multi-tenant app of another tenant that an administrator of this tenant consented
/// to for everyone in it (Entra ID's enterprise application): its users may sign in to
/// it here, where its permissions count as admin-consented. Stored in the consenting
/// tenant, keyed by the client_id; it counts only for the app of `home_tenant`, so an
/// app re-registered elsewhere under the same client_id inherits nothing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ForeignApp {
    pub client_id: ClientId,
    pub home_tenant: crate::ids::TenantId,
    /// The administrator's user key.
    pub consented_by: String,
    #[serde(with = "time::serde::rfc3339")]
    pub consented_at: OffsetDateTime,
}

/// A user's consent to the scopes an app asked for, reused at the next sign-in (tenant-wide
/// admin consent is `App::admin_consented`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Consent {
    /// The user's case-insensitive key.
    pub user: String,
    pub client_id: ClientId,
    /// Scope values as requested: `openid`, `profile`, or `{api identifier}/{scope}`.
    pub scopes: BTreeSet<String>,
    #[serde(with = "time::serde::rfc3339")]
    pub granted_at: OffsetDateTime,
}

impl Consent {
    /// The object key: unique per user and app (neither part can contain a space).
    pub fn key(client_id: &ClientId, user_key: &str) -> String {
        format!("{client_id} {user_key}")
    }
}
