//! The OAuth 2.0 / OpenID Connect endpoints of a tenant: authorization with its sign-in
//! and consent pages, token, UserInfo and discovery. The protocol rules themselves live
//! in `tessera_core::oauth`; this module adds HTTP, cookies and the store.

pub(crate) mod access_token;
mod authorize;
mod consent;
mod cookies;
mod cors;
pub(crate) mod csrf;
mod discovery;
mod introspect;
mod lookup;
mod pages;
pub(crate) mod password;
mod respond;
mod revoke;
pub(crate) mod session;
pub mod signing;
mod token;
mod userinfo;
pub mod verified_tokens;

use crate::error_response::ErrorResponse;
use crate::state::AppState;
use crate::tenant_path::PageTenant;
use authorize::Interaction;
use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use tessera_core::errors::{CatalogError, ErrorName};
use tessera_core::oauth::authorize as checks;
use tessera_core::oauth::params::Params;
use tessera_core::secret::Secret;
use tessera_core::tenant::Tenant;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/{tenant}/oauth2/authorize",
            get(authorize_get).post(authorize_post),
        )
        .route("/{tenant}/signin/password", post(sign_in))
        .route("/{tenant}/signin/consent", post(consent))
        .route(
            "/{tenant}/oauth2/token",
            post(token::token).options(cors::preflight),
        )
        .route(
            "/{tenant}/oauth2/revoke",
            post(revoke::revoke).options(cors::preflight),
        )
        .route("/{tenant}/oauth2/introspect", post(introspect::introspect))
        .route(
            "/{tenant}/oauth2/userinfo",
            get(userinfo::userinfo)
                .post(userinfo::userinfo)
                .options(cors::preflight),
        )
        .merge(discovery::routes())
}

pub use session::{Revocation, revoke_all as revoke_sessions, withdraw_consent};

/// The `Set-Cookie` of the tenant's session cookie: `value`, or `None` to delete it.
pub fn cookie_header(
    state: &AppState,
    tenant: &Tenant,
    value: Option<&str>,
) -> axum::http::HeaderValue {
    let path = format!("/{}", tenant.slug.as_str());
    let secure = state.secure_cookies();
    let name = cookies::session_name(secure);
    match value {
        Some(v) => cookies::set(
            name,
            v,
            &path,
            i64::from(tenant.policy.session_lifetime_seconds),
            secure,
        ),
        None => cookies::set(name, "", &path, 0, secure),
    }
}

/// The value of a request cookie (sent once).
pub fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    cookies::get(headers, name)
}

/// Redeems an authorization code in process, as the public client `client_id` (the
/// demo app, which is its own relying party): the same typed request and exchange as
/// the token endpoint, without HTTP.
pub async fn redeem_code(
    state: &AppState,
    tenant: &str,
    client_id: &str,
    request: tessera_core::oauth::token::request::CodeRequest,
) -> Result<tessera_core::oauth::token::TokenResponse, ErrorResponse> {
    use tessera_core::oauth::token::{self as engine, ClientAuthentication, TokenRequest};
    let tenant = crate::tenant_path::resolve(state, tenant).await?;
    let ctx = token::context(state, &tenant);
    let client = ClientAuthentication::None {
        client_id: client_id.to_owned(),
    };
    let app = client
        .authenticate(&ctx)
        .await
        .map_err(ErrorResponse::json)?;
    engine::exchange(&ctx, &app, &TokenRequest::AuthorizationCode(request))
        .await
        .map_err(ErrorResponse::json)
}

/// An error page for a failure that is Tessera's, not the request's.
pub(crate) fn internal_page(detail: &str) -> Response {
    ErrorResponse::page(CatalogError::new(ErrorName::InternalError).internal(detail.to_owned()))
        .into_response()
}

/// A form body: `application/x-www-form-urlencoded`, each parameter once (RFC 6749 §3.2).
pub fn form(headers: &HeaderMap, body: &[u8]) -> Result<Params, CatalogError> {
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let media = content_type.split(';').next().unwrap_or_default().trim();
    if !media.eq_ignore_ascii_case("application/x-www-form-urlencoded") {
        return Err(CatalogError::new(ErrorName::UnsupportedMediaType)
            .with("content_type", media.chars().take(64).collect::<String>())
            .with("supported", "application/x-www-form-urlencoded"));
    }
    Params::parse(body)
}

async fn authorize_get(
    State(state): State<AppState>,
    PageTenant(tenant): PageTenant,
    headers: HeaderMap,
    uri: Uri,
) -> Response {
    match Params::parse(uri.query().unwrap_or_default().as_bytes()) {
        Ok(params) => {
            let start = Interaction::Start { posted: false };
            authorize::proceed(&state, &tenant, &headers, params, start).await
        }
        Err(e) => ErrorResponse::page(e).into_response(),
    }
}

/// OIDC Core §3.1.2.1: the authorization endpoint accepts POST with a form body too.
async fn authorize_post(
    State(state): State<AppState>,
    PageTenant(tenant): PageTenant,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    match form(&headers, &body) {
        Ok(params) => {
            let start = Interaction::Start { posted: true };
            authorize::proceed(&state, &tenant, &headers, params, start).await
        }
        Err(e) => ErrorResponse::page(e).into_response(),
    }
}

/// The submitted form of a sign-in page, CSRF-checked, with the authorization request
/// it carries.
fn page_form(
    state: &AppState,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<(Params, Params), CatalogError> {
    let fields = form(headers, body)?;
    csrf::check(state, headers, fields.get("csrf_token"))?;
    let request = Params::parse(fields.get("request").unwrap_or_default().as_bytes())?;
    Ok((fields, request))
}

async fn sign_in(
    State(state): State<AppState>,
    PageTenant(tenant): PageTenant,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let (fields, request) = match page_form(&state, &headers, &body) {
        Ok(v) => v,
        Err(e) => return ErrorResponse::page(e).into_response(),
    };
    let username = fields.get("username").unwrap_or_default();
    let password = Secret::new(fields.get("password").unwrap_or_default());
    let outcome = match password::authenticate(&state, &tenant, username, password).await {
        Ok(who) => match session::start(&state, &tenant, &who, vec!["pwd".to_owned()]).await {
            Ok((s, cookie)) => match session::with_user(&state, &tenant, s).await {
                Ok(Some(current)) => Ok((current, cookie)),
                Ok(None) => Err(CatalogError::new(ErrorName::InvalidCredentials)),
                Err(e) => Err(e),
            },
            Err(e) => Err(e),
        },
        Err(e) => Err(e),
    };
    match outcome {
        Ok((current, cookie)) => {
            authorize::proceed(
                &state,
                &tenant,
                &headers,
                request,
                Interaction::SignedIn(Box::new(current), cookie),
            )
            .await
        }
        Err(err) if err.entry().status < 500 => {
            // Show the form again with the error, if the request still names a real app;
            // otherwise the normal checks explain what is wrong with the request.
            let app = match request.get("client_id") {
                Some(id) => lookup::app(&state, tenant.id, id).await.ok().flatten(),
                None => None,
            };
            let verified = app.and_then(|app| {
                checks::check_redirect_uri(&request, &app)
                    .ok()
                    .map(|r| (app, r))
            });
            match verified {
                Some((app, redirect)) => pages::sign_in(
                    &state,
                    &tenant,
                    &headers,
                    pages::SignInForm {
                        app: &app,
                        params: &request,
                        redirect_uri: &redirect.uri,
                        username: Some(username),
                        error: Some(&err),
                    },
                ),
                None => {
                    let start = Interaction::Start { posted: true };
                    authorize::proceed(&state, &tenant, &headers, request, start).await
                }
            }
        }
        Err(err) => ErrorResponse::page(err).into_response(),
    }
}

async fn consent(
    State(state): State<AppState>,
    PageTenant(tenant): PageTenant,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let (fields, request) = match page_form(&state, &headers, &body) {
        Ok(v) => v,
        Err(e) => return ErrorResponse::page(e).into_response(),
    };
    let allow = match fields.get("decision") {
        Some("allow") => true,
        Some("deny") => false,
        _ => {
            return ErrorResponse::page(
                CatalogError::new(ErrorName::InvalidRequestFormat)
                    .with("detail", "decision must be allow or deny"),
            )
            .into_response();
        }
    };
    authorize::proceed(
        &state,
        &tenant,
        &headers,
        request,
        Interaction::Consent { allow },
    )
    .await
}
