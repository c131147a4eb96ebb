//! Fixtures: an in-process app on a fresh SQLite store with a fixed clock and
//! deterministic randomness, and a real `tessera` process on a free port.

use axum::body::Body;
use axum::http::{HeaderMap, Request, StatusCode};
use http_body_util::BodyExt;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tessera_core::clock::FixedClock;
use tessera_core::rng::SequenceRng;
use tessera_server::AppState;
use time::macros::datetime;
use tower::ServiceExt;

pub const T0: time::OffsetDateTime = datetime!(2026-11-26 19:30:00 UTC);

/// A directory under the system temp dir, removed on drop.
pub struct TempDir(pub PathBuf);

impl TempDir {
    pub fn new(name: &str) -> Self {
        use std::sync::atomic::{AtomicU32, Ordering};
        static N: AtomicU32 = AtomicU32::new(0);
        let dir = std::env::temp_dir().join(format!(
            "tessera-server-{}-{name}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        Self(dir)
    }

    pub fn path(&self) -> &Path {
        &self.0
    }

    /// Another handle on the directory at `path`: whichever is dropped first removes it.
    pub fn borrowed(path: &Path) -> Self {
        Self(path.to_owned())
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A node's state as tests run it: cheap Argon2 parameters keep them fast (production
/// defaults are tested in core), the tests' clock, the system's randomness.
pub fn node_state(
    store: Arc<dyn tessera_core::store::Store>,
    public_url: &str,
    master: tessera_core::crypto::MasterKey,
    clock: Arc<FixedClock>,
) -> AppState {
    let mut state = AppState::new(store, public_url, master);
    state.passwords = tessera_server::runtime::passwords::Passwords::new(
        2,
        tessera_core::crypto::PasswordParams {
            memory_kib: 1024,
            iterations: 1,
            parallelism: 1,
        },
    );
    state.clock = clock;
    state.rng = Arc::new(tessera_core::rng::OsRng);
    // Back-channel logout retries within a test's patience.
    state.outbound.retry_delays = Arc::from([
        std::time::Duration::from_millis(50),
        std::time::Duration::from_millis(100),
    ]);
    state
}

/// An app on its own SQLite store, fixed clock (T0) and seeded randomness.
pub struct TestApp {
    pub state: AppState,
    /// The bootstrap admin credential, for `Authorization: Bearer`.
    pub admin_token: String,
    /// The app's clock, to move time forward.
    pub clock: Arc<FixedClock>,
    /// The PostgreSQL URL, when on PostgreSQL (for a second node on the same database).
    pub db_url: Option<String>,
    _dir: TempDir,
    _pg: Option<tessera_store::testing::TestDatabase>,
}

/// A [`TestApp`] listening on a loopback port, for clients that need a real socket
/// (openidconnect-rs, a browser). Its public URL is the bound address.
pub struct Served {
    pub app: TestApp,
    /// `http://127.0.0.1:{port}`
    pub base: String,
    task: tokio::task::JoinHandle<()>,
}

impl Served {
    pub async fn start(pg: Option<tessera_store::testing::TestDatabase>) -> Self {
        Self::start_configured(pg, |_| {}).await
    }

    /// [`Served::start`] with the app's state changed by `configure` first. Handlers see
    /// the peer's address, as under `tessera serve`.
    pub async fn start_configured(
        pg: Option<tessera_store::testing::TestDatabase>,
        configure: impl FnOnce(&mut AppState),
    ) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let app = TestApp::open(pg, &base).await;
        Self::serve(listener, base, app, configure)
    }

    /// [`Served::start_configured`] on a SQLite database at `path` (a test's own
    /// filesystem) instead of one in a fresh directory.
    pub async fn start_on_sqlite_at(
        path: &std::path::Path,
        configure: impl FnOnce(&mut AppState),
    ) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let url = tessera_store::DatabaseUrl::Sqlite(path.to_path_buf());
        let app = TestApp::open_url(url, None, TempDir::new("app"), &base).await;
        Self::serve(listener, base, app, configure)
    }

    fn serve(
        listener: tokio::net::TcpListener,
        base: String,
        mut app: TestApp,
        configure: impl FnOnce(&mut AppState),
    ) -> Self {
        configure(&mut app.state);
        let router = app.router();
        let task = tokio::spawn(async move {
            let service = router.into_make_service_with_connect_info::<std::net::SocketAddr>();
            let _ = axum::serve(listener, service).await;
        });
        Self { app, base, task }
    }
}

/// A server listening for HTTP: in this process or a `tessera serve` process.
pub trait Listening {
    /// `http://127.0.0.1:{port}`
    fn base(&self) -> &str;
}

impl Listening for Served {
    fn base(&self) -> &str {
        &self.base
    }
}

/// A server known only by its base URL (one node of several), for the flow helpers.
pub struct Base(pub String);

impl Listening for Base {
    fn base(&self) -> &str {
        &self.0
    }
}

impl Listening for Process {
    fn base(&self) -> &str {
        &self.base
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl TestApp {
    pub async fn new() -> Self {
        Self::open(None, "https://id.example.test/").await
    }

    /// An app on SQLite, or on the PostgreSQL test database `pg`, serving `public_url`.
    pub async fn open(pg: Option<tessera_store::testing::TestDatabase>, public_url: &str) -> Self {
        let dir = TempDir::new("app");
        let url = match &pg {
            Some(db) => db.url.parse::<tessera_store::DatabaseUrl>().unwrap(),
            None => tessera_store::DatabaseUrl::Sqlite(dir.path().join("t.db")),
        };
        Self::open_url(url, pg, dir, public_url).await
    }

    async fn open_url(
        url: tessera_store::DatabaseUrl,
        pg: Option<tessera_store::testing::TestDatabase>,
        dir: TempDir,
        public_url: &str,
    ) -> Self {
        let store = tessera_store::open(&url).await.unwrap();
        let master = tessera_core::crypto::MasterKey::from_bytes(&[42u8; 32]);
        let clock = Arc::new(FixedClock::new(T0));
        let mut state = node_state(store, public_url, master, clock.clone());
        state.rng = Arc::new(SequenceRng::new(1));
        tessera_server::runtime::bootstrap::ensure_admin_tenant(
            state.store.as_ref(),
            &state.master,
            state.clock.as_ref(),
            state.rng.as_ref(),
        )
        .await
        .unwrap();
        // As `tessera serve` does: the ring takes the store's hash root.
        let fitted = tessera_server::runtime::master_key::fit(
            state.store.as_ref(),
            state.master.as_ref().clone(),
            state.clock.as_ref(),
            state.rng.as_ref(),
        )
        .await
        .unwrap();
        state.master = Arc::new(fitted);
        let token = tessera_server::admin::auth::ensure_bootstrap_credential(
            state.store.as_ref(),
            &state.master,
            state.clock.as_ref(),
            state.rng.as_ref(),
        )
        .await
        .unwrap()
        .expect("a new store has no credential yet");
        Self {
            state,
            admin_token: token.expose().to_owned(),
            clock,
            db_url: pg.as_ref().map(|db| db.url.clone()),
            _dir: dir,
            _pg: pg,
        }
    }

    /// Imports a tenant file given as JSON.
    pub async fn import(&self, file: serde_json::Value) {
        let file: tessera_core::directory::file::TenantFile = serde_json::from_value(file).unwrap();
        tessera_server::cli::directory_files::import(
            self.state.store.as_ref(),
            &file,
            &self.state.master,
            self.state.passwords.params(),
            self.state.clock.as_ref(),
            self.state.rng.as_ref(),
        )
        .await
        .unwrap();
    }

    pub fn router(&self) -> axum::Router {
        tessera_server::app(self.state.clone())
    }

    pub async fn send(&self, req: Request<Body>) -> Reply {
        send(self.router(), req).await
    }

    /// An admin API call with the bootstrap credential and an optional JSON body.
    pub async fn admin(&self, method: &str, path: &str, body: Option<serde_json::Value>) -> Reply {
        let mut req = Request::builder()
            .method(method)
            .uri(path)
            .header("authorization", format!("Bearer {}", self.admin_token));
        if body.is_some() {
            req = req.header("content-type", "application/json");
        }
        let body = body.map_or_else(Body::empty, |b| Body::from(b.to_string()));
        self.send(req.body(body).unwrap()).await
    }

    pub async fn get(&self, path: &str, accept: Option<&str>) -> Reply {
        let mut req = Request::get(path);
        if let Some(a) = accept {
            req = req.header("accept", a);
        }
        self.send(req.body(Body::empty()).unwrap()).await
    }
}

pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: String,
}

impl Reply {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.body))
    }

    pub fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    }
}

pub async fn send(router: axum::Router, req: Request<Body>) -> Reply {
    let response = router.oneshot(req).await.unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    Reply {
        status,
        headers,
        body: String::from_utf8_lossy(&bytes).into_owned(),
    }
}

/// A running `tessera` process. Killed on drop if still running.
pub struct Process {
    pub child: Child,
    pub base: String,
    pub lines: Arc<Mutex<Vec<String>>>,
    pub dir: TempDir,
}

pub fn tessera() -> Command {
    Command::new(env!("CARGO_BIN_EXE_tessera"))
}

/// `tessera ARGS` run to its end in `dir` on the directory's default store and key,
/// with `stdin` on its standard input.
pub fn run_in<I, S>(dir: &TempDir, args: I, stdin: Option<&str>) -> std::process::Output
where
    I: IntoIterator<Item = S>,
    S: AsRef<std::ffi::OsStr>,
{
    use std::io::Write;
    let mut child = tessera()
        .args(args)
        .current_dir(dir.path())
        .env_remove("TESSERA_DATABASE_URL")
        .env_remove("TESSERA_MASTER_KEY_FILE")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut input = child.stdin.take().unwrap();
    if let Some(text) = stdin {
        input.write_all(text.as_bytes()).unwrap();
    }
    drop(input);
    child.wait_with_output().unwrap()
}

impl Process {
    /// Starts `tessera serve --listen 127.0.0.1:0 <args>` in a fresh directory and waits
    /// for its ready line.
    pub fn serve(args: &[&str]) -> Self {
        Self::serve_with_env(args, &[])
    }

    /// [`Process::serve`] with these environment variables set.
    pub fn serve_with_env(args: &[&str], env: &[(&str, &str)]) -> Self {
        Self::start(TempDir::new("proc"), args, env)
    }

    /// [`Process::serve`] in `dir`, which earlier commands set up; it is kept.
    pub fn serve_in(dir: &TempDir, args: &[&str]) -> Self {
        Self::start(TempDir::borrowed(dir.path()), args, &[])
    }

    fn start(dir: TempDir, args: &[&str], env: &[(&str, &str)]) -> Self {
        let mut command = tessera();
        command
            .args(["serve", "--listen", "127.0.0.1:0"])
            .args(args)
            .current_dir(dir.path());
        Self::spawn(command, dir, env)
    }

    /// Runs `command`, which ends in `tessera serve --listen 127.0.0.1:0` (perhaps
    /// behind a wrapper), with `env` instead of the settings of the test's environment,
    /// and waits for its ready line.
    pub fn spawn(mut command: Command, dir: TempDir, env: &[(&str, &str)]) -> Self {
        let mut child = command
            .env_remove("TESSERA_DATABASE_URL")
            .env_remove("TESSERA_CONFIG")
            .env_remove("TESSERA_LOG")
            .envs(env.iter().copied())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let lines = Arc::new(Mutex::new(Vec::new()));
        let (tx, rx) = std::sync::mpsc::channel();
        let out = child.stdout.take().unwrap();
        let sink = lines.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(out).lines().map_while(Result::ok) {
                // http://, or https:// with --tls-cert.
                if let Some(i) = line.find("ready on http") {
                    let rest = &line[i + "ready on ".len()..];
                    let end = rest
                        .find(|c: char| c.is_whitespace() || c == '"')
                        .unwrap_or(rest.len());
                    let _ = tx.send(rest[..end].to_owned());
                }
                sink.lock().unwrap().push(line);
            }
        });
        let base = match rx.recv_timeout(Duration::from_secs(30)) {
            Ok(base) => base,
            Err(_) => {
                let _ = child.kill();
                let mut err = String::new();
                if let Some(mut e) = child.stderr.take() {
                    let _ = std::io::Read::read_to_string(&mut e, &mut err);
                }
                panic!(
                    "tessera did not become ready: {err} {:?}",
                    lines.lock().unwrap()
                );
            }
        };
        Self {
            child,
            base,
            lines,
            dir,
        }
    }

    /// The bootstrap admin credential a first start prints on stderr (before it is
    /// ready). Takes stderr: a thread reads it to its end, so logging never blocks.
    pub fn admin_credential(&mut self) -> String {
        let err = self.child.stderr.take().expect("stderr not taken yet");
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(err).lines().map_while(Result::ok) {
                if let Some((_, value)) = line
                    .contains("bootstrap admin credential")
                    .then(|| line.rsplit_once(": "))
                    .flatten()
                {
                    let _ = tx.send(value.trim().to_owned());
                }
            }
        });
        rx.recv_timeout(Duration::from_secs(10))
            .expect("a first start prints the bootstrap admin credential")
    }

    pub fn terminate(&self) {
        let status = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
    }

    /// Waits up to `limit` for the process to exit.
    pub fn wait_exit(&mut self, limit: Duration) -> Option<std::process::ExitStatus> {
        let deadline = Instant::now() + limit;
        while Instant::now() < deadline {
            if let Some(status) = self.child.try_wait().unwrap() {
                return Some(status);
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        None
    }

    pub fn log(&self) -> String {
        self.lines.lock().unwrap().join("\n")
    }

    /// The log once `done` holds for it, waiting up to 5 s: request lines reach the
    /// output in batches (every 50 ms), not one by one.
    pub async fn log_when(&self, done: impl Fn(&str) -> bool) -> String {
        for _ in 0..250 {
            let log = self.log();
            if done(&log) {
                return log;
            }
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        self.log()
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A blocking-free HTTP GET against a running process.
pub async fn http_get(url: &str, accept: &str) -> reqwest::Response {
    http_client()
        .build()
        .unwrap()
        .get(url)
        .header("accept", accept)
        .send()
        .await
        .unwrap()
}

/// A reqwest client builder for the tests. Tessera's own TLS (rustls on aws-lc-rs,
/// `runtime::outbound`) turns on reqwest's rustls without a built-in provider in this
/// build too, so the tests' clients name the provider as Tessera's does.
pub fn http_client() -> reqwest::ClientBuilder {
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    reqwest::Client::builder()
}
