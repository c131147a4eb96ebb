//! `/{tenant}/discovery/keys`: the JWKS of a tenant, public parts only, every state, and
//! catalogued errors for unknown and disabled tenants.

use crate::support::TestApp;
use serde_json::json;
use tessera_core::errors::ErrorName;

#[tokio::test]
async fn a_tenant_publishes_its_public_keys() {
    let app = TestApp::new().await;
    app.admin(
        "POST",
        "/admin/api/v1/tenants",
        Some(json!({"slug": "contoso"})),
    )
    .await;
    let r = app.get("/contoso/discovery/keys", None).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.header("cache-control"), "public, max-age=300");
    let keys = r.json()["keys"].as_array().unwrap().clone();
    let mut algs: Vec<&str> = keys.iter().map(|k| k["alg"].as_str().unwrap()).collect();
    algs.sort_unstable();
    // The active key of each algorithm and the next one, published from the start.
    assert_eq!(algs, ["ES256", "ES256", "EdDSA", "EdDSA", "RS256", "RS256"]);
    for k in &keys {
        assert_eq!(k["use"], "sig");
        assert!(
            k["kid"].as_str().is_some_and(|kid| kid.len() == 43),
            "RFC 7638 thumbprint: {k}"
        );
        for private in ["d", "p", "q", "dp", "dq", "qi"] {
            assert!(
                k.get(private).is_none(),
                "private member {private} published: {k}"
            );
        }
    }
    // After a rotation the set holds retired, active and next keys of each algorithm.
    app.admin("POST", "/admin/api/v1/tenants/contoso/keys/rotate", None)
        .await;
    let rotated = app.get("/contoso/discovery/keys", None).await.json();
    assert_eq!(rotated["keys"].as_array().unwrap().len(), 9);
    // Another tenant publishes other keys.
    let admin = app.get("/admin/discovery/keys", None).await.json();
    let contoso_kids: Vec<&str> = rotated["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["kid"].as_str().unwrap())
        .collect();
    assert!(
        admin["keys"]
            .as_array()
            .unwrap()
            .iter()
            .all(|k| !contoso_kids.contains(&k["kid"].as_str().unwrap()))
    );
}

#[tokio::test]
async fn unknown_and_disabled_tenants_get_catalogued_errors() {
    let app = TestApp::new().await;
    let r = app.get("/nobody/discovery/keys", None).await;
    assert_eq!(r.status, 404);
    assert_eq!(
        r.json()["error_codes"][0],
        ErrorName::TenantNotFound.entry().code
    );
    assert!(
        r.json()["error_description"]
            .as_str()
            .unwrap()
            .contains("nobody")
    );
    let meta = app.get("/common/discovery/keys", None).await;
    assert_eq!(meta.status, 404);
    app.admin(
        "POST",
        "/admin/api/v1/tenants",
        Some(json!({"slug": "gone"})),
    )
    .await;
    app.admin(
        "PATCH",
        "/admin/api/v1/tenants/gone",
        Some(json!({"disabled": true})),
    )
    .await;
    let disabled = app.get("/gone/discovery/keys", None).await;
    assert_eq!(disabled.status, 403);
    assert_eq!(
        disabled.json()["error_codes"][0],
        ErrorName::TenantDisabled.entry().code
    );
}

/// A relying party that fetched the JWKS once, right after the tenant was created,
/// still verifies the tokens signed after the first rotation without fetching again:
/// the key that signs them was published as `next` from the start.
#[tokio::test]
async fn the_first_rotation_signs_with_a_key_a_caching_client_already_has() {
    let app = TestApp::new().await;
    with_daemon(&app).await;
    let cached = app.get("/tailspin/discovery/keys", None).await.json()["keys"]
        .as_array()
        .unwrap()
        .clone();
    let rotated = app
        .admin("POST", "/admin/api/v1/tenants/tailspin/keys/rotate", None)
        .await;
    assert_eq!(rotated.status, 200, "{}", rotated.body);
    let reply = as_daemon(&app, "/tailspin/oauth2/token", CC.into()).await;
    let token = reply["access_token"].as_str().unwrap().to_owned();
    let verified = tessera_core::oauth::jose::verify(&token, &cached)
        .expect("the cached JWKS verifies a token signed after the first rotation");
    let kid = verified.header["kid"].as_str().unwrap();
    let before: Vec<&str> = cached.iter().map(|k| k["kid"].as_str().unwrap()).collect();
    assert!(before.contains(&kid));
}

/// The schedule (every sweep) rotates after the tenant's 90 days to a key a relying
/// party that cached the JWKS at the start already holds, removes the retired key once
/// its tokens expired, and leaves a late-made next key unused until it has been
/// published a day; a second node sweeping at the same moment changes nothing more.
#[tokio::test]
async fn the_schedule_rotates_to_published_keys_and_prunes_retired_ones() {
    use tessera_server::runtime::sweep::sweep;
    let app = TestApp::new().await;
    with_daemon(&app).await;
    let kids = |jwks: &serde_json::Value| -> Vec<String> {
        jwks["keys"]
            .as_array()
            .unwrap()
            .iter()
            .map(|k| k["kid"].as_str().unwrap().to_owned())
            .collect()
    };
    let cached = app.get("/tailspin/discovery/keys", None).await.json();
    let old = as_daemon(&app, "/tailspin/oauth2/token", CC.into()).await["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    sweep(&app.state).await.unwrap();
    assert_eq!(
        kids(&app.get("/tailspin/discovery/keys", None).await.json()),
        kids(&cached)
    );

    app.clock.advance(time::Duration::days(90));
    sweep(&app.state).await.unwrap();
    // The same sweep on a second node finds nothing left to do.
    sweep(&app.state).await.unwrap();
    let rotated = app.get("/tailspin/discovery/keys", None).await.json();
    assert_eq!(
        kids(&rotated).len(),
        9,
        "retired, active and next of each algorithm"
    );
    let token = as_daemon(&app, "/tailspin/oauth2/token", CC.into()).await["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let keys = cached["keys"].as_array().unwrap();
    let new = tessera_core::oauth::jose::verify(&token, keys)
        .expect("the JWKS cached before the rotation verifies the new tokens");
    let old_kid = tessera_core::oauth::jose::verify(&old, keys)
        .unwrap()
        .header["kid"]
        .clone();
    assert_ne!(new.header["kid"], old_kid, "another key signs");
    let log = app
        .admin("GET", "/admin/api/v1/tenants/tailspin/audit", None)
        .await
        .json();
    assert_eq!(log["items"][0]["action"], "keys.schedule");
    assert_eq!(log["items"][0]["actor"], "tessera");

    // An hour (the token lifetime) and the leeway later, the retired keys go.
    app.clock.advance(time::Duration::hours(2));
    sweep(&app.state).await.unwrap();
    let pruned = kids(&app.get("/tailspin/discovery/keys", None).await.json());
    assert_eq!(pruned.len(), 6);
    assert!(!pruned.contains(&old_kid.as_str().unwrap().to_owned()));

    // A next key replaced (emergency removal) when the active key is due waits its day
    // of publication before it signs.
    app.clock.advance(time::Duration::days(90));
    let listed = app
        .admin("GET", "/admin/api/v1/tenants/tailspin/keys", None)
        .await
        .json();
    let next_rs = listed["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["alg"] == "RS256" && k["state"] == "next")
        .unwrap()["kid"]
        .as_str()
        .unwrap()
        .to_owned();
    let removed = app
        .admin(
            "DELETE",
            &format!("/admin/api/v1/tenants/tailspin/keys/{next_rs}"),
            None,
        )
        .await;
    assert_eq!(removed.status, 200, "{}", removed.body);
    sweep(&app.state).await.unwrap();
    let states = |items: &serde_json::Value| -> Vec<(String, String)> {
        let mut v: Vec<(String, String)> = items["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|k| {
                (
                    k["alg"].as_str().unwrap().to_owned(),
                    k["state"].as_str().unwrap().to_owned(),
                )
            })
            .collect();
        v.sort();
        v
    };
    let after = app
        .admin("GET", "/admin/api/v1/tenants/tailspin/keys", None)
        .await
        .json();
    let rs: Vec<_> = states(&after)
        .into_iter()
        .filter(|(a, _)| a == "RS256")
        .collect();
    assert_eq!(
        rs,
        [
            ("RS256".to_owned(), "active".to_owned()),
            ("RS256".to_owned(), "next".to_owned())
        ],
        "RS256 waits"
    );
    app.clock.advance(time::Duration::days(1));
    sweep(&app.state).await.unwrap();
    let after = app
        .admin("GET", "/admin/api/v1/tenants/tailspin/keys", None)
        .await
        .json();
    assert!(states(&after).contains(&("RS256".to_owned(), "retired".to_owned())));
}

/// An emergency rotation removes a compromised key at once: the tokens it signed stop
/// verifying (introspection calls them inactive), the JWKS drops it, and the next key,
/// published since the tenant began, signs from then on.
#[tokio::test]
async fn a_removed_key_takes_its_tokens_with_it() {
    let app = TestApp::new().await;
    with_daemon(&app).await;
    let post = |path: &'static str, body: String| as_daemon(&app, path, body);
    let token = || post("/tailspin/oauth2/token", CC.into());
    let kid_of = |t: &str| {
        let header = t.split('.').next().unwrap();
        let header: serde_json::Value = serde_json::from_slice(
            &base64::Engine::decode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, header)
                .unwrap(),
        )
        .unwrap();
        header["kid"].as_str().unwrap().to_owned()
    };
    let old = token().await["access_token"].as_str().unwrap().to_owned();
    let active = |t: String| post("/tailspin/oauth2/introspect", format!("token={t}"));
    assert_eq!(active(old.clone()).await["active"], true);
    let compromised = kid_of(&old);

    let missing = app
        .admin(
            "DELETE",
            "/admin/api/v1/tenants/tailspin/keys/no-such-kid",
            None,
        )
        .await;
    assert_eq!(missing.status, 404, "{}", missing.body);
    let removed = app
        .admin(
            "DELETE",
            &format!("/admin/api/v1/tenants/tailspin/keys/{compromised}"),
            None,
        )
        .await;
    assert_eq!(removed.status, 200, "{}", removed.body);

    assert_eq!(
        active(old).await["active"],
        false,
        "its tokens stop verifying"
    );
    let jwks = app.get("/tailspin/discovery/keys", None).await.json();
    let kids: Vec<&str> = jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["kid"].as_str().unwrap())
        .collect();
    assert!(!kids.contains(&compromised.as_str()));
    assert_eq!(
        kids.len(),
        6,
        "an active and a next key of each algorithm again"
    );
    let fresh = token().await["access_token"].as_str().unwrap().to_owned();
    assert!(kids.contains(&kid_of(&fresh).as_str()));
    assert_eq!(active(fresh).await["active"], true);
    let log = app
        .admin("GET", "/admin/api/v1/tenants/tailspin/audit", None)
        .await
        .json();
    assert_eq!(log["items"][0]["action"], "keys.remove");
}

/// The form of `daemon`'s client_credentials request.
const CC: &str = "grant_type=client_credentials&scope=api%3A%2F%2Forders%2F.default";

/// Imports the tenant `tailspin` with an API and a client-credentials app, `daemon`.
async fn with_daemon(app: &TestApp) {
    app.import(json!({ "tenants": [{
        "slug": "tailspin",
        "apis": [ { "identifier": "api://orders", "name": "Orders", "app_roles": ["Orders.Read"] } ],
        "apps": [ { "client_id": "daemon", "name": "Daemon", "grant_types": ["client_credentials"],
                    "secrets": [ { "value": "daemon-secret-0123456789abcdefghijklmnopq" } ],
                    "permissions": [ { "api": "api://orders", "app_roles": ["Orders.Read"] } ] } ]
    }]}))
    .await;
}

/// A client_credentials request of `daemon`: the path, the form, Basic auth.
async fn as_daemon(app: &TestApp, path: &str, body: String) -> serde_json::Value {
    let basic = base64::Engine::encode(
        &base64::engine::general_purpose::STANDARD,
        "daemon:daemon-secret-0123456789abcdefghijklmnopq",
    );
    app.send(
        axum::http::Request::post(path)
            .header("content-type", "application/x-www-form-urlencoded")
            .header("authorization", format!("Basic {basic}"))
            .body(axum::body::Body::from(body))
            .unwrap(),
    )
    .await
    .json()
}
