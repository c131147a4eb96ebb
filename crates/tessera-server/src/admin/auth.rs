//! Who may call the admin API, and what they may do there.
//!
//! - **Access tokens** for the built-in management API (`api://tessera-management`),
//!   obtained by client credentials: the app roles in the token decide what is allowed
//!   (`Tenants.ReadWrite`, `Directory.ReadWrite`, `Directory.Read`), and the issuer decides
//!   where: a token from the `admin` tenant acts on every tenant, a token from tenant `t`
//!   only on `t`. Verified offline against the issuing tenant's keys (RFC 9068 §4).
//! - **The bootstrap admin credential**: created at first start, shown once, stored as a
//!   keyed hash (a client secret of the built-in `tessera-bootstrap` app in the `admin`
//!   tenant). It grants every right on every tenant, for setting up the first admin app.

use super::common::{ApiResult, problem, store};
use crate::http::error_response::ErrorResponse;
use crate::runtime::state::AppState;
use axum::extract::FromRequestParts;
use axum::http::header;
use axum::http::request::Parts;
use std::collections::BTreeSet;
use tessera_core::clock::Clock;
use tessera_core::crypto::{MasterKey, generate_client_secret};
use tessera_core::directory::model::{App, ClientSecret, Implicit, RedirectUris};
use tessera_core::errors::{CatalogError, ErrorName};
use tessera_core::ids::ClientId;
use tessera_core::rng::Rng;
use tessera_core::secret::Secret;
use tessera_core::store::object::{ObjectKind, StoredObject, Write, encode};
use tessera_core::store::{Store, StoreError, StoreResult};
use tessera_core::tenant::TenantSlug;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};

/// The client_id of the app that holds the bootstrap credential.
pub const BOOTSTRAP_APP: &str = "tessera-bootstrap";

/// An authenticated admin caller, already checked against the route it calls; `actor`
/// is what the audit log records.
#[derive(Debug, Clone)]
pub struct Admin {
    pub actor: String,
    /// May grant roles of the management API: the bootstrap credential, `tessera admin`,
    /// or a token of the admin tenant with an unscoped Tenants.ReadWrite. Anyone else
    /// could otherwise raise their own rights through an app of their own.
    pub grants_management: bool,
}

fn unauthenticated(reason: &str) -> ErrorResponse {
    let mut e = problem(CatalogError::new(ErrorName::Unauthenticated).internal(reason.to_owned()));
    // RFC 6750 §3: a challenge on every 401.
    e.www_authenticate = Some("Bearer realm=\"tessera-admin\"".to_owned());
    e
}

impl FromRequestParts<AppState> for Admin {
    type Rejection = ErrorResponse;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> ApiResult<Self> {
        // `tessera admin` on this machine calls the router in process; an extension is
        // out of reach of any network client.
        if parts
            .extensions
            .get::<crate::cli::admin::CliCaller>()
            .is_some()
        {
            return Ok(Admin {
                actor: "cli".to_owned(),
                grants_management: true,
            });
        }
        let header = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok());
        let Some(token) = header.and_then(|h| {
            h.strip_prefix("Bearer ")
                .or_else(|| h.strip_prefix("bearer "))
        }) else {
            return Err(unauthenticated("no bearer credential"));
        };
        let token = token.trim();
        if token.matches('.').count() == 2 {
            let caller = super::token_auth::verify(state, token)
                .await
                .map_err(|rejected| match rejected {
                    super::token_auth::Rejected::Token(reason) => unauthenticated(&reason),
                    super::token_auth::Rejected::Server(e) => problem(e),
                })?;
            caller.authorize(&parts.method, parts.uri.path())?;
            return Ok(Admin {
                actor: caller.actor(),
                grants_management: caller.grants_management(),
            });
        }
        let token = Secret::new(token);
        let admin = state
            .store
            .tenant(&TenantSlug::admin())
            .await
            .map_err(store)?;
        let app = match admin {
            Some(t) => state
                .store
                .object(t.id, ObjectKind::App, BOOTSTRAP_APP)
                .await
                .map_err(store)?,
            None => None,
        };
        let Some(app) = app else {
            return Err(unauthenticated("no bootstrap app"));
        };
        let app: App = app
            .decode()
            .map_err(|e| problem(CatalogError::new(ErrorName::InternalError).internal(e)))?;
        let now = state.clock.now();
        // Check every secret (no early exit), each in constant time.
        let valid = app
            .secrets
            .iter()
            .filter(|s| s.expires_at.is_none_or(|t| t > now))
            .fold(false, |ok, s| {
                state.master.secret_matches(&token, &s.hash) | ok
            });
        if valid {
            Ok(Admin {
                actor: "bootstrap".to_owned(),
                grants_management: true,
            })
        } else {
            Err(unauthenticated("credential does not match"))
        }
    }
}

/// Creates the bootstrap credential unless the bootstrap app exists; returns the value
/// when it was created (the only time it can be shown).
pub async fn ensure_bootstrap_credential(
    store: &dyn Store,
    master: &MasterKey,
    clock: &dyn Clock,
    rng: &dyn Rng,
) -> StoreResult<Option<Secret>> {
    let tenant = store
        .tenant(&TenantSlug::admin())
        .await?
        .ok_or_else(|| StoreError::Internal("the admin tenant is missing".into()))?;
    if store
        .object(tenant.id, ObjectKind::App, BOOTSTRAP_APP)
        .await?
        .is_some()
    {
        return Ok(None);
    }
    let value = generate_client_secret(rng);
    let now = clock.now();
    let app = App {
        client_id: ClientId::new(BOOTSTRAP_APP),
        name: "Tessera bootstrap admin credential".to_owned(),
        multi_tenant: false,
        personal_accounts: false,
        assignment_required: true,
        mfa_required: false,
        redirect_uris: RedirectUris::default(),
        post_logout_redirect_uris: Vec::new(),
        backchannel_logout_uri: None,
        frontchannel_logout_uri: None,
        secrets: vec![ClientSecret {
            id: rng.uuid(),
            hash: master.secret_hash(&value),
            hint: value.expose().chars().take(3).collect(),
            expires_at: None,
            created_at: now,
        }],
        jwks: None,
        grant_types: BTreeSet::new(),
        implicit: Implicit::default(),
        permissions: Vec::new(),
        admin_consented: false,
        id_token_signed_response_alg: None,
        assigned_users: BTreeSet::new(),
        assigned_groups: BTreeSet::new(),
        allowed_platforms: Vec::new(),
        enabled: true,
        tokens_valid_from: Some(now),
    };
    let write = Write::Put(StoredObject::new(
        rng.object_id(),
        tenant.id,
        ObjectKind::App,
        BOOTSTRAP_APP.to_owned(),
        encode(&app),
        now,
    ));
    match store.apply(vec![write]).await {
        Ok(()) => Ok(Some(value)),
        // Another node created it first; only that node can show its value.
        Err(StoreError::Conflict(_)) => Ok(None),
        Err(e) => Err(e),
    }
}

/// Declares the bearer scheme in the OpenAPI document.
pub struct SecurityAddon;

impl utoipa::Modify for SecurityAddon {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}
