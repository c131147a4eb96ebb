//! Shared fixture and helpers for the sign-in flow tests: a tenant with users, an API
//! and apps of each kind, and a cookie-aware HTTP client that fills in the pages.

use super::support::{Listening, Served};
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
            { "client_id": "ed-app", "name": "EdDSA App", "id_token_signed_response_alg": "EdDSA",
              "redirect_uris": { "web": [WEB_CB] },
              "secrets": [ { "value": WEB_SECRET } ], "admin_consented": true },
            { "client_id": "es-app", "name": "ES256 App", "id_token_signed_response_alg": "ES256",
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
    super::support::http_client()
        .cookie_store(true)
        .redirect(Policy::none())
        .build()
        .unwrap()
}

/// The HTTP client openidconnect-rs uses (no redirects, as its docs require).
pub fn rp_http() -> reqwest::Client {
    super::support::http_client()
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
    // The consent page names the account it asks for, as a browser would send it back.
    if page.contains("name=\"account\" value=\"") {
        form.push(("account".to_owned(), hidden(page, "account")));
    }
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

// ---- Helpers for the error-path tests (authorize_errors, token_errors, userinfo_errors) ----

use tessera_core::errors::{CatalogError, ErrorName};

/// The issuer of the fixture tenant.
pub fn issuer(served: &Served) -> String {
    format!("{}/{TENANT}", served.base)
}

/// A PKCE pair `(verifier, S256 challenge)` derived from `seed` (RFC 7636 §4.1, §4.2).
pub fn pkce(seed: &str) -> (String, String) {
    use base64::Engine;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use sha2::Digest;
    let verifier = URL_SAFE_NO_PAD.encode(sha2::Sha256::digest(seed.as_bytes()));
    let challenge = URL_SAFE_NO_PAD.encode(sha2::Sha256::digest(verifier.as_bytes()));
    (verifier, challenge)
}

/// The fixture tenant's authorization endpoint with the query `params`, in order.
pub fn authorize_url(base: &str, params: &[(&str, &str)]) -> String {
    format!(
        "{base}/{TENANT}/oauth2/authorize?{}",
        serde_urlencoded::to_string(params).unwrap()
    )
}

/// `s` as minijinja's HTML escaping writes it in a page.
pub fn html_escaped(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#x27;")
        .replace('/', "&#x2f;")
}

/// The OAuth `error` value of a catalogue entry.
pub fn oauth_error(name: ErrorName) -> &'static str {
    tessera_core::errors::render::oauth_error(&CatalogError::new(name)).as_str()
}

/// Drives the pages for an authorization request until the client gets its answer:
/// signs in as `user` if asked, allows on the consent page if asked. Returns the final
/// redirect (302 or 303).
pub async fn authorize_through_pages(
    browser: &reqwest::Client,
    base: &str,
    params: &[(&str, &str)],
    user: &str,
) -> reqwest::Response {
    let mut response = browser
        .get(authorize_url(base, params))
        .send()
        .await
        .unwrap();
    let sign_in_action = format!(
        "action=\"{}\"",
        html_escaped(&format!("/{TENANT}/signin/password"))
    );
    let consent_action = format!(
        "action=\"{}\"",
        html_escaped(&format!("/{TENANT}/signin/consent"))
    );
    for _ in 0..3 {
        if response.status() != 200 {
            break;
        }
        let html = response.text().await.unwrap();
        response = if html.contains(&sign_in_action) {
            sign_in(browser, base, &html, user, PASSWORD).await
        } else if html.contains(&consent_action) {
            consent(browser, base, &html, "allow").await
        } else {
            panic!("neither sign-in nor consent page: {html}");
        };
    }
    assert!(
        [302, 303].contains(&response.status().as_u16()),
        "expected a redirect to the client, got {}",
        response.status()
    );
    response
}

/// A fresh authorization code for `client_id` at `redirect_uri`, for `user`, with an
/// optional S256 `challenge` and the given `scope`, obtained in a new browser.
pub async fn code_for(
    served: &impl Listening,
    client_id: &str,
    redirect_uri: &str,
    scope: &str,
    challenge: Option<&str>,
    user: &str,
) -> String {
    let mut params = vec![
        ("client_id", client_id),
        ("redirect_uri", redirect_uri),
        ("response_type", "code"),
        ("scope", scope),
        ("state", "st"),
    ];
    if let Some(c) = challenge {
        params.extend([("code_challenge", c), ("code_challenge_method", "S256")]);
    }
    let redirect = authorize_through_pages(&browser(), served.base(), &params, user).await;
    let (target, query) = location_params(&redirect);
    assert_eq!(target, redirect_uri);
    param(&query, "code")
        .unwrap_or_else(|| panic!("no code: {query:?}"))
        .to_owned()
}

/// A token request to the fixture tenant with the form `form`; add headers or
/// `.basic_auth(..)` before sending.
pub fn token_request(base: &str, form: &[(&str, &str)]) -> reqwest::RequestBuilder {
    rp_http()
        .post(format!("{base}/{TENANT}/oauth2/token"))
        .form(form)
}

/// Redeems a web-app code (client_secret_post) and returns the token response body.
pub async fn redeem_web_code(
    served: &impl Listening,
    code: &str,
    verifier: Option<&str>,
) -> serde_json::Value {
    let mut form = vec![
        ("grant_type", "authorization_code"),
        ("code", code),
        ("redirect_uri", WEB_CB),
        ("client_id", "web-app"),
        ("client_secret", WEB_SECRET),
    ];
    if let Some(v) = verifier {
        form.push(("code_verifier", v));
    }
    let r = token_request(served.base(), &form).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["cache-control"], "no-store");
    r.json().await.unwrap()
}

/// Tokens for alice through web-app with `scope` (consenting on the way).
pub async fn web_tokens(served: &impl Listening, scope: &str) -> serde_json::Value {
    let (verifier, challenge) = pkce("web-tokens");
    let code = code_for(served, "web-app", WEB_CB, scope, Some(&challenge), "alice").await;
    redeem_web_code(served, &code, Some(&verifier)).await
}

/// Checks an OAuth JSON error response: status and body from the catalogue entry,
/// `Cache-Control: no-store`. Returns the headers and the body.
pub async fn assert_json_error(
    response: reqwest::Response,
    name: ErrorName,
) -> (reqwest::header::HeaderMap, serde_json::Value) {
    let entry = name.entry();
    let expected = (oauth_error(name), entry.status);
    assert_oauth_error(response, name, expected).await
}

/// [`assert_json_error`] at the token or device authorization endpoint, where a refusal
/// whose `error` RFC 6749 §5.2 does not list is `invalid_grant` with status 400.
pub async fn assert_token_error(
    response: reqwest::Response,
    name: ErrorName,
) -> (reqwest::header::HeaderMap, serde_json::Value) {
    let (error, status) = tessera_core::errors::render::at_token_endpoint(&CatalogError::new(name));
    assert_oauth_error(response, name, (error.as_str(), status)).await
}

async fn assert_oauth_error(
    response: reqwest::Response,
    name: ErrorName,
    (error, expected_status): (&str, u16),
) -> (reqwest::header::HeaderMap, serde_json::Value) {
    let entry = name.entry();
    let status = response.status();
    let headers = response.headers().clone();
    let text = response.text().await.unwrap();
    assert_eq!(status.as_u16(), expected_status, "{text}");
    assert!(
        headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/json"),
        "{headers:?}"
    );
    assert_eq!(headers["cache-control"], "no-store");
    assert!(headers.get("location").is_none());
    let body: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(body["error_codes"][0], entry.code, "{body}");
    assert_eq!(body["error"], error, "{body}");
    assert!(
        body["error_description"]
            .as_str()
            .unwrap()
            .starts_with(&format!("{}: ", entry.code_str())),
        "{body}"
    );
    assert!(body["trace_id"].as_str().is_some_and(|t| !t.is_empty()));
    (headers, body)
}

/// Checks an HTML error page: the entry's status and code, never a `Location`.
/// Returns the page.
pub async fn assert_error_page(response: reqwest::Response, name: ErrorName) -> String {
    let entry = name.entry();
    let status = response.status();
    let headers = response.headers().clone();
    let html = response.text().await.unwrap();
    // A page offers no authentication scheme, so an entry's 401 is a 400 there
    // (RFC 9110 §15.5.2: a 401 must name one).
    let expected = if entry.status == 401 {
        400
    } else {
        entry.status
    };
    assert_eq!(status.as_u16(), expected, "{html}");
    assert!(
        headers.get("location").is_none(),
        "an error page never redirects"
    );
    assert!(
        headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html"),
        "{headers:?}"
    );
    assert_eq!(headers["cache-control"], "no-store");
    assert!(html.contains(&entry.code_str()), "{html}");
    // The page shows the trace id the response carries.
    let trace = headers["x-trace-id"].to_str().unwrap();
    assert!(html.contains(trace), "no trace id {trace} in {html}");
    html
}

/// Checks an error sent to the client's redirect URI in the query response mode:
/// `error`, `error_description` (starting with the code), `error_uri`, `state` and `iss`.
/// Returns the query parameters.
pub fn assert_redirected_error(
    response: &reqwest::Response,
    served: &Served,
    redirect_uri: &str,
    state: Option<&str>,
    name: ErrorName,
) -> Vec<(String, String)> {
    let entry = name.entry();
    assert!(
        [302, 303].contains(&response.status().as_u16()),
        "{}",
        response.status()
    );
    let (target, params) = location_params(response);
    assert_eq!(target, redirect_uri);
    assert_eq!(
        param(&params, "error"),
        Some(oauth_error(name)),
        "{params:?}"
    );
    assert!(
        param(&params, "error_description")
            .unwrap()
            .starts_with(&format!("{}: ", entry.code_str())),
        "{params:?}"
    );
    assert_eq!(
        param(&params, "error_uri"),
        Some(format!("{}/errors/{}", served.base, entry.code_str()).as_str())
    );
    assert_eq!(param(&params, "state"), state);
    assert_eq!(param(&params, "iss"), Some(issuer(served).as_str()));
    assert!(param(&params, "code").is_none());
    params
}

/// A secret of `expired-app`, expired long before T0.
pub const EXPIRED_SECRET: &str = "expired-app-secret-0123456789abcdefghijk";

/// Apps the error tests add to the fixture tenant (import is additive): one whose only
/// secret has expired, one with a redirect URI but only client_credentials, and one
/// with authorization_code but not refresh_token.
pub fn extra_apps_file() -> serde_json::Value {
    json!({ "tenants": [{
        "slug": TENANT, "display_name": "Fabrikam",
        "apps": [
            { "client_id": "expired-app", "name": "Expired",
              "redirect_uris": { "web": [WEB_CB] },
              "secrets": [ { "value": EXPIRED_SECRET, "expires_at": "2020-01-01T00:00:00Z" } ],
              "admin_consented": true },
            { "client_id": "daemon-web", "name": "Daemon With Redirect",
              "redirect_uris": { "web": [WEB_CB] },
              "grant_types": ["client_credentials"],
              "secrets": [ { "value": WEB_SECRET } ], "admin_consented": true },
            { "client_id": "code-only-app", "name": "Code Only",
              "redirect_uris": { "web": [WEB_CB] },
              "grant_types": ["authorization_code"],
              "secrets": [ { "value": WEB_SECRET } ], "admin_consented": true }
        ]
    }]})
}

/// The fixture server with [`extra_apps_file`] imported too.
pub async fn server_with_extra_apps() -> Served {
    let served = server(None).await;
    served.app.import(extra_apps_file()).await;
    served
}

/// Deletes `user` of the fixture tenant through the admin API.
pub async fn delete_user(served: &Served, user: &str) {
    let r = served
        .app
        .admin(
            "DELETE",
            &format!("/admin/api/v1/tenants/{TENANT}/users/{user}"),
            None,
        )
        .await;
    assert!(r.status.is_success(), "{} {}", r.status, r.body);
}

/// Revokes every session and refresh token of `user` through the admin API.
pub async fn revoke_all_sessions(served: &Served, user: &str) -> super::support::Reply {
    served
        .app
        .admin(
            "DELETE",
            &format!("/admin/api/v1/tenants/{TENANT}/users/{user}/sessions"),
            None,
        )
        .await
}

/// The fixture tenant, read from the store.
pub async fn fixture_tenant(served: &Served) -> tessera_core::tenant::Tenant {
    served
        .app
        .state
        .store
        .tenant(&tessera_core::tenant::TenantSlug::parse(TENANT).unwrap())
        .await
        .unwrap()
        .expect("the fixture tenant")
}

/// `value` with its middle character changed: a bearer value altered in transit.
pub fn altered(value: &str) -> String {
    let middle = value.len() / 2;
    let flipped = if &value[middle..=middle] == "A" {
        "B"
    } else {
        "A"
    };
    format!("{}{flipped}{}", &value[..middle], &value[middle + 1..])
}

/// The claims of a JWT, unverified (checked elsewhere).
pub fn claims_of(jwt: &str) -> serde_json::Value {
    use base64::Engine;
    let payload = jwt.split('.').nth(1).unwrap();
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload)
        .unwrap();
    serde_json::from_slice(&bytes).unwrap()
}

/// `user` signs in with `password` in `b` to ed-app (which an administrator consented
/// to, so no consent page follows), as from the address `forwarded` names, when given,
/// to a server that trusts its loopback peer as a proxy. The answer to the password form.
pub async fn sign_in_to_ed_app(
    served: &Served,
    b: &reqwest::Client,
    user: &str,
    password: &str,
    forwarded: Option<reqwest::header::HeaderValue>,
) -> reqwest::Response {
    let url = authorize_url(
        &served.base,
        &[
            ("client_id", "ed-app"),
            ("redirect_uri", WEB_CB),
            ("response_type", "code"),
            ("scope", "openid"),
            ("state", "st"),
        ],
    );
    let page = b.get(url).send().await.unwrap().text().await.unwrap();
    let mut request = b
        .post(format!("{}/{TENANT}/signin/password", served.base))
        .form(&[
            ("csrf_token", hidden(&page, "csrf_token")),
            ("request", hidden(&page, "request")),
            ("username", user.to_owned()),
            ("password", password.to_owned()),
        ]);
    if let Some(f) = forwarded {
        request = request.header("x-forwarded-for", f);
    }
    request.send().await.unwrap()
}

/// The test tenant without rate limits: a load from one address is what is wanted.
pub fn unlimited_tenant_file() -> serde_json::Value {
    let mut file = tenant_file();
    file["tenants"][0]["policy"] = json!({
        "rate_limit_per_address_per_minute": 0,
        "rate_limit_per_client_per_minute": 0
    });
    file
}

/// Presents one refresh `token` of `client_id` (secret [`WEB_SECRET`]) `n` times at
/// once, to `bases` in turn (one node or several), and checks what the tenant's retry
/// period allows: at least one success, every other answer reuse or revoked (never a
/// 5xx), and of all the refresh tokens issued at most one still active
/// (introspection, which does not act on reuse): the family never forks.
pub async fn refresh_storm(bases: &[String], client_id: &str, token: &str, n: usize) {
    let tasks: Vec<_> = (0..n)
        .map(|i| {
            let base = bases[i % bases.len()].clone();
            let (client_id, token) = (client_id.to_owned(), token.to_owned());
            tokio::spawn(async move {
                let form = [
                    ("grant_type", "refresh_token"),
                    ("client_id", client_id.as_str()),
                    ("client_secret", WEB_SECRET),
                    ("refresh_token", token.as_str()),
                ];
                let r = token_request(&base, &form).send().await.unwrap();
                let status = r.status().as_u16();
                let body: serde_json::Value = r.json().await.unwrap_or_default();
                (status, body)
            })
        })
        .collect();
    let mut outcomes = Vec::new();
    for t in tasks {
        outcomes.push(t.await.unwrap());
    }
    let refused = [
        ErrorName::RefreshTokenReused,
        ErrorName::RefreshTokenRevoked,
    ]
    .map(|n| json!(n.entry().code));
    let issued: Vec<&str> = outcomes
        .iter()
        .filter(|(s, _)| *s == 200)
        .map(|(_, b)| b["refresh_token"].as_str().unwrap())
        .collect();
    assert!(!issued.is_empty(), "{outcomes:?}");
    assert!(
        outcomes
            .iter()
            .all(|(s, b)| *s == 200 || (*s == 400 && refused.contains(&b["error_codes"][0]))),
        "{outcomes:?}"
    );
    let mut active = 0;
    for token in issued {
        let r = rp_http()
            .post(format!("{}/{TENANT}/oauth2/introspect", bases[0]))
            .form(&[
                ("client_id", client_id),
                ("client_secret", WEB_SECRET),
                ("token", token),
            ])
            .send()
            .await
            .unwrap();
        let body: serde_json::Value = r.json().await.unwrap();
        active += usize::from(body["active"] == json!(true));
    }
    assert!(active <= 1, "{active} live refresh tokens of one family");
}
