//! The token request, typed (RFC 6749 §3.2): [`TokenRequest::parse`] turns the form of
//! an authenticated client into one variant per grant, deciding here whether the grant
//! type is supported and allowed for the app, and every parameter error; past it, no
//! grant reads a string map.

use crate::directory::model::{App, GrantType};
use crate::errors::{CatalogError, ErrorName};
use crate::oauth::params::Params;
use crate::secret::Secret;

/// The grants this endpoint serves, as UnsupportedGrantType lists them.
pub const SUPPORTED: &str = "authorization_code, refresh_token, client_credentials";

/// `client_credentials` names its API as Entra ID does: `scope={api}/.default`.
pub const DEFAULT_SUFFIX: &str = "/.default";

#[derive(Debug, PartialEq, Eq)]
pub enum TokenRequest {
    AuthorizationCode(CodeRequest),
    RefreshToken(RefreshRequest),
    ClientCredentials(ClientCredentialsRequest),
}

/// `grant_type=authorization_code` (RFC 6749 §4.1.3, RFC 7636 §4.5).
#[derive(Debug, PartialEq, Eq)]
pub struct CodeRequest {
    pub code: Secret,
    pub redirect_uri: Option<String>,
    pub code_verifier: Option<String>,
    /// Whether the request carried an `Origin` header: a browser's cross-origin POST
    /// does, which a code issued to a single-page app's redirect URI requires.
    pub from_browser: bool,
}

/// `grant_type=refresh_token` (RFC 6749 §6; `resource`: RFC 8707 §2.2).
#[derive(Debug, PartialEq, Eq)]
pub struct RefreshRequest {
    pub refresh_token: Secret,
    pub scope: Option<String>,
    pub resource: Option<String>,
}

/// `grant_type=client_credentials` (RFC 6749 §4.4) for one API, named by
/// `scope={api}/.default` or by RFC 8707 `resource={api}`.
#[derive(Debug, PartialEq, Eq)]
pub struct ClientCredentialsRequest {
    pub api: String,
}

fn truncated(value: &str, max: usize) -> String {
    value.chars().take(max).collect()
}

impl TokenRequest {
    /// The request `params` of the authenticated `app`; `origin`: the request's
    /// `Origin` header, if any. In order: the grant type (present, supported, allowed
    /// for the app), then that grant's parameters.
    pub fn parse(params: &Params, app: &App, origin: Option<&str>) -> Result<Self, CatalogError> {
        let value = params.require("grant_type")?;
        let unsupported = || {
            CatalogError::new(ErrorName::UnsupportedGrantType)
                .with("value", truncated(value, 100))
                .with("supported", SUPPORTED)
        };
        let grant_type = GrantType::parse(value).ok_or_else(unsupported)?;
        // RFC 6749 §5.2 unauthorized_client; §4.4: client credentials only for
        // confidential clients.
        if !app.grant_types.contains(&grant_type)
            || (grant_type == GrantType::ClientCredentials && !app.is_confidential())
        {
            return Err(CatalogError::new(ErrorName::UnauthorizedGrantType)
                .with("client_id", app.client_id.clone())
                .with("grant_type", grant_type.as_str()));
        }
        let optional = |name: &str| params.get(name).map(str::to_owned);
        Ok(match grant_type {
            GrantType::AuthorizationCode => Self::AuthorizationCode(CodeRequest {
                code: Secret::new(params.require("code")?),
                redirect_uri: optional("redirect_uri"),
                code_verifier: optional("code_verifier"),
                from_browser: origin.is_some(),
            }),
            GrantType::RefreshToken => {
                Self::RefreshToken(RefreshRequest {
                    refresh_token: Secret::new(params.get("refresh_token").ok_or_else(|| {
                        CatalogError::new(ErrorName::RefreshTokenParameterMissing)
                    })?),
                    scope: optional("scope"),
                    resource: optional("resource"),
                })
            }
            GrantType::ClientCredentials => Self::ClientCredentials(ClientCredentialsRequest {
                api: client_credentials_api(params, app)?,
            }),
            // Registered grant types that this endpoint does not serve yet.
            GrantType::DeviceCode | GrantType::TokenExchange | GrantType::JwtBearer => {
                return Err(unsupported());
            }
        })
    }

    pub fn grant_type(&self) -> GrantType {
        match self {
            Self::AuthorizationCode(_) => GrantType::AuthorizationCode,
            Self::RefreshToken(_) => GrantType::RefreshToken,
            Self::ClientCredentials(_) => GrantType::ClientCredentials,
        }
    }
}

/// The API a client-credentials request names: `scope` must be exactly one
/// `{api}/.default`; `resource`, if also sent, must name the same API.
fn client_credentials_api(params: &Params, app: &App) -> Result<String, CatalogError> {
    let from_scope = match params.get("scope") {
        None => None,
        Some(scope) => Some(
            scope
                .strip_suffix(DEFAULT_SUFFIX)
                .filter(|api| !api.contains(' '))
                .ok_or_else(|| {
                    CatalogError::new(ErrorName::InvalidScope)
                        .with("scope", truncated(scope, 200))
                        .with(
                            "supported",
                            app.permissions
                                .iter()
                                .map(|p| format!("{}{DEFAULT_SUFFIX}", p.api))
                                .collect::<Vec<_>>()
                                .join(" "),
                        )
                })?,
        ),
    };
    match (from_scope, params.get("resource")) {
        (Some(a), Some(r)) if a != r => Err(CatalogError::new(ErrorName::InvalidRequestFormat)
            .with("detail", "scope and resource name different APIs")),
        (Some(a), _) | (None, Some(a)) => Ok(a.to_owned()),
        (None, None) => Err(CatalogError::new(ErrorName::InvalidRequestFormat).with(
            "detail",
            "the parameter scope ({api}/.default) or resource is missing",
        )),
    }
}
