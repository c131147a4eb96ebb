//! Reading the directory objects a flow needs, tenant-scoped, decoded, with store
//! failures already mapped to their catalogue entries.

use crate::error_response::store_error;
use crate::state::AppState;
use serde::de::DeserializeOwned;
use tessera_core::directory::model::{Api, App};
use tessera_core::directory::object::{ObjectKind, StoredObject};
use tessera_core::errors::{CatalogError, ErrorName};

fn internal(detail: String) -> CatalogError {
    CatalogError::new(ErrorName::InternalError).internal(detail)
}

/// One object and its decoded document.
pub async fn get<T: DeserializeOwned>(
    state: &AppState,
    tenant_id: uuid::Uuid,
    kind: ObjectKind,
    key: &str,
) -> Result<Option<(StoredObject, T)>, CatalogError> {
    let Some(object) = state
        .store
        .object(tenant_id, kind, key)
        .await
        .map_err(store_error)?
    else {
        return Ok(None);
    };
    let value = object.decode::<T>().map_err(internal)?;
    Ok(Some((object, value)))
}

pub async fn app(
    state: &AppState,
    tenant_id: uuid::Uuid,
    client_id: &str,
) -> Result<Option<App>, CatalogError> {
    Ok(get::<App>(state, tenant_id, ObjectKind::App, client_id)
        .await?
        .map(|(_, a)| a))
}

pub async fn apis(state: &AppState, tenant_id: uuid::Uuid) -> Result<Vec<Api>, CatalogError> {
    let objects = state
        .store
        .objects(tenant_id, ObjectKind::Api)
        .await
        .map_err(store_error)?;
    objects
        .iter()
        .map(|o| o.decode::<Api>().map_err(internal))
        .collect()
}
