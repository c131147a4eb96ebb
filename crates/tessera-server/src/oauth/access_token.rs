//! Checking an access token Tessera issued (RFC 9068 §4), the one place that does it
//! (UserInfo, introspection, revocation, the admin API): signature with one of the
//! tenant's keys chosen by `kid` (any state, so tokens signed before a rotation verify
//! until they expire; a token whose signature verified before skips the check while its
//! key is in the set, `oauth::verified_tokens`), `typ: at+jwt`, issuer, `exp`/`nbf` with a small leeway for clock
//! skew between nodes, and the revocation deny-list by `jti`. The audience is the
//! caller's to check ([`require_audience`]), as are scopes ([`require_scope`]). Failures
//! are the bearer errors of RFC 6750. docs/validating-tokens.md tells resource servers
//! in any language how to do the same offline.

use super::{lookup, signing};
use crate::runtime::state::AppState;
use serde_json::{Map, Value};
use tessera_core::errors::{CatalogError, ErrorName};
use tessera_core::oauth::jose::{self, JwtError};
use tessera_core::oauth::token::deny_list::{self, LEEWAY_SECONDS};
use tessera_core::tenant::Tenant;

/// Lists the access token `jti` as revoked until it could no longer be accepted
/// (`tessera_core::oauth::token::deny_list::deny`).
pub async fn deny(
    state: &AppState,
    tenant: &Tenant,
    jti: &str,
    expires_at: time::OffsetDateTime,
    reason: &str,
) -> Result<(), CatalogError> {
    let now = state.clock.now();
    let store = state.store.as_ref();
    deny_list::deny(
        store,
        state.rng.as_ref(),
        now,
        tenant.id,
        jti,
        expires_at,
        reason,
    )
    .await
}

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
    let memo: &dyn jose::SignatureMemo = &state.verified_tokens;
    let verified = jose::verify_remembering(token, &keys, Some(memo)).map_err(|e| match e {
        JwtError::Malformed(why) => malformed(why),
        JwtError::UnknownKey | JwtError::BadSignature => {
            CatalogError::new(ErrorName::BearerTokenSignatureInvalid)
        }
    })?;
    // RFC 9068 §4: "at+jwt", or its full media type "application/at+jwt".
    let typ = verified
        .header
        .get("typ")
        .and_then(Value::as_str)
        .map(str::to_ascii_lowercase);
    if !matches!(typ.as_deref(), Some("at+jwt" | "application/at+jwt")) {
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
    let now = state.clock.now().unix_timestamp();
    if c.get("nbf")
        .and_then(Value::as_i64)
        .is_some_and(|nbf| nbf > now + LEEWAY_SECONDS)
    {
        return Err(
            CatalogError::new(ErrorName::InvalidBearerToken).internal("not yet valid (nbf)")
        );
    }
    if exp + LEEWAY_SECONDS <= now {
        let at = tessera_core::errors::render::unix_timestamp(exp);
        return Err(CatalogError::new(ErrorName::BearerTokenExpired).with("time", at));
    }
    let jti = c.get("jti").and_then(Value::as_str).unwrap_or_default();
    if lookup::access_token_revoked(state, tenant.id, jti).await? {
        return Err(
            CatalogError::new(ErrorName::InvalidBearerToken).internal("access token revoked")
        );
    }
    Ok(c)
}

/// RFC 9068 §4 step 3: the token must be for this resource.
pub fn require_audience(claims: &Map<String, Value>, expected: &str) -> Result<(), CatalogError> {
    let aud = claims
        .get("aud")
        .and_then(Value::as_str)
        .unwrap_or_default();
    if aud == expected {
        Ok(())
    } else {
        Err(CatalogError::new(ErrorName::BearerTokenAudienceMismatch)
            .with("audience", aud.chars().take(200).collect::<String>())
            .with("expected", expected.to_owned()))
    }
}

/// RFC 6750 §3.1 insufficient_scope: the token must carry `scope` (in `scope`, or as an
/// API's own scope name in `scp`).
pub fn require_scope(claims: &Map<String, Value>, scope: &str) -> Result<(), CatalogError> {
    let has = ["scope", "scp"].iter().any(|member| {
        claims
            .get(*member)
            .and_then(Value::as_str)
            .is_some_and(|s| s.split(' ').any(|v| v == scope))
    });
    if has {
        Ok(())
    } else {
        Err(CatalogError::new(ErrorName::InsufficientScope).with("scope", scope.to_owned()))
    }
}
