//! Self-service password change: proven by the current password, checked against the
//! policy, CSRF-protected; afterwards the old password fails, the new one works, and
//! every session and refresh token of the user has ended.

use super::oidc::*;

async fn change_form(
    b: &reqwest::Client,
    base: &str,
    fields: &[(&str, &str)],
) -> reqwest::Response {
    let url = format!("{base}/{TENANT}/account/password");
    let page = b.get(&url).send().await.unwrap().text().await.unwrap();
    let mut form = vec![("csrf_token".to_owned(), hidden(&page, "csrf_token"))];
    form.extend(
        fields
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned())),
    );
    b.post(&url).form(&form).send().await.unwrap()
}

#[tokio::test]
async fn a_user_changes_their_password_and_is_signed_out_everywhere() {
    use tessera_core::errors::ErrorName;
    let served = server(None).await;
    let base = served.base.clone();
    let (_, challenge) = pkce("account");
    let authorize = authorize_url(
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
    let page = b
        .get(&authorize)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(
        sign_in(&b, &base, &page, "alice", PASSWORD).await.status(),
        303,
        "ed-app is admin-consented"
    );
    assert_eq!(
        b.get(&authorize).send().await.unwrap().status(),
        302,
        "signed in"
    );

    let wrong = change_form(
        &b,
        &base,
        &[
            ("username", "alice"),
            ("current_password", "not it"),
            ("new_password", "a brand new password"),
            ("confirm_password", "a brand new password"),
        ],
    )
    .await;
    assert_eq!(
        wrong.status().as_u16(),
        ErrorName::InvalidCredentials.entry().status
    );
    assert!(
        wrong
            .text()
            .await
            .unwrap()
            .contains(&ErrorName::InvalidCredentials.entry().code_str())
    );
    let short = change_form(
        &b,
        &base,
        &[
            ("username", "alice"),
            ("current_password", PASSWORD),
            ("new_password", "short"),
            ("confirm_password", "short"),
        ],
    )
    .await;
    assert!(
        short
            .text()
            .await
            .unwrap()
            .contains(&ErrorName::PasswordPolicyViolation.entry().code_str())
    );
    let differ = change_form(
        &b,
        &base,
        &[
            ("username", "alice"),
            ("current_password", PASSWORD),
            ("new_password", "a brand new password"),
            ("confirm_password", "another new password"),
        ],
    )
    .await;
    assert!(
        differ
            .text()
            .await
            .unwrap()
            .contains("the two new passwords differ")
    );
    // Without the page's CSRF token the change is refused.
    let forged = b
        .post(format!("{base}/{TENANT}/account/password"))
        .form(&[
            ("username", "alice"),
            ("current_password", PASSWORD),
            ("new_password", "a brand new password"),
            ("confirm_password", "a brand new password"),
        ])
        .send()
        .await
        .unwrap();
    assert!(
        forged
            .text()
            .await
            .unwrap()
            .contains(&ErrorName::CsrfTokenInvalid.entry().code_str())
    );

    let done = change_form(
        &b,
        &base,
        &[
            ("username", "alice"),
            ("current_password", PASSWORD),
            ("new_password", "a brand new password"),
            ("confirm_password", "a brand new password"),
        ],
    )
    .await;
    assert_eq!(done.status(), 200);
    assert!(
        done.text()
            .await
            .unwrap()
            .contains("Your password was changed")
    );

    // Signed out: the sign-in page again; the old password fails, the new one works.
    let page = b.get(&authorize).send().await.unwrap();
    assert_eq!(page.status(), 200);
    let page = page.text().await.unwrap();
    let old = sign_in(&b, &base, &page, "alice", PASSWORD).await;
    assert!(
        old.text()
            .await
            .unwrap()
            .contains(&ErrorName::InvalidCredentials.entry().code_str())
    );
    let page = b
        .get(&authorize)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(
        sign_in(&b, &base, &page, "alice", "a brand new password")
            .await
            .status(),
        303
    );
    let audit = served
        .app
        .admin(
            "GET",
            &format!("/admin/api/v1/tenants/{TENANT}/audit"),
            None,
        )
        .await;
    assert!(
        audit.body.contains("user.password.change"),
        "{}",
        audit.body
    );
}

/// Posts a form of a page that carries only a CSRF token.
async fn csrf_submit(
    b: &reqwest::Client,
    base: &str,
    page: &str,
    action: &str,
    extra: &[(&str, &str)],
) -> reqwest::Response {
    let mut form = vec![("csrf_token".to_owned(), hidden(page, "csrf_token"))];
    form.extend(
        extra
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned())),
    );
    b.post(format!("{base}{action}"))
        .form(&form)
        .send()
        .await
        .unwrap()
}

/// The account overview: sign in without an app, see and revoke consents (the app asks
/// again), and sign out everywhere (sessions and refresh tokens end).
#[tokio::test]
async fn the_account_page_lists_and_revokes_consents_and_signs_out_everywhere() {
    use tessera_core::errors::ErrorName;
    let served = server(None).await;
    let base = served.base.clone();
    let account = format!("{base}/{TENANT}/account");
    let b = browser();
    let page = b.get(&account).send().await.unwrap().text().await.unwrap();
    assert!(
        page.contains("id=\"sign-in\""),
        "a sign-in form without a session"
    );
    let wrong = csrf_submit(
        &b,
        &base,
        &page,
        &format!("/{TENANT}/account/signin"),
        &[("username", "alice"), ("password", "nope")],
    )
    .await;
    assert!(
        wrong
            .text()
            .await
            .unwrap()
            .contains(&ErrorName::InvalidCredentials.entry().code_str())
    );
    let page = b.get(&account).send().await.unwrap().text().await.unwrap();
    let r = csrf_submit(
        &b,
        &base,
        &page,
        &format!("/{TENANT}/account/signin"),
        &[("username", "alice"), ("password", PASSWORD)],
    )
    .await;
    assert_eq!(
        (
            r.status().as_u16(),
            r.headers()["location"].to_str().unwrap()
        ),
        (303, format!("/{TENANT}/account").as_str())
    );
    let page = b.get(&account).send().await.unwrap().text().await.unwrap();
    assert!(
        page.contains("id=\"account-user\">alice<") && page.contains("id=\"no-consents\""),
        "{page}"
    );

    // Consent to web-app with the session, then see it listed.
    let (verifier, challenge) = pkce("account-page");
    let authorize = authorize_url(
        &base,
        &[
            ("client_id", "web-app"),
            ("response_type", "code"),
            ("redirect_uri", WEB_CB),
            ("scope", "openid offline_access"),
            ("code_challenge", &challenge),
            ("code_challenge_method", "S256"),
        ],
    );
    let consent_page = b
        .get(&authorize)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let redirect = consent(&b, &base, &consent_page, "allow").await;
    let code = param(&location_params(&redirect).1, "code")
        .unwrap()
        .to_owned();
    let page = b.get(&account).send().await.unwrap().text().await.unwrap();
    assert!(
        page.contains("Fabrikam Web") && page.contains("offline_access openid"),
        "{page}"
    );

    // Revoking it makes the app ask again.
    let r = csrf_submit(
        &b,
        &base,
        &page,
        &format!("/{TENANT}/account/consents/revoke"),
        &[("client_id", "web-app")],
    )
    .await;
    assert_eq!(r.status(), 303);
    let page = b.get(&account).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("id=\"no-consents\""));
    assert!(
        b.get(&authorize)
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap()
            .contains("Fabrikam Web wants to")
    );

    // Sign out everywhere: the refresh token from before dies with the session.
    let tokens: serde_json::Value = token_request(
        &base,
        &[
            ("grant_type", "authorization_code"),
            ("client_id", "web-app"),
            ("client_secret", WEB_SECRET),
            ("code", code.as_str()),
            ("redirect_uri", WEB_CB),
            ("code_verifier", verifier.as_str()),
        ],
    )
    .send()
    .await
    .unwrap()
    .json()
    .await
    .unwrap();
    let refresh_token = tokens["refresh_token"].as_str().unwrap();
    let forged = b
        .post(format!("{account}/sessions/revoke"))
        .form(&[("csrf_token", "forged")])
        .send()
        .await
        .unwrap();
    assert!(
        forged
            .text()
            .await
            .unwrap()
            .contains(&ErrorName::CsrfTokenInvalid.entry().code_str())
    );
    let r = csrf_submit(
        &b,
        &base,
        &page,
        &format!("/{TENANT}/account/sessions/revoke"),
        &[],
    )
    .await;
    assert_eq!(r.status(), 303);
    assert!(
        r.headers()["set-cookie"]
            .to_str()
            .unwrap()
            .contains("Max-Age=0")
    );
    assert!(
        b.get(&account)
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap()
            .contains("id=\"sign-in\"")
    );
    let v: serde_json::Value = token_request(
        &base,
        &[
            ("grant_type", "refresh_token"),
            ("client_id", "web-app"),
            ("client_secret", WEB_SECRET),
            ("refresh_token", refresh_token),
        ],
    )
    .send()
    .await
    .unwrap()
    .json()
    .await
    .unwrap();
    assert_eq!(
        v["error_codes"][0],
        ErrorName::RefreshTokenRevoked.entry().code
    );
}

/// An administrator's reset sets a temporary password by default: it signs no one in
/// (PasswordChangeRequired, with a link to choose a new one) but proves who the user is
/// on the change page; after the change the user signs in with the new password. A reset
/// marked not temporary signs in at once.
#[tokio::test]
async fn a_temporary_password_must_be_changed_before_signing_in() {
    use tessera_core::errors::ErrorName;
    let served = server(None).await;
    let base = served.base.clone();
    let reset = |user: &'static str, password: &'static str, temporary: Option<bool>| {
        let app = &served.app;
        async move {
            let mut body = serde_json::json!({ "password": password });
            if let Some(t) = temporary {
                body["temporary"] = t.into();
            }
            app.admin(
                "POST",
                &format!("/admin/api/v1/tenants/{TENANT}/users/{user}/password"),
                Some(body),
            )
            .await
        }
    };
    assert_eq!(
        reset("alice", "temporary password 1", None).await.status,
        204
    );
    let params = [
        ("client_id", "ed-app"),
        ("redirect_uri", WEB_CB),
        ("response_type", "code"),
        ("scope", "openid"),
    ];
    let b = browser();
    let page = b
        .get(authorize_url(&base, &params))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let refused = sign_in(&b, &base, &page, "alice", "temporary password 1").await;
    assert_eq!(refused.status(), 400);
    let html = refused.text().await.unwrap();
    assert!(
        html.contains(&ErrorName::PasswordChangeRequired.entry().code_str()),
        "{html}"
    );
    assert!(
        html.contains(&format!(
            "href=\"{}\"",
            html_escaped(&format!("/{TENANT}/account/password"))
        )),
        "{html}"
    );
    // The account page's own sign-in refuses it too.
    let account = b
        .get(format!("{base}/{TENANT}/account"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let r = b
        .post(format!("{base}/{TENANT}/account/signin"))
        .form(&[
            ("csrf_token", hidden(&account, "csrf_token").as_str()),
            ("username", "alice"),
            ("password", "temporary password 1"),
        ])
        .send()
        .await
        .unwrap();
    assert!(r.text().await.unwrap().contains("id=\"change-password\""));

    let changed = change_form(
        &b,
        &base,
        &[
            ("username", "alice"),
            ("current_password", "temporary password 1"),
            ("new_password", "my very own password"),
            ("confirm_password", "my very own password"),
        ],
    )
    .await;
    assert_eq!(changed.status(), 200);
    let page = b
        .get(authorize_url(&base, &params))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let done = sign_in(&b, &base, &page, "alice", "my very own password").await;
    assert_eq!(done.status(), 303, "signed in with the new password");

    assert_eq!(
        reset("bob", "a brand new secret", Some(false)).await.status,
        204
    );
    let fresh = browser();
    let page = fresh
        .get(authorize_url(&base, &params))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let done = sign_in(&fresh, &base, &page, "bob", "a brand new secret").await;
    assert_eq!(done.status(), 303, "not temporary: signs in at once");
}
