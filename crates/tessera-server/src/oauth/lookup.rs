//! Reading the directory objects a flow needs, tenant-scoped, decoded, with store
//! failures already mapped to their catalogue entries.

use crate::cache::Key;
use crate::error_response::store_error;
use crate::state::AppState;
use serde::de::DeserializeOwned;
use std::collections::HashSet;
use tessera_core::directory::model::{Api, App, User};
use tessera_core::directory::object::{ObjectKind, StoredObject};
use tessera_core::errors::{CatalogError, ErrorName};
use tessera_core::store::Requirement;

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

/// A protocol record (session, code, refresh token) and the user it names, read
/// together (`Store::object_with_user`); `None` for the user when it no longer exists.
pub async fn record_with_user<T: DeserializeOwned>(
    state: &AppState,
    tenant_id: uuid::Uuid,
    kind: ObjectKind,
    key: &str,
) -> Result<Option<RecordWithUser<T>>, CatalogError> {
    let Some((object, user)) = state
        .store
        .object_with_user(tenant_id, kind, key)
        .await
        .map_err(store_error)?
    else {
        return Ok(None);
    };
    let record = object.decode::<T>().map_err(internal)?;
    let user = match user {
        Some(u) => {
            let decoded = u.decode::<User>().map_err(internal)?;
            Some((u, decoded))
        }
        None => None,
    };
    Ok(Some(RecordWithUser {
        object,
        record,
        user,
    }))
}

/// The requirement of a grant's conditional write (`Store::apply_if`): the user with
/// this key still exists under this id (not deleted, nor replaced by another user of
/// the same name) and is enabled (`User::enabled`); the write returns that user.
pub fn enabled_user(tenant_id: uuid::Uuid, key: &str, id: uuid::Uuid) -> Requirement {
    Requirement {
        tenant_id,
        kind: ObjectKind::User,
        key: key.to_owned(),
        id,
        flag: "enabled",
    }
}

/// What [`record_with_user`] found.
pub struct RecordWithUser<T> {
    pub object: StoredObject,
    pub record: T,
    pub user: Option<(StoredObject, User)>,
}

/// The app with this client_id (cached: `crate::cache`).
pub async fn app(
    state: &AppState,
    tenant_id: uuid::Uuid,
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

/// Every API of the tenant (cached).
pub async fn apis(state: &AppState, tenant_id: uuid::Uuid) -> Result<Vec<Api>, CatalogError> {
    let apis = state
        .cache
        .get(Key::Apis(tenant_id), || {
            decoded::<Api>(state, tenant_id, ObjectKind::Api)
        })
        .await?;
    Ok(Vec::clone(&apis))
}

/// Every object of `kind` in the tenant, decoded.
pub async fn decoded<T: DeserializeOwned>(
    state: &AppState,
    tenant_id: uuid::Uuid,
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
/// revocation reaches every node as a change of the tenant, see `crate::cache`).
pub async fn access_token_revoked(
    state: &AppState,
    tenant_id: uuid::Uuid,
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
