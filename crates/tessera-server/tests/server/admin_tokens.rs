//! Admin API access by access token: an app granted the management API's app roles gets
//! a token by client credentials; its roles decide what it may do and its issuer where
//! (the admin tenant: everywhere; another tenant: only there).

use super::support::{Reply, TestApp};
use axum::body::Body;
use axum::http::Request;
use serde_json::json;
use tessera_core::directory::model::MANAGEMENT_API;
use tessera_core::errors::ErrorName;

/// Registers a client-credentials app in `tenant` with management `roles`; returns its
/// secret.
async fn ops_app(app: &TestApp, tenant: &str, client_id: &str, roles: &[&str]) -> String {
    let r = app
        .admin(
            "POST",
            &format!("/admin/api/v1/tenants/{tenant}/apps"),
            Some(json!({ "client_id": client_id, "name": client_id, "grant_types": ["client_credentials"],
                         "permissions": [ { "api": MANAGEMENT_API, "app_roles": roles } ] })),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let s = app
        .admin(
            "POST",
            &format!("/admin/api/v1/tenants/{tenant}/apps/{client_id}/secrets"),
            Some(json!({})),
        )
        .await;
    s.json()["value"].as_str().unwrap().to_owned()
}

async fn token(app: &TestApp, tenant: &str, client_id: &str, secret: &str) -> String {
    let body = serde_urlencoded::to_string([
        ("grant_type", "client_credentials"),
        ("client_id", client_id),
        ("client_secret", secret),
        ("scope", &format!("{MANAGEMENT_API}/.default")),
    ])
    .unwrap();
    let r = app
        .send(
            Request::post(format!("/{tenant}/oauth2/token"))
                .header("content-type", "application/x-www-form-urlencoded")
                .body(Body::from(body))
                .unwrap(),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    r.json()["access_token"].as_str().unwrap().to_owned()
}

async fn call(
    app: &TestApp,
    token: &str,
    method: &str,
    path: &str,
    body: Option<serde_json::Value>,
) -> Reply {
    let mut req = Request::builder()
        .method(method)
        .uri(format!("/admin/api/v1{path}"))
        .header("authorization", format!("Bearer {token}"));
    if body.is_some() {
        req = req.header("content-type", "application/json");
    }
    app.send(
        req.body(body.map_or_else(Body::empty, |b| Body::from(b.to_string())))
            .unwrap(),
    )
    .await
}

fn code(r: &Reply) -> serde_json::Value {
    r.json()["code"].clone()
}

#[tokio::test]
async fn roles_decide_what_and_the_issuer_decides_where() {
    let app = TestApp::new().await;
    let secret = ops_app(&app, "admin", "ops", &["Tenants.ReadWrite"]).await;
    let ops = token(&app, "admin", "ops", &secret).await;
    let r = call(
        &app,
        &ops,
        "POST",
        "/tenants",
        Some(json!({ "slug": "contoso" })),
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.body);
    call(
        &app,
        &ops,
        "POST",
        "/tenants",
        Some(json!({ "slug": "fabrikam" })),
    )
    .await;
    let audit = app
        .admin("GET", "/admin/api/v1/tenants/contoso/audit", None)
        .await;
    assert!(audit.body.contains("app:ops@admin"), "{}", audit.body);

    // A reader scoped to contoso by its issuer.
    let secret = ops_app(&app, "contoso", "contoso-reader", &["Directory.Read"]).await;
    let reader = token(&app, "contoso", "contoso-reader", &secret).await;
    assert_eq!(
        call(&app, &reader, "GET", "/tenants/contoso/users", None)
            .await
            .status,
        200
    );
    let forbidden = json!(ErrorName::Forbidden.entry().code_str());
    for (method, path, body) in [
        (
            "POST",
            "/tenants/contoso/users",
            Some(json!({ "username": "mallory" })),
        ),
        ("GET", "/tenants/fabrikam/users", None),
        ("GET", "/tenants", None),
        (
            "PATCH",
            "/tenants/contoso",
            Some(json!({ "display_name": "x" })),
        ),
    ] {
        let r = call(&app, &reader, method, path, body).await;
        assert_eq!(
            (r.status.as_u16(), code(&r)),
            (403, forbidden.clone()),
            "{method} {path}: {}",
            r.body
        );
    }

    // Directory.ReadWrite does not let a caller give an app management roles (it could
    // raise its own rights that way).
    let secret = ops_app(&app, "contoso", "contoso-writer", &["Directory.ReadWrite"]).await;
    let writer = token(&app, "contoso", "contoso-writer", &secret).await;
    let r = call(
        &app,
        &writer,
        "POST",
        "/tenants/contoso/apps",
        Some(json!({ "client_id": "escalate", "name": "x", "grant_types": ["client_credentials"],
                     "permissions": [ { "api": MANAGEMENT_API, "app_roles": ["Tenants.ReadWrite"] } ] })),
    )
    .await;
    assert_eq!(
        (r.status.as_u16(), code(&r)),
        (403, forbidden.clone()),
        "{}",
        r.body
    );
    let r = call(&app, &writer, "PATCH", "/tenants/contoso/apps/contoso-writer", Some(json!({ "permissions": [ { "api": MANAGEMENT_API, "app_roles": ["Tenants.ReadWrite"] } ] }))).await;
    assert_eq!(r.status.as_u16(), 403, "{}", r.body);
    let r = call(
        &app,
        &writer,
        "PATCH",
        "/tenants/contoso/apps/contoso-writer",
        Some(json!({ "name": "renamed" })),
    )
    .await;
    assert_eq!(
        r.status.as_u16(),
        200,
        "other changes stay allowed: {}",
        r.body
    );

    // An admin-tenant app limited to one tenant by a scoped role.
    let secret = ops_app(
        &app,
        "admin",
        "contoso-ops",
        &["Directory.ReadWrite:contoso"],
    )
    .await;
    let one = token(&app, "admin", "contoso-ops", &secret).await;
    let r = call(
        &app,
        &one,
        "POST",
        "/tenants/contoso/users",
        Some(json!({ "username": "carol" })),
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.body);
    for (method, path) in [("POST", "/tenants/fabrikam/users"), ("GET", "/tenants")] {
        let r = call(
            &app,
            &one,
            method,
            path,
            Some(json!({ "username": "carol" })),
        )
        .await;
        assert_eq!(r.status, 403, "{method} {path}");
    }
    let bad = app
        .admin(
            "POST",
            "/admin/api/v1/tenants/admin/apps",
            Some(json!({ "client_id": "bad", "name": "bad", "permissions": [ { "api": MANAGEMENT_API, "app_roles": ["Directory.ReadWrite:Not A Slug"] } ] })),
        )
        .await;
    assert_eq!(bad.status, 400, "{}", bad.body);

    // Expired, tampered, or for another audience: 401 with a Bearer challenge.
    let unauthenticated = json!(ErrorName::Unauthenticated.entry().code_str());
    // A character in the middle of the signature, so real bits change (the last one
    // of unpadded base64url may carry only padding bits).
    let mut tampered: Vec<u8> = reader.clone().into_bytes();
    let i = reader.rfind('.').unwrap() + (reader.len() - reader.rfind('.').unwrap()) / 2;
    tampered[i] = if tampered[i] == b'A' { b'B' } else { b'A' };
    let tampered = String::from_utf8(tampered).unwrap();
    let r = call(&app, &tampered, "GET", "/tenants/contoso/users", None).await;
    assert_eq!(
        (r.status.as_u16(), code(&r)),
        (401, unauthenticated.clone())
    );
    assert!(r.header("www-authenticate").starts_with("Bearer"));
    app.clock.advance(time::Duration::seconds(3600 + 31)); // past exp and the 30 s leeway
    let r = call(&app, &reader, "GET", "/tenants/contoso/users", None).await;
    assert_eq!((r.status.as_u16(), code(&r)), (401, unauthenticated));
}

/// A token's roles count only while its app still holds them: taking a role from the
/// app, or deleting the app, takes effect on the next call, not when the token expires.
#[tokio::test]
async fn a_role_taken_from_the_app_ends_at_once() {
    let app = TestApp::new().await;
    let created = app
        .admin(
            "POST",
            "/admin/api/v1/tenants",
            Some(json!({ "slug": "contoso" })),
        )
        .await;
    assert_eq!(created.status, 201, "{}", created.body);
    let secret = ops_app(&app, "contoso", "ops", &["Directory.ReadWrite"]).await;
    let ops = token(&app, "contoso", "ops", &secret).await;
    let add = |name: &'static str| json!({ "username": name });
    let users = "/tenants/contoso/users";
    assert_eq!(
        call(&app, &ops, "POST", users, Some(add("ann")))
            .await
            .status,
        201
    );

    // The role is narrowed to reading: the same token may read, not write.
    let patch =
        json!({ "permissions": [ { "api": MANAGEMENT_API, "app_roles": ["Directory.Read"] } ] });
    let r = app
        .admin(
            "PATCH",
            "/admin/api/v1/tenants/contoso/apps/ops",
            Some(patch),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let r = call(&app, &ops, "POST", users, Some(add("bea"))).await;
    assert_eq!(r.status, 403, "{}", r.body);
    assert_eq!(code(&r), json!(ErrorName::Forbidden.entry().code_str()));
    // Directory.Read was never in this token: holding it now does not add it.
    assert_eq!(call(&app, &ops, "GET", users, None).await.status, 403);

    // The app is deleted: the token authenticates no one.
    let r = app
        .admin("DELETE", "/admin/api/v1/tenants/contoso/apps/ops", None)
        .await;
    assert_eq!(r.status, 204, "{}", r.body);
    let r = call(&app, &ops, "GET", users, None).await;
    assert_eq!(r.status, 401, "{}", r.body);
    assert_eq!(
        code(&r),
        json!(ErrorName::Unauthenticated.entry().code_str())
    );
}
