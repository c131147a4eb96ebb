//! When a sign-in needs its second factor (a TOTP code, `directory::totp`), and the
//! one-time recovery codes that stand in for a lost authenticator.
//!
//! A user with an authenticator app enrolled presents a code after every password; a
//! tenant (`TenantPolicy::mfa_required`) or an app (`App::mfa_required`) can require
//! every user to enrol; and a second factor older than the tenant's
//! `mfa_max_age_seconds` is asked for again before an app is signed in to (Entra ID's
//! sign-in frequency). The decision is [`needed`]; the pages that act on it are the
//! server's.

use crate::crypto::MasterKey;
use crate::directory::model::App;
use crate::errors::{CatalogError, ErrorName};
use crate::ids::{TenantId, UserId};
use crate::rng::Rng;
use crate::tenant::TenantPolicy;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

/// RFC 8176 §2 method references of a sign-in with a password and a code: `otp` for
/// the one-time password, `mfa` because there were two factors.
pub const AMR_WITH_CODE: [&str; 3] = ["pwd", "otp", "mfa"];

/// What a signed-in user must still do before a sign-in is used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SecondFactor {
    /// Nothing: no second factor is needed, or a fresh one was presented.
    Satisfied,
    /// Present a code: none was presented in this sign-in.
    Verify,
    /// Present a code again: the last one is older than `max_age` seconds.
    Reverify { max_age: u32 },
    /// Enrol an authenticator: the policy requires one and the user has none.
    Enrol,
}

impl SecondFactor {
    /// The error for a request that cannot ask the user (`prompt=none`): MfaExpired for
    /// a stale second factor, MfaRequired otherwise; `None` when satisfied.
    pub fn unmet(self) -> Option<CatalogError> {
        match self {
            SecondFactor::Satisfied => None,
            SecondFactor::Reverify { max_age } => {
                Some(CatalogError::new(ErrorName::MfaExpired).with("max_age", max_age.to_string()))
            }
            SecondFactor::Verify | SecondFactor::Enrol => {
                Some(CatalogError::new(ErrorName::MfaRequired))
            }
        }
    }
}

/// What a sign-in needs before it serves `app` (or the tenant's own pages: `None`):
/// `enrolled` says whether the user has an authenticator, `verified_at` when this
/// sign-in last presented a code.
pub fn needed(
    policy: &TenantPolicy,
    app: Option<&App>,
    enrolled: bool,
    verified_at: Option<OffsetDateTime>,
    now: OffsetDateTime,
) -> SecondFactor {
    let required = policy.mfa_required || app.is_some_and(|a| a.mfa_required);
    if !enrolled {
        return if required {
            SecondFactor::Enrol
        } else {
            SecondFactor::Satisfied
        };
    }
    let Some(at) = verified_at else {
        return SecondFactor::Verify;
    };
    let max_age = policy.mfa_max_age_seconds;
    if max_age > 0 && now - at > time::Duration::seconds(i64::from(max_age)) {
        return SecondFactor::Reverify { max_age };
    }
    SecondFactor::Satisfied
}

/// How long the code or enrolment page may be answered.
pub const PENDING_SECONDS: i64 = 600;

/// A sign-in waiting for its second factor, carried by the code and enrolment pages
/// sealed under the master key ([`Pending::seal`]), so the browser can neither read
/// the secret on offer nor change whom it is for; the store holds nothing until the
/// code is right.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Pending {
    /// The user's key and object id.
    pub user: String,
    pub user_id: UserId,
    /// The session asked again (a stale or missing second factor); `None`: a password
    /// was just verified, and the session starts when the code is right.
    pub sid: Option<String>,
    /// What the page asks for.
    pub stage: Stage,
    /// The secret offered for enrolment (base32).
    pub offered: Option<String>,
    /// Where the sign-in goes on.
    pub then: Continuation,
    /// When the password this sign-in rests on was verified (a session asked again:
    /// its `auth_time`). A revocation of the user's sign-ins since then ends this one
    /// too (`User::sign_in_revoked`).
    #[serde(with = "time::serde::rfc3339")]
    pub signed_in_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub expires_at: OffsetDateTime,
}

/// The steps of the second-factor page.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Stage {
    /// A code from the user's authenticator, or a recovery code.
    Verify,
    /// The first code from a new authenticator, enrolling it.
    Enrol,
    /// Enrolled: the recovery codes were shown, and the sign-in goes on.
    Continue,
}

/// Where a sign-in goes on once its second factor is presented.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Continuation {
    /// The authorization request (form-encoded), continued as signed in, and the
    /// verified redirect URI it ends at.
    Authorize {
        request: String,
        redirect_uri: String,
    },
    /// The device page's confirmation of the device with this user code.
    Device { user_code: String },
    /// A page of the tenant (its path), fetched again: it finds the session itself.
    Page(String),
}

impl Pending {
    pub fn seal(&self, master: &MasterKey, rng: &dyn Rng, tenant_id: TenantId) -> String {
        let plain = serde_json::to_vec(self)
            .unwrap_or_else(|_| unreachable!("a record of strings and times serializes"));
        master.seal_bearer(rng, &plain, &Self::context(tenant_id))
    }

    /// The pending sign-in of a page's form; `None` when it is not one this tenant
    /// sealed, or it expired at `now`.
    pub fn open(
        master: &MasterKey,
        tenant_id: TenantId,
        sealed: &str,
        now: OffsetDateTime,
    ) -> Option<Self> {
        let plain = master.open_bearer(sealed, &Self::context(tenant_id))?;
        let pending: Self = serde_json::from_slice(&plain).ok()?;
        (pending.expires_at > now).then_some(pending)
    }

    fn context(tenant_id: TenantId) -> String {
        format!("second_factor/{tenant_id}")
    }
}

/// Recovery codes a user receives at enrolment, each usable once.
pub const RECOVERY_CODES: usize = 10;
/// Characters of a recovery code (without its hyphen): 10 base32 characters, 50 bits,
/// out of reach of guessing within lockout's limits.
const RECOVERY_LENGTH: usize = 10;

/// New recovery codes, shown to the user once, as `xxxxx-xxxxx` in lower case.
pub fn new_recovery_codes(rng: &dyn Rng) -> Vec<String> {
    (0..RECOVERY_CODES)
        .map(|_| {
            let mut bytes = [0u8; 8];
            rng.fill(&mut bytes);
            let text = data_encoding::BASE32_NOPAD
                .encode(&bytes)
                .to_ascii_lowercase();
            format!(
                "{}-{}",
                &text[..RECOVERY_LENGTH / 2],
                &text[RECOVERY_LENGTH / 2..RECOVERY_LENGTH]
            )
        })
        .collect()
}

/// A typed recovery code in the one form its keyed hash is taken of (lower case, no
/// hyphen or spaces); `None` when it cannot be one.
pub fn recovery_code(typed: &str) -> Option<String> {
    let code: String = typed
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .map(|c| c.to_ascii_lowercase())
        .collect();
    (code.len() == RECOVERY_LENGTH
        && code
            .bytes()
            .all(|b| b.is_ascii_lowercase() || (b'2'..=b'7').contains(&b)))
    .then_some(code)
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    const NOW: OffsetDateTime = datetime!(2026-12-07 10:00 UTC);

    fn app(required: bool) -> App {
        serde_json::from_value(serde_json::json!({
            "client_id": "crm", "name": "CRM", "multi_tenant": false,
            "assignment_required": false, "mfa_required": required,
            "redirect_uris": {"web": ["https://crm.test/cb"], "spa": [], "native": []},
            "post_logout_redirect_uris": [], "secrets": [], "jwks": null,
            "grant_types": ["authorization_code"], "implicit": {},
            "permissions": [], "admin_consented": false, "assigned_users": [], "enabled": true
        }))
        .unwrap()
    }

    #[test]
    fn an_enrolled_user_presents_a_code_and_again_when_it_is_stale() {
        let p = TenantPolicy {
            mfa_max_age_seconds: 3600,
            ..TenantPolicy::default()
        };
        assert_eq!(needed(&p, None, true, None, NOW), SecondFactor::Verify);
        let fresh = NOW - time::Duration::seconds(3600);
        assert_eq!(
            needed(&p, None, true, Some(fresh), NOW),
            SecondFactor::Satisfied
        );
        let stale = NOW - time::Duration::seconds(3601);
        assert_eq!(
            needed(&p, None, true, Some(stale), NOW),
            SecondFactor::Reverify { max_age: 3600 }
        );
        // 0: a code lasts as long as the sign-in.
        let forever = TenantPolicy {
            mfa_max_age_seconds: 0,
            ..p
        };
        assert_eq!(
            needed(&forever, None, true, Some(stale), NOW),
            SecondFactor::Satisfied
        );
    }

    #[test]
    fn a_tenant_or_an_app_requires_enrolment() {
        let open = TenantPolicy::default();
        assert_eq!(
            needed(&open, None, false, None, NOW),
            SecondFactor::Satisfied
        );
        assert_eq!(
            needed(&open, Some(&app(false)), false, None, NOW),
            SecondFactor::Satisfied
        );
        assert_eq!(
            needed(&open, Some(&app(true)), false, None, NOW),
            SecondFactor::Enrol
        );
        let strict = TenantPolicy {
            mfa_required: true,
            ..TenantPolicy::default()
        };
        assert_eq!(needed(&strict, None, false, None, NOW), SecondFactor::Enrol);
    }

    #[test]
    fn a_request_that_cannot_ask_gets_the_catalogued_error() {
        assert_eq!(SecondFactor::Satisfied.unmet(), None);
        assert_eq!(
            SecondFactor::Verify.unmet().unwrap().name,
            ErrorName::MfaRequired
        );
        assert_eq!(
            SecondFactor::Enrol.unmet().unwrap().name,
            ErrorName::MfaRequired
        );
        let expired = SecondFactor::Reverify { max_age: 60 }.unmet().unwrap();
        assert_eq!(expired.name, ErrorName::MfaExpired);
        assert!(expired.message().contains("60 seconds"));
    }

    #[test]
    fn recovery_codes_are_distinct_and_read_back_however_typed() {
        let rng = crate::rng::OsRng;
        let codes = new_recovery_codes(&rng);
        assert_eq!(codes.len(), RECOVERY_CODES);
        let distinct: std::collections::BTreeSet<_> = codes.iter().collect();
        assert_eq!(distinct.len(), RECOVERY_CODES);
        for c in &codes {
            assert_eq!(c.len(), RECOVERY_LENGTH + 1);
            let read = recovery_code(c).unwrap();
            assert_eq!(recovery_code(&c.to_uppercase()).unwrap(), read);
            assert_eq!(recovery_code(&format!(" {} ", read)).unwrap(), read);
        }
        for bad in ["", "123456", "abcde-fghi", "abcde-fghij1", "abcde-fgh!j"] {
            assert_eq!(recovery_code(bad), None, "{bad}");
        }
    }
}
