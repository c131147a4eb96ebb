//! Client authentication at the token, introspection, revocation and device
//! authorization endpoints (RFC 6749 §2.3): one [`ClientAuthentication`] method per
//! request, parsed from the `Authorization` header and the form, then checked against
//! the app's registration. §2.3: the client "MUST NOT use more than one authentication
//! method in each request".

use super::context::TokenContext;
use crate::directory::model::App;
use crate::errors::{CatalogError, ErrorName};
use crate::ids::ClientId;
use crate::oauth::params::{Params, form_decode};
use crate::secret::Secret;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;

/// How a client presented itself.
#[derive(Debug, PartialEq, Eq)]
pub enum ClientAuthentication {
    /// `client_secret_basic`: HTTP Basic with the client_id and secret (§2.3.1).
    SecretBasic { client_id: ClientId, secret: Secret },
    /// `client_secret_post`: `client_id` and `client_secret` in the form (§2.3.1).
    SecretPost { client_id: ClientId, secret: Secret },
    /// `none`: a public client names itself with `client_id` (§3.2.1).
    None { client_id: ClientId },
    /// `private_key_jwt`: a JWT signed with a registered key (RFC 7523 §2.2), naming
    /// the client by `client_id` or, without it, by its `iss`.
    PrivateKeyJwt {
        client_id: ClientId,
        assertion: Secret,
    },
}

fn malformed(detail: &str) -> CatalogError {
    CatalogError::new(ErrorName::InvalidRequestFormat).with("detail", detail.to_owned())
}

/// RFC 6749 §2.3.1: client_id and secret are form-urlencoded, then joined by `:`.
fn basic_credentials(value: &[u8]) -> Result<(String, Secret), CatalogError> {
    // A header value holds no control character but tab (RFC 9110 §5.5); what is left
    // to refuse is anything beyond ASCII.
    let value = std::str::from_utf8(value)
        .ok()
        .filter(|v| v.is_ascii())
        .ok_or_else(|| malformed("the Authorization header is not ASCII"))?;
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
    Ok((form_decode(id)?, Secret::new(form_decode(secret)?)))
}

impl ClientAuthentication {
    /// The method of a request: `authorization` is the `Authorization` header's value,
    /// if one was sent.
    pub fn parse(authorization: Option<&[u8]>, params: &Params) -> Result<Self, CatalogError> {
        if params.get("client_assertion").is_some() || params.get("client_assertion_type").is_some()
        {
            if authorization.is_some() || params.get("client_secret").is_some() {
                return Err(malformed(
                    "the client sent both a client assertion and a secret; use one method",
                ));
            }
            return assertion(params);
        }
        if let Some(value) = authorization {
            let (client_id, secret) = basic_credentials(value)?;
            if params.get("client_secret").is_some() {
                return Err(malformed(
                    "the client authenticated with both Basic and client_secret; use one method",
                ));
            }
            if params
                .get("client_id")
                .is_some_and(|body_id| body_id != client_id)
            {
                return Err(malformed(
                    "client_id in the body differs from the one in the Authorization header",
                ));
            }
            return Ok(Self::SecretBasic {
                client_id: ClientId::new(client_id),
                secret,
            });
        }
        let client_id = ClientId::new(params.require("client_id")?);
        Ok(match params.get("client_secret") {
            Some(s) => Self::SecretPost {
                client_id,
                secret: Secret::new(s),
            },
            None => Self::None { client_id },
        })
    }

    pub fn client_id(&self) -> &ClientId {
        match self {
            Self::SecretBasic { client_id, .. }
            | Self::SecretPost { client_id, .. }
            | Self::None { client_id }
            | Self::PrivateKeyJwt { client_id, .. } => client_id,
        }
    }

    /// The app this method identifies, once its credentials are checked: confidential
    /// apps must prove a live secret, public apps must not send one (RFC 6749 §2.1).
    pub async fn authenticate(&self, ctx: &TokenContext<'_>) -> Result<App, CatalogError> {
        let client_id = self.client_id();
        let app = App::usable(
            ctx.services.app(ctx.tenant, client_id).await?,
            client_id.as_str(),
            ctx.tenant.slug.as_str(),
        )?;
        match self {
            Self::None { .. } if app.is_confidential() => {
                Err(CatalogError::new(ErrorName::MissingClientCredentials)
                    .with("client_id", app.client_id.clone()))
            }
            Self::None { .. } => Ok(app),
            _ if !app.is_confidential() => {
                let credential = match self {
                    Self::PrivateKeyJwt { .. } => "a client assertion",
                    _ => "a client secret",
                };
                Err(
                    CatalogError::new(ErrorName::PublicClientCredentialsNotAllowed)
                        .with("client_id", app.client_id.clone())
                        .with("credential", credential),
                )
            }
            Self::SecretBasic { secret, .. } | Self::SecretPost { secret, .. } => {
                check_secret(ctx, &app, secret)?;
                Ok(app)
            }
            Self::PrivateKeyJwt { assertion, .. } => {
                super::client_assertion::verify(ctx, &app, assertion.expose()).await?;
                Ok(app)
            }
        }
    }
}

/// `client_assertion_type` and `client_assertion` (RFC 7521 §4.2): the type must be
/// the JWT bearer type, and the client is the `client_id` parameter if sent, otherwise
/// the assertion's `iss` (read unverified only to find the app whose keys verify it).
fn assertion(params: &Params) -> Result<ClientAuthentication, CatalogError> {
    use super::client_assertion::JWT_BEARER;
    let kind = params.get("client_assertion_type").unwrap_or_default();
    if kind != JWT_BEARER {
        return Err(CatalogError::new(ErrorName::ClientAssertionTypeUnsupported)
            .with("value", kind.chars().take(100).collect::<String>()));
    }
    let value = params.get("client_assertion").unwrap_or_default();
    let bad = |reason: &str| {
        CatalogError::new(ErrorName::ClientAssertionMalformed).with("reason", reason.to_owned())
    };
    if value.is_empty() {
        return Err(bad("client_assertion is missing"));
    }
    let client_id = match params.get("client_id") {
        Some(id) => id.to_owned(),
        None => crate::oauth::jose::unverified_claims(value)
            .map_err(|_| bad("the JWT's claims are not a base64url JSON object"))?
            .get("iss")
            .and_then(serde_json::Value::as_str)
            .ok_or_else(|| bad("the claim iss is missing"))?
            .to_owned(),
    };
    Ok(ClientAuthentication::PrivateKeyJwt {
        client_id: ClientId::new(client_id),
        assertion: Secret::new(value),
    })
}

/// Every registered secret is compared (each in constant time), so timing does not
/// reveal which one matched; an expired one fails with its own entry.
fn check_secret(ctx: &TokenContext<'_>, app: &App, secret: &Secret) -> Result<(), CatalogError> {
    let mut matched = None;
    for s in &app.secrets {
        if ctx.master.secret_matches(secret, &s.hash) {
            matched = Some(s.expires_at);
        }
    }
    match matched {
        None => Err(CatalogError::new(ErrorName::InvalidClientSecret)
            .with("client_id", app.client_id.clone())),
        Some(Some(expiry)) if expiry <= ctx.clock.now() => {
            Err(CatalogError::new(ErrorName::ClientSecretExpired)
                .with("client_id", app.client_id.clone())
                .with("time", crate::errors::render::timestamp(expiry)))
        }
        Some(_) => Ok(()),
    }
}
