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
    assert_eq!(algs, ["ES256", "EdDSA", "RS256"]);
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
