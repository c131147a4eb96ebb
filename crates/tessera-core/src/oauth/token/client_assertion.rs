//! `private_key_jwt` (RFC 7523 §2.2 and §3, OIDC Core §9): a confidential app proves
//! itself with a JWT signed by a private key whose public half it registered (`jwks`).
//! [`verify`] checks one assertion in a fixed order, each refusal with its own catalogue
//! entry: the JWT's form, the key, the signature, who issued it, for whom, when, and
//! finally that its `jti` was never used before on any node (the store remembers it
//! until the assertion could no longer be accepted anyway).
//!
//! `client_secret_jwt` (an HMAC under the client secret) is not offered: Tessera keeps
//! only a keyed hash of each secret, never the secret an HMAC would need.

use super::context::TokenContext;
use crate::directory::model::App;
use crate::errors::render::unix_timestamp;
use crate::errors::{CatalogError, ErrorName};
use crate::oauth::jose::{self, JwsAlg, JwtError};
use crate::oauth::records::purpose;
use crate::store::StoreError;
use crate::store::object::{ObjectKind, StoredObject, Write, encode};
use serde_json::Value;
use time::OffsetDateTime;

/// RFC 7523 §2.2: the only `client_assertion_type` of a JWT assertion.
pub const JWT_BEARER: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

/// Clock skew allowed between the client and Tessera for `exp`, `nbf` and `iat`.
pub const LEEWAY_SECONDS: i64 = 60;

/// The longest an assertion may still be valid when it arrives: long enough for a
/// request to reach the server, short enough that a copied assertion is soon worthless.
pub const MAX_LIFETIME_SECONDS: i64 = 600;

/// What the store keeps of a used assertion: nothing usable, only that its `jti` went.
#[derive(serde::Serialize, serde::Deserialize)]
struct UsedAssertion {
    client_id: String,
    #[serde(with = "time::serde::rfc3339")]
    expires_at: OffsetDateTime,
}

fn malformed(reason: impl Into<String>) -> CatalogError {
    CatalogError::new(ErrorName::ClientAssertionMalformed).with("reason", reason.into())
}

/// A NumericDate claim (RFC 7519 §2): seconds since the epoch, possibly fractional.
fn numeric_date(
    claims: &serde_json::Map<String, Value>,
    name: &str,
) -> Result<Option<i64>, CatalogError> {
    match claims.get(name) {
        None => Ok(None),
        Some(v) => v
            .as_i64()
            // Fractions of a second are dropped; a value beyond i64 is refused below.
            .or_else(|| {
                v.as_f64()
                    .filter(|f| f.is_finite() && f.abs() < 1e15)
                    .map(|f| f as i64)
            })
            .map(Some)
            .ok_or_else(|| malformed(format!("{name} is not a number of seconds"))),
    }
}

/// Checks `assertion` as `app`'s proof of identity, and spends its `jti`.
pub async fn verify(
    ctx: &TokenContext<'_>,
    app: &App,
    assertion: &str,
) -> Result<(), CatalogError> {
    let client_id = app.client_id.as_str();
    let parsed = jose::parse(assertion).map_err(|e| match e {
        JwtError::Malformed(why) => malformed(why),
        _ => malformed("not a compact JWS"),
    })?;

    // The algorithm: one of a signature's, never `none` or an HMAC (RFC 8725 §3.1).
    let alg_name = parsed.header_str("alg").unwrap_or_default();
    let alg = JwsAlg::parse(alg_name).ok_or_else(|| {
        malformed(format!(
            "the alg header '{}' is not one of RS256, PS256, ES256, EdDSA",
            alg_name.chars().take(20).collect::<String>()
        ))
    })?;

    // The key: the registered one with this kid, of the header's algorithm.
    let kid = parsed.header_str("kid");
    let shown_kid = kid
        .unwrap_or("(none)")
        .chars()
        .take(100)
        .collect::<String>();
    let not_found = || {
        CatalogError::new(ErrorName::ClientAssertionKeyNotFound)
            .with("client_id", client_id)
            .with("kid", shown_kid.clone())
    };
    let keys = app
        .jwks
        .as_ref()
        .and_then(|j| j.get("keys"))
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default();
    let jwk = keys
        .iter()
        .find(|k| kid.is_some() && k.get("kid").and_then(Value::as_str) == kid)
        .ok_or_else(not_found)?;
    if !alg.fits(jwk) {
        return Err(
            CatalogError::new(ErrorName::ClientAssertionSignatureInvalid)
                .with("client_id", client_id)
                .with("kid", shown_kid)
                .internal(format!(
                    "alg {} does not fit the registered key",
                    alg.as_str()
                )),
        );
    }
    if !parsed
        .signature_verifies(alg, jwk)
        .map_err(|_| not_found())?
    {
        return Err(
            CatalogError::new(ErrorName::ClientAssertionSignatureInvalid)
                .with("client_id", client_id)
                .with("kid", shown_kid),
        );
    }

    let claims = &parsed.claims;
    let text = |name: &str| claims.get(name).and_then(Value::as_str);
    // RFC 7523 §3 items 1 and 2: iss and sub are the client_id.
    for name in ["iss", "sub"] {
        if !claims.contains_key(name) {
            return Err(malformed(format!("the claim {name} is missing")));
        }
    }
    if text("iss") != Some(client_id) || text("sub") != Some(client_id) {
        return Err(CatalogError::new(ErrorName::ClientAssertionIssuerMismatch)
            .with("client_id", client_id));
    }

    // §3 item 3: aud names this server: its token endpoint or its issuer, exactly.
    let token_endpoint = super::context::token_endpoint(&ctx.issuer);
    let audiences: Vec<&str> = match claims.get("aud") {
        None => return Err(malformed("the claim aud is missing")),
        Some(Value::String(a)) => vec![a.as_str()],
        Some(Value::Array(list)) => list.iter().filter_map(Value::as_str).collect(),
        Some(_) => return Err(malformed("aud is neither a string nor an array of strings")),
    };
    if !audiences
        .iter()
        .any(|a| *a == token_endpoint || *a == ctx.issuer)
    {
        return Err(CatalogError::new(ErrorName::ClientAssertionAudienceInvalid)
            .with(
                "audience",
                audiences.join(" ").chars().take(300).collect::<String>(),
            )
            .with("expected", format!("{token_endpoint} or {}", ctx.issuer)));
    }

    // §3 items 4 and 5: exp required, nbf and iat not in the future (with leeway).
    let now = ctx.clock.now().unix_timestamp();
    let exp = numeric_date(claims, "exp")?.ok_or_else(|| malformed("the claim exp is missing"))?;
    // Saturating: `exp` is the client's number, up to i64::MAX.
    if exp.saturating_add(LEEWAY_SECONDS) <= now {
        return Err(
            CatalogError::new(ErrorName::ClientAssertionExpired).with("time", unix_timestamp(exp))
        );
    }
    for name in ["nbf", "iat"] {
        if let Some(t) = numeric_date(claims, name)?
            && t > now + LEEWAY_SECONDS
        {
            return Err(CatalogError::new(ErrorName::ClientAssertionNotYetValid)
                .with("time", unix_timestamp(t)));
        }
    }
    if exp - now > MAX_LIFETIME_SECONDS + LEEWAY_SECONDS {
        return Err(CatalogError::new(ErrorName::ClientAssertionLifetimeTooLong)
            .with("lifetime", (exp - now).to_string())
            .with("max_lifetime", MAX_LIFETIME_SECONDS.to_string()));
    }

    // §3 item 7 and OIDC Core §9: jti is required and used once.
    let jti = match text("jti") {
        Some(j) if !j.is_empty() => j,
        _ => return Err(malformed("the claim jti is missing")),
    };
    spend(ctx, client_id, jti, exp).await
}

/// Records `jti` as used by `client_id` until the assertion expires (plus the leeway
/// it is accepted for); a second use anywhere finds the record and conflicts.
async fn spend(
    ctx: &TokenContext<'_>,
    client_id: &str,
    jti: &str,
    exp: i64,
) -> Result<(), CatalogError> {
    let now = ctx.clock.now();
    let until = OffsetDateTime::from_unix_timestamp(exp + LEEWAY_SECONDS).unwrap_or(now);
    // Keyed by a hash: a jti is the client's choice, of any length and alphabet.
    let key = ctx
        .master
        .token_hash(purpose::CLIENT_ASSERTION, &format!("{client_id} {jti}"));
    let record = UsedAssertion {
        client_id: client_id.to_owned(),
        expires_at: until,
    };
    let write = Write::Put(
        StoredObject::new(
            ctx.rng.record_id(now),
            ctx.tenant.id,
            ObjectKind::UsedClientAssertion,
            key,
            encode(&record),
            now,
        )
        .expiring(until),
    );
    match ctx.store.apply(vec![write]).await {
        Ok(()) => Ok(()),
        Err(StoreError::Conflict(_)) => Err(CatalogError::new(ErrorName::ClientAssertionReplayed)
            .with("jti", jti.chars().take(100).collect::<String>())),
        Err(e) => Err(e.into()),
    }
}
