//! `ClientAuthentication`: one method per request, then the app's credentials.

use super::*;
use crate::oauth::token::ClientAuthentication;
use base64::Engine;

fn basic(id: &str, secret: &str) -> Vec<u8> {
    let encoded = base64::engine::general_purpose::STANDARD.encode(format!("{id}:{secret}"));
    format!("Basic {encoded}").into_bytes()
}

#[test]
fn the_method_comes_from_the_header_or_the_form() {
    let form = params(&[("client_id", WEB), ("client_secret", "s")]);
    assert_eq!(
        ClientAuthentication::parse(None, &form).unwrap(),
        ClientAuthentication::SecretPost {
            client_id: WEB.into(),
            secret: Secret::new("s"),
        }
    );
    let header = basic("web%2Dapp", "s%3Ax");
    assert_eq!(
        ClientAuthentication::parse(Some(&header), &params(&[])).unwrap(),
        ClientAuthentication::SecretBasic {
            client_id: WEB.into(),
            secret: Secret::new("s:x"),
        }
    );
    assert_eq!(
        ClientAuthentication::parse(None, &params(&[("client_id", SPA)])).unwrap(),
        ClientAuthentication::None {
            client_id: SPA.into()
        }
    );
}

#[test]
fn more_than_one_method_or_a_malformed_one_is_refused() {
    let header = basic(WEB, "s");
    let cases: Vec<(Option<&[u8]>, Params)> = vec![
        (Some(&header), params(&[("client_secret", "s")])),
        (Some(&header), params(&[("client_id", SPA)])),
        (Some(b"Bearer x"), params(&[])),
        (Some(b"Basic"), params(&[])),
        (Some(b"Basic !!!"), params(&[])),
        (Some(b"Basic \xff"), params(&[])),
        (Some(b"Basic bm9jb2xvbg=="), params(&[])),
        (None, params(&[])),
    ];
    for (header, form) in cases {
        let e = ClientAuthentication::parse(header, &form).unwrap_err();
        assert_eq!(
            e.name,
            ErrorName::InvalidRequestFormat,
            "{header:?} {form:?}"
        );
    }
}

async fn authenticate(f: &Fixture, method: ClientAuthentication) -> Result<App, CatalogError> {
    method.authenticate(&f.ctx()).await
}

#[tokio::test]
async fn confidential_apps_prove_a_live_secret_and_public_ones_send_none() {
    let f = Fixture::new().await;
    let post = |id: &str, secret: &str| ClientAuthentication::SecretPost {
        client_id: id.into(),
        secret: Secret::new(secret),
    };
    let none = |id: &str| ClientAuthentication::None {
        client_id: id.into(),
    };
    assert_eq!(
        authenticate(&f, post(WEB, WEB_SECRET))
            .await
            .unwrap()
            .client_id,
        WEB
    );
    assert_eq!(authenticate(&f, none(SPA)).await.unwrap().client_id, SPA);
    assert_eq!(
        refused(authenticate(&f, none("nobody")).await),
        ErrorName::ClientNotFound
    );
    assert_eq!(
        refused(authenticate(&f, none(WEB)).await),
        ErrorName::MissingClientCredentials
    );
    assert_eq!(
        refused(authenticate(&f, post(WEB, "wrong")).await),
        ErrorName::InvalidClientSecret
    );
    assert_eq!(
        refused(authenticate(&f, post(SPA, "anything")).await),
        ErrorName::PublicClientCredentialsNotAllowed
    );
    // The secret ends: it still matches, and says it expired.
    let end = f.now() + time::Duration::seconds(10);
    f.change::<App>(ObjectKind::App, WEB, |app| {
        app.secrets[0].expires_at = Some(end)
    })
    .await;
    assert_eq!(
        authenticate(&f, post(WEB, WEB_SECRET))
            .await
            .unwrap()
            .client_id,
        WEB
    );
    f.later(10);
    assert_eq!(
        refused(authenticate(&f, post(WEB, WEB_SECRET)).await),
        ErrorName::ClientSecretExpired
    );
}
