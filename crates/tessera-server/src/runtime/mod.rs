//! What a running server holds beside its routes: the shared state, the caches, the
//! password pool, the master key ring and its re-seal, the bootstrap of a new store, the sweeper and the
//! retry of writes that lost a race.

pub mod bootstrap;
pub mod cache;
pub mod key_schedule;
pub mod master_key;
pub mod outbound;
pub mod passwords;
pub mod rate_limits;
pub mod reseal;
pub(crate) mod retry;
pub mod signers;
pub mod state;
pub mod sweep;
pub mod verified_tokens;
