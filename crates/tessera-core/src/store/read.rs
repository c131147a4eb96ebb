//! Typed reads over the [`Store`](super::Store): one object decoded, a protocol record
//! with the user it names, and the requirement of a grant's conditional write. Store
//! failures come back as their catalogue entries.

use super::Requirement;
use super::object::{ObjectKind, StoredObject};
use crate::directory::model::User;
use crate::errors::{CatalogError, ErrorName};
use crate::ids::TenantId;
use crate::ids::UserId;
use serde::de::DeserializeOwned;

fn internal(detail: String) -> CatalogError {
    CatalogError::new(ErrorName::InternalError).internal(detail)
}

/// One object and its decoded document.
pub async fn get<T: DeserializeOwned>(
    store: &dyn super::Store,
    tenant_id: TenantId,
    kind: ObjectKind,
    key: &str,
) -> Result<Option<(StoredObject, T)>, CatalogError> {
    let Some(object) = store.object(tenant_id, kind, key).await? else {
        return Ok(None);
    };
    let value = object.decode::<T>().map_err(internal)?;
    Ok(Some((object, value)))
}

/// What [`record_with_user`] found.
pub struct RecordWithUser<T> {
    pub object: StoredObject,
    pub record: T,
    pub user: Option<(StoredObject, User)>,
}

/// A protocol record (session, code, refresh token) and the user it names, read
/// together (`Store::object_with_user`); `None` for the user when it no longer exists.
pub async fn record_with_user<T: DeserializeOwned>(
    store: &dyn super::Store,
    tenant_id: TenantId,
    kind: ObjectKind,
    key: &str,
) -> Result<Option<RecordWithUser<T>>, CatalogError> {
    let Some((object, user)) = store.object_with_user(tenant_id, kind, key).await? else {
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
/// the same name) and is enabled; the write returns that user.
pub fn enabled_user(tenant_id: TenantId, key: &str, id: UserId) -> Requirement {
    Requirement {
        tenant_id,
        kind: ObjectKind::User,
        key: key.to_owned(),
        id: id.object(),
        flag: super::Flag::UserEnabled,
    }
}
