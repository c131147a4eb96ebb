//! The sealed formats a client hands back: authorization codes, refresh tokens, device
//! codes, pending second-factor sign-ins (AES-256-GCM under the master key, bound to
//! the tenant): decoded, opened, and the records inside deserialized.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tessera_core::directory::mfa::Pending;
use tessera_core::oauth::device::open_device_code;
use tessera_core::oauth::records::{AuthCode, RefreshToken, tenant_of};

fuzz_target!(|data: &[u8]| {
    let Ok(value) = std::str::from_utf8(data) else {
        return;
    };
    let (master, tenant) = (tessera_fuzz::master(), tessera_fuzz::tenant_id());
    let _ = tenant_of(value);
    let _ = AuthCode::open(master, tenant, value);
    let _ = RefreshToken::open(master, tenant, value);
    let _ = open_device_code(master, tenant, value);
    let _ = Pending::open(master, tenant, value, time::OffsetDateTime::UNIX_EPOCH);
});
