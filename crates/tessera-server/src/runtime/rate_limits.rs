//! Rate limits (RateLimited: 429 with `Retry-After`) per client address and per client,
//! for each kind of endpoint a flood aims at: authorization, password sign-in, token,
//! device authorization. The tenant's policy sets how many requests a minute each may
//! make (`rate_limit_per_address_per_minute`, `rate_limit_per_client_per_minute`; 0
//! turns one off), as a burst of that size refilled evenly over the minute (GCRA, by
//! the `governor` crate).
//!
//! Counts are each node's own, in memory: behind a load balancer a client gets up to
//! the limit at every node (docs/sign-in-and-logout.md). Their clock is the monotonic
//! one, not the injected clock: they bound load, not a protocol time.

use governor::clock::{Clock, DefaultClock};
use std::collections::HashMap;
use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::{Arc, Mutex};
use tessera_core::errors::{CatalogError, ErrorName};
use tessera_core::ids::TenantId;
use tessera_core::tenant::Tenant;

/// What a limit counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Endpoint {
    /// `/{t}/oauth2/authorize`.
    Authorize,
    /// Every password form (sign-in, device sign-in, admin consent sign-in).
    SignIn,
    /// `/{t}/oauth2/token` (and `/common/oauth2/token`).
    Token,
    /// `/{t}/oauth2/devicecode` and the device page's code form.
    Device,
}

/// Who is counted.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Subject {
    Address(IpAddr),
    /// An authenticated client's client_id.
    Client(String),
}

type Key = (TenantId, Endpoint, Subject);
type Limiter = governor::DefaultKeyedRateLimiter<Key>;

/// The limiters, one per rate in use (tenants with the same rate share one, keyed by
/// tenant too).
pub struct RateLimits {
    limiters: Mutex<HashMap<NonZeroU32, Arc<Limiter>>>,
    /// One refusal a minute per subject and endpoint goes to the sign-in log
    /// ([`RateLimits::log_refusal`]).
    logged_refusals: Limiter,
}

impl Default for RateLimits {
    fn default() -> Self {
        Self {
            limiters: Mutex::default(),
            logged_refusals: Limiter::dashmap(governor::Quota::per_minute(NonZeroU32::MIN)),
        }
    }
}

impl RateLimits {
    fn limiter(&self, per_minute: NonZeroU32) -> Arc<Limiter> {
        let mut limiters = self.limiters.lock().unwrap_or_else(|e| e.into_inner());
        Arc::clone(
            limiters.entry(per_minute).or_insert_with(|| {
                Arc::new(Limiter::dashmap(governor::Quota::per_minute(per_minute)))
            }),
        )
    }

    /// Counts one request of `subject` at `endpoint` of `tenant`; RateLimited, saying
    /// when to try again, once its limit is spent.
    pub fn check(
        &self,
        tenant: &Tenant,
        endpoint: Endpoint,
        subject: Subject,
    ) -> Result<(), CatalogError> {
        let per_minute = match subject {
            Subject::Address(_) => tenant.policy.rate_limit_per_address_per_minute,
            Subject::Client(_) => tenant.policy.rate_limit_per_client_per_minute,
        };
        let Some(per_minute) = NonZeroU32::new(per_minute) else {
            return Ok(());
        };
        match self
            .limiter(per_minute)
            .check_key(&(tenant.id, endpoint, subject))
        {
            Ok(()) => Ok(()),
            Err(not_until) => {
                let wait = not_until.wait_time_from(DefaultClock::default().now());
                let seconds = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
                Err(CatalogError::new(ErrorName::RateLimited)
                    .with("seconds", seconds.to_string())
                    .retry_after(seconds))
            }
        }
    }

    /// [`RateLimits::check`] for a client address, when one is known.
    pub fn check_address(
        &self,
        tenant: &Tenant,
        endpoint: Endpoint,
        address: Option<IpAddr>,
    ) -> Result<(), CatalogError> {
        match address {
            Some(ip) => self.check(tenant, endpoint, Subject::Address(ip)),
            None => Ok(()),
        }
    }

    /// Whether a request of `address` that [`RateLimits::check_address`] refused is the
    /// first of that address at `endpoint` of `tenant` in the last minute. The sign-in
    /// log records that one and not the rest: a flood from one address past its limit
    /// is then seen in the log at no more than one store write a minute, not one per
    /// request. Without an address there was no limit to refuse by: true.
    pub fn log_refusal(
        &self,
        tenant: &Tenant,
        endpoint: Endpoint,
        address: Option<IpAddr>,
    ) -> bool {
        address.is_none_or(|ip| {
            self.logged_refusals
                .check_key(&(tenant.id, endpoint, Subject::Address(ip)))
                .is_ok()
        })
    }

    /// Forgets the counts of everyone back at a full allowance, so memory follows the
    /// clients of the last minute (run with every sweep).
    pub fn forget_idle(&self) {
        let limiters: Vec<Arc<Limiter>> = self
            .limiters
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .values()
            .cloned()
            .collect();
        for limiter in limiters.iter().map(|l| &**l).chain([&self.logged_refusals]) {
            limiter.retain_recent();
            limiter.shrink_to_fit();
        }
    }
}
