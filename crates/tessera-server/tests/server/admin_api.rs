//! The admin REST API: authentication, problem details with every invalid field,
//! tenants, users, apps and secrets, the audit log, tenant isolation, and an OpenAPI
//! document that lists every route.

use crate::support::TestApp;
use axum::body::Body;
use axum::http::Request;
use serde_json::json;
use tessera_core::errors::ErrorName;
use tessera_core::ids::ObjectId;

fn code(name: ErrorName) -> String {
    name.entry().code_str()
}

/// Every admin route: (method, path with sample parameters). The OpenAPI test checks
/// each one is documented and answers (no 404/405 from routing).
const ROUTES: &[(&str, &str)] = &[
    ("get", "/tenants"),
    ("post", "/tenants"),
    ("get", "/tenants/{slug}"),
    ("patch", "/tenants/{slug}"),
    ("get", "/tenants/{slug}/users"),
    ("post", "/tenants/{slug}/users"),
    ("get", "/tenants/{slug}/users/{username}"),
    ("patch", "/tenants/{slug}/users/{username}"),
    ("delete", "/tenants/{slug}/users/{username}"),
    ("post", "/tenants/{slug}/users/{username}/password"),
    ("get", "/tenants/{slug}/users/{username}/consents"),
    ("delete", "/tenants/{slug}/users/{username}/lockout"),
    ("delete", "/tenants/{slug}/users/{username}/mfa"),
    ("get", "/tenants/{slug}/foreign-apps"),
    ("get", "/tenants/{slug}/sign-ins"),
    ("get", "/traces/{trace_id}"),
    ("delete", "/tenants/{slug}/foreign-apps/{client_id}"),
    (
        "delete",
        "/tenants/{slug}/users/{username}/consents/{client_id}",
    ),
    ("delete", "/tenants/{slug}/users/{username}/sessions"),
    ("get", "/tenants/{slug}/apps"),
    ("post", "/tenants/{slug}/apps"),
    ("get", "/tenants/{slug}/apps/{client_id}"),
    ("patch", "/tenants/{slug}/apps/{client_id}"),
    ("delete", "/tenants/{slug}/apps/{client_id}"),
    ("post", "/tenants/{slug}/apps/{client_id}/secrets"),
    ("delete", "/tenants/{slug}/apps/{client_id}/secrets/{id}"),
    ("post", "/tenants/{slug}/apps/{client_id}/keys"),
    ("get", "/tenants/{slug}/groups"),
    ("post", "/tenants/{slug}/groups"),
    ("delete", "/tenants/{slug}/groups/{name}"),
    ("get", "/tenants/{slug}/apis"),
    ("post", "/tenants/{slug}/apis"),
    ("get", "/tenants/{slug}/apis/{identifier}"),
    ("patch", "/tenants/{slug}/apis/{identifier}"),
    ("delete", "/tenants/{slug}/apis/{identifier}"),
    ("get", "/tenants/{slug}/audit"),
    ("get", "/tenants/{slug}/keys"),
    ("post", "/tenants/{slug}/keys/rotate"),
    ("delete", "/tenants/{slug}/keys/{kid}"),
    ("delete", "/tenants/{slug}"),
    ("get", "/master-key"),
    ("post", "/master-key/reseal"),
];

async fn with_tenant(slug: &str) -> TestApp {
    let app = TestApp::new().await;
    let r = app
        .admin(
            "POST",
            "/admin/api/v1/tenants",
            Some(json!({"slug": slug, "display_name": "Contoso"})),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    app
}

#[tokio::test]
async fn calls_without_the_credential_are_unauthenticated() {
    let app = TestApp::new().await;
    let r = app.get("/admin/api/v1/tenants", None).await;
    assert_eq!(r.status, 401);
    assert_eq!(r.header("content-type"), "application/problem+json");
    assert_eq!(
        r.header("www-authenticate"),
        "Bearer realm=\"tessera-admin\""
    );
    assert_eq!(r.json()["code"], code(ErrorName::Unauthenticated));
    let wrong = app
        .send(
            Request::get("/admin/api/v1/tenants")
                .header("authorization", "Bearer not-the-credential")
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(wrong.status, 401);
    let ok = app.admin("GET", "/admin/api/v1/tenants", None).await;
    assert_eq!(ok.status, 200, "{}", ok.body);
}

#[tokio::test]
async fn tenants_are_created_read_listed_and_disabled() {
    let app = with_tenant("contoso").await;
    let again = app
        .admin(
            "POST",
            "/admin/api/v1/tenants",
            Some(json!({"slug": "contoso"})),
        )
        .await;
    assert_eq!(again.status, 409);
    assert_eq!(again.json()["code"], code(ErrorName::TenantExists));

    let t = app
        .admin("GET", "/admin/api/v1/tenants/contoso", None)
        .await
        .json();
    assert_eq!(t["display_name"], "Contoso");
    assert_eq!(t["issuer"], "https://id.example.test/contoso");
    assert_eq!(t["policy"]["code_lifetime_seconds"], 60);

    for s in ["fabrikam", "woodgrove", "northwind"] {
        assert_eq!(
            app.admin("POST", "/admin/api/v1/tenants", Some(json!({"slug": s})))
                .await
                .status,
            201
        );
    }
    let first = app
        .admin("GET", "/admin/api/v1/tenants?limit=2", None)
        .await
        .json();
    assert_eq!(first["items"].as_array().unwrap().len(), 2);
    let cursor = first["next_cursor"].as_str().unwrap().to_owned();
    let rest = app
        .admin(
            "GET",
            &format!("/admin/api/v1/tenants?limit=10&cursor={cursor}"),
            None,
        )
        .await
        .json();
    let slugs: Vec<&str> = first["items"]
        .as_array()
        .unwrap()
        .iter()
        .chain(rest["items"].as_array().unwrap())
        .map(|t| t["slug"].as_str().unwrap())
        .collect();
    assert_eq!(
        slugs,
        ["admin", "contoso", "fabrikam", "northwind", "woodgrove"]
    );
    assert!(rest.get("next_cursor").is_none());
    let filtered = app
        .admin("GET", "/admin/api/v1/tenants?name=WOOD", None)
        .await
        .json();
    assert_eq!(filtered["items"][0]["slug"], "woodgrove");
    assert_eq!(filtered["items"].as_array().unwrap().len(), 1);

    let disabled = app
        .admin(
            "PATCH",
            "/admin/api/v1/tenants/contoso",
            Some(json!({"disabled": true})),
        )
        .await;
    assert_eq!(disabled.json()["disabled"], true);
    let admin = app
        .admin(
            "PATCH",
            "/admin/api/v1/tenants/admin",
            Some(json!({"disabled": true})),
        )
        .await;
    assert_eq!(admin.status, 400);
    assert_eq!(admin.json()["errors"][0]["field"], "/disabled");
    let missing = app.admin("GET", "/admin/api/v1/tenants/nobody", None).await;
    assert_eq!(
        (missing.status.as_u16(), missing.json()["code"].clone()),
        (404, json!(code(ErrorName::NotFound)))
    );
}

#[tokio::test]
async fn validation_lists_every_invalid_field() {
    let app = TestApp::new().await;
    let r = app
        .admin("POST", "/admin/api/v1/tenants", Some(json!({"slug": "X", "policy": {"lockout_threshold": 0, "lockout_seconds": 60, "mfa_max_age_seconds": 60, "code_lifetime_seconds": 0, "blocked_ip_ranges": ["nope"]}})))
        .await;
    assert_eq!(r.status, 400);
    assert_eq!(r.header("content-type"), "application/problem+json");
    let v = r.json();
    assert_eq!(v["code"], code(ErrorName::ValidationFailed));
    let fields: Vec<&str> = v["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    for f in [
        "/slug",
        "/policy/lockout_threshold",
        "/policy/code_lifetime_seconds",
        "/policy/blocked_ip_ranges/0",
    ] {
        assert!(fields.contains(&f), "{f} missing from {fields:?}");
    }
    let reserved = app
        .admin(
            "POST",
            "/admin/api/v1/tenants",
            Some(json!({"slug": "common"})),
        )
        .await
        .json();
    assert_eq!(
        reserved["errors"][0]["code"],
        code(ErrorName::TenantSlugReserved)
    );
    let unknown = app
        .admin(
            "POST",
            "/admin/api/v1/tenants",
            Some(json!({"slug": "ok-slug", "colour": "red"})),
        )
        .await;
    assert_eq!(unknown.status, 400);
    assert_eq!(unknown.json()["errors"][0]["field"], "/colour");
    let not_json = app
        .send(
            Request::post("/admin/api/v1/tenants")
                .header("authorization", format!("Bearer {}", app.admin_token))
                .header("content-type", "text/plain")
                .body(Body::from("slug=x"))
                .unwrap(),
        )
        .await;
    assert_eq!(not_json.status, 415);
    assert_eq!(
        not_json.json()["code"],
        code(ErrorName::UnsupportedMediaType)
    );
    // Nothing was created by any of these.
    let list = app.admin("GET", "/admin/api/v1/tenants", None).await.json();
    assert_eq!(
        list["items"].as_array().unwrap().len(),
        1,
        "only admin: {list}"
    );
}

#[tokio::test]
async fn users_lifecycle_without_ever_returning_a_hash() {
    let app = with_tenant("contoso").await;
    let base = "/admin/api/v1/tenants/contoso/users";
    let r = app.admin("POST", base, Some(json!({"username": "Alice", "password": "correct horse battery", "email": "alice@contoso.test", "groups": ["staff"]}))).await;
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(r.json()["has_password"], true);
    assert!(
        !r.body.contains("argon2") && !r.body.contains("correct horse"),
        "{}",
        r.body
    );
    let dup = app
        .admin("POST", base, Some(json!({"username": "alice"})))
        .await;
    assert_eq!(dup.status, 409, "usernames compare case-insensitively");
    let bad = app
        .admin(
            "POST",
            base,
            Some(json!({"username": "b o b", "password": "short", "email": "nope"})),
        )
        .await;
    assert_eq!(bad.status, 400);
    let fields: Vec<String> = bad.json()["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(fields, ["/username", "/password", "/email"], "{}", bad.body);
    assert_eq!(
        bad.json()["errors"][1]["code"],
        code(ErrorName::PasswordPolicyViolation)
    );

    let got = app
        .admin("GET", &format!("{base}/ALICE"), None)
        .await
        .json();
    assert_eq!(got["username"], "Alice");
    let patched = app
        .admin(
            "PATCH",
            &format!("{base}/alice"),
            Some(json!({"enabled": false, "name": "Alice Example"})),
        )
        .await
        .json();
    assert_eq!(
        (patched["enabled"].clone(), patched["name"].clone()),
        (json!(false), json!("Alice Example"))
    );
    assert_eq!(
        app.admin(
            "POST",
            &format!("{base}/alice/password"),
            Some(json!({"password": "a brand new passphrase"}))
        )
        .await
        .status,
        204
    );
    assert_eq!(
        app.admin(
            "POST",
            &format!("{base}/alice/password"),
            Some(json!({"password": "short"}))
        )
        .await
        .status,
        400
    );
    let groups = app
        .admin("GET", &format!("{base}?name=ali"), None)
        .await
        .json();
    assert_eq!(groups["items"][0]["groups"], json!(["staff"]));
    assert_eq!(
        app.admin("DELETE", &format!("{base}/alice"), None)
            .await
            .status,
        204
    );
    assert_eq!(
        app.admin("GET", &format!("{base}/alice"), None)
            .await
            .status,
        404
    );
}

#[tokio::test]
async fn apps_and_secrets_shown_once() {
    let app = with_tenant("contoso").await;
    let base = "/admin/api/v1/tenants/contoso/apps";
    let bad = app
        .admin("POST", base, Some(json!({"client_id": "web", "name": "Web", "redirect_uris": {"web": ["http://app.test/cb"]}, "grant_types": ["password"], "permissions": [{"api": "api://none"}]})))
        .await;
    assert_eq!(bad.status, 400);
    let fields: Vec<String> = bad.json()["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap().to_owned())
        .collect();
    for f in [
        "/redirect_uris/web/0",
        "/grant_types/0",
        "/permissions/0/api",
    ] {
        assert!(fields.iter().any(|x| x == f), "{f} missing from {fields:?}");
    }
    let created = app
        .admin("POST", base, Some(json!({"client_id": "web", "name": "Web", "redirect_uris": {"web": ["https://app.test/cb"], "native": ["http://127.0.0.1/cb"]}, "grant_types": ["authorization_code", "client_credentials"]})))
        .await;
    assert_eq!(created.status, 201, "{}", created.body);
    assert_eq!(created.json()["confidential"], false);
    let secret = app
        .admin(
            "POST",
            &format!("{base}/web/secrets"),
            Some(json!({"expires_at": "2030-01-01T00:00:00Z"})),
        )
        .await;
    assert_eq!(secret.status, 201, "{}", secret.body);
    let value = secret.json()["value"].as_str().unwrap().to_owned();
    assert!(value.len() >= 43, "256 bits");
    let shown = app.admin("GET", &format!("{base}/web"), None).await;
    assert!(
        !shown.body.contains(&value),
        "the value is never shown again"
    );
    assert_eq!(shown.json()["confidential"], true);
    assert_eq!(shown.json()["secrets"][0]["hint"], value[..3]);
    let id = secret.json()["id"].as_str().unwrap().to_owned();
    assert_eq!(
        app.admin("DELETE", &format!("{base}/web/secrets/{id}"), None)
            .await
            .status,
        204
    );
    assert_eq!(
        app.admin("DELETE", &format!("{base}/web/secrets/{id}"), None)
            .await
            .status,
        404
    );
    let renamed = app
        .admin(
            "PATCH",
            &format!("{base}/web"),
            Some(json!({"name": "Web 2", "assigned_users": ["ghost"]})),
        )
        .await;
    assert_eq!(renamed.status, 400, "assigning an unknown user");
    assert_eq!(
        app.admin(
            "PATCH",
            &format!("{base}/web"),
            Some(json!({"name": "Web 2"}))
        )
        .await
        .json()["name"],
        "Web 2"
    );
    assert_eq!(
        app.admin("DELETE", &format!("{base}/web"), None)
            .await
            .status,
        204
    );
}

#[tokio::test]
async fn every_change_is_audited_without_secret_values() {
    let app = with_tenant("contoso").await;
    let tick = || app.clock.advance(time::Duration::seconds(1));
    tick();
    app.admin(
        "POST",
        "/admin/api/v1/tenants/contoso/users",
        Some(json!({"username": "alice", "password": "correct horse battery"})),
    )
    .await;
    tick();
    app.admin(
        "POST",
        "/admin/api/v1/tenants/contoso/apps",
        Some(json!({"client_id": "web", "name": "Web"})),
    )
    .await;
    tick();
    let secret = app
        .admin(
            "POST",
            "/admin/api/v1/tenants/contoso/apps/web/secrets",
            Some(json!({})),
        )
        .await
        .json();
    let log = app
        .admin("GET", "/admin/api/v1/tenants/contoso/audit", None)
        .await;
    assert_eq!(log.status, 200);
    let actions: Vec<String> = log.json()["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(
        actions,
        [
            "app.secret.add",
            "app.create",
            "user.create",
            "tenant.create"
        ]
    );
    assert!(
        !log.body.contains(secret["value"].as_str().unwrap())
            && !log.body.contains("correct horse")
    );
    assert!(log.body.contains("\"actor\":\"bootstrap\""));
    let user_entry = log.json()["items"][2].clone();
    assert!(
        user_entry["changes"]
            .as_array()
            .unwrap()
            .contains(&json!("password"))
    );
    let none = app
        .admin(
            "GET",
            "/admin/api/v1/tenants/contoso/audit?actor=import",
            None,
        )
        .await
        .json();
    assert!(none["items"].as_array().unwrap().is_empty());
    let bad = app
        .admin(
            "GET",
            "/admin/api/v1/tenants/contoso/audit?since=yesterday",
            None,
        )
        .await;
    assert_eq!(bad.status, 400);
    assert_eq!(bad.json()["errors"][0]["field"], "/since");
}

#[tokio::test]
async fn one_tenant_never_sees_another_tenants_objects() {
    let app = with_tenant("alpha").await;
    app.admin(
        "POST",
        "/admin/api/v1/tenants",
        Some(json!({"slug": "beta"})),
    )
    .await;
    app.admin(
        "POST",
        "/admin/api/v1/tenants/alpha/users",
        Some(json!({"username": "alice"})),
    )
    .await;
    app.admin(
        "POST",
        "/admin/api/v1/tenants/alpha/apps",
        Some(json!({"client_id": "web", "name": "Web"})),
    )
    .await;
    assert_eq!(
        app.admin("GET", "/admin/api/v1/tenants/beta/users/alice", None)
            .await
            .status,
        404
    );
    assert_eq!(
        app.admin("GET", "/admin/api/v1/tenants/beta/apps/web", None)
            .await
            .status,
        404
    );
    assert!(
        app.admin("GET", "/admin/api/v1/tenants/beta/users", None)
            .await
            .json()["items"]
            .as_array()
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        app.admin("DELETE", "/admin/api/v1/tenants/beta/users/alice", None)
            .await
            .status,
        404
    );
    assert_eq!(
        app.admin("GET", "/admin/api/v1/tenants/alpha/users/alice", None)
            .await
            .status,
        200
    );
}

#[tokio::test]
async fn the_openapi_document_lists_every_route() {
    let app = with_tenant("contoso").await;
    let doc = app.get("/admin/api/openapi.json", None).await.json();
    assert_eq!(doc["openapi"], "3.1.0");
    for (method, path) in ROUTES {
        let full = format!("/admin/api/v1{path}");
        assert!(
            doc["paths"][&full][method].is_object(),
            "{method} {full} is not documented"
        );
        // The route exists: routing answers with anything but 404/405.
        let concrete = full
            .replace("{slug}", "contoso")
            .replace("{username}", "nobody")
            .replace("{client_id}", "none")
            .replace("{name}", "none")
            .replace("{identifier}", "api%3A%2F%2Fnone")
            .replace("{id}", "none")
            .replace("{trace_id}", "none");
        let r = app.admin(&method.to_uppercase(), &concrete, None).await;
        assert!(r.status != 405, "{method} {concrete}: {}", r.status);
        if r.status == 404 {
            assert_eq!(
                r.json()["code"],
                code(ErrorName::NotFound),
                "{method} {concrete} is routed: {}",
                r.body
            );
        }
    }
    let documented: usize = doc["paths"]
        .as_object()
        .unwrap()
        .values()
        .map(|p| p.as_object().unwrap().len())
        .sum();
    assert_eq!(
        documented,
        ROUTES.len(),
        "a documented route is missing from ROUTES"
    );
    assert!(doc["components"]["securitySchemes"]["bearer"].is_object());
}

#[tokio::test]
async fn signing_keys_are_listed_without_private_parts_and_rotate() {
    let app = with_tenant("contoso").await;
    let keys = app
        .admin("GET", "/admin/api/v1/tenants/contoso/keys", None)
        .await;
    assert_eq!(keys.status, 200);
    let items = keys.json()["items"].as_array().unwrap().clone();
    assert_eq!(
        items.len(),
        6,
        "an active and a next key per algorithm: {}",
        keys.body
    );
    assert!(
        !keys.body.contains("private") && !keys.body.contains("\"d\""),
        "{}",
        keys.body
    );
    let rotated = app
        .admin("POST", "/admin/api/v1/tenants/contoso/keys/rotate", None)
        .await
        .json();
    let states: Vec<String> = rotated["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| {
            format!(
                "{} {}",
                k["alg"].as_str().unwrap(),
                k["state"].as_str().unwrap()
            )
        })
        .collect();
    for alg in ["EdDSA", "ES256", "RS256"] {
        for state in ["active", "next", "retired"] {
            assert!(
                states.contains(&format!("{alg} {state}")),
                "{alg} {state} missing from {states:?}"
            );
        }
    }
    let log = app
        .admin("GET", "/admin/api/v1/tenants/contoso/audit", None)
        .await
        .json();
    assert_eq!(log["items"][0]["action"], "keys.rotate");
}

#[tokio::test]
async fn apis_and_groups() {
    let app = with_tenant("contoso").await;
    let apis = "/admin/api/v1/tenants/contoso/apis";
    let bad = app
        .admin(
            "POST",
            apis,
            Some(json!({"identifier": "not a uri", "name": "API", "scopes": [{"name": "a b"}]})),
        )
        .await;
    assert_eq!(bad.status, 400);
    let fields: Vec<String> = bad.json()["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(fields, ["/identifier", "/scopes/0"], "{}", bad.body);
    let created = app
        .admin("POST", apis, Some(json!({"identifier": "https://api.contoso.test", "name": "Contoso API", "scopes": [{"name": "read"}, {"name": "write", "description": "Change files", "admin_consent_required": true}], "app_roles": ["Reader"]})))
        .await;
    assert_eq!(created.status, 201, "{}", created.body);
    let encoded = "https%3A%2F%2Fapi.contoso.test";
    let got = app
        .admin("GET", &format!("{apis}/{encoded}"), None)
        .await
        .json();
    assert_eq!(got["scopes"][1]["admin_consent_required"], true);
    assert_eq!(got["scopes"][0]["description"], "Use the read permission");
    // An app may now ask for its scopes; then the API cannot be deleted under it.
    let web = app.admin("POST", "/admin/api/v1/tenants/contoso/apps", Some(json!({"client_id": "web", "name": "Web", "permissions": [{"api": "https://api.contoso.test", "scopes": ["read"], "app_roles": ["Reader"]}]}))).await;
    assert_eq!(web.status, 201, "{}", web.body);
    assert_eq!(
        app.admin("DELETE", &format!("{apis}/{encoded}"), None)
            .await
            .status,
        409
    );
    let patched = app
        .admin(
            "PATCH",
            &format!("{apis}/{encoded}"),
            Some(json!({"app_roles": ["Reader", "Writer"]})),
        )
        .await
        .json();
    assert_eq!(patched["app_roles"], json!(["Reader", "Writer"]));
    assert!(patched.get("client_id").is_none(), "{patched}");
    // The app that serves the API (token exchange): set, kept by other changes, removed.
    let api_path = format!("{apis}/{encoded}");
    let patch = |body: serde_json::Value| app.admin("PATCH", &api_path, Some(body));
    assert_eq!(
        patch(json!({"client_id": "web"})).await.json()["client_id"],
        "web"
    );
    assert_eq!(
        patch(json!({"name": "Files"})).await.json()["client_id"],
        "web"
    );
    assert!(
        patch(json!({"client_id": ""}))
            .await
            .json()
            .get("client_id")
            .is_none()
    );
    let bad = patch(json!({"client_id": "has space"})).await;
    assert_eq!(bad.status, 400, "{}", bad.body);
    assert_eq!(
        bad.json()["errors"][0]["field"],
        "/client_id",
        "{}",
        bad.body
    );

    let groups = "/admin/api/v1/tenants/contoso/groups";
    assert_eq!(
        app.admin("POST", groups, Some(json!({"name": "staff"})))
            .await
            .status,
        201
    );
    assert_eq!(
        app.admin("POST", groups, Some(json!({"name": "staff"})))
            .await
            .status,
        409
    );
    app.admin(
        "POST",
        "/admin/api/v1/tenants/contoso/users",
        Some(json!({"username": "alice", "groups": ["staff"]})),
    )
    .await;
    let listed = app.admin("GET", groups, None).await.json();
    assert_eq!(listed["items"][0]["members"], json!(["alice"]));
    assert_eq!(
        app.admin("DELETE", &format!("{groups}/staff"), None)
            .await
            .status,
        204
    );
    let alice = app
        .admin("GET", "/admin/api/v1/tenants/contoso/users/alice", None)
        .await
        .json();
    assert_eq!(
        alice["groups"],
        json!([]),
        "deleting a group removes it from its members"
    );
}

#[tokio::test]
async fn key_credentials_are_checked_and_added() {
    let app = with_tenant("contoso").await;
    app.admin(
        "POST",
        "/admin/api/v1/tenants/contoso/apps",
        Some(
            json!({"client_id": "daemon", "name": "Daemon", "grant_types": ["client_credentials"]}),
        ),
    )
    .await;
    let keys = "/admin/api/v1/tenants/contoso/apps/daemon/keys";
    let ed = json!({"kty": "OKP", "crv": "Ed25519", "kid": "k1", "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"});
    let added = app.admin("POST", keys, Some(json!({"jwk": ed}))).await;
    assert_eq!(added.status, 201, "{}", added.body);
    assert_eq!(added.json()["confidential"], true);
    assert_eq!(added.json()["jwks"]["keys"][0]["kid"], "k1");
    let again = app.admin("POST", keys, Some(json!({"jwk": ed}))).await;
    assert_eq!(again.status, 400);
    assert_eq!(again.json()["errors"][0]["field"], "/jwk/kid");
    let private = json!({"kty": "OKP", "crv": "Ed25519", "kid": "k2", "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo", "d": "secret"});
    let refused = app.admin("POST", keys, Some(json!({"jwk": private}))).await;
    assert_eq!(refused.status, 400);
    assert!(!refused.body.contains("\"secret\""));
    let weak = app
        .admin(
            "POST",
            keys,
            Some(json!({"jwk": {"kty": "RSA", "kid": "r", "n": "AQAB", "e": "AQAB"}})),
        )
        .await;
    assert_eq!(weak.status, 400);
}

#[tokio::test]
async fn consents_are_listed_per_user_and_revoked() {
    use tessera_core::directory::model::Consent;
    use tessera_core::store::object::{ObjectKind, StoredObject, Write, encode};
    let app = with_tenant("contoso").await;
    app.admin(
        "POST",
        "/admin/api/v1/tenants/contoso/users",
        Some(json!({"username": "Alice"})),
    )
    .await;
    app.admin(
        "POST",
        "/admin/api/v1/tenants/contoso/users",
        Some(json!({"username": "bob"})),
    )
    .await;
    // Consents are recorded by the sign-in flow; write two directly for this test.
    let tenant = app
        .state
        .store
        .tenant(&tessera_core::tenant::TenantSlug::parse("contoso").unwrap())
        .await
        .unwrap()
        .unwrap();
    let consent = |user: &str, id: u128| {
        let c = Consent {
            user: user.into(),
            client_id: "web".into(),
            scopes: ["openid".to_owned(), "profile".to_owned()].into(),
            granted_at: crate::support::T0,
        };
        Write::Put(StoredObject::new(
            ObjectId::from_uuid(uuid::Uuid::from_u128(id)),
            tenant.id,
            ObjectKind::Consent,
            Consent::key(&"web".into(), user),
            encode(&c),
            crate::support::T0,
        ))
    };
    app.state
        .store
        .apply(vec![consent("alice", 1), consent("bob", 2)])
        .await
        .unwrap();
    let base = "/admin/api/v1/tenants/contoso/users/ALICE/consents";
    let listed = app.admin("GET", base, None).await.json();
    assert_eq!(
        listed["items"],
        json!([{"client_id": "web", "scopes": ["openid", "profile"], "granted_at": "2026-11-26T19:30:00Z"}])
    );
    assert_eq!(
        app.admin("DELETE", &format!("{base}/web"), None)
            .await
            .status,
        204
    );
    assert!(
        app.admin("GET", base, None).await.json()["items"]
            .as_array()
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        app.admin("DELETE", &format!("{base}/web"), None)
            .await
            .status,
        404
    );
    let bobs = app
        .admin(
            "GET",
            "/admin/api/v1/tenants/contoso/users/bob/consents",
            None,
        )
        .await
        .json();
    assert_eq!(
        bobs["items"].as_array().unwrap().len(),
        1,
        "only Alice's consent was revoked"
    );
    // Deleting a user deletes their consents: a new user of that name starts clean.
    assert_eq!(
        app.admin("DELETE", "/admin/api/v1/tenants/contoso/users/bob", None)
            .await
            .status,
        204
    );
    app.admin(
        "POST",
        "/admin/api/v1/tenants/contoso/users",
        Some(json!({"username": "bob"})),
    )
    .await;
    let fresh = app
        .admin(
            "GET",
            "/admin/api/v1/tenants/contoso/users/bob/consents",
            None,
        )
        .await
        .json();
    assert!(fresh["items"].as_array().unwrap().is_empty());
}

#[tokio::test]
async fn app_roles_are_assigned_to_users_and_groups() {
    let app = with_tenant("contoso").await;
    app.admin("POST", "/admin/api/v1/tenants/contoso/apis", Some(json!({"identifier": "api://files", "name": "Files", "app_roles": ["Reader", "Writer"]}))).await;
    let users = "/admin/api/v1/tenants/contoso/users";
    let bad = app.admin("POST", users, Some(json!({"username": "alice", "app_roles": [{"api": "api://files", "role": "Owner"}, {"api": "api://nope", "role": "Reader"}]}))).await;
    assert_eq!(bad.status, 400);
    let fields: Vec<String> = bad.json()["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(
        fields,
        ["/app_roles/0/role", "/app_roles/1/api"],
        "{}",
        bad.body
    );
    let ok = app.admin("POST", users, Some(json!({"username": "alice", "app_roles": [{"api": "api://files", "role": "Reader"}]}))).await;
    assert_eq!(ok.status, 201, "{}", ok.body);
    assert_eq!(
        ok.json()["app_roles"],
        json!([{"api": "api://files", "role": "Reader"}])
    );
    let patched = app
        .admin(
            "PATCH",
            &format!("{users}/alice"),
            Some(json!({"app_roles": [{"api": "api://files", "role": "Writer"}]})),
        )
        .await
        .json();
    assert_eq!(patched["app_roles"][0]["role"], "Writer");
    let group = app
        .admin(
            "POST",
            "/admin/api/v1/tenants/contoso/groups",
            Some(
                json!({"name": "editors", "app_roles": [{"api": "api://files", "role": "Writer"}]}),
            ),
        )
        .await;
    assert_eq!(group.status, 201, "{}", group.body);
    let bad_group = app
        .admin(
            "POST",
            "/admin/api/v1/tenants/contoso/groups",
            Some(json!({"name": "x", "app_roles": [{"api": "api://files", "role": "Nope"}]})),
        )
        .await;
    assert_eq!(bad_group.json()["errors"][0]["field"], "/app_roles/0/role");
}

/// Follows `next_cursor` from `first` to the last page; the usernames in order.
async fn all_pages(app: &TestApp, first: &str, limit: usize) -> Vec<String> {
    let mut seen = Vec::new();
    let mut path = first.to_owned();
    loop {
        let page = app.admin("GET", &path, None).await.json();
        let items = page["items"].as_array().unwrap();
        assert!(items.len() <= limit, "{path}: {} items", items.len());
        seen.extend(
            items
                .iter()
                .map(|u| u["username"].as_str().unwrap().to_owned()),
        );
        match page.get("next_cursor").and_then(|c| c.as_str()) {
            Some(c) => path = format!("{first}&cursor={c}"),
            None => return seen,
        }
    }
}

/// Listings read the store a batch at a time (`admin::common::list_page`): pages follow
/// their cursors across batches, and the name filter applies before the limit.
#[tokio::test]
async fn user_lists_page_through_more_users_than_one_store_batch() {
    let app = TestApp::new().await;
    let users: Vec<_> = (0..300)
        .map(|i| {
            let mut u = json!({ "username": format!("user{i:03}") });
            if i % 7 == 0 {
                u["name"] = json!(format!("Match {i}"));
            }
            u
        })
        .collect();
    app.import(
        json!({ "tenants": [{ "slug": "contoso", "display_name": "Contoso", "users": users }] }),
    )
    .await;
    let base = "/admin/api/v1/tenants/contoso/users";
    let every: Vec<String> = (0..300).map(|i| format!("user{i:03}")).collect();
    assert_eq!(
        all_pages(&app, &format!("{base}?limit=120"), 120).await,
        every
    );
    assert_eq!(
        all_pages(&app, &format!("{base}?limit=1000"), 1000).await,
        every
    );
    let matching: Vec<String> = (0..300)
        .filter(|i| i % 7 == 0)
        .map(|i| format!("user{i:03}"))
        .collect();
    assert_eq!(
        all_pages(&app, &format!("{base}?limit=10&name=MATCH"), 10).await,
        matching
    );
}

/// An app's ID-token algorithm: RS256 until it registers another, back to RS256 with an
/// empty string, and an unknown one refused with its field.
#[tokio::test]
async fn an_apps_id_token_algorithm_is_set_and_reset() {
    let app = with_tenant("contoso").await;
    let apps = "/admin/api/v1/tenants/contoso/apps";
    let created = app
        .admin(
            "POST",
            apps,
            Some(json!({"client_id": "web", "name": "Web"})),
        )
        .await;
    assert_eq!(created.status, 201, "{}", created.body);
    assert_eq!(created.json()["id_token_signed_response_alg"], "RS256");
    let bad = app
        .admin(
            "PATCH",
            &format!("{apps}/web"),
            Some(json!({"id_token_signed_response_alg": "none"})),
        )
        .await;
    assert_eq!(bad.status, 400, "{}", bad.body);
    assert_eq!(
        bad.json()["errors"][0]["field"],
        "/id_token_signed_response_alg"
    );
    for (set, shown) in [("EdDSA", "EdDSA"), ("", "RS256")] {
        let patched = app
            .admin(
                "PATCH",
                &format!("{apps}/web"),
                Some(json!({"id_token_signed_response_alg": set})),
            )
            .await;
        assert_eq!(patched.status, 200, "{}", patched.body);
        assert_eq!(patched.json()["id_token_signed_response_alg"], shown);
    }
}

/// PATCH of a nested object is a JSON Merge Patch (RFC 7396): the members sent replace
/// theirs, null returns one to its default, the members left out keep their values
/// (a client sending one member of a policy never resets the others); what does not
/// fit is refused with the field.
#[tokio::test]
async fn patching_a_nested_object_merges() {
    let app = with_tenant("contoso").await;
    let tenant = "/admin/api/v1/tenants/contoso";
    let patch = |body: serde_json::Value| app.admin("PATCH", tenant, Some(body));
    let r =
        patch(json!({"policy": {"lockout_threshold": 7, "access_token_lifetime_seconds": 600}}))
            .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let r = patch(json!({"policy": {"code_lifetime_seconds": 120}})).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let policy = r.json()["policy"].clone();
    assert_eq!(
        (
            &policy["lockout_threshold"],
            &policy["access_token_lifetime_seconds"],
            &policy["code_lifetime_seconds"]
        ),
        (&json!(7), &json!(600), &json!(120)),
        "the members left out kept their values: {policy}"
    );
    let r = patch(json!({"policy": {"access_token_lifetime_seconds": null}})).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let policy = r.json()["policy"].clone();
    assert_eq!(
        policy["access_token_lifetime_seconds"], 3600,
        "null: the default"
    );
    assert_eq!(policy["lockout_threshold"], 7);
    for (body, field) in [
        (json!({"policy": 5}), "/policy"),
        (json!({"policy": {"nonsense": 1}}), "/policy/nonsense"),
        (
            json!({"policy": {"lockout_threshold": "many"}}),
            "/policy/lockout_threshold",
        ),
    ] {
        let r = patch(body.clone()).await;
        assert_eq!(r.status, 400, "{body}: {}", r.body);
        assert_eq!(r.json()["errors"][0]["field"], field, "{body}: {}", r.body);
    }

    let apps = "/admin/api/v1/tenants/contoso/apps";
    let created = app
        .admin("POST", apps, Some(json!({"client_id": "web", "name": "Web",
            "redirect_uris": {"web": ["https://web.contoso.test/cb"], "native": ["http://127.0.0.1/cb"]}})))
        .await;
    assert_eq!(created.status, 201, "{}", created.body);
    let r = app
        .admin(
            "PATCH",
            &format!("{apps}/web"),
            Some(
                json!({"redirect_uris": {"spa": ["https://spa.contoso.test/cb"], "native": null}}),
            ),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(
        r.json()["redirect_uris"],
        json!({"web": ["https://web.contoso.test/cb"], "spa": ["https://spa.contoso.test/cb"], "native": []})
    );
}

/// A tenant is deleted with everything it holds once the request repeats its slug; the
/// admin tenant cannot be; the admin tenant's audit log records it; nothing of it is
/// served afterwards, and the slug can be used again.
#[tokio::test]
async fn a_tenant_is_deleted_with_everything_once_confirmed() {
    let app = with_tenant("contoso").await;
    app.import(json!({ "tenants": [{ "slug": "contoso",
        "users": [ { "username": "alice", "password": "correct horse battery" } ],
        "apps": [ { "client_id": "web", "name": "Web", "redirect_uris": { "web": ["https://web.test/cb"] } } ] }] }))
        .await;
    assert_eq!(app.get("/contoso/discovery/keys", None).await.status, 200);
    let path = "/admin/api/v1/tenants/contoso";
    for (query, field) in [("", "/confirm"), ("?confirm=fabrikam", "/confirm")] {
        let r = app.admin("DELETE", &format!("{path}{query}"), None).await;
        assert_eq!(r.status, 400, "{}", r.body);
        assert_eq!(r.json()["errors"][0]["field"], field);
    }
    let r = app
        .admin("DELETE", "/admin/api/v1/tenants/admin?confirm=admin", None)
        .await;
    assert_eq!(r.status, 400, "{}", r.body);
    assert_eq!(r.json()["errors"][0]["field"], "/slug");

    let r = app
        .admin("DELETE", &format!("{path}?confirm=contoso"), None)
        .await;
    assert_eq!(r.status, 204, "{}", r.body);
    for gone in [
        "/contoso/discovery/keys",
        "/contoso/.well-known/openid-configuration",
    ] {
        let r = app.get(gone, None).await;
        assert_eq!(r.status, 404, "{gone}: {}", r.body);
        assert_eq!(
            r.json()["error_codes"][0],
            ErrorName::TenantNotFound.entry().code
        );
    }
    assert_eq!(app.admin("GET", path, None).await.status, 404);
    let again = app
        .admin("DELETE", &format!("{path}?confirm=contoso"), None)
        .await;
    assert_eq!(again.status, 404);
    let log = app
        .admin("GET", "/admin/api/v1/tenants/admin/audit", None)
        .await
        .json();
    assert_eq!(log["items"][0]["action"], "tenant.delete");
    assert_eq!(log["items"][0]["target"], "tenant:contoso");
    // The slug is free; the new tenant holds nothing of the old one.
    let created = app
        .admin(
            "POST",
            "/admin/api/v1/tenants",
            Some(json!({"slug": "contoso"})),
        )
        .await;
    assert_eq!(created.status, 201, "{}", created.body);
    let users = app
        .admin("GET", "/admin/api/v1/tenants/contoso/users", None)
        .await;
    assert_eq!(users.json()["items"], json!([]));
}

/// The password policy where administrators set passwords: the tenant's
/// `password_min_length`, no user name inside, and the server's deny list.
#[tokio::test]
async fn passwords_follow_the_tenant_policy_and_the_deny_list() {
    let mut app = TestApp::new().await;
    app.state.password_deny_list =
        std::sync::Arc::new(tessera_core::directory::password_policy::DenyList::parse(
            "# breached\nSummer2026-Holiday\n",
        ));
    let made = app
        .admin(
            "POST",
            "/admin/api/v1/tenants",
            Some(
                json!({"slug": "strict", "policy": {"lockout_threshold": 5, "lockout_seconds": 60,
                "mfa_max_age_seconds": 3600, "code_lifetime_seconds": 60, "blocked_ip_ranges": [],
                "password_min_length": 14}}),
            ),
        )
        .await;
    assert_eq!(made.status, 201, "{}", made.body);
    let base = "/admin/api/v1/tenants/strict/users";
    let refused = |r: &super::support::Reply, why: &str| {
        assert_eq!(r.status, 400, "{}", r.body);
        let e = &r.json()["errors"][0];
        assert_eq!(e["field"], "/password", "{}", r.body);
        assert_eq!(e["code"], code(ErrorName::PasswordPolicyViolation));
        assert!(e["message"].as_str().unwrap().contains(why), "{}", r.body);
    };
    for (password, why) in [
        ("thirteen-char", "at least 14"),
        ("carol-is-my-name", "user name"),
        ("SUMMER2026-holiday", "common or breached"),
    ] {
        let r = app
            .admin(
                "POST",
                base,
                Some(json!({"username": "carol", "password": password})),
            )
            .await;
        refused(&r, why);
    }
    let ok = app
        .admin(
            "POST",
            base,
            Some(json!({"username": "carol", "password": "fourteen chars!"})),
        )
        .await;
    assert_eq!(ok.status, 201, "{}", ok.body);
    let reset = app
        .admin(
            "POST",
            &format!("{base}/carol/password"),
            Some(json!({"password": "Summer2026-Holiday"})),
        )
        .await;
    refused(&reset, "common or breached");
    let bad_policy = app
        .admin(
            "PATCH",
            "/admin/api/v1/tenants/strict",
            Some(json!({"policy": {"password_min_length": 7}})),
        )
        .await;
    assert_eq!(bad_policy.status, 400, "{}", bad_policy.body);
    assert!(
        bad_policy.body.contains("/policy/password_min_length"),
        "{}",
        bad_policy.body
    );
}
