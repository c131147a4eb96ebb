//! Checks a parsed tenant file as a whole and reports every invalid field with its JSON
//! pointer, not only the first, so one run of `tessera import` shows everything to fix.

use super::file::{TenantDoc, TenantFile};
use super::model::GrantType;
use super::names::{Username, check_api_identifier, check_client_id, check_token_name};
use super::redirect::{self, Platform};
use crate::errors::{ErrorName, FieldError};
use crate::tenant::TenantSlug;
use std::collections::{HashMap, HashSet};

/// Minimum length of a client secret supplied in a tenant file.
pub const MIN_SUPPLIED_SECRET_LEN: usize = 32;

struct Report(Vec<FieldError>);

impl Report {
    fn add(&mut self, field: String, name: ErrorName, message: impl Into<String>) {
        self.0.push(FieldError {
            field,
            code: name.entry().code_str(),
            message: message.into(),
        });
    }

    fn invalid(&mut self, field: String, message: impl Into<String>) {
        self.add(field, ErrorName::ValidationFailed, message);
    }
}

/// Every problem in the file; empty when it can be imported.
pub fn check(file: &TenantFile) -> Vec<FieldError> {
    let mut r = Report(Vec::new());
    let mut slugs = HashSet::new();
    for (t, tenant) in file.tenants.iter().enumerate() {
        let base = format!("/tenants/{t}");
        match TenantSlug::parse_path(&tenant.slug) {
            Ok(slug) => {
                if !slugs.insert(slug) {
                    r.add(
                        format!("{base}/slug"),
                        ErrorName::TenantExists,
                        format!("the tenant {} appears twice in the file", tenant.slug),
                    );
                }
            }
            Err(e) => r.add(format!("{base}/slug"), e.name, e.message()),
        }
        check_tenant(&mut r, &base, tenant);
    }
    r.0
}

/// The problems of one tenant document (as the admin API receives it), with field
/// paths relative to the document.
pub fn check_tenant_doc(doc: &TenantDoc) -> Vec<FieldError> {
    check(&TenantFile {
        tenants: vec![doc.clone()],
    })
    .into_iter()
    .map(|mut e| {
        let rest = e.field.strip_prefix("/tenants/0").unwrap_or(&e.field);
        e.field = if rest.is_empty() {
            "/".to_owned()
        } else {
            rest.to_owned()
        };
        e
    })
    .collect()
}

fn check_signing_alg(r: &mut Report, at: String, value: Option<&str>) {
    if let Some(v) = value
        && crate::keys::SigningAlg::parse(v).is_none()
    {
        r.invalid(at, format!("'{v}' is not one of RS256, ES256, EdDSA"));
    }
}

fn check_tenant(r: &mut Report, base: &str, t: &TenantDoc) {
    let p = &t.policy;
    if !(1..=600).contains(&p.code_lifetime_seconds) {
        r.invalid(format!("{base}/policy/code_lifetime_seconds"), "must be between 1 and 600 seconds (RFC 6749 section 4.1.2 recommends at most 10 minutes)");
    }
    for (field, value, max) in [
        (
            "session_lifetime_seconds",
            p.session_lifetime_seconds,
            30 * 24 * 3600,
        ),
        (
            "access_token_lifetime_seconds",
            p.access_token_lifetime_seconds,
            24 * 3600,
        ),
        (
            "refresh_token_lifetime_seconds",
            p.refresh_token_lifetime_seconds,
            365 * 24 * 3600,
        ),
        (
            "refresh_token_idle_seconds",
            p.refresh_token_idle_seconds,
            365 * 24 * 3600,
        ),
        (
            "spa_refresh_token_lifetime_seconds",
            p.spa_refresh_token_lifetime_seconds,
            7 * 24 * 3600,
        ),
        ("logout_request_seconds", p.logout_request_seconds, 3600),
        (
            "lockout_window_seconds",
            p.lockout_window_seconds,
            24 * 3600,
        ),
        (
            "signing_key_publish_seconds",
            p.signing_key_publish_seconds,
            30 * 24 * 3600,
        ),
    ] {
        if !(60..=max).contains(&value) {
            r.invalid(
                format!("{base}/policy/{field}"),
                format!("must be between 60 and {max} seconds"),
            );
        }
    }
    if !(1..=365).contains(&p.sign_in_log_days) {
        r.invalid(
            format!("{base}/policy/sign_in_log_days"),
            "must be between 1 and 365 days",
        );
    }
    if !(8..=256).contains(&p.password_min_length) {
        r.invalid(
            format!("{base}/policy/password_min_length"),
            "must be between 8 and 256 characters",
        );
    }
    if p.refresh_token_retry_seconds > 300 {
        r.invalid(
            format!("{base}/policy/refresh_token_retry_seconds"),
            "must be 0 (no retry) to 300 seconds",
        );
    }
    if p.signing_key_rotation_days > 3650 {
        r.invalid(
            format!("{base}/policy/signing_key_rotation_days"),
            "must be 0 (rotate by hand only) to 3650 days",
        );
    }
    if p.lockout_threshold == 0 {
        r.invalid(
            format!("{base}/policy/lockout_threshold"),
            "must be at least 1",
        );
    }
    for (i, range) in p.blocked_ip_ranges.iter().enumerate() {
        if !is_cidr(range) {
            r.invalid(
                format!("{base}/policy/blocked_ip_ranges/{i}"),
                format!("'{range}' is not a CIDR range such as 203.0.113.0/24"),
            );
        }
    }
    for (i, slug) in p.admitted_tenants.iter().flatten().enumerate() {
        if TenantSlug::parse(slug).is_err() {
            r.invalid(
                format!("{base}/policy/admitted_tenants/{i}"),
                format!("'{slug}' is not a tenant slug"),
            );
        }
    }
    if let Some(name) = &t.display_name
        && (name.trim().is_empty() || name.len() > 256)
    {
        r.invalid(
            format!("{base}/display_name"),
            "must be 1 to 256 characters",
        );
    }

    let mut groups: HashSet<String> = HashSet::new();
    for (i, g) in t.groups.iter().enumerate() {
        if let Err(why) = check_token_name(&g.name) {
            r.invalid(format!("{base}/groups/{i}/name"), why);
        }
        if !groups.insert(g.name.clone()) {
            r.add(
                format!("{base}/groups/{i}/name"),
                ErrorName::Conflict,
                format!("the group {} appears twice", g.name),
            );
        }
    }

    let mut users: HashSet<String> = HashSet::new();
    for (i, u) in t.users.iter().enumerate() {
        let at = format!("{base}/users/{i}");
        match Username::parse(&u.username) {
            Ok(name) => {
                if !users.insert(name.key()) {
                    r.add(format!("{at}/username"), ErrorName::Conflict, format!("the username {} appears twice (usernames are compared case-insensitively)", u.username));
                }
            }
            Err(why) => r.invalid(format!("{at}/username"), why),
        }
        // A tenant file's passwords meet the tenant's length and name rules; the deny
        // list is the server's, applied where users and administrators set passwords.
        if let Some(pw) = &u.password
            && let Err(why) = super::password_policy::check(
                p.password_min_length,
                &super::password_policy::DenyList::default(),
                &u.username,
                pw,
            )
        {
            r.add(
                format!("{at}/password"),
                ErrorName::PasswordPolicyViolation,
                why,
            );
        }
        if let Some(email) = &u.email
            && !is_email(email)
        {
            r.invalid(format!("{at}/email"), "is not an email address");
        }
        if let Some(secret) = &u.totp_secret
            && !is_base32(secret)
        {
            r.invalid(
                format!("{at}/totp_secret"),
                "must be base32 (RFC 4648), at least 16 characters",
            );
        }
        for (g, group) in u.groups.iter().enumerate() {
            if let Err(why) = check_token_name(group) {
                r.invalid(format!("{at}/groups/{g}"), why);
            }
        }
    }

    let mut apis: HashMap<&str, (HashSet<&str>, HashSet<&str>)> = HashMap::new();
    // The built-in management API: app roles only.
    apis.insert(
        crate::directory::model::MANAGEMENT_API,
        (
            HashSet::new(),
            crate::directory::model::MANAGEMENT_ROLES
                .into_iter()
                .collect(),
        ),
    );
    for (i, api) in t.apis.iter().enumerate() {
        let at = format!("{base}/apis/{i}");
        check_signing_alg(
            r,
            format!("{at}/access_token_signing_alg"),
            api.access_token_signing_alg.as_deref(),
        );
        if let Some(id) = &api.client_id
            && let Err(why) = check_client_id(id)
        {
            r.invalid(format!("{at}/client_id"), why);
        }
        if let Err(why) = check_api_identifier(&api.identifier) {
            r.invalid(format!("{at}/identifier"), why);
        } else if api.identifier == crate::directory::model::MANAGEMENT_API {
            r.invalid(
                format!("{at}/identifier"),
                "is reserved for Tessera's management API",
            );
        }
        if api.name.trim().is_empty() {
            r.invalid(format!("{at}/name"), "must not be empty");
        }
        let mut scopes = HashSet::new();
        for (s, scope) in api.scopes.iter().enumerate() {
            if let Err(why) = check_token_name(scope.name()) {
                r.invalid(format!("{at}/scopes/{s}"), why);
            } else if !scopes.insert(scope.name()) {
                r.invalid(
                    format!("{at}/scopes/{s}"),
                    format!("the scope {} appears twice", scope.name()),
                );
            }
        }
        let mut roles = HashSet::new();
        for (s, role) in api.app_roles.iter().enumerate() {
            if let Err(why) = check_token_name(role) {
                r.invalid(format!("{at}/app_roles/{s}"), why);
            } else if !roles.insert(role.as_str()) {
                r.invalid(
                    format!("{at}/app_roles/{s}"),
                    format!("the app role {role} appears twice"),
                );
            }
        }
        if api.identifier == crate::directory::model::MANAGEMENT_API {
            // Reported above; the built-in definition stays.
            continue;
        }
        if apis
            .insert(api.identifier.as_str(), (scopes, roles))
            .is_some()
        {
            r.add(
                format!("{at}/identifier"),
                ErrorName::Conflict,
                format!("the API {} appears twice", api.identifier),
            );
        }
    }

    let mut client_ids: HashSet<&str> = HashSet::new();
    let mut names: HashSet<&str> = HashSet::new();
    for (i, app) in t.apps.iter().enumerate() {
        let at = format!("{base}/apps/{i}");
        check_signing_alg(
            r,
            format!("{at}/id_token_signed_response_alg"),
            app.id_token_signed_response_alg.as_deref(),
        );
        if let Some(id) = &app.client_id {
            if let Err(why) = check_client_id(id) {
                r.invalid(format!("{at}/client_id"), why);
            } else if !client_ids.insert(id) {
                r.add(
                    format!("{at}/client_id"),
                    ErrorName::Conflict,
                    format!("the client_id {id} appears twice"),
                );
            }
        } else if !names.insert(app.name.as_str()) {
            r.add(
                format!("{at}/name"),
                ErrorName::Conflict,
                "two apps without client_id share this name; give each a client_id",
            );
        }
        if app.name.trim().is_empty() || app.name.len() > 256 {
            r.invalid(format!("{at}/name"), "must be 1 to 256 characters");
        }
        if app.personal_accounts && !app.multi_tenant {
            r.invalid(
                format!("{at}/personal_accounts"),
                "only a multi-tenant app is open to personal accounts",
            );
        }
        for (platform, list, key) in [
            (Platform::Web, &app.redirect_uris.web, "web"),
            (Platform::Spa, &app.redirect_uris.spa, "spa"),
            (Platform::Native, &app.redirect_uris.native, "native"),
        ] {
            for (u, uri) in list.iter().enumerate() {
                if let Err(why) = redirect::check(platform, uri) {
                    r.invalid(format!("{at}/redirect_uris/{key}/{u}"), why);
                }
            }
        }
        for (u, uri) in app.post_logout_redirect_uris.iter().enumerate() {
            if let Err(why) = redirect::check(Platform::Native, uri) {
                r.invalid(format!("{at}/post_logout_redirect_uris/{u}"), why);
            }
        }
        for (key, uri) in [
            ("backchannel_logout_uri", &app.backchannel_logout_uri),
            ("frontchannel_logout_uri", &app.frontchannel_logout_uri),
        ] {
            // The web platform's rules: https, or http to a loopback host.
            if let Some(Err(why)) = uri.as_deref().map(|u| redirect::check(Platform::Web, u)) {
                r.invalid(format!("{at}/{key}"), why);
            }
        }
        for (g, grant) in app.grant_types.iter().enumerate() {
            if GrantType::parse(grant).is_none() {
                let known: Vec<_> = GrantType::ALL.iter().map(|g| g.as_str()).collect();
                r.invalid(
                    format!("{at}/grant_types/{g}"),
                    format!("unknown grant type '{grant}'; known: {}", known.join(", ")),
                );
            }
        }
        for (s, secret) in app.secrets.iter().flatten().enumerate() {
            if secret.value.chars().count() < MIN_SUPPLIED_SECRET_LEN {
                r.invalid(
                    format!("{at}/secrets/{s}/value"),
                    format!("must be at least {MIN_SUPPLIED_SECRET_LEN} characters"),
                );
            }
            if let Some(exp) = &secret.expires_at
                && time::OffsetDateTime::parse(exp, &time::format_description::well_known::Rfc3339)
                    .is_err()
            {
                r.invalid(
                    format!("{at}/secrets/{s}/expires_at"),
                    "must be an RFC 3339 time such as 2027-01-31T00:00:00Z",
                );
            }
        }
        if let Some(jwks) = &app.jwks {
            for (field, why) in check_jwks(jwks) {
                r.invalid(format!("{at}/jwks{field}"), why);
            }
        }
        for (p, perm) in app.permissions.iter().enumerate() {
            let Some((scopes, roles)) = apis.get(perm.api.as_str()) else {
                r.add(
                    format!("{at}/permissions/{p}/api"),
                    ErrorName::InvalidResource,
                    format!(
                        "no API with the identifier {} is declared in this tenant",
                        perm.api
                    ),
                );
                continue;
            };
            for (s, scope) in perm.scopes.iter().enumerate() {
                if !scopes.contains(scope.as_str()) {
                    r.add(
                        format!("{at}/permissions/{p}/scopes/{s}"),
                        ErrorName::InvalidScope,
                        format!("the API {} has no scope {scope}", perm.api),
                    );
                }
            }
            for (s, role) in perm.app_roles.iter().enumerate() {
                if !roles.contains(role.as_str()) && !is_scoped_management_role(&perm.api, role) {
                    r.invalid(
                        format!("{at}/permissions/{p}/app_roles/{s}"),
                        format!("the API {} has no app role {role}", perm.api),
                    );
                }
            }
        }
    }

    // App roles held by users and groups must be roles their API defines.
    let role_lists = t
        .users
        .iter()
        .enumerate()
        .map(|(i, u)| (format!("{base}/users/{i}/app_roles"), &u.app_roles))
        .chain(
            t.groups
                .iter()
                .enumerate()
                .map(|(i, g)| (format!("{base}/groups/{i}/app_roles"), &g.app_roles)),
        );
    for (at, roles) in role_lists {
        for (j, ra) in roles.iter().enumerate() {
            match apis.get(ra.api.as_str()) {
                None => r.add(
                    format!("{at}/{j}/api"),
                    ErrorName::InvalidResource,
                    format!(
                        "no API with the identifier {} is declared in this tenant",
                        ra.api
                    ),
                ),
                Some((_, defined)) if !defined.contains(ra.role.as_str()) => {
                    r.invalid(
                        format!("{at}/{j}/role"),
                        format!("the API {} has no app role {}", ra.api, ra.role),
                    );
                }
                Some(_) => {}
            }
        }
    }

    let groups: HashSet<&str> = t
        .groups
        .iter()
        .map(|g| g.name.as_str())
        .chain(
            t.users
                .iter()
                .flat_map(|u| u.groups.iter().map(String::as_str)),
        )
        .collect();
    for (i, a) in t.assignments.iter().enumerate() {
        let at = format!("{base}/assignments/{i}");
        match (&a.user, &a.group) {
            (Some(user), None) if !users.contains(&user.to_lowercase()) => r.add(
                format!("{at}/user"),
                ErrorName::NotFound,
                format!("no user {user} is declared in this tenant"),
            ),
            (None, Some(group)) if !groups.contains(group.as_str()) => r.add(
                format!("{at}/group"),
                ErrorName::NotFound,
                format!("no group {group} is declared in this tenant"),
            ),
            (Some(_), None) | (None, Some(_)) => {}
            _ => r.invalid(at.clone(), "give either user or group"),
        }
        let app_known = t.apps.iter().any(|app| {
            app.client_id.as_deref() == Some(a.app.as_str())
                || (app.client_id.is_none() && app.name == a.app)
        });
        if !app_known {
            r.add(
                format!("{at}/app"),
                ErrorName::NotFound,
                format!("no app with client_id {} is declared in this tenant", a.app),
            );
        }
    }
}

/// JWK Set rules for certificate credentials: RSA of at least 2048 bits, EC P-256, or
/// Ed25519 (RFC 7517, RFC 7518 §6, RFC 8037); every key has a unique `kid`; no private
/// parts.
fn check_jwks(jwks: &serde_json::Value) -> Vec<(String, String)> {
    use base64::Engine;
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let mut out = Vec::new();
    let Some(keys) = jwks.get("keys").and_then(|k| k.as_array()) else {
        return vec![(
            String::new(),
            "must be a JWK Set: an object with a keys array".into(),
        )];
    };
    let mut kids = HashSet::new();
    for (i, key) in keys.iter().enumerate() {
        let field = |name: &str| key.get(name).and_then(|v| v.as_str());
        match field("kid") {
            Some(kid) if !kid.is_empty() => {
                if !kids.insert(kid.to_owned()) {
                    out.push((
                        format!("/keys/{i}/kid"),
                        format!("the kid {kid} appears twice"),
                    ));
                }
            }
            _ => out.push((format!("/keys/{i}/kid"), "every key needs a kid".into())),
        }
        if ["d", "p", "q", "dp", "dq", "qi"]
            .iter()
            .any(|k| key.get(k).is_some())
        {
            out.push((
                format!("/keys/{i}"),
                "holds private key material; register the public key only".into(),
            ));
        }
        let len = |name: &str| {
            field(name)
                .and_then(|v| b64.decode(v).ok())
                .map(|b| b.len())
        };
        let ok = match (field("kty"), field("crv")) {
            (Some("RSA"), _) => len("n").is_some_and(|n| n >= 256) && len("e").is_some(),
            (Some("EC"), Some("P-256")) => len("x") == Some(32) && len("y") == Some(32),
            (Some("OKP"), Some("Ed25519")) => len("x") == Some(32),
            _ => false,
        };
        if !ok {
            out.push((
                format!("/keys/{i}"),
                "must be an RSA key of at least 2048 bits, an EC P-256 key or an Ed25519 key"
                    .into(),
            ));
        }
    }
    out
}

fn is_cidr(s: &str) -> bool {
    crate::network::parse_range(s).is_some()
}

fn is_email(s: &str) -> bool {
    let Some((local, domain)) = s.rsplit_once('@') else {
        return false;
    };
    !local.is_empty()
        && domain.contains('.')
        && !s.chars().any(|c| c.is_whitespace() || c.is_control())
        && s.len() <= 254
}

/// A management API role limited to one tenant: `{role}:{tenant slug}`.
fn is_scoped_management_role(api: &str, role: &str) -> bool {
    api == crate::directory::model::MANAGEMENT_API
        && role.split_once(':').is_some_and(|(base, slug)| {
            crate::directory::model::MANAGEMENT_ROLES.contains(&base)
                && crate::tenant::TenantSlug::parse_path(slug).is_ok()
        })
}

/// A TOTP secret the sign-in step can use: base32 that decodes (`totp::secret_bytes`),
/// of at least 16 characters (80 bits).
fn is_base32(s: &str) -> bool {
    super::totp::secret_bytes(s).is_some_and(|key| key.len() >= 10)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::directory::file::{Format, parse};

    fn errors(json: &str) -> Vec<(String, String)> {
        check(&parse(json, Format::Json).unwrap())
            .into_iter()
            .map(|e| (e.field, e.code))
            .collect()
    }

    #[test]
    fn the_management_api_is_built_in_and_reserved() {
        let ok = r#"{"tenants":[{"slug":"contoso","apps":[{"client_id":"ops","name":"Ops","grant_types":["client_credentials"],
            "secrets":[{"value":"0123456789abcdef0123456789abcdef"}],
            "permissions":[{"api":"api://tessera-management","app_roles":["Directory.Read"]}]}]}]}"#;
        assert_eq!(errors(ok), vec![]);
        let bad = r#"{"tenants":[{"slug":"contoso","apis":[{"identifier":"api://tessera-management","name":"Mine"}],
            "apps":[{"client_id":"ops","name":"Ops","permissions":[{"api":"api://tessera-management","app_roles":["Root"]}]}]}]}"#;
        let fields: Vec<String> = errors(bad).into_iter().map(|(f, _)| f).collect();
        assert_eq!(
            fields,
            [
                "/tenants/0/apis/0/identifier",
                "/tenants/0/apps/0/permissions/0/app_roles/0"
            ]
        );
    }

    #[test]
    fn a_valid_file_has_no_errors() {
        let ok = r#"{"tenants":[{"slug":"contoso","users":[{"username":"alice","password":"longenough","groups":["staff"]}],
            "apis":[{"identifier":"api://contoso","name":"API","scopes":["read"],"app_roles":["Reader"]}],
            "apps":[{"client_id":"web","name":"Web","redirect_uris":{"web":["https://a.test/cb"]},
                     "secrets":[{"value":"0123456789abcdef0123456789abcdef","expires_at":"2030-01-01T00:00:00Z"}],
                     "grant_types":["authorization_code","client_credentials"],
                     "permissions":[{"api":"api://contoso","scopes":["read"],"app_roles":["Reader"]}]}],
            "assignments":[{"user":"ALICE","app":"web"},{"group":"staff","app":"web"}]}]}"#;
        assert_eq!(errors(ok), vec![]);
    }

    #[test]
    fn an_assignment_names_a_known_user_or_group_not_both() {
        let file = r#"{"tenants":[{"slug":"contoso","users":[{"username":"alice","groups":["staff"]}],
            "apps":[{"client_id":"web","name":"Web","redirect_uris":{"web":["https://a.test/cb"]}}],
            "assignments":[{"group":"nobody","app":"web"},{"user":"alice","group":"staff","app":"web"},
                           {"app":"web"}]}]}"#;
        let fields: Vec<String> = errors(file).into_iter().map(|(f, _)| f).collect();
        assert_eq!(
            fields,
            [
                "/tenants/0/assignments/0/group",
                "/tenants/0/assignments/1",
                "/tenants/0/assignments/2"
            ]
        );
    }

    #[test]
    fn every_problem_is_reported_with_its_path() {
        let bad = r#"{"tenants":[{"slug":"Common!","policy":{"code_lifetime_seconds":0,"blocked_ip_ranges":["10.0.0.0/33"]},
            "users":[{"username":"bob","password":"short"},{"username":"BOB","email":"nope"}],
            "apis":[{"identifier":"not a uri","name":"API","scopes":["a b"]}],
            "apps":[{"client_id":"web","name":"Web","redirect_uris":{"web":["http://evil.test/cb"]},
                     "secrets":[{"value":"short"}],"grant_types":["password"],
                     "permissions":[{"api":"api://nope","scopes":["x"]}]},
                    {"name":"Pub","grant_types":["client_credentials"]}, {"name":"Pub"}],
            "assignments":[{"user":"carol","app":"web"}]}]}"#;
        let got = errors(bad);
        let fields: Vec<&str> = got.iter().map(|(f, _)| f.as_str()).collect();
        for expected in [
            "/tenants/0/slug",
            "/tenants/0/policy/code_lifetime_seconds",
            "/tenants/0/policy/blocked_ip_ranges/0",
            "/tenants/0/users/0/password",
            "/tenants/0/users/1/username",
            "/tenants/0/users/1/email",
            "/tenants/0/apis/0/identifier",
            "/tenants/0/apis/0/scopes/0",
            "/tenants/0/apps/0/redirect_uris/web/0",
            "/tenants/0/apps/0/secrets/0/value",
            "/tenants/0/apps/0/grant_types/0",
            "/tenants/0/apps/0/permissions/0/api",
            "/tenants/0/apps/2/name",
            "/tenants/0/assignments/0/user",
        ] {
            assert!(
                fields.contains(&expected),
                "{expected} missing from {got:?}"
            );
        }
        let code = |f: &str| {
            got.iter()
                .find(|(x, _)| x == f)
                .map(|(_, c)| c.clone())
                .unwrap()
        };
        assert_eq!(
            code("/tenants/0/users/0/password"),
            ErrorName::PasswordPolicyViolation.entry().code_str()
        );
        assert_eq!(
            code("/tenants/0/users/1/username"),
            ErrorName::Conflict.entry().code_str()
        );
    }

    #[test]
    fn jwks_rules() {
        let ed = serde_json::json!({"keys":[{"kty":"OKP","crv":"Ed25519","kid":"k1","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}]});
        assert!(check_jwks(&ed).is_empty());
        let private = serde_json::json!({"keys":[{"kty":"OKP","crv":"Ed25519","kid":"k1","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo","d":"x"}]});
        assert_eq!(check_jwks(&private).len(), 1);
        let small_rsa = serde_json::json!({"keys":[{"kty":"RSA","kid":"r","n":"AQAB","e":"AQAB"}]});
        assert_eq!(check_jwks(&small_rsa).len(), 1);
        assert_eq!(check_jwks(&serde_json::json!([])).len(), 1);
    }
}
