//! The master key that encrypts secrets at rest and keys client-secret hashes: read from
//! `--master-key-file`, or generated once into the data directory (mode 0600) with a
//! warning, since several nodes must share one key and a lost key cannot be recovered.

use crate::cli::settings::Settings;
use std::io::Write;
use std::path::{Path, PathBuf};
use tessera_core::crypto::MasterKey;
use tessera_core::rng::Rng;
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
