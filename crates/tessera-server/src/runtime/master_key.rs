//! The master key ring that seals secrets at rest (signing keys, TOTP secrets) and the
//! bearer values Tessera issues (codes, refresh tokens, device codes), and keys the hashes
//! of client secrets and bearer values: read from `--master-key-file` (one key per line,
//! the first sealing), or generated once into the data directory (mode 0600) with a
//! warning, since several nodes must share one ring and a lost key cannot be recovered.
//! At start the ring is fitted to the store's key-ring record (`fit`), which catches a
//! node given the wrong file.

use crate::cli::settings::Settings;
use std::io::Write;
use std::path::{Path, PathBuf};
use tessera_core::clock::Clock;
use tessera_core::crypto::MasterKey;
use tessera_core::errors::{CatalogError, ErrorName};
use tessera_core::key_ring::{KeyRingRecord, RECORD_KEY, record_object};
use tessera_core::rng::Rng;
use tessera_core::store::object::{ObjectKind, Write as StoreWrite};
use tessera_core::store::{Store, StoreError};
use tessera_core::tenant::TenantSlug;
use tessera_store::DatabaseUrl;

/// Why the master key could not be had, with the exit status it deserves.
#[derive(Debug)]
pub struct KeyError {
    pub message: String,
    /// 2: the configured file is bad input; 1: the generated one could not be written.
    pub status: u8,
}

/// Where a generated key lives: beside the SQLite database, or in `tessera-data/`.
pub fn default_path(settings: &Settings) -> PathBuf {
    let dir = match &settings.database_url {
        DatabaseUrl::Sqlite(path) => path.parent().map(Path::to_path_buf).unwrap_or_default(),
        DatabaseUrl::Postgres(_) => PathBuf::from("tessera-data"),
    };
    dir.join("master.key")
}

pub fn load(settings: &Settings, rng: &dyn Rng) -> Result<MasterKey, KeyError> {
    if let Some(path) = &settings.master_key_file {
        let text = std::fs::read_to_string(path).map_err(|e| KeyError {
            message: format!("--master-key-file: cannot read {}: {e}", path.display()),
            status: 2,
        })?;
        return MasterKey::parse(&text).map_err(|e| KeyError {
            message: format!("--master-key-file: {} {e}", path.display()),
            status: 2,
        });
    }
    let path = default_path(settings);
    match std::fs::read_to_string(&path) {
        Ok(text) => MasterKey::parse(&text).map_err(|e| KeyError {
            message: format!("the generated master key {} {e}", path.display()),
            status: 1,
        }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => generate(&path, rng),
        Err(e) => Err(KeyError {
            message: format!("cannot read {}: {e}", path.display()),
            status: 1,
        }),
    }
}

fn generate(path: &Path, rng: &dyn Rng) -> Result<MasterKey, KeyError> {
    let fail = |e: std::io::Error| KeyError {
        message: format!("cannot write a new master key to {}: {e}", path.display()),
        status: 1,
    };
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(fail)?;
    }
    let content = MasterKey::generate_file_content(rng);
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    match options.open(path) {
        Ok(mut file) => {
            file.write_all(content.as_bytes())
                .and_then(|()| file.sync_all())
                .map_err(fail)?;
            tracing::warn!(
                path = %path.display(),
                "generated a new master key; back it up (secrets encrypted under it cannot be \
                 recovered without it) and give every node the same key with --master-key-file"
            );
            MasterKey::parse(&content).map_err(|e| KeyError {
                message: e.to_string(),
                status: 1,
            })
        }
        // Another process created it first: use theirs.
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            let text = std::fs::read_to_string(path).map_err(fail)?;
            MasterKey::parse(&text).map_err(|e| KeyError {
                message: e.to_string(),
                status: 1,
            })
        }
        Err(e) => Err(fail(e)),
    }
}

/// Why the ring does not fit the store.
#[derive(Debug)]
pub enum FitError {
    /// No key of the ring opens the store's record: MasterKeyMismatch, explained.
    Mismatch(CatalogError),
    Store(StoreError),
}

/// `master` with the store's hash root, read from the key-ring record in the admin
/// tenant, which a new store gets here (sealed under the ring's first key; of two nodes
/// creating it at once, one wins and the other reads it).
pub async fn fit(
    store: &dyn Store,
    master: MasterKey,
    clock: &dyn Clock,
    rng: &dyn Rng,
) -> Result<MasterKey, FitError> {
    let admin = store
        .tenant(&TenantSlug::admin())
        .await
        .map_err(FitError::Store)?
        .ok_or_else(|| FitError::Store(StoreError::Internal("no admin tenant".into())))?;
    for _ in 0..3 {
        if let Some(object) = store
            .object(admin.id, ObjectKind::KeyRing, RECORD_KEY)
            .await
            .map_err(FitError::Store)?
        {
            let record: KeyRingRecord = object
                .decode()
                .map_err(|e| FitError::Store(StoreError::Internal(e)))?;
            return record.fit(master.clone()).map_err(|m| {
                let ids: Vec<String> = master.key_ids().iter().map(ToString::to_string).collect();
                FitError::Mismatch(
                    CatalogError::new(ErrorName::MasterKeyMismatch)
                        .with(
                            "key_id",
                            m.sealed_with
                                .map_or("(unreadable)".to_owned(), |k| k.to_string()),
                        )
                        .with("ring", ids.join(", ")),
                )
            });
        }
        let record = KeyRingRecord::new(&master, rng);
        let object = record_object(rng.object_id(), admin.id, &record, clock.now());
        match store.apply(vec![StoreWrite::Put(object)]).await {
            Ok(()) => return Ok(master),
            Err(StoreError::Conflict(_)) => continue,
            Err(e) => return Err(FitError::Store(e)),
        }
    }
    Err(FitError::Store(StoreError::Conflict(
        "the key-ring record kept changing".into(),
    )))
}
