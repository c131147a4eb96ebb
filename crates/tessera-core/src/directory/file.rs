//! The tenant file (`tessera import` / `tessera export`), part of Tessera's documented
//! interface (docs/configuration.md): JSON or TOML, unknown fields refused by name,
//! sensible defaults.

use super::model::{Api, Implicit, Permission, RedirectUris, RoleAssignment};
use crate::tenant::TenantKind;
use crate::tenant::TenantPolicy;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TenantFile {
    /// The tenants the file declares; each is created, or updated to match.
    pub tenants: Vec<TenantDoc>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TenantDoc {
    /// The tenant's name in every URL (`/{slug}/oauth2/…`): lowercase letters, digits and
    /// hyphens.
    pub slug: String,
    /// Shown on the sign-in pages; the slug when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    /// `work` (an organization's directory) or `consumers` (personal accounts).
    #[serde(default)]
    pub kind: TenantKind,
    /// Lifetimes and sign-in rules; members left out take their defaults.
    #[serde(default)]
    pub policy: TenantPolicy,
    /// Groups of users; a group's app roles are its members'.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub groups: Vec<GroupDoc>,
    /// The tenant's users.
    #[serde(default)]
    pub users: Vec<UserDoc>,
    /// APIs (resources) apps may get tokens for.
    #[serde(default)]
    pub apis: Vec<ApiDoc>,
    /// App registrations: the clients that sign users in or get tokens.
    #[serde(default)]
    pub apps: Vec<AppDoc>,
    /// Users and groups assigned to apps that require assignment (`assignment_required`).
    #[serde(default)]
    pub assignments: Vec<AssignmentDoc>,
}

impl TenantDoc {
    /// A document naming only the tenant, to check single objects against.
    pub fn empty(slug: &str) -> Self {
        Self {
            slug: slug.to_owned(),
            display_name: None,
            kind: TenantKind::default(),
            policy: TenantPolicy::default(),
            groups: Vec::new(),
            users: Vec::new(),
            apis: Vec::new(),
            apps: Vec::new(),
            assignments: Vec::new(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct GroupDoc {
    /// Unique in the tenant; users name it in their `groups`.
    pub name: String,
    /// App roles every member holds.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub app_roles: Vec<RoleAssignment>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct UserDoc {
    /// The sign-in name (an email-like name or a plain one), unique in the tenant
    /// whatever its case.
    pub username: String,
    /// Set (or changed) on import; never exported.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password: Option<String>,
    /// Shown in ID tokens with the `email` scope (`email_verified` is false: Tessera
    /// does not verify addresses).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// The display name, in ID tokens with the `profile` scope.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// `false`: the user cannot sign in, and a file that disables a user ends their
    /// sessions and tokens.
    #[serde(default = "yes")]
    pub enabled: bool,
    /// Base32 (RFC 4648) TOTP secret; stored sealed, never exported.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub totp_secret: Option<String>,
    /// The names of the groups the user belongs to.
    #[serde(default)]
    pub groups: Vec<String>,
    /// App roles granted to the user directly.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub app_roles: Vec<RoleAssignment>,
}

fn yes() -> bool {
    true
}

/// A delegated scope: a bare name, or a table with its consent text and flag.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum ScopeDoc {
    Name(String),
    Full(ScopeDetail),
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ScopeDetail {
    /// The scope's name; requested as `{api identifier}/{name}`.
    pub name: String,
    /// What the consent page says the app may do; `Use the {name} permission`
    /// when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Only an administrator may consent (the app needs `admin_consented`).
    #[serde(default)]
    pub admin_consent_required: bool,
}

impl ScopeDoc {
    pub fn name(&self) -> &str {
        match self {
            ScopeDoc::Name(n) => n,
            ScopeDoc::Full(d) => &d.name,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ApiDoc {
    /// The API's URI (`api://orders`, `https://api.contoso.test`): the `aud` of its
    /// access tokens and the prefix of its scopes.
    pub identifier: String,
    /// Shown on consent pages.
    pub name: String,
    /// Delegated permissions, which users consent to: names, or tables with a
    /// description.
    #[serde(default)]
    pub scopes: Vec<ScopeDoc>,
    /// Roles apps and users can be granted on the API, in tokens' `roles`.
    #[serde(default)]
    pub app_roles: Vec<String>,
    /// The client_id of the app that serves this API and may exchange its tokens
    /// on behalf of their users (token exchange); absent: no app may.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
    /// `RS256` (the default), `ES256` or `EdDSA`: the signature of its access tokens.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub access_token_signing_alg: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SecretDoc {
    /// At least 32 characters (e.g. from a secret manager). Never exported.
    pub value: String,
    /// RFC 3339, or absent for no expiry.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AppDoc {
    /// Generated when absent (an existing app with the same name keeps its own).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
    /// Shown on sign-in and consent pages.
    pub name: String,
    /// Whether users of other tenants may sign in to it: through `/common`,
    /// `/organizations` and `/consumers`, or at their own tenant's endpoints, once an
    /// administrator there has consented. Its client_id must be unique across tenants.
    #[serde(default)]
    pub multi_tenant: bool,
    /// Whether users of personal-account tenants (`kind: consumers`) may sign in to it
    /// (the `/consumers` endpoint). Only for a multi-tenant app.
    #[serde(default)]
    pub personal_accounts: bool,
    /// Only users named in `assignments` may sign in to it.
    #[serde(default)]
    pub assignment_required: bool,
    /// Users must present a second factor to sign in to it (enrolling an authenticator
    /// app if they have none).
    #[serde(default)]
    pub mfa_required: bool,
    /// Where codes are sent, by platform: `web` (confidential server apps),
    /// `spa` (browser apps: codes redeemed from the browser, short-lived refresh
    /// tokens), `native` (loopback URIs accept any port, RFC 8252). Compared as strings.
    #[serde(default)]
    pub redirect_uris: RedirectUrisDoc,
    /// Where users may be sent after signing out.
    #[serde(default)]
    pub post_logout_redirect_uris: Vec<String>,
    /// Where Tessera POSTs a signed logout token when a session the app took part in
    /// ends (OIDC Back-Channel Logout): https, or http to a loopback address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backchannel_logout_uri: Option<String>,
    /// Loaded in a hidden frame of the signed-out page, with `iss` and `sid` (OIDC
    /// Front-Channel Logout): https, or http to a loopback address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub frontchannel_logout_uri: Option<String>,
    /// The device platforms its users may sign in from, as their browser's user agent
    /// names them (`android`, `ios`, `windows`, `macos`, `chromeos`, `linux`, `other`);
    /// left out: every platform.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub allowed_platforms: Vec<crate::platform::Platform>,
    /// Omitted: a public client, or one that authenticates with `jwks` keys.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secrets: Option<Vec<SecretDoc>>,
    /// A JWK Set of public keys for `private_key_jwt` client authentication.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jwks: Option<serde_json::Value>,
    /// `authorization_code`, `refresh_token`, `client_credentials`,
    /// `urn:ietf:params:oauth:grant-type:device_code`,
    /// `urn:ietf:params:oauth:grant-type:token-exchange`.
    #[serde(default = "default_grant_types")]
    pub grant_types: Vec<String>,
    /// Tokens the authorization endpoint may return directly (implicit flow).
    #[serde(default)]
    pub implicit: Implicit,
    /// The API scopes and app roles it may ask for.
    #[serde(default)]
    pub permissions: Vec<Permission>,
    /// An administrator consented for every user: they are not asked.
    #[serde(default)]
    pub admin_consented: bool,
    /// `RS256` (the default), `ES256` or `EdDSA`: the signature of its ID tokens.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id_token_signed_response_alg: Option<String>,
    /// `false`: the app gets no sign-in and no token (AppDisabled), and what it was
    /// issued before stays void when it is enabled again.
    #[serde(default = "yes")]
    pub enabled: bool,
}

fn default_grant_types() -> Vec<String> {
    vec!["authorization_code".to_owned(), "refresh_token".to_owned()]
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RedirectUrisDoc {
    /// Redirect URIs of a confidential web app.
    #[serde(default)]
    pub web: Vec<String>,
    /// Redirect URIs of a single-page app (its origins may call the token endpoint).
    #[serde(default)]
    pub spa: Vec<String>,
    /// Redirect URIs of a native app (loopback or a private-use scheme).
    #[serde(default)]
    pub native: Vec<String>,
}

impl From<&RedirectUrisDoc> for RedirectUris {
    fn from(d: &RedirectUrisDoc) -> Self {
        Self {
            web: d.web.clone(),
            spa: d.spa.clone(),
            native: d.native.clone(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AssignmentDoc {
    /// The username: the user is assigned (give `user` or `group`, not both).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    /// A group's name: every member is assigned.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group: Option<String>,
    /// The app's client_id (or its name, for an app declared without one).
    pub app: String,
}

impl From<&Api> for ApiDoc {
    fn from(a: &Api) -> Self {
        Self {
            identifier: a.identifier.clone(),
            name: a.name.clone(),
            scopes: a
                .scopes
                .iter()
                .map(|s| {
                    ScopeDoc::Full(ScopeDetail {
                        name: s.name.clone(),
                        description: Some(s.description.clone()),
                        admin_consent_required: s.admin_consent_required,
                    })
                })
                .collect(),
            app_roles: a.app_roles.clone(),
            client_id: a.client_id.as_ref().map(ToString::to_string),
            access_token_signing_alg: a
                .access_token_signing_alg
                .map(|alg| alg.as_str().to_owned()),
        }
    }
}

/// The format of a tenant file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Json,
    Toml,
}

impl Format {
    /// By file extension (`.toml`), else JSON.
    pub fn of_path(path: &str) -> Self {
        if path.to_ascii_lowercase().ends_with(".toml") {
            Format::Toml
        } else {
            Format::Json
        }
    }
}

/// Parses a tenant file; the error names the field path and the problem in one line.
pub fn parse(text: &str, format: Format) -> Result<TenantFile, String> {
    match format {
        Format::Json => {
            let de = &mut serde_json::Deserializer::from_str(text);
            serde_path_to_error::deserialize(de).map_err(|e| {
                let inner = e.inner();
                format!(
                    "{} (line {}, column {}): {}",
                    path_of(e.path()),
                    inner.line(),
                    inner.column(),
                    strip_position(&inner.to_string())
                )
            })
        }
        Format::Toml => {
            let de = toml::Deserializer::parse(text).map_err(|e| one_line(&e.to_string()))?;
            serde_path_to_error::deserialize(de)
                .map_err(|e| format!("{}: {}", path_of(e.path()), one_line(e.inner().message())))
        }
    }
}

/// Serializes a tenant file.
pub fn render(file: &TenantFile, format: Format) -> String {
    match format {
        Format::Json => serde_json::to_string_pretty(file).unwrap_or_default() + "\n",
        Format::Toml => toml::to_string_pretty(file).unwrap_or_default(),
    }
}

/// `tenants[0].apps[1].foo` → `/tenants/0/apps/1/foo` (a JSON pointer, as the admin API's
/// field errors use).
fn path_of(path: &serde_path_to_error::Path) -> String {
    let mut out = String::new();
    for seg in path.iter() {
        match seg {
            serde_path_to_error::Segment::Seq { index } => out.push_str(&format!("/{index}")),
            serde_path_to_error::Segment::Map { key } => out.push_str(&format!("/{key}")),
            serde_path_to_error::Segment::Enum { variant } => out.push_str(&format!("/{variant}")),
            serde_path_to_error::Segment::Unknown => out.push_str("/?"),
        }
    }
    if out.is_empty() { "/".to_owned() } else { out }
}

fn strip_position(msg: &str) -> String {
    msg.rsplit_once(" at line ")
        .map_or(msg, |(m, _)| m)
        .to_owned()
}

fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = r#"{ "tenants": [ {
        "slug": "contoso", "display_name": "Contoso", "kind": "work",
        "policy": { "lockout_threshold": 5, "lockout_seconds": 60, "mfa_max_age_seconds": 3600,
                    "code_lifetime_seconds": 60, "blocked_ip_ranges": [] },
        "users": [ { "username": "alice", "password": "correct horse battery", "email": "alice@contoso.test",
                     "name": "Alice Example", "enabled": true, "totp_secret": null, "groups": ["staff"] } ],
        "apis": [ { "identifier": "https://api.contoso.test", "name": "Contoso API",
                    "scopes": ["read", "write"], "app_roles": ["Reader", "Writer"] } ],
        "apps": [ { "client_id": "contoso-web", "name": "Contoso Web", "multi_tenant": false,
            "assignment_required": false,
            "redirect_uris": { "web": ["https://app.contoso.test/cb"], "spa": [], "native": [] },
            "post_logout_redirect_uris": [],
            "secrets": [ { "value": "0123456789abcdef0123456789abcdef", "expires_at": null } ],
            "jwks": null,
            "grant_types": ["authorization_code", "refresh_token", "client_credentials",
                            "urn:ietf:params:oauth:grant-type:device_code"],
            "implicit": { "id_token": false, "access_token": false },
            "permissions": [ { "api": "https://api.contoso.test", "scopes": ["read"], "app_roles": ["Reader"] } ],
            "admin_consented": true } ],
        "assignments": [ { "user": "alice", "app": "contoso-web" } ]
    } ] }"#;

    #[test]
    fn the_interfaces_example_parses() {
        let f = parse(SAMPLE, Format::Json).unwrap();
        assert_eq!(f.tenants[0].slug, "contoso");
        assert_eq!(f.tenants[0].apps[0].grant_types.len(), 4);
        assert_eq!(f.tenants[0].apis[0].scopes[1].name(), "write");
    }

    #[test]
    fn unknown_fields_are_named_with_their_path() {
        let bad = SAMPLE.replace(
            "\"admin_consented\": true",
            "\"admin_consented\": true, \"colour\": 1",
        );
        let err = parse(&bad, Format::Json).unwrap_err();
        assert!(err.starts_with("/tenants/0/apps/0/colour"), "{err}");
        assert!(err.contains("unknown field `colour`"), "{err}");
    }

    #[test]
    fn toml_mirrors_json() {
        let f = parse(SAMPLE, Format::Json).unwrap();
        let toml_text = render(&f, Format::Toml);
        assert_eq!(parse(&toml_text, Format::Toml).unwrap(), f);
        let err = parse("[[tenants]]\nslug = \"x\"\nwat = 1\n", Format::Toml).unwrap_err();
        assert!(err.starts_with("/tenants/0/wat"), "{err}");
    }
}
