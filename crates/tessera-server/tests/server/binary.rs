//! The `tessera` binary as users run it: bad input exits 2 with one line naming the
//! setting; serve announces readiness, serves on SQLite and PostgreSQL, and shuts down
//! gracefully on SIGTERM without dropping in-flight requests.

use crate::support::{Process, TempDir, http_get, tessera};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;
use tessera_store::testing::postgres_or_skip;

fn stderr_of(args: &[&str], env: &[(&str, &str)]) -> (Option<i32>, String) {
    let dir = TempDir::new("cli");
    let mut cmd = tessera();
    cmd.args(args)
        .current_dir(dir.path())
        .env_remove("TESSERA_DATABASE_URL");
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().unwrap();
    (out.status.code(), String::from_utf8(out.stderr).unwrap())
}

#[test]
fn bad_settings_exit_2_with_one_line_naming_the_setting() {
    let dir = TempDir::new("badcfg");
    let bad_toml = dir.path().join("bad.toml");
    std::fs::write(&bad_toml, "listen = \"127.0.0.1:1\"\nthis is not toml\n").unwrap();
    let bad_toml = bad_toml.display().to_string();
    type Case<'a> = (Vec<&'a str>, Vec<(&'a str, &'a str)>, &'a str);
    let cases: Vec<Case> = vec![
        (
            vec!["serve", "--listen", "not-an-address"],
            vec![],
            "--listen",
        ),
        (
            vec!["serve"],
            vec![("TESSERA_LISTEN", "localhost")],
            "TESSERA_LISTEN",
        ),
        (
            vec!["serve", "--database-url", "mysql://db/x"],
            vec![],
            "--database-url",
        ),
        (
            vec!["migrate", "--database-url", "postgres://u@h:port/db"],
            vec![],
            "--database-url",
        ),
        (
            vec!["serve", "--config", &bad_toml],
            vec![],
            "invalid TOML at line 2",
        ),
        (
            vec!["serve", "--config", "/nonexistent.toml"],
            vec![],
            "--config",
        ),
        (vec!["serve", "--log-format", "xml"], vec![], "--log-format"),
        (
            vec!["serve", "--listen", "127.0.0.1:0"],
            vec![("TESSERA_PASSWORD_DENY_LIST", "/nonexistent/deny.txt")],
            "password_deny_list: cannot read /nonexistent/deny.txt",
        ),
        (vec!["serve", "--no-such-flag"], vec![], "--no-such-flag"),
        (vec!["frobnicate"], vec![], "frobnicate"),
    ];
    for (args, env, needle) in cases {
        let (code, err) = stderr_of(&args, &env);
        assert_eq!(code, Some(2), "{args:?}: {err}");
        assert_eq!(
            err.trim_end().lines().count(),
            1,
            "{args:?} printed more than one line: {err}"
        );
        assert!(
            err.contains(needle),
            "{args:?}: {err:?} should name {needle}"
        );
    }
}

#[test]
fn migrate_creates_the_sqlite_store_and_is_repeatable() {
    let dir = TempDir::new("migrate");
    for _ in 0..2 {
        let out = tessera()
            .args(["migrate"])
            .current_dir(dir.path())
            .env_remove("TESSERA_DATABASE_URL")
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    assert!(dir.path().join("tessera-data/tessera.db").exists());
}

#[tokio::test]
async fn serve_with_zero_configuration_on_sqlite() {
    let server = Process::serve(&[]);
    assert!(server.base.starts_with("http://127.0.0.1:"));
    let ready = http_get(&format!("{}/readyz", server.base), "application/json").await;
    assert_eq!(ready.status(), 200);
    let v: serde_json::Value = ready.json().await.unwrap();
    assert_eq!(v["store"], "sqlite");
    assert!(
        server.dir.path().join("tessera-data/tessera.db").exists(),
        "created on first start"
    );
    let entry = http_get(
        &format!("{}/errors/InvalidScope", server.base),
        "application/json",
    )
    .await;
    let v: serde_json::Value = entry.json().await.unwrap();
    assert_eq!(v["code"], "TS50001");
    let log = server
        .log_when(|l| l.contains("path=/errors/InvalidScope"))
        .await;
    assert_eq!(log.matches("ready on http://").count(), 1, "{log}");
    let line = log
        .lines()
        .find(|l| l.contains("path=/errors/InvalidScope"))
        .unwrap_or_else(|| panic!("no request line in {log}"));
    // The human request line, as the log format's unit test pins it byte for byte.
    let (_, rest) = line.split_once("  INFO request trace_id=").unwrap();
    let (trace_id, rest) = rest.split_once(" correlation_id=").unwrap();
    assert_eq!(trace_id.len(), 32, "{line}");
    assert!(
        rest.contains(" method=GET path=/errors/InvalidScope status=200 micros="),
        "{line}"
    );
}

#[tokio::test]
async fn request_lines_follow_tessera_log() {
    let server = Process::serve_with_env(
        &[],
        &[("TESSERA_LOG", "info,tessera_server::http::context=warn")],
    );
    http_get(&format!("{}/healthz", server.base), "application/json").await;
    // Every other line is written after the request lines still pending (and the
    // process flushes them before it exits), so once the stop line is out, the request
    // line would be too had the filter let it through: no waiting on the 50 ms batches.
    server.terminate();
    let log = server
        .log_when(|l| l.contains("stopped: every in-flight request was answered"))
        .await;
    assert!(
        log.contains("stopped: every in-flight request was answered"),
        "{log}"
    );
    assert!(
        !log.contains("/healthz"),
        "request lines filtered out: {log}"
    );
}

#[tokio::test]
async fn json_logs_with_a_flag() {
    let server = Process::serve(&["--log-format", "json"]);
    http_get(&format!("{}/healthz", server.base), "application/json").await;
    let log = server.log_when(|l| l.contains("/healthz")).await;
    let request_line = log
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .find(|v| v["message"] == "request" && v["path"] == "/healthz")
        .unwrap_or_else(|| panic!("no JSON request line in {log}"));
    assert_eq!(request_line["trace_id"].as_str().map(str::len), Some(32));
    assert_eq!(request_line["status"], 200);
}

/// SIGTERM while requests are in flight: each finishes with a complete response, new
/// connections are refused, and the process exits 0.
#[test]
fn sigterm_lets_in_flight_requests_finish_then_exits_0() {
    let mut server = Process::serve(&[]);
    let addr = server.base.trim_start_matches("http://").to_owned();
    // Eight requests whose bodies are only half sent: in flight until we finish them.
    let mut streams: Vec<TcpStream> = (0..8)
        .map(|i| {
            let mut s = TcpStream::connect(&addr).unwrap();
            s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
            write!(
                s,
                "POST /t{i}/oauth2/token HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 20\r\n\r\ngrant_type=cli"
            )
            .unwrap();
            s
        })
        .collect();
    std::thread::sleep(Duration::from_millis(300));
    server.terminate();
    std::thread::sleep(Duration::from_millis(500));
    assert!(
        server.child.try_wait().unwrap().is_none(),
        "still running while requests are in flight"
    );
    assert!(
        TcpStream::connect(&addr).is_err(),
        "no new connections after SIGTERM"
    );
    for s in &mut streams {
        s.write_all(b"ent_cr").unwrap();
    }
    for s in &mut streams {
        let mut response = String::new();
        s.read_to_string(&mut response).unwrap();
        assert!(response.starts_with("HTTP/1.1 404"), "{response}");
        let body = response.split("\r\n\r\n").nth(1).unwrap();
        let v: serde_json::Value = serde_json::from_str(body).unwrap();
        assert_eq!(
            v["error_codes"][0],
            // The token endpoint exists; the tenants t0.. do not.
            tessera_core::errors::ErrorName::TenantNotFound.entry().code
        );
    }
    let status = server
        .wait_exit(Duration::from_secs(10))
        .expect("exits after the last response");
    assert_eq!(status.code(), Some(0));
    assert!(server.log().contains("stopped"));
}

#[tokio::test]
async fn serve_on_postgres_and_report_unready_when_its_database_goes() {
    let Some(db) = postgres_or_skip("server::binary::serve_on_postgres").await else {
        return;
    };
    let server = Process::serve(&["--database-url", &db.url]);
    let ready = http_get(&format!("{}/readyz", server.base), "application/json").await;
    assert_eq!(ready.status(), 200);
    let v: serde_json::Value = ready.json().await.unwrap();
    assert_eq!(v["store"], "postgres");
    // Take the database away underneath the running server.
    drop(db);
    let gone = http_get(&format!("{}/readyz", server.base), "application/json").await;
    assert_eq!(gone.status(), 503);
    let v: serde_json::Value = gone.json().await.unwrap();
    assert_eq!(v["error"], "temporarily_unavailable");
}

/// `serve --demo` imports its tenant and walks the whole flow to a page of decoded
/// tokens, in a browser-like client that follows the pages.
#[tokio::test]
async fn serve_demo_walks_the_flow_to_decoded_tokens() {
    use crate::oidc::{location_params, submit};
    let server = Process::serve(&["--demo"]);
    let base = server.base.clone();
    let b = crate::oidc::browser();
    let start = b.get(format!("{base}/demo-app")).send().await.unwrap();
    assert_eq!(start.status(), 302);
    let authorize = start.headers()["location"].to_str().unwrap().to_owned();
    assert!(authorize.starts_with(&format!("{base}/demo/oauth2/authorize?")));
    let page = b
        .get(&authorize)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let consent = submit(
        &b,
        &base,
        &page,
        "/demo/signin/password",
        &[
            ("username", "demo"),
            ("password", tessera_server::routes::demo::PASSWORD),
        ],
    )
    .await
    .text()
    .await
    .unwrap();
    let redirect = submit(
        &b,
        &base,
        &consent,
        "/demo/signin/consent",
        &[("decision", "allow")],
    )
    .await;
    let (target, _) = location_params(&redirect);
    assert_eq!(target, format!("{base}/demo-app/callback"));
    let shown = b
        .get(redirect.headers()["location"].to_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(shown.status(), 200);
    let html = shown.text().await.unwrap();
    assert!(
        html.contains("Signed in")
            && html.contains("preferred_username")
            && html.contains("at+jwt"),
        "{html}"
    );
    assert!(
        html.contains("Issued: its record sealed"),
        "offline_access gave a refresh token"
    );
}

/// On SIGTERM a node on PostgreSQL ends its database sessions with the protocol's
/// Terminate: PostgreSQL counts none of them as abandoned (`pg_stat_database`), where
/// a node that only exits leaves one per connection (and a "connection reset" line in
/// the database's log on every restart).
#[tokio::test]
async fn sigterm_on_postgres_ends_every_database_session_cleanly() {
    use sqlx::Connection;
    let Some(db) = postgres_or_skip("server::binary::sigterm_on_postgres").await else {
        return;
    };
    let mut server = Process::serve(&["--database-url", &db.url]);
    // Requests that use the store: readiness (the pool), a tenant's discovery and
    // an unknown tenant (single statements, over the lane).
    for path in [
        "/readyz",
        "/admin/.well-known/openid-configuration",
        "/no-such-tenant/.well-known/openid-configuration",
    ] {
        let r = http_get(&format!("{}{path}", server.base), "application/json").await;
        assert!(
            r.status() == 200 || r.status() == 404,
            "{path}: {}",
            r.status()
        );
    }
    // At once: the start-up sweep may still be running and the change listener
    // subscribing, which must end cleanly too.
    server.terminate();
    let (status, server) =
        tokio::task::spawn_blocking(move || (server.wait_exit(Duration::from_secs(10)), server))
            .await
            .unwrap();
    let status = status.expect("exits after SIGTERM");
    assert_eq!(status.code(), Some(0));
    let mut conn = sqlx::PgConnection::connect(&db.url).await.unwrap();
    let mut stats = (0, 0, 0);
    for _ in 0..100 {
        stats = sqlx::query_as::<_, (i32, i64, i64)>(
            "SELECT numbackends, sessions, sessions_abandoned FROM pg_stat_database \
             WHERE datname = current_database()",
        )
        .fetch_one(&mut conn)
        .await
        .unwrap();
        // Only this connection left, and the node's sessions counted.
        if stats.0 == 1 && stats.1 >= 2 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let (backends, sessions, abandoned) = stats;
    assert_eq!(backends, 1, "the node's sessions are gone");
    assert!(sessions >= 2, "the node's sessions are counted: {sessions}");
    assert_eq!(abandoned, 0, "of {sessions} sessions; {}", server.log());
    let _ = conn.close().await;
}

/// Secrets never reach the log: after a sign-in (password in a form), a code (in the
/// callback's query), its redemption with a client secret, a refresh and a UserInfo
/// call with the access token, the log holds none of those values, at any level.
#[tokio::test]
async fn no_secret_reaches_the_log() {
    use crate::oidc::{browser, hidden, location_params, param};
    let mut server = Process::serve_with_env(&["--demo"], &[("TESSERA_LOG", "debug")]);
    // The bootstrap credential is printed once on stderr, never through the log.
    // Its stderr is read to the end on a thread of its own: a pipe closed early would
    // fail the server's next write there.
    let credential = {
        let err = server.child.stderr.take().unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in std::io::BufRead::lines(std::io::BufReader::new(err)).map_while(Result::ok)
            {
                if line.contains("bootstrap admin credential") {
                    let _ = tx.send(
                        line.rsplit(": ")
                            .next()
                            .unwrap_or_default()
                            .trim()
                            .to_owned(),
                    );
                }
            }
        });
        rx.recv_timeout(Duration::from_secs(10))
            .expect("the bootstrap credential line")
    };
    let base = server.base.clone();
    let http = super::support::http_client().build().unwrap();
    let admin = |method: reqwest::Method, path: &str| {
        http.request(method, format!("{base}/admin/api/v1/tenants/demo{path}"))
            .bearer_auth(&credential)
    };
    let cb = "https://logcheck.test/cb";
    let r = admin(reqwest::Method::POST, "/apps")
        .json(&serde_json::json!({
            "client_id": "logcheck", "name": "Log check",
            "redirect_uris": { "web": [cb] },
            "grant_types": ["authorization_code", "refresh_token"],
            "admin_consented": true }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
    let secret: serde_json::Value = admin(reqwest::Method::POST, "/apps/logcheck/secrets")
        .json(&serde_json::json!({}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let secret = secret["value"].as_str().unwrap().to_owned();

    let b = browser();
    let q = serde_urlencoded::to_string([
        ("client_id", "logcheck"),
        ("redirect_uri", cb),
        ("response_type", "code"),
        ("scope", "openid offline_access"),
        ("state", "s"),
    ])
    .unwrap();
    let page = b
        .get(format!("{base}/demo/oauth2/authorize?{q}"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let password = tessera_server::routes::demo::PASSWORD;
    let redirect = b
        .post(format!("{base}/demo/signin/password"))
        .form(&[
            ("csrf_token", hidden(&page, "csrf_token")),
            ("request", hidden(&page, "request")),
            ("username", "demo".into()),
            ("password", password.into()),
        ])
        .send()
        .await
        .unwrap();
    let (_, query) = location_params(&redirect);
    let code = param(&query, "code").expect("a code").to_owned();
    let token = |form: Vec<(&'static str, String)>| {
        http.post(format!("{base}/demo/oauth2/token"))
            .form(&form)
            .send()
    };
    let redemption = [
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("redirect_uri", cb),
        ("client_id", "logcheck"),
        ("client_secret", secret.as_str()),
    ];
    let redeem = || {
        token(
            redemption
                .iter()
                .map(|(k, v)| (*k, (*v).to_owned()))
                .collect(),
        )
    };
    let tokens: serde_json::Value = redeem().await.unwrap().json().await.unwrap();
    let refresh = tokens["refresh_token"].as_str().unwrap().to_owned();
    let access = tokens["access_token"].as_str().unwrap().to_owned();
    let rotated: serde_json::Value = token(vec![
        ("grant_type", "refresh_token".into()),
        ("refresh_token", refresh.clone()),
        ("client_id", "logcheck".into()),
        ("client_secret", secret.clone()),
    ])
    .await
    .unwrap()
    .json()
    .await
    .unwrap();
    let new_refresh = rotated["refresh_token"].as_str().unwrap().to_owned();
    // The code again: a replay, refused and logged as an error.
    let replay = redeem().await.unwrap();
    assert_eq!(replay.status(), 400);
    // The replay revoked the first access token; the rotated one still works.
    let new_access = rotated["access_token"].as_str().unwrap().to_owned();
    let r = http
        .get(format!("{base}/demo/oauth2/userinfo"))
        .bearer_auth(&new_access)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);

    let log = server
        .log_when(|l| l.matches("/demo/oauth2/token").count() >= 3 && l.contains("/userinfo"))
        .await;
    assert!(log.matches("/demo/oauth2/token").count() >= 3, "{log}");
    for (what, value) in [
        ("password", password),
        ("code", code.as_str()),
        ("client secret", secret.as_str()),
        ("refresh token", refresh.as_str()),
        ("rotated refresh token", new_refresh.as_str()),
        ("access token", access.as_str()),
        ("rotated access token", new_access.as_str()),
        ("bootstrap credential", credential.as_str()),
    ] {
        assert!(!log.contains(value), "the {what} is in the log");
    }
}

/// A start without `--demo` on a store that ran with it disables the demo account (its
/// password is public) and ends its sign-ins; `--demo` enables it again; an account
/// whose password was changed is left alone.
#[tokio::test]
async fn a_start_without_demo_disables_the_demo_account() {
    use tessera_core::directory::model::User;
    use tessera_core::store::object::ObjectKind;
    use tessera_server::routes::demo;
    let app = crate::support::TestApp::new().await;
    let user = || async {
        let slug = tessera_core::tenant::TenantSlug::parse(demo::TENANT).unwrap();
        let tenant = app.state.store.tenant(&slug).await.unwrap().unwrap();
        tessera_core::store::read::get::<User>(
            app.state.store.as_ref(),
            tenant.id,
            ObjectKind::User,
            demo::USERNAME,
        )
        .await
        .unwrap()
        .unwrap()
        .1
    };
    assert!(
        !demo::retire(&app.state).await.unwrap(),
        "no demo tenant yet"
    );
    demo::setup(&app.state).await.unwrap();
    assert!(user().await.enabled);
    app.clock.advance(time::Duration::seconds(1));
    assert!(demo::retire(&app.state).await.unwrap());
    let retired = user().await;
    assert!(!retired.enabled);
    assert!(retired.sessions_valid_from.is_some(), "its sign-ins ended");
    assert!(!demo::retire(&app.state).await.unwrap(), "once");
    demo::setup(&app.state).await.unwrap();
    assert!(user().await.enabled, "--demo enables it again");
    // A changed password is the operator's own: the account stays.
    let changed = app
        .admin(
            "POST",
            "/admin/api/v1/tenants/demo/users/demo/password",
            Some(serde_json::json!({"password": "a password nobody printed"})),
        )
        .await;
    assert_eq!(changed.status, 204, "{}", changed.body);
    assert!(!demo::retire(&app.state).await.unwrap());
    assert!(user().await.enabled);
}
