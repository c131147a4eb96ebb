//! Opened signing keys by tenant and kid, so tokens are signed without unsealing and
//! parsing a key each time (docs/decisions/0010-parsed-signers-kept.md). A kid names one
//! key pair forever (it is the key's RFC 7638 thumbprint), so an entry never goes stale;
//! rotation only changes which kid is active, and that is read from the store.

use std::collections::HashMap;
use std::sync::{Arc, PoisonError, RwLock};
use tessera_core::ids::TenantId;
use tessera_core::oauth::jose::Signer;

/// Tenant id and kid.
type SignerKey = (TenantId, String);

#[derive(Clone, Default)]
pub struct Signers(Arc<RwLock<HashMap<SignerKey, Arc<Signer>>>>);

impl Signers {
    pub fn get(&self, tenant_id: TenantId, kid: &str) -> Option<Arc<Signer>> {
        let map = self.0.read().unwrap_or_else(PoisonError::into_inner);
        map.get(&(tenant_id, kid.to_owned())).cloned()
    }

    pub fn insert(&self, tenant_id: TenantId, kid: &str, signer: Arc<Signer>) {
        let mut map = self.0.write().unwrap_or_else(PoisonError::into_inner);
        map.insert((tenant_id, kid.to_owned()), signer);
    }
}
