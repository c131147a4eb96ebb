//! The server crate's one integration-test binary; a module per feature.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod account;
mod admin_api;
mod admin_cli;
mod admin_tokens;
mod authorize_errors;
mod bad_input;
mod binary;
mod browser;
mod catalogue;
mod client_assertion;
mod client_credentials;
mod cors;
mod golden;
mod health;
mod import_export;
mod jwks;
mod multi_node;
mod oidc;
mod refresh;
mod revocation;
mod sign_in_flow;
mod support;
mod token_errors;
mod token_exchange;
mod userinfo_errors;
