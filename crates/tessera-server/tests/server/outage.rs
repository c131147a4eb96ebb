//! PostgreSQL going away under a running server, through a TCP proxy the test controls:
//! connections cut (the server gone), and packets dropped with the connections left
//! open (a network partition, which nothing but a deadline ends). Requests that need
//! the store answer TemporarilyUnavailable (503, `Retry-After`, a trace id) within the
//! store deadline; discovery, keys and the error catalogue (served from memory) keep
//! working; readiness turns false and back; and when the database
//! returns the server recovers without a restart, with nothing half-applied: the
//! refresh token the failed attempts presented still works, once.

use super::oidc::*;
use super::support::Served;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tessera_core::errors::ErrorName;
use tessera_store::testing::postgres_or_skip;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

/// What the proxy does with connections.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// Forwards both ways.
    Open,
    /// Closes every connection, and new ones at once.
    Cut,
    /// Forwards nothing and closes nothing (until the mode changes, then closes).
    Blackhole,
}

struct Proxy {
    addr: SocketAddr,
    mode: Arc<watch::Sender<Mode>>,
}

impl Proxy {
    async fn start(upstream: SocketAddr) -> Self {
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

    fn set(&self, mode: Mode) {
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

async fn refresh(served: &Served, token: &str) -> reqwest::Response {
    token_request(
        &served.base,
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

async fn status(served: &Served, path: &str) -> u16 {
    rp_http()
        .get(format!("{}{path}", served.base))
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

#[tokio::test]
async fn a_postgres_outage_is_answered_fast_and_survived_without_a_restart() {
    let Some(mut db) = postgres_or_skip(
        "server::outage::a_postgres_outage_is_answered_fast_and_survived_without_a_restart",
    )
    .await
    else {
        return;
    };
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
    served.app.import(tenant_file()).await;
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

    // Nothing the failed attempts did stuck: the token rotates now, once.
    let r = refresh(&served, &refresh_token).await;
    assert_eq!(r.status(), 200);
    let r = refresh(&served, &refresh_token).await;
    assert_token_error(r, ErrorName::RefreshTokenReused).await;
}
