//! `/tenants/{slug}/users`: users, their groups and passwords.

use super::auth::Admin;
use super::common::{
    ApiResult, ListQuery, Page, Problem, RoleView, apply_create, audit, changed_fields, conflict,
    doc_with_apis, internal, list_page, name_matches, not_found, problem, relative, replace, store,
    tenant,
};
use super::json::{AdminJson, check};
use crate::http::error_response::store_error;
use crate::http::extract::{Path, Query};
use crate::runtime::state::AppState;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use tessera_core::directory::file::UserDoc;
use tessera_core::directory::model::{App, Consent, Group, User};
use tessera_core::directory::names::Username;
use tessera_core::directory::validate::check_tenant_doc;
use tessera_core::errors::{CatalogError, ErrorName, FieldError};
use tessera_core::ids::ClientId;
use tessera_core::secret::Secret;
use tessera_core::store::object::{ObjectKind, StoredObject, Write, encode};
use tessera_core::tenant::Tenant;
use utoipa::ToSchema;

#[derive(Debug, Serialize, ToSchema)]
pub struct UserView {
    pub username: String,
    pub email: Option<String>,
    pub name: Option<String>,
    pub enabled: bool,
    pub groups: Vec<String>,
    /// App roles granted to the user directly.
    pub app_roles: Vec<RoleView>,
    /// Whether a password is set (the hash itself is never returned).
    pub has_password: bool,
    pub totp_enrolled: bool,
    pub created_at: String,
    pub updated_at: String,
}

fn view(obj: &StoredObject) -> ApiResult<UserView> {
    let u: User = obj.decode().map_err(internal)?;
    Ok(UserView {
        username: u.username.as_str().to_owned(),
        email: u.email,
        name: u.name,
        enabled: u.enabled,
        groups: u.groups.into_iter().collect(),
        app_roles: u.app_roles.into_iter().map(Into::into).collect(),
        has_password: u.password_hash.is_some(),
        totp_enrolled: u.totp_secret_sealed.is_some(),
        created_at: tessera_core::errors::render::timestamp(obj.created_at),
        updated_at: tessera_core::errors::render::timestamp(obj.updated_at),
    })
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateUser {
    /// Unique in the tenant, compared case-insensitively.
    pub username: String,
    /// At least 8 characters; stored as an Argon2id hash.
    pub password: Option<String>,
    pub email: Option<String>,
    pub name: Option<String>,
    pub enabled: Option<bool>,
    #[serde(default)]
    pub groups: Vec<String>,
    /// App roles of the tenant's APIs.
    #[serde(default)]
    pub app_roles: Vec<RoleView>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateUser {
    pub email: Option<String>,
    pub name: Option<String>,
    pub enabled: Option<bool>,
    /// Replaces the user's groups.
    pub groups: Option<Vec<String>>,
    /// Replaces the user's app roles.
    pub app_roles: Option<Vec<RoleView>>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SetPassword {
    pub password: String,
    /// A temporary password (the default): the user must choose a new one before
    /// signing in (PasswordChangeRequired). `false`: the password is the user's own.
    pub temporary: Option<bool>,
}

/// The shared validation rules, applied to one user (app roles against the tenant's
/// APIs); paths relative to the user.
async fn problems(state: &AppState, t: &Tenant, u: UserDoc) -> ApiResult<Vec<FieldError>> {
    let mut doc = doc_with_apis(state, t).await?;
    doc.users = vec![u];
    Ok(relative(check_tenant_doc(&doc), "/users/0"))
}

/// The password policy's refusal of `password` for `username`, as a field error of
/// `/password` (the tenant's length and name rules, and the server's deny list).
fn password_problems(
    state: &AppState,
    t: &Tenant,
    username: &str,
    password: &str,
) -> Vec<FieldError> {
    match state.password_allowed(t, username, password) {
        Ok(()) => Vec::new(),
        Err(e) => vec![FieldError {
            field: "/password".into(),
            code: ErrorName::PasswordPolicyViolation.entry().code_str(),
            message: e
                .params
                .iter()
                .find(|(k, _)| *k == "reason")
                .map_or_else(|| e.message(), |(_, v)| v.clone()),
        }],
    }
}

/// Group objects for names the tenant does not have yet.
async fn missing_groups(state: &AppState, t: &Tenant, names: &[String]) -> ApiResult<Vec<Write>> {
    let mut out = Vec::new();
    for name in names {
        if state
            .store
            .object(t.id, ObjectKind::Group, name)
            .await
            .map_err(store)?
            .is_none()
        {
            let now = state.clock.now();
            out.push(Write::Put(StoredObject::new(
                state.rng.object_id(),
                t.id,
                ObjectKind::Group,
                name.clone(),
                encode(&Group {
                    name: name.clone(),
                    app_roles: Default::default(),
                }),
                now,
            )));
        }
    }
    Ok(out)
}

async fn find(state: &AppState, t: &Tenant, username: &str) -> ApiResult<(StoredObject, User)> {
    let obj = state
        .store
        .object(t.id, ObjectKind::User, &username.to_lowercase())
        .await
        .map_err(store)?
        .ok_or_else(|| not_found(&format!("user {username}")))?;
    let user = obj.decode().map_err(internal)?;
    Ok((obj, user))
}

/// List users.
#[utoipa::path(get, path = "/tenants/{slug}/users", tag = "users", params(("slug" = String, Path), ListQuery),
    responses((status = 200, body = Page<UserView>), (status = 404, body = Problem)))]
pub async fn list(
    _: Admin,
    State(state): State<AppState>,
    Path(slug): Path<String>,
    Query(q): Query<ListQuery>,
) -> ApiResult<Json<Page<UserView>>> {
    let t = tenant(&state, &slug).await?;
    let page = list_page(&state, t.id, ObjectKind::User, &q, |o| {
        let v = view(o)?;
        let matched =
            name_matches(&q, &v.username) || v.name.as_deref().is_some_and(|n| name_matches(&q, n));
        Ok(matched.then_some(v))
    })
    .await?;
    Ok(Json(page))
}

/// Create a user.
#[utoipa::path(post, path = "/tenants/{slug}/users", tag = "users", params(("slug" = String, Path)), request_body = CreateUser,
    responses((status = 201, body = UserView), (status = 400, body = Problem), (status = 409, body = Problem)))]
pub async fn create(
    admin: Admin,
    State(state): State<AppState>,
    Path(slug): Path<String>,
    AdminJson(req): AdminJson<CreateUser>,
) -> ApiResult<(StatusCode, Json<UserView>)> {
    let t = tenant(&state, &slug).await?;
    let doc = UserDoc {
        username: req.username.clone(),
        password: req.password.clone(),
        email: req.email.clone(),
        name: req.name.clone(),
        enabled: req.enabled.unwrap_or(true),
        totp_secret: None,
        groups: req.groups.clone(),
        app_roles: req.app_roles.iter().cloned().map(Into::into).collect(),
    };
    let mut found = problems(&state, &t, doc).await?;
    if let Some(pw) = &req.password
        && found.iter().all(|f| f.field != "/password")
    {
        found.extend(password_problems(&state, &t, &req.username, pw));
    }
    check(found)?;
    let username = Username::parse(&req.username).map_err(|e| {
        problem(
            CatalogError::new(ErrorName::ValidationFailed)
                .with("count", "1")
                .internal(e),
        )
    })?;
    // Checked before hashing the password, to spend no Argon2 time on a duplicate; the
    // store's uniqueness rule still decides a race.
    if state
        .store
        .object(t.id, ObjectKind::User, &username.key())
        .await
        .map_err(store)?
        .is_some()
    {
        return Err(conflict(&format!("user {}", username.as_str())));
    }
    let password_hash = match req.password {
        Some(pw) => Some(
            state
                .passwords
                .hash(Secret::new(pw), state.rng.clone())
                .await,
        ),
        None => None,
    };
    let user = User {
        username: username.clone(),
        email: req.email,
        name: req.name,
        enabled: req.enabled.unwrap_or(true),
        password_hash,
        totp_secret_sealed: None,
        recovery_codes: Vec::new(),
        groups: req.groups.iter().cloned().collect(),
        app_roles: req.app_roles.into_iter().map(Into::into).collect(),
        sessions_valid_from: None,
        password_change_required: false,
    };
    let now = state.clock.now();
    let obj = StoredObject::new(
        state.rng.object_id(),
        t.id,
        ObjectKind::User,
        username.key(),
        encode(&user),
        now,
    );
    let mut writes = missing_groups(&state, &t, &req.groups).await?;
    writes.push(Write::Put(obj.clone()));
    let mut fields = changed_fields(
        &serde_json::json!({}),
        &serde_json::to_value(&user).unwrap_or_default(),
    );
    fields.retain(|f| f != "password_hash" && f != "totp_secret_sealed");
    if user.password_hash.is_some() {
        fields.push("password".into());
    }
    writes.push(audit(
        &state,
        &t,
        &admin.actor,
        "user.create",
        format!("user:{}", username.as_str()),
        fields,
    ));
    apply_create(&state, writes, &format!("user {}", username.as_str())).await?;
    Ok((StatusCode::CREATED, Json(view(&obj)?)))
}

/// Read a user.
#[utoipa::path(get, path = "/tenants/{slug}/users/{username}", tag = "users", params(("slug" = String, Path), ("username" = String, Path)),
    responses((status = 200, body = UserView), (status = 404, body = Problem)))]
pub async fn get(
    _: Admin,
    State(state): State<AppState>,
    Path((slug, username)): Path<(String, String)>,
) -> ApiResult<Json<UserView>> {
    let t = tenant(&state, &slug).await?;
    let (obj, _) = find(&state, &t, &username).await?;
    Ok(Json(view(&obj)?))
}

/// Update a user's profile, enabled flag or groups.
#[utoipa::path(patch, path = "/tenants/{slug}/users/{username}", tag = "users", params(("slug" = String, Path), ("username" = String, Path)), request_body = UpdateUser,
    responses((status = 200, body = UserView), (status = 400, body = Problem), (status = 404, body = Problem)))]
pub async fn update(
    admin: Admin,
    State(state): State<AppState>,
    Path((slug, username)): Path<(String, String)>,
    AdminJson(req): AdminJson<UpdateUser>,
) -> ApiResult<Json<UserView>> {
    let t = tenant(&state, &slug).await?;
    let (obj, old) = find(&state, &t, &username).await?;
    let mut user = old.clone();
    if let Some(email) = req.email {
        user.email = Some(email);
    }
    if let Some(name) = req.name {
        user.name = Some(name);
    }
    // Disabling ends every sign-in (and what rests on one) for good: enabling the user
    // again does not revive it.
    let disabling = old.enabled && req.enabled == Some(false);
    if let Some(enabled) = req.enabled {
        user.enabled = enabled;
    }
    if disabling {
        user.end_sign_ins(state.clock.now());
    }
    if let Some(groups) = &req.groups {
        user.groups = groups.iter().cloned().collect();
    }
    if let Some(roles) = req.app_roles {
        user.app_roles = roles.into_iter().map(Into::into).collect();
    }
    let doc = UserDoc {
        username: user.username.as_str().to_owned(),
        password: None,
        email: user.email.clone(),
        name: user.name.clone(),
        enabled: user.enabled,
        totp_secret: None,
        groups: user.groups.iter().cloned().collect(),
        app_roles: user.app_roles.iter().cloned().collect(),
    };
    check(problems(&state, &t, doc).await?)?;
    let changes = changed_fields(
        &serde_json::to_value(&old).unwrap_or_default(),
        &serde_json::to_value(&user).unwrap_or_default(),
    );
    if changes.is_empty() {
        return Ok(Json(view(&obj)?));
    }
    let mut writes = missing_groups(&state, &t, &req.groups.unwrap_or_default()).await?;
    writes.push(replace(&state, obj.clone(), &user));
    writes.push(audit(
        &state,
        &t,
        &admin.actor,
        "user.update",
        format!("user:{}", user.username.as_str()),
        changes,
    ));
    if disabling {
        let key = user.username.key();
        apply_revoking(&state, &t, &key, "the user was disabled", writes).await?;
    } else {
        state.store.apply(writes).await.map_err(store)?;
    }
    let (obj, _) = find(&state, &t, &username).await?;
    Ok(Json(view(&obj)?))
}

/// Delete a user (and their app assignments).
#[utoipa::path(delete, path = "/tenants/{slug}/users/{username}", tag = "users", params(("slug" = String, Path), ("username" = String, Path)),
    responses((status = 204), (status = 404, body = Problem)))]
pub async fn delete(
    admin: Admin,
    State(state): State<AppState>,
    Path((slug, username)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    let t = tenant(&state, &slug).await?;
    let (obj, user) = find(&state, &t, &username).await?;
    let key = user.username.key();
    let mut writes = vec![Write::Delete {
        tenant_id: t.id,
        kind: ObjectKind::User,
        id: obj.id,
    }];
    // A later user with the same name must not inherit this one's failed sign-ins.
    if let Some(failures) = state
        .store
        .object(t.id, ObjectKind::SignInFailures, &key)
        .await
        .map_err(store)?
    {
        writes.push(Write::Delete {
            tenant_id: t.id,
            kind: ObjectKind::SignInFailures,
            id: failures.id,
        });
    }
    // A later user with the same name must not inherit this one's consents.
    for consent_obj in state
        .store
        .objects_of_user(t.id, ObjectKind::Consent, &key)
        .await
        .map_err(store)?
    {
        writes.push(Write::Delete {
            tenant_id: t.id,
            kind: ObjectKind::Consent,
            id: consent_obj.id,
        });
    }
    // A later user with the same name must not inherit this one's assignments.
    for app_obj in state
        .store
        .objects(t.id, ObjectKind::App)
        .await
        .map_err(store)?
    {
        let mut app: App = app_obj.decode().map_err(internal)?;
        if app.assigned_users.remove(&key) {
            writes.push(replace(&state, app_obj, &app));
        }
    }
    writes.push(audit(
        &state,
        &t,
        &admin.actor,
        "user.delete",
        format!("user:{}", user.username.as_str()),
        Vec::new(),
    ));
    // What rests on the user's sign-ins goes with the user, in the same change:
    // sessions and device approvals (codes in flight and refresh tokens already fail
    // on the user's id; the tokens' records say so after).
    apply_revoking(&state, &t, &key, "the user was deleted", writes).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Set or reset a user's password (an admin reset).
#[utoipa::path(post, path = "/tenants/{slug}/users/{username}/password", tag = "users", params(("slug" = String, Path), ("username" = String, Path)), request_body = SetPassword,
    responses((status = 204), (status = 400, body = Problem), (status = 404, body = Problem)))]
pub async fn set_password(
    admin: Admin,
    State(state): State<AppState>,
    Path((slug, username)): Path<(String, String)>,
    AdminJson(req): AdminJson<SetPassword>,
) -> ApiResult<StatusCode> {
    let t = tenant(&state, &slug).await?;
    let (obj, mut user) = find(&state, &t, &username).await?;
    check(password_problems(
        &state,
        &t,
        user.username.as_str(),
        &req.password,
    ))?;
    user.password_hash = Some(
        state
            .passwords
            .hash(Secret::new(req.password), state.rng.clone())
            .await,
    );
    user.password_change_required = req.temporary.unwrap_or(true);
    // A reset ends every sign-in with the old password, and what rests on one.
    user.end_sign_ins(state.clock.now());
    let writes = vec![
        replace(&state, obj.clone(), &user),
        audit(
            &state,
            &t,
            &admin.actor,
            "user.password.reset",
            format!("user:{}", user.username.as_str()),
            vec!["password".into()],
        ),
    ];
    let key = user.username.key();
    apply_revoking(&state, &t, &key, "the password was reset", writes).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Applies `writes` (the user's change, which ends the user's sign-ins, and its audit
/// entry) together with the end of every session and unredeemed device approval of the
/// user, atomically (read and applied again if one of those changed meanwhile); then
/// marks the user's refresh tokens revoked, which that change already voided.
async fn apply_revoking(
    state: &AppState,
    t: &Tenant,
    user_key: &str,
    reason: &str,
    writes: Vec<Write>,
) -> ApiResult<()> {
    crate::runtime::retry::on_conflict(|| async {
        let revocation =
            crate::oauth::revoke_sessions(state.store.as_ref(), state.clock.now(), t.id, user_key)
                .await?;
        let mut all = writes.clone();
        all.extend(revocation.writes);
        state.store.apply(all).await.map_err(store_error)
    })
    .await
    .map_err(problem)?;
    let store = state.store.as_ref();
    crate::oauth::revoke_refresh_tokens(store, state.clock.now(), t.id, user_key, reason)
        .await
        .map_err(problem)?;
    Ok(())
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ConsentView {
    pub client_id: String,
    pub scopes: Vec<String>,
    pub granted_at: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ConsentList {
    pub items: Vec<ConsentView>,
}

/// A user's consents (app × scopes), as given on the consent page.
#[utoipa::path(get, path = "/tenants/{slug}/users/{username}/consents", tag = "users", params(("slug" = String, Path), ("username" = String, Path)),
    responses((status = 200, body = ConsentList), (status = 404, body = Problem)))]
pub async fn consents(
    _: Admin,
    State(state): State<AppState>,
    Path((slug, username)): Path<(String, String)>,
) -> ApiResult<Json<ConsentList>> {
    let t = tenant(&state, &slug).await?;
    let (_, user) = find(&state, &t, &username).await?;
    let key = user.username.key();
    let items = state
        .store
        .objects_of_user(t.id, ObjectKind::Consent, &key)
        .await
        .map_err(store)?
        .iter()
        .map(|o| o.decode::<Consent>().map_err(internal))
        .map(|c| {
            c.map(|c| ConsentView {
                client_id: c.client_id.into(),
                scopes: c.scopes.into_iter().collect(),
                granted_at: tessera_core::errors::render::timestamp(c.granted_at),
            })
        })
        .collect::<ApiResult<_>>()?;
    Ok(Json(ConsentList { items }))
}

/// Revoke a user's consent to an app: the next sign-in asks again.
#[utoipa::path(delete, path = "/tenants/{slug}/users/{username}/consents/{client_id}", tag = "users", params(("slug" = String, Path), ("username" = String, Path), ("client_id" = String, Path)),
    responses((status = 204), (status = 404, body = Problem)))]
pub async fn revoke_consent(
    admin: Admin,
    State(state): State<AppState>,
    Path((slug, username, client_id)): Path<(String, String, String)>,
) -> ApiResult<StatusCode> {
    let t = tenant(&state, &slug).await?;
    let (_, user) = find(&state, &t, &username).await?;
    let key = Consent::key(&ClientId::new(client_id.as_str()), &user.username.key());
    let obj = state
        .store
        .object(t.id, ObjectKind::Consent, &key)
        .await
        .map_err(store)?
        .ok_or_else(|| not_found(&format!("consent of {username} to {client_id}")))?;
    crate::oauth::withdraw_consent(
        &state,
        &obj,
        &user.username.key(),
        &client_id,
        "consent was revoked by an administrator",
        audit(
            &state,
            &t,
            &admin.actor,
            "consent.revoke",
            format!("user:{}/app:{client_id}", user.username.as_str()),
            vec!["scopes".into()],
        ),
    )
    .await
    .map_err(problem)?;
    Ok(StatusCode::NO_CONTENT)
}

/// Unlock an account that failed sign-ins locked (smart lockout): both counts start
/// over; the networks the user signed in from stay familiar.
#[utoipa::path(delete, path = "/tenants/{slug}/users/{username}/lockout", tag = "users", params(("slug" = String, Path), ("username" = String, Path)),
    responses((status = 204), (status = 404, body = Problem), (status = 409, body = Problem)))]
pub async fn unlock(
    admin: Admin,
    State(state): State<AppState>,
    Path((slug, username)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    use tessera_core::directory::lockout::SignInFailures;
    let t = tenant(&state, &slug).await?;
    let (_, user) = find(&state, &t, &username).await?;
    let key = user.username.key();
    let found = state
        .store
        .object(t.id, ObjectKind::SignInFailures, &key)
        .await
        .map_err(store)?;
    // Nothing counted: nothing to unlock.
    let Some(object) = found else {
        return Ok(StatusCode::NO_CONTENT);
    };
    let mut record: SignInFailures = object.decode().map_err(internal)?;
    record.unlock();
    let doc = tessera_core::store::object::encode(&record);
    // A sign-in that changed the record meanwhile makes this a Conflict: try again.
    state
        .store
        .apply(vec![
            Write::Put(object.with_doc(doc, state.clock.now())),
            audit(
                &state,
                &t,
                &admin.actor,
                "user.unlock",
                format!("user:{}", user.username.as_str()),
                Vec::new(),
            ),
        ])
        .await
        .map_err(store)?;
    Ok(StatusCode::NO_CONTENT)
}

/// Reset a user's second factor: the authenticator app and the recovery codes are
/// forgotten, so the user signs in with the password alone and enrols again where the
/// policy requires it (Entra ID's "require re-register MFA"). Sessions stay.
#[utoipa::path(delete, path = "/tenants/{slug}/users/{username}/mfa", tag = "users", params(("slug" = String, Path), ("username" = String, Path)),
    responses((status = 204), (status = 404, body = Problem), (status = 409, body = Problem)))]
pub async fn reset_mfa(
    admin: Admin,
    State(state): State<AppState>,
    Path((slug, username)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    let t = tenant(&state, &slug).await?;
    let (object, mut user) = find(&state, &t, &username).await?;
    if user.totp_secret_sealed.is_none() && user.recovery_codes.is_empty() {
        return Ok(StatusCode::NO_CONTENT);
    }
    user.totp_secret_sealed = None;
    user.recovery_codes.clear();
    let now = state.clock.now();
    // Written at the version read: a change meanwhile is a Conflict, to try again.
    state
        .store
        .apply(vec![
            Write::Put(object.with_doc(encode(&user), now)),
            audit(
                &state,
                &t,
                &admin.actor,
                "user.mfa_reset",
                format!("user:{}", user.username.as_str()),
                vec!["totp".into(), "recovery_codes".into()],
            ),
        ])
        .await
        .map_err(store)?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RevokedSessions {
    /// SSO sessions ended: the browser must sign in again.
    pub sessions: usize,
    /// Refresh tokens revoked: using one fails with RefreshTokenRevoked.
    pub refresh_tokens: usize,
}

/// Revoke all of a user's sessions: every SSO session ends and every refresh token of the
/// user is revoked, in one atomic change.
#[utoipa::path(delete, path = "/tenants/{slug}/users/{username}/sessions", tag = "users", params(("slug" = String, Path), ("username" = String, Path)),
    responses((status = 200, body = RevokedSessions), (status = 404, body = Problem), (status = 409, body = Problem)))]
pub async fn revoke_sessions(
    admin: Admin,
    State(state): State<AppState>,
    Path((slug, username)): Path<(String, String)>,
) -> ApiResult<Json<RevokedSessions>> {
    let t = tenant(&state, &slug).await?;
    let (_, user) = find(&state, &t, &username).await?;
    let key = user.username.key();
    // Read and applied again if a session or device approval changed meanwhile.
    let sessions = crate::runtime::retry::on_conflict(|| async {
        let revocation =
            crate::oauth::revoke_sessions(state.store.as_ref(), state.clock.now(), t.id, &key)
                .await?;
        let mut writes = revocation.writes;
        writes.push(crate::oauth::ended_sign_ins(&state, t.id, &key).await?);
        writes.push(audit(
            &state,
            &t,
            &admin.actor,
            "user.revoke_sessions",
            format!("user:{}", user.username.as_str()),
            vec!["sessions".into()],
        ));
        state.store.apply(writes).await.map_err(store_error)?;
        Ok(revocation.sessions)
    })
    .await
    .map_err(problem)?;
    let reason = "all sessions of the user were revoked";
    let refresh_tokens = crate::oauth::revoke_refresh_tokens(
        state.store.as_ref(),
        state.clock.now(),
        t.id,
        &key,
        reason,
    )
    .await
    .map_err(problem)?;
    Ok(Json(RevokedSessions {
        sessions,
        refresh_tokens,
    }))
}
