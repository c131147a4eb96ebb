//! `/{t}/oauth2/userinfo` (OIDC Core §5.3), GET and POST. The access token is a bearer
//! token (RFC 6750 §2.1 header, or §2.2 form body on POST) that Tessera itself issued
//! for this endpoint; every failure is a 401 with a `WWW-Authenticate: Bearer`
//! challenge naming `invalid_token` and why (RFC 6750 §3).

use super::token::issue::userinfo_url;
use super::{lookup, signing};
use crate::error_response::ErrorResponse;
use crate::state::AppState;
use crate::tenant_path::ResolvedTenant;
use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use tessera_core::directory::model::User;
use tessera_core::directory::object::ObjectKind;
use tessera_core::errors::{CatalogError, ErrorName};
use tessera_core::oauth::jose::{self, JwtError};
use tessera_core::oauth::params::Params;
use tessera_core::oauth::records::RevokedAccessToken;
use tessera_core::oauth::scope;
use tessera_core::tenant::Tenant;

pub async fn userinfo(
    State(state): State<AppState>,
    ResolvedTenant(tenant): ResolvedTenant,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    match claims(&state, &tenant, &headers, &body).await {
        Ok(v) => {
            let mut r = Json(v).into_response();
            r.headers_mut()
                .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            r
        }
        Err(err) => challenge(&tenant, err),
    }
}

/// The error with its RFC 6750 §3 challenge. A request without any token gets the
/// challenge without an error code (§3.1).
fn challenge(tenant: &Tenant, err: CatalogError) -> Response {
    let realm = tenant.slug.as_str();
    let www = if err.name == ErrorName::InsufficientScope {
        Some(format!(
            "Bearer realm=\"{realm}\", error=\"insufficient_scope\", scope=\"openid\""
        ))
    } else if err.entry().status == 401 && err.name != ErrorName::BearerTokenMissing {
        let description: String = err
            .message()
            .chars()
            .map(|c| if c == '"' || c == '\\' { '\'' } else { c })
            .collect();
        Some(format!(
            "Bearer realm=\"{realm}\", error=\"invalid_token\", error_description=\"{description}\""
        ))
    } else if err.name == ErrorName::BearerTokenMissing {
        Some(format!("Bearer realm=\"{realm}\""))
    } else {
        None
    };
    let mut e = ErrorResponse::json(err);
    e.www_authenticate = www;
    e.into_response()
}

fn bearer(headers: &HeaderMap, body: &[u8]) -> Result<String, CatalogError> {
    let from_header = match headers.get(header::AUTHORIZATION) {
        Some(v) => {
            let v = v
                .to_str()
                .map_err(|_| malformed("the Authorization header is not ASCII"))?;
            match v.split_once(' ') {
                Some((scheme, token))
                    if scheme.eq_ignore_ascii_case("bearer") && !token.trim().is_empty() =>
                {
                    Some(token.trim().to_owned())
                }
                _ => {
                    return Err(malformed(
                        "the Authorization header must be 'Bearer <token>'",
                    ));
                }
            }
        }
        None => None,
    };
    // RFC 6750 §2.2: a form body may carry access_token; §2: one method only.
    let from_body = if body.is_empty() {
        None
    } else {
        Params::parse(body)
            .ok()
            .and_then(|p| p.get("access_token").map(str::to_owned))
    };
    match (from_header, from_body) {
        (Some(_), Some(_)) => Err(CatalogError::new(ErrorName::InvalidRequestFormat).with(
            "detail",
            "the access token was sent both in the header and in the body",
        )),
        (Some(t), None) | (None, Some(t)) => Ok(t),
        (None, None) => Err(CatalogError::new(ErrorName::BearerTokenMissing)),
    }
}

fn malformed(reason: &str) -> CatalogError {
    CatalogError::new(ErrorName::BearerTokenMalformed).with("reason", reason.to_owned())
}

async fn claims(
    state: &AppState,
    tenant: &Tenant,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<serde_json::Value, CatalogError> {
    let token = bearer(headers, body)?;
    let keys = signing::public_keys(state, tenant.id).await?;
    let verified = jose::verify(&token, &keys).map_err(|e| match e {
        JwtError::Malformed(why) => malformed(why),
        JwtError::UnknownKey | JwtError::BadSignature => {
            CatalogError::new(ErrorName::BearerTokenSignatureInvalid)
        }
    })?;
    // RFC 9068 §4: typ, iss, aud, exp.
    if verified
        .header
        .get("typ")
        .and_then(|v| v.as_str())
        .map(str::to_ascii_lowercase)
        .as_deref()
        != Some("at+jwt")
    {
        return Err(malformed("the token is not an access token (typ at+jwt)"));
    }
    let c = &verified.claims;
    if c.get("iss").and_then(|v| v.as_str()) != Some(state.issuer(tenant.slug.as_str()).as_str()) {
        return Err(CatalogError::new(ErrorName::InvalidBearerToken).internal("issuer differs"));
    }
    let expected = userinfo_url(state, tenant);
    let aud = c.get("aud").and_then(|v| v.as_str()).unwrap_or_default();
    if aud != expected {
        return Err(CatalogError::new(ErrorName::BearerTokenAudienceMismatch)
            .with("audience", aud.chars().take(200).collect::<String>())
            .with("expected", expected));
    }
    let exp = c
        .get("exp")
        .and_then(serde_json::Value::as_i64)
        .ok_or_else(|| malformed("exp is missing"))?;
    let now = state.clock.now();
    if exp <= now.unix_timestamp() {
        let at = time::OffsetDateTime::from_unix_timestamp(exp)
            .map(tessera_core::errors::render::timestamp)
            .unwrap_or_default();
        return Err(CatalogError::new(ErrorName::BearerTokenExpired).with("time", at));
    }
    let jti = c.get("jti").and_then(|v| v.as_str()).unwrap_or_default();
    if lookup::get::<RevokedAccessToken>(state, tenant.id, ObjectKind::RevokedAccessToken, jti)
        .await?
        .is_some()
    {
        return Err(
            CatalogError::new(ErrorName::InvalidBearerToken).internal("access token revoked")
        );
    }
    let sub = c.get("sub").and_then(|v| v.as_str()).unwrap_or_default();
    let user = find_user(state, tenant, sub)
        .await?
        .filter(|u| u.enabled)
        .ok_or_else(|| {
            CatalogError::new(ErrorName::InvalidBearerToken)
                .internal("the token's user is gone or disabled")
        })?;
    let scopes: Vec<&str> = c
        .get("scope")
        .and_then(|v| v.as_str())
        .unwrap_or_default()
        .split(' ')
        .collect();
    if !scopes.contains(&scope::OPENID) {
        return Err(CatalogError::new(ErrorName::InsufficientScope).with("scope", scope::OPENID));
    }
    // OIDC Core §5.4: claims by scope.
    let mut out = serde_json::json!({ "sub": sub });
    if scopes.contains(&scope::PROFILE) {
        out["preferred_username"] = user.username.as_str().into();
        if let Some(name) = &user.name {
            out["name"] = name.clone().into();
        }
    }
    if scopes.contains(&scope::EMAIL)
        && let Some(email) = &user.email
    {
        out["email"] = email.clone().into();
        out["email_verified"] = false.into();
    }
    Ok(out)
}

/// The user whose object id is `sub`.
async fn find_user(
    state: &AppState,
    tenant: &Tenant,
    sub: &str,
) -> Result<Option<User>, CatalogError> {
    let Ok(id) = uuid::Uuid::parse_str(sub) else {
        return Ok(None);
    };
    let users = state
        .store
        .objects(tenant.id, ObjectKind::User)
        .await
        .map_err(crate::error_response::store_error)?;
    users
        .iter()
        .find(|o| o.id == id)
        .map(|o| {
            o.decode::<User>()
                .map_err(|e| CatalogError::new(ErrorName::InternalError).internal(e))
        })
        .transpose()
}
