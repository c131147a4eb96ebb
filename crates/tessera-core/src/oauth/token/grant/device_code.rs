//! `grant_type=urn:ietf:params:oauth:grant-type:device_code` (RFC 8628 §3.4–3.5): the
//! device polls with its device code until the user has answered on the device page.
//! Each poll is recorded, so one that comes sooner than the interval is told to slow
//! down and the interval grows by 5 s (§3.5). Once the user allowed it, the first poll
//! gets the tokens, and marks the record redeemed in the same atomic write as the
//! refresh token, on condition that the user still exists and is enabled.

use super::super::context::TokenContext;
use super::super::issue::{self, Grant, TokenResponse};
use super::super::request::DeviceCodeRequest;
use crate::directory::model::{App, User};
use crate::directory::redirect::Platform;
use crate::errors::{CatalogError, ErrorName};
use crate::oauth::device::{self, Answer, Approval, DeviceAuthorization, SLOW_DOWN_SECONDS};
use crate::store::StoreError;
use crate::store::object::{ObjectKind, StoredObject, Write, encode};
use crate::store::read;

fn invalid(why: &str) -> CatalogError {
    CatalogError::new(ErrorName::DeviceCodeInvalid).internal(why)
}

pub async fn exchange(
    ctx: &TokenContext<'_>,
    app: &App,
    request: &DeviceCodeRequest,
) -> Result<TokenResponse, CatalogError> {
    let id = device::open_device_code(ctx.master, ctx.tenant.id, request.device_code.expose())
        .ok_or_else(|| invalid("not a device code of this tenant"))?;
    let object = ctx
        .store
        .object_by_id(ctx.tenant.id, ObjectKind::DeviceCode, id)
        .await?
        .ok_or_else(|| invalid("no such device authorization (swept)"))?;
    let record: DeviceAuthorization = object
        .decode()
        .map_err(|e| CatalogError::new(ErrorName::InternalError).internal(e))?;
    if record.client_id != app.client_id {
        return Err(invalid("issued to another client"));
    }
    // The app was disabled (or registered anew) since the device asked: the device is
    // told no, as when the user declines.
    if app.tokens_revoked(record.created_at) {
        return Err(CatalogError::new(ErrorName::DeviceAccessDenied));
    }
    let now = ctx.clock.now();
    if record.expires_at <= now {
        return Err(CatalogError::new(ErrorName::DeviceCodeExpired)
            .with("time", crate::errors::render::timestamp(record.expires_at)));
    }
    match &record.answer {
        Answer::Denied { .. } => Err(CatalogError::new(ErrorName::DeviceAccessDenied)),
        Answer::Redeemed { .. } => Err(invalid("already redeemed")),
        Answer::Pending => Err(poll(ctx, object, record).await),
        Answer::Approved(approval) => redeem(ctx, app, object, &record, approval).await,
    }
}

/// A poll while the user has not answered: recorded, and answered with
/// `authorization_pending`, or `slow_down` when it came sooner than the interval.
async fn poll(
    ctx: &TokenContext<'_>,
    object: StoredObject,
    mut record: DeviceAuthorization,
) -> CatalogError {
    let now = ctx.clock.now();
    let too_soon = record
        .last_poll
        .is_some_and(|t| (now - t).whole_seconds() < i64::from(record.interval));
    if too_soon {
        record.interval += SLOW_DOWN_SECONDS;
    }
    record.last_poll = Some(now);
    let interval = record.interval;
    let slow_down =
        || CatalogError::new(ErrorName::DeviceSlowDown).with("interval", interval.to_string());
    match ctx
        .store
        .apply(vec![Write::Put(object.with_doc(encode(&record), now))])
        .await
    {
        // Two polls at once: the one that lost the write came too soon.
        Err(StoreError::Conflict(_)) => slow_down(),
        Err(e) => e.into(),
        Ok(()) if too_soon => slow_down(),
        Ok(()) => CatalogError::new(ErrorName::DeviceAuthorizationPending)
            .with("interval", interval.to_string()),
    }
}

/// The tokens of an approved authorization, once: the record turns redeemed in the
/// write that stores the refresh token, on condition that the user is still there and
/// enabled; a second poll finds it redeemed, a concurrent one loses the write.
async fn redeem(
    ctx: &TokenContext<'_>,
    app: &App,
    object: StoredObject,
    record: &DeviceAuthorization,
    approval: &Approval,
) -> Result<TokenResponse, CatalogError> {
    let grant = Grant {
        tenant: ctx.tenant,
        app,
        user_id: approval.user_id,
        user_key: approval.user.clone(),
        scopes: record.scopes.clone(),
        audience: record.audience.clone(),
        nonce: None,
        claims: Default::default(),
        sid: approval.sid.clone(),
        auth_time: approval.auth_time,
        amr: approval.amr.clone(),
        // A device is an installed client: refresh tokens get the native lifetimes.
        platform: Platform::Native,
        delegated: false,
    };
    let plan = issue::plan(ctx, &grant, None).await?;
    let now = plan.now;
    let redeemed = DeviceAuthorization {
        answer: Answer::Redeemed {
            user: approval.user.clone(),
        },
        last_poll: Some(now),
        ..record.clone()
    };
    let mut writes = vec![Write::Put(object.with_doc(encode(&redeemed), now))];
    writes.extend(plan.refresh.as_ref().map(|r| r.stored.write(ctx)));
    let required = read::enabled_user(ctx.tenant.id, &approval.user, approval.user_id);
    let user = match ctx.store.apply_if(&required, writes).await {
        Ok(Some(user)) => user
            .decode::<User>()
            .map_err(|e| CatalogError::new(ErrorName::InternalError).internal(e))?,
        Ok(None) => return Err(why_not(ctx, approval).await),
        Err(StoreError::Conflict(_)) => return Err(invalid("redeemed by a concurrent poll")),
        Err(e) => return Err(e.into()),
    };
    // The approving sign-in was ended since (sessions revoked, user disabled, password
    // reset): the approval no longer stands, and nothing stored is handed out.
    if user.sign_in_revoked(approval.auth_time) {
        return Err(CatalogError::new(ErrorName::DeviceAccessDenied)
            .internal("the approving sign-in was ended after the approval"));
    }
    issue::tokens(ctx, &grant, &user, plan)
}

/// Why the approving user no longer qualifies.
async fn why_not(ctx: &TokenContext<'_>, approval: &Approval) -> CatalogError {
    match read::get::<User>(ctx.store, ctx.tenant.id, ObjectKind::User, &approval.user).await {
        Err(e) => e,
        Ok(Some((object, user))) if object.id.is(approval.user_id) && !user.enabled => {
            CatalogError::new(ErrorName::AccountDisabled)
        }
        Ok(_) => invalid("the approving user no longer exists"),
    }
}
