//! The listeners a store tells about changes to cached data (`ChangeListener`), shared
//! by both backends.

use std::collections::BTreeSet;
use std::sync::{Arc, RwLock};
use tessera_core::directory::object::Write;
use tessera_core::store::ChangeListener;

#[derive(Default, Clone)]
pub(crate) struct Listeners(Arc<RwLock<Vec<Arc<dyn ChangeListener>>>>);

impl Listeners {
    pub fn add(&self, listener: Arc<dyn ChangeListener>) {
        // A poisoned lock only means a listener panicked while being added; the list
        // itself is still whole.
        self.0
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .push(listener);
    }

    /// Tells every listener about `tenant` (`None`: everything).
    pub fn changed(&self, tenant: Option<uuid::Uuid>) {
        for l in self.0.read().unwrap_or_else(|e| e.into_inner()).iter() {
            l.changed(tenant);
        }
    }
}

/// The distinct tenants whose cached data `writes` change, in a stable order.
pub(crate) fn changed_tenants(writes: &[Write]) -> BTreeSet<uuid::Uuid> {
    writes.iter().filter_map(Write::changed_tenant).collect()
}
