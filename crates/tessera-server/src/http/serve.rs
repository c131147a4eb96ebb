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
use axum::serve::{Listener, ListenerExt};
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use std::net::SocketAddr;
use std::time::Duration;
use tokio::net::{TcpListener, TcpStream};
use tower::ServiceExt;

/// `tcp`'s connections with Nagle's algorithm off (TCP_NODELAY). With it on, a response
/// that leaves in more than one write (TLS records, a body after its head) holds its
/// later segments until the client acknowledges the first, and a client that delays its
/// acknowledgements (Linux: up to 40 ms) adds that wait to the response.
pub fn no_delay(tcp: TcpListener) -> impl Listener<Io = TcpStream, Addr = SocketAddr> {
    tcp.tap_io(|stream| {
        if let Err(e) = stream.set_nodelay(true) {
            tracing::debug!(error = %e, "TCP_NODELAY not set");
        }
    })
}

/// Serves `app` on `listener` until `shutdown` resolves, then stops accepting and waits
/// for every open connection to finish its request in flight (idle connections are
/// closed at once). The caller bounds that wait.
pub async fn serve<L>(
    mut listener: L,
    app: axum::Router,
    header_timeout: Duration,
    shutdown: impl std::future::Future<Output = ()>,
) where
    L: Listener<Addr = PeerAddr>,
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

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn accepted_connections_send_without_waiting_for_acknowledgements() {
        let tcp = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = tcp.local_addr().unwrap();
        let mut listener = no_delay(tcp);
        let _client = TcpStream::connect(address).await.unwrap();
        let (accepted, _) = listener.accept().await;
        assert!(accepted.nodelay().unwrap());
    }
}
