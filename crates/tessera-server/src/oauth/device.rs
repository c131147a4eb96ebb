//! The device authorization grant over HTTP (RFC 8628): the device authorization
//! endpoint `/{t}/oauth2/devicecode` (JSON, client authentication as at the token
//! endpoint), and the page `/{t}/device` where the user enters the code, signs in if
//! needed, sees which app on which device is asking, and allows or declines (§3.3, and
//! §5.4: the confirmation is always asked, so a code phished onto the user still needs
//! the user's own yes). The protocol is `tessera_core::oauth::device`; polling is the
//! token endpoint's.
//!
//! Every form carries the CSRF token and the code; each step looks the code up again,
//! so a code that expired or was answered elsewhere meanwhile is caught. Wrong codes
//! are counted per browser (a sealed cookie) and the form is withdrawn after
//! [`MAX_CODE_ATTEMPTS`]; guessing a live code among 20^8 at that rate is hopeless.

use super::session::SignedIn;
use super::token::{context, form_and_client};
use super::{consent, csrf, lookup, pages, second_factor, session};
use crate::http::client_address::ClientAddress;
use crate::http::error_response::ErrorResponse;
use crate::http::tenant_path::{PageTenant, ResolvedTenant};
use crate::pages::page;
use crate::runtime::state::AppState;
use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use minijinja::context;
use session::CurrentSession;
use tessera_core::directory::mfa::Continuation;
use tessera_core::directory::model::App;
use tessera_core::errors::{CatalogError, ErrorName};
use tessera_core::oauth::device::{self, Answer, Approval, DeviceAuthorization};
use tessera_core::oauth::params::Params;
use tessera_core::secret::Secret;
use tessera_core::store::object::StoredObject;
use tessera_core::tenant::Tenant;

/// Wrong codes one browser may type before the form is withdrawn.
pub const MAX_CODE_ATTEMPTS: u8 = 5;
const TRIES_COOKIE: &str = "tessera_device_tries";

/// `POST /{t}/oauth2/devicecode` (RFC 8628 §3.1–3.2).
pub async fn authorize(
    State(state): State<AppState>,
    ResolvedTenant(tenant): ResolvedTenant,
    headers: HeaderMap,
    ClientAddress(client): ClientAddress,
    body: Bytes,
) -> Response {
    use crate::runtime::rate_limits::{Endpoint, Subject};
    let limits = &state.rate_limits;
    let counted = limits
        .check_address(&tenant, Endpoint::Device, client)
        .map_err(ErrorResponse::token);
    let authenticated = match counted {
        Ok(()) => form_and_client(&state, &tenant, &headers, &body).await,
        Err(e) => Err(e),
    };
    let started = match authenticated.and_then(|(params, app)| {
        let by_client = Subject::Client(app.client_id.to_string());
        limits
            .check(&tenant, Endpoint::Device, by_client)
            .map_err(ErrorResponse::token)?;
        Ok((params, app))
    }) {
        Ok((params, app)) => {
            let agent = headers
                .get(header::USER_AGENT)
                .and_then(|v| v.to_str().ok());
            device::start(&context(&state, &tenant), &app, &params, agent)
                .await
                .map_err(ErrorResponse::token)
        }
        Err(e) => Err(e),
    };
    match started {
        Ok(body) => {
            let mut r = Json(body).into_response();
            r.headers_mut()
                .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            r
        }
        Err(e) => e.into_response(),
    }
}

fn action(tenant: &Tenant, step: &str) -> String {
    format!("/{}/device{step}", tenant.slug.as_str())
}

/// The code entry form, prefilled with `user_code`, with the last attempt's error.
fn code_page(
    state: &AppState,
    tenant: &Tenant,
    headers: &HeaderMap,
    user_code: &str,
    error: Option<&CatalogError>,
) -> Response {
    let token = csrf::issue(state, headers);
    let (error, status) = pages::form_error(error);
    let response = page(
        status,
        "device.html",
        context! {
            title => "Sign in on another device",
            tenant_name => tenant.display_name,
            action => action(tenant, ""),
            csrf_token => token.token,
            user_code => user_code.chars().take(20).collect::<String>(),
            error => error,
        },
    );
    csrf::attach(response, token)
}

/// `GET /{t}/device`: the form, prefilled from `?user_code=` (verification_uri_complete).
pub async fn show(
    State(state): State<AppState>,
    PageTenant(tenant): PageTenant,
    headers: HeaderMap,
    uri: Uri,
) -> Response {
    match Params::parse(uri.query().unwrap_or_default().as_bytes()) {
        Ok(params) => {
            let code = params.get("user_code").unwrap_or_default();
            code_page(&state, &tenant, &headers, code, None)
        }
        Err(e) => ErrorResponse::page(e).into_response(),
    }
}

/// How many wrong codes this browser has typed (0 without a valid cookie).
fn tries(state: &AppState, tenant: &Tenant, headers: &HeaderMap) -> u8 {
    super::cookies::get(headers, TRIES_COOKIE)
        .and_then(|v| state.master.open_bearer(v, &tries_context(tenant)))
        .and_then(|plain| plain.first().copied())
        .unwrap_or(0)
}

fn tries_context(tenant: &Tenant) -> String {
    format!("device_tries/{}", tenant.id)
}

fn tries_cookie(state: &AppState, tenant: &Tenant, n: u8) -> HeaderValue {
    let sealed = state
        .master
        .seal_bearer(state.rng.as_ref(), &[n], &tries_context(tenant));
    let lifetime = device::LIFETIME_SECONDS;
    super::cookies::set(
        TRIES_COOKIE,
        &sealed,
        &action(tenant, ""),
        lifetime,
        state.secure_cookies(),
    )
}

/// `POST /{t}/device`: the code the user typed.
pub async fn enter(
    State(state): State<AppState>,
    PageTenant(tenant): PageTenant,
    headers: HeaderMap,
    ClientAddress(client): ClientAddress,
    body: Bytes,
) -> Response {
    use crate::runtime::rate_limits::Endpoint;
    if let Err(e) = state
        .rate_limits
        .check_address(&tenant, Endpoint::Device, client)
    {
        return ErrorResponse::page(e).into_response();
    }
    let fields = match csrf::checked_form(&state, &headers, &body) {
        Ok(f) => f,
        Err(e) => return ErrorResponse::page(e).into_response(),
    };
    let typed = fields.get("user_code").unwrap_or_default();
    let tried = tries(&state, &tenant, &headers);
    if tried >= MAX_CODE_ATTEMPTS {
        return ErrorResponse::page(
            CatalogError::new(ErrorName::DeviceUserCodeInvalid)
                .internal("too many wrong codes from this browser"),
        )
        .into_response();
    }
    match found(&state, &tenant, typed).await {
        Ok((_, record, app)) => next_step(&state, &tenant, &headers, typed, &record, &app).await,
        Err(e) if e.name == ErrorName::DeviceUserCodeInvalid => {
            let mut r = code_page(&state, &tenant, &headers, typed, Some(&e));
            let cookie = tries_cookie(&state, &tenant, tried.saturating_add(1));
            r.headers_mut().append(header::SET_COOKIE, cookie);
            r
        }
        Err(e) => code_failure(&state, &tenant, &headers, typed, e),
    }
}

/// A failure on the code: the form again for what the user can fix by typing, the
/// error page for anything else.
fn code_failure(
    state: &AppState,
    tenant: &Tenant,
    headers: &HeaderMap,
    typed: &str,
    e: CatalogError,
) -> Response {
    if matches!(
        e.name,
        ErrorName::DeviceUserCodeInvalid | ErrorName::DeviceUserCodeExpired
    ) {
        code_page(state, tenant, headers, typed, Some(&e))
    } else {
        ErrorResponse::page(e).into_response()
    }
}

/// The pending record the code names, and its app.
async fn found(
    state: &AppState,
    tenant: &Tenant,
    typed: &str,
) -> Result<(StoredObject, DeviceAuthorization, App), CatalogError> {
    let now = state.clock.now();
    let (object, record) =
        device::pending(state.store.as_ref(), &state.master, tenant.id, now, typed).await?;
    let found = lookup::app(state, tenant, record.client_id.as_str()).await?;
    let app = App::usable(found, record.client_id.as_str(), tenant.slug.as_str())?;
    Ok((object, record, app))
}

/// After a good code: the confirmation when someone is signed in, else the sign-in form.
async fn next_step(
    state: &AppState,
    tenant: &Tenant,
    headers: &HeaderMap,
    typed: &str,
    record: &DeviceAuthorization,
    app: &App,
) -> Response {
    match session::current(state, tenant, headers).await {
        Ok(Some(current)) => {
            confirm_page(state, tenant, headers, typed, record, app, &current).await
        }
        Ok(None) => sign_in_page(state, tenant, headers, typed, app, None, None),
        Err(e) => ErrorResponse::page(e).into_response(),
    }
}

/// The carried code, as the sign-in and consent templates carry a request.
fn carried(typed: &str) -> String {
    serde_urlencoded::to_string([("user_code", typed)]).unwrap_or_default()
}

fn sign_in_page(
    state: &AppState,
    tenant: &Tenant,
    headers: &HeaderMap,
    typed: &str,
    app: &App,
    username: Option<&str>,
    error: Option<&CatalogError>,
) -> Response {
    let form = pages::SignInForm {
        app,
        action: action(tenant, "/sign-in"),
        carried: carried(typed),
        redirect_uri: None,
        username,
        error,
    };
    pages::sign_in(state, tenant, headers, form)
}

/// This device's confirmation again, once a second factor is presented.
fn again(typed: &str) -> Continuation {
    Continuation::Device {
        user_code: typed.to_owned(),
    }
}

/// After a second factor: the confirmation for the device with user code `typed`, as
/// `current` (none: the session ended, so the sign-in form).
pub(super) async fn signed_in(
    state: &AppState,
    tenant: &Tenant,
    headers: &HeaderMap,
    typed: &str,
    current: Option<&CurrentSession>,
) -> Response {
    let (_, record, app) = match found(state, tenant, typed).await {
        Ok(v) => v,
        Err(e) => return code_failure(state, tenant, headers, typed, e),
    };
    match current {
        Some(current) => confirm_page(state, tenant, headers, typed, &record, &app, current).await,
        None => sign_in_page(state, tenant, headers, typed, &app, None, None),
    }
}

async fn confirm_page(
    state: &AppState,
    tenant: &Tenant,
    headers: &HeaderMap,
    typed: &str,
    record: &DeviceAuthorization,
    app: &App,
    current: &CurrentSession,
) -> Response {
    // The second factor the tenant or the app requires comes first.
    if let Some(page) =
        second_factor::demanded(state, tenant, headers, Some(app), current, || again(typed))
    {
        return page;
    }
    // The scopes in words, as the consent page of the authorization endpoint has them.
    let joined = record.scopes.iter().cloned().collect::<Vec<_>>().join(" ");
    let resolved = match lookup::apis(state, tenant.id).await {
        Ok(apis) => tessera_core::oauth::scope::resolve(&joined, app, &apis).ok(),
        Err(_) => None,
    };
    let scopes: Vec<_> = match resolved {
        Some(r) => r
            .scopes
            .iter()
            .map(|s| context! { value => s.value, description => s.description })
            .collect(),
        None => record
            .scopes
            .iter()
            .map(|s| context! { value => s, description => s })
            .collect(),
    };
    let token = csrf::issue(state, headers);
    let response = page(
        StatusCode::OK,
        "consent.html",
        context! {
            title => "Sign in on your device?",
            app_name => app.name,
            username => current.user.username.as_str(),
            device => record.device.as_deref().unwrap_or("a device that did not say what it is"),
            scopes => scopes,
            action => action(tenant, "/confirm"),
            request => carried(typed),
            csrf_token => token.token,
        },
    );
    csrf::attach(response, token)
}

/// A sign-in or confirmation form, CSRF-checked, and the code it carries.
fn carrying_form(
    state: &AppState,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<(Params, String), CatalogError> {
    let fields = csrf::checked_form(state, headers, body)?;
    let request = Params::parse(fields.get("request").unwrap_or_default().as_bytes())?;
    let code = request.get("user_code").unwrap_or_default().to_owned();
    Ok((fields, code))
}

/// `POST /{t}/device/sign-in`: the password form.
pub async fn sign_in(
    State(state): State<AppState>,
    PageTenant(tenant): PageTenant,
    headers: HeaderMap,
    ClientAddress(client): ClientAddress,
    body: Bytes,
) -> Response {
    let (fields, typed) = match carrying_form(&state, &headers, &body) {
        Ok(v) => v,
        Err(e) => return ErrorResponse::page(e).into_response(),
    };
    let (_, record, app) = match found(&state, &tenant, &typed).await {
        Ok(v) => v,
        Err(e) => return code_failure(&state, &tenant, &headers, &typed, e),
    };
    let username = fields.get("username").unwrap_or_default();
    let secret = Secret::new(fields.get("password").unwrap_or_default());
    let for_app = Some(app.client_id.as_str());
    match session::sign_in_with_password(
        &state, &tenant, &headers, client, for_app, username, secret,
    )
    .await
    {
        Ok(SignedIn::Session(current, cookie)) => {
            let mut r =
                confirm_page(&state, &tenant, &headers, &typed, &record, &app, &current).await;
            r.headers_mut().append(header::SET_COOKIE, cookie);
            r
        }
        Ok(SignedIn::SecondFactor(due)) => {
            second_factor::ask(&state, &tenant, &headers, due, again(&typed), None)
        }
        Err(e) if e.entry().status < 500 => sign_in_page(
            &state,
            &tenant,
            &headers,
            &typed,
            &app,
            Some(username),
            Some(&e),
        ),
        Err(e) => ErrorResponse::page(e).into_response(),
    }
}

/// `POST /{t}/device/confirm`: the user's answer.
pub async fn confirm(
    State(state): State<AppState>,
    PageTenant(tenant): PageTenant,
    headers: HeaderMap,
    ClientAddress(client): ClientAddress,
    body: Bytes,
) -> Response {
    let (fields, typed) = match carrying_form(&state, &headers, &body) {
        Ok(v) => v,
        Err(e) => return ErrorResponse::page(e).into_response(),
    };
    let allow = match super::signin::decision(&fields) {
        Ok(allow) => allow,
        Err(e) => return ErrorResponse::page(e).into_response(),
    };
    let (object, record, app) = match found(&state, &tenant, &typed).await {
        Ok(v) => v,
        Err(e) => return code_failure(&state, &tenant, &headers, &typed, e),
    };
    let current = match session::current(&state, &tenant, &headers).await {
        Ok(Some(c)) => c,
        // The session ended between the pages: sign in again.
        Ok(None) => return sign_in_page(&state, &tenant, &headers, &typed, &app, None, None),
        Err(e) => return ErrorResponse::page(e).into_response(),
    };
    if let Err(e) = super::authorize::platform_allowed(&tenant, &app, &headers) {
        return ErrorResponse::page(e).into_response();
    }
    if let Some(page) =
        second_factor::demanded(&state, &tenant, &headers, Some(&app), &current, || {
            again(&typed)
        })
    {
        return page;
    }
    let answered = answer(&state, &tenant, &app, object, record, &current, allow).await;
    // The user's yes or no goes to the sign-in log, like a consent page's.
    let declined = CatalogError::new(ErrorName::DeviceAccessDenied);
    let outcome = match &answered {
        Ok(()) if !allow => Err(&declined),
        Ok(()) => Ok(()),
        Err(e) => Err(e),
    };
    let step = super::sign_in_log::Step {
        step: "device_approval",
        user: &current.session.user,
        app: Some(app.client_id.as_str()),
        client,
        sid: Some(&current.session.sid),
    };
    super::sign_in_log::record(&state, &tenant, &headers, step, outcome).await;
    match answered {
        Ok(()) => page(
            StatusCode::OK,
            "device_done.html",
            context! {
                title => if allow { "Signed in" } else { "Sign-in declined" },
                allowed => allow,
                app_name => app.name,
                username => current.user.username.as_str(),
            },
        ),
        Err(e) => ErrorResponse::page(e).into_response(),
    }
}

/// Records the user's answer: on yes, after the app's assignment rule, the scopes join
/// the user's consent to the app (as a consent page at the authorization endpoint does)
/// and the record is approved for this user and session.
async fn answer(
    state: &AppState,
    tenant: &Tenant,
    app: &App,
    object: StoredObject,
    record: DeviceAuthorization,
    current: &CurrentSession,
    allow: bool,
) -> Result<(), CatalogError> {
    let user = current.session.user.clone();
    let now = state.clock.now();
    // A user the app does not admit cannot allow it: the device is told access_denied
    // at once rather than polling until the code expires, and the user sees why.
    let admitted = app.admits(&user, &current.user.groups);
    if !allow || !admitted {
        let answer = Answer::Denied { user };
        device::answer(state.store.as_ref(), now, object, record, answer).await?;
        return if admitted {
            Ok(())
        } else {
            Err(CatalogError::new(ErrorName::UserNotAssigned)
                .with("client_id", app.client_id.clone()))
        };
    }
    consent::record(state, tenant, app, record.scopes.clone(), &user).await?;
    let answer = Answer::Approved(Approval {
        user,
        user_id: current.user_id,
        sid: current.session.sid.clone(),
        auth_time: current.session.auth_time,
        amr: current.session.amr.clone(),
    });
    device::answer(state.store.as_ref(), now, object, record, answer).await
}
