//! The browsable catalogue (`/errors`, `/errors/{code}`), `tessera explain`, and the
//! generated docs/errors.md.

use crate::support::{TestApp, tessera};
use tessera_core::errors::{CATALOG, ErrorName};

const BROWSER: &str = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8";

#[tokio::test]
async fn entry_as_json_by_name_and_by_code() {
    let app = TestApp::new().await;
    for key in ["InvalidScope", "invalidscope", "TS50001", "50001"] {
        let reply = app
            .get(&format!("/errors/{key}"), Some("application/json"))
            .await;
        assert_eq!(reply.status, 200, "{key}");
        let v = reply.json();
        assert_eq!(v["code"], "TS50001");
        assert_eq!(v["name"], "InvalidScope");
        assert_eq!(v["oauth_error"], "invalid_scope");
        assert_eq!(v["status"], 400);
        assert_eq!(v["family"], "consent");
        assert!(v["causes"].as_array().is_some_and(|c| !c.is_empty()));
        assert!(
            v["developer_action"]
                .as_str()
                .is_some_and(|s| !s.is_empty())
        );
        assert!(v["user_action"].as_str().is_some_and(|s| !s.is_empty()));
        assert_eq!(v["parameters"][0], "scope");
    }
}

#[tokio::test]
async fn entry_as_html_for_browsers() {
    let app = TestApp::new().await;
    let reply = app.get("/errors/TS50001", Some(BROWSER)).await;
    assert_eq!(reply.status, 200);
    assert!(reply.header("content-type").starts_with("text/html"));
    assert!(
        reply
            .header("content-security-policy")
            .contains("frame-ancestors 'none'")
    );
    let entry = ErrorName::InvalidScope.entry();
    assert!(reply.body.contains("TS50001 InvalidScope"));
    assert!(
        reply
            .body
            .contains(entry.developer_action.split('\'').next().unwrap())
    );
}

#[tokio::test]
async fn unknown_entry_is_a_catalogued_404() {
    let app = TestApp::new().await;
    let reply = app.get("/errors/TS99998", Some("application/json")).await;
    assert_eq!(reply.status, 404);
    assert_eq!(
        reply.json()["error_codes"][0],
        ErrorName::EndpointNotFound.entry().code
    );
    let page = app.get("/errors/NoSuchThing", Some(BROWSER)).await;
    assert_eq!(page.status, 404);
    assert!(
        page.body
            .contains(&ErrorName::EndpointNotFound.entry().code_str())
    );
}

#[tokio::test]
async fn index_lists_every_entry_by_family() {
    let app = TestApp::new().await;
    let reply = app.get("/errors", Some(BROWSER)).await;
    assert_eq!(reply.status, 200);
    for e in CATALOG {
        assert!(
            reply
                .body
                .contains(&format!("<a href=\"/errors/{0}\">{0}</a>", e.code_str())),
            "{}",
            e.name
        );
    }
    for family in [
        "request", "client", "grant", "user", "consent", "tenant", "external", "admin", "server",
    ] {
        assert!(
            reply.body.contains(&format!("id=\"family-{family}\"")),
            "{family}"
        );
    }
    let json = app.get("/errors", Some("application/json")).await.json();
    assert_eq!(json["entries"].as_array().unwrap().len(), CATALOG.len());
}

#[tokio::test]
async fn index_filters_by_code_or_name() {
    let app = TestApp::new().await;
    let by_name = app.get("/errors?q=pkce", Some(BROWSER)).await;
    assert!(by_name.body.contains("<td>PkceVerifierMismatch</td>"));
    assert!(!by_name.body.contains("<td>InvalidScope</td>"));
    let by_code = app
        .get("/errors?q=TS50001", Some("application/json"))
        .await
        .json();
    let names: Vec<_> = by_code["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["name"].clone())
        .collect();
    assert_eq!(names, ["InvalidScope"]);
    let none = app.get("/errors?q=%3Cscript%3E", Some(BROWSER)).await;
    assert!(none.body.contains("0 entries match"));
    assert!(
        none.body.contains("&lt;script&gt;") && !none.body.contains("<script>"),
        "query is escaped"
    );
}

#[test]
fn explain_prints_an_entry_by_name_or_code() {
    let out = tessera()
        .args(["explain", "InvalidScope"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.starts_with("### TS50001 InvalidScope"), "{text}");
    assert!(text.contains("What the app developer should do"));
    let by_code = tessera()
        .args(["explain", "TS50001", "--json"])
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&by_code.stdout).unwrap();
    assert_eq!(v["name"], "InvalidScope");
}

/// A reader that stops early (`tessera explain --all | head`) ends the output quietly:
/// exit 0, nothing on stderr, no panic.
#[test]
fn explain_into_a_reader_that_stops_early_ends_quietly() {
    use std::io::Read;
    let mut child = tessera()
        .args(["explain", "--all"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = [0u8; 64];
    child
        .stdout
        .as_mut()
        .unwrap()
        .read_exact(&mut first)
        .unwrap();
    // The reader goes away with most of the catalogue still unwritten.
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{err}");
    assert!(err.is_empty(), "{err}");
}

#[test]
fn explain_of_an_unknown_code_exits_2_with_one_line() {
    let out = tessera().args(["explain", "TS12345"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8(out.stderr).unwrap();
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("TS12345"));
}

/// docs/errors.md is generated from the catalogue; this fails when it is stale.
/// Regenerate with `cargo run -q -- explain --all --markdown > docs/errors.md`.
#[test]
fn committed_error_reference_is_current() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/errors.md");
    let committed = std::fs::read_to_string(&path).unwrap();
    let generated = tessera_core::errors::markdown::document();
    assert!(
        committed.trim_end() == generated.trim_end(),
        "docs/errors.md is stale: run `cargo run -q -- explain --all --markdown > docs/errors.md`"
    );
}
