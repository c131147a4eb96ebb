//! `/tenants/{slug}/audit`: the audit log, newest first, filtered by actor and time.

use super::auth::Admin;
use super::common::{ApiResult, Problem, problem, store, tenant};
use crate::http::extract::{Path, Query};
use crate::runtime::state::AppState;
use axum::Json;
use axum::extract::State;
use serde::{Deserialize, Serialize};
use tessera_core::audit::AuditQuery;
use tessera_core::errors::{CatalogError, ErrorName, FieldError};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use utoipa::{IntoParams, ToSchema};

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AuditParams {
    /// Only entries by this actor (e.g. `bootstrap`).
    pub actor: Option<String>,
    /// RFC 3339; entries at or after this time.
    pub since: Option<String>,
    /// RFC 3339; entries at or before this time.
    pub until: Option<String>,
    /// At most this many entries (1 to 1000, default 100).
    pub limit: Option<u32>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AuditView {
    pub id: String,
    pub at: String,
    pub actor: String,
    pub action: String,
    pub target: String,
    /// Names of the changed fields; values are never recorded.
    pub changes: Vec<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AuditPage {
    pub items: Vec<AuditView>,
}

fn time_param(
    field: &str,
    value: Option<&str>,
    bad: &mut Vec<FieldError>,
) -> Option<OffsetDateTime> {
    let v = value?;
    match OffsetDateTime::parse(v, &Rfc3339) {
        Ok(t) => Some(t),
        Err(_) => {
            bad.push(FieldError {
                field: format!("/{field}"),
                code: ErrorName::ValidationFailed.entry().code_str(),
                message: "must be an RFC 3339 time such as 2026-11-26T00:00:00Z".into(),
            });
            None
        }
    }
}

/// Read a tenant's audit log.
#[utoipa::path(get, path = "/tenants/{slug}/audit", tag = "audit", params(("slug" = String, Path), AuditParams),
    responses((status = 200, body = AuditPage), (status = 400, body = Problem), (status = 404, body = Problem)))]
pub async fn list(
    _: Admin,
    State(state): State<AppState>,
    Path(slug): Path<String>,
    Query(p): Query<AuditParams>,
) -> ApiResult<Json<AuditPage>> {
    let t = tenant(&state, &slug).await?;
    let mut bad = Vec::new();
    let since = time_param("since", p.since.as_deref(), &mut bad);
    let until = time_param("until", p.until.as_deref(), &mut bad);
    if !bad.is_empty() {
        return Err(problem(
            CatalogError::new(ErrorName::ValidationFailed)
                .with("count", bad.len().to_string())
                .with_fields(bad),
        ));
    }
    let query = AuditQuery {
        actor: p.actor,
        since,
        until,
        limit: p.limit.unwrap_or(100),
    };
    let entries = state.store.audit(t.id, &query).await.map_err(store)?;
    Ok(Json(AuditPage {
        items: entries
            .into_iter()
            .map(|e| AuditView {
                id: e.id.to_string(),
                at: tessera_core::errors::render::timestamp(e.at),
                actor: e.actor,
                action: e.action,
                target: e.target,
                changes: e.changes,
            })
            .collect(),
    }))
}
