//! Admin API access tokens: verification (the issuing tenant's keys, `typ at+jwt`, the
//! management API audience, expiry) and the permission check of each route, from the
//! token's app roles that its app still holds, and the tenant its issuer names.

use crate::http::error_response::ErrorResponse;
use crate::runtime::state::AppState;
use axum::http::Method;
use std::collections::BTreeSet;
use tessera_core::directory::model::{
    MANAGEMENT_API, ROLE_DIRECTORY_READ, ROLE_DIRECTORY_READ_WRITE, ROLE_TENANTS_READ_WRITE,
};
use tessera_core::errors::{CatalogError, ErrorName};
use tessera_core::tenant::TenantSlug;

/// A verified token's caller.
#[derive(Debug)]
pub struct TokenCaller {
    client_id: String,
    /// The issuing tenant; `admin` means every tenant.
    issuer_tenant: String,
    roles: BTreeSet<String>,
}

/// Verifies `token`; the error is the reason, for the log.
/// Why a token was not accepted: the token's fault (401 Unauthenticated, the reason
/// logged), or the server's (a store failure keeps its own catalogued error, e.g. 503).
pub enum Rejected {
    Token(String),
    Server(CatalogError),
}

impl From<&str> for Rejected {
    fn from(reason: &str) -> Self {
        Rejected::Token(reason.to_owned())
    }
}

impl From<CatalogError> for Rejected {
    fn from(e: CatalogError) -> Self {
        if e.entry().status >= 500 {
            Rejected::Server(e)
        } else {
            Rejected::Token(e.message())
        }
    }
}

pub async fn verify(state: &AppState, token: &str) -> Result<TokenCaller, Rejected> {
    // The issuer picks the keys: read it before verifying, then verify against that
    // tenant's keys only, and compare it again after.
    let claims = tessera_core::oauth::jose::unverified_claims(token)
        .map_err(|e| Rejected::Token(format!("{e:?}")))?;
    let iss = claims.get("iss").and_then(|v| v.as_str()).ok_or("no iss")?;
    let slug = iss
        .strip_prefix(&format!("{}/", state.public_url))
        .filter(|s| !s.contains('/'))
        .ok_or("iss is not a tenant of this server")?;
    let slug = TenantSlug::parse_path(slug).map_err(|_| "iss names no tenant")?;
    let tenant = state
        .store
        .tenant(&slug)
        .await
        .map_err(crate::http::error_response::store_error)?
        .filter(|t| !t.disabled)
        .ok_or("issuing tenant unknown or disabled")?;
    let c = crate::oauth::access_token::verify(state, &tenant, token).await?;
    crate::oauth::access_token::require_audience(&c, MANAGEMENT_API)?;
    let granted: BTreeSet<String> = c
        .get("roles")
        .and_then(|v| v.as_array())
        .map(|a| {
            a.iter()
                .filter_map(|r| r.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default();
    let client_id = c
        .get("client_id")
        .and_then(|v| v.as_str())
        .unwrap_or_default()
        .to_owned();
    // A role counts only while the app still holds it: an app deleted, or a role taken
    // from it, takes effect at once rather than when its tokens expire. The app comes
    // from the cache, which every node drops when an app changes.
    let app = crate::oauth::lookup::app(state, &tenant, &client_id)
        .await?
        .ok_or("the token's app no longer exists")?;
    let held: BTreeSet<&str> = app
        .permissions
        .iter()
        .filter(|p| p.api == MANAGEMENT_API)
        .flat_map(|p| p.app_roles.iter().map(String::as_str))
        .collect();
    let roles = granted
        .into_iter()
        .filter(|r| held.contains(r.as_str()))
        .collect();
    Ok(TokenCaller {
        client_id,
        issuer_tenant: slug.as_str().to_owned(),
        roles,
    })
}

impl TokenCaller {
    pub fn actor(&self) -> String {
        format!("app:{}@{}", self.client_id, self.issuer_tenant)
    }

    /// Whether the token holds `role` for tenant `slug`: unscoped, or as
    /// `{role}:{slug}` (an admin-tenant app limited to one tenant).
    fn has(&self, role: &str, slug: &str) -> bool {
        self.roles.contains(role) || self.roles.contains(&format!("{role}:{slug}"))
    }

    /// Whether this caller may give apps roles of the management API.
    pub fn grants_management(&self) -> bool {
        self.everywhere() && self.roles.contains(ROLE_TENANTS_READ_WRITE)
    }

    fn everywhere(&self) -> bool {
        self.issuer_tenant == TenantSlug::admin().as_str()
    }

    /// Whether this caller may `method` the admin API `path`; Forbidden names what is
    /// missing.
    pub fn authorize(&self, method: &Method, path: &str) -> Result<(), ErrorResponse> {
        let rest = path.strip_prefix("/admin/api/v1").unwrap_or(path);
        let segments: Vec<&str> = rest.split('/').filter(|s| !s.is_empty()).collect();
        let read = matches!(*method, Method::GET | Method::HEAD);
        let forbidden = |permission: String| {
            Err(ErrorResponse::problem(
                CatalogError::new(ErrorName::Forbidden).with("permission", permission),
            ))
        };
        let readers = [
            ROLE_DIRECTORY_READ,
            ROLE_DIRECTORY_READ_WRITE,
            ROLE_TENANTS_READ_WRITE,
        ];
        let writers = [ROLE_DIRECTORY_READ_WRITE, ROLE_TENANTS_READ_WRITE];
        let (tenant, allowed, needed): (Option<&str>, &[&str], &str) = match segments.as_slice() {
            // The tenant list and creating tenants span tenants.
            ["tenants"] if read => (None, &readers, ROLE_DIRECTORY_READ),
            ["tenants"] => (None, &[ROLE_TENANTS_READ_WRITE], ROLE_TENANTS_READ_WRITE),
            ["tenants", slug] if !read => (
                Some(*slug),
                &[ROLE_TENANTS_READ_WRITE],
                ROLE_TENANTS_READ_WRITE,
            ),
            ["tenants", slug, ..] if read => (Some(*slug), &readers, ROLE_DIRECTORY_READ),
            ["tenants", slug, ..] => (Some(*slug), &writers, ROLE_DIRECTORY_READ_WRITE),
            // A trace id may belong to any tenant.
            ["traces", ..] if read => (None, &readers, ROLE_DIRECTORY_READ),
            // The master key ring is the installation's, like creating tenants.
            ["master-key", ..] => (None, &[ROLE_TENANTS_READ_WRITE], ROLE_TENANTS_READ_WRITE),
            _ => return forbidden("the bootstrap admin credential".into()),
        };
        let Some(slug) = tenant else {
            // Across tenants: a token of the admin tenant with an unscoped role.
            if self.everywhere() && allowed.iter().any(|r| self.roles.contains(*r)) {
                return Ok(());
            }
            return forbidden(format!("{needed} on every tenant"));
        };
        if !self.everywhere() && slug != self.issuer_tenant {
            return forbidden(format!("access to the tenant {slug}"));
        }
        if allowed.iter().any(|r| self.has(r, slug)) {
            Ok(())
        } else {
            forbidden(format!("{needed} on the tenant {slug}"))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn caller(tenant: &str, roles: &[&str]) -> TokenCaller {
        TokenCaller {
            client_id: "c".into(),
            issuer_tenant: tenant.into(),
            roles: roles.iter().map(|r| (*r).to_owned()).collect(),
        }
    }

    #[test]
    fn store_failures_are_not_blamed_on_the_token() {
        let down = CatalogError::new(ErrorName::TemporarilyUnavailable).retry_after(5);
        assert!(
            matches!(Rejected::from(down), Rejected::Server(e) if e.name == ErrorName::TemporarilyUnavailable)
        );
        let expired = CatalogError::new(ErrorName::BearerTokenExpired).with("time", "t");
        assert!(matches!(Rejected::from(expired), Rejected::Token(_)));
    }

    #[test]
    fn roles_and_issuer_decide() {
        let p = "/admin/api/v1/tenants";
        let admin_rw = caller("admin", &[ROLE_TENANTS_READ_WRITE]);
        assert!(admin_rw.authorize(&Method::POST, p).is_ok());
        assert!(
            admin_rw
                .authorize(&Method::DELETE, "/admin/api/v1/tenants/contoso/users/alice")
                .is_ok()
        );
        let reader = caller("admin", &[ROLE_DIRECTORY_READ]);
        assert!(
            reader
                .authorize(&Method::GET, "/admin/api/v1/tenants/contoso/users")
                .is_ok()
        );
        assert!(
            reader
                .authorize(&Method::POST, "/admin/api/v1/tenants/contoso/users")
                .is_err()
        );
        assert!(reader.authorize(&Method::POST, p).is_err());
        let one = caller("admin", &["Directory.ReadWrite:contoso"]);
        assert!(
            one.authorize(&Method::POST, "/admin/api/v1/tenants/contoso/users")
                .is_ok()
        );
        assert!(
            one.authorize(&Method::POST, "/admin/api/v1/tenants/fabrikam/users")
                .is_err()
        );
        assert!(
            one.authorize(&Method::GET, p).is_err(),
            "listing tenants needs an unscoped role"
        );
        let scoped = caller("contoso", &[ROLE_DIRECTORY_READ_WRITE]);
        assert!(
            scoped
                .authorize(&Method::POST, "/admin/api/v1/tenants/contoso/users")
                .is_ok()
        );
        assert!(
            scoped
                .authorize(&Method::GET, "/admin/api/v1/tenants/fabrikam/users")
                .is_err()
        );
        assert!(scoped.authorize(&Method::GET, p).is_err());
        assert!(
            scoped
                .authorize(&Method::PATCH, "/admin/api/v1/tenants/contoso")
                .is_err(),
            "Tenants.ReadWrite needed"
        );
        assert!(
            caller("admin", &[])
                .authorize(&Method::GET, "/admin/api/v1/tenants/contoso")
                .is_err()
        );
    }
}
