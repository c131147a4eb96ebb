//! Rate limits (RateLimited, 429 with Retry-After), per client address and per
//! authenticated client, from the tenant's policy: at the token endpoint (JSON), the
//! authorization endpoint and the password form (pages), and the device authorization
//! endpoint. Addresses come from `X-Forwarded-For` behind the test's trusted proxy.

use super::oidc::*;
use super::support::Served;
use serde_json::json;
use tessera_core::errors::ErrorName;

/// The fixture tenant allowing 3 requests a minute per address and 5 per client.
async fn limited() -> Served {
    let served = Served::start_configured(None, |state| {
        state.trusted_proxies = std::sync::Arc::from(vec!["127.0.0.1/32".parse().unwrap()]);
    })
    .await;
    served.app.import(tenant_file()).await;
    let r = served
        .app
        .admin(
            "PATCH",
            &format!("/admin/api/v1/tenants/{TENANT}"),
            Some(json!({ "policy": { "rate_limit_per_address_per_minute": 3,
                "rate_limit_per_client_per_minute": 5 } })),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    served
}

/// A token request of web-app (a grant it may not use: refused, but counted) from `from`.
async fn token_from(served: &Served, from: &str) -> reqwest::Response {
    token_request(&served.base, &[("grant_type", "client_credentials")])
        .basic_auth("web-app", Some(WEB_SECRET))
        .header("x-forwarded-for", from)
        .send()
        .await
        .unwrap()
}

/// An authorization request of ed-app: its page is the sign-in form.
fn sign_in_url(served: &Served) -> String {
    authorize_url(
        &served.base,
        &[
            ("client_id", "ed-app"),
            ("redirect_uri", WEB_CB),
            ("response_type", "code"),
            ("scope", "openid"),
        ],
    )
}

/// Checks a RateLimited answer's Retry-After: the wait for the next of 3 a minute.
fn assert_retry_after(headers: &reqwest::header::HeaderMap) {
    let seconds: u64 = headers["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=20).contains(&seconds), "Retry-After {seconds}");
}

#[tokio::test]
async fn too_many_requests_are_refused_with_retry_after() {
    let served = limited().await;

    // Token endpoint: three from one address, then RateLimited; another address goes
    // on until the client's own limit (5) is spent.
    for _ in 0..3 {
        assert_ne!(token_from(&served, "198.51.100.1").await.status(), 429);
    }
    let (headers, body) = assert_token_error(
        token_from(&served, "198.51.100.1").await,
        ErrorName::RateLimited,
    )
    .await;
    assert_retry_after(&headers);
    assert_eq!(body["error"], "temporarily_unavailable");
    for _ in 0..2 {
        assert_ne!(token_from(&served, "198.51.100.2").await.status(), 429);
    }
    assert_token_error(
        token_from(&served, "198.51.100.2").await,
        ErrorName::RateLimited,
    )
    .await;

    // Authorization endpoint and the password form: pages, by address.
    let b = browser();
    let url = sign_in_url(&served);
    let get = || b.get(&url).header("x-forwarded-for", "203.0.113.9").send();
    let mut page = String::new();
    for _ in 0..3 {
        let r = get().await.unwrap();
        assert_eq!(r.status(), 200);
        page = r.text().await.unwrap();
    }
    let refused = get().await.unwrap();
    assert_retry_after(refused.headers());
    assert_error_page(refused, ErrorName::RateLimited).await;
    let post = |password: &'static str| {
        b.post(format!("{}/{TENANT}/signin/password", served.base))
            .header("x-forwarded-for", "203.0.113.9")
            .form(&[
                ("csrf_token", hidden(&page, "csrf_token")),
                ("request", hidden(&page, "request")),
                ("username", "alice".to_owned()),
                ("password", password.to_owned()),
            ])
            .send()
    };
    for _ in 0..3 {
        assert_eq!(post("wrong").await.unwrap().status(), 400);
    }
    let refused = post(PASSWORD).await.unwrap();
    assert_eq!(refused.status(), 429);
    let html = refused.text().await.unwrap();
    assert!(
        html.contains(&ErrorName::RateLimited.entry().code_str()),
        "{html}"
    );

    // The device authorization endpoint, by address too.
    let device = || {
        rp_http()
            .post(format!("{}/{TENANT}/oauth2/devicecode", served.base))
            .header("x-forwarded-for", "192.0.2.44")
            .form(&[("client_id", "native-app"), ("scope", "openid")])
            .send()
    };
    for _ in 0..3 {
        assert_ne!(device().await.unwrap().status(), 429);
    }
    assert_token_error(device().await.unwrap(), ErrorName::RateLimited).await;
}

/// An address past its sign-in limit is refused every time, and the sign-in log keeps
/// the first refusal of the minute, not one event per request (a flood from one
/// address would otherwise cost a store write each); another address past its own
/// limit has its own first refusal logged.
#[tokio::test]
async fn refused_sign_ins_are_logged_once_a_minute_per_address() {
    let served = limited().await;
    let b = browser();
    let url = sign_in_url(&served);
    let page = b.get(&url).send().await.unwrap().text().await.unwrap();
    let post = |from: &'static str| {
        b.post(format!("{}/{TENANT}/signin/password", served.base))
            .header("x-forwarded-for", from)
            .form(&[
                ("csrf_token", hidden(&page, "csrf_token")),
                ("request", hidden(&page, "request")),
                // Unknown, so that no lockout answers in place of the limit.
                ("username", "nobody".to_owned()),
                ("password", "wrong".to_owned()),
            ])
            .send()
    };
    for (from, refused) in [("198.51.100.7", 6), ("198.51.100.8", 2)] {
        for _ in 0..3 {
            assert_eq!(post(from).await.unwrap().status(), 400);
        }
        for _ in 0..refused {
            assert_eq!(post(from).await.unwrap().status(), 429);
        }
    }

    let r = served
        .app
        .admin(
            "GET",
            &format!("/admin/api/v1/tenants/{TENANT}/sign-ins?user=nobody&limit=1000"),
            None,
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let mut logged: Vec<(String, String)> = r.json()["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["client_address"].as_str().unwrap().to_owned(),
                e["error"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    logged.sort();
    let event = |from: &str, name: ErrorName| (from.to_owned(), name.entry().name.to_owned());
    let mut expected = Vec::new();
    for from in ["198.51.100.7", "198.51.100.8"] {
        expected.extend(std::iter::repeat_n(
            event(from, ErrorName::InvalidCredentials),
            3,
        ));
        expected.push(event(from, ErrorName::RateLimited));
    }
    expected.sort();
    assert_eq!(logged, expected);
}
