//! Liveness, readiness and metrics.

use crate::support::{TestApp, send};
use async_trait::async_trait;
use axum::body::Body;
use axum::http::Request;
use std::sync::Arc;
use tessera_core::errors::ErrorName;
use tessera_core::ids::{ObjectId, TenantId};
use tessera_core::store::object::{ObjectKind, StoredObject, Write};
use tessera_core::store::{Page, Store, StoreError, StoreResult};
use tessera_core::tenant::{NewTenant, Tenant, TenantSlug};

#[tokio::test]
async fn healthz_and_readyz_answer() {
    let app = TestApp::new().await;
    let h = app.get("/healthz", None).await;
    assert_eq!(
        (h.status.as_u16(), h.json()["status"].as_str()),
        (200, Some("ok"))
    );
    let r = app.get("/readyz", None).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.json()["store"], "sqlite");
}

/// A store that cannot be reached.
struct Unreachable;

#[async_trait]
impl Store for Unreachable {
    fn backend(&self) -> &'static str {
        "unreachable"
    }
    async fn ping(&self) -> StoreResult<()> {
        Err(StoreError::Unavailable("connection refused".into()))
    }
    async fn create_tenant(&self, _: NewTenant) -> StoreResult<Tenant> {
        Err(StoreError::Unavailable("connection refused".into()))
    }
    async fn tenant(&self, _: &TenantSlug) -> StoreResult<Option<Tenant>> {
        Err(StoreError::Unavailable("connection refused".into()))
    }
    async fn list_tenants(&self, _: Option<&str>, _: u32) -> StoreResult<Page<Tenant>> {
        Err(StoreError::Unavailable("connection refused".into()))
    }
    async fn tenant_by_id(&self, _: TenantId) -> StoreResult<Option<Tenant>> {
        Err(StoreError::Unavailable("connection refused".into()))
    }
    async fn apps_with_client_id(&self, _: &str) -> StoreResult<Vec<(Tenant, StoredObject)>> {
        Err(StoreError::Unavailable("connection refused".into()))
    }
    async fn objects(&self, _: TenantId, _: ObjectKind) -> StoreResult<Vec<StoredObject>> {
        Err(StoreError::Unavailable("connection refused".into()))
    }
    async fn objects_after(
        &self,
        _: TenantId,
        _: ObjectKind,
        _: Option<&str>,
        _: u32,
    ) -> StoreResult<Vec<StoredObject>> {
        Err(StoreError::Unavailable("connection refused".into()))
    }
    async fn object(
        &self,
        _: TenantId,
        _: ObjectKind,
        _: &str,
    ) -> StoreResult<Option<StoredObject>> {
        Err(StoreError::Unavailable("connection refused".into()))
    }
    async fn objects_of_user(
        &self,
        _: TenantId,
        _: ObjectKind,
        _: &str,
    ) -> StoreResult<Vec<StoredObject>> {
        Err(StoreError::Unavailable("connection refused".into()))
    }
    async fn object_by_id(
        &self,
        _: TenantId,
        _: ObjectKind,
        _: ObjectId,
    ) -> StoreResult<Option<StoredObject>> {
        Err(StoreError::Unavailable("connection refused".into()))
    }
    fn listen(&self, _: std::sync::Arc<dyn tessera_core::store::ChangeListener>) {}
    async fn delete_expired(
        &self,
        _: TenantId,
        _: ObjectKind,
        _: time::OffsetDateTime,
        _: u32,
    ) -> StoreResult<u64> {
        Err(StoreError::Unavailable("connection refused".into()))
    }
    async fn apply(&self, _: Vec<Write>) -> StoreResult<()> {
        Err(StoreError::Unavailable("connection refused".into()))
    }
    async fn apply_if(
        &self,
        _: &tessera_core::store::Requirement,
        _: Vec<Write>,
    ) -> StoreResult<Option<StoredObject>> {
        Err(StoreError::Unavailable("connection refused".into()))
    }
    async fn audit(
        &self,
        _: TenantId,
        _: &tessera_core::audit::AuditQuery,
    ) -> StoreResult<Vec<tessera_core::audit::AuditEntry>> {
        Err(StoreError::Unavailable("connection refused".into()))
    }
}

#[tokio::test]
async fn readyz_is_503_temporarily_unavailable_when_the_store_is_down() {
    let app = TestApp::new().await;
    let mut state = app.state.clone();
    state.store = Arc::new(Unreachable);
    let r = send(
        tessera_server::app(state),
        Request::get("/readyz").body(Body::empty()).unwrap(),
    )
    .await;
    assert_eq!(r.status, 503);
    assert_eq!(r.header("retry-after"), "5");
    let v = r.json();
    assert_eq!(v["error"], "temporarily_unavailable");
    assert_eq!(
        v["error_codes"][0],
        ErrorName::TemporarilyUnavailable.entry().code
    );
    assert!(
        !r.body.contains("connection refused"),
        "driver detail stays in the log"
    );
    assert_eq!(v["trace_id"].as_str().map(str::len), Some(32));
}

#[tokio::test]
async fn metrics_count_requests_by_route_and_status() {
    let app = TestApp::new().await;
    app.get("/healthz", None).await;
    app.get("/no-such-route-for-metrics", None).await;
    let m = app.get("/metrics", None).await;
    assert_eq!(m.status, 200);
    assert!(
        m.header("content-type")
            .starts_with("text/plain; version=0.0.4")
    );
    assert!(
        m.body
            .contains("# TYPE tessera_http_requests_total counter"),
        "{}",
        m.body
    );
    assert!(
        m.body
            .contains(r#"tessera_http_requests_total{method="GET",route="/healthz",status="200"}"#)
    );
    // Unmatched paths share one label value, so a scanner cannot explode cardinality.
    assert!(m.body.contains(r#"route="unmatched",status="404""#));
    assert!(!m.body.contains("no-such-route-for-metrics"));
    assert!(
        m.body
            .contains("# TYPE tessera_http_request_duration_seconds histogram")
    );
    assert!(m.body.contains(r#"tessera_http_request_duration_seconds_bucket{method="GET",route="/healthz",status="200",le="0.001"}"#));
}

#[tokio::test]
async fn metrics_give_unknown_methods_one_label_and_count_each_request() {
    let app = TestApp::new().await;
    // Any token is a valid method; each must not become a series of its own. No other
    // test sends one, so the counts below are this test's alone.
    for method in ["FROB", "FROB", "QUUX"] {
        let req = Request::builder()
            .method(method)
            .uri("/healthz")
            .body(Body::empty())
            .unwrap();
        app.send(req).await;
    }
    let m = app.get("/metrics", None).await;
    assert!(!m.body.contains("FROB") && !m.body.contains("QUUX"));
    let line = m
        .body
        .lines()
        .find(|l| l.starts_with(r#"tessera_http_requests_total{method="other",route="/healthz","#))
        .unwrap_or_else(|| panic!("no series for method=other: {}", m.body));
    assert!(line.ends_with(" 3"), "{line}");
}

/// The store goes away under a running server whose cache knows the tenant and its
/// apps: a request that needs the store (a refresh, revoking or introspecting a refresh
/// token) is TemporarilyUnavailable (503, Retry-After, a trace id) at the token,
/// revocation and introspection endpoints, never a refusal of the token; one that needs
/// only the cache (a client-credentials grant, introspecting an access token) still works.
#[tokio::test]
async fn a_store_outage_is_temporarily_unavailable_at_the_protocol_endpoints() {
    use crate::oidc::{TENANT, WEB_CB, WEB_SECRET, server};
    let served = server(None).await;
    let t = crate::refresh::tokens_for(&served, "web-app", WEB_CB, "openid offline_access").await;
    let refresh = t["refresh_token"].as_str().unwrap();
    let access = t["access_token"].as_str().unwrap();
    let form = |pairs: &[(&str, &str)]| {
        let mut all = vec![("client_id", "web-app"), ("client_secret", WEB_SECRET)];
        all.extend_from_slice(pairs);
        serde_urlencoded::to_string(all).unwrap()
    };
    // One introspection while the store is up loads the keys and the deny-list into the
    // cache, as any earlier request of a running server would have.
    let warm = served
        .app
        .send(
            Request::post(format!("/{TENANT}/oauth2/introspect"))
                .header("content-type", "application/x-www-form-urlencoded")
                .body(Body::from(form(&[("token", access)])))
                .unwrap(),
        )
        .await;
    assert_eq!(warm.json()["active"], true);
    // The same state (and so the same warm cache) on a store that cannot be reached.
    let mut state = served.app.state.clone();
    state.store = Arc::new(Unreachable);
    let down = tessera_server::app(state);
    let post = |path: &str, body: String| {
        send(
            down.clone(),
            Request::post(format!("/{TENANT}/oauth2/{path}"))
                .header("content-type", "application/x-www-form-urlencoded")
                .body(Body::from(body))
                .unwrap(),
        )
    };
    for (path, body) in [
        (
            "token",
            form(&[("grant_type", "refresh_token"), ("refresh_token", refresh)]),
        ),
        ("revoke", form(&[("token", refresh)])),
        ("introspect", form(&[("token", refresh)])),
    ] {
        let r = post(path, body).await;
        assert_eq!(r.status, 503, "{path}: {}", r.body);
        assert_eq!(r.header("retry-after"), "5", "{path}");
        let v = r.json();
        assert_eq!(
            v["error_codes"][0],
            ErrorName::TemporarilyUnavailable.entry().code,
            "{path}"
        );
        assert_eq!(v["error"], "temporarily_unavailable", "{path}");
        assert_eq!(v["trace_id"].as_str().map(str::len), Some(32), "{path}");
    }
    // What needs no store still answers.
    let r = post("introspect", form(&[("token", access)])).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json()["active"], true);
}
