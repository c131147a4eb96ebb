//! `/{t}/oauth2/userinfo` (OIDC Core §5.3), GET and POST. The access token is a bearer
//! token (RFC 6750 §2.1 header, or §2.2 form body on POST) that Tessera itself issued
//! for this endpoint; every failure carries a `WWW-Authenticate: Bearer` challenge
//! naming its RFC 6750 §3.1 error code and why.

use crate::http::error_response::ErrorResponse;
use crate::http::tenant_path::ResolvedTenant;
use crate::runtime::state::AppState;
use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use tessera_core::directory::model::User;
use tessera_core::errors::{CatalogError, ErrorName};
use tessera_core::ids::ObjectId;
use tessera_core::oauth::claims::released;
use tessera_core::oauth::scope;
use tessera_core::oauth::token::context::userinfo_url;
use tessera_core::store::object::ObjectKind;
use tessera_core::tenant::Tenant;

pub async fn userinfo(
    State(state): State<AppState>,
    ResolvedTenant(tenant): ResolvedTenant,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let (result, client_id) = answer(&state, &tenant, &headers, &body).await;
    let mut response = match result {
        Ok(v) => {
            let mut r = Json(v).into_response();
            r.headers_mut()
                .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            r
        }
        Err(err) => challenge(&tenant, err),
    };
    // A browser app may read the answer about a token issued to it.
    if let Some(client_id) = client_id {
        super::cors::allow_client_origin(&state, &tenant, &mut response, &headers, &client_id)
            .await;
    }
    response
}

/// The claims, and the client the token names (for CORS).
async fn answer(
    state: &AppState,
    tenant: &Tenant,
    headers: &HeaderMap,
    body: &[u8],
) -> (Result<serde_json::Value, CatalogError>, Option<String>) {
    let token = match bearer(headers, body) {
        Ok(t) => t,
        Err(e) => return (Err(e), None),
    };
    let verified = match super::access_token::verify(state, tenant, &token).await {
        Ok(c) => c,
        // A refused token (expired, say) still names the app it was issued to, and that
        // app's page should read why: the claim only picks which origins may read this
        // error, which says nothing about any user.
        Err(e) => return (Err(e), unverified_client_id(&token)),
    };
    let client_id = verified
        .get("client_id")
        .and_then(|v| v.as_str())
        .map(str::to_owned);
    (claims(state, tenant, &verified).await, client_id)
}

/// The `client_id` claim of a JWT, read without verifying it (`jose::unverified_claims`).
fn unverified_client_id(token: &str) -> Option<String> {
    let claims = tessera_core::oauth::jose::unverified_claims(token).ok()?;
    claims.get("client_id")?.as_str().map(str::to_owned)
}

/// The error with its RFC 6750 §3 challenge, whatever its status: `insufficient_scope`
/// with the scope needed (403), `invalid_token` for a token refused (401),
/// `invalid_request` for a request malformed (400, 415: §3.1), and the bare challenge
/// for a request without any token (§3.1) or a failure of the server's own, which no
/// RFC 6750 error code describes.
fn challenge(tenant: &Tenant, err: CatalogError) -> Response {
    let realm = tenant.slug.as_str();
    let with_error = |code: &str| {
        let description: String = err
            .message()
            .chars()
            .map(|c| if c == '"' || c == '\\' { '\'' } else { c })
            .collect();
        format!("Bearer realm=\"{realm}\", error=\"{code}\", error_description=\"{description}\"")
    };
    let status = err.entry().status;
    let www = if err.name == ErrorName::InsufficientScope {
        format!("Bearer realm=\"{realm}\", error=\"insufficient_scope\", scope=\"openid\"")
    } else if err.name == ErrorName::BearerTokenMissing {
        format!("Bearer realm=\"{realm}\"")
    } else if status == 401 {
        with_error("invalid_token")
    } else if (400..500).contains(&status) {
        with_error("invalid_request")
    } else {
        format!("Bearer realm=\"{realm}\"")
    };
    let www = Some(www);
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
    // RFC 6750 §2.2: a form body may carry access_token, and only a body sent as
    // application/x-www-form-urlencoded is that method; §2: one method only. Beside a
    // header, a body that is not such a form carries no token and is ignored; without
    // a header, the body must be one.
    let from_body = if body.is_empty() {
        None
    } else {
        match crate::http::extract::form(headers, body) {
            Ok(p) => p.get("access_token").map(str::to_owned),
            Err(e) if from_header.is_none() => return Err(e),
            Err(_) => None,
        }
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

use super::access_token::malformed;

async fn claims(
    state: &AppState,
    tenant: &Tenant,
    c: &serde_json::Map<String, serde_json::Value>,
) -> Result<serde_json::Value, CatalogError> {
    super::access_token::require_audience(c, &userinfo_url(&state.issuer(tenant.slug.as_str())))?;
    super::access_token::require_scope(c, scope::OPENID)?;
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
    // OIDC Core §5.4: claims by scope; §5.5: by name, as the authorization asked.
    let asked: std::collections::BTreeSet<String> = c
        .get("userinfo_claims")
        .and_then(|v| v.as_str())
        .unwrap_or_default()
        .split(' ')
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect();
    let release = |claim| released(claim, |s| scopes.contains(&s), &asked);
    let mut out = serde_json::json!({ "sub": sub });
    if release("preferred_username") {
        out["preferred_username"] = user.username.as_str().into();
    }
    if let Some(name) = user.name.as_ref().filter(|_| release("name")) {
        out["name"] = name.clone().into();
    }
    if let Some(email) = user.email.as_ref() {
        if release("email") {
            out["email"] = email.clone().into();
        }
        // Addresses are entered by administrators, not verified by Tessera.
        if release("email_verified") {
            out["email_verified"] = false.into();
        }
    }
    Ok(out)
}

/// The user whose object id is `sub` (one read by primary key).
async fn find_user(
    state: &AppState,
    tenant: &Tenant,
    sub: &str,
) -> Result<Option<User>, CatalogError> {
    let Some(id) = ObjectId::parse(sub) else {
        return Ok(None);
    };
    state
        .store
        .object_by_id(tenant.id, ObjectKind::User, id)
        .await
        .map_err(crate::http::error_response::store_error)?
        .map(|o| {
            o.decode::<User>()
                .map_err(|e| CatalogError::new(ErrorName::InternalError).internal(e))
        })
        .transpose()
}
