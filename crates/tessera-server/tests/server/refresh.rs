//! `grant_type=refresh_token`: rotation, reuse detection revoking the family, narrowing
//! and switching APIs within consent, idle and SPA lifetimes, revocation by "revoke all
//! sessions", and exactly one winner among concurrent uses on both backends.

use super::oidc::*;
use super::support::Served;
use serde_json::{Value, json};
use tessera_core::errors::ErrorName;
use tessera_core::ids::ObjectId;
use tessera_core::ids::TenantId;

/// Signs alice in to `client_id` through the pages (consenting if asked) and redeems the
/// code; the token response.
pub async fn tokens_for(
    served: &Served,
    client_id: &str,
    redirect_uri: &str,
    scope: &str,
) -> Value {
    let base = &served.base;
    let (verifier, challenge) = pkce(&format!("refresh-{client_id}-{scope}"));
    let code = code_for(
        served,
        client_id,
        redirect_uri,
        scope,
        Some(&challenge),
        "alice",
    )
    .await;
    let mut form = vec![
        ("grant_type", "authorization_code"),
        ("client_id", client_id),
        ("code", code.as_str()),
        ("redirect_uri", redirect_uri),
        ("code_verifier", verifier.as_str()),
    ];
    if !matches!(client_id, "spa-app" | "native-app") {
        form.push(("client_secret", WEB_SECRET));
    }
    let mut req = token_request(base, &form);
    if redirect_uri == SPA_CB {
        req = req.header("origin", "http://localhost:3000");
    }
    let r = req.send().await.unwrap();
    assert_eq!(r.status(), 200);
    r.json().await.unwrap()
}

async fn refresh(
    served: &Served,
    client_id: &str,
    token: &str,
    extra: &[(&str, &str)],
) -> (u16, Value) {
    let mut form = vec![
        ("grant_type", "refresh_token"),
        ("client_id", client_id),
        ("refresh_token", token),
    ];
    if client_id != "spa-app" {
        form.push(("client_secret", WEB_SECRET));
    }
    form.extend_from_slice(extra);
    let mut request = token_request(&served.base, &form);
    // A single-page app's refresh token is redeemed from its page, which sends Origin.
    if client_id == "spa-app" {
        request = request.header("origin", "http://localhost:3000");
    }
    let r = request.send().await.unwrap();
    assert_eq!(r.headers()["cache-control"], "no-store");
    (r.status().as_u16(), r.json().await.unwrap())
}

fn code(body: &Value) -> Value {
    body["error_codes"][0].clone()
}

fn is(name: ErrorName) -> Value {
    json!(name.entry().code)
}

fn claims(jwt: &Value) -> Value {
    use base64::Engine;
    let payload = jwt.as_str().unwrap().split('.').nth(1).unwrap();
    serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(payload)
            .unwrap(),
    )
    .unwrap()
}

#[tokio::test]
async fn rotation_and_reuse_revoke_the_family() {
    let served = server(None).await;
    let first = tokens_for(&served, "web-app", WEB_CB, "openid offline_access").await;
    let r1 = first["refresh_token"].as_str().unwrap();
    let (status, second) = refresh(&served, "web-app", r1, &[]).await;
    assert_eq!(status, 200, "{second}");
    let r2 = second["refresh_token"].as_str().unwrap();
    assert_ne!(r1, r2, "a new refresh token on every use");
    assert!(second["id_token"].is_string() && second["access_token"].is_string());
    assert_eq!(
        claims(&second["id_token"])["amr"],
        json!(["pwd"]),
        "the sign-in's amr, kept across refresh"
    );
    assert_eq!(
        claims(&second["access_token"])["sub"],
        claims(&first["access_token"])["sub"]
    );

    let (status, third) = refresh(&served, "web-app", r2, &[]).await;
    assert_eq!(status, 200, "{third}");
    let r3 = third["refresh_token"].as_str().unwrap();

    // The rotated-out token again, its successor used: reuse, and the whole family is
    // revoked.
    let (status, body) = refresh(&served, "web-app", r1, &[]).await;
    assert_eq!(
        (status, code(&body)),
        (400, is(ErrorName::RefreshTokenReused))
    );
    let (_, body) = refresh(&served, "web-app", r3, &[]).await;
    assert_eq!(code(&body), is(ErrorName::RefreshTokenRevoked));
}

/// A client whose rotation's answer was lost presents the old token again within the
/// tenant's `refresh_token_retry_seconds`: it gets a new token, and the one it never
/// saw is void.
#[tokio::test]
async fn a_retry_after_a_lost_answer_gets_a_new_token() {
    let served = server(None).await;
    let first = tokens_for(&served, "web-app", WEB_CB, "openid offline_access").await;
    let r1 = first["refresh_token"].as_str().unwrap();
    let (status, lost) = refresh(&served, "web-app", r1, &[]).await;
    assert_eq!(status, 200, "{lost}");
    let (status, retried) = refresh(&served, "web-app", r1, &[]).await;
    assert_eq!(status, 200, "{retried}");
    let r2 = retried["refresh_token"].as_str().unwrap();
    assert_ne!(r2, lost["refresh_token"].as_str().unwrap());
    let (status, _) = refresh(&served, "web-app", r2, &[]).await;
    assert_eq!(status, 200, "the retry's token works");
    let (status, body) = refresh(
        &served,
        "web-app",
        lost["refresh_token"].as_str().unwrap(),
        &[],
    )
    .await;
    assert_eq!(
        (status, code(&body)),
        (400, is(ErrorName::RefreshTokenReused)),
        "the token never received is void, and presenting it is reuse"
    );
}

#[tokio::test]
async fn each_refresh_error_is_catalogued() {
    let served = server(None).await;
    let t = tokens_for(&served, "web-app", WEB_CB, "openid offline_access").await;
    let token = t["refresh_token"].as_str().unwrap();
    let r = token_request(
        &served.base,
        &[
            ("grant_type", "refresh_token"),
            ("client_id", "web-app"),
            ("client_secret", WEB_SECRET),
            ("code", "abc"),
        ],
    )
    .send()
    .await
    .unwrap();
    assert_eq!(
        code(&r.json().await.unwrap()),
        is(ErrorName::RefreshTokenParameterMissing)
    );
    assert_eq!(
        code(&refresh(&served, "web-app", "not-a-token", &[]).await.1),
        is(ErrorName::RefreshTokenInvalid)
    );
    assert_eq!(
        code(&refresh(&served, "ed-app", token, &[]).await.1),
        is(ErrorName::RefreshTokenClientMismatch)
    );
    let (_, body) = refresh(&served, "web-app", token, &[("scope", "openid email")]).await;
    assert_eq!(code(&body), is(ErrorName::ScopeNotSubset));
    assert!(
        body["error_description"]
            .as_str()
            .unwrap()
            .contains("email")
    );
    let (status, body) = refresh(&served, "web-app", token, &[("scope", "openid")]).await;
    assert_eq!(status, 200, "narrowing is fine: {body}");
    assert_eq!(body["scope"], "openid");

    // Idle lifetime (14 days by default).
    let token = body["refresh_token"].as_str().unwrap().to_owned();
    served
        .app
        .clock
        .advance(time::Duration::days(14) + time::Duration::seconds(1));
    let (_, body) = refresh(&served, "web-app", &token, &[]).await;
    assert_eq!(code(&body), is(ErrorName::RefreshTokenExpired));
    assert!(
        body["error_description"].as_str().unwrap().contains("idle"),
        "{body}"
    );
}

#[tokio::test]
async fn a_refresh_token_gets_tokens_for_any_consented_api() {
    let served = server(None).await;
    let t = tokens_for(
        &served,
        "web-app",
        WEB_CB,
        "openid offline_access api://orders/read",
    )
    .await;
    assert_eq!(claims(&t["access_token"])["aud"], API);
    let token = t["refresh_token"].as_str().unwrap();
    let (status, body) = refresh(&served, "web-app", token, &[("scope", "openid")]).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        claims(&body["access_token"])["aud"],
        format!("{}/{TENANT}/oauth2/userinfo", served.base)
    );
    let token = body["refresh_token"].as_str().unwrap();
    let (status, body) = refresh(&served, "web-app", token, &[("resource", API)]).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(claims(&body["access_token"])["aud"], API);
    let scp = claims(&body["access_token"])["scp"]
        .as_str()
        .unwrap()
        .to_owned();
    let mut scp: Vec<&str> = scp.split(' ').collect();
    scp.sort_unstable();
    assert_eq!(
        scp,
        ["offline_access", "openid", "read"],
        "the API's scope by its own name"
    );
    let token = body["refresh_token"].as_str().unwrap();
    let (_, body) = refresh(&served, "web-app", token, &[("resource", "api://nowhere")]).await;
    assert_eq!(code(&body), is(ErrorName::InvalidResource));
    assert!(body["error_description"].as_str().unwrap().contains(API));
}

#[tokio::test]
async fn spa_refresh_tokens_end_after_a_fixed_day() {
    let served = server(None).await;
    let t = tokens_for(&served, "spa-app", SPA_CB, "openid offline_access").await;
    // Only the app's page may use it: a server (no Origin) or another site is refused.
    for (origin, refusal) in [
        (None, ErrorName::SpaOriginRequired),
        (Some("https://evil.test"), ErrorName::SpaOriginMismatch),
    ] {
        let mut request = token_request(
            &served.base,
            &[
                ("grant_type", "refresh_token"),
                ("client_id", "spa-app"),
                ("refresh_token", t["refresh_token"].as_str().unwrap()),
            ],
        );
        if let Some(o) = origin {
            request = request.header("origin", o);
        }
        assert_json_error(request.send().await.unwrap(), refusal).await;
    }
    // Half a day later it still refreshes, and that use does not start a new day: the
    // day counts from the first sign-in.
    served.app.clock.advance(time::Duration::hours(12));
    let (status, body) = refresh(
        &served,
        "spa-app",
        t["refresh_token"].as_str().unwrap(),
        &[],
    )
    .await;
    assert_eq!(status, 200, "{body}");
    served.app.clock.advance(time::Duration::hours(12));
    let (_, body) = refresh(
        &served,
        "spa-app",
        body["refresh_token"].as_str().unwrap(),
        &[],
    )
    .await;
    assert_eq!(code(&body), is(ErrorName::SpaRefreshTokenExpired));
}

#[tokio::test]
async fn revoking_all_sessions_revokes_refresh_tokens() {
    let served = server(None).await;
    let t = tokens_for(&served, "web-app", WEB_CB, "openid offline_access").await;
    let r = revoke_all_sessions(&served, "alice").await;
    assert_eq!(r.status, 200);
    let (_, body) = refresh(
        &served,
        "web-app",
        t["refresh_token"].as_str().unwrap(),
        &[],
    )
    .await;
    assert_eq!(code(&body), is(ErrorName::RefreshTokenRevoked));
}

/// A refresh request of web-app (client_secret_post) for `token`.
fn web_refresh(base: &str, token: &str) -> reqwest::RequestBuilder {
    token_request(
        base,
        &[
            ("grant_type", "refresh_token"),
            ("client_id", "web-app"),
            ("client_secret", WEB_SECRET),
            ("refresh_token", token),
        ],
    )
}

/// 50 concurrent uses of one refresh token: the family never forks.
async fn storm(served: Served) {
    let t = tokens_for(&served, "web-app", WEB_CB, "openid offline_access").await;
    let token = t["refresh_token"].as_str().unwrap();
    refresh_storm(std::slice::from_ref(&served.base), "web-app", token, 50).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_uses_never_fork_the_family_on_sqlite() {
    storm(server(None).await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_uses_never_fork_the_family_on_postgres() {
    let Some(db) = tessera_store::testing::postgres_or_skip(
        "concurrent_uses_never_fork_the_family_on_postgres",
    )
    .await
    else {
        return;
    };
    storm(server(Some(db)).await).await;
}

/// A replayed code revokes the whole family its redemption started, even after the
/// client rotated the first refresh token (RFC 6749 §4.1.2).
#[tokio::test]
async fn a_replayed_code_revokes_the_rotated_family() {
    let served = server(None).await;
    let base = served.base.clone();
    let (verifier, challenge) = pkce("replay-family");
    let url = authorize_url(
        &base,
        &[
            ("client_id", "ed-app"),
            ("response_type", "code"),
            ("redirect_uri", WEB_CB),
            ("scope", "openid offline_access"),
            ("code_challenge", &challenge),
            ("code_challenge_method", "S256"),
        ],
    );
    let b = browser();
    let page = b.get(&url).send().await.unwrap().text().await.unwrap();
    let the_code = param(
        &location_params(&sign_in(&b, &base, &page, "alice", PASSWORD).await).1,
        "code",
    )
    .unwrap()
    .to_owned();
    let redeem = || {
        token_request(
            &base,
            &[
                ("grant_type", "authorization_code"),
                ("client_id", "ed-app"),
                ("client_secret", WEB_SECRET),
                ("code", the_code.as_str()),
                ("redirect_uri", WEB_CB),
                ("code_verifier", verifier.as_str()),
            ],
        )
    };
    let first: Value = redeem().send().await.unwrap().json().await.unwrap();
    let (status, rotated) = refresh(
        &served,
        "ed-app",
        first["refresh_token"].as_str().unwrap(),
        &[],
    )
    .await;
    assert_eq!(status, 200);
    let replay: Value = redeem().send().await.unwrap().json().await.unwrap();
    assert_eq!(code(&replay), is(ErrorName::AuthorizationCodeRedeemed));
    let (_, body) = refresh(
        &served,
        "ed-app",
        rotated["refresh_token"].as_str().unwrap(),
        &[],
    )
    .await;
    assert_eq!(code(&body), is(ErrorName::RefreshTokenRevoked));
}

/// Withdrawing consent (here by an administrator) ends the app's refresh tokens too.
#[tokio::test]
async fn revoking_consent_revokes_the_apps_refresh_tokens() {
    let served = server(None).await;
    let t = tokens_for(&served, "web-app", WEB_CB, "openid offline_access").await;
    let r = served
        .app
        .admin(
            "DELETE",
            &format!("/admin/api/v1/tenants/{TENANT}/users/alice/consents/web-app"),
            None,
        )
        .await;
    assert_eq!(r.status, 204, "{}", r.body);
    let (_, body) = refresh(
        &served,
        "web-app",
        t["refresh_token"].as_str().unwrap(),
        &[],
    )
    .await;
    assert_eq!(code(&body), is(ErrorName::RefreshTokenRevoked));
}

/// A user deleted and created again under the same name is someone else: the old
/// refresh tokens and SSO session do not serve the new account.
#[tokio::test]
async fn a_recreated_user_does_not_inherit_tokens_or_sessions() {
    let served = server(None).await;
    let base = served.base.clone();
    let t = tokens_for(&served, "web-app", WEB_CB, "openid offline_access").await;
    let (_, challenge) = pkce("recreated");
    let url = authorize_url(
        &base,
        &[
            ("client_id", "ed-app"),
            ("response_type", "code"),
            ("redirect_uri", WEB_CB),
            ("scope", "openid"),
            ("code_challenge", &challenge),
            ("code_challenge_method", "S256"),
        ],
    );
    let b = browser();
    let page = b.get(&url).send().await.unwrap().text().await.unwrap();
    assert_eq!(
        sign_in(&b, &base, &page, "alice", PASSWORD).await.status(),
        303
    );
    assert_eq!(b.get(&url).send().await.unwrap().status(), 302, "signed in");

    let users = format!("/admin/api/v1/tenants/{TENANT}/users");
    assert_eq!(
        served
            .app
            .admin("DELETE", &format!("{users}/alice"), None)
            .await
            .status,
        204
    );
    let r = served
        .app
        .admin(
            "POST",
            &users,
            Some(json!({ "username": "alice", "password": PASSWORD })),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);

    let (_, body) = refresh(
        &served,
        "web-app",
        t["refresh_token"].as_str().unwrap(),
        &[],
    )
    .await;
    assert_eq!(code(&body), is(ErrorName::RefreshTokenRevoked));
    assert_eq!(
        b.get(&url).send().await.unwrap().status(),
        200,
        "the sign-in page, not the old session"
    );
}

/// Revoking all of a user's sessions while their refresh tokens rotate: the revocation
/// ends the user's sign-ins first, which no rotation conflicts with and after which no
/// rotation of those families hands out a successor, then marks the tokens revoked
/// (read and written again if a rotation changed one meanwhile). It answers 200, and no
/// family outlives it. (Revoking the tokens in the same batch as the user's change
/// lost every one of 16 attempts to the rotations now and then on a loaded machine.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn revoking_all_sessions_succeeds_while_tokens_rotate() {
    let served = server(None).await;
    let mut families = Vec::new();
    for _ in 0..4 {
        let t = tokens_for(&served, "web-app", WEB_CB, "openid offline_access").await;
        families.push(t["refresh_token"].as_str().unwrap().to_owned());
    }
    let rotators: Vec<_> = families
        .into_iter()
        .map(|mut token| {
            let base = served.base.clone();
            tokio::spawn(async move {
                let mut rotations = 0;
                loop {
                    let r = web_refresh(&base, &token).send().await.unwrap();
                    let status = r.status().as_u16();
                    let body: Value = r.json().await.unwrap();
                    if status != 200 {
                        return (rotations, body);
                    }
                    token = body["refresh_token"].as_str().unwrap().to_owned();
                    rotations += 1;
                    tokio::time::sleep(std::time::Duration::from_millis(10)).await;
                }
            })
        })
        .collect();
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    // The sign-ins end to the second (`User::sessions_valid_from`): these were before.
    served.app.clock.advance(time::Duration::seconds(1));
    let r = revoke_all_sessions(&served, "alice").await;
    assert_eq!(r.status, 200, "{}", r.body);
    for rotator in rotators {
        // A family that outlived the revocation would rotate for ever.
        let (rotations, body) = tokio::time::timeout(std::time::Duration::from_secs(30), rotator)
            .await
            .expect("a refresh token family outlived the revocation")
            .unwrap();
        assert!(rotations > 0, "the family never rotated");
        assert_eq!(code(&body), is(ErrorName::RefreshTokenRevoked), "{body}");
    }
}

/// Disabling a user revokes their refresh tokens (as Entra ID does), and enabling the
/// user again does not revive them: each use is invalid_grant with RefreshTokenRevoked.
#[tokio::test]
async fn a_disabled_users_token_stays_refused_once_enabled() {
    let served = server(None).await;
    let t = tokens_for(&served, "web-app", WEB_CB, "openid offline_access").await;
    let token = t["refresh_token"].as_str().unwrap();
    let users = format!("/admin/api/v1/tenants/{TENANT}/users/alice");
    let patch = |enabled: bool| {
        let app = &served.app;
        let users = users.clone();
        async move {
            let r = app
                .admin("PATCH", &users, Some(json!({ "enabled": enabled })))
                .await;
            assert_eq!(r.status, 200, "{}", r.body);
        }
    };
    served.app.clock.advance(time::Duration::seconds(1));
    patch(false).await;
    for enabled in [false, true] {
        let (status, body) = refresh(&served, "web-app", token, &[]).await;
        // RFC 6749 §5.2: invalid_grant at the token endpoint, the code saying why.
        assert_eq!(
            (status, code(&body)),
            (400, is(ErrorName::RefreshTokenRevoked)),
            "enabled: {enabled}"
        );
        assert_eq!(body["error"], "invalid_grant");
        assert!(
            body["error_description"]
                .as_str()
                .unwrap()
                .contains("disabled"),
            "{body}"
        );
        patch(true).await;
    }
    // A new sign-in works as ever.
    let again = tokens_for(&served, "web-app", WEB_CB, "openid offline_access").await;
    let (status, _) = refresh(
        &served,
        "web-app",
        again["refresh_token"].as_str().unwrap(),
        &[],
    )
    .await;
    assert_eq!(status, 200);
    let _ = t;
}

/// An altered refresh token opens to nothing and matches no stored hash: invalid.
#[tokio::test]
async fn an_altered_refresh_token_is_invalid() {
    let served = server(None).await;
    let t = tokens_for(&served, "web-app", WEB_CB, "openid offline_access").await;
    let token = t["refresh_token"].as_str().unwrap();
    let (status, body) = refresh(&served, "web-app", &altered(token), &[]).await;
    assert_eq!(
        (status, code(&body)),
        (400, is(ErrorName::RefreshTokenInvalid))
    );
    // The real one is untouched by the attempt.
    assert_eq!(refresh(&served, "web-app", token, &[]).await.0, 200);
}

/// The refresh token object stored under its id (`RefreshToken::id_key`).
async fn stored_under_id(
    served: &Served,
    tenant_id: TenantId,
    id: ObjectId,
) -> Option<tessera_core::store::object::StoredObject> {
    served
        .app
        .state
        .store
        .object(
            tenant_id,
            tessera_core::store::object::ObjectKind::RefreshToken,
            &id.to_string(),
        )
        .await
        .unwrap()
}

/// A refresh token's value carries its object's id and its record; the store keeps that
/// record under the id, never under the value. A value of any other shape (a random
/// one, as no release ever issued) is invalid.
#[tokio::test]
async fn a_refresh_token_is_stored_under_its_id_and_nothing_else_is_one() {
    use tessera_core::oauth::records::RefreshToken;
    let served = server(None).await;
    let state = &served.app.state;
    let t = tokens_for(&served, "web-app", WEB_CB, "openid offline_access").await;
    let sealed = t["refresh_token"].as_str().unwrap();
    let tenant = fixture_tenant(&served).await;
    let (id, record) = RefreshToken::open(&state.master, tenant.id, sealed).unwrap();
    let stored = stored_under_id(&served, tenant.id, id)
        .await
        .expect("the token's record, stored under its id");
    assert_eq!(id, stored.id);
    assert_eq!(stored.decode::<RefreshToken>().unwrap(), record);
    assert!(!stored.doc.contains(sealed));

    let random = tessera_core::crypto::generate_token(state.rng.as_ref());
    let (status, body) = refresh(&served, "web-app", &random, &[]).await;
    assert_eq!(
        (status, code(&body)),
        (400, is(ErrorName::RefreshTokenInvalid))
    );
    assert_eq!(refresh(&served, "web-app", sealed, &[]).await.0, 200);
}

/// The family's absolute lifetime, on the wire: a token used every 13 days (within
/// the 14-day idle period) keeps rotating until 90 days after the sign-in, then the
/// answer is invalid_grant with RefreshTokenExpired naming the absolute lifetime.
#[tokio::test]
async fn the_absolute_lifetime_ends_a_family_used_within_its_idle_period() {
    let served = server(None).await;
    let t = tokens_for(&served, "web-app", WEB_CB, "openid offline_access").await;
    let mut token = t["refresh_token"].as_str().unwrap().to_owned();
    for _ in 0..6 {
        served.app.clock.advance(time::Duration::days(13));
        let (status, body) = refresh(&served, "web-app", &token, &[]).await;
        assert_eq!(status, 200, "{body}");
        token = body["refresh_token"].as_str().unwrap().to_owned();
    }
    // Day 91.
    served.app.clock.advance(time::Duration::days(13));
    let (status, body) = refresh(&served, "web-app", &token, &[]).await;
    assert_eq!(
        (status, code(&body)),
        (400, is(ErrorName::RefreshTokenExpired))
    );
    assert_eq!(body["error"], "invalid_grant");
    let description = body["error_description"].as_str().unwrap();
    assert!(
        description.contains("absolute 7776000-second"),
        "{description}"
    );
}

/// A tenant file that disables a user or gives them a new password ends their sign-ins
/// as the admin API does: their refresh tokens are refused (RefreshTokenRevoked, the
/// reason in the description), and a later file that enables them revives nothing.
#[tokio::test]
async fn an_import_that_disables_a_user_or_resets_a_password_ends_their_tokens() {
    let served = server(None).await;
    let with_alice = |change: &dyn Fn(&mut Value)| {
        let mut file = tenant_file();
        for user in file["tenants"][0]["users"].as_array_mut().unwrap() {
            if user["username"] == "alice" {
                change(user);
            }
        }
        file
    };
    let refused_because = |body: &Value, why: &str| {
        assert_eq!(code(body), is(ErrorName::RefreshTokenRevoked), "{body}");
        let description = body["error_description"].as_str().unwrap();
        assert!(description.contains(why), "{description}");
    };

    let first = tokens_for(&served, "web-app", WEB_CB, "openid offline_access").await;
    let first = first["refresh_token"].as_str().unwrap().to_owned();
    served.app.clock.advance(time::Duration::seconds(1));
    served
        .app
        .import(with_alice(&|u| u["enabled"] = json!(false)))
        .await;
    let (status, body) = refresh(&served, "web-app", &first, &[]).await;
    assert_eq!(status, 400);
    refused_because(&body, "disabled");
    served.app.import(tenant_file()).await;
    let (_, body) = refresh(&served, "web-app", &first, &[]).await;
    refused_because(&body, "disabled");

    let second = tokens_for(&served, "web-app", WEB_CB, "openid offline_access").await;
    let second = second["refresh_token"].as_str().unwrap().to_owned();
    // The same file again changes nothing and ends nothing.
    served.app.import(tenant_file()).await;
    let (status, body) = refresh(&served, "web-app", &second, &[]).await;
    assert_eq!(status, 200, "{body}");
    let second = body["refresh_token"].as_str().unwrap().to_owned();
    served.app.clock.advance(time::Duration::seconds(1));
    served
        .app
        .import(with_alice(&|u| {
            u["password"] = json!("a new password from the file")
        }))
        .await;
    let (_, body) = refresh(&served, "web-app", &second, &[]).await;
    refused_because(&body, "password");
}

/// An app disabled by an admin gets nothing (AppDisabled, unauthorized_client at the
/// token endpoint, an error page at the authorization endpoint); what it was issued
/// before stays void once it is enabled again, as does what a deleted app was issued
/// when an app with its client_id is registered anew.
#[tokio::test]
async fn a_disabled_or_recreated_app_inherits_no_token() {
    let served = server(None).await;
    let app_path = format!("/admin/api/v1/tenants/{TENANT}/apps/web-app");
    let set_enabled = |enabled: bool| {
        let (app, path) = (&served.app, app_path.clone());
        async move {
            let r = app
                .admin("PATCH", &path, Some(json!({ "enabled": enabled })))
                .await;
            assert_eq!(r.status, 200, "{}", r.body);
            assert_eq!(r.json()["enabled"], enabled);
        }
    };
    let before = tokens_for(&served, "web-app", WEB_CB, "openid offline_access").await;
    let before = before["refresh_token"].as_str().unwrap().to_owned();
    let (verifier, challenge) = pkce("in flight");
    let in_flight = code_for(
        &served,
        "web-app",
        WEB_CB,
        "openid",
        Some(&challenge),
        "alice",
    )
    .await;
    served.app.clock.advance(time::Duration::seconds(1));
    set_enabled(false).await;

    let (status, body) = refresh(&served, "web-app", &before, &[]).await;
    assert_eq!(
        (status, code(&body)),
        (400, is(ErrorName::AppDisabled)),
        "{body}"
    );
    assert_eq!(body["error"], "unauthorized_client");
    let page = browser()
        .get(format!(
            "{}/{TENANT}/oauth2/authorize?client_id=web-app&response_type=code&scope=openid&redirect_uri={WEB_CB}",
            served.base
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 400, "an error page, no redirect");
    assert!(page.text().await.unwrap().contains("TS20014"));

    set_enabled(true).await;
    let (status, body) = refresh(&served, "web-app", &before, &[]).await;
    assert_eq!(
        (status, code(&body)),
        (400, is(ErrorName::RefreshTokenRevoked)),
        "{body}"
    );
    assert!(
        body["error_description"]
            .as_str()
            .unwrap()
            .contains("app was disabled"),
        "{body}"
    );
    let redeemed = token_request(
        &served.base,
        &[
            ("grant_type", "authorization_code"),
            ("client_id", "web-app"),
            ("client_secret", WEB_SECRET),
            ("code", &in_flight),
            ("redirect_uri", WEB_CB),
            ("code_verifier", &verifier),
        ],
    )
    .send()
    .await
    .unwrap();
    assert_eq!(redeemed.status(), 400);
    let body: Value = redeemed.json().await.unwrap();
    assert_eq!(
        code(&body),
        is(ErrorName::AuthorizationCodeRevoked),
        "{body}"
    );

    // A new sign-in works; then the app is deleted and registered again under the same
    // client_id: the new registration starts with nothing.
    let after = tokens_for(&served, "web-app", WEB_CB, "openid offline_access").await;
    let after = after["refresh_token"].as_str().unwrap().to_owned();
    let (status, body) = refresh(&served, "web-app", &after, &[]).await;
    assert_eq!(status, 200, "{body}");
    let after = body["refresh_token"].as_str().unwrap().to_owned();
    let deleted = served.app.admin("DELETE", &app_path, None).await;
    assert_eq!(deleted.status, 204, "{}", deleted.body);
    served.app.clock.advance(time::Duration::seconds(1));
    served.app.import(tenant_file()).await;
    let (status, body) = refresh(&served, "web-app", &after, &[]).await;
    assert_eq!(
        (status, code(&body)),
        (400, is(ErrorName::RefreshTokenRevoked)),
        "{body}"
    );
}
