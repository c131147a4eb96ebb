//! The OAuth 2.0 / OpenID Connect endpoints of a tenant: authorization with its sign-in
//! and consent pages, token, device authorization with its page, revocation,
//! introspection, UserInfo and discovery. The
//! protocol rules themselves live in `tessera_core::oauth`; these files add HTTP,
//! cookies and the server's caches. This file holds the route table only.

pub(crate) mod access_token;
mod admin_consent;
pub(crate) mod authorize;
mod backchannel;
mod consent;
pub(crate) mod cookies;
mod cors;
pub(crate) mod csrf;
mod device;
mod discovery;
mod id_token_hint;
mod introspect;
mod logout;
pub(crate) mod lookup;
mod meta;
pub(crate) mod pages;
pub(crate) mod password;
mod respond;
mod revoke;
pub(crate) mod second_factor;
pub(crate) mod session;
pub(crate) mod sign_in_log;
mod signin;
pub mod signing;
pub(crate) mod token;
mod user_realm;
mod userinfo;

use crate::runtime::state::AppState;
use axum::Router;
use axum::routing::{any, get, post};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/{tenant}/oauth2/authorize",
            get(authorize::get).post(authorize::post),
        )
        .route("/{tenant}/adminconsent", get(admin_consent::get))
        .route(
            "/{tenant}/adminconsent/sign-in",
            post(admin_consent::sign_in),
        )
        .route(
            "/{tenant}/adminconsent/confirm",
            post(admin_consent::confirm),
        )
        .route("/{tenant}/wsfed", any(authorize::ws_federation))
        .route("/{tenant}/saml2", any(authorize::saml2))
        .route("/{tenant}/signin/password", post(signin::password))
        .route("/{tenant}/signin/consent", post(signin::consent))
        .route("/{tenant}/signin/select", post(signin::select))
        .route(
            "/{tenant}/signin/second-factor",
            post(second_factor::submit),
        )
        .route(
            "/{tenant}/oauth2/logout",
            get(logout::get).post(logout::post),
        )
        .route("/{tenant}/oauth2/logout/confirm", post(logout::confirm))
        .route("/{tenant}/oauth2/devicecode", post(device::authorize))
        .route("/{tenant}/device", get(device::show).post(device::enter))
        .route("/{tenant}/device/sign-in", post(device::sign_in))
        .route("/{tenant}/device/confirm", post(device::confirm))
        .route(
            "/{tenant}/oauth2/token",
            post(token::token).options(cors::preflight),
        )
        .route(
            "/{tenant}/oauth2/revoke",
            post(revoke::revoke).options(cors::preflight),
        )
        .route("/{tenant}/oauth2/introspect", post(introspect::introspect))
        .route(
            "/{tenant}/oauth2/userinfo",
            get(userinfo::userinfo)
                .post(userinfo::userinfo)
                .options(cors::preflight),
        )
        .route("/common/oauth2/token", post(meta::token))
        .route("/organizations/oauth2/token", post(meta::token))
        .route("/consumers/oauth2/token", post(meta::token))
        .merge(entra_paths())
        .merge(discovery::routes())
}

/// Entra ID's path layout beside Tessera's, on every tenant and meta-tenant, for apps
/// written for Entra ID with Microsoft's MSAL libraries (docs/msal.md): the same
/// handlers; the token endpoint speaks Entra's dialect there (`token::Dialect`).
fn entra_paths() -> Router<AppState> {
    Router::new()
        .route(
            "/{tenant}/oauth2/v2.0/authorize",
            get(authorize::get).post(authorize::post),
        )
        .route(
            "/{tenant}/oauth2/v2.0/token",
            post(token::token).options(cors::preflight),
        )
        .route("/{tenant}/oauth2/v2.0/devicecode", post(device::authorize))
        .route(
            "/{tenant}/oauth2/v2.0/logout",
            get(logout::get).post(logout::post),
        )
        .route("/common/oauth2/v2.0/token", post(meta::token))
        .route("/organizations/oauth2/v2.0/token", post(meta::token))
        .route("/consumers/oauth2/v2.0/token", post(meta::token))
        .route("/common/userrealm/{user}", get(user_realm::user_realm))
        .route(
            "/organizations/userrealm/{user}",
            get(user_realm::user_realm),
        )
}

pub use session::{
    Revocation, ended_sign_ins, revoke_all as revoke_sessions, revoke_refresh_tokens,
    withdraw_consent,
};
