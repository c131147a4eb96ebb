//! The listeners a store tells about changes to cached data (`ChangeListener`), shared
//! by both backends, and the PostgreSQL channel that carries them between nodes.

use std::collections::BTreeSet;
use std::sync::{Arc, RwLock};
use tessera_core::ids::TenantId;
use tessera_core::store::object::Write;
use tessera_core::store::{Change, ChangeListener};

/// PostgreSQL's LISTEN/NOTIFY channel on which every node announces changes to cached
/// data (payload: `Change::encode`), delivered to each listening node when the writing
/// transaction commits.
pub(crate) const POSTGRES_CHANNEL: &str = "tessera_changes";

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

    /// Tells every listener about `change` (`None`: everything).
    pub fn changed(&self, change: Option<Change>) {
        for l in self.0.read().unwrap_or_else(|e| e.into_inner()).iter() {
            l.changed(change);
        }
    }
}

/// The distinct changes to cached data that `writes` make, in a stable order.
pub(crate) fn changes(writes: &[Write]) -> BTreeSet<Change> {
    writes.iter().filter_map(Write::change).collect()
}

/// The change of deleting objects of `kind` in `tenant`, if any cache holds them.
pub(crate) fn deleted(
    tenant: TenantId,
    kind: tessera_core::store::object::ObjectKind,
    count: u64,
) -> Option<Change> {
    (count > 0 && kind.is_cached()).then_some(Change {
        tenant,
        kind: Some(kind),
    })
}

/// A tenant record created or changed.
pub(crate) fn tenant(tenant: TenantId) -> Change {
    Change { tenant, kind: None }
}
