//! CORS for browser apps: discovery and JWKS are public (any origin); token, revocation
//! and UserInfo answers are readable only by the calling app's own `spa` redirect URI
//! origins; preflights are answered for GET and POST with the headers a bearer call needs.

use super::oidc::*;
use super::support::Served;
use tessera_core::errors::ErrorName;

const SPA_ORIGIN: &str = "http://localhost:3000";
const EVIL_ORIGIN: &str = "https://evil.test";

/// Tokens for alice through spa-app (PKCE, redeemed cross-origin as a browser would).
async fn spa_tokens(served: &Served) -> serde_json::Value {
    super::refresh::tokens_for(served, "spa-app", SPA_CB, "openid").await
}

async fn userinfo(served: &Served, token: &str, origin: &str) -> reqwest::Response {
    rp_http()
        .get(format!("{}/{TENANT}/oauth2/userinfo", served.base))
        .bearer_auth(token)
        .header("origin", origin)
        .send()
        .await
        .unwrap()
}

async fn revoke(served: &Served, token: &str, origin: &str) -> reqwest::Response {
    rp_http()
        .post(format!("{}/{TENANT}/oauth2/revoke", served.base))
        .form(&[("client_id", "spa-app"), ("token", token)])
        .header("origin", origin)
        .send()
        .await
        .unwrap()
}

fn allowed_origin(r: &reqwest::Response) -> Option<&str> {
    r.headers()
        .get("access-control-allow-origin")
        .map(|v| v.to_str().unwrap())
}

fn varies_on_origin(r: &reqwest::Response) -> bool {
    r.headers()
        .get_all("vary")
        .iter()
        .any(|v| v.to_str().unwrap().contains("Origin"))
}

#[tokio::test]
async fn discovery_and_jwks_are_readable_from_any_origin() {
    let served = server(None).await;
    for path in ["/.well-known/openid-configuration", "/discovery/keys"] {
        let r = rp_http()
            .get(format!("{}/{TENANT}{path}", served.base))
            .header("origin", EVIL_ORIGIN)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "{path}");
        assert_eq!(allowed_origin(&r), Some("*"), "{path}");
        assert!(
            r.headers()
                .get("access-control-allow-credentials")
                .is_none()
        );
    }
}

#[tokio::test]
async fn userinfo_is_readable_by_the_tokens_own_spa_origin_only() {
    let served = server(None).await;
    let tokens = spa_tokens(&served).await;
    let access = tokens["access_token"].as_str().unwrap();

    let r = userinfo(&served, access, SPA_ORIGIN).await;
    assert_eq!(r.status(), 200);
    assert_eq!(allowed_origin(&r), Some(SPA_ORIGIN));
    assert!(varies_on_origin(&r));
    assert!(
        r.headers()
            .get("access-control-allow-credentials")
            .is_none()
    );

    // Another origin, with the same valid token: answered, but not readable there.
    let r = userinfo(&served, access, EVIL_ORIGIN).await;
    assert_eq!(r.status(), 200);
    assert_eq!(allowed_origin(&r), None);
    assert!(varies_on_origin(&r));

    // A token of web-app (no spa redirect URIs) is not readable from the SPA's origin.
    let web = web_tokens(&served, "openid").await;
    let r = userinfo(&served, web["access_token"].as_str().unwrap(), SPA_ORIGIN).await;
    assert_eq!(r.status(), 200);
    assert_eq!(allowed_origin(&r), None);

    // A bad token names no app: its 401 carries no CORS grant.
    let r = userinfo(&served, "not-a-jwt", SPA_ORIGIN).await;
    assert_eq!(allowed_origin(&r), None);
    assert_json_error(r, ErrorName::BearerTokenMalformed).await;

    // When the token is sound but its user is gone, the SPA can read why UserInfo
    // refuses it (the challenge is exposed to its script).
    delete_user(&served, "alice").await;
    let r = userinfo(&served, access, SPA_ORIGIN).await;
    assert_eq!(r.status(), 401);
    assert_eq!(allowed_origin(&r), Some(SPA_ORIGIN));
    let exposed = r.headers()["access-control-expose-headers"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(exposed.contains("www-authenticate"), "{exposed}");
}

#[tokio::test]
async fn revocation_is_readable_by_the_apps_spa_origin_only() {
    let served = server(None).await;
    let tokens = spa_tokens(&served).await;
    let access = tokens["access_token"].as_str().unwrap();

    let r = revoke(&served, "unknown-token", EVIL_ORIGIN).await;
    assert_eq!(r.status(), 200);
    assert_eq!(allowed_origin(&r), None);
    assert!(varies_on_origin(&r));

    let r = revoke(&served, access, SPA_ORIGIN).await;
    assert_eq!(r.status(), 200);
    assert_eq!(allowed_origin(&r), Some(SPA_ORIGIN));
    // Revoked: UserInfo refuses it, readably for the app the token names only.
    let r = userinfo(&served, access, SPA_ORIGIN).await;
    assert_eq!(r.status(), 401);
    assert_eq!(allowed_origin(&r), Some(SPA_ORIGIN));
    let r = userinfo(&served, access, EVIL_ORIGIN).await;
    assert_eq!(r.status(), 401);
    assert_eq!(allowed_origin(&r), None);

    // An unknown client is not identified, so nothing is readable cross-origin.
    let r = rp_http()
        .post(format!("{}/{TENANT}/oauth2/revoke", served.base))
        .form(&[("client_id", "no-such-app"), ("token", access)])
        .header("origin", SPA_ORIGIN)
        .send()
        .await
        .unwrap();
    assert_eq!(allowed_origin(&r), None);
    assert_json_error(r, ErrorName::ClientNotFound).await;
}

async fn preflight(served: &Served, path: &str, method: &str) -> reqwest::Response {
    preflight_from(served, path, method, SPA_ORIGIN).await
}

async fn preflight_from(
    served: &Served,
    path: &str,
    method: &str,
    origin: &str,
) -> reqwest::Response {
    rp_http()
        .request(
            reqwest::Method::OPTIONS,
            format!("{}/{TENANT}/oauth2/{path}", served.base),
        )
        .header("origin", origin)
        .header("access-control-request-method", method)
        .header(
            "access-control-request-headers",
            "authorization,client-request-id",
        )
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn preflights_allow_get_and_post_with_a_bearer_header() {
    let served = server(None).await;
    for path in ["userinfo", "revoke", "token"] {
        let r = preflight(&served, path, "GET").await;
        assert_eq!(r.status(), 204, "{path}");
        assert_eq!(allowed_origin(&r), Some(SPA_ORIGIN), "{path}");
        let h = r.headers();
        assert!(
            h["access-control-allow-methods"]
                .to_str()
                .unwrap()
                .contains("POST")
        );
        let allowed = h["access-control-allow-headers"].to_str().unwrap();
        assert!(
            allowed.contains("authorization") && allowed.contains("client-request-id"),
            "{allowed}"
        );
        assert!(h.get("access-control-allow-credentials").is_none());
        assert_eq!(h["vary"], "Origin, Access-Control-Request-Method", "{path}");
    }
    // Another method is not allowed: no grant at all.
    let r = preflight(&served, "userinfo", "DELETE").await;
    assert_eq!(r.status(), 204);
    assert_eq!(allowed_origin(&r), None);
    // An origin of no app's spa redirect URI in the tenant gets nothing either: no
    // origin is reflected (a web app's origin, another site, another port or scheme).
    for origin in [
        "https://evil.test",
        "https://web.fabrikam.test",
        "http://localhost:3001",
        "https://localhost:3000",
        "null",
    ] {
        for path in ["userinfo", "revoke", "token"] {
            let r = preflight_from(&served, path, "POST", origin).await;
            assert_eq!(r.status(), 204);
            assert_eq!(allowed_origin(&r), None, "{origin} {path}");
            assert!(r.headers().get("access-control-allow-methods").is_none());
        }
    }
    // A spa app registered later is granted at once (the cache hears of the change).
    served
        .app
        .import(
            serde_json::json!({ "tenants": [{ "slug": TENANT, "display_name": "Fabrikam",
            "apps": [ { "client_id": "late-spa", "name": "Late SPA",
                        "redirect_uris": { "spa": ["https://late.fabrikam.test/"] } } ] }] }),
        )
        .await;
    let r = preflight_from(&served, "token", "POST", "https://late.fabrikam.test").await;
    assert_eq!(allowed_origin(&r), Some("https://late.fabrikam.test"));
    // A preflight for a tenant that does not exist is its catalogued 404.
    let r = rp_http()
        .request(
            reqwest::Method::OPTIONS,
            format!("{}/no-such-tenant/oauth2/userinfo", served.base),
        )
        .header("origin", SPA_ORIGIN)
        .header("access-control-request-method", "GET")
        .send()
        .await
        .unwrap();
    assert_json_error(r, ErrorName::TenantNotFound).await;
}

#[tokio::test]
async fn an_expired_token_is_refused_readably_by_its_own_spa() {
    let served = server(None).await;
    let tokens = spa_tokens(&served).await;
    let access = tokens["access_token"].as_str().unwrap();
    let lifetime = tokens["expires_in"].as_i64().unwrap();
    served
        .app
        .clock
        .advance(time::Duration::seconds(lifetime + 31)); // past exp and the 30 s leeway
    let r = userinfo(&served, access, EVIL_ORIGIN).await;
    assert_eq!(allowed_origin(&r), None);
    let r = userinfo(&served, access, SPA_ORIGIN).await;
    assert_eq!(allowed_origin(&r), Some(SPA_ORIGIN));
    let exposed = r.headers()["access-control-expose-headers"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        exposed.contains("www-authenticate") && exposed.contains("client-request-id"),
        "{exposed}"
    );
    assert_json_error(r, ErrorName::BearerTokenExpired).await;
}
