//! Revoking refresh tokens: a whole family when a rotated token comes back (RFC 9700
//! §4.14.2), or every token of a user that a rule selects (sign-out everywhere, consent
//! withdrawn). Writes are versioned, so a token rotated meanwhile makes the batch
//! conflict instead of being overwritten, and the change is read and made again.

use crate::errors::{CatalogError, ErrorName};
use crate::ids::TenantId;
use crate::oauth::records::{ROTATED, RefreshToken};
use crate::store::Store;
use crate::store::object::{ObjectKind, Write, encode};
use std::time::Duration;

/// Revokes every live token of `member`'s family; a family belongs to one user, so only
/// that user's tokens are read. `pause` waits between attempts that lost a race
/// (`crate::retry::on_conflict`).
pub async fn revoke_family<P, PFut>(
    store: &dyn Store,
    now: time::OffsetDateTime,
    tenant_id: TenantId,
    member: &RefreshToken,
    reason: &str,
    pause: P,
) -> Result<(), CatalogError>
where
    P: Fn(Duration) -> PFut,
    PFut: Future<Output = ()>,
{
    let family = member.family.as_str();
    crate::retry::on_conflict(pause, || async {
        // Rotated-out tokens too: their later use must read as revoked, not as reuse.
        let writes = revocations(store, now, tenant_id, &member.user, reason, |t| {
            t.family == family && t.revoked.as_deref().is_none_or(|r| r == ROTATED)
        })
        .await?;
        if writes.is_empty() {
            return Ok(());
        }
        Ok(store.apply(writes).await?)
    })
    .await
    .map_err(|e| {
        if e.name == ErrorName::Conflict {
            // Only if the family kept changing through every attempt: the client may
            // try again shortly.
            CatalogError::new(ErrorName::TemporarilyUnavailable)
                .retry_after(1)
                .internal("family revocation kept conflicting")
        } else {
            e
        }
    })
}

/// The writes that mark every refresh token of `user_key` that `which` selects as
/// revoked for `reason` (versioned: a token changed meanwhile makes the batch conflict).
/// The caller applies them, alone or with its own change. Only that user's tokens are
/// read (`Store::objects_of_user`).
pub async fn revocations(
    store: &dyn Store,
    now: time::OffsetDateTime,
    tenant_id: TenantId,
    user_key: &str,
    reason: &str,
    which: impl Fn(&RefreshToken) -> bool,
) -> Result<Vec<Write>, CatalogError> {
    let internal = |e: String| CatalogError::new(ErrorName::InternalError).internal(e);
    let mut writes = Vec::new();
    for o in store
        .objects_of_user(tenant_id, ObjectKind::RefreshToken, user_key)
        .await?
    {
        let mut token = o.decode::<RefreshToken>().map_err(internal)?;
        if which(&token) {
            token.revoked = Some(reason.to_owned());
            writes.push(Write::Put(o.with_doc(encode(&token), now)));
        }
    }
    Ok(writes)
}
