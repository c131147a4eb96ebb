//! Self-service account pages under `/{t}/account`: the overview (consents given to
//! apps, each revocable; signing out everywhere) and changing one's password.

mod overview;
mod password;

use crate::runtime::state::AppState;
use axum::Router;

pub fn routes() -> Router<AppState> {
    Router::new()
        .merge(password::routes())
        .merge(overview::routes())
}
