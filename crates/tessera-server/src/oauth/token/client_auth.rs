//! Client authentication at the token endpoint (RFC 6749 §2.3): `client_secret_basic`,
//! `client_secret_post`, or none for public clients. Exactly one method per request
//! (§2.3: "MUST NOT use more than one authentication method in each request").

use super::super::lookup;
use crate::state::AppState;
use axum::http::{HeaderMap, header};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use tessera_core::directory::model::App;
use tessera_core::errors::{CatalogError, ErrorName};
use tessera_core::oauth::params::Params;
use tessera_core::secret::Secret;
use tessera_core::tenant::Tenant;

/// A failure, remembering whether Basic was used (the 401 then carries
/// `WWW-Authenticate: Basic`, RFC 6749 §5.2).
pub struct AuthFailure {
    pub error: CatalogError,
    pub basic: bool,
}

/// The authenticated (or, for public clients, identified) app.
pub struct Client {
    pub app: App,
}

fn malformed(detail: &str) -> CatalogError {
    CatalogError::new(ErrorName::InvalidRequestFormat).with("detail", detail.to_owned())
}

/// RFC 6749 §2.3.1: client_id and secret are form-urlencoded, then joined by `:`.
fn basic_credentials(headers: &HeaderMap) -> Result<Option<(String, Secret)>, CatalogError> {
    let Some(value) = headers.get(header::AUTHORIZATION) else {
        return Ok(None);
    };
    let value = value
        .to_str()
        .map_err(|_| malformed("the Authorization header is not ASCII"))?;
    let Some((scheme, encoded)) = value.split_once(' ') else {
        return Err(malformed(
            "the Authorization header must be 'Basic <credentials>'",
        ));
    };
    if !scheme.eq_ignore_ascii_case("basic") {
        return Err(malformed(
            "the token endpoint accepts only Basic authorization",
        ));
    }
    let decoded = STANDARD
        .decode(encoded.trim())
        .map_err(|_| malformed("the Basic credentials are not base64"))?;
    let decoded =
        String::from_utf8(decoded).map_err(|_| malformed("the Basic credentials are not UTF-8"))?;
    let (id, secret) = decoded
        .split_once(':')
        .ok_or_else(|| malformed("the Basic credentials lack ':'"))?;
    let unescape = tessera_core::oauth::params::form_decode;
    Ok(Some((unescape(id)?, Secret::new(unescape(secret)?))))
}

pub async fn authenticate(
    state: &AppState,
    tenant: &Tenant,
    headers: &HeaderMap,
    params: &Params,
) -> Result<Client, AuthFailure> {
    let basic = headers.contains_key(header::AUTHORIZATION);
    let fail = |error| AuthFailure { error, basic };
    if params.get("client_assertion").is_some() || params.get("client_assertion_type").is_some() {
        return Err(fail(malformed(
            "private_key_jwt client authentication is not available yet; use client_secret_basic or client_secret_post",
        )));
    }
    let (client_id, secret) = match basic_credentials(headers).map_err(fail)? {
        Some((id, secret)) => {
            if params.get("client_secret").is_some() {
                return Err(fail(malformed(
                    "the client authenticated with both Basic and client_secret; use one method",
                )));
            }
            if params.get("client_id").is_some_and(|body_id| body_id != id) {
                return Err(fail(malformed(
                    "client_id in the body differs from the one in the Authorization header",
                )));
            }
            (id, Some(secret))
        }
        None => {
            let id = params.require("client_id").map_err(fail)?.to_owned();
            match params.get("client_secret") {
                Some(s) => (id, Some(Secret::new(s))),
                None => (id, None),
            }
        }
    };
    let app = lookup::app(state, tenant.id, &client_id)
        .await
        .map_err(fail)?
        .ok_or_else(|| {
            fail(
                CatalogError::new(ErrorName::ClientNotFound)
                    .with("client_id", client_id.chars().take(128).collect::<String>())
                    .with("tenant", tenant.slug.as_str()),
            )
        })?;
    match (app.is_confidential(), secret) {
        (true, None) => Err(fail(
            CatalogError::new(ErrorName::MissingClientCredentials)
                .with("client_id", app.client_id.clone()),
        )),
        (false, Some(_)) => Err(fail(
            CatalogError::new(ErrorName::PublicClientCredentialsNotAllowed)
                .with("client_id", app.client_id.clone())
                .with("credential", "a client secret"),
        )),
        (false, None) => Ok(Client { app }),
        (true, Some(secret)) => {
            // Check every registered secret (each in constant time) so timing does not
            // reveal which one matched.
            let now = state.clock.now();
            let mut matched = None;
            for s in &app.secrets {
                if state.master.secret_matches(&secret, &s.hash) {
                    matched = Some(s.expires_at);
                }
            }
            match matched {
                None => Err(fail(
                    CatalogError::new(ErrorName::InvalidClientSecret)
                        .with("client_id", app.client_id.clone()),
                )),
                Some(Some(expiry)) if expiry <= now => Err(fail(
                    CatalogError::new(ErrorName::ClientSecretExpired)
                        .with("client_id", app.client_id.clone())
                        .with("time", tessera_core::errors::render::timestamp(expiry)),
                )),
                Some(_) => Ok(Client { app }),
            }
        }
    }
}
