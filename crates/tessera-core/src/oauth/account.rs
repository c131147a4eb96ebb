//! Which signed-in account an authorization request continues with. A browser may hold
//! several sessions side by side (one per account); the request's `prompt`, `max_age`,
//! `login_hint` and `id_token_hint` (OIDC Core §3.1.2.1) decide between them, a sign-in
//! page and the account picker. Checked in this order:
//!
//! 1. `prompt=login`: a new sign-in, whatever is signed in.
//! 2. `prompt=select_account`: the picker, when any account is signed in.
//! 3. A hint names the account: the one it matches, or — when none does — a sign-in
//!    page (prefilled), or with `prompt=none` SessionNotFound (`id_token_hint`, nothing
//!    signed in), LoginRequired (`login_hint`, nothing signed in) or LoginHintMismatch
//!    (other accounts signed in).
//! 4. No hint: the one account; several → the picker (AccountSelectionRequired with
//!    `prompt=none`); none → a sign-in page (LoginRequired with `prompt=none`).
//! 5. `max_age`: an account that signed in longer ago signs in again (prefilled), or
//!    LoginRequired with `prompt=none`.

use super::authorize::Prompt;
use crate::errors::{CatalogError, ErrorName};
use crate::ids::UserId;
use time::OffsetDateTime;

/// A live session in this browser, as the choice needs it.
#[derive(Debug, Clone)]
pub struct Account<'a> {
    pub sid: &'a str,
    pub user_id: UserId,
    pub username: &'a str,
    pub email: Option<&'a str>,
    pub auth_time: OffsetDateTime,
}

/// The account the request names, if it names one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Hint {
    /// `login_hint`: a username or email address (OIDC Core §3.1.2.1).
    Login(String),
    /// A verified `id_token_hint`: the `sub` it was issued to, its session's `sid`, and
    /// `preferred_username` when the token had it (to prefill a sign-in).
    IdToken {
        sub: UserId,
        sid: Option<String>,
        username: Option<String>,
    },
}

impl Hint {
    /// The parameter the hint came in, as error messages name it.
    pub fn param(&self) -> &'static str {
        match self {
            Hint::Login(_) => "login_hint",
            Hint::IdToken { .. } => "id_token_hint",
        }
    }

    fn matches(&self, account: &Account<'_>) -> bool {
        match self {
            Hint::Login(name) => {
                account.username.eq_ignore_ascii_case(name)
                    || account.email.is_some_and(|e| e.eq_ignore_ascii_case(name))
            }
            Hint::IdToken { sub, .. } => account.user_id == *sub,
        }
    }

    fn prefill(&self) -> Option<String> {
        match self {
            Hint::Login(name) => Some(name.clone()),
            Hint::IdToken { username, .. } => username.clone(),
        }
    }
}

/// What the request asks of the choice.
#[derive(Debug, Clone, Copy)]
pub struct Ask<'a> {
    pub prompt: Prompt,
    pub max_age: Option<u64>,
    pub hint: Option<&'a Hint>,
    pub now: OffsetDateTime,
}

/// The outcome: continue as `accounts[i]`, show a sign-in page (prefilled with
/// `username`), or show the account picker.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Choice {
    Use(usize),
    SignIn { username: Option<String> },
    Pick,
}

/// The choice when the app has just sent the user here.
pub fn at_start(accounts: &[Account<'_>], ask: Ask<'_>) -> Result<Choice, CatalogError> {
    let sign_in = |username: Option<String>| {
        if ask.prompt.none {
            Err(CatalogError::new(ErrorName::LoginRequired))
        } else {
            Ok(Choice::SignIn { username })
        }
    };
    let prefill = ask.hint.and_then(Hint::prefill);
    if ask.prompt.login {
        return sign_in(prefill);
    }
    if ask.prompt.select_account && !accounts.is_empty() {
        return Ok(Choice::Pick);
    }
    let chosen = match ask.hint {
        Some(hint) => match position(accounts, hint) {
            Some(i) => i,
            None if !ask.prompt.none => return Ok(Choice::SignIn { username: prefill }),
            None if !accounts.is_empty() => {
                return Err(
                    CatalogError::new(ErrorName::LoginHintMismatch).with("param", hint.param())
                );
            }
            None if matches!(hint, Hint::IdToken { .. }) => {
                return Err(CatalogError::new(ErrorName::SessionNotFound));
            }
            None => return Err(CatalogError::new(ErrorName::LoginRequired)),
        },
        None => match accounts.len() {
            0 => return sign_in(None),
            1 => 0,
            _ if ask.prompt.none => {
                return Err(CatalogError::new(ErrorName::AccountSelectionRequired));
            }
            _ => return Ok(Choice::Pick),
        },
    };
    fresh_enough(accounts, chosen, ask)
}

/// The choice after the user picked the account with session `sid` on the picker (or
/// consented as it): that account, unless it signed out meanwhile or `max_age` asks
/// for a new sign-in.
pub fn picked(accounts: &[Account<'_>], sid: &str, ask: Ask<'_>) -> Result<Choice, CatalogError> {
    match accounts.iter().position(|a| a.sid == sid) {
        Some(i) => fresh_enough(accounts, i, ask),
        None => Ok(Choice::SignIn { username: None }),
    }
}

/// OIDC Core §3.1.2.1: with an `id_token_hint`, the user who signs in (or is picked)
/// must be the one the token was issued to; a `login_hint` is only a hint.
pub fn check_hinted_user(hint: Option<&Hint>, user: UserId) -> Result<(), CatalogError> {
    match hint {
        Some(Hint::IdToken { sub, .. }) if *sub != user => {
            Err(CatalogError::new(ErrorName::LoginHintMismatch).with("param", "id_token_hint"))
        }
        _ => Ok(()),
    }
}

/// The hinted account: for an `id_token_hint`, the session it names, else any session
/// of its user (who may have signed in again since).
fn position(accounts: &[Account<'_>], hint: &Hint) -> Option<usize> {
    if let Hint::IdToken { sid: Some(sid), .. } = hint
        && let Some(i) = accounts
            .iter()
            .position(|a| a.sid == sid && hint.matches(a))
    {
        return Some(i);
    }
    accounts.iter().position(|a| hint.matches(a))
}

/// OIDC Core §3.1.2.1 max_age: an authentication older than `max_age` seconds must be
/// done again.
fn fresh_enough(accounts: &[Account<'_>], i: usize, ask: Ask<'_>) -> Result<Choice, CatalogError> {
    let account = &accounts[i];
    let age = (ask.now - account.auth_time).whole_seconds();
    let too_old = ask
        .max_age
        .is_some_and(|max| age > i64::try_from(max).unwrap_or(i64::MAX));
    if !too_old {
        return Ok(Choice::Use(i));
    }
    if ask.prompt.none {
        return Err(CatalogError::new(ErrorName::LoginRequired));
    }
    Ok(Choice::SignIn {
        username: Some(account.username.to_owned()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::Duration;

    fn now() -> OffsetDateTime {
        OffsetDateTime::from_unix_timestamp(1_800_000_000).unwrap()
    }

    fn id(n: u8) -> UserId {
        UserId::from_uuid(uuid::Uuid::from_bytes([n; 16]))
    }

    fn accounts() -> Vec<Account<'static>> {
        vec![
            Account {
                sid: "s-alice",
                user_id: id(1),
                username: "alice",
                email: Some("alice@example.test"),
                auth_time: now() - Duration::seconds(100),
            },
            Account {
                sid: "s-bob",
                user_id: id(2),
                username: "bob",
                email: None,
                auth_time: now() - Duration::seconds(10),
            },
        ]
    }

    fn ask<'a>(prompt: &str, max_age: Option<u64>, hint: Option<&'a Hint>) -> Ask<'a> {
        let p = Prompt {
            none: prompt.contains("none"),
            login: prompt.contains("login"),
            consent: false,
            select_account: prompt.contains("select_account"),
        };
        Ask {
            prompt: p,
            max_age,
            hint,
            now: now(),
        }
    }

    fn err(r: Result<Choice, CatalogError>) -> ErrorName {
        r.unwrap_err().name
    }

    #[test]
    fn without_a_hint_one_account_is_used_and_several_are_picked_from() {
        let all = accounts();
        assert_eq!(at_start(&all[..1], ask("", None, None)), Ok(Choice::Use(0)));
        assert_eq!(at_start(&all, ask("", None, None)), Ok(Choice::Pick));
        assert_eq!(
            err(at_start(&all, ask("none", None, None))),
            ErrorName::AccountSelectionRequired
        );
        assert_eq!(
            at_start(&[], ask("", None, None)),
            Ok(Choice::SignIn { username: None })
        );
        assert_eq!(
            err(at_start(&[], ask("none", None, None))),
            ErrorName::LoginRequired
        );
    }

    #[test]
    fn prompt_login_and_select_account_come_first() {
        let all = accounts();
        let hint = Hint::Login("bob".into());
        assert_eq!(
            at_start(&all, ask("login", None, Some(&hint))),
            Ok(Choice::SignIn {
                username: Some("bob".into())
            })
        );
        assert_eq!(
            at_start(&all[..1], ask("select_account", None, None)),
            Ok(Choice::Pick)
        );
        // Nothing to pick from: a sign-in page.
        assert_eq!(
            at_start(&[], ask("select_account", None, None)),
            Ok(Choice::SignIn { username: None })
        );
    }

    #[test]
    fn a_login_hint_picks_by_username_or_email_in_any_case() {
        let all = accounts();
        for name in ["BOB", "bob"] {
            let hint = Hint::Login(name.into());
            assert_eq!(
                at_start(&all, ask("none", None, Some(&hint))),
                Ok(Choice::Use(1))
            );
        }
        let hint = Hint::Login("Alice@Example.test".into());
        assert_eq!(
            at_start(&all, ask("", None, Some(&hint))),
            Ok(Choice::Use(0))
        );
        let carol = Hint::Login("carol".into());
        assert_eq!(
            at_start(&all, ask("", None, Some(&carol))),
            Ok(Choice::SignIn {
                username: Some("carol".into())
            })
        );
        let e = at_start(&all, ask("none", None, Some(&carol))).unwrap_err();
        assert_eq!(e.name, ErrorName::LoginHintMismatch);
        assert_eq!(e.params, vec![("param", "login_hint".to_owned())]);
        assert_eq!(
            err(at_start(&[], ask("none", None, Some(&carol)))),
            ErrorName::LoginRequired
        );
    }

    #[test]
    fn an_id_token_hint_picks_its_session_or_its_user() {
        let all = accounts();
        let same = Hint::IdToken {
            sub: id(2),
            sid: Some("s-bob".into()),
            username: None,
        };
        assert_eq!(
            at_start(&all, ask("none", None, Some(&same))),
            Ok(Choice::Use(1))
        );
        // bob signed in again since: another sid, the same user.
        let older = Hint::IdToken {
            sub: id(2),
            sid: Some("s-gone".into()),
            username: None,
        };
        assert_eq!(
            at_start(&all, ask("none", None, Some(&older))),
            Ok(Choice::Use(1))
        );
        let carol = Hint::IdToken {
            sub: id(3),
            sid: Some("s-carol".into()),
            username: Some("carol".into()),
        };
        assert_eq!(
            err(at_start(&all, ask("none", None, Some(&carol)))),
            ErrorName::LoginHintMismatch
        );
        assert_eq!(
            err(at_start(&[], ask("none", None, Some(&carol)))),
            ErrorName::SessionNotFound
        );
        assert_eq!(
            at_start(&[], ask("", None, Some(&carol))),
            Ok(Choice::SignIn {
                username: Some("carol".into())
            })
        );
        assert!(check_hinted_user(Some(&carol), id(3)).is_ok());
        assert_eq!(
            check_hinted_user(Some(&carol), id(1)).unwrap_err().name,
            ErrorName::LoginHintMismatch
        );
        assert!(check_hinted_user(Some(&Hint::Login("x".into())), id(1)).is_ok());
    }

    #[test]
    fn max_age_signs_an_older_authentication_in_again() {
        let all = accounts();
        let alice = Hint::Login("alice".into());
        assert_eq!(
            at_start(&all, ask("", Some(100), Some(&alice))),
            Ok(Choice::Use(0))
        );
        assert_eq!(
            at_start(&all, ask("", Some(99), Some(&alice))),
            Ok(Choice::SignIn {
                username: Some("alice".into())
            })
        );
        assert_eq!(
            err(at_start(&all, ask("none", Some(99), Some(&alice)))),
            ErrorName::LoginRequired
        );
        // max_age=0 always signs in again (OIDC Core §3.1.2.1 allows it).
        assert_eq!(
            at_start(&all[1..], ask("", Some(0), None)),
            Ok(Choice::SignIn {
                username: Some("bob".into())
            })
        );
        assert_eq!(
            picked(&all, "s-bob", ask("", Some(60), None)),
            Ok(Choice::Use(1))
        );
        assert_eq!(
            picked(&all, "s-alice", ask("", Some(60), None)),
            Ok(Choice::SignIn {
                username: Some("alice".into())
            })
        );
        assert_eq!(
            picked(&all, "s-gone", ask("", None, None)),
            Ok(Choice::SignIn { username: None })
        );
    }
}
