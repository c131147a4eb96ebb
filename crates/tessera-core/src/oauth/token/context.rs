//! What a token request runs against: the tenant, the store, the injected clock and
//! randomness, the master key, and the narrow [`TokenServices`] through which the
//! server lends its caches. Nothing here performs I/O of its own.

use crate::clock::Clock;
use crate::crypto::MasterKey;
use crate::directory::model::{Api, App};
use crate::errors::CatalogError;
use crate::ids::ClientId;
use crate::ids::TenantId;
use crate::keys::SigningAlg;
use crate::oauth::jose::Signer;
use crate::rng::Rng;
use crate::store::Store;
use crate::tenant::Tenant;
use std::sync::Arc;
use std::time::Duration;

/// What the server's in-process caches provide to the token engine. Each read is of
/// data that nearly every request needs and hardly any request changes; the server
/// answers from memory and keeps it fresh (its cache module says how).
#[async_trait::async_trait]
pub trait TokenServices: Send + Sync {
    /// The app with this client_id in the tenant, if there is one: the tenant's own, or
    /// a multi-tenant app of another tenant that serves this one's users
    /// (`oauth::tenancy::foreign_app`, whose refusals are the error).
    async fn app(&self, tenant: &Tenant, client_id: &ClientId)
    -> Result<Option<App>, CatalogError>;

    /// Every API of the tenant.
    async fn apis(&self, tenant_id: TenantId) -> Result<Arc<Vec<Api>>, CatalogError>;

    /// The signer of the tenant's active key of `alg`, already opened.
    async fn signer(
        &self,
        tenant_id: TenantId,
        alg: SigningAlg,
    ) -> Result<Arc<Signer>, CatalogError>;

    /// The claims of `token` when it is a current access token of `tenant`: signed by
    /// one of its keys, `typ` at+jwt, its issuer, within its lifetime, not revoked
    /// (RFC 9068 §4). Its audience and scopes are the caller's to check.
    async fn access_token(
        &self,
        tenant: &Tenant,
        token: &str,
    ) -> Result<serde_json::Map<String, serde_json::Value>, CatalogError>;

    /// Waits `duration` before a change that lost a race is tried again
    /// (`crate::retry::on_conflict`).
    async fn pause(&self, duration: Duration);
}

/// One token request's surroundings.
pub struct TokenContext<'a> {
    pub tenant: &'a Tenant,
    /// The tenant's issuer (`{public_url}/{slug}`): `iss` of every token.
    pub issuer: String,
    pub store: &'a dyn Store,
    pub clock: &'a dyn Clock,
    pub rng: &'a dyn Rng,
    /// Seals codes and refresh tokens, keys their hashes and client-secret hashes.
    pub master: &'a MasterKey,
    pub services: &'a dyn TokenServices,
}

impl TokenContext<'_> {
    /// The UserInfo endpoint: the audience of tokens that carry only OIDC scopes.
    pub fn userinfo_url(&self) -> String {
        userinfo_url(&self.issuer)
    }
}

/// The UserInfo endpoint of the tenant whose issuer is `issuer`.
pub fn userinfo_url(issuer: &str) -> String {
    format!("{issuer}/oauth2/userinfo")
}

/// The token endpoint of the tenant whose issuer is `issuer`: an audience client
/// assertions may name (RFC 7523 §3).
pub fn token_endpoint(issuer: &str) -> String {
    format!("{issuer}/oauth2/token")
}
