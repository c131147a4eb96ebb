//! `/tenants/{slug}/apps`: app registrations and their client secrets.

use super::auth::Admin;
use super::common::{
    ApiResult, ListQuery, Page, Problem, apply_create, audit, changed_fields, conflict,
    doc_with_apis, internal, list_page, name_matches, not_found, problem, relative, replace, store,
    tenant,
};
use super::json::{AdminJson, check, invalid, merge_patch};
use crate::http::extract::{Path, Query};
use crate::runtime::state::AppState;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;
use tessera_core::crypto::generate_client_secret;
use tessera_core::directory::file::{AppDoc, RedirectUrisDoc};
use tessera_core::directory::model::{
    App, ClientSecret, GrantType, Implicit, Permission, RedirectUris,
};
use tessera_core::directory::validate::check_tenant_doc;
use tessera_core::errors::{CatalogError, ErrorName, FieldError};
use tessera_core::ids::ClientId;
use tessera_core::keys::SigningAlg;
use tessera_core::store::object::{ObjectKind, StoredObject, Write, encode};
use tessera_core::tenant::Tenant;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use utoipa::ToSchema;

#[derive(Debug, Serialize, Deserialize, ToSchema, Default, Clone)]
#[serde(deny_unknown_fields)]
pub struct RedirectUrisView {
    #[serde(default)]
    pub web: Vec<String>,
    #[serde(default)]
    pub spa: Vec<String>,
    #[serde(default)]
    pub native: Vec<String>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema, Clone)]
#[serde(deny_unknown_fields)]
pub struct PermissionView {
    /// The API identifier.
    pub api: String,
    #[serde(default)]
    pub scopes: Vec<String>,
    #[serde(default)]
    pub app_roles: Vec<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SecretView {
    pub id: String,
    /// The first characters of the value.
    pub hint: String,
    pub expires_at: Option<String>,
    pub created_at: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AppView {
    pub client_id: String,
    pub name: String,
    pub multi_tenant: bool,
    pub personal_accounts: bool,
    pub assignment_required: bool,
    pub mfa_required: bool,
    pub redirect_uris: RedirectUrisView,
    pub post_logout_redirect_uris: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub backchannel_logout_uri: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub frontchannel_logout_uri: Option<String>,
    /// Device platforms its users may sign in from; empty: all.
    #[schema(value_type = Vec<String>)]
    pub allowed_platforms: Vec<tessera_core::platform::Platform>,
    pub grant_types: Vec<String>,
    pub implicit_id_token: bool,
    pub implicit_access_token: bool,
    pub permissions: Vec<PermissionView>,
    pub admin_consented: bool,
    /// The signature of its ID tokens: RS256 (the default), ES256 or EdDSA.
    pub id_token_signed_response_alg: String,
    /// A disabled app gets no sign-in and no token (AppDisabled).
    pub enabled: bool,
    /// Confidential apps authenticate with a secret or a registered key.
    pub confidential: bool,
    pub secrets: Vec<SecretView>,
    #[schema(value_type = Option<Object>)]
    pub jwks: Option<serde_json::Value>,
    pub assigned_users: Vec<String>,
    /// Groups whose members are assigned.
    pub assigned_groups: Vec<String>,
    pub created_at: String,
    pub updated_at: String,
}

fn ts(t: OffsetDateTime) -> String {
    tessera_core::errors::render::timestamp(t)
}

fn view(obj: &StoredObject) -> ApiResult<AppView> {
    let a: App = obj.decode().map_err(internal)?;
    Ok(AppView {
        confidential: a.is_confidential(),
        client_id: a.client_id.into(),
        name: a.name,
        multi_tenant: a.multi_tenant,
        personal_accounts: a.personal_accounts,
        assignment_required: a.assignment_required,
        mfa_required: a.mfa_required,
        redirect_uris: RedirectUrisView {
            web: a.redirect_uris.web,
            spa: a.redirect_uris.spa,
            native: a.redirect_uris.native,
        },
        post_logout_redirect_uris: a.post_logout_redirect_uris,
        backchannel_logout_uri: a.backchannel_logout_uri,
        frontchannel_logout_uri: a.frontchannel_logout_uri,
        allowed_platforms: a.allowed_platforms,
        grant_types: a
            .grant_types
            .iter()
            .map(|g| g.as_str().to_owned())
            .collect(),
        implicit_id_token: a.implicit.id_token,
        implicit_access_token: a.implicit.access_token,
        permissions: a
            .permissions
            .into_iter()
            .map(|p| PermissionView {
                api: p.api,
                scopes: p.scopes,
                app_roles: p.app_roles,
            })
            .collect(),
        admin_consented: a.admin_consented,
        id_token_signed_response_alg: SigningAlg::or_default(a.id_token_signed_response_alg)
            .as_str()
            .to_owned(),
        enabled: a.enabled,
        secrets: a
            .secrets
            .iter()
            .map(|s| SecretView {
                id: s.id.to_string(),
                hint: s.hint.clone(),
                expires_at: s.expires_at.map(ts),
                created_at: ts(s.created_at),
            })
            .collect(),
        jwks: a.jwks,
        assigned_users: a.assigned_users.into_iter().collect(),
        assigned_groups: a.assigned_groups.into_iter().collect(),
        created_at: ts(obj.created_at),
        updated_at: ts(obj.updated_at),
    })
}

/// The writable fields of an app (create takes all, update any subset).
#[derive(Debug, Deserialize, ToSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct AppFields {
    pub name: Option<String>,
    pub multi_tenant: Option<bool>,
    pub personal_accounts: Option<bool>,
    pub assignment_required: Option<bool>,
    /// Users must present a second factor to sign in to it.
    pub mfa_required: Option<bool>,
    /// A JSON Merge Patch (RFC 7396) of the redirect URIs by platform (`web`, `spa`,
    /// `native`): the lists given replace theirs, null empties one, the others are kept.
    #[schema(value_type = Option<RedirectUrisView>)]
    pub redirect_uris: Option<serde_json::Value>,
    pub post_logout_redirect_uris: Option<Vec<String>>,
    /// OIDC Back-Channel Logout: where logout tokens are POSTed; "" removes it.
    pub backchannel_logout_uri: Option<String>,
    /// OIDC Front-Channel Logout: loaded in a frame of the signed-out page; "" removes it.
    pub frontchannel_logout_uri: Option<String>,
    /// Device platforms its users may sign in from (replaces the list; [] allows all).
    #[schema(value_type = Option<Vec<String>>)]
    pub allowed_platforms: Option<Vec<tessera_core::platform::Platform>>,
    /// Grant types: authorization_code, refresh_token, client_credentials, and the URNs of
    /// the device code, token exchange and JWT bearer grants.
    pub grant_types: Option<Vec<String>>,
    pub implicit_id_token: Option<bool>,
    pub implicit_access_token: Option<bool>,
    pub permissions: Option<Vec<PermissionView>>,
    pub admin_consented: Option<bool>,
    /// The signature of its ID tokens: RS256 (the default), ES256 or EdDSA.
    pub id_token_signed_response_alg: Option<String>,
    /// `false` disables the app: no sign-in, no token; what it was issued before stays
    /// void when it is enabled again.
    pub enabled: Option<bool>,
    /// Certificate credentials (a JWK Set of public keys) for private_key_jwt.
    #[schema(value_type = Option<Object>)]
    pub jwks: Option<serde_json::Value>,
    /// Usernames assigned to the app.
    pub assigned_users: Option<Vec<String>>,
    /// Groups whose members are assigned (replaces the list).
    pub assigned_groups: Option<Vec<String>>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateApp {
    /// Generated when absent.
    pub client_id: Option<String>,
    #[serde(flatten)]
    pub fields: AppFields,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CreatedSecret {
    pub id: String,
    /// The secret itself: shown this once, stored only as a keyed hash.
    pub value: String,
    pub expires_at: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct NewSecret {
    /// RFC 3339; absent for no expiry.
    pub expires_at: Option<String>,
}

/// `f` applied to `app`; a redirect-URI patch that does not fit is a field error.
fn apply_fields(app: &mut App, f: AppFields) -> Result<(), FieldError> {
    if let Some(v) = f.name {
        app.name = v;
    }
    if let Some(v) = f.multi_tenant {
        app.multi_tenant = v;
    }
    if let Some(v) = f.personal_accounts {
        app.personal_accounts = v;
    }
    if let Some(v) = f.assignment_required {
        app.assignment_required = v;
    }
    if let Some(v) = f.mfa_required {
        app.mfa_required = v;
    }
    if let Some(patch) = f.redirect_uris {
        let current = RedirectUrisView {
            web: app.redirect_uris.web.clone(),
            spa: app.redirect_uris.spa.clone(),
            native: app.redirect_uris.native.clone(),
        };
        let v = merge_patch(
            "/redirect_uris",
            &current,
            &RedirectUrisView::default(),
            &patch,
        )?;
        app.redirect_uris = RedirectUris {
            web: v.web,
            spa: v.spa,
            native: v.native,
        };
    }
    if let Some(v) = f.post_logout_redirect_uris {
        app.post_logout_redirect_uris = v;
    }
    if let Some(v) = f.backchannel_logout_uri {
        app.backchannel_logout_uri = Some(v).filter(|v| !v.is_empty());
    }
    if let Some(v) = f.frontchannel_logout_uri {
        app.frontchannel_logout_uri = Some(v).filter(|v| !v.is_empty());
    }
    if let Some(v) = f.allowed_platforms {
        app.allowed_platforms = v;
    }
    if let Some(v) = f.grant_types {
        app.grant_types = v.iter().filter_map(|g| GrantType::parse(g)).collect();
    }
    if let Some(v) = f.implicit_id_token {
        app.implicit.id_token = v;
    }
    if let Some(v) = f.implicit_access_token {
        app.implicit.access_token = v;
    }
    if let Some(v) = f.permissions {
        app.permissions = v
            .into_iter()
            .map(|p| Permission {
                api: p.api,
                scopes: p.scopes,
                app_roles: p.app_roles,
            })
            .collect();
    }
    if let Some(v) = f.admin_consented {
        app.admin_consented = v;
    }
    if let Some(v) = f.enabled {
        app.enabled = v;
    }
    if let Some(v) = &f.id_token_signed_response_alg {
        // Validated with the rest of the document below; an unknown value stays None
        // here, and an empty one returns to the default.
        app.id_token_signed_response_alg = SigningAlg::parse(v);
    }
    if let Some(v) = f.jwks {
        app.jwks = Some(v);
    }
    if let Some(v) = f.assigned_users {
        app.assigned_users = v.iter().map(|u| u.to_lowercase()).collect();
    }
    if let Some(v) = f.assigned_groups {
        app.assigned_groups = v.into_iter().collect();
    }
    Ok(())
}

/// The algorithm a request names, to validate; an empty string asks for the default.
fn requested_alg(value: Option<&str>) -> Option<String> {
    value.filter(|v| !v.is_empty()).map(str::to_owned)
}

/// Checks an app with the shared rules (redirect URIs, grant types, permissions against
/// the tenant's APIs, JWKS); field paths relative to the app. Unknown grant types are
/// checked from the request, since the model drops them.
async fn problems(
    state: &AppState,
    t: &Tenant,
    app: &App,
    grant_types: Option<&[String]>,
    id_token_signed_response_alg: Option<&str>,
) -> ApiResult<Vec<FieldError>> {
    let mut doc = doc_with_apis(state, t).await?;
    doc.apps = vec![AppDoc {
        client_id: Some(app.client_id.to_string()),
        name: app.name.clone(),
        multi_tenant: app.multi_tenant,
        personal_accounts: app.personal_accounts,
        assignment_required: app.assignment_required,
        mfa_required: app.mfa_required,
        redirect_uris: RedirectUrisDoc {
            web: app.redirect_uris.web.clone(),
            spa: app.redirect_uris.spa.clone(),
            native: app.redirect_uris.native.clone(),
        },
        post_logout_redirect_uris: app.post_logout_redirect_uris.clone(),
        backchannel_logout_uri: app.backchannel_logout_uri.clone(),
        frontchannel_logout_uri: app.frontchannel_logout_uri.clone(),
        allowed_platforms: app.allowed_platforms.clone(),
        secrets: None,
        jwks: app.jwks.clone(),
        grant_types: grant_types.map_or_else(
            || {
                app.grant_types
                    .iter()
                    .map(|g| g.as_str().to_owned())
                    .collect()
            },
            <[String]>::to_vec,
        ),
        implicit: app.implicit,
        permissions: app.permissions.clone(),
        admin_consented: app.admin_consented,
        id_token_signed_response_alg: id_token_signed_response_alg.map(str::to_owned).or_else(
            || {
                app.id_token_signed_response_alg
                    .map(|a| a.as_str().to_owned())
            },
        ),
        enabled: app.enabled,
    }];
    let mut out: Vec<FieldError> = relative(check_tenant_doc(&doc), "/apps/0");
    out.extend(
        missing(
            state,
            t,
            ObjectKind::User,
            &app.assigned_users,
            "assigned_users",
            "user",
        )
        .await?,
    );
    out.extend(
        missing(
            state,
            t,
            ObjectKind::Group,
            &app.assigned_groups,
            "assigned_groups",
            "group",
        )
        .await?,
    );
    Ok(out)
}

/// A NotFound field error `/{field}/{i}` for each of `keys` the tenant has no `kind` of.
async fn missing(
    state: &AppState,
    t: &Tenant,
    kind: ObjectKind,
    keys: &BTreeSet<String>,
    field: &str,
    noun: &str,
) -> ApiResult<Vec<FieldError>> {
    let mut out = Vec::new();
    for (i, key) in keys.iter().enumerate() {
        if state
            .store
            .object(t.id, kind, key)
            .await
            .map_err(store)?
            .is_none()
        {
            out.push(FieldError {
                field: format!("/{field}/{i}"),
                code: ErrorName::NotFound.entry().code_str(),
                message: format!("no {noun} {key} in this tenant"),
            });
        }
    }
    Ok(out)
}

async fn find(state: &AppState, t: &Tenant, client_id: &str) -> ApiResult<(StoredObject, App)> {
    let obj = state
        .store
        .object(t.id, ObjectKind::App, client_id)
        .await
        .map_err(store)?
        .ok_or_else(|| not_found(&format!("app {client_id}")))?;
    let app = obj.decode().map_err(internal)?;
    Ok((obj, app))
}

fn doc_value(app: &App) -> serde_json::Value {
    serde_json::to_value(app).unwrap_or_default()
}

/// List apps.
#[utoipa::path(get, path = "/tenants/{slug}/apps", tag = "apps", params(("slug" = String, Path), ListQuery),
    responses((status = 200, body = Page<AppView>), (status = 404, body = Problem)))]
pub async fn list(
    _: Admin,
    State(state): State<AppState>,
    Path(slug): Path<String>,
    Query(q): Query<ListQuery>,
) -> ApiResult<Json<Page<AppView>>> {
    let t = tenant(&state, &slug).await?;
    let page = list_page(&state, t.id, ObjectKind::App, &q, |o| {
        let v = view(o)?;
        Ok((name_matches(&q, &v.name) || name_matches(&q, &v.client_id)).then_some(v))
    })
    .await?;
    Ok(Json(page))
}

/// Register an app.
#[utoipa::path(post, path = "/tenants/{slug}/apps", tag = "apps", params(("slug" = String, Path)), request_body = CreateApp,
    responses((status = 201, body = AppView), (status = 400, body = Problem), (status = 409, body = Problem)))]
pub async fn create(
    admin: Admin,
    State(state): State<AppState>,
    Path(slug): Path<String>,
    AdminJson(req): AdminJson<CreateApp>,
) -> ApiResult<(StatusCode, Json<AppView>)> {
    let t = tenant(&state, &slug).await?;
    let grant_types = req.fields.grant_types.clone();
    let mut app = App {
        client_id: ClientId::new(
            req.client_id
                .unwrap_or_else(|| state.rng.uuid().to_string()),
        ),
        name: String::new(),
        multi_tenant: false,
        personal_accounts: false,
        assignment_required: false,
        mfa_required: false,
        redirect_uris: RedirectUris::default(),
        post_logout_redirect_uris: Vec::new(),
        backchannel_logout_uri: None,
        frontchannel_logout_uri: None,
        secrets: Vec::new(),
        jwks: None,
        grant_types: [GrantType::AuthorizationCode, GrantType::RefreshToken]
            .into_iter()
            .collect(),
        implicit: Implicit::default(),
        permissions: Vec::new(),
        admin_consented: false,
        id_token_signed_response_alg: None,
        assigned_users: BTreeSet::new(),
        assigned_groups: BTreeSet::new(),
        allowed_platforms: Vec::new(),
        enabled: true,
        tokens_valid_from: Some(state.clock.now()),
    };
    let alg = requested_alg(req.fields.id_token_signed_response_alg.as_deref());
    apply_fields(&mut app, req.fields).map_err(|e| invalid(vec![e]))?;
    guard_management_roles(&admin, None, &app)?;
    check(problems(&state, &t, &app, grant_types.as_deref(), alg.as_deref()).await?)?;
    let now = state.clock.now();
    let obj = StoredObject::new(
        state.rng.object_id(),
        t.id,
        ObjectKind::App,
        app.client_id.clone(),
        encode(&app),
        now,
    );
    let fields = changed_fields(&serde_json::json!({}), &doc_value(&app));
    let writes = vec![
        Write::Put(obj.clone()),
        audit(
            &state,
            &t,
            &admin.actor,
            "app.create",
            format!("app:{}", app.client_id),
            fields,
        ),
    ];
    state.store.apply(writes).await.map_err(|e| match e {
        tessera_core::store::StoreError::Conflict(_) => conflict(&format!("app {}", app.client_id)),
        other => store(other),
    })?;
    Ok((StatusCode::CREATED, Json(view(&obj)?)))
}

/// Read an app.
#[utoipa::path(get, path = "/tenants/{slug}/apps/{client_id}", tag = "apps", params(("slug" = String, Path), ("client_id" = String, Path)),
    responses((status = 200, body = AppView), (status = 404, body = Problem)))]
pub async fn get(
    _: Admin,
    State(state): State<AppState>,
    Path((slug, client_id)): Path<(String, String)>,
) -> ApiResult<Json<AppView>> {
    let t = tenant(&state, &slug).await?;
    let (obj, _) = find(&state, &t, &client_id).await?;
    Ok(Json(view(&obj)?))
}

/// Update an app.
#[utoipa::path(patch, path = "/tenants/{slug}/apps/{client_id}", tag = "apps", params(("slug" = String, Path), ("client_id" = String, Path)), request_body = AppFields,
    responses((status = 200, body = AppView), (status = 400, body = Problem), (status = 404, body = Problem)))]
pub async fn update(
    admin: Admin,
    State(state): State<AppState>,
    Path((slug, client_id)): Path<(String, String)>,
    AdminJson(req): AdminJson<AppFields>,
) -> ApiResult<Json<AppView>> {
    let t = tenant(&state, &slug).await?;
    let (obj, old) = find(&state, &t, &client_id).await?;
    let grant_types = req.grant_types.clone();
    let alg = requested_alg(req.id_token_signed_response_alg.as_deref());
    let mut app = old.clone();
    apply_fields(&mut app, req).map_err(|e| invalid(vec![e]))?;
    // Disabling voids what the app was issued so far; enabling it again revives none.
    app.tokens_valid_from = tessera_core::directory::plan::tokens_valid_from(
        Some(&old),
        app.enabled,
        state.clock.now(),
    );
    guard_management_roles(&admin, Some(&old), &app)?;
    check(problems(&state, &t, &app, grant_types.as_deref(), alg.as_deref()).await?)?;
    let changes = changed_fields(&doc_value(&old), &doc_value(&app));
    if !changes.is_empty() {
        let writes = vec![
            replace(&state, obj, &app),
            audit(
                &state,
                &t,
                &admin.actor,
                "app.update",
                format!("app:{client_id}"),
                changes,
            ),
        ];
        state.store.apply(writes).await.map_err(store)?;
    }
    let (obj, _) = find(&state, &t, &client_id).await?;
    Ok(Json(view(&obj)?))
}

/// Delete an app.
#[utoipa::path(delete, path = "/tenants/{slug}/apps/{client_id}", tag = "apps", params(("slug" = String, Path), ("client_id" = String, Path)),
    responses((status = 204), (status = 404, body = Problem)))]
pub async fn delete(
    admin: Admin,
    State(state): State<AppState>,
    Path((slug, client_id)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    let t = tenant(&state, &slug).await?;
    let (obj, _) = find(&state, &t, &client_id).await?;
    let writes = vec![
        Write::Delete {
            tenant_id: t.id,
            kind: ObjectKind::App,
            id: obj.id,
        },
        audit(
            &state,
            &t,
            &admin.actor,
            "app.delete",
            format!("app:{client_id}"),
            Vec::new(),
        ),
    ];
    state.store.apply(writes).await.map_err(store)?;
    Ok(StatusCode::NO_CONTENT)
}

/// Add a client secret: 256 bits from the OS RNG, shown once in the response.
#[utoipa::path(post, path = "/tenants/{slug}/apps/{client_id}/secrets", tag = "apps", params(("slug" = String, Path), ("client_id" = String, Path)), request_body = NewSecret,
    responses((status = 201, body = CreatedSecret), (status = 400, body = Problem), (status = 404, body = Problem)))]
pub async fn add_secret(
    admin: Admin,
    State(state): State<AppState>,
    Path((slug, client_id)): Path<(String, String)>,
    AdminJson(req): AdminJson<NewSecret>,
) -> ApiResult<(StatusCode, Json<CreatedSecret>)> {
    let t = tenant(&state, &slug).await?;
    let (obj, mut app) = find(&state, &t, &client_id).await?;
    let now = state.clock.now();
    let expires_at = match req
        .expires_at
        .as_deref()
        .map(|v| OffsetDateTime::parse(v, &Rfc3339))
    {
        None => None,
        Some(Ok(t)) if t > now => Some(t),
        Some(_) => {
            return Err(problem(
                CatalogError::new(ErrorName::ValidationFailed)
                    .with("count", "1")
                    .with_fields(vec![FieldError {
                        field: "/expires_at".into(),
                        code: ErrorName::ValidationFailed.entry().code_str(),
                        message: "must be an RFC 3339 time in the future".into(),
                    }]),
            ));
        }
    };
    let value = generate_client_secret(state.rng.as_ref());
    let secret = ClientSecret {
        id: state.rng.uuid(),
        hash: state.master.secret_hash(&value),
        hint: value.expose().chars().take(3).collect(),
        expires_at,
        created_at: now,
    };
    let id = secret.id;
    app.secrets.push(secret);
    let writes = vec![
        replace(&state, obj, &app),
        audit(
            &state,
            &t,
            &admin.actor,
            "app.secret.add",
            format!("app:{client_id}/secret:{id}"),
            vec!["secrets".into()],
        ),
    ];
    apply_create(&state, writes, &format!("app {}", app.client_id)).await?;
    Ok((
        StatusCode::CREATED,
        Json(CreatedSecret {
            id: id.to_string(),
            value: value.expose().to_owned(),
            expires_at: expires_at.map(ts),
        }),
    ))
}

/// Remove a client secret.
#[utoipa::path(delete, path = "/tenants/{slug}/apps/{client_id}/secrets/{id}", tag = "apps", params(("slug" = String, Path), ("client_id" = String, Path), ("id" = String, Path)),
    responses((status = 204), (status = 404, body = Problem)))]
pub async fn remove_secret(
    admin: Admin,
    State(state): State<AppState>,
    Path((slug, client_id, id)): Path<(String, String, String)>,
) -> ApiResult<StatusCode> {
    let t = tenant(&state, &slug).await?;
    let (obj, mut app) = find(&state, &t, &client_id).await?;
    let before = app.secrets.len();
    app.secrets.retain(|s| s.id.to_string() != id);
    if app.secrets.len() == before {
        return Err(not_found(&format!("secret {id} of app {client_id}")));
    }
    let writes = vec![
        replace(&state, obj, &app),
        audit(
            &state,
            &t,
            &admin.actor,
            "app.secret.remove",
            format!("app:{client_id}/secret:{id}"),
            vec!["secrets".into()],
        ),
    ];
    state.store.apply(writes).await.map_err(store)?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewKeyCredential {
    /// A public JWK (RSA ≥ 2048 bits, EC P-256 or Ed25519) with a `kid` unique in the app.
    #[schema(value_type = Object)]
    pub jwk: serde_json::Value,
}

/// Add a certificate credential (a public key for private_key_jwt client assertions).
#[utoipa::path(post, path = "/tenants/{slug}/apps/{client_id}/keys", tag = "apps", params(("slug" = String, Path), ("client_id" = String, Path)), request_body = NewKeyCredential,
    responses((status = 201, body = AppView), (status = 400, body = Problem), (status = 404, body = Problem)))]
pub async fn add_key(
    admin: Admin,
    State(state): State<AppState>,
    Path((slug, client_id)): Path<(String, String)>,
    AdminJson(req): AdminJson<NewKeyCredential>,
) -> ApiResult<(StatusCode, Json<AppView>)> {
    let t = tenant(&state, &slug).await?;
    let (obj, mut app) = find(&state, &t, &client_id).await?;
    let mut keys = app
        .jwks
        .as_ref()
        .and_then(|j| j.get("keys"))
        .and_then(|k| k.as_array())
        .cloned()
        .unwrap_or_default();
    keys.push(req.jwk);
    app.jwks = Some(serde_json::json!({ "keys": keys }));
    // The same JWKS rules as registration: key types and sizes, unique kids, no private parts.
    let last = keys.len() - 1;
    let problems: Vec<FieldError> = problems(&state, &t, &app, None, None)
        .await?
        .into_iter()
        .filter_map(|mut e| {
            let rest = e
                .field
                .strip_prefix(&format!("/jwks/keys/{last}"))?
                .to_owned();
            e.field = format!("/jwk{rest}");
            Some(e)
        })
        .collect();
    check(problems)?;
    let kid = app
        .jwks
        .as_ref()
        .and_then(|j| j["keys"][last]["kid"].as_str())
        .unwrap_or_default()
        .to_owned();
    let now = state.clock.now();
    let updated = StoredObject {
        doc: encode(&app),
        updated_at: now,
        ..obj
    };
    let writes = vec![
        Write::Put(updated.clone()),
        audit(
            &state,
            &t,
            &admin.actor,
            "app.key.add",
            format!("app:{client_id}/key:{kid}"),
            vec!["jwks".into()],
        ),
    ];
    state.store.apply(writes).await.map_err(store)?;
    Ok((StatusCode::CREATED, Json(view(&updated)?)))
}

/// Roles of the management API are admin rights: only a caller who may grant them
/// (`Admin::grants_management`) may add or change them on an app.
fn guard_management_roles(admin: &Admin, old: Option<&App>, app: &App) -> ApiResult<()> {
    let management = |a: &App| -> Vec<Permission> {
        a.permissions
            .iter()
            .filter(|p| p.api == tessera_core::directory::model::MANAGEMENT_API)
            .cloned()
            .collect()
    };
    let before = old.map(management).unwrap_or_default();
    if management(app) == before || admin.grants_management {
        return Ok(());
    }
    Err(problem(CatalogError::new(ErrorName::Forbidden).with(
        "permission",
        "Tenants.ReadWrite of the admin tenant (to grant roles of the management API)",
    )))
}
