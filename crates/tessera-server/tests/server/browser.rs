//! A real browser (Debian's headless Chromium through chromedriver and fantoccini)
//! signs in through the pages, consents, and reaches the app's callback — once with the
//! `query` response mode, then (same browser, SSO) with `form_post`, whose auto-submit
//! script must run under the page's CSP; approves a device; picks between two accounts
//! and signs out; finds its tenant through `/common`, where an administrator adds a
//! multi-tenant app. axe-core checks every page. Skipped visibly without Chromium; a failure
//! under TESSERA_TEST_REQUIRE_ALL=1.

use super::oidc::*;
use axum::routing::get;
use fantoccini::{ClientBuilder, Locator};
use std::io::{BufRead, BufReader};
use std::os::unix::process::CommandExt;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
/// axe-core, which `.ci/run` installs with npm (`TESSERA_TEST_AXE` names another copy).
const AXE: &str = "/opt/axe/node_modules/axe-core/axe.min.js";

/// The WCAG 2.1 A and AA violations axe-core finds on the page the browser shows, each
/// as `rule: elements`. `None` (a visible skip) without axe-core.
async fn wcag_violations(b: &fantoccini::Client) -> Option<Vec<String>> {
    let path = std::env::var("TESSERA_TEST_AXE").unwrap_or_else(|_| AXE.to_owned());
    let Ok(source) = std::fs::read_to_string(&path) else {
        tessera_store::testing::skip(
            "accessibility",
            "axe-core is not installed (npm install --prefix /opt/axe axe-core)",
        );
        return None;
    };
    // Run by the driver, not by the page: the pages' CSP allows no script of theirs.
    b.execute(&source, vec![]).await.unwrap();
    let found = b
        .execute_async(
            r#"const done = arguments[arguments.length - 1];
               axe.run(document, { runOnly: { type: 'tag',
                   values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] } })
                 .then(r => done(r.violations.map(v =>
                     v.id + ': ' + v.nodes.map(n => n.target.join(' ')).join(', '))))
                 .catch(e => done(['axe-core failed: ' + e]));"#,
            vec![],
        )
        .await
        .unwrap();
    Some(serde_json::from_value(found).unwrap())
}

/// Asserts that the page the browser shows meets WCAG 2.1 AA as far as axe-core checks.
async fn assert_accessible(b: &fantoccini::Client, page: &str) {
    if let Some(violations) = wcag_violations(b).await {
        assert!(violations.is_empty(), "{page}: {violations:#?}");
    }
}

/// chromedriver in its own process group, killed with everything it started on drop.
struct Driver {
    child: Child,
    url: String,
    _profile: super::support::TempDir,
}

impl Driver {
    fn start() -> Option<Self> {
        if !std::path::Path::new(CHROMIUM).exists() || !std::path::Path::new(CHROMEDRIVER).exists()
        {
            tessera_store::testing::skip(
                "browser",
                "Chromium or chromedriver is not installed (apt-get install chromium chromium-driver)",
            );
            return None;
        }
        let mut child = Command::new(CHROMEDRIVER)
            .arg("--port=0")
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .process_group(0)
            .spawn()
            .unwrap();
        let out = child.stdout.take().unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(out).lines().map_while(Result::ok) {
                // "ChromeDriver was started successfully on port 41234." (an earlier line
                // says "on port 0": the port asked for).
                if let Some(rest) =
                    line.strip_prefix("ChromeDriver was started successfully on port ")
                {
                    let _ = tx.send(rest.trim_end_matches('.').trim().to_owned());
                }
            }
        });
        let port = rx
            .recv_timeout(Duration::from_secs(20))
            .expect("chromedriver prints its port");
        Some(Self {
            child,
            url: format!("http://127.0.0.1:{port}"),
            _profile: super::support::TempDir::new("chrome"),
        })
    }

    async fn browser(&self) -> fantoccini::Client {
        let args = [
            "--headless=new".to_owned(),
            "--no-sandbox".to_owned(),
            "--disable-gpu".to_owned(),
            "--disable-dev-shm-usage".to_owned(),
            "--disable-background-networking".to_owned(),
            "--disable-component-update".to_owned(),
            "--disable-sync".to_owned(),
            "--no-first-run".to_owned(),
            format!("--user-data-dir={}", self._profile.path().display()),
        ];
        let mut caps = serde_json::Map::new();
        caps.insert(
            "goog:chromeOptions".into(),
            serde_json::json!({ "binary": CHROMIUM, "args": args }),
        );
        ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
            .capabilities(caps)
            .connect(&self.url)
            .await
            .unwrap()
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        // pkill -g: procps' `kill -KILL -<pgid>` misreads a negative pid as an option.
        let _ = Command::new("pkill")
            .args(["-KILL", "-g", &self.child.id().to_string()])
            .status();
        let _ = self.child.wait();
    }
}

/// The relying party's callback: echoes what it received (GET query or POST form).
async fn start_rp() -> String {
    async fn echo(
        method: axum::http::Method,
        uri: axum::http::Uri,
        body: String,
    ) -> axum::response::Html<String> {
        let received = if body.is_empty() {
            uri.query().unwrap_or_default().to_owned()
        } else {
            body
        };
        // The method is shown so a test can tell form_post from a query redirect.
        let received = format!("{method} {received}");
        axum::response::Html(format!(
            "<!DOCTYPE html><title>callback</title><pre id=\"received\">{received}</pre>"
        ))
    }
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        let _ = axum::serve(
            listener,
            axum::Router::new().route("/callback", get(echo).post(echo)),
        )
        .await;
    });
    base
}

async fn wait_for_url(b: &fantoccini::Client, prefix: &str) -> url::Url {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let url = b.current_url().await.unwrap();
        if url.as_str().starts_with(prefix) {
            return url;
        }
        assert!(
            Instant::now() < deadline,
            "still at {url}, waiting for {prefix}: {}",
            b.source().await.unwrap_or_default()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn pkce() -> (String, String) {
    use base64::Engine;
    use sha2::Digest;
    let verifier = "browser-test-verifier-0123456789-abcdefghijklmnop".to_owned();
    let challenge = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .encode(sha2::Sha256::digest(verifier.as_bytes()));
    (verifier, challenge)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_browser_signs_in_consents_and_reaches_the_app() {
    let Some(driver) = Driver::start() else {
        return;
    };
    let served = server(None).await;
    let rp = start_rp().await;
    // A native app's loopback redirect URI matches on any port (RFC 8252 §7.3).
    let callback = format!("{rp}/callback");
    let (verifier, challenge) = pkce();
    let authorize = |mode: &str| {
        let q = serde_urlencoded::to_string([
            ("client_id", "native-app"),
            ("response_type", "code"),
            ("redirect_uri", callback.as_str()),
            ("scope", "openid profile"),
            ("state", "st-1"),
            ("nonce", "n-1"),
            ("code_challenge", challenge.as_str()),
            ("code_challenge_method", "S256"),
            ("response_mode", mode),
        ])
        .unwrap();
        format!("{}/{TENANT}/oauth2/authorize?{q}", served.base)
    };

    let b = driver.browser().await;
    b.goto(&authorize("query")).await.unwrap();
    assert_accessible(&b, "the sign-in page").await;
    b.find(Locator::Css("#username"))
        .await
        .unwrap()
        .send_keys("alice")
        .await
        .unwrap();
    b.find(Locator::Css("#password"))
        .await
        .unwrap()
        .send_keys(PASSWORD)
        .await
        .unwrap();
    b.find(Locator::Css("#sign-in"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let consent_url = format!("{}/{TENANT}/signin/password", served.base);
    wait_for_url(&b, &consent_url).await;
    let page = b.source().await.unwrap();
    assert!(page.contains("Fabrikam Desktop wants to"), "{page}");
    assert_accessible(&b, "the consent page").await;
    b.find(Locator::Css("#allow"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let landed = wait_for_url(&b, &callback).await;
    let params: Vec<(String, String)> = landed
        .query_pairs()
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    assert_eq!(param(&params, "state"), Some("st-1"));
    let code = param(&params, "code").unwrap().to_owned();
    let tokens = super::support::http_client()
        .build()
        .unwrap()
        .post(format!("{}/{TENANT}/oauth2/token", served.base))
        .form(&[
            ("grant_type", "authorization_code"),
            ("client_id", "native-app"),
            ("code", code.as_str()),
            ("redirect_uri", callback.as_str()),
            ("code_verifier", verifier.as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(tokens.status(), 200);
    let tokens: serde_json::Value = tokens.json().await.unwrap();
    assert!(tokens["id_token"].is_string());

    // Same browser: the session signs in again without the form, and form_post's
    // script submits the response to the app by itself.
    b.goto(&authorize("form_post")).await.unwrap();
    wait_for_url(&b, &callback).await;
    let deadline = Instant::now() + Duration::from_secs(10);
    let received = loop {
        let text = b
            .find(Locator::Css("#received"))
            .await
            .map(|e| async move { e.text().await.unwrap_or_default() });
        if let Ok(t) = text {
            let t = t.await;
            if t.contains("code=") {
                break t;
            }
        }
        assert!(Instant::now() < deadline, "form_post never reached the app");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert!(
        received.starts_with("POST ")
            && received.contains("state=st-1")
            && received.contains("iss="),
        "form_post delivers the response in a POSTed form: {received}"
    );
    // An error page, and the catalogue's pages.
    b.goto(&format!(
        "{}/{TENANT}/oauth2/authorize?client_id=nobody",
        served.base
    ))
    .await
    .unwrap();
    wait_for_text(&b, "TS20001").await;
    assert_accessible(&b, "an error page").await;
    for path in ["/errors", "/errors/TS20001"] {
        b.goto(&format!("{}{path}", served.base)).await.unwrap();
        assert_accessible(&b, path).await;
    }
    // The account pages: signed in (the SSO session), with the consent just given,
    // and the password form.
    b.goto(&format!("{}/{TENANT}/account", served.base))
        .await
        .unwrap();
    wait_for_text(&b, "Your account").await;
    assert_accessible(&b, "the account page").await;
    b.goto(&format!("{}/{TENANT}/account/password", served.base))
        .await
        .unwrap();
    wait_for_text(&b, "Change your password").await;
    assert_accessible(&b, "the password page").await;
    b.close().await.unwrap();
}

/// Fills `#id` with `text`.
async fn type_into(b: &fantoccini::Client, id: &str, text: &str) {
    b.find(Locator::Css(id))
        .await
        .unwrap()
        .send_keys(text)
        .await
        .unwrap();
}

async fn click(b: &fantoccini::Client, id: &str) {
    b.find(Locator::Css(id))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
}

/// Waits until the page's text contains `words`.
async fn wait_for_text(b: &fantoccini::Client, words: &str) -> String {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let page = b.source().await.unwrap_or_default();
        if page.contains(words) {
            return page;
        }
        assert!(Instant::now() < deadline, "never saw {words:?}: {page}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// RFC 8628 end to end: a device starts, the user opens the verification page in a real
/// browser, mistypes the code once, types it (lower case, no hyphen), signs in, sees
/// which app on which device asks, allows; the device's next poll gets the tokens.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_browser_approves_a_device() {
    use super::device_flow::{TV, device_server, poll, start};
    let Some(driver) = Driver::start() else {
        return;
    };
    let served = device_server().await;
    let started: serde_json::Value = start(&served, TV, &format!("openid {API}/read"))
        .await
        .json()
        .await
        .unwrap();
    let user_code = started["user_code"].as_str().unwrap().to_owned();
    let device_code = started["device_code"].as_str().unwrap().to_owned();
    assert_eq!(poll(&served, &device_code).await.status(), 400);

    let b = driver.browser().await;
    b.goto(started["verification_uri"].as_str().unwrap())
        .await
        .unwrap();
    assert_accessible(&b, "the device code page").await;
    type_into(&b, "#user_code", "BCDF-GHJK").await;
    click(&b, "#continue").await;
    wait_for_text(&b, "TS30023").await;
    assert_accessible(&b, "the device code page with an error").await;
    // The field keeps what was typed; replace it with the real code, as a person would
    // type it.
    b.find(Locator::Css("#user_code"))
        .await
        .unwrap()
        .clear()
        .await
        .unwrap();
    type_into(&b, "#user_code", &user_code.replace('-', "").to_lowercase()).await;
    click(&b, "#continue").await;
    wait_for_text(&b, "autocomplete=\"current-password\"").await;
    assert_accessible(&b, "the device sign-in page").await;
    type_into(&b, "#username", "alice").await;
    type_into(&b, "#password", PASSWORD).await;
    click(&b, "#sign-in").await;
    let confirm = wait_for_text(&b, "A device is asking").await;
    assert_accessible(&b, "the device confirmation page").await;
    assert!(
        confirm.contains("Fabrikam TV") && confirm.contains("FabrikamTV/2.1 (living room)"),
        "{confirm}"
    );
    click(&b, "#allow").await;
    wait_for_text(&b, "You may return to your device").await;
    assert_accessible(&b, "the device done page").await;
    b.close().await.unwrap();

    served.app.clock.advance(time::Duration::seconds(5));
    let r = poll(&served, &device_code).await;
    assert_eq!(r.status(), 200);
    let tokens: serde_json::Value = r.json().await.unwrap();
    assert!(tokens["access_token"].is_string() && tokens["id_token"].is_string());
}

/// Two people in one browser: alice signs in, then bob (prompt=login); the next request
/// shows the account picker, where bob is chosen; then signing out (RP-initiated logout)
/// asks to confirm, lists both accounts, and ends both sessions. Every page is checked
/// with axe-core.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_browser_picks_between_two_accounts_and_signs_out() {
    let Some(driver) = Driver::start() else {
        return;
    };
    let served = server(None).await;
    let rp = start_rp().await;
    let callback = format!("{rp}/callback");
    let (_, challenge) = pkce();
    let authorize = |prompt: Option<&str>| {
        let mut q = vec![
            ("client_id", "native-app"),
            ("response_type", "code"),
            ("redirect_uri", callback.as_str()),
            ("scope", "openid profile"),
            ("state", "st-2"),
            ("code_challenge", challenge.as_str()),
            ("code_challenge_method", "S256"),
        ];
        if let Some(p) = prompt {
            q.push(("prompt", p));
        }
        format!(
            "{}/{TENANT}/oauth2/authorize?{}",
            served.base,
            serde_urlencoded::to_string(q).unwrap()
        )
    };
    let b = driver.browser().await;
    for (user, prompt) in [("alice", None), ("bob", Some("login"))] {
        b.goto(&authorize(prompt)).await.unwrap();
        wait_for_text(&b, "autocomplete=\"current-password\"").await;
        type_into(&b, "#username", user).await;
        type_into(&b, "#password", PASSWORD).await;
        click(&b, "#sign-in").await;
        wait_for_text(&b, "Fabrikam Desktop wants to").await;
        click(&b, "#allow").await;
        wait_for_url(&b, &callback).await;
    }

    b.goto(&authorize(None)).await.unwrap();
    let picker = wait_for_text(&b, "Pick an account").await;
    assert!(
        picker.contains("Alice Example") && picker.contains("bob"),
        "{picker}"
    );
    assert_accessible(&b, "the account picker").await;
    b.find(Locator::XPath("//button[contains(., 'bob')]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let landed = wait_for_url(&b, &callback).await;
    assert!(landed.query_pairs().any(|(k, _)| k == "code"), "{landed}");

    b.goto(&format!("{}/{TENANT}/oauth2/logout", served.base))
        .await
        .unwrap();
    let confirm = wait_for_text(&b, "Sign out?").await;
    assert!(
        confirm.contains("alice") && confirm.contains("bob"),
        "{confirm}"
    );
    assert_accessible(&b, "the sign-out confirmation").await;
    click(&b, "#sign-out").await;
    wait_for_text(&b, "You signed out").await;
    assert_accessible(&b, "the signed-out page").await;
    b.goto(&authorize(None)).await.unwrap();
    wait_for_text(&b, "autocomplete=\"current-password\"").await;
    b.close().await.unwrap();
}

/// A multi-tenant app through `/common`: an administrator of northwind finds their
/// tenant on the page that asks for it (mistyping it once), signs in and adds the app;
/// then a sign-in through `/common` reaches the app's callback from northwind. Every
/// page is checked with axe-core.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_browser_finds_its_tenant_and_an_administrator_adds_the_app() {
    use super::multi_tenant::{SECRET, server as multi_tenant_server};
    let Some(driver) = Driver::start() else {
        return;
    };
    let served = multi_tenant_server(None).await;
    let rp = start_rp().await;
    let callback = format!("{rp}/callback");
    // Import adds to what is there: contoso gains an app whose callback is this test's.
    served
        .app
        .import(
            serde_json::json!({ "tenants": [ { "slug": "contoso", "apps": [
            { "client_id": "mt-browser", "name": "Contoso Portal", "multi_tenant": true,
              "redirect_uris": { "web": [callback] }, "secrets": [ { "value": SECRET } ] } ] } ] }),
        )
        .await;
    let b = driver.browser().await;
    let query = |extra: &[(&str, &str)]| {
        let mut q = vec![
            ("client_id", "mt-browser"),
            ("redirect_uri", callback.as_str()),
        ];
        q.extend_from_slice(extra);
        serde_urlencoded::to_string(q).unwrap()
    };

    b.goto(&format!(
        "{}/common/adminconsent?{}",
        served.base,
        query(&[("state", "ac")])
    ))
    .await
    .unwrap();
    wait_for_text(&b, "Find your organization").await;
    assert_accessible(&b, "the tenant page").await;
    type_into(&b, "#domain_hint", "northwnd").await;
    click(&b, "#continue").await;
    wait_for_text(&b, "TS60001").await;
    assert_accessible(&b, "the tenant page with an error").await;
    b.find(Locator::Css("#domain_hint"))
        .await
        .unwrap()
        .clear()
        .await
        .unwrap();
    type_into(&b, "#domain_hint", "Northwind").await;
    click(&b, "#continue").await;
    wait_for_text(&b, "autocomplete=\"current-password\"").await;
    type_into(&b, "#username", "nina").await;
    type_into(&b, "#password", PASSWORD).await;
    click(&b, "#sign-in").await;
    let page = wait_for_text(&b, "Add Contoso Portal to Northwind").await;
    assert!(page.contains("Contoso"), "{page}");
    assert_accessible(&b, "the admin-consent page").await;
    click(&b, "#allow").await;
    let landed = wait_for_url(&b, &callback).await;
    assert!(
        landed
            .query_pairs()
            .any(|(k, v)| k == "admin_consent" && v == "True"),
        "{landed}"
    );

    // nina's session at northwind serves the sign-in; /common asks for the tenant first.
    b.goto(&format!(
        "{}/common/oauth2/authorize?{}",
        served.base,
        query(&[
            ("response_type", "code"),
            ("scope", "openid"),
            ("state", "st")
        ])
    ))
    .await
    .unwrap();
    wait_for_text(&b, "Find your organization").await;
    type_into(&b, "#domain_hint", "northwind").await;
    click(&b, "#continue").await;
    let landed = wait_for_url(&b, &callback).await;
    let iss = format!("{}/northwind", served.base);
    assert!(
        landed.query_pairs().any(|(k, _)| k == "code")
            && landed
                .query_pairs()
                .any(|(k, v)| k == "iss" && v == iss.as_str()),
        "{landed}"
    );
    b.close().await.unwrap();
}

/// TOTP in a real browser: alice sets up an authenticator on her account page (the key
/// read off the page, the code computed by the test as an app would), saves her
/// recovery codes; then a native app's sign-in with `prompt=login` asks for a code
/// after the password, refuses a wrong one, and reaches the app with the right one.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_browser_enrols_an_authenticator_and_signs_in_with_its_codes() {
    use tessera_core::clock::Clock;
    use tessera_core::directory::totp;
    let Some(driver) = Driver::start() else {
        return;
    };
    let served = server(None).await;
    let code_now = |secret: &str, steps: i64| {
        let key = totp::secret_bytes(secret).unwrap();
        totp::code_at(
            &key,
            totp::step_of(served.app.clock.now()) + steps,
            totp::DIGITS,
        )
    };
    let b = driver.browser().await;
    b.goto(&format!("{}/{TENANT}/account", served.base))
        .await
        .unwrap();
    wait_for_text(&b, "autocomplete=\"current-password\"").await;
    type_into(&b, "#username", "alice").await;
    type_into(&b, "#password", PASSWORD).await;
    click(&b, "#sign-in").await;
    wait_for_text(&b, "set-up-authenticator").await;
    click(&b, "#set-up-authenticator").await;
    wait_for_text(&b, "totp-secret").await;
    assert_accessible(&b, "the authenticator enrolment page").await;
    let secret = b
        .find(Locator::Css("#totp-secret"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    type_into(&b, "#code", &code_now(&secret, 0)).await;
    click(&b, "#verify").await;
    wait_for_text(&b, "recovery-codes").await;
    assert_accessible(&b, "the recovery codes page").await;
    click(&b, "#continue").await;
    wait_for_text(&b, "authenticator-enrolled").await;
    b.close().await.unwrap();

    served.app.clock.advance(time::Duration::seconds(30));
    let rp = start_rp().await;
    let callback = format!("{rp}/callback");
    let (_, challenge) = pkce();
    let q = serde_urlencoded::to_string([
        ("client_id", "native-app"),
        ("response_type", "code"),
        ("redirect_uri", callback.as_str()),
        ("scope", "openid"),
        ("state", "st-mfa"),
        // The profile keeps the session: sign in again, which asks for a code again.
        ("prompt", "login"),
        ("code_challenge", challenge.as_str()),
        ("code_challenge_method", "S256"),
    ])
    .unwrap();
    let b = driver.browser().await;
    b.goto(&format!("{}/{TENANT}/oauth2/authorize?{q}", served.base))
        .await
        .unwrap();
    type_into(&b, "#username", "alice").await;
    type_into(&b, "#password", PASSWORD).await;
    click(&b, "#sign-in").await;
    wait_for_text(&b, "Enter your code").await;
    assert_accessible(&b, "the code page").await;
    type_into(&b, "#code", "000000").await;
    click(&b, "#verify").await;
    wait_for_text(&b, "TS40005").await;
    assert_accessible(&b, "the code page with an error").await;
    type_into(&b, "#code", &code_now(&secret, 0)).await;
    click(&b, "#verify").await;
    // The consent page of the native app, then the app.
    wait_for_text(&b, "Fabrikam Desktop wants to").await;
    click(&b, "#allow").await;
    let landed = wait_for_url(&b, &callback).await;
    assert!(
        landed
            .query_pairs()
            .any(|(k, v)| k == "state" && v == "st-mfa"),
        "{landed}"
    );
    b.close().await.unwrap();
}
