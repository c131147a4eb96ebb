//! The audit log: who changed what in a tenant, and when. Entries are written in the
//! same atomic batch as the change they describe, so the log never disagrees with the
//! directory. `changes` names the fields that changed and never holds a secret value.

use crate::ids::{ObjectId, TenantId};
use serde::Serialize;
use time::OffsetDateTime;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AuditEntry {
    pub id: ObjectId,
    pub tenant_id: TenantId,
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    /// Who: `bootstrap` (the bootstrap admin credential), `import`, `cli`, or a client.
    pub actor: String,
    /// What: `user.create`, `app.secret.add`, `tenant.update`, ...
    pub action: String,
    /// Which object: `user:alice`, `app:contoso-web`, `tenant:contoso`.
    pub target: String,
    /// Names of the fields that changed (values are left out: some are secrets).
    pub changes: Vec<String>,
}

/// Which entries to read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditQuery {
    pub actor: Option<String>,
    pub since: Option<OffsetDateTime>,
    pub until: Option<OffsetDateTime>,
    pub limit: u32,
}

/// Top-level fields whose values differ between two JSON documents: names only, so a
/// changed password hash or secret shows up as a field name and never as a value.
pub fn changed_fields(old: &serde_json::Value, new: &serde_json::Value) -> Vec<String> {
    let empty = serde_json::Map::new();
    let (o, n) = (
        old.as_object().unwrap_or(&empty),
        new.as_object().unwrap_or(&empty),
    );
    let mut keys: Vec<String> = o
        .keys()
        .chain(n.keys())
        .filter(|k| o.get(*k) != n.get(*k))
        .cloned()
        .collect();
    keys.sort();
    keys.dedup();
    keys
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn changed_fields_names_differences_only() {
        let old = serde_json::json!({"a": 1, "b": "x", "gone": true});
        let new = serde_json::json!({"a": 1, "b": "y", "added": [1]});
        assert_eq!(changed_fields(&old, &new), ["added", "b", "gone"]);
        assert!(changed_fields(&old, &old).is_empty());
    }
}
