//! The access-token deny-list: a JWT access token cannot be recalled, so one revoked
//! before its expiry (by its client, RFC 7009 §2, or because the code that gave it was
//! replayed, RFC 6749 §4.1.2) is listed by `jti` until it could no longer be accepted.

use crate::errors::CatalogError;
use crate::ids::TenantId;
use crate::oauth::records::RevokedAccessToken;
use crate::rng::Rng;
use crate::store::object::{ObjectKind, StoredObject, Write, encode};
use crate::store::{Store, StoreError};

/// Allowed clock skew, in seconds, for an access token's `exp` and `nbf` between nodes.
pub const LEEWAY_SECONDS: i64 = 30;

/// Lists the access token `jti` (expiring at `expires_at`) as revoked, unless it is
/// already listed or can no longer be accepted anyway. The entry outlives the token by
/// [`LEEWAY_SECONDS`]: verifiers accept a token until `exp + LEEWAY`, so the sweeper must
/// not drop its entry before then.
pub async fn deny(
    store: &dyn Store,
    rng: &dyn Rng,
    now: time::OffsetDateTime,
    tenant_id: TenantId,
    jti: &str,
    expires_at: time::OffsetDateTime,
    reason: &str,
) -> Result<(), CatalogError> {
    let until = expires_at + time::Duration::seconds(LEEWAY_SECONDS);
    if until <= now {
        return Ok(());
    }
    let record = RevokedAccessToken {
        reason: reason.to_owned(),
        expires_at,
    };
    let write = Write::Put(
        StoredObject::new(
            rng.record_id(now),
            tenant_id,
            ObjectKind::RevokedAccessToken,
            jti,
            encode(&record),
            now,
        )
        .expiring(until),
    );
    match store.apply(vec![write]).await {
        // Already on the list (a concurrent revocation wrote it first).
        Ok(()) | Err(StoreError::Conflict(_)) => Ok(()),
        Err(e) => Err(e.into()),
    }
}
