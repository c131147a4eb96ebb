//! The connection loop of `tessera serve`: accepts on a listener (TCP, or TLS over it)
//! and serves each connection with hyper's HTTP/1.1 server, as `axum::serve` does, but
//! with a timer, so hyper's header-read timeout runs. `axum::serve` gives hyper no timer, and then a
//! client sending its header section a byte at a time (slowloris), or opening a
//! connection and sending nothing, holds the connection for as long as it likes.
//!
//! The timeout (`request_header_timeout_ms`, 10 s by default) runs from the moment
//! hyper waits for a request's head to the end of that head: it bounds both a slow
//! header section and an idle connection, new or kept alive. The body has its own
//! deadline (`http::limits`).
//!
//! HTTP/1.1 only, as TLS offers by ALPN (`http::tls`). `axum::serve` also takes
//! cleartext HTTP/2 with prior knowledge, by reading a connection's first bytes to tell
//! the two apart, without a time limit: a connection that sent nothing was held open
//! forever.

use crate::http::malformed::PeerAddr;
use axum::extract::ConnectInfo;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use std::time::Duration;
use tower::ServiceExt;

/// Serves `app` on `listener` until `shutdown` resolves, then stops accepting and waits
/// for every open connection to finish its request in flight (idle connections are
/// closed at once). The caller bounds that wait.
pub async fn serve<L>(
    mut listener: L,
    app: axum::Router,
    header_timeout: Duration,
    shutdown: impl std::future::Future<Output = ()>,
) where
    L: axum::serve::Listener<Addr = PeerAddr>,
{
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(header_timeout);
    let graceful = GracefulShutdown::new();
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let (io, peer) = tokio::select! {
            accepted = listener.accept() => accepted,
            () = &mut shutdown => break,
        };
        // Handlers read the peer's address as `ConnectInfo<PeerAddr>`
        // (`http::client_address`), as under `into_make_service_with_connect_info`.
        let service = app
            .clone()
            .map_request(move |mut req: axum::extract::Request<_>| {
                req.extensions_mut().insert(ConnectInfo(peer));
                req
            });
        let connection =
            builder.serve_connection(TokioIo::new(io), TowerToHyperService::new(service));
        let connection = graceful.watch(connection);
        tokio::spawn(async move {
            // A connection's end (the client gone, a timeout, a protocol error) is the
            // client's affair; the request log has every request it made.
            if let Err(e) = connection.await {
                tracing::debug!(peer = %peer.0, error = %e, "connection ended");
            }
        });
    }
    drop(listener);
    graceful.shutdown().await;
}
