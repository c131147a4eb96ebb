//! The authorization request (RFC 6749 §4.1.1, OIDC Core §3.1.2.1) checked in the order
//! RFC 6749 §4.1.2.1 demands: until the client and its redirect URI are verified, an
//! error is shown on a page and never sent to the redirect URI (an open redirector
//! otherwise). [`VerifiedRedirect`] can only be built by [`check_redirect_uri`], so a
//! redirected error cannot happen before that check.

use super::params::Params;
use super::pkce::Challenge;
use super::scope::{self, ResolvedScopes};
use crate::directory::model::{Api, App};
use crate::directory::redirect::Platform;
use crate::errors::render::ResponseMode;
use crate::errors::{CatalogError, ErrorName};
use crate::ids::ClientId;
use crate::tenant::TenantPolicy;

/// A redirect URI registered for the client: errors may now go to it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedRedirect {
    pub uri: String,
    pub platform: Platform,
    pub mode: ResponseMode,
    pub state: Option<String>,
}

/// `prompt` (OIDC Core §3.1.2.1).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Prompt {
    pub none: bool,
    pub login: bool,
    pub consent: bool,
    pub select_account: bool,
}

/// `response_type` (RFC 6749 §3.1.1, OAuth 2.0 Multiple Response Type Encoding
/// Practices §3): which of a code, an ID token and an access token the authorization
/// endpoint returns; space-separated, in any order, each once.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ResponseType {
    pub code: bool,
    pub id_token: bool,
    pub token: bool,
}

impl ResponseType {
    pub fn parse(value: &str) -> Option<Self> {
        let mut rt = Self::default();
        for part in value.split(' ').filter(|s| !s.is_empty()) {
            let seen = match part {
                "code" => &mut rt.code,
                "id_token" => &mut rt.id_token,
                "token" => &mut rt.token,
                _ => return None,
            };
            if std::mem::replace(seen, true) {
                return None;
            }
        }
        (rt != Self::default()).then_some(rt)
    }

    /// Whether tokens come back through the browser: the fragment is then the default
    /// response mode and the query is refused (Multiple Response Types §5).
    pub fn front_channel(self) -> bool {
        self.id_token || self.token
    }
}

/// The response types Tessera serves, for error messages and discovery.
pub const RESPONSE_TYPES: [&str; 7] = [
    "code",
    "id_token",
    "id_token token",
    "code id_token",
    "code token",
    "code id_token token",
    "token",
];

/// A fully checked authorization request.
#[derive(Debug, Clone)]
pub struct AuthorizeRequest {
    pub client_id: ClientId,
    pub response_type: ResponseType,
    pub redirect: VerifiedRedirect,
    pub scopes: ResolvedScopes,
    pub challenge: Option<Challenge>,
    pub nonce: Option<String>,
    /// `claims` (OIDC Core §5.5): the claims Tessera has that were asked for by name.
    pub claims: super::claims::RequestedClaims,
    pub prompt: Prompt,
    pub login_hint: Option<String>,
    /// Unverified: the server checks it against the tenant's keys (`id_token_hint`).
    pub id_token_hint: Option<String>,
    pub max_age: Option<u64>,
}

/// Where an error goes (boxed: it travels through every `?` of the flow).
#[derive(Debug, Clone)]
pub enum AuthorizeError {
    /// Before the redirect URI is trusted: an error page.
    Page(Box<CatalogError>),
    /// After: to the client, in its response mode, with `state` and `iss`.
    Redirect(Box<(VerifiedRedirect, CatalogError)>),
}

impl AuthorizeError {
    pub fn page(err: CatalogError) -> Self {
        Self::Page(Box::new(err))
    }

    pub fn redirect(redirect: &VerifiedRedirect, err: CatalogError) -> Self {
        Self::Redirect(Box::new((redirect.clone(), err)))
    }
}

/// Step 0: a request of a protocol Tessera does not serve, which some clients send to
/// an authorization endpoint: WS-Federation (`wa=wsignin1.0`, `wtrealm`) or SAML 2.0
/// (`SAMLRequest`, HTTP-Redirect and HTTP-POST bindings). Said plainly, rather than
/// as a missing `client_id`.
pub fn check_protocol(params: &Params) -> Result<(), CatalogError> {
    let protocol = if params.get("wa").is_some() || params.get("wtrealm").is_some() {
        "WS-Federation"
    } else if params.get("SAMLRequest").is_some() {
        "SAML 2.0"
    } else {
        return Ok(());
    };
    Err(CatalogError::new(ErrorName::ProtocolNotSupported).with("protocol", protocol))
}

/// Step 1: the `client_id`, before the app is looked up.
pub fn check_client_id(params: &Params) -> Result<&str, CatalogError> {
    params.require("client_id")
}

/// Step 2: `redirect_uri` must equal one the app registered, character for character
/// (RFC 9700 §4.1.3, RFC 6749 §3.1.2.3); the one tolerance is the port of a native
/// app's loopback IP literal (RFC 8252 §7.3), compared as strings too. No URL parser
/// decides equality: parsers normalise differently, and a URI that one rewrites to the
/// registered one is how open redirectors are made. OIDC Core §3.1.2.1 makes the
/// parameter required.
pub fn check_redirect_uri(params: &Params, app: &App) -> Result<VerifiedRedirect, CatalogError> {
    let sent = params.require("redirect_uri")?;
    let mismatch = || {
        CatalogError::new(ErrorName::RedirectUriMismatch)
            .with("redirect_uri", sent.chars().take(300).collect::<String>())
            .with("client_id", app.client_id.clone())
    };
    let platform = [Platform::Web, Platform::Spa, Platform::Native]
        .into_iter()
        .find(|p| {
            app.redirect_uris.of(*p).iter().any(|registered| {
                registered == sent
                    || (*p == Platform::Native && same_loopback_ignoring_port(registered, sent))
            })
        })
        .ok_or_else(mismatch)?;
    let mut redirect = VerifiedRedirect {
        uri: sent.to_owned(),
        platform,
        mode: ResponseMode::Query,
        state: params.get("state").map(str::to_owned),
    };
    // The response mode decides how even the errors below reach the client. Tokens in
    // the response make the fragment the default (Multiple Response Types §5).
    let front_channel = ResponseType::parse(params.get("response_type").unwrap_or_default())
        .is_some_and(ResponseType::front_channel);
    redirect.mode = match params.get("response_mode") {
        None if front_channel => ResponseMode::Fragment,
        None | Some("query") => ResponseMode::Query,
        Some("form_post") => ResponseMode::FormPost,
        Some("fragment") => ResponseMode::Fragment,
        Some(_) => ResponseMode::Query,
    };
    Ok(redirect)
}

fn same_loopback_ignoring_port(registered: &str, sent: &str) -> bool {
    match (loopback_parts(registered), loopback_parts(sent)) {
        (Some(r), Some(s)) => r == s,
        _ => false,
    }
}

/// A loopback IP literal URI (RFC 8252 §7.3: `127.0.0.1` or `[::1]`, not `localhost`,
/// §8.3) without its port: the scheme and host, and everything after the port, exactly
/// as written. `None` for anything else, or a port that is not 1 to 5 digits below
/// 65536.
fn loopback_parts(uri: &str) -> Option<(&str, &str)> {
    ["http://127.0.0.1", "http://[::1]"]
        .into_iter()
        .find_map(|host| {
            let after = uri.strip_prefix(host)?;
            let rest = match after.strip_prefix(':') {
                Some(port) => {
                    let digits = port.bytes().take_while(u8::is_ascii_digit).count();
                    port.get(..digits)?.parse::<u16>().ok()?;
                    &port[digits..]
                }
                None => after,
            };
            // What follows the authority: a path, a query, or nothing.
            (rest.is_empty() || rest.starts_with('/') || rest.starts_with('?'))
                .then_some((host, rest))
        })
}

/// Steps 3 onwards, each an error redirected to the verified URI.
pub fn check_request(
    params: &Params,
    app: &App,
    apis: &[Api],
    policy: &TenantPolicy,
    redirect: VerifiedRedirect,
) -> Result<AuthorizeRequest, AuthorizeError> {
    let fail = |e: CatalogError| AuthorizeError::redirect(&redirect, e);
    let response_type = check_response_type(params, app).map_err(fail)?;
    check_response_mode(params, response_type).map_err(fail)?;
    let scopes =
        scope::resolve(params.get("scope").unwrap_or_default(), app, apis).map_err(fail)?;
    if !scopes.contains(scope::OPENID) && scopes.scopes.is_empty() {
        return Err(fail(
            CatalogError::new(ErrorName::InvalidRequestFormat)
                .with("detail", "the parameter scope is missing"),
        ));
    }
    let invalid = |detail: &str| {
        fail(CatalogError::new(ErrorName::InvalidRequestFormat).with("detail", detail.to_owned()))
    };
    // OIDC Core §3.2.2.1 and §3.3.2.11: an ID token from the authorization endpoint
    // needs openid, and a nonce to bind it to the app's session against replay.
    if response_type.id_token && !scopes.contains(scope::OPENID) {
        return Err(invalid("response_type id_token needs the scope openid"));
    }
    if response_type.id_token && params.get("nonce").is_none() {
        return Err(invalid(
            "nonce is required when the authorization endpoint returns an ID token (OpenID Connect Core 3.2.2.1)",
        ));
    }
    let challenge = if response_type.code {
        check_pkce(params, app, policy).map_err(fail)?
    } else if params.get("code_challenge").is_some() {
        return Err(fail(CatalogError::new(ErrorName::PkceNotExpected).with(
            "reason",
            "a code_challenge was sent with a response type that issues no code",
        )));
    } else {
        None
    };
    let claims = match params.get("claims") {
        Some(value) => super::claims::RequestedClaims::parse(value).map_err(fail)?,
        None => Default::default(),
    };
    let prompt = check_prompt(params).map_err(fail)?;
    let max_age = match params.get("max_age") {
        None => None,
        Some(v) => Some(v.parse::<u64>().map_err(|_| {
            fail(
                CatalogError::new(ErrorName::InvalidRequestFormat)
                    .with("detail", "max_age must be a number of seconds"),
            )
        })?),
    };
    Ok(AuthorizeRequest {
        client_id: app.client_id.clone(),
        response_type,
        redirect,
        scopes,
        challenge,
        nonce: params.get("nonce").map(str::to_owned),
        claims,
        prompt,
        login_hint: params.get("login_hint").map(str::to_owned),
        id_token_hint: params.get("id_token_hint").map(str::to_owned),
        max_age,
    })
}

/// The response modes: `query` (codes only), `fragment`, `form_post`.
fn check_response_mode(params: &Params, response_type: ResponseType) -> Result<(), CatalogError> {
    let refused = |value: &str, supported: &str| {
        Err(CatalogError::new(ErrorName::UnsupportedResponseMode)
            .with("value", value.chars().take(64).collect::<String>())
            .with("supported", supported.to_owned()))
    };
    match params.get("response_mode") {
        // Multiple Response Types §5: tokens must not travel in a query, which servers
        // and proxies log and browsers send on in Referer.
        Some("query") if response_type.front_channel() => refused("query", "fragment, form_post"),
        None | Some("query" | "fragment" | "form_post") => Ok(()),
        Some(other) => refused(other, "query, fragment, form_post"),
    }
}

/// A response type Tessera serves; one that returns an ID token or an access token from
/// the authorization endpoint only for an app that enabled it
/// (ImplicitIdTokenNotEnabled / ImplicitAccessTokenNotEnabled), as Entra ID does: RFC
/// 9700 §2.1.2 advises against them, so they are off by default.
fn check_response_type(params: &Params, app: &App) -> Result<ResponseType, CatalogError> {
    let value = params.require("response_type")?;
    let rt = ResponseType::parse(value).ok_or_else(|| {
        CatalogError::new(ErrorName::UnsupportedResponseType)
            .with("value", value.chars().take(64).collect::<String>())
            .with("supported", RESPONSE_TYPES.join(", "))
    })?;
    let with = |name| {
        CatalogError::new(name)
            .with("response_type", value.to_owned())
            .with("client_id", app.client_id.clone())
    };
    if rt.id_token && !app.implicit.id_token {
        return Err(with(ErrorName::ImplicitIdTokenNotEnabled));
    }
    if rt.token && !app.implicit.access_token {
        return Err(with(ErrorName::ImplicitAccessTokenNotEnabled));
    }
    Ok(rt)
}

/// RFC 7636 and RFC 9700 §2.1.1: public clients must use PKCE; confidential ones may.
fn check_pkce(
    params: &Params,
    app: &App,
    policy: &TenantPolicy,
) -> Result<Option<Challenge>, CatalogError> {
    match params.get("code_challenge") {
        Some(value) => Challenge::parse(
            value,
            params.get("code_challenge_method"),
            policy.pkce_plain_allowed,
        )
        .map(Some),
        None if params.get("code_challenge_method").is_some() => {
            Err(CatalogError::new(ErrorName::InvalidRequestFormat).with(
                "detail",
                "code_challenge_method was sent without code_challenge",
            ))
        }
        None if !app.is_confidential() => {
            Err(CatalogError::new(ErrorName::PkceRequired).with("client_id", app.client_id.clone()))
        }
        None => Ok(None),
    }
}

fn check_prompt(params: &Params) -> Result<Prompt, CatalogError> {
    let mut prompt = Prompt::default();
    for value in params
        .get("prompt")
        .unwrap_or_default()
        .split(' ')
        .filter(|s| !s.is_empty())
    {
        match value {
            "none" => prompt.none = true,
            "login" => prompt.login = true,
            "consent" => prompt.consent = true,
            "select_account" => prompt.select_account = true,
            other => {
                return Err(CatalogError::new(ErrorName::InvalidRequestFormat).with(
                    "detail",
                    format!(
                        "prompt value '{}' is not one of none, login, consent, select_account",
                        other.chars().take(32).collect::<String>()
                    ),
                ));
            }
        }
    }
    // OIDC Core §3.1.2.1: none with any other value is an error.
    if prompt.none && (prompt.login || prompt.consent || prompt.select_account) {
        return Err(CatalogError::new(ErrorName::InvalidRequestFormat)
            .with("detail", "prompt=none cannot be combined with other values"));
    }
    Ok(prompt)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn app(confidential: bool) -> App {
        serde_json::from_value(serde_json::json!({
            "client_id": "c", "name": "C", "multi_tenant": false, "assignment_required": false,
            "redirect_uris": { "web": ["https://app.test/cb"], "spa": ["https://spa.test/cb"], "native": ["http://127.0.0.1/cb", "com.example.app:/cb"] },
            "post_logout_redirect_uris": [],
            "secrets": if confidential { serde_json::json!([{ "id": uuid::Uuid::nil(), "hash": "h", "hint": "x", "expires_at": null, "created_at": "2026-01-01T00:00:00Z" }]) } else { serde_json::json!([]) },
            "jwks": null, "grant_types": ["authorization_code"], "implicit": { "id_token": false, "access_token": false },
            "permissions": [], "admin_consented": false, "assigned_users": [], "enabled": true
        }))
        .unwrap()
    }

    fn params(q: &str) -> Params {
        Params::parse(q.as_bytes()).unwrap()
    }

    #[test]
    fn redirect_uris_match_exactly_except_native_loopback_ports() {
        let a = app(false);
        for ok in [
            "https://app.test/cb",
            "https://spa.test/cb",
            "http://127.0.0.1:53100/cb",
            "http://127.0.0.1/cb",
            "com.example.app:/cb",
        ] {
            let r =
                check_redirect_uri(&params(&format!("redirect_uri={}", urlenc(ok))), &a).unwrap();
            assert_eq!(r.uri, ok);
        }
        for bad in [
            "https://app.test/cb/",
            "https://APP.test/cb",
            "https://app.test/cb?x=1",
            "http://127.0.0.1:5/other",
            "http://localhost:5/cb",
            "https://127.0.0.1:5/cb",
            // What a URL parser would turn into the registered loopback URI.
            "http://127.0.0.1:5/x/../cb",
            "http://127.0.0.1:5/./cb",
            "http://127.0.0.1:5/c%62",
            "http://127.0.0.1:5\t/cb",
            "http://127.0.0.1:05x/cb",
            "http://127.0.0.1:99999/cb",
            "http://127.0.0.1:/cb",
            "http://127.0.0.1.evil.test/cb",
            "http://127.0.0.1@evil.test/cb",
            "http://127.0.0.1:5@evil.test/cb",
            "HTTP://127.0.0.1:5/cb",
            "http://127.1:5/cb",
        ] {
            let err = check_redirect_uri(&params(&format!("redirect_uri={}", urlenc(bad))), &a)
                .unwrap_err();
            assert_eq!(err.name, ErrorName::RedirectUriMismatch, "{bad}");
        }
        assert_eq!(
            check_redirect_uri(&params("redirect_uri=https%3A%2F%2Fspa.test%2Fcb"), &a)
                .unwrap()
                .platform,
            Platform::Spa
        );
    }

    fn urlenc(s: &str) -> String {
        serde_urlencoded::to_string([("x", s)]).unwrap()[2..].to_owned()
    }

    fn check(q: &str, confidential: bool) -> Result<AuthorizeRequest, CatalogError> {
        let a = app(confidential);
        let p = params(&format!("redirect_uri=https%3A%2F%2Fapp.test%2Fcb&{q}"));
        let r = check_redirect_uri(&p, &a).unwrap();
        check_request(&p, &a, &[], &TenantPolicy::default(), r).map_err(|e| match e {
            AuthorizeError::Redirect(b) => b.1,
            AuthorizeError::Page(e) => panic!("page error {e}"),
        })
    }

    const PKCE: &str =
        "code_challenge=E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM&code_challenge_method=S256";

    #[test]
    fn errors_after_the_redirect_check_are_redirected_in_order() {
        let name = |q: &str, conf| check(q, conf).map(|_| ()).unwrap_err().name;
        assert_eq!(
            name("response_type=code&scope=openid&response_mode=jwt", true),
            ErrorName::UnsupportedResponseMode
        );
        assert_eq!(
            name("response_type=token&scope=openid", true),
            ErrorName::ImplicitAccessTokenNotEnabled
        );
        assert_eq!(
            name("response_type=id_token&scope=openid", true),
            ErrorName::ImplicitIdTokenNotEnabled
        );
        assert_eq!(
            name("response_type=device&scope=openid", true),
            ErrorName::UnsupportedResponseType
        );
        assert_eq!(
            name("response_type=code&scope=openid+nope", true),
            ErrorName::InvalidScope
        );
        assert_eq!(
            name("response_type=code&scope=openid", false),
            ErrorName::PkceRequired
        );
        assert_eq!(
            name(
                "response_type=code&scope=openid&code_challenge=abc&code_challenge_method=plain",
                false
            ),
            ErrorName::PkceMethodNotSupported
        );
        assert_eq!(
            name("response_type=code&scope=openid&prompt=none+login", true),
            ErrorName::InvalidRequestFormat
        );
        assert_eq!(
            name("response_type=code", true),
            ErrorName::InvalidRequestFormat
        );
        let ok = check(&format!("response_type=code&scope=openid+profile&{PKCE}&prompt=consent&nonce=n&state=s&response_mode=form_post"), false).unwrap();
        assert!(ok.prompt.consent);
        assert_eq!(ok.redirect.mode, ResponseMode::FormPost);
        assert_eq!(ok.redirect.state.as_deref(), Some("s"));
        assert_eq!(ok.nonce.as_deref(), Some("n"));
    }

    #[test]
    fn response_types_parse_in_any_order_each_once() {
        let rt = |code, id_token, token| {
            Some(ResponseType {
                code,
                id_token,
                token,
            })
        };
        assert_eq!(ResponseType::parse("code"), rt(true, false, false));
        assert_eq!(ResponseType::parse("token id_token"), rt(false, true, true));
        assert_eq!(
            ResponseType::parse("id_token  code token"),
            rt(true, true, true)
        );
        for bad in [
            "",
            " ",
            "code code",
            "none",
            "code none",
            "Code",
            "id_token,token",
        ] {
            assert_eq!(ResponseType::parse(bad), None, "{bad:?}");
        }
        for listed in RESPONSE_TYPES {
            assert!(ResponseType::parse(listed).is_some(), "{listed}");
        }
        assert!(!ResponseType::parse("code").unwrap().front_channel());
        assert!(ResponseType::parse("code token").unwrap().front_channel());
    }

    #[test]
    fn front_channel_types_default_to_the_fragment_and_refuse_the_query() {
        let implicit = |confidential| {
            let mut a = app(confidential);
            a.implicit = crate::directory::model::Implicit {
                id_token: true,
                access_token: true,
            };
            a
        };
        let check = |a: &App, q: &str| {
            let p = params(&format!("redirect_uri=https%3A%2F%2Fapp.test%2Fcb&{q}"));
            let r = check_redirect_uri(&p, a).unwrap();
            let mode = r.mode;
            (mode, check_request(&p, a, &[], &TenantPolicy::default(), r))
        };
        let a = implicit(true);
        let (mode, ok) = check(&a, "response_type=code+id_token&scope=openid&nonce=n");
        assert_eq!(mode, ResponseMode::Fragment);
        assert!(ok.unwrap().response_type.code);
        let (mode, _) = check(&a, "response_type=code&scope=openid");
        assert_eq!(mode, ResponseMode::Query);
        let refused = |q: &str| match check(&a, q).1 {
            Err(AuthorizeError::Redirect(b)) => b.1.name,
            other => panic!("{other:?}"),
        };
        assert_eq!(
            refused("response_type=id_token&scope=openid&nonce=n&response_mode=query"),
            ErrorName::UnsupportedResponseMode
        );
        assert_eq!(
            refused("response_type=id_token&scope=openid"),
            ErrorName::InvalidRequestFormat
        );
        assert_eq!(
            refused(&format!("response_type=token&scope=openid&{PKCE}")),
            ErrorName::PkceNotExpected
        );
        // A public client's implicit request needs no PKCE (there is no code); its
        // hybrid request does.
        let public = implicit(false);
        assert!(
            check(&public, "response_type=id_token&scope=openid&nonce=n")
                .1
                .is_ok()
        );
        assert!(matches!(
            check(&public, "response_type=code+id_token&scope=openid&nonce=n").1,
            Err(AuthorizeError::Redirect(b)) if b.1.name == ErrorName::PkceRequired
        ));
    }
}
