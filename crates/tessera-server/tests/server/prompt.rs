//! `prompt`, `max_age`, `login_hint`, `id_token_hint` and the account picker (OIDC Core
//! §3.1.2.1) with several accounts signed in in one browser, requests built and ID
//! tokens verified by openidconnect-rs. The app is ed-app (admin consented, so no
//! consent page comes between), whose ID tokens are EdDSA as it registered.

use super::oidc::*;
use super::sign_in_flow::discover;
use super::support::Served;
use openidconnect::core::{
    CoreAuthPrompt, CoreAuthenticationFlow, CoreClient, CoreIdToken, CoreIdTokenClaims,
    CoreJwsSigningAlgorithm, CoreProviderMetadata,
};
use openidconnect::{
    AuthorizationCode, ClientId, ClientSecret, CsrfToken, LoginHint, Nonce, RedirectUrl,
};
use std::time::Duration;
use tessera_core::errors::ErrorName;

/// What a request asks beyond the code flow's defaults.
#[derive(Default)]
struct Ask<'a> {
    prompt: Vec<CoreAuthPrompt>,
    max_age: Option<u64>,
    login_hint: Option<&'a str>,
    id_token_hint: Option<&'a CoreIdToken>,
}

/// ed-app as openidconnect-rs's client.
macro_rules! client {
    ($metadata:expr) => {
        CoreClient::from_provider_metadata(
            $metadata.clone(),
            ClientId::new("ed-app".into()),
            Some(ClientSecret::new(WEB_SECRET.into())),
        )
        .set_redirect_uri(RedirectUrl::new(WEB_CB.into()).unwrap())
    };
}

/// Sends the authorization request `ask` from `browser`; its answer and the nonce.
async fn start(
    browser: &reqwest::Client,
    metadata: &CoreProviderMetadata,
    ask: &Ask<'_>,
) -> (reqwest::Response, Nonce) {
    let client = client!(metadata);
    let mut request = client.authorize_url(
        CoreAuthenticationFlow::AuthorizationCode,
        || CsrfToken::new("st".into()),
        Nonce::new_random,
    );
    for p in &ask.prompt {
        request = request.add_prompt(p.clone());
    }
    if let Some(seconds) = ask.max_age {
        request = request.set_max_age(Duration::from_secs(seconds));
    }
    if let Some(hint) = ask.login_hint {
        request = request.set_login_hint(LoginHint::new(hint.into()));
    }
    if let Some(token) = ask.id_token_hint {
        request = request.set_id_token_hint(token);
    }
    let (url, _, nonce) = request.url();
    (browser.get(url.as_str()).send().await.unwrap(), nonce)
}

/// The ID token the code in `redirect` redeems for, verified by openidconnect-rs.
async fn id_token(
    served: &Served,
    metadata: &CoreProviderMetadata,
    redirect: &reqwest::Response,
    nonce: &Nonce,
) -> (CoreIdToken, CoreIdTokenClaims) {
    assert!(
        [302, 303].contains(&redirect.status().as_u16()),
        "{}",
        redirect.status()
    );
    let (_, params) = location_params(redirect);
    let code = param(&params, "code").unwrap_or_else(|| panic!("no code: {params:?}"));
    let client = client!(metadata);
    let tokens = client
        .exchange_code(AuthorizationCode::new(code.into()))
        .unwrap()
        .request_async(&rp_http())
        .await
        .unwrap();
    let now = now_of(&served.app);
    let verifier = client
        .id_token_verifier()
        .set_allowed_algs([CoreJwsSigningAlgorithm::EdDsa])
        .set_time_fn(move || now);
    let token = openidconnect::TokenResponse::id_token(&tokens)
        .unwrap()
        .clone();
    let claims = token.claims(&verifier, nonce).unwrap().clone();
    (token, claims)
}

/// Signs in as `user` on the sign-in page `page` shows; the redirect with the code.
async fn signs_in(
    served: &Served,
    browser: &reqwest::Client,
    page: reqwest::Response,
    user: &str,
) -> reqwest::Response {
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    assert!(
        html.contains("id=\"sign-in\""),
        "not the sign-in page: {html}"
    );
    sign_in(browser, &served.base, &html, user, PASSWORD).await
}

/// The `sid` claim, which openidconnect-rs's claims type leaves out.
fn sid(token: &CoreIdToken) -> String {
    let raw = token.to_string();
    let payload = raw.split('.').nth(1).unwrap();
    let bytes =
        base64::Engine::decode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, payload).unwrap();
    let claims: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
    claims["sid"].as_str().unwrap().to_owned()
}

/// A browser with alice and then bob signed in, and their ID tokens.
async fn two_accounts(
    served: &Served,
    metadata: &CoreProviderMetadata,
) -> (
    reqwest::Client,
    (CoreIdToken, CoreIdTokenClaims),
    (CoreIdToken, CoreIdTokenClaims),
) {
    let b = browser();
    let (page, nonce) = start(&b, metadata, &Ask::default()).await;
    let done = signs_in(served, &b, page, "alice").await;
    let alice = id_token(served, metadata, &done, &nonce).await;
    let ask = Ask {
        prompt: vec![CoreAuthPrompt::Login],
        ..Ask::default()
    };
    let (page, nonce) = start(&b, metadata, &ask).await;
    let done = signs_in(served, &b, page, "bob").await;
    let bob = id_token(served, metadata, &done, &nonce).await;
    (b, alice, bob)
}

fn assert_error(served: &Served, r: &reqwest::Response, name: ErrorName) {
    assert_redirected_error(r, served, WEB_CB, Some("st"), name);
}

/// Posts the picker's answer: the account with session `account` ("" for another one).
async fn pick(
    served: &Served,
    b: &reqwest::Client,
    html: &str,
    account: &str,
) -> reqwest::Response {
    let form = [
        ("csrf_token", hidden(html, "csrf_token")),
        ("request", hidden(html, "request")),
        ("account", account.to_owned()),
    ];
    b.post(format!("{}/{TENANT}/signin/select", served.base))
        .form(&form)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn two_accounts_are_chosen_by_hint_or_on_the_picker() {
    let served = server(None).await;
    let metadata = discover(&served).await;
    let (b, (alice_token, alice), (bob_token, bob)) = two_accounts(&served, &metadata).await;
    assert_ne!(alice.subject(), bob.subject());
    // OIDC Core §2: one password factor.
    assert_eq!(alice.auth_context_ref().unwrap().as_str(), "1");
    let amr: Vec<_> = alice
        .auth_method_refs()
        .unwrap()
        .iter()
        .map(|m| m.as_str().to_owned())
        .collect();
    assert_eq!(amr, ["pwd"]);

    // No hint: the picker, or AccountSelectionRequired without pages.
    let (page, _) = start(&b, &metadata, &Ask::default()).await;
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    assert!(html.contains("Pick an account"), "{html}");
    assert!(html.contains(&format!("value=\"{}\"", sid(&alice_token))));
    assert!(html.contains(&format!("value=\"{}\"", sid(&bob_token))));
    assert!(html.contains("Use another account"));
    let silent = Ask {
        prompt: vec![CoreAuthPrompt::None],
        ..Ask::default()
    };
    let (r, _) = start(&b, &metadata, &silent).await;
    assert_error(&served, &r, ErrorName::AccountSelectionRequired);

    // A login_hint (any case) or an id_token_hint picks silently.
    let by_name = Ask {
        prompt: vec![CoreAuthPrompt::None],
        login_hint: Some("BOB"),
        ..Ask::default()
    };
    let (r, nonce) = start(&b, &metadata, &by_name).await;
    let (_, claims) = id_token(&served, &metadata, &r, &nonce).await;
    assert_eq!(claims.subject(), bob.subject());
    let by_token = Ask {
        prompt: vec![CoreAuthPrompt::None],
        id_token_hint: Some(&alice_token),
        ..Ask::default()
    };
    let (r, nonce) = start(&b, &metadata, &by_token).await;
    let (token, claims) = id_token(&served, &metadata, &r, &nonce).await;
    assert_eq!(claims.subject(), alice.subject());
    assert_eq!(sid(&token), sid(&alice_token), "the same session");
    let stranger = Ask {
        prompt: vec![CoreAuthPrompt::None],
        login_hint: Some("carol"),
        ..Ask::default()
    };
    let (r, _) = start(&b, &metadata, &stranger).await;
    assert_error(&served, &r, ErrorName::LoginHintMismatch);
    // Interactive, the hint of someone not signed in prefills the sign-in page.
    let (r, _) = start(
        &b,
        &metadata,
        &Ask {
            login_hint: Some("carol"),
            ..Ask::default()
        },
    )
    .await;
    assert!(
        r.text()
            .await
            .unwrap()
            .contains("name=\"username\" value=\"carol\"")
    );

    // The picker: bob, then "use another account".
    let (r, nonce) = start(&b, &metadata, &Ask::default()).await;
    let html = r.text().await.unwrap();
    let r = pick(&served, &b, &html, &sid(&bob_token)).await;
    assert_eq!(r.status(), 303);
    let (_, claims) = id_token(&served, &metadata, &r, &nonce).await;
    assert_eq!(claims.subject(), bob.subject());
    let r = pick(&served, &b, &html, "").await;
    assert_eq!(r.status(), 200);
    assert!(r.text().await.unwrap().contains("id=\"sign-in\""));
    // A session not in this browser is no choice: the sign-in page.
    let r = pick(&served, &b, &html, "not-a-session").await;
    assert!(r.text().await.unwrap().contains("id=\"sign-in\""));

    // select_account shows the picker even when a hint names an account, and picking
    // someone other than the id_token_hint's user is LoginHintMismatch.
    let (r, _) = start(
        &b,
        &metadata,
        &Ask {
            prompt: vec![CoreAuthPrompt::SelectAccount],
            id_token_hint: Some(&alice_token),
            ..Ask::default()
        },
    )
    .await;
    let html = r.text().await.unwrap();
    assert!(html.contains("Pick an account"), "{html}");
    let r = pick(&served, &b, &html, &sid(&bob_token)).await;
    assert_error(&served, &r, ErrorName::LoginHintMismatch);
}

#[tokio::test]
async fn max_age_and_prompt_login_authenticate_again_in_the_same_session() {
    let served = server(None).await;
    let metadata = discover(&served).await;
    let b = browser();
    let (page, nonce) = start(&b, &metadata, &Ask::default()).await;
    let done = signs_in(&served, &b, page, "alice").await;
    let (first_token, first) = id_token(&served, &metadata, &done, &nonce).await;
    served.app.clock.advance(time::Duration::seconds(120));

    let silent_60 = Ask {
        prompt: vec![CoreAuthPrompt::None],
        max_age: Some(60),
        ..Ask::default()
    };
    let (r, _) = start(&b, &metadata, &silent_60).await;
    assert_error(&served, &r, ErrorName::LoginRequired);
    let silent_600 = Ask {
        prompt: vec![CoreAuthPrompt::None],
        max_age: Some(600),
        ..Ask::default()
    };
    let (r, nonce) = start(&b, &metadata, &silent_600).await;
    let (_, claims) = id_token(&served, &metadata, &r, &nonce).await;
    assert_eq!(claims.auth_time(), first.auth_time(), "no new sign-in");

    // Interactive: the sign-in page, prefilled; the new auth_time, the same session.
    let (page, nonce) = start(
        &b,
        &metadata,
        &Ask {
            max_age: Some(60),
            ..Ask::default()
        },
    )
    .await;
    let html = page.text().await.unwrap();
    assert!(html.contains("name=\"username\" value=\"alice\""), "{html}");
    let done = sign_in(&b, &served.base, &html, "alice", PASSWORD).await;
    let (again_token, again) = id_token(&served, &metadata, &done, &nonce).await;
    assert_eq!(
        again.auth_time().unwrap().timestamp(),
        first.auth_time().unwrap().timestamp() + 120
    );
    assert_eq!(sid(&again_token), sid(&first_token));

    // prompt=login as well; still one account in this browser, so no picker after.
    let (page, nonce) = start(
        &b,
        &metadata,
        &Ask {
            prompt: vec![CoreAuthPrompt::Login],
            ..Ask::default()
        },
    )
    .await;
    let done = signs_in(&served, &b, page, "alice").await;
    let (token, _) = id_token(&served, &metadata, &done, &nonce).await;
    assert_eq!(sid(&token), sid(&first_token));
    let (r, _) = start(&b, &metadata, &Ask::default()).await;
    assert_eq!(r.status(), 302, "one account: no picker");
}

#[tokio::test]
async fn a_bad_or_stale_id_token_hint_is_refused() {
    let served = server(None).await;
    let metadata = discover(&served).await;
    let (b, (alice_token, _), _) = two_accounts(&served, &metadata).await;
    let silent = |hint| Ask {
        prompt: vec![CoreAuthPrompt::None],
        id_token_hint: Some(hint),
        ..Ask::default()
    };

    // Not an ID token of this tenant: an altered one, an access token.
    // A character in the middle of the signature changed.
    let raw = alice_token.to_string();
    let (signed, signature) = raw.rsplit_once('.').unwrap();
    let forged = format!("{signed}.{}", altered(signature));
    let altered: CoreIdToken = serde_json::from_value(serde_json::json!(forged)).unwrap();
    let (r, _) = start(&b, &metadata, &silent(&altered)).await;
    let query = assert_redirected_error(
        &r,
        &served,
        WEB_CB,
        Some("st"),
        ErrorName::IdTokenHintInvalid,
    );
    assert!(
        param(&query, "error_description")
            .unwrap()
            .contains("signature"),
        "{query:?}"
    );

    // alice's sessions end; bob is still signed in in this browser, no one in another.
    let revoked = revoke_all_sessions(&served, "alice").await;
    assert_eq!(revoked.status, 200, "{}", revoked.body);
    let (r, _) = start(&b, &metadata, &silent(&alice_token)).await;
    assert_error(&served, &r, ErrorName::LoginHintMismatch);
    let (r, _) = start(&browser(), &metadata, &silent(&alice_token)).await;
    assert_error(&served, &r, ErrorName::SessionNotFound);

    // Interactive: the user must sign in as the hinted user.
    let fresh = browser();
    let (page, _) = start(
        &fresh,
        &metadata,
        &Ask {
            id_token_hint: Some(&alice_token),
            ..Ask::default()
        },
    )
    .await;
    let r = signs_in(&served, &fresh, page, "bob").await;
    assert_error(&served, &r, ErrorName::LoginHintMismatch);
}

/// OIDC Core §3.1.2.1: a POSTed request behaves as a GET, SSO and prompt included.
#[tokio::test]
async fn a_posted_request_chooses_accounts_as_a_get_does() {
    let served = server(None).await;
    let metadata = discover(&served).await;
    let (b, _, (_, bob)) = two_accounts(&served, &metadata).await;
    let endpoint = format!("{}/{TENANT}/oauth2/authorize", served.base);
    let mut form = vec![
        ("client_id", "ed-app"),
        ("redirect_uri", WEB_CB),
        ("response_type", "code"),
        ("scope", "openid"),
        ("state", "st"),
        ("prompt", "none"),
        ("nonce", "n-1"),
    ];
    let r = b.post(&endpoint).form(&form).send().await.unwrap();
    assert_eq!(r.status(), 303);
    assert_error(&served, &r, ErrorName::AccountSelectionRequired);
    form.push(("login_hint", "bob"));
    let r = b.post(&endpoint).form(&form).send().await.unwrap();
    let (_, claims) = id_token(&served, &metadata, &r, &Nonce::new("n-1".into())).await;
    assert_eq!(claims.subject(), bob.subject());
}
