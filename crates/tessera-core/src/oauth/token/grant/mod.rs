//! One file per grant; [`super::exchange`] dispatches to them by an exhaustive match.

pub mod authorization_code;
pub mod client_credentials;
pub mod device_code;
pub mod refresh_token;
pub mod token_exchange;
