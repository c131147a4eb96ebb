//! Checking an access token Tessera issued (RFC 9068 §4): signature with one of the
//! tenant's keys (any state, so tokens signed before a rotation still verify until they
//! expire), `typ: at+jwt`, issuer, expiry, and the revocation deny-list by `jti`. The
//! audience is the caller's to check. Failures are the bearer errors of RFC 6750.

use super::{lookup, signing};
use crate::state::AppState;
use serde_json::{Map, Value};
use tessera_core::directory::object::ObjectKind;
use tessera_core::errors::{CatalogError, ErrorName};
use tessera_core::oauth::jose::{self, JwtError};
use tessera_core::oauth::records::RevokedAccessToken;
use tessera_core::tenant::Tenant;

pub fn malformed(reason: &str) -> CatalogError {
    CatalogError::new(ErrorName::BearerTokenMalformed).with("reason", reason.to_owned())
}

/// The claims of a currently valid access token of `tenant`.
pub async fn verify(
    state: &AppState,
    tenant: &Tenant,
    token: &str,
) -> Result<Map<String, Value>, CatalogError> {
    let keys = signing::public_keys(state, tenant.id).await?;
    let verified = jose::verify(token, &keys).map_err(|e| match e {
        JwtError::Malformed(why) => malformed(why),
        JwtError::UnknownKey | JwtError::BadSignature => {
            CatalogError::new(ErrorName::BearerTokenSignatureInvalid)
        }
    })?;
    if verified
        .header
        .get("typ")
        .and_then(Value::as_str)
        .map(str::to_ascii_lowercase)
        .as_deref()
        != Some("at+jwt")
    {
        return Err(malformed("the token is not an access token (typ at+jwt)"));
    }
    let c = verified.claims;
    if c.get("iss").and_then(Value::as_str) != Some(state.issuer(tenant.slug.as_str()).as_str()) {
        return Err(CatalogError::new(ErrorName::InvalidBearerToken).internal("issuer differs"));
    }
    let exp = c
        .get("exp")
        .and_then(Value::as_i64)
        .ok_or_else(|| malformed("exp is missing"))?;
    if exp <= state.clock.now().unix_timestamp() {
        let at = time::OffsetDateTime::from_unix_timestamp(exp)
            .map(tessera_core::errors::render::timestamp)
            .unwrap_or_default();
        return Err(CatalogError::new(ErrorName::BearerTokenExpired).with("time", at));
    }
    let jti = c.get("jti").and_then(Value::as_str).unwrap_or_default();
    if lookup::get::<RevokedAccessToken>(state, tenant.id, ObjectKind::RevokedAccessToken, jti)
        .await?
        .is_some()
    {
        return Err(
            CatalogError::new(ErrorName::InvalidBearerToken).internal("access token revoked")
        );
    }
    Ok(c)
}
