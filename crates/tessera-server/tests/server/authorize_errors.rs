//! Every error path of the authorization endpoint and its sign-in pages: errors before
//! the client and its redirect URI are verified are shown on an error page and never
//! redirected (RFC 6749 §4.1.2.1); later ones go to the redirect URI with `error`,
//! `error_description`, `error_uri`, `state` and `iss` (RFC 9207), in the request's
//! response mode.

use super::oidc::*;
use super::support::Served;
use tessera_core::errors::ErrorName;

/// A valid web-app request with `overrides` replacing (or adding) parameters.
fn web<'a>(overrides: &[(&'a str, &'a str)]) -> Vec<(&'a str, &'a str)> {
    with(
        vec![
            ("client_id", "web-app"),
            ("redirect_uri", WEB_CB),
            ("response_type", "code"),
            ("scope", "openid"),
            ("state", "s-123"),
        ],
        overrides,
    )
}

/// A valid spa-app request (PKCE S256) with `overrides`.
fn spa<'a>(challenge: &'a str, overrides: &[(&'a str, &'a str)]) -> Vec<(&'a str, &'a str)> {
    with(
        vec![
            ("client_id", "spa-app"),
            ("redirect_uri", SPA_CB),
            ("response_type", "code"),
            ("scope", "openid"),
            ("state", "s-spa"),
            ("code_challenge", challenge),
            ("code_challenge_method", "S256"),
        ],
        overrides,
    )
}

fn with<'a>(
    mut params: Vec<(&'a str, &'a str)>,
    overrides: &[(&'a str, &'a str)],
) -> Vec<(&'a str, &'a str)> {
    for (k, v) in overrides {
        match params.iter_mut().find(|(name, _)| name == k) {
            Some(p) => p.1 = v,
            None => params.push((k, v)),
        }
    }
    params
}

async fn get(served: &Served, params: &[(&str, &str)]) -> reqwest::Response {
    browser()
        .get(authorize_url(&served.base, params))
        .send()
        .await
        .unwrap()
}

/// A browser with a live SSO session for `user`, started through ed-app (admin
/// consented, so no consent page).
async fn signed_in(served: &Served, user: &str) -> reqwest::Client {
    let b = browser();
    let params = [
        ("client_id", "ed-app"),
        ("redirect_uri", WEB_CB),
        ("response_type", "code"),
        ("scope", "openid"),
    ];
    let page = b
        .get(authorize_url(&served.base, &params))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200, "the sign-in page");
    let html = page.text().await.unwrap();
    let done = sign_in(&b, &served.base, &html, user, PASSWORD).await;
    assert_eq!(done.status(), 303);
    assert!(param(&location_params(&done).1, "code").is_some());
    b
}

/// The sign-in page of a fresh browser for web-app.
async fn sign_in_page(served: &Served) -> (reqwest::Client, String) {
    let b = browser();
    let page = b
        .get(authorize_url(&served.base, &web(&[])))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    (b, html)
}

fn is_sign_in_page(html: &str) -> bool {
    html.contains(&format!(
        "action=\"{}\"",
        html_escaped(&format!("/{TENANT}/signin/password"))
    ))
}

/// The text of the first `<p class="{class}">` in a page.
fn paragraph<'a>(html: &'a str, class: &str) -> &'a str {
    let marker = format!("<p class=\"{class}\">");
    let start = html.find(&marker).unwrap_or_else(|| panic!("no {class}")) + marker.len();
    &html[start..start + html[start..].find("</p>").unwrap()]
}

// ---- errors on a page ------------------------------------------------------------

#[tokio::test]
async fn unknown_tenant_is_an_error_page() {
    let served = server(None).await;
    let url = format!(
        "{}/no-such-tenant/oauth2/authorize?{}",
        served.base,
        serde_urlencoded::to_string(web(&[])).unwrap()
    );
    let r = browser().get(url).send().await.unwrap();
    let html = assert_error_page(r, ErrorName::TenantNotFound).await;
    assert!(html.contains("no-such-tenant"), "{html}");
}

/// WS-Federation and SAML 2.0 requests, at the authorization endpoint (GET and POST)
/// or at the paths Entra ID serves them on, are told plainly that Tessera does not
/// serve the protocol, instead of being refused for a missing client_id.
#[tokio::test]
async fn other_protocols_are_named_as_not_supported() {
    let served = server(None).await;
    let base = format!("{}/{TENANT}", served.base);
    let ws_fed = "wa=wsignin1.0&wtrealm=urn%3Aapp&wctx=x";
    let saml = "SAMLRequest=fZJNT8MwDIbvSPyH";
    for (url, protocol) in [
        (format!("{base}/oauth2/authorize?{ws_fed}"), "WS-Federation"),
        (format!("{base}/wsfed?{ws_fed}"), "WS-Federation"),
        (format!("{base}/oauth2/authorize?{saml}"), "SAML 2.0"),
        (format!("{base}/saml2?{saml}"), "SAML 2.0"),
    ] {
        let r = browser().get(&url).send().await.unwrap();
        let html = assert_error_page(r, ErrorName::ProtocolNotSupported).await;
        assert!(html.contains(protocol), "{url}: {html}");
    }
    let posted = browser()
        .post(format!("{base}/oauth2/authorize"))
        .form(&[("SAMLRequest", "fZJNT8MwDIbvSPyH"), ("RelayState", "r")])
        .send()
        .await
        .unwrap();
    let html = assert_error_page(posted, ErrorName::ProtocolNotSupported).await;
    assert!(html.contains("SAML 2.0"), "{html}");
}

#[tokio::test]
async fn missing_client_id_is_an_error_page() {
    let served = server(None).await;
    let mut params = web(&[]);
    params.retain(|(k, _)| *k != "client_id");
    let html =
        assert_error_page(get(&served, &params).await, ErrorName::InvalidRequestFormat).await;
    assert!(html.contains("client_id is missing"), "{html}");
}

#[tokio::test]
async fn unknown_client_id_is_an_error_page_with_the_trace_id() {
    let served = server(None).await;
    let r = get(&served, &web(&[("client_id", "no-such-app")])).await;
    // assert_error_page checks that the page shows the response's trace id.
    let html = assert_error_page(r, ErrorName::ClientNotFound).await;
    assert!(html.contains("no-such-app"), "{html}");
}

#[tokio::test]
async fn unregistered_redirect_uri_is_an_error_page_showing_it() {
    let served = server(None).await;
    let evil = "https://evil.test/steal";
    let r = get(&served, &web(&[("redirect_uri", evil)])).await;
    let html = assert_error_page(r, ErrorName::RedirectUriMismatch).await;
    assert!(html.contains(&html_escaped(evil)), "{html}");
}

#[tokio::test]
async fn redirect_uri_differing_in_trailing_slash_or_query_is_refused() {
    let served = server(None).await;
    for sent in [
        format!("{WEB_CB}/"),
        format!("{WEB_CB}?x=1"),
        WEB_CB.replace("/cb", "/CB"),
    ] {
        let r = get(&served, &web(&[("redirect_uri", &sent)])).await;
        let html = assert_error_page(r, ErrorName::RedirectUriMismatch).await;
        assert!(html.contains(&html_escaped(&sent)), "{sent}: {html}");
    }
}

#[tokio::test]
async fn native_loopback_redirect_uri_may_use_any_port() {
    let served = server(None).await;
    let (_, challenge) = pkce("native");
    let with_port = "http://127.0.0.1:53100/callback";
    let params = [
        ("client_id", "native-app"),
        ("redirect_uri", with_port),
        ("response_type", "code"),
        ("scope", "openid"),
        ("state", "n"),
        ("code_challenge", challenge.as_str()),
        ("code_challenge_method", "S256"),
    ];
    let page = get(&served, &params).await;
    assert_eq!(page.status(), 200, "accepted: the sign-in page");
    assert!(is_sign_in_page(&page.text().await.unwrap()));
    // The code goes to the port the app asked for.
    let redirect = authorize_through_pages(&browser(), &served.base, &params, "alice").await;
    let (target, query) = location_params(&redirect);
    assert_eq!(target, with_port);
    assert!(param(&query, "code").is_some());
    // Only the port may differ: another path on the loopback is still refused.
    let other_path = "http://127.0.0.1:53100/other";
    let mut bad = params.to_vec();
    bad[1].1 = other_path;
    assert_error_page(get(&served, &bad).await, ErrorName::RedirectUriMismatch).await;
}

/// Variants a URL parser (and a browser) would turn into a registered URI are other
/// strings, refused on a page: no redirect anywhere (RFC 9700 §4.1.3).
#[tokio::test]
async fn redirect_uris_a_parser_would_normalise_are_refused() {
    let served = server(None).await;
    let web_variants = [
        WEB_CB.replace("https://", "HTTPS://"),
        WEB_CB.replace("web.fabrikam.test", "WEB.fabrikam.test"),
        WEB_CB.replace("web.fabrikam.test", "web.fabrikam.test:443"),
        WEB_CB.replace("/cb", "/x/../cb"),
        WEB_CB.replace("/cb", "/./cb"),
        WEB_CB.replace("https://", "https://@"),
        WEB_CB.replace("/cb", "/c\tb"),
    ];
    for sent in &web_variants {
        let r = get(&served, &web(&[("redirect_uri", sent)])).await;
        assert_error_page(r, ErrorName::RedirectUriMismatch).await;
    }
    let (_, challenge) = pkce("native");
    for sent in [
        "http://127.0.0.1:53100/x/../callback",
        "http://127.0.0.1:53100/./callback",
        "http://127.000.000.001:53100/callback",
        "http://127.0.0.1:53100@evil.test/callback",
        "http://localhost:53100/callback",
    ] {
        let params = [
            ("client_id", "native-app"),
            ("redirect_uri", sent),
            ("response_type", "code"),
            ("scope", "openid"),
            ("code_challenge", challenge.as_str()),
            ("code_challenge_method", "S256"),
        ];
        assert_error_page(get(&served, &params).await, ErrorName::RedirectUriMismatch).await;
    }
}

#[tokio::test]
async fn repeated_parameter_is_an_error_page() {
    let served = server(None).await;
    for repeated in ["client_id", "state"] {
        let mut params = web(&[]);
        let value = params.iter().find(|(k, _)| *k == repeated).unwrap().1;
        params.push((repeated, value));
        let r = get(&served, &params).await;
        let html = assert_error_page(r, ErrorName::InvalidRequestFormat).await;
        assert!(
            html.contains(&format!("{repeated} appears more than once")),
            "{html}"
        );
    }
}

// ---- errors redirected to the client -------------------------------------------

#[tokio::test]
async fn unknown_response_type_is_unsupported() {
    let served = server(None).await;
    let r = get(&served, &web(&[("response_type", "foo")])).await;
    let params = assert_redirected_error(
        &r,
        &served,
        WEB_CB,
        Some("s-123"),
        ErrorName::UnsupportedResponseType,
    );
    assert!(param(&params, "error_description").unwrap().contains("foo"));
}

#[tokio::test]
async fn response_mode_jwt_is_unsupported() {
    let served = server(None).await;
    let r = get(&served, &web(&[("response_mode", "jwt")])).await;
    // Delivered in the query: the mode asked for is not one Tessera speaks.
    assert_redirected_error(
        &r,
        &served,
        WEB_CB,
        Some("s-123"),
        ErrorName::UnsupportedResponseMode,
    );
}

#[tokio::test]
async fn unknown_scope_is_invalid_scope_naming_it() {
    let served = server(None).await;
    let r = get(&served, &web(&[("scope", "openid orders.everything")])).await;
    let params =
        assert_redirected_error(&r, &served, WEB_CB, Some("s-123"), ErrorName::InvalidScope);
    assert!(
        param(&params, "error_description")
            .unwrap()
            .contains("orders.everything"),
        "{params:?}"
    );
}

#[tokio::test]
async fn public_client_without_code_challenge_is_pkce_required() {
    let served = server(None).await;
    let mut params = spa("", &[]);
    params.retain(|(k, _)| !k.starts_with("code_challenge"));
    let r = get(&served, &params).await;
    assert_redirected_error(&r, &served, SPA_CB, Some("s-spa"), ErrorName::PkceRequired);
}

#[tokio::test]
async fn plain_code_challenge_method_is_not_supported() {
    let served = server(None).await;
    let (verifier, _) = pkce("plain");
    let r = get(
        &served,
        &spa(&verifier, &[("code_challenge_method", "plain")]),
    )
    .await;
    assert_redirected_error(
        &r,
        &served,
        SPA_CB,
        Some("s-spa"),
        ErrorName::PkceMethodNotSupported,
    );
}

#[tokio::test]
async fn prompt_none_without_a_session_is_login_required() {
    let served = server(None).await;
    let r = get(&served, &web(&[("prompt", "none")])).await;
    assert_eq!(r.status(), 302, "no page is shown with prompt=none");
    assert_redirected_error(&r, &served, WEB_CB, Some("s-123"), ErrorName::LoginRequired);
}

#[tokio::test]
async fn prompt_none_with_a_session_but_no_consent_is_consent_required() {
    let served = server(None).await;
    let b = signed_in(&served, "alice").await;
    let r = b
        .get(authorize_url(&served.base, &web(&[("prompt", "none")])))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 302);
    assert_redirected_error(
        &r,
        &served,
        WEB_CB,
        Some("s-123"),
        ErrorName::ConsentRequired,
    );
}

#[tokio::test]
async fn admin_only_scope_without_admin_consent_is_refused() {
    let served = server(None).await;
    let params = web(&[("scope", "openid api://orders/admin")]);
    // The user signs in first; then the scope is refused without a consent page.
    let r = authorize_through_pages(&browser(), &served.base, &params, "alice").await;
    assert_eq!(r.status(), 303);
    let query = assert_redirected_error(
        &r,
        &served,
        WEB_CB,
        Some("s-123"),
        ErrorName::AdminConsentRequired,
    );
    assert!(
        param(&query, "error_description")
            .unwrap()
            .contains("api://orders/admin")
    );
}

#[tokio::test]
async fn denying_consent_is_consent_declined() {
    let served = server(None).await;
    let (b, html) = sign_in_page(&served).await;
    let consent_page = sign_in(&b, &served.base, &html, "alice", PASSWORD).await;
    assert_eq!(consent_page.status(), 200);
    let consent_html = consent_page.text().await.unwrap();
    let r = consent(&b, &served.base, &consent_html, "deny").await;
    assert_eq!(r.status(), 303);
    assert_redirected_error(
        &r,
        &served,
        WEB_CB,
        Some("s-123"),
        ErrorName::ConsentDeclined,
    );
}

#[tokio::test]
async fn user_not_assigned_to_the_app_is_refused() {
    let served = server(None).await;
    let params = web(&[("client_id", "assigned-app")]);
    let r = authorize_through_pages(&browser(), &served.base, &params, "alice").await;
    assert_redirected_error(
        &r,
        &served,
        WEB_CB,
        Some("s-123"),
        ErrorName::UserNotAssigned,
    );
    // bob is assigned.
    let r = authorize_through_pages(&browser(), &served.base, &params, "bob").await;
    let (target, query) = location_params(&r);
    assert_eq!(target, WEB_CB);
    assert!(param(&query, "code").is_some(), "{query:?}");
}

#[tokio::test]
async fn app_without_the_code_grant_is_unauthorized_grant_type() {
    let served = server_with_extra_apps().await;
    let r = get(&served, &web(&[("client_id", "daemon-web")])).await;
    assert_eq!(r.status(), 302);
    assert_redirected_error(
        &r,
        &served,
        WEB_CB,
        Some("s-123"),
        ErrorName::UnauthorizedGrantType,
    );
    // The fixture's no-code-app has no redirect URI at all, so nothing can be sent to
    // it: the redirect URI check (an error page) comes first.
    let r = get(&served, &web(&[("client_id", "no-code-app")])).await;
    assert_error_page(r, ErrorName::RedirectUriMismatch).await;
}

#[tokio::test]
async fn form_post_delivers_an_error_as_an_auto_submitting_form() {
    let served = server(None).await;
    let r = get(
        &served,
        &web(&[("response_mode", "form_post"), ("scope", "openid nope")]),
    )
    .await;
    assert_eq!(r.status(), 200);
    assert!(r.headers().get("location").is_none());
    assert!(
        r.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    assert_eq!(r.headers()["cache-control"], "no-store");
    let html = r.text().await.unwrap();
    assert!(
        html.contains(&format!(
            "<form method=\"post\" action=\"{}\"",
            html_escaped(WEB_CB)
        )),
        "{html}"
    );
    let entry = ErrorName::InvalidScope.entry();
    assert_eq!(hidden(&html, "error"), oauth_error(ErrorName::InvalidScope));
    assert!(hidden(&html, "error_description").starts_with(&format!("{}: ", entry.code_str())));
    assert_eq!(
        hidden(&html, "error_uri"),
        format!("{}/errors/{}", served.base, entry.code_str())
    );
    assert_eq!(hidden(&html, "state"), "s-123");
    assert_eq!(hidden(&html, "iss"), issuer(&served));
    assert!(!html.contains("name=\"code\""));
    // Submitted by our script, with a button for browsers without JavaScript.
    assert!(html.contains("<script src=\"/assets/form-post.js\"></script>"));
    assert!(html.contains("<button type=\"submit\">"));

    // A code in the same mode is not cacheable either.
    let b = browser();
    let rs = [
        ("client_id", "ed-app"),
        ("redirect_uri", WEB_CB),
        ("response_type", "code"),
        ("scope", "openid"),
        ("response_mode", "form_post"),
    ];
    let page = b
        .get(authorize_url(&served.base, &rs))
        .send()
        .await
        .unwrap();
    let page = page.text().await.unwrap();
    let r = sign_in(&b, &served.base, &page, "alice", PASSWORD).await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["cache-control"], "no-store");
    let html = r.text().await.unwrap();
    let code = hidden(&html, "code");
    assert!(
        code.len() > 43
            && code
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-_~".contains(&b)),
        "a sealed code: {code}"
    );
    assert_eq!(hidden(&html, "iss"), issuer(&served));
}

// ---- the sign-in page ------------------------------------------------------------

#[tokio::test]
async fn wrong_password_and_unknown_user_look_the_same() {
    let served = server(None).await;
    let (b, html) = sign_in_page(&served).await;
    let wrong = sign_in(&b, &served.base, &html, "alice", "not the password").await;
    assert!(
        wrong
            .headers()
            .get_all("set-cookie")
            .iter()
            .all(|c| !c.to_str().unwrap().contains("tessera_session=")),
        "no session after a failed sign-in"
    );
    let wrong = assert_error_page(wrong, ErrorName::InvalidCredentials).await;
    let (b, html) = sign_in_page(&served).await;
    let unknown = sign_in(&b, &served.base, &html, "mallory", PASSWORD).await;
    let unknown = assert_error_page(unknown, ErrorName::InvalidCredentials).await;
    for page in [&wrong, &unknown] {
        assert!(is_sign_in_page(page), "the form is shown again: {page}");
    }
    assert_eq!(paragraph(&wrong, "code"), paragraph(&unknown, "code"));
    assert_eq!(paragraph(&wrong, "message"), paragraph(&unknown, "message"));
    assert_eq!(
        paragraph(&wrong, "message"),
        ErrorName::InvalidCredentials.entry().message
    );
}

#[tokio::test]
async fn disabled_user_with_the_right_password_is_account_disabled() {
    let served = server(None).await;
    let (b, html) = sign_in_page(&served).await;
    let r = sign_in(&b, &served.base, &html, "dave", PASSWORD).await;
    let page = assert_error_page(r, ErrorName::AccountDisabled).await;
    assert!(is_sign_in_page(&page));
}

#[tokio::test]
async fn sign_in_without_the_csrf_cookie_is_refused() {
    let served = server(None).await;
    let (_, html) = sign_in_page(&served).await;
    // Same form, posted by a client that never got the cookie.
    let r = sign_in(&rp_http(), &served.base, &html, "alice", PASSWORD).await;
    let page = assert_error_page(r, ErrorName::CsrfTokenInvalid).await;
    assert!(!is_sign_in_page(&page));
}

#[tokio::test]
async fn sign_in_with_a_wrong_csrf_token_is_refused() {
    let served = server(None).await;
    let (b, html) = sign_in_page(&served).await;
    let r = b
        .post(format!("{}/{TENANT}/signin/password", served.base))
        .form(&[
            ("csrf_token", "forged-token"),
            ("request", &hidden(&html, "request")),
            ("username", "alice"),
            ("password", PASSWORD),
        ])
        .send()
        .await
        .unwrap();
    assert!(
        r.headers()
            .get_all("set-cookie")
            .iter()
            .all(|c| !c.to_str().unwrap().contains("tessera_session="))
    );
    assert_error_page(r, ErrorName::CsrfTokenInvalid).await;
}

#[tokio::test]
async fn login_hint_prefills_the_username() {
    let served = server(None).await;
    let r = get(&served, &web(&[("login_hint", "bob")])).await;
    assert_eq!(r.status(), 200);
    let html = r.text().await.unwrap();
    assert!(html.contains("name=\"username\" value=\"bob\""), "{html}");
}

#[tokio::test]
async fn prompt_login_with_a_live_session_shows_the_sign_in_page() {
    let served = server(None).await;
    let b = signed_in(&served, "alice").await;
    let rs = [
        ("client_id", "ed-app"),
        ("redirect_uri", WEB_CB),
        ("response_type", "code"),
        ("scope", "openid"),
    ];
    let sso = b
        .get(authorize_url(&served.base, &rs))
        .send()
        .await
        .unwrap();
    assert_eq!(sso.status(), 302, "the session signs in without a page");
    let mut again = rs.to_vec();
    again.push(("prompt", "login"));
    let r = b
        .get(authorize_url(&served.base, &again))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let html = r.text().await.unwrap();
    assert!(is_sign_in_page(&html), "{html}");
    // Signing in again completes the request.
    let done = sign_in(&b, &served.base, &html, "alice", PASSWORD).await;
    assert_eq!(done.status(), 303);
    assert!(param(&location_params(&done).1, "code").is_some());
}

/// OIDC Core §3.1.2.1 lets the request come as a form POST; the answer to a POST is a
/// 303, so the browser does not repeat the POST at the client (RFC 9700 §4.12): a code,
/// and an error sent to the client alike.
#[tokio::test]
async fn a_posted_authorization_request_is_answered_with_303() {
    let served = server(None).await;
    let b = signed_in(&served, "alice").await;
    let endpoint = format!("{}/{TENANT}/oauth2/authorize", served.base);
    let mut rs = vec![
        ("client_id", "ed-app"),
        ("redirect_uri", WEB_CB),
        ("response_type", "code"),
        ("scope", "openid"),
    ];
    let done = b.post(&endpoint).form(&rs).send().await.unwrap();
    assert_eq!(done.status(), 303);
    assert!(param(&location_params(&done).1, "code").is_some());
    rs[2] = ("response_type", "token");
    let refused = b.post(&endpoint).form(&rs).send().await.unwrap();
    assert_eq!(refused.status(), 303);
    // A token response type answers in the fragment, errors included.
    let location = refused.headers()["location"].to_str().unwrap();
    assert!(
        location.starts_with(&format!("{WEB_CB}#error=unauthorized_client&")),
        "{location}"
    );
}

/// A group assigned to an app admits its members: at sign-in, and at every refresh,
/// which stops once the user leaves the group (the refresh grant's fast path knows no
/// groups, so the facts it reads decide).
#[tokio::test]
async fn members_of_an_assigned_group_are_admitted_while_members() {
    let served = server(None).await;
    let admin = |method: &'static str, path: String, body: serde_json::Value| {
        let app = &served.app;
        async move { app.admin(method, &path, Some(body)).await }
    };
    let users = format!("/admin/api/v1/tenants/{TENANT}/users");
    let apps = format!("/admin/api/v1/tenants/{TENANT}/apps");
    let r = admin(
        "PATCH",
        format!("{users}/alice"),
        serde_json::json!({ "groups": ["finance"] }),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let missing = admin(
        "PATCH",
        format!("{apps}/assigned-app"),
        serde_json::json!({ "assigned_groups": ["nope"] }),
    )
    .await;
    assert_eq!(missing.status, 400, "{}", missing.body);
    assert!(
        missing.body.contains("/assigned_groups/0"),
        "{}",
        missing.body
    );
    let r = admin(
        "PATCH",
        format!("{apps}/assigned-app"),
        serde_json::json!({ "assigned_groups": ["finance"] }),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json()["assigned_groups"], serde_json::json!(["finance"]));

    let params = web(&[
        ("client_id", "assigned-app"),
        ("scope", "openid offline_access"),
    ]);
    let r = authorize_through_pages(&browser(), &served.base, &params, "alice").await;
    let code = param(&location_params(&r).1, "code")
        .expect("alice is admitted through finance")
        .to_owned();
    let tokens: serde_json::Value = token_request(
        &served.base,
        &[
            ("grant_type", "authorization_code"),
            ("code", code.as_str()),
            ("redirect_uri", WEB_CB),
            ("client_id", "assigned-app"),
            ("client_secret", WEB_SECRET),
        ],
    )
    .send()
    .await
    .unwrap()
    .json()
    .await
    .unwrap();
    let refresh = |token: String| {
        let base = served.base.clone();
        async move {
            token_request(
                &base,
                &[
                    ("grant_type", "refresh_token"),
                    ("refresh_token", token.as_str()),
                    ("client_id", "assigned-app"),
                    ("client_secret", WEB_SECRET),
                ],
            )
            .send()
            .await
            .unwrap()
        }
    };
    let r = refresh(tokens["refresh_token"].as_str().unwrap().to_owned()).await;
    assert_eq!(r.status(), 200, "a member refreshes");
    let next: serde_json::Value = r.json().await.unwrap();

    let r = admin(
        "PATCH",
        format!("{users}/alice"),
        serde_json::json!({ "groups": [] }),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    served.app.clock.advance(time::Duration::seconds(1));
    let r = refresh(next["refresh_token"].as_str().unwrap().to_owned()).await;
    assert_eq!(r.status(), 400);
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(
        body["error_codes"][0],
        ErrorName::RefreshTokenRevoked.entry().code
    );
    let r = authorize_through_pages(
        &browser(),
        &served.base,
        &web(&[("client_id", "assigned-app")]),
        "alice",
    )
    .await;
    assert_redirected_error(
        &r,
        &served,
        WEB_CB,
        Some("s-123"),
        ErrorName::UserNotAssigned,
    );
}
