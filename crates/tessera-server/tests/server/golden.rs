//! Golden tests: the exact bytes of each error rendering. Regenerate deliberately with
//! `UPDATE_GOLDEN=1 cargo test -p tessera-server --test server golden` and review the diff.

use crate::support::{T0, TestApp};
use axum::body::Body;
use axum::http::Request;
use tessera_core::errors::render::{
    ErrorContext, ResponseMode, oauth_json, problem_json, redirect_location, redirect_params,
};
use tessera_core::errors::{CatalogError, ErrorName, FieldError};
use tessera_core::rng::SequenceRng;
use tessera_core::trace::{CorrelationId, TraceId};

fn golden(name: &str, actual: &str) {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/golden")
        .join(name);
    if std::env::var("UPDATE_GOLDEN").is_ok_and(|v| v == "1") {
        std::fs::write(&path, actual).unwrap();
        return;
    }
    let expected = std::fs::read_to_string(&path).unwrap_or_else(|_| {
        panic!(
            "missing golden file {}; run with UPDATE_GOLDEN=1",
            path.display()
        )
    });
    assert!(
        expected == actual,
        "{name} differs from its golden file.\n--- expected\n{expected}\n--- actual\n{actual}"
    );
}

fn ctx() -> ErrorContext {
    let rng = SequenceRng::new(7);
    ErrorContext {
        trace_id: TraceId::generate(&rng),
        correlation_id: CorrelationId::from_client("6d2a1f9e-4b7c-4e1a-9f3d-2c8b7a6e5d40").unwrap(),
        timestamp: T0,
        public_url: "https://id.example.test".into(),
    }
}

fn invalid_scope() -> CatalogError {
    CatalogError::new(ErrorName::InvalidScope)
        .with("scope", "wrte \"quoted\"")
        .with("supported", "openid profile email read write")
        .internal("never rendered: db row 42")
}

#[test]
fn oauth_json_error() {
    let body = oauth_json(&invalid_scope(), &ctx());
    assert!(!body.contains("never rendered"));
    golden("oauth_error.json", &body);
}

#[test]
fn problem_details() {
    let err = CatalogError::new(ErrorName::ValidationFailed)
        .with("count", "2")
        .with_fields(vec![
            FieldError {
                field: "/slug".into(),
                code: "TS60007".into(),
                message: "too short".into(),
            },
            FieldError {
                field: "/apps/0/redirect_uris/web/1".into(),
                code: "TS80001".into(),
                message: "not https".into(),
            },
        ]);
    golden("problem.json", &problem_json(&err, &ctx()));
}

#[test]
fn error_redirects_in_query_and_fragment() {
    let err = CatalogError::new(ErrorName::ConsentDeclined).with("client_id", "contoso-web");
    let params = redirect_params(
        &err,
        &ctx(),
        Some("xyz 123"),
        "https://id.example.test/contoso",
    );
    let query = redirect_location(
        "https://app.example.test/cb?keep=1",
        ResponseMode::Query,
        &params,
    );
    let fragment = redirect_location(
        "https://app.example.test/cb",
        ResponseMode::Fragment,
        &params,
    );
    golden("redirect_query.txt", &query);
    golden("redirect_fragment.txt", &fragment);
}

#[test]
fn error_redirect_as_form_post() {
    let err = CatalogError::new(ErrorName::ConsentDeclined).with("client_id", "contoso-web");
    let params = redirect_params(
        &err,
        &ctx(),
        Some("<s>&\"'"),
        "https://id.example.test/contoso",
    );
    let response = tessera_server::pages::form_post("https://app.example.test/cb", &params);
    let csp = response.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        csp.contains("script-src 'self'") && !csp.contains("unsafe-inline"),
        "{csp}"
    );
    let body = futures_body(response);
    assert!(
        body.contains("&lt;s&gt;&amp;&quot;&#x27;"),
        "state is escaped: {body}"
    );
    assert!(
        body.contains("<button type=\"submit\">Continue</button>"),
        "visible button for no-JS browsers"
    );
    golden("form_post.html", &body);
}

#[test]
fn html_error_page() {
    let response = tessera_server::pages::error_page(&invalid_scope(), &ctx());
    assert_eq!(response.status(), 400);
    for (h, v) in [
        ("x-frame-options", "DENY"),
        ("referrer-policy", "no-referrer"),
        ("x-content-type-options", "nosniff"),
    ] {
        assert_eq!(response.headers()[h], v);
    }
    let body = futures_body(response);
    assert!(!body.contains("never rendered"));
    golden("error_page.html", &body);
}

/// The whole HTTP response for an unknown route, headers included, from the real app.
#[tokio::test]
async fn not_found_response() {
    let app = TestApp::new().await;
    let reply = app
        .send(
            Request::get("/no/such/place?code=secret")
                .header("client-request-id", "6d2a1f9e-4b7c-4e1a-9f3d-2c8b7a6e5d40")
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    let mut text = format!("{}\n", reply.status.as_u16());
    for name in [
        "content-type",
        "cache-control",
        "pragma",
        "client-request-id",
        "x-trace-id",
    ] {
        text.push_str(&format!("{name}: {}\n", reply.header(name)));
    }
    text.push('\n');
    text.push_str(&reply.body);
    golden("not_found_response.txt", &text);
}

fn futures_body(response: axum::response::Response) -> String {
    use http_body_util::BodyExt;
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let bytes = rt
        .block_on(response.into_body().collect())
        .unwrap()
        .to_bytes();
    String::from_utf8(bytes.to_vec()).unwrap()
}

/// `.ci/run` refuses to run with UPDATE_GOLDEN set (it would turn every golden test
/// green), and says so before it does anything else.
#[test]
fn ci_refuses_to_run_with_update_golden_set() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let mut child = std::process::Command::new("bash")
        .arg(root.join(".ci/run"))
        .env("UPDATE_GOLDEN", "1")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if std::time::Instant::now() > deadline {
            // By its PID: it started the real CI instead of refusing.
            let _ = child.kill();
            let _ = child.wait();
            panic!(".ci/run did not refuse UPDATE_GOLDEN within 10 s");
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    };
    let mut stderr = String::new();
    std::io::Read::read_to_string(child.stderr.as_mut().unwrap(), &mut stderr).unwrap();
    assert_eq!(status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("UPDATE_GOLDEN"), "{stderr}");
}
