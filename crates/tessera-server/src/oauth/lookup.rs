//! Reading the directory objects a flow needs, tenant-scoped, decoded, with store
//! failures already mapped to their catalogue entries.

use crate::http::error_response::store_error;
use crate::runtime::cache::Key;
use crate::runtime::state::AppState;
use serde::de::DeserializeOwned;
use std::collections::HashSet;
use std::sync::Arc;
use tessera_core::directory::model::{Api, App};
use tessera_core::errors::{CatalogError, ErrorName};
use tessera_core::ids::TenantId;
use tessera_core::store::object::{ObjectKind, StoredObject};
use tessera_core::store::read;

fn internal(detail: String) -> CatalogError {
    CatalogError::new(ErrorName::InternalError).internal(detail)
}

/// One object and its decoded document (`tessera_core::store::read::get`).
pub async fn get<T: DeserializeOwned>(
    state: &AppState,
    tenant_id: TenantId,
    kind: ObjectKind,
    key: &str,
) -> Result<Option<(StoredObject, T)>, CatalogError> {
    read::get(state.store.as_ref(), tenant_id, kind, key).await
}

/// The app with this client_id (cached: `crate::runtime::cache`).
pub async fn app(
    state: &AppState,
    tenant_id: TenantId,
    client_id: &str,
) -> Result<Option<App>, CatalogError> {
    let app = state
        .cache
        .get(Key::App(tenant_id, client_id.to_owned()), || async {
            Ok(get::<App>(state, tenant_id, ObjectKind::App, client_id)
                .await?
                .map(|(_, a)| a))
        })
        .await?;
    Ok(Option::clone(&app))
}

/// Every API of the tenant (cached, shared with the cache).
pub async fn apis(state: &AppState, tenant_id: TenantId) -> Result<Arc<Vec<Api>>, CatalogError> {
    state
        .cache
        .get(Key::Apis(tenant_id), || {
            decoded::<Api>(state, tenant_id, ObjectKind::Api)
        })
        .await
}

/// The origins of every `spa` redirect URI of the tenant's apps (cached): the origins
/// a CORS preflight may be granted to.
pub async fn spa_origins(
    state: &AppState,
    tenant_id: TenantId,
) -> Result<Arc<HashSet<String>>, CatalogError> {
    state
        .cache
        .get(Key::SpaOrigins(tenant_id), || async {
            let apps = decoded::<App>(state, tenant_id, ObjectKind::App).await?;
            Ok(apps
                .iter()
                .flat_map(tessera_core::oauth::token::browser::spa_origins)
                .collect::<HashSet<String>>())
        })
        .await
}

/// Every object of `kind` in the tenant, decoded.
pub async fn decoded<T: DeserializeOwned>(
    state: &AppState,
    tenant_id: TenantId,
    kind: ObjectKind,
) -> Result<Vec<T>, CatalogError> {
    let objects = state
        .store
        .objects(tenant_id, kind)
        .await
        .map_err(store_error)?;
    objects
        .iter()
        .map(|o| o.decode::<T>().map_err(internal))
        .collect()
}

/// Whether the access token with this `jti` is on the tenant's deny-list (cached: a
/// revocation reaches every node as a change of the tenant, see `crate::runtime::cache`).
pub async fn access_token_revoked(
    state: &AppState,
    tenant_id: TenantId,
    jti: &str,
) -> Result<bool, CatalogError> {
    let revoked = state
        .cache
        .get(Key::RevokedAccessTokens(tenant_id), || async {
            let objects = state
                .store
                .objects(tenant_id, ObjectKind::RevokedAccessToken)
                .await
                .map_err(store_error)?;
            Ok(objects
                .into_iter()
                .map(|o| o.key)
                .collect::<HashSet<String>>())
        })
        .await?;
    Ok(revoked.contains(jti))
}
