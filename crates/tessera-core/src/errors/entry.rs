//! What one catalogue entry holds, the families codes are grouped in, and the OAuth
//! `error` values entries map to.

use serde::Serialize;

/// One catalogued error. Texts are written for two readers: the app developer
/// (`developer_action`) and the person signing in (`user_action`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Entry {
    /// The five digits after `TS`; the family is the first digit.
    pub code: u32,
    pub name: &'static str,
    /// The OAuth `error` value; `None` for errors shown only on pages or as problem details.
    pub oauth_error: Option<OAuthError>,
    pub status: u16,
    /// The message, with `{placeholders}` filled at run time.
    pub message: &'static str,
    pub causes: &'static [&'static str],
    pub developer_action: &'static str,
    pub user_action: &'static str,
    /// Whether repeating the same request later can succeed.
    pub retryable: bool,
    /// Whether the authorization endpoint may send this error to the client's redirect
    /// URI. Errors about the client or the redirect URI itself never may (RFC 6749
    /// §4.1.2.1): they are shown on an error page instead.
    pub redirectable: bool,
}

impl Entry {
    /// `TS` followed by the five-digit code.
    pub fn code_str(&self) -> String {
        format!("TS{:05}", self.code)
    }

    pub fn family(&self) -> Family {
        // Every code's range is checked by a unit test; the fallback is unreachable.
        Family::of(self.code).unwrap_or(Family::Server)
    }

    /// The `{placeholders}` the message expects, in order of first appearance.
    pub fn parameters(&self) -> Vec<&'static str> {
        super::template::placeholders(self.message).unwrap_or_default()
    }
}

/// Code families: the first digit of the five-digit code, from TS1xxxx (request) to
/// TS9xxxx (server); `docs/errors.md` lists the codes by family.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Family {
    Request,
    Client,
    Grant,
    User,
    Consent,
    Tenant,
    External,
    Admin,
    Server,
}

impl Family {
    pub const ALL: [Family; 9] = [
        Family::Request,
        Family::Client,
        Family::Grant,
        Family::User,
        Family::Consent,
        Family::Tenant,
        Family::External,
        Family::Admin,
        Family::Server,
    ];

    pub fn of(code: u32) -> Option<Family> {
        match code {
            10000..=19999 => Some(Family::Request),
            20000..=29999 => Some(Family::Client),
            30000..=39999 => Some(Family::Grant),
            40000..=49999 => Some(Family::User),
            50000..=59999 => Some(Family::Consent),
            60000..=69999 => Some(Family::Tenant),
            70000..=79999 => Some(Family::External),
            80000..=89999 => Some(Family::Admin),
            90000..=99999 => Some(Family::Server),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Family::Request => "request",
            Family::Client => "client",
            Family::Grant => "grant",
            Family::User => "user",
            Family::Consent => "consent",
            Family::Tenant => "tenant",
            Family::External => "external",
            Family::Admin => "admin",
            Family::Server => "server",
        }
    }

    pub fn about(self) -> &'static str {
        match self {
            Family::Request => "Malformed or unsupported requests",
            Family::Client => "App registration, client authentication, redirect URIs",
            Family::Grant => "Authorization codes, refresh tokens, device codes, assertions, PKCE",
            Family::User => "Sign-in, lockout, MFA, policy, sessions",
            Family::Consent => "Scopes, resources, consent",
            Family::Tenant => "Tenants and meta-tenants",
            Family::External => "Federation, claims providers, unsupported protocols",
            Family::Admin => "Admin API validation and access",
            Family::Server => "Transient and internal failures",
        }
    }
}

/// OAuth 2.0 / OpenID Connect `error` values, each from the document that defines it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum OAuthError {
    /// RFC 6749 §4.1.2.1, §5.2
    InvalidRequest,
    /// RFC 6749 §5.2
    InvalidClient,
    /// RFC 6749 §5.2
    InvalidGrant,
    /// RFC 6749 §4.1.2.1, §5.2
    UnauthorizedClient,
    /// RFC 6749 §5.2
    UnsupportedGrantType,
    /// RFC 6749 §4.1.2.1
    UnsupportedResponseType,
    /// RFC 6749 §4.1.2.1, §5.2
    InvalidScope,
    /// RFC 6749 §4.1.2.1
    AccessDenied,
    /// RFC 6749 §4.1.2.1
    ServerError,
    /// RFC 6749 §4.1.2.1
    TemporarilyUnavailable,
    /// RFC 6750 §3.1
    InvalidToken,
    /// RFC 6750 §3.1
    InsufficientScope,
    /// RFC 8707 §2
    InvalidTarget,
    /// OpenID Connect Core §3.1.2.6
    InteractionRequired,
    /// OpenID Connect Core §3.1.2.6
    LoginRequired,
    /// OpenID Connect Core §3.1.2.6
    AccountSelectionRequired,
    /// OpenID Connect Core §3.1.2.6
    ConsentRequired,
    /// RFC 8628 §3.5
    AuthorizationPending,
    /// RFC 8628 §3.5
    SlowDown,
    /// RFC 8628 §3.5
    ExpiredToken,
    /// OAuth 2.0 Multiple Response Type Encoding Practices / JARM: unsupported response_mode
    UnsupportedResponseMode,
}

impl OAuthError {
    pub fn as_str(self) -> &'static str {
        match self {
            OAuthError::InvalidRequest => "invalid_request",
            OAuthError::InvalidClient => "invalid_client",
            OAuthError::InvalidGrant => "invalid_grant",
            OAuthError::UnauthorizedClient => "unauthorized_client",
            OAuthError::UnsupportedGrantType => "unsupported_grant_type",
            OAuthError::UnsupportedResponseType => "unsupported_response_type",
            OAuthError::InvalidScope => "invalid_scope",
            OAuthError::AccessDenied => "access_denied",
            OAuthError::ServerError => "server_error",
            OAuthError::TemporarilyUnavailable => "temporarily_unavailable",
            OAuthError::InvalidToken => "invalid_token",
            OAuthError::InsufficientScope => "insufficient_scope",
            OAuthError::InvalidTarget => "invalid_target",
            OAuthError::InteractionRequired => "interaction_required",
            OAuthError::LoginRequired => "login_required",
            OAuthError::AccountSelectionRequired => "account_selection_required",
            OAuthError::ConsentRequired => "consent_required",
            OAuthError::AuthorizationPending => "authorization_pending",
            OAuthError::SlowDown => "slow_down",
            OAuthError::ExpiredToken => "expired_token",
            OAuthError::UnsupportedResponseMode => "unsupported_response_mode",
        }
    }
}
