//! The sign-in, consent, device, logout and account pages: cookies (the CSRF cookie, the
//! session cookie) and the forms they check. The input's first byte picks the page, the
//! first line is the `Cookie` header, the rest the form body (or the query of a GET).
//! A body's `csrf_token=CSRF` is replaced by the token that goes with the input's CSRF
//! cookie, so inputs pass the CSRF check and reach the forms behind it; any other
//! value is checked as sent. Property: no answer is a 5xx.
#![no_main]

use axum::body::Body;
use axum::http::{Method, Request};
use libfuzzer_sys::fuzz_target;
use tessera_fuzz::server::{self, TENANT};

const PAGES: [(&str, &str); 16] = [
    ("GET", "oauth2/authorize"),
    ("POST", "signin/password"),
    ("POST", "signin/consent"),
    ("POST", "signin/select"),
    ("POST", "signin/second-factor"),
    ("GET", "oauth2/logout"),
    ("POST", "oauth2/logout/confirm"),
    ("GET", "device"),
    ("POST", "device/sign-in"),
    ("POST", "device/confirm"),
    ("GET", "account"),
    ("POST", "account/signin"),
    ("POST", "account/consents/revoke"),
    ("POST", "account/authenticator"),
    ("POST", "account/password"),
    ("GET", "adminconsent"),
];

fuzz_target!(|data: &[u8]| {
    let Some((pick, rest)) = data.split_first() else {
        return;
    };
    let (method, page) = PAGES[usize::from(*pick) % PAGES.len()];
    let (cookie, body) = match rest.iter().position(|b| *b == b'\n') {
        Some(i) => (&rest[..i], &rest[i + 1..]),
        None => (&[][..], rest),
    };
    let Ok(cookie) = std::str::from_utf8(cookie) else {
        return;
    };
    server::with(|s| {
        let csrf_cookie = cookie
            .split(';')
            .find_map(|c| c.trim().strip_prefix("tessera_csrf="))
            .unwrap_or_default();
        let mut body = body.to_vec();
        if let Some(i) = body.windows(15).position(|w| w == b"csrf_token=CSRF") {
            let token = s.csrf_token(csrf_cookie);
            body.splice(i + 11..i + 15, token.into_bytes());
        }
        let mut uri = format!("/{TENANT}/{page}");
        let request = if method == "GET" {
            let Ok(query) = std::str::from_utf8(&body) else {
                return;
            };
            uri.push('?');
            uri.push_str(query);
            Request::builder().method(Method::GET).uri(uri)
        } else {
            Request::builder()
                .method(Method::POST)
                .uri(uri)
                .header("content-type", "application/x-www-form-urlencoded")
        };
        let mut request = request.header("accept", "text/html");
        if !cookie.is_empty() {
            request = request.header("cookie", cookie);
        }
        let body = if method == "GET" { Vec::new() } else { body };
        // Bytes no URI or header may hold are refused before Tessera sees them.
        let Ok(request) = request.body(Body::from(body)) else {
            return;
        };
        s.send(request);
    });
});
