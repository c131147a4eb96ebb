//! The config file of `tessera serve --config` (TOML), resolved into settings with no
//! flags and no environment: every setting's parser and range check.
#![no_main]

use libfuzzer_sys::fuzz_target;
use std::io::Write;
use tessera_server::cli::settings::{FlagValues, resolve};

fuzz_target!(|data: &[u8]| {
    // The settings read the file by path, as `serve` does.
    let path = std::env::temp_dir().join(format!("tessera-fuzz-{}.toml", std::process::id()));
    let mut file = std::fs::File::create(&path).expect("a temporary file");
    file.write_all(data).expect("written");
    drop(file);
    let flags = FlagValues {
        config: Some(path.display().to_string()),
        ..FlagValues::default()
    };
    let _ = resolve(&flags, |_| None);
});
