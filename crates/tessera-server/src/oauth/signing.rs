//! The tenant's signing keys as the token issuer uses them: the active key of the
//! wanted algorithm, opened once and kept (unsealing and parsing a key per token would
//! dominate the token endpoint), and the public keys tokens are verified against.

use crate::error_response::store_error;
use crate::state::AppState;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use tessera_core::directory::object::ObjectKind;
use tessera_core::errors::{CatalogError, ErrorName};
use tessera_core::keys::{KeyState, SigningAlg, SigningKey};
use tessera_core::oauth::jose::Signer;

/// Opened signers by tenant and kid. A kid names one key pair forever (it is the key's
/// RFC 7638 thumbprint), so an entry never goes stale; rotation only changes which kid
/// is active, and that is read from the store.
#[derive(Clone, Default)]
pub struct Signers(Arc<Mutex<HashMap<SignerKey, Arc<Signer>>>>);

/// Tenant id and kid.
type SignerKey = (uuid::Uuid, String);

fn internal(detail: impl Into<String>) -> CatalogError {
    CatalogError::new(ErrorName::InternalError).internal(detail)
}

/// Every key of the tenant, decoded.
pub async fn keys(
    state: &AppState,
    tenant_id: uuid::Uuid,
) -> Result<Vec<SigningKey>, CatalogError> {
    let objects = state
        .store
        .objects(tenant_id, ObjectKind::SigningKey)
        .await
        .map_err(store_error)?;
    objects
        .iter()
        .map(|o| o.decode::<SigningKey>().map_err(internal))
        .collect()
}

/// The public JWKs tokens of the tenant verify against (every state: a token signed by
/// a key retired since still verifies until it expires).
pub async fn public_keys(
    state: &AppState,
    tenant_id: uuid::Uuid,
) -> Result<Vec<serde_json::Value>, CatalogError> {
    Ok(keys(state, tenant_id)
        .await?
        .into_iter()
        .map(|k| k.public_jwk)
        .collect())
}

/// The signer for the tenant's active key of `alg`.
pub async fn active(
    state: &AppState,
    tenant_id: uuid::Uuid,
    alg: SigningAlg,
) -> Result<Arc<Signer>, CatalogError> {
    let key = keys(state, tenant_id)
        .await?
        .into_iter()
        .find(|k| k.alg == alg && k.state == KeyState::Active)
        .ok_or_else(|| internal(format!("the tenant has no active {} key", alg.as_str())))?;
    let cache_key = (tenant_id, key.kid.clone());
    if let Some(s) = state
        .signers
        .0
        .lock()
        .map_err(|_| internal("signer cache poisoned"))?
        .get(&cache_key)
    {
        return Ok(s.clone());
    }
    let signer = Arc::new(Signer::open(&key, tenant_id, &state.master).map_err(internal)?);
    state
        .signers
        .0
        .lock()
        .map_err(|_| internal("signer cache poisoned"))?
        .insert(cache_key, signer.clone());
    Ok(signer)
}
