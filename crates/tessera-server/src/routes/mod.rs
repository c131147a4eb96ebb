//! The route table. Each module owns its routes; this file only assembles them.

mod assets;
mod catalogue;
pub mod demo;
mod fallback;
mod health;
mod jwks;

use crate::runtime::state::AppState;
use axum::Router;

pub fn router() -> Router<AppState> {
    Router::new()
        .merge(health::routes())
        .merge(catalogue::routes())
        .merge(assets::routes())
        .merge(jwks::routes())
        .merge(crate::oauth::routes())
        .merge(crate::account::routes())
        .merge(crate::admin::router())
        .fallback(fallback::not_found)
        .method_not_allowed_fallback(fallback::method_not_allowed)
}

/// An entry as the JSON `/errors/{code}` serves (shared with `tessera explain --json`).
pub fn entry_json(e: &'static tessera_core::errors::Entry) -> catalogue::EntryView {
    catalogue::EntryView::from(e)
}
