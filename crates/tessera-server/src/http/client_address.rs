//! The client's address as sign-in policy sees it: the TCP peer, or behind a trusted
//! proxy the address `X-Forwarded-For` names (`tessera_core::network::client_address`).
//! `None` when the server runs without peer addresses (in-process tests).

use crate::http::malformed::PeerAddr;
use crate::runtime::state::AppState;
use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;
use std::convert::Infallible;
use std::net::{IpAddr, SocketAddr};

pub struct ClientAddress(pub Option<IpAddr>);

impl FromRequestParts<AppState> for ClientAddress {
    type Rejection = Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        // `serve`'s listener names peers as PeerAddr; a plain TcpListener (tests) as
        // SocketAddr.
        let peer = match parts.extensions.get::<ConnectInfo<PeerAddr>>() {
            Some(ConnectInfo(PeerAddr(peer))) => *peer,
            None => match parts.extensions.get::<ConnectInfo<SocketAddr>>() {
                Some(ConnectInfo(peer)) => *peer,
                None => return Ok(Self(None)),
            },
        };
        // Several header lines are one list, in order (RFC 9110 §5.3). Bytes that are not
        // text are kept as replacement characters, never a reason to drop a line: the
        // client writes the left part of the line a proxy appends to, and a dropped line
        // would make the proxy itself the client, outside every block list.
        let forwarded: Vec<std::borrow::Cow<'_, str>> = parts
            .headers
            .get_all("x-forwarded-for")
            .iter()
            .map(|v| String::from_utf8_lossy(v.as_bytes()))
            .collect();
        let forwarded = (!forwarded.is_empty()).then(|| forwarded.join(","));
        Ok(Self(Some(tessera_core::network::client_address(
            peer.ip(),
            forwarded.as_deref(),
            &state.trusted_proxies,
        ))))
    }
}
