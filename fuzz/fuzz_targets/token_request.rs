//! The token request (RFC 6749 §4.1.3, §4.4.2, §6; RFC 8628 §3.4; RFC 8693 §2.1; the
//! Entra on-behalf-of form): a form body parsed into a typed request for a registered
//! app, with and without an `Origin`.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tessera_core::oauth::params::Params;
use tessera_core::oauth::token::request::TokenRequest;

fuzz_target!(|data: &[u8]| {
    let Ok(params) = Params::parse(data) else {
        return;
    };
    let app = tessera_fuzz::app();
    let _ = TokenRequest::parse(&params, app, None);
    let _ = TokenRequest::parse(&params, app, Some("https://spa.test"));
});
