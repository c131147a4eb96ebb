//! OpenID Connect Discovery 1.0 §4 at `/{t}/.well-known/openid-configuration`, and the
//! same metadata at RFC 8414 §3's location `/.well-known/oauth-authorization-server/{t}`.
//! Everything a strict relying party reads is here, and only what Tessera does.

use crate::http::error_response::ErrorResponse;
use crate::http::tenant_path::{ResolvedTenant, resolve};
use crate::runtime::cache::public_document;
use crate::runtime::state::AppState;
use axum::Router;
use axum::extract::State;
use axum::response::Response;
use axum::routing::get;
use tessera_core::keys::SigningAlg;
use tessera_core::oauth::jose::JwsAlg;
use tessera_core::oauth::scope::OIDC_SCOPES;
use tessera_core::oauth::tenancy::MetaTenant;
use tessera_core::tenant::Tenant;

pub fn routes() -> Router<AppState> {
    let mut router = Router::new();
    for meta in MetaTenant::ALL {
        for layout in [Layout::Tessera, Layout::Entra] {
            router = router.route(
                &format!("/{}{}", meta.as_str(), layout.discovery_path()),
                get(move |State(state): State<AppState>| meta_configuration(state, meta, layout)),
            );
        }
    }
    router
        .route(
            "/{tenant}/.well-known/openid-configuration",
            get(openid_configuration),
        )
        .route(
            "/{tenant}/v2.0/.well-known/openid-configuration",
            get(entra_configuration),
        )
        .route(
            "/.well-known/oauth-authorization-server/{tenant}",
            get(oauth_metadata),
        )
}

/// The document of a meta-tenant, in Entra ID's form: an issuer template,
/// `{base}/{tenantid}`, where `{tenantid}` stands for the path segment (the slug) of the
/// tenant whose user signs in, which is the issuer of every token (no token is issued
/// by a meta-tenant), and the endpoints the meta-tenant serves (`super::meta`). No
/// `jwks_uri`: keys belong to tenants, and a token's are at its issuer's
/// `/discovery/keys` (docs/multi-tenant.md).
async fn meta_configuration(state: AppState, meta: MetaTenant, layout: Layout) -> Response {
    use axum::http::{HeaderValue, header};
    use axum::response::IntoResponse;
    let base = format!("{}/{}", state.public_url, meta.as_str());
    let oauth2 = layout.oauth2();
    let algs: Vec<&str> = SigningAlg::ALL.iter().map(|a| a.as_str()).collect();
    let document = serde_json::json!({
        "issuer": format!("{}/{{tenantid}}", state.public_url),
        "authorization_endpoint": format!("{base}/{oauth2}/authorize"),
        "token_endpoint": format!("{base}/{oauth2}/token"),
        "scopes_supported": OIDC_SCOPES.iter().map(|(s, _)| *s).collect::<Vec<_>>(),
        "response_types_supported": tessera_core::oauth::authorize::RESPONSE_TYPES,
        "response_modes_supported": ["query", "fragment", "form_post"],
        "grant_types_supported": ["authorization_code", "refresh_token"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": algs,
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "private_key_jwt", "none"],
        "code_challenge_methods_supported": ["S256"],
        // RFC 9207 §3: the response names the tenant that answered, and so where to
        // redeem the code and whose keys sign the tokens.
        "authorization_response_iss_parameter_supported": true,
        "claims_parameter_supported": true,
        "service_documentation": format!("{}/errors", state.public_url),
    });
    (
        [
            (
                header::CACHE_CONTROL,
                HeaderValue::from_static("public, max-age=300"),
            ),
            (
                header::ACCESS_CONTROL_ALLOW_ORIGIN,
                HeaderValue::from_static("*"),
            ),
        ],
        axum::Json(document),
    )
        .into_response()
}

/// Where a document's endpoints are: Tessera's paths, or Entra ID's beside them
/// (`/v2.0/.well-known/openid-configuration`, `/oauth2/v2.0/...`,
/// `/discovery/v2.0/keys`), which Microsoft's MSAL libraries derive from an authority.
/// The issuer is the same in both: tokens do not depend on the path that issued them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Layout {
    Tessera,
    Entra,
}

impl Layout {
    fn discovery_path(self) -> &'static str {
        match self {
            Layout::Tessera => "/.well-known/openid-configuration",
            Layout::Entra => "/v2.0/.well-known/openid-configuration",
        }
    }

    fn oauth2(self) -> &'static str {
        match self {
            Layout::Tessera => "oauth2",
            Layout::Entra => "oauth2/v2.0",
        }
    }

    fn keys(self) -> &'static str {
        match self {
            Layout::Tessera => "discovery/keys",
            Layout::Entra => "discovery/v2.0/keys",
        }
    }
}

async fn openid_configuration(
    State(state): State<AppState>,
    ResolvedTenant(tenant): ResolvedTenant,
) -> Result<Response, ErrorResponse> {
    cached_document(&state, &tenant, Layout::Tessera).await
}

async fn entra_configuration(
    State(state): State<AppState>,
    ResolvedTenant(tenant): ResolvedTenant,
) -> Result<Response, ErrorResponse> {
    cached_document(&state, &tenant, Layout::Entra).await
}

async fn oauth_metadata(
    State(state): State<AppState>,
    crate::http::extract::Path(slug): crate::http::extract::Path<String>,
) -> Result<Response, ErrorResponse> {
    let tenant = resolve(&state, &slug).await?;
    cached_document(&state, &tenant, Layout::Tessera).await
}

/// The document is the same for every request until the tenant changes, so it is
/// rendered once and kept with the tenant's cached data.
async fn cached_document(
    state: &AppState,
    tenant: &Tenant,
    layout: Layout,
) -> Result<Response, ErrorResponse> {
    let name = match layout {
        Layout::Tessera => "openid-configuration",
        Layout::Entra => "openid-configuration-v2.0",
    };
    public_document(state, tenant.id, name, || async {
        Ok(document(state, tenant, layout))
    })
    .await
}

fn document(state: &AppState, tenant: &Tenant, layout: Layout) -> serde_json::Value {
    let issuer = state.issuer(tenant.slug.as_str());
    let oauth2 = format!("{issuer}/{}", layout.oauth2());
    let algs: Vec<&str> = SigningAlg::ALL.iter().map(|a| a.as_str()).collect();
    // The signature algorithms of client assertions (`token::client_assertion`).
    let assertion_algs: Vec<&str> = JwsAlg::ALL.iter().map(|a| a.as_str()).collect();
    let pkce: &[&str] = if tenant.policy.pkce_plain_allowed {
        &["S256", "plain"]
    } else {
        &["S256"]
    };
    serde_json::json!({
        "issuer": issuer,
        "authorization_endpoint": format!("{oauth2}/authorize"),
        "token_endpoint": format!("{oauth2}/token"),
        "userinfo_endpoint": format!("{issuer}/oauth2/userinfo"),
        "revocation_endpoint": format!("{issuer}/oauth2/revoke"),
        // RFC 8628 §4.
        "device_authorization_endpoint": format!("{oauth2}/devicecode"),
        "introspection_endpoint": format!("{issuer}/oauth2/introspect"),
        // OIDC RP-Initiated Logout §2.1, Back-Channel Logout §2.1, Front-Channel Logout §3.
        "end_session_endpoint": format!("{oauth2}/logout"),
        "backchannel_logout_supported": true,
        "backchannel_logout_session_supported": true,
        "frontchannel_logout_supported": true,
        "frontchannel_logout_session_supported": true,
        "revocation_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "private_key_jwt", "none"],
        "revocation_endpoint_auth_signing_alg_values_supported": assertion_algs,
        "introspection_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "private_key_jwt"],
        "introspection_endpoint_auth_signing_alg_values_supported": assertion_algs,
        "jwks_uri": format!("{issuer}/{}", layout.keys()),
        "scopes_supported": OIDC_SCOPES.iter().map(|(s, _)| *s).collect::<Vec<_>>(),
        // OIDC Discovery §3; implicit and hybrid types only for apps that enable them.
        "response_types_supported": tessera_core::oauth::authorize::RESPONSE_TYPES,
        "response_modes_supported": ["query", "fragment", "form_post"],
        "grant_types_supported": ["authorization_code", "refresh_token", "client_credentials", "urn:ietf:params:oauth:grant-type:device_code", "urn:ietf:params:oauth:grant-type:token-exchange"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": algs,
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "private_key_jwt", "none"],
        // RFC 8414 §2: the algorithms of private_key_jwt assertions.
        "token_endpoint_auth_signing_alg_values_supported": assertion_algs,
        "code_challenge_methods_supported": pkce,
        "claims_supported": ["iss", "sub", "aud", "exp", "iat", "auth_time", "nonce", "at_hash", "sid", "acr", "amr", "azp", "name", "preferred_username", "email", "email_verified"],
        "acr_values_supported": ["1", "2"],
        "prompt_values_supported": ["none", "login", "consent", "select_account"],
        // RFC 9207 §3.
        "authorization_response_iss_parameter_supported": true,
        // OIDC Core §5.5, for the claims above that scopes release.
        "claims_parameter_supported": true,
        "request_parameter_supported": false,
        "request_uri_parameter_supported": false,
        "service_documentation": format!("{}/errors", state.public_url),
    })
}
