//! Token exchange on-behalf-of: the web app signs alice in for the middle tier's API
//! (`api://middle`), and the middle tier (`middle-app`, the API's `client_id`) exchanges
//! that token for one to the downstream API (the fixture's `API`).

use super::*;
use crate::directory::model::Consent;
use crate::oauth::token::request::ACCESS_TOKEN_TYPE;

const MIDDLE_API: &str = "api://middle";
const MIDDLE: &str = "middle-app";
const EXCHANGE: &str = "urn:ietf:params:oauth:grant-type:token-exchange";

/// The fixture with the middle tier: its API (served by `middle-app`), the app itself
/// (confidential, allowed the exchange, permitted the downstream API's two scopes,
/// no admin consent), and the web app permitted the middle tier's API.
async fn fixture() -> Fixture {
    let f = Fixture::new().await;
    let mut middle = f.app(WEB).await;
    middle.client_id = MIDDLE.into();
    middle.grant_types = [GrantType::TokenExchange].into();
    middle.admin_consented = false;
    let api = Api {
        identifier: MIDDLE_API.into(),
        name: "Middle tier".into(),
        scopes: vec![ApiScope {
            name: "access".into(),
            description: "Use the middle tier".into(),
            admin_consent_required: false,
        }],
        app_roles: vec![],
        client_id: Some(MIDDLE.into()),
        access_token_signing_alg: None,
    };
    let now = f.now();
    let put = |id: u128, kind, key: &str, doc: String| {
        let id = ObjectId::from_uuid(uuid::Uuid::from_u128(id));
        Write::Put(StoredObject::new(id, f.tenant.id, kind, key, doc, now))
    };
    f.store
        .apply(vec![
            put(0x3dd1, ObjectKind::App, MIDDLE, encode(&middle)),
            put(0x3dd2, ObjectKind::Api, MIDDLE_API, encode(&api)),
        ])
        .await
        .unwrap();
    f.change::<App>(ObjectKind::App, WEB, |web| {
        web.permissions.push(Permission {
            api: MIDDLE_API.into(),
            scopes: vec!["access".into()],
            app_roles: vec![],
        });
    })
    .await;
    f
}

/// Alice's consent to the middle tier: exactly `scopes` of the downstream API.
async fn consent(f: &Fixture, scopes: &[&str]) {
    let consent = Consent {
        user: ALICE.into(),
        client_id: MIDDLE.into(),
        scopes: scopes.iter().map(|s| format!("{API}/{s}")).collect(),
        granted_at: f.now(),
    };
    let key = Consent::key(&MIDDLE.into(), ALICE);
    let existing = read::get::<Consent>(f.store.as_ref(), f.tenant.id, ObjectKind::Consent, &key);
    let object = match existing.await.unwrap() {
        Some((object, _)) => object.with_doc(encode(&consent), f.now()),
        None => StoredObject::new(
            ObjectId::from_uuid(uuid::Uuid::from_u128(0xc0)),
            f.tenant.id,
            ObjectKind::Consent,
            key,
            encode(&consent),
            f.now(),
        ),
    };
    f.store.apply(vec![Write::Put(object)]).await.unwrap();
}

/// The tokens the web app got for the middle tier's API.
async fn middle_tier_tokens(f: &Fixture) -> TokenResponse {
    let mut code = f.code(WEB, WEB_CB, &format!("openid {MIDDLE_API}/access"));
    code.audience = Some(MIDDLE_API.into());
    let request = TokenRequest::AuthorizationCode(f.redeem(&f.seal(&code)));
    exchange(&f.ctx(), &f.app(WEB).await, &request)
        .await
        .unwrap()
}

/// The access token the web app got for the middle tier.
async fn subject(f: &Fixture) -> String {
    middle_tier_tokens(f).await.access_token
}

/// The exchange as `client_id` sends it: `extra` adds or replaces parameters.
async fn exchange_as(
    f: &Fixture,
    client_id: &str,
    subject: &str,
    scope: &str,
    extra: &[(&str, &str)],
) -> Result<TokenResponse, CatalogError> {
    let mut pairs = vec![
        ("grant_type", EXCHANGE),
        ("subject_token", subject),
        ("subject_token_type", ACCESS_TOKEN_TYPE),
        ("scope", scope),
    ];
    for (k, v) in extra {
        pairs.retain(|(name, _)| name != k);
        pairs.push((k, v));
    }
    let app = f.app(client_id).await;
    let request = TokenRequest::parse(&params(&pairs), &app, None)?;
    exchange(&f.ctx(), &app, &request).await
}

#[tokio::test]
async fn the_middle_tier_gets_a_token_for_the_downstream_api_as_the_user() {
    let f = fixture().await;
    consent(&f, &["read"]).await;
    let subject = subject(&f).await;
    // MSAL adds the OIDC scopes to every request; they are left out.
    let scope = format!("openid profile offline_access {API}/read");
    let response = exchange_as(&f, MIDDLE, &subject, &scope, &[])
        .await
        .unwrap();
    assert_eq!(response.issued_token_type, Some(ACCESS_TOKEN_TYPE));
    assert_eq!(response.token_type, "Bearer");
    assert!(response.id_token.is_none() && response.refresh_token.is_none());
    assert_eq!(response.scope.as_deref(), Some(&*format!("{API}/read")));
    let c = claims(&response.access_token);
    let original = claims(&subject);
    assert_eq!(c["aud"], API);
    assert_eq!(c["sub"], original["sub"]);
    assert_eq!(c["sub"], f.alice_id.to_string());
    assert_eq!(c["sid"], original["sid"]);
    assert_eq!(c["client_id"], MIDDLE);
    assert_eq!(c["act"], serde_json::json!({ "sub": MIDDLE }));
    assert_eq!(c["scp"], "read");
    // The user's own token names no actor.
    assert!(original.get("act").is_none());

    // resource naming the same API is accepted; another API is not.
    exchange_as(
        &f,
        MIDDLE,
        &subject,
        &format!("{API}/read"),
        &[("resource", API)],
    )
    .await
    .unwrap();
    assert_refused(
        exchange_as(
            &f,
            MIDDLE,
            &subject,
            &format!("{API}/read"),
            &[("audience", MIDDLE_API)],
        )
        .await,
        ErrorName::InvalidRequestFormat,
        "different APIs",
    );
}

#[tokio::test]
async fn scopes_never_exceed_what_was_consented() {
    let f = fixture().await;
    let subject = subject(&f).await;
    let read = format!("{API}/read");
    // No consent to the downstream API: the user must be asked.
    assert_refused(
        exchange_as(&f, MIDDLE, &subject, &read, &[]).await,
        ErrorName::ConsentRequired,
        &read,
    );
    // Consent to read; .default stands for read and write, and write was never granted.
    consent(&f, &["read"]).await;
    assert_refused(
        exchange_as(&f, MIDDLE, &subject, &format!("{API}/.default"), &[]).await,
        ErrorName::ScopeNotSubset,
        &format!("{API}/write"),
    );
    // A scope outside the app's permissions is not a scope it may ask for at all.
    assert_refused(
        exchange_as(&f, MIDDLE, &subject, &format!("{API}/delete"), &[]).await,
        ErrorName::InvalidScope,
        "delete",
    );
    // A scope only an administrator may grant needs the tenant's admin consent, even
    // where the user consented to it.
    f.change::<Api>(ObjectKind::Api, API, |api| {
        api.scopes[1].admin_consent_required = true;
    })
    .await;
    consent(&f, &["read", "write"]).await;
    assert_refused(
        exchange_as(&f, MIDDLE, &subject, &format!("{API}/write"), &[]).await,
        ErrorName::AdminConsentRequired,
        &format!("{API}/write"),
    );
    // With the tenant's admin consent, .default gives both.
    f.change::<App>(ObjectKind::App, MIDDLE, |a| a.admin_consented = true)
        .await;
    let response = exchange_as(&f, MIDDLE, &subject, &format!("{API}/.default"), &[])
        .await
        .unwrap();
    assert_eq!(
        response.scope.as_deref(),
        Some(&*format!("{API}/read {API}/write"))
    );
}

#[tokio::test]
async fn only_a_current_user_token_for_the_apps_own_api_can_be_exchanged() {
    let f = fixture().await;
    consent(&f, &["read"]).await;
    let read = format!("{API}/read");
    let subject_refused = |outcome, words: &str| {
        assert_refused(outcome, ErrorName::TokenExchangeSubjectInvalid, words)
    };

    // A token for another API (the downstream one itself): not this app's to exchange.
    let for_api = f
        .code_flow(&format!("openid {API}/read"))
        .await
        .access_token;
    subject_refused(
        exchange_as(&f, MIDDLE, &for_api, &read, &[]).await,
        "not an API served by the app middle-app",
    );
    // An app's own token has no user to act for.
    let request =
        TokenRequest::ClientCredentials(crate::oauth::token::request::ClientCredentialsRequest {
            api: MIDDLE_API.into(),
        });
    let own = exchange(&f.ctx(), &f.app(WEB).await, &request)
        .await
        .unwrap();
    subject_refused(
        exchange_as(&f, MIDDLE, &own.access_token, &read, &[]).await,
        "an app's own token",
    );
    // Garbage, an ID token, and a token of the wrong type.
    subject_refused(
        exchange_as(&f, MIDDLE, "not-a-token", &read, &[]).await,
        "not a current access token",
    );
    let id_token = middle_tier_tokens(&f).await.id_token.unwrap();
    subject_refused(
        exchange_as(&f, MIDDLE, &id_token, &read, &[]).await,
        "not a current access token",
    );
    let subject = subject(&f).await;
    subject_refused(
        exchange_as(
            &f,
            MIDDLE,
            &subject,
            &read,
            &[(
                "subject_token_type",
                "urn:ietf:params:oauth:token-type:id_token",
            )],
        )
        .await,
        "id_token",
    );
    // An expired one.
    f.later(3601);
    subject_refused(
        exchange_as(&f, MIDDLE, &subject, &read, &[]).await,
        "not a current access token",
    );
}

#[tokio::test]
async fn the_user_must_still_be_enabled() {
    let f = fixture().await;
    consent(&f, &["read"]).await;
    let subject = subject(&f).await;
    f.change::<User>(ObjectKind::User, ALICE, |u| u.enabled = false)
        .await;
    assert_refused(
        exchange_as(&f, MIDDLE, &subject, &format!("{API}/read"), &[]).await,
        ErrorName::AccountDisabled,
        "",
    );
    f.delete_alice().await;
    assert_refused(
        exchange_as(&f, MIDDLE, &subject, &format!("{API}/read"), &[]).await,
        ErrorName::TokenExchangeSubjectInvalid,
        "no longer exists",
    );
}

#[tokio::test]
async fn only_confidential_apps_allowed_the_grant_may_exchange() {
    let f = fixture().await;
    let subject = subject(&f).await;
    let read = format!("{API}/read");
    // The web app is not allowed the grant; the SPA cannot authenticate at all.
    f.change::<App>(ObjectKind::App, SPA, |a| {
        a.grant_types.insert(GrantType::TokenExchange);
    })
    .await;
    for client in [WEB, SPA] {
        assert_refused(
            exchange_as(&f, client, &subject, &read, &[]).await,
            ErrorName::TokenExchangeNotAllowed,
            API,
        );
    }
    // Parameters RFC 8693 defines that on-behalf-of does not use.
    for (extra, words) in [
        (("actor_token", "x"), "actor_token"),
        (
            (
                "requested_token_type",
                "urn:ietf:params:oauth:token-type:refresh_token",
            ),
            "requested_token_type",
        ),
    ] {
        assert_refused(
            exchange_as(&f, MIDDLE, &subject, &read, &[extra]).await,
            ErrorName::InvalidRequestFormat,
            words,
        );
    }
    assert_refused(
        exchange_as(&f, MIDDLE, &subject, &read, &[("scope", "openid")]).await,
        ErrorName::InvalidRequestFormat,
        "downstream API",
    );
}

#[tokio::test]
async fn an_unreachable_store_is_temporarily_unavailable_not_an_invalid_subject() {
    let f = fixture().await;
    consent(&f, &["read"]).await;
    let subject = subject(&f).await;
    let app = f.app(MIDDLE).await;
    let scope = format!("{API}/read");
    let pairs = [
        ("grant_type", EXCHANGE),
        ("subject_token", subject.as_str()),
        ("subject_token_type", ACCESS_TOKEN_TYPE),
        ("scope", scope.as_str()),
    ];
    let request = TokenRequest::parse(&params(&pairs), &app, None).unwrap();
    let down = |on: bool| f.store.down.store(on, std::sync::atomic::Ordering::SeqCst);
    down(true);
    let e = exchange(&f.ctx(), &app, &request).await.unwrap_err();
    assert_eq!(e.name, ErrorName::TemporarilyUnavailable);
    down(false);
    exchange(&f.ctx(), &app, &request).await.unwrap();
}
