//! A tenant as a tenant file, for `tessera export`. Never includes a secret, a password,
//! a password hash or a TOTP secret.

use super::file::{ApiDoc, AppDoc, AssignmentDoc, GroupDoc, RedirectUrisDoc, TenantDoc, UserDoc};
use super::model::{Api, App, Group, User};
use crate::store::object::{ObjectKind, StoredObject};
use crate::tenant::Tenant;
use std::collections::HashMap;

pub fn export(tenant: &Tenant, objects: &[StoredObject]) -> Result<TenantDoc, String> {
    let of = |kind: ObjectKind| objects.iter().filter(move |o| o.kind == kind);
    let users: Vec<User> = of(ObjectKind::User)
        .map(StoredObject::decode)
        .collect::<Result<_, _>>()?;
    let groups: Vec<Group> = of(ObjectKind::Group)
        .map(StoredObject::decode)
        .collect::<Result<_, _>>()?;
    let apis: Vec<Api> = of(ObjectKind::Api)
        .map(StoredObject::decode)
        .collect::<Result<_, _>>()?;
    let apps: Vec<App> = of(ObjectKind::App)
        .map(StoredObject::decode)
        .collect::<Result<_, _>>()?;
    let display: HashMap<String, &str> = users
        .iter()
        .map(|u| (u.username.key(), u.username.as_str()))
        .collect();
    let assignments = apps
        .iter()
        .flat_map(|app| {
            let users = app.assigned_users.iter().map(|key| AssignmentDoc {
                user: Some(
                    display
                        .get(key)
                        .map_or_else(|| key.clone(), |s| (*s).to_owned()),
                ),
                group: None,
                app: app.client_id.to_string(),
            });
            let groups = app.assigned_groups.iter().map(|name| AssignmentDoc {
                user: None,
                group: Some(name.clone()),
                app: app.client_id.to_string(),
            });
            users.chain(groups)
        })
        .collect();
    Ok(TenantDoc {
        slug: tenant.slug.to_string(),
        display_name: Some(tenant.display_name.clone()),
        kind: tenant.kind,
        policy: tenant.policy.clone(),
        groups: groups
            .into_iter()
            .map(|g| GroupDoc {
                name: g.name,
                app_roles: g.app_roles.into_iter().collect(),
            })
            .collect(),
        users: users
            .into_iter()
            .map(|u| UserDoc {
                username: u.username.as_str().to_owned(),
                password: None,
                email: u.email,
                name: u.name,
                enabled: u.enabled,
                totp_secret: None,
                groups: u.groups.into_iter().collect(),
                app_roles: u.app_roles.into_iter().collect(),
            })
            .collect(),
        apis: apis.into_iter().map(|a| ApiDoc::from(&a)).collect(),
        apps: apps
            .into_iter()
            .map(|a| AppDoc {
                client_id: Some(a.client_id.into()),
                name: a.name,
                multi_tenant: a.multi_tenant,
                personal_accounts: a.personal_accounts,
                assignment_required: a.assignment_required,
                mfa_required: a.mfa_required,
                redirect_uris: RedirectUrisDoc {
                    web: a.redirect_uris.web,
                    spa: a.redirect_uris.spa,
                    native: a.redirect_uris.native,
                },
                post_logout_redirect_uris: a.post_logout_redirect_uris,
                backchannel_logout_uri: a.backchannel_logout_uri,
                frontchannel_logout_uri: a.frontchannel_logout_uri,
                allowed_platforms: a.allowed_platforms,
                secrets: None,
                jwks: a.jwks,
                grant_types: a
                    .grant_types
                    .into_iter()
                    .map(|g| g.as_str().to_owned())
                    .collect(),
                implicit: a.implicit,
                permissions: a.permissions,
                admin_consented: a.admin_consented,
                id_token_signed_response_alg: a
                    .id_token_signed_response_alg
                    .map(|alg| alg.as_str().to_owned()),
                enabled: a.enabled,
            })
            .collect(),
        assignments,
    })
}
