//! `/{t}/account/password`: changing one's password, proven by the current one (no
//! session needed, so it works before any app is set up).
//! A changed password ends every session and refresh token of the user (OWASP
//! Authentication Cheat Sheet: re-authenticate everywhere after a credential change).

use crate::http::client_address::ClientAddress;
use crate::http::error_response::{ErrorResponse, store_error};
use crate::http::extract::form;
use crate::http::tenant_path::PageTenant;
use crate::oauth::{csrf, password, revoke_refresh_tokens, revoke_sessions};
use crate::pages::page;
use crate::runtime::state::AppState;
use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use minijinja::context;
use tessera_core::audit::AuditEntry;
use tessera_core::directory::model::User;
use tessera_core::errors::render::ErrorView;
use tessera_core::errors::{CatalogError, ErrorName};
use tessera_core::secret::Secret;
use tessera_core::store::object::{ObjectKind, Write, encode};
use tessera_core::tenant::Tenant;

pub fn routes() -> Router<AppState> {
    Router::new().route("/{tenant}/account/password", get(show).post(change))
}

/// The audit entry of a change a user made to their own account.
pub(super) fn self_audit(
    state: &AppState,
    tenant: &Tenant,
    username: &str,
    action: &str,
    target: String,
    changes: &[&str],
) -> Write {
    Write::Audit(AuditEntry {
        id: state.rng.object_id(),
        tenant_id: tenant.id,
        at: state.clock.now(),
        actor: format!("user:{username}"),
        action: action.to_owned(),
        target,
        changes: changes.iter().map(|c| (*c).to_owned()).collect(),
    })
}

fn password_page(
    state: &AppState,
    tenant: &Tenant,
    headers: &HeaderMap,
    username: &str,
    error: Option<&CatalogError>,
    done: bool,
) -> Response {
    let token = csrf::issue(state, headers);
    let error = error.map(|e| ErrorView::new(e, &crate::http::request_context::current()));
    let status = error.as_ref().map_or(StatusCode::OK, |e| {
        StatusCode::from_u16(e.status).unwrap_or(StatusCode::BAD_REQUEST)
    });
    let response = page(
        status,
        "change_password.html",
        context! {
            title => "Change your password",
            tenant_name => tenant.display_name,
            action => format!("/{}/account/password", tenant.slug.as_str()),
            csrf_token => token.token,
            username => username,
            error => error,
            done => done,
            min_length => tenant.policy.password_min_length,
        },
    );
    csrf::attach(response, token)
}

async fn show(
    State(state): State<AppState>,
    PageTenant(tenant): PageTenant,
    headers: HeaderMap,
) -> Response {
    password_page(&state, &tenant, &headers, "", None, false)
}

async fn change(
    State(state): State<AppState>,
    PageTenant(tenant): PageTenant,
    headers: HeaderMap,
    ClientAddress(client): ClientAddress,
    body: Bytes,
) -> Response {
    let fields = match form(&headers, &body)
        .and_then(|f| csrf::check(&state, &headers, f.get("csrf_token")).map(|()| f))
    {
        Ok(f) => f,
        Err(e) => return ErrorResponse::page(e).into_response(),
    };
    let username = fields.get("username").unwrap_or_default();
    let again =
        |e: &CatalogError| password_page(&state, &tenant, &headers, username, Some(e), false);
    let current = Secret::new(fields.get("current_password").unwrap_or_default());
    let new = fields.get("new_password").unwrap_or_default();
    let user_key = match password::authenticate(&state, &tenant, client, username, current).await {
        Ok(who) => who.key,
        Err(e) if e.entry().status < 500 => return again(&e),
        Err(e) => return ErrorResponse::page(e).into_response(),
    };
    if let Err(e) = state.password_allowed(&tenant, username, new) {
        return again(&e);
    }
    if fields.get("confirm_password") != Some(new) {
        return again(
            &CatalogError::new(ErrorName::PasswordPolicyViolation)
                .with("reason", "the two new passwords differ"),
        );
    }
    match store_change(&state, &tenant, &user_key, Secret::new(new)).await {
        Ok(()) => password_page(&state, &tenant, &headers, username, None, true),
        Err(e) => ErrorResponse::page(e).into_response(),
    }
}

/// The new hash, the revoked sessions and the audit entry, in one atomic change. The
/// sessions and tokens are read and applied again if a refresh rotation of the user's
/// changed one meanwhile (`crate::runtime::retry`); the user's own write stays guarded by the
/// version read before hashing, so a change to the user in between (an administrator
/// resetting the password) fails this one instead of being overwritten.
async fn store_change(
    state: &AppState,
    tenant: &Tenant,
    user_key: &str,
    new: Secret,
) -> Result<(), CatalogError> {
    let internal = |e: String| CatalogError::new(ErrorName::InternalError).internal(e);
    let object = state
        .store
        .object(tenant.id, ObjectKind::User, user_key)
        .await
        .map_err(store_error)?
        .ok_or_else(|| CatalogError::new(ErrorName::InvalidCredentials))?;
    let mut user = object.decode::<User>().map_err(internal)?;
    user.password_hash = Some(state.passwords.hash(new, state.rng.clone()).await);
    // The user's own password now, temporary or not before.
    user.password_change_required = false;
    user.end_sign_ins(state.clock.now());
    let updated = Write::Put(object.with_doc(encode(&user), state.clock.now()));
    crate::runtime::retry::on_conflict(|| async {
        let revocation =
            revoke_sessions(state.store.as_ref(), state.clock.now(), tenant.id, user_key).await?;
        let mut writes = vec![updated.clone()];
        writes.extend(revocation.writes);
        writes.push(self_audit(
            state,
            tenant,
            user.username.as_str(),
            "user.password.change",
            format!("user:{}", user.username.as_str()),
            &["password"],
        ));
        state.store.apply(writes).await.map_err(store_error)
    })
    .await?;
    // The change above voided the refresh tokens; their records now say so.
    let reason = "the password was changed";
    let store = state.store.as_ref();
    revoke_refresh_tokens(store, state.clock.now(), tenant.id, user_key, reason).await?;
    Ok(())
}
