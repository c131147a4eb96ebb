//! The token endpoint end to end: client authentication (HTTP Basic, client_secret_post,
//! `private_key_jwt` client assertions, RFC 7523 §2.2), the typed request and every
//! grant, against a running server. The input is an `Authorization` header line, then
//! the form body. Property: no answer is a 5xx.
#![no_main]

use axum::body::Body;
use axum::http::Request;
use libfuzzer_sys::fuzz_target;
use tessera_fuzz::server::{self, TENANT};

fuzz_target!(|data: &[u8]| {
    let (authorization, body) = match data.iter().position(|b| *b == b'\n') {
        Some(i) => (&data[..i], &data[i + 1..]),
        None => (&[][..], data),
    };
    let mut request = Request::post(format!("/{TENANT}/oauth2/token"))
        .header("content-type", "application/x-www-form-urlencoded");
    if !authorization.is_empty() {
        let Ok(value) = axum::http::HeaderValue::from_bytes(authorization) else {
            return;
        };
        request = request.header("authorization", value);
    }
    let request = request.body(Body::from(body.to_vec())).expect("a request");
    server::with(|s| s.send(request));
});
