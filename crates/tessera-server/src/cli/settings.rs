//! Settings, layered: command-line flag > environment variable > TOML config file >
//! default. Every problem is reported in one line that names the setting and where its
//! value came from, and the binary exits with status 2. See docs/configuration.md.

use std::net::SocketAddr;
use std::path::PathBuf;
use tessera_store::DatabaseUrl;

pub const DEFAULT_LISTEN: &str = "127.0.0.1:8080";
pub const DEFAULT_DATABASE_URL: &str = "sqlite://tessera-data/tessera.db";
pub const DEFAULT_MAX_BODY_BYTES: usize = 64 * 1024;
/// `request_header_timeout_ms` and `request_body_timeout_ms` when not set.
pub const DEFAULT_REQUEST_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

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
    /// A file of passwords no one may choose, one per line.
    pub password_deny_list: Option<PathBuf>,
    /// Proxies whose `X-Forwarded-For` names the client (`tessera_core::network`).
    pub trusted_proxies: Vec<ipnet::IpNet>,
    /// PEM certificate chain and private key to serve HTTPS with (`http::tls`).
    pub tls: Option<(PathBuf, PathBuf)>,
    /// How long any one store call may take (`tessera_store::Timed`).
    pub store_timeout: std::time::Duration,
    /// How long a client may take to send a request's header section, and how long
    /// an open connection may stay idle (`http::serve`).
    pub request_header_timeout: std::time::Duration,
    /// How long a client may take to send a request's body (`http::limits`).
    pub request_body_timeout: std::time::Duration,
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
    pub trusted_proxies: Option<String>,
    pub tls_cert: Option<String>,
    pub tls_key: Option<String>,
}

/// A one-line explanation of a bad setting.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SettingsError(pub String);

impl std::fmt::Display for SettingsError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Where a setting can be given on the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FlagScope {
    /// A flag of every command (before or after the command name).
    Global,
    /// A flag of `serve` only; other commands still read and check its other layers.
    Serve,
    /// No flag: environment and config file only.
    None,
}

/// One setting, declared once. Its flag (`--` and the key with `-` for `_`), its
/// environment variable (`TESSERA_` and the key in capitals) and its config-file key
/// all come from `key`; clap's help, the config file's known keys and the table in
/// docs/configuration.md come from this declaration ([`ALL`]).
#[derive(Debug)]
pub struct Setting {
    pub key: &'static str,
    pub flag: FlagScope,
    /// clap's value name (`ADDR`).
    pub value_name: &'static str,
    /// One line for `--help`.
    pub help: &'static str,
    /// The default, as docs/configuration.md shows it (Markdown).
    pub default: &'static str,
    /// What is accepted, as docs/configuration.md shows it (Markdown).
    pub accepted: &'static str,
}

impl Setting {
    pub fn env(&self) -> String {
        format!("TESSERA_{}", self.key.to_ascii_uppercase())
    }

    /// `--database-url` for `database_url`; `None` for settings without a flag.
    pub fn flag(&self) -> Option<String> {
        (self.flag != FlagScope::None).then(|| format!("--{}", self.key.replace('_', "-")))
    }

    /// The `--help` line: the help, then where else it can be set and its default.
    pub fn help_line(&self) -> String {
        let default = self.default.replace('`', "");
        format!("{} [env: {}] [default: {default}]", self.help, self.env())
    }

    /// The config-file key, for every setting but the config file itself.
    fn file_key(&self) -> Option<&'static str> {
        (self.key != CONFIG.key).then_some(self.key)
    }
}

pub const CONFIG: Setting = Setting {
    key: "config",
    flag: FlagScope::Global,
    value_name: "FILE",
    help: "TOML file with any of the settings (flag > environment > file > default)",
    default: "none",
    accepted: "path of a TOML file (below)",
};
pub const LISTEN: Setting = Setting {
    key: "listen",
    flag: FlagScope::Serve,
    value_name: "ADDR",
    help: "Address to listen on",
    default: "`127.0.0.1:8080`",
    accepted: "a socket address: `IPv4:port` or `[IPv6]:port`. Host names such as `localhost:8080` are refused. Port `0` lets the OS choose, and the \"ready\" log line shows the port it got.",
};
pub const DATABASE_URL: Setting = Setting {
    key: "database_url",
    flag: FlagScope::Global,
    value_name: "URL",
    help: "sqlite://PATH or postgres://...",
    default: "`sqlite://tessera-data/tessera.db`",
    accepted: "`sqlite://PATH`, `postgres://…` or `postgresql://…` (see [Store](#store))",
};
pub const PUBLIC_URL: Setting = Setting {
    key: "public_url",
    flag: FlagScope::Serve,
    value_name: "URL",
    help: "Public base URL; issuers are {public-url}/{tenant}",
    default: "`http://{the bound address}` (with `--listen 127.0.0.1:0`, the port the OS chose)",
    accepted: "`http://` or `https://`, a host, an optional path; no query, fragment or whitespace. Trailing `/` is dropped. Issuers are `{public_url}/{tenant}`, and `error_uri` values point under it.",
};
pub const MASTER_KEY_FILE: Setting = Setting {
    key: "master_key_file",
    flag: FlagScope::Global,
    value_name: "FILE",
    help: "File holding the master key ring (one key per line, the first seals) that seals signing keys, TOTP secrets, codes and refresh tokens and keys secret hashes",
    default: "none",
    accepted: "any non-empty path",
};
pub const LOG_FORMAT: Setting = Setting {
    key: "log_format",
    flag: FlagScope::Global,
    value_name: "FORMAT",
    help: "Log line format: human or json",
    default: "`human`",
    accepted: "`human` or `json`",
};
pub const MAX_BODY_BYTES: Setting = Setting {
    key: "max_body_bytes",
    flag: FlagScope::Serve,
    value_name: "BYTES",
    help: "Largest request body accepted, in bytes",
    default: "`65536`",
    accepted: "an integer from `1024` to `16777216`",
};
/// Environment and config file only.
pub const STORE_TIMEOUT_MS: Setting = Setting {
    key: "store_timeout_ms",
    flag: FlagScope::None,
    value_name: "MS",
    help: "How long a request waits for the database before it is answered TemporarilyUnavailable (503)",
    default: "`5000`",
    accepted: "an integer from `100` to `60000` (milliseconds)",
};
/// Environment and config file only.
pub const REQUEST_HEADER_TIMEOUT_MS: Setting = Setting {
    key: "request_header_timeout_ms",
    flag: FlagScope::None,
    value_name: "MS",
    help: "How long a client may take to send a request's headers, and how long a connection may sit idle, before it is closed",
    default: "`10000`",
    accepted: "an integer from `100` to `300000` (milliseconds)",
};
/// Environment and config file only.
pub const REQUEST_BODY_TIMEOUT_MS: Setting = Setting {
    key: "request_body_timeout_ms",
    flag: FlagScope::None,
    value_name: "MS",
    help: "How long a client may take to send a request's body before it is answered RequestTimeout (408)",
    default: "`10000`",
    accepted: "an integer from `100` to `300000` (milliseconds)",
};
/// Argon2id cost (RFC 9106 §4); environment and config file only.
pub const PASSWORD_MEMORY_KIB: Setting = Setting {
    key: "password_memory_kib",
    flag: FlagScope::None,
    value_name: "KIB",
    help: "Argon2id memory cost",
    default: "`19456` (19 MiB)",
    accepted: "Argon2id memory cost, `8192` to `1048576` KiB",
};
pub const PASSWORD_ITERATIONS: Setting = Setting {
    key: "password_iterations",
    flag: FlagScope::None,
    value_name: "N",
    help: "Argon2id passes",
    default: "`2`",
    accepted: "Argon2id passes, `1` to `10`",
};
pub const PASSWORD_PARALLELISM: Setting = Setting {
    key: "password_parallelism",
    flag: FlagScope::None,
    value_name: "N",
    help: "Argon2id lanes",
    default: "`1`",
    accepted: "Argon2id lanes, `1` to `8`",
};

pub const TRUSTED_PROXIES: Setting = Setting {
    key: "trusted_proxies",
    flag: FlagScope::Serve,
    value_name: "CIDRS",
    help: "Comma-separated CIDR ranges of the proxies in front of Tessera, whose X-Forwarded-For header names the client's address",
    default: "none: the peer's address is the client's",
    accepted: "CIDR ranges such as `10.0.0.0/8,2001:db8::/32`, comma-separated",
};
pub const TLS_CERT: Setting = Setting {
    key: "tls_cert",
    flag: FlagScope::Serve,
    value_name: "FILE",
    help: "PEM certificate chain to serve HTTPS with (with --tls-key)",
    default: "none: plain HTTP, for a TLS proxy in front",
    accepted: "a readable PEM file, read at start (`tessera dev-cert` makes one for local use)",
};
pub const TLS_KEY: Setting = Setting {
    key: "tls_key",
    flag: FlagScope::Serve,
    value_name: "FILE",
    help: "PEM private key of the --tls-cert certificate",
    default: "none",
    accepted: "a readable PEM file (PKCS#8, PKCS#1 or SEC1), read at start",
};
pub const PASSWORD_DENY_LIST: Setting = Setting {
    key: "password_deny_list",
    flag: FlagScope::None,
    value_name: "FILE",
    help: "File of common or breached passwords no one may choose, one per line (# comments)",
    default: "none",
    accepted: "a readable file, read at start",
};

/// Every setting, in the order docs/configuration.md lists them.
pub const ALL: [&Setting; 17] = [
    &CONFIG,
    &LISTEN,
    &DATABASE_URL,
    &PUBLIC_URL,
    &MASTER_KEY_FILE,
    &LOG_FORMAT,
    &MAX_BODY_BYTES,
    &TRUSTED_PROXIES,
    &TLS_CERT,
    &TLS_KEY,
    &STORE_TIMEOUT_MS,
    &REQUEST_HEADER_TIMEOUT_MS,
    &REQUEST_BODY_TIMEOUT_MS,
    &PASSWORD_MEMORY_KIB,
    &PASSWORD_ITERATIONS,
    &PASSWORD_PARALLELISM,
    &PASSWORD_DENY_LIST,
];

/// The keys a config file may hold.
fn file_keys() -> Vec<&'static str> {
    ALL.iter().filter_map(|s| s.file_key()).collect()
}

/// The settings table of docs/configuration.md, generated from [`ALL`].
pub fn markdown_table() -> String {
    let mut out = String::from(
        "| flag | environment | file key | default | accepted values |\n|---|---|---|---|---|\n",
    );
    for s in ALL {
        let flag = match (s.flag(), s.flag) {
            (Some(f), FlagScope::Serve) => format!("`{f} {}` (serve)", s.value_name),
            (Some(f), _) => format!("`{f} {}`", s.value_name),
            (None, _) => "—".to_owned(),
        };
        let file = s.file_key().map_or("—".to_owned(), |k| format!("`{k}`"));
        out.push_str(&format!(
            "| {flag} | `{}` | {file} | {} | {} |\n",
            s.env(),
            s.default,
            s.accepted
        ));
    }
    out
}

struct Layers<'a, E: Fn(&str) -> Option<String>> {
    env: E,
    file: Option<(String, toml::Table)>,
    _flags: &'a FlagValues,
}

impl<E: Fn(&str) -> Option<String>> Layers<'_, E> {
    /// The winning raw value for `key` and a label naming where it came from.
    fn pick(
        &self,
        key: &Setting,
        flag: &Option<String>,
    ) -> Result<Option<(String, String)>, SettingsError> {
        if let (Some(v), Some(name)) = (flag, key.flag()) {
            return Ok(Some((v.clone(), name)));
        }
        let env = key.env();
        if let Some(v) = (self.env)(&env) {
            return Ok(Some((v, env)));
        }
        if let Some((path, value)) = self
            .file
            .as_ref()
            .and_then(|(path, table)| table.get(key.key).map(|v| (path, v)))
        {
            let label = format!("{} in {path}", key.key);
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
    let config_path = flags.config.clone().or_else(|| env(&CONFIG.env()));
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
    let master_key_file = file_path(layers.pick(&MASTER_KEY_FILE, &flags.master_key_file)?)?;
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
    let password_deny_list = file_path(layers.pick(&PASSWORD_DENY_LIST, &None)?)?;
    let trusted_proxies = match layers.pick(&TRUSTED_PROXIES, &flags.trusted_proxies)? {
        Some((raw, from)) => raw
            .split(',')
            .map(str::trim)
            .filter(|r| !r.is_empty())
            .map(|r| {
                tessera_core::network::parse_range(r).ok_or_else(|| {
                    SettingsError(format!(
                        "{from}: '{r}' is not a CIDR range such as 10.0.0.0/8"
                    ))
                })
            })
            .collect::<Result<Vec<_>, _>>()?,
        None => Vec::new(),
    };
    let tls = match (
        file_path(layers.pick(&TLS_CERT, &flags.tls_cert)?)?,
        file_path(layers.pick(&TLS_KEY, &flags.tls_key)?)?,
    ) {
        (Some(cert), Some(key)) => Some((cert, key)),
        (None, None) => None,
        _ => {
            return Err(SettingsError(
                "tls_cert and tls_key go together: give both, or neither".to_owned(),
            ));
        }
    };
    let store_timeout = std::time::Duration::from_millis(u64::from(number(
        &layers,
        &STORE_TIMEOUT_MS,
        100,
        60_000,
        5_000,
    )?));
    let millis = |setting: &Setting| -> Result<std::time::Duration, SettingsError> {
        let default = DEFAULT_REQUEST_TIMEOUT.as_millis() as u32;
        let ms = number(&layers, setting, 100, 300_000, default)?;
        Ok(std::time::Duration::from_millis(u64::from(ms)))
    };
    Ok(Settings {
        store_timeout,
        request_header_timeout: millis(&REQUEST_HEADER_TIMEOUT_MS)?,
        request_body_timeout: millis(&REQUEST_BODY_TIMEOUT_MS)?,
        password_params,
        password_deny_list,
        trusted_proxies,
        tls,
        listen,
        database_url_display: redact_password(&db_raw),
        database_url,
        public_url,
        master_key_file,
        log_format,
        max_body_bytes,
    })
}

/// A setting naming a file (picked with where it came from): any non-empty path.
fn file_path(picked: Option<(String, String)>) -> Result<Option<PathBuf>, SettingsError> {
    picked
        .map(|(raw, from)| {
            if raw.trim().is_empty() {
                Err(SettingsError(format!("{from}: must name a file")))
            } else {
                Ok(PathBuf::from(raw))
            }
        })
        .transpose()
}

/// An integer setting without a flag, within `min..=max`.
fn number<E: Fn(&str) -> Option<String>>(
    layers: &Layers<'_, E>,
    key: &Setting,
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
        CONFIG.flag().unwrap_or_default()
    } else {
        CONFIG.env()
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
    let known = file_keys();
    if let Some(unknown) = table.keys().find(|k| !known.contains(&k.as_str())) {
        return Err(SettingsError(format!(
            "config file {path}: unknown setting '{unknown}' (known: {})",
            known.join(", ")
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

    /// The command line offers exactly the settings declared with a flag, under the
    /// declared names, in the declared scope, with the declared help.
    #[test]
    fn the_command_line_follows_the_declarations() {
        use clap::CommandFactory;
        let cli = crate::cli::Cli::command();
        let serve = cli.find_subcommand("serve").expect("serve");
        for s in ALL {
            let long = s.key.replace('_', "-");
            let global = cli
                .get_arguments()
                .find(|a| a.get_long() == Some(long.as_str()));
            let of_serve = serve
                .get_arguments()
                .find(|a| a.get_long() == Some(long.as_str()) && !a.is_global_set());
            let arg = match s.flag {
                FlagScope::Global => global.expect(s.key),
                FlagScope::Serve => {
                    assert!(global.is_none(), "{} is serve's", s.key);
                    of_serve.expect(s.key)
                }
                FlagScope::None => {
                    assert!(
                        global.is_none() && of_serve.is_none(),
                        "{} has no flag",
                        s.key
                    );
                    continue;
                }
            };
            assert_eq!(
                arg.get_help().map(ToString::to_string),
                Some(s.help_line()),
                "{}",
                s.key
            );
            let names: Vec<&str> = arg
                .get_value_names()
                .unwrap_or_default()
                .iter()
                .map(|n| n.as_str())
                .collect();
            assert_eq!(names, [s.value_name], "{}", s.key);
        }
        // No flag the declarations do not know, besides the commands' own options.
        let declared: Vec<String> = ALL.iter().map(|s| s.key.replace('_', "-")).collect();
        for arg in cli.get_arguments().chain(serve.get_arguments()) {
            let Some(long) = arg.get_long() else { continue };
            assert!(
                declared.iter().any(|d| d == long) || ["demo", "help", "version"].contains(&long),
                "--{long} is not declared in settings::ALL"
            );
        }
    }

    /// docs/configuration.md's settings table is the one [`markdown_table`] generates.
    #[test]
    fn the_configuration_document_lists_the_declared_settings() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/configuration.md");
        let doc = std::fs::read_to_string(path).unwrap();
        let begin = "<!-- settings table: generated by settings::markdown_table -->\n";
        let end = "<!-- end of settings table -->";
        let start = doc.find(begin).expect("the table's opening marker") + begin.len();
        let stop = doc[start..].find(end).expect("the table's closing marker") + start;
        assert_eq!(
            &doc[start..stop],
            markdown_table(),
            "docs/configuration.md's settings table differs from settings::ALL: paste the right-hand side between the markers"
        );
    }
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
