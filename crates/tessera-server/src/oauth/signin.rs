//! The sign-in steps that continue an authorization request: the password form and the
//! consent form. Each submission is CSRF-checked, carries the whole authorization
//! request in a hidden field, and goes back through `authorize::proceed`.

use super::authorize::{self, Interaction};
use super::session::SignedIn;
use super::{csrf, lookup, pages, second_factor, session};
use crate::http::client_address::ClientAddress;
use crate::http::error_response::ErrorResponse;
use crate::http::tenant_path::PageTenant;
use crate::runtime::state::AppState;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use tessera_core::directory::mfa::Continuation;
use tessera_core::errors::{CatalogError, ErrorName};
use tessera_core::oauth::authorize as checks;
use tessera_core::oauth::params::Params;
use tessera_core::secret::Secret;
use tessera_core::tenant::Tenant;

/// The submitted form of a sign-in page, CSRF-checked, with the authorization request
/// it carries.
fn page_form(
    state: &AppState,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<(Params, Params), CatalogError> {
    let fields = csrf::checked_form(state, headers, body)?;
    let request = Params::parse(fields.get("request").unwrap_or_default().as_bytes())?;
    Ok((fields, request))
}

pub async fn password(
    State(state): State<AppState>,
    PageTenant(tenant): PageTenant,
    headers: HeaderMap,
    ClientAddress(client): ClientAddress,
    body: Bytes,
) -> Response {
    let (fields, request) = match page_form(&state, &headers, &body) {
        Ok(v) => v,
        Err(e) => return ErrorResponse::page(e).into_response(),
    };
    let username = fields.get("username").unwrap_or_default();
    let password = Secret::new(fields.get("password").unwrap_or_default());
    let app = request.get("client_id");
    match session::sign_in_with_password(&state, &tenant, &headers, client, app, username, password)
        .await
    {
        Ok(SignedIn::Session(current, cookie)) => {
            authorize::proceed(
                &state,
                &tenant,
                &headers,
                request,
                Interaction::SignedIn(current, Some(cookie)),
            )
            .await
        }
        Ok(SignedIn::SecondFactor(due)) => {
            // The request as it will go on; its redirect URI checked as at every step.
            let verified = verified_app(&state, &tenant, &request).await;
            match verified {
                Some((_, redirect)) => second_factor::ask(
                    &state,
                    &tenant,
                    &headers,
                    due,
                    Continuation::Authorize {
                        request: request.encode(),
                        redirect_uri: redirect.uri,
                    },
                    None,
                ),
                None => {
                    let start = Interaction::Start { posted: true };
                    authorize::proceed(&state, &tenant, &headers, request, start).await
                }
            }
        }
        Err(err) if err.entry().status < 500 => {
            // Show the form again with the error, if the request still names a real app;
            // otherwise the normal checks explain what is wrong with the request.
            match verified_app(&state, &tenant, &request).await {
                Some((app, redirect)) => pages::sign_in(
                    &state,
                    &tenant,
                    &headers,
                    pages::SignInForm {
                        app: &app,
                        action: pages::sign_in_action(&tenant),
                        carried: request.encode(),
                        redirect_uri: Some(&redirect.uri),
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

/// The app a carried request names and its verified redirect URI, when both check out.
async fn verified_app(
    state: &AppState,
    tenant: &Tenant,
    request: &Params,
) -> Option<(
    tessera_core::directory::model::App,
    checks::VerifiedRedirect,
)> {
    let app = match request.get("client_id") {
        Some(id) => lookup::app(state, tenant, id).await.ok().flatten(),
        None => None,
    }?;
    let redirect = checks::check_redirect_uri(request, &app).ok()?;
    Some((app, redirect))
}

/// The answer of a consent form: `allow` or `deny`.
pub(super) fn decision(fields: &Params) -> Result<bool, CatalogError> {
    match fields.get("decision") {
        Some("allow") => Ok(true),
        Some("deny") => Ok(false),
        _ => Err(CatalogError::new(ErrorName::InvalidRequestFormat)
            .with("detail", "decision must be allow or deny")),
    }
}

pub async fn consent(
    State(state): State<AppState>,
    PageTenant(tenant): PageTenant,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    continue_form(&state, &tenant, &headers, &body, |fields| {
        Ok(Interaction::Consent {
            allow: decision(fields)?,
            account: account(fields),
        })
    })
    .await
}

/// The account picker's answer: the session of the account chosen, or none for "use
/// another account".
pub async fn select(
    State(state): State<AppState>,
    PageTenant(tenant): PageTenant,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    continue_form(&state, &tenant, &headers, &body, |fields| {
        Ok(Interaction::Picked {
            account: account(fields),
        })
    })
    .await
}

/// The session a page form names (`account`), as the consent page and the picker send it.
fn account(fields: &Params) -> String {
    fields.get("account").unwrap_or_default().to_owned()
}

/// A submitted page form (CSRF-checked) continuing its authorization request as the
/// interaction its fields make.
async fn continue_form(
    state: &AppState,
    tenant: &Tenant,
    headers: &HeaderMap,
    body: &[u8],
    interaction: impl FnOnce(&Params) -> Result<Interaction, CatalogError>,
) -> Response {
    let made = page_form(state, headers, body)
        .and_then(|(fields, request)| Ok((interaction(&fields)?, request)));
    match made {
        Ok((interaction, request)) => {
            authorize::proceed(state, tenant, headers, request, interaction).await
        }
        Err(e) => ErrorResponse::page(e).into_response(),
    }
}
