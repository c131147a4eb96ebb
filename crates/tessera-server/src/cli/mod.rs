//! The `tessera` command line: its arguments (clap) here, one file per command beside
//! them. Flags only collect raw values; `settings` layers them over the environment and
//! the config file.

pub mod admin;
pub mod dev_cert;
pub mod directory_files;
pub mod explain;
pub mod fatal;
pub mod serve;
pub mod settings;

use clap::{Args, Parser, Subcommand};
use settings::FlagValues;

#[derive(Debug, Parser)]
#[command(
    name = "tessera",
    version,
    about = "Tessera: a multi-tenant OAuth 2.0 and OpenID Connect identity platform"
)]
pub struct Cli {
    #[command(flatten)]
    pub store: StoreFlags,
    #[command(subcommand)]
    pub command: Command,
}

/// Flags every command that touches the store accepts. Names, value names and help
/// come from the settings' declarations (`settings::ALL`; a test checks every one).
#[derive(Debug, Args, Clone, Default)]
pub struct StoreFlags {
    #[arg(long, global = true, value_name = settings::CONFIG.value_name, help = settings::CONFIG.help_line())]
    pub config: Option<String>,
    #[arg(long, global = true, value_name = settings::DATABASE_URL.value_name, help = settings::DATABASE_URL.help_line())]
    pub database_url: Option<String>,
    #[arg(long, global = true, value_name = settings::MASTER_KEY_FILE.value_name, help = settings::MASTER_KEY_FILE.help_line())]
    pub master_key_file: Option<String>,
    #[arg(long, global = true, value_name = settings::LOG_FORMAT.value_name, help = settings::LOG_FORMAT.help_line())]
    pub log_format: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the server
    Serve(ServeArgs),
    /// Apply pending store migrations and exit
    Migrate,
    /// Print the catalogue entry of an error code (TS50001) or name (InvalidScope)
    Explain(ExplainArgs),
    /// Apply a tenant file (JSON, or TOML by its .toml extension; - for stdin), idempotently
    Import(ImportArgs),
    /// Print a tenant as a tenant file (never secrets or password hashes)
    Export(ExportArgs),
    /// Everyday admin tasks (users, apps, secrets, keys), through the admin API in process
    Admin(crate::cli::admin::AdminArgs),
    /// Make a local CA and a server certificate for localhost, 127.0.0.1 and ::1, to
    /// serve HTTPS in development (--tls-cert, --tls-key); reads no settings
    DevCert(DevCertArgs),
}

#[derive(Debug, Args)]
pub struct DevCertArgs {
    /// The folder the PEM files are written to
    #[arg(long, default_value = ".")]
    pub dir: String,
}

#[derive(Debug, Args)]
pub struct ImportArgs {
    /// The tenant file
    #[arg(required_unless_present = "schema")]
    pub file: Option<String>,
    /// Print the tenant file's JSON Schema instead (made from the importer's own types;
    /// with --markdown, the reference page docs/tenant-file.md); reads no settings
    #[arg(long, conflicts_with = "file")]
    pub schema: bool,
    /// With --schema: the reference as Markdown
    #[arg(long, requires = "schema")]
    pub markdown: bool,
}

#[derive(Debug, Args)]
pub struct ExportArgs {
    /// The tenant's slug
    #[arg(long)]
    pub tenant: String,
    /// Output format
    #[arg(long, value_enum, default_value = "json")]
    pub format: ExportFormat,
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum ExportFormat {
    Json,
    Toml,
}

#[derive(Debug, Args, Default)]
pub struct ServeArgs {
    #[arg(long, value_name = settings::LISTEN.value_name, help = settings::LISTEN.help_line())]
    pub listen: Option<String>,
    #[arg(long, value_name = settings::PUBLIC_URL.value_name, help = settings::PUBLIC_URL.help_line())]
    pub public_url: Option<String>,
    #[arg(long, value_name = settings::MAX_BODY_BYTES.value_name, help = settings::MAX_BODY_BYTES.help_line())]
    pub max_body_bytes: Option<String>,
    #[arg(long, value_name = settings::TRUSTED_PROXIES.value_name, help = settings::TRUSTED_PROXIES.help_line())]
    pub trusted_proxies: Option<String>,
    #[arg(long, value_name = settings::TLS_CERT.value_name, help = settings::TLS_CERT.help_line())]
    pub tls_cert: Option<String>,
    #[arg(long, value_name = settings::TLS_KEY.value_name, help = settings::TLS_KEY.help_line())]
    pub tls_key: Option<String>,
    /// Import a demo tenant, user and app, and serve a demo app at /demo-app that walks
    /// the sign-in flow and shows the tokens (never in production: the password is printed)
    #[arg(long)]
    pub demo: bool,
}

#[derive(Debug, Args)]
pub struct ExplainArgs {
    /// An error code (TS50001, 50001) or name (InvalidScope)
    #[arg(required_unless_present = "all")]
    pub key: Option<String>,
    /// Print every entry
    #[arg(long, conflicts_with = "key")]
    pub all: bool,
    /// Print JSON instead of text
    #[arg(long, conflicts_with = "markdown")]
    pub json: bool,
    /// With --all: print docs/errors.md
    #[arg(long, requires = "all")]
    pub markdown: bool,
}

impl Cli {
    /// The raw flag values for settings resolution.
    pub fn flag_values(&self) -> FlagValues {
        let mut flags = FlagValues {
            config: self.store.config.clone(),
            database_url: self.store.database_url.clone(),
            master_key_file: self.store.master_key_file.clone(),
            log_format: self.store.log_format.clone(),
            ..FlagValues::default()
        };
        if let Command::Serve(serve) = &self.command {
            flags.listen = serve.listen.clone();
            flags.public_url = serve.public_url.clone();
            flags.max_body_bytes = serve.max_body_bytes.clone();
            flags.trusted_proxies = serve.trusted_proxies.clone();
            flags.tls_cert = serve.tls_cert.clone();
            flags.tls_key = serve.tls_key.clone();
        }
        flags
    }
}
