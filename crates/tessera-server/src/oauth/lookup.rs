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
use tessera_core::oauth::tenancy;
use tessera_core::store::object::{ObjectKind, StoredObject};
use tessera_core::store::read;
use tessera_core::tenant::Tenant;

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
///
/// When the tenant has none, a multi-tenant app of another tenant that serves this
/// tenant's users (`tenancy::foreign_app`): its refusals (AppNotAvailableInTenant,
/// TenantAccessRestricted, ConsumersEndpointNotAllowed) are the error.
pub async fn app(
    state: &AppState,
    tenant: &Tenant,
    client_id: &str,
) -> Result<Option<App>, CatalogError> {
    let app = state
        .cache
        .get(Key::App(tenant.id, client_id.to_owned()), || async {
            Ok(get::<App>(state, tenant.id, ObjectKind::App, client_id)
                .await?
                .map(|(_, a)| a))
        })
        .await?;
    if let Some(app) = app.as_ref() {
        return Ok(Some(app.clone()));
    }
    let foreign = state
        .cache
        .get(Key::ForeignApp(tenant.id, client_id.to_owned()), || {
            foreign_app(state, tenant.id, client_id)
        })
        .await?;
    match foreign.as_ref() {
        None => Ok(None),
        Some(f) => {
            tenancy::foreign_app(f.app.clone(), &f.home, tenant, f.consent.as_ref()).map(Some)
        }
    }
}

/// The multi-tenant app with this client_id and its home tenant, if there is one.
pub async fn multi_tenant_app(
    state: &AppState,
    client_id: &str,
) -> Result<Option<(Tenant, StoredObject)>, CatalogError> {
    Ok(state
        .store
        .apps_with_client_id(client_id)
        .await
        .map_err(store_error)?
        .into_iter()
        .find(|(_, app)| app.is_multi_tenant_app()))
}

/// A multi-tenant app of another tenant, and this tenant's consent to it.
pub struct ForeignApp {
    pub home: Tenant,
    pub app: App,
    pub consent: Option<tessera_core::directory::model::ForeignApp>,
}

/// The multi-tenant app with this client_id and its home tenant, when that is not
/// `tenant_id` (whose own apps [`app`] reads first), with `tenant_id`'s consent to it.
pub async fn foreign_app(
    state: &AppState,
    tenant_id: TenantId,
    client_id: &str,
) -> Result<Option<ForeignApp>, CatalogError> {
    let Some((home, stored)) = multi_tenant_app(state, client_id).await? else {
        return Ok(None);
    };
    if home.id == tenant_id {
        return Ok(None);
    }
    let app = stored.decode::<App>().map_err(internal)?;
    let consent = get(state, tenant_id, ObjectKind::ForeignApp, client_id)
        .await?
        .map(|(_, c)| c);
    Ok(Some(ForeignApp { home, app, consent }))
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
