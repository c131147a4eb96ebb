//! `grant_type=authorization_code` (RFC 6749 §4.1.3, RFC 7636 §4.5): open the code (it
//! carries its own record, `AuthCode::seal`), check everything it was bound to, and
//! issue tokens. The redemption stores the record under the code's hash as a new
//! object, in the same atomic write as the refresh token, so of two concurrent
//! redemptions exactly one succeeds; a replay revokes what the first redemption issued
//! (RFC 6749 §4.1.2, RFC 9700 §4.5).

use super::super::lookup;
use super::client_auth::Client;
use super::issue::{self, Grant, Issued};
use crate::error_response::store_error;
use crate::state::AppState;
use axum::http::{HeaderMap, header};
use tessera_core::directory::model::User;
use tessera_core::directory::object::{ObjectKind, StoredObject, Write, encode};
use tessera_core::directory::redirect::Platform;
use tessera_core::errors::{CatalogError, ErrorName};
use tessera_core::oauth::params::Params;
use tessera_core::oauth::records::{AuthCode, Redemption, RefreshToken, purpose};
use tessera_core::store::StoreError;
use tessera_core::tenant::Tenant;

pub async fn exchange(
    state: &AppState,
    tenant: &Tenant,
    client: &Client,
    headers: &HeaderMap,
    params: &Params,
) -> Result<Issued, CatalogError> {
    let code = params.require("code")?;
    let Some(record) = AuthCode::open(&state.master, tenant.id, code) else {
        return Err(CatalogError::new(ErrorName::AuthorizationCodeInvalid));
    };
    let key = state.master.token_hash(purpose::CODE, code);
    match redeem(state, tenant, client, headers, params, &key, record).await {
        Ok(issued) => Ok(issued),
        // A code that was redeemed before is a replay, whatever else is wrong with this
        // request: RFC 6749 §4.1.2 asks to deny it and revoke what the code gave.
        Err(refused) => Err(replayed(state, tenant, &key).await?.unwrap_or(refused)),
    }
}

/// Checks the code's bindings and user, issues the tokens and stores the redemption.
/// The redemption is stored on condition that the user still exists under the code's
/// user id and is enabled (`Store::apply_if`, one round trip on PostgreSQL, returning
/// the user for the ID token's claims), so the user is not read first; when that
/// condition fails, nothing was written, and the user is read to say why.
async fn redeem(
    state: &AppState,
    tenant: &Tenant,
    client: &Client,
    headers: &HeaderMap,
    params: &Params,
    key: &str,
    record: AuthCode,
) -> Result<Issued, CatalogError> {
    check(state, tenant, client, headers, params, &record)?;
    // Codes issued before records named their user's id (migration-era codes live a
    // minute) are redeemed by reading the user first.
    let user_id = match record.user_id {
        Some(id) => id,
        None => user_of(state, tenant, &record).await?.0.id,
    };
    let grant = Grant {
        tenant,
        app: &client.app,
        user_id,
        user_key: record.user.clone(),
        scopes: record.scopes.clone(),
        audience: record.audience.clone(),
        nonce: record.nonce.clone(),
        sid: record.sid.clone(),
        auth_time: record.auth_time,
        amr: record.amr.clone(),
        platform: record.platform,
    };
    let plan = issue::plan(state, &grant, None).await?;

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
        state.rng.record_id(now),
        tenant.id,
        ObjectKind::AuthCode,
        key.to_owned(),
        encode(&consumed),
        now,
    )
    .expiring(expires_at);
    let mut writes = vec![Write::Put(redeemed)];
    writes.extend(plan.refresh.as_ref().map(|r| r.stored.write(state, tenant)));
    let required = lookup::enabled_user(tenant.id, &record.user, user_id);
    let user = match state.store.apply_if(&required, writes).await {
        Ok(Some(user)) => user
            .decode::<User>()
            .map_err(|e| CatalogError::new(ErrorName::InternalError).internal(e))?,
        // The user is gone, another under the name, or disabled: read it to say which.
        Ok(None) => {
            let (_, user) = user_of(state, tenant, &record).await?;
            if !user.enabled {
                return Err(CatalogError::new(ErrorName::AccountDisabled));
            }
            return Err(CatalogError::new(ErrorName::AuthorizationCodeInvalid)
                .internal("the code's user changed while it was redeemed"));
        }
        // Another redemption stored it first: this one is the replay (`exchange` revokes).
        Err(StoreError::Conflict(_)) => {
            return Err(CatalogError::new(ErrorName::AuthorizationCodeRedeemed));
        }
        Err(e) => return Err(store_error(e)),
    };
    issue::tokens(state, &grant, &user, plan)
}

/// The code's user, read: `AuthorizationCodeInvalid` when it no longer exists or is
/// another user under the same name.
async fn user_of(
    state: &AppState,
    tenant: &Tenant,
    record: &AuthCode,
) -> Result<(StoredObject, User), CatalogError> {
    let Some((user_object, user)) =
        lookup::get::<User>(state, tenant.id, ObjectKind::User, &record.user).await?
    else {
        return Err(CatalogError::new(ErrorName::AuthorizationCodeInvalid)
            .internal("the code's user no longer exists"));
    };
    if record.user_id.is_some_and(|id| id != user_object.id) {
        return Err(CatalogError::new(ErrorName::AuthorizationCodeInvalid)
            .internal("the code's user was deleted and the name reused"));
    }
    Ok((user_object, user))
}

/// When the code was redeemed before: revokes what that redemption issued and returns
/// the replay's error.
async fn replayed(
    state: &AppState,
    tenant: &Tenant,
    key: &str,
) -> Result<Option<CatalogError>, CatalogError> {
    let Some((_, earlier)) =
        lookup::get::<AuthCode>(state, tenant.id, ObjectKind::AuthCode, key).await?
    else {
        return Ok(None);
    };
    let Some(redemption) = &earlier.redeemed else {
        return Ok(None);
    };
    revoke(state, tenant, redemption, "authorization code replayed").await?;
    Ok(Some(CatalogError::new(
        ErrorName::AuthorizationCodeRedeemed,
    )))
}

/// The code's bindings, in the order RFC 6749 §4.1.3 lists them.
fn check(
    state: &AppState,
    tenant: &Tenant,
    client: &Client,
    headers: &HeaderMap,
    params: &Params,
    record: &AuthCode,
) -> Result<(), CatalogError> {
    if record.expires_at <= state.clock.now() {
        return Err(CatalogError::new(ErrorName::AuthorizationCodeExpired)
            .with("seconds", tenant.policy.code_lifetime_seconds.to_string()));
    }
    if record.client_id != client.app.client_id {
        return Err(
            CatalogError::new(ErrorName::AuthorizationCodeClientMismatch)
                .with("client_id", client.app.client_id.clone()),
        );
    }
    // §4.1.3: redirect_uri is required when the authorization request had one (always,
    // here), and must be identical.
    let sent = params.get("redirect_uri").unwrap_or_default();
    if sent != record.redirect_uri {
        return Err(
            CatalogError::new(ErrorName::AuthorizationCodeRedirectMismatch)
                .with("redirect_uri", sent.chars().take(300).collect::<String>()),
        );
    }
    // RFC 7636 §4.6; RFC 9700 §2.1.1: a verifier for a code issued without a challenge
    // is refused too (PKCE downgrade).
    match (&record.challenge, params.get("code_verifier")) {
        (Some(challenge), Some(verifier)) => challenge.verify(verifier)?,
        (Some(_), None) => return Err(CatalogError::new(ErrorName::PkceVerifierMissing)),
        (None, Some(_)) => {
            return Err(CatalogError::new(ErrorName::PkceNotExpected)
                .with("reason", "the authorization request had no code_challenge"));
        }
        (None, None) => {}
    }
    // A code issued to a single-page app's redirect URI is redeemed by the browser,
    // which always sends Origin on a cross-origin POST.
    if record.platform == Platform::Spa && !headers.contains_key(header::ORIGIN) {
        return Err(CatalogError::new(ErrorName::SpaOriginRequired));
    }
    Ok(())
}

/// Revokes what a code's redemption issued: its refresh token, and its access token by
/// `jti` until that token would have expired.
async fn revoke(
    state: &AppState,
    tenant: &Tenant,
    redemption: &Redemption,
    reason: &str,
) -> Result<(), CatalogError> {
    // The whole family: the client may have rotated the first refresh token already.
    if let Some(key) = &redemption.refresh_token_key
        && let Some((_, token)) =
            lookup::get::<RefreshToken>(state, tenant.id, ObjectKind::RefreshToken, key).await?
    {
        super::refresh_token::revoke_family(state, tenant, &token, reason).await?;
    }
    super::super::access_token::deny(
        state,
        tenant,
        &redemption.access_token_jti,
        redemption.access_token_expires_at,
        reason,
    )
    .await
}
