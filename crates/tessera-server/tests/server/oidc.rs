//! Shared fixture and helpers for the sign-in flow tests: a tenant with users, an API
//! and apps of each kind, and a cookie-aware HTTP client that fills in the pages.

use super::support::Served;
use reqwest::redirect::Policy;
use serde_json::json;

pub const TENANT: &str = "fabrikam";
pub const PASSWORD: &str = "correct horse battery staple";
pub const WEB_SECRET: &str = "web-app-secret-0123456789abcdefghijklmnop";
pub const WEB_CB: &str = "https://web.fabrikam.test/cb";
pub const SPA_CB: &str = "http://localhost:3000/cb";
pub const NATIVE_CB: &str = "http://127.0.0.1/callback";
pub const API: &str = "api://orders";

pub fn tenant_file() -> serde_json::Value {
    json!({ "tenants": [{
        "slug": TENANT, "display_name": "Fabrikam",
        "users": [
            { "username": "alice", "password": PASSWORD, "email": "alice@fabrikam.test", "name": "Alice Example" },
            { "username": "bob", "password": PASSWORD },
            { "username": "dave", "password": PASSWORD, "enabled": false }
        ],
        "apis": [ { "identifier": API, "name": "Orders",
                    "scopes": [ { "name": "read", "description": "Read your orders" },
                                { "name": "admin", "description": "Manage every order", "admin_consent_required": true } ] } ],
        "apps": [
            { "client_id": "web-app", "name": "Fabrikam Web",
              "redirect_uris": { "web": [WEB_CB] },
              "secrets": [ { "value": WEB_SECRET } ],
              "grant_types": ["authorization_code", "refresh_token"],
              "permissions": [ { "api": API, "scopes": ["read", "admin"] } ] },
            { "client_id": "rs-app", "name": "RS256 App", "token_signing_alg": "RS256",
              "redirect_uris": { "web": [WEB_CB] },
              "secrets": [ { "value": WEB_SECRET } ], "admin_consented": true },
            { "client_id": "es-app", "name": "ES256 App", "token_signing_alg": "ES256",
              "redirect_uris": { "web": [WEB_CB] },
              "secrets": [ { "value": WEB_SECRET } ], "admin_consented": true },
            { "client_id": "spa-app", "name": "Fabrikam SPA", "redirect_uris": { "spa": [SPA_CB] } },
            { "client_id": "native-app", "name": "Fabrikam Desktop", "redirect_uris": { "native": [NATIVE_CB] } },
            { "client_id": "assigned-app", "name": "Payroll", "assignment_required": true,
              "redirect_uris": { "web": [WEB_CB] }, "secrets": [ { "value": WEB_SECRET } ], "admin_consented": true },
            { "client_id": "no-code-app", "name": "Daemon", "grant_types": ["client_credentials"],
              "secrets": [ { "value": WEB_SECRET } ] }
        ],
        "assignments": [ { "user": "bob", "app": "assigned-app" } ]
    }]})
}

/// A server with the fixture tenant imported.
pub async fn server(pg: Option<tessera_store::testing::TestDatabase>) -> Served {
    let served = Served::start(pg).await;
    served.app.import(tenant_file()).await;
    served
}

/// A browser stand-in: keeps cookies, never follows redirects (tests read them).
pub fn browser() -> reqwest::Client {
    reqwest::Client::builder()
        .cookie_store(true)
        .redirect(Policy::none())
        .build()
        .unwrap()
}

/// The HTTP client openidconnect-rs uses (no redirects, as its docs require).
pub fn rp_http() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(Policy::none())
        .build()
        .unwrap()
}

/// The value of the hidden input `name` in a page, unescaped.
pub fn hidden(html: &str, name: &str) -> String {
    let marker = format!("name=\"{name}\" value=\"");
    let start = html
        .find(&marker)
        .unwrap_or_else(|| panic!("no field {name} in {html}"))
        + marker.len();
    let end = start + html[start..].find('"').unwrap();
    unescape(&html[start..end])
}

fn unescape(s: &str) -> String {
    s.replace("&amp;", "&")
        .replace("&quot;", "\"")
        .replace("&#x27;", "'")
        .replace("&#x2f;", "/")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
}

/// The query parameters of a redirect's `Location`.
pub fn location_params(response: &reqwest::Response) -> (String, Vec<(String, String)>) {
    let location = response
        .headers()
        .get("location")
        .unwrap_or_else(|| panic!("no Location: {}", response.status()))
        .to_str()
        .unwrap()
        .to_owned();
    let url = url::Url::parse(&location).unwrap();
    let params = url
        .query_pairs()
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    let mut bare = url.clone();
    bare.set_query(None);
    (bare.to_string(), params)
}

pub fn param<'a>(params: &'a [(String, String)], name: &str) -> Option<&'a str> {
    params
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

/// Posts a page's form (CSRF token and request carried over) with `extra` fields.
pub async fn submit(
    browser: &reqwest::Client,
    base: &str,
    page: &str,
    action: &str,
    extra: &[(&str, &str)],
) -> reqwest::Response {
    let mut form = vec![
        ("csrf_token".to_owned(), hidden(page, "csrf_token")),
        ("request".to_owned(), hidden(page, "request")),
    ];
    form.extend(
        extra
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned())),
    );
    browser
        .post(format!("{base}{action}"))
        .form(&form)
        .send()
        .await
        .unwrap()
}

/// Signs in on the page `page` (the sign-in form) as `user`.
pub async fn sign_in(
    browser: &reqwest::Client,
    base: &str,
    page: &str,
    user: &str,
    password: &str,
) -> reqwest::Response {
    submit(
        browser,
        base,
        page,
        &format!("/{TENANT}/signin/password"),
        &[("username", user), ("password", password)],
    )
    .await
}

/// Allows (or denies) on the consent page `page`.
pub async fn consent(
    browser: &reqwest::Client,
    base: &str,
    page: &str,
    decision: &str,
) -> reqwest::Response {
    submit(
        browser,
        base,
        page,
        &format!("/{TENANT}/signin/consent"),
        &[("decision", decision)],
    )
    .await
}

/// The test clock's time for openidconnect-rs (it checks exp and iat against it).
pub fn now_of(app: &super::support::TestApp) -> chrono::DateTime<chrono::Utc> {
    let now = tessera_core::clock::Clock::now(app.clock.as_ref());
    chrono::DateTime::from_timestamp(now.unix_timestamp(), 0).unwrap()
}
