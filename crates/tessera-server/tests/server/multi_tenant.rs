//! Multi-tenant apps and the meta-tenants `common`, `organizations` and `consumers`:
//! a user of another tenant signs in through `/common` once an administrator of their
//! tenant consented, with openidconnect-rs building the requests, redeeming at
//! `/common/oauth2/token` and verifying the ID token against the user's tenant; and
//! every refusal on the way (CommonEndpointNotAllowed, ConsumersEndpointNotAllowed,
//! AppNotAvailableInTenant, TenantAccessRestricted, TenantAdminRequired,
//! TenantNotFound), on SQLite and PostgreSQL.

use super::oidc::{
    assert_error_page, assert_json_error, assert_token_error, browser, claims_of, hidden,
    html_escaped, location_params, now_of, oauth_error, param, rp_http, submit,
};
use super::support::Served;
use openidconnect::core::{CoreAuthenticationFlow, CoreClient, CoreProviderMetadata};
use openidconnect::{
    AuthUrl, AuthorizationCode, ClientId, ClientSecret, CsrfToken, IssuerUrl, Nonce,
    OAuth2TokenResponse, PkceCodeChallenge, RedirectUrl, RefreshToken, Scope, TokenResponse,
    TokenUrl,
};
use serde_json::json;
use tessera_core::errors::ErrorName;
use tessera_core::store::object::ObjectKind;
use tessera_store::testing::postgres_or_skip;

use super::oidc::PASSWORD;
pub(super) const SECRET: &str = "multi-tenant-app-secret-0123456789abcdef";
const CB: &str = "https://app.contoso.test/cb";
const MANAGEMENT: &str = "api://tessera-management";

/// `contoso` registers the apps; `northwind` (work) and `personal` (personal accounts)
/// are admitted by contoso's policy, `wingtip` is not.
fn tenants() -> serde_json::Value {
    let app = |id: &str, multi: bool, personal: bool| {
        json!({ "client_id": id, "name": format!("App {id}"), "multi_tenant": multi,
                "personal_accounts": personal, "redirect_uris": { "web": [CB] },
                "secrets": [ { "value": SECRET } ],
                "grant_types": ["authorization_code", "refresh_token"] })
    };
    let user = |name: &str| json!({ "username": name, "password": PASSWORD });
    json!({ "tenants": [
        { "slug": "contoso", "display_name": "Contoso",
          "policy": { "admitted_tenants": ["northwind", "personal"] },
          "users": [ user("carol") ],
          "apps": [ app("mt-app", true, false), app("st-app", false, false),
                    app("mt-personal", true, true) ] },
        { "slug": "northwind", "display_name": "Northwind",
          "users": [ { "username": "nina", "password": PASSWORD,
                       "app_roles": [ { "api": MANAGEMENT, "role": "Directory.ReadWrite" } ] },
                     user("ned"), { "username": "gail", "password": PASSWORD, "groups": ["admins"] } ],
          "groups": [ { "name": "admins",
                        "app_roles": [ { "api": MANAGEMENT, "role": "Directory.ReadWrite" } ] } ] },
        { "slug": "personal", "display_name": "Personal accounts", "kind": "consumers",
          "users": [ user("pat") ] },
        { "slug": "wingtip", "display_name": "Wingtip",
          "users": [ { "username": "wendy", "password": PASSWORD,
                       "app_roles": [ { "api": MANAGEMENT, "role": "Directory.ReadWrite" } ] } ] }
    ]})
}

pub(super) async fn server(pg: Option<tessera_store::testing::TestDatabase>) -> Served {
    let served = Served::start(pg).await;
    served.app.import(tenants()).await;
    served
}

/// The query string of `params`.
fn query(params: &[(&str, &str)]) -> String {
    serde_urlencoded::to_string(params).unwrap()
}

/// mt-app's sign-in request parameters.
fn sign_in_params(client_id: &'static str) -> Vec<(&'static str, &'static str)> {
    vec![
        ("client_id", client_id),
        ("redirect_uri", CB),
        ("response_type", "code"),
        ("scope", "openid"),
        ("state", "st"),
        ("nonce", "n"),
    ]
}

/// Signs in on the sign-in page `html` of `tenant`, posting to `action`.
async fn sign_in_at(
    b: &reqwest::Client,
    served: &Served,
    html: &str,
    action: &str,
    user: &str,
) -> reqwest::Response {
    assert!(
        html.contains(&format!("action=\"{}\"", html_escaped(action))),
        "not the sign-in page posting to {action}: {html}"
    );
    submit(
        b,
        &served.base,
        html,
        action,
        &[("username", user), ("password", PASSWORD)],
    )
    .await
}

/// The path and query of a redirect within Tessera.
fn local_location(response: &reqwest::Response) -> String {
    assert!(
        [302, 303].contains(&response.status().as_u16()),
        "{} {:?}",
        response.status(),
        response.headers()
    );
    response.headers()["location"].to_str().unwrap().to_owned()
}

/// An error sent to mt-app's redirect URI by `tenant`.
fn assert_redirected(served: &Served, response: &reqwest::Response, tenant: &str, name: ErrorName) {
    let (target, params) = location_params(response);
    assert_eq!(target, CB);
    assert_eq!(
        param(&params, "error"),
        Some(oauth_error(name)),
        "{params:?}"
    );
    assert!(
        param(&params, "error_description")
            .unwrap()
            .starts_with(&format!("{}: ", name.entry().code_str())),
        "{params:?}"
    );
    let issuer = format!("{}/{tenant}", served.base);
    assert_eq!(param(&params, "iss"), Some(issuer.as_str()));
}

/// An administrator of `tenant` consents to `client_id` through `/common/adminconsent`,
/// choosing the tenant on the page, signing in as `user`: the final redirect.
async fn admin_consent(
    served: &Served,
    b: &reqwest::Client,
    tenant: &str,
    client_id: &str,
    user: &str,
) -> reqwest::Response {
    let q = query(&[
        ("client_id", client_id),
        ("redirect_uri", CB),
        ("state", "ac"),
    ]);
    let chooser = b
        .get(format!("{}/common/adminconsent?{q}", served.base))
        .send()
        .await
        .unwrap();
    assert_eq!(chooser.status(), 200);
    let html = chooser.text().await.unwrap();
    assert!(html.contains("Find your organization"), "{html}");
    // The page's GET form: the request's parameters and the tenant typed in.
    assert_eq!(hidden(&html, "client_id"), client_id);
    let chosen = b
        .get(format!(
            "{}/common/adminconsent?{q}&domain_hint={tenant}",
            served.base
        ))
        .send()
        .await
        .unwrap();
    let next = local_location(&chosen);
    assert!(
        next.starts_with(&format!("/{tenant}/adminconsent?")),
        "{next}"
    );
    let page = b
        .get(format!("{}{next}", served.base))
        .send()
        .await
        .unwrap();
    if page.status() != 200 {
        return page;
    }
    let html = page.text().await.unwrap();
    let after = sign_in_at(
        b,
        served,
        &html,
        &format!("/{tenant}/adminconsent/sign-in"),
        user,
    )
    .await;
    if after.status() != 200 {
        return after;
    }
    let html = after.text().await.unwrap();
    assert!(
        html.contains(&format!("Add App {client_id} to ")),
        "not the admin-consent page: {html}"
    );
    submit(
        b,
        &served.base,
        &html,
        &format!("/{tenant}/adminconsent/confirm"),
        &[("decision", "allow")],
    )
    .await
}

async fn a_user_of_another_tenant_signs_in_through_common(served: Served) {
    let base = &served.base;
    // Discovery at the meta-tenants: the issuer template and what they serve.
    for meta in ["common", "organizations", "consumers"] {
        let doc: serde_json::Value = rp_http()
            .get(format!("{base}/{meta}/.well-known/openid-configuration"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(doc["issuer"], format!("{base}/{{tenantid}}"));
        assert_eq!(
            doc["authorization_endpoint"],
            format!("{base}/{meta}/oauth2/authorize")
        );
        assert_eq!(doc["token_endpoint"], format!("{base}/{meta}/oauth2/token"));
        assert_eq!(doc["authorization_response_iss_parameter_supported"], true);
    }

    // The relying party: openidconnect-rs, configured with northwind's metadata (the
    // tenant it will learn from `iss`) and the /common endpoints.
    let northwind = IssuerUrl::new(format!("{base}/northwind")).unwrap();
    let metadata = CoreProviderMetadata::discover_async(northwind, &rp_http())
        .await
        .unwrap();
    let client = CoreClient::from_provider_metadata(
        metadata,
        ClientId::new("mt-app".into()),
        Some(ClientSecret::new(SECRET.into())),
    )
    .set_redirect_uri(RedirectUrl::new(CB.into()).unwrap())
    .set_auth_uri(AuthUrl::new(format!("{base}/common/oauth2/authorize")).unwrap())
    .set_token_uri(TokenUrl::new(format!("{base}/common/oauth2/token")).unwrap());
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let (url, _, nonce) = client
        .authorize_url(
            CoreAuthenticationFlow::AuthorizationCode,
            || CsrfToken::new("st".into()),
            Nonce::new_random,
        )
        .add_scope(Scope::new("profile".into()))
        .add_scope(Scope::new("offline_access".into()))
        .set_pkce_challenge(challenge)
        .url();

    // /common asks for the tenant, then hands the same request to it.
    let ned = browser();
    let chooser = ned.get(url.as_str()).send().await.unwrap();
    assert_eq!(chooser.status(), 200);
    let html = chooser.text().await.unwrap();
    assert!(html.contains("id=\"domain_hint\""), "{html}");
    let unknown = ned
        .get(format!("{url}&domain_hint=nowhere"))
        .send()
        .await
        .unwrap();
    assert_eq!(unknown.status(), 404);
    let html = unknown.text().await.unwrap();
    assert!(
        html.contains(&ErrorName::TenantNotFound.entry().code_str())
            && html.contains("id=\"domain_hint\""),
        "{html}"
    );
    let handed = ned
        .get(format!("{url}&domain_hint=Northwind"))
        .send()
        .await
        .unwrap();
    let at_tenant = format!("{base}{}", local_location(&handed));
    assert!(
        at_tenant.starts_with(&format!("{base}/northwind/oauth2/authorize?")),
        "{at_tenant}"
    );
    assert!(!at_tenant.contains("domain_hint"), "{at_tenant}");

    // Not yet available in northwind.
    let refused = ned.get(&at_tenant).send().await.unwrap();
    assert_error_page(refused, ErrorName::AppNotAvailableInTenant).await;

    // ned is no administrator: the app hears TenantAdminRequired.
    let denied = admin_consent(&served, &browser(), "northwind", "mt-app", "ned").await;
    assert_redirected(
        &served,
        &denied,
        "northwind",
        ErrorName::TenantAdminRequired,
    );
    // gail is one through her group; nina directly. Accepting tells the app the tenant.
    for admin in ["gail", "nina"] {
        let done = admin_consent(&served, &browser(), "northwind", "mt-app", admin).await;
        let (target, params) = location_params(&done);
        assert_eq!(target, CB);
        assert_eq!(param(&params, "admin_consent"), Some("True"), "{params:?}");
        assert_eq!(param(&params, "state"), Some("ac"));
        let northwind = served
            .app
            .state
            .store
            .tenant(&tessera_core::tenant::TenantSlug::parse("northwind").unwrap())
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            param(&params, "tenant"),
            Some(northwind.id.to_string().as_str())
        );
        let consent = served
            .app
            .state
            .store
            .object(northwind.id, ObjectKind::ForeignApp, "mt-app")
            .await
            .unwrap()
            .expect("the consent is stored in northwind");
        assert!(consent.doc.contains(admin), "{}", consent.doc);
    }

    // Now ned signs in at northwind; the admin consent covers the permissions.
    let page = ned.get(&at_tenant).send().await.unwrap();
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    let answer = sign_in_at(&ned, &served, &html, "/northwind/signin/password", "ned").await;
    let (target, params) = location_params(&answer);
    assert_eq!(target, CB);
    // RFC 9207: the answer names the tenant, whose endpoints and keys the app uses.
    assert_eq!(
        param(&params, "iss"),
        Some(format!("{base}/northwind").as_str())
    );
    let code = param(&params, "code").expect("a code").to_owned();

    // Redeemed at /common/oauth2/token; the ID token verifies against northwind.
    let tokens = client
        .exchange_code(AuthorizationCode::new(code))
        .set_pkce_verifier(verifier)
        .request_async(&rp_http())
        .await
        .unwrap();
    let now = now_of(&served.app);
    let verifier = client.id_token_verifier().set_time_fn(move || now);
    let id_token = tokens.id_token().expect("an ID token");
    let claims = id_token.claims(&verifier, &nonce).unwrap();
    assert_eq!(claims.preferred_username().unwrap().as_str(), "ned");
    let payload = claims_of(&id_token.to_string());
    let northwind_id = tenant_id(&served, "northwind").await;
    assert_eq!(payload["tid"], northwind_id);
    assert_eq!(payload["iss"], format!("{base}/northwind"));
    assert_eq!(
        claims_of(tokens.access_token().secret())["tid"],
        northwind_id
    );

    // The refresh token too, at /common.
    let refresh = tokens.refresh_token().expect("a refresh token").clone();
    let refreshed = client
        .exchange_refresh_token(&RefreshToken::new(refresh.secret().clone()))
        .request_async(&rp_http())
        .await
        .unwrap();
    assert_eq!(
        claims_of(refreshed.access_token().secret())["iss"],
        format!("{base}/northwind")
    );
    // And at northwind's own endpoint, where the rotated one belongs.
    let again = rp_http()
        .post(format!("{base}/northwind/oauth2/token"))
        .basic_auth("mt-app", Some(SECRET))
        .form(&[
            ("grant_type", "refresh_token"),
            ("refresh_token", refreshed.refresh_token().unwrap().secret()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 200);
    let next_refresh: serde_json::Value = again.json().await.unwrap();

    // The admin API lists the consent and removes it: the app is no longer available
    // in northwind, not even to refresh a token.
    let listed = served
        .app
        .admin("GET", "/admin/api/v1/tenants/northwind/foreign-apps", None)
        .await
        .json();
    assert_eq!(listed["items"][0]["client_id"], "mt-app");
    assert_eq!(listed["items"][0]["home_tenant"], "contoso");
    assert_eq!(listed["items"][0]["consented_by"], "nina");
    let removed = served
        .app
        .admin(
            "DELETE",
            "/admin/api/v1/tenants/northwind/foreign-apps/mt-app",
            None,
        )
        .await;
    assert_eq!(removed.status, 204, "{}", removed.body);
    let refused = rp_http()
        .post(format!("{base}/common/oauth2/token"))
        .basic_auth("mt-app", Some(SECRET))
        .form(&[
            ("grant_type", "refresh_token"),
            (
                "refresh_token",
                next_refresh["refresh_token"].as_str().unwrap(),
            ),
        ])
        .send()
        .await
        .unwrap();
    assert_token_error(refused, ErrorName::AppNotAvailableInTenant).await;
    assert_error_page(
        ned.get(&at_tenant).send().await.unwrap(),
        ErrorName::AppNotAvailableInTenant,
    )
    .await;

    // carol, of contoso itself, goes through /common to her own tenant.
    let carol = browser();
    let handed = carol
        .get(format!("{url}&domain_hint=contoso"))
        .send()
        .await
        .unwrap();
    let page = carol
        .get(format!("{base}{}", local_location(&handed)))
        .send()
        .await
        .unwrap();
    let html = page.text().await.unwrap();
    assert!(
        html.contains(&html_escaped("/contoso/signin/password")),
        "{html}"
    );
}

async fn tenant_id(served: &Served, slug: &str) -> String {
    served
        .app
        .state
        .store
        .tenant(&tessera_core::tenant::TenantSlug::parse(slug).unwrap())
        .await
        .unwrap()
        .unwrap()
        .id
        .to_string()
}

#[tokio::test]
async fn a_user_of_another_tenant_signs_in_through_common_on_sqlite() {
    a_user_of_another_tenant_signs_in_through_common(server(None).await).await;
}

#[tokio::test]
async fn a_user_of_another_tenant_signs_in_through_common_on_postgres() {
    let Some(db) = postgres_or_skip(
        "server::multi_tenant::a_user_of_another_tenant_signs_in_through_common_on_postgres",
    )
    .await
    else {
        return;
    };
    a_user_of_another_tenant_signs_in_through_common(server(Some(db)).await).await;
}

#[tokio::test]
async fn meta_tenants_refuse_what_they_do_not_serve() {
    let served = server(None).await;
    let base = &served.base;
    let b = browser();
    let at = |meta: &str, params: &[(&str, &str)]| {
        format!("{base}/{meta}/oauth2/authorize?{}", query(params))
    };
    let get = |url: String| {
        let b = b.clone();
        async move { b.get(url).send().await.unwrap() }
    };

    // The app decides first: single-tenant, not for personal accounts, unknown, its
    // redirect URI; all on a page, whatever tenant is named.
    let mut st = sign_in_params("st-app");
    st.push(("domain_hint", "contoso"));
    assert_error_page(
        get(at("common", &st)).await,
        ErrorName::CommonEndpointNotAllowed,
    )
    .await;
    assert_error_page(
        get(at("Organizations", &st)).await,
        ErrorName::CommonEndpointNotAllowed,
    )
    .await;
    assert_error_page(
        get(at("consumers", &sign_in_params("mt-app"))).await,
        ErrorName::ConsumersEndpointNotAllowed,
    )
    .await;
    assert_error_page(
        get(at("common", &sign_in_params("nobody"))).await,
        ErrorName::ClientNotFound,
    )
    .await;
    let mut elsewhere = sign_in_params("mt-app");
    elsewhere[1] = ("redirect_uri", "https://evil.test/cb");
    assert_error_page(
        get(at("common", &elsewhere)).await,
        ErrorName::RedirectUriMismatch,
    )
    .await;

    // prompt=none cannot show the page that asks for the tenant: the app hears so, with
    // no `iss`, since no tenant answered (RFC 9207 §2).
    let mut silent = sign_in_params("mt-app");
    silent.push(("prompt", "none"));
    let r = get(at("common", &silent)).await;
    let (target, params) = location_params(&r);
    assert_eq!(target, CB);
    assert_eq!(
        param(&params, "error"),
        Some(oauth_error(ErrorName::InteractionRequired))
    );
    assert_eq!(param(&params, "state"), Some("st"));
    assert_eq!(param(&params, "iss"), None);

    // Which tenants each meta-tenant takes.
    for (meta, client_id, tenant, served_there) in [
        ("organizations", "mt-personal", "personal", false),
        ("consumers", "mt-personal", "northwind", false),
        ("consumers", "mt-personal", "personal", true),
        ("common", "mt-personal", "personal", true),
        ("common", "mt-app", "common", false),
    ] {
        let mut params = sign_in_params(client_id);
        params.push(("domain_hint", tenant));
        let r = get(at(meta, &params)).await;
        if served_there {
            assert!(local_location(&r).starts_with(&format!("/{tenant}/")));
        } else {
            assert_eq!(r.status(), 404, "{meta} {tenant}");
            let html = r.text().await.unwrap();
            assert!(
                html.contains(&ErrorName::TenantNotFound.entry().code_str()),
                "{html}"
            );
        }
    }

    // At the user's tenant: wingtip is not admitted by contoso; a personal-account
    // tenant takes only apps open to personal accounts, and needs no administrator.
    let tenant_url = |tenant: &str, client_id: &'static str| {
        format!(
            "{base}/{tenant}/oauth2/authorize?{}",
            query(&sign_in_params(client_id))
        )
    };
    assert_error_page(
        get(tenant_url("wingtip", "mt-app")).await,
        ErrorName::TenantAccessRestricted,
    )
    .await;
    assert_error_page(
        get(tenant_url("personal", "mt-app")).await,
        ErrorName::ConsumersEndpointNotAllowed,
    )
    .await;
    let denied = admin_consent(&served, &browser(), "wingtip", "mt-app", "wendy").await;
    assert_error_page(denied, ErrorName::TenantAccessRestricted).await;
    let pat = browser();
    let page = pat
        .get(tenant_url("personal", "mt-personal"))
        .send()
        .await
        .unwrap();
    let html = page.text().await.unwrap();
    let consent = sign_in_at(&pat, &served, &html, "/personal/signin/password", "pat").await;
    assert_eq!(consent.status(), 200);
    let html = consent.text().await.unwrap();
    assert!(
        html.contains(&html_escaped("/personal/signin/consent")),
        "pat consents for herself: {html}"
    );

    // The meta token endpoint: codes and refresh tokens only, of a tenant it takes, for
    // an app it serves.
    let token = |meta: &str, form: Vec<(&'static str, String)>| {
        rp_http()
            .post(format!("{base}/{meta}/oauth2/token"))
            .basic_auth("st-app", Some(SECRET))
            .form(&form)
    };
    let r = token("common", vec![("grant_type", "client_credentials".into())])
        .send()
        .await
        .unwrap();
    assert_json_error(r, ErrorName::UnsupportedGrantType).await;
    let r = token(
        "common",
        vec![
            ("grant_type", "authorization_code".into()),
            ("code", "forged".into()),
            ("redirect_uri", CB.into()),
        ],
    )
    .send()
    .await
    .unwrap();
    assert_token_error(r, ErrorName::AuthorizationCodeInvalid).await;
    let r = token("common", vec![("grant_type", "refresh_token".into())])
        .send()
        .await
        .unwrap();
    assert_token_error(r, ErrorName::RefreshTokenInvalid).await;
    // A single-tenant app's code, from its own tenant, is not redeemed at /common.
    let carol = browser();
    let page = carol
        .get(tenant_url("contoso", "st-app"))
        .send()
        .await
        .unwrap();
    let html = page.text().await.unwrap();
    let consent = sign_in_at(&carol, &served, &html, "/contoso/signin/password", "carol").await;
    let html = consent.text().await.unwrap();
    let answer = submit(
        &carol,
        base,
        &html,
        "/contoso/signin/consent",
        &[("decision", "allow")],
    )
    .await;
    let (_, params) = location_params(&answer);
    let code = param(&params, "code").unwrap().to_owned();
    let r = token(
        "common",
        vec![
            ("grant_type", "authorization_code".into()),
            ("code", code),
            ("redirect_uri", CB.into()),
        ],
    )
    .send()
    .await
    .unwrap();
    assert_token_error(r, ErrorName::CommonEndpointNotAllowed).await;

    // While the app's own tenant is disabled, its apps serve no one, anywhere.
    let disabled = served
        .app
        .admin(
            "PATCH",
            "/admin/api/v1/tenants/contoso",
            Some(json!({ "disabled": true })),
        )
        .await;
    assert_eq!(disabled.status, 200, "{}", disabled.body);
    assert_error_page(
        get(at("common", &sign_in_params("mt-personal"))).await,
        ErrorName::AppDisabled,
    )
    .await;
    assert_error_page(
        get(tenant_url("personal", "mt-personal")).await,
        ErrorName::AppDisabled,
    )
    .await;
}

/// A client_id names one multi-tenant app across every tenant: the admin API refuses a
/// second, and making an app multi-tenant whose client_id another one holds.
#[tokio::test]
async fn a_multi_tenant_client_id_is_unique_across_tenants() {
    let served = server(None).await;
    let create = |multi: bool| {
        served.app.admin(
            "POST",
            "/admin/api/v1/tenants/northwind/apps",
            Some(json!({ "client_id": "mt-app", "name": "Copy", "multi_tenant": multi })),
        )
    };
    assert_eq!(create(true).await.status, 409);
    // A single-tenant app may share it, but may not become multi-tenant.
    assert_eq!(create(false).await.status, 201);
    let patch = served
        .app
        .admin(
            "PATCH",
            "/admin/api/v1/tenants/northwind/apps/mt-app",
            Some(json!({ "multi_tenant": true })),
        )
        .await;
    assert_eq!(patch.status, 409, "{}", patch.body);
    assert_eq!(patch.json()["code"], ErrorName::Conflict.entry().code_str());
}
