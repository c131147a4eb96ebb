//! The master key ring: a node given another key than the store's refuses to start; a
//! rotation (new key second, then first, re-seal, old key out) keeps every credential
//! working on the way, moves every value at rest, and ends only what the old key alone
//! sealed once it leaves; and two nodes under load see no failed request through it.

use super::oidc::*;
use super::refresh::tokens_for;
use super::support::{Served, T0};
use base64::Engine;
use serde_json::{Value, json};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use tessera_core::crypto::MasterKey;
use tessera_core::errors::ErrorName;
use tessera_server::AppState;
use tessera_server::runtime::master_key::{FitError, fit};

/// A key file's line for the key of 32 bytes `k`.
fn line(k: u8) -> String {
    format!(
        "{}\n",
        base64::engine::general_purpose::STANDARD.encode([k; 32])
    )
}

/// The test apps' key (`support::TestApp`).
const OLD: u8 = 42;
const NEW: u8 = 7;

/// A node on `a`'s store (a new connection pool on PostgreSQL, the same store on
/// SQLite) with the ring of `keys`, fitted to the store as `tessera serve` does, serving
/// `a`'s public URL on a port of its own.
async fn node(
    a: &Served,
    keys: &[u8],
) -> Result<(String, AppState, tokio::task::JoinHandle<()>), FitError> {
    let store = match &a.app.db_url {
        Some(url) => tessera_store::open(&url.parse::<tessera_store::DatabaseUrl>().unwrap())
            .await
            .unwrap(),
        None => a.app.state.store.clone(),
    };
    let ring: String = keys.iter().map(|k| line(*k)).collect();
    let master = fit(
        store.as_ref(),
        MasterKey::parse(&ring).unwrap(),
        a.app.clock.as_ref(),
        &tessera_core::rng::OsRng,
    )
    .await?;
    let state = super::support::node_state(store, &a.base, master, a.app.clock.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let router = tessera_server::app(state.clone());
    let task = tokio::spawn(async move {
        let _ = axum::serve(listener, router).await;
    });
    Ok((base, state, task))
}

/// A refresh of the web app at `base`: status and body.
async fn refresh_at(base: &str, token: &str) -> (u16, Value) {
    let r = token_request(
        base,
        &[
            ("grant_type", "refresh_token"),
            ("client_id", "web-app"),
            ("client_secret", WEB_SECRET),
            ("refresh_token", token),
        ],
    )
    .send()
    .await
    .unwrap();
    (r.status().as_u16(), r.json().await.unwrap_or(Value::Null))
}

/// The admin API of `state`, as the bootstrap credential of `a`.
async fn admin(a: &Served, state: &AppState, method: &str, path: &str) -> Value {
    let request = axum::http::Request::builder()
        .method(method)
        .uri(path)
        .header("authorization", format!("Bearer {}", a.app.admin_token))
        .body(axum::body::Body::empty())
        .unwrap();
    let reply = super::support::send(tessera_server::app(state.clone()), request).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    reply.json()
}

fn id_of(k: u8) -> String {
    MasterKey::from_bytes(&[k; 32]).primary_id().to_string()
}

/// The rotation on one node, step by step, on SQLite.
#[tokio::test]
async fn a_rotation_keeps_credentials_moves_values_at_rest_and_ends_what_only_the_old_key_sealed() {
    let a = server(None).await;
    let kept = tokens_for(&a, "web-app", WEB_CB, "openid offline_access").await;
    let abandoned = tokens_for(&a, "web-app", WEB_CB, "openid offline_access").await;
    let kept = kept["refresh_token"].as_str().unwrap().to_owned();
    let abandoned = abandoned["refresh_token"].as_str().unwrap().to_owned();

    // A ring without the store's key: refused, naming the key the store needs.
    let Err(FitError::Mismatch(e)) = node(&a, &[NEW]).await.map(|_| ()) else {
        panic!("a foreign key fits");
    };
    assert_eq!(e.name, ErrorName::MasterKeyMismatch);
    assert!(e.message().contains(&id_of(OLD)), "{}", e.message());
    assert!(e.message().contains(&id_of(NEW)), "{}", e.message());

    // Step 1: the new key second. Step 2: first. What the old key sealed still works
    // (the client secret's hash kept its root), and new values are the new key's.
    let (_b, _, b_task) = node(&a, &[OLD, NEW]).await.unwrap();
    let (c, c_state, c_task) = node(&a, &[NEW, OLD]).await.unwrap();
    let (status, body) = refresh_at(&c, &kept).await;
    assert_eq!(status, 200, "{body}");
    let kept = body["refresh_token"].as_str().unwrap().to_owned();
    let before = admin(&a, &c_state, "GET", "/admin/api/v1/master-key").await;
    assert_eq!(before["ring"], json!([id_of(NEW), id_of(OLD)]));
    let at_rest = before["sealed"][id_of(OLD)].as_u64().unwrap();
    // Two tenants' signing keys (6 each), the key-ring record.
    assert_eq!(at_rest, 13, "{before}");
    assert_eq!(before["to_reseal"], at_rest);
    assert_eq!(before["resealed_at"], Value::Null);

    // Step 3: the re-seal moves everything at rest and dates the old key's retirement.
    let after = admin(&a, &c_state, "POST", "/admin/api/v1/master-key/reseal").await;
    assert_eq!(after["to_reseal"], 0, "{after}");
    assert_eq!(after["unopenable"], 0);
    assert_eq!(after["sealed"], json!({ id_of(NEW): at_rest }));
    assert_eq!(after["resealed_under"], id_of(NEW));
    let ninety_days = T0 + time::Duration::days(90);
    assert_eq!(
        after["older_keys_needed_until"],
        tessera_core::errors::render::timestamp(ninety_days)
    );
    let again = admin(&a, &c_state, "POST", "/admin/api/v1/master-key/reseal").await;
    assert_eq!(
        again["sealed"], after["sealed"],
        "a second run moves nothing"
    );

    // Step 4: the old key out. Signing keys open, secrets match, the new key's refresh
    // token rotates; the refresh token only the old key sealed is refused like a
    // forged one.
    let (d, d_state, d_task) = node(&a, &[NEW]).await.unwrap();
    let (status, body) = refresh_at(&d, &kept).await;
    assert_eq!(status, 200, "{body}");
    assert!(body["id_token"].is_string(), "signed with a re-sealed key");
    let (status, body) = refresh_at(&d, &abandoned).await;
    assert_eq!(
        (status, &body["error"], &body["error_codes"][0]),
        (
            400,
            &json!("invalid_grant"),
            &json!(ErrorName::RefreshTokenInvalid.entry().code)
        )
    );
    let last = admin(&a, &d_state, "GET", "/admin/api/v1/master-key").await;
    assert_eq!(
        (last["to_reseal"].clone(), last["unopenable"].clone()),
        (json!(0), json!(0))
    );

    // The old key alone no longer fits the store: the record moved.
    let Err(FitError::Mismatch(e)) = node(&a, &[OLD]).await.map(|_| ()) else {
        panic!("the old key still fits after the re-seal");
    };
    assert!(e.message().contains(&id_of(NEW)), "{}", e.message());
    for task in [b_task, c_task, d_task] {
        task.abort();
    }
}

/// Tokens of the web app's refresh chain and client-secret checks, alternating between
/// two nodes, while every step of a rotation restarts them with a new ring: not one
/// request may fail. On PostgreSQL, each node with its own connections.
#[tokio::test]
async fn a_rotation_under_load_on_two_nodes_fails_no_request() {
    let Some(db) = tessera_store::testing::postgres_or_skip(
        "a_rotation_under_load_on_two_nodes_fails_no_request",
    )
    .await
    else {
        return;
    };
    let a = server(Some(db)).await;
    let first = tokens_for(&a, "web-app", WEB_CB, "openid offline_access").await;
    let token = first["refresh_token"].as_str().unwrap().to_owned();

    // The two nodes' addresses, swapped at each step; the load reads them per request.
    let (b, _, b_task) = node(&a, &[OLD]).await.unwrap();
    let nodes = Arc::new(std::sync::RwLock::new([a.base.clone(), b]));
    let stop = Arc::new(AtomicBool::new(false));
    let (done, failed) = (Arc::new(AtomicU64::new(0)), Arc::new(AtomicU64::new(0)));
    let load = {
        let (nodes, stop, done, failed) =
            (nodes.clone(), stop.clone(), done.clone(), failed.clone());
        tokio::spawn(async move {
            let mut token = token;
            let mut i = 0usize;
            let mut failures = Vec::new();
            while !stop.load(Ordering::Relaxed) {
                let base = nodes.read().unwrap()[i % 2].clone();
                i += 1;
                let (status, body) = refresh_at(&base, &token).await;
                if status == 200 {
                    token = body["refresh_token"].as_str().unwrap().to_owned();
                    done.fetch_add(1, Ordering::Relaxed);
                } else {
                    failed.fetch_add(1, Ordering::Relaxed);
                    failures.push(body);
                }
            }
            failures
        })
    };

    let mut tasks = vec![b_task];
    let mut restart = async |keys: &[u8]| -> AppState {
        let (x, _, x_task) = node(&a, keys).await.unwrap();
        let (y, y_state, y_task) = node(&a, keys).await.unwrap();
        *nodes.write().unwrap() = [x, y];
        tasks.extend([x_task, y_task]);
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        y_state
    };
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    restart(&[OLD, NEW]).await;
    let state = restart(&[NEW, OLD]).await;
    let status = admin(&a, &state, "POST", "/admin/api/v1/master-key/reseal").await;
    assert_eq!(status["to_reseal"], 0, "{status}");
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    restart(&[NEW]).await;
    stop.store(true, Ordering::Relaxed);
    let failures = load.await.unwrap();
    assert_eq!(failures, Vec::<Value>::new(), "failed requests");
    assert_eq!(failed.load(Ordering::Relaxed), 0);
    assert!(
        done.load(Ordering::Relaxed) >= 20,
        "only {} rotations",
        done.load(Ordering::Relaxed)
    );
    for task in tasks {
        task.abort();
    }
}
