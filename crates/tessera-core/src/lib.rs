//! Tessera's core: protocol and domain types, the error catalogue and the store contract.
//!
//! Nothing here performs I/O: time comes from [`clock::Clock`], randomness from
//! [`rng::Rng`], persistence from the traits in [`store`]. The server crate wires real
//! implementations in; tests wire fixed ones.

pub mod audit;
pub mod clock;
pub mod crypto;
pub mod directory;
pub mod errors;
pub mod ids;
pub mod key_ring;
pub mod keys;
pub mod network;
pub mod oauth;
pub mod platform;
pub mod retry;
pub mod rng;
pub mod secret;
pub mod store;
pub mod tenant;
pub mod trace;
