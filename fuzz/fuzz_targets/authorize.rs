//! The authorization request (RFC 6749 §4.1.1, OIDC Core §3.1.2.1): a query string
//! through every ordered check of `oauth::authorize` against a registered app.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tessera_core::oauth::authorize;
use tessera_core::oauth::params::Params;

fuzz_target!(|data: &[u8]| {
    let Ok(params) = Params::parse(data) else {
        return;
    };
    let _ = authorize::check_protocol(&params);
    let _ = authorize::check_client_id(&params);
    let app = tessera_fuzz::app();
    let Ok(redirect) = authorize::check_redirect_uri(&params, app) else {
        return;
    };
    let policy = tessera_core::tenant::TenantPolicy::default();
    let _ = authorize::check_request(&params, app, &[], &policy, redirect);
});
