//! The tenant file (`tessera import`, the admin API's import): JSON and TOML parsed
//! into the typed file, then every validation rule of `directory::validate`.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tessera_core::directory::file::{Format, parse};
use tessera_core::directory::validate;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    for format in [Format::Json, Format::Toml] {
        if let Ok(file) = parse(text, format) {
            let _ = validate::check(&file);
        }
    }
});
