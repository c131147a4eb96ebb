//! A tenant create body (`POST /admin/api/v1/tenants`): read as JSON into the typed
//! request and checked by every rule of a tenant document, everything the route does
//! before it generates the tenant's signing keys (which would bound the run to a few
//! inputs a second; `admin_api` covers the other bodies through the router).
//! Property: a body that is refused is answered with a 4xx, never a 5xx.
#![no_main]

use axum::response::IntoResponse;
use libfuzzer_sys::fuzz_target;
use tessera_core::ids::TenantId;
use tessera_server::admin::check_create_tenant;

fuzz_target!(|data: &[u8]| {
    let id = TenantId::from_uuid(uuid::Uuid::nil());
    if let Err(refused) = check_create_tenant(data, id, time::OffsetDateTime::UNIX_EPOCH) {
        let status = refused.into_response().status();
        assert!(status.is_client_error(), "a tenant body answered {status}");
    }
});
