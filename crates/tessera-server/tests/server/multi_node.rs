//! Two nodes on one PostgreSQL database, as behind a load balancer: nothing that matters
//! lives in one process, so a code issued by node A is redeemed at node B, concurrent
//! redemptions and refreshes spread over both nodes have one winner, a key rotated, a
//! token revoked or a tenant disabled on A holds on B well within the cache bound (B
//! learns of it through LISTEN/NOTIFY, long before its cached copies expire), and a user
//! disabled on A can neither sign in nor refresh on B.

use super::oidc::*;
use super::refresh::tokens_for;
use super::support::Served;
use serde_json::{Value, json};
use tessera_core::errors::ErrorName;

/// A second node on node A's database, with the same master key and public URL (the
/// load balancer's), and its own randomness.
pub(super) async fn second_node(a: &Served) -> (String, tokio::task::JoinHandle<()>) {
    let (base, task, _) = second_node_with_state(a).await;
    (base, task)
}

/// [`second_node`], with the node's state (to run its sweeps).
async fn second_node_with_state(
    a: &Served,
) -> (
    String,
    tokio::task::JoinHandle<()>,
    tessera_server::runtime::state::AppState,
) {
    let url = a.app.db_url.clone().expect("node A is on PostgreSQL");
    let store = tessera_store::open(&url.parse::<tessera_store::DatabaseUrl>().unwrap())
        .await
        .unwrap();
    let state = super::support::node_state(
        store,
        &a.base,
        tessera_core::crypto::MasterKey::from_bytes(&[42u8; 32]),
        a.app.clock.clone(),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let router = tessera_server::app(state.clone());
    let task = tokio::spawn(async move {
        let _ = axum::serve(listener, router).await;
    });
    (base, task, state)
}

pub(super) async fn two_nodes(test: &str) -> Option<(Served, String, tokio::task::JoinHandle<()>)> {
    let db = tessera_store::testing::postgres_or_skip(test).await?;
    let a = server(Some(db)).await;
    let (b, task) = second_node(&a).await;
    Some((a, b, task))
}

/// Polls `check` until it holds, for at most 2 s: less than half the cache TTL, so a pass
/// shows node B was told of the change rather than that its copy expired.
async fn within_notification_bound<F, Fut>(what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    assert!(tessera_server::runtime::cache::TTL >= std::time::Duration::from_secs(4));
    let start = std::time::Instant::now();
    while start.elapsed() < std::time::Duration::from_secs(2) {
        if check().await {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    panic!("node B did not see {what} within 2 s");
}

/// The status and catalogue code (null on success) of a token request.
async fn outcome(request: reqwest::RequestBuilder) -> (u16, Value) {
    let r = request.send().await.unwrap();
    let status = r.status().as_u16();
    let body: Value = r.json().await.unwrap_or(Value::Null);
    (status, code_of(&body))
}

fn code_of(v: &Value) -> Value {
    v["error_codes"][0].clone()
}

/// A code for web-app from node A's pages, with its PKCE verifier.
async fn code_from_a(a: &Served, seed: &str) -> (String, String) {
    let (verifier, challenge) = pkce(seed);
    let scope = "openid offline_access";
    (
        code_for(a, "ed-app", WEB_CB, scope, Some(&challenge), "alice").await,
        verifier,
    )
}

fn redeem(base: &str, code: &str, verifier: &str) -> reqwest::RequestBuilder {
    token_request(
        base,
        &[
            ("grant_type", "authorization_code"),
            ("client_id", "ed-app"),
            ("client_secret", WEB_SECRET),
            ("code", code),
            ("redirect_uri", WEB_CB),
            ("code_verifier", verifier),
        ],
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_code_from_node_a_is_redeemed_at_node_b_and_races_have_one_winner() {
    let Some((a, b, _task)) =
        two_nodes("a_code_from_node_a_is_redeemed_at_node_b_and_races_have_one_winner").await
    else {
        return;
    };
    let (code, verifier) = code_from_a(&a, "multi-1").await;
    let r = redeem(&b, &code, &verifier).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let tokens: Value = r.json().await.unwrap();
    let info = rp_http()
        .get(format!("{b}/{TENANT}/oauth2/userinfo"))
        .bearer_auth(tokens["access_token"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(
        info.status(),
        200,
        "node B accepts node A's issuer and keys"
    );

    // 50 redemptions of one code over both nodes: one success.
    let (code, verifier) = code_from_a(&a, "multi-2").await;
    let tasks: Vec<_> = (0..50)
        .map(|i| {
            let base = if i % 2 == 0 {
                a.base.clone()
            } else {
                b.clone()
            };
            let (code, verifier) = (code.clone(), verifier.clone());
            tokio::spawn(async move { outcome(redeem(&base, &code, &verifier)).await })
        })
        .collect();
    let mut outcomes = Vec::new();
    for t in tasks {
        outcomes.push(t.await.unwrap());
    }
    assert_eq!(
        outcomes.iter().filter(|(s, _)| *s == 200).count(),
        1,
        "code redemptions"
    );
    // Every loser is told the code was redeemed already, none gets a server error.
    let redeemed = json!(ErrorName::AuthorizationCodeRedeemed.entry().code);
    assert!(
        outcomes
            .iter()
            .all(|(s, c)| *s == 200 || (*s == 400 && *c == redeemed)),
        "{outcomes:?}"
    );

    // 50 uses of one refresh token over both nodes: the family never forks.
    let refresh = tokens["refresh_token"].as_str().unwrap();
    refresh_storm(&[a.base.clone(), b.clone()], "ed-app", refresh, 50).await;
}

#[tokio::test]
async fn changes_on_node_a_hold_on_node_b_within_the_bound() {
    let Some((a, b, _task)) = two_nodes("changes_on_node_a_hold_on_node_b_within_the_bound").await
    else {
        return;
    };
    let kids = |base: String| async move {
        let v: Value = rp_http()
            .get(format!("{base}/{TENANT}/discovery/keys"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let mut kids: Vec<String> = v["keys"]
            .as_array()
            .unwrap()
            .iter()
            .map(|k| k["kid"].as_str().unwrap().to_owned())
            .collect();
        kids.sort();
        kids
    };
    let before = kids(b.clone()).await;
    let r = a
        .app
        .admin(
            "POST",
            &format!("/admin/api/v1/tenants/{TENANT}/keys/rotate"),
            None,
        )
        .await;
    assert_eq!(r.status, 200);
    let after_a = kids(a.base.clone()).await;
    assert_ne!(before, after_a);
    within_notification_bound("the rotated keys", || {
        let (b, after_a) = (b.clone(), after_a.clone());
        async move { kids(b).await == after_a }
    })
    .await;

    // An access token revoked on A is refused by B.
    let t = tokens_for(&a, "web-app", WEB_CB, "openid").await;
    let access = t["access_token"].as_str().unwrap().to_owned();
    let userinfo = |access: String| {
        let b = b.clone();
        async move {
            rp_http()
                .get(format!("{b}/{TENANT}/oauth2/userinfo"))
                .bearer_auth(access)
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }
    };
    assert_eq!(
        userinfo(access.clone()).await,
        200,
        "B has cached the deny-list"
    );
    let r = rp_http()
        .post(format!("{}/{TENANT}/oauth2/revoke", a.base))
        .basic_auth("web-app", Some(WEB_SECRET))
        .form(&[("token", access.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    within_notification_bound("the revoked access token", || {
        let access = access.clone();
        let userinfo = &userinfo;
        async move { userinfo(access).await == 401 }
    })
    .await;

    // Disable alice on A: B refuses her sign-in and her refresh token.
    let t = tokens_for(&a, "web-app", WEB_CB, "openid offline_access").await;
    let r = a
        .app
        .admin(
            "PATCH",
            &format!("/admin/api/v1/tenants/{TENANT}/users/alice"),
            Some(json!({ "enabled": false })),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let v: Value = token_request(
        &b,
        &[
            ("grant_type", "refresh_token"),
            ("client_id", "web-app"),
            ("client_secret", WEB_SECRET),
            ("refresh_token", t["refresh_token"].as_str().unwrap()),
        ],
    )
    .send()
    .await
    .unwrap()
    .json()
    .await
    .unwrap();
    // Disabling revoked the user's refresh tokens.
    assert_eq!(
        code_of(&v),
        json!(ErrorName::RefreshTokenRevoked.entry().code)
    );
    let (_, challenge) = pkce("multi-3");
    let url = authorize_url(
        &b,
        &[
            ("client_id", "ed-app"),
            ("response_type", "code"),
            ("redirect_uri", WEB_CB),
            ("scope", "openid"),
            ("code_challenge", &challenge),
            ("code_challenge_method", "S256"),
        ],
    );
    let browser = browser();
    let page = browser
        .get(&url)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let r = sign_in(&browser, &b, &page, "alice", PASSWORD).await;
    assert!(
        r.text()
            .await
            .unwrap()
            .contains(&ErrorName::AccountDisabled.entry().code_str())
    );

    // A tenant disabled on A is disabled on B (B has it cached from the requests above).
    let r = a
        .app
        .admin(
            "PATCH",
            &format!("/admin/api/v1/tenants/{TENANT}"),
            Some(json!({ "disabled": true })),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    within_notification_bound("the disabled tenant", || {
        let b = b.clone();
        async move {
            let r = rp_http()
                .get(format!("{b}/{TENANT}/.well-known/openid-configuration"))
                .send()
                .await
                .unwrap();
            let v: Value = r.json().await.unwrap_or_default();
            code_of(&v) == json!(ErrorName::TenantDisabled.entry().code)
        }
    })
    .await;
}

/// Both nodes run the key schedule at the same moment, when the keys are due: one
/// rotation happens (the other node's versioned writes conflict), and both nodes then
/// publish the same keys and sign with the same active one.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_nodes_sweeping_at_once_rotate_the_keys_once() {
    use tessera_server::runtime::sweep::sweep;
    let Some(db) = tessera_store::testing::postgres_or_skip("two nodes rotate once").await else {
        return;
    };
    let a = server(Some(db)).await;
    let (b, _task, b_state) = second_node_with_state(&a).await;
    a.app.clock.advance(time::Duration::days(91));
    let (ra, rb) = tokio::join!(sweep(&a.app.state), sweep(&b_state));
    ra.unwrap();
    rb.unwrap();
    let listed = a
        .app
        .admin("GET", &format!("/admin/api/v1/tenants/{TENANT}/keys"), None)
        .await
        .json();
    let mut states: Vec<String> = listed["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["state"].as_str().unwrap().to_owned())
        .collect();
    states.sort();
    assert_eq!(
        states,
        [
            "active", "active", "active", "next", "next", "next", "retired", "retired", "retired"
        ],
        "one rotation of each algorithm, not two"
    );
    let kids = |jwks: Value| -> Vec<String> {
        let mut k: Vec<String> = jwks["keys"]
            .as_array()
            .unwrap()
            .iter()
            .map(|k| k["kid"].as_str().unwrap().to_owned())
            .collect();
        k.sort();
        k
    };
    let on_a = kids(
        rp_http()
            .get(format!("{}/{TENANT}/discovery/keys", a.base))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap(),
    );
    within_notification_bound("the rotation's keys", || {
        let (b, expected) = (b.clone(), on_a.clone());
        async move {
            let on_b: Value = rp_http()
                .get(format!("{b}/{TENANT}/discovery/keys"))
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            kids(on_b) == expected
        }
    })
    .await;
    // Codes from either node's pages redeem for tokens signed by the one active key.
    let kid_of = |jwt: &str| {
        let header = jwt.split('.').next().unwrap();
        let header: Value = serde_json::from_slice(
            &base64::Engine::decode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, header)
                .unwrap(),
        )
        .unwrap();
        header["kid"].as_str().unwrap().to_owned()
    };
    let (code, verifier) = code_from_a(&a, "rotate-once").await;
    let from_b: Value = redeem(&b, &code, &verifier)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let (code, verifier) = code_from_a(&a, "rotate-once-a").await;
    let from_a: Value = redeem(&a.base, &code, &verifier)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        kid_of(from_a["id_token"].as_str().unwrap()),
        kid_of(from_b["id_token"].as_str().unwrap())
    );
}
