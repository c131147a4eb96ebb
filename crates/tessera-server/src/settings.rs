//! Settings, layered: command-line flag > environment variable > TOML config file >
//! default. Every problem is reported in one line that names the setting and where its
//! value came from, and the binary exits with status 2. See docs/configuration.md.

use std::net::SocketAddr;
use std::path::PathBuf;
use tessera_store::DatabaseUrl;

pub const DEFAULT_LISTEN: &str = "127.0.0.1:8080";
pub const DEFAULT_DATABASE_URL: &str = "sqlite://tessera-data/tessera.db";
pub const DEFAULT_MAX_BODY_BYTES: usize = 64 * 1024;

/// Log line format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Human,
    Json,
}

/// Resolved settings.
#[derive(Debug, Clone)]
pub struct Settings {
    pub listen: SocketAddr,
    pub database_url: DatabaseUrl,
    /// The database URL with any password replaced, for logs.
    pub database_url_display: String,
    /// Set explicitly, or `None`: then `http://{the bound address}`.
    pub public_url: Option<String>,
    pub master_key_file: Option<PathBuf>,
    pub log_format: LogFormat,
    pub max_body_bytes: usize,
    /// Argon2id parameters for new password hashes (existing hashes keep their own).
    pub password_params: tessera_core::crypto::PasswordParams,
}

/// Raw values from the command line, before layering.
#[derive(Debug, Clone, Default)]
pub struct FlagValues {
    pub config: Option<String>,
    pub listen: Option<String>,
    pub database_url: Option<String>,
    pub public_url: Option<String>,
    pub master_key_file: Option<String>,
    pub log_format: Option<String>,
    pub max_body_bytes: Option<String>,
}

/// A one-line explanation of a bad setting.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SettingsError(pub String);

impl std::fmt::Display for SettingsError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// One setting: its flag, environment variable and config-file key.
struct Key {
    flag: &'static str,
    env: &'static str,
    file: &'static str,
}

const LISTEN: Key = Key {
    flag: "--listen",
    env: "TESSERA_LISTEN",
    file: "listen",
};
const DATABASE_URL: Key = Key {
    flag: "--database-url",
    env: "TESSERA_DATABASE_URL",
    file: "database_url",
};
const PUBLIC_URL: Key = Key {
    flag: "--public-url",
    env: "TESSERA_PUBLIC_URL",
    file: "public_url",
};
const MASTER_KEY_FILE: Key = Key {
    flag: "--master-key-file",
    env: "TESSERA_MASTER_KEY_FILE",
    file: "master_key_file",
};
const LOG_FORMAT: Key = Key {
    flag: "--log-format",
    env: "TESSERA_LOG_FORMAT",
    file: "log_format",
};
const MAX_BODY_BYTES: Key = Key {
    flag: "--max-body-bytes",
    env: "TESSERA_MAX_BODY_BYTES",
    file: "max_body_bytes",
};
/// Argon2id cost (RFC 9106 §4); environment and config file only.
const PASSWORD_MEMORY_KIB: Key = Key {
    flag: "",
    env: "TESSERA_PASSWORD_MEMORY_KIB",
    file: "password_memory_kib",
};
const PASSWORD_ITERATIONS: Key = Key {
    flag: "",
    env: "TESSERA_PASSWORD_ITERATIONS",
    file: "password_iterations",
};
const PASSWORD_PARALLELISM: Key = Key {
    flag: "",
    env: "TESSERA_PASSWORD_PARALLELISM",
    file: "password_parallelism",
};
pub const CONFIG_ENV: &str = "TESSERA_CONFIG";

const FILE_KEYS: [&str; 9] = [
    "password_memory_kib",
    "password_iterations",
    "password_parallelism",
    "listen",
    "database_url",
    "public_url",
    "master_key_file",
    "log_format",
    "max_body_bytes",
];

struct Layers<'a, E: Fn(&str) -> Option<String>> {
    env: E,
    file: Option<(String, toml::Table)>,
    _flags: &'a FlagValues,
}

impl<E: Fn(&str) -> Option<String>> Layers<'_, E> {
    /// The winning raw value for `key` and a label naming where it came from.
    fn pick(
        &self,
        key: &Key,
        flag: &Option<String>,
    ) -> Result<Option<(String, String)>, SettingsError> {
        if let Some(v) = flag {
            return Ok(Some((v.clone(), key.flag.to_owned())));
        }
        if let Some(v) = (self.env)(key.env) {
            return Ok(Some((v, key.env.to_owned())));
        }
        if let Some((path, value)) = self
            .file
            .as_ref()
            .and_then(|(path, table)| table.get(key.file).map(|v| (path, v)))
        {
            let label = format!("{} in {path}", key.file);
            let raw = match value {
                toml::Value::String(s) => s.clone(),
                toml::Value::Integer(i) => i.to_string(),
                other => {
                    return Err(SettingsError(format!(
                        "{label}: expected a string or a number, found {}",
                        other.type_str()
                    )));
                }
            };
            return Ok(Some((raw, label)));
        }
        Ok(None)
    }
}

/// Layers flags over the environment over the config file over defaults.
pub fn resolve(
    flags: &FlagValues,
    env: impl Fn(&str) -> Option<String>,
) -> Result<Settings, SettingsError> {
    let config_path = flags.config.clone().or_else(|| env(CONFIG_ENV));
    let file = match config_path {
        Some(path) => Some((path.clone(), read_config(&path, flags.config.is_some())?)),
        None => None,
    };
    let layers = Layers {
        env,
        file,
        _flags: flags,
    };

    let listen = match layers.pick(&LISTEN, &flags.listen)? {
        Some((raw, from)) => raw.parse::<SocketAddr>().map_err(|_| {
            SettingsError(format!(
                "{from}: '{raw}' is not an address such as 127.0.0.1:8080"
            ))
        })?,
        None => DEFAULT_LISTEN
            .parse()
            .map_err(|_| SettingsError("default listen address".into()))?,
    };
    let (db_raw, db_from) = layers
        .pick(&DATABASE_URL, &flags.database_url)?
        .unwrap_or_else(|| (DEFAULT_DATABASE_URL.to_owned(), "default".to_owned()));
    let database_url = db_raw
        .parse::<DatabaseUrl>()
        .map_err(|e| SettingsError(format!("{db_from}: {e}")))?;
    let public_url = match layers.pick(&PUBLIC_URL, &flags.public_url)? {
        Some((raw, from)) => {
            Some(parse_public_url(&raw).map_err(|why| SettingsError(format!("{from}: {why}")))?)
        }
        None => None,
    };
    let master_key_file = layers
        .pick(&MASTER_KEY_FILE, &flags.master_key_file)?
        .map(|(raw, from)| {
            if raw.trim().is_empty() {
                Err(SettingsError(format!("{from}: must name a file")))
            } else {
                Ok(PathBuf::from(raw))
            }
        })
        .transpose()?;
    let log_format = match layers.pick(&LOG_FORMAT, &flags.log_format)? {
        Some((raw, from)) => match raw.as_str() {
            "human" => LogFormat::Human,
            "json" => LogFormat::Json,
            _ => {
                return Err(SettingsError(format!(
                    "{from}: '{raw}' is not one of human, json"
                )));
            }
        },
        None => LogFormat::Human,
    };
    let max_body_bytes = match layers.pick(&MAX_BODY_BYTES, &flags.max_body_bytes)? {
        Some((raw, from)) => raw
            .parse::<usize>()
            .ok()
            .filter(|n| (1024..=16 * 1024 * 1024).contains(n))
            .ok_or_else(|| {
                SettingsError(format!(
                    "{from}: '{raw}' is not a byte count between 1024 and 16777216"
                ))
            })?,
        None => DEFAULT_MAX_BODY_BYTES,
    };
    let defaults = tessera_core::crypto::PasswordParams::default();
    let password_params = tessera_core::crypto::PasswordParams {
        memory_kib: number(
            &layers,
            &PASSWORD_MEMORY_KIB,
            8 * 1024,
            1024 * 1024,
            defaults.memory_kib,
        )?,
        iterations: number(&layers, &PASSWORD_ITERATIONS, 1, 10, defaults.iterations)?,
        parallelism: number(&layers, &PASSWORD_PARALLELISM, 1, 8, defaults.parallelism)?,
    };
    Ok(Settings {
        password_params,
        listen,
        database_url_display: redact_password(&db_raw),
        database_url,
        public_url,
        master_key_file,
        log_format,
        max_body_bytes,
    })
}

/// An integer setting without a flag, within `min..=max`.
fn number<E: Fn(&str) -> Option<String>>(
    layers: &Layers<'_, E>,
    key: &Key,
    min: u32,
    max: u32,
    default: u32,
) -> Result<u32, SettingsError> {
    match layers.pick(key, &None)? {
        Some((raw, from)) => raw
            .parse::<u32>()
            .ok()
            .filter(|n| (min..=max).contains(n))
            .ok_or_else(|| {
                SettingsError(format!(
                    "{from}: '{raw}' is not a whole number between {min} and {max}"
                ))
            }),
        None => Ok(default),
    }
}

fn read_config(path: &str, from_flag: bool) -> Result<toml::Table, SettingsError> {
    let label = if from_flag {
        "--config".to_owned()
    } else {
        CONFIG_ENV.to_owned()
    };
    let text = std::fs::read_to_string(path)
        .map_err(|e| SettingsError(format!("{label}: cannot read {path}: {e}")))?;
    let table: toml::Table = text.parse().map_err(|e: toml::de::Error| {
        let line = e
            .span()
            .map(|s| text[..s.start.min(text.len())].lines().count().max(1))
            .map(|n| format!(" at line {n}"))
            .unwrap_or_default();
        SettingsError(format!(
            "config file {path}: invalid TOML{line}: {}",
            e.message().trim()
        ))
    })?;
    if let Some(unknown) = table.keys().find(|k| !FILE_KEYS.contains(&k.as_str())) {
        return Err(SettingsError(format!(
            "config file {path}: unknown setting '{unknown}' (known: {})",
            FILE_KEYS.join(", ")
        )));
    }
    Ok(table)
}

/// The public base URL: http(s), a host, an optional path; no query or fragment. The
/// trailing slash is dropped so issuers are `{public_url}/{tenant}`.
fn parse_public_url(raw: &str) -> Result<String, String> {
    let rest = raw
        .strip_prefix("https://")
        .or_else(|| raw.strip_prefix("http://"))
        .ok_or_else(|| format!("'{raw}' must start with http:// or https://"))?;
    if rest.is_empty() || rest.starts_with('/') {
        return Err(format!("'{raw}' has no host"));
    }
    if raw.contains(['?', '#']) || raw.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(format!(
            "'{raw}' must not have a query, a fragment or spaces"
        ));
    }
    Ok(raw.trim_end_matches('/').to_owned())
}

/// `postgres://user:secret@host/db` → `postgres://user:***@host/db`.
pub fn redact_password(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let Some((userinfo, host)) = rest.split_once('@') else {
        return url.to_owned();
    };
    match userinfo.split_once(':') {
        Some((user, _)) => format!("{scheme}://{user}:***@{host}"),
        None => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn env(vars: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        move |k| map.get(k).cloned()
    }

    fn config_file(body: &str) -> (tempfile_path::TempPath, String) {
        let p = tempfile_path::TempPath::new("toml");
        std::fs::write(&p.0, body).unwrap();
        let s = p.0.display().to_string();
        (p, s)
    }

    mod tempfile_path {
        /// A file path under the temp dir, removed on drop.
        pub struct TempPath(pub std::path::PathBuf);
        impl TempPath {
            pub fn new(ext: &str) -> Self {
                use std::sync::atomic::{AtomicU32, Ordering};
                static N: AtomicU32 = AtomicU32::new(0);
                let n = N.fetch_add(1, Ordering::Relaxed);
                Self(
                    std::env::temp_dir()
                        .join(format!("tessera-settings-{}-{n}.{ext}", std::process::id())),
                )
            }
        }
        impl Drop for TempPath {
            fn drop(&mut self) {
                let _ = std::fs::remove_file(&self.0);
            }
        }
    }

    #[test]
    fn defaults_need_no_configuration() {
        let s = resolve(&FlagValues::default(), env(&[])).unwrap();
        assert_eq!(s.listen.to_string(), "127.0.0.1:8080");
        assert_eq!(
            s.public_url, None,
            "derived from the bound address at start"
        );
        assert!(
            matches!(s.database_url, DatabaseUrl::Sqlite(ref p) if p.ends_with("tessera-data/tessera.db"))
        );
        assert_eq!(s.log_format, LogFormat::Human);
        assert_eq!(s.max_body_bytes, 65536);
        assert_eq!(
            s.password_params,
            tessera_core::crypto::PasswordParams::default()
        );
    }

    #[test]
    fn flag_beats_env_beats_file_beats_default() {
        let (_f, path) = config_file(
            "listen = \"127.0.0.1:7001\"\npublic_url = \"https://file.test/\"\nlog_format = \"json\"\nmax_body_bytes = 4096\n",
        );
        let flags = FlagValues {
            config: Some(path.clone()),
            listen: Some("127.0.0.1:7003".into()),
            ..Default::default()
        };
        let s = resolve(
            &flags,
            env(&[
                ("TESSERA_LISTEN", "127.0.0.1:7002"),
                ("TESSERA_PUBLIC_URL", "https://env.test"),
            ]),
        )
        .unwrap();
        assert_eq!(s.listen.to_string(), "127.0.0.1:7003", "flag wins");
        assert_eq!(
            s.public_url.as_deref(),
            Some("https://env.test"),
            "env beats file"
        );
        assert_eq!(s.log_format, LogFormat::Json, "file beats default");
        assert_eq!(s.max_body_bytes, 4096);
        let s = resolve(
            &FlagValues {
                config: Some(path),
                ..Default::default()
            },
            env(&[]),
        )
        .unwrap();
        assert_eq!(s.listen.to_string(), "127.0.0.1:7001");
        assert_eq!(
            s.public_url.as_deref(),
            Some("https://file.test"),
            "trailing slash dropped"
        );
    }

    #[test]
    fn config_file_named_by_environment_is_read() {
        let (_f, path) = config_file("listen = \"127.0.0.1:7010\"\n");
        let s = resolve(&FlagValues::default(), env(&[("TESSERA_CONFIG", &path)])).unwrap();
        assert_eq!(s.listen.to_string(), "127.0.0.1:7010");
    }

    #[test]
    fn every_bad_value_is_one_line_naming_the_setting() {
        type Case<'a> = (FlagValues, Vec<(&'a str, &'a str)>, &'a str);
        let cases: Vec<Case> = vec![
            (
                FlagValues {
                    listen: Some("nowhere".into()),
                    ..Default::default()
                },
                vec![],
                "--listen: 'nowhere'",
            ),
            (
                FlagValues::default(),
                vec![("TESSERA_LISTEN", "1.2.3.4")],
                "TESSERA_LISTEN:",
            ),
            (
                FlagValues {
                    database_url: Some("mysql://x/y".into()),
                    ..Default::default()
                },
                vec![],
                "--database-url: unsupported scheme 'mysql'",
            ),
            (
                FlagValues::default(),
                vec![("TESSERA_DATABASE_URL", "postgres://u@h:notaport/db")],
                "TESSERA_DATABASE_URL: invalid PostgreSQL URL",
            ),
            (
                FlagValues {
                    public_url: Some("ftp://x".into()),
                    ..Default::default()
                },
                vec![],
                "--public-url:",
            ),
            (
                FlagValues {
                    public_url: Some("https://x/?a=b".into()),
                    ..Default::default()
                },
                vec![],
                "--public-url:",
            ),
            (
                FlagValues {
                    log_format: Some("xml".into()),
                    ..Default::default()
                },
                vec![],
                "--log-format: 'xml' is not one of human, json",
            ),
            (
                FlagValues {
                    max_body_bytes: Some("12".into()),
                    ..Default::default()
                },
                vec![],
                "--max-body-bytes:",
            ),
            (
                FlagValues {
                    config: Some("/nonexistent/tessera.toml".into()),
                    ..Default::default()
                },
                vec![],
                "--config: cannot read /nonexistent/tessera.toml",
            ),
        ];
        for (flags, vars, expected) in cases {
            let err = resolve(&flags, env(&vars)).unwrap_err().0;
            assert!(
                err.starts_with(expected),
                "{err:?} should start with {expected:?}"
            );
            assert!(!err.contains('\n'), "{err:?} is one line");
        }
    }

    #[test]
    fn malformed_config_files_are_named_with_their_line() {
        let (_f, path) = config_file("listen = \"127.0.0.1:1\"\nthis is not toml\n");
        let err = resolve(
            &FlagValues {
                config: Some(path.clone()),
                ..Default::default()
            },
            env(&[]),
        )
        .unwrap_err()
        .0;
        assert!(
            err.starts_with(&format!("config file {path}: invalid TOML at line 2")),
            "{err}"
        );
        assert!(!err.contains('\n'));
        let (_g, path) = config_file("lisen = \"127.0.0.1:1\"\n");
        let err = resolve(
            &FlagValues {
                config: Some(path),
                ..Default::default()
            },
            env(&[]),
        )
        .unwrap_err()
        .0;
        assert!(err.contains("unknown setting 'lisen'"), "{err}");
        let (_h, path) = config_file("listen = [1]\n");
        let err = resolve(
            &FlagValues {
                config: Some(path),
                ..Default::default()
            },
            env(&[]),
        )
        .unwrap_err()
        .0;
        assert!(
            err.contains("listen in") && err.contains("expected a string or a number"),
            "{err}"
        );
    }

    #[test]
    fn passwords_are_redacted_for_logs() {
        assert_eq!(
            redact_password("postgres://u:pw@h/db"),
            "postgres://u:***@h/db"
        );
        assert_eq!(redact_password("postgres://u@h/db"), "postgres://u@h/db");
        assert_eq!(redact_password("sqlite://x.db"), "sqlite://x.db");
    }

    #[test]
    fn argon2_cost_comes_from_environment_or_file() {
        let (_f, path) = config_file("password_iterations = 3\n");
        let s = resolve(
            &FlagValues {
                config: Some(path),
                ..Default::default()
            },
            env(&[("TESSERA_PASSWORD_MEMORY_KIB", "65536")]),
        )
        .unwrap();
        assert_eq!(
            (
                s.password_params.memory_kib,
                s.password_params.iterations,
                s.password_params.parallelism
            ),
            (65536, 3, 1)
        );
        let err = resolve(
            &FlagValues::default(),
            env(&[("TESSERA_PASSWORD_PARALLELISM", "99")]),
        )
        .unwrap_err()
        .0;
        assert_eq!(
            err,
            "TESSERA_PASSWORD_PARALLELISM: '99' is not a whole number between 1 and 8"
        );
    }
}
