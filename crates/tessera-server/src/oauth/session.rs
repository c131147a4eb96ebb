//! The SSO session: a random cookie value whose hash keys a `Session` record in the
//! tenant's store, so a browser that signed in once signs in to the next app without a
//! password until the session expires or is revoked.

use super::cookies;
use super::lookup;
use crate::http::error_response::store_error;
use crate::runtime::state::AppState;
use axum::http::{HeaderMap, HeaderValue};
use tessera_core::crypto::generate_token;
use tessera_core::directory::model::User;
use tessera_core::errors::CatalogError;
use tessera_core::ids::{TenantId, UserId};
use tessera_core::oauth::device::{Answer, DeviceAuthorization};
use tessera_core::oauth::records::{Session, purpose};
use tessera_core::oauth::token::family;
use tessera_core::store::object::{ObjectKind, StoredObject, Write, encode};
use tessera_core::store::{Store, read};
use tessera_core::tenant::Tenant;
use time::OffsetDateTime;

/// A live session and its user, as found from the request's cookie.
#[derive(Debug, Clone)]
pub struct CurrentSession {
    pub session: Session,
    /// The user's object id (the `sub` claim).
    pub user_id: UserId,
    pub user: User,
}

/// The session the request's cookie names, if it is live and its user still exists
/// and is enabled.
pub async fn current(
    state: &AppState,
    tenant: &Tenant,
    headers: &HeaderMap,
) -> Result<Option<CurrentSession>, CatalogError> {
    let name = cookies::session_name(state.secure_cookies());
    let Some(value) = cookies::get(headers, name) else {
        return Ok(None);
    };
    let key = state.master.token_hash(purpose::SESSION, value);
    let Some(found) = read::record_with_user::<Session>(
        state.store.as_ref(),
        tenant.id,
        ObjectKind::Session,
        &key,
    )
    .await?
    else {
        return Ok(None);
    };
    if found.record.expires_at <= state.clock.now() {
        return Ok(None);
    }
    Ok(found.user.and_then(|user| checked(found.record, user)))
}

/// The session with its user, or `None` when the user is gone or disabled.
pub async fn with_user(
    state: &AppState,
    tenant: &Tenant,
    session: Session,
) -> Result<Option<CurrentSession>, CatalogError> {
    let user = lookup::get::<User>(state, tenant.id, ObjectKind::User, &session.user).await?;
    Ok(user.and_then(|user| checked(session, user)))
}

/// The session with its user, unless the user is disabled or is not the one who signed
/// in: a user deleted and created again under the same name is someone else.
fn checked(session: Session, (object, user): (StoredObject, User)) -> Option<CurrentSession> {
    // A sign-in ended by a revocation since (`User::sessions_valid_from`) is no session.
    if !user.enabled || !object.id.is(session.user_id) || user.sign_in_revoked(session.auth_time) {
        return None;
    }
    Some(CurrentSession {
        session,
        user_id: UserId::of(object.id),
        user,
    })
}

/// Signs in with a password (`password::authenticate`) and starts the session: the
/// session with its user, and the `Set-Cookie` header that carries it.
pub async fn sign_in_with_password(
    state: &AppState,
    tenant: &Tenant,
    username: &str,
    password: tessera_core::secret::Secret,
) -> Result<(CurrentSession, HeaderValue), CatalogError> {
    let who = super::password::authenticate(state, tenant, username, password).await?;
    let (session, cookie) = start(state, tenant, &who, vec!["pwd".to_owned()]).await?;
    match with_user(state, tenant, session).await? {
        Some(current) => Ok((current, cookie)),
        // Disabled or deleted between the password check and now.
        None => Err(CatalogError::new(
            tessera_core::errors::ErrorName::InvalidCredentials,
        )),
    }
}

/// Starts a session for `user_key` after a successful sign-in; returns it with the
/// `Set-Cookie` header that carries it.
pub async fn start(
    state: &AppState,
    tenant: &Tenant,
    who: &super::password::Authenticated,
    amr: Vec<String>,
) -> Result<(Session, HeaderValue), CatalogError> {
    let now = state.clock.now();
    let lifetime = i64::from(tenant.policy.session_lifetime_seconds);
    let value = generate_token(state.rng.as_ref());
    let session = Session {
        sid: state.rng.uuid().to_string(),
        user: who.key.clone(),
        user_id: who.id,
        auth_time: now,
        amr,
        expires_at: now + time::Duration::seconds(lifetime),
    };
    let object = StoredObject::new(
        state.rng.record_id(now),
        tenant.id,
        ObjectKind::Session,
        state.master.token_hash(purpose::SESSION, &value),
        encode(&session),
        now,
    )
    .expiring(session.expires_at);
    state
        .store
        .apply(vec![Write::Put(object)])
        .await
        .map_err(store_error)?;
    let cookie = super::cookies::session_header(state, tenant, Some(&value));
    Ok((session, cookie))
}

/// What ending every session of a user takes: the writes (sessions deleted, live refresh
/// tokens revoked with `reason`, device authorizations the user approved and the device
/// has not yet redeemed declined) and how many of each. The caller applies them with its
/// own change, atomically, together with the user's `sessions_valid_from`
/// ([`ended_sign_ins`], or `User::end_sign_ins` on a user it writes anyway), which voids
/// what no store record holds: authorization codes still in flight.
pub struct Revocation {
    pub writes: Vec<Write>,
    pub sessions: usize,
    pub refresh_tokens: usize,
}

pub async fn revoke_all(
    store: &dyn Store,
    now: OffsetDateTime,
    tenant_id: TenantId,
    user_key: &str,
    reason: &str,
) -> Result<Revocation, CatalogError> {
    let internal =
        |e: String| CatalogError::new(tessera_core::errors::ErrorName::InternalError).internal(e);
    let mut out = Revocation {
        writes: Vec::new(),
        sessions: 0,
        refresh_tokens: 0,
    };
    for o in store
        .objects_of_user(tenant_id, ObjectKind::Session, user_key)
        .await
        .map_err(store_error)?
    {
        if o.decode::<Session>().map_err(internal)?.user == user_key {
            out.sessions += 1;
            out.writes.push(Write::Delete {
                tenant_id,
                kind: ObjectKind::Session,
                id: o.id,
            });
        }
    }
    let tokens = family::revocations(store, now, tenant_id, user_key, reason, |t| {
        t.user == user_key && t.revoked.is_none()
    })
    .await?;
    out.refresh_tokens = tokens.len();
    out.writes.extend(tokens);
    for o in store
        .objects_of_user(tenant_id, ObjectKind::DeviceCode, user_key)
        .await
        .map_err(store_error)?
    {
        let record: DeviceAuthorization = o.decode().map_err(internal)?;
        if matches!(&record.answer, Answer::Approved(a) if a.user == user_key) {
            let denied = DeviceAuthorization {
                answer: Answer::Denied {
                    user: user_key.to_owned(),
                },
                ..record
            };
            out.writes
                .push(Write::Put(o.with_doc(encode(&denied), now)));
        }
    }
    Ok(out)
}

/// The write that ends every sign-in of `user_key` so far (`User::end_sign_ins`): the
/// user read and written back at its version, so a change made meanwhile conflicts. A
/// user deleted meanwhile is a Conflict too (the caller found the user a moment ago).
pub async fn ended_sign_ins(
    state: &AppState,
    tenant_id: TenantId,
    user_key: &str,
) -> Result<Write, CatalogError> {
    let (object, mut user) = lookup::get::<User>(state, tenant_id, ObjectKind::User, user_key)
        .await?
        .ok_or_else(|| {
            CatalogError::from(tessera_core::store::StoreError::Conflict(
                "the user whose sign-ins end was deleted meanwhile".into(),
            ))
        })?;
    let now = state.clock.now();
    user.end_sign_ins(now);
    Ok(Write::Put(object.with_doc(encode(&user), now)))
}

/// Withdraws `user_key`'s consent to `client_id` (the stored `consent`): deletes it
/// and revokes every live refresh token the user holds for that app (the app must lose
/// the access too), with `audit`, in one atomic change, read and applied again if a
/// rotation changed one of those tokens meanwhile (`crate::runtime::retry`).
pub async fn withdraw_consent(
    state: &AppState,
    consent: &StoredObject,
    user_key: &str,
    client_id: &str,
    reason: &str,
    audit: Write,
) -> Result<(), CatalogError> {
    crate::runtime::retry::on_conflict(|| async {
        let mut writes = vec![
            Write::Delete {
                tenant_id: consent.tenant_id,
                kind: ObjectKind::Consent,
                id: consent.id,
            },
            audit.clone(),
        ];
        writes.extend(
            family::revocations(
                state.store.as_ref(),
                state.clock.now(),
                consent.tenant_id,
                user_key,
                reason,
                |t| t.user == user_key && t.client_id == client_id && t.revoked.is_none(),
            )
            .await?,
        );
        state.store.apply(writes).await.map_err(store_error)
    })
    .await
}
