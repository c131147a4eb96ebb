//! The tenant's signing keys as the token issuer uses them: the active key of the
//! wanted algorithm, opened once and kept (unsealing and parsing a key per token would
//! dominate the token endpoint), and the public keys tokens are verified against.

use crate::oauth::lookup;
use crate::runtime::cache::Key;
use crate::runtime::state::AppState;
use std::sync::Arc;
use tessera_core::errors::{CatalogError, ErrorName};
use tessera_core::ids::TenantId;
use tessera_core::keys::{KeyState, SigningAlg, SigningKey};
use tessera_core::oauth::jose::Signer;
use tessera_core::store::object::ObjectKind;

fn internal(detail: impl Into<String>) -> CatalogError {
    CatalogError::new(ErrorName::InternalError).internal(detail)
}

/// Every key of the tenant, decoded (cached: a rotation reaches every node as a change
/// of the tenant, see `crate::runtime::cache`).
pub async fn keys(
    state: &AppState,
    tenant_id: TenantId,
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
    tenant_id: TenantId,
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
    tenant_id: TenantId,
    alg: SigningAlg,
) -> Result<Arc<Signer>, CatalogError> {
    let keys = keys(state, tenant_id).await?;
    let key = keys
        .iter()
        .find(|k| k.alg == alg && k.state == KeyState::Active)
        .ok_or_else(|| internal(format!("the tenant has no active {} key", alg.as_str())))?;
    if let Some(s) = state.signers.get(tenant_id, &key.kid) {
        return Ok(s);
    }
    let signer = Arc::new(Signer::open(key, tenant_id, &state.master).map_err(internal)?);
    state.signers.insert(tenant_id, &key.kid, signer.clone());
    Ok(signer)
}
