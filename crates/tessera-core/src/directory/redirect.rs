//! Redirect URI rules per platform, checked when an app is registered.
//!
//! - Absolute, no fragment (RFC 6749 §3.1.2).
//! - Written exactly as a URL parser writes it back: the authorization endpoint compares
//!   requested URIs with registered ones as strings (RFC 9700 §4.1.3), and browsers
//!   rewrite what they follow (case, default ports, dot segments, tabs, empty userinfo),
//!   so a registered URI that a parser would rewrite is refused rather than kept as two
//!   spellings of one place.
//! - `web` and `spa`: `https`, except `http` on a loopback host (`localhost`,
//!   `127.0.0.1`, `[::1]`) for development (RFC 9700 §2.6, §4.1.1).
//! - `native`: `https`, `http` on a loopback host (RFC 8252 §7.3; any port is accepted
//!   at sign-in), or a private-use scheme in reverse-domain form such as
//!   `com.example.app:/callback` (RFC 8252 §7.1).

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Platform {
    Web,
    Spa,
    Native,
}

/// Why a redirect URI was refused.
pub fn check(platform: Platform, uri: &str) -> Result<(), &'static str> {
    if uri.len() > 2048 {
        return Err("must be at most 2048 characters");
    }
    let url = url::Url::parse(uri).map_err(|_| "must be an absolute URI")?;
    if url.fragment().is_some() || uri.contains('#') {
        return Err("must not have a fragment (RFC 6749 section 3.1.2)");
    }
    if uri.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err("must not contain spaces");
    }
    if url.as_str() != uri {
        return Err(
            "must be written as a URL parser writes it back (lowercase scheme and host, no default port, no dot segments or empty user info, at least the path /)",
        );
    }
    match url.scheme() {
        "https" => Ok(()),
        "http" if is_loopback(&url) => Ok(()),
        "http" => Err("must use https, except on localhost, 127.0.0.1 or [::1]"),
        scheme if platform == Platform::Native => {
            // RFC 8252 §7.1: a private-use scheme based on a domain name the app controls.
            if scheme.contains('.') {
                Ok(())
            } else {
                Err(
                    "a native app's custom scheme must be a reverse domain name such as com.example.app (RFC 8252 section 7.1)",
                )
            }
        }
        _ => Err("must use https (or http on a loopback host)"),
    }
}

/// Whether the URI's host is a loopback name or address.
pub fn is_loopback(url: &url::Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn web_and_spa_need_https_outside_loopback() {
        for p in [Platform::Web, Platform::Spa] {
            assert!(check(p, "https://app.contoso.test/cb").is_ok());
            assert!(check(p, "http://localhost:3000/cb").is_ok());
            assert!(check(p, "http://127.0.0.1/cb").is_ok());
            assert!(check(p, "http://[::1]:8080/cb").is_ok());
            assert!(check(p, "http://app.contoso.test/cb").is_err());
            assert!(check(p, "https://app.contoso.test/cb#frag").is_err());
            assert!(check(p, "/relative").is_err());
            assert!(check(p, "com.contoso.app:/cb").is_err());
        }
    }

    /// Each of these would be rewritten by a URL parser (and by browsers), so the
    /// registered string would not be where a browser goes.
    #[test]
    fn uris_a_parser_would_rewrite_are_refused() {
        for uri in [
            "https://App.Contoso.test/cb",
            "HTTPS://app.contoso.test/cb",
            "https://app.contoso.test:443/cb",
            "https://app.contoso.test/a/../cb",
            "https://app.contoso.test/./cb",
            "https://@app.contoso.test/cb",
            "https://app.contoso.test",
            "https://app.contoso.test/c%62",
            "http://127.000.000.001/cb",
            "http://[0:0:0:0:0:0:0:1]/cb",
        ] {
            let refused = check(Platform::Web, uri);
            // `c%62` is kept by the parser (it does not decode), so it is a URI of its own.
            if uri.ends_with("c%62") {
                assert!(refused.is_ok(), "{uri}");
            } else {
                assert!(refused.is_err(), "{uri}");
            }
        }
    }

    #[test]
    fn native_apps_may_use_reverse_domain_schemes() {
        assert!(check(Platform::Native, "com.contoso.app:/oauth2redirect").is_ok());
        assert!(check(Platform::Native, "http://127.0.0.1/callback").is_ok());
        assert!(check(Platform::Native, "myapp:/cb").is_err());
        assert!(check(Platform::Native, "javascript:alert(1)").is_err());
    }
}
