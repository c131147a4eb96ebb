//! Multi-tenant apps: the meta-tenants `common`, `organizations` and `consumers`, and
//! which users of which tenants an app registered in one tenant may serve.
//!
//! An app is single-tenant (its own tenant's users only) or multi-tenant. A multi-tenant
//! app serves a user of another tenant at that tenant's own endpoints, with that
//! tenant's issuer, keys and `tid`, once the checks of [`foreign_app`] pass. The
//! meta-tenants only find the user's tenant and hand the request to it (the server's
//! `oauth::meta`); they issue nothing themselves.

use crate::directory::model::{
    App, ForeignApp, Group, MANAGEMENT_API, ROLE_DIRECTORY_READ_WRITE, User,
};
use crate::errors::{CatalogError, ErrorName};
use crate::tenant::{Tenant, TenantKind};

/// A meta-tenant: the first path segment of an endpoint that serves multi-tenant apps
/// for users of many tenants.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MetaTenant {
    /// Users of every tenant.
    Common,
    /// Users of work tenants (`kind: work`).
    Organizations,
    /// Users of personal-account tenants (`kind: consumers`).
    Consumers,
}

impl MetaTenant {
    pub const ALL: [MetaTenant; 3] = [
        MetaTenant::Common,
        MetaTenant::Organizations,
        MetaTenant::Consumers,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            MetaTenant::Common => "common",
            MetaTenant::Organizations => "organizations",
            MetaTenant::Consumers => "consumers",
        }
    }

    /// The meta-tenant a path segment names, in any case (as tenant slugs are read).
    pub fn parse(segment: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|m| m.as_str().eq_ignore_ascii_case(segment))
    }

    /// Whether `app` may be used through this meta-tenant: only a multi-tenant app
    /// (CommonEndpointNotAllowed), and on `consumers` only one open to personal
    /// accounts (ConsumersEndpointNotAllowed).
    pub fn serves(self, app: &App) -> Result<(), CatalogError> {
        let refused = |name| {
            Err(CatalogError::new(name)
                .with("client_id", app.client_id.to_string())
                .with("tenant", self.as_str()))
        };
        match self {
            MetaTenant::Consumers if !app.personal_accounts => {
                refused(ErrorName::ConsumersEndpointNotAllowed)
            }
            _ if !app.multi_tenant => refused(ErrorName::CommonEndpointNotAllowed),
            _ => Ok(()),
        }
    }

    /// Whether a user's tenant may be chosen through this meta-tenant: `organizations`
    /// takes work tenants only, `consumers` personal-account tenants only.
    pub fn admits(self, tenant: &Tenant) -> bool {
        match self {
            MetaTenant::Common => true,
            MetaTenant::Organizations => tenant.kind == TenantKind::Work,
            MetaTenant::Consumers => tenant.kind == TenantKind::Consumers,
        }
    }
}

/// The multi-tenant `app` registered in `home`, as `tenant` (another tenant) sees it,
/// or why its users may not use it. In order:
/// 1. a personal-account tenant, and the app is not open to personal accounts:
///    ConsumersEndpointNotAllowed;
/// 2. `home` admits only some tenants' users to its apps, not this one's:
///    TenantAccessRestricted;
/// 3. a work tenant whose administrator has not consented to the app (`consent` of
///    this `home`): AppNotAvailableInTenant. A personal-account tenant has no
///    administrator: each user consents for themselves.
///
/// With an administrator's consent the app's permissions count as admin-consented in
/// `tenant`; without one (personal accounts) nothing does.
pub fn foreign_app(
    mut app: App,
    home: &Tenant,
    tenant: &Tenant,
    consent: Option<&ForeignApp>,
) -> Result<App, CatalogError> {
    let consented =
        consent.is_some_and(|c| c.home_tenant == home.id && c.client_id == app.client_id);
    may_serve(&app, home, tenant)?;
    if tenant.kind == TenantKind::Work && !consented {
        return Err(CatalogError::new(ErrorName::AppNotAvailableInTenant)
            .with("client_id", app.client_id.to_string())
            .with("tenant", tenant.slug.as_str()));
    }
    app.admin_consented = consented;
    // App roles (client credentials, the management API's among them) are its home
    // tenant's to grant: elsewhere it acts only for users who sign in.
    for permission in &mut app.permissions {
        permission.app_roles.clear();
    }
    // Assignments name the home tenant's users and groups: none of them is here.
    app.assignment_required = false;
    app.assigned_users.clear();
    app.assigned_groups.clear();
    Ok(app)
}

/// [`foreign_app`]'s checks 1 and 2, which no consent changes (an administrator may
/// consent only where they pass); ClientNotFound for an app that is not multi-tenant.
pub fn may_serve(app: &App, home: &Tenant, tenant: &Tenant) -> Result<(), CatalogError> {
    let refused = |name| {
        CatalogError::new(name)
            .with("client_id", app.client_id.to_string())
            .with("tenant", tenant.slug.as_str())
    };
    if !app.multi_tenant {
        return Err(refused(ErrorName::ClientNotFound));
    }
    if tenant.kind == TenantKind::Consumers && !app.personal_accounts {
        return Err(refused(ErrorName::ConsumersEndpointNotAllowed));
    }
    if let Some(admitted) = &home.policy.admitted_tenants
        && !admitted
            .iter()
            .any(|s| s.eq_ignore_ascii_case(tenant.slug.as_str()))
    {
        return Err(
            refused(ErrorName::TenantAccessRestricted).with("home_tenant", home.slug.as_str())
        );
    }
    Ok(())
}

/// Whether `user` may consent to a multi-tenant app for everyone in their tenant: an
/// administrator, who holds the management API's `Directory.ReadWrite` role, directly
/// or through one of `groups` (the groups of the tenant; only the user's count).
pub fn is_tenant_admin(user: &User, groups: &[Group]) -> bool {
    let grants = |roles: &std::collections::BTreeSet<crate::directory::model::RoleAssignment>| {
        roles
            .iter()
            .any(|r| r.api == MANAGEMENT_API && r.role == ROLE_DIRECTORY_READ_WRITE)
    };
    grants(&user.app_roles)
        || groups
            .iter()
            .any(|g| user.groups.contains(&g.name) && grants(&g.app_roles))
}
