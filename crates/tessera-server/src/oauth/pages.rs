//! The sign-in and consent pages of the authorization flow. Both carry the
//! authorization request in a hidden field and a CSRF token, and post back to Tessera.

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

/// What the sign-in page shows.
pub struct SignInForm<'a> {
    pub app: &'a App,
    /// The authorization request, carried in the form.
    pub params: &'a Params,
    /// The verified redirect URI the flow ends at.
    pub redirect_uri: &'a str,
    /// Prefilled (login_hint, or the last attempt).
    pub username: Option<&'a str>,
    /// Why the last attempt failed.
    pub error: Option<&'a CatalogError>,
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
        params,
        redirect_uri,
        username,
        error,
    } = form;
    let token = csrf::issue(state, headers);
    let error = error.map(|e| ErrorView::new(e, &crate::http::request_context::current()));
    let status = match &error {
        Some(e) => StatusCode::from_u16(e.status).unwrap_or(StatusCode::BAD_REQUEST),
        None => StatusCode::OK,
    };
    let response = page_redirecting_to(
        status,
        "sign_in.html",
        context! {
            title => "Sign in",
            app_name => app.name,
            tenant_name => tenant.display_name,
            action => sign_in_action(tenant),
            request => params.encode(),
            csrf_token => token.token,
            username => username.unwrap_or_default(),
            error => error,
        },
        redirect_uri,
    );
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
            request => params.encode(),
            csrf_token => token.token,
        },
        &request.redirect.uri,
    );
    csrf::attach(response, token)
}
