//! `grant_type=client_credentials` (RFC 6749 §4.4): a confidential app gets an access
//! token for the one API its request named (`TokenRequest::parse`), carrying the app
//! roles it was granted on that API. The hottest path of the server: no store writes,
//! no slow hash (the client secret is a keyed HMAC), one signature.

use super::super::context::TokenContext;
use super::super::issue::TokenResponse;
use super::super::request::ClientCredentialsRequest;
use crate::directory::model::{App, MANAGEMENT_API};
use crate::errors::{CatalogError, ErrorName};
use crate::ids::TenantId;
use crate::keys::SigningAlg;

/// An app's own access token (RFC 9068 §2.2), serialized straight from this struct
/// rather than built as a `serde_json::Value` map first (the hottest path: see
/// `jose::Signer::sign`). Fields in alphabetical order.
#[derive(serde::Serialize)]
struct AppAccessClaims<'a> {
    aud: &'a str,
    client_id: &'a str,
    exp: i64,
    iat: i64,
    iss: &'a str,
    jti: uuid::Uuid,
    nbf: i64,
    roles: &'a [String],
    sub: &'a str,
    tid: TenantId,
}

pub async fn exchange(
    ctx: &TokenContext<'_>,
    app: &App,
    request: &ClientCredentialsRequest,
) -> Result<TokenResponse, CatalogError> {
    let api = request.api.as_str();
    let invalid_resource = || {
        let registered: Vec<&str> = app.permissions.iter().map(|p| p.api.as_str()).collect();
        CatalogError::new(ErrorName::InvalidResource)
            .with("resource", api.chars().take(200).collect::<String>())
            .with(
                "resources",
                if registered.is_empty() {
                    "(none)".to_owned()
                } else {
                    registered.join(" ")
                },
            )
    };
    let permission = app
        .permissions
        .iter()
        .find(|p| p.api == api)
        .ok_or_else(invalid_resource)?;
    // The management API is built into every tenant (`directory::model`); others must
    // still exist (an API deleted after the app was granted it).
    let alg = if api == MANAGEMENT_API {
        SigningAlg::DEFAULT
    } else {
        let apis = ctx.services.apis(ctx.tenant.id).await?;
        let registered = apis.iter().find(|a| a.identifier == api);
        SigningAlg::or_default(
            registered
                .ok_or_else(invalid_resource)?
                .access_token_signing_alg,
        )
    };

    let now = ctx.clock.now();
    let lifetime = i64::from(ctx.tenant.policy.access_token_lifetime_seconds);
    let signer = ctx.services.signer(ctx.tenant.id, alg).await?;
    // RFC 9068 §2.2: with no resource owner, `sub` identifies the client.
    let iat = now.unix_timestamp();
    let claims = AppAccessClaims {
        aud: api,
        client_id: app.client_id.as_str(),
        exp: (now + time::Duration::seconds(lifetime)).unix_timestamp(),
        iat,
        iss: &ctx.issuer,
        jti: ctx.rng.uuid(),
        nbf: iat,
        roles: &permission.app_roles,
        sub: app.client_id.as_str(),
        tid: ctx.tenant.id,
    };
    let token = signer
        .sign("at+jwt", &claims)
        .map_err(|e| CatalogError::new(ErrorName::InternalError).internal(e))?;
    Ok(TokenResponse {
        access_token: token,
        client_info: None,
        expires_in: lifetime,
        ext_expires_in: lifetime,
        id_token: None,
        issued_token_type: None,
        refresh_token: None,
        // The scope as a client asks for it (`{api}/.default`), whichever form named the
        // API: MSAL keys its token cache on it.
        scope: Some(format!("{api}/.default")),
        token_type: "Bearer",
        subject: None,
    })
}
