//! Wire renderings of a [`CatalogError`] that need no template engine: the OAuth JSON
//! error body, the parameters of an error redirect, and RFC 9457 problem details. The
//! HTML renderings (error page, form_post) live in the server's pages and use the same
//! [`ErrorView`].

use super::{CatalogError, FieldError, OAuthError};
use crate::trace::{CorrelationId, TraceId};
use serde::Serialize;
use time::OffsetDateTime;

/// What every rendering adds to the error itself.
#[derive(Debug, Clone)]
pub struct ErrorContext {
    pub trace_id: TraceId,
    pub correlation_id: CorrelationId,
    pub timestamp: OffsetDateTime,
    /// The public base URL, without a trailing slash; `error_uri` points under it.
    /// Shared, not copied: every request builds a context.
    pub public_url: std::sync::Arc<str>,
}

/// [`timestamp`] of a JWT NumericDate (seconds since the epoch, RFC 7519 §2); the
/// number itself when it lies beyond the dates `time` represents.
pub fn unix_timestamp(seconds: i64) -> String {
    OffsetDateTime::from_unix_timestamp(seconds)
        .map(timestamp)
        .unwrap_or_else(|_| seconds.to_string())
}

/// `2026-11-26T19:30:00Z`: RFC 3339 in UTC to the second.
pub fn timestamp(at: OffsetDateTime) -> String {
    let at = at.to_offset(time::UtcOffset::UTC);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
        at.year(),
        u8::from(at.month()),
        at.day(),
        at.hour(),
        at.minute(),
        at.second()
    )
}

/// RFC 6749 §5.2: `error_description` and `error_uri` may only use %x20-21 / %x23-5B /
/// %x5D-7E (printable ASCII without `"` and `\`).
pub fn is_oauth_description_byte(b: u8) -> bool {
    matches!(b, 0x20..=0x21 | 0x23..=0x5B | 0x5D..=0x7E)
}

/// Replaces characters RFC 6749 §5.2 forbids, so a parameter echoed from the request
/// (a scope, a redirect URI) cannot make the description invalid.
fn sanitize_description(text: &str) -> String {
    text.chars()
        .map(|c| match c {
            '"' => '\'',
            '\\' => '/',
            c if c.is_ascii() && is_oauth_description_byte(c as u8) => c,
            _ => '?',
        })
        .collect()
}

/// Everything a human-facing rendering shows, already filled in.
#[derive(Debug, Clone, Serialize)]
pub struct ErrorView {
    pub code: String,
    pub name: &'static str,
    pub error: &'static str,
    pub status: u16,
    pub message: String,
    pub description: String,
    pub developer_action: &'static str,
    pub user_action: &'static str,
    pub retryable: bool,
    pub error_uri: String,
    pub trace_id: String,
    pub correlation_id: String,
    pub timestamp: String,
}

impl ErrorView {
    pub fn new(err: &CatalogError, ctx: &ErrorContext) -> Self {
        let entry = err.entry();
        let message = err.message();
        Self {
            code: entry.code_str(),
            name: entry.name,
            error: oauth_error(err).as_str(),
            status: entry.status,
            description: sanitize_description(&format!("{}: {}", entry.code_str(), message)),
            message,
            developer_action: entry.developer_action,
            user_action: entry.user_action,
            retryable: entry.retryable,
            error_uri: format!("{}/errors/{}", ctx.public_url, entry.code_str()),
            trace_id: ctx.trace_id.to_string(),
            correlation_id: ctx.correlation_id.to_string(),
            timestamp: timestamp(ctx.timestamp),
        }
    }
}

/// The OAuth `error` for an entry; entries that are not OAuth errors map by status
/// (`server_error` for 5xx, `invalid_request` otherwise).
pub fn oauth_error(err: &CatalogError) -> OAuthError {
    let entry = err.entry();
    entry.oauth_error.unwrap_or(if entry.status >= 500 {
        OAuthError::ServerError
    } else {
        OAuthError::InvalidRequest
    })
}

/// The JSON body of an OAuth error response: RFC 6749 §5.2's `error` and
/// `error_description`, extended by Tessera's documented interface with the catalogue
/// code, its reference page, the time and the request's trace and correlation ids.
/// Field order is part of the golden output.
#[derive(Debug, Serialize)]
pub struct OAuthErrorBody<'a> {
    pub error: &'static str,
    pub error_description: &'a str,
    pub error_codes: [u32; 1],
    pub error_uri: &'a str,
    pub timestamp: &'a str,
    pub trace_id: &'a str,
    pub correlation_id: &'a str,
    /// Entra ID's refinement of `error` ([`suberror`]), for the entries that have one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub suberror: Option<&'static str>,
}

/// Entra ID's `suberror` for an entry, which Microsoft's MSAL libraries read to decide
/// what comes next whatever the `error`: `basic_action` and `consent_required` make
/// them ask the user interactively (a second factor to present, a consent to give),
/// `bad_token` makes them drop the refresh token they hold, `user_password_expired`
/// sends the user to change the password.
pub fn suberror(name: crate::errors::ErrorName) -> Option<&'static str> {
    use crate::errors::ErrorName::*;
    match name {
        MfaRequired | MfaExpired => Some("basic_action"),
        ConsentRequired | AdminConsentRequired => Some("consent_required"),
        RefreshTokenInvalid
        | RefreshTokenExpired
        | SpaRefreshTokenExpired
        | RefreshTokenRevoked
        | RefreshTokenReused => Some("bad_token"),
        PasswordChangeRequired => Some("user_password_expired"),
        _ => None,
    }
}

/// The `error` value and status of `err` as the token endpoint answers it. RFC 6749
/// §5.2 lists the values that endpoint may use (RFC 8628 §3.5 adds the device grant's
/// `authorization_pending`, `slow_down`, `access_denied` and `expired_token`, RFC 8707
/// §2 `invalid_target`); a grant refused for another reason, such as a user disabled
/// or a consent missing (`access_denied`, `consent_required` elsewhere), is
/// `invalid_grant` with status 400 there, and the catalogue code says which. Failures
/// of the server keep their status and value.
pub fn at_token_endpoint(err: &CatalogError) -> (OAuthError, u16) {
    use OAuthError::*;
    let entry = err.entry();
    match oauth_error(err) {
        e @ (InvalidRequest
        | InvalidClient
        | InvalidGrant
        | UnauthorizedClient
        | UnsupportedGrantType
        | InvalidScope
        | InvalidTarget
        | ServerError
        | TemporarilyUnavailable
        | AuthorizationPending
        | SlowDown
        | ExpiredToken) => (e, entry.status),
        AccessDenied if err.name == crate::errors::ErrorName::DeviceAccessDenied => {
            (AccessDenied, entry.status)
        }
        _ => (InvalidGrant, 400),
    }
}

/// The OAuth JSON error body, serialized.
pub fn oauth_json(err: &CatalogError, ctx: &ErrorContext) -> String {
    oauth_json_as(err, ctx, oauth_error(err))
}

/// [`oauth_json`] with the `error` value `error` (the token endpoint's,
/// [`at_token_endpoint`]).
pub fn oauth_json_as(err: &CatalogError, ctx: &ErrorContext, error: OAuthError) -> String {
    let v = ErrorView::new(err, ctx);
    let body = OAuthErrorBody {
        error: error.as_str(),
        error_description: &v.description,
        error_codes: [err.entry().code],
        error_uri: &v.error_uri,
        timestamp: &v.timestamp,
        trace_id: &v.trace_id,
        correlation_id: &v.correlation_id,
        suberror: suberror(err.name),
    };
    // Serializing a struct of strings and integers cannot fail.
    serde_json::to_string(&body).unwrap_or_default()
}

/// RFC 9457 problem details, with the catalogue code and the request's ids.
#[derive(Debug, Serialize)]
pub struct ProblemBody<'a> {
    #[serde(rename = "type")]
    pub type_uri: &'a str,
    pub title: &'static str,
    pub status: u16,
    pub detail: &'a str,
    pub code: &'a str,
    pub trace_id: &'a str,
    pub correlation_id: &'a str,
    pub timestamp: &'a str,
    #[serde(skip_serializing_if = "<[FieldError]>::is_empty")]
    pub errors: &'a [FieldError],
}

/// RFC 9457 `application/problem+json` body, serialized.
pub fn problem_json(err: &CatalogError, ctx: &ErrorContext) -> String {
    let v = ErrorView::new(err, ctx);
    let body = ProblemBody {
        type_uri: &v.error_uri,
        title: v.name,
        status: v.status,
        detail: &v.message,
        code: &v.code,
        trace_id: &v.trace_id,
        correlation_id: &v.correlation_id,
        timestamp: &v.timestamp,
        errors: &err.fields,
    };
    serde_json::to_string(&body).unwrap_or_default()
}

/// How an authorization response reaches the client (OAuth 2.0 Multiple Response Type
/// Encoding Practices; Form Post Response Mode).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResponseMode {
    Query,
    Fragment,
    FormPost,
}

/// The parameters of an error sent to the client's redirect URI: RFC 6749 §4.1.2.1
/// (`error`, `error_description`, `error_uri`, `state`) and RFC 9207 (`iss`).
pub fn redirect_params(
    err: &CatalogError,
    ctx: &ErrorContext,
    state: Option<&str>,
    issuer: &str,
) -> Vec<(&'static str, String)> {
    let v = ErrorView::new(err, ctx);
    let mut params = vec![
        ("error", v.error.to_owned()),
        ("error_description", v.description),
        ("error_uri", v.error_uri),
    ];
    if let Some(state) = state {
        params.push(("state", state.to_owned()));
    }
    params.push(("iss", issuer.to_owned()));
    params
}

/// The redirect target for the `query` or `fragment` response mode. Parameters are
/// appended to the redirect URI's own query (RFC 6749 §3.1.2: "MUST retain" it).
/// `FormPost` has no URL of its own; it returns the redirect URI unchanged.
pub fn redirect_location(
    redirect_uri: &str,
    mode: ResponseMode,
    params: &[(&'static str, String)],
) -> String {
    let encoded = serde_urlencoded::to_string(params).unwrap_or_default();
    match mode {
        ResponseMode::Query => {
            let sep = if redirect_uri.contains('?') { '&' } else { '?' };
            format!("{redirect_uri}{sep}{encoded}")
        }
        ResponseMode::Fragment => format!("{redirect_uri}#{encoded}"),
        ResponseMode::FormPost => redirect_uri.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::errors::ErrorName;

    /// RFC 6749 §5.2 (and RFC 8628 §3.5 for the device grant): the token endpoint
    /// answers only the error values those list.
    #[test]
    fn the_token_endpoint_uses_only_its_own_error_values() {
        let at = |name| {
            let (e, status) = at_token_endpoint(&CatalogError::new(name));
            (e.as_str(), status)
        };
        assert_eq!(at(ErrorName::AccountDisabled), ("invalid_grant", 400));
        assert_eq!(at(ErrorName::ConsentRequired), ("invalid_grant", 400));
        assert_eq!(at(ErrorName::AdminConsentRequired), ("invalid_grant", 400));
        assert_eq!(at(ErrorName::UserNotAssigned), ("invalid_grant", 400));
        assert_eq!(at(ErrorName::DeviceAccessDenied), ("access_denied", 400));
        assert_eq!(at(ErrorName::DeviceSlowDown), ("slow_down", 400));
        assert_eq!(at(ErrorName::DeviceCodeExpired), ("expired_token", 400));
        assert_eq!(at(ErrorName::InvalidClientSecret), ("invalid_client", 401));
        assert_eq!(at(ErrorName::RefreshTokenRevoked), ("invalid_grant", 400));
        assert_eq!(at(ErrorName::InvalidResource), ("invalid_target", 400));
        assert_eq!(
            at(ErrorName::TemporarilyUnavailable),
            ("temporarily_unavailable", 503)
        );
        assert_eq!(at(ErrorName::InternalError), ("server_error", 500));
    }

    #[test]
    fn timestamps_are_utc_to_the_second() {
        let at = time::macros::datetime!(2026-11-26 20:30:00.987 +01:00);
        assert_eq!(timestamp(at), "2026-11-26T19:30:00Z");
    }

    #[test]
    fn descriptions_never_carry_forbidden_characters() {
        assert_eq!(sanitize_description("a \"b\" \\ é\n"), "a 'b' / ??");
    }

    #[test]
    fn query_mode_keeps_the_redirect_uris_own_query() {
        let p = vec![
            ("error", "access_denied".to_owned()),
            ("state", "a b&c".to_owned()),
        ];
        assert_eq!(
            redirect_location("https://app.test/cb?x=1", ResponseMode::Query, &p),
            "https://app.test/cb?x=1&error=access_denied&state=a+b%26c"
        );
        assert_eq!(
            redirect_location("https://app.test/cb", ResponseMode::Fragment, &p),
            "https://app.test/cb#error=access_denied&state=a+b%26c"
        );
    }

    #[test]
    fn non_oauth_entries_fall_back_by_status() {
        let err = CatalogError::new(ErrorName::InternalError);
        assert_eq!(oauth_error(&err), OAuthError::ServerError);
    }
}
