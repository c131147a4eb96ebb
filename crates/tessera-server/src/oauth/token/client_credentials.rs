//! `grant_type=client_credentials` (RFC 6749 §4.4): a confidential app gets an access
//! token for one API, named by `scope={api}/.default` (as Entra ID spells it) or by
//! `resource={api}` (RFC 8707), carrying the app roles it was granted on that API. The
//! hottest path of the server: no store writes, no slow hash (the client secret is a
//! keyed HMAC), one signature.

use super::super::{lookup, signing};
use super::client_auth::Client;
use super::issue::TokenResponse;
use crate::state::AppState;
use tessera_core::errors::{CatalogError, ErrorName};
use tessera_core::oauth::params::Params;
use tessera_core::tenant::Tenant;

const DEFAULT_SUFFIX: &str = "/.default";

/// An app's own access token (RFC 9068 §2.2), serialized straight from this struct
/// rather than built as a `serde_json::Value` map first (the hottest path: see
/// `jose::Signer::sign`). Fields in alphabetical order, as the map had them.
#[derive(serde::Serialize)]
struct AppAccessClaims<'a> {
    aud: &'a str,
    client_id: &'a str,
    exp: i64,
    iat: i64,
    iss: String,
    jti: uuid::Uuid,
    nbf: i64,
    roles: &'a [String],
    sub: &'a str,
    tid: uuid::Uuid,
}

pub async fn exchange(
    state: &AppState,
    tenant: &Tenant,
    client: &Client,
    params: &Params,
) -> Result<TokenResponse, CatalogError> {
    let app = &client.app;
    // §4.4: only confidential clients (the caller authenticated it).
    if !app.is_confidential() {
        return Err(CatalogError::new(ErrorName::UnauthorizedGrantType)
            .with("client_id", app.client_id.clone())
            .with("grant_type", "client_credentials"));
    }
    let registered: Vec<&str> = app.permissions.iter().map(|p| p.api.as_str()).collect();
    let invalid_resource = |resource: &str| {
        CatalogError::new(ErrorName::InvalidResource)
            .with("resource", resource.chars().take(200).collect::<String>())
            .with(
                "resources",
                if registered.is_empty() {
                    "(none)".to_owned()
                } else {
                    registered.join(" ")
                },
            )
    };
    let from_scope = match params.get("scope") {
        None => None,
        Some(scope) => Some(
            scope
                .strip_suffix(DEFAULT_SUFFIX)
                .filter(|api| !api.contains(' '))
                .ok_or_else(|| {
                    CatalogError::new(ErrorName::InvalidScope)
                        .with("scope", scope.chars().take(200).collect::<String>())
                        .with(
                            "supported",
                            registered
                                .iter()
                                .map(|api| format!("{api}{DEFAULT_SUFFIX}"))
                                .collect::<Vec<_>>()
                                .join(" "),
                        )
                })?,
        ),
    };
    let api = match (from_scope, params.get("resource")) {
        (Some(a), Some(r)) if a != r => {
            return Err(CatalogError::new(ErrorName::InvalidRequestFormat)
                .with("detail", "scope and resource name different APIs"));
        }
        (Some(a), _) | (None, Some(a)) => a,
        (None, None) => {
            return Err(CatalogError::new(ErrorName::InvalidRequestFormat).with(
                "detail",
                "the parameter scope ({api}/.default) or resource is missing",
            ));
        }
    };
    let permission = app
        .permissions
        .iter()
        .find(|p| p.api == api)
        .ok_or_else(|| invalid_resource(api))?;
    // The management API is built into every tenant (tessera_core::directory::model).
    let built_in = api == tessera_core::directory::model::MANAGEMENT_API;
    if !built_in
        && !lookup::apis(state, tenant.id)
            .await?
            .iter()
            .any(|a| a.identifier == api)
    {
        return Err(invalid_resource(api));
    }

    let now = state.clock.now();
    let lifetime = i64::from(tenant.policy.access_token_lifetime_seconds);
    let signer = signing::active(state, tenant.id, super::issue::signing_alg(app)).await?;
    // RFC 9068 §2.2: with no resource owner, `sub` identifies the client.
    let iat = now.unix_timestamp();
    let claims = AppAccessClaims {
        aud: api,
        client_id: &app.client_id,
        exp: (now + time::Duration::seconds(lifetime)).unix_timestamp(),
        iat,
        iss: state.issuer(tenant.slug.as_str()),
        jti: state.rng.uuid(),
        nbf: iat,
        roles: &permission.app_roles,
        sub: &app.client_id,
        tid: tenant.id,
    };
    let token = signer
        .sign("at+jwt", &claims)
        .map_err(|e| CatalogError::new(ErrorName::InternalError).internal(e))?;
    Ok(TokenResponse {
        access_token: token,
        expires_in: lifetime,
        id_token: None,
        refresh_token: None,
        scope: None,
        token_type: "Bearer",
    })
}
