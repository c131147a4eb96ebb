//! `/tenants`: create, read, list, update and disable tenants.

use super::auth::Admin;
use super::common::{
    ApiResult, ListQuery, Page, Problem, audit, changed_fields, conflict, problem, store, tenant,
};
use super::json::{AdminJson, check, invalid, merge_patch};
use tessera_core::ids::TenantId;

use crate::http::extract::{Path, Query};
use crate::runtime::state::AppState;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use tessera_core::directory::file::TenantDoc;
use tessera_core::directory::validate::check_tenant_doc;
use tessera_core::errors::{CatalogError, ErrorName, FieldError};
use tessera_core::store::StoreError;
use tessera_core::store::object::{Write, encode};
use tessera_core::tenant::TenantPolicy;
use tessera_core::tenant::{NewTenant, Tenant, TenantKind, TenantSlug};
use utoipa::ToSchema;

#[derive(Debug, Serialize, Deserialize, ToSchema, Clone, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct PolicyView {
    pub lockout_threshold: u32,
    pub lockout_seconds: u32,
    #[serde(default = "defaults::lockout_window")]
    pub lockout_window_seconds: u32,
    pub mfa_max_age_seconds: u32,
    /// Every user must enrol an authenticator app.
    #[serde(default)]
    pub mfa_required: bool,
    pub code_lifetime_seconds: u32,
    pub blocked_ip_ranges: Vec<String>,
    // Added after the first release: optional in requests, defaulted.
    #[serde(default = "defaults::session")]
    pub session_lifetime_seconds: u32,
    #[serde(default = "defaults::access_token")]
    pub access_token_lifetime_seconds: u32,
    #[serde(default = "defaults::refresh_token")]
    pub refresh_token_lifetime_seconds: u32,
    #[serde(default = "defaults::refresh_idle")]
    pub refresh_token_idle_seconds: u32,
    /// How long a rotated-out refresh token may be presented again while its successor
    /// is unused (a client whose answer was lost); 0: never.
    #[serde(default = "defaults::refresh_retry")]
    pub refresh_token_retry_seconds: u32,
    #[serde(default = "defaults::spa_refresh")]
    pub spa_refresh_token_lifetime_seconds: u32,
    #[serde(default)]
    pub pkce_plain_allowed: bool,
    #[serde(default = "defaults::logout_request")]
    pub logout_request_seconds: u32,
    /// 0: keys rotate only when an administrator rotates them.
    #[serde(default = "defaults::rotation_days")]
    pub signing_key_rotation_days: u32,
    #[serde(default = "defaults::publish")]
    pub signing_key_publish_seconds: u32,
    #[serde(default = "defaults::password_min_length")]
    pub password_min_length: u32,
    #[serde(default = "defaults::sign_in_log_days")]
    pub sign_in_log_days: u32,
    /// 0: no limit.
    #[serde(default = "defaults::per_address")]
    pub rate_limit_per_address_per_minute: u32,
    /// 0: no limit.
    #[serde(default = "defaults::per_client")]
    pub rate_limit_per_client_per_minute: u32,
    /// Device platforms users may sign in from (android, ios, windows, macos, chromeos,
    /// linux, other); empty: all.
    #[serde(default)]
    #[schema(value_type = Vec<String>)]
    pub allowed_platforms: Vec<tessera_core::platform::Platform>,
    /// The other tenants (slugs) whose users may sign in to this tenant's multi-tenant
    /// apps; null: every tenant.
    #[serde(default)]
    pub admitted_tenants: Option<Vec<String>>,
}

mod defaults {
    use tessera_core::tenant::TenantPolicy;
    pub fn lockout_window() -> u32 {
        TenantPolicy::default().lockout_window_seconds
    }
    pub fn session() -> u32 {
        TenantPolicy::default().session_lifetime_seconds
    }
    pub fn access_token() -> u32 {
        TenantPolicy::default().access_token_lifetime_seconds
    }
    pub fn refresh_token() -> u32 {
        TenantPolicy::default().refresh_token_lifetime_seconds
    }
    pub fn refresh_idle() -> u32 {
        TenantPolicy::default().refresh_token_idle_seconds
    }
    pub fn refresh_retry() -> u32 {
        TenantPolicy::default().refresh_token_retry_seconds
    }
    pub fn spa_refresh() -> u32 {
        TenantPolicy::default().spa_refresh_token_lifetime_seconds
    }
    pub fn logout_request() -> u32 {
        TenantPolicy::default().logout_request_seconds
    }
    pub fn rotation_days() -> u32 {
        TenantPolicy::default().signing_key_rotation_days
    }
    pub fn publish() -> u32 {
        TenantPolicy::default().signing_key_publish_seconds
    }
    pub fn per_address() -> u32 {
        TenantPolicy::default().rate_limit_per_address_per_minute
    }
    pub fn per_client() -> u32 {
        TenantPolicy::default().rate_limit_per_client_per_minute
    }
    pub fn sign_in_log_days() -> u32 {
        TenantPolicy::default().sign_in_log_days
    }
    pub fn password_min_length() -> u32 {
        TenantPolicy::default().password_min_length
    }
}

impl From<TenantPolicy> for PolicyView {
    fn from(p: TenantPolicy) -> Self {
        Self {
            lockout_threshold: p.lockout_threshold,
            lockout_seconds: p.lockout_seconds,
            lockout_window_seconds: p.lockout_window_seconds,
            mfa_max_age_seconds: p.mfa_max_age_seconds,
            mfa_required: p.mfa_required,
            code_lifetime_seconds: p.code_lifetime_seconds,
            blocked_ip_ranges: p.blocked_ip_ranges,
            session_lifetime_seconds: p.session_lifetime_seconds,
            access_token_lifetime_seconds: p.access_token_lifetime_seconds,
            refresh_token_lifetime_seconds: p.refresh_token_lifetime_seconds,
            refresh_token_idle_seconds: p.refresh_token_idle_seconds,
            refresh_token_retry_seconds: p.refresh_token_retry_seconds,
            spa_refresh_token_lifetime_seconds: p.spa_refresh_token_lifetime_seconds,
            pkce_plain_allowed: p.pkce_plain_allowed,
            logout_request_seconds: p.logout_request_seconds,
            signing_key_rotation_days: p.signing_key_rotation_days,
            signing_key_publish_seconds: p.signing_key_publish_seconds,
            password_min_length: p.password_min_length,
            sign_in_log_days: p.sign_in_log_days,
            rate_limit_per_address_per_minute: p.rate_limit_per_address_per_minute,
            rate_limit_per_client_per_minute: p.rate_limit_per_client_per_minute,
            allowed_platforms: p.allowed_platforms,
            admitted_tenants: p.admitted_tenants,
        }
    }
}

impl From<PolicyView> for TenantPolicy {
    fn from(p: PolicyView) -> Self {
        Self {
            lockout_threshold: p.lockout_threshold,
            lockout_seconds: p.lockout_seconds,
            lockout_window_seconds: p.lockout_window_seconds,
            mfa_max_age_seconds: p.mfa_max_age_seconds,
            mfa_required: p.mfa_required,
            code_lifetime_seconds: p.code_lifetime_seconds,
            blocked_ip_ranges: p.blocked_ip_ranges,
            session_lifetime_seconds: p.session_lifetime_seconds,
            access_token_lifetime_seconds: p.access_token_lifetime_seconds,
            refresh_token_lifetime_seconds: p.refresh_token_lifetime_seconds,
            refresh_token_idle_seconds: p.refresh_token_idle_seconds,
            refresh_token_retry_seconds: p.refresh_token_retry_seconds,
            spa_refresh_token_lifetime_seconds: p.spa_refresh_token_lifetime_seconds,
            pkce_plain_allowed: p.pkce_plain_allowed,
            logout_request_seconds: p.logout_request_seconds,
            signing_key_rotation_days: p.signing_key_rotation_days,
            signing_key_publish_seconds: p.signing_key_publish_seconds,
            password_min_length: p.password_min_length,
            sign_in_log_days: p.sign_in_log_days,
            rate_limit_per_address_per_minute: p.rate_limit_per_address_per_minute,
            rate_limit_per_client_per_minute: p.rate_limit_per_client_per_minute,
            allowed_platforms: p.allowed_platforms,
            admitted_tenants: p.admitted_tenants,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TenantView {
    pub slug: String,
    pub display_name: String,
    /// `work` or `consumers`.
    pub kind: String,
    pub disabled: bool,
    pub policy: PolicyView,
    pub issuer: String,
    pub created_at: String,
    pub updated_at: String,
}

fn view(state: &AppState, t: Tenant) -> TenantView {
    TenantView {
        issuer: format!("{}/{}", state.public_url, t.slug),
        slug: t.slug.to_string(),
        display_name: t.display_name,
        kind: t.kind.as_str().to_owned(),
        disabled: t.disabled,
        policy: t.policy.into(),
        created_at: tessera_core::errors::render::timestamp(t.created_at),
        updated_at: tessera_core::errors::render::timestamp(t.updated_at),
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateTenant {
    /// 2–64 lowercase letters, digits and hyphens; not a reserved word.
    pub slug: String,
    pub display_name: Option<String>,
    /// `work` (default) or `consumers`.
    #[schema(value_type = Option<String>)]
    pub kind: Option<TenantKind>,
    pub policy: Option<PolicyView>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateTenant {
    pub display_name: Option<String>,
    #[schema(value_type = Option<String>)]
    pub kind: Option<TenantKind>,
    /// A JSON Merge Patch (RFC 7396) of the policy: the members given replace theirs,
    /// members set to null return to their default, members left out keep their value.
    #[schema(value_type = Option<Object>)]
    pub policy: Option<serde_json::Value>,
    /// Disabled tenants refuse every sign-in and token request.
    pub disabled: Option<bool>,
}

/// The tenant a create request describes, checked by the rules every tenant document
/// meets; its signing keys are made after, by the caller. The whole of what
/// `POST /tenants` does with its body (the `admin_tenant` fuzz target runs it through
/// [`super::check_create_tenant`]).
pub(super) fn checked(
    req: CreateTenant,
    id: TenantId,
    now: time::OffsetDateTime,
) -> ApiResult<NewTenant> {
    let kind = req.kind.unwrap_or_default();
    let policy: TenantPolicy = req.policy.map(Into::into).unwrap_or_default();
    let mut problems = check_tenant_doc(&doc(
        &req.slug,
        req.display_name.clone(),
        kind,
        policy.clone(),
    ));
    if req.slug == "admin" {
        problems.push(FieldError {
            field: "/slug".into(),
            code: ErrorName::TenantSlugReserved.entry().code_str(),
            message: "admin is the built-in management tenant".into(),
        });
    }
    check(problems)?;
    let slug = TenantSlug::parse(&req.slug).map_err(problem)?;
    Ok(NewTenant {
        id,
        display_name: req.display_name.unwrap_or_else(|| slug.to_string()),
        slug,
        kind,
        policy,
        created_at: now,
    })
}

/// The tenant document the shared validation rules check.
fn doc(
    slug: &str,
    display_name: Option<String>,
    kind: TenantKind,
    policy: TenantPolicy,
) -> TenantDoc {
    TenantDoc {
        display_name,
        kind,
        policy,
        ..TenantDoc::empty(slug)
    }
}

/// List tenants.
#[utoipa::path(get, path = "/tenants", tag = "tenants", params(ListQuery),
    responses((status = 200, body = Page<TenantView>), (status = 401, body = Problem)))]
pub async fn list(
    _: Admin,
    State(state): State<AppState>,
    Query(q): Query<ListQuery>,
) -> ApiResult<Json<Page<TenantView>>> {
    let limit = q.limit.unwrap_or(100).clamp(1, 1000);
    let mut items = Vec::new();
    let mut cursor = q.cursor.clone();
    // Filtering by name may skip rows; keep reading pages until this one is full.
    loop {
        let page = state
            .store
            .list_tenants(cursor.as_deref(), limit)
            .await
            .map_err(store)?;
        let name_ok = |t: &Tenant| {
            q.name.as_deref().is_none_or(|f| {
                let f = f.to_lowercase();
                t.slug.as_str().contains(&f) || t.display_name.to_lowercase().contains(&f)
            })
        };
        for t in page.items.into_iter().filter(name_ok) {
            items.push(view(&state, t));
            if items.len() == limit as usize {
                let next = items.last().map(|v| v.slug.clone());
                return Ok(Json(Page {
                    items,
                    next_cursor: next,
                }));
            }
        }
        match page.next {
            Some(next) => cursor = Some(next),
            None => {
                return Ok(Json(Page {
                    items,
                    next_cursor: None,
                }));
            }
        }
    }
}

/// Create a tenant (with its signing keys).
#[utoipa::path(post, path = "/tenants", tag = "tenants", request_body = CreateTenant,
    responses((status = 201, body = TenantView), (status = 400, body = Problem), (status = 409, body = Problem)))]
pub async fn create(
    admin: Admin,
    State(state): State<AppState>,
    AdminJson(req): AdminJson<CreateTenant>,
) -> ApiResult<(StatusCode, Json<TenantView>)> {
    let now = state.clock.now();
    let new = checked(req, TenantId::from_uuid(state.rng.uuid()), now)?;
    let slug = new.slug.clone();
    let mut writes = vec![Write::CreateTenant(new.clone())];
    writes.extend(
        tessera_core::keys::initial_keys(new.id, &state.master, state.rng.as_ref(), now)
            .map_err(|e| problem(CatalogError::new(ErrorName::InternalError).internal(e)))?,
    );
    let created = Tenant {
        id: new.id,
        slug: new.slug.clone(),
        display_name: new.display_name.clone(),
        kind: new.kind,
        policy: new.policy.clone(),
        disabled: false,
        created_at: now,
        updated_at: now,
    };
    writes.push(audit(
        &state,
        &created,
        &admin.actor,
        "tenant.create",
        format!("tenant:{slug}"),
        vec![
            "slug".into(),
            "display_name".into(),
            "kind".into(),
            "policy".into(),
        ],
    ));
    match state.store.apply(writes).await {
        Ok(()) => {}
        Err(StoreError::Conflict(_)) => {
            return Err(problem(
                CatalogError::new(ErrorName::TenantExists).with("slug", slug.as_str()),
            ));
        }
        Err(e) => return Err(store(e)),
    }
    let stored = state
        .store
        .tenant(&slug)
        .await
        .map_err(store)?
        .ok_or_else(|| conflict(&format!("tenant {slug}")))?;
    Ok((StatusCode::CREATED, Json(view(&state, stored))))
}

/// Read a tenant.
#[utoipa::path(get, path = "/tenants/{slug}", tag = "tenants", params(("slug" = String, Path)),
    responses((status = 200, body = TenantView), (status = 404, body = Problem)))]
pub async fn get(
    _: Admin,
    State(state): State<AppState>,
    Path(slug): Path<String>,
) -> ApiResult<Json<TenantView>> {
    let t = tenant(&state, &slug).await?;
    Ok(Json(view(&state, t)))
}

/// Update a tenant: name, kind, policy, or disable/enable it.
#[utoipa::path(patch, path = "/tenants/{slug}", tag = "tenants", params(("slug" = String, Path)), request_body = UpdateTenant,
    responses((status = 200, body = TenantView), (status = 400, body = Problem), (status = 404, body = Problem)))]
pub async fn update(
    admin: Admin,
    State(state): State<AppState>,
    Path(slug): Path<String>,
    AdminJson(req): AdminJson<UpdateTenant>,
) -> ApiResult<Json<TenantView>> {
    let t = tenant(&state, &slug).await?;
    let display_name = req
        .display_name
        .clone()
        .unwrap_or_else(|| t.display_name.clone());
    let kind = req.kind.unwrap_or(t.kind);
    let policy: TenantPolicy = match &req.policy {
        Some(patch) => merge_patch(
            "/policy",
            &PolicyView::from(t.policy.clone()),
            &PolicyView::from(TenantPolicy::default()),
            patch,
        )
        .map_err(|e| invalid(vec![e]))?
        .into(),
        None => t.policy.clone(),
    };
    let disabled = req.disabled.unwrap_or(t.disabled);
    let mut problems = check_tenant_doc(&doc(
        t.slug.as_str(),
        Some(display_name.clone()),
        kind,
        policy.clone(),
    ));
    if disabled && t.slug == TenantSlug::admin() {
        problems.push(FieldError {
            field: "/disabled".into(),
            code: ErrorName::ValidationFailed.entry().code_str(),
            message: "the admin tenant cannot be disabled".into(),
        });
    }
    check(problems)?;
    let before = serde_json::json!({"display_name": t.display_name, "kind": t.kind, "policy": t.policy, "disabled": t.disabled});
    let after = serde_json::json!({"display_name": display_name, "kind": kind, "policy": policy, "disabled": disabled});
    let changes = changed_fields(&before, &after);
    if !changes.is_empty() {
        let action = match (t.disabled, disabled) {
            (false, true) => "tenant.disable",
            (true, false) => "tenant.enable",
            _ => "tenant.update",
        };
        let writes = vec![
            Write::UpdateTenant {
                id: t.id,
                display_name,
                kind,
                policy: encode(&policy),
                disabled,
                at: state.clock.now(),
            },
            audit(
                &state,
                &t,
                &admin.actor,
                action,
                format!("tenant:{}", t.slug),
                changes,
            ),
        ];
        state.store.apply(writes).await.map_err(store)?;
    }
    let t = tenant(&state, &slug).await?;
    Ok(Json(view(&state, t)))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct DeleteTenant {
    /// The tenant's slug again: the deletion cannot be undone.
    pub confirm: Option<String>,
}

/// Delete a tenant and everything it holds (users, groups, APIs, apps, keys, sessions,
/// tokens' records, its audit log), in one change; the admin tenant's audit log records
/// it. `confirm` must repeat the slug. Tokens it signed stop verifying at once: its keys
/// are gone.
#[utoipa::path(delete, path = "/tenants/{slug}", tag = "tenants", params(("slug" = String, Path), DeleteTenant),
    responses((status = 204), (status = 400, body = Problem), (status = 404, body = Problem)))]
pub async fn delete(
    admin: Admin,
    State(state): State<AppState>,
    Path(slug): Path<String>,
    Query(q): Query<DeleteTenant>,
) -> ApiResult<StatusCode> {
    let t = tenant(&state, &slug).await?;
    let field = |field: &str, message: &str| FieldError {
        field: field.into(),
        code: ErrorName::ValidationFailed.entry().code_str(),
        message: message.into(),
    };
    if t.slug == TenantSlug::admin() {
        return Err(invalid(vec![field(
            "/slug",
            "the admin tenant holds Tessera's own administration and cannot be deleted",
        )]));
    }
    if q.confirm.as_deref() != Some(t.slug.as_str()) {
        return Err(invalid(vec![field(
            "/confirm",
            "must repeat the tenant's slug (?confirm={slug}): deleting a tenant cannot be undone",
        )]));
    }
    let admin_tenant = tenant(&state, TenantSlug::admin().as_str()).await?;
    let mut writes: Vec<Write> = Write::delete_tenant(t.id).into();
    writes.push(audit(
        &state,
        &admin_tenant,
        &admin.actor,
        "tenant.delete",
        format!("tenant:{}", t.slug),
        vec!["everything it held".into()],
    ));
    match state.store.apply(writes).await {
        Ok(()) => Ok(StatusCode::NO_CONTENT),
        // Deleted by another request meanwhile.
        Err(StoreError::Conflict(_)) => Err(super::common::not_found(&format!("tenant {slug}"))),
        Err(e) => Err(store(e)),
    }
}
