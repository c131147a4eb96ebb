//! An in-process Tessera for the targets that send requests: the whole router, on
//! SQLite in a temporary directory, with a tenant `fuzz` imported (users, apps of every
//! platform, an API, rate limits off). The server is built anew every [`REBUILD`]
//! requests, so what the inputs write (users, apps, the sign-in log) does not grow
//! without bound over millions of runs.
//!
//! Property of every request: no answer is a 5xx. Tessera answers bad input with its
//! catalogued 4xx; a 500 is a bug, and a 503 cannot come from a healthy local store.

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{Request, StatusCode};
use std::cell::RefCell;
use std::path::PathBuf;
use std::sync::Arc;
use tessera_server::runtime::state::AppState;
use tower::ServiceExt;

/// Requests served by one server before it is built anew.
const REBUILD: usize = 20_000;

/// The slug of the tenant the inputs address.
pub const TENANT: &str = "fuzz";

/// alice's password in [`tenant_file`].
pub const PASSWORD: &str = "correct horse battery staple";
/// web-app's client secret.
pub const SECRET: &str = "web-app-secret-0123456789";

pub struct Server {
    runtime: tokio::runtime::Runtime,
    router: axum::Router,
    state: AppState,
    /// `Authorization: Bearer` for the admin API.
    pub admin_token: String,
    served: usize,
    dir: PathBuf,
}

thread_local! {
    static SERVER: RefCell<Option<Server>> = const { RefCell::new(None) };
}

/// Runs `f` with the server, building it first when there is none or it served its
/// share.
pub fn with<T>(f: impl FnOnce(&mut Server) -> T) -> T {
    SERVER.with(|cell| {
        let mut slot = cell.borrow_mut();
        if slot.as_ref().is_some_and(|s| s.served >= REBUILD) {
            *slot = None;
        }
        let server = slot.get_or_insert_with(Server::build);
        server.served += 1;
        f(server)
    })
}

impl Server {
    fn build() -> Self {
        static BUILT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let n = BUILT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        // On tmpfs when there is one: SQLite's fsync per commit (synchronous=FULL) then
        // costs nothing, and the inputs, not the disk, are under test.
        let shm = std::path::Path::new("/dev/shm");
        let base = if shm.is_dir() {
            shm.to_path_buf()
        } else {
            std::env::temp_dir()
        };
        let dir = base.join(format!("tessera-fuzz-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("a temporary directory");
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a runtime");
        let (state, admin_token) = runtime.block_on(start(dir.join("t.db")));
        let router = tessera_server::app(state.clone());
        Self {
            runtime,
            router,
            state,
            admin_token,
            served: 0,
            dir,
        }
    }

    /// Sends `request` from a loopback peer; returns the status and body. Panics on a
    /// 5xx (the property every target checks).
    pub fn send(&self, mut request: Request<Body>) -> (StatusCode, Vec<u8>) {
        let peer: std::net::SocketAddr = "127.0.0.1:40000".parse().expect("an address");
        request.extensions_mut().insert(ConnectInfo(peer));
        let what = format!("{} {}", request.method(), request.uri().path());
        let (status, body) = self.runtime.block_on(async {
            let response = self
                .router
                .clone()
                .oneshot(request)
                .await
                .expect("the router is infallible");
            let status = response.status();
            let body = axum::body::to_bytes(response.into_body(), usize::MAX)
                .await
                .expect("a response body");
            (status, body.to_vec())
        });
        assert!(
            !status.is_server_error(),
            "{what} answered {status}: {}",
            String::from_utf8_lossy(&body)
        );
        (status, body)
    }

    /// The CSRF token a page form carries for the CSRF cookie `cookie`.
    pub fn csrf_token(&self, cookie: &str) -> String {
        self.state
            .master
            .token_hash(tessera_core::oauth::records::purpose::CSRF, cookie)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A server's state on a new SQLite store at `database`, with the bootstrap admin
/// credential and the fuzz tenant, as `tessera serve` and `tessera import` make them.
async fn start(database: PathBuf) -> (AppState, String) {
    use tessera_server::runtime::{bootstrap, master_key};
    let url = tessera_store::DatabaseUrl::Sqlite(database);
    let store = tessera_store::open(&url).await.expect("a store");
    let master = crate::master().clone();
    let mut state = AppState::new(store, "http://fuzz.test", master);
    // Argon2id at its cheapest: the inputs, not the hashing, are under test.
    let params = tessera_core::crypto::PasswordParams {
        memory_kib: 1024,
        iterations: 1,
        parallelism: 1,
    };
    state.passwords = tessera_server::runtime::passwords::Passwords::new(1, params);
    let (store, clock, rng) = (state.store.clone(), state.clock.clone(), state.rng.clone());
    bootstrap::ensure_admin_tenant(store.as_ref(), &state.master, clock.as_ref(), rng.as_ref())
        .await
        .expect("the admin tenant");
    let fitted = master_key::fit(
        store.as_ref(),
        state.master.as_ref().clone(),
        clock.as_ref(),
        rng.as_ref(),
    )
    .await
    .expect("the master key fits");
    state.master = Arc::new(fitted);
    let token = tessera_server::admin::auth::ensure_bootstrap_credential(
        store.as_ref(),
        &state.master,
        clock.as_ref(),
        rng.as_ref(),
    )
    .await
    .expect("a store")
    .expect("a new store has no credential yet");
    let file = serde_json::from_value(tenant_file()).expect("the tenant file");
    tessera_server::cli::directory_files::import(
        store.as_ref(),
        &file,
        &state.master,
        params,
        clock.as_ref(),
        rng.as_ref(),
    )
    .await
    .expect("the tenant file imports");
    (state, token.expose().to_owned())
}

/// The tenant the inputs address.
pub fn tenant_file() -> serde_json::Value {
    let jwks = serde_json::json!({ "keys": crate::public_jwks() });
    serde_json::json!({ "tenants": [{
        "slug": TENANT, "display_name": "Fuzz",
        "policy": { "rate_limit_per_address_per_minute": 0, "rate_limit_per_client_per_minute": 0 },
        "users": [
            { "username": "alice", "password": PASSWORD, "email": "alice@fuzz.test",
              "groups": ["staff"] },
            { "username": "bob", "password": PASSWORD, "enabled": false }
        ],
        "groups": [ { "name": "staff" } ],
        "apis": [ { "identifier": "https://api.fuzz.test", "name": "API",
                    "scopes": [ { "name": "read", "description": "Read" } ],
                    "app_roles": ["Reader"] } ],
        "apps": [
            { "client_id": "web-app", "name": "Web",
              "redirect_uris": { "web": ["https://app.test/cb"] },
              "post_logout_redirect_uris": ["https://app.test/bye"],
              "secrets": [ { "value": SECRET } ],
              "grant_types": ["authorization_code", "refresh_token", "client_credentials",
                              "urn:ietf:params:oauth:grant-type:device_code",
                              "urn:ietf:params:oauth:grant-type:token-exchange"],
              "permissions": [ { "api": "https://api.fuzz.test", "scopes": ["read"],
                                 "app_roles": ["Reader"] } ] },
            { "client_id": "key-app", "name": "Key",
              "redirect_uris": { "web": ["https://key.test/cb"] },
              "jwks": jwks,
              "grant_types": ["client_credentials"] },
            { "client_id": "spa-app", "name": "SPA",
              "redirect_uris": { "spa": ["https://spa.test/cb"] },
              "grant_types": ["authorization_code", "refresh_token"] },
            { "client_id": "native-app", "name": "Native",
              "redirect_uris": { "native": ["http://127.0.0.1/cb"] },
              "grant_types": ["authorization_code", "refresh_token",
                              "urn:ietf:params:oauth:grant-type:device_code"] }
        ]
    }]})
}
