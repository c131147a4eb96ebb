//! What the protocol keeps between requests, as stored documents: SSO sessions,
//! redeemed authorization codes, refresh tokens and revoked access tokens. None is
//! stored under a usable value: a session under the `MasterKey::token_hash` of its
//! cookie, a redeemed code under the hash of the code, a refresh token under its
//! object's id ([`RefreshToken::id_key`]), a revoked access token under its `jti`. Each
//! lives in the tenant's partition and changes only with the store's version check.
//!
//! An authorization code is not stored when issued: the code is its own record, sealed
//! ([`AuthCode::seal`]), so issuing one writes nothing. Its redemption stores the record
//! (marked redeemed) as a new object under the code's hash, so of two redemptions
//! exactly one writes, and a replay finds what the first one issued.

use super::claims::RequestedClaims;
use super::pkce::Challenge;
use crate::crypto::MasterKey;
use crate::directory::redirect::Platform;
use crate::ids::ClientId;
use crate::ids::{ObjectId, TenantId, UserId};
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
    pub const CLIENT_ASSERTION: &str = "client_assertion";
    /// The network of a sign-in (`directory::lockout`): not a bearer value, but kept
    /// only as a keyed hash all the same.
    pub const SIGN_IN_NETWORK: &str = "sign_in_network";
    /// A recovery code (`directory::mfa`), hashed with its user's id.
    pub const RECOVERY_CODE: &str = "recovery_code";
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
    pub user_id: UserId,
    #[serde(with = "time::serde::rfc3339")]
    pub auth_time: OffsetDateTime,
    /// RFC 8176 authentication method references (`pwd`; `otp` and `mfa` once a code
    /// was presented).
    pub amr: Vec<String>,
    /// When this sign-in last presented a second factor (`directory::mfa::needed`).
    #[serde(
        default,
        with = "time::serde::rfc3339::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub second_factor_at: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339")]
    pub expires_at: OffsetDateTime,
    /// The apps that received a code or token in this session: the ones a logout
    /// notifies (OIDC Back-Channel Logout §2.7, Front-Channel Logout §3).
    pub clients: std::collections::BTreeSet<ClientId>,
}

/// An issued authorization code and everything it is bound to (RFC 6749 §4.1.2,
/// RFC 7636 §4.4, OIDC Core §3.1.2.1 nonce).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuthCode {
    pub client_id: ClientId,
    pub redirect_uri: String,
    /// The platform whose registered URI matched (`spa` codes need an Origin).
    pub platform: Platform,
    pub challenge: Option<Challenge>,
    pub nonce: Option<String>,
    /// Claims asked for by name (`claims`, OIDC Core §5.5), carried into the tokens.
    #[serde(default, skip_serializing_if = "RequestedClaims::is_empty")]
    pub claims: RequestedClaims,
    pub scopes: BTreeSet<String>,
    /// The API the access token is for; `None`: the UserInfo endpoint.
    pub audience: Option<String>,
    pub user: String,
    pub user_id: UserId,
    pub sid: String,
    #[serde(with = "time::serde::rfc3339")]
    pub auth_time: OffsetDateTime,
    pub amr: Vec<String>,
    /// When the code was issued: an app disabled since voids it
    /// (`App::tokens_valid_from`).
    #[serde(with = "time::serde::rfc3339")]
    pub issued_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub expires_at: OffsetDateTime,
    /// Set by the one redemption that succeeded; what it issued, so a replay can
    /// revoke it (RFC 6749 §4.1.2, RFC 9700 §4.5). Never set inside a code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub redeemed: Option<Redemption>,
}

/// Codes and refresh tokens begin with their tenant's id (base64url, 22 characters) and
/// a `~` (unreserved in URLs, RFC 3986 §2.3, and never in base64url or a JWT, so the
/// two stay apart at introspection and revocation), so that the meta-tenants' token endpoint (`/common/oauth2/token`) can tell
/// which tenant opens one ([`tenant_of`]); a tenant's own endpoint issues and reads the
/// same form. The id is no secret (tokens carry it as `tid`), and the sealed rest is
/// bound to it, so a value with another tenant's id in front opens nowhere.
fn routed(tenant_id: TenantId, sealed: String) -> String {
    use base64::Engine;
    let id =
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(tenant_id.as_uuid().as_bytes());
    format!("{id}~{sealed}")
}

/// The tenant a code or refresh token names; `None` for a value of no such form.
/// Only the tenant can tell whether it is genuine.
pub fn tenant_of(value: &str) -> Option<TenantId> {
    use base64::Engine;
    let (id, _) = value.split_once('~')?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(id)
        .ok()?;
    Some(TenantId::from_uuid(uuid::Uuid::from_slice(&bytes).ok()?))
}

/// The sealed part of a value of `tenant_id` ([`routed`]).
fn sealed_part(tenant_id: TenantId, value: &str) -> Option<&str> {
    let (_, sealed) = value.split_once('~')?;
    (tenant_of(value)? == tenant_id).then_some(sealed)
}

impl AuthCode {
    /// The authorization code: this record sealed under the master key
    /// ([`MasterKey::seal_bearer`]) and bound to the tenant, so it opens at no other
    /// tenant and cannot be altered. Unguessable like a random code (RFC 6749 §10.10:
    /// the 96-bit nonce and the 128-bit tag), and opaque to the client (§1.3.1).
    pub fn seal(&self, master: &MasterKey, rng: &dyn Rng, tenant_id: TenantId) -> String {
        let plain = serde_json::to_vec(self)
            .unwrap_or_else(|_| unreachable!("a record of strings and times serializes"));
        routed(
            tenant_id,
            master.seal_bearer(rng, &plain, &Self::context(tenant_id)),
        )
    }

    /// The record a code carries; `None` when `code` is not a code this tenant issued
    /// under this master key, unaltered. Expiry and bindings are the caller's checks.
    pub fn open(master: &MasterKey, tenant_id: TenantId, code: &str) -> Option<Self> {
        let plain = master.open_bearer(sealed_part(tenant_id, code)?, &Self::context(tenant_id))?;
        let record: Self = serde_json::from_slice(&plain).ok()?;
        // A code never carries a redemption; one that did was not sealed by `seal`.
        record.redeemed.is_none().then_some(record)
    }

    fn context(tenant_id: TenantId) -> String {
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
    /// The store key of the refresh token issued, if any (`RefreshToken::id_key`).
    pub refresh_token_key: Option<String>,
}

/// An issued refresh token: its grant, its family (every token rotated from one
/// authorization) and its lifetimes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RefreshToken {
    pub client_id: ClientId,
    pub user: String,
    pub user_id: UserId,
    pub scopes: BTreeSet<String>,
    pub audience: Option<String>,
    /// Claims asked for by name at the authorization, released in every ID token and
    /// at UserInfo for the family's tokens too.
    #[serde(default, skip_serializing_if = "RequestedClaims::is_empty")]
    pub claims: RequestedClaims,
    pub sid: String,
    /// Every token descended from one authorization shares it.
    pub family: String,
    pub platform: Platform,
    /// How the user signed in, carried into ID tokens issued on refresh.
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
    /// The stored object of the token it was rotated into, once rotated out: a retry
    /// within the tenant's `refresh_token_retry_seconds` replaces that successor if it
    /// is still unused. Only in the store, never in a sealed value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub successor: Option<ObjectId>,
}

/// `RefreshToken::revoked` of a token that was rotated out.
pub const ROTATED: &str = "rotated";

/// `RefreshToken::revoked` of a successor that was never used, replaced when the token
/// before it was presented again within the retry period. Presenting it is reuse: two
/// parties hold tokens of the family.
pub const SUPERSEDED: &str = "superseded";

/// What a refresh token's value carries: the stored object's id and its record as
/// issued, under short member names and with times as Unix nanoseconds, since the value
/// is sent, parsed, hashed and opened on every use (the benchmark's tokens: 503
/// characters, against 731 with the record's own names and RFC 3339 times).
#[derive(Serialize, Deserialize)]
struct SealedRefresh {
    /// The stored object's id.
    id: ObjectId,
    // The record's members: client_id, user, user_id, scopes, audience, claims, sid,
    // family, platform, amr.
    c: ClientId,
    u: String,
    ui: UserId,
    s: BTreeSet<String>,
    a: Option<String>,
    #[serde(default, skip_serializing_if = "RequestedClaims::is_empty")]
    q: RequestedClaims,
    sid: String,
    f: String,
    p: Platform,
    m: Vec<String>,
    /// `auth_time`, `issued_at`, `expires_at`, `family_expires_at`.
    t: [i128; 4],
}

impl SealedRefresh {
    fn new(id: ObjectId, r: &RefreshToken) -> Self {
        Self {
            id,
            c: r.client_id.clone(),
            u: r.user.clone(),
            ui: r.user_id,
            s: r.scopes.clone(),
            a: r.audience.clone(),
            q: r.claims.clone(),
            sid: r.sid.clone(),
            f: r.family.clone(),
            p: r.platform,
            m: r.amr.clone(),
            t: [r.auth_time, r.issued_at, r.expires_at, r.family_expires_at]
                .map(OffsetDateTime::unix_timestamp_nanos),
        }
    }

    /// The record, live (a sealed record is never revoked); `None` for times out of
    /// range.
    fn record(self) -> Option<RefreshToken> {
        let [auth_time, issued_at, expires_at, family_expires_at] =
            self.t.map(OffsetDateTime::from_unix_timestamp_nanos);
        Some(RefreshToken {
            client_id: self.c,
            user: self.u,
            user_id: self.ui,
            scopes: self.s,
            audience: self.a,
            claims: self.q,
            sid: self.sid,
            family: self.f,
            platform: self.p,
            amr: self.m,
            auth_time: auth_time.ok()?,
            issued_at: issued_at.ok()?,
            expires_at: expires_at.ok()?,
            family_expires_at: family_expires_at.ok()?,
            revoked: None,
            successor: None,
        })
    }
}

impl RefreshToken {
    /// The refresh token's value: this record and the id of the object that stores it,
    /// sealed under the master key ([`MasterKey::seal_bearer`]) and bound to the tenant.
    /// The store still keeps the record, under [`Self::id_key`]`(id)`, and is what says
    /// whether the token still works (rotated, revoked); the sealed copy lets a rotation
    /// know what it retires and continues without reading it first, so it writes on
    /// condition instead (`Store::apply_if`). Unguessable and opaque like a random
    /// value (RFC 6749 §10.4, §1.5).
    pub fn seal(
        &self,
        id: ObjectId,
        master: &MasterKey,
        rng: &dyn Rng,
        tenant_id: TenantId,
    ) -> String {
        let plain = serde_json::to_vec(&SealedRefresh::new(id, self))
            .unwrap_or_else(|_| unreachable!("a record of strings and numbers serializes"));
        routed(
            tenant_id,
            master.seal_bearer(rng, &plain, &Self::context(tenant_id)),
        )
    }

    /// The object id and record that `value` carries, if this tenant sealed it under
    /// this master key, unaltered; `None` for anything else (no refresh token of this
    /// tenant). Whether the token still works (rotated, revoked) is the store's to say:
    /// its object is stored under [`Self::id_key`]`(id)`.
    pub fn open(master: &MasterKey, tenant_id: TenantId, value: &str) -> Option<(ObjectId, Self)> {
        let plain =
            master.open_bearer(sealed_part(tenant_id, value)?, &Self::context(tenant_id))?;
        let sealed: SealedRefresh = serde_json::from_slice(&plain).ok()?;
        let id = sealed.id;
        sealed.record().map(|record| (id, record))
    }

    /// The key under which the object of a refresh token is stored: its id. Ids are
    /// time-ordered (`Rng::record_id`), so each new token's entry lands at the end of the
    /// store's (tenant, kind, key) index rather than on a random page of it
    /// (docs/decisions/0007-sealed-refresh-tokens.md). The id is no secret: the
    /// value cannot be made from it without the master key, so the store holds nothing
    /// that works as a token.
    pub fn id_key(id: ObjectId) -> String {
        id.to_string()
    }

    /// The token that replaces this one when it is rotated (RFC 9700 §4.14.2): the
    /// same family, grant and sign-in, a new idle period from `now` that never outlasts
    /// the family.
    pub fn successor(&self, now: OffsetDateTime, idle_seconds: u32) -> Self {
        let idle_end = now + time::Duration::seconds(i64::from(idle_seconds));
        Self {
            issued_at: now,
            expires_at: idle_end.min(self.family_expires_at),
            revoked: None,
            successor: None,
            ..self.clone()
        }
    }

    fn context(tenant_id: TenantId) -> String {
        format!("{}/{tenant_id}", purpose::REFRESH)
    }
}

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
            claims: Default::default(),
            scopes: ["openid".to_owned(), "offline_access".to_owned()].into(),
            audience: None,
            user: "alice".into(),
            user_id: UserId::from_uuid(uuid::Uuid::from_u128(7)),
            sid: "sid-1".into(),
            auth_time: at,
            amr: vec!["pwd".into()],
            issued_at: at,
            expires_at: at + time::Duration::seconds(60),
            redeemed: None,
        }
    }

    #[test]
    fn a_code_opens_to_its_record_only_at_its_tenant() {
        let master = MasterKey::from_bytes(&[3u8; 32]);
        let tenant = TenantId::from_uuid(uuid::Uuid::from_u128(1));
        let record = code_record();
        let code = record.seal(&master, &SequenceRng::new(1), tenant);
        assert_eq!(AuthCode::open(&master, tenant, &code), Some(record));
        assert_eq!(
            AuthCode::open(
                &master,
                TenantId::from_uuid(uuid::Uuid::from_u128(2)),
                &code
            ),
            None
        );
        assert_eq!(
            AuthCode::open(&MasterKey::from_bytes(&[4u8; 32]), tenant, &code),
            None
        );
        // A random 256-bit value is no code.
        let random = crate::crypto::generate_token(&SequenceRng::new(2));
        assert_eq!(AuthCode::open(&master, tenant, &random), None);
    }

    /// The tenant a value names is readable, and naming another tenant in front of the
    /// sealed part makes the value open nowhere: not at the tenant named, whose id the
    /// sealed part is not bound to, nor at its own, whose id is not in front.
    #[test]
    fn a_value_names_its_tenant_and_another_name_opens_nothing() {
        let master = MasterKey::from_bytes(&[3u8; 32]);
        let tenant = TenantId::from_uuid(uuid::Uuid::from_u128(1));
        let other = TenantId::from_uuid(uuid::Uuid::from_u128(2));
        let code = code_record().seal(&master, &SequenceRng::new(1), tenant);
        assert_eq!(tenant_of(&code), Some(tenant));
        let (_, sealed) = code.split_once('~').unwrap();
        let renamed = routed(other, sealed.to_owned());
        assert_eq!(tenant_of(&renamed), Some(other));
        assert_eq!(AuthCode::open(&master, other, &renamed), None);
        assert_eq!(AuthCode::open(&master, tenant, &renamed), None);
        assert_eq!(AuthCode::open(&master, tenant, sealed), None);
        let (_, _, refresh) = sealed_refresh();
        assert_eq!(tenant_of(&refresh), Some(TENANT));
        for garbage in ["", "~", "x~y", "no-separator-at-all", "AAAA~b"] {
            assert_eq!(tenant_of(garbage), None, "{garbage}");
        }
    }

    fn refresh_record() -> RefreshToken {
        let at = OffsetDateTime::from_unix_timestamp(1_790_000_000).unwrap();
        RefreshToken {
            client_id: "web-app".into(),
            user: "alice".into(),
            user_id: UserId::from_uuid(uuid::Uuid::from_u128(7)),
            scopes: ["openid".to_owned(), "offline_access".to_owned()].into(),
            audience: Some("api://orders".into()),
            claims: Default::default(),
            sid: "sid-1".into(),
            family: "family-1".into(),
            platform: Platform::Web,
            amr: vec!["pwd".into()],
            auth_time: at,
            // Times keep their nanoseconds through the seal, as the stored record does.
            issued_at: at + time::Duration::nanoseconds(123_456_789),
            expires_at: at + time::Duration::days(14),
            family_expires_at: at + time::Duration::days(90),
            revoked: None,
            successor: None,
        }
    }

    const TENANT: TenantId = TenantId::from_uuid(uuid::Uuid::from_u128(1));
    const ID: ObjectId = ObjectId::from_uuid(uuid::Uuid::from_u128(9));

    /// A master key, the fixture record, and that record sealed as object `ID` of
    /// `TENANT`.
    fn sealed_refresh() -> (MasterKey, RefreshToken, String) {
        let master = MasterKey::from_bytes(&[3u8; 32]);
        let record = refresh_record();
        let value = record.seal(ID, &master, &SequenceRng::new(1), TENANT);
        (master, record, value)
    }

    #[test]
    fn only_a_value_this_tenant_sealed_opens() {
        let (master, record, value) = sealed_refresh();
        assert_eq!(
            RefreshToken::open(&master, TENANT, &value),
            Some((ID, record))
        );
        assert_eq!(
            RefreshToken::id_key(ID),
            "00000000-0000-0000-0000-000000000009"
        );
        // A random value, another tenant's token, an altered one: nothing.
        let random = crate::crypto::generate_token(&SequenceRng::new(3));
        let mut altered = value.clone().into_bytes();
        altered[40] = if altered[40] == b'A' { b'B' } else { b'A' };
        let altered = String::from_utf8(altered).unwrap();
        for (at, v) in [
            (TENANT, &random),
            (TenantId::from_uuid(uuid::Uuid::from_u128(2)), &value),
            (TENANT, &altered),
        ] {
            assert_eq!(RefreshToken::open(&master, at, v), None);
        }
    }

    #[test]
    fn a_refresh_token_opens_to_its_object_and_record_only_under_its_master_key() {
        let (master, record, value) = sealed_refresh();
        let opened = |master: &MasterKey, v: &str| RefreshToken::open(master, TENANT, v);
        assert_eq!(opened(&master, &value), Some((ID, record.clone())));
        // Short member names and numeric times keep the value short.
        assert!(value.len() < 500, "{} characters", value.len());
        assert_eq!(opened(&MasterKey::from_bytes(&[4u8; 32]), &value), None);
        // An authorization code of the same tenant is not a refresh token.
        let code = code_record().seal(&master, &SequenceRng::new(1), TENANT);
        assert_eq!(opened(&master, &code), None);
        // Sealed at issue, a record is live: a revocation is the store's to record.
        let revoked = RefreshToken {
            revoked: Some(ROTATED.into()),
            ..record.clone()
        };
        let value = revoked.seal(ID, &master, &SequenceRng::new(1), TENANT);
        assert_eq!(opened(&master, &value), Some((ID, record)));
    }

    #[test]
    fn a_successor_keeps_the_grant_and_never_outlives_its_family() {
        let record = refresh_record();
        let now = record.issued_at + time::Duration::days(1);
        let next = record.successor(now, 14 * 24 * 3600);
        assert_eq!(next.issued_at, now);
        assert_eq!(next.expires_at, now + time::Duration::days(14));
        assert_eq!(
            RefreshToken {
                issued_at: record.issued_at,
                expires_at: record.expires_at,
                ..next
            },
            record
        );
        let late = record.family_expires_at - time::Duration::days(1);
        assert_eq!(
            record.successor(late, 14 * 24 * 3600).expires_at,
            record.family_expires_at
        );
    }

    #[test]
    fn a_sealed_redemption_is_not_a_code() {
        let master = MasterKey::from_bytes(&[3u8; 32]);
        let tenant = TenantId::from_uuid(uuid::Uuid::from_u128(1));
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
