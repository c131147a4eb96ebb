//! `tessera serve`: open the store, bind, announce readiness in one line, serve until
//! SIGTERM or SIGINT, then stop accepting, let in-flight requests finish, exit 0.

use crate::cli::fatal::Fatal;
use crate::cli::settings::Settings;
use crate::runtime::state::AppState;
use std::sync::Arc;
use std::time::Duration;
use tessera_core::crypto::MasterKey;
use tessera_core::store::Store;

/// How long in-flight requests may take to finish after SIGTERM/SIGINT.
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(30);

/// Opens the store, applies migrations, loads (or creates) the master key and creates
/// what Tessera needs in the store (every store command starts here).
pub async fn open_store(settings: &Settings) -> Result<(Arc<dyn Store>, MasterKey), Fatal> {
    let master =
        crate::runtime::master_key::load(settings, &tessera_core::rng::OsRng).map_err(|e| {
            Fatal {
                message: e.message,
                status: e.status,
            }
        })?;
    let store = tessera_store::open(&settings.database_url)
        .await
        .map_err(|e| {
            Fatal::runtime(format!(
                "cannot open the store {}: {e}",
                settings.database_url_display
            ))
        })?;
    crate::runtime::bootstrap::ensure_admin_tenant(
        store.as_ref(),
        &master,
        &tessera_core::clock::SystemClock,
        &tessera_core::rng::OsRng,
    )
    .await
    .map_err(|e| Fatal::runtime(format!("cannot create the admin tenant: {e}")))?;
    let master = crate::runtime::master_key::fit(
        store.as_ref(),
        master,
        &tessera_core::clock::SystemClock,
        &tessera_core::rng::OsRng,
    )
    .await
    .map_err(|e| match e {
        crate::runtime::master_key::FitError::Mismatch(err) => Fatal {
            message: format!(
                "{} {}: {} {}",
                err.entry().code_str(),
                err.entry().name,
                err.message(),
                err.entry().developer_action
            ),
            status: 2,
        },
        crate::runtime::master_key::FitError::Store(e) => {
            Fatal::runtime(format!("cannot read the store's master key record: {e}"))
        }
    })?;
    Ok((store, master))
}

pub async fn run(settings: Settings, demo: bool) -> Result<(), Fatal> {
    // Read first: a setting that cannot be used fails before the store is touched.
    let tls = match &settings.tls {
        None => None,
        Some((cert, key)) => Some(crate::http::tls::server_config(cert, key).map_err(
            |message| Fatal {
                message: format!("tls_cert/tls_key: {message}"),
                status: 2,
            },
        )?),
    };
    let deny_list = Arc::new(match &settings.password_deny_list {
        None => Default::default(),
        Some(path) => {
            // A bad setting, as the other settings' errors are: exit status 2.
            let text = std::fs::read_to_string(path).map_err(|e| Fatal {
                message: format!("password_deny_list: cannot read {}: {e}", path.display()),
                status: 2,
            })?;
            let list = tessera_core::directory::password_policy::DenyList::parse(&text);
            tracing::info!(passwords = list.len(), file = %path.display(), "password deny list loaded");
            list
        }
    });
    let (store, master) = open_store(&settings).await?;
    // No request waits on the database longer than `store_timeout_ms`. Only the server
    // has the deadline: an import or admin command may take as long as it takes.
    let store: Arc<dyn Store> = Arc::new(tessera_store::Timed::new(store, settings.store_timeout));
    let created = crate::admin::auth::ensure_bootstrap_credential(
        store.as_ref(),
        &master,
        &tessera_core::clock::SystemClock,
        &tessera_core::rng::OsRng,
    )
    .await
    .map_err(|e| Fatal::runtime(format!("cannot create the bootstrap admin credential: {e}")))?;
    if let Some(secret) = created {
        // Shown once, on stderr and never through the log: only its keyed hash is stored.
        eprintln!(
            "bootstrap admin credential (shown once, store it safely; send it as 'Authorization: Bearer <credential>' to /admin/api/v1): {}",
            secret.expose()
        );
    }
    let listener = tokio::net::TcpListener::bind(settings.listen)
        .await
        .map_err(|e| Fatal::runtime(format!("cannot listen on {}: {e}", settings.listen)))?;
    let addr = listener
        .local_addr()
        .map_err(|e| Fatal::runtime(format!("cannot read the bound address: {e}")))?;
    let listener = crate::http::serve::no_delay(listener);
    // Without an explicit public URL, issuers follow the address actually bound (which
    // differs from --listen when it asks for port 0).
    let scheme = if tls.is_some() { "https" } else { "http" };
    let public_url = settings
        .public_url
        .clone()
        .unwrap_or_else(|| format!("{scheme}://{addr}"));
    let mut state = AppState::new(store.clone(), &public_url, master);
    state.max_body_bytes = settings.max_body_bytes;
    state.body_timeout = settings.request_body_timeout;
    state.password_deny_list = deny_list;
    state.trusted_proxies = Arc::from(settings.trusted_proxies.clone());
    state.passwords = crate::runtime::passwords::Passwords::new(
        std::thread::available_parallelism().map_or(2, std::num::NonZeroUsize::get),
        settings.password_params,
    );

    let demo_line = if demo {
        state.demo = true;
        Some(crate::routes::demo::setup(&state).await?)
    } else {
        crate::routes::demo::retire(&state).await?;
        None
    };

    // The sweeper stops between passes at shutdown (a pass cut short would leave its
    // database connection mid-statement).
    let (stop_sweeping, mut stopping) = tokio::sync::watch::channel(false);
    let sweeper = state.clone();
    let sweeping = tokio::spawn(async move {
        let mut tick = tokio::time::interval(crate::runtime::sweep::INTERVAL);
        loop {
            tokio::select! {
                _ = tick.tick() => {}
                _ = stopping.changed() => return,
            }
            match crate::runtime::sweep::sweep(&sweeper).await {
                Ok(0) => {}
                Ok(n) => tracing::info!(removed = n, "swept expired sessions, codes and tokens"),
                Err(e) => {
                    tracing::warn!(error = %e, "sweeping expired records failed; retrying later")
                }
            }
        }
    });

    let metrics = state.metrics.clone();
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(5));
        loop {
            tick.tick().await;
            metrics.upkeep();
        }
    });

    let app = crate::app(state.clone());
    tracing::info!(
        store = store.backend(),
        database = %settings.database_url_display,
        public_url = %public_url,
        "ready on {scheme}://{addr}"
    );
    if let Some(line) = demo_line {
        eprintln!("{line}");
    }
    let header_timeout = settings.request_header_timeout;
    let outcome = match tls {
        None => {
            let listener = crate::http::malformed::CataloguedListener::new(listener, state);
            serve_until_signalled(listener, app, header_timeout).await
        }
        Some(config) => {
            let tls = crate::http::tls::TlsListener::new(listener, config)
                .map_err(|e| Fatal::runtime(format!("cannot read the bound address: {e}")))?;
            let listener = crate::http::malformed::CataloguedListener::new(tls, state);
            serve_until_signalled(listener, app, header_timeout).await
        }
    };
    // The database sees this node leave (PostgreSQL: a Terminate per connection), not
    // its connections reset: the sweeper's pass ends first, then the connections.
    let _ = stop_sweeping.send(true);
    let _ = tokio::time::timeout(SHUTDOWN_GRACE, sweeping).await;
    store.close().await;
    if outcome.is_ok() {
        tracing::info!("stopped: every in-flight request was answered");
    }
    outcome
}

/// Serves `app` on `listener` until SIGTERM or SIGINT, then lets in-flight requests
/// finish.
async fn serve_until_signalled<L>(
    listener: crate::http::malformed::CataloguedListener<L>,
    app: axum::Router,
    header_timeout: std::time::Duration,
) -> Result<(), Fatal>
where
    L: axum::serve::Listener<Addr = std::net::SocketAddr>,
{
    let (signalled, on_signal) = tokio::sync::oneshot::channel::<()>();
    let server = crate::http::serve::serve(listener, app, header_timeout, async move {
        shutdown_signal().await;
        let _ = signalled.send(());
    });
    // In-flight requests get SHUTDOWN_GRACE to finish; a client that never completes
    // its request must not keep the process alive forever.
    let deadline = async move {
        match on_signal.await {
            Ok(()) => tokio::time::sleep(SHUTDOWN_GRACE).await,
            Err(_) => std::future::pending().await,
        }
    };
    tokio::select! {
        () = server => Ok(()),
        () = deadline => Err(Fatal::runtime(format!(
            "requests were still in flight {} s after the shutdown signal; stopped anyway",
            SHUTDOWN_GRACE.as_secs()
        ))),
    }
}

/// Resolves on SIGTERM (service managers, Kubernetes) or SIGINT (Ctrl-C).
async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
    tracing::info!("shutting down: no new connections; finishing in-flight requests");
}
