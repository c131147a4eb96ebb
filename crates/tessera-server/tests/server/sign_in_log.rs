//! The sign-in log: every password attempt (with its catalogue code when it fails),
//! consent answer and admin consent, with time, user, app, client address, user agent
//! and trace id, kept for the tenant's `sign_in_log_days`; read by user, and by the
//! trace id an error page shows, which also brings the events of the same sign-in.

use super::oidc::*;
use super::support::Served;
use tessera_core::errors::ErrorName;
use tessera_core::store::object::ObjectKind;

const AGENT: &str = "SignInLogTest/1.0";

/// Posts the sign-in form of a web-app request (which asks for consent) as `user`,
/// behind a trusted proxy that names `from`; the answer.
async fn sign_in_as(
    served: &Served,
    b: &reqwest::Client,
    user: &str,
    password: &str,
) -> reqwest::Response {
    let url = authorize_url(
        &served.base,
        &[
            ("client_id", "web-app"),
            ("redirect_uri", WEB_CB),
            ("response_type", "code"),
            ("scope", "openid"),
            ("state", "st"),
        ],
    );
    let page = b.get(url).send().await.unwrap().text().await.unwrap();
    b.post(format!("{}/{TENANT}/signin/password", served.base))
        .header("x-forwarded-for", "198.51.100.23")
        .form(&[
            ("csrf_token", hidden(&page, "csrf_token")),
            ("request", hidden(&page, "request")),
            ("username", user.to_owned()),
            ("password", password.to_owned()),
        ])
        .send()
        .await
        .unwrap()
}

fn trace_of(r: &reqwest::Response) -> String {
    r.headers()["x-trace-id"].to_str().unwrap().to_owned()
}

#[tokio::test]
async fn sign_ins_are_logged_and_found_by_user_and_by_trace_id() {
    let served = Served::start_configured(None, |state| {
        state.trusted_proxies = std::sync::Arc::from(vec!["127.0.0.1/32".parse().unwrap()]);
    })
    .await;
    served.app.import(tenant_file()).await;
    let b = super::support::http_client()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(AGENT)
        .build()
        .unwrap();

    // A wrong password: the page shows the trace id the log keeps.
    let failed = sign_in_as(&served, &b, "alice", "wrong").await;
    let failed_trace = trace_of(&failed);
    let html = failed.text().await.unwrap();
    assert!(html.contains(&failed_trace));
    let unknown = sign_in_as(&served, &b, "Nobody", "wrong").await;
    assert_eq!(unknown.status(), 400);
    // Then the right one, and consent (a second apart each: the log keeps seconds).
    served.app.clock.advance(time::Duration::seconds(1));
    let consent_page = sign_in_as(&served, &b, "alice", PASSWORD).await;
    let signed_in_trace = trace_of(&consent_page);
    let html = consent_page.text().await.unwrap();
    served.app.clock.advance(time::Duration::seconds(1));
    let answer = consent(&b, &served.base, &html, "allow").await;
    assert_eq!(answer.status(), 303);
    let consent_trace = trace_of(&answer);

    let list = |query: String| {
        let served = &served;
        async move {
            let r = served
                .app
                .admin(
                    "GET",
                    &format!("/admin/api/v1/tenants/{TENANT}/sign-ins?{query}"),
                    None,
                )
                .await;
            assert_eq!(r.status, 200, "{}", r.body);
            r.json()["items"].as_array().unwrap().clone()
        }
    };
    let alice = list("user=Alice".into()).await;
    let steps: Vec<(&str, &str)> = alice
        .iter()
        .map(|e| (e["step"].as_str().unwrap(), e["outcome"].as_str().unwrap()))
        .collect();
    assert_eq!(
        steps,
        [
            ("consent", "success"),
            ("password", "success"),
            ("password", "failure")
        ],
        "{alice:#?}"
    );
    let wrong = &alice[2];
    let invalid = ErrorName::InvalidCredentials.entry();
    assert_eq!(wrong["code"], invalid.code_str());
    assert_eq!(wrong["error"], invalid.name);
    assert_eq!(wrong["app"], "web-app");
    assert_eq!(wrong["client_address"], "198.51.100.23");
    assert_eq!(wrong["user_agent"], AGENT);
    assert_eq!(wrong["trace_id"], failed_trace);
    assert!(wrong["sid"].is_null());
    assert_eq!(alice[1]["trace_id"], signed_in_trace);
    assert_eq!(alice[0]["sid"], alice[1]["sid"]);
    // An unknown username is logged under the name typed.
    let nobody = list("user=nobody".into()).await;
    assert_eq!(nobody.len(), 1);
    assert_eq!(nobody[0]["code"], invalid.code_str());

    // The consent's trace id leads to it and to the sign-in it continued, not to the
    // earlier failure; across tenants too (what `tessera admin trace` calls).
    let traced = list(format!("trace_id={consent_trace}")).await;
    let traces: Vec<&str> = traced
        .iter()
        .map(|e| e["trace_id"].as_str().unwrap())
        .collect();
    assert_eq!(traces, [consent_trace.as_str(), signed_in_trace.as_str()]);
    let everywhere = served
        .app
        .admin(
            "GET",
            &format!("/admin/api/v1/traces/{consent_trace}"),
            None,
        )
        .await
        .json();
    assert_eq!(everywhere["items"].as_array().unwrap().len(), 2);
    assert_eq!(everywhere["items"][0]["tenant"], TENANT);
    let none = served
        .app
        .admin("GET", "/admin/api/v1/traces/0123456789abcdef", None)
        .await
        .json();
    assert!(none["items"].as_array().unwrap().is_empty());

    // Kept for the tenant's sign_in_log_days (30 by default), then swept.
    let tenant = fixture_tenant(&served).await;
    let stored = served
        .app
        .state
        .store
        .objects(tenant.id, ObjectKind::SignInEvent)
        .await
        .unwrap();
    assert_eq!(stored.len(), 4);
    assert!(
        stored
            .iter()
            .all(|o| o.expires_at == Some(o.created_at + time::Duration::days(30)))
    );
}
