//! Every error path of the token endpoint for `grant_type=authorization_code`: the
//! form, client authentication (RFC 6749 §2.3, §5.2), the code's bindings (§4.1.3),
//! PKCE (RFC 7636 §4.6), single-page apps' Origin, single use under concurrency. Each
//! answer is OAuth JSON with `Cache-Control: no-store`.

use super::oidc::*;
use super::support::Served;
use tessera_core::errors::ErrorName;

/// A web-app token request authenticated with client_secret_post, plus `extra`.
fn web_form<'a>(extra: &[(&'a str, &'a str)]) -> Vec<(&'a str, &'a str)> {
    let mut form = vec![("client_id", "web-app"), ("client_secret", WEB_SECRET)];
    form.extend_from_slice(extra);
    form
}

/// The form that redeems `code` for web-app at WEB_CB.
fn redeem<'a>(code: &'a str, extra: &[(&'a str, &'a str)]) -> Vec<(&'a str, &'a str)> {
    let mut form = web_form(&[
        ("grant_type", "authorization_code"),
        ("code", code),
        ("redirect_uri", WEB_CB),
    ]);
    form.extend_from_slice(extra);
    form
}

async fn post(served: &Served, form: &[(&str, &str)]) -> reqwest::Response {
    token_request(&served.base, form).send().await.unwrap()
}

/// A web-app code for alice, without PKCE.
async fn web_code(served: &Served) -> String {
    code_for(served, "web-app", WEB_CB, "openid", None, "alice").await
}

/// RFC 9110 §15.5.2: a 401 names a scheme; RFC 6749 §5.2: Basic is the one the token
/// endpoint supports, whichever method the client tried.
fn basic_challenge(headers: &reqwest::header::HeaderMap) {
    assert_eq!(
        headers.get("www-authenticate").map(|v| v.to_str().unwrap()),
        Some(format!("Basic realm=\"{TENANT}\"").as_str())
    );
}

// ---- the request itself ------------------------------------------------------------

#[tokio::test]
async fn missing_grant_type_is_invalid_request() {
    let served = server(None).await;
    let r = post(&served, &web_form(&[("code", "x")])).await;
    let (_, body) = assert_json_error(r, ErrorName::InvalidRequestFormat).await;
    assert!(
        body["error_description"]
            .as_str()
            .unwrap()
            .contains("grant_type is missing"),
        "{body}"
    );
}

#[tokio::test]
async fn unknown_grant_type_is_unsupported() {
    let served = server(None).await;
    let r = post(&served, &web_form(&[("grant_type", "password")])).await;
    let (_, body) = assert_json_error(r, ErrorName::UnsupportedGrantType).await;
    let description = body["error_description"].as_str().unwrap();
    assert!(description.contains("password"), "{body}");
    assert!(
        description.contains("authorization_code"),
        "names what is supported: {body}"
    );
}

/// The grant check comes before the grant runs: an app may only use the grants it was
/// registered for. (Whether web-app's refresh grant works is the refresh tests' business.)
#[tokio::test]
async fn grant_the_app_was_not_given_is_unauthorized_grant_type() {
    let served = server_with_extra_apps().await;
    // code-only-app was not given refresh_token at all.
    let r = post(
        &served,
        &[
            ("client_id", "code-only-app"),
            ("client_secret", WEB_SECRET),
            ("grant_type", "refresh_token"),
            ("refresh_token", "x"),
        ],
    )
    .await;
    assert_json_error(r, ErrorName::UnauthorizedGrantType).await;
    // Nor is authorization_code for the daemon.
    let r = post(
        &served,
        &[
            ("client_id", "no-code-app"),
            ("client_secret", WEB_SECRET),
            ("grant_type", "authorization_code"),
            ("code", "x"),
            ("redirect_uri", WEB_CB),
        ],
    )
    .await;
    assert_json_error(r, ErrorName::UnauthorizedGrantType).await;
}

#[tokio::test]
async fn form_body_with_a_json_content_type_is_unsupported_media_type() {
    let served = server(None).await;
    let r = rp_http()
        .post(format!("{}/{TENANT}/oauth2/token", served.base))
        .header("content-type", "application/json")
        .body(serde_urlencoded::to_string(redeem("x", &[])).unwrap())
        .send()
        .await
        .unwrap();
    assert_json_error(r, ErrorName::UnsupportedMediaType).await;
}

#[tokio::test]
async fn repeated_parameter_is_invalid_request() {
    let served = server(None).await;
    let mut form = redeem("x", &[]);
    form.push(("grant_type", "authorization_code"));
    let r = post(&served, &form).await;
    let (_, body) = assert_json_error(r, ErrorName::InvalidRequestFormat).await;
    assert!(
        body["error_description"]
            .as_str()
            .unwrap()
            .contains("grant_type appears more than once"),
        "{body}"
    );
}

// ---- client authentication ---------------------------------------------------------

#[tokio::test]
async fn confidential_client_without_a_secret_is_missing_client_credentials() {
    let served = server(None).await;
    let r = post(
        &served,
        &[
            ("client_id", "web-app"),
            ("grant_type", "authorization_code"),
            ("code", "x"),
            ("redirect_uri", WEB_CB),
        ],
    )
    .await;
    let (headers, _) = assert_json_error(r, ErrorName::MissingClientCredentials).await;
    basic_challenge(&headers);
}

#[tokio::test]
async fn wrong_secret_via_basic_is_401_with_a_basic_challenge() {
    let served = server(None).await;
    let r = token_request(
        &served.base,
        &[
            ("grant_type", "authorization_code"),
            ("code", "x"),
            ("redirect_uri", WEB_CB),
        ],
    )
    .basic_auth("web-app", Some("not-the-secret"))
    .send()
    .await
    .unwrap();
    let (headers, _) = assert_json_error(r, ErrorName::InvalidClientSecret).await;
    assert_eq!(
        headers["www-authenticate"],
        format!("Basic realm=\"{TENANT}\"")
    );
}

#[tokio::test]
async fn wrong_secret_via_post_is_401_with_the_basic_challenge() {
    let served = server(None).await;
    let r = post(
        &served,
        &[
            ("client_id", "web-app"),
            ("client_secret", "not-the-secret"),
            ("grant_type", "authorization_code"),
            ("code", "x"),
            ("redirect_uri", WEB_CB),
        ],
    )
    .await;
    let (headers, _) = assert_json_error(r, ErrorName::InvalidClientSecret).await;
    basic_challenge(&headers);
}

#[tokio::test]
async fn expired_secret_is_client_secret_expired() {
    let served = server_with_extra_apps().await;
    let form = [
        ("grant_type", "authorization_code"),
        ("code", "x"),
        ("redirect_uri", WEB_CB),
    ];
    let mut posted = form.to_vec();
    posted.extend([
        ("client_id", "expired-app"),
        ("client_secret", EXPIRED_SECRET),
    ]);
    let (headers, body) =
        assert_json_error(post(&served, &posted).await, ErrorName::ClientSecretExpired).await;
    basic_challenge(&headers);
    assert!(
        body["error_description"]
            .as_str()
            .unwrap()
            .contains("2020-01-01T00:00:00Z"),
        "{body}"
    );
    let r = token_request(&served.base, &form)
        .basic_auth("expired-app", Some(EXPIRED_SECRET))
        .send()
        .await
        .unwrap();
    let (headers, _) = assert_json_error(r, ErrorName::ClientSecretExpired).await;
    assert!(
        headers["www-authenticate"]
            .to_str()
            .unwrap()
            .starts_with("Basic ")
    );
}

#[tokio::test]
async fn public_client_sending_a_secret_is_refused() {
    let served = server(None).await;
    let r = post(
        &served,
        &[
            ("client_id", "spa-app"),
            ("client_secret", "some-secret-value-0123456789abcdefgh"),
            ("grant_type", "authorization_code"),
            ("code", "x"),
            ("redirect_uri", SPA_CB),
        ],
    )
    .await;
    assert_json_error(r, ErrorName::PublicClientCredentialsNotAllowed).await;
}

#[tokio::test]
async fn unknown_client_is_client_not_found() {
    let served = server(None).await;
    let r = post(
        &served,
        &[
            ("client_id", "no-such-app"),
            ("client_secret", WEB_SECRET),
            ("grant_type", "authorization_code"),
            ("code", "x"),
            ("redirect_uri", WEB_CB),
        ],
    )
    .await;
    let (_, body) = assert_json_error(r, ErrorName::ClientNotFound).await;
    assert!(
        body["error_description"]
            .as_str()
            .unwrap()
            .contains("no-such-app")
    );
}

#[tokio::test]
async fn basic_and_client_secret_together_are_invalid_request() {
    let served = server(None).await;
    let r = token_request(
        &served.base,
        &[
            ("client_secret", WEB_SECRET),
            ("grant_type", "authorization_code"),
            ("code", "x"),
            ("redirect_uri", WEB_CB),
        ],
    )
    .basic_auth("web-app", Some(WEB_SECRET))
    .send()
    .await
    .unwrap();
    let (headers, _) = assert_json_error(r, ErrorName::InvalidRequestFormat).await;
    // A 400: no challenge.
    assert!(headers.get("www-authenticate").is_none());
}

// ---- the code ----------------------------------------------------------------------

#[tokio::test]
async fn garbage_code_is_authorization_code_invalid() {
    let served = server(None).await;
    let r = post(&served, &redeem("not-a-code-we-issued", &[])).await;
    assert_json_error(r, ErrorName::AuthorizationCodeInvalid).await;
}

#[tokio::test]
async fn altered_or_truncated_code_is_invalid_and_does_not_touch_the_real_one() {
    let served = server(None).await;
    let code = web_code(&served).await;
    let altered = altered(&code);
    for bad in [altered.as_str(), &code[..code.len() - 1], &code[..43]] {
        let r = post(&served, &redeem(bad, &[])).await;
        assert_json_error(r, ErrorName::AuthorizationCodeInvalid).await;
    }
    redeem_web_code(&served, &code, None).await;
}

/// The redemption is stored on condition that the code's user still exists and is
/// enabled (`Store::apply_if`): a user disabled since the sign-in gets AccountDisabled;
/// once enabled again, the code is still void (AuthorizationCodeRevoked: disabling ended
/// the sign-in it rests on); a user deleted and created again under the name is someone
/// else.
#[tokio::test]
async fn a_code_is_redeemed_only_for_its_user_enabled() {
    let served = server(None).await;
    let user = format!("/admin/api/v1/tenants/{TENANT}/users/alice");
    let code = web_code(&served).await;
    let patch = |enabled: bool| {
        let app = &served.app;
        let user = user.clone();
        async move {
            let body = serde_json::json!({ "enabled": enabled });
            let r = app.admin("PATCH", &user, Some(body)).await;
            assert_eq!(r.status, 200, "{}", r.body);
        }
    };
    served.app.clock.advance(time::Duration::seconds(1));
    patch(false).await;
    let r = post(&served, &redeem(&code, &[])).await;
    assert_token_error(r, ErrorName::AccountDisabled).await;
    patch(true).await;
    let r = post(&served, &redeem(&code, &[])).await;
    assert_token_error(r, ErrorName::AuthorizationCodeRevoked).await;

    let code = web_code(&served).await;
    assert_eq!(served.app.admin("DELETE", &user, None).await.status, 204);
    let body = serde_json::json!({ "username": "alice", "password": PASSWORD });
    let users = format!("/admin/api/v1/tenants/{TENANT}/users");
    assert_eq!(
        served.app.admin("POST", &users, Some(body)).await.status,
        201
    );
    let r = post(&served, &redeem(&code, &[])).await;
    assert_json_error(r, ErrorName::AuthorizationCodeInvalid).await;
}

/// A replay is found before any other refusal: the second use of a code revokes what
/// the first gave even when the second request is wrong in another way too.
#[tokio::test]
async fn replay_with_another_redirect_uri_is_still_a_replay() {
    let served = server(None).await;
    let code = web_code(&served).await;
    let tokens = redeem_web_code(&served, &code, None).await;
    let other = format!("{WEB_CB}/other");
    let mut form = redeem(&code, &[]);
    form.retain(|(k, _)| *k != "redirect_uri");
    form.push(("redirect_uri", &other));
    let r = post(&served, &form).await;
    assert_json_error(r, ErrorName::AuthorizationCodeRedeemed).await;
    let userinfo = format!("{}/{TENANT}/oauth2/userinfo", served.base);
    let revoked = rp_http()
        .get(&userinfo)
        .bearer_auth(tokens["access_token"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_json_error(revoked, ErrorName::InvalidBearerToken).await;
}

#[tokio::test]
async fn code_older_than_its_lifetime_is_expired() {
    let served = server(None).await;
    let code = web_code(&served).await;
    served.app.clock.advance(time::Duration::seconds(61));
    let r = post(&served, &redeem(&code, &[])).await;
    assert_json_error(r, ErrorName::AuthorizationCodeExpired).await;
}

#[tokio::test]
async fn second_redemption_is_refused_and_revokes_the_first_tokens() {
    let served = server(None).await;
    let code = web_code(&served).await;
    let tokens = redeem_web_code(&served, &code, None).await;
    let access = tokens["access_token"].as_str().unwrap();
    let userinfo = format!("{}/{TENANT}/oauth2/userinfo", served.base);
    let ok = rp_http()
        .get(&userinfo)
        .bearer_auth(access)
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), 200);

    let r = post(&served, &redeem(&code, &[])).await;
    assert_json_error(r, ErrorName::AuthorizationCodeRedeemed).await;

    // RFC 6749 §4.1.2: the replay revokes what the first redemption issued.
    let revoked = rp_http()
        .get(&userinfo)
        .bearer_auth(access)
        .send()
        .await
        .unwrap();
    let (headers, _) = assert_json_error(revoked, ErrorName::InvalidBearerToken).await;
    assert!(
        headers["www-authenticate"]
            .to_str()
            .unwrap()
            .contains("error=\"invalid_token\"")
    );
}

#[tokio::test]
async fn code_of_another_client_is_refused() {
    let served = server(None).await;
    let code = web_code(&served).await;
    let r = post(
        &served,
        &[
            ("client_id", "ed-app"),
            ("client_secret", WEB_SECRET),
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", WEB_CB),
        ],
    )
    .await;
    assert_json_error(r, ErrorName::AuthorizationCodeClientMismatch).await;
}

#[tokio::test]
async fn code_with_another_or_no_redirect_uri_is_refused() {
    let served = server(None).await;
    let code = web_code(&served).await;
    let other = format!("{WEB_CB}/");
    let mut form = redeem(&code, &[]);
    form.retain(|(k, _)| *k != "redirect_uri");
    let r = post(&served, &form).await;
    assert_json_error(r, ErrorName::AuthorizationCodeRedirectMismatch).await;
    form.push(("redirect_uri", &other));
    let r = post(&served, &form).await;
    assert_json_error(r, ErrorName::AuthorizationCodeRedirectMismatch).await;
}

#[tokio::test]
async fn code_with_a_challenge_redeemed_without_a_verifier_is_refused() {
    let served = server(None).await;
    let (_, challenge) = pkce("missing");
    let code = code_for(
        &served,
        "web-app",
        WEB_CB,
        "openid",
        Some(&challenge),
        "alice",
    )
    .await;
    let r = post(&served, &redeem(&code, &[])).await;
    assert_json_error(r, ErrorName::PkceVerifierMissing).await;
}

#[tokio::test]
async fn wrong_verifier_is_pkce_verifier_mismatch() {
    let served = server(None).await;
    let (verifier, challenge) = pkce("right");
    let (wrong, _) = pkce("wrong");
    let code = code_for(
        &served,
        "web-app",
        WEB_CB,
        "openid",
        Some(&challenge),
        "alice",
    )
    .await;
    let r = post(&served, &redeem(&code, &[("code_verifier", &wrong)])).await;
    assert_json_error(r, ErrorName::PkceVerifierMismatch).await;
    // A failed check does not consume the code.
    redeem_web_code(&served, &code, Some(&verifier)).await;
}

#[tokio::test]
async fn verifier_for_a_code_without_a_challenge_is_pkce_not_expected() {
    let served = server(None).await;
    let code = web_code(&served).await;
    let (verifier, _) = pkce("downgrade");
    let r = post(&served, &redeem(&code, &[("code_verifier", &verifier)])).await;
    assert_json_error(r, ErrorName::PkceNotExpected).await;
}

#[tokio::test]
async fn spa_code_needs_its_own_origin_and_gets_cors_only_for_it() {
    let served = server(None).await;
    let spa_origin = "http://localhost:3000";
    let redeem_spa = |code: String, verifier: String, origin: Option<&'static str>| {
        let base = served.base.clone();
        async move {
            let mut req = token_request(
                &base,
                &[
                    ("client_id", "spa-app"),
                    ("grant_type", "authorization_code"),
                    ("code", &code),
                    ("redirect_uri", SPA_CB),
                    ("code_verifier", &verifier),
                ],
            );
            if let Some(o) = origin {
                req = req.header("origin", o);
            }
            req.send().await.unwrap()
        }
    };

    let (verifier, challenge) = pkce("spa-1");
    let code = code_for(
        &served,
        "spa-app",
        SPA_CB,
        "openid",
        Some(&challenge),
        "alice",
    )
    .await;
    let r = redeem_spa(code.clone(), verifier.clone(), None).await;
    let (headers, _) = assert_json_error(r, ErrorName::SpaOriginRequired).await;
    assert!(headers.get("access-control-allow-origin").is_none());

    let r = redeem_spa(code, verifier, Some(spa_origin)).await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["cache-control"], "no-store");
    assert_eq!(r.headers()["access-control-allow-origin"], spa_origin);
    assert!(
        r.headers()
            .get_all("vary")
            .iter()
            .any(|v| v.to_str().unwrap().contains("Origin"))
    );
    let body: serde_json::Value = r.json().await.unwrap();
    assert!(body["access_token"].is_string());

    // Another site's page is refused (SpaOriginMismatch), and may not read even the
    // refusal; the code is not spent by it.
    let (verifier, challenge) = pkce("spa-2");
    let code = code_for(
        &served,
        "spa-app",
        SPA_CB,
        "openid",
        Some(&challenge),
        "alice",
    )
    .await;
    let r = redeem_spa(code.clone(), verifier.clone(), Some("https://evil.test")).await;
    let (headers, body) = assert_json_error(r, ErrorName::SpaOriginMismatch).await;
    assert!(headers.get("access-control-allow-origin").is_none());
    assert!(
        body["error_description"]
            .as_str()
            .unwrap()
            .contains("https://evil.test")
    );
    let r = redeem_spa(code, verifier, Some(spa_origin)).await;
    assert_eq!(r.status(), 200);
}

/// 20 redemptions of one code at once: exactly one gets tokens.
async fn concurrent_redemptions(served: Served) {
    let code = web_code(&served).await;
    let tasks: Vec<_> = (0..20)
        .map(|_| {
            let base = served.base.clone();
            let code = code.clone();
            tokio::spawn(async move {
                let r = token_request(&base, &redeem(&code, &[]))
                    .send()
                    .await
                    .unwrap();
                let status = r.status().as_u16();
                let no_store = r.headers()["cache-control"] == "no-store";
                let body: serde_json::Value = r.json().await.unwrap();
                (status, no_store, body)
            })
        })
        .collect();
    let mut ok = 0;
    for task in tasks {
        let (status, no_store, body) = task.await.unwrap();
        assert!(no_store);
        if status == 200 {
            ok += 1;
            assert!(body["access_token"].is_string());
        } else {
            assert_eq!(status, 400, "{body}");
            assert_eq!(
                body["error_codes"][0],
                ErrorName::AuthorizationCodeRedeemed.entry().code,
                "{body}"
            );
        }
    }
    assert_eq!(ok, 1, "exactly one redemption wins");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_redemptions_of_one_code_issue_tokens_once_on_sqlite() {
    concurrent_redemptions(server(None).await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_redemptions_of_one_code_issue_tokens_once_on_postgres() {
    let Some(db) = tessera_store::testing::postgres_or_skip(
        "concurrent_redemptions_of_one_code_issue_tokens_once_on_postgres",
    )
    .await
    else {
        return;
    };
    concurrent_redemptions(server(Some(db)).await).await;
}

/// Nothing issued before a revocation yields tokens afterwards (issue: revocation
/// reaches every credential): after an administrator revokes the user's sessions,
/// resets the password, or disables and enables the user again, a code still in flight
/// is AuthorizationCodeRevoked, a refresh token RefreshTokenRevoked (both
/// invalid_grant), and the browser's session signs in no more.
#[tokio::test]
async fn credentials_issued_before_a_revocation_yield_nothing() {
    let served = server(None).await;
    let alice = format!("/admin/api/v1/tenants/{TENANT}/users/alice");
    let actions: [(&str, &str, Option<serde_json::Value>); 3] = [
        ("DELETE", "/sessions", None),
        (
            "POST",
            "/password",
            Some(serde_json::json!({ "password": PASSWORD, "temporary": false })),
        ),
        ("PATCH", "", Some(serde_json::json!({ "enabled": false }))),
    ];
    for (method, path, body) in actions {
        let (verifier, challenge) = pkce("revoked");
        let browser = browser();
        let params = [
            ("client_id", "web-app"),
            ("redirect_uri", WEB_CB),
            ("response_type", "code"),
            ("scope", "openid offline_access"),
            ("state", "s"),
            ("code_challenge", challenge.as_str()),
            ("code_challenge_method", "S256"),
        ];
        let redirect = authorize_through_pages(&browser, &served.base, &params, "alice").await;
        let (_, query) = location_params(&redirect);
        let first = param(&query, "code").unwrap().to_owned();
        let tokens = redeem_web_code(&served, &first, Some(&verifier)).await;
        let refresh = tokens["refresh_token"].as_str().unwrap().to_owned();
        // A second code from the same session, still on its way to the app.
        let redirect = authorize_through_pages(&browser, &served.base, &params, "alice").await;
        let (_, query) = location_params(&redirect);
        let in_flight = param(&query, "code").unwrap().to_owned();

        served.app.clock.advance(time::Duration::seconds(1));
        let r = served
            .app
            .admin(method, &format!("{alice}{path}"), body.clone())
            .await;
        assert!(
            r.status.is_success(),
            "{method} {path}: {} {}",
            r.status,
            r.body
        );
        if path.is_empty() {
            let enable = serde_json::json!({ "enabled": true });
            assert_eq!(
                served.app.admin("PATCH", &alice, Some(enable)).await.status,
                200
            );
        }

        let r = post(
            &served,
            &redeem(&in_flight, &[("code_verifier", verifier.as_str())]),
        )
        .await;
        assert_token_error(r, ErrorName::AuthorizationCodeRevoked).await;
        let r = post(
            &served,
            &web_form(&[("grant_type", "refresh_token"), ("refresh_token", &refresh)]),
        )
        .await;
        assert_token_error(r, ErrorName::RefreshTokenRevoked).await;
        // The session is over: the authorization request asks for a sign-in again.
        let page = browser
            .get(authorize_url(&served.base, &params))
            .send()
            .await
            .unwrap();
        assert_eq!(page.status(), 200, "{method} {path}");
        assert!(
            page.text()
                .await
                .unwrap()
                .contains("autocomplete=\"current-password\""),
            "{method} {path}: no sign-in page"
        );
    }
}

/// Deleting a user ends what rests on the user's sign-ins in the same change: no
/// session of theirs is left in the store, and their refresh tokens are revoked with
/// the reason (a user created again under the name inherits nothing).
#[tokio::test]
async fn deleting_a_user_ends_their_sessions_and_tokens() {
    use tessera_core::store::object::ObjectKind;
    let served = server(None).await;
    let t = super::refresh::tokens_for(&served, "web-app", WEB_CB, "openid offline_access").await;
    let refresh = t["refresh_token"].as_str().unwrap();
    let tenant = fixture_tenant(&served).await;
    let store = served.app.state.store.clone();
    let sessions = || store.objects_of_user(tenant.id, ObjectKind::Session, "alice");
    assert!(!sessions().await.unwrap().is_empty());
    delete_user(&served, "alice").await;
    assert!(sessions().await.unwrap().is_empty());
    let r = post(
        &served,
        &web_form(&[("grant_type", "refresh_token"), ("refresh_token", refresh)]),
    )
    .await;
    let (_, body) = assert_token_error(r, ErrorName::RefreshTokenRevoked).await;
    assert!(
        body["error_description"]
            .as_str()
            .unwrap()
            .contains("the user was deleted"),
        "{body}"
    );
}
