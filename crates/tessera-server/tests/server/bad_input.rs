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

/// Sends `raw` bytes on a new connection to `base` and reads until the server closes.
fn raw_exchange(base: &str, raw: &[u8]) -> String {
    use std::io::{Read, Write};
    let addr = base.trim_start_matches("http://");
    let mut socket = std::net::TcpStream::connect(addr).unwrap();
    socket
        .set_read_timeout(Some(std::time::Duration::from_secs(5)))
        .unwrap();
    socket.write_all(raw).unwrap();
    let mut out = Vec::new();
    let _ = socket.read_to_end(&mut out);
    String::from_utf8_lossy(&out).into_owned()
}

/// Requests hyper refuses before any route (RFC 9112: a bad request line, a header
/// without a colon, an unknown version, two Content-Lengths, a header section or URI
/// too large) get the catalogue's document with a trace id, not a bare status; framing
/// errors in the body and Content-Length beside Transfer-Encoding reach the routes and
/// are catalogued there. The real binary, over a raw TCP socket.
#[test]
fn malformed_http_gets_a_catalogued_answer() {
    let server = crate::support::Process::serve(&[]);
    let big_header = format!(
        "GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: {}\r\n\r\n",
        "a".repeat(1_000_000)
    );
    let long_uri = format!("GET /{} HTTP/1.1\r\nHost: x\r\n\r\n", "a".repeat(1_000_000));
    let cases: [(&str, &[u8], u16, ErrorName); 7] = [
        ("bad request line", b"GARBAGE\r\n\r\n", 400, ErrorName::InvalidRequestFormat),
        ("header without a colon", b"GET /healthz HTTP/1.1\r\nHost: x\r\nBad Header\r\n\r\n", 400, ErrorName::InvalidRequestFormat),
        ("unknown version", b"GET /healthz HTTP/9.9\r\nHost: x\r\n\r\n", 400, ErrorName::InvalidRequestFormat),
        ("two Content-Lengths", b"POST /admin/oauth2/token HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nabcdef", 400, ErrorName::InvalidRequestFormat),
        ("bad chunking", b"POST /admin/oauth2/token HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nContent-Type: application/x-www-form-urlencoded\r\n\r\nZZZ\r\nabc\r\n0\r\n\r\n", 400, ErrorName::InvalidRequestFormat),
        ("header section too large", big_header.as_bytes(), 431, ErrorName::RequestHeadersTooLarge),
        ("Content-Length beside Transfer-Encoding", b"POST /admin/oauth2/token HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 415, ErrorName::UnsupportedMediaType),
    ];
    for (what, raw, status, name) in cases {
        let answer = raw_exchange(&server.base, raw);
        let (head, body) = answer
            .split_once("\r\n\r\n")
            .unwrap_or_else(|| panic!("{what}: no response: {answer:?}"));
        assert!(
            head.starts_with(&format!("HTTP/1.1 {status} ")),
            "{what}: {head}"
        );
        assert!(
            head.to_ascii_lowercase().contains("\r\nx-trace-id: "),
            "{what}: {head}"
        );
        let doc: serde_json::Value = serde_json::from_str(body)
            .unwrap_or_else(|e| panic!("{what}: not JSON ({e}): {body:?}"));
        assert_eq!(doc["error_codes"][0], code(name), "{what}: {doc}");
        assert!(doc["trace_id"].is_string(), "{what}: {doc}");
    }
    // A URI longer than hyper reads is refused as one (hyper's limit is its buffer).
    let answer = raw_exchange(&server.base, long_uri.as_bytes());
    assert!(
        answer.starts_with("HTTP/1.1 414 ") || answer.starts_with("HTTP/1.1 431 "),
        "{}",
        &answer[..answer.len().min(200)]
    );
    assert!(
        answer.contains("\"trace_id\""),
        "{}",
        &answer[..answer.len().min(300)]
    );
    // The refusals are in the log with their trace ids.
    let log = server.log();
    assert!(
        log.contains("refused a malformed HTTP request before routing"),
        "{log}"
    );
    // And the server still serves.
    let ok = raw_exchange(
        &server.base,
        b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    );
    assert!(ok.starts_with("HTTP/1.1 200 "), "{ok}");
}
