//! Versioned schema migrations, embedded in the binary. Each has SQL for both dialects;
//! most share one file. Applied in order inside one transaction per run, recorded in
//! `tessera_migrations`; a database newer than the binary is refused rather than
//! silently used.

/// One migration step.
#[derive(Debug, Clone, Copy)]
pub struct Migration {
    pub version: i64,
    pub name: &'static str,
    pub sqlite: &'static str,
    pub postgres: &'static str,
}

macro_rules! shared {
    ($version:expr, $name:expr, $file:expr) => {
        Migration {
            version: $version,
            name: $name,
            sqlite: include_str!(concat!("../migrations/", $file)),
            postgres: include_str!(concat!("../migrations/", $file)),
        }
    };
}

macro_rules! split {
    ($version:expr, $name:expr, $stem:expr) => {
        Migration {
            version: $version,
            name: $name,
            sqlite: include_str!(concat!("../migrations/", $stem, ".sqlite.sql")),
            postgres: include_str!(concat!("../migrations/", $stem, ".postgres.sql")),
        }
    };
}

/// All migrations, in version order. Never edit a landed one: add the next.
pub static MIGRATIONS: &[Migration] = &[
    shared!(1, "tenants", "0001_tenants.sql"),
    shared!(2, "directory", "0002_directory.sql"),
    split!(3, "audit", "0003_audit"),
    shared!(4, "expiry", "0004_expiry.sql"),
    split!(5, "expect_row", "0005_expect_row"),
    split!(6, "owner", "0006_owner"),
    split!(7, "consent_owner", "0007_consent_owner"),
    split!(8, "no_tenant_lock", "0008_no_tenant_lock"),
    split!(9, "multi_tenant_apps", "0009_multi_tenant_apps"),
];

/// The bookkeeping table; the same SQL works in both dialects.
pub(crate) const CREATE_MIGRATIONS_TABLE: &str = "CREATE TABLE IF NOT EXISTS tessera_migrations (
    version    BIGINT NOT NULL PRIMARY KEY,
    name       TEXT   NOT NULL,
    applied_at BIGINT NOT NULL
)";

/// Refuses a database whose schema is newer than this binary knows.
pub(crate) fn check_not_newer(current: i64) -> Result<(), String> {
    let latest = MIGRATIONS.last().map_or(0, |m| m.version);
    if current > latest {
        return Err(format!(
            "the database schema is at version {current}, newer than this binary's {latest}; \
             run a newer tessera"
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_are_consecutive_from_one() {
        for (i, m) in MIGRATIONS.iter().enumerate() {
            assert_eq!(m.version, i as i64 + 1, "{}", m.name);
        }
        assert!(check_not_newer(MIGRATIONS.len() as i64).is_ok());
        assert!(check_not_newer(MIGRATIONS.len() as i64 + 1).is_err());
    }
}
