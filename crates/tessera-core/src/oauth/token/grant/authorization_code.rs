//! `grant_type=authorization_code` (RFC 6749 §4.1.3, RFC 7636 §4.5): open the code (it
//! carries its own record, `AuthCode::seal`), check everything it was bound to, and
//! issue tokens. The redemption stores the record under the code's hash as a new
//! object, in the same atomic write as the refresh token, so of two concurrent
//! redemptions exactly one succeeds; a replay revokes what the first redemption issued
//! (RFC 6749 §4.1.2, RFC 9700 §4.5).

use super::super::context::TokenContext;
use super::super::issue::{self, Grant, TokenResponse};
use super::super::request::CodeRequest;
use super::super::{deny_list, family};
use crate::directory::model::{App, User};
use crate::errors::{CatalogError, ErrorName};
use crate::oauth::records::{AuthCode, Redemption, RefreshToken, purpose};
use crate::store::StoreError;
use crate::store::object::{ObjectKind, StoredObject, Write, encode};
use crate::store::read;

pub async fn exchange(
    ctx: &TokenContext<'_>,
    app: &App,
    request: &CodeRequest,
) -> Result<TokenResponse, CatalogError> {
    let code = request.code.expose();
    let Some(record) = AuthCode::open(ctx.master, ctx.tenant.id, code) else {
        return Err(CatalogError::new(ErrorName::AuthorizationCodeInvalid));
    };
    let key = ctx.master.token_hash(purpose::CODE, code);
    match redeem(ctx, app, request, &key, record).await {
        Ok(issued) => Ok(issued),
        // Void since its sign-in was ended: the redemption this request stored is
        // revoked like a replay's (nothing was handed out), and the answer says why.
        Err(refused) if refused.name == ErrorName::AuthorizationCodeRevoked => {
            replayed(ctx, &key).await?;
            Err(refused)
        }
        // A code that was redeemed before is a replay, whatever else is wrong with this
        // request: RFC 6749 §4.1.2 asks to deny it and revoke what the code gave.
        Err(refused) => Err(replayed(ctx, &key).await?.unwrap_or(refused)),
    }
}

/// Checks the code's bindings, issues the tokens and stores the redemption. The
/// redemption is stored on condition that the user still exists under the code's user
/// id and is enabled (`Store::apply_if`, one round trip on PostgreSQL, returning the
/// user for the ID token's claims), so the user is not read first; when that condition
/// fails, nothing was written, and the user is read to say why.
async fn redeem(
    ctx: &TokenContext<'_>,
    app: &App,
    request: &CodeRequest,
    key: &str,
    record: AuthCode,
) -> Result<TokenResponse, CatalogError> {
    check(ctx, app, request, &record)?;
    let grant = Grant {
        tenant: ctx.tenant,
        app,
        user_id: record.user_id,
        user_key: record.user.clone(),
        scopes: record.scopes.clone(),
        audience: record.audience.clone(),
        nonce: record.nonce.clone(),
        claims: record.claims.clone(),
        sid: record.sid.clone(),
        auth_time: record.auth_time,
        amr: record.amr.clone(),
        platform: record.platform,
        delegated: false,
    };
    let plan = issue::plan(ctx, &grant, None).await?;

    // The redemption, as a new object under the code's hash (a second one conflicts),
    // and the refresh token, in one atomic write. It is kept while the access token it
    // gave can live, so a replay can still revoke that token.
    let now = plan.now;
    let redemption = Redemption {
        at: now,
        access_token_jti: plan.access_jti.clone(),
        access_token_expires_at: plan.access_expires_at,
        refresh_token_key: plan.refresh.as_ref().map(|r| r.stored.key.clone()),
    };
    let expires_at = record.expires_at.max(plan.access_expires_at);
    let consumed = AuthCode {
        redeemed: Some(redemption),
        ..record.clone()
    };
    let redeemed = StoredObject::new(
        ctx.rng.record_id(now),
        ctx.tenant.id,
        ObjectKind::AuthCode,
        key.to_owned(),
        encode(&consumed),
        now,
    )
    .expiring(expires_at);
    let mut writes = vec![Write::Put(redeemed)];
    writes.extend(plan.refresh.as_ref().map(|r| r.stored.write(ctx)));
    let required = read::enabled_user(ctx.tenant.id, &record.user, record.user_id);
    let user = match ctx.store.apply_if(&required, writes).await {
        Ok(Some(user)) => user
            .decode::<User>()
            .map_err(|e| CatalogError::new(ErrorName::InternalError).internal(e))?,
        // The user is gone, another under the name, or disabled: read it to say which.
        Ok(None) => return Err(why_not_redeemed(ctx, &record).await),
        // Another redemption stored it first: this one is the replay (`exchange` revokes).
        Err(StoreError::Conflict(_)) => {
            return Err(CatalogError::new(ErrorName::AuthorizationCodeRedeemed));
        }
        Err(e) => return Err(e.into()),
    };
    // The user's sign-ins were ended after this code's sign-in (sessions revoked, the
    // user disabled, the password reset): the code is void. What the redemption stored
    // is never handed out (and a replay of the code revokes it).
    if user.sign_in_revoked(record.auth_time) {
        return Err(CatalogError::new(ErrorName::AuthorizationCodeRevoked));
    }
    issue::tokens(ctx, &grant, &user, plan)
}

/// Why the conditional write found no enabled user under the code's user id.
async fn why_not_redeemed(ctx: &TokenContext<'_>, record: &AuthCode) -> CatalogError {
    let invalid = |why: &str| CatalogError::new(ErrorName::AuthorizationCodeInvalid).internal(why);
    match read::get::<User>(ctx.store, ctx.tenant.id, ObjectKind::User, &record.user).await {
        Err(e) => e,
        Ok(None) => invalid("the code's user no longer exists"),
        Ok(Some((object, _))) if !object.id.is(record.user_id) => {
            invalid("the code's user was deleted and the name reused")
        }
        Ok(Some((_, user))) if !user.enabled => CatalogError::new(ErrorName::AccountDisabled),
        Ok(Some(_)) => invalid("the code's user changed while it was redeemed"),
    }
}

/// When the code was redeemed before: revokes what that redemption issued and returns
/// the replay's error.
async fn replayed(ctx: &TokenContext<'_>, key: &str) -> Result<Option<CatalogError>, CatalogError> {
    let Some((_, earlier)) =
        read::get::<AuthCode>(ctx.store, ctx.tenant.id, ObjectKind::AuthCode, key).await?
    else {
        return Ok(None);
    };
    let Some(redemption) = &earlier.redeemed else {
        return Ok(None);
    };
    revoke(ctx, redemption, "authorization code replayed").await?;
    Ok(Some(CatalogError::new(
        ErrorName::AuthorizationCodeRedeemed,
    )))
}

/// The code's bindings, in the order RFC 6749 §4.1.3 lists them.
fn check(
    ctx: &TokenContext<'_>,
    app: &App,
    request: &CodeRequest,
    record: &AuthCode,
) -> Result<(), CatalogError> {
    if record.expires_at <= ctx.clock.now() {
        return Err(CatalogError::new(ErrorName::AuthorizationCodeExpired).with(
            "seconds",
            ctx.tenant.policy.code_lifetime_seconds.to_string(),
        ));
    }
    if record.client_id != app.client_id {
        return Err(
            CatalogError::new(ErrorName::AuthorizationCodeClientMismatch)
                .with("client_id", app.client_id.clone()),
        );
    }
    if app.tokens_revoked(record.issued_at) {
        return Err(CatalogError::new(ErrorName::AuthorizationCodeRevoked));
    }
    // §4.1.3: redirect_uri is required when the authorization request had one (always,
    // here), and must be identical.
    let sent = request.redirect_uri.as_deref().unwrap_or_default();
    if sent != record.redirect_uri {
        return Err(
            CatalogError::new(ErrorName::AuthorizationCodeRedirectMismatch)
                .with("redirect_uri", sent.chars().take(300).collect::<String>()),
        );
    }
    // RFC 7636 §4.6; RFC 9700 §2.1.1: a verifier for a code issued without a challenge
    // is refused too (PKCE downgrade).
    match (&record.challenge, request.code_verifier.as_deref()) {
        (Some(challenge), Some(verifier)) => challenge.verify(verifier)?,
        (Some(_), None) => return Err(CatalogError::new(ErrorName::PkceVerifierMissing)),
        (None, Some(_)) => {
            return Err(CatalogError::new(ErrorName::PkceNotExpected)
                .with("reason", "the authorization request had no code_challenge"));
        }
        (None, None) => {}
    }
    // A code issued to a single-page app's redirect URI is redeemed by the browser,
    // from one of the app's own origins.
    super::super::browser::check_origin(app, record.platform, request.origin.as_deref())
}

/// Revokes what a code's redemption issued: its refresh token's whole family (the
/// client may have rotated the first token already), and its access token by `jti`
/// until that token would have expired.
async fn revoke(
    ctx: &TokenContext<'_>,
    redemption: &Redemption,
    reason: &str,
) -> Result<(), CatalogError> {
    let now = ctx.clock.now();
    if let Some(key) = &redemption.refresh_token_key
        && let Some((_, token)) =
            read::get::<RefreshToken>(ctx.store, ctx.tenant.id, ObjectKind::RefreshToken, key)
                .await?
    {
        family::revoke_family(ctx.store, now, ctx.tenant.id, &token, reason, |d| {
            ctx.services.pause(d)
        })
        .await?;
    }
    deny_list::deny(
        ctx.store,
        ctx.rng,
        now,
        ctx.tenant.id,
        &redemption.access_token_jti,
        redemption.access_token_expires_at,
        reason,
    )
    .await
}
