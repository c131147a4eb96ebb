//! `/tenants/{slug}/groups`: flat groups. Membership lives on the user (`groups`), so a
//! group lists its members by reading users.

use super::auth::Admin;
use super::common::{
    ApiResult, ListQuery, Page, Problem, RoleView, apply_create, audit, doc_with_apis, internal,
    list_page, name_matches, not_found, relative, replace, store, tenant,
};
use super::json::{AdminJson, check};
use crate::http::extract::{Path, Query};
use crate::runtime::state::AppState;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use tessera_core::directory::file::GroupDoc;
use tessera_core::directory::model::{Group, User};
use tessera_core::directory::validate::check_tenant_doc;
use tessera_core::ids::TenantId;
use tessera_core::store::object::{ObjectKind, StoredObject, Write, encode};
use utoipa::ToSchema;

#[derive(Debug, Serialize, ToSchema)]
pub struct GroupView {
    pub name: String,
    /// Usernames of the members.
    pub members: Vec<String>,
    /// App roles every member holds.
    pub app_roles: Vec<RoleView>,
    pub created_at: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateGroup {
    pub name: String,
    /// App roles of the tenant's APIs that every member holds.
    #[serde(default)]
    pub app_roles: Vec<RoleView>,
}

async fn users(state: &AppState, tenant_id: TenantId) -> ApiResult<Vec<(StoredObject, User)>> {
    state
        .store
        .objects(tenant_id, ObjectKind::User)
        .await
        .map_err(store)?
        .into_iter()
        .map(|o| o.decode::<User>().map(|u| (o, u)).map_err(internal))
        .collect()
}

/// List groups with their members.
#[utoipa::path(get, path = "/tenants/{slug}/groups", tag = "groups", params(("slug" = String, Path), ListQuery),
    responses((status = 200, body = Page<GroupView>), (status = 404, body = Problem)))]
pub async fn list(
    _: Admin,
    State(state): State<AppState>,
    Path(slug): Path<String>,
    Query(q): Query<ListQuery>,
) -> ApiResult<Json<Page<GroupView>>> {
    let t = tenant(&state, &slug).await?;
    let members = users(&state, t.id).await?;
    Ok(Json(
        list_page(&state, t.id, ObjectKind::Group, &q, |o| {
            let g: Group = o.decode().map_err(internal)?;
            if !name_matches(&q, &g.name) {
                return Ok(None);
            }
            let m = members
                .iter()
                .filter(|(_, u)| u.groups.contains(&g.name))
                .map(|(_, u)| u.username.as_str().to_owned())
                .collect();
            Ok(Some(GroupView {
                name: g.name,
                members: m,
                app_roles: g.app_roles.into_iter().map(Into::into).collect(),
                created_at: tessera_core::errors::render::timestamp(o.created_at),
            }))
        })
        .await?,
    ))
}

/// Create a group.
#[utoipa::path(post, path = "/tenants/{slug}/groups", tag = "groups", params(("slug" = String, Path)), request_body = CreateGroup,
    responses((status = 201, body = GroupView), (status = 400, body = Problem), (status = 409, body = Problem)))]
pub async fn create(
    admin: Admin,
    State(state): State<AppState>,
    Path(slug): Path<String>,
    AdminJson(req): AdminJson<CreateGroup>,
) -> ApiResult<(StatusCode, Json<GroupView>)> {
    let t = tenant(&state, &slug).await?;
    // The same rules as a group in a tenant file: name syntax, roles of existing APIs.
    let mut doc = doc_with_apis(&state, &t).await?;
    doc.groups = vec![GroupDoc {
        name: req.name.clone(),
        app_roles: req.app_roles.iter().cloned().map(Into::into).collect(),
    }];
    check(relative(check_tenant_doc(&doc), "/groups/0"))?;
    let now = state.clock.now();
    let obj = StoredObject::new(
        state.rng.object_id(),
        t.id,
        ObjectKind::Group,
        req.name.clone(),
        encode(&Group {
            name: req.name.clone(),
            app_roles: req.app_roles.iter().cloned().map(Into::into).collect(),
        }),
        now,
    );
    let writes = vec![
        Write::Put(obj),
        audit(
            &state,
            &t,
            &admin.actor,
            "group.create",
            format!("group:{}", req.name),
            vec!["name".into()],
        ),
    ];
    apply_create(&state, writes, &format!("group {}", req.name)).await?;
    Ok((
        StatusCode::CREATED,
        Json(GroupView {
            name: req.name,
            members: Vec::new(),
            app_roles: req.app_roles,
            created_at: tessera_core::errors::render::timestamp(now),
        }),
    ))
}

/// Delete a group and remove it from its members.
#[utoipa::path(delete, path = "/tenants/{slug}/groups/{name}", tag = "groups", params(("slug" = String, Path), ("name" = String, Path)),
    responses((status = 204), (status = 404, body = Problem)))]
pub async fn delete(
    admin: Admin,
    State(state): State<AppState>,
    Path((slug, name)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    let t = tenant(&state, &slug).await?;
    let obj = state
        .store
        .object(t.id, ObjectKind::Group, &name)
        .await
        .map_err(store)?
        .ok_or_else(|| not_found(&format!("group {name}")))?;
    let mut writes = vec![Write::Delete {
        tenant_id: t.id,
        kind: ObjectKind::Group,
        id: obj.id,
    }];
    for (o, mut u) in users(&state, t.id).await? {
        if u.groups.remove(&name) {
            writes.push(replace(&state, o, &u));
        }
    }
    // A later group with the same name must not inherit this one's assignments.
    for app_obj in state
        .store
        .objects(t.id, ObjectKind::App)
        .await
        .map_err(store)?
    {
        let mut app: tessera_core::directory::model::App = app_obj.decode().map_err(internal)?;
        if app.assigned_groups.remove(&name) {
            writes.push(replace(&state, app_obj, &app));
        }
    }
    writes.push(audit(
        &state,
        &t,
        &admin.actor,
        "group.delete",
        format!("group:{name}"),
        Vec::new(),
    ));
    state.store.apply(writes).await.map_err(store)?;
    Ok(StatusCode::NO_CONTENT)
}
