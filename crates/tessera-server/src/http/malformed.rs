//! Catalogued answers to requests hyper refuses before any route sees them: a bad
//! request line, a bad header, a bad version, a header section or URI too large. hyper
//! answers those itself (`proto::h1::role::Server::on_error` in hyper 1.x), with a bare
//! status, `content-length: 0` and `connection: close`, and offers no hook to change
//! the answer. So the listener wraps each connection (`CataloguedIo`), and when hyper
//! writes such a head (status 400, 414 or 431, empty, closing, and without the
//! `x-trace-id` that every response of ours carries) the wrapper sends the catalogue's
//! document instead: InvalidRequestFormat, UriTooLong or RequestHeadersTooLarge, with a
//! trace id, logged. Everything else passes through untouched.
//!
//! Requests whose framing hyper rejects while reading a body (bad chunking) reach the
//! routes and are answered there; a `Content-Length` beside `Transfer-Encoding` is read
//! by the chunked framing and the connection closed after (RFC 9112 §6.3 point 3).

use crate::runtime::state::AppState;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::task::{Context, Poll, ready};
use tessera_core::errors::render::{ErrorContext, oauth_json};
use tessera_core::errors::{CatalogError, ErrorName};
use tessera_core::trace::{CorrelationId, TraceId};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpListener;

/// A listener (TCP, or TLS over it: `http::tls`) whose connections answer hyper's own
/// refusals from the catalogue.
pub struct CataloguedListener<L = TcpListener> {
    inner: L,
    state: AppState,
}

impl<L> CataloguedListener<L> {
    pub fn new(inner: L, state: AppState) -> Self {
        Self { inner, state }
    }
}

/// The peer's address of a connection the listener accepted; handlers read it as
/// `ConnectInfo<PeerAddr>` (`http::client_address`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PeerAddr(pub SocketAddr);

impl<L> axum::serve::Listener for CataloguedListener<L>
where
    L: axum::serve::Listener<Addr = SocketAddr>,
{
    type Io = CataloguedIo<L::Io>;
    type Addr = PeerAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        // For TCP, axum's own accept loop: it waits out transient errors (EMFILE and
        // the like) instead of ending the server.
        let (stream, addr) = axum::serve::Listener::accept(&mut self.inner).await;
        (
            CataloguedIo::new(stream, self.state.clone()),
            PeerAddr(addr),
        )
    }

    fn local_addr(&self) -> io::Result<Self::Addr> {
        self.inner.local_addr().map(PeerAddr)
    }
}

/// One connection: reads pass through; a head hyper wrote on its own is replaced.
pub struct CataloguedIo<S> {
    inner: S,
    state: AppState,
    /// The catalogued answer still to send, and how much of it went.
    pending: Vec<u8>,
    sent: usize,
}

impl<S> CataloguedIo<S> {
    pub fn new(inner: S, state: AppState) -> Self {
        Self {
            inner,
            state,
            pending: Vec::new(),
            sent: 0,
        }
    }
}

/// The status of `buf` when it is a response head hyper wrote for a parse error: a
/// whole head and nothing after it, one of the statuses hyper uses for them, empty,
/// closing the connection, and without the trace id our middleware puts on every
/// response.
fn hyper_refusal(buf: &[u8]) -> Option<u16> {
    let rest = buf.strip_prefix(b"HTTP/1.1 ")?;
    let status = match rest.get(..4)? {
        b"400 " => 400,
        b"414 " => 414,
        b"431 " => 431,
        _ => return None,
    };
    let end = buf.windows(4).position(|w| w == b"\r\n\r\n")?;
    if end + 4 != buf.len() {
        return None;
    }
    let head = String::from_utf8_lossy(&buf[..end]).to_ascii_lowercase();
    let own = head.contains("\r\nconnection: close")
        && head.contains("\r\ncontent-length: 0")
        && !head.contains("\r\nx-trace-id:");
    own.then_some(status)
}

/// The catalogued response for a refusal with `status`, logged with its trace id.
fn catalogued(state: &AppState, status: u16) -> Vec<u8> {
    let err = match status {
        414 => CatalogError::new(ErrorName::UriTooLong),
        431 => CatalogError::new(ErrorName::RequestHeadersTooLarge),
        _ => CatalogError::new(ErrorName::InvalidRequestFormat).with(
            "detail",
            "the HTTP request line or a header is malformed (RFC 9112 sections 3 and 5)",
        ),
    };
    let ctx = ErrorContext {
        trace_id: TraceId::generate(state.rng.as_ref()),
        correlation_id: CorrelationId::generate(state.rng.as_ref()),
        timestamp: state.clock.now(),
        public_url: state.public_url.clone(),
    };
    let body = oauth_json(&err, &ctx);
    tracing::info!(
        trace_id = ctx.trace_id.as_str(),
        status,
        code = err.entry().code_str(),
        "refused a malformed HTTP request before routing"
    );
    let reason = match status {
        414 => "URI Too Long",
        431 => "Request Header Fields Too Large",
        _ => "Bad Request",
    };
    format!(
        "HTTP/1.1 {status} {reason}\r\ncontent-type: application/json\r\ncache-control: no-store\r\n\
         x-trace-id: {}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
        ctx.trace_id.as_str(),
        body.len()
    )
    .into_bytes()
}

impl<S: AsyncWrite + Unpin> CataloguedIo<S> {
    /// Writes what is left of the catalogued answer.
    fn poll_drain(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        while self.sent < self.pending.len() {
            let n = ready!(Pin::new(&mut self.inner).poll_write(cx, &self.pending[self.sent..]))?;
            if n == 0 {
                return Poll::Ready(Err(io::ErrorKind::WriteZero.into()));
            }
            self.sent += n;
        }
        Poll::Ready(Ok(()))
    }

    /// Takes `first` (the first buffer of a write of `total` bytes) as hyper's refusal
    /// when it is one: the catalogued answer is queued in its place and the write
    /// reported done.
    fn replace(
        &mut self,
        cx: &mut Context<'_>,
        first: &[u8],
        total: usize,
    ) -> Option<Poll<io::Result<usize>>> {
        let status = hyper_refusal(first).filter(|_| first.len() == total)?;
        self.pending = catalogued(&self.state, status);
        self.sent = 0;
        Some(match self.poll_drain(cx) {
            Poll::Ready(Err(e)) => Poll::Ready(Err(e)),
            // The rest goes out on flush or shutdown, which hyper calls next.
            _ => Poll::Ready(Ok(total)),
        })
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for CataloguedIo<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for CataloguedIo<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        ready!(self.poll_drain(cx))?;
        if let Some(done) = self.replace(cx, buf, buf.len()) {
            return done;
        }
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        ready!(self.poll_drain(cx))?;
        let total = bufs.iter().map(|b| b.len()).sum();
        if let Some(first) = bufs.iter().find(|b| !b.is_empty())
            && let Some(done) = self.replace(cx, first, total)
        {
            return done;
        }
        Pin::new(&mut self.inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        ready!(self.poll_drain(cx))?;
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        ready!(self.poll_drain(cx))?;
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::hyper_refusal;

    #[test]
    fn only_hypers_own_empty_closing_heads_are_taken() {
        let own = b"HTTP/1.1 400 Bad Request\r\nconnection: close\r\ncontent-length: 0\r\ndate: Sun, 06 Dec 2026 22:26:38 GMT\r\n\r\n";
        assert_eq!(hyper_refusal(own), Some(400));
        let big = b"HTTP/1.1 431 Request Header Fields Too Large\r\nconnection: close\r\ncontent-length: 0\r\n\r\n";
        assert_eq!(hyper_refusal(big), Some(431));
        // Ours: a trace id, a body, another status, a head cut short.
        let ours = b"HTTP/1.1 400 Bad Request\r\nx-trace-id: ab\r\nconnection: close\r\ncontent-length: 0\r\n\r\n";
        assert_eq!(hyper_refusal(ours), None);
        let with_body =
            b"HTTP/1.1 400 Bad Request\r\nconnection: close\r\ncontent-length: 0\r\n\r\n{}";
        assert_eq!(hyper_refusal(with_body), None);
        let other = b"HTTP/1.1 404 Not Found\r\nconnection: close\r\ncontent-length: 0\r\n\r\n";
        assert_eq!(hyper_refusal(other), None);
        assert_eq!(
            hyper_refusal(b"HTTP/1.1 400 Bad Request\r\nconnection: close"),
            None
        );
        assert_eq!(hyper_refusal(b"{\"error\":\"HTTP/1.1 400 \"}"), None);
    }
}
