//! `private_key_jwt`: assertions signed in the test by keys of every accepted algorithm,
//! and each reason to refuse one told apart.

use super::*;
use crate::keys::{SigningKey, seal_context};
use crate::oauth::token::ClientAuthentication;
use crate::oauth::token::client_assertion::JWT_BEARER;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};

const CERT_APP: &str = "cert-app";
const TOKEN_ENDPOINT: &str = "https://id.contoso.test/contoso/oauth2/token";

/// A key pair of the test's client, and how it signs.
struct ClientKey {
    key: SigningKey,
    /// PS256 signs with the RSA key by RSASSA-PSS instead of PKCS #1 v1.5.
    pss: bool,
}

impl ClientKey {
    fn new(f: &Fixture, alg: SigningAlg, pss: bool) -> Self {
        let key = crate::keys::generate(
            alg,
            KeyState::Active,
            f.tenant.id,
            &f.master,
            &f.rng,
            f.now(),
        )
        .unwrap();
        Self { key, pss }
    }

    fn alg(&self) -> &'static str {
        if self.pss {
            "PS256"
        } else {
            self.key.alg.as_str()
        }
    }

    /// The public JWK as the app registers it: no `alg` (RFC 7517 §4.4 makes it
    /// optional), so the key's type decides which algorithms fit.
    fn public(&self) -> Value {
        let mut jwk = self.key.public_jwk.clone();
        jwk.as_object_mut().unwrap().remove("alg");
        jwk
    }

    fn sign(&self, f: &Fixture, header: Value, claims: &Value) -> String {
        if !self.pss {
            let signer = Signer::open(&self.key, f.tenant.id, &f.master).unwrap();
            let jwt = signer.sign("JWT", claims).unwrap();
            // The signer writes its own header; a test that changes it re-signs below.
            if header == json!({}) {
                return jwt;
            }
        }
        let mut h = json!({ "alg": self.alg(), "kid": self.key.kid, "typ": "JWT" });
        for (k, v) in header.as_object().unwrap() {
            if v.is_null() {
                h.as_object_mut().unwrap().remove(k);
            } else {
                h[k] = v.clone();
            }
        }
        let input = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(h.to_string()),
            URL_SAFE_NO_PAD.encode(claims.to_string())
        );
        let pkcs8 = f
            .master
            .open(
                &self.key.private_sealed,
                &seal_context(f.tenant.id, &self.key.kid),
            )
            .unwrap();
        let rng = aws_lc_rs::rand::SystemRandom::new();
        use aws_lc_rs::signature;
        let sig: Vec<u8> = match self.key.alg {
            SigningAlg::RS256 => {
                let pair = signature::RsaKeyPair::from_pkcs8(&pkcs8).unwrap();
                let mut buf = vec![0; pair.public_modulus_len()];
                let padding: &'static dyn signature::RsaEncoding = if self.pss {
                    &signature::RSA_PSS_SHA256
                } else {
                    &signature::RSA_PKCS1_SHA256
                };
                pair.sign(padding, &rng, input.as_bytes(), &mut buf)
                    .unwrap();
                buf
            }
            SigningAlg::ES256 => signature::EcdsaKeyPair::from_pkcs8(
                &signature::ECDSA_P256_SHA256_FIXED_SIGNING,
                &pkcs8,
            )
            .unwrap()
            .sign(&rng, input.as_bytes())
            .unwrap()
            .as_ref()
            .to_vec(),
            SigningAlg::EdDSA => {
                let pair = signature::Ed25519KeyPair::from_pkcs8(&pkcs8).unwrap();
                pair.sign(input.as_bytes()).as_ref().to_vec()
            }
        };
        format!("{input}.{}", URL_SAFE_NO_PAD.encode(sig))
    }
}

/// The fixture with a confidential app whose only credentials are `keys`.
async fn with_cert_app(f: &Fixture, keys: &[&ClientKey]) {
    let mut app = f.app(WEB).await;
    app.client_id = CERT_APP.into();
    app.secrets = vec![];
    app.jwks = Some(json!({ "keys": keys.iter().map(|k| k.public()).collect::<Vec<_>>() }));
    let now = f.now();
    f.store
        .apply(vec![Write::Put(StoredObject::new(
            ObjectId::from_uuid(uuid::Uuid::from_u128(0xce47)),
            f.tenant.id,
            ObjectKind::App,
            CERT_APP,
            encode(&app),
            now,
        ))])
        .await
        .unwrap();
}

/// Claims of a good assertion, made now, with a fresh `jti`.
fn good_claims(f: &Fixture, jti: &str) -> Value {
    let now = f.now().unix_timestamp();
    json!({
        "iss": CERT_APP, "sub": CERT_APP, "aud": TOKEN_ENDPOINT,
        "iat": now, "nbf": now, "exp": now + 300, "jti": jti,
    })
}

/// Authenticates with `assertion`, naming the app by `client_id` (so a wrong `iss`
/// is the assertion's fault, not a choice of another app).
async fn authenticate(f: &Fixture, assertion: &str) -> Result<App, CatalogError> {
    let form = params(&[
        ("client_id", CERT_APP),
        ("client_assertion_type", JWT_BEARER),
        ("client_assertion", assertion),
    ]);
    ClientAuthentication::parse(None, &form)?
        .authenticate(&f.ctx())
        .await
}

#[tokio::test]
async fn every_accepted_algorithm_authenticates_and_each_jti_works_once() {
    let f = Fixture::new().await;
    let keys = [
        ClientKey::new(&f, SigningAlg::RS256, false),
        ClientKey::new(&f, SigningAlg::RS256, true),
        ClientKey::new(&f, SigningAlg::ES256, false),
        ClientKey::new(&f, SigningAlg::EdDSA, false),
    ];
    with_cert_app(&f, &keys.iter().collect::<Vec<_>>()).await;
    for (i, key) in keys.iter().enumerate() {
        let jwt = key.sign(&f, json!({}), &good_claims(&f, &format!("jti-{i}")));
        let app = authenticate(&f, &jwt).await.unwrap_or_else(|e| {
            panic!("{}: {}", key.alg(), e.message());
        });
        assert_eq!(app.client_id, CERT_APP);
        // The same assertion again is a replay, even a moment later.
        f.later(1);
        assert_refused(
            authenticate(&f, &jwt).await,
            ErrorName::ClientAssertionReplayed,
            &format!("jti-{i}"),
        );
    }
    // The issuer is an audience too, and so is an array holding either.
    let key = &keys[3];
    for (n, aud) in [
        json!(ISSUER),
        json!(["https://elsewhere.test", TOKEN_ENDPOINT]),
    ]
    .into_iter()
    .enumerate()
    {
        let mut claims = good_claims(&f, &format!("aud-{n}"));
        claims["aud"] = aud;
        authenticate(&f, &key.sign(&f, json!({}), &claims))
            .await
            .unwrap();
    }
}

#[tokio::test]
async fn each_reason_to_refuse_an_assertion_has_its_own_entry() {
    let f = Fixture::new().await;
    let rsa = ClientKey::new(&f, SigningAlg::RS256, false);
    let ed = ClientKey::new(&f, SigningAlg::EdDSA, false);
    let stranger = ClientKey::new(&f, SigningAlg::EdDSA, false);
    with_cert_app(&f, &[&rsa, &ed]).await;
    let now = f.now().unix_timestamp();
    let with = |change: &dyn Fn(&mut Value)| {
        let mut c = good_claims(&f, "j");
        change(&mut c);
        c
    };
    use ErrorName::*;
    let cases: Vec<(&str, String, ErrorName, &str)> = vec![
        ("not a JWT", "abc".into(), ClientAssertionMalformed, "three"),
        (
            "alg none",
            ed.sign(&f, json!({ "alg": "none" }), &good_claims(&f, "j")),
            ClientAssertionMalformed,
            "'none'",
        ),
        (
            "an HMAC",
            ed.sign(&f, json!({ "alg": "HS256" }), &good_claims(&f, "j")),
            ClientAssertionMalformed,
            "HS256",
        ),
        (
            "no kid",
            ed.sign(&f, json!({ "kid": null }), &good_claims(&f, "j")),
            ClientAssertionKeyNotFound,
            "(none)",
        ),
        (
            "a key not registered",
            stranger.sign(&f, json!({}), &good_claims(&f, "j")),
            ClientAssertionKeyNotFound,
            &stranger.key.kid,
        ),
        (
            "the RSA key's kid with EdDSA",
            ed.sign(&f, json!({ "kid": rsa.key.kid }), &good_claims(&f, "j")),
            ClientAssertionSignatureInvalid,
            &rsa.key.kid,
        ),
        (
            "altered claims",
            {
                let jwt = ed.sign(&f, json!({}), &good_claims(&f, "j"));
                let mut parts: Vec<String> = jwt.split('.').map(str::to_owned).collect();
                parts[1] = URL_SAFE_NO_PAD.encode(with(&|c| c["jti"] = "k".into()).to_string());
                parts.join(".")
            },
            ClientAssertionSignatureInvalid,
            &ed.key.kid,
        ),
        (
            "another client's iss",
            ed.sign(&f, json!({}), &with(&|c| c["iss"] = WEB.into())),
            ClientAssertionIssuerMismatch,
            CERT_APP,
        ),
        (
            "sub not the client",
            ed.sign(&f, json!({}), &with(&|c| c["sub"] = "someone".into())),
            ClientAssertionIssuerMismatch,
            CERT_APP,
        ),
        (
            "no sub",
            ed.sign(
                &f,
                json!({}),
                &with(&|c| {
                    c.as_object_mut().unwrap().remove("sub");
                }),
            ),
            ClientAssertionMalformed,
            "sub",
        ),
        (
            "the authorize endpoint as aud",
            ed.sign(
                &f,
                json!({}),
                &with(&|c| c["aud"] = format!("{ISSUER}/oauth2/authorize").into()),
            ),
            ClientAssertionAudienceInvalid,
            "oauth2/authorize",
        ),
        (
            "the issuer with a trailing slash",
            ed.sign(
                &f,
                json!({}),
                &with(&|c| c["aud"] = format!("{ISSUER}/").into()),
            ),
            ClientAssertionAudienceInvalid,
            TOKEN_ENDPOINT,
        ),
        (
            "no exp",
            ed.sign(
                &f,
                json!({}),
                &with(&|c| {
                    c.as_object_mut().unwrap().remove("exp");
                }),
            ),
            ClientAssertionMalformed,
            "exp",
        ),
        (
            "exp as text",
            ed.sign(&f, json!({}), &with(&|c| c["exp"] = "soon".into())),
            ClientAssertionMalformed,
            "exp",
        ),
        (
            "expired beyond the leeway",
            ed.sign(&f, json!({}), &with(&|c| c["exp"] = (now - 61).into())),
            ClientAssertionExpired,
            "2026-12-01",
        ),
        (
            "nbf in the future",
            ed.sign(&f, json!({}), &with(&|c| c["nbf"] = (now + 120).into())),
            ClientAssertionNotYetValid,
            "2026-12-01",
        ),
        (
            "iat in the future",
            ed.sign(&f, json!({}), &with(&|c| c["iat"] = (now + 120).into())),
            ClientAssertionNotYetValid,
            "2026-12-01",
        ),
        (
            "valid for an hour",
            ed.sign(&f, json!({}), &with(&|c| c["exp"] = (now + 3600).into())),
            ClientAssertionLifetimeTooLong,
            "3600",
        ),
        (
            "exp at the largest integer JSON allows here",
            ed.sign(&f, json!({}), &with(&|c| c["exp"] = i64::MAX.into())),
            ClientAssertionLifetimeTooLong,
            "600",
        ),
        (
            "exp in milliseconds",
            ed.sign(&f, json!({}), &with(&|c| c["exp"] = (now * 1000).into())),
            ClientAssertionLifetimeTooLong,
            "600",
        ),
        (
            "no jti",
            ed.sign(
                &f,
                json!({}),
                &with(&|c| {
                    c.as_object_mut().unwrap().remove("jti");
                }),
            ),
            ClientAssertionMalformed,
            "jti",
        ),
    ];
    for (what, jwt, name, words) in cases {
        let e = authenticate(&f, &jwt).await.unwrap_err();
        assert_eq!(e.name, name, "{what}: {}", e.message());
        assert!(e.message().contains(words), "{what}: {}", e.message());
    }
    // Within the leeway, an assertion just past its exp and one from a clock 50 s ahead
    // still pass; nothing above spent a jti.
    let lenient = ed.sign(
        &f,
        json!({}),
        &with(&|c| {
            c["exp"] = (now - 30).into();
            c["iat"] = (now + 50).into();
        }),
    );
    authenticate(&f, &lenient).await.unwrap();
}

#[tokio::test]
async fn the_assertion_is_one_method_among_the_others_and_only_for_confidential_apps() {
    let f = Fixture::new().await;
    let ed = ClientKey::new(&f, SigningAlg::EdDSA, false);
    with_cert_app(&f, &[&ed]).await;
    let jwt = ed.sign(&f, json!({}), &good_claims(&f, "j"));

    // The type must be RFC 7523's.
    for kind in [
        "",
        "urn:ietf:params:oauth:client-assertion-type:saml2-bearer",
    ] {
        let form = params(&[("client_assertion_type", kind), ("client_assertion", &jwt)]);
        let e = ClientAuthentication::parse(None, &form).unwrap_err();
        assert_eq!(e.name, ErrorName::ClientAssertionTypeUnsupported);
    }
    let form = params(&[("client_assertion_type", JWT_BEARER)]);
    let e = ClientAuthentication::parse(None, &form).unwrap_err();
    assert_eq!(e.name, ErrorName::ClientAssertionMalformed);

    // With a secret too: two methods.
    let form = params(&[
        ("client_assertion_type", JWT_BEARER),
        ("client_assertion", &jwt),
        ("client_secret", "s"),
    ]);
    let e = ClientAuthentication::parse(None, &form).unwrap_err();
    assert_eq!(e.name, ErrorName::InvalidRequestFormat);

    // Without client_id, the assertion's iss names the app.
    let form = params(&[
        ("client_assertion_type", JWT_BEARER),
        ("client_assertion", &jwt),
    ]);
    let method = ClientAuthentication::parse(None, &form).unwrap();
    assert_eq!(method.client_id(), &ClientId::new(CERT_APP));
    method.authenticate(&f.ctx()).await.unwrap();

    // A public app must not send one; an app with secrets only has no key for it.
    for (client, name) in [
        (SPA, ErrorName::PublicClientCredentialsNotAllowed),
        (WEB, ErrorName::ClientAssertionKeyNotFound),
    ] {
        let mut claims = good_claims(&f, "k");
        claims["iss"] = client.into();
        claims["sub"] = client.into();
        let form = params(&[
            ("client_assertion_type", JWT_BEARER),
            ("client_assertion", &ed.sign(&f, json!({}), &claims)),
        ]);
        let e = ClientAuthentication::parse(None, &form)
            .unwrap()
            .authenticate(&f.ctx())
            .await
            .unwrap_err();
        assert_eq!(e.name, name, "{client}");
    }

    // The app with keys only cannot use a secret.
    let form = params(&[("client_id", CERT_APP), ("client_secret", WEB_SECRET)]);
    let e = ClientAuthentication::parse(None, &form)
        .unwrap()
        .authenticate(&f.ctx())
        .await
        .unwrap_err();
    assert_eq!(e.name, ErrorName::InvalidClientSecret);
}
