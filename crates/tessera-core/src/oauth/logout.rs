//! RP-Initiated Logout 1.0: the checks of a logout request (§2, §3), the request as
//! the confirmation page carries it (sealed, so it cannot be altered or outlive
//! `TenantPolicy::logout_request_seconds`), and the logout token Back-Channel Logout
//! 1.0 POSTs to the apps of the session (§2.4).

use crate::crypto::MasterKey;
use crate::directory::model::App;
use crate::errors::{CatalogError, ErrorName};
use crate::ids::{ClientId, TenantId, UserId};
use crate::rng::Rng;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

const PURPOSE: &str = "logout_request";

/// A checked logout request, between the confirmation page and its answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogoutRequest {
    /// The app that asked (`client_id`, or the `aud` of `id_token_hint`).
    pub client_id: Option<ClientId>,
    /// Registered for that app (checked by [`check`]).
    pub post_logout_redirect_uri: Option<String>,
    pub state: Option<String>,
    /// The user `id_token_hint` named: only that account signs out. `None`: every
    /// account signed in in the browser.
    pub user: Option<UserId>,
    #[serde(with = "time::serde::rfc3339")]
    pub issued_at: OffsetDateTime,
}

impl LogoutRequest {
    /// Sealed under the master key and bound to the tenant (`MasterKey::seal_bearer`).
    pub fn seal(&self, master: &MasterKey, rng: &dyn Rng, tenant_id: TenantId) -> String {
        let plain = serde_json::to_vec(self)
            .unwrap_or_else(|_| unreachable!("a record of strings and times serializes"));
        master.seal_bearer(rng, &plain, &context(tenant_id))
    }

    /// The request a confirmation page carried: InvalidRequestFormat when it is not one
    /// this tenant sealed, LogoutRequestExpired when it is older than `lifetime_seconds`.
    pub fn open(
        master: &MasterKey,
        tenant_id: TenantId,
        sealed: &str,
        now: OffsetDateTime,
        lifetime_seconds: u32,
    ) -> Result<Self, CatalogError> {
        let request: Self = master
            .open_bearer(sealed, &context(tenant_id))
            .and_then(|plain| serde_json::from_slice(&plain).ok())
            .ok_or_else(|| {
                CatalogError::new(ErrorName::InvalidRequestFormat)
                    .with("detail", "the sign-out request is not one Tessera issued")
            })?;
        if now - request.issued_at > time::Duration::seconds(i64::from(lifetime_seconds)) {
            return Err(CatalogError::new(ErrorName::LogoutRequestExpired));
        }
        Ok(request)
    }
}

fn context(tenant_id: TenantId) -> String {
    format!("{PURPOSE}/{tenant_id}")
}

/// RP-Initiated Logout §2: `client_id`, when sent with `id_token_hint`, must be the
/// hint's audience; the app is either. `hint_audience` is the verified hint's `aud`.
pub fn requesting_app<'a>(
    client_id: Option<&'a str>,
    hint_audience: Option<&'a str>,
) -> Result<Option<&'a str>, CatalogError> {
    match (client_id, hint_audience) {
        (Some(c), Some(a)) if c != a => Err(CatalogError::new(ErrorName::InvalidRequestFormat)
            .with(
                "detail",
                "client_id is not the app the id_token_hint was issued to",
            )),
        (c, a) => Ok(c.or(a)),
    }
}

/// RP-Initiated Logout §3: a `post_logout_redirect_uri` must be registered for the app
/// that sent it, compared as a string (as redirect URIs are, RFC 9700 §4.1.3); without
/// a known app it cannot be checked and is refused.
pub fn check_redirect(app: Option<&App>, uri: Option<&str>) -> Result<(), CatalogError> {
    let Some(uri) = uri else { return Ok(()) };
    let mismatch = |client_id: &str| {
        CatalogError::new(ErrorName::PostLogoutRedirectUriMismatch)
            .with("redirect_uri", uri.chars().take(256).collect::<String>())
            .with("client_id", client_id.to_owned())
    };
    match app {
        Some(app) if app.post_logout_redirect_uris.iter().any(|u| u == uri) => Ok(()),
        Some(app) => Err(mismatch(app.client_id.as_str())),
        None => Err(mismatch("(none: send client_id or id_token_hint)")),
    }
}

/// Back-Channel Logout §2.6: the event a logout token carries.
pub const BACKCHANNEL_EVENT: &str = "http://schemas.openid.net/event/backchannel-logout";

/// A logout token's claims (Back-Channel Logout §2.4): no `nonce`, an `events` member
/// with the back-channel logout event, `sub` and `sid`. Fields in alphabetical order.
#[derive(Debug, Serialize)]
pub struct LogoutClaims<'a> {
    pub aud: &'a str,
    pub events: serde_json::Value,
    pub exp: i64,
    pub iat: i64,
    pub iss: &'a str,
    pub jti: String,
    pub sid: &'a str,
    pub sub: UserId,
}

impl<'a> LogoutClaims<'a> {
    /// Claims for `client_id` about the session `sid` of `sub`, valid two minutes (the
    /// receiver checks `iat` and `exp`; the token is POSTed at once and retried within
    /// that time or signed again).
    pub fn new(
        issuer: &'a str,
        client_id: &'a str,
        sub: UserId,
        sid: &'a str,
        jti: String,
        now: OffsetDateTime,
    ) -> Self {
        Self {
            aud: client_id,
            events: serde_json::json!({ BACKCHANNEL_EVENT: {} }),
            exp: (now + time::Duration::minutes(2)).unix_timestamp(),
            iat: now.unix_timestamp(),
            iss: issuer,
            jti,
            sid,
            sub,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn app() -> App {
        serde_json::from_value(serde_json::json!({
            "client_id": "web", "name": "Web", "multi_tenant": false, "assignment_required": false,
            "redirect_uris": { "web": [], "spa": [], "native": [] },
            "post_logout_redirect_uris": ["https://app.test/bye"], "secrets": [], "jwks": null,
            "grant_types": [], "implicit": { "id_token": false, "access_token": false },
            "permissions": [], "admin_consented": false, "assigned_users": [], "enabled": true
        }))
        .unwrap()
    }

    #[test]
    fn the_redirect_must_be_registered_exactly() {
        let app = app();
        assert!(check_redirect(Some(&app), Some("https://app.test/bye")).is_ok());
        assert!(check_redirect(None, None).is_ok());
        for bad in [
            "https://app.test/bye/",
            "https://APP.test/bye",
            "https://evil.test/",
        ] {
            let e = check_redirect(Some(&app), Some(bad)).unwrap_err();
            assert_eq!(e.name, ErrorName::PostLogoutRedirectUriMismatch);
        }
        let e = check_redirect(None, Some("https://app.test/bye")).unwrap_err();
        assert_eq!(e.name, ErrorName::PostLogoutRedirectUriMismatch);
    }

    #[test]
    fn client_id_must_be_the_hints_audience() {
        assert_eq!(requesting_app(Some("a"), None), Ok(Some("a")));
        assert_eq!(requesting_app(None, Some("a")), Ok(Some("a")));
        assert_eq!(requesting_app(Some("a"), Some("a")), Ok(Some("a")));
        assert_eq!(requesting_app(None, None), Ok(None));
        assert!(requesting_app(Some("a"), Some("b")).is_err());
    }

    #[test]
    fn a_sealed_request_opens_until_it_expires_and_not_elsewhere() {
        let master = MasterKey::from_bytes(&[7; 32]);
        let rng = crate::rng::SequenceRng::new(1);
        let tenant = TenantId::from_uuid(uuid::Uuid::from_bytes([1; 16]));
        let now = OffsetDateTime::from_unix_timestamp(1_800_000_000).unwrap();
        let request = LogoutRequest {
            client_id: Some("web".into()),
            post_logout_redirect_uri: Some("https://app.test/bye".into()),
            state: Some("s".into()),
            user: None,
            issued_at: now,
        };
        let sealed = request.seal(&master, &rng, tenant);
        let later = now + time::Duration::seconds(300);
        assert_eq!(
            LogoutRequest::open(&master, tenant, &sealed, later, 300),
            Ok(request)
        );
        let too_late = LogoutRequest::open(
            &master,
            tenant,
            &sealed,
            later + time::Duration::seconds(1),
            300,
        );
        assert_eq!(too_late.unwrap_err().name, ErrorName::LogoutRequestExpired);
        let other = TenantId::from_uuid(uuid::Uuid::from_bytes([2; 16]));
        let elsewhere = LogoutRequest::open(&master, other, &sealed, now, 300);
        assert_eq!(elsewhere.unwrap_err().name, ErrorName::InvalidRequestFormat);
    }
}
