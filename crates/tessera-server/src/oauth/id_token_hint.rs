//! `id_token_hint` (OIDC Core §3.1.2.1; RP-Initiated Logout §2): an ID token the
//! tenant issued earlier, sent back to name the user and session. Its signature must
//! verify with one of the tenant's keys and its issuer be the tenant; its expiry is not
//! checked, since OIDC Core allows a hint that has expired (an app signing out or
//! re-authenticating hours later still holds only that one).

use super::signing;
use crate::runtime::state::AppState;
use serde_json::Value;
use tessera_core::errors::{CatalogError, ErrorName};
use tessera_core::ids::UserId;
use tessera_core::oauth::account::Hint;
use tessera_core::oauth::jose::{self, JwtError};
use tessera_core::tenant::Tenant;

/// What a verified hint says.
#[derive(Debug, Clone)]
pub struct IdTokenHint {
    pub sub: UserId,
    pub sid: Option<String>,
    /// The app it was issued to (`aud`).
    pub audience: String,
    pub username: Option<String>,
}

impl IdTokenHint {
    pub fn hint(&self) -> Hint {
        Hint::IdToken {
            sub: self.sub,
            sid: self.sid.clone(),
            username: self.username.clone(),
        }
    }
}

fn invalid(reason: &str) -> CatalogError {
    CatalogError::new(ErrorName::IdTokenHintInvalid).with("reason", reason.to_owned())
}

/// The hint, verified against `tenant`'s keys.
pub async fn verify(
    state: &AppState,
    tenant: &Tenant,
    token: &str,
) -> Result<IdTokenHint, CatalogError> {
    let keys = signing::public_keys(state, tenant.id).await?;
    let verified = jose::verify_remembering(token, &keys, None).map_err(|e| match e {
        JwtError::Malformed(why) => invalid(why),
        JwtError::UnknownKey => invalid("no key of the tenant signed it"),
        JwtError::BadSignature => invalid("its signature does not verify"),
    })?;
    // RFC 9068 §2.1: an access token says so in `typ`; it is not an ID token.
    if verified
        .header
        .get("typ")
        .and_then(Value::as_str)
        .is_some_and(|t| t.to_ascii_lowercase().ends_with("at+jwt"))
    {
        return Err(invalid("it is an access token"));
    }
    let c = verified.claims;
    let text = |name: &str| c.get(name).and_then(Value::as_str);
    if text("iss") != Some(state.issuer(tenant.slug.as_str()).as_str()) {
        return Err(invalid("another issuer issued it"));
    }
    let sub = text("sub")
        .and_then(UserId::parse)
        .ok_or_else(|| invalid("it names no user (sub)"))?;
    // OIDC Core §2: aud is the client_id, as a string or an array of one.
    let audience = match c.get("aud") {
        Some(Value::String(a)) => a.clone(),
        Some(Value::Array(a)) if a.len() == 1 => a[0].as_str().unwrap_or_default().to_owned(),
        _ => String::new(),
    };
    if audience.is_empty() {
        return Err(invalid("it names no app (aud)"));
    }
    Ok(IdTokenHint {
        audience,
        sub,
        sid: text("sid").map(str::to_owned),
        username: text("preferred_username").map(str::to_owned),
    })
}
