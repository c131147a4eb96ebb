//! The tenant's signing keys as the token issuer uses them: the active key of the
//! wanted algorithm, opened once and kept (unsealing and parsing a key per token would
//! dominate the token endpoint), and the public keys tokens are verified against.

use crate::cache::Key;
use crate::oauth::lookup;
use crate::state::AppState;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use tessera_core::errors::{CatalogError, ErrorName};
use tessera_core::keys::{KeyState, SigningAlg, SigningKey};
use tessera_core::oauth::jose::Signer;
use tessera_core::store::object::ObjectKind;

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

/// Every key of the tenant, decoded (cached: a rotation reaches every node as a change
/// of the tenant, see `crate::cache`).
pub async fn keys(
    state: &AppState,
    tenant_id: uuid::Uuid,
) -> Result<Arc<Vec<SigningKey>>, CatalogError> {
    state
        .cache
        .get(Key::SigningKeys(tenant_id), || {
            lookup::decoded::<SigningKey>(state, tenant_id, ObjectKind::SigningKey)
        })
        .await
}

/// The public JWKs tokens of the tenant verify against (every state: a token signed by
/// a key retired since still verifies until it expires).
pub async fn public_keys(
    state: &AppState,
    tenant_id: uuid::Uuid,
) -> Result<Vec<serde_json::Value>, CatalogError> {
    Ok(keys(state, tenant_id)
        .await?
        .iter()
        .map(|k| k.public_jwk.clone())
        .collect())
}

/// The signer for the tenant's active key of `alg`.
pub async fn active(
    state: &AppState,
    tenant_id: uuid::Uuid,
    alg: SigningAlg,
) -> Result<Arc<Signer>, CatalogError> {
    let keys = keys(state, tenant_id).await?;
    let key = keys
        .iter()
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
    let signer = Arc::new(Signer::open(key, tenant_id, &state.master).map_err(internal)?);
    state
        .signers
        .0
        .lock()
        .map_err(|_| internal("signer cache poisoned"))?
        .insert(cache_key, signer.clone());
    Ok(signer)
}
