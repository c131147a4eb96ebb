//! `/tenants/{slug}/keys`: a tenant's signing keys (public parts only) and rotation.

use super::auth::Admin;
use super::common::{ApiResult, Problem, audit, internal, store, tenant};
use crate::http::extract::Path;
use crate::runtime::state::AppState;
use axum::Json;
use axum::extract::State;
use serde::Serialize;
use tessera_core::ids::TenantId;
use tessera_core::keys::SigningKey;
use tessera_core::store::object::ObjectKind;
use utoipa::ToSchema;

#[derive(Debug, Serialize, ToSchema)]
pub struct KeyView {
    pub kid: String,
    /// EdDSA, ES256 or RS256.
    pub alg: String,
    /// next, active or retired.
    pub state: String,
    /// The public JWK.
    #[schema(value_type = Object)]
    pub public_jwk: serde_json::Value,
    pub created_at: String,
    /// When it entered its state (an active key's rotation period and a retired key's
    /// wait for removal count from here).
    pub since: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct KeyList {
    pub items: Vec<KeyView>,
}

async fn views(state: &AppState, tenant_id: TenantId) -> ApiResult<KeyList> {
    let mut items: Vec<KeyView> = state
        .store
        .objects(tenant_id, ObjectKind::SigningKey)
        .await
        .map_err(store)?
        .iter()
        .map(|o| {
            let k: SigningKey = o.decode().map_err(internal)?;
            Ok(KeyView {
                kid: k.kid,
                alg: k.alg.as_str().to_owned(),
                state: serde_json::to_value(k.state)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_owned))
                    .unwrap_or_default(),
                public_jwk: k.public_jwk,
                created_at: tessera_core::errors::render::timestamp(k.created_at),
                since: tessera_core::errors::render::timestamp(k.since),
            })
        })
        .collect::<ApiResult<_>>()?;
    items.sort_by(|a, b| {
        (a.alg.as_str(), a.state.as_str(), a.kid.as_str()).cmp(&(
            b.alg.as_str(),
            b.state.as_str(),
            b.kid.as_str(),
        ))
    });
    Ok(KeyList { items })
}

/// List a tenant's signing keys (public parts).
#[utoipa::path(get, path = "/tenants/{slug}/keys", tag = "keys", params(("slug" = String, Path)),
    responses((status = 200, body = KeyList), (status = 404, body = Problem)))]
pub async fn list(
    _: Admin,
    State(state): State<AppState>,
    Path(slug): Path<String>,
) -> ApiResult<Json<KeyList>> {
    let t = tenant(&state, &slug).await?;
    Ok(Json(views(&state, t.id).await?))
}

/// Rotate a tenant's signing keys now: active → retired, next → active, a new next.
/// Unlike the schedule (`signing_key_rotation_days`), this does not wait for the next
/// key's publication time: relying parties that fetched the JWKS before the next key
/// existed must fetch it again.
#[utoipa::path(post, path = "/tenants/{slug}/keys/rotate", tag = "keys", params(("slug" = String, Path)),
    responses((status = 200, body = KeyList), (status = 404, body = Problem)))]
pub async fn rotate(
    admin: Admin,
    State(state): State<AppState>,
    Path(slug): Path<String>,
) -> ApiResult<Json<KeyList>> {
    change_keys(&state, &admin, &slug, "keys.rotate", |current, t, now| {
        let writes =
            tessera_core::keys::rotate(current, t.id, &state.master, state.rng.as_ref(), now)
                .map_err(internal)?;
        Ok((writes, format!("tenant:{}", t.slug)))
    })
    .await
}

/// Remove a compromised key at once (an emergency rotation): every token it signed stops
/// verifying, here and at every relying party that fetches the JWKS again. An active
/// key's place goes to the `next` key, and a new `next` key is made.
#[utoipa::path(delete, path = "/tenants/{slug}/keys/{kid}", tag = "keys", params(("slug" = String, Path), ("kid" = String, Path)),
    responses((status = 200, body = KeyList), (status = 404, body = Problem)))]
pub async fn remove(
    admin: Admin,
    State(state): State<AppState>,
    Path((slug, kid)): Path<(String, String)>,
) -> ApiResult<Json<KeyList>> {
    change_keys(&state, &admin, &slug, "keys.remove", |current, t, now| {
        let writes =
            tessera_core::keys::remove(current, &kid, t.id, &state.master, state.rng.as_ref(), now)
                .map_err(internal)?
                .ok_or_else(|| super::common::not_found(&format!("signing key {kid}")))?;
        Ok((writes, format!("key:{kid}")))
    })
    .await
}

/// The tenant's keys changed by `change` (which gets them, the tenant and the time, and
/// gives the writes and the audit target), recorded as `action` in one write; the keys
/// after.
async fn change_keys(
    state: &AppState,
    admin: &Admin,
    slug: &str,
    action: &str,
    change: impl FnOnce(
        &[tessera_core::store::object::StoredObject],
        &tessera_core::tenant::Tenant,
        time::OffsetDateTime,
    ) -> ApiResult<(Vec<tessera_core::store::object::Write>, String)>,
) -> ApiResult<Json<KeyList>> {
    let t = tenant(state, slug).await?;
    let current = state
        .store
        .objects(t.id, ObjectKind::SigningKey)
        .await
        .map_err(store)?;
    let (mut writes, target) = change(&current, &t, state.clock.now())?;
    writes.push(audit(
        state,
        &t,
        &admin.actor,
        action,
        target,
        vec!["signing_keys".into()],
    ));
    state.store.apply(writes).await.map_err(store)?;
    Ok(Json(views(state, t.id).await?))
}
