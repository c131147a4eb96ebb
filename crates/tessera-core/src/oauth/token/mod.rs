//! The token endpoint's protocol (RFC 6749 §3.2), without HTTP: the client's
//! authentication ([`client_auth`]), the typed request ([`request`]), and [`exchange`],
//! which runs one grant per file (`grant/`) against a [`context::TokenContext`] and
//! returns the response or the catalogued error. The server's handler only resolves the
//! tenant, calls these in order and renders the result.
//!
//! Adding a grant: a variant of `TokenRequest` (parsed in `request.rs`), a file under
//! `grant/`, and its arm in [`exchange`].

pub mod browser;
pub mod client_assertion;
pub mod client_auth;
pub mod context;
pub mod deny_list;
pub mod family;
pub mod grant;
pub mod issue;
pub mod request;

#[cfg(test)]
mod tests;

use crate::directory::model::App;
use crate::errors::CatalogError;
pub use client_auth::ClientAuthentication;
pub use context::{TokenContext, TokenServices};
pub use issue::TokenResponse;
pub use request::TokenRequest;

/// Runs the grant `request` names for the authenticated `app` (`ClientAuthentication::
/// authenticate`; the request parsed for that app by `TokenRequest::parse`).
pub async fn exchange(
    ctx: &TokenContext<'_>,
    app: &App,
    request: &TokenRequest,
) -> Result<TokenResponse, CatalogError> {
    match request {
        TokenRequest::AuthorizationCode(r) => {
            grant::authorization_code::exchange(ctx, app, r).await
        }
        TokenRequest::RefreshToken(r) => grant::refresh_token::exchange(ctx, app, r).await,
        TokenRequest::ClientCredentials(r) => {
            grant::client_credentials::exchange(ctx, app, r).await
        }
        TokenRequest::DeviceCode(r) => grant::device_code::exchange(ctx, app, r).await,
        TokenRequest::TokenExchange(r) => grant::token_exchange::exchange(ctx, app, r).await,
    }
}
