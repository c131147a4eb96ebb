//! Unit tests of the token engine: every grant and every rejection, against the
//! in-memory store, a fixed clock and a sequence of "random" bytes; no HTTP. The
//! fixture is one tenant with an API, a confidential web app, a public single-page app
//! and a user; each test builds its own.

mod authorization_code;
mod client_assertion;
mod client_auth;
mod client_credentials;
mod device_code;
mod refresh_token;
mod request;
mod token_exchange;

use super::context::{TokenContext, TokenServices};
use super::request::{CodeRequest, RefreshRequest, TokenRequest};
use super::{TokenResponse, exchange};
use crate::clock::{Clock, FixedClock};
use crate::crypto::MasterKey;
use crate::directory::model::{
    Api, ApiScope, App, ClientSecret, GrantType, Implicit, Permission, RedirectUris, User,
};
use crate::directory::names::Username;
use crate::directory::redirect::Platform;
use crate::errors::{CatalogError, ErrorName};
use crate::ids::ClientId;
use crate::ids::{ObjectId, TenantId, UserId};
use crate::keys::{KeyState, SigningAlg};
use crate::oauth::jose::Signer;
use crate::oauth::params::Params;
use crate::oauth::pkce::{Challenge, Method};
use crate::oauth::records::{AuthCode, RefreshToken};
use crate::rng::SequenceRng;
use crate::secret::Secret;
use crate::store::Store;
use crate::store::memory::MemoryStore;
use crate::store::object::{ObjectKind, StoredObject, Write, encode};
use crate::store::read;
use crate::tenant::{Tenant, TenantKind, TenantPolicy, TenantSlug};
use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Mutex};
use time::OffsetDateTime;
use time::macros::datetime;

pub const API: &str = "https://api.contoso.test";
pub const WEB: &str = "web-app";
pub const WEB_SECRET: &str = "web-app-secret-0123456789";
pub const WEB_CB: &str = "https://app.contoso.test/cb";
pub const SPA: &str = "spa-app";
pub const SPA_CB: &str = "https://spa.contoso.test/cb";
pub const SPA_ORIGIN: &str = "https://spa.contoso.test";
pub const ALICE: &str = "alice";
/// RFC 7636 Appendix B's verifier and its S256 challenge.
pub const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
pub const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
pub const ISSUER: &str = "https://id.contoso.test/contoso";

/// The server's caches, played by the store itself and fixed signers.
pub struct Services {
    store: Arc<MemoryStore>,
    /// The active key of each algorithm; `None`: the tenant has no active key (a
    /// misconfigured installation).
    pub signer: Mutex<Option<HashMap<SigningAlg, Arc<Signer>>>>,
    /// Every algorithm a signer was asked for, in order.
    pub algs_asked: Mutex<Vec<SigningAlg>>,
    /// The signers' public keys, which access tokens verify against.
    public_keys: Vec<serde_json::Value>,
    /// The fixture's clock (shared), for access tokens' expiry.
    clock: Arc<FixedClock>,
}

#[async_trait::async_trait]
impl TokenServices for Services {
    async fn app(
        &self,
        tenant: &Tenant,
        client_id: &ClientId,
    ) -> Result<Option<App>, CatalogError> {
        let found = read::get::<App>(
            self.store.as_ref(),
            tenant.id,
            ObjectKind::App,
            client_id.as_str(),
        );
        Ok(found.await?.map(|(_, app)| app))
    }

    async fn apis(&self, tenant_id: TenantId) -> Result<Arc<Vec<Api>>, CatalogError> {
        let objects = self.store.objects(tenant_id, ObjectKind::Api).await?;
        Ok(Arc::new(
            objects.iter().map(|o| o.decode::<Api>().unwrap()).collect(),
        ))
    }

    async fn signer(
        &self,
        _tenant_id: TenantId,
        alg: SigningAlg,
    ) -> Result<Arc<Signer>, CatalogError> {
        self.algs_asked.lock().unwrap().push(alg);
        let signers = self.signer.lock().unwrap();
        signers
            .as_ref()
            .and_then(|s| s.get(&alg).cloned())
            .ok_or_else(|| CatalogError::new(ErrorName::InternalError).internal("no active key"))
    }

    /// The server's check, played with the fixture's one key and the store's deny-list.
    async fn access_token(
        &self,
        tenant: &Tenant,
        token: &str,
    ) -> Result<serde_json::Map<String, serde_json::Value>, CatalogError> {
        let invalid = || CatalogError::new(ErrorName::InvalidBearerToken);
        let verified =
            crate::oauth::jose::verify(token, &self.public_keys).map_err(|_| invalid())?;
        if verified.header.get("typ") != Some(&"at+jwt".into()) {
            return Err(invalid());
        }
        let claims = verified.claims;
        let exp = claims.get("exp").and_then(|e| e.as_i64()).unwrap_or(0);
        let jti = claims.get("jti").and_then(|j| j.as_str()).unwrap_or("");
        let revoked = self
            .store
            .object(tenant.id, ObjectKind::RevokedAccessToken, jti)
            .await?
            .is_some();
        let now = self.clock.now().unix_timestamp();
        if claims["iss"] != ISSUER || exp <= now || revoked {
            return Err(invalid());
        }
        Ok(claims)
    }

    async fn pause(&self, _duration: std::time::Duration) {}
}

/// One active key of each algorithm, generated once per test run (an RSA key takes a
/// while); the fixture's tenant and master key are the same in every test.
fn fixture_keys(tenant_id: TenantId, master: &MasterKey) -> &'static [crate::keys::SigningKey] {
    static KEYS: std::sync::OnceLock<Vec<crate::keys::SigningKey>> = std::sync::OnceLock::new();
    KEYS.get_or_init(|| {
        SigningAlg::ALL
            .into_iter()
            .map(|alg| {
                let rng = SequenceRng::new(alg as u64);
                let now = datetime!(2026-11-26 0:00 UTC);
                crate::keys::generate(alg, KeyState::Active, tenant_id, master, &rng, now).unwrap()
            })
            .collect()
    })
}

pub struct Fixture {
    pub store: Arc<MemoryStore>,
    pub clock: Arc<FixedClock>,
    pub rng: SequenceRng,
    pub master: MasterKey,
    pub tenant: Tenant,
    pub services: Services,
    /// The user's object id (`sub`).
    pub alice_id: UserId,
}

fn web_app(master: &MasterKey) -> App {
    App {
        client_id: WEB.into(),
        name: "Web".into(),
        multi_tenant: false,
        personal_accounts: false,
        assignment_required: false,
        mfa_required: false,
        redirect_uris: RedirectUris {
            web: vec![WEB_CB.into()],
            ..Default::default()
        },
        post_logout_redirect_uris: vec![],
        backchannel_logout_uri: None,
        frontchannel_logout_uri: None,
        secrets: vec![ClientSecret {
            id: uuid::Uuid::from_u128(0x5ec),
            hash: master.secret_hash(&Secret::new(WEB_SECRET)),
            hint: "web".into(),
            expires_at: None,
            created_at: datetime!(2026-01-01 0:00 UTC),
        }],
        jwks: None,
        grant_types: [
            GrantType::AuthorizationCode,
            GrantType::RefreshToken,
            GrantType::ClientCredentials,
        ]
        .into(),
        implicit: Implicit::default(),
        permissions: vec![Permission {
            api: API.into(),
            scopes: vec!["read".into(), "write".into()],
            app_roles: vec!["Reader".into()],
        }],
        admin_consented: true,
        assigned_users: BTreeSet::new(),
        assigned_groups: Default::default(),
        allowed_platforms: Vec::new(),
        id_token_signed_response_alg: None,
        enabled: true,
        tokens_valid_from: None,
    }
}

fn spa_app() -> App {
    App {
        client_id: SPA.into(),
        name: "SPA".into(),
        redirect_uris: RedirectUris {
            spa: vec![SPA_CB.into()],
            ..Default::default()
        },
        secrets: vec![],
        grant_types: [GrantType::AuthorizationCode, GrantType::RefreshToken].into(),
        ..web_app(&MasterKey::from_bytes(&[0; 32]))
    }
}

impl Fixture {
    pub async fn new() -> Self {
        let store = Arc::new(MemoryStore::default());
        let clock = Arc::new(FixedClock::new(datetime!(2026-12-01 12:00 UTC)));
        let rng = SequenceRng::new(7);
        let master = MasterKey::from_bytes(&[9; 32]);
        let now = clock.now();
        let tenant = store
            .create_tenant(crate::tenant::NewTenant {
                id: TenantId::from_uuid(uuid::Uuid::from_u128(0x7e4a47)),
                slug: TenantSlug::parse("contoso").unwrap(),
                display_name: "Contoso".into(),
                kind: TenantKind::Work,
                policy: TenantPolicy::default(),
                created_at: now,
            })
            .await
            .unwrap();
        let keys = fixture_keys(tenant.id, &master);
        let api = Api {
            identifier: API.into(),
            name: "Contoso API".into(),
            scopes: ["read", "write"]
                .map(|name| ApiScope {
                    name: name.into(),
                    description: name.into(),
                    admin_consent_required: false,
                })
                .to_vec(),
            app_roles: vec!["Reader".into()],
            client_id: None,
            access_token_signing_alg: None,
        };
        let alice = User {
            username: Username::parse(ALICE).unwrap(),
            email: Some("alice@contoso.test".into()),
            name: Some("Alice".into()),
            enabled: true,
            password_hash: None,
            totp_secret_sealed: None,
            recovery_codes: Vec::new(),
            groups: BTreeSet::new(),
            app_roles: BTreeSet::new(),
            sessions_valid_from: None,
            password_change_required: false,
        };
        let alice_id = UserId::from_uuid(uuid::Uuid::from_u128(0xa11ce));
        let put = |id: u128, kind, key: &str, doc: String| {
            let id = ObjectId::from_uuid(uuid::Uuid::from_u128(id));
            Write::Put(StoredObject::new(id, tenant.id, kind, key, doc, now))
        };
        store
            .apply(vec![
                put(1, ObjectKind::Api, API, encode(&api)),
                put(2, ObjectKind::App, WEB, encode(&web_app(&master))),
                put(3, ObjectKind::App, SPA, encode(&spa_app())),
                put(
                    alice_id.as_uuid().as_u128(),
                    ObjectKind::User,
                    ALICE,
                    encode(&alice),
                ),
            ])
            .await
            .unwrap();
        let services = Services {
            store: store.clone(),
            signer: Mutex::new(Some(
                keys.iter()
                    .map(|k| {
                        (
                            k.alg,
                            Arc::new(Signer::open(k, tenant.id, &master).unwrap()),
                        )
                    })
                    .collect(),
            )),
            algs_asked: Mutex::new(Vec::new()),
            public_keys: keys.iter().map(|k| k.public_jwk.clone()).collect(),
            clock: clock.clone(),
        };
        Self {
            store,
            clock,
            rng,
            master,
            tenant,
            services,
            alice_id,
        }
    }

    pub fn ctx(&self) -> TokenContext<'_> {
        TokenContext {
            tenant: &self.tenant,
            issuer: ISSUER.into(),
            store: self.store.as_ref(),
            clock: self.clock.as_ref(),
            rng: &self.rng,
            master: &self.master,
            services: &self.services,
        }
    }

    pub async fn app(&self, client_id: &str) -> App {
        self.services
            .app(&self.tenant, &ClientId::new(client_id))
            .await
            .unwrap()
            .unwrap()
    }

    /// Rewrites a directory object of `kind` under `key` with `change` applied.
    pub async fn change<T>(&self, kind: ObjectKind, key: &str, change: impl FnOnce(&mut T))
    where
        T: serde::Serialize + serde::de::DeserializeOwned,
    {
        let (object, mut value) = read::get::<T>(self.store.as_ref(), self.tenant.id, kind, key)
            .await
            .unwrap()
            .unwrap();
        change(&mut value);
        let now = self.clock.now();
        self.store
            .apply(vec![Write::Put(object.with_doc(encode(&value), now))])
            .await
            .unwrap();
    }

    /// A code as the authorization endpoint issues it to `client_id` at `redirect_uri`
    /// for `scopes`, with the RFC 7636 challenge.
    pub fn code(&self, client_id: &str, redirect_uri: &str, scopes: &str) -> AuthCode {
        let now = self.clock.now();
        AuthCode {
            client_id: client_id.into(),
            redirect_uri: redirect_uri.into(),
            platform: if client_id == SPA {
                Platform::Spa
            } else {
                Platform::Web
            },
            challenge: Some(Challenge {
                value: CHALLENGE.into(),
                method: Method::S256,
            }),
            nonce: Some("n-0S6_WzA2Mj".into()),
            claims: Default::default(),
            scopes: scopes.split(' ').map(str::to_owned).collect(),
            audience: scopes.contains(API).then(|| API.to_owned()),
            user: ALICE.into(),
            user_id: self.alice_id,
            sid: "sid-1".into(),
            auth_time: now,
            amr: vec!["pwd".into()],
            issued_at: now,
            expires_at: now + time::Duration::seconds(60),
            redeemed: None,
        }
    }

    pub fn seal(&self, code: &AuthCode) -> String {
        code.seal(&self.master, &self.rng, self.tenant.id)
    }

    /// The request redeeming `code` as the web app would send it.
    pub fn redeem(&self, code: &str) -> CodeRequest {
        CodeRequest {
            code: Secret::new(code),
            redirect_uri: Some(WEB_CB.into()),
            code_verifier: Some(VERIFIER.into()),
            origin: None,
        }
    }

    /// Tokens of the code flow for the web app with `scopes`.
    pub async fn code_flow(&self, scopes: &str) -> TokenResponse {
        let code = self.seal(&self.code(WEB, WEB_CB, scopes));
        let request = TokenRequest::AuthorizationCode(self.redeem(&code));
        exchange(&self.ctx(), &self.app(WEB).await, &request)
            .await
            .unwrap()
    }

    /// A refresh token of the web app, for `openid offline_access` and the API's `read`.
    pub async fn refresh_token(&self) -> String {
        let scopes = format!("openid offline_access {API}/read");
        self.code_flow(&scopes).await.refresh_token.unwrap()
    }

    /// Uses `token` as `client_id`, asking for `scope`/`resource` when given.
    /// `token` of web-app rotated: the new refresh token.
    pub async fn rotated(&self, token: &str) -> String {
        let response = self.refresh(WEB, token, None, None).await.unwrap();
        response.refresh_token.unwrap()
    }

    pub async fn refresh(
        &self,
        client_id: &str,
        token: &str,
        scope: Option<&str>,
        resource: Option<&str>,
    ) -> Result<TokenResponse, CatalogError> {
        let request = TokenRequest::RefreshToken(RefreshRequest {
            refresh_token: Secret::new(token),
            scope: scope.map(str::to_owned),
            resource: resource.map(str::to_owned),
            // The single-page app calls from its own origin, as a browser would.
            origin: (client_id == SPA).then(|| SPA_ORIGIN.to_owned()),
        });
        exchange(&self.ctx(), &self.app(client_id).await, &request).await
    }

    /// The refusal of `token` used as-is by `client_id` (it must be refused).
    pub async fn refresh_refused(&self, client_id: &str, token: &str) -> ErrorName {
        refused(self.refresh(client_id, token, None, None).await)
    }

    /// The stored record of the refresh token `value`.
    pub async fn stored_refresh(&self, value: &str) -> RefreshToken {
        let (id, _) = RefreshToken::open(&self.master, self.tenant.id, value).unwrap();
        read::get::<RefreshToken>(
            self.store.as_ref(),
            self.tenant.id,
            ObjectKind::RefreshToken,
            &RefreshToken::id_key(id),
        )
        .await
        .unwrap()
        .unwrap()
        .1
    }

    /// Deletes the user alice; returns her document, to make someone else of it.
    pub async fn delete_alice(&self) -> User {
        let (object, user) =
            read::get::<User>(self.store.as_ref(), self.tenant.id, ObjectKind::User, ALICE)
                .await
                .unwrap()
                .unwrap();
        let delete = Write::Delete {
            tenant_id: self.tenant.id,
            kind: ObjectKind::User,
            id: object.id,
        };
        self.store.apply(vec![delete]).await.unwrap();
        user
    }

    /// Stores `user` as a new user under alice's name: another person, another id.
    pub async fn another_alice(&self, user: &User) {
        let someone_else = StoredObject::new(
            ObjectId::from_uuid(uuid::Uuid::from_u128(0xb0b)),
            self.tenant.id,
            ObjectKind::User,
            ALICE,
            encode(user),
            self.now(),
        );
        self.store
            .apply(vec![Write::Put(someone_else)])
            .await
            .unwrap();
    }

    pub fn later(&self, seconds: i64) {
        self.clock.advance(time::Duration::seconds(seconds));
    }

    pub fn now(&self) -> OffsetDateTime {
        self.clock.now()
    }
}

/// The claims of a JWT, unverified (the tests check what was issued, not JOSE).
pub fn claims(jwt: &str) -> serde_json::Value {
    serde_json::Value::Object(crate::oauth::jose::unverified_claims(jwt).unwrap())
}

/// Asserts that `outcome` was refused with `name`, its message containing `words`.
pub fn assert_refused<T: std::fmt::Debug>(
    outcome: Result<T, CatalogError>,
    name: ErrorName,
    words: &str,
) {
    let e = outcome.unwrap_err();
    assert_eq!(e.name, name);
    assert!(e.message().contains(words), "{}", e.message());
}

/// The catalogue entry of an outcome, for comparing refusals.
pub fn refused<T: std::fmt::Debug>(outcome: Result<T, CatalogError>) -> ErrorName {
    outcome.unwrap_err().name
}

/// Form parameters from pairs.
pub fn params(pairs: &[(&str, &str)]) -> Params {
    Params::parse(serde_urlencoded::to_string(pairs).unwrap().as_bytes()).unwrap()
}
