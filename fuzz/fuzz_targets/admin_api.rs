//! The admin API's JSON bodies: every create and update (RFC 7396 merge patches
//! included), authenticated with the bootstrap credential. The input's first byte
//! picks the route, the rest is the body. Property: no answer is a 5xx.
//!
//! Not here: the routes that generate signing keys (RSA-2048 among them, tens of
//! milliseconds each), which would bring the run to a few inputs a second. Creating a
//! tenant is fuzzed up to the key generation by `admin_tenant`; rotating keys takes no
//! body.
#![no_main]

use axum::body::Body;
use axum::http::Request;
use libfuzzer_sys::fuzz_target;
use tessera_fuzz::server;

const ROUTES: [(&str, &str); 11] = [
    ("PATCH", "/tenants/fuzz"),
    ("POST", "/tenants/fuzz/users"),
    ("PATCH", "/tenants/fuzz/users/alice"),
    ("POST", "/tenants/fuzz/users/alice/password"),
    ("POST", "/tenants/fuzz/apps"),
    ("PATCH", "/tenants/fuzz/apps/web-app"),
    ("POST", "/tenants/fuzz/apps/web-app/secrets"),
    ("POST", "/tenants/fuzz/apps/key-app/keys"),
    ("POST", "/tenants/fuzz/groups"),
    ("POST", "/tenants/fuzz/apis"),
    ("PATCH", "/tenants/fuzz/apis/https%3A%2F%2Fapi.fuzz.test"),
];

fuzz_target!(|data: &[u8]| {
    let Some((pick, body)) = data.split_first() else {
        return;
    };
    let (method, path) = ROUTES[usize::from(*pick) % ROUTES.len()];
    let content_type = if method == "PATCH" {
        "application/merge-patch+json"
    } else {
        "application/json"
    };
    server::with(|s| {
        let request = Request::builder()
            .method(method)
            .uri(format!("/admin/api/v1{path}"))
            .header("authorization", format!("Bearer {}", s.admin_token))
            .header("content-type", content_type)
            .body(Body::from(body.to_vec()))
            .expect("a request");
        s.send(request);
    });
});
