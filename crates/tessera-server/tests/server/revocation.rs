//! Revocation (RFC 7009) and introspection (RFC 7662) with each client authentication
//! method: a revoked access token is refused by introspection and UserInfo, a revoked
//! refresh token takes its family with it, and unknown tokens answer like success.

use super::oidc::*;
use super::refresh::tokens_for;
use super::support::Served;
use serde_json::{Value, json};
use tessera_core::errors::ErrorName;

#[derive(Clone, Copy)]
pub(super) enum Auth {
    Basic,
    Post,
    None,
}

/// One call to the revocation or introspection endpoint, as `client_id` authenticates
/// by `auth`: status, JSON body (or null) and text. Both must answer `no-store`.
pub(super) async fn call(
    served: &Served,
    endpoint: &str,
    client_id: &str,
    auth: Auth,
    form: &[(&str, &str)],
) -> (u16, Value, String) {
    let mut form: Vec<(&str, &str)> = form.to_vec();
    let mut req = rp_http().post(format!("{}/{TENANT}/oauth2/{endpoint}", served.base));
    match auth {
        Auth::Basic => req = req.basic_auth(client_id, Some(WEB_SECRET)),
        Auth::Post => form.extend([("client_id", client_id), ("client_secret", WEB_SECRET)]),
        Auth::None => form.push(("client_id", client_id)),
    }
    let r = req.form(&form).send().await.unwrap();
    assert_eq!(r.headers()["cache-control"], "no-store");
    let status = r.status().as_u16();
    let text = r.text().await.unwrap();
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::Null),
        text,
    )
}

fn code(v: &Value) -> Value {
    v["error_codes"][0].clone()
}

#[tokio::test]
async fn introspection_describes_live_tokens_only_to_confidential_clients() {
    let served = server(None).await;
    let t = tokens_for(&served, "web-app", WEB_CB, "openid offline_access").await;
    let access = t["access_token"].as_str().unwrap();
    let refresh = t["refresh_token"].as_str().unwrap();
    for auth in [Auth::Basic, Auth::Post] {
        let (status, v, _) =
            call(&served, "introspect", "web-app", auth, &[("token", access)]).await;
        assert_eq!(status, 200);
        assert_eq!(
            (
                v["active"].as_bool(),
                v["client_id"].as_str(),
                v["token_type"].as_str()
            ),
            (Some(true), Some("web-app"), Some("Bearer"))
        );
        assert!(
            v["sub"].is_string()
                && v["exp"].is_i64()
                && v["scope"].as_str().unwrap().contains("openid")
        );
    }
    let (_, v, _) = call(
        &served,
        "introspect",
        "web-app",
        Auth::Basic,
        &[("token", refresh), ("token_type_hint", "refresh_token")],
    )
    .await;
    assert_eq!(
        (
            v["active"].as_bool(),
            v["token_type"].as_str(),
            v["username"].as_str()
        ),
        (Some(true), Some("refresh_token"), Some("alice"))
    );
    // Another client's refresh token, garbage, a token of nobody: inactive and nothing else.
    for (client, token) in [
        ("ed-app", refresh),
        ("web-app", "garbage"),
        ("web-app", "a.b.c"),
    ] {
        let (_, v, _) = call(
            &served,
            "introspect",
            client,
            Auth::Basic,
            &[("token", token)],
        )
        .await;
        assert_eq!(v, json!({ "active": false }));
    }
    let (status, v, _) = call(
        &served,
        "introspect",
        "spa-app",
        Auth::None,
        &[("token", access)],
    )
    .await;
    assert_eq!(
        (status, code(&v)),
        (
            401,
            json!(ErrorName::ClientAuthenticationRequired.entry().code)
        )
    );
    let (status, v, _) = call(
        &served,
        "introspect",
        "nobody",
        Auth::Basic,
        &[("token", access)],
    )
    .await;
    assert_eq!(
        (status, code(&v)),
        (401, json!(ErrorName::ClientNotFound.entry().code))
    );
    // After expiry: inactive.
    served.app.clock.advance(time::Duration::seconds(3600 + 31)); // past exp and the 30 s leeway
    let (_, v, _) = call(
        &served,
        "introspect",
        "web-app",
        Auth::Basic,
        &[("token", access)],
    )
    .await;
    assert_eq!(v, json!({ "active": false }));
}

/// RFC 7662 §4: a token is described to those it concerns: its own client, the app
/// that serves its API, an app granted `Tokens.Introspect`; to any other client it is
/// inactive.
#[tokio::test]
async fn introspection_describes_a_token_only_to_those_it_concerns() {
    let served = server(None).await;
    served
        .app
        .import(json!({ "tenants": [{
            "slug": TENANT, "display_name": "Fabrikam",
            "apis": [ { "identifier": "api://files", "name": "Files", "scopes": ["read"],
                        "client_id": "files-api" } ],
            "apps": [
                { "client_id": "files-api", "name": "Files API",
                  "secrets": [ { "value": WEB_SECRET } ], "grant_types": ["client_credentials"] },
                { "client_id": "gateway", "name": "Gateway",
                  "secrets": [ { "value": WEB_SECRET } ], "grant_types": ["client_credentials"],
                  "permissions": [ { "api": "api://tessera-management", "app_roles": ["Tokens.Introspect"] } ] },
                { "client_id": "files-web", "name": "Files Web",
                  "redirect_uris": { "web": [WEB_CB] }, "secrets": [ { "value": WEB_SECRET } ],
                  "permissions": [ { "api": "api://files", "scopes": ["read"] } ],
                  "admin_consented": true }
            ]
        }]}))
        .await;
    let t = tokens_for(&served, "files-web", WEB_CB, "api://files/read").await;
    let access = t["access_token"].as_str().unwrap();
    for (client, active) in [
        ("files-web", true),
        ("files-api", true),
        ("gateway", true),
        ("ed-app", false),
        ("web-app", false),
    ] {
        let (status, v, _) = call(
            &served,
            "introspect",
            client,
            Auth::Basic,
            &[("token", access)],
        )
        .await;
        assert_eq!(status, 200);
        if active {
            assert_eq!(v["active"], true, "{client}: {v}");
            assert_eq!(v["client_id"], "files-web");
        } else {
            assert_eq!(v, json!({ "active": false }), "{client}");
        }
    }
    // A token for UserInfo concerns its client alone.
    let t = tokens_for(&served, "web-app", WEB_CB, "openid").await;
    let access = t["access_token"].as_str().unwrap();
    for (client, active) in [("web-app", true), ("files-api", false), ("gateway", true)] {
        let (_, v, _) = call(
            &served,
            "introspect",
            client,
            Auth::Basic,
            &[("token", access)],
        )
        .await;
        assert_eq!(v["active"], active, "{client}: {v}");
    }
}

#[tokio::test]
async fn a_revoked_access_token_is_refused_everywhere() {
    let served = server(None).await;
    let t = tokens_for(&served, "web-app", WEB_CB, "openid").await;
    let access = t["access_token"].as_str().unwrap();
    // Another client cannot revoke it (and learns nothing: 200).
    let (status, _, body) = call(
        &served,
        "revoke",
        "ed-app",
        Auth::Basic,
        &[("token", access)],
    )
    .await;
    assert_eq!((status, body.as_str()), (200, ""));
    let (_, v, _) = call(
        &served,
        "introspect",
        "web-app",
        Auth::Basic,
        &[("token", access)],
    )
    .await;
    assert_eq!(v["active"], true);

    let (status, _, _) = call(
        &served,
        "revoke",
        "web-app",
        Auth::Post,
        &[("token", access), ("token_type_hint", "access_token")],
    )
    .await;
    assert_eq!(status, 200);
    let (_, v, _) = call(
        &served,
        "introspect",
        "web-app",
        Auth::Basic,
        &[("token", access)],
    )
    .await;
    assert_eq!(v, json!({ "active": false }));
    let r = rp_http()
        .get(format!("{}/{TENANT}/oauth2/userinfo", served.base))
        .bearer_auth(access)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    assert!(
        r.headers()["www-authenticate"]
            .to_str()
            .unwrap()
            .contains("invalid_token")
    );

    // Past its exp but within the verifier's 30 s leeway, a sweep must not have freed
    // the token from the deny-list.
    served.app.clock.advance(time::Duration::seconds(3600 + 10));
    tessera_server::runtime::sweep::sweep(&served.app.state)
        .await
        .unwrap();
    let r = rp_http()
        .get(format!("{}/{TENANT}/oauth2/userinfo", served.base))
        .bearer_auth(access)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    assert!(
        !r.headers()["www-authenticate"]
            .to_str()
            .unwrap()
            .contains("expired"),
        "refused as revoked, not as expired"
    );
}

#[tokio::test]
async fn revoking_a_refresh_token_revokes_its_family() {
    let served = server(None).await;
    let t = tokens_for(&served, "web-app", WEB_CB, "openid offline_access").await;
    let first = t["refresh_token"].as_str().unwrap();
    let rotated: Value = token_request(
        &served.base,
        &[
            ("grant_type", "refresh_token"),
            ("client_id", "web-app"),
            ("client_secret", WEB_SECRET),
            ("refresh_token", first),
        ],
    )
    .send()
    .await
    .unwrap()
    .json()
    .await
    .unwrap();
    let second = rotated["refresh_token"].as_str().unwrap();
    // Another client may not revoke it.
    let (status, v, _) = call(
        &served,
        "revoke",
        "ed-app",
        Auth::Basic,
        &[("token", second)],
    )
    .await;
    assert_eq!(
        (status, code(&v)),
        (
            400,
            json!(ErrorName::RefreshTokenClientMismatch.entry().code)
        )
    );
    // Revoking the old one revokes the family, so the current one is gone too.
    let (status, _, _) = call(
        &served,
        "revoke",
        "web-app",
        Auth::Basic,
        &[("token", first), ("token_type_hint", "refresh_token")],
    )
    .await;
    assert_eq!(status, 200);
    let v: Value = token_request(
        &served.base,
        &[
            ("grant_type", "refresh_token"),
            ("client_id", "web-app"),
            ("client_secret", WEB_SECRET),
            ("refresh_token", second),
        ],
    )
    .send()
    .await
    .unwrap()
    .json()
    .await
    .unwrap();
    assert_eq!(code(&v), json!(ErrorName::RefreshTokenRevoked.entry().code));
}

#[tokio::test]
async fn public_clients_revoke_their_own_tokens_and_odd_requests_are_catalogued() {
    let served = server(None).await;
    let (status, _, _) = call(
        &served,
        "revoke",
        "spa-app",
        Auth::None,
        &[("token", "never-issued")],
    )
    .await;
    assert_eq!(
        status, 200,
        "unknown tokens answer like success (RFC 7009 §2.2)"
    );
    let (status, v, _) = call(
        &served,
        "revoke",
        "spa-app",
        Auth::None,
        &[("token", "x"), ("token_type_hint", "id_token")],
    )
    .await;
    assert_eq!(
        (status, code(&v)),
        (400, json!(ErrorName::UnsupportedTokenType.entry().code))
    );
    let (status, v, _) = call(&served, "revoke", "spa-app", Auth::None, &[]).await;
    assert_eq!(
        (status, code(&v)),
        (400, json!(ErrorName::InvalidRequestFormat.entry().code))
    );
    let (status, v, _) = call(&served, "revoke", "web-app", Auth::None, &[("token", "x")]).await;
    assert_eq!(
        (status, code(&v)),
        (401, json!(ErrorName::MissingClientCredentials.entry().code))
    );
}

/// Tokens signed before a key rotation keep verifying (the retired key stays in the
/// JWKS until they expire), and new tokens are signed with the new active key.
#[tokio::test]
async fn tokens_verify_across_a_key_rotation() {
    let served = server(None).await;
    let before = tokens_for(&served, "web-app", WEB_CB, "openid").await["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let r = served
        .app
        .admin(
            "POST",
            &format!("/admin/api/v1/tenants/{TENANT}/keys/rotate"),
            None,
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let after = tokens_for(&served, "ed-app", WEB_CB, "openid").await["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let kid = |jwt: &str| {
        use base64::Engine;
        let header: Value = serde_json::from_slice(
            &base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(jwt.split('.').next().unwrap())
                .unwrap(),
        )
        .unwrap();
        header["kid"].as_str().unwrap().to_owned()
    };
    let before_eddsa =
        tokens_for(&served, "web-app", WEB_CB, "openid profile").await["access_token"]
            .as_str()
            .unwrap()
            .to_owned();
    assert_ne!(
        kid(&before),
        kid(&before_eddsa),
        "new tokens use the new active key"
    );
    for token in [&before, &after, &before_eddsa] {
        let r = rp_http()
            .get(format!("{}/{TENANT}/oauth2/userinfo", served.base))
            .bearer_auth(token)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    }
}

/// The sweeper removes sessions, codes, refresh tokens and deny-list entries once they
/// can no longer matter, and nothing before.
#[tokio::test]
async fn expired_protocol_records_are_swept() {
    use tessera_core::store::object::ObjectKind;
    let served = server(None).await;
    let t = tokens_for(&served, "web-app", WEB_CB, "openid offline_access").await;
    let (status, _, _) = call(
        &served,
        "revoke",
        "web-app",
        Auth::Basic,
        &[("token", t["access_token"].as_str().unwrap())],
    )
    .await;
    assert_eq!(status, 200);
    let store = served.app.state.store.clone();
    let tenant = fixture_tenant(&served).await;
    let count = |kind| {
        let store = store.clone();
        async move { store.objects(tenant.id, kind).await.unwrap().len() }
    };
    let kinds = [
        ObjectKind::Session,
        ObjectKind::AuthCode,
        ObjectKind::RefreshToken,
        ObjectKind::RevokedAccessToken,
    ];
    for kind in kinds {
        assert_eq!(count(kind).await, 1, "{kind:?}");
    }
    assert_eq!(
        tessera_server::runtime::sweep::sweep(&served.app.state)
            .await
            .unwrap(),
        0,
        "nothing has expired yet"
    );
    // After 11 hours: the session (10 h), the code (kept while its access token could
    // live) and the deny-list entry (until the token's exp) go; the refresh token stays.
    served.app.clock.advance(time::Duration::hours(11));
    assert_eq!(
        tessera_server::runtime::sweep::sweep(&served.app.state)
            .await
            .unwrap(),
        3
    );
    assert_eq!(count(ObjectKind::RefreshToken).await, 1);
    served.app.clock.advance(time::Duration::days(15));
    assert_eq!(
        tessera_server::runtime::sweep::sweep(&served.app.state)
            .await
            .unwrap(),
        1
    );
    for kind in kinds {
        assert_eq!(count(kind).await, 0, "{kind:?}");
    }
}

/// RFC 7662 §2.2: a refresh token is active only while it can be used, so not once its
/// user is disabled, and again once the user is enabled (the token itself was not
/// revoked).
#[tokio::test]
async fn a_refresh_token_of_a_disabled_user_is_inactive() {
    let served = server(None).await;
    let t = tokens_for(&served, "web-app", WEB_CB, "openid offline_access").await;
    let refresh = t["refresh_token"].as_str().unwrap();
    let active = || async {
        let (_, v, _) = call(
            &served,
            "introspect",
            "web-app",
            Auth::Basic,
            &[("token", refresh)],
        )
        .await;
        v["active"].as_bool()
    };
    assert_eq!(active().await, Some(true));
    let users = format!("/admin/api/v1/tenants/{TENANT}/users/alice");
    // Disabling revoked it: enabling the user again does not revive it.
    for (enabled, expected) in [(false, false), (true, false)] {
        let r = served
            .app
            .admin("PATCH", &users, Some(json!({ "enabled": enabled })))
            .await;
        assert_eq!(r.status, 200, "{}", r.body);
        assert_eq!(active().await, Some(expected), "enabled: {enabled}");
    }
}
