//! `/tenants/{slug}/foreign-apps`: the multi-tenant apps of other tenants that an
//! administrator of this tenant consented to (`/{t}/adminconsent`), and their removal,
//! after which the tenant's users get AppNotAvailableInTenant from the app again: at
//! sign-in, and at the token endpoint when it refreshes (docs/multi-tenant.md).

use super::auth::Admin;
use super::common::{ApiResult, Problem, audit, internal, not_found, store, tenant};
use crate::http::extract::Path;
use crate::runtime::state::AppState;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Serialize;
use tessera_core::directory::model::ForeignApp;
use tessera_core::store::object::{ObjectKind, Write};
use utoipa::ToSchema;

#[derive(Debug, Serialize, ToSchema)]
pub struct ForeignAppView {
    pub client_id: String,
    /// The tenant that registers the app; null once that tenant is deleted.
    pub home_tenant: Option<String>,
    /// The administrator who consented.
    pub consented_by: String,
    pub consented_at: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ForeignAppList {
    pub items: Vec<ForeignAppView>,
}

/// The other tenants' multi-tenant apps this tenant's users may sign in to.
#[utoipa::path(get, path = "/tenants/{slug}/foreign-apps", tag = "apps", params(("slug" = String, Path)),
    responses((status = 200, body = ForeignAppList), (status = 404, body = Problem)))]
pub async fn list(
    _: Admin,
    State(state): State<AppState>,
    Path(slug): Path<String>,
) -> ApiResult<Json<ForeignAppList>> {
    let t = tenant(&state, &slug).await?;
    let mut items = Vec::new();
    for object in state
        .store
        .objects(t.id, ObjectKind::ForeignApp)
        .await
        .map_err(store)?
    {
        let consent: ForeignApp = object.decode().map_err(internal)?;
        let home = state
            .store
            .tenant_by_id(consent.home_tenant)
            .await
            .map_err(store)?;
        items.push(ForeignAppView {
            client_id: consent.client_id.into(),
            home_tenant: home.map(|h| h.slug.as_str().to_owned()),
            consented_by: consent.consented_by,
            consented_at: tessera_core::errors::render::timestamp(consent.consented_at),
        });
    }
    Ok(Json(ForeignAppList { items }))
}

/// Remove another tenant's app from this tenant: its users can no longer sign in to it
/// or refresh its tokens until an administrator consents again.
#[utoipa::path(delete, path = "/tenants/{slug}/foreign-apps/{client_id}", tag = "apps", params(("slug" = String, Path), ("client_id" = String, Path)),
    responses((status = 204), (status = 404, body = Problem)))]
pub async fn remove(
    admin: Admin,
    State(state): State<AppState>,
    Path((slug, client_id)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    let t = tenant(&state, &slug).await?;
    let object = state
        .store
        .object(t.id, ObjectKind::ForeignApp, &client_id)
        .await
        .map_err(store)?
        .ok_or_else(|| not_found(&format!("foreign app {client_id}")))?;
    let writes = vec![
        Write::Delete {
            tenant_id: t.id,
            kind: ObjectKind::ForeignApp,
            id: object.id,
        },
        audit(
            &state,
            &t,
            &admin.actor,
            "app.admin_consent.remove",
            format!("app:{client_id}"),
            Vec::new(),
        ),
    ];
    state.store.apply(writes).await.map_err(store)?;
    Ok(StatusCode::NO_CONTENT)
}
