//! Read-then-apply changes run again when a concurrent writer got there first.
//!
//! Revoking a user's sessions and refresh tokens (sign out everywhere, a password
//! change, consent withdrawn, a reused token's family) reads them and writes each one
//! back in one atomic batch, each write guarded by the version it read (optimistic
//! concurrency). A refresh rotation of the same user between the read and the write
//! makes the batch fail with a version Conflict although nothing is wrong with the
//! request: the change is computed again from a fresh read. Nothing of a failed batch
//! was written, so running it again is safe.

use crate::errors::{CatalogError, ErrorName};
use std::time::Duration;

/// How many times a change is read and applied before its Conflict is the answer. A
/// user's tokens rotate rarely, so one retry nearly always does; the margin is for a
/// user whose many apps keep refreshing. Retrying alone does not settle a race the
/// other side keeps winning: ending a user's sign-ins is therefore written first, in a
/// change no rotation conflicts with and after which no rotation of those families
/// succeeds, and their refresh tokens are marked revoked after it
/// (`oauth::token::family::revoke_users_tokens`).
pub const ATTEMPTS: usize = 16;

/// The pause before the second attempt; it doubles before each one after, up to
/// [`MAX_PAUSE`] (1, 2, 4 … 64, 64 … ms: about 0.64 s in all before the last). The first
/// retry comes almost at once, as a single concurrent rotation is the usual cause; a
/// user whose apps keep rotating gets the time for them to settle instead of many reads
/// in a row losing the same race.
pub const FIRST_PAUSE: Duration = Duration::from_millis(1);

/// The longest pause between two attempts.
pub const MAX_PAUSE: Duration = Duration::from_millis(64);

/// Runs `attempt` until it succeeds, fails other than with a Conflict, or has run
/// [`ATTEMPTS`] times, awaiting `pause` between attempts ([`FIRST_PAUSE`], doubling).
/// The pause is injected (the core has no timer): the server passes tokio's sleep.
pub async fn on_conflict<T, F, Fut, P, PFut>(pause: P, mut attempt: F) -> Result<T, CatalogError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, CatalogError>>,
    P: Fn(Duration) -> PFut,
    PFut: Future<Output = ()>,
{
    let mut runs = 1;
    let mut wait = FIRST_PAUSE;
    loop {
        match attempt().await {
            Err(e) if e.name == ErrorName::Conflict && runs < ATTEMPTS => {
                pause(wait).await;
                wait = (wait * 2).min(MAX_PAUSE);
                runs += 1;
            }
            outcome => return outcome,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::{Cell, RefCell};

    fn conflict() -> CatalogError {
        CatalogError::new(ErrorName::Conflict).with("resource", "The object")
    }

    #[tokio::test]
    async fn a_conflict_is_retried_until_the_change_applies() {
        let runs = Cell::new(0);
        let outcome = on_conflict(
            |_| async {},
            || {
                runs.set(runs.get() + 1);
                let n = runs.get();
                async move { if n < 3 { Err(conflict()) } else { Ok(n) } }
            },
        )
        .await;
        assert_eq!(outcome.map_err(|e| e.name), Ok(3));
    }

    #[tokio::test]
    async fn a_lasting_conflict_is_returned_after_the_last_attempt() {
        let pauses = RefCell::new(Vec::new());
        let runs = Cell::new(0);
        let outcome: Result<(), _> = on_conflict(
            |d| {
                pauses.borrow_mut().push(d);
                async {}
            },
            || {
                runs.set(runs.get() + 1);
                async { Err(conflict()) }
            },
        )
        .await;
        assert_eq!(outcome.map_err(|e| e.name), Err(ErrorName::Conflict));
        assert_eq!(runs.get(), ATTEMPTS);
        // 1, 2, 4 … 64 ms, then 64 ms, between the attempts.
        let expected: Vec<Duration> = (0..ATTEMPTS - 1)
            .map(|i| (FIRST_PAUSE * (1 << i.min(20))).min(MAX_PAUSE))
            .collect();
        assert_eq!(*pauses.borrow(), expected);
    }

    #[tokio::test]
    async fn other_failures_are_not_retried() {
        let runs = Cell::new(0);
        let outcome: Result<(), _> = on_conflict(
            |_| async {},
            || {
                runs.set(runs.get() + 1);
                async { Err(CatalogError::new(ErrorName::InternalError)) }
            },
        )
        .await;
        assert_eq!(outcome.map_err(|e| e.name), Err(ErrorName::InternalError));
        assert_eq!(runs.get(), 1);
    }
}
