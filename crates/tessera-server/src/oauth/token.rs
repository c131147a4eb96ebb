//! `/{t}/oauth2/token` (RFC 6749 §3.2) over HTTP: the tenant, client authentication,
//! `TokenRequest::parse`, `exchange`, and one renderer for success and failure. The
//! protocol itself is `tessera_core::oauth::token`; this file lends it the server's
//! caches ([`TokenServices`] on `AppState`). Every response carries
//! `Cache-Control: no-store` (§5.1).

use super::{lookup, signing};
use crate::http::client_address::ClientAddress;
use crate::http::error_response::ErrorResponse;
use crate::http::extract::form;
use crate::http::tenant_path::ResolvedTenant;
use crate::runtime::state::AppState;
use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use std::sync::Arc;
use tessera_core::directory::model::{Api, App};
use tessera_core::errors::CatalogError;
use tessera_core::ids::ClientId;
use tessera_core::ids::TenantId;
use tessera_core::keys::SigningAlg;
use tessera_core::oauth::jose::Signer;
use tessera_core::oauth::params::Params;
use tessera_core::oauth::tenancy::MetaTenant;
use tessera_core::oauth::token::{
    self, ClientAuthentication, TokenContext, TokenRequest, TokenResponse, TokenServices,
};
use tessera_core::tenant::Tenant;

pub async fn token(
    State(state): State<AppState>,
    ResolvedTenant(tenant): ResolvedTenant,
    uri: axum::http::Uri,
    headers: HeaderMap,
    ClientAddress(client): ClientAddress,
    body: Bytes,
) -> Response {
    let dialect = Dialect::of(&uri);
    answer(&state, &tenant, None, dialect, &headers, client, &body).await
}

/// How a token endpoint speaks: RFC 6749's `/oauth2/token`, or Entra ID's
/// `/oauth2/v2.0/token`, which Microsoft's MSAL libraries call and whose habits it keeps
/// (docs/msal.md): `grant_type=device_code` for RFC 8628's URN, and never `slow_down`
/// (MSAL Node ends the flow on it): a device that polls too soon waits, then hears
/// `authorization_pending`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Dialect {
    Rfc,
    Entra,
}

impl Dialect {
    pub(crate) fn of(uri: &axum::http::Uri) -> Self {
        if uri.path().contains("/oauth2/v2.0/") {
            Dialect::Entra
        } else {
            Dialect::Rfc
        }
    }
}

/// The token endpoint's answer for `tenant`; through a meta-tenant (`meta`), the app
/// must be one it serves (`MetaTenant::serves`).
pub(crate) async fn answer(
    state: &AppState,
    tenant: &Tenant,
    meta: Option<MetaTenant>,
    dialect: Dialect,
    headers: &HeaderMap,
    client: Option<std::net::IpAddr>,
    body: &[u8],
) -> Response {
    let (mut result, app) = handle(state, tenant, meta, dialect, headers, client, body).await;
    if dialect == Dialect::Entra
        && let Err(e) = &result
        && e.error.name == tessera_core::errors::ErrorName::DeviceSlowDown
    {
        // The device waits out what slow_down would have asked of it.
        let seconds = tessera_core::oauth::device::SLOW_DOWN_SECONDS;
        tokio::time::sleep(std::time::Duration::from_secs(u64::from(seconds))).await;
        result = Err(ErrorResponse::token(
            CatalogError::new(tessera_core::errors::ErrorName::DeviceAuthorizationPending)
                .with("interval", seconds.to_string()),
        ));
    }
    let mut response = match result {
        Ok(body) => {
            let mut r = Json(body).into_response();
            r.headers_mut()
                .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            r.headers_mut()
                .insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
            r
        }
        Err(e) => e.into_response(),
    };
    if let Some(app) = app {
        super::cors::allow_spa_origin(&mut response, headers, &app);
    }
    response
}

/// The token engine's surroundings for one request of `tenant`.
pub(crate) fn context<'a>(state: &'a AppState, tenant: &'a Tenant) -> TokenContext<'a> {
    TokenContext {
        tenant,
        issuer: state.issuer(tenant.slug.as_str()),
        store: state.store.as_ref(),
        clock: state.clock.as_ref(),
        rng: state.rng.as_ref(),
        master: &state.master,
        services: state,
    }
}

/// The strict form and the app it authenticates: the first two steps of the token,
/// revocation, introspection and device authorization endpoints. A 401 carries the
/// Basic challenge (RFC 6749 §5.2: a MUST after Basic authentication, and the way to
/// say which scheme is supported otherwise; RFC 9110 §15.5.2: a 401 always has one).
pub(crate) async fn form_and_client(
    state: &AppState,
    tenant: &Tenant,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<(Params, App), ErrorResponse> {
    let params = form(headers, body).map_err(ErrorResponse::json)?;
    let authorization = headers.get(header::AUTHORIZATION);
    let authenticated =
        match ClientAuthentication::parse(authorization.map(HeaderValue::as_bytes), &params) {
            Ok(method) => method.authenticate(&context(state, tenant)).await,
            Err(e) => Err(e),
        };
    // RFC 6749 §5.2's error values, as for the grant's own refusals: a client refused
    // for a reason §5.2 does not name (AppNotAvailableInTenant) is `invalid_grant`.
    let app = authenticated.map_err(|error| {
        let mut e = ErrorResponse::token(error);
        if e.error.entry().status == 401 {
            e.www_authenticate = Some(basic_challenge(tenant));
        }
        e
    })?;
    Ok((params, app))
}

/// The challenge of a refused client: Basic, the HTTP scheme of the tenant's client
/// authentication (RFC 6749 §2.3.1).
pub(crate) fn basic_challenge(tenant: &Tenant) -> String {
    format!("Basic realm=\"{}\"", tenant.slug.as_str())
}

/// The outcome, and the app once the client is authenticated (for CORS).
async fn handle(
    state: &AppState,
    tenant: &Tenant,
    meta: Option<MetaTenant>,
    dialect: Dialect,
    headers: &HeaderMap,
    client: Option<std::net::IpAddr>,
    body: &[u8],
) -> (Result<TokenResponse, ErrorResponse>, Option<App>) {
    use crate::runtime::rate_limits::{Endpoint, Subject};
    if let Err(e) = state
        .rate_limits
        .check_address(tenant, Endpoint::Token, client)
    {
        return (Err(ErrorResponse::token(e)), None);
    }
    let (params, app) = match form_and_client(state, tenant, headers, body).await {
        Ok(v) => v,
        Err(e) => return (Err(e), None),
    };
    let params = match (dialect, params.get("grant_type")) {
        (Dialect::Entra, Some("device_code")) => params.with(
            "grant_type",
            tessera_core::directory::model::GrantType::DeviceCode.as_str(),
        ),
        _ => params,
    };
    let by_client = Subject::Client(app.client_id.to_string());
    if let Err(e) = state.rate_limits.check(tenant, Endpoint::Token, by_client) {
        return (Err(ErrorResponse::token(e)), Some(app));
    }
    // The app's home is this tenant, or another one `lookup::app` already found
    // serving (`tenancy::foreign_app`).
    if let Some(Err(e)) = meta.map(|m| m.serves(&app, tenant)) {
        return (Err(ErrorResponse::token(e)), Some(app));
    }
    let origin = headers
        .get(header::ORIGIN)
        .map(|v| v.to_str().unwrap_or_default());
    let result = match TokenRequest::parse(&params, &app, origin) {
        Ok(request) => token::exchange(&context(state, tenant), &app, &request).await,
        Err(e) => Err(e),
    };
    let result = result.map(|mut response| {
        if params.get("client_info") == Some("1") {
            response.client_info = response.subject.map(|uid| client_info(uid, tenant.id));
        }
        response
    });
    (result.map_err(ErrorResponse::token), Some(app))
}

/// Entra ID's `client_info`, which MSAL asks for (`client_info=1`) and keys its
/// accounts on: base64url of `{"uid": user object id, "utid": tenant id}`.
fn client_info(uid: tessera_core::ids::UserId, utid: TenantId) -> String {
    use base64::Engine;
    let json = serde_json::json!({ "uid": uid.to_string(), "utid": utid.to_string() });
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(json.to_string())
}

/// Redeems an authorization code in process, as the public client `client_id` (the
/// demo app, which is its own relying party): the same typed request and exchange as
/// the token endpoint, without HTTP.
pub async fn redeem_code(
    state: &AppState,
    tenant: &str,
    client_id: &str,
    request: tessera_core::oauth::token::request::CodeRequest,
) -> Result<tessera_core::oauth::token::TokenResponse, ErrorResponse> {
    use tessera_core::oauth::token::{self as engine, ClientAuthentication, TokenRequest};
    let tenant = crate::http::tenant_path::resolve(state, tenant).await?;
    let ctx = context(state, &tenant);
    let client = ClientAuthentication::None {
        client_id: ClientId::new(client_id),
    };
    let app = client
        .authenticate(&ctx)
        .await
        .map_err(ErrorResponse::json)?;
    engine::exchange(&ctx, &app, &TokenRequest::AuthorizationCode(request))
        .await
        .map_err(ErrorResponse::json)
}

#[async_trait::async_trait]
impl TokenServices for AppState {
    async fn app(
        &self,
        tenant: &Tenant,
        client_id: &ClientId,
    ) -> Result<Option<App>, CatalogError> {
        lookup::app(self, tenant, client_id.as_str()).await
    }

    async fn apis(&self, tenant_id: TenantId) -> Result<Arc<Vec<Api>>, CatalogError> {
        lookup::apis(self, tenant_id).await
    }

    async fn signer(
        &self,
        tenant_id: TenantId,
        alg: SigningAlg,
    ) -> Result<Arc<Signer>, CatalogError> {
        signing::active(self, tenant_id, alg).await
    }

    async fn access_token(
        &self,
        tenant: &Tenant,
        token: &str,
    ) -> Result<serde_json::Map<String, serde_json::Value>, CatalogError> {
        super::access_token::verify(self, tenant, token).await
    }

    async fn pause(&self, duration: std::time::Duration) {
        tokio::time::sleep(duration).await;
    }
}
