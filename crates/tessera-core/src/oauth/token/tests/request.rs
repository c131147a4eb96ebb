//! `TokenRequest::parse`: the grant type decided first, then each grant's parameters.

use super::*;

async fn parse(client_id: &str, pairs: &[(&str, &str)]) -> Result<TokenRequest, CatalogError> {
    let f = Fixture::new().await;
    TokenRequest::parse(&params(pairs), &f.app(client_id).await, None)
}

#[tokio::test]
async fn each_grant_parses_to_its_variant() {
    let code = parse(
        WEB,
        &[
            ("grant_type", "authorization_code"),
            ("code", "c"),
            ("redirect_uri", WEB_CB),
        ],
    )
    .await
    .unwrap();
    assert_eq!(
        code,
        TokenRequest::AuthorizationCode(CodeRequest {
            code: Secret::new("c"),
            redirect_uri: Some(WEB_CB.into()),
            code_verifier: None,
            origin: None,
        })
    );
    assert_eq!(code.grant_type(), GrantType::AuthorizationCode);
    let refresh = parse(
        WEB,
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", "r"),
            ("scope", "openid"),
        ],
    )
    .await
    .unwrap();
    assert_eq!(
        refresh,
        TokenRequest::RefreshToken(RefreshRequest {
            refresh_token: Secret::new("r"),
            scope: Some("openid".into()),
            resource: None,
            origin: None,
        })
    );
    for pairs in [
        [
            ("grant_type", "client_credentials"),
            ("scope", &format!("{API}/.default")),
        ],
        [("grant_type", "client_credentials"), ("resource", API)],
    ] {
        let request = parse(WEB, &pairs).await.unwrap();
        let TokenRequest::ClientCredentials(cc) = &request else {
            panic!("{request:?}");
        };
        assert_eq!(cc.api, API);
    }
}

#[tokio::test]
async fn an_origin_marks_a_browser_redemption() {
    let f = Fixture::new().await;
    let pairs = params(&[("grant_type", "authorization_code"), ("code", "c")]);
    let request = TokenRequest::parse(&pairs, &f.app(SPA).await, Some("https://spa.contoso.test"));
    let Ok(TokenRequest::AuthorizationCode(code)) = request else {
        panic!("{request:?}");
    };
    assert_eq!(code.origin.as_deref(), Some("https://spa.contoso.test"));
}

#[tokio::test]
async fn the_grant_type_is_required_supported_and_allowed() {
    let missing = parse(WEB, &[("code", "c")]).await.unwrap_err();
    assert_eq!(missing.name, ErrorName::InvalidRequestFormat);
    assert_eq!(
        refused(parse(WEB, &[("grant_type", "password")]).await),
        ErrorName::UnsupportedGrantType
    );
    // The registered grant type this endpoint does not serve yet (JWT bearer), once the
    // app may use it; the device grant needs its device_code.
    let f = Fixture::new().await;
    let mut app = f.app(WEB).await;
    app.grant_types.insert(GrantType::JwtBearer);
    let bearer = params(&[("grant_type", GrantType::JwtBearer.as_str())]);
    assert_eq!(
        refused(TokenRequest::parse(&bearer, &app, None)),
        ErrorName::UnsupportedGrantType
    );
    app.grant_types.insert(GrantType::DeviceCode);
    let device = params(&[("grant_type", GrantType::DeviceCode.as_str())]);
    assert_refused(
        TokenRequest::parse(&device, &app, None),
        ErrorName::InvalidRequestFormat,
        "device_code",
    );
    // An app that may not use a grant: the single-page app has no client credentials,
    // and a public client never may (RFC 6749 §4.4).
    let mut spa = f.app(SPA).await;
    let cc = params(&[("grant_type", "client_credentials"), ("resource", API)]);
    assert_eq!(
        refused(TokenRequest::parse(&cc, &spa, None)),
        ErrorName::UnauthorizedGrantType
    );
    spa.grant_types.insert(GrantType::ClientCredentials);
    assert_eq!(
        refused(TokenRequest::parse(&cc, &spa, None)),
        ErrorName::UnauthorizedGrantType
    );
    assert_eq!(
        refused(TokenRequest::parse(&device, &f.app(WEB).await, None)),
        ErrorName::UnauthorizedGrantType
    );
}

#[tokio::test]
async fn each_grant_names_what_it_misses() {
    assert_refused(
        parse(WEB, &[("grant_type", "authorization_code")]).await,
        ErrorName::InvalidRequestFormat,
        "code",
    );
    assert_eq!(
        refused(parse(WEB, &[("grant_type", "refresh_token"), ("code", "c")]).await),
        ErrorName::RefreshTokenParameterMissing
    );
    let cc = |pairs: &[(&str, &str)]| {
        let mut all = vec![("grant_type", "client_credentials")];
        all.extend_from_slice(pairs);
        all.iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect::<Vec<_>>()
    };
    let run = |pairs: Vec<(String, String)>| async move {
        let borrowed: Vec<(&str, &str)> = pairs
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        parse(WEB, &borrowed).await.unwrap_err()
    };
    let none = run(cc(&[])).await;
    assert_eq!(none.name, ErrorName::InvalidRequestFormat);
    let not_default = run(cc(&[("scope", "read")])).await;
    assert_eq!(not_default.name, ErrorName::InvalidScope);
    assert!(not_default.message().contains(&format!("{API}/.default")));
    let two = run(cc(&[
        ("scope", &format!("{API}/.default")),
        ("resource", "api://other"),
    ]))
    .await;
    assert_eq!(two.name, ErrorName::InvalidRequestFormat);
}
