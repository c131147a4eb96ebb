//! The token request, typed (RFC 6749 §3.2): [`TokenRequest::parse`] turns the form of
//! an authenticated client into one variant per grant, deciding here whether the grant
//! type is supported and allowed for the app, and every parameter error; past it, no
//! grant reads a string map.

use crate::directory::model::{App, GrantType};
use crate::errors::{CatalogError, ErrorName};
use crate::oauth::params::Params;
use crate::secret::Secret;

/// The grants this endpoint serves, as UnsupportedGrantType lists them.
pub const SUPPORTED: &str = "authorization_code, refresh_token, client_credentials, urn:ietf:params:oauth:grant-type:device_code, urn:ietf:params:oauth:grant-type:token-exchange";

/// RFC 8693 §3: the token type of an OAuth 2.0 access token, the one type Tessera
/// exchanges and issues.
pub const ACCESS_TOKEN_TYPE: &str = "urn:ietf:params:oauth:token-type:access_token";

/// `client_credentials` names its API as Entra ID does: `scope={api}/.default`.
pub const DEFAULT_SUFFIX: &str = "/.default";

#[derive(Debug, PartialEq, Eq)]
pub enum TokenRequest {
    AuthorizationCode(CodeRequest),
    RefreshToken(RefreshRequest),
    ClientCredentials(ClientCredentialsRequest),
    DeviceCode(DeviceCodeRequest),
    TokenExchange(TokenExchangeRequest),
}

/// `grant_type=urn:ietf:params:oauth:grant-type:device_code` (RFC 8628 §3.4).
#[derive(Debug, PartialEq, Eq)]
pub struct DeviceCodeRequest {
    pub device_code: Secret,
}

/// `grant_type=authorization_code` (RFC 6749 §4.1.3, RFC 7636 §4.5).
#[derive(Debug, PartialEq, Eq)]
pub struct CodeRequest {
    pub code: Secret,
    pub redirect_uri: Option<String>,
    pub code_verifier: Option<String>,
    /// The request's `Origin` header: a browser's cross-origin POST carries it, which a
    /// code issued to a single-page app's redirect URI requires (`browser.rs`).
    pub origin: Option<String>,
}

/// `grant_type=refresh_token` (RFC 6749 §6; `resource`: RFC 8707 §2.2).
#[derive(Debug, PartialEq, Eq)]
pub struct RefreshRequest {
    pub refresh_token: Secret,
    pub scope: Option<String>,
    pub resource: Option<String>,
    /// The request's `Origin` header (a single-page app's token needs its own).
    pub origin: Option<String>,
}

/// `grant_type=client_credentials` (RFC 6749 §4.4) for one API, named by
/// `scope={api}/.default` or by RFC 8707 `resource={api}`.
#[derive(Debug, PartialEq, Eq)]
pub struct ClientCredentialsRequest {
    pub api: String,
}

/// `grant_type=urn:ietf:params:oauth:grant-type:token-exchange` (RFC 8693 §2.1), as
/// on-behalf-of: the app exchanges a user's access token issued for its API for one to
/// a downstream API, named by `scope` (`{api}/{scope}` values or `{api}/.default`)
/// and optionally `resource` or `audience`.
#[derive(Debug, PartialEq, Eq)]
pub struct TokenExchangeRequest {
    pub subject_token: Secret,
    pub scope: String,
    /// `resource` (RFC 8707) or `audience` (RFC 8693 §2.1), when sent: the downstream
    /// API, which must be the one `scope` names.
    pub target: Option<String>,
}

/// RFC 7523's JWT bearer grant type, in Entra ID's on-behalf-of request.
pub const JWT_BEARER: &str = "urn:ietf:params:oauth:grant-type:jwt-bearer";

/// Entra ID's on-behalf-of request, which Microsoft's MSAL libraries send
/// (`grant_type` JWT bearer, `requested_token_use=on_behalf_of`, the user's access
/// token as `assertion`, and `scope`), as the RFC 8693 token exchange it is: the
/// assertion becomes the subject token, an access token. `None` for any other request;
/// TokenExchangeSubjectInvalid when the assertion is missing.
fn on_behalf_of(params: &Params) -> Result<Option<Params>, CatalogError> {
    if params.get("grant_type") != Some(JWT_BEARER)
        || params.get("requested_token_use") != Some("on_behalf_of")
    {
        return Ok(None);
    }
    let assertion = params.get("assertion").ok_or_else(|| {
        CatalogError::new(ErrorName::TokenExchangeSubjectInvalid)
            .with("reason", "the parameter assertion is missing".to_owned())
    })?;
    Ok(Some(
        params
            .without("assertion")
            .without("requested_token_use")
            .with("grant_type", GrantType::TokenExchange.as_str())
            .with("subject_token", assertion)
            .with("subject_token_type", ACCESS_TOKEN_TYPE),
    ))
}

fn truncated(value: &str, max: usize) -> String {
    value.chars().take(max).collect()
}

impl TokenRequest {
    /// The request `params` of the authenticated `app`; `origin`: the request's
    /// `Origin` header, if any. In order: the grant type (present, supported, allowed
    /// for the app), then that grant's parameters.
    pub fn parse(params: &Params, app: &App, origin: Option<&str>) -> Result<Self, CatalogError> {
        if let Some(exchange) = on_behalf_of(params)? {
            return Self::parse(&exchange, app, origin);
        }
        let value = params.require("grant_type")?;
        let unsupported = || {
            CatalogError::new(ErrorName::UnsupportedGrantType)
                .with("value", truncated(value, 100))
                .with("supported", SUPPORTED)
        };
        let grant_type = GrantType::parse(value).ok_or_else(unsupported)?;
        // RFC 8693 §2.2.2: an app not allowed to exchange tokens; and a public app
        // cannot be the middle tier that acts for a user (it cannot authenticate).
        if grant_type == GrantType::TokenExchange
            && (!app.grant_types.contains(&grant_type) || !app.is_confidential())
        {
            let target = ["resource", "audience", "scope"]
                .iter()
                .find_map(|name| params.get(name))
                .unwrap_or("(none)");
            return Err(CatalogError::new(ErrorName::TokenExchangeNotAllowed)
                .with("client_id", app.client_id.clone())
                .with("audience", truncated(target, 200)));
        }
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
                origin: origin.map(str::to_owned),
            }),
            GrantType::RefreshToken => {
                Self::RefreshToken(RefreshRequest {
                    refresh_token: Secret::new(params.get("refresh_token").ok_or_else(|| {
                        CatalogError::new(ErrorName::RefreshTokenParameterMissing)
                    })?),
                    scope: optional("scope"),
                    resource: optional("resource"),
                    origin: origin.map(str::to_owned),
                })
            }
            GrantType::ClientCredentials => Self::ClientCredentials(ClientCredentialsRequest {
                api: client_credentials_api(params, app)?,
            }),
            GrantType::TokenExchange => Self::TokenExchange(token_exchange(params)?),
            GrantType::DeviceCode => Self::DeviceCode(DeviceCodeRequest {
                device_code: Secret::new(params.require("device_code")?),
            }),
            // A registered grant type that this endpoint does not serve yet.
            GrantType::JwtBearer => {
                return Err(unsupported());
            }
        })
    }

    pub fn grant_type(&self) -> GrantType {
        match self {
            Self::AuthorizationCode(_) => GrantType::AuthorizationCode,
            Self::RefreshToken(_) => GrantType::RefreshToken,
            Self::ClientCredentials(_) => GrantType::ClientCredentials,
            Self::DeviceCode(_) => GrantType::DeviceCode,
            Self::TokenExchange(_) => GrantType::TokenExchange,
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

/// RFC 8693 §2.1's parameters, as far as on-behalf-of uses them: a subject token that is
/// an access token, an access token asked for, no actor token (the authenticated app
/// is the actor), and the target.
fn token_exchange(params: &Params) -> Result<TokenExchangeRequest, CatalogError> {
    let subject_invalid = |reason: &str| {
        CatalogError::new(ErrorName::TokenExchangeSubjectInvalid).with("reason", reason.to_owned())
    };
    let subject_token = params
        .get("subject_token")
        .ok_or_else(|| subject_invalid("the parameter subject_token is missing"))?;
    match params.get("subject_token_type") {
        Some(ACCESS_TOKEN_TYPE) => {}
        Some(other) => {
            return Err(subject_invalid(&format!(
                "subject_token_type '{}' is not supported; only {ACCESS_TOKEN_TYPE} is",
                truncated(other, 100)
            )));
        }
        None => {
            return Err(subject_invalid(
                "the parameter subject_token_type is missing",
            ));
        }
    }
    let format =
        |detail: String| CatalogError::new(ErrorName::InvalidRequestFormat).with("detail", detail);
    if let Some(kind) = params.get("requested_token_type")
        && kind != ACCESS_TOKEN_TYPE
    {
        return Err(format(format!(
            "requested_token_type '{}' is not supported; only {ACCESS_TOKEN_TYPE} is issued",
            truncated(kind, 100)
        )));
    }
    if params.get("actor_token").is_some() || params.get("actor_token_type").is_some() {
        return Err(format(
            "actor_token is not supported: the authenticated app is the actor".to_owned(),
        ));
    }
    let target = match (params.get("resource"), params.get("audience")) {
        (Some(r), Some(a)) if r != a => {
            return Err(format(
                "resource and audience name different APIs".to_owned(),
            ));
        }
        (r, a) => r.or(a).map(str::to_owned),
    };
    let scope = params.require("scope")?.to_owned();
    Ok(TokenExchangeRequest {
        subject_token: Secret::new(subject_token),
        scope,
        target,
    })
}
