//! The `tessera` command line (clap). Flags only collect raw values; `settings`
//! layers them over the environment and the config file.

use crate::settings::FlagValues;
use clap::{Args, Parser, Subcommand};

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

/// Flags every command that touches the store accepts.
#[derive(Debug, Args, Clone, Default)]
pub struct StoreFlags {
    /// TOML file with any of the settings (flag > environment > file > default) [env: TESSERA_CONFIG]
    #[arg(long, global = true, value_name = "FILE")]
    pub config: Option<String>,
    /// sqlite://PATH or postgres://... [env: TESSERA_DATABASE_URL] [default: sqlite://tessera-data/tessera.db]
    #[arg(long, global = true, value_name = "URL")]
    pub database_url: Option<String>,
    /// File holding the key that encrypts signing keys at rest [env: TESSERA_MASTER_KEY_FILE]
    #[arg(long, global = true, value_name = "FILE")]
    pub master_key_file: Option<String>,
    /// Log line format: human or json [env: TESSERA_LOG_FORMAT] [default: human]
    #[arg(long, global = true, value_name = "FORMAT")]
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
    Admin(crate::admin_cli::AdminArgs),
}

#[derive(Debug, Args)]
pub struct ImportArgs {
    /// The tenant file
    pub file: String,
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
    /// Address to listen on [env: TESSERA_LISTEN] [default: 127.0.0.1:8080]
    #[arg(long, value_name = "ADDR")]
    pub listen: Option<String>,
    /// Public base URL; issuers are {public-url}/{tenant} [env: TESSERA_PUBLIC_URL] [default: http://{listen}]
    #[arg(long, value_name = "URL")]
    pub public_url: Option<String>,
    /// Largest request body accepted, in bytes [env: TESSERA_MAX_BODY_BYTES] [default: 65536]
    #[arg(long, value_name = "BYTES")]
    pub max_body_bytes: Option<String>,
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
        }
        flags
    }
}
