//! The audit log: who changed what in a tenant, and when. Entries are written in the
//! same atomic batch as the change they describe, so the log never disagrees with the
//! directory. `changes` names the fields that changed and never holds a secret value.

use serde::Serialize;
use time::OffsetDateTime;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AuditEntry {
    pub id: uuid::Uuid,
    pub tenant_id: uuid::Uuid,
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
