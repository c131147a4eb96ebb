//! Verifying a username and password on the bounded Argon2 pool. The answer never
//! tells whether the user exists: an unknown user costs the same hash as a wrong
//! password and gets the same InvalidCredentials. Failures count towards smart lockout
//! (`tessera_core::directory::lockout`), in a record of the user's that every node
//! reads and writes; a locked account is AccountLocked, before any hashing.

use super::lookup;
use crate::http::error_response::store_error;
use crate::runtime::state::AppState;
use std::sync::{Mutex, OnceLock};
use tessera_core::directory::lockout::{self, Counter, Familiarity, SignInFailures};
use tessera_core::directory::model::User;
use tessera_core::directory::names::Username;
use tessera_core::errors::{CatalogError, ErrorName};
use tessera_core::ids::UserId;
use tessera_core::network;
use tessera_core::oauth::records::purpose;
use tessera_core::secret::Secret;
use tessera_core::store::object::{ObjectKind, StoredObject, Write, encode};
use tessera_core::tenant::Tenant;

/// What the answer to an unknown user imitates, so that neither it nor its time tells
/// whether the user exists, one per server (`AppState::unknown_users`):
/// - a wrong password's Argon2 verification, against a decoy hash made by this server's
///   pool (so at its cost);
/// - a wrong password's bookkeeping (reading and writing the user's failures): the
///   median of the last [`OBSERVED`] times, so one slow write (a checkpoint) does not
///   hold up the answers after it. Real elapsed time, not the injected clock: it
///   measures the store, not a protocol time.
#[derive(Default)]
pub struct UnknownUsers {
    decoy: OnceLock<String>,
    bookkeeping: Bookkeeping,
}

#[derive(Default)]
struct Bookkeeping(Mutex<Observed>);

const OBSERVED: usize = 15;

#[derive(Default)]
struct Observed {
    micros: [u32; OBSERVED],
    next: usize,
    filled: usize,
}

impl Bookkeeping {
    fn observed(&self) -> std::sync::MutexGuard<'_, Observed> {
        // Plain numbers: a panic elsewhere cannot leave them inconsistent.
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The median so far (nothing before the first wrong password).
    fn typical(&self) -> std::time::Duration {
        let o = self.observed();
        let mut seen = o.micros[..o.filled].to_vec();
        drop(o);
        seen.sort_unstable();
        let median = seen.get(seen.len() / 2).copied().unwrap_or(0);
        std::time::Duration::from_micros(u64::from(median))
    }

    fn observe(&self, took: std::time::Duration) {
        let took = u32::try_from(took.as_micros()).unwrap_or(u32::MAX);
        let mut o = self.observed();
        let at = o.next;
        o.micros[at] = took;
        o.next = (at + 1) % OBSERVED;
        o.filled = (o.filled + 1).min(OBSERVED);
    }
}

/// How long a user's record of failed sign-ins (and familiar networks) is kept after
/// its last change.
const FAILURES_KEPT: time::Duration = time::Duration::days(90);

/// A user's failed sign-ins as stored, and the object that holds them (none yet: a
/// fresh record).
async fn failures(
    state: &AppState,
    tenant: &Tenant,
    key: &str,
) -> Result<(Option<StoredObject>, SignInFailures), CatalogError> {
    Ok(
        match lookup::get::<SignInFailures>(state, tenant.id, ObjectKind::SignInFailures, key)
            .await?
        {
            Some((object, record)) => (Some(object), record),
            None => (None, SignInFailures::new(key)),
        },
    )
}

/// Changes the user's record by `change` and stores it at the version read, again if a
/// sign-in on another node changed it meanwhile (each failure counts once).
pub(crate) async fn record<T>(
    state: &AppState,
    tenant: &Tenant,
    key: &str,
    change: impl Fn(&mut SignInFailures) -> T,
) -> Result<T, CatalogError> {
    crate::runtime::retry::on_conflict(|| async {
        let (object, mut record) = failures(state, tenant, key).await?;
        let outcome = change(&mut record);
        let now = state.clock.now();
        let doc = encode(&record);
        let object = match object {
            Some(o) => o.with_doc(doc, now),
            None => StoredObject::new(
                state.rng.object_id(),
                tenant.id,
                ObjectKind::SignInFailures,
                key,
                doc,
                now,
            ),
        }
        .expiring(now + FAILURES_KEPT);
        state
            .store
            .apply(vec![Write::Put(object)])
            .await
            .map_err(store_error)?;
        Ok(outcome)
    })
    .await
}

/// The keyed hash of the network `client` is on, as smart lockout counts it (never the
/// address itself).
pub(crate) fn network_hash(state: &AppState, client: Option<std::net::IpAddr>) -> Option<String> {
    client.map(|ip| {
        state
            .master
            .token_hash(purpose::SIGN_IN_NETWORK, &network::network_of(ip))
    })
}

/// AccountLocked while the user's count for `network` is locked at `now`.
pub(crate) async fn check_unlocked(
    state: &AppState,
    tenant: &Tenant,
    key: &str,
    network: Option<&str>,
    now: time::OffsetDateTime,
) -> Result<(), CatalogError> {
    let (_, seen) = failures(state, tenant, key).await?;
    seen.check(seen.familiarity(network), now)
}

/// Counts a failed attempt (a wrong password or code) from `network`: `wrong`, or
/// AccountLocked when this failure locked the account.
pub(crate) async fn count_failure(
    state: &AppState,
    tenant: &Tenant,
    key: &str,
    network: Option<&str>,
    now: time::OffsetDateTime,
    wrong: ErrorName,
) -> CatalogError {
    match record(state, tenant, key, |f| {
        f.failed(f.familiarity(network), now, &tenant.policy)
    })
    .await
    {
        Ok(Some(until)) => lockout::account_locked(until),
        Ok(None) => CatalogError::new(wrong),
        Err(e) => e,
    }
}

/// More sign-ins wait for a hash than the pool queues: TemporarilyUnavailable, to try
/// again in a second, whoever the user (nothing about the user was checked).
fn overloaded() -> CatalogError {
    CatalogError::new(ErrorName::TemporarilyUnavailable)
        .with("seconds", "1")
        .retry_after(1)
        .internal("the password hashing queue is full")
}

/// A hash nobody's password matches, verified when the user does not exist so both
/// answers take one Argon2 verification.
async fn decoy(state: &AppState) -> String {
    if let Some(h) = state.unknown_users.decoy.get() {
        return h.clone();
    }
    let h = state
        .passwords
        .hash(Secret::new("tessera decoy password"), state.rng.clone())
        .await;
    state.unknown_users.decoy.get_or_init(|| h).clone()
}

/// Who signed in: the user's case-insensitive key and object id.
#[derive(Debug, Clone)]
pub struct Authenticated {
    pub key: String,
    pub id: UserId,
    /// The password is a temporary one an administrator set: it proves who this is
    /// (enough to change it), but does not sign in ([`Authenticated::may_sign_in`]).
    pub temporary: bool,
    /// The user has an authenticator app: a code must follow (`oauth::second_factor`).
    pub enrolled: bool,
}

impl Authenticated {
    /// PasswordChangeRequired when the password is temporary.
    pub fn may_sign_in(self) -> Result<Self, CatalogError> {
        if self.temporary {
            return Err(CatalogError::new(ErrorName::PasswordChangeRequired));
        }
        Ok(self)
    }
}

/// The user when `username` and `password` match an enabled user, asked from
/// `client` (the client's address, when known), which the tenant may block
/// (SignInBlockedNetwork: said before any password is checked, so it tells nothing of the
/// user). When the hashing queue is full, TemporarilyUnavailable next, before the user
/// or the account's lock is read (so a locked account is told so only when there is
/// room for the hash it is spared).
pub async fn authenticate(
    state: &AppState,
    tenant: &Tenant,
    client: Option<std::net::IpAddr>,
    username: &str,
    password: Secret,
) -> Result<Authenticated, CatalogError> {
    if let Some(ip) = client
        && tessera_core::network::in_ranges(ip, &tenant.policy.blocked_ip_ranges)
    {
        return Err(CatalogError::new(ErrorName::SignInBlockedNetwork).with("ip", ip.to_string()));
    }
    // The place for this sign-in's hash is taken before anything is read: under a
    // flood, the sign-ins the queue has no room for are shed here, at no store read,
    // leaving the cores to the requests that can be answered.
    let place = state.passwords.try_reserve().map_err(|_| overloaded())?;
    let invalid = || CatalogError::new(ErrorName::InvalidCredentials);
    let user = match Username::parse(username) {
        Ok(name) => lookup::get::<User>(state, tenant.id, ObjectKind::User, &name.key()).await?,
        Err(_) => None,
    };
    let Some((object, user)) = user.filter(|(_, u)| u.password_hash.is_some()) else {
        place.verify(password, decoy(state).await).await;
        // As long as a wrong password's bookkeeping takes, which a known user's answer
        // waits for.
        tokio::time::sleep(state.unknown_users.bookkeeping.typical()).await;
        return Err(invalid());
    };
    let key = user.username.key();
    let network = network_hash(state, client);
    let now = state.clock.now();
    let bookkeeping = std::time::Instant::now();
    let (_, seen) = failures(state, tenant, &key).await?;
    // A locked account answers before any hashing: guessing at it costs nothing, and a
    // right guess is not told apart from a wrong one.
    seen.check(seen.familiarity(network.as_deref()), now)?;
    let hash = user.password_hash.clone().unwrap_or_default();
    let hashing = std::time::Instant::now();
    let verified = place.verify(password, hash).await;
    let hashing = hashing.elapsed();
    if !verified {
        let refused = count_failure(
            state,
            tenant,
            &key,
            network.as_deref(),
            now,
            ErrorName::InvalidCredentials,
        )
        .await;
        // The hash ran in between; what the store took is the rest.
        state
            .unknown_users
            .bookkeeping
            .observe(bookkeeping.elapsed().saturating_sub(hashing));
        return Err(refused);
    }
    // Only after the password proved who is asking may the answer say more.
    if !user.enabled {
        return Err(CatalogError::new(ErrorName::AccountDisabled));
    }
    let enrolled = user.totp_secret_sealed.is_some();
    // Written only when it changes something: most sign-ins come from the network
    // the last one came from, with nothing counted against it. With an authenticator,
    // only the right code counts as success (`second_factor`): a password alone
    // starting the count over would let someone who knows it guess codes for ever.
    let which = seen.familiarity(network.as_deref());
    let counted = match which {
        Familiarity::Familiar => &seen.familiar,
        Familiarity::Unfamiliar => &seen.unfamiliar,
    };
    if !enrolled
        && (*counted != Counter::default()
            || (network.is_some() && seen.known_networks.first() != network.as_ref()))
    {
        record(state, tenant, &key, |f| {
            f.succeeded(f.familiarity(network.as_deref()), network.clone())
        })
        .await?;
    }
    Ok(Authenticated {
        key: user.username.key(),
        id: UserId::of(object.id),
        temporary: user.password_change_required,
        enrolled,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    /// An unknown user waits the median of the last wrong passwords' bookkeeping: not
    /// held up by one slow write, nothing before the first.
    #[test]
    fn the_wait_is_the_median_of_the_last_observations() {
        let b = Bookkeeping::default();
        assert_eq!(b.typical(), Duration::ZERO);
        for ms in [3, 4, 500, 5, 3] {
            b.observe(Duration::from_millis(ms));
        }
        assert_eq!(b.typical(), Duration::from_millis(4));
        // Only the last OBSERVED count.
        for _ in 0..OBSERVED {
            b.observe(Duration::from_millis(9));
        }
        assert_eq!(b.typical(), Duration::from_millis(9));
    }
}
