//! Tokens of single-page apps stay in the browser: a code issued to an app's `spa`
//! redirect URI, and the refresh tokens it leads to, are redeemed only by a cross-origin
//! request (which always carries `Origin`) from one of that app's own origins. A server
//! that got hold of one cannot redeem it (no Origin: SpaOriginRequired), nor a page of
//! another site (SpaOriginMismatch). The server's CORS uses the same origins.

use crate::directory::model::App;
use crate::directory::redirect::Platform;
use crate::errors::{CatalogError, ErrorName};

/// The web origins (RFC 6454 §6.2 serialization) of `app`'s `spa` redirect URIs.
pub fn spa_origins(app: &App) -> impl Iterator<Item = String> + '_ {
    app.redirect_uris
        .spa
        .iter()
        .filter_map(|u| url::Url::parse(u).ok())
        .map(|u| u.origin().ascii_serialization())
}

/// Whether a grant issued on `platform` may be redeemed by a request with `origin` (its
/// `Origin` header) for `app`.
pub fn check_origin(
    app: &App,
    platform: Platform,
    origin: Option<&str>,
) -> Result<(), CatalogError> {
    if platform != Platform::Spa {
        return Ok(());
    }
    let Some(origin) = origin else {
        return Err(CatalogError::new(ErrorName::SpaOriginRequired));
    };
    if spa_origins(app).any(|o| o == origin) {
        Ok(())
    } else {
        Err(CatalogError::new(ErrorName::SpaOriginMismatch)
            .with("origin", origin.chars().take(200).collect::<String>())
            .with("client_id", app.client_id.clone()))
    }
}
