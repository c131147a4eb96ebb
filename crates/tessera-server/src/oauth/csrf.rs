//! CSRF protection for the sign-in forms: the signed double-submit pattern (OWASP CSRF
//! Prevention Cheat Sheet). A random value lives in an HttpOnly cookie; each form
//! carries an HMAC of it under the master key, so an attacker who can neither read the
//! cookie nor compute the HMAC cannot forge a form, and a cookie planted by a sibling
//! domain is useless without the matching token.

use super::cookies;
use crate::runtime::state::AppState;
use axum::http::{HeaderMap, HeaderValue};
use tessera_core::crypto::generate_token;
use tessera_core::errors::{CatalogError, ErrorName};
use tessera_core::oauth::records::purpose;
use tessera_core::secret::constant_time_eq;

/// The token a page embeds, and the cookie to set when the browser had none.
pub struct CsrfToken {
    pub token: String,
    pub set_cookie: Option<HeaderValue>,
}

fn cookie_name(state: &AppState) -> &'static str {
    if state.secure_cookies() {
        cookies::CSRF_HOST
    } else {
        cookies::CSRF
    }
}

/// The token for this browser, creating its cookie if needed.
pub fn issue(state: &AppState, headers: &HeaderMap) -> CsrfToken {
    match cookies::get(headers, cookie_name(state)) {
        Some(value) => CsrfToken {
            token: state.master.token_hash(purpose::CSRF, value),
            set_cookie: None,
        },
        None => {
            let value = generate_token(state.rng.as_ref());
            CsrfToken {
                token: state.master.token_hash(purpose::CSRF, &value),
                // A browser-session cookie: no Max-Age would do, but a day bounds it.
                set_cookie: Some(cookies::set(
                    cookie_name(state),
                    &value,
                    "/",
                    86_400,
                    state.secure_cookies(),
                )),
            }
        }
    }
}

/// Checks a submitted form's `csrf_token` against the cookie, in constant time.
pub fn check(
    state: &AppState,
    headers: &HeaderMap,
    submitted: Option<&str>,
) -> Result<(), CatalogError> {
    let (Some(cookie), Some(submitted)) = (cookies::get(headers, cookie_name(state)), submitted)
    else {
        return Err(
            CatalogError::new(ErrorName::CsrfTokenInvalid).internal("csrf cookie or field missing")
        );
    };
    let expected = state.master.token_hash(purpose::CSRF, cookie);
    if constant_time_eq(expected.as_bytes(), submitted.as_bytes()) {
        Ok(())
    } else {
        Err(CatalogError::new(ErrorName::CsrfTokenInvalid)
            .internal("csrf token does not match the cookie"))
    }
}

/// A submitted form of one of the pages, with its `csrf_token` checked.
pub fn checked_form(
    state: &AppState,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<tessera_core::oauth::params::Params, CatalogError> {
    let fields = crate::http::extract::form(headers, body)?;
    check(state, headers, fields.get("csrf_token"))?;
    Ok(fields)
}

/// Adds the CSRF cookie (when new) to a page that embeds `token`, and keeps the page out
/// of caches (it carries a per-browser token).
pub fn attach(
    mut response: axum::response::Response,
    token: CsrfToken,
) -> axum::response::Response {
    if let Some(c) = token.set_cookie {
        response
            .headers_mut()
            .append(axum::http::header::SET_COOKIE, c);
    }
    response.headers_mut().insert(
        axum::http::header::CACHE_CONTROL,
        HeaderValue::from_static("no-store"),
    );
    response
}
