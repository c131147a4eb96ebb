//! The meta-tenants `/common`, `/organizations` and `/consumers` (core
//! `oauth::tenancy::MetaTenant`). They serve multi-tenant apps to users of many
//! tenants without issuing anything themselves: the authorization endpoint checks the
//! app, finds the user's tenant (`domain_hint`, or a page that asks for it) and sends
//! the browser on to that tenant's own authorization endpoint with the same request,
//! where the tenant's issuer, keys and policy take over, and where the app must be
//! available (`tenancy::foreign_app`). RFC 9207's `iss` in the response then tells the
//! app which tenant answered, and so where to redeem the code.

use crate::http::error_response::ErrorResponse;
use crate::http::tenant_path::{self, PageTenant};
use crate::runtime::state::AppState;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use minijinja::context;
use std::sync::Arc;
use tessera_core::directory::model::App;
use tessera_core::errors::{CatalogError, ErrorName};
use tessera_core::oauth::authorize as checks;
use tessera_core::oauth::params::Params;
use tessera_core::oauth::tenancy::MetaTenant;
use tessera_core::tenant::Tenant;

/// The first path segment of a browser-facing endpoint: a tenant, or a meta-tenant
/// (in any case, as tenant slugs are read).
pub enum Realm {
    Tenant(Arc<Tenant>),
    Meta(MetaTenant),
}

impl FromRequestParts<AppState> for Realm {
    type Rejection = ErrorResponse;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        if let Some(meta) = MetaTenant::parse(tenant_path::first_segment(parts.uri.path())) {
            return Ok(Realm::Meta(meta));
        }
        let PageTenant(tenant) = PageTenant::from_request_parts(parts, state).await?;
        Ok(Realm::Tenant(tenant))
    }
}

/// The parameter that names the user's tenant: Entra ID's `domain_hint`, which MSAL
/// passes through, holding a tenant's slug here. The tenant page fills it in.
const TENANT_PARAM: &str = "domain_hint";

/// The browser-facing endpoints a meta-tenant hands on to the user's tenant.
#[derive(Debug, Clone, Copy)]
pub enum Endpoint {
    /// `oauth2/authorize`.
    Authorize,
    /// `adminconsent` (`super::admin_consent`).
    AdminConsent,
}

impl Endpoint {
    fn path(self) -> &'static str {
        match self {
            Endpoint::Authorize => "oauth2/authorize",
            Endpoint::AdminConsent => "adminconsent",
        }
    }
}

/// A request to `endpoint` at a meta-tenant. In order: the protocol, the client, the
/// app (found across tenants; `MetaTenant::serves`), the redirect URI (all errors so
/// far on a page, RFC 6749 §4.1.2.1), then the user's tenant: InteractionRequired to
/// the app under `prompt=none` without one, the page that asks for it, or a redirect
/// to the same endpoint of that tenant with the same parameters (303 after a POST,
/// RFC 9700 §4.12).
pub async fn hand_on(
    state: &AppState,
    meta: MetaTenant,
    endpoint: Endpoint,
    params: Params,
    posted: bool,
) -> Response {
    let (app, redirect) = match app(state, meta, &params).await {
        Ok(found) => found,
        Err(e) => return ErrorResponse::page(e).into_response(),
    };
    let silent = params
        .get("prompt")
        .is_some_and(|p| p.split(' ').any(|v| v == "none"));
    if silent && params.get(TENANT_PARAM).is_none() {
        // OIDC Core §3.1.2.1: prompt=none shows no page, and finding the tenant takes one.
        let err = CatalogError::new(ErrorName::InteractionRequired)
            .with("reason", "choosing the organization to sign in with");
        return super::respond::error_without_issuer(&redirect, &err, posted);
    }
    let page = Page {
        meta,
        endpoint,
        app: &app,
        params: &params,
        redirect_uri: &redirect.uri,
    };
    let Some(named) = params.get(TENANT_PARAM) else {
        return page.render("", None);
    };
    let tenant = match user_tenant(state, meta, named).await {
        Ok(tenant) => tenant,
        Err(e) => return page.render(named, Some(&e)),
    };
    let target = format!(
        "/{}/{}?{}",
        tenant.slug.as_str(),
        endpoint.path(),
        params.without(TENANT_PARAM).encode()
    );
    let status = if posted {
        StatusCode::SEE_OTHER
    } else {
        StatusCode::FOUND
    };
    let Ok(location) = HeaderValue::try_from(target) else {
        return ErrorResponse::page(CatalogError::new(ErrorName::InternalError)).into_response();
    };
    (
        status,
        [
            (header::LOCATION, location),
            (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
        ],
    )
        .into_response()
}

/// `POST /{meta}/oauth2/token`: the authorization code and refresh token grants, for
/// codes and refresh tokens any tenant issued to an app this meta-tenant serves. Each
/// value names its tenant (`records::tenant_of`), whose token endpoint answers as if
/// called directly: the tenant's issuer, keys and client authentication. A value that
/// names no tenant is as invalid as a forged one; other grants need the tenant's own
/// endpoint (UnsupportedGrantType).
pub async fn token(
    axum::extract::State(state): axum::extract::State<AppState>,
    uri: axum::http::Uri,
    headers: axum::http::HeaderMap,
    crate::http::client_address::ClientAddress(client): crate::http::client_address::ClientAddress,
    body: axum::body::Bytes,
) -> Response {
    let Some(meta) = MetaTenant::parse(tenant_path::first_segment(uri.path())) else {
        return ErrorResponse::json(CatalogError::new(ErrorName::TenantNotFound)).into_response();
    };
    match token_tenant(&state, meta, &headers, &body).await {
        Ok(tenant) => {
            let dialect = super::token::Dialect::of(&uri);
            super::token::answer(
                &state,
                &tenant,
                Some(meta),
                dialect,
                &headers,
                client,
                &body,
            )
            .await
        }
        Err(e) => ErrorResponse::token(e).into_response(),
    }
}

/// The tenant whose code or refresh token a meta-tenant's token request carries.
async fn token_tenant(
    state: &AppState,
    meta: MetaTenant,
    headers: &axum::http::HeaderMap,
    body: &[u8],
) -> Result<Arc<Tenant>, CatalogError> {
    use tessera_core::oauth::records::tenant_of;
    let params = crate::http::extract::form(headers, body)?;
    let grant_type = params.require("grant_type")?;
    let (value, invalid) = match grant_type {
        "authorization_code" => (params.get("code"), ErrorName::AuthorizationCodeInvalid),
        "refresh_token" => (params.get("refresh_token"), ErrorName::RefreshTokenInvalid),
        other => {
            return Err(CatalogError::new(ErrorName::UnsupportedGrantType)
                .with("value", other.chars().take(128).collect::<String>())
                .with(
                    "supported",
                    format!("authorization_code, refresh_token (at /{})", meta.as_str()),
                ));
        }
    };
    let invalid = || CatalogError::new(invalid);
    let id = value.and_then(tenant_of).ok_or_else(invalid)?;
    let found = state
        .store
        .tenant_by_id(id)
        .await
        .map_err(crate::http::error_response::store_error)?
        .ok_or_else(invalid)?;
    let tenant = tenant_path::resolve(state, found.slug.as_str())
        .await
        .map_err(|e| *e.error)?;
    if !meta.admits(&tenant) {
        return Err(invalid());
    }
    Ok(tenant)
}

/// The app of a request at `meta`, and its verified redirect URI: ClientNotFound when
/// no tenant has it; CommonEndpointNotAllowed or ConsumersEndpointNotAllowed when it
/// may not be used here; AppDisabled; RedirectUriMismatch.
async fn app(
    state: &AppState,
    meta: MetaTenant,
    params: &Params,
) -> Result<(App, checks::VerifiedRedirect), CatalogError> {
    checks::check_protocol(params)?;
    let client_id = checks::check_client_id(params)?;
    let registered = state
        .store
        .apps_with_client_id(client_id)
        .await
        .map_err(crate::http::error_response::store_error)?;
    // The multi-tenant one if there is one (at most one is), else any: a single-tenant
    // app is told to use its own tenant.
    let chosen = registered
        .iter()
        .find(|(_, o)| o.is_multi_tenant_app())
        .or(registered.first());
    let found = chosen
        .map(|(home, stored)| stored.decode::<App>().map(|app| (home, app)))
        .transpose()
        .map_err(|e| CatalogError::new(ErrorName::InternalError).internal(e))?;
    let (home, found) = found.unzip();
    let app = App::usable(found, client_id, meta.as_str())?;
    if let Some(home) = home {
        meta.serves(&app, home)?;
    }
    let redirect = checks::check_redirect_uri(params, &app)?;
    Ok((app, redirect))
}

/// The tenant a user named, if `meta` takes its users: TenantNotFound otherwise (a
/// personal-account tenant is no organization), TenantDisabled.
async fn user_tenant(
    state: &AppState,
    meta: MetaTenant,
    named: &str,
) -> Result<Arc<Tenant>, CatalogError> {
    // As a person types it: in any case, with stray spaces.
    let typed = named.trim();
    let named = typed.to_ascii_lowercase();
    let named = named.as_str();
    let not_found = || {
        CatalogError::new(ErrorName::TenantNotFound)
            .with("tenant", typed.chars().take(64).collect::<String>())
    };
    if MetaTenant::parse(named).is_some() {
        return Err(not_found());
    }
    let tenant = tenant_path::resolve(state, named)
        .await
        .map_err(|e| *e.error)?;
    if !meta.admits(&tenant) {
        return Err(not_found());
    }
    Ok(tenant)
}

/// The page that asks which tenant the user belongs to. A GET form back to this
/// endpoint with the request's parameters: it changes nothing, so it needs no CSRF
/// token. Its CSP lets the form's redirects end at the app's verified redirect URI
/// (`form-action` covers them), as a tenant that already has the user signed in
/// answers at once.
struct Page<'a> {
    meta: MetaTenant,
    endpoint: Endpoint,
    app: &'a App,
    params: &'a Params,
    redirect_uri: &'a str,
}

impl Page<'_> {
    fn render(&self, value: &str, error: Option<&CatalogError>) -> Response {
        let carried: Vec<_> = self
            .params
            .without(TENANT_PARAM)
            .iter()
            .map(|(name, value)| context! { name => name, value => value })
            .collect();
        let (error, status) = super::pages::form_error(error);
        crate::pages::page_redirecting_to(
            status,
            "choose_tenant.html",
            context! {
                title => "Find your organization",
                app_name => self.app.name,
                action => format!("/{}/{}", self.meta.as_str(), self.endpoint.path()),
                carried => carried,
                value => value,
                error => error,
            },
            self.redirect_uri,
        )
    }
}
