//! `/{t}/oauth2/logout` (OIDC RP-Initiated Logout 1.0): an app sends the user here to
//! sign out. The request is checked (§2: `id_token_hint`, `client_id`; §3:
//! `post_logout_redirect_uri` registered for the app) and the user confirms on a page
//! whose form carries the request sealed, answerable for
//! `TenantPolicy::logout_request_seconds` (LogoutRequestExpired after). Confirming ends
//! the browser's sessions — the hinted user's, or every account's without a hint —
//! tells the apps that took part (back-channel: `backchannel`; front-channel: frames
//! on the signed-out page) and returns to the app when it asked to.

use super::{backchannel, csrf, id_token_hint, lookup, session};
use crate::http::error_response::{ErrorResponse, store_error};
use crate::http::extract::form;
use crate::http::tenant_path::PageTenant;
use crate::runtime::state::AppState;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use minijinja::context;
use session::CurrentSession;
use tessera_core::audit::AuditEntry;
use tessera_core::directory::model::App;
use tessera_core::errors::{CatalogError, ErrorName};
use tessera_core::oauth::logout::{self as rules, LogoutRequest};
use tessera_core::oauth::params::Params;
use tessera_core::store::object::{ObjectKind, Write};
use tessera_core::tenant::Tenant;

pub async fn get(
    State(state): State<AppState>,
    PageTenant(tenant): PageTenant,
    headers: HeaderMap,
    uri: Uri,
) -> Response {
    let params = Params::parse(uri.query().unwrap_or_default().as_bytes());
    answer(start(&state, &tenant, &headers, params).await)
}

/// RP-Initiated Logout §2: the endpoint accepts a form POST as well.
pub async fn post(
    State(state): State<AppState>,
    PageTenant(tenant): PageTenant,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    answer(start(&state, &tenant, &headers, form(&headers, &body)).await)
}

/// `POST /{t}/oauth2/logout/confirm`: the confirmation page's answer.
pub async fn confirm(
    State(state): State<AppState>,
    PageTenant(tenant): PageTenant,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let run = async {
        let fields = csrf::checked_form(&state, &headers, &body)?;
        let request = LogoutRequest::open(
            &state.master,
            tenant.id,
            fields.get("request").unwrap_or_default(),
            state.clock.now(),
            tenant.policy.logout_request_seconds,
        )?;
        let (sessions, cookie) = end_sessions(&state, &tenant, &headers, &request).await?;
        finish(&state, &tenant, &request, &sessions, Some(cookie)).await
    };
    answer(run.await)
}

fn answer(result: Result<Response, CatalogError>) -> Response {
    result.unwrap_or_else(|e| ErrorResponse::page(e).into_response())
}

/// Checks the request; shows the confirmation, or — when no account it names is signed
/// in here — goes straight to the end.
async fn start(
    state: &AppState,
    tenant: &Tenant,
    headers: &HeaderMap,
    params: Result<Params, CatalogError>,
) -> Result<Response, CatalogError> {
    let params = params?;
    let hint = match params.get("id_token_hint") {
        Some(token) => Some(id_token_hint::verify(state, tenant, token).await?),
        None => None,
    };
    let client_id = rules::requesting_app(
        params.get("client_id"),
        hint.as_ref().map(|h| h.audience.as_str()),
    )?;
    let app = requesting(state, tenant, client_id).await?;
    let redirect = params.get("post_logout_redirect_uri");
    rules::check_redirect(app.as_ref(), redirect)?;
    let request = LogoutRequest {
        client_id: app.as_ref().map(|a| a.client_id.clone()),
        post_logout_redirect_uri: redirect.map(str::to_owned),
        state: params.get("state").map(str::to_owned),
        user: hint.map(|h| h.sub),
        issued_at: state.clock.now(),
    };
    let accounts = targeted(session::all(state, tenant, headers).await?, &request);
    if accounts.is_empty() {
        return finish(state, tenant, &request, &[], None).await;
    }
    let token = csrf::issue(state, headers);
    let ctx = context! {
        title => "Sign out",
        app_name => app.as_ref().map(|a| a.name.clone()),
        tenant_name => tenant.display_name,
        accounts => accounts.iter().map(|c| c.user.username.as_str()).collect::<Vec<_>>(),
        action => format!("/{}/oauth2/logout/confirm", tenant.slug.as_str()),
        request => request.seal(&state.master, state.rng.as_ref(), tenant.id),
        csrf_token => token.token,
    };
    let page = match &request.post_logout_redirect_uri {
        // The answer redirects there: its origin joins form-action.
        Some(uri) => {
            crate::pages::page_redirecting_to(StatusCode::OK, "logout_confirm.html", ctx, uri)
        }
        None => crate::pages::page(StatusCode::OK, "logout_confirm.html", ctx),
    };
    Ok(csrf::attach(page, token))
}

/// The app a logout names, if any: ClientNotFound for an unknown one. A disabled app
/// may still sign its users out.
async fn requesting(
    state: &AppState,
    tenant: &Tenant,
    client_id: Option<&str>,
) -> Result<Option<App>, CatalogError> {
    let Some(id) = client_id else { return Ok(None) };
    match lookup::app(state, tenant, id).await? {
        Some(app) => Ok(Some(app)),
        None => Err(CatalogError::new(ErrorName::ClientNotFound)
            .with("client_id", id.chars().take(128).collect::<String>())
            .with("tenant", tenant.slug.as_str().to_owned())),
    }
}

/// The browser's sessions the request ends: the hinted user's, or all.
fn targeted(sessions: Vec<CurrentSession>, request: &LogoutRequest) -> Vec<CurrentSession> {
    sessions
        .into_iter()
        .filter(|c| request.user.is_none_or(|u| u == c.user_id))
        .collect()
}

/// Deletes the targeted sessions, with an audit entry each, in one change; returns them
/// and the cookie that names only the browser's sessions left.
async fn end_sessions(
    state: &AppState,
    tenant: &Tenant,
    headers: &HeaderMap,
    request: &LogoutRequest,
) -> Result<(Vec<CurrentSession>, HeaderValue), CatalogError> {
    let sessions = targeted(session::all(state, tenant, headers).await?, request);
    let now = state.clock.now();
    let mut writes = Vec::new();
    for c in &sessions {
        writes.push(Write::Delete {
            tenant_id: tenant.id,
            kind: ObjectKind::Session,
            id: c.object.id,
        });
        writes.push(Write::Audit(AuditEntry {
            id: state.rng.object_id(),
            tenant_id: tenant.id,
            at: now,
            actor: format!("user:{}", c.user.username.as_str()),
            action: "session.logout".to_owned(),
            target: format!("user:{}/sid:{}", c.user.username.as_str(), c.session.sid),
            changes: c
                .session
                .clients
                .iter()
                .map(|id| format!("app:{id}"))
                .collect(),
        }));
    }
    if !writes.is_empty() {
        state.store.apply(writes).await.map_err(store_error)?;
    }
    let cookie = session::refreshed_cookie(state, tenant, headers).await?;
    Ok((sessions, cookie))
}

/// After the sessions ended: back-channel notices sent, and the signed-out page (with
/// the front-channel frames) or the redirect to the app.
async fn finish(
    state: &AppState,
    tenant: &Tenant,
    request: &LogoutRequest,
    ended: &[CurrentSession],
    cookie: Option<HeaderValue>,
) -> Result<Response, CatalogError> {
    let issuer = state.issuer(tenant.slug.as_str());
    let mut frames = Vec::new();
    let mut notices = Vec::new();
    for c in ended {
        for client_id in &c.session.clients {
            let Some(app) = lookup::app(state, tenant, client_id.as_str()).await? else {
                continue;
            };
            if let Some(uri) = &app.frontchannel_logout_uri {
                frames.push(front_channel(uri, &issuer, &c.session.sid));
            }
            if let Some(uri) = &app.backchannel_logout_uri {
                notices.push(backchannel::Notice::new(&app, uri, c));
            }
        }
    }
    backchannel::send(state, tenant, notices);
    let app_name = match &request.client_id {
        Some(id) => lookup::app(state, tenant, id.as_str())
            .await?
            .map(|a| a.name),
        None => None,
    };
    let return_to = request
        .post_logout_redirect_uri
        .as_deref()
        .map(|uri| with_state(uri, request.state.as_deref()));
    let mut response = match return_to {
        // RFC 9700 §4.12: after the form POST, a 303.
        Some(uri) if frames.is_empty() => {
            (StatusCode::SEE_OTHER, [(header::LOCATION, uri)]).into_response()
        }
        return_to => crate::pages::page_with_frames(
            StatusCode::OK,
            "signed_out.html",
            context! {
                title => "Signed out",
                tenant_name => tenant.display_name,
                app_name => app_name,
                return_to => return_to,
                frames => frames,
            },
            &frames,
        ),
    };
    if let Some(cookie) = cookie {
        response.headers_mut().append(header::SET_COOKIE, cookie);
    }
    Ok(response)
}

/// Front-Channel Logout §2: the app's URI with `iss` and `sid` added to its query.
fn front_channel(uri: &str, issuer: &str, sid: &str) -> String {
    match url::Url::parse(uri) {
        Ok(mut url) => {
            url.query_pairs_mut()
                .append_pair("iss", issuer)
                .append_pair("sid", sid);
            url.into()
        }
        Err(_) => uri.to_owned(),
    }
}

/// RP-Initiated Logout §3: `state` goes back to the app with the redirect.
fn with_state(uri: &str, state: Option<&str>) -> String {
    match (url::Url::parse(uri), state) {
        (Ok(mut url), Some(s)) => {
            url.query_pairs_mut().append_pair("state", s);
            url.into()
        }
        _ => uri.to_owned(),
    }
}
