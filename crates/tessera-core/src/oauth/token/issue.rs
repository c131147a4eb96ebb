//! Minting the tokens of a grant: an RFC 9068 JWT access token, an OIDC ID token when
//! `openid` was granted, and a refresh token (its record, sealed) when
//! `offline_access` was granted and the app may use the refresh grant. A refresh token's
//! value is its record sealed (`RefreshToken::seal`); the store keeps the record under
//! the id of its object (`RefreshToken::id_key`).

use super::context::TokenContext;
use crate::directory::model::{App, GrantType, User};
use crate::directory::redirect::Platform;
use crate::errors::{CatalogError, ErrorName};
use crate::ids::UserId;
use crate::ids::{ObjectId, TenantId};
use crate::keys::SigningAlg;
use crate::oauth::claims::{RequestedClaims, released};
use crate::oauth::jose::{Signer, left_half_hash};
use crate::oauth::records::RefreshToken;
use crate::oauth::scope;
use crate::store::object::{ObjectKind, StoredObject, Write, encode};
use crate::tenant::Tenant;
use std::collections::BTreeSet;
use std::sync::Arc;
use time::OffsetDateTime;

/// Who and what the tokens are for. The user's document (for the ID token's claims) is
/// not part of it: a grant may store what it issues before reading the user
/// (`Store::apply_if`), so what it stores is decided first ([`plan`]) and the tokens
/// signed after ([`tokens`]).
pub struct Grant<'a> {
    pub tenant: &'a Tenant,
    pub app: &'a App,
    pub user_id: UserId,
    /// The user's key (`Username::key`), which refresh tokens record.
    pub user_key: String,
    pub scopes: BTreeSet<String>,
    pub audience: Option<String>,
    pub nonce: Option<String>,
    /// Claims asked for by name (`claims`, OIDC Core §5.5).
    pub claims: RequestedClaims,
    pub sid: String,
    pub auth_time: OffsetDateTime,
    pub amr: Vec<String>,
    pub platform: Platform,
    /// The app acts for the user with a token it exchanged (RFC 8693 on-behalf-of): the
    /// access token names it as the actor (`act`, §4.1).
    pub delegated: bool,
}

/// What a grant issues that does not depend on the user's document, decided before the
/// write that stores it: the time, the access token's id and end, the refresh token; and
/// the signers, looked up first so that a tenant without an active key of the API's or
/// the app's algorithm fails before a code or refresh token is spent.
pub struct Plan {
    pub now: OffsetDateTime,
    access_signer: Arc<Signer>,
    /// The ID token's signer, when `openid` was granted.
    id_signer: Option<Arc<Signer>>,
    pub access_jti: String,
    pub access_expires_at: OffsetDateTime,
    pub refresh: Option<NewRefresh>,
}

/// The plan of `grant`'s tokens. `successor`: a rotation's new refresh token record
/// (`RefreshToken::successor`), which continues its family even when this access
/// token's scopes were narrowed; otherwise a new family when `offline_access` was
/// granted and the app may use the refresh grant.
pub async fn plan(
    ctx: &TokenContext<'_>,
    grant: &Grant<'_>,
    successor: Option<RefreshToken>,
) -> Result<Plan, CatalogError> {
    let access_alg = access_token_alg(ctx, grant.app, grant.audience.as_deref()).await?;
    let access_signer = ctx.services.signer(grant.tenant.id, access_alg).await?;
    let id_signer = if grant.scopes.contains(scope::OPENID) {
        Some(
            ctx.services
                .signer(grant.tenant.id, id_token_alg(grant.app))
                .await?,
        )
    } else {
        None
    };
    let now = ctx.clock.now();
    let policy = &grant.tenant.policy;
    let record = match successor {
        Some(record) => Some(record),
        None if grant.scopes.contains(scope::OFFLINE_ACCESS)
            && grant.app.grant_types.contains(&GrantType::RefreshToken) =>
        {
            // A new family: SPA tokens get their short fixed life, others the absolute one.
            let life = if grant.platform == Platform::Spa {
                policy.spa_refresh_token_lifetime_seconds
            } else {
                policy.refresh_token_lifetime_seconds
            };
            let family_expires_at = now + time::Duration::seconds(i64::from(life));
            let idle_end =
                now + time::Duration::seconds(i64::from(policy.refresh_token_idle_seconds));
            Some(RefreshToken {
                client_id: grant.app.client_id.clone(),
                user: grant.user_key.clone(),
                user_id: grant.user_id,
                scopes: grant.scopes.clone(),
                audience: grant.audience.clone(),
                claims: grant.claims.clone(),
                sid: grant.sid.clone(),
                family: ctx.rng.uuid().to_string(),
                platform: grant.platform,
                amr: grant.amr.clone(),
                auth_time: grant.auth_time,
                issued_at: now,
                expires_at: idle_end.min(family_expires_at),
                family_expires_at,
                revoked: None,
                successor: None,
            })
        }
        None => None,
    };
    let lifetime = i64::from(policy.access_token_lifetime_seconds);
    Ok(Plan {
        now,
        access_signer,
        id_signer,
        access_jti: ctx.rng.uuid().to_string(),
        access_expires_at: now + time::Duration::seconds(lifetime),
        refresh: record.map(|r| mint_refresh(ctx, r)),
    })
}

/// A refresh token being issued: its value, and the object that will store it.
pub struct NewRefresh {
    pub value: String,
    pub stored: StoredRefresh,
}

/// The stored side of a refresh token: the object's id, its key (`RefreshToken::id_key`)
/// and the record.
pub struct StoredRefresh {
    pub id: ObjectId,
    pub key: String,
    pub record: RefreshToken,
}

/// A refresh token carrying `record`, sealed with the id of the object that will store
/// it.
fn mint_refresh(ctx: &TokenContext<'_>, record: RefreshToken) -> NewRefresh {
    let id = ctx.rng.record_id(ctx.clock.now());
    let value = record.seal(id, ctx.master, ctx.rng, ctx.tenant.id);
    let key = RefreshToken::id_key(id);
    NewRefresh {
        value,
        stored: StoredRefresh { id, key, record },
    }
}

/// A successful token response (RFC 6749 §5.1, OIDC Core §3.1.3.3), serialized straight
/// from this struct. Fields in alphabetical order, as the `Value` map it replaced had
/// them; absent ones are left out, not null.
#[derive(Debug, serde::Serialize)]
pub struct TokenResponse {
    pub access_token: String,
    /// Entra ID's account key for MSAL (`client_info=1`): set by the server, which
    /// knows whether the request asked ([`TokenResponse::subject`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_info: Option<String>,
    pub expires_in: i64,
    /// Entra ID's extended lifetime, which MSAL reads; Tessera has no outage extension,
    /// so it equals `expires_in`.
    pub ext_expires_in: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id_token: Option<String>,
    /// RFC 8693 §2.2.1: required in a token exchange's response, absent elsewhere.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub issued_token_type: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
    pub token_type: &'static str,
    /// The user the tokens are for (none for an app's own tokens); not sent.
    #[serde(skip)]
    pub subject: Option<crate::ids::UserId>,
}

impl StoredRefresh {
    /// The write storing this token (under its id; the sweeper may delete it once it
    /// can no longer be used).
    pub fn write(&self, ctx: &TokenContext<'_>) -> Write {
        Write::Put(
            StoredObject::new(
                self.id,
                ctx.tenant.id,
                ObjectKind::RefreshToken,
                self.key.clone(),
                encode(&self.record),
                ctx.clock.now(),
            )
            .expiring(self.record.expires_at),
        )
    }
}

/// An access token for a user (RFC 9068 §2.2), serialized straight from this struct
/// rather than built as a `serde_json::Value` map first (see `jose::Signer::sign`).
/// Fields in alphabetical order, as the map had them.
#[derive(serde::Serialize)]
struct AccessClaims<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    act: Option<Actor<'a>>,
    aud: &'a str,
    auth_time: i64,
    client_id: &'a str,
    exp: i64,
    iat: i64,
    iss: &'a str,
    jti: &'a str,
    nbf: i64,
    scope: &'a str,
    scp: String,
    sid: &'a str,
    sub: UserId,
    tid: TenantId,
    /// The claims the app asked UserInfo for by name (`claims`' `userinfo` member),
    /// space-separated; only on tokens for UserInfo, and only when asked.
    #[serde(skip_serializing_if = "Option::is_none")]
    userinfo_claims: Option<String>,
}

/// RFC 8693 §4.1: the party acting for the subject; here the app, by its client_id.
#[derive(serde::Serialize)]
struct Actor<'a> {
    sub: &'a str,
}

/// An ID token (OIDC Core §2; `at_hash` §3.1.3.6); claims that are absent are left out,
/// not null. Fields in alphabetical order, as the map had them.
#[derive(serde::Serialize)]
struct IdClaims<'a> {
    acr: &'static str,
    amr: &'a [String],
    #[serde(skip_serializing_if = "Option::is_none")]
    at_hash: Option<String>,
    aud: &'a str,
    auth_time: i64,
    azp: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    c_hash: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    email: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    email_verified: Option<bool>,
    exp: i64,
    iat: i64,
    iss: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    name: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    nonce: Option<&'a str>,
    /// The user's object id, as Entra ID names it (MSAL's account key): `sub` too.
    oid: UserId,
    #[serde(skip_serializing_if = "Option::is_none")]
    preferred_username: Option<&'a str>,
    sid: &'a str,
    sub: UserId,
    tid: TenantId,
}

/// The authentication context class of a sign-in by the methods `amr` (RFC 8176):
/// "1" for one factor, "2" when a second one (`otp`, `mfa`) was presented, as Entra ID
/// and the assurance levels of ISO/IEC 29115 count them (OIDC Core §2 `acr`).
pub fn acr(amr: &[String]) -> &'static str {
    if amr.iter().any(|m| m == "otp" || m == "mfa") {
        "2"
    } else {
        "1"
    }
}

/// The algorithm of the app's ID tokens: its registered `id_token_signed_response_alg`
/// (OIDC Registration §2), RS256 by default (OIDC Core §3.1.3.7 step 7).
pub fn id_token_alg(app: &App) -> SigningAlg {
    SigningAlg::or_default(app.id_token_signed_response_alg)
}

/// The algorithm of `app`'s access tokens for `audience`: the one its API registered,
/// or the default. A token for no API is for UserInfo, which only Tessera reads: it
/// takes the app's ID-token algorithm, which the app verifies already.
pub async fn access_token_alg(
    ctx: &TokenContext<'_>,
    app: &App,
    audience: Option<&str>,
) -> Result<SigningAlg, CatalogError> {
    let Some(identifier) = audience else {
        return Ok(id_token_alg(app));
    };
    let registered = ctx
        .services
        .apis(ctx.tenant.id)
        .await?
        .iter()
        .find(|a| a.identifier == identifier)
        .and_then(|a| a.access_token_signing_alg);
    Ok(SigningAlg::or_default(registered))
}

fn internal(detail: String) -> CatalogError {
    CatalogError::new(ErrorName::InternalError).internal(detail)
}

/// The tokens of `grant` as `plan` decided them, for `user` (the ID token's claims). The
/// grant has stored what the plan decided (the refresh token's object) before this.
pub fn tokens(
    ctx: &TokenContext<'_>,
    grant: &Grant<'_>,
    user: &User,
    plan: Plan,
) -> Result<TokenResponse, CatalogError> {
    let access_token = access_token(ctx, grant, &plan)?;
    let id_token = match &plan.id_signer {
        Some(signer) => Some(id_token(
            ctx,
            grant,
            user,
            &plan,
            signer,
            Some(&access_token),
            None,
        )?),
        None => None,
    };
    let expires_in = i64::from(grant.tenant.policy.access_token_lifetime_seconds);
    Ok(TokenResponse {
        access_token,
        client_info: None,
        expires_in,
        ext_expires_in: expires_in,
        id_token,
        issued_token_type: None,
        refresh_token: plan.refresh.map(|r| r.value),
        scope: Some(scope_string(grant)),
        token_type: "Bearer",
        subject: Some(grant.user_id),
    })
}

/// What the authorization endpoint returns itself (OIDC Core §3.2.2.5 implicit,
/// §3.3.2.5 hybrid): an access token when `token` was asked for, an ID token when
/// `id_token` was. Never a refresh token: the plan of such a grant has none.
pub struct FrontChannelTokens {
    pub access_token: Option<String>,
    pub id_token: Option<String>,
    pub expires_in: i64,
    pub scope: String,
}

/// The front-channel tokens of `grant`: the access token when `with_access`; the ID
/// token when `with_id`, with `at_hash` when the access token comes with it (OIDC Core
/// §3.2.2.10, §3.3.2.11) and `c_hash` when `code` does (§3.3.2.11).
pub fn front_channel(
    ctx: &TokenContext<'_>,
    grant: &Grant<'_>,
    user: &User,
    plan: &Plan,
    with_access: bool,
    with_id: bool,
    code: Option<&str>,
) -> Result<FrontChannelTokens, CatalogError> {
    let access_token = if with_access {
        Some(access_token(ctx, grant, plan)?)
    } else {
        None
    };
    let id_token = match (&plan.id_signer, with_id) {
        (Some(signer), true) => Some(id_token(
            ctx,
            grant,
            user,
            plan,
            signer,
            access_token.as_deref(),
            code,
        )?),
        _ => None,
    };
    Ok(FrontChannelTokens {
        access_token,
        id_token,
        expires_in: i64::from(grant.tenant.policy.access_token_lifetime_seconds),
        scope: scope_string(grant),
    })
}

fn scope_string(grant: &Grant<'_>) -> String {
    grant.scopes.iter().cloned().collect::<Vec<_>>().join(" ")
}

/// The access token of the plan (RFC 9068 §2.2).
fn access_token(
    ctx: &TokenContext<'_>,
    grant: &Grant<'_>,
    plan: &Plan,
) -> Result<String, CatalogError> {
    let audience = grant.audience.clone().unwrap_or_else(|| ctx.userinfo_url());
    let scope_string = scope_string(grant);
    // `scp` holds the API's own scope names (the audience already names the API), as
    // Entra ID does; `scope` the values as granted (RFC 9068 §2.2.3).
    let scp: Vec<&str> = grant
        .scopes
        .iter()
        .map(|s| match &grant.audience {
            Some(api) => s
                .strip_prefix(api.as_str())
                .and_then(|r| r.strip_prefix('/'))
                .unwrap_or(s),
            None => s,
        })
        .collect();
    let iat = plan.now.unix_timestamp();
    let access_claims = AccessClaims {
        act: grant.delegated.then(|| Actor {
            sub: grant.app.client_id.as_str(),
        }),
        aud: &audience,
        auth_time: grant.auth_time.unix_timestamp(),
        client_id: grant.app.client_id.as_str(),
        exp: plan.access_expires_at.unix_timestamp(),
        iat,
        iss: &ctx.issuer,
        jti: &plan.access_jti,
        nbf: iat,
        scope: &scope_string,
        scp: scp.join(" "),
        sid: &grant.sid,
        sub: grant.user_id,
        tid: grant.tenant.id,
        userinfo_claims: (grant.audience.is_none() && !grant.claims.userinfo.is_empty()).then(
            || {
                let asked: Vec<&str> = grant.claims.userinfo.iter().map(String::as_str).collect();
                asked.join(" ")
            },
        ),
    };
    // RFC 9068 §2.1: typ "at+jwt", so an access token is never mistaken for an ID token.
    plan.access_signer
        .sign("at+jwt", &access_claims)
        .map_err(internal)
}

/// The ID token of the plan (OIDC Core §2), with `at_hash` of `access_token` and
/// `c_hash` of `code` when given (§3.1.3.6, §3.3.2.11), each the hash of the ID
/// token's own `alg`.
fn id_token(
    ctx: &TokenContext<'_>,
    grant: &Grant<'_>,
    user: &User,
    plan: &Plan,
    signer: &Signer,
    access_token: Option<&str>,
    code: Option<&str>,
) -> Result<String, CatalogError> {
    // OIDC Core §5.4 by scope, §5.5 by name.
    let release = |claim| released(claim, |s| grant.scopes.contains(s), &grant.claims.id_token);
    let email = user.email.as_deref().filter(|_| release("email"));
    // Addresses are entered by administrators, not verified by Tessera.
    let email_verified = (user.email.is_some() && release("email_verified")).then_some(false);
    let id = IdClaims {
        acr: acr(&grant.amr),
        amr: &grant.amr,
        at_hash: access_token.map(|t| left_half_hash(signer.alg(), t)),
        aud: grant.app.client_id.as_str(),
        auth_time: grant.auth_time.unix_timestamp(),
        azp: grant.app.client_id.as_str(),
        c_hash: code.map(|c| left_half_hash(signer.alg(), c)),
        email,
        email_verified,
        exp: plan.access_expires_at.unix_timestamp(),
        iat: plan.now.unix_timestamp(),
        iss: &ctx.issuer,
        name: user.name.as_deref().filter(|_| release("name")),
        nonce: grant.nonce.as_deref(),
        oid: grant.user_id,
        preferred_username: release("preferred_username").then(|| user.username.as_str()),
        sid: &grant.sid,
        sub: grant.user_id,
        tid: grant.tenant.id,
    };
    signer.sign("JWT", &id).map_err(internal)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id_claims<'a>(amr: &'a [String], optional: Option<&'a str>) -> IdClaims<'a> {
        IdClaims {
            acr: acr(amr),
            amr,
            at_hash: Some("h".into()),
            aud: "web",
            auth_time: 1,
            azp: "web",
            c_hash: None,
            email: optional,
            email_verified: optional.map(|_| false),
            exp: 3,
            iat: 2,
            iss: "https://id.example/t",
            name: optional,
            nonce: optional,
            oid: UserId::from_uuid(uuid::Uuid::nil()),
            preferred_username: optional,
            sid: "s",
            sub: UserId::from_uuid(uuid::Uuid::nil()),
            tid: TenantId::from_uuid(uuid::Uuid::nil()),
        }
    }

    /// Claims the grant does not carry are left out, never `null`: OIDC Core §5.1 types
    /// them as strings and booleans, and strict clients refuse a null.
    #[test]
    fn id_token_claims_leave_out_what_the_grant_does_not_carry() {
        let amr = vec!["pwd".to_owned()];
        let bare = serde_json::to_value(id_claims(&amr, None)).unwrap();
        for claim in [
            "email",
            "email_verified",
            "name",
            "nonce",
            "preferred_username",
        ] {
            assert!(bare.get(claim).is_none(), "{claim} in {bare}");
        }
        assert_eq!(bare["amr"], serde_json::json!(["pwd"]));
        assert_eq!(bare["acr"], "1");
        assert_eq!(acr(&["pwd".to_owned(), "otp".to_owned()]), "2");
        assert_eq!(bare["sub"], uuid::Uuid::nil().to_string());

        let full = serde_json::to_value(id_claims(&amr, Some("x"))).unwrap();
        assert_eq!(full["email_verified"], false);
        for claim in ["email", "name", "nonce", "preferred_username"] {
            assert_eq!(full[claim], "x", "{claim}");
        }
    }

    #[test]
    fn a_token_response_leaves_out_absent_members() {
        let body = TokenResponse {
            access_token: "a".into(),
            client_info: None,
            expires_in: 60,
            ext_expires_in: 60,
            id_token: None,
            issued_token_type: None,
            refresh_token: None,
            scope: None,
            token_type: "Bearer",
            subject: None,
        };
        assert_eq!(
            serde_json::to_value(&body).unwrap(),
            serde_json::json!({ "access_token": "a", "expires_in": 60, "ext_expires_in": 60,
                "token_type": "Bearer" })
        );
    }
}
