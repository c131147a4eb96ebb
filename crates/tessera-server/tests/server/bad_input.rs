//! Bad input never panics the server and never gets a bare status: unknown routes,
//! wrong methods, oversized bodies and panicking handlers all get catalogued errors
//! with a trace id.

use crate::support::{TestApp, send};
use axum::Router;
use axum::body::Body;
use axum::http::Request;
use axum::routing::get;
use tessera_core::errors::ErrorName;

fn code(name: ErrorName) -> u32 {
    name.entry().code
}

#[tokio::test]
async fn unknown_route_is_404_json_for_programs_and_html_for_browsers() {
    let app = TestApp::new().await;
    let r = app.get("/contoso/oauth2/nothing", None).await;
    assert_eq!(r.status, 404);
    assert_eq!(r.header("content-type"), "application/json");
    let v = r.json();
    assert_eq!(v["error_codes"][0], code(ErrorName::EndpointNotFound));
    assert_eq!(
        v["error_uri"],
        format!(
            "https://id.example.test/errors/{}",
            ErrorName::EndpointNotFound.entry().code_str()
        )
    );
    assert_eq!(
        v["timestamp"], "2026-11-26T19:30:00Z",
        "from the injected clock"
    );
    assert_eq!(r.header("x-trace-id"), v["trace_id"].as_str().unwrap());

    let page = app.get("/contoso/oauth2/nothing", Some("text/html")).await;
    assert_eq!(page.status, 404);
    assert!(page.header("content-type").starts_with("text/html"));
    assert!(
        page.body.contains(page.header("x-trace-id")),
        "page shows the trace id"
    );
    // The path is in the message (HTML-escaped: minijinja escapes '/' too).
    assert!(
        page.body.contains("&#x2f;contoso&#x2f;oauth2&#x2f;nothing"),
        "{}",
        page.body
    );
}

#[tokio::test]
async fn wrong_method_is_405() {
    let app = TestApp::new().await;
    let r = app
        .send(Request::delete("/healthz").body(Body::empty()).unwrap())
        .await;
    assert_eq!(r.status, 405);
    assert_eq!(
        r.json()["error_codes"][0],
        code(ErrorName::MethodNotAllowed)
    );
    assert!(
        r.json()["error_description"]
            .as_str()
            .unwrap()
            .contains("DELETE")
    );
}

#[tokio::test]
async fn declared_oversized_body_is_413() {
    let app = TestApp::new().await;
    let body = "a=".to_owned() + &"x".repeat(70 * 1024);
    let r = app
        .send(
            Request::post("/contoso/oauth2/token")
                .header("content-type", "application/x-www-form-urlencoded")
                .header("content-length", body.len())
                .body(Body::from(body))
                .unwrap(),
        )
        .await;
    assert_eq!(r.status, 413);
    let v = r.json();
    assert_eq!(v["error_codes"][0], code(ErrorName::RequestTooLarge));
    assert!(v["error_description"].as_str().unwrap().contains("65536"));
}

#[tokio::test]
async fn streamed_oversized_body_is_413_too() {
    let app = TestApp::new().await;
    let chunks = (0..80).map(|_| Ok::<_, std::io::Error>(vec![b'x'; 1024]));
    let stream = futures_util::stream::iter(chunks);
    let r = app
        .send(
            Request::post("/contoso/oauth2/token")
                .body(Body::from_stream(stream))
                .unwrap(),
        )
        .await;
    assert_eq!(r.status, 413);
    assert_eq!(r.json()["error_codes"][0], code(ErrorName::RequestTooLarge));
}

#[tokio::test]
async fn body_limit_is_configurable() {
    let app = TestApp::new().await;
    let mut state = app.state.clone();
    state.max_body_bytes = 2048;
    let r = send(
        tessera_server::app(state),
        Request::post("/x")
            .body(Body::from(vec![b'x'; 4096]))
            .unwrap(),
    )
    .await;
    assert_eq!(r.status, 413);
    assert!(r.body.contains("2048"));
    // Under the limit the request reaches routing (and finds nothing there).
    let r = app
        .send(
            Request::post("/x")
                .body(Body::from(vec![b'x'; 4096]))
                .unwrap(),
        )
        .await;
    assert_eq!(r.status, 404);
}

#[tokio::test]
async fn a_panicking_handler_becomes_internal_error_with_nothing_internal() {
    let app = TestApp::new().await;
    let routes = Router::new().route(
        "/boom",
        get(|| async {
            if true {
                panic!("secret detail: password=hunter2 at src/grant.rs:42");
            }
            "unreachable"
        }),
    );
    let router = tessera_server::with_middleware(routes, app.state.clone());
    let r = send(
        router.clone(),
        Request::get("/boom").body(Body::empty()).unwrap(),
    )
    .await;
    assert_eq!(r.status, 500);
    let v = r.json();
    assert_eq!(v["error"], "server_error");
    assert_eq!(v["error_codes"][0], code(ErrorName::InternalError));
    assert_eq!(v["trace_id"].as_str(), Some(r.header("x-trace-id")));
    assert!(
        !r.body.contains("hunter2") && !r.body.contains("grant.rs"),
        "{}",
        r.body
    );
    // The server keeps serving after the panic.
    let ok = send(
        router,
        Request::get("/healthz").body(Body::empty()).unwrap(),
    )
    .await;
    assert_eq!(
        ok.status, 404,
        "healthz is not mounted on this test router, but it answers"
    );
}

#[tokio::test]
async fn client_request_id_is_echoed_only_when_safe() {
    let app = TestApp::new().await;
    let r = app
        .send(
            Request::get("/nope")
                .header("client-request-id", "req-123.abc")
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(r.header("client-request-id"), "req-123.abc");
    assert_eq!(r.json()["correlation_id"], "req-123.abc");

    let r = app
        .send(
            Request::get("/nope")
                .header("client-request-id", "<script>")
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(r.header("client-request-id"), "", "not echoed");
    let generated = r.json()["correlation_id"].as_str().unwrap().to_owned();
    assert_eq!(generated.len(), 36, "a UUID instead: {generated}");
}

/// Malformed paths and queries get InvalidRequestFormat (or a 404/405), never axum's
/// bare plain-text rejections and never a 5xx.
#[tokio::test]
async fn malformed_urls_get_catalogued_errors() {
    let app = TestApp::new().await;
    let long = "a".repeat(10_000);
    let cases: Vec<(String, u16, ErrorName)> = vec![
        ("/errors/%FF".into(), 400, ErrorName::InvalidRequestFormat),
        (
            "/errors?q=a&q=b".into(),
            400,
            ErrorName::InvalidRequestFormat,
        ),
        ("/%00".into(), 404, ErrorName::EndpointNotFound),
        (format!("/errors/{long}"), 404, ErrorName::EndpointNotFound),
        (format!("/{long}"), 404, ErrorName::EndpointNotFound),
        (
            "/errors/..%2F..%2Fetc%2Fpasswd".into(),
            404,
            ErrorName::EndpointNotFound,
        ),
    ];
    for (path, status, name) in cases {
        let r = app.get(&path, Some("application/json")).await;
        assert_eq!(r.status.as_u16(), status, "{path:.60}: {}", r.body);
        assert_eq!(r.header("content-type"), "application/json", "{path:.60}");
        let v = r.json();
        assert_eq!(v["error_codes"][0], code(name), "{path:.60}: {}", r.body);
        assert_eq!(v["trace_id"].as_str().map(str::len), Some(32));
    }
    // Invalid UTF-8 in a query value is refused, not decoded lossily (into U+FFFD).
    let r = app.get("/errors?q=%FF", Some("application/json")).await;
    assert_eq!(r.status, 400, "{}", r.body);
    assert_eq!(
        r.json()["error_codes"][0],
        code(ErrorName::InvalidRequestFormat)
    );
    let r = app.get("/errors?q=a&q=b", Some("text/html")).await;
    assert_eq!(r.status, 400);
    assert!(
        r.header("content-type").starts_with("text/html"),
        "browsers get the page"
    );
}

/// Every page that takes a form refuses it without the CSRF token that matches the
/// browser's cookie: a forged token from a browser that has the cookie, and a form
/// from a client that never got one. Each is the catalogued error page, and no
/// session cookie comes with it.
#[tokio::test]
async fn every_post_page_refuses_a_forged_or_missing_csrf_token() {
    use super::oidc::{TENANT, assert_error_page, browser, rp_http, server};
    let served = server(None).await;
    let with_cookie = browser();
    // Any page sets the CSRF cookie.
    let page = with_cookie
        .get(format!("{}/{TENANT}/device", served.base))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    let pages = [
        "signin/password",
        "signin/consent",
        "device",
        "device/sign-in",
        "device/confirm",
        "account/signin",
        "account/consents/revoke",
        "account/sessions/revoke",
        "account/password",
    ];
    let form = [
        ("request", "client_id=web-app"),
        ("username", "alice"),
        ("password", super::oidc::PASSWORD),
        ("decision", "allow"),
        ("user_code", "BCDF-GHJK"),
        ("client_id", "web-app"),
    ];
    for path in pages {
        for (client, token) in [(&with_cookie, Some("forged-token")), (&rp_http(), None)] {
            let mut fields: Vec<(&str, &str)> = form.to_vec();
            if let Some(t) = token {
                fields.push(("csrf_token", t));
            }
            let r = client
                .post(format!("{}/{TENANT}/{path}", served.base))
                .form(&fields)
                .send()
                .await
                .unwrap();
            assert!(
                r.headers()
                    .get_all("set-cookie")
                    .iter()
                    .all(|c| !c.to_str().unwrap().contains("session=")),
                "{path}"
            );
            assert_error_page(r, ErrorName::CsrfTokenInvalid).await;
        }
    }
}
