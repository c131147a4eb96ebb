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
            ("client_id", "rs-app"),
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
        "rs-app is admin-consented"
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
