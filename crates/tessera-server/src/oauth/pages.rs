//! The sign-in and consent pages of the authorization flow (the sign-in page serves the
//! device page too). Both carry what they continue (the authorization request, or a
//! device's user code) in a hidden field and a CSRF token, and post back to Tessera.

use super::csrf;
use super::session::CurrentSession;
use crate::pages::page_redirecting_to;
use crate::runtime::state::AppState;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use minijinja::context;
use tessera_core::directory::model::App;
use tessera_core::errors::CatalogError;
use tessera_core::errors::render::ErrorView;
use tessera_core::oauth::authorize::AuthorizeRequest;
use tessera_core::oauth::params::Params;
use tessera_core::tenant::Tenant;

pub fn sign_in_action(tenant: &Tenant) -> String {
    format!("/{}/signin/password", tenant.slug.as_str())
}

pub fn consent_action(slug: &str) -> String {
    format!("/{slug}/signin/consent")
}

pub fn select_action(tenant: &Tenant) -> String {
    format!("/{}/signin/select", tenant.slug.as_str())
}

/// What the sign-in page shows.
pub struct SignInForm<'a> {
    pub app: &'a App,
    /// Where the form posts.
    pub action: String,
    /// What the form carries back: the encoded authorization request, or the device's
    /// user code.
    pub carried: String,
    /// The verified redirect URI the flow ends at, when it ends at the app: its origin
    /// joins the page's CSP `form-action`.
    pub redirect_uri: Option<&'a str>,
    /// Prefilled (login_hint, or the last attempt).
    pub username: Option<&'a str>,
    /// Why the last attempt failed.
    pub error: Option<&'a CatalogError>,
}

/// An error shown beside a form (the last attempt's), and the page's status: the
/// entry's, or 200 without an error.
pub fn form_error(error: Option<&CatalogError>) -> (Option<ErrorView>, StatusCode) {
    let view = error.map(|e| ErrorView::new(e, &crate::http::request_context::current()));
    let status = match &view {
        Some(e) => StatusCode::from_u16(e.status).unwrap_or(StatusCode::BAD_REQUEST),
        None => StatusCode::OK,
    };
    (view, status)
}

/// Where a user whose password is temporary (PasswordChangeRequired) chooses a new one.
pub fn change_password_link(tenant: &Tenant, error: Option<&CatalogError>) -> Option<String> {
    error
        .filter(|e| e.name == tessera_core::errors::ErrorName::PasswordChangeRequired)
        .map(|_| format!("/{}/account/password", tenant.slug.as_str()))
}

/// The sign-in form, with an error from the last attempt if there was one.
pub fn sign_in(
    state: &AppState,
    tenant: &Tenant,
    headers: &HeaderMap,
    form: SignInForm<'_>,
) -> Response {
    let SignInForm {
        app,
        action,
        carried,
        redirect_uri,
        username,
        error,
    } = form;
    let token = csrf::issue(state, headers);
    let change_password = change_password_link(tenant, error);
    let (error, status) = form_error(error);
    let ctx = context! {
        title => "Sign in",
        change_password => change_password,
        app_name => app.name,
        tenant_name => tenant.display_name,
        action => action,
        request => carried,
        csrf_token => token.token,
        username => username.unwrap_or_default(),
        error => error,
    };
    let response = match redirect_uri {
        Some(uri) => page_redirecting_to(status, "sign_in.html", ctx, uri),
        None => crate::pages::page(status, "sign_in.html", ctx),
    };
    csrf::attach(response, token)
}

/// The consent page: the app's name and each requested scope in words.
pub fn consent(
    state: &AppState,
    headers: &HeaderMap,
    tenant_slug: &str,
    app: &App,
    params: &Params,
    request: &AuthorizeRequest,
    current: &CurrentSession,
) -> Response {
    let token = csrf::issue(state, headers);
    let scopes: Vec<_> = request
        .scopes
        .scopes
        .iter()
        .map(|s| context! { value => s.value, description => s.description })
        .collect();
    let response = page_redirecting_to(
        StatusCode::OK,
        "consent.html",
        context! {
            title => "Permissions requested",
            app_name => app.name,
            username => current.user.username.as_str(),
            scopes => scopes,
            action => consent_action(tenant_slug),
            account => current.session.sid,
            request => params.encode(),
            csrf_token => token.token,
        },
        &request.redirect.uri,
    );
    csrf::attach(response, token)
}

/// The account picker (`prompt=select_account`, or several accounts signed in): one
/// button per account of this browser, and one to sign in with another.
pub fn pick_account(
    state: &AppState,
    tenant: &Tenant,
    headers: &HeaderMap,
    app: &App,
    params: &Params,
    request: &AuthorizeRequest,
    accounts: &[CurrentSession],
) -> Response {
    let token = csrf::issue(state, headers);
    let listed: Vec<_> = accounts
        .iter()
        .map(|c| {
            context! {
                sid => c.session.sid,
                username => c.user.username.as_str(),
                name => c.user.name,
            }
        })
        .collect();
    let response = page_redirecting_to(
        StatusCode::OK,
        "select_account.html",
        context! {
            title => "Pick an account",
            app_name => app.name,
            tenant_name => tenant.display_name,
            accounts => listed,
            action => select_action(tenant),
            request => params.encode(),
            csrf_token => token.token,
        },
        &request.redirect.uri,
    );
    csrf::attach(response, token)
}
