//! `grant_type=refresh_token` (RFC 6749 §6) with rotation (RFC 9700 §4.14.2): every use
//! returns a new refresh token and retires the old one; presenting a retired token again
//! is reuse, which revokes the whole family. The old token is retired by a versioned
//! write in the same batch as the new one, so of concurrent uses exactly one succeeds,
//! and the losers count as reuse.
//!
//! A refresh token carries its record sealed (`RefreshToken::seal`), so a rotation whose
//! checks pass on that copy writes at once, on condition that the stored token is still
//! live and its user still exists and is enabled: one store round trip
//! ([`rotate_sealed`]). Everything else (a failed check, a token rotated or revoked
//! since, a token issued before tokens were sealed) takes the careful path, which reads
//! the stored token and its user first and answers exactly why, in its order.

use super::super::lookup;
use super::client_auth::Client;
use super::issue::{self, Grant, Issued};
use crate::error_response::store_error;
use crate::state::AppState;
use std::collections::BTreeSet;
use tessera_core::directory::model::{Consent, User};
use tessera_core::directory::object::{ObjectKind, StoredObject, Write, encode};
use tessera_core::directory::redirect::Platform;
use tessera_core::errors::render::timestamp;
use tessera_core::errors::{CatalogError, ErrorName};
use tessera_core::oauth::params::Params;
use tessera_core::oauth::records::{ROTATED, RefreshToken};
use tessera_core::oauth::scope;
use tessera_core::store::StoreError;
use tessera_core::tenant::Tenant;

pub async fn exchange(
    state: &AppState,
    tenant: &Tenant,
    client: &Client,
    params: &Params,
) -> Result<Issued, CatalogError> {
    let value = params
        .get("refresh_token")
        .ok_or_else(|| CatalogError::new(ErrorName::RefreshTokenParameterMissing))?;
    let presented = RefreshToken::presented(&state.master, tenant.id, value);
    let key = presented.key;
    if let Some((id, record)) = presented.sealed
        && let Some(issued) = rotate_sealed(state, tenant, client, params, &key, id, record).await?
    {
        return Ok(issued);
    }
    // The token and its user in one read (one round trip on PostgreSQL).
    let Some(lookup::RecordWithUser {
        object,
        record,
        user,
    }) = lookup::record_with_user::<RefreshToken>(state, tenant.id, ObjectKind::RefreshToken, &key)
        .await?
    else {
        return Err(CatalogError::new(ErrorName::RefreshTokenInvalid));
    };
    if record.client_id != client.app.client_id {
        return Err(CatalogError::new(ErrorName::RefreshTokenClientMismatch)
            .with("client_id", client.app.client_id.clone()));
    }
    match record.revoked.as_deref() {
        Some(ROTATED) => {
            revoke_family(
                state,
                tenant,
                &record,
                "a rotated-out refresh token was used again",
            )
            .await?;
            return Err(CatalogError::new(ErrorName::RefreshTokenReused));
        }
        Some(reason) => {
            return Err(
                CatalogError::new(ErrorName::RefreshTokenRevoked).with("reason", reason.to_owned())
            );
        }
        None => {}
    }
    check_expiry(state, tenant, &record)?;
    let (scopes, audience) = narrowed(state, tenant, client, params, &record).await?;

    let Some((user_object, user)) = user else {
        return Err(CatalogError::new(ErrorName::RefreshTokenRevoked)
            .with("reason", "the user no longer exists"));
    };
    if record.user_id.is_some_and(|id| id != user_object.id) {
        return Err(CatalogError::new(ErrorName::RefreshTokenRevoked)
            .with("reason", "the user it was issued to was deleted"));
    }
    if !user.enabled {
        return Err(CatalogError::new(ErrorName::AccountDisabled));
    }
    if client.app.assignment_required && !client.app.assigned_users.contains(&record.user) {
        return Err(CatalogError::new(ErrorName::RefreshTokenRevoked)
            .with("reason", "the user is no longer assigned to the app"));
    }
    let grant = grant(tenant, client, &record, user_object.id, scopes, audience);
    let plan = successor_plan(state, tenant, &grant, &record).await?;
    let now = plan.now;
    let issued = issue::tokens(state, &grant, &user, plan)?;
    let mut writes = vec![Write::Put(object.with_doc(retired(&record), now))];
    writes.extend(issued.refresh_write(state, tenant));
    match state.store.apply(writes).await {
        Ok(()) => Ok(issued),
        // The token changed since it was read. Revoked meanwhile (sign-out everywhere,
        // consent withdrawn): that is the answer. Otherwise another use of the same
        // token won, and this one is reuse.
        Err(StoreError::Conflict(_)) => {
            if let Some(reason) = revoked_meanwhile(state, tenant, &key).await? {
                return Err(
                    CatalogError::new(ErrorName::RefreshTokenRevoked).with("reason", reason)
                );
            }
            revoke_family(
                state,
                tenant,
                &record,
                "a refresh token was used twice at once",
            )
            .await?;
            Err(CatalogError::new(ErrorName::RefreshTokenReused))
        }
        Err(e) => Err(store_error(e)),
    }
}

/// The version of a refresh token's object while it is live: stored once (an insert
/// makes version 1, `Store::apply`) and written again only to retire it.
const LIVE_VERSION: i64 = 1;

/// The fast path: a sealed token whose own record passes every check is retired and
/// replaced in one conditional write, made only while the stored token is still live
/// (at [`LIVE_VERSION`]) and its user still exists under the same id and is enabled
/// (`Store::apply_if`, which returns that user for the new tokens' claims). `None`
/// when anything is not so: nothing was written, and the careful path answers.
async fn rotate_sealed(
    state: &AppState,
    tenant: &Tenant,
    client: &Client,
    params: &Params,
    key: &str,
    id: uuid::Uuid,
    record: RefreshToken,
) -> Result<Option<Issued>, CatalogError> {
    let Some(user_id) = record.user_id else {
        return Ok(None);
    };
    if record.client_id != client.app.client_id
        || check_expiry(state, tenant, &record).is_err()
        || (client.app.assignment_required && !client.app.assigned_users.contains(&record.user))
    {
        return Ok(None);
    }
    let Ok((scopes, audience)) = narrowed(state, tenant, client, params, &record).await else {
        return Ok(None);
    };
    let grant = grant(tenant, client, &record, user_id, scopes, audience);
    let plan = successor_plan(state, tenant, &grant, &record).await?;
    let Some(successor) = &plan.refresh else {
        return Ok(None);
    };
    let retired = StoredObject {
        id,
        tenant_id: tenant.id,
        kind: ObjectKind::RefreshToken,
        key: key.to_owned(),
        doc: retired(&record),
        created_at: record.issued_at,
        updated_at: plan.now,
        version: LIVE_VERSION,
        expires_at: Some(record.expires_at),
    };
    let required = lookup::enabled_user(tenant.id, &record.user, user_id);
    let writes = vec![Write::Put(retired), successor.stored.write(state, tenant)];
    let user_object = match state.store.apply_if(&required, writes).await {
        Ok(Some(user)) => user,
        // The user is gone or disabled, or the token was rotated or revoked meanwhile.
        Ok(None) | Err(StoreError::Conflict(_)) => return Ok(None),
        Err(e) => return Err(store_error(e)),
    };
    let user = user_object
        .decode::<User>()
        .map_err(|e| CatalogError::new(ErrorName::InternalError).internal(e))?;
    Ok(Some(issue::tokens(state, &grant, &user, plan)?))
}

/// The grant a rotation issues for: the token's own sign-in, with this request's scopes.
fn grant<'a>(
    tenant: &'a Tenant,
    client: &'a Client,
    record: &RefreshToken,
    user_id: uuid::Uuid,
    scopes: BTreeSet<String>,
    audience: Option<String>,
) -> Grant<'a> {
    Grant {
        tenant,
        app: &client.app,
        user_id,
        user_key: record.user.clone(),
        scopes,
        audience,
        nonce: None,
        sid: record.sid.clone(),
        auth_time: record.auth_time,
        amr: record.amr.clone(),
        platform: record.platform,
    }
}

/// The plan of a rotation: the new token keeps the family and the original grant's
/// scopes (a narrower request narrows this access token, not what the family may ask
/// for later).
async fn successor_plan(
    state: &AppState,
    tenant: &Tenant,
    grant: &Grant<'_>,
    record: &RefreshToken,
) -> Result<issue::Plan, CatalogError> {
    let successor = record.successor(
        state.clock.now(),
        tenant.policy.refresh_token_idle_seconds,
        grant.user_id,
    );
    issue::plan(state, grant, Some(successor)).await
}

/// The document of `record` retired by its rotation.
fn retired(record: &RefreshToken) -> String {
    encode(&RefreshToken {
        revoked: Some(ROTATED.to_owned()),
        ..record.clone()
    })
}

fn check_expiry(
    state: &AppState,
    tenant: &Tenant,
    record: &RefreshToken,
) -> Result<(), CatalogError> {
    let now = state.clock.now();
    let policy = &tenant.policy;
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
    state: &AppState,
    tenant: &Tenant,
    client: &Client,
    params: &Params,
    record: &RefreshToken,
) -> Result<(BTreeSet<String>, Option<String>), CatalogError> {
    let resource = params.get("resource");
    if params.get("scope").is_none() && resource.is_none() {
        return Ok((record.scopes.clone(), record.audience.clone()));
    }
    let consent = lookup::get::<Consent>(
        state,
        tenant.id,
        ObjectKind::Consent,
        &Consent::key(&client.app.client_id, &record.user),
    )
    .await?;
    let mut allowed: BTreeSet<String> = record.scopes.clone();
    if let Some((_, c)) = consent {
        allowed.extend(c.scopes);
    }
    let oidc = |s: &String| scope::OIDC_SCOPES.iter().any(|(o, _)| *o == s.as_str());
    let requested: BTreeSet<String> = match (params.get("scope"), resource) {
        (Some(raw), _) => {
            let apis = lookup::apis(state, tenant.id).await?;
            scope::resolve(raw, &client.app, &apis)?.values()
        }
        // Every consented scope of that API, plus the grant's OIDC scopes.
        (None, Some(api)) => {
            let of_api: BTreeSet<String> = allowed
                .iter()
                .filter(|s| scope::api_of(s, &client.app) == Some(api))
                .cloned()
                .collect();
            if of_api.is_empty() {
                let registered: Vec<&str> = client
                    .app
                    .permissions
                    .iter()
                    .map(|p| p.api.as_str())
                    .collect();
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
        }
        (None, None) => unreachable!("handled above"),
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
        client
            .app
            .permissions
            .iter()
            .find(|p| scope::api_of(s, &client.app) == Some(p.api.as_str()))
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

/// The reason the token under `key` is revoked now, unless it was only rotated out.
async fn revoked_meanwhile(
    state: &AppState,
    tenant: &Tenant,
    key: &str,
) -> Result<Option<String>, CatalogError> {
    let now = lookup::get::<RefreshToken>(state, tenant.id, ObjectKind::RefreshToken, key).await?;
    Ok(now
        .and_then(|(_, record)| record.revoked)
        .filter(|reason| reason != ROTATED))
}

/// Revokes every live token of `member`'s family (RFC 9700 §4.14.2); a family belongs
/// to one user, so only that user's tokens are read. A token rotated in between (a
/// concurrent request) makes the batch conflict; reading again catches it.
pub async fn revoke_family(
    state: &AppState,
    tenant: &Tenant,
    member: &RefreshToken,
    reason: &str,
) -> Result<(), CatalogError> {
    let family = member.family.as_str();
    crate::retry::on_conflict(|| async {
        // Rotated-out tokens too: their later use must read as revoked, not as reuse.
        let writes = revocations(state, tenant.id, &member.user, reason, |t| {
            t.family == family && t.revoked.as_deref().is_none_or(|r| r == ROTATED)
        })
        .await?;
        if writes.is_empty() {
            return Ok(());
        }
        state.store.apply(writes).await.map_err(store_error)
    })
    .await
    .map_err(|e| {
        if e.name == ErrorName::Conflict {
            // Only if the family kept changing through every attempt: the client may
            // try again shortly.
            CatalogError::new(ErrorName::TemporarilyUnavailable)
                .retry_after(1)
                .internal("family revocation kept conflicting")
        } else {
            e
        }
    })
}

/// The writes that mark every refresh token of `user_key` that `which` selects as
/// revoked for `reason` (versioned, so a token changed meanwhile makes the batch
/// conflict instead of being overwritten). The caller applies them, alone or with its
/// own change. Only that user's tokens are read (`Store::objects_of_user`).
pub async fn revocations(
    state: &AppState,
    tenant_id: uuid::Uuid,
    user_key: &str,
    reason: &str,
    which: impl Fn(&RefreshToken) -> bool,
) -> Result<Vec<Write>, CatalogError> {
    let internal = |e: String| CatalogError::new(ErrorName::InternalError).internal(e);
    let now = state.clock.now();
    let mut writes = Vec::new();
    for o in state
        .store
        .objects_of_user(tenant_id, ObjectKind::RefreshToken, user_key)
        .await
        .map_err(store_error)?
    {
        let mut token = o.decode::<RefreshToken>().map_err(internal)?;
        if which(&token) {
            token.revoked = Some(reason.to_owned());
            writes.push(Write::Put(o.with_doc(encode(&token), now)));
        }
    }
    Ok(writes)
}
