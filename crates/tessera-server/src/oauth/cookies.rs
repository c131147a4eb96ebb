//! Reading and setting the cookies of the sign-in pages. Every cookie is HttpOnly and
//! SameSite=Lax (RFC 6265bis §5.4.7: sent on top-level navigations from the app, not
//! on cross-site subrequests), and Secure whenever the public URL is https.

use axum::http::{HeaderMap, HeaderValue, header};

/// The SSO session cookie, scoped to one tenant's path. On https it carries the
/// `__Secure-` prefix (RFC 6265bis §4.1.3.1): browsers accept it only with Secure from a
/// secure origin, so a network attacker answering a plain-http request cannot plant a
/// session of their own choosing (the `__Host-` prefix would also pin the path to `/`,
/// and sessions are per tenant path).
pub const SESSION: &str = "tessera_session";
pub const SESSION_SECURE: &str = "__Secure-tessera_session";
/// The random value CSRF tokens are derived from (whole site). On https it carries the
/// `__Host-` prefix (RFC 6265bis §4.1.3.2): browsers then refuse it from a sibling
/// subdomain or without Secure, so no other site can plant a value it knows the token of.
pub const CSRF: &str = "tessera_csrf";
pub const CSRF_HOST: &str = "__Host-tessera_csrf";

/// The session cookie's name: prefixed when cookies are Secure (an https public URL).
pub fn session_name(secure: bool) -> &'static str {
    if secure { SESSION_SECURE } else { SESSION }
}

/// The value of cookie `name`, if the request carries it exactly once.
pub fn get<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    let mut found = None;
    for value in headers.get_all(header::COOKIE) {
        let Ok(value) = value.to_str() else { continue };
        for pair in value.split(';') {
            if let Some((k, v)) = pair.trim().split_once('=')
                && k == name
            {
                if found.is_some() {
                    // Two cookies of one name (e.g. planted on a parent path): trust neither.
                    return None;
                }
                found = Some(v);
            }
        }
    }
    found.filter(|v| !v.is_empty())
}

/// A `Set-Cookie` value. `max_age` in seconds; 0 deletes the cookie.
pub fn set(name: &str, value: &str, path: &str, max_age: i64, secure: bool) -> HeaderValue {
    let secure = if secure { "; Secure" } else { "" };
    let cookie =
        format!("{name}={value}; Path={path}; Max-Age={max_age}; HttpOnly; SameSite=Lax{secure}");
    // Values are base64url and paths are tenant slugs: always a valid header value.
    HeaderValue::from_str(&cookie)
        .unwrap_or_else(|_| HeaderValue::from_static("invalid=; Max-Age=0"))
}

/// The `Set-Cookie` of the tenant's session cookie: `value`, or `None` to delete it.
pub fn session_header(
    state: &crate::runtime::state::AppState,
    tenant: &tessera_core::tenant::Tenant,
    value: Option<&str>,
) -> axum::http::HeaderValue {
    let path = format!("/{}", tenant.slug.as_str());
    let secure = state.secure_cookies();
    let name = session_name(secure);
    match value {
        Some(v) => set(
            name,
            v,
            &path,
            i64::from(tenant.policy.session_lifetime_seconds),
            secure,
        ),
        None => set(name, "", &path, 0, secure),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_one_cookie_and_refuses_duplicates() {
        let mut h = HeaderMap::new();
        h.insert(
            header::COOKIE,
            HeaderValue::from_static("a=1; tessera_session=abc; b=2"),
        );
        assert_eq!(get(&h, SESSION), Some("abc"));
        assert_eq!(get(&h, "c"), None);
        h.append(
            header::COOKIE,
            HeaderValue::from_static("tessera_session=evil"),
        );
        assert_eq!(get(&h, SESSION), None);
    }

    #[test]
    fn the_session_cookie_is_prefixed_on_https_only() {
        assert_eq!(session_name(true), "__Secure-tessera_session");
        assert_eq!(session_name(false), "tessera_session");
        // The prefixed name with Secure is what a browser accepts (RFC 6265bis §4.1.3.1).
        let c = set(session_name(true), "v", "/contoso", 60, true);
        assert!(
            c.to_str()
                .unwrap()
                .starts_with("__Secure-tessera_session=v;")
        );
        assert!(c.to_str().unwrap().ends_with("; Secure"));
    }

    #[test]
    fn flags_are_always_set() {
        let c = set(SESSION, "v", "/contoso", 60, true);
        assert_eq!(
            c,
            "tessera_session=v; Path=/contoso; Max-Age=60; HttpOnly; SameSite=Lax; Secure"
        );
        assert!(
            !set(SESSION, "v", "/", 60, false)
                .to_str()
                .unwrap()
                .contains("Secure")
        );
    }
}
