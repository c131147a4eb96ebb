//! `grant_type=refresh_token` (RFC 6749 §6) with rotation (RFC 9700 §4.14.2): every use
//! returns a new refresh token and retires the old one; presenting a retired token again
//! is reuse, which revokes the whole family.
//!
//! A refresh token's value is its record sealed (`RefreshToken::seal`); the store keeps
//! the same record under the object's id and is what says whether the token still works
//! (rotated, revoked) and whether its user does. One ordered check list ([`check`])
//! decides every presented token. It first runs on what a rotation assumes (the token
//! live, its user enabled), and the rotation writes on exactly that condition
//! (`Store::apply_if`: one round trip). When a check fails or the write is refused, the
//! facts are read from the store and the same list runs again: its answer is then the
//! response, in its order. A token whose sign-in the user's `sessions_valid_from` ended
//! is refused whatever its record says (decision 0023). Of concurrent uses of one token
//! exactly one rotation succeeds; the others read the token as rotated, which is reuse,
//! except that within the retry period below one of them may succeed as a retry.
//!
//! Reuse has one exception, for a client whose answer was lost: the rotation committed,
//! then the connection dropped or the server answered 503, so the client never saw the
//! new token and presents the old one again. Within the tenant's
//! `refresh_token_retry_seconds` of the rotation, while the successor it produced is
//! still unused, the old token rotates again: the unused successor becomes
//! [`SUPERSEDED`] and a new one is issued. The grace is what Okta calls the grace period
//! of rotation and Auth0 the reuse interval. Detection of a stolen token survives it
//! (RFC 9700 §4.14.2): whoever then presents the superseded successor, or the old token
//! once its successor was used, is reuse and revokes the family.

use super::super::context::TokenContext;
use super::super::family;
use super::super::issue::{self, Grant, TokenResponse};
use super::super::request::RefreshRequest;
use crate::directory::model::{App, Consent, User};
use crate::directory::redirect::Platform;
use crate::errors::render::timestamp;
use crate::errors::{CatalogError, ErrorName};
use crate::ids::ObjectId;
use crate::oauth::records::{ROTATED, RefreshToken, SUPERSEDED};
use crate::oauth::scope;
use crate::store::StoreError;
use crate::store::object::{ObjectKind, StoredObject, Write, encode};
use crate::store::read::{self, RecordWithUser};
use std::collections::BTreeSet;

/// The version of a refresh token's object while it is live: stored once (an insert
/// makes version 1) and written again only to retire or revoke it.
const LIVE_VERSION: i64 = 1;

/// Why a token whose sign-in was ended since is refused (RefreshTokenRevoked's reason).
const SIGN_IN_ENDED: &str = "the sign-in it rests on was ended since";

/// How many times the check list runs: on the assumed facts, on the facts read, and
/// once more if the token or its user changed between that read and the write.
const ATTEMPTS: usize = 3;

/// What the store holds about a presented token.
#[expect(
    clippy::large_enum_variant,
    reason = "at most three per request, on the stack; boxing would only add an allocation"
)]
enum Facts {
    /// Not read: the token assumed live at [`LIVE_VERSION`] and its user enabled under
    /// the record's user id. The conditional write confirms both or is refused.
    Assumed,
    /// Read: the token as stored, with the user its record names; `None` when the token
    /// is no longer stored.
    Read(Option<RecordWithUser<RefreshToken>>),
}

/// What a request asks of the grant beyond the token: RFC 6749 §6 `scope`, RFC 8707
/// `resource`. Introspection asks for neither.
#[derive(Clone, Copy, Default)]
struct Asked<'a> {
    scope: Option<&'a str>,
    resource: Option<&'a str>,
    /// `Some`: a redemption, with the request's Origin (a single-page app's token is
    /// redeemed only from its app's origins, `token::browser`). `None`: introspection,
    /// which asks whether the client could use the token, not from where.
    redeemed_from: Option<Option<&'a str>>,
}

impl<'a> From<&'a RefreshRequest> for Asked<'a> {
    fn from(request: &'a RefreshRequest) -> Self {
        Self {
            scope: request.scope.as_deref(),
            resource: request.resource.as_deref(),
            redeemed_from: Some(request.origin.as_deref()),
        }
    }
}

pub async fn exchange(
    ctx: &TokenContext<'_>,
    app: &App,
    request: &RefreshRequest,
) -> Result<TokenResponse, CatalogError> {
    let Some((id, record)) =
        RefreshToken::open(ctx.master, ctx.tenant.id, request.refresh_token.expose())
    else {
        return Err(CatalogError::new(ErrorName::RefreshTokenInvalid));
    };
    let key = RefreshToken::id_key(id);
    let mut facts = Facts::Assumed;
    let mut superseding = None;
    // A request tries one retry write. If another presentation of the token wrote
    // first (a retry storm, or a thief racing the client), the token is reuse, which
    // ends the family, rather than each request replacing the last one's successor.
    let mut may_retry = true;
    for _ in 0..ATTEMPTS {
        let asked = request.into();
        let retrying = superseding.is_some();
        let superseded = superseding.take();
        match rotate(ctx, app, asked, id, &key, &record, &facts, superseded).await {
            Ok(Some(issued)) => return Ok(issued),
            // The write was refused: the token or its user changed. Read what they are.
            Ok(None) => may_retry &= !retrying,
            // A check failed on what was only assumed: the facts read decide.
            Err(e) if matches!(facts, Facts::Assumed) && e.entry().status < 500 => {}
            Err(e) => {
                if e.name == ErrorName::RefreshTokenReused {
                    let reason = "a rotated-out refresh token was used again";
                    family::revoke_family(
                        ctx.store,
                        ctx.clock.now(),
                        ctx.tenant.id,
                        &record,
                        reason,
                        |d| ctx.services.pause(d),
                    )
                    .await?;
                }
                return Err(e);
            }
        }
        facts = read_facts(ctx, &key).await?;
        if may_retry {
            (facts, superseding) = retry(ctx, facts).await?;
        }
    }
    Err(CatalogError::new(ErrorName::TemporarilyUnavailable)
        .retry_after(1)
        .internal("the refresh token or its user kept changing during rotation"))
}

/// A presented refresh token as it stands, without using it: its record when every
/// check of the list passes for `app` (introspection: RFC 7662 §2.2, active only while
/// the token could be used). Nothing is written, so a reuse is not acted upon here.
pub async fn usable(
    ctx: &TokenContext<'_>,
    app: &App,
    value: &str,
) -> Result<RefreshToken, CatalogError> {
    let Some((id, record)) = RefreshToken::open(ctx.master, ctx.tenant.id, value) else {
        return Err(CatalogError::new(ErrorName::RefreshTokenInvalid));
    };
    let facts = read_facts(ctx, &RefreshToken::id_key(id)).await?;
    check(ctx, app, Asked::default(), &record, &facts).await?;
    Ok(record)
}

async fn read_facts(ctx: &TokenContext<'_>, key: &str) -> Result<Facts, CatalogError> {
    // The token and its user in one read (one round trip on PostgreSQL).
    let kind = ObjectKind::RefreshToken;
    let found = read::record_with_user(ctx.store, ctx.tenant.id, kind, key).await?;
    Ok(Facts::Read(found))
}

/// A retry within the grace of the module's header: when `facts` read the token rotated
/// out within the tenant's `refresh_token_retry_seconds`, and the successor it was
/// rotated into is stored, live and never rotated, the facts of the token as if it were
/// live (every other check still runs on them) and the successor voided
/// ([`SUPERSEDED`]), to be written with the new rotation. Otherwise `facts` as they
/// are, and the answer stays reuse.
async fn retry(
    ctx: &TokenContext<'_>,
    facts: Facts,
) -> Result<(Facts, Option<StoredObject>), CatalogError> {
    let Facts::Read(Some(mut found)) = facts else {
        return Ok((facts, None));
    };
    let seconds = ctx.tenant.policy.refresh_token_retry_seconds;
    let grace = time::Duration::seconds(i64::from(seconds));
    let now = ctx.clock.now();
    let within = seconds > 0 && now - found.object.updated_at <= grace;
    let next = match (found.record.revoked.as_deref(), found.record.successor) {
        (Some(ROTATED), Some(next)) if within => next,
        _ => return Ok((Facts::Read(Some(found)), None)),
    };
    let kind = ObjectKind::RefreshToken;
    let key = RefreshToken::id_key(next);
    let successor = read::get::<RefreshToken>(ctx.store, ctx.tenant.id, kind, &key).await?;
    let Some((object, record)) = successor
        .filter(|(object, record)| record.revoked.is_none() && object.version == LIVE_VERSION)
    else {
        return Ok((Facts::Read(Some(found)), None));
    };
    let void = encode(&RefreshToken {
        revoked: Some(SUPERSEDED.to_owned()),
        ..record
    });
    found.record.revoked = None;
    Ok((Facts::Read(Some(found)), Some(object.with_doc(void, now))))
}

/// Checks `record` on `facts` and, when every check passes, retires it and stores its
/// successor on condition that the facts hold (and, on a retry, voids the successor it
/// had: `superseding`). `Ok(None)`: they did not; nothing was written.
#[expect(
    clippy::too_many_arguments,
    reason = "the token as presented, where it is stored, and what is known of it"
)]
async fn rotate(
    ctx: &TokenContext<'_>,
    app: &App,
    asked: Asked<'_>,
    id: ObjectId,
    key: &str,
    record: &RefreshToken,
    facts: &Facts,
    superseding: Option<StoredObject>,
) -> Result<Option<TokenResponse>, CatalogError> {
    let (scopes, audience) = check(ctx, app, asked, record, facts).await?;
    let grant = Grant {
        tenant: ctx.tenant,
        app,
        user_id: record.user_id,
        user_key: record.user.clone(),
        scopes,
        audience,
        nonce: None,
        claims: record.claims.clone(),
        sid: record.sid.clone(),
        auth_time: record.auth_time,
        amr: record.amr.clone(),
        platform: record.platform,
        delegated: false,
    };
    // The new token keeps the family and the original grant's scopes: a narrower request
    // narrows this access token, not what the family may ask for later.
    let now = ctx.clock.now();
    let successor = record.successor(now, ctx.tenant.policy.refresh_token_idle_seconds);
    let plan = issue::plan(ctx, &grant, Some(successor)).await?;
    let Some(next) = plan.refresh.as_ref() else {
        return Err(
            CatalogError::new(ErrorName::InternalError).internal("a rotation planned no successor")
        );
    };
    let (stored_successor, next_id) = (next.stored.write(ctx), next.stored.id);
    let retired = match facts {
        Facts::Read(Some(found)) => found
            .object
            .clone()
            .with_doc(retired(record, next_id), plan.now),
        _ => StoredObject {
            id,
            tenant_id: ctx.tenant.id,
            kind: ObjectKind::RefreshToken,
            key: key.to_owned(),
            doc: retired(record, next_id),
            created_at: record.issued_at,
            updated_at: plan.now,
            version: LIVE_VERSION,
            expires_at: Some(record.expires_at),
        },
    };
    let required = read::enabled_user(ctx.tenant.id, &record.user, record.user_id);
    let mut writes = vec![Write::Put(retired), stored_successor];
    writes.extend(superseding.map(Write::Put));
    let user = match ctx.store.apply_if(&required, writes).await {
        Ok(Some(user)) => user
            .decode::<User>()
            .map_err(|e| CatalogError::new(ErrorName::InternalError).internal(e))?,
        // The user is gone or disabled, or the token was rotated or revoked meanwhile.
        Ok(None) | Err(StoreError::Conflict(_)) => return Ok(None),
        Err(e) => return Err(e.into()),
    };
    // The user as of the write: a sign-in ended before it (`User::sessions_valid_from`)
    // hands out nothing. The successor just stored is then a record whose value nobody
    // was given; the read facts answer the client (`check`).
    if user.sign_in_revoked(record.auth_time) {
        return Err(revoked(SIGN_IN_ENDED));
    }
    Ok(Some(issue::tokens(ctx, &grant, &user, plan)?))
}

/// The one check list of a presented refresh token, in order; on success, the scopes
/// and audience of the access token to issue. Facts only assumed pass the checks that
/// need the store; the conditional write then confirms them.
async fn check(
    ctx: &TokenContext<'_>,
    app: &App,
    asked: Asked<'_>,
    record: &RefreshToken,
    facts: &Facts,
) -> Result<(BTreeSet<String>, Option<String>), CatalogError> {
    let stored = match facts {
        Facts::Assumed => None,
        // Swept after its end, or never stored (a token whose grant failed).
        Facts::Read(None) => return Err(CatalogError::new(ErrorName::RefreshTokenInvalid)),
        Facts::Read(Some(found)) => Some(found),
    };
    // RFC 6749 §6: the token must have been issued to the authenticated client.
    if record.client_id != app.client_id {
        return Err(CatalogError::new(ErrorName::RefreshTokenClientMismatch)
            .with("client_id", app.client_id.clone()));
    }
    if app.tokens_revoked(record.issued_at) {
        return Err(revoked("the app was disabled or registered anew since"));
    }
    if let Some(origin) = asked.redeemed_from {
        crate::oauth::token::browser::check_origin(app, record.platform, origin)?;
    }
    let retired = match stored.and_then(|s| s.record.revoked.as_deref()) {
        Some(ROTATED | SUPERSEDED) => true,
        Some(reason) => return Err(revoked(reason)),
        None => false,
    };
    // The sign-in the family rests on was ended since (the user's sessions revoked,
    // the user disabled, the password reset or changed): the token is void whatever its
    // record says, before reuse is considered, as the family is over anyway. Assumed
    // facts know no user; the rotation checks the user its write returns (`rotate`).
    if let Some((_, user)) = stored.and_then(|s| s.user.as_ref())
        && user.sign_in_revoked(record.auth_time)
    {
        return Err(revoked(SIGN_IN_ENDED));
    }
    // RFC 9700 §4.14.2: a rotated-out token came back, or a successor voided by a retry
    // (the caller revokes its family).
    if retired {
        return Err(CatalogError::new(ErrorName::RefreshTokenReused));
    }
    check_expiry(ctx, record)?;
    let narrowed = narrowed(ctx, app, asked, record).await?;
    if let Some(found) = stored {
        let Some((user_object, user)) = &found.user else {
            return Err(revoked("the user no longer exists"));
        };
        if !user_object.id.is(record.user_id) {
            return Err(revoked("the user it was issued to was deleted"));
        }
        if !user.enabled {
            return Err(CatalogError::new(ErrorName::AccountDisabled));
        }
    }
    // Assumed facts know no groups: a user admitted only through a group fails here
    // first, and the facts read (with the user's groups) decide (`exchange`).
    static NO_GROUPS: BTreeSet<String> = BTreeSet::new();
    let groups = stored
        .and_then(|s| s.user.as_ref())
        .map_or(&NO_GROUPS, |(_, u)| &u.groups);
    if !app.admits(&record.user, groups) {
        return Err(revoked("the user is no longer assigned to the app"));
    }
    // A second factor the tenant or the app requires now, which the sign-in the token
    // rests on did not present: the user signs in again (MfaRequired, whose suberror
    // `basic_action` has MSAL ask interactively). The token stays as it is.
    if (ctx.tenant.policy.mfa_required || app.mfa_required)
        && !record.amr.iter().any(|m| m == "otp")
    {
        return Err(CatalogError::new(ErrorName::MfaRequired));
    }
    Ok(narrowed)
}

/// RefreshTokenRevoked, saying why.
fn revoked(reason: &str) -> CatalogError {
    CatalogError::new(ErrorName::RefreshTokenRevoked).with("reason", reason.to_owned())
}

/// The document of `record` retired by its rotation into the object `successor`.
fn retired(record: &RefreshToken, successor: ObjectId) -> String {
    encode(&RefreshToken {
        revoked: Some(ROTATED.to_owned()),
        successor: Some(successor),
        ..record.clone()
    })
}

/// The family's absolute (or, for single-page apps, fixed) lifetime first, then the
/// token's idle period.
fn check_expiry(ctx: &TokenContext<'_>, record: &RefreshToken) -> Result<(), CatalogError> {
    let now = ctx.clock.now();
    let policy = &ctx.tenant.policy;
    if record.family_expires_at <= now {
        if record.platform == Platform::Spa {
            return Err(CatalogError::new(ErrorName::SpaRefreshTokenExpired).with(
                "time",
                format!("{}-second", policy.spa_refresh_token_lifetime_seconds),
            ));
        }
        return Err(CatalogError::new(ErrorName::RefreshTokenExpired)
            .with("time", timestamp(record.family_expires_at))
            .with(
                "lifetime",
                format!("absolute {}-second", policy.refresh_token_lifetime_seconds),
            ));
    }
    if record.expires_at <= now {
        return Err(CatalogError::new(ErrorName::RefreshTokenExpired)
            .with("time", timestamp(record.expires_at))
            .with(
                "lifetime",
                format!("idle {}-second", policy.refresh_token_idle_seconds),
            ));
    }
    Ok(())
}

/// The scopes and audience of this access token (RFC 6749 §6: `scope` may only narrow
/// the grant). Within the user's consent for this client, the refresh token also gets
/// tokens for another API, named by its scopes or by RFC 8707 `resource`.
async fn narrowed(
    ctx: &TokenContext<'_>,
    app: &App,
    asked: Asked<'_>,
    record: &RefreshToken,
) -> Result<(BTreeSet<String>, Option<String>), CatalogError> {
    let resource = asked.resource;
    if asked.scope.is_none() && resource.is_none() {
        return Ok((record.scopes.clone(), record.audience.clone()));
    }
    let consent = read::get::<Consent>(
        ctx.store,
        ctx.tenant.id,
        ObjectKind::Consent,
        &Consent::key(&app.client_id, &record.user),
    )
    .await?;
    let mut allowed: BTreeSet<String> = record.scopes.clone();
    if let Some((_, c)) = consent {
        allowed.extend(c.scopes);
    }
    let oidc = |s: &String| scope::OIDC_SCOPES.iter().any(|(o, _)| *o == s.as_str());
    let requested: BTreeSet<String> = if let Some(raw) = asked.scope {
        let apis = ctx.services.apis(ctx.tenant.id).await?;
        scope::resolve(raw, app, &apis)?.values()
    } else {
        // Every consented scope of the API `resource` names, plus the grant's OIDC scopes.
        let api = resource.unwrap_or_default();
        let of_api: BTreeSet<String> = allowed
            .iter()
            .filter(|s| scope::api_of(s, app) == Some(api))
            .cloned()
            .collect();
        if of_api.is_empty() {
            let registered: Vec<&str> = app.permissions.iter().map(|p| p.api.as_str()).collect();
            return Err(CatalogError::new(ErrorName::InvalidResource)
                .with("resource", api.chars().take(200).collect::<String>())
                .with("resources", registered.join(" ")));
        }
        record
            .scopes
            .iter()
            .filter(|s| oidc(s))
            .cloned()
            .chain(of_api)
            .collect()
    };
    let extra: Vec<&str> = requested
        .iter()
        .filter(|s| !allowed.contains(*s))
        .map(String::as_str)
        .collect();
    if !extra.is_empty() {
        return Err(CatalogError::new(ErrorName::ScopeNotSubset).with("scope", extra.join(" ")));
    }
    let audience = requested.iter().filter(|s| !oidc(s)).find_map(|s| {
        app.permissions
            .iter()
            .find(|p| scope::api_of(s, app) == Some(p.api.as_str()))
            .map(|p| p.api.clone())
    });
    if let (Some(r), Some(a)) = (resource, &audience)
        && r != a
    {
        return Err(CatalogError::new(ErrorName::InvalidRequestFormat)
            .with("detail", "scope and resource name different APIs"));
    }
    Ok((requested, audience))
}
