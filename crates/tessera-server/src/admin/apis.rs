//! `/tenants/{slug}/apis`: APIs (resources) with their delegated scopes and app roles.
//! The identifier is a URI, so it travels percent-encoded in the path
//! (`/apis/https%3A%2F%2Fapi.contoso.test`).

use super::auth::Admin;
use super::common::{
    ApiResult, ListQuery, Page, Problem, apply_create, audit, changed_fields, conflict, internal,
    list_page, name_matches, not_found, relative, replace, store, tenant,
};
use super::json::{AdminJson, check};
use crate::http::extract::{Path, Query};
use crate::runtime::state::AppState;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use tessera_core::directory::file::{ApiDoc, TenantDoc};
use tessera_core::directory::model::{Api, ApiScope, App};
use tessera_core::directory::validate::check_tenant_doc;
use tessera_core::keys::SigningAlg;
use tessera_core::store::object::{ObjectKind, StoredObject, Write, encode};
use tessera_core::tenant::Tenant;
use utoipa::ToSchema;

#[derive(Debug, Serialize, Deserialize, ToSchema, Clone)]
#[serde(deny_unknown_fields)]
pub struct ScopeView {
    pub name: String,
    /// Shown to the user on the consent page.
    pub description: Option<String>,
    #[serde(default)]
    pub admin_consent_required: bool,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ApiView {
    pub identifier: String,
    pub name: String,
    pub scopes: Vec<ScopeView>,
    pub app_roles: Vec<String>,
    /// The app that serves this API and may exchange its tokens on behalf of users.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
    /// The signature of its access tokens: RS256 (the default), ES256 or EdDSA.
    pub access_token_signing_alg: String,
    pub created_at: String,
    pub updated_at: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateApi {
    /// The audience of its tokens: an absolute URI such as https://api.contoso.test or api://contoso.
    pub identifier: String,
    pub name: String,
    #[serde(default)]
    pub scopes: Vec<ScopeView>,
    #[serde(default)]
    pub app_roles: Vec<String>,
    /// The client_id of the app that serves this API: it may exchange the API's access
    /// tokens on behalf of their users (token exchange).
    pub client_id: Option<String>,
    /// The signature of its access tokens: RS256 (the default, which every mainstream
    /// resource-server library verifies), ES256 or EdDSA (the fastest to sign).
    pub access_token_signing_alg: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateApi {
    pub name: Option<String>,
    /// Replaces the scopes.
    pub scopes: Option<Vec<ScopeView>>,
    /// Replaces the app roles.
    pub app_roles: Option<Vec<String>>,
    /// Sets the app that serves this API; an empty string removes it.
    pub client_id: Option<String>,
    /// RS256, ES256 or EdDSA; an empty string returns to the default (RS256).
    pub access_token_signing_alg: Option<String>,
}

fn view(obj: &StoredObject) -> ApiResult<ApiView> {
    let a: Api = obj.decode().map_err(internal)?;
    Ok(ApiView {
        identifier: a.identifier,
        name: a.name,
        scopes: a
            .scopes
            .into_iter()
            .map(|s| ScopeView {
                name: s.name,
                description: Some(s.description),
                admin_consent_required: s.admin_consent_required,
            })
            .collect(),
        app_roles: a.app_roles,
        client_id: a.client_id.map(|c| c.to_string()),
        access_token_signing_alg: SigningAlg::or_default(a.access_token_signing_alg)
            .as_str()
            .to_owned(),
        created_at: tessera_core::errors::render::timestamp(obj.created_at),
        updated_at: tessera_core::errors::render::timestamp(obj.updated_at),
    })
}

fn to_model(
    identifier: String,
    name: String,
    scopes: Vec<ScopeView>,
    app_roles: Vec<String>,
    client_id: Option<String>,
    access_token_signing_alg: Option<&str>,
) -> Api {
    Api {
        // An unknown value is refused by `problems`, which reads the request's string.
        access_token_signing_alg: access_token_signing_alg.and_then(SigningAlg::parse),
        client_id: client_id
            .filter(|c| !c.is_empty())
            .map(tessera_core::ids::ClientId::new),
        scopes: scopes
            .into_iter()
            .map(|s| ApiScope {
                description: s
                    .description
                    .unwrap_or_else(|| format!("Use the {} permission", s.name)),
                name: s.name,
                admin_consent_required: s.admin_consent_required,
            })
            .collect(),
        identifier,
        name,
        app_roles,
    }
}

/// The shared rules for one API; paths relative to it. `access_token_signing_alg`: the
/// request's value, which the model cannot hold when it is unknown.
fn problems(
    t: &Tenant,
    api: &Api,
    access_token_signing_alg: Option<&str>,
) -> Vec<tessera_core::errors::FieldError> {
    let doc = TenantDoc {
        apis: vec![ApiDoc {
            access_token_signing_alg: access_token_signing_alg.map(str::to_owned),
            ..ApiDoc::from(api)
        }],
        ..TenantDoc::empty(t.slug.as_str())
    };
    relative(check_tenant_doc(&doc), "/apis/0")
}

async fn find(state: &AppState, t: &Tenant, identifier: &str) -> ApiResult<(StoredObject, Api)> {
    let obj = state
        .store
        .object(t.id, ObjectKind::Api, identifier)
        .await
        .map_err(store)?
        .ok_or_else(|| not_found(&format!("API {identifier}")))?;
    let api = obj.decode().map_err(internal)?;
    Ok((obj, api))
}

/// List APIs.
#[utoipa::path(get, path = "/tenants/{slug}/apis", tag = "apis", params(("slug" = String, Path), ListQuery),
    responses((status = 200, body = Page<ApiView>), (status = 404, body = Problem)))]
pub async fn list(
    _: Admin,
    State(state): State<AppState>,
    Path(slug): Path<String>,
    Query(q): Query<ListQuery>,
) -> ApiResult<Json<Page<ApiView>>> {
    let t = tenant(&state, &slug).await?;
    Ok(Json(
        list_page(&state, t.id, ObjectKind::Api, &q, |o| {
            let v = view(o)?;
            Ok((name_matches(&q, &v.name) || name_matches(&q, &v.identifier)).then_some(v))
        })
        .await?,
    ))
}

/// Register an API.
#[utoipa::path(post, path = "/tenants/{slug}/apis", tag = "apis", params(("slug" = String, Path)), request_body = CreateApi,
    responses((status = 201, body = ApiView), (status = 400, body = Problem), (status = 409, body = Problem)))]
pub async fn create(
    admin: Admin,
    State(state): State<AppState>,
    Path(slug): Path<String>,
    AdminJson(req): AdminJson<CreateApi>,
) -> ApiResult<(StatusCode, Json<ApiView>)> {
    let t = tenant(&state, &slug).await?;
    let alg = req.access_token_signing_alg.as_deref();
    let api = to_model(
        req.identifier,
        req.name,
        req.scopes,
        req.app_roles,
        req.client_id,
        alg,
    );
    check(problems(&t, &api, alg))?;
    let now = state.clock.now();
    let obj = StoredObject::new(
        state.rng.object_id(),
        t.id,
        ObjectKind::Api,
        api.identifier.clone(),
        encode(&api),
        now,
    );
    let fields = changed_fields(
        &serde_json::json!({}),
        &serde_json::to_value(&api).unwrap_or_default(),
    );
    let writes = vec![
        Write::Put(obj.clone()),
        audit(
            &state,
            &t,
            &admin.actor,
            "api.create",
            format!("api:{}", api.identifier),
            fields,
        ),
    ];
    apply_create(&state, writes, &format!("API {}", api.identifier)).await?;
    Ok((StatusCode::CREATED, Json(view(&obj)?)))
}

/// Read an API.
#[utoipa::path(get, path = "/tenants/{slug}/apis/{identifier}", tag = "apis", params(("slug" = String, Path), ("identifier" = String, Path, description = "percent-encoded")),
    responses((status = 200, body = ApiView), (status = 404, body = Problem)))]
pub async fn get(
    _: Admin,
    State(state): State<AppState>,
    Path((slug, identifier)): Path<(String, String)>,
) -> ApiResult<Json<ApiView>> {
    let t = tenant(&state, &slug).await?;
    let (obj, _) = find(&state, &t, &identifier).await?;
    Ok(Json(view(&obj)?))
}

/// Update an API's name, scopes or app roles.
#[utoipa::path(patch, path = "/tenants/{slug}/apis/{identifier}", tag = "apis", params(("slug" = String, Path), ("identifier" = String, Path, description = "percent-encoded")), request_body = UpdateApi,
    responses((status = 200, body = ApiView), (status = 400, body = Problem), (status = 404, body = Problem)))]
pub async fn update(
    admin: Admin,
    State(state): State<AppState>,
    Path((slug, identifier)): Path<(String, String)>,
    AdminJson(req): AdminJson<UpdateApi>,
) -> ApiResult<Json<ApiView>> {
    let t = tenant(&state, &slug).await?;
    let (obj, old) = find(&state, &t, &identifier).await?;
    let alg = match req.access_token_signing_alg.as_deref() {
        Some("") => None,
        Some(requested) => Some(requested),
        None => old.access_token_signing_alg.map(SigningAlg::as_str),
    };
    let current_scopes = old
        .scopes
        .iter()
        .map(|s| ScopeView {
            name: s.name.clone(),
            description: Some(s.description.clone()),
            admin_consent_required: s.admin_consent_required,
        })
        .collect();
    let api = to_model(
        old.identifier.clone(),
        req.name.unwrap_or_else(|| old.name.clone()),
        req.scopes.unwrap_or(current_scopes),
        req.app_roles.unwrap_or_else(|| old.app_roles.clone()),
        req.client_id
            .or_else(|| old.client_id.as_ref().map(ToString::to_string)),
        alg,
    );
    check(problems(&t, &api, alg))?;
    let changes = changed_fields(
        &serde_json::to_value(&old).unwrap_or_default(),
        &serde_json::to_value(&api).unwrap_or_default(),
    );
    if !changes.is_empty() {
        let writes = vec![
            replace(&state, obj, &api),
            audit(
                &state,
                &t,
                &admin.actor,
                "api.update",
                format!("api:{identifier}"),
                changes,
            ),
        ];
        state.store.apply(writes).await.map_err(store)?;
    }
    let (obj, _) = find(&state, &t, &identifier).await?;
    Ok(Json(view(&obj)?))
}

/// Delete an API. Refused while an app still holds permissions on it.
#[utoipa::path(delete, path = "/tenants/{slug}/apis/{identifier}", tag = "apis", params(("slug" = String, Path), ("identifier" = String, Path, description = "percent-encoded")),
    responses((status = 204), (status = 404, body = Problem), (status = 409, body = Problem)))]
pub async fn delete(
    admin: Admin,
    State(state): State<AppState>,
    Path((slug, identifier)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    let t = tenant(&state, &slug).await?;
    let (obj, _) = find(&state, &t, &identifier).await?;
    for app_obj in state
        .store
        .objects(t.id, ObjectKind::App)
        .await
        .map_err(store)?
    {
        let app: App = app_obj.decode().map_err(internal)?;
        if app.permissions.iter().any(|p| p.api == identifier) {
            return Err(conflict(&format!(
                "API {identifier}, still granted to app {}",
                app.client_id
            )));
        }
    }
    let writes = vec![
        Write::Delete {
            tenant_id: t.id,
            kind: ObjectKind::Api,
            id: obj.id,
        },
        audit(
            &state,
            &t,
            &admin.actor,
            "api.delete",
            format!("api:{identifier}"),
            Vec::new(),
        ),
    ];
    state.store.apply(writes).await.map_err(store)?;
    Ok(StatusCode::NO_CONTENT)
}
