//! Verifying a username and password on the bounded Argon2 pool. The answer never
//! tells whether the user exists: an unknown user costs the same hash as a wrong
//! password and gets the same InvalidCredentials.

use super::lookup;
use crate::runtime::state::AppState;
use std::sync::OnceLock;
use tessera_core::directory::model::User;
use tessera_core::directory::names::Username;
use tessera_core::errors::{CatalogError, ErrorName};
use tessera_core::ids::UserId;
use tessera_core::secret::Secret;
use tessera_core::store::object::ObjectKind;
use tessera_core::tenant::Tenant;

/// A hash nobody's password matches, verified when the user does not exist so both
/// answers take one Argon2 verification.
static DECOY: OnceLock<String> = OnceLock::new();

async fn decoy(state: &AppState) -> String {
    if let Some(h) = DECOY.get() {
        return h.clone();
    }
    let h = state
        .passwords
        .hash(Secret::new("tessera decoy password"), state.rng.clone())
        .await;
    DECOY.get_or_init(|| h).clone()
}

/// Who signed in: the user's case-insensitive key and object id.
#[derive(Debug, Clone)]
pub struct Authenticated {
    pub key: String,
    pub id: UserId,
    /// The password is a temporary one an administrator set: it proves who this is
    /// (enough to change it), but does not sign in ([`Authenticated::may_sign_in`]).
    pub temporary: bool,
}

impl Authenticated {
    /// PasswordChangeRequired when the password is temporary.
    pub fn may_sign_in(self) -> Result<Self, CatalogError> {
        if self.temporary {
            return Err(CatalogError::new(ErrorName::PasswordChangeRequired));
        }
        Ok(self)
    }
}

/// The user when `username` and `password` match an enabled user, asked from
/// `client` (the client's address, when known), which the tenant may block
/// (SignInBlockedNetwork: said before any password is checked, so it tells nothing of the
/// user).
pub async fn authenticate(
    state: &AppState,
    tenant: &Tenant,
    client: Option<std::net::IpAddr>,
    username: &str,
    password: Secret,
) -> Result<Authenticated, CatalogError> {
    if let Some(ip) = client
        && tessera_core::network::in_ranges(ip, &tenant.policy.blocked_ip_ranges)
    {
        return Err(CatalogError::new(ErrorName::SignInBlockedNetwork).with("ip", ip.to_string()));
    }
    let invalid = || CatalogError::new(ErrorName::InvalidCredentials);
    let user = match Username::parse(username) {
        Ok(name) => lookup::get::<User>(state, tenant.id, ObjectKind::User, &name.key()).await?,
        Err(_) => None,
    };
    let Some((object, user)) = user.filter(|(_, u)| u.password_hash.is_some()) else {
        let _ = state.passwords.verify(password, decoy(state).await).await;
        return Err(invalid());
    };
    let hash = user.password_hash.clone().unwrap_or_default();
    if !state.passwords.verify(password, hash).await {
        return Err(invalid());
    }
    // Only after the password proved who is asking may the answer say more.
    if !user.enabled {
        return Err(CatalogError::new(ErrorName::AccountDisabled));
    }
    Ok(Authenticated {
        key: user.username.key(),
        id: UserId::of(object.id),
        temporary: user.password_change_required,
    })
}
