//! Tessera's store backends: [`sqlite::SqliteStore`] (the embedded default) and
//! [`postgres::PgStore`] (several nodes), both implementing
//! [`tessera_core::store::Store`] with the same migrations and, where the dialects agree,
//! the same SQL ([`sql`]).

mod changes;
mod database_url;
mod migrations;
pub mod postgres;
mod postgres_batch;
mod postgres_lane;
mod sql;
pub mod sqlite;
#[cfg(feature = "test-support")]
pub mod testing;
mod timed;

pub use database_url::{DatabaseUrl, DatabaseUrlError};
pub use migrations::{MIGRATIONS, Migration};
pub use timed::Timed;

use std::sync::Arc;
use tessera_core::store::{Store, StoreResult};

/// Opens the store at `url`, creating the SQLite file (and its directory) on first use,
/// and applies pending migrations.
pub async fn open(url: &DatabaseUrl) -> StoreResult<Arc<dyn Store>> {
    match url {
        DatabaseUrl::Sqlite(path) => Ok(Arc::new(sqlite::SqliteStore::open(path).await?)),
        DatabaseUrl::Postgres(options) => Ok(Arc::new(
            postgres::PgStore::connect((**options).clone()).await?,
        )),
    }
}
