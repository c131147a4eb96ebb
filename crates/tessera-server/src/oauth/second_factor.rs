//! The second step of a sign-in: a code from the user's authenticator app (RFC 6238,
//! `directory::totp`) or one of their recovery codes, or, where the policy requires a
//! second factor and the user has none, enrolling an authenticator first
//! (`directory::mfa`).
//!
//! The page carries the pending sign-in sealed (`mfa::Pending`): whom it is for, the
//! session it verifies again (if any), the secret on offer and where the sign-in goes on
//! (`mfa::Continuation`). A new session starts only once the code is right; a session
//! asked again records when (`session::verified_again`).
//!
//! Wrong codes count towards smart lockout like wrong passwords, in the same record,
//! and only a right code (not the password before it) starts that count over, so knowing
//! the password gives no endless guesses at the code. The last code's time step is kept
//! there too: a code works once (RFC 6238 §5.2).

use super::authorize::{self, Interaction};
use super::password::{self, Authenticated};
use super::session::{self, CurrentSession};
use super::{csrf, lookup, pages};
use crate::http::client_address::ClientAddress;
use crate::http::error_response::{ErrorResponse, store_error};
use crate::http::tenant_path::PageTenant;
use crate::runtime::state::AppState;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use minijinja::context;
use tessera_core::directory::lockout;
use tessera_core::directory::mfa::{self, Continuation, Pending, SecondFactor, Stage};
use tessera_core::directory::model::{App, User};
use tessera_core::directory::plan::totp_context;
use tessera_core::directory::totp;
use tessera_core::errors::{CatalogError, ErrorName};
use tessera_core::ids::UserId;
use tessera_core::oauth::params::Params;
use tessera_core::oauth::records::purpose;
use tessera_core::store::object::{ObjectKind, Write, encode};
use tessera_core::tenant::Tenant;

/// A sign-in that owes its second factor.
#[derive(Debug, Clone)]
pub struct Due {
    /// The user's key and object id.
    pub user: String,
    pub user_id: UserId,
    /// The session asked again; `None`: no session yet (a password was just verified).
    pub sid: Option<String>,
    /// The user has no authenticator and must enrol one.
    pub enrol: bool,
    /// When the password was verified (`mfa::Pending::signed_in_at`).
    pub signed_in_at: time::OffsetDateTime,
}

/// What `current`, a session in use, still owes before it serves `app` (or the
/// tenant's own pages: `None`).
pub fn owed(
    state: &AppState,
    tenant: &Tenant,
    app: Option<&App>,
    current: &CurrentSession,
) -> SecondFactor {
    mfa::needed(
        &tenant.policy,
        app,
        current.user.totp_secret_sealed.is_some(),
        current.session.second_factor_at,
        state.clock.now(),
    )
}

impl Due {
    /// What the session `current` owes (`need`, not satisfied).
    pub fn of_session(current: &CurrentSession, need: SecondFactor) -> Self {
        Self {
            user: current.session.user.clone(),
            user_id: current.user_id,
            sid: Some(current.session.sid.clone()),
            enrol: need == SecondFactor::Enrol,
            signed_in_at: current.session.auth_time,
        }
    }
}

/// The second-factor page when `current` owes one before it serves `app` (`owed`),
/// going on to `then` once presented; `None` when it owes nothing.
pub fn demanded(
    state: &AppState,
    tenant: &Tenant,
    headers: &HeaderMap,
    app: Option<&App>,
    current: &CurrentSession,
    then: impl FnOnce() -> Continuation,
) -> Option<Response> {
    let owed = owed(state, tenant, app, current);
    let unmet = owed.unmet()?;
    // A stale second factor says why it is asked for again; the flow goes on after.
    let notice = matches!(owed, SecondFactor::Reverify { .. }).then_some(&unmet);
    Some(ask(
        state,
        tenant,
        headers,
        Due::of_session(current, owed),
        then(),
        notice,
    ))
}

fn action(tenant: &Tenant) -> String {
    format!("/{}/signin/second-factor", tenant.slug.as_str())
}

/// The page that asks for `due` and then goes on to `then`: a code, or an
/// authenticator to enrol first. `notice` explains why it asks (MfaExpired for a
/// stale second factor).
pub fn ask(
    state: &AppState,
    tenant: &Tenant,
    headers: &HeaderMap,
    due: Due,
    then: Continuation,
    notice: Option<&CatalogError>,
) -> Response {
    let now = state.clock.now();
    let pending = Pending {
        user: due.user,
        user_id: due.user_id,
        sid: due.sid,
        stage: if due.enrol {
            Stage::Enrol
        } else {
            Stage::Verify
        },
        offered: due.enrol.then(|| totp::new_secret(state.rng.as_ref())),
        then,
        signed_in_at: due.signed_in_at,
        expires_at: now + time::Duration::seconds(mfa::PENDING_SECONDS),
    };
    let mut response = render(state, tenant, headers, &pending, None, notice);
    // A notice explains the page; nothing failed.
    *response.status_mut() = StatusCode::OK;
    response
}

/// The page of `pending`'s stage; `recovery_codes` only right after enrolment.
fn render(
    state: &AppState,
    tenant: &Tenant,
    headers: &HeaderMap,
    pending: &Pending,
    recovery_codes: Option<&[String]>,
    error: Option<&CatalogError>,
) -> Response {
    let (stage, title) = match pending.stage {
        Stage::Verify => ("verify", "Enter your code"),
        Stage::Enrol => ("enrol", "Set up an authenticator app"),
        Stage::Continue => ("recovery", "Save your recovery codes"),
    };
    let secret = pending.offered.as_deref().unwrap_or_default();
    let qr_code = (pending.stage == Stage::Enrol).then(|| {
        qr_data_url(&totp::otpauth_uri(
            &tenant.display_name,
            &pending.user,
            secret,
        ))
    });
    let token = csrf::issue(state, headers);
    let (error, status) = pages::form_error(error);
    let ctx = context! {
        title => title,
        stage => stage,
        username => pending.user,
        tenant_name => tenant.display_name,
        action => action(tenant),
        pending => pending.seal(&state.master, state.rng.as_ref(), tenant.id),
        secret => secret,
        qr_code => qr_code,
        recovery_codes => recovery_codes,
        csrf_token => token.token,
        error => error,
    };
    let response = match &pending.then {
        // The sign-in may end at the app: its origin joins the CSP's form-action.
        Continuation::Authorize { redirect_uri, .. } => {
            crate::pages::page_redirecting_to(status, "second_factor.html", ctx, redirect_uri)
        }
        _ => crate::pages::page(status, "second_factor.html", ctx),
    };
    csrf::attach(response, token)
}

/// An `otpauth://` URI as a QR code, an SVG image in a `data:` URL (the pages' CSP
/// allows `data:` images, and an `<img>` carries its text alternative).
fn qr_data_url(uri: &str) -> String {
    use base64::Engine;
    let svg = match qrcode::QrCode::new(uri.as_bytes()) {
        Ok(code) => code
            .render::<qrcode::render::svg::Color<'_>>()
            .min_dimensions(200, 200)
            .build(),
        // An otpauth URI of a tenant name and a username fits a QR code by far; were
        // it ever too long, the key in text below the image still works.
        Err(_) => String::new(),
    };
    format!(
        "data:image/svg+xml;base64,{}",
        base64::engine::general_purpose::STANDARD.encode(svg)
    )
}

/// `POST /{t}/signin/second-factor`: a code, the first code of a new authenticator,
/// or (after enrolment) going on.
pub async fn submit(
    State(state): State<AppState>,
    PageTenant(tenant): PageTenant,
    headers: HeaderMap,
    ClientAddress(client): ClientAddress,
    body: Bytes,
) -> Response {
    let fields = match csrf::checked_form(&state, &headers, &body) {
        Ok(f) => f,
        Err(e) => return ErrorResponse::page(e).into_response(),
    };
    let now = state.clock.now();
    let Some(pending) = fields
        .get("pending")
        .and_then(|p| Pending::open(&state.master, tenant.id, p, now))
    else {
        return ErrorResponse::page(
            CatalogError::new(ErrorName::CsrfTokenInvalid)
                .internal("the second-factor page expired or was altered"),
        )
        .into_response();
    };
    if pending.stage == Stage::Continue {
        let current = match session::all(&state, &tenant, &headers).await {
            Ok(all) => all
                .into_iter()
                .find(|c| Some(&c.session.sid) == pending.sid.as_ref()),
            Err(e) => return ErrorResponse::page(e).into_response(),
        };
        return go_on(&state, &tenant, &headers, pending.then, current, None).await;
    }
    use crate::runtime::rate_limits::Endpoint;
    if let Err(e) = state
        .rate_limits
        .check_address(&tenant, Endpoint::SignIn, client)
    {
        return render(&state, &tenant, &headers, &pending, None, Some(&e));
    }
    // An administrator who ended the user's sign-ins (or reset the password) since the
    // password was verified ended this one too (`User::sessions_valid_from`): no code
    // is asked for, and the flow asks to sign in again, as when a session asked again
    // ended meanwhile.
    match ended_since_password(&state, &tenant, &pending).await {
        Ok(false) => {}
        Ok(true) => return go_on(&state, &tenant, &headers, pending.then, None, None).await,
        Err(e) => return ErrorResponse::page(e).into_response(),
    }
    let code = fields.get("code").unwrap_or_default();
    let checked = match pending.stage {
        Stage::Enrol => enrol(&state, &tenant, client, &pending, code)
            .await
            .map(Some),
        _ => verify(&state, &tenant, client, &pending, code)
            .await
            .map(|()| None),
    };
    let app = match &pending.then {
        Continuation::Authorize { request, .. } => Params::parse(request.as_bytes())
            .ok()
            .and_then(|p| p.get("client_id").map(str::to_owned)),
        _ => None,
    };
    let step = super::sign_in_log::Step {
        step: match pending.stage {
            Stage::Enrol => "authenticator_enrolment",
            _ => "second_factor",
        },
        user: &pending.user,
        app: app.as_deref(),
        client,
        sid: pending.sid.as_deref(),
    };
    super::sign_in_log::record(
        &state,
        &tenant,
        &headers,
        step,
        checked.as_ref().map(|_| ()),
    )
    .await;
    let recovery_codes = match checked {
        Ok(codes) => codes,
        Err(e) if e.entry().status < 500 => {
            return render(&state, &tenant, &headers, &pending, None, Some(&e));
        }
        Err(e) => return ErrorResponse::page(e).into_response(),
    };
    let (current, cookie) = match complete(&state, &tenant, &headers, &pending).await {
        Ok(Some((current, cookie))) => (current, cookie),
        // The session asked again ended meanwhile: the flow asks to sign in.
        Ok(None) => return go_on(&state, &tenant, &headers, pending.then, None, None).await,
        Err(e) => return ErrorResponse::page(e).into_response(),
    };
    let response = match recovery_codes {
        // Shown once; the sign-in goes on from the page's button.
        Some(codes) => {
            // The codes take a while to copy: the page gets time of its own.
            let next = Pending {
                sid: Some(current.session.sid.clone()),
                stage: Stage::Continue,
                offered: None,
                expires_at: state.clock.now() + time::Duration::seconds(mfa::PENDING_SECONDS),
                ..pending
            };
            render(&state, &tenant, &headers, &next, Some(&codes), None)
        }
        None => go_on(&state, &tenant, &headers, pending.then, Some(current), None).await,
    };
    with_cookie(response, cookie)
}

fn with_cookie(mut response: Response, cookie: Option<HeaderValue>) -> Response {
    if let Some(c) = cookie {
        response.headers_mut().append(header::SET_COOKIE, c);
    }
    response
}

/// The sign-in goes on where it was, as `current` (none: the session ended, and the
/// flow asks to sign in again).
async fn go_on(
    state: &AppState,
    tenant: &Tenant,
    headers: &HeaderMap,
    then: Continuation,
    current: Option<CurrentSession>,
    cookie: Option<HeaderValue>,
) -> Response {
    match then {
        Continuation::Authorize { request, .. } => {
            let params = match Params::parse(request.as_bytes()) {
                Ok(p) => p,
                Err(e) => return ErrorResponse::page(e).into_response(),
            };
            let interaction = match current {
                Some(c) => Interaction::SignedIn(Box::new(c), cookie),
                None => Interaction::Start { posted: true },
            };
            authorize::proceed(state, tenant, headers, params, interaction).await
        }
        Continuation::Device { user_code } => with_cookie(
            super::device::signed_in(state, tenant, headers, &user_code, current.as_ref()).await,
            cookie,
        ),
        Continuation::Page(path) => crate::pages::see_other(&path, cookie),
    }
}

/// The session the pending sign-in leads to: a new one (with its cookie), or the one
/// asked again, now verified; `None` when that one ended meanwhile.
async fn complete(
    state: &AppState,
    tenant: &Tenant,
    headers: &HeaderMap,
    pending: &Pending,
) -> Result<Option<(CurrentSession, Option<HeaderValue>)>, CatalogError> {
    match &pending.sid {
        None => {
            let who = Authenticated {
                key: pending.user.clone(),
                id: pending.user_id,
                temporary: false,
                enrolled: true,
            };
            let amr = mfa::AMR_WITH_CODE.map(str::to_owned).to_vec();
            let (current, cookie) =
                session::start_signed_in(state, tenant, headers, &who, amr).await?;
            Ok(Some((current, Some(cookie))))
        }
        Some(sid) => Ok(session::verified_again(state, tenant, headers, sid)
            .await?
            .map(|c| (c, None))),
    }
}

/// Whether the user's sign-ins were ended since `pending`'s password was verified. A
/// user deleted since is answered by the code's own checks (`user_of`).
async fn ended_since_password(
    state: &AppState,
    tenant: &Tenant,
    pending: &Pending,
) -> Result<bool, CatalogError> {
    let user = lookup::get::<User>(state, tenant.id, ObjectKind::User, &pending.user).await?;
    Ok(user.is_some_and(|(object, user)| {
        object.id.is(pending.user_id) && user.sign_in_revoked(pending.signed_in_at)
    }))
}

/// The user of a pending sign-in, as stored now: still the same person, and enabled.
async fn user_of(
    state: &AppState,
    tenant: &Tenant,
    pending: &Pending,
) -> Result<(tessera_core::store::object::StoredObject, User), CatalogError> {
    match lookup::get::<User>(state, tenant.id, ObjectKind::User, &pending.user).await? {
        Some((object, user)) if object.id.is(pending.user_id) => {
            if !user.enabled {
                return Err(CatalogError::new(ErrorName::AccountDisabled));
            }
            Ok((object, user))
        }
        // Deleted since the password was checked.
        _ => Err(CatalogError::new(ErrorName::InvalidCredentials)),
    }
}

/// A wrong code, counted towards smart lockout like a wrong password: MfaCodeInvalid,
/// or AccountLocked when this one locked the account.
async fn wrong_code(
    state: &AppState,
    tenant: &Tenant,
    pending: &Pending,
    network: Option<String>,
) -> CatalogError {
    let now = state.clock.now();
    let wrong = ErrorName::MfaCodeInvalid;
    password::count_failure(state, tenant, &pending.user, network.as_deref(), now, wrong).await
}

/// Checks a code of the user's authenticator, or one of their recovery codes (which
/// is then used up).
async fn verify(
    state: &AppState,
    tenant: &Tenant,
    client: Option<std::net::IpAddr>,
    pending: &Pending,
    code: &str,
) -> Result<(), CatalogError> {
    let (_, user) = user_of(state, tenant, pending).await?;
    let network = password::network_hash(state, client);
    let now = state.clock.now();
    password::check_unlocked(state, tenant, &pending.user, network.as_deref(), now).await?;
    if let Some(typed) = mfa::recovery_code(code) {
        if !use_recovery_code(state, tenant, pending, &typed).await? {
            return Err(wrong_code(state, tenant, pending, network).await);
        }
        return password::record(state, tenant, &pending.user, |f| {
            f.succeeded(f.familiarity(network.as_deref()), network.clone())
        })
        .await;
    }
    let key = user
        .totp_secret_sealed
        .as_deref()
        .and_then(|sealed| {
            state
                .master
                .open(sealed, &totp_context(tenant.id, pending.user_id))
        })
        .and_then(|plain| totp::secret_bytes(&String::from_utf8_lossy(&plain)));
    // Reset by an administrator meanwhile: no code can be right.
    let Some(key) = key else {
        return Err(wrong_code(state, tenant, pending, network).await);
    };
    // Checked against the spent step inside the write, so two nodes given the same code
    // cannot both accept it; a right code starts this network's count over (and makes
    // it familiar), a wrong one counts.
    let verdict = password::record(state, tenant, &pending.user, |f| {
        let which = f.familiarity(network.as_deref());
        match totp::verify(&key, code, now, f.totp_last_step) {
            Some(step) => {
                f.totp_last_step = Some(step);
                f.succeeded(which, network.clone());
                Ok(())
            }
            None => Err(f.failed(which, now, &tenant.policy)),
        }
    })
    .await?;
    verdict.map_err(|locked| {
        locked.map_or_else(
            || CatalogError::new(ErrorName::MfaCodeInvalid),
            lockout::account_locked,
        )
    })
}

/// The keyed hash of a recovery code of `user_id` (normalised by `mfa::recovery_code`).
fn recovery_hash(state: &AppState, user_id: UserId, code: &str) -> String {
    state
        .master
        .token_hash(purpose::RECOVERY_CODE, &format!("{user_id}/{code}"))
}

/// Whether `typed` is one of the user's unused recovery codes; if so it is used up, in
/// a write at the user's version (read again if the user changed meanwhile).
async fn use_recovery_code(
    state: &AppState,
    tenant: &Tenant,
    pending: &Pending,
    typed: &str,
) -> Result<bool, CatalogError> {
    let hash = recovery_hash(state, pending.user_id, typed);
    crate::runtime::retry::on_conflict(|| async {
        let (object, mut user) = user_of(state, tenant, pending).await?;
        let Some(at) = user
            .recovery_codes
            .iter()
            .position(|h| tessera_core::secret::constant_time_eq(h.as_bytes(), hash.as_bytes()))
        else {
            return Ok(false);
        };
        user.recovery_codes.remove(at);
        let now = state.clock.now();
        state
            .store
            .apply(vec![Write::Put(object.with_doc(encode(&user), now))])
            .await
            .map_err(store_error)?;
        Ok(true)
    })
    .await
}

/// Enrols the authenticator on offer when `code` is its current code: the secret is
/// stored sealed, with new recovery codes, which are returned to be shown once.
async fn enrol(
    state: &AppState,
    tenant: &Tenant,
    client: Option<std::net::IpAddr>,
    pending: &Pending,
    code: &str,
) -> Result<Vec<String>, CatalogError> {
    user_of(state, tenant, pending).await?;
    let network = password::network_hash(state, client);
    let now = state.clock.now();
    password::check_unlocked(state, tenant, &pending.user, network.as_deref(), now).await?;
    let secret = pending.offered.clone().unwrap_or_default();
    let step = totp::secret_bytes(&secret).and_then(|key| totp::verify(&key, code, now, None));
    let Some(step) = step else {
        return Err(wrong_code(state, tenant, pending, network).await);
    };
    let codes = mfa::new_recovery_codes(state.rng.as_ref());
    let hashes: Vec<String> = codes
        .iter()
        .filter_map(|c| mfa::recovery_code(c))
        .map(|c| recovery_hash(state, pending.user_id, &c))
        .collect();
    let context = totp_context(tenant.id, pending.user_id);
    crate::runtime::retry::on_conflict(|| async {
        let (object, mut user) = user_of(state, tenant, pending).await?;
        user.totp_secret_sealed = Some(state.master.seal(
            state.rng.as_ref(),
            secret.as_bytes(),
            &context,
        ));
        user.recovery_codes = hashes.clone();
        state
            .store
            .apply(vec![Write::Put(object.with_doc(encode(&user), now))])
            .await
            .map_err(store_error)
    })
    .await?;
    password::record(state, tenant, &pending.user, |f| {
        f.totp_last_step = Some(step);
        f.succeeded(f.familiarity(network.as_deref()), network.clone());
    })
    .await?;
    Ok(codes)
}
