//! `/master-key`: the master key ring's status and the re-seal sweep of a rotation
//! (`crate::runtime::reseal`). Installation-wide: the bootstrap credential, `tessera
//! admin`, or a token of the admin tenant with Tenants.ReadWrite.

use super::auth::Admin;
use super::common::{ApiResult, Problem, audit, store};
use crate::runtime::reseal::{self, RingStatus};
use crate::runtime::state::AppState;
use axum::Json;
use axum::extract::State;
use tessera_core::tenant::TenantSlug;

/// The master key ring: this node's keys and how many values at rest each sealed.
#[utoipa::path(get, path = "/master-key", tag = "master-key",
    responses((status = 200, body = RingStatus), (status = 403, body = Problem)))]
pub async fn status(_: Admin, State(state): State<AppState>) -> ApiResult<Json<RingStatus>> {
    Ok(Json(reseal::status(&state).await.map_err(store)?))
}

/// Re-seal every value at rest under the ring's first key (after a new key was put
/// first on every node); safe to repeat.
#[utoipa::path(post, path = "/master-key/reseal", tag = "master-key",
    responses((status = 200, body = RingStatus), (status = 403, body = Problem)))]
pub async fn reseal(admin: Admin, State(state): State<AppState>) -> ApiResult<Json<RingStatus>> {
    let status = reseal::reseal(&state).await.map_err(store)?;
    if let Some(tenant) = state
        .store
        .tenant(&TenantSlug::admin())
        .await
        .map_err(store)?
    {
        // The changed field names the key everything was moved under (an id, no secret).
        let entry = audit(
            &state,
            &tenant,
            &admin.actor,
            "master_key.reseal",
            format!("master-key:{}", state.master.primary_id()),
            vec!["sealed_values".into()],
        );
        state.store.apply(vec![entry]).await.map_err(store)?;
    }
    Ok(Json(status))
}
