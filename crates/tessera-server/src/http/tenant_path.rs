//! Resolving the `{tenant}` path segment of protocol endpoints: an unknown slug is
//! TenantNotFound (404), a disabled tenant TenantDisabled (403), both as OAuth JSON.
//! The meta-tenants (`common`, `organizations`, `consumers`) are no tenants and resolve
//! to nothing here; the endpoints they serve take them first (`oauth::meta`).

use crate::http::error_response::{ErrorResponse, store_error};
use crate::runtime::cache::Key;
use crate::runtime::state::AppState;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use std::sync::Arc;
use tessera_core::errors::{CatalogError, ErrorName};
use tessera_core::tenant::{Tenant, TenantSlug};

/// The enabled tenant named by the first path segment, shared with the cache rather
/// than cloned (its strings and policy allocated and freed) for every request.
pub struct ResolvedTenant(pub Arc<Tenant>);

impl FromRequestParts<AppState> for ResolvedTenant {
    type Rejection = ErrorResponse;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let segment = first_segment(parts.uri.path());
        // Browsers (the authorization endpoint, the pages) get an error page; programs JSON.
        resolve(state, segment).await.map(Self).map_err(|mut e| {
            e.format = crate::http::error_response::ErrorFormat::negotiate(&parts.headers);
            e
        })
    }
}

/// The first segment of a request path: the tenant's slug, or a meta-tenant.
pub fn first_segment(path: &str) -> &str {
    let path = path.trim_start_matches('/');
    path.split_once('/').map_or(path, |(first, _)| first)
}

/// The tenant of a browser-facing route (authorization, sign-in and account pages): an
/// unknown or disabled tenant is an error page whatever `Accept` says, like every error
/// before a redirect URI is verified (RFC 6749 §4.1.2.1).
pub struct PageTenant(pub Arc<Tenant>);

impl FromRequestParts<AppState> for PageTenant {
    type Rejection = ErrorResponse;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        match ResolvedTenant::from_request_parts(parts, state).await {
            Ok(ResolvedTenant(t)) => Ok(Self(t)),
            Err(mut e) => {
                e.format = crate::http::error_response::ErrorFormat::Page;
                Err(e)
            }
        }
    }
}

/// The enabled tenant named `segment`: TenantNotFound or TenantDisabled otherwise.
pub async fn resolve(state: &AppState, segment: &str) -> Result<Arc<Tenant>, ErrorResponse> {
    let not_found = || {
        ErrorResponse::json(
            CatalogError::new(ErrorName::TenantNotFound)
                .with("tenant", segment.chars().take(64).collect::<String>()),
        )
    };
    let Ok(slug) = TenantSlug::parse_path(segment) else {
        return Err(not_found());
    };
    let cached = state
        .cache
        .get(Key::Tenant(slug.as_str().to_owned()), || async {
            let tenant = state.store.tenant(&slug).await.map_err(store_error)?;
            Ok(tenant.map(Arc::new))
        })
        .await
        .map_err(ErrorResponse::json)?;
    let tenant = Arc::clone(cached.as_ref().as_ref().ok_or_else(not_found)?);
    if tenant.disabled {
        return Err(ErrorResponse::json(
            CatalogError::new(ErrorName::TenantDisabled).with("tenant", slug.as_str()),
        ));
    }
    Ok(tenant)
}
