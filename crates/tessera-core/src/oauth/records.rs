//! What the protocol keeps between requests, as stored documents: SSO sessions,
//! redeemed authorization codes, refresh tokens and revoked access tokens. Each is
//! stored under the `MasterKey::token_hash` of its bearer value (never the value), in
//! the tenant's partition, and changed only with the store's version check.
//!
//! An authorization code is not stored when issued: the code is its own record, sealed
//! ([`AuthCode::seal`]), so issuing one writes nothing. Its redemption stores the record
//! (marked redeemed) as a new object under the code's hash, so of two redemptions
//! exactly one writes, and a replay finds what the first one issued.

use super::pkce::Challenge;
use crate::crypto::MasterKey;
use crate::directory::redirect::Platform;
use crate::rng::Rng;
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
    /// revoke it (RFC 6749 §4.1.2, RFC 9700 §4.5). Never set inside a code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub redeemed: Option<Redemption>,
}

impl AuthCode {
    /// The authorization code: this record sealed under the master key
    /// ([`MasterKey::seal_bearer`]) and bound to the tenant, so it opens at no other
    /// tenant and cannot be altered. Unguessable like a random code (RFC 6749 §10.10:
    /// the 96-bit nonce and the 128-bit tag), and opaque to the client (§1.3.1).
    pub fn seal(&self, master: &MasterKey, rng: &dyn Rng, tenant_id: uuid::Uuid) -> String {
        let plain = serde_json::to_vec(self)
            .unwrap_or_else(|_| unreachable!("a record of strings and times serializes"));
        master.seal_bearer(rng, &plain, &Self::context(tenant_id))
    }

    /// The record a code carries; `None` when `code` is not a code this tenant issued
    /// under this master key, unaltered. Expiry and bindings are the caller's checks.
    pub fn open(master: &MasterKey, tenant_id: uuid::Uuid, code: &str) -> Option<Self> {
        let plain = master.open_bearer(code, &Self::context(tenant_id))?;
        let record: Self = serde_json::from_slice(&plain).ok()?;
        // A code never carries a redemption; one that did was not sealed by `seal`.
        record.redeemed.is_none().then_some(record)
    }

    fn context(tenant_id: uuid::Uuid) -> String {
        format!("{}/{tenant_id}", purpose::CODE)
    }
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::SequenceRng;

    fn code_record() -> AuthCode {
        let at = OffsetDateTime::from_unix_timestamp(1_790_000_000).unwrap();
        AuthCode {
            client_id: "web-app".into(),
            redirect_uri: "https://app.example/cb".into(),
            platform: Platform::Web,
            challenge: Some(Challenge {
                value: "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM".into(),
                method: super::super::pkce::Method::S256,
            }),
            nonce: Some("n-0S6_WzA2Mj".into()),
            scopes: ["openid".to_owned(), "offline_access".to_owned()].into(),
            audience: None,
            user: "alice".into(),
            user_id: Some(uuid::Uuid::from_u128(7)),
            sid: "sid-1".into(),
            auth_time: at,
            amr: vec!["pwd".into()],
            expires_at: at + time::Duration::seconds(60),
            redeemed: None,
        }
    }

    #[test]
    fn a_code_opens_to_its_record_only_at_its_tenant() {
        let master = MasterKey::from_bytes(&[3u8; 32]);
        let tenant = uuid::Uuid::from_u128(1);
        let record = code_record();
        let code = record.seal(&master, &SequenceRng::new(1), tenant);
        assert_eq!(AuthCode::open(&master, tenant, &code), Some(record));
        assert_eq!(
            AuthCode::open(&master, uuid::Uuid::from_u128(2), &code),
            None
        );
        assert_eq!(
            AuthCode::open(&MasterKey::from_bytes(&[4u8; 32]), tenant, &code),
            None
        );
        // A random 256-bit value (the format before codes were sealed) is no code.
        let random = crate::crypto::generate_token(&SequenceRng::new(2));
        assert_eq!(AuthCode::open(&master, tenant, &random), None);
    }

    #[test]
    fn a_sealed_redemption_is_not_a_code() {
        let master = MasterKey::from_bytes(&[3u8; 32]);
        let tenant = uuid::Uuid::from_u128(1);
        let mut redeemed = code_record();
        redeemed.redeemed = Some(Redemption {
            at: redeemed.auth_time,
            access_token_jti: "jti".into(),
            access_token_expires_at: redeemed.expires_at,
            refresh_token_key: None,
        });
        let sealed = redeemed.seal(&master, &SequenceRng::new(1), tenant);
        assert_eq!(AuthCode::open(&master, tenant, &sealed), None);
    }
}
