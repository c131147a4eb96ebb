//! The admin REST API under `/admin/api/v1` (JSON; errors as RFC 9457 problem details
//! with the catalogue code) and its OpenAPI 3.1 document at `/admin/api/openapi.json`,
//! generated from the handlers' annotations (utoipa), so the document cannot drift from
//! the routes.

mod apis;
mod apps;
mod audit;
pub mod auth;
mod common;
mod foreign_apps;
mod groups;
mod json;
mod keys;
mod master_key;
mod sign_ins;
mod tenants;
mod token_auth;
mod users;

use crate::runtime::state::AppState;
use auth::SecurityAddon;
use axum::routing::get;
use axum::{Json, Router};
use std::sync::Arc;
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Tessera admin API",
        description = "Tenants and their directory: users (passwords, consents, sessions), groups, APIs, apps (secrets, keys, assignments), other tenants' multi-tenant apps consented to, signing keys and their rotation, the audit log and the sign-in log (also by trace id across tenants); and the installation's master key ring. Authenticate with `Authorization: Bearer <credential>` (the bootstrap credential, or an access token for the management API); errors are RFC 9457 problem details whose `code` is a Tessera error code (see /errors).",
        version = "1"
    ),
    modifiers(&SecurityAddon),
    security(("bearer" = []))
)]
struct ApiDoc;

/// What `POST /tenants` makes of its body before it generates the tenant's signing
/// keys: the tenant, or the problem details it answers. Public for the `admin_tenant`
/// fuzz target, which runs this part alone because key generation (RSA-2048 among the
/// algorithms) takes tens of milliseconds an input.
pub fn check_create_tenant(
    body: &[u8],
    id: tessera_core::ids::TenantId,
    now: time::OffsetDateTime,
) -> Result<tessera_core::tenant::NewTenant, crate::http::error_response::ErrorResponse> {
    tenants::checked(json::decode(body)?, id, now)
}

/// The admin routes and the OpenAPI document describing exactly them.
pub fn router() -> Router<AppState> {
    let (routes, mut doc) = OpenApiRouter::<AppState>::with_openapi(ApiDoc::openapi())
        .routes(routes!(tenants::list, tenants::create))
        .routes(routes!(tenants::get, tenants::update, tenants::delete))
        .routes(routes!(users::list, users::create))
        .routes(routes!(users::get, users::update, users::delete))
        .routes(routes!(users::set_password))
        .routes(routes!(users::consents))
        .routes(routes!(users::revoke_consent))
        .routes(routes!(users::revoke_sessions))
        .routes(routes!(users::unlock))
        .routes(routes!(users::reset_mfa))
        .routes(routes!(apps::list, apps::create))
        .routes(routes!(apps::get, apps::update, apps::delete))
        .routes(routes!(apps::add_secret))
        .routes(routes!(apps::remove_secret))
        .routes(routes!(apps::add_key))
        .routes(routes!(foreign_apps::list))
        .routes(routes!(foreign_apps::remove))
        .routes(routes!(groups::list, groups::create))
        .routes(routes!(groups::delete))
        .routes(routes!(apis::list, apis::create))
        .routes(routes!(apis::get, apis::update, apis::delete))
        .routes(routes!(audit::list))
        .routes(routes!(sign_ins::list))
        .routes(routes!(sign_ins::trace))
        .routes(routes!(keys::list))
        .routes(routes!(keys::rotate))
        .routes(routes!(keys::remove))
        .routes(routes!(master_key::status))
        .routes(routes!(master_key::reseal))
        .split_for_parts();
    doc.paths.paths = doc
        .paths
        .paths
        .into_iter()
        .map(|(path, item)| (format!("/admin/api/v1{path}"), item))
        .collect();
    let doc = Arc::new(doc);
    Router::new().nest("/admin/api/v1", routes).route(
        "/admin/api/openapi.json",
        get(move || async move { Json(doc.as_ref().clone()) }),
    )
}
