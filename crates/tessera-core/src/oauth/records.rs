//! What the protocol keeps between requests, as stored documents: SSO sessions,
//! authorization codes, refresh tokens and revoked access tokens. Each is stored under
//! the `MasterKey::token_hash` of its bearer value (never the value), in the tenant's
//! partition, and changed only with the store's version check, so consuming a code is
//! atomic: of two concurrent redemptions exactly one writes.

use super::pkce::Challenge;
use crate::directory::redirect::Platform;
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;
use time::OffsetDateTime;

/// `token_hash` purposes: one per kind of bearer value.
pub mod purpose {
    pub const SESSION: &str = "session";
    pub const CODE: &str = "authorization_code";
    pub const REFRESH: &str = "refresh_token";
    pub const CSRF: &str = "csrf";
}

/// A signed-in browser (the SSO session behind the session cookie).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Session {
    /// The `sid` claim (OIDC Front-/Back-Channel Logout); not the cookie value.
    pub sid: String,
    /// The user's case-insensitive key.
    pub user: String,
    /// The user's object id: a user deleted and created again under the same name is
    /// another person, whom this record must not serve.
    #[serde(default)]
    pub user_id: Option<uuid::Uuid>,
    #[serde(with = "time::serde::rfc3339")]
    pub auth_time: OffsetDateTime,
    /// RFC 8176 authentication method references (`pwd`, later `otp`, `mfa`).
    pub amr: Vec<String>,
    #[serde(with = "time::serde::rfc3339")]
    pub expires_at: OffsetDateTime,
}

/// An issued authorization code and everything it is bound to (RFC 6749 §4.1.2,
/// RFC 7636 §4.4, OIDC Core §3.1.2.1 nonce).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuthCode {
    pub client_id: String,
    pub redirect_uri: String,
    /// The platform whose registered URI matched (`spa` codes need an Origin).
    pub platform: Platform,
    pub challenge: Option<Challenge>,
    pub nonce: Option<String>,
    pub scopes: BTreeSet<String>,
    /// The API the access token is for; `None`: the UserInfo endpoint.
    pub audience: Option<String>,
    pub user: String,
    #[serde(default)]
    pub user_id: Option<uuid::Uuid>,
    pub sid: String,
    #[serde(with = "time::serde::rfc3339")]
    pub auth_time: OffsetDateTime,
    pub amr: Vec<String>,
    #[serde(with = "time::serde::rfc3339")]
    pub expires_at: OffsetDateTime,
    /// Set by the one redemption that succeeded; what it issued, so a replay can
    /// revoke it (RFC 6749 §4.1.2, RFC 9700 §4.5).
    pub redeemed: Option<Redemption>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Redemption {
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    pub access_token_jti: String,
    #[serde(with = "time::serde::rfc3339")]
    pub access_token_expires_at: OffsetDateTime,
    /// The store key (hash) of the refresh token issued, if any.
    pub refresh_token_key: Option<String>,
}

/// An issued refresh token (its rotation and families arrive with the token lifecycle).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RefreshToken {
    pub client_id: String,
    pub user: String,
    #[serde(default)]
    pub user_id: Option<uuid::Uuid>,
    pub scopes: BTreeSet<String>,
    pub audience: Option<String>,
    pub sid: String,
    /// Every token descended from one authorization shares it.
    pub family: String,
    pub platform: Platform,
    /// How the user signed in, carried into ID tokens issued on refresh.
    #[serde(default)]
    pub amr: Vec<String>,
    #[serde(with = "time::serde::rfc3339")]
    pub auth_time: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub issued_at: OffsetDateTime,
    /// The end of this token: its idle period, capped by the family's end.
    #[serde(with = "time::serde::rfc3339")]
    pub expires_at: OffsetDateTime,
    /// The end of the whole family (absolute lifetime; fixed for `spa` tokens).
    #[serde(with = "time::serde::rfc3339")]
    pub family_expires_at: OffsetDateTime,
    /// Why it no longer works, when revoked ([`ROTATED`] when it was exchanged for a
    /// new one: presenting it again is reuse).
    pub revoked: Option<String>,
}

/// `RefreshToken::revoked` of a token that was rotated out.
pub const ROTATED: &str = "rotated";

/// An access token revoked before its expiry (keyed by `jti`); UserInfo and
/// introspection refuse it until `expires_at`, after which the entry can go.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RevokedAccessToken {
    pub reason: String,
    #[serde(with = "time::serde::rfc3339")]
    pub expires_at: OffsetDateTime,
}
