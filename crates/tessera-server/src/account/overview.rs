//! `/{t}/account`: with an SSO session, the consents the user gave to apps (each can be
//! revoked: the app asks again next time), "sign out everywhere" (every session and
//! refresh token of the user ends) and setting up an authenticator app; without one, a
//! sign-in form that starts a session (with the second factor the user owes).

use super::password::self_audit;
use crate::http::client_address::ClientAddress;
use crate::http::error_response::{ErrorResponse, store_error};
use crate::http::tenant_path::PageTenant;
use crate::oauth::session::{self, CurrentSession, SignedIn};
use crate::oauth::{csrf, revoke_refresh_tokens, revoke_sessions, second_factor, withdraw_consent};
use crate::pages::{page, see_other};
use crate::runtime::state::AppState;
use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use minijinja::context;
use tessera_core::directory::mfa::{Continuation, SecondFactor};
use tessera_core::directory::model::{App, Consent};
use tessera_core::errors::render::{ErrorView, timestamp};
use tessera_core::errors::{CatalogError, ErrorName};
use tessera_core::ids::ClientId;
use tessera_core::oauth::params::Params;
use tessera_core::secret::Secret;
use tessera_core::store::object::ObjectKind;
use tessera_core::tenant::Tenant;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/{tenant}/account", get(overview))
        .route("/{tenant}/account/signin", post(sign_in))
        .route("/{tenant}/account/consents/revoke", post(revoke_consent))
        .route("/{tenant}/account/authenticator", post(enrol_authenticator))
        .route(
            "/{tenant}/account/sessions/revoke",
            post(sign_out_everywhere),
        )
}

/// This page again, once a second factor is presented.
fn here(tenant: &Tenant) -> Continuation {
    Continuation::Page(base(tenant))
}

/// `POST /{t}/account/authenticator`: the enrolment page for a user without an
/// authenticator app; then back here.
async fn enrol_authenticator(
    State(state): State<AppState>,
    PageTenant(tenant): PageTenant,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let (_, current) = match session_of(&state, &tenant, &headers, &body).await {
        Ok(v) => v,
        Err(r) => return r,
    };
    // One authenticator at a time: replacing it takes an administrator's reset, so a
    // borrowed session cannot swap in an attacker's.
    if current.user.totp_secret_sealed.is_some() {
        return see_other(&base(&tenant), None);
    }
    let due = second_factor::Due::of_session(&current, SecondFactor::Enrol);
    second_factor::ask(&state, &tenant, &headers, due, here(&tenant), None)
}

fn base(tenant: &Tenant) -> String {
    format!("/{}/account", tenant.slug.as_str())
}

/// Renders `account.html`; `ctx` adds to the common fields.
fn render(
    state: &AppState,
    tenant: &Tenant,
    headers: &HeaderMap,
    status: StatusCode,
    ctx: minijinja::Value,
) -> Response {
    let token = csrf::issue(state, headers);
    let common = context! {
        title => "Your account",
        tenant_name => tenant.display_name,
        base => base(tenant),
        csrf_token => token.token,
    };
    let response = page(status, "account.html", context! { ..common, ..ctx });
    csrf::attach(response, token)
}

async fn overview(
    State(state): State<AppState>,
    PageTenant(tenant): PageTenant,
    headers: HeaderMap,
) -> Response {
    match session::current(&state, &tenant, &headers).await {
        Ok(Some(current)) => signed_in(&state, &tenant, &headers, &current).await,
        Ok(None) => render(
            &state,
            &tenant,
            &headers,
            StatusCode::OK,
            context! { signed_in => false },
        ),
        Err(e) => ErrorResponse::page(e).into_response(),
    }
}

async fn signed_in(
    state: &AppState,
    tenant: &Tenant,
    headers: &HeaderMap,
    current: &CurrentSession,
) -> Response {
    if let Some(page) =
        second_factor::demanded(state, tenant, headers, None, current, || here(tenant))
    {
        return page;
    }
    let listed = async {
        let mut items = Vec::new();
        for o in state
            .store
            .objects_of_user(tenant.id, ObjectKind::Consent, &current.session.user)
            .await
            .map_err(store_error)?
        {
            let c = o
                .decode::<Consent>()
                .map_err(|e| CatalogError::new(ErrorName::InternalError).internal(e))?;
            let name = match state
                .store
                .object(tenant.id, ObjectKind::App, c.client_id.as_str())
                .await
                .map_err(store_error)?
            {
                Some(a) => a
                    .decode::<App>()
                    .map(|a| a.name)
                    .unwrap_or_else(|_| c.client_id.to_string()),
                None => c.client_id.to_string(),
            };
            items.push(context! {
                client_id => c.client_id,
                name => name,
                scopes => c.scopes.into_iter().collect::<Vec<_>>().join(" "),
                granted_at => timestamp(c.granted_at),
            });
        }
        Ok::<_, CatalogError>(items)
    };
    match listed.await {
        Ok(consents) => render(
            state,
            tenant,
            headers,
            StatusCode::OK,
            context! {
                signed_in => true,
                username => current.user.username.as_str(),
                consents => consents,
                authenticator => current.user.totp_secret_sealed.is_some(),
            },
        ),
        Err(e) => ErrorResponse::page(e).into_response(),
    }
}

async fn sign_in(
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
    let username = fields.get("username").unwrap_or_default();
    let password = Secret::new(fields.get("password").unwrap_or_default());
    match session::sign_in_with_password(
        &state, &tenant, &headers, client, None, username, password,
    )
    .await
    {
        Ok(SignedIn::Session(_, cookie)) => see_other(&base(&tenant), Some(cookie)),
        Ok(SignedIn::SecondFactor(due)) => {
            second_factor::ask(&state, &tenant, &headers, due, here(&tenant), None)
        }
        Err(e) if e.entry().status < 500 => {
            let status = StatusCode::from_u16(e.entry().status).unwrap_or(StatusCode::BAD_REQUEST);
            let change_password = crate::oauth::pages::change_password_link(&tenant, Some(&e));
            let error = ErrorView::new(&e, &crate::http::request_context::current());
            render(
                &state,
                &tenant,
                &headers,
                status,
                context! { signed_in => false, username => username, error => error,
                change_password => change_password },
            )
        }
        Err(e) => ErrorResponse::page(e).into_response(),
    }
}

/// The session behind a form of the signed-in page, or the overview (which asks to sign in).
async fn session_of(
    state: &AppState,
    tenant: &Tenant,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<(Params, CurrentSession), Response> {
    let fields = csrf::checked_form(state, headers, body)
        .map_err(|e| ErrorResponse::page(e).into_response())?;
    match session::current(state, tenant, headers).await {
        Ok(Some(current)) => Ok((fields, current)),
        Ok(None) => Err(see_other(&base(tenant), None)),
        Err(e) => Err(ErrorResponse::page(e).into_response()),
    }
}

async fn revoke_consent(
    State(state): State<AppState>,
    PageTenant(tenant): PageTenant,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let (fields, current) = match session_of(&state, &tenant, &headers, &body).await {
        Ok(v) => v,
        Err(r) => return r,
    };
    let client_id = fields.get("client_id").unwrap_or_default();
    let key = Consent::key(&ClientId::new(client_id), &current.session.user);
    let found = match state
        .store
        .object(tenant.id, ObjectKind::Consent, &key)
        .await
    {
        Ok(f) => f,
        Err(e) => return ErrorResponse::page(store_error(e)).into_response(),
    };
    if let Some(object) = found {
        let username = current.user.username.as_str();
        let result = withdraw_consent(
            &state,
            &object,
            &current.session.user,
            client_id,
            "the user withdrew consent",
            self_audit(
                &state,
                &tenant,
                username,
                "consent.revoke",
                format!("user:{username}/app:{client_id}"),
                &["scopes"],
            ),
        )
        .await;
        if let Err(e) = result {
            return ErrorResponse::page(e).into_response();
        }
    }
    see_other(&base(&tenant), None)
}

async fn sign_out_everywhere(
    State(state): State<AppState>,
    PageTenant(tenant): PageTenant,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let (_, current) = match session_of(&state, &tenant, &headers, &body).await {
        Ok(v) => v,
        Err(r) => return r,
    };
    let username = current.user.username.as_str();
    let user_key = &current.session.user;
    // Read and applied again if a session or device approval changed meanwhile; then
    // the refresh tokens that change voided are marked revoked.
    let result = async {
        crate::runtime::retry::on_conflict(|| async {
            let revocation =
                revoke_sessions(state.store.as_ref(), state.clock.now(), tenant.id, user_key)
                    .await?;
            let mut writes = revocation.writes;
            writes.push(crate::oauth::ended_sign_ins(&state, tenant.id, user_key).await?);
            writes.push(self_audit(
                &state,
                &tenant,
                username,
                "user.revoke_sessions",
                format!("user:{username}"),
                &["sessions"],
            ));
            state.store.apply(writes).await.map_err(store_error)
        })
        .await?;
        let reason = "the user signed out everywhere";
        let store = state.store.as_ref();
        revoke_refresh_tokens(store, state.clock.now(), tenant.id, user_key, reason).await
    };
    // The cookie forgets the user too (other accounts of this browser stay); the
    // overview then offers to sign in again.
    let cookie = match result.await {
        Ok(_) => session::refreshed_cookie(&state, &tenant, &headers).await,
        Err(e) => Err(e),
    };
    match cookie {
        Ok(cookie) => see_other(&base(&tenant), Some(cookie)),
        Err(e) => ErrorResponse::page(e).into_response(),
    }
}
