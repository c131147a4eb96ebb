//! What every handler can reach: the store, the injected clock and randomness, and the
//! settings that shape responses.

use std::sync::Arc;
use tessera_core::clock::Clock;
use tessera_core::crypto::MasterKey;
use tessera_core::rng::Rng;
use tessera_core::store::Store;

/// Shared application state; one pointer, so cloning it for every extractor and
/// middleware is one reference count (cloning a dozen `Arc`s per request showed up as
/// 8% of the discovery profile). Fields are reached through `Deref`; assigning one
/// (`state.clock = …`, before serving) copies the state if it is already shared.
#[derive(Clone)]
pub struct AppState(Arc<Shared>);

impl std::ops::Deref for AppState {
    type Target = Shared;
    fn deref(&self) -> &Shared {
        &self.0
    }
}

impl std::ops::DerefMut for AppState {
    fn deref_mut(&mut self) -> &mut Shared {
        Arc::make_mut(&mut self.0)
    }
}

/// What `AppState` points at.
#[derive(Clone)]
pub struct Shared {
    pub store: Arc<dyn Store>,
    pub clock: Arc<dyn Clock>,
    pub rng: Arc<dyn Rng>,
    /// Base of every issuer and `error_uri`, without a trailing slash.
    pub public_url: Arc<str>,
    /// Largest request body accepted, in bytes (protocol endpoints; 64 KiB default).
    pub max_body_bytes: usize,
    /// How long a request's body may take to arrive (`request_body_timeout_ms`).
    pub body_timeout: std::time::Duration,
    pub metrics: crate::http::metrics::Metrics,
    /// Keys client-secret hashes and seals secrets at rest.
    pub master: Arc<MasterKey>,
    /// The bounded Argon2id pool.
    pub passwords: crate::runtime::passwords::Passwords,
    /// Opened signing keys, so tokens are signed without unsealing a key each time.
    pub signers: crate::runtime::signers::Signers,
    /// Tenants, apps, APIs, keys and deny-lists kept in memory (`crate::runtime::cache`).
    pub cache: crate::runtime::cache::Cache,
    /// Access tokens whose signature verified before (`oauth::verified_tokens`).
    pub verified_tokens: crate::runtime::verified_tokens::VerifiedTokens,
    /// `serve --demo`: the demo relying party's routes are mounted.
    pub demo: bool,
    /// The HTTP client of back-channel logout, and its retry pauses.
    pub outbound: crate::runtime::outbound::Outbound,
    /// Proxies whose `X-Forwarded-For` names the client (`trusted_proxies`).
    pub trusted_proxies: Arc<[ipnet::IpNet]>,
    /// Passwords no one may choose (`password_deny_list`), empty without one.
    pub password_deny_list: Arc<tessera_core::directory::password_policy::DenyList>,
    /// What an unknown user's answer imitates: the decoy hash at this pool's cost, and
    /// how long a wrong password's bookkeeping takes (`oauth::password`).
    pub unknown_users: Arc<crate::oauth::password::UnknownUsers>,
    /// Requests counted per client address and per client (`runtime::rate_limits`).
    pub rate_limits: Arc<crate::runtime::rate_limits::RateLimits>,
}

impl Shared {
    /// Cookies carry `Secure` whenever the public URL is https.
    pub fn secure_cookies(&self) -> bool {
        self.public_url.starts_with("https://")
    }

    /// Why `password` may not be `username`'s new password in `tenant`, as a
    /// PasswordPolicyViolation (`password_policy::check`).
    pub fn password_allowed(
        &self,
        tenant: &tessera_core::tenant::Tenant,
        username: &str,
        password: &str,
    ) -> Result<(), tessera_core::errors::CatalogError> {
        tessera_core::directory::password_policy::check(
            tenant.policy.password_min_length,
            &self.password_deny_list,
            username,
            password,
        )
        .map_err(|reason| {
            tessera_core::errors::CatalogError::new(
                tessera_core::errors::ErrorName::PasswordPolicyViolation,
            )
            .with("reason", reason)
        })
    }

    /// The issuer of a tenant (`{public_url}/{slug}`).
    pub fn issuer(&self, slug: &str) -> String {
        format!("{}/{slug}", self.public_url)
    }
}

impl AppState {
    pub fn new(store: Arc<dyn Store>, public_url: &str, master: MasterKey) -> Self {
        let cache = crate::runtime::cache::Cache::default();
        cache.listen_to(store.as_ref());
        Self(Arc::new(Shared {
            cache,
            store,
            clock: Arc::new(tessera_core::clock::SystemClock),
            rng: Arc::new(tessera_core::rng::OsRng),
            public_url: public_url.trim_end_matches('/').into(),
            max_body_bytes: crate::cli::settings::DEFAULT_MAX_BODY_BYTES,
            body_timeout: crate::cli::settings::DEFAULT_REQUEST_TIMEOUT,
            metrics: crate::http::metrics::Metrics::global(),
            master: Arc::new(master),
            passwords: crate::runtime::passwords::Passwords::default(),
            signers: crate::runtime::signers::Signers::default(),
            verified_tokens: Default::default(),
            demo: false,
            outbound: Default::default(),
            password_deny_list: Default::default(),
            trusted_proxies: Arc::from([]),
            unknown_users: Default::default(),
            rate_limits: Default::default(),
        }))
    }
}
