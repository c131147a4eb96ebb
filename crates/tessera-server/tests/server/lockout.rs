//! Smart lockout (AccountLocked): failed passwords from unfamiliar networks lock only
//! the unfamiliar count, so the owner still signs in from home; a lockout ends by time
//! (a fixed clock), grows when it repeats, ends at once by an administrator; counted in
//! the store on SQLite and PostgreSQL. Client addresses come from `X-Forwarded-For`
//! behind a trusted proxy (the test's loopback peer). And an unknown user is answered
//! like a wrong password, in the same time; with the hashing queue full, every sign-in
//! is shed before anything about its user is read.

use super::oidc::*;
use super::support::Served;
use serde_json::json;
use std::time::{Duration, Instant};
use tessera_core::clock::Clock;
use tessera_core::errors::ErrorName;
use tessera_store::testing::postgres_or_skip;

const HOME: &str = "198.51.100.7";
const HOME_AGAIN: &str = "198.51.100.99";
const ELSEWHERE: &str = "203.0.113.5";

/// The fixture tenant locking after `threshold` failures for 60 s, on a server that
/// trusts the loopback peer as a proxy; with Argon2's production cost when `real_cost`
/// (the users' hashes are made by the same pool, as in production).
async fn locking(
    pg: Option<tessera_store::testing::TestDatabase>,
    threshold: u32,
    real_cost: bool,
) -> Served {
    let served = Served::start_configured(pg, |state| {
        state.trusted_proxies = std::sync::Arc::from(vec!["127.0.0.1/32".parse().unwrap()]);
        if real_cost {
            state.passwords = tessera_server::runtime::passwords::Passwords::new(
                2,
                tessera_core::crypto::PasswordParams::default(),
            );
        }
    })
    .await;
    served.app.import(tenant_file()).await;
    let r = served
        .app
        .admin(
            "PATCH",
            &format!("/admin/api/v1/tenants/{TENANT}"),
            Some(
                json!({ "policy": { "lockout_threshold": threshold, "lockout_seconds": 60,
                "lockout_window_seconds": 600 } }),
            ),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    served
}

/// `user` signs in to ed-app with `password` from the address `from`.
async fn attempt(served: &Served, user: &str, password: &str, from: &str) -> reqwest::Response {
    let from = reqwest::header::HeaderValue::from_str(from).unwrap();
    sign_in_to_ed_app(served, &browser(), user, password, Some(from)).await
}

async fn signs_in(served: &Served, password: &str, from: &str) {
    let r = attempt(served, "alice", password, from).await;
    assert!([302, 303].contains(&r.status().as_u16()), "{}", r.status());
}

/// The sign-in page again, showing the catalogue entry `name`; the page's text.
async fn refused(served: &Served, password: &str, from: &str, name: ErrorName) -> String {
    let r = attempt(served, "alice", password, from).await;
    let entry = name.entry();
    assert_eq!(r.status().as_u16(), entry.status);
    let html = r.text().await.unwrap();
    assert!(
        html.contains(&entry.code_str()),
        "{}: {html}",
        entry.code_str()
    );
    html
}

async fn locks_and_unlocks(served: Served) {
    let clock = &served.app.clock;
    // alice has signed in from home before.
    signs_in(&served, PASSWORD, HOME).await;

    // Someone elsewhere guesses: the third wrong password locks, and after that even
    // the right one is refused there.
    refused(&served, "guess-1", ELSEWHERE, ErrorName::InvalidCredentials).await;
    refused(&served, "guess-2", ELSEWHERE, ErrorName::InvalidCredentials).await;
    let locked = refused(&served, "guess-3", ELSEWHERE, ErrorName::AccountLocked).await;
    let until = tessera_core::errors::render::timestamp(clock.now() + time::Duration::seconds(60));
    assert!(locked.contains(&until), "unlocks at {until}: {locked}");
    refused(&served, PASSWORD, ELSEWHERE, ErrorName::AccountLocked).await;

    // alice, at home (another address of the same network), is not locked out, and her
    // sign-in gives the guesser no fresh tries.
    signs_in(&served, PASSWORD, HOME_AGAIN).await;
    refused(&served, PASSWORD, ELSEWHERE, ErrorName::AccountLocked).await;

    // The lock ends with its time; a second one lasts twice as long.
    clock.advance(time::Duration::seconds(61));
    refused(&served, "guess-4", ELSEWHERE, ErrorName::InvalidCredentials).await;
    refused(&served, "guess-5", ELSEWHERE, ErrorName::InvalidCredentials).await;
    let locked = refused(&served, "guess-6", ELSEWHERE, ErrorName::AccountLocked).await;
    let until = tessera_core::errors::render::timestamp(clock.now() + time::Duration::seconds(120));
    assert!(locked.contains(&until), "unlocks at {until}: {locked}");
    clock.advance(time::Duration::seconds(61));
    refused(&served, PASSWORD, ELSEWHERE, ErrorName::AccountLocked).await;

    // An administrator unlocks it at once (the CLI's `admin unlock-user` calls this).
    let r = served
        .app
        .admin(
            "DELETE",
            &format!("/admin/api/v1/tenants/{TENANT}/users/alice/lockout"),
            None,
        )
        .await;
    assert_eq!(r.status, 204, "{}", r.body);
    signs_in(&served, PASSWORD, ELSEWHERE).await;
    let audit = served
        .app
        .admin(
            "GET",
            &format!("/admin/api/v1/tenants/{TENANT}/audit"),
            None,
        )
        .await;
    assert!(audit.body.contains("user.unlock"), "{}", audit.body);

    // Failures from a familiar network (home, and now elsewhere too) lock only the
    // familiar count: a network never seen still has its own.
    for guess in ["home-1", "home-2"] {
        refused(&served, guess, HOME, ErrorName::InvalidCredentials).await;
    }
    refused(&served, "home-3", HOME, ErrorName::AccountLocked).await;
    refused(&served, PASSWORD, ELSEWHERE, ErrorName::AccountLocked).await;
    signs_in(&served, PASSWORD, "192.0.2.10").await;
}

#[tokio::test]
async fn failed_passwords_lock_the_account_on_sqlite() {
    locks_and_unlocks(locking(None, 3, false).await).await;
}

#[tokio::test]
async fn failed_passwords_lock_the_account_on_postgres() {
    let Some(db) =
        postgres_or_skip("server::lockout::failed_passwords_lock_the_account_on_postgres").await
    else {
        return;
    };
    locks_and_unlocks(locking(Some(db), 3, false).await).await;
}

/// With every place in the hashing queue taken, a sign-in is shed at once with
/// TemporarilyUnavailable (503, `Retry-After: 1`), before anything about the user is
/// read: a locked account is answered so too, and told it is locked once there is
/// room again. Fails if the lock (a store read) is checked before the queue.
#[tokio::test]
async fn a_full_hashing_queue_sheds_sign_ins_before_anything_is_read() {
    let served = locking(None, 3, false).await;
    for guess in ["guess-1", "guess-2"] {
        refused(&served, guess, ELSEWHERE, ErrorName::InvalidCredentials).await;
    }
    refused(&served, "guess-3", ELSEWHERE, ErrorName::AccountLocked).await;

    let passwords = &served.app.state.passwords;
    let held: Vec<_> = std::iter::from_fn(|| passwords.try_reserve().ok()).collect();
    assert_eq!(
        held.len(),
        2 * tessera_server::runtime::passwords::QUEUED_PER_WORKER
    );
    let shed = ErrorName::TemporarilyUnavailable;
    for (user, password) in [("alice", PASSWORD), ("nobody", "guess")] {
        let r = attempt(&served, user, password, ELSEWHERE).await;
        assert_eq!(r.status().as_u16(), shed.entry().status, "{user}");
        assert_eq!(r.headers()["retry-after"], "1");
        let html = r.text().await.unwrap();
        assert!(html.contains(&shed.entry().code_str()), "{user}: {html}");
        assert!(html.contains("Trace id"), "a trace id: {html}");
    }

    drop(held);
    refused(&served, PASSWORD, ELSEWHERE, ErrorName::AccountLocked).await;
}

/// An unknown user gets InvalidCredentials, the answer to a wrong password, after one
/// Argon2 verification at the production cost too, and after as long as a wrong
/// password's bookkeeping takes: the medians of fifteen attempts of each, interleaved,
/// agree within half (the tests beside this one load the machine). Without the decoy
/// hash the unknown user's answer takes a tenth of the time and this fails.
#[tokio::test]
async fn an_unknown_user_is_answered_like_a_wrong_password_in_the_same_time() {
    let served = locking(None, 1000, true).await;
    let median = |mut v: Vec<Duration>| {
        v.sort();
        v[v.len() / 2]
    };
    let mut unknown = Vec::new();
    let mut wrong = Vec::new();
    for i in 0..15 {
        let start = Instant::now();
        let r = attempt(&served, "nobody-at-all", "guess", ELSEWHERE).await;
        unknown.push(start.elapsed());
        let html = r.text().await.unwrap();
        assert!(html.contains(&ErrorName::InvalidCredentials.entry().code_str()));
        let start = Instant::now();
        let r = attempt(&served, "alice", &format!("guess-{i}"), ELSEWHERE).await;
        wrong.push(start.elapsed());
        let html = r.text().await.unwrap();
        assert!(html.contains(&ErrorName::InvalidCredentials.entry().code_str()));
    }
    let (unknown, wrong) = (median(unknown), median(wrong));
    let (low, high) = (unknown.min(wrong), unknown.max(wrong));
    assert!(
        high.as_secs_f64() <= low.as_secs_f64() * 1.5,
        "unknown user {unknown:?}, wrong password {wrong:?}"
    );
}
