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

/// One sign-in attempt or step, as the sign-in log keeps it (`ObjectKind::SignInEvent`):
/// what Entra ID's sign-in logs are read for. Kept for the tenant's
/// `sign_in_log_days`, under [`SignInEvent::key`], so the events of one request are
/// found by its trace id, and a user's by the owner index (`user`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct SignInEvent {
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    /// The user's key as typed (an unknown username too, so failed guesses at it show).
    pub user: String,
    /// `password`, `consent`, `admin_consent`, `device_approval`.
    pub step: String,
    /// `success`, or `failure` with its catalogue code and name.
    pub outcome: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// The app the sign-in was for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub app: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_address: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_agent: Option<String>,
    pub trace_id: String,
    /// The sign-in (the session's `sid`) the step started or continued.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sid: Option<String>,
}

impl SignInEvent {
    /// The object key: the trace id first, so a request's events are one key range
    /// (`Store::objects_after` from the trace id), then the event's own id.
    pub fn key(&self, id: ObjectId) -> String {
        format!("{}.{id}", self.trace_id)
    }

    /// The key range of a trace's events: keys after this one, while they start with it.
    pub fn trace_prefix(trace_id: &str) -> String {
        format!("{trace_id}.")
    }
}
