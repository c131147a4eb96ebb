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

    /// Whether `app`, registered in `home`, may be used through this meta-tenant: only
    /// a multi-tenant app (CommonEndpointNotAllowed), on `consumers` only one open to
    /// personal accounts (ConsumersEndpointNotAllowed), and not while `home` is
    /// disabled ([`home_serves`]).
    pub fn serves(self, app: &App, home: &Tenant) -> Result<(), CatalogError> {
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
            _ => home_serves(app, home),
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
/// consent only where they pass); ClientNotFound for an app that is not multi-tenant,
/// AppDisabled for one whose own tenant is disabled (it serves no one while its owner
/// cannot sign in).
pub fn may_serve(app: &App, home: &Tenant, tenant: &Tenant) -> Result<(), CatalogError> {
    let refused = |name| {
        CatalogError::new(name)
            .with("client_id", app.client_id.to_string())
            .with("tenant", tenant.slug.as_str())
    };
    if !app.multi_tenant {
        return Err(refused(ErrorName::ClientNotFound));
    }
    home_serves(app, home)?;
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

/// AppDisabled while the app's own tenant is disabled: it serves no one while its
/// owner cannot sign in.
fn home_serves(app: &App, home: &Tenant) -> Result<(), CatalogError> {
    if home.disabled {
        return Err(
            CatalogError::new(ErrorName::AppDisabled).with("client_id", app.client_id.to_string())
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::directory::model::RoleAssignment;
    use crate::ids::TenantId;
    use crate::tenant::{TenantPolicy, TenantSlug};

    fn tenant(slug: &str, n: u128, kind: TenantKind) -> Tenant {
        Tenant {
            id: TenantId::from_uuid(uuid::Uuid::from_u128(n)),
            slug: TenantSlug::parse(slug).unwrap(),
            display_name: slug.into(),
            kind,
            policy: TenantPolicy::default(),
            disabled: false,
            created_at: time::OffsetDateTime::UNIX_EPOCH,
            updated_at: time::OffsetDateTime::UNIX_EPOCH,
        }
    }

    fn app(multi: bool, personal: bool) -> App {
        serde_json::from_value(serde_json::json!({
            "client_id": "crm", "name": "CRM", "multi_tenant": multi,
            "personal_accounts": personal, "assignment_required": true,
            "redirect_uris": {"web": ["https://crm.test/cb"], "spa": [], "native": []},
            "post_logout_redirect_uris": [], "secrets": [], "jwks": null,
            "grant_types": ["authorization_code"], "implicit": {},
            "permissions": [{"api": "api://tessera-management", "scopes": [], "app_roles": ["Directory.ReadWrite"]}],
            "admin_consented": false, "assigned_users": ["carol"], "enabled": true
        }))
        .unwrap()
    }

    fn consent(home: &Tenant) -> ForeignApp {
        ForeignApp {
            client_id: "crm".into(),
            home_tenant: home.id,
            consented_by: "nina".into(),
            consented_at: time::OffsetDateTime::UNIX_EPOCH,
        }
    }

    fn refusal(r: Result<App, CatalogError>) -> ErrorName {
        r.map(|_| ()).unwrap_err().name
    }

    #[test]
    fn meta_tenants_serve_multi_tenant_apps_and_take_their_kinds_of_tenant() {
        let (work, personal) = (
            tenant("northwind", 2, TenantKind::Work),
            tenant("personal", 3, TenantKind::Consumers),
        );
        for meta in MetaTenant::ALL {
            assert_eq!(MetaTenant::parse(&meta.as_str().to_uppercase()), Some(meta));
        }
        assert_eq!(MetaTenant::parse("contoso"), None);
        let home = tenant("contoso", 1, TenantKind::Work);
        let single = MetaTenant::Common
            .serves(&app(false, false), &home)
            .unwrap_err();
        assert_eq!(single.name, ErrorName::CommonEndpointNotAllowed);
        assert!(
            MetaTenant::Organizations
                .serves(&app(true, false), &home)
                .is_ok()
        );
        let consumers = MetaTenant::Consumers
            .serves(&app(true, false), &home)
            .unwrap_err();
        assert_eq!(consumers.name, ErrorName::ConsumersEndpointNotAllowed);
        assert!(
            MetaTenant::Consumers
                .serves(&app(true, true), &home)
                .is_ok()
        );
        assert!(MetaTenant::Common.admits(&work) && MetaTenant::Common.admits(&personal));
        assert!(MetaTenant::Organizations.admits(&work));
        assert!(!MetaTenant::Organizations.admits(&personal));
        assert!(MetaTenant::Consumers.admits(&personal));
        assert!(!MetaTenant::Consumers.admits(&work));
    }

    #[test]
    fn a_foreign_app_is_checked_in_order_and_served_without_home_rights() {
        let home = tenant("contoso", 1, TenantKind::Work);
        let work = tenant("northwind", 2, TenantKind::Work);
        let personal = tenant("personal", 3, TenantKind::Consumers);
        let given = consent(&home);
        // 1. Personal accounts, before anything else.
        let r = foreign_app(app(true, false), &home, &personal, None);
        assert_eq!(refusal(r), ErrorName::ConsumersEndpointNotAllowed);
        // 2. The home tenant's list, even with a consent.
        let mut restricting = home.clone();
        restricting.policy.admitted_tenants = Some(vec!["Personal".into()]);
        let r = foreign_app(app(true, true), &restricting, &work, Some(&given));
        assert_eq!(refusal(r), ErrorName::TenantAccessRestricted);
        assert!(foreign_app(app(true, true), &restricting, &personal, None).is_ok());
        // 3. A work tenant needs its administrator's consent, to this home's app.
        let r = foreign_app(app(true, false), &home, &work, None);
        assert_eq!(refusal(r), ErrorName::AppNotAvailableInTenant);
        let elsewhere = consent(&tenant("fabrikam", 9, TenantKind::Work));
        let r = foreign_app(app(true, false), &home, &work, Some(&elsewhere));
        assert_eq!(refusal(r), ErrorName::AppNotAvailableInTenant);
        let served = foreign_app(app(true, false), &home, &work, Some(&given)).unwrap();
        assert!(served.admin_consented);
        assert!(!served.assignment_required && served.assigned_users.is_empty());
        assert!(served.permissions.iter().all(|p| p.app_roles.is_empty()));
        // A personal-account tenant needs none, and consents user by user.
        let open = foreign_app(app(true, true), &home, &personal, None).unwrap();
        assert!(!open.admin_consented);
        // Not multi-tenant, or its own tenant disabled: it serves no one.
        let r = foreign_app(app(false, false), &home, &work, Some(&given));
        assert_eq!(refusal(r), ErrorName::ClientNotFound);
        let mut disabled = home.clone();
        disabled.disabled = true;
        let r = foreign_app(app(true, false), &disabled, &work, Some(&given));
        assert_eq!(refusal(r), ErrorName::AppDisabled);
    }

    #[test]
    fn administrators_hold_directory_read_write_directly_or_by_group() {
        let role = |role: &str| RoleAssignment {
            api: MANAGEMENT_API.into(),
            role: role.into(),
        };
        let user = |roles: Vec<RoleAssignment>, groups: &[&str]| -> User {
            let mut u: User = serde_json::from_value(serde_json::json!({
                "username": "nina", "email": null, "name": null, "enabled": true,
                "password_hash": null, "totp_secret_sealed": null, "groups": groups
            }))
            .unwrap();
            u.app_roles = roles.into_iter().collect();
            u
        };
        let admins = Group {
            name: "admins".into(),
            app_roles: [role(ROLE_DIRECTORY_READ_WRITE)].into(),
        };
        assert!(is_tenant_admin(
            &user(vec![role(ROLE_DIRECTORY_READ_WRITE)], &[]),
            &[]
        ));
        assert!(!is_tenant_admin(
            &user(vec![role("Directory.Read")], &[]),
            &[]
        ));
        assert!(is_tenant_admin(
            &user(vec![], &["admins"]),
            std::slice::from_ref(&admins)
        ));
        assert!(!is_tenant_admin(&user(vec![], &["staff"]), &[admins]));
    }
}
