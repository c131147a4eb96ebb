//! Sign-in refused from a tenant's blocked networks (SignInBlockedNetwork), with the
//! client's address taken from `X-Forwarded-For` only behind a trusted proxy.

use super::oidc::*;
use super::support::Served;
use serde_json::json;
use tessera_core::errors::ErrorName;

/// The fixture tenant blocking `ranges`, on a server trusting `proxies`.
async fn blocking(ranges: &[&str], proxies: &[&str]) -> Served {
    let trusted: Vec<ipnet::IpNet> = proxies.iter().map(|p| p.parse().unwrap()).collect();
    let served = Served::start_configured(None, move |state| {
        state.trusted_proxies = std::sync::Arc::from(trusted);
    })
    .await;
    served.app.import(tenant_file()).await;
    let r = served
        .app
        .admin(
            "PATCH",
            &format!("/admin/api/v1/tenants/{TENANT}"),
            Some(
                json!({ "policy": { "lockout_threshold": 5, "lockout_seconds": 60,
                "mfa_max_age_seconds": 3600, "code_lifetime_seconds": 60,
                "blocked_ip_ranges": ranges } }),
            ),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    served
}

/// Signs alice in to ed-app with the raw `X-Forwarded-For` value `forwarded`.
async fn sign_in_from_bytes(served: &Served, forwarded: &[u8]) -> reqwest::Response {
    let value = reqwest::header::HeaderValue::from_bytes(forwarded).unwrap();
    sign_in_with(served, Some(value)).await
}

/// Signs alice in to ed-app with `X-Forwarded-For: forwarded` when given.
async fn sign_in_from(served: &Served, forwarded: Option<&str>) -> reqwest::Response {
    sign_in_with(served, forwarded.map(|f| f.parse().unwrap())).await
}

async fn sign_in_with(
    served: &Served,
    forwarded: Option<reqwest::header::HeaderValue>,
) -> reqwest::Response {
    sign_in_to_ed_app(served, &browser(), "alice", PASSWORD, forwarded).await
}

#[tokio::test]
async fn a_blocked_network_cannot_sign_in_and_only_trusted_proxies_speak_for_clients() {
    // Behind a trusted proxy (the loopback peer), the forwarded address decides.
    let behind_proxy = blocking(&["203.0.113.0/24", "2001:db8::/32"], &["127.0.0.1/32"]).await;
    let refused = sign_in_from(&behind_proxy, Some("198.51.100.1, 203.0.113.9")).await;
    assert_eq!(refused.status(), 403);
    let html = refused.text().await.unwrap();
    assert!(
        html.contains(&ErrorName::SignInBlockedNetwork.entry().code_str()),
        "{html}"
    );
    assert!(
        html.contains("203.0.113.9"),
        "the page names the address: {html}"
    );
    // Bytes that are not text in the client's part do not drop the proxy's entry.
    let garbled = sign_in_from_bytes(&behind_proxy, b"\xe9t\xe9, 203.0.113.9").await;
    assert_eq!(garbled.status(), 403);
    let v6 = sign_in_from(&behind_proxy, Some("2001:db8::7")).await;
    assert_eq!(v6.status(), 403);
    // A spoofed entry left of the proxy's own cannot unblock: the right-most counts.
    let spoofed = sign_in_from(&behind_proxy, Some("203.0.113.9, 198.51.100.1")).await;
    assert_eq!(
        spoofed.status(),
        303,
        "198.51.100.1 is the proxy's client, and allowed"
    );
    assert_eq!(sign_in_from(&behind_proxy, None).await.status(), 303);

    // Without trusted proxies the header is the client's own claim, and ignored.
    let direct = blocking(&["203.0.113.0/24"], &[]).await;
    assert_eq!(
        sign_in_from(&direct, Some("203.0.113.9")).await.status(),
        303
    );
    let loopback = blocking(&["127.0.0.0/8"], &[]).await;
    let refused = sign_in_from(&loopback, Some("198.51.100.1")).await;
    assert_eq!(refused.status(), 403);
    assert!(refused.text().await.unwrap().contains("127.0.0.1"));
}

/// A tenant's and an app's device-platform rules, from the browser's user agent: a
/// platform left out is refused (PlatformNotAllowed, naming it) before anyone signs in.
#[tokio::test]
async fn platforms_outside_the_tenant_or_app_rules_are_refused() {
    const WINDOWS: &str =
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/120 Safari/537.36";
    const LINUX: &str = "Mozilla/5.0 (X11; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0";
    let served = server(None).await;
    let r = served
        .app
        .admin(
            "PATCH",
            &format!("/admin/api/v1/tenants/{TENANT}"),
            Some(
                json!({ "policy": { "lockout_threshold": 5, "lockout_seconds": 60,
                "mfa_max_age_seconds": 3600, "code_lifetime_seconds": 60, "blocked_ip_ranges": [],
                "allowed_platforms": ["windows", "macos"] } }),
            ),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let open = |ua: &'static str| {
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
        async move {
            browser()
                .get(url)
                .header("user-agent", ua)
                .send()
                .await
                .unwrap()
        }
    };
    let refused = open(LINUX).await;
    let query = assert_redirected_error(
        &refused,
        &served,
        WEB_CB,
        Some("st"),
        ErrorName::PlatformNotAllowed,
    );
    assert!(
        param(&query, "error_description")
            .unwrap()
            .contains("linux"),
        "{query:?}"
    );
    assert_eq!(open(WINDOWS).await.status(), 200, "the sign-in page");

    let r = served
        .app
        .admin(
            "PATCH",
            &format!("/admin/api/v1/tenants/{TENANT}/apps/ed-app"),
            Some(json!({ "allowed_platforms": ["macos"] })),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let refused = open(WINDOWS).await;
    assert_redirected_error(
        &refused,
        &served,
        WEB_CB,
        Some("st"),
        ErrorName::PlatformNotAllowed,
    );
    let bad = served
        .app
        .admin(
            "PATCH",
            &format!("/admin/api/v1/tenants/{TENANT}/apps/ed-app"),
            Some(json!({ "allowed_platforms": ["amiga"] })),
        )
        .await;
    assert_eq!(bad.status, 400, "{}", bad.body);
}
