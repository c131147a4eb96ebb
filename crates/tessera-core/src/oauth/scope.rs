//! Scopes (RFC 6749 §3.3): the OpenID Connect scopes Tessera knows and the delegated
//! scopes of the tenant's APIs, written `{api identifier}/{scope}`. An app may request
//! the OIDC scopes and the API scopes its registration lists under `permissions`; one
//! access token serves one API (its audience, RFC 9068 §3), so one request names scopes
//! of at most one API.

use crate::directory::model::{Api, App};
use crate::errors::{CatalogError, ErrorName};
use std::collections::BTreeSet;

pub const OPENID: &str = "openid";
pub const PROFILE: &str = "profile";
pub const EMAIL: &str = "email";
pub const OFFLINE_ACCESS: &str = "offline_access";

/// The OIDC scopes, with what the consent page says about each.
pub const OIDC_SCOPES: [(&str, &str); 4] = [
    (OPENID, "Sign you in to the app"),
    (PROFILE, "See your name and username"),
    (EMAIL, "See your email address"),
    (
        OFFLINE_ACCESS,
        "Keep the access you give it, even while you are not using the app",
    ),
];

/// One requested scope, as the consent page shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestedScope {
    pub value: String,
    pub description: String,
    /// Only an administrator may consent (the API scope's `admin_consent_required`).
    pub admin_only: bool,
}

/// A scope parameter checked against the app and the tenant's APIs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResolvedScopes {
    pub scopes: Vec<RequestedScope>,
    /// The API the access token is for, when API scopes were requested.
    pub audience: Option<String>,
}

impl ResolvedScopes {
    pub fn values(&self) -> BTreeSet<String> {
        self.scopes.iter().map(|s| s.value.clone()).collect()
    }

    pub fn contains(&self, value: &str) -> bool {
        self.scopes.iter().any(|s| s.value == value)
    }

    /// Scopes only an administrator may grant need the tenant's admin consent to `app`
    /// (`App::admin_consented`); no user's consent stands in for it.
    pub fn check_admin_consent(&self, app: &App, tenant: &str) -> Result<(), CatalogError> {
        match self.scopes.iter().find(|s| s.admin_only) {
            Some(scope) if !app.admin_consented => {
                Err(CatalogError::new(ErrorName::AdminConsentRequired)
                    .with("scope", scope.value.clone())
                    .with("tenant", tenant.to_owned()))
            }
            _ => Ok(()),
        }
    }
}

/// RFC 6749 §3.3: `scope-token = 1*( %x21 / %x23-5B / %x5D-7E )`.
fn is_scope_token(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b == 0x21 || (0x23..=0x5B).contains(&b) || (0x5D..=0x7E).contains(&b))
}

/// Every scope value `app` may request, for the InvalidScope message.
pub fn supported(app: &App) -> Vec<String> {
    let mut out: Vec<String> = OIDC_SCOPES.iter().map(|(s, _)| (*s).to_owned()).collect();
    for p in &app.permissions {
        out.extend(p.scopes.iter().map(|s| format!("{}/{}", p.api, s)));
    }
    out
}

fn invalid(value: &str, app: &App) -> CatalogError {
    CatalogError::new(ErrorName::InvalidScope)
        .with("scope", value.chars().take(200).collect::<String>())
        .with("supported", supported(app).join(" "))
}

/// Resolves the space-delimited `raw` scope parameter.
pub fn resolve(raw: &str, app: &App, apis: &[Api]) -> Result<ResolvedScopes, CatalogError> {
    let mut scopes = Vec::new();
    let mut audience: Option<String> = None;
    let mut seen = BTreeSet::new();
    for value in raw.split(' ').filter(|s| !s.is_empty()) {
        if !is_scope_token(value) {
            return Err(invalid(value, app));
        }
        if !seen.insert(value) {
            continue;
        }
        if let Some((_, description)) = OIDC_SCOPES.iter().find(|(s, _)| *s == value) {
            scopes.push(RequestedScope {
                value: value.to_owned(),
                description: (*description).to_owned(),
                admin_only: false,
            });
            continue;
        }
        let (api, scope) = api_scope(value, app, apis).ok_or_else(|| invalid(value, app))?;
        match &audience {
            Some(a) if *a != api.identifier => {
                return Err(CatalogError::new(ErrorName::ScopeMultipleResources)
                    .with("resources", format!("{a} {}", api.identifier)));
            }
            _ => audience = Some(api.identifier.clone()),
        }
        scopes.push(RequestedScope {
            value: value.to_owned(),
            description: format!("{} ({})", scope.description, api.name),
            admin_only: scope.admin_consent_required,
        });
    }
    Ok(ResolvedScopes { scopes, audience })
}

/// The API of an API scope value `{identifier}/{scope}` that the app's permissions
/// list. Matched against the listed identifiers and scope names, not by splitting at a
/// `/`: identifiers and scope names may both contain one.
pub fn api_of<'a>(value: &str, app: &'a App) -> Option<&'a str> {
    app.permissions
        .iter()
        .find(|p| {
            value
                .strip_prefix(p.api.as_str())
                .and_then(|rest| rest.strip_prefix('/'))
                .is_some_and(|name| p.scopes.iter().any(|s| s == name))
        })
        .map(|p| p.api.as_str())
}

/// `{identifier}/{scope}` where the app's permissions list the scope on that API.
fn api_scope<'a>(
    value: &str,
    app: &App,
    apis: &'a [Api],
) -> Option<(&'a Api, &'a crate::directory::model::ApiScope)> {
    let identifier = api_of(value, app)?;
    let name = value.get(identifier.len() + 1..)?;
    let api = apis.iter().find(|a| a.identifier == identifier)?;
    let scope = api.scopes.iter().find(|s| s.name == name)?;
    Some((api, scope))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::directory::model::{ApiScope, Permission};

    fn api(id: &str, scopes: &[(&str, bool)]) -> Api {
        Api {
            identifier: id.into(),
            name: format!("{id} name"),
            scopes: scopes
                .iter()
                .map(|(n, admin)| ApiScope {
                    name: (*n).into(),
                    description: format!("do {n}"),
                    admin_consent_required: *admin,
                })
                .collect(),
            app_roles: vec![],
            client_id: None,
            access_token_signing_alg: None,
        }
    }

    fn app(perms: &[(&str, &[&str])]) -> App {
        serde_json::from_value(serde_json::json!({
            "client_id": "c", "name": "C", "multi_tenant": false, "assignment_required": false,
            "redirect_uris": { "web": [], "spa": [], "native": [] }, "post_logout_redirect_uris": [],
            "secrets": [], "jwks": null, "grant_types": [], "implicit": { "id_token": false, "access_token": false },
            "permissions": perms.iter().map(|(a, s)| Permission { api: (*a).into(), scopes: s.iter().map(|x| (*x).into()).collect(), app_roles: vec![] }).collect::<Vec<_>>(),
            "admin_consented": false, "assigned_users": [], "enabled": true
        }))
        .unwrap()
    }

    #[test]
    fn oidc_and_permitted_api_scopes_resolve() {
        let apis = [api("api://orders", &[("read", false), ("admin", true)])];
        let a = app(&[("api://orders", &["read", "admin"])]);
        let r = resolve(
            "openid  profile api://orders/read api://orders/admin openid",
            &a,
            &apis,
        )
        .unwrap();
        assert_eq!(r.audience.as_deref(), Some("api://orders"));
        assert_eq!(r.scopes.len(), 4);
        assert!(
            r.scopes
                .iter()
                .any(|s| s.value == "api://orders/admin" && s.admin_only)
        );
    }

    #[test]
    fn unknown_or_unpermitted_scopes_are_named() {
        let apis = [api("api://orders", &[("read", false), ("write", false)])];
        let a = app(&[("api://orders", &["read"])]);
        for bad in [
            "api://orders/write",
            "api://nope/read",
            "phone",
            "caf\u{e9}",
        ] {
            let err = resolve(&format!("openid {bad}"), &a, &apis).unwrap_err();
            assert_eq!(err.name, ErrorName::InvalidScope);
            assert!(err.message().contains(bad), "{}", err.message());
            assert!(err.message().contains("api://orders/read"));
        }
    }

    #[test]
    fn identifiers_and_scope_names_may_both_hold_slashes() {
        let apis = [
            api("api://a", &[("b/read", false)]),
            api("api://a/b", &[("read", false)]),
        ];
        let a = app(&[("api://a", &["b/read"]), ("api://a/b", &["read"])]);
        assert_eq!(api_of("api://a/b/read", &a), Some("api://a"));
        let r = resolve("api://a/b/read", &a, &apis).unwrap();
        assert_eq!(r.audience.as_deref(), Some("api://a"));
        let only_b = app(&[("api://a/b", &["read"])]);
        assert_eq!(
            resolve("api://a/b/read", &only_b, &apis)
                .unwrap()
                .audience
                .as_deref(),
            Some("api://a/b")
        );
    }

    #[test]
    fn two_apis_in_one_request_are_refused() {
        let apis = [
            api("api://a", &[("r", false)]),
            api("api://b", &[("r", false)]),
        ];
        let a = app(&[("api://a", &["r"]), ("api://b", &["r"])]);
        let err = resolve("api://a/r api://b/r", &a, &apis).unwrap_err();
        assert_eq!(err.name, ErrorName::ScopeMultipleResources);
    }
}
