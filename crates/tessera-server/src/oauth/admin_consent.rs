//! `/{t}/adminconsent`: an administrator of a tenant adds a multi-tenant app of another
//! tenant to theirs, for everyone in it (Entra ID's admin-consent endpoint, with its
//! `client_id`, `redirect_uri` and `state`). Until then the app is not available to the
//! tenant's users (AppNotAvailableInTenant, `tenancy::foreign_app`).
//!
//! The administrator signs in to their own tenant if they are not already, sees which
//! app, registered by whom, asks for what, and accepts or cancels; the app learns the
//! outcome at its registered redirect URI: `admin_consent=True` and `tenant` (the
//! tenant's id), or an error, each with `state` and `iss`. An administrator is a user
//! holding the management API's `Directory.ReadWrite` role (`tenancy::is_tenant_admin`).
//! At the app's own tenant the same consent sets the registration's `admin_consented`.

use super::meta::{Endpoint, Realm};
use super::session::CurrentSession;
use super::session::SignedIn;
use super::{csrf, lookup, pages, respond, second_factor, session};
use crate::http::client_address::ClientAddress;
use crate::http::error_response::{ErrorResponse, store_error};
use crate::http::tenant_path::PageTenant;
use crate::runtime::state::AppState;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use minijinja::context;
use tessera_core::audit::AuditEntry;
use tessera_core::directory::mfa::Continuation;
use tessera_core::directory::model::{App, ForeignApp, Group};
use tessera_core::errors::{CatalogError, ErrorName};
use tessera_core::oauth::authorize::{self as checks, VerifiedRedirect};
use tessera_core::oauth::params::Params;
use tessera_core::oauth::tenancy;
use tessera_core::secret::Secret;
use tessera_core::store::object::{ObjectKind, StoredObject, Write, encode};
use tessera_core::tenant::Tenant;

/// An admin-consent request, checked.
struct Request {
    /// The app's registration, in its own tenant.
    app: App,
    /// Its stored object, when `tenant` is its own (the consent is written into it).
    own: Option<StoredObject>,
    home: Tenant,
    redirect: VerifiedRedirect,
}

/// `GET /{t}/adminconsent`, and at a meta-tenant the page that finds the tenant.
pub async fn get(
    State(state): State<AppState>,
    realm: Realm,
    headers: HeaderMap,
    uri: Uri,
) -> Response {
    let params = match Params::parse(uri.query().unwrap_or_default().as_bytes()) {
        Ok(p) => p,
        Err(e) => return ErrorResponse::page(e).into_response(),
    };
    let tenant = match realm {
        Realm::Meta(meta) => {
            return super::meta::hand_on(&state, meta, Endpoint::AdminConsent, params, false).await;
        }
        Realm::Tenant(tenant) => tenant,
    };
    let request = match checked(&state, &tenant, &params).await {
        Ok(r) => r,
        Err(e) => return ErrorResponse::page(e).into_response(),
    };
    match session::current(&state, &tenant, &headers).await {
        Ok(Some(current)) => {
            consent_page(&state, &tenant, &headers, &params, &request, &current).await
        }
        Ok(None) => sign_in_page(&state, &tenant, &headers, &params, &request, None, None),
        Err(e) => ErrorResponse::page(e).into_response(),
    }
}

/// `POST /{t}/adminconsent/sign-in`: the password form, then the consent page.
pub async fn sign_in(
    State(state): State<AppState>,
    PageTenant(tenant): PageTenant,
    headers: HeaderMap,
    ClientAddress(client): ClientAddress,
    body: Bytes,
) -> Response {
    let (fields, params, request) = match form(&state, &tenant, &headers, &body).await {
        Ok(v) => v,
        Err(e) => return ErrorResponse::page(e).into_response(),
    };
    let username = fields.get("username").unwrap_or_default();
    let secret = Secret::new(fields.get("password").unwrap_or_default());
    let app = Some(request.app.client_id.as_str());
    match session::sign_in_with_password(&state, &tenant, &headers, client, app, username, secret)
        .await
    {
        Ok(SignedIn::Session(current, cookie)) => {
            let mut r = consent_page(&state, &tenant, &headers, &params, &request, &current).await;
            r.headers_mut().append(header::SET_COOKIE, cookie);
            r
        }
        Ok(SignedIn::SecondFactor(due)) => second_factor::ask(
            &state,
            &tenant,
            &headers,
            due,
            again(&tenant, &params),
            None,
        ),
        Err(e) if e.entry().status < 500 => sign_in_page(
            &state,
            &tenant,
            &headers,
            &params,
            &request,
            Some(username),
            Some(&e),
        ),
        Err(e) => ErrorResponse::page(e).into_response(),
    }
}

/// `POST /{t}/adminconsent/confirm`: the administrator's answer, by the account that
/// saw the page.
pub async fn confirm(
    State(state): State<AppState>,
    PageTenant(tenant): PageTenant,
    headers: HeaderMap,
    ClientAddress(client): ClientAddress,
    body: Bytes,
) -> Response {
    let (fields, params, request) = match form(&state, &tenant, &headers, &body).await {
        Ok(v) => v,
        Err(e) => return ErrorResponse::page(e).into_response(),
    };
    let allow = match super::signin::decision(&fields) {
        Ok(allow) => allow,
        Err(e) => return ErrorResponse::page(e).into_response(),
    };
    let account = fields.get("account").unwrap_or_default();
    let current = match session::all(&state, &tenant, &headers).await {
        Ok(all) => all.into_iter().find(|c| c.session.sid == account),
        Err(e) => return ErrorResponse::page(e).into_response(),
    };
    // The session ended between the pages: sign in again.
    let Some(current) = current else {
        return sign_in_page(&state, &tenant, &headers, &params, &request, None, None);
    };
    // A second factor the session owes comes first; then the consent page again.
    if let Some(page) = second_factor::demanded(&state, &tenant, &headers, None, &current, || {
        again(&tenant, &params)
    }) {
        return page;
    }
    let issuer = state.issuer(tenant.slug.as_str());
    let outcome = if allow {
        match admin(&state, &tenant, &current, &request).await {
            Ok(()) => consent(&state, &tenant, &current, request.own.clone(), &request).await,
            Err(e) => Err(e),
        }
    } else {
        Err(CatalogError::new(ErrorName::ConsentDeclined)
            .with("client_id", request.app.client_id.to_string()))
    };
    let step = super::sign_in_log::Step {
        step: "admin_consent",
        user: &current.session.user,
        app: Some(request.app.client_id.as_str()),
        client,
        sid: Some(&current.session.sid),
    };
    super::sign_in_log::record(&state, &tenant, &headers, step, outcome.as_ref().copied()).await;
    match outcome {
        Ok(()) => respond::success(
            &request.redirect,
            vec![
                ("admin_consent", "True".to_owned()),
                ("tenant", tenant.id.to_string()),
            ],
            &issuer,
            true,
        ),
        Err(e) if e.entry().redirectable => respond::error(&request.redirect, &e, &issuer, true),
        Err(e) => ErrorResponse::page(e).into_response(),
    }
}

/// This admin-consent request again, once a second factor is presented.
fn again(tenant: &Tenant, params: &Params) -> Continuation {
    Continuation::Page(format!(
        "/{}/adminconsent?{}",
        tenant.slug.as_str(),
        params.encode()
    ))
}

/// The request's app and redirect URI. In order: `client_id` (the tenant's own app, or
/// a multi-tenant app of another tenant: ClientNotFound otherwise, and
/// `tenancy::may_serve`'s refusals), AppDisabled, then
/// `redirect_uri`, one the app registered (RedirectUriMismatch). Errors so far are
/// shown on a page, never sent to an unverified redirect URI (RFC 6749 §4.1.2.1).
async fn checked(
    state: &AppState,
    tenant: &Tenant,
    params: &Params,
) -> Result<Request, CatalogError> {
    let client_id = checks::check_client_id(params)?;
    let own = lookup::get::<App>(state, tenant.id, ObjectKind::App, client_id).await?;
    let (app, own, home) = match own {
        Some((object, app)) => (Some(app), Some(object), tenant.clone()),
        None => match lookup::multi_tenant_app(state, client_id).await? {
            Some((home, object)) => {
                let app = object
                    .decode::<App>()
                    .map_err(|e| CatalogError::new(ErrorName::InternalError).internal(e))?;
                // Where the app's users could not sign in, a consent would be in vain.
                tenancy::may_serve(&app, &home, tenant)?;
                (Some(app), None, home)
            }
            None => (None, None, tenant.clone()),
        },
    };
    let app = App::usable(app, client_id, tenant.slug.as_str())?;
    let redirect = checks::check_redirect_uri(params, &app)?;
    Ok(Request {
        app,
        own,
        home,
        redirect,
    })
}

/// A submitted admin-consent form: CSRF-checked, its fields, and the request it carries,
/// checked again (it may have changed since the page).
async fn form(
    state: &AppState,
    tenant: &Tenant,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<(Params, Params, Request), CatalogError> {
    let fields = csrf::checked_form(state, headers, body)?;
    let params = Params::parse(fields.get("request").unwrap_or_default().as_bytes())?;
    let request = checked(state, tenant, &params).await?;
    Ok((fields, params, request))
}

/// TenantAdminRequired unless `current` administers `tenant`.
async fn admin(
    state: &AppState,
    tenant: &Tenant,
    current: &CurrentSession,
    request: &Request,
) -> Result<(), CatalogError> {
    let groups: Vec<Group> = state
        .store
        .objects(tenant.id, ObjectKind::Group)
        .await
        .map_err(store_error)?
        .iter()
        .filter_map(|o| o.decode::<Group>().ok())
        .collect();
    if tenancy::is_tenant_admin(&current.user, &groups) {
        return Ok(());
    }
    Err(CatalogError::new(ErrorName::TenantAdminRequired)
        .with("user", current.user.username.as_str())
        .with("tenant", tenant.slug.as_str())
        .with("client_id", request.app.client_id.to_string()))
}

/// Records the consent, with an audit entry, in one change: the app's own
/// `admin_consented` in its tenant, or a `ForeignApp` elsewhere (replacing one given
/// for an earlier registration of the client_id).
async fn consent(
    state: &AppState,
    tenant: &Tenant,
    current: &CurrentSession,
    own: Option<StoredObject>,
    request: &Request,
) -> Result<(), CatalogError> {
    let now = state.clock.now();
    let client_id = request.app.client_id.clone();
    let object = match own {
        Some(object) => {
            let mut app = request.app.clone();
            app.admin_consented = true;
            object.with_doc(encode(&app), now)
        }
        None => {
            let record = ForeignApp {
                client_id: client_id.clone(),
                home_tenant: request.home.id,
                consented_by: current.user.username.key(),
                consented_at: now,
            };
            let existing = lookup::get::<ForeignApp>(
                state,
                tenant.id,
                ObjectKind::ForeignApp,
                client_id.as_str(),
            )
            .await?;
            match existing {
                Some((object, _)) => object.with_doc(encode(&record), now),
                None => StoredObject::new(
                    state.rng.object_id(),
                    tenant.id,
                    ObjectKind::ForeignApp,
                    client_id.to_string(),
                    encode(&record),
                    now,
                ),
            }
        }
    };
    let audit = AuditEntry {
        id: state.rng.object_id(),
        tenant_id: tenant.id,
        at: now,
        actor: format!("user:{}", current.user.username.as_str()),
        action: "app.admin_consent".to_owned(),
        target: format!("app:{client_id}"),
        changes: vec![format!("home_tenant:{}", request.home.slug.as_str())],
    };
    // A concurrent change of the same record loses with Conflict and writes nothing.
    state
        .store
        .apply(vec![Write::Put(object), Write::Audit(audit)])
        .await
        .map_err(store_error)
}

fn sign_in_page(
    state: &AppState,
    tenant: &Tenant,
    headers: &HeaderMap,
    params: &Params,
    request: &Request,
    username: Option<&str>,
    error: Option<&CatalogError>,
) -> Response {
    let form = pages::SignInForm {
        app: &request.app,
        action: format!("/{}/adminconsent/sign-in", tenant.slug.as_str()),
        carried: params.encode(),
        redirect_uri: None,
        username,
        error,
    };
    pages::sign_in(state, tenant, headers, form)
}

/// The page that asks the administrator; TenantAdminRequired (sent to the app) for
/// anyone else.
async fn consent_page(
    state: &AppState,
    tenant: &Tenant,
    headers: &HeaderMap,
    params: &Params,
    request: &Request,
    current: &CurrentSession,
) -> Response {
    if let Some(page) = second_factor::demanded(state, tenant, headers, None, current, || {
        again(tenant, params)
    }) {
        return page;
    }
    if let Err(e) = admin(state, tenant, current, request).await {
        let issuer = state.issuer(tenant.slug.as_str());
        return respond::error(&request.redirect, &e, &issuer, true);
    }
    let mut scopes = vec!["Sign users in and read their profile".to_owned()];
    for p in &request.app.permissions {
        scopes.extend(p.scopes.iter().map(|s| format!("{}/{s}", p.api)));
    }
    let token = csrf::issue(state, headers);
    let home_name = (request.home.id != tenant.id).then_some(&request.home.display_name);
    let response = crate::pages::page_redirecting_to(
        StatusCode::OK,
        "admin_consent.html",
        context! {
            title => "Add an app",
            app_name => request.app.name,
            tenant_name => tenant.display_name,
            home_name => home_name,
            username => current.user.username.as_str(),
            scopes => scopes,
            action => format!("/{}/adminconsent/confirm", tenant.slug.as_str()),
            account => current.session.sid,
            request => params.encode(),
            csrf_token => token.token,
        },
        &request.redirect.uri,
    );
    csrf::attach(response, token)
}
