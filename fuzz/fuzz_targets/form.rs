//! `application/x-www-form-urlencoded` query strings and bodies (`Params::parse`), and
//! one value decoded (HTTP Basic's client credentials, RFC 6749 §2.3.1). Property: what
//! parses re-encodes to the same parameters, as the sign-in pages carry an
//! authorization request.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tessera_core::oauth::params::{Params, form_decode};

fuzz_target!(|data: &[u8]| {
    if let Ok(params) = Params::parse(data) {
        let again = Params::parse(params.encode().as_bytes()).expect("an encoded form parses");
        assert_eq!(again, params);
    }
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = form_decode(text);
    }
});
