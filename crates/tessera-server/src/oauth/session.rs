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
use tessera_core::ids::{ClientId, TenantId, UserId};
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
    /// The stored session, to write it back at its version (`remember_client`).
    pub object: StoredObject,
}

/// How many accounts one browser keeps signed in side by side: a new sign-in beyond
/// it drops the one used least recently from the cookie.
pub const MAX_ACCOUNTS: usize = 5;

/// The session values in the request's cookie, most recently signed in first: the
/// cookie holds them dot-separated (base64url values contain no dot).
fn cookie_values<'h>(state: &AppState, headers: &'h HeaderMap) -> Vec<&'h str> {
    let name = cookies::session_name(state.secure_cookies());
    cookies::get(headers, name)
        .map(|v| {
            v.split('.')
                .filter(|t| !t.is_empty())
                .take(MAX_ACCOUNTS)
                .collect()
        })
        .unwrap_or_default()
}

/// Every live session in the request's cookie with the value that names it, most
/// recently signed in first; sessions that ended, expired, or whose user is gone or
/// disabled are left out.
async fn live<'h>(
    state: &AppState,
    tenant: &Tenant,
    headers: &'h HeaderMap,
) -> Result<Vec<(&'h str, CurrentSession)>, CatalogError> {
    let mut out = Vec::new();
    for value in cookie_values(state, headers) {
        let key = state.master.token_hash(purpose::SESSION, value);
        let Some(found) = read::record_with_user::<Session>(
            state.store.as_ref(),
            tenant.id,
            ObjectKind::Session,
            &key,
        )
        .await?
        else {
            continue;
        };
        if found.record.expires_at <= state.clock.now() {
            continue;
        }
        if let Some(current) = found
            .user
            .and_then(|user| checked(found.object, found.record, user))
        {
            out.push((value, current));
        }
    }
    Ok(out)
}

/// Every account signed in in this browser, most recently signed in first.
pub async fn all(
    state: &AppState,
    tenant: &Tenant,
    headers: &HeaderMap,
) -> Result<Vec<CurrentSession>, CatalogError> {
    Ok(live(state, tenant, headers)
        .await?
        .into_iter()
        .map(|(_, c)| c)
        .collect())
}

/// The account signed in most recently in this browser, if any: the one the account
/// and device pages act as.
pub async fn current(
    state: &AppState,
    tenant: &Tenant,
    headers: &HeaderMap,
) -> Result<Option<CurrentSession>, CatalogError> {
    Ok(all(state, tenant, headers).await?.into_iter().next())
}

/// The session with its user, or `None` when the user is gone or disabled.
async fn with_user(
    state: &AppState,
    tenant: &Tenant,
    object: StoredObject,
    session: Session,
) -> Result<Option<CurrentSession>, CatalogError> {
    let user = lookup::get::<User>(state, tenant.id, ObjectKind::User, &session.user).await?;
    Ok(user.and_then(|user| checked(object, session, user)))
}

/// The session with its user, unless the user is disabled or is not the one who signed
/// in: a user deleted and created again under the same name is someone else.
fn checked(
    object: StoredObject,
    session: Session,
    (user_object, user): (StoredObject, User),
) -> Option<CurrentSession> {
    // A sign-in ended by a revocation since (`User::sessions_valid_from`) is no session.
    if !user.enabled
        || !user_object.id.is(session.user_id)
        || user.sign_in_revoked(session.auth_time)
    {
        return None;
    }
    Some(CurrentSession {
        session,
        user_id: UserId::of(user_object.id),
        user,
        object,
    })
}

/// What a right password leads to.
pub enum SignedIn {
    /// The session, and the `Set-Cookie` header that carries it beside the browser's
    /// other accounts.
    Session(Box<CurrentSession>, HeaderValue),
    /// No session yet: a code must follow, or an authenticator be enrolled first
    /// (`second_factor`).
    SecondFactor(super::second_factor::Due),
}

/// Signs in with a password (`password::authenticate`) and starts the session, unless
/// the user's second factor must follow.
///
/// The attempt, for `app` when it is for one, goes to the sign-in log whatever its
/// outcome (`sign_in_log`).
pub async fn sign_in_with_password(
    state: &AppState,
    tenant: &Tenant,
    headers: &HeaderMap,
    client: Option<std::net::IpAddr>,
    app: Option<&str>,
    username: &str,
    password: tessera_core::secret::Secret,
) -> Result<SignedIn, CatalogError> {
    let outcome = password_session(state, tenant, headers, client, username, password).await;
    let step = super::sign_in_log::Step {
        step: "password",
        user: match &outcome {
            Ok(SignedIn::Session(current, _)) => current.session.user.as_str(),
            Ok(SignedIn::SecondFactor(due)) => due.user.as_str(),
            Err(_) => username.trim(),
        },
        app,
        client,
        sid: match &outcome {
            Ok(SignedIn::Session(c, _)) => Some(c.session.sid.as_str()),
            _ => None,
        },
    };
    let logged = outcome.as_ref().map(|_| ());
    super::sign_in_log::record(state, tenant, headers, step, logged).await;
    outcome
}

async fn password_session(
    state: &AppState,
    tenant: &Tenant,
    headers: &HeaderMap,
    client: Option<std::net::IpAddr>,
    username: &str,
    password: tessera_core::secret::Secret,
) -> Result<SignedIn, CatalogError> {
    use crate::runtime::rate_limits::Endpoint;
    use tessera_core::directory::mfa::{self, SecondFactor};
    state
        .rate_limits
        .check_address(tenant, Endpoint::SignIn, client)?;
    let who = super::password::authenticate(state, tenant, client, username, password)
        .await?
        .may_sign_in()?;
    // The tenant's rule here; an app's own is the authorization endpoint's to apply.
    let now = state.clock.now();
    match mfa::needed(&tenant.policy, None, who.enrolled, None, now) {
        SecondFactor::Satisfied => {}
        need => {
            return Ok(SignedIn::SecondFactor(super::second_factor::Due {
                user: who.key,
                user_id: who.id,
                sid: None,
                enrol: need == SecondFactor::Enrol,
                signed_in_at: now,
            }));
        }
    }
    let (current, cookie) =
        start_signed_in(state, tenant, headers, &who, vec!["pwd".to_owned()]).await?;
    Ok(SignedIn::Session(Box::new(current), cookie))
}

/// Starts the session of `who` (`start`) and reads it back with its user.
pub async fn start_signed_in(
    state: &AppState,
    tenant: &Tenant,
    headers: &HeaderMap,
    who: &super::password::Authenticated,
    amr: Vec<String>,
) -> Result<(CurrentSession, HeaderValue), CatalogError> {
    let (object, session, cookie) = start(state, tenant, headers, who, amr).await?;
    match with_user(state, tenant, object, session).await? {
        Some(current) => Ok((current, cookie)),
        // Disabled or deleted between the password check and now.
        None => Err(CatalogError::new(
            tessera_core::errors::ErrorName::InvalidCredentials,
        )),
    }
}

/// Starts a session for `who` after a successful sign-in; returns it with the
/// `Set-Cookie` header that carries it first, before the browser's other accounts.
/// A user already signed in in this browser signs in again: the session keeps its
/// `sid` and the apps that took part in it (so a logout still reaches them), under a
/// new cookie value and with the new `auth_time` and `amr`.
async fn start(
    state: &AppState,
    tenant: &Tenant,
    headers: &HeaderMap,
    who: &super::password::Authenticated,
    amr: Vec<String>,
) -> Result<(StoredObject, Session, HeaderValue), CatalogError> {
    let now = state.clock.now();
    let others = live(state, tenant, headers).await?;
    let again = others.iter().find(|(_, c)| c.session.user == who.key);
    let lifetime = i64::from(tenant.policy.session_lifetime_seconds);
    let value = generate_token(state.rng.as_ref());
    let session = Session {
        sid: match again {
            Some((_, c)) => c.session.sid.clone(),
            None => state.rng.uuid().to_string(),
        },
        user: who.key.clone(),
        user_id: who.id,
        auth_time: now,
        // A sign-in that presented a code (`mfa::AMR_WITH_CODE`) did so now.
        second_factor_at: amr.iter().any(|m| m == "otp").then_some(now),
        amr,
        expires_at: now + time::Duration::seconds(lifetime),
        clients: again
            .map(|(_, c)| c.session.clients.clone())
            .unwrap_or_default(),
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
    let mut writes = vec![Write::Put(object.clone())];
    if let Some((_, c)) = again {
        writes.push(Write::Delete {
            tenant_id: tenant.id,
            kind: ObjectKind::Session,
            id: c.object.id,
        });
    }
    state.store.apply(writes).await.map_err(store_error)?;
    // As stored: the store counts every write, the first included (`StoredObject::version`),
    // so the session can be written back at once (`remember_client`) without a conflict.
    let object = StoredObject {
        version: object.version + 1,
        ..object
    };
    let kept = others
        .iter()
        .filter(|(_, c)| c.session.user != who.key)
        .map(|(v, _)| *v);
    let values: Vec<&str> = std::iter::once(value.as_str())
        .chain(kept)
        .take(MAX_ACCOUNTS)
        .collect();
    let cookie = super::cookies::session_header(state, tenant, Some(&values.join(".")));
    Ok((object, session, cookie))
}

/// The `Set-Cookie` that names only the browser's sessions still live (after some
/// signed out or were revoked), or deletes the cookie when none is left.
pub async fn refreshed_cookie(
    state: &AppState,
    tenant: &Tenant,
    headers: &HeaderMap,
) -> Result<HeaderValue, CatalogError> {
    let kept: Vec<&str> = live(state, tenant, headers)
        .await?
        .into_iter()
        .map(|(v, _)| v)
        .collect();
    let value = (!kept.is_empty()).then(|| kept.join("."));
    Ok(super::cookies::session_header(
        state,
        tenant,
        value.as_deref(),
    ))
}

/// The browser's session `sid`, whose user just presented a second factor again: the
/// session records when, and `otp` and `mfa` join its methods. `None` when the session
/// ended meanwhile. Written at the version read, and read again if another tab wrote.
pub async fn verified_again(
    state: &AppState,
    tenant: &Tenant,
    headers: &HeaderMap,
    sid: &str,
) -> Result<Option<CurrentSession>, CatalogError> {
    crate::runtime::retry::on_conflict(|| async {
        let Some(mut current) = all(state, tenant, headers)
            .await?
            .into_iter()
            .find(|c| c.session.sid == sid)
        else {
            return Ok(None);
        };
        let now = state.clock.now();
        current.session.second_factor_at = Some(now);
        for m in tessera_core::directory::mfa::AMR_WITH_CODE {
            if !current.session.amr.iter().any(|a| a == m) {
                current.session.amr.push(m.to_owned());
            }
        }
        let object = current.object.with_doc(encode(&current.session), now);
        state
            .store
            .apply(vec![Write::Put(object.clone())])
            .await
            .map_err(store_error)?;
        current.object = StoredObject {
            version: object.version + 1,
            ..object
        };
        Ok(Some(current))
    })
    .await
}

/// Records that `client_id` received a code in the session `current`, so a logout of
/// the session notifies it. Written once per app and session (a repeat finds it there),
/// at the version read, and read again if another tab wrote meanwhile.
pub async fn remember_client(
    state: &AppState,
    tenant: &Tenant,
    current: &CurrentSession,
    client_id: &ClientId,
) -> Result<(), CatalogError> {
    if current.session.clients.contains(client_id) {
        return Ok(());
    }
    let mut first = Some(current.object.clone());
    crate::runtime::retry::on_conflict(|| {
        let read = first.take();
        async move {
            let object = match read {
                Some(o) => o,
                None => match state
                    .store
                    .object(tenant.id, ObjectKind::Session, &current.object.key)
                    .await
                    .map_err(store_error)?
                {
                    Some(o) => o,
                    // Signed out meanwhile: nothing is left to notify.
                    None => return Ok(()),
                },
            };
            let mut session: Session = object.decode().map_err(|e| {
                CatalogError::new(tessera_core::errors::ErrorName::InternalError).internal(e)
            })?;
            if !session.clients.insert(client_id.clone()) {
                return Ok(());
            }
            let now = state.clock.now();
            state
                .store
                .apply(vec![Write::Put(object.with_doc(encode(&session), now))])
                .await
                .map_err(store_error)
        }
    })
    .await
}

/// What ending every session of a user takes: the writes (sessions deleted, device
/// authorizations the user approved and the device has not yet redeemed declined) and
/// how many sessions. The caller applies them with its own change, atomically, together
/// with the user's `sessions_valid_from` ([`ended_sign_ins`], or `User::end_sign_ins` on
/// a user it writes anyway), which voids what no store record holds (authorization codes
/// in flight) and every refresh token of those sign-ins. Once that change committed, the
/// caller marks the tokens' records revoked ([`revoke_refresh_tokens`]): not in the same
/// batch, which every rotation of one of them meanwhile would make conflict.
pub struct Revocation {
    pub writes: Vec<Write>,
    pub sessions: usize,
}

pub async fn revoke_all(
    store: &dyn Store,
    now: OffsetDateTime,
    tenant_id: TenantId,
    user_key: &str,
) -> Result<Revocation, CatalogError> {
    let internal =
        |e: String| CatalogError::new(tessera_core::errors::ErrorName::InternalError).internal(e);
    let mut out = Revocation {
        writes: Vec::new(),
        sessions: 0,
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

/// After the change that ended `user_key`'s sign-ins committed ([`Revocation`]): every
/// live refresh token of the user marked revoked for `reason`; how many.
pub async fn revoke_refresh_tokens(
    store: &dyn Store,
    now: OffsetDateTime,
    tenant_id: TenantId,
    user_key: &str,
    reason: &str,
) -> Result<usize, CatalogError> {
    family::revoke_users_tokens(store, now, tenant_id, user_key, reason, tokio::time::sleep).await
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
