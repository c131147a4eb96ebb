//! The `tessera` binary: parse the command line, resolve settings, run the command.
//! Exit status: 0 on success, 2 on bad usage or bad input (one line on stderr naming the
//! setting and the problem), 1 when a runtime step fails.

use clap::Parser;
use std::process::ExitCode;
use tessera_core::clock::SystemClock;
use tessera_core::directory::file::Format;
use tessera_core::rng::OsRng;
use tessera_server::cli::fatal::{Fatal, print_out};
use tessera_server::cli::settings::{self, Settings};
use tessera_server::cli::{Cli, Command, ExportFormat};
use tessera_server::cli::{directory_files, explain, serve};
use tessera_server::http::logging;

/// mimalloc instead of glibc's malloc: glibc's allocator took 14% of the server's CPU
/// under PostgreSQL refresh rotations (benches/profile.sh); mimalloc gave 5-12% more
/// throughput on every load measured. Without transparent huge pages (`no_thp`), idle
/// RSS stays below glibc's instead of 7 MB above it.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            use clap::error::ErrorKind;
            if matches!(e.kind(), ErrorKind::DisplayHelp | ErrorKind::DisplayVersion) {
                let _ = e.print();
                return ExitCode::SUCCESS;
            }
            if e.kind() == ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand {
                let _ = e.print();
                return ExitCode::from(2);
            }
            // clap's first line names the flag and the problem; the usage text after it
            // is available with --help.
            let text = e.render().to_string();
            eprintln!("{}", text.lines().next().unwrap_or("error: invalid usage"));
            return ExitCode::from(2);
        }
    };
    if let Command::Explain(args) = &cli.command {
        return explain::run(args);
    }
    if let Command::DevCert(args) = &cli.command {
        return match tessera_server::cli::dev_cert::run(
            std::path::Path::new(&args.dir),
            &SystemClock,
        ) {
            Ok(text) => {
                println!("{text}");
                ExitCode::SUCCESS
            }
            Err(fatal) => {
                eprintln!("error: {}", fatal.message);
                ExitCode::from(fatal.status)
            }
        };
    }
    if let Command::Import(args) = &cli.command
        && args.schema
    {
        use tessera_core::directory::reference;
        let text = if args.markdown {
            reference::markdown()
        } else {
            format!(
                "{}\n",
                serde_json::to_string_pretty(&reference::schema()).unwrap_or_default()
            )
        };
        return match print_out(&text) {
            Ok(()) => ExitCode::SUCCESS,
            Err(fatal) => {
                eprintln!("error: {}", fatal.message);
                ExitCode::from(fatal.status)
            }
        };
    }
    let settings = match settings::resolve(&cli.flag_values(), |k| std::env::var(k).ok()) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    let sink = if matches!(cli.command, Command::Serve(_)) {
        logging::Sink::Stdout
    } else {
        logging::Sink::Stderr
    };
    logging::init(settings.log_format, sink);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::from(1);
        }
    };
    let outcome = runtime.block_on(run(cli.command, settings));
    logging::flush();
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(fatal) => {
            eprintln!("error: {}", fatal.message);
            ExitCode::from(fatal.status)
        }
    }
}

async fn run(command: Command, settings: Settings) -> Result<(), Fatal> {
    match command {
        Command::Serve(args) => serve::run(settings, args.demo).await,
        Command::Migrate => {
            let (store, _) = serve::open_store(&settings).await?;
            tracing::info!(store = store.backend(), database = %settings.database_url_display, "migrations applied");
            Ok(())
        }
        Command::Explain(_) | Command::DevCert(_) => Ok(()),
        Command::Import(args) => {
            // Read and validate before touching the store: bad input changes nothing.
            let file = directory_files::read(args.file.as_deref().unwrap_or("-"))?;
            let (store, master) = serve::open_store(&settings).await?;
            for line in directory_files::import(
                store.as_ref(),
                &file,
                &master,
                settings.password_params,
                &SystemClock,
                &OsRng,
            )
            .await?
            {
                print_out(&format!("{line}\n"))?;
            }
            Ok(())
        }
        Command::Admin(args) => {
            let (store, master) = serve::open_store(&settings).await?;
            let public_url = settings
                .public_url
                .clone()
                .unwrap_or_else(|| format!("http://{}", settings.listen));
            let mut state = tessera_server::AppState::new(store, &public_url, master);
            state.passwords =
                tessera_server::runtime::passwords::Passwords::new(1, settings.password_params);
            let text =
                tessera_server::cli::admin::run(state, &args, settings.public_url.as_deref())
                    .await?;
            print_out(&format!("{text}\n"))
        }
        Command::Export(args) => {
            let (store, _) = serve::open_store(&settings).await?;
            let format = match args.format {
                ExportFormat::Json => Format::Json,
                ExportFormat::Toml => Format::Toml,
            };
            print_out(&directory_files::export(store.as_ref(), &args.tenant, format).await?)
        }
    }
}
