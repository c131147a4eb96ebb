//! The store failing under a running server. PostgreSQL goes away through a TCP proxy
//! the test controls: connections cut (the server gone), and packets dropped with the
//! connections left open (a network partition, which nothing but a deadline ends).
//! SQLite's disk fills up (a small tmpfs of the test's own), and its files become
//! impossible to write (`chattr +i`). Requests that need
//! the store answer TemporarilyUnavailable (503, `Retry-After`, a trace id) within the
//! store deadline; discovery, keys and the error catalogue (served from memory) keep
//! working; readiness turns false and back; and when the database
//! returns the server recovers without a restart, with nothing half-applied: the
//! refresh token the failed attempts presented still works, once.

use super::oidc::*;
use super::support::{Listening, Process, Served, TempDir};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tessera_core::errors::ErrorName;
use tessera_store::testing::{postgres_or_skip, skip};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

/// What the proxy does with connections.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mode {
    /// Forwards both ways.
    Open,
    /// Closes every connection, and new ones at once.
    Cut,
    /// Forwards nothing and closes nothing (until the mode changes, then closes).
    Blackhole,
}

pub(crate) struct Proxy {
    pub(crate) addr: SocketAddr,
    mode: Arc<watch::Sender<Mode>>,
}

impl Proxy {
    pub(crate) async fn start(upstream: SocketAddr) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let mode = Arc::new(watch::channel(Mode::Open).0);
        let modes = mode.clone();
        tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                tokio::spawn(relay(client, upstream, modes.subscribe()));
            }
        });
        Self { addr, mode }
    }

    pub(crate) fn set(&self, mode: Mode) {
        self.mode.send_replace(mode);
    }
}

/// One connection: forwarded while the mode is Open; closed when it becomes anything
/// else (after holding it silently for as long as it is Blackhole).
async fn relay(mut client: TcpStream, upstream: SocketAddr, mut mode: watch::Receiver<Mode>) {
    let current = *mode.borrow_and_update();
    match current {
        Mode::Cut => return,
        Mode::Blackhole => {
            let _ = mode.changed().await;
            return;
        }
        Mode::Open => {}
    }
    let Ok(mut server) = TcpStream::connect(upstream).await else {
        return;
    };
    tokio::select! {
        _ = tokio::io::copy_bidirectional(&mut client, &mut server) => {}
        _ = mode.changed() => {
            if *mode.borrow_and_update() == Mode::Blackhole {
                let _ = mode.changed().await;
            }
        }
    }
}

/// The store deadline of the server under test.
const DEADLINE: Duration = Duration::from_secs(1);

/// Asserts a catalogued 503 with `Retry-After`, answered well within the deadline.
async fn unavailable(started: Instant, response: reqwest::Response) {
    let took = started.elapsed();
    assert!(
        took < DEADLINE + Duration::from_secs(2),
        "answered after {took:?}"
    );
    assert!(response.headers().get("retry-after").is_some());
    assert_token_error(response, ErrorName::TemporarilyUnavailable).await;
}

async fn refresh(served: &impl Listening, token: &str) -> reqwest::Response {
    token_request(
        served.base(),
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", token),
            ("client_id", "web-app"),
            ("client_secret", WEB_SECRET),
        ],
    )
    .send()
    .await
    .unwrap()
}

async fn status(served: &impl Listening, path: &str) -> u16 {
    rp_http()
        .get(format!("{}{path}", served.base()))
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

/// A server on the PostgreSQL test database, reached through a proxy the test
/// controls, with a one-second store deadline and the test tenant.
async fn proxied_postgres(test: &str) -> Option<(Proxy, Served)> {
    let mut db = postgres_or_skip(test).await?;
    // The server reaches its database through the proxy.
    let upstream: SocketAddr = "127.0.0.1:5432".parse().unwrap();
    let proxy = Proxy::start(upstream).await;
    db.url = db.url.replacen(
        "127.0.0.1:5432",
        &format!("127.0.0.1:{}", proxy.addr.port()),
        1,
    );
    let served = Served::start_configured(Some(db), |state| {
        state.store = Arc::new(tessera_store::Timed::new(state.store.clone(), DEADLINE));
    })
    .await;
    served.app.import(unlimited_tenant_file()).await;
    Some((proxy, served))
}

#[tokio::test]
async fn a_postgres_outage_is_answered_fast_and_survived_without_a_restart() {
    let Some((proxy, served)) = proxied_postgres(
        "server::outage::a_postgres_outage_is_answered_fast_and_survived_without_a_restart",
    )
    .await
    else {
        return;
    };
    let tokens = web_tokens(&served, "openid offline_access").await;
    let refresh_token = tokens["refresh_token"].as_str().unwrap().to_owned();
    let discovery = format!("/{TENANT}/.well-known/openid-configuration");
    let keys = format!("/{TENANT}/discovery/keys");
    // Warm: what the outage must not touch is served from memory.
    for path in [&discovery, &keys] {
        assert_eq!(status(&served, path).await, 200);
    }

    for outage in [Mode::Cut, Mode::Blackhole] {
        proxy.set(outage);
        let started = Instant::now();
        unavailable(started, refresh(&served, &refresh_token).await).await;
        let started = Instant::now();
        assert_eq!(status(&served, "/readyz").await, 503, "{outage:?}");
        assert!(started.elapsed() < DEADLINE + Duration::from_secs(2));
        for path in [&discovery, &keys, &"/errors".to_owned()] {
            assert_eq!(status(&served, path).await, 200, "{path} during {outage:?}");
        }

        proxy.set(Mode::Open);
        let deadline = Instant::now() + Duration::from_secs(15);
        while status(&served, "/readyz").await != 200 {
            assert!(
                Instant::now() < deadline,
                "never ready again after {outage:?}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    rotates_once(&served, &refresh_token).await;
}

/// Nothing the failed attempts did stuck: `token` rotates now, its successor rotates
/// too, and `token` is then reuse.
async fn rotates_once(served: &impl Listening, token: &str) {
    let r = refresh(served, token).await;
    assert_eq!(r.status(), 200);
    let body: serde_json::Value = r.json().await.unwrap();
    let r = refresh(served, body["refresh_token"].as_str().unwrap()).await;
    assert_eq!(r.status(), 200);
    let r = refresh(served, token).await;
    assert_token_error(r, ErrorName::RefreshTokenReused).await;
}

/// How one client's chain of refresh tokens fared while connections were cut.
#[derive(Default)]
struct Chain {
    rotated: usize,
    unavailable: usize,
    /// The newest token an answer of 200 carried.
    token: String,
}

/// Rotates `token` until `until`: each 200 carries the next token, each 503 is retried
/// after a pause; nothing else is allowed.
async fn rotate_until(served: &Served, token: String, until: Instant) -> Chain {
    let mut chain = Chain {
        token,
        ..Chain::default()
    };
    let mut retrying = false;
    while Instant::now() < until {
        let started = Instant::now();
        let r = refresh(served, &chain.token).await;
        assert!(started.elapsed() < DEADLINE + Duration::from_secs(2));
        match r.status().as_u16() {
            200 => {
                let body: serde_json::Value = r.json().await.unwrap();
                chain.token = body["refresh_token"].as_str().unwrap().to_owned();
                chain.rotated += 1;
                retrying = false;
            }
            503 => {
                assert_token_error(r, ErrorName::TemporarilyUnavailable).await;
                chain.unavailable += 1;
                retrying = true;
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            _ => panic!(
                "{} after {} (a retry: {retrying}): {}",
                r.status(),
                chain.rotated,
                r.text().await.unwrap()
            ),
        }
    }
    chain
}

#[tokio::test]
async fn postgres_connections_dropped_under_load_lose_nothing_acknowledged() {
    let Some((proxy, served)) = proxied_postgres(
        "server::outage::postgres_connections_dropped_under_load_lose_nothing_acknowledged",
    )
    .await
    else {
        return;
    };
    let served = Arc::new(served);
    let mut tokens = Vec::new();
    for _ in 0..6 {
        tokens.push(refresh_token(&*served).await);
    }
    let until = Instant::now() + Duration::from_secs(4);
    let clients: Vec<_> = tokens
        .into_iter()
        .map(|token| {
            let served = served.clone();
            tokio::spawn(async move { rotate_until(&served, token, until).await })
        })
        .collect();
    // Every connection dropped twice under load, each time for half a second.
    for _ in 0..2 {
        tokio::time::sleep(Duration::from_millis(1000)).await;
        proxy.set(Mode::Cut);
        tokio::time::sleep(Duration::from_millis(500)).await;
        proxy.set(Mode::Open);
    }
    let mut chains = Vec::new();
    for client in clients {
        chains.push(client.await.unwrap());
    }
    let sum = |f: fn(&Chain) -> usize| chains.iter().map(f).sum::<usize>();
    eprintln!(
        "{} rotations answered 200, {} answered 503",
        sum(|c| c.rotated),
        sum(|c| c.unavailable),
    );
    assert!(chains.iter().any(|c| c.unavailable > 0), "no outage seen");
    // Every token answered 200 is durable: the newest of each chain still rotates.
    for chain in &chains {
        assert!(chain.rotated > 0);
        let r = refresh(&*served, &chain.token).await;
        assert_eq!(r.status(), 200, "an acknowledged rotation was lost");
    }
}

/// `tessera serve` on SQLite in a 16 MiB tmpfs of its own. SQLite resolves symbolic
/// links in a database's path, so the server must see the tmpfs where it is mounted:
/// it runs in a mount namespace of its own (`unshare --user --mount`, needing no
/// privilege of the test's), where a shell mounts the tmpfs, imports the test tenant
/// and becomes the server. The test reaches the tmpfs through the server's
/// `/proc/{pid}/root` to fill it.
struct SmallDisk {
    server: Process,
    /// The tmpfs, as this process sees it.
    root: PathBuf,
}

impl SmallDisk {
    const UNSHARE: [&str; 3] = ["--user", "--map-root-user", "--mount"];

    fn serve() -> Option<Self> {
        let allowed = Command::new("unshare")
            .args(Self::UNSHARE)
            .args(["sh", "-c", "mount -t tmpfs tmpfs /mnt"])
            .status()
            .is_ok_and(|s| s.success());
        if !allowed {
            return None;
        }
        let dir = TempDir::new("small-disk");
        std::fs::create_dir(dir.path().join("disk")).unwrap();
        std::fs::write(dir.path().join("tenant.json"), tenant_file().to_string()).unwrap();
        let mut command = Command::new("unshare");
        command
            .args(Self::UNSHARE)
            .args([
                "sh",
                "-c",
                "mount -t tmpfs -o size=16m tmpfs disk && cd disk \
                 && \"$0\" import ../tenant.json >/dev/null \
                 && exec \"$0\" serve --listen 127.0.0.1:0",
                env!("CARGO_BIN_EXE_tessera"),
            ])
            .current_dir(dir.path());
        let root = dir.path().join("disk");
        let server = Process::spawn(command, dir, &[]);
        let root = PathBuf::from(format!(
            "/proc/{}/root{}",
            server.child.id(),
            root.display()
        ));
        Some(Self { server, root })
    }

    /// Writes a file until the filesystem has no space left.
    fn fill(&self) {
        use std::io::Write;
        let mut filler = std::fs::File::create(self.root.join("filler")).unwrap();
        let block = vec![0u8; 64 * 1024];
        loop {
            if let Err(e) = filler.write_all(&block) {
                assert_eq!(e.raw_os_error(), Some(28), "{e}"); // ENOSPC
                return;
            }
        }
    }

    fn free(&self) {
        std::fs::remove_file(self.root.join("filler")).unwrap();
    }
}

/// A refresh token of alice's at `server`, to present during the outage.
async fn refresh_token(server: &impl Listening) -> String {
    let tokens = web_tokens(server, "openid offline_access").await;
    tokens["refresh_token"].as_str().unwrap().to_owned()
}

/// During a SQLite outage: a write answered 503 at once, readiness false, and what is
/// served from memory or needs only reads still served.
async fn sqlite_outage_answers(served: &impl Listening, refresh_token: &str, what: &str) {
    unavailable(Instant::now(), refresh(served, refresh_token).await).await;
    assert_eq!(status(served, "/readyz").await, 503, "{what}");
    for path in [
        format!("/{TENANT}/.well-known/openid-configuration"),
        format!("/{TENANT}/discovery/keys"),
        "/errors".to_owned(),
    ] {
        assert_eq!(status(served, &path).await, 200, "{path} during {what}");
    }
}

/// After a SQLite outage: ready again at once, and the token the failed attempts
/// presented rotates once.
async fn sqlite_recovered(served: &impl Listening, refresh_token: &str) {
    assert_eq!(status(served, "/readyz").await, 200);
    rotates_once(served, refresh_token).await;
}

#[tokio::test]
async fn a_full_disk_under_sqlite_is_answered_at_once_and_survived() {
    let test = "server::outage::a_full_disk_under_sqlite_is_answered_at_once_and_survived";
    let Some(disk) = SmallDisk::serve() else {
        skip(test, "cannot mount a tmpfs in a user namespace (unshare)");
        return;
    };
    let refresh_token = refresh_token(&disk.server).await;

    disk.fill();
    sqlite_outage_answers(&disk.server, &refresh_token, "a full disk").await;
    disk.free();
    sqlite_recovered(&disk.server, &refresh_token).await;
}

/// Marks `files` immutable (`chattr +i`) or writable again; false when the filesystem
/// or the process's privileges do not allow it.
fn immutable(files: &[PathBuf], on: bool) -> bool {
    Command::new("chattr")
        .arg(if on { "+i" } else { "-i" })
        .args(files)
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

#[tokio::test]
async fn a_sqlite_file_that_cannot_be_written_is_answered_at_once_and_survived() {
    let test =
        "server::outage::a_sqlite_file_that_cannot_be_written_is_answered_at_once_and_survived";
    let dir = TempDir::new("readonly");
    let database = dir.path().join("tessera.db");
    let served = Served::start_on_sqlite_at(&database, |_| {}).await;
    served.app.import(tenant_file()).await;
    let refresh_token = refresh_token(&served).await;
    // The database and its write-ahead log; the shared-memory index stays writable, as
    // readers need it.
    let files = [database.clone(), dir.path().join("tessera.db-wal")];
    if !immutable(&files, true) {
        skip(
            test,
            "chattr +i is not allowed here (needs CAP_LINUX_IMMUTABLE and ext4 or tmpfs)",
        );
        return;
    }
    sqlite_outage_answers(&served, &refresh_token, "a read-only file").await;
    assert!(immutable(&files, false));
    sqlite_recovered(&served, &refresh_token).await;
}
