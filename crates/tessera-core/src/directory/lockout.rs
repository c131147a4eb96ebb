//! Smart lockout: a user's failed passwords, counted in the store so every node sees
//! them, lock the account for the tenant's `lockout_seconds` once `lockout_threshold` of
//! them fall within `lockout_window_seconds`; each further lockout before a successful
//! sign-in lasts twice as long (at most a day).
//!
//! Two counters, as Entra ID's smart lockout keeps apart familiar and unfamiliar
//! locations: one for networks the user has signed in from before (up to
//! [`KNOWN_NETWORKS`], kept as keyed hashes of the /24 or /64 network, never the
//! address), one for every other network. Someone guessing from elsewhere locks only
//! the second, so the owner, at home or at the office, still signs in; and the owner's
//! sign-in there starts over only the familiar count, so it gives the guesser no fresh
//! tries.
//!
//! The record is read and written by the server's password check (`oauth::password`)
//! with the stored version, so concurrent failures on several nodes are each counted.

use crate::errors::{CatalogError, ErrorName};
use crate::tenant::TenantPolicy;
use serde::{Deserialize, Serialize};
use time::{Duration, OffsetDateTime};

/// How many networks of past sign-ins a user's record remembers.
pub const KNOWN_NETWORKS: usize = 10;
/// The longest a lockout lasts, however often it repeats.
pub const MAX_LOCKOUT: Duration = Duration::days(1);

/// One user's failed sign-ins (`ObjectKind::SignInFailures`, keyed by the user's key).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignInFailures {
    /// The user's key (the record is found and deleted with the user).
    pub user: String,
    /// Failures from networks the user signed in from before.
    pub familiar: Counter,
    /// Failures from anywhere else (or from an unknown address).
    pub unfamiliar: Counter,
    /// Keyed hashes of the networks of the last successful sign-ins, most recent first.
    pub known_networks: Vec<String>,
    /// The time step of the last TOTP code accepted: it and every earlier one are spent
    /// (`directory::totp::verify`). Kept here, with the failures a wrong code counts
    /// towards, so every node refuses a code used on another.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub totp_last_step: Option<i64>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counter {
    pub failures: u32,
    /// When the first failure counted now happened.
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub since: Option<OffsetDateTime>,
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub locked_until: Option<OffsetDateTime>,
    /// Lockouts since the last successful sign-in counted here: the next one lasts 2^n
    /// times longer.
    pub lockouts: u32,
}

/// AccountLocked, saying when the account unlocks.
pub fn account_locked(until: OffsetDateTime) -> CatalogError {
    CatalogError::new(ErrorName::AccountLocked)
        .with("until", crate::errors::render::timestamp(until))
}

/// Which counter a sign-in attempt counts against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Familiarity {
    Familiar,
    Unfamiliar,
}

impl SignInFailures {
    pub fn new(user: &str) -> Self {
        Self {
            user: user.to_owned(),
            ..Self::default()
        }
    }

    /// Whether the network with this keyed hash is one the user signed in from; `None`
    /// (no address known) is unfamiliar.
    pub fn familiarity(&self, network: Option<&str>) -> Familiarity {
        match network {
            Some(n) if self.known_networks.iter().any(|k| k == n) => Familiarity::Familiar,
            _ => Familiarity::Unfamiliar,
        }
    }

    fn counter(&mut self, which: Familiarity) -> &mut Counter {
        match which {
            Familiarity::Familiar => &mut self.familiar,
            Familiarity::Unfamiliar => &mut self.unfamiliar,
        }
    }

    /// AccountLocked, saying when it unlocks, while `which` counter is locked at `now`.
    pub fn check(&self, which: Familiarity, now: OffsetDateTime) -> Result<(), CatalogError> {
        let counter = match which {
            Familiarity::Familiar => &self.familiar,
            Familiarity::Unfamiliar => &self.unfamiliar,
        };
        match counter.locked_until {
            Some(until) if until > now => Err(account_locked(until)),
            _ => Ok(()),
        }
    }

    /// Counts a wrong password against `which` counter; returns when the account
    /// unlocks if this failure locked it.
    pub fn failed(
        &mut self,
        which: Familiarity,
        now: OffsetDateTime,
        policy: &TenantPolicy,
    ) -> Option<OffsetDateTime> {
        let window = Duration::seconds(i64::from(policy.lockout_window_seconds));
        let threshold = policy.lockout_threshold.max(1);
        let base = Duration::seconds(i64::from(policy.lockout_seconds));
        let counter = self.counter(which);
        // A lockout that has ended starts a fresh count.
        if counter.locked_until.is_some_and(|until| until <= now) {
            counter.locked_until = None;
        }
        if counter.since.is_none_or(|since| now - since >= window) {
            counter.failures = 0;
            counter.since = Some(now);
        }
        counter.failures += 1;
        if counter.failures < threshold {
            return None;
        }
        let factor = 1i32 << counter.lockouts.min(16);
        let until = now + (base * factor).min(MAX_LOCKOUT);
        counter.failures = 0;
        counter.since = None;
        counter.locked_until = Some(until);
        counter.lockouts = counter.lockouts.saturating_add(1);
        Some(until)
    }

    /// A successful sign-in from `network`, counted as `which`: that count starts over
    /// and the network becomes familiar.
    pub fn succeeded(&mut self, which: Familiarity, network: Option<String>) {
        *self.counter(which) = Counter::default();
        if let Some(n) = network {
            self.known_networks.retain(|k| *k != n);
            self.known_networks.insert(0, n);
            self.known_networks.truncate(KNOWN_NETWORKS);
        }
    }

    /// An administrator unlocks the account: both counters start over (the networks
    /// stay familiar).
    pub fn unlock(&mut self) {
        self.familiar = Counter::default();
        self.unfamiliar = Counter::default();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy() -> TenantPolicy {
        TenantPolicy {
            lockout_threshold: 3,
            lockout_seconds: 60,
            lockout_window_seconds: 600,
            ..TenantPolicy::default()
        }
    }

    const T0: OffsetDateTime = time::macros::datetime!(2026-12-01 10:00 UTC);

    #[test]
    fn the_threshold_within_the_window_locks_and_lockouts_grow() {
        let p = policy();
        let mut f = SignInFailures::new("alice");
        let u = Familiarity::Unfamiliar;
        assert_eq!(f.failed(u, T0, &p), None);
        assert_eq!(f.failed(u, T0 + Duration::seconds(1), &p), None);
        let until = f.failed(u, T0 + Duration::seconds(2), &p).unwrap();
        assert_eq!(until, T0 + Duration::seconds(62));
        let locked = f.check(u, T0 + Duration::seconds(61)).unwrap_err();
        assert_eq!(locked.name, ErrorName::AccountLocked);
        assert!(
            f.check(Familiarity::Familiar, T0 + Duration::seconds(61))
                .is_ok()
        );
        assert!(f.check(u, until).is_ok());
        // The next lockout lasts twice as long, the one after four times.
        for i in 0..2 {
            assert_eq!(f.failed(u, until + Duration::seconds(i), &p), None);
        }
        let second = f.failed(u, until + Duration::seconds(2), &p).unwrap();
        assert_eq!(
            second - (until + Duration::seconds(2)),
            Duration::seconds(120)
        );
        // A success there starts that count over.
        f.succeeded(u, Some("net".into()));
        assert!(f.check(u, second - Duration::seconds(1)).is_ok());
        assert_eq!(f.unfamiliar.lockouts, 0);
    }

    #[test]
    fn failures_outside_the_window_start_a_new_count() {
        let p = policy();
        let mut f = SignInFailures::new("alice");
        let u = Familiarity::Unfamiliar;
        f.failed(u, T0, &p);
        f.failed(u, T0 + Duration::seconds(1), &p);
        // The window has passed: this is the first of a new count.
        assert_eq!(f.failed(u, T0 + Duration::seconds(600), &p), None);
        assert_eq!(f.unfamiliar.failures, 1);
    }

    #[test]
    fn familiar_networks_keep_their_own_count() {
        let p = policy();
        let mut f = SignInFailures::new("alice");
        f.succeeded(Familiarity::Unfamiliar, Some("home".into()));
        assert_eq!(f.familiarity(Some("home")), Familiarity::Familiar);
        assert_eq!(f.familiarity(Some("elsewhere")), Familiarity::Unfamiliar);
        assert_eq!(f.familiarity(None), Familiarity::Unfamiliar);
        for i in 0..3 {
            f.failed(Familiarity::Unfamiliar, T0 + Duration::seconds(i), &p);
        }
        assert!(
            f.check(Familiarity::Unfamiliar, T0 + Duration::seconds(3))
                .is_err()
        );
        assert!(
            f.check(Familiarity::Familiar, T0 + Duration::seconds(3))
                .is_ok()
        );
        // The owner's sign-in at home leaves the other count locked.
        f.succeeded(Familiarity::Familiar, Some("home".into()));
        assert!(
            f.check(Familiarity::Unfamiliar, T0 + Duration::seconds(3))
                .is_err()
        );
        // Only the last networks are remembered, most recent first.
        for i in 0..12 {
            f.succeeded(Familiarity::Familiar, Some(format!("n{i}")));
        }
        assert_eq!(f.known_networks.len(), KNOWN_NETWORKS);
        assert_eq!(f.known_networks[0], "n11");
        assert_eq!(f.familiarity(Some("home")), Familiarity::Unfamiliar);
    }

    #[test]
    fn lockouts_never_last_more_than_a_day() {
        let p = TenantPolicy {
            lockout_threshold: 1,
            lockout_seconds: 3600,
            ..policy()
        };
        let mut f = SignInFailures::new("alice");
        let mut now = T0;
        for _ in 0..40 {
            let until = f.failed(Familiarity::Unfamiliar, now, &p).unwrap();
            assert!(until - now <= MAX_LOCKOUT);
            now = until;
        }
        assert!(f.unfamiliar.locked_until.unwrap() - T0 > MAX_LOCKOUT);
    }

    #[test]
    fn an_administrator_unlocks_both_counters() {
        let p = policy();
        let mut f = SignInFailures::new("alice");
        for i in 0..3 {
            f.failed(Familiarity::Unfamiliar, T0 + Duration::seconds(i), &p);
        }
        let later = T0 + Duration::seconds(3);
        assert!(f.check(Familiarity::Unfamiliar, later).is_err());
        f.unlock();
        assert!(f.check(Familiarity::Unfamiliar, later).is_ok());
    }
}
