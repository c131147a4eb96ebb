//! What the admin handlers share: the error type (problem details), tenant lookup,
//! cursor pagination, and audit entries.

use crate::http::error_response::{ErrorResponse, store_error};
use crate::runtime::state::AppState;
use serde::{Deserialize, Serialize};
use tessera_core::audit::AuditEntry;
use tessera_core::errors::{CatalogError, ErrorName};
use tessera_core::ids::TenantId;
use tessera_core::store::object::{ObjectKind, StoredObject, Write};
use tessera_core::tenant::{Tenant, TenantSlug};
use utoipa::{IntoParams, ToSchema};

pub type ApiResult<T> = Result<T, ErrorResponse>;

/// A catalogued error as problem details.
pub fn problem(err: CatalogError) -> ErrorResponse {
    ErrorResponse::problem(err)
}

/// An unexpected failure (a corrupt stored document), logged with its detail.
pub fn internal(detail: String) -> ErrorResponse {
    problem(CatalogError::new(ErrorName::InternalError).internal(detail))
}

/// Field errors of a one-item tenant document, made relative to that item
/// (`/users/0/email` → `/email`).
pub fn relative(
    errors: Vec<tessera_core::errors::FieldError>,
    prefix: &str,
) -> Vec<tessera_core::errors::FieldError> {
    errors
        .into_iter()
        .map(|mut e| {
            if let Some(rest) = e.field.strip_prefix(prefix) {
                e.field = rest.to_owned();
            }
            e
        })
        .collect()
}

pub fn not_found(what: &str) -> ErrorResponse {
    problem(CatalogError::new(ErrorName::NotFound).with("resource", what))
}

pub fn conflict(what: &str) -> ErrorResponse {
    problem(CatalogError::new(ErrorName::Conflict).with("resource", what))
}

/// Store failures as problem details (Conflict, TemporarilyUnavailable, InternalError).
pub fn store(e: tessera_core::store::StoreError) -> ErrorResponse {
    problem(store_error(e))
}

/// The tenant named in the path, or NotFound.
pub async fn tenant(state: &AppState, slug: &str) -> ApiResult<Tenant> {
    let Ok(parsed) = TenantSlug::parse_path(slug) else {
        return Err(not_found(&format!("tenant {slug}")));
    };
    state
        .store
        .tenant(&parsed)
        .await
        .map_err(store)?
        .ok_or_else(|| not_found(&format!("tenant {slug}")))
}

/// `?limit=&cursor=&name=` on list endpoints.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// Page size, 1 to 1000 (default 100).
    pub limit: Option<u32>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
    /// Only items whose name contains this text (case-insensitive).
    pub name: Option<String>,
}

/// One page of a list.
#[derive(Debug, Serialize, ToSchema)]
pub struct Page<T> {
    pub items: Vec<T>,
    /// Pass as `cursor` to get the next page; absent on the last page.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}

/// Objects read from the store per round trip while a page fills.
const BATCH: u32 = 256;

/// One page of the tenant's objects of `kind`, in key order; the cursor is the last key
/// of a page. `view` maps an object to its item, or `None` to leave it out (the name
/// filter). The store is read in batches from the cursor until the page is full (one
/// extra item tells whether there is a next page) or the kind ends, so a listing reads
/// about what it shows, not the whole kind.
pub async fn list_page<T>(
    state: &AppState,
    tenant_id: TenantId,
    kind: ObjectKind,
    q: &ListQuery,
    view: impl Fn(&StoredObject) -> ApiResult<Option<T>>,
) -> ApiResult<Page<T>> {
    let limit = q.limit.unwrap_or(100).clamp(1, 1000) as usize;
    let mut after = q.cursor.clone();
    let mut items = Vec::new();
    'pages: loop {
        let batch = state
            .store
            .objects_after(tenant_id, kind, after.as_deref(), BATCH)
            .await
            .map_err(store)?;
        for obj in &batch {
            if let Some(item) = view(obj)? {
                items.push((obj.key.clone(), item));
                if items.len() > limit {
                    break 'pages;
                }
            }
        }
        match batch.last() {
            Some(last) if batch.len() == BATCH as usize => after = Some(last.key.clone()),
            _ => break,
        }
    }
    let more = items.len() > limit;
    items.truncate(limit);
    let next_cursor = if more {
        items.last().map(|(k, _)| k.clone())
    } else {
        None
    };
    Ok(Page {
        items: items.into_iter().map(|(_, i)| i).collect(),
        next_cursor,
    })
}

/// Whether `name` matches the `name` filter.
pub fn name_matches(q: &ListQuery, name: &str) -> bool {
    q.name
        .as_deref()
        .is_none_or(|f| name.to_lowercase().contains(&f.to_lowercase()))
}

/// Applies the writes that create `what`. The store refuses a second object with the
/// same key (also one created by a concurrent request), which becomes Conflict naming it.
pub async fn apply_create(state: &AppState, writes: Vec<Write>, what: &str) -> ApiResult<()> {
    state.store.apply(writes).await.map_err(|e| match e {
        tessera_core::store::StoreError::Conflict(_) => conflict(what),
        other => store(other),
    })
}

/// Replaces an object's document, keeping its id, key and creation time.
pub fn replace<T: Serialize>(state: &AppState, obj: StoredObject, value: &T) -> Write {
    Write::Put(StoredObject {
        doc: tessera_core::store::object::encode(value),
        updated_at: state.clock.now(),
        ..obj
    })
}

/// An audit entry for a change made through the admin API.
pub fn audit(
    state: &AppState,
    tenant: &Tenant,
    actor: &str,
    action: &str,
    target: String,
    changes: Vec<String>,
) -> Write {
    Write::Audit(AuditEntry {
        id: state.rng.object_id(),
        tenant_id: tenant.id,
        at: state.clock.now(),
        actor: actor.to_owned(),
        action: action.to_owned(),
        target,
        changes,
    })
}

pub use tessera_core::audit::changed_fields;

/// The problem details document, for the OpenAPI error responses.
#[derive(Debug, Serialize, ToSchema)]
pub struct Problem {
    /// A link to the catalogue entry.
    #[serde(rename = "type")]
    pub type_uri: String,
    pub title: String,
    pub status: u16,
    pub detail: String,
    /// The Tessera error code, e.g. TS80001.
    pub code: String,
    pub trace_id: String,
    pub correlation_id: String,
    pub timestamp: String,
    /// For ValidationFailed: every invalid field.
    pub errors: Option<Vec<FieldProblem>>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct FieldProblem {
    /// JSON pointer to the field.
    pub field: String,
    pub code: String,
    pub message: String,
}

/// An app role of an API held by a user or a group.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct RoleView {
    /// The API identifier.
    pub api: String,
    pub role: String,
}

impl From<RoleView> for tessera_core::directory::model::RoleAssignment {
    fn from(r: RoleView) -> Self {
        Self {
            api: r.api,
            role: r.role,
        }
    }
}

impl From<tessera_core::directory::model::RoleAssignment> for RoleView {
    fn from(r: tessera_core::directory::model::RoleAssignment) -> Self {
        Self {
            api: r.api,
            role: r.role,
        }
    }
}

/// A tenant document holding the tenant's current APIs, for checking one user, group or
/// app against the same rules `tessera import` applies (scopes and roles must exist).
pub async fn doc_with_apis(
    state: &AppState,
    t: &Tenant,
) -> ApiResult<tessera_core::directory::file::TenantDoc> {
    use tessera_core::directory::model::Api;
    let apis = state
        .store
        .objects(t.id, tessera_core::store::object::ObjectKind::Api)
        .await
        .map_err(store)?
        .iter()
        .map(|o| {
            o.decode::<Api>()
                .map(|a| tessera_core::directory::file::ApiDoc::from(&a))
                .map_err(internal)
        })
        .collect::<ApiResult<_>>()?;
    Ok(tessera_core::directory::file::TenantDoc {
        apis,
        ..tessera_core::directory::file::TenantDoc::empty(t.slug.as_str())
    })
}
