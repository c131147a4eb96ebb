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
    // Rotated-out tokens too: their later use must read as revoked, not as reuse.
    let which =
        |t: &RefreshToken| t.family == family && t.revoked.as_deref().is_none_or(|r| r == ROTATED);
    revoke_where(store, now, tenant_id, &member.user, reason, which, pause).await?;
    Ok(())
}

/// Revokes every live refresh token of `user_key`, after the change that ended the
/// user's sign-ins (`User::end_sign_ins`) committed; how many. From that change on the
/// check list refuses them all whatever their records say, and no rotation of them
/// hands out a successor, so the records written here settle within an attempt or two
/// even while the user's apps keep refreshing. Ending the sign-ins and revoking the
/// tokens in one batch instead would conflict with each of those rotations and could
/// lose every attempt to them.
pub async fn revoke_users_tokens<P, PFut>(
    store: &dyn Store,
    now: time::OffsetDateTime,
    tenant_id: TenantId,
    user_key: &str,
    reason: &str,
    pause: P,
) -> Result<usize, CatalogError>
where
    P: Fn(Duration) -> PFut,
    PFut: Future<Output = ()>,
{
    let which = |t: &RefreshToken| t.user == user_key && t.revoked.is_none();
    revoke_where(store, now, tenant_id, user_key, reason, which, pause).await
}

/// Marks the tokens of `user_key` that `which` selects revoked for `reason`, read and
/// written again while a concurrent rotation changes one of them; how many.
async fn revoke_where<P, PFut>(
    store: &dyn Store,
    now: time::OffsetDateTime,
    tenant_id: TenantId,
    user_key: &str,
    reason: &str,
    which: impl Fn(&RefreshToken) -> bool,
    pause: P,
) -> Result<usize, CatalogError>
where
    P: Fn(Duration) -> PFut,
    PFut: Future<Output = ()>,
{
    crate::retry::on_conflict(pause, || async {
        let writes = revocations(store, now, tenant_id, user_key, reason, &which).await?;
        let count = writes.len();
        if count > 0 {
            store.apply(writes).await?;
        }
        Ok(count)
    })
    .await
    .map_err(|e| {
        if e.name == ErrorName::Conflict {
            // Only if the tokens kept changing through every attempt: the client may
            // try again shortly.
            CatalogError::new(ErrorName::TemporarilyUnavailable)
                .retry_after(1)
                .internal("refresh token revocation kept conflicting")
        } else {
            e
        }
    })
}

/// The writes that mark every refresh token of `user_key` that `which` selects as
/// revoked for `reason` (versioned: a token changed meanwhile makes the batch conflict).
/// Only that user's tokens are read (`Store::objects_of_user`).
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
