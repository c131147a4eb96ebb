//! `grant_type=client_credentials`: a confidential app gets a token for one API with the
//! app roles it holds there, named by `{api}/.default` or RFC 8707 `resource`; every
//! mistake is its catalogued error; and the grant writes nothing to the store.

use super::support::TestApp;
use axum::body::Body;
use axum::http::Request;
use serde_json::json;
use tessera_core::errors::ErrorName;
use tessera_core::store::object::ObjectKind;

const SECRET: &str = "daemon-secret-0123456789abcdefghijklmnopq";

async fn app() -> TestApp {
    let app = TestApp::new().await;
    app.import(json!({ "tenants": [{
        "slug": "tailspin",
        "apis": [ { "identifier": "api://orders", "name": "Orders", "scopes": ["read"], "app_roles": ["Orders.Read", "Orders.Write"] },
                  { "identifier": "api://billing", "name": "Billing", "app_roles": ["Billing.Read"] } ],
        "apps": [
            { "client_id": "daemon", "name": "Daemon", "grant_types": ["client_credentials"],
              "secrets": [ { "value": SECRET } ],
              "permissions": [ { "api": "api://orders", "app_roles": ["Orders.Read"] } ] },
            { "client_id": "web", "name": "Web", "redirect_uris": { "web": ["https://web.test/cb"] },
              "secrets": [ { "value": SECRET } ] }
        ]
    }]}))
    .await;
    app
}

async fn token(app: &TestApp, client_id: &str, form: &[(&str, &str)]) -> super::support::Reply {
    use base64::Engine;
    let basic = base64::engine::general_purpose::STANDARD.encode(format!("{client_id}:{SECRET}"));
    let body = serde_urlencoded::to_string(form).unwrap();
    app.send(
        Request::post("/tailspin/oauth2/token")
            .header("content-type", "application/x-www-form-urlencoded")
            .header("authorization", format!("Basic {basic}"))
            .body(Body::from(body))
            .unwrap(),
    )
    .await
}

fn code_of(reply: &super::support::Reply) -> serde_json::Value {
    reply.json()["error_codes"][0].clone()
}

#[tokio::test]
async fn an_app_gets_a_token_for_one_api_with_its_roles() {
    let app = app().await;
    let tenant = app
        .state
        .store
        .tenant(&tessera_core::tenant::TenantSlug::parse("tailspin").unwrap())
        .await
        .unwrap()
        .unwrap();
    let count = || async {
        let mut n = 0;
        for kind in ObjectKind::ALL {
            n += app
                .state
                .store
                .objects(tenant.id, kind)
                .await
                .unwrap()
                .len();
        }
        n
    };
    let before = count().await;
    for form in [
        &[
            ("grant_type", "client_credentials"),
            ("scope", "api://orders/.default"),
        ][..],
        &[
            ("grant_type", "client_credentials"),
            ("resource", "api://orders"),
        ],
    ] {
        let r = token(&app, "daemon", form).await;
        assert_eq!(r.status, 200, "{}", r.body);
        assert_eq!(r.header("cache-control"), "no-store");
        let body = r.json();
        assert!(body.get("refresh_token").is_none() && body.get("id_token").is_none());
        let jwks = app.get("/tailspin/discovery/keys", None).await.json();
        let keys = jwks["keys"].as_array().unwrap().clone();
        let verified =
            tessera_core::oauth::jose::verify(body["access_token"].as_str().unwrap(), &keys)
                .unwrap();
        assert_eq!(verified.header["typ"], "at+jwt");
        assert_eq!(verified.header["alg"], "RS256", "the default");
        let c = verified.claims;
        assert_eq!(
            (
                c["aud"].as_str(),
                c["sub"].as_str(),
                c["client_id"].as_str()
            ),
            (Some("api://orders"), Some("daemon"), Some("daemon"))
        );
        assert_eq!(c["roles"], json!(["Orders.Read"]));
        assert_eq!(c["iss"], "https://id.example.test/tailspin");
        assert_eq!(
            c["exp"].as_i64().unwrap() - c["iat"].as_i64().unwrap(),
            3600
        );
    }
    assert_eq!(count().await, before, "the grant writes nothing");
}

#[tokio::test]
async fn each_mistake_names_the_valid_choices() {
    let app = app().await;
    let cc = |extra: &'static [(&'static str, &'static str)]| {
        let mut form = vec![("grant_type", "client_credentials")];
        form.extend_from_slice(extra);
        form
    };
    let r = token(&app, "daemon", &cc(&[("scope", "api://billing/.default")])).await;
    assert_eq!(
        (r.status.as_u16(), code_of(&r)),
        (400, json!(ErrorName::InvalidResource.entry().code))
    );
    assert!(
        r.json()["error_description"]
            .as_str()
            .unwrap()
            .contains("api://orders"),
        "lists the registered APIs"
    );
    assert_eq!(r.json()["error"], "invalid_target");

    let r = token(&app, "daemon", &cc(&[("scope", "api://orders/read")])).await;
    assert_eq!(code_of(&r), json!(ErrorName::InvalidScope.entry().code));
    assert!(
        r.json()["error_description"]
            .as_str()
            .unwrap()
            .contains("api://orders/.default")
    );

    let r = token(&app, "daemon", &cc(&[("resource", "api://nowhere")])).await;
    assert_eq!(code_of(&r), json!(ErrorName::InvalidResource.entry().code));

    let r = token(
        &app,
        "daemon",
        &cc(&[
            ("scope", "api://orders/.default"),
            ("resource", "api://billing"),
        ]),
    )
    .await;
    assert_eq!(
        code_of(&r),
        json!(ErrorName::InvalidRequestFormat.entry().code)
    );

    let r = token(&app, "daemon", &cc(&[])).await;
    assert_eq!(
        code_of(&r),
        json!(ErrorName::InvalidRequestFormat.entry().code)
    );

    // An app without the grant.
    let r = token(&app, "web", &cc(&[("scope", "api://orders/.default")])).await;
    assert_eq!(
        code_of(&r),
        json!(ErrorName::UnauthorizedGrantType.entry().code)
    );
}

/// Access tokens are RS256 unless the API registered another algorithm, which an admin
/// sets (and resets with an empty string); an unknown one is refused with the field.
#[tokio::test]
async fn the_apis_registered_algorithm_signs_its_tokens() {
    let app = app().await;
    let alg_of = |reply: super::support::Reply| {
        let token = reply.json()["access_token"].as_str().unwrap().to_owned();
        let header = token.split('.').next().unwrap().to_owned();
        let header: serde_json::Value = serde_json::from_slice(
            &base64::Engine::decode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, header)
                .unwrap(),
        )
        .unwrap();
        header["alg"].as_str().unwrap().to_owned()
    };
    let form = [
        ("grant_type", "client_credentials"),
        ("scope", "api://orders/.default"),
    ];
    let api = "/admin/api/v1/tenants/tailspin/apis/api%3A%2F%2Forders";
    assert_eq!(alg_of(token(&app, "daemon", &form).await), "RS256");
    let shown = app.admin("GET", api, None).await.json();
    assert_eq!(shown["access_token_signing_alg"], "RS256");

    let bad = app
        .admin(
            "PATCH",
            api,
            Some(json!({"access_token_signing_alg": "HS256"})),
        )
        .await;
    assert_eq!(bad.status, 400, "{}", bad.body);
    assert_eq!(
        bad.json()["errors"][0]["field"],
        "/access_token_signing_alg"
    );

    for (set, expected) in [("EdDSA", "EdDSA"), ("ES256", "ES256"), ("", "RS256")] {
        let patched = app
            .admin("PATCH", api, Some(json!({"access_token_signing_alg": set})))
            .await;
        assert_eq!(patched.status, 200, "{}", patched.body);
        assert_eq!(patched.json()["access_token_signing_alg"], expected);
        assert_eq!(alg_of(token(&app, "daemon", &form).await), expected);
    }
}
