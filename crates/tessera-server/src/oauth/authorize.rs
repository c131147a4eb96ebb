//! `/{t}/oauth2/authorize` (GET and POST) and the sign-in steps that continue it. Every
//! step re-checks the whole authorization request (the pages carry it in a hidden
//! field), so a tampered form is no more than a new request, checked like any other.
//!
//! Order (RFC 6749 §4.1.2.1): tenant → client → redirect URI, with errors on a page;
//! then the request's own parameters, the account (sign-in page, account picker),
//! assignment, consent (consent page) and the answer — a code, and for the implicit and
//! hybrid response types tokens too — with errors sent to the client.

use super::meta::Realm;
use super::{consent, id_token_hint, lookup, pages, respond, second_factor, session};
use crate::http::client_address::ClientAddress;
use crate::http::error_response::ErrorResponse;
use crate::http::extract::form;
use crate::runtime::state::AppState;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::Uri;
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use session::CurrentSession;
use tessera_core::directory::mfa::Continuation;
use tessera_core::directory::model::App;
use tessera_core::errors::{CatalogError, ErrorName};
use tessera_core::oauth::account::{self, Account, Ask, Choice, Hint};
use tessera_core::oauth::authorize::{self as checks, AuthorizeError, AuthorizeRequest};
use tessera_core::oauth::params::Params;
use tessera_core::oauth::records::AuthCode;
use tessera_core::oauth::token::issue;
use tessera_core::tenant::Tenant;

/// What the browser just did.
pub enum Interaction {
    /// The app sent the user here: by a link (GET) or a form (`posted`, OIDC Core
    /// §3.1.2.1 allows both).
    Start { posted: bool },
    /// The sign-in form was submitted and the password (and the second factor it
    /// needed) verified; the `Set-Cookie` of a session it started.
    SignedIn(Box<CurrentSession>, Option<HeaderValue>),
    /// The account picker was answered: the session `account` (empty: "use another
    /// account").
    Picked { account: String },
    /// The consent form was submitted by the account with session `account`.
    Consent { allow: bool, account: String },
}

/// Runs the authorization request `params` as far as it can go.
pub async fn proceed(
    state: &AppState,
    tenant: &Tenant,
    headers: &HeaderMap,
    params: Params,
    interaction: Interaction,
) -> Response {
    // RFC 9700 §4.12: after a POST, redirect with 303 so the browser does not repeat
    // the POST (and its body) at the client.
    let after_post = match interaction {
        Interaction::Start { posted } => posted,
        Interaction::SignedIn(..) | Interaction::Picked { .. } | Interaction::Consent { .. } => {
            true
        }
    };
    let issuer = state.issuer(tenant.slug.as_str());
    let mut set_cookies = Vec::new();
    let response = match run(
        state,
        tenant,
        headers,
        &params,
        interaction,
        &mut set_cookies,
    )
    .await
    {
        Ok(Step::Answer(request, params)) => {
            respond::success(&request.redirect, params, &issuer, after_post)
        }
        Ok(Step::Page(page)) => page,
        Err(AuthorizeError::Page(err)) => ErrorResponse::page(*err).into_response(),
        Err(AuthorizeError::Redirect(b)) => respond::error(&b.0, &b.1, &issuer, after_post),
    };
    with_cookies(response, set_cookies)
}

fn with_cookies(mut response: Response, cookies: Vec<HeaderValue>) -> Response {
    for c in cookies {
        response.headers_mut().append(header::SET_COOKIE, c);
    }
    response
}

enum Step {
    /// The response's parameters: a code and/or tokens.
    Answer(AuthorizeRequest, Vec<(&'static str, String)>),
    Page(Response),
}

async fn run(
    state: &AppState,
    tenant: &Tenant,
    headers: &HeaderMap,
    params: &Params,
    interaction: Interaction,
    set_cookies: &mut Vec<HeaderValue>,
) -> Result<Step, AuthorizeError> {
    let page = AuthorizeError::page;
    checks::check_protocol(params).map_err(page)?;
    let client_id = checks::check_client_id(params).map_err(page)?;
    let found = lookup::app(state, tenant, client_id).await.map_err(page)?;
    let app = App::usable(found, client_id, tenant.slug.as_str()).map_err(page)?;
    let redirect = checks::check_redirect_uri(params, &app).map_err(page)?;
    let apis = lookup::apis(state, tenant.id).await.map_err(page)?;
    let request = checks::check_request(params, &app, &apis, &tenant.policy, redirect.clone())?;
    let fail = |e: CatalogError| AuthorizeError::redirect(&redirect, e);
    if request.response_type.code
        && !app
            .grant_types
            .contains(&tessera_core::directory::model::GrantType::AuthorizationCode)
    {
        return Err(fail(
            CatalogError::new(ErrorName::UnauthorizedGrantType)
                .with("client_id", app.client_id.clone())
                .with("grant_type", "authorization_code"),
        ));
    }

    platform_allowed(tenant, &app, headers).map_err(fail)?;

    // The user: a fresh sign-in, or one of the browser's accounts (`account::at_start`).
    let hint = hint(state, tenant, &request).await.map_err(fail)?;
    let hint = hint.as_ref();
    let answer = match &interaction {
        Interaction::Consent { allow, .. } => Some(*allow),
        _ => None,
    };
    let chosen = match interaction {
        Interaction::SignedIn(current, cookie) => {
            set_cookies.extend(cookie);
            Ok(Chosen::Session(current))
        }
        Interaction::Start { .. } => choose(state, tenant, headers, &request, hint, None).await,
        Interaction::Picked { account } | Interaction::Consent { account, .. } => {
            choose(state, tenant, headers, &request, hint, Some(&account)).await
        }
    }
    .map_err(fail)?;
    let current = match chosen {
        Chosen::Session(current) => *current,
        Chosen::SignIn(username) => {
            return Ok(Step::Page(pages::sign_in(
                state,
                tenant,
                headers,
                pages::SignInForm {
                    app: &app,
                    action: pages::sign_in_action(tenant),
                    carried: params.encode(),
                    redirect_uri: Some(&request.redirect.uri),
                    username: username.as_deref(),
                    error: None,
                },
            )));
        }
        Chosen::Pick(accounts) => {
            return Ok(Step::Page(pages::pick_account(
                state, tenant, headers, &app, params, &request, &accounts,
            )));
        }
    };
    account::check_hinted_user(hint, current.user_id).map_err(fail)?;

    // The second factor the tenant or the app requires, or a fresh one where the last
    // is stale: asked for, then the request goes on signed in (`second_factor`).
    if request.prompt.none
        && let Some(unmet) = second_factor::owed(state, tenant, Some(&app), &current).unmet()
    {
        return Err(fail(unmet));
    }
    if let Some(page) =
        second_factor::demanded(state, tenant, headers, Some(&app), &current, || {
            Continuation::Authorize {
                request: params.encode(),
                redirect_uri: request.redirect.uri.clone(),
            }
        })
    {
        return Ok(Step::Page(page));
    }

    // Apps that require assignment admit only the users assigned to them.
    if !app.admits(&current.session.user, &current.user.groups) {
        return Err(fail(
            CatalogError::new(ErrorName::UserNotAssigned).with("client_id", app.client_id.clone()),
        ));
    }

    match consent::decide(state, tenant, &app, &request, &current, answer, headers)
        .await
        .map_err(fail)?
    {
        consent::Decision::Granted => {}
        consent::Decision::Ask => {
            if request.prompt.none {
                let missing = request
                    .scopes
                    .values()
                    .into_iter()
                    .collect::<Vec<_>>()
                    .join(" ");
                return Err(fail(
                    CatalogError::new(ErrorName::ConsentRequired)
                        .with("scope", missing)
                        .with("client_id", app.client_id.clone()),
                ));
            }
            return Ok(Step::Page(pages::consent(
                state,
                headers,
                tenant.slug.as_str(),
                &app,
                params,
                &request,
                &current,
            )));
        }
    }

    session::remember_client(state, tenant, &current, &app.client_id)
        .await
        .map_err(fail)?;
    let mut answer = Vec::new();
    let code = request
        .response_type
        .code
        .then(|| issue_code(state, tenant, &app, &request, &current));
    if request.response_type.front_channel() {
        let tokens = front_channel_tokens(state, tenant, &app, &request, &current, code.as_deref())
            .await
            .map_err(fail)?;
        if let Some(t) = tokens.access_token {
            // RFC 6749 §4.2.2.
            answer.push(("access_token", t));
            answer.push(("token_type", "Bearer".to_owned()));
            answer.push(("expires_in", tokens.expires_in.to_string()));
            answer.push(("scope", tokens.scope));
        }
        if let Some(t) = tokens.id_token {
            answer.push(("id_token", t));
        }
    }
    if let Some(code) = code {
        answer.insert(0, ("code", code));
    }
    Ok(Step::Answer(request, answer))
}

/// The tokens an implicit or hybrid response carries (OIDC Core §3.2.2.5, §3.3.2.5),
/// minted by the token engine as the token endpoint's are, for the same grant a code
/// would carry, less `offline_access`: no refresh token comes through the browser.
async fn front_channel_tokens(
    state: &AppState,
    tenant: &Tenant,
    app: &App,
    request: &AuthorizeRequest,
    current: &CurrentSession,
    code: Option<&str>,
) -> Result<issue::FrontChannelTokens, CatalogError> {
    let ctx = super::token::context(state, tenant);
    let mut scopes = request.scopes.values();
    scopes.remove(tessera_core::oauth::scope::OFFLINE_ACCESS);
    let grant = issue::Grant {
        tenant,
        app,
        user_id: current.user_id,
        user_key: current.session.user.clone(),
        scopes,
        audience: request.scopes.audience.clone(),
        nonce: request.nonce.clone(),
        claims: request.claims.clone(),
        sid: current.session.sid.clone(),
        auth_time: current.session.auth_time,
        amr: current.session.amr.clone(),
        platform: request.redirect.platform,
        delegated: false,
    };
    let plan = issue::plan(&ctx, &grant, None).await?;
    let rt = request.response_type;
    issue::front_channel(
        &ctx,
        &grant,
        &current.user,
        &plan,
        rt.token,
        rt.id_token,
        code,
    )
}

/// The tenant's and the app's device-platform rules, against the platform the
/// browser's user agent names (PlatformNotAllowed), before anyone is asked to sign in.
pub(crate) fn platform_allowed(
    tenant: &Tenant,
    app: &App,
    headers: &HeaderMap,
) -> Result<(), CatalogError> {
    use tessera_core::platform::{self, Platform};
    let user_agent = headers
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok());
    let found = Platform::of_user_agent(user_agent);
    if platform::allowed(&tenant.policy.allowed_platforms, found)
        && platform::allowed(&app.allowed_platforms, found)
    {
        Ok(())
    } else {
        Err(CatalogError::new(ErrorName::PlatformNotAllowed).with("platform", found.as_str()))
    }
}

/// The account the request names: a verified `id_token_hint` (IdTokenHintInvalid when
/// it does not verify), else `login_hint`.
async fn hint(
    state: &AppState,
    tenant: &Tenant,
    request: &AuthorizeRequest,
) -> Result<Option<Hint>, CatalogError> {
    if let Some(token) = &request.id_token_hint {
        return Ok(Some(
            id_token_hint::verify(state, tenant, token).await?.hint(),
        ));
    }
    Ok(request.login_hint.clone().map(Hint::Login))
}

/// Who the request continues as, or the page that asks.
enum Chosen {
    Session(Box<CurrentSession>),
    /// A sign-in page, prefilled with the username.
    SignIn(Option<String>),
    /// The account picker over these accounts.
    Pick(Vec<CurrentSession>),
}

/// Chooses among the browser's accounts (`account::at_start`), or, after the picker or
/// the consent page, takes the account with session `picked` (`account::picked`).
async fn choose(
    state: &AppState,
    tenant: &Tenant,
    headers: &HeaderMap,
    request: &AuthorizeRequest,
    hint: Option<&Hint>,
    picked: Option<&str>,
) -> Result<Chosen, CatalogError> {
    let mut sessions = session::all(state, tenant, headers).await?;
    let choice = {
        let accounts: Vec<Account<'_>> = sessions
            .iter()
            .map(|c| Account {
                sid: &c.session.sid,
                user_id: c.user_id,
                username: c.user.username.as_str(),
                email: c.user.email.as_deref(),
                auth_time: c.session.auth_time,
            })
            .collect();
        let ask = Ask {
            prompt: request.prompt,
            max_age: request.max_age,
            hint,
            now: state.clock.now(),
        };
        match picked {
            None => account::at_start(&accounts, ask)?,
            Some(sid) => account::picked(&accounts, sid, ask)?,
        }
    };
    Ok(match choice {
        Choice::Use(i) => Chosen::Session(Box::new(sessions.swap_remove(i))),
        Choice::SignIn { username } => Chosen::SignIn(username),
        Choice::Pick => Chosen::Pick(sessions),
    })
}

/// A new authorization code bound to everything the token request must match
/// (RFC 6749 §4.1.2; OIDC Core §3.1.2.1 nonce; RFC 7636 §4.4 challenge): the record
/// sealed into the code itself (`AuthCode::seal`), so issuing it writes nothing; the
/// store learns of a code only when it is redeemed.
fn issue_code(
    state: &AppState,
    tenant: &Tenant,
    app: &App,
    request: &AuthorizeRequest,
    current: &CurrentSession,
) -> String {
    let now = state.clock.now();
    let record = AuthCode {
        client_id: app.client_id.clone(),
        redirect_uri: request.redirect.uri.clone(),
        platform: request.redirect.platform,
        challenge: request.challenge.clone(),
        nonce: request.nonce.clone(),
        claims: request.claims.clone(),
        scopes: request.scopes.values(),
        audience: request.scopes.audience.clone(),
        user: current.session.user.clone(),
        user_id: current.user_id,
        sid: current.session.sid.clone(),
        auth_time: current.session.auth_time,
        amr: current.session.amr.clone(),
        issued_at: now,
        expires_at: now + time::Duration::seconds(i64::from(tenant.policy.code_lifetime_seconds)),
        redeemed: None,
    };
    record.seal(&state.master, state.rng.as_ref(), tenant.id)
}

pub async fn get(
    State(state): State<AppState>,
    realm: Realm,
    headers: HeaderMap,
    ClientAddress(client): ClientAddress,
    uri: Uri,
) -> Response {
    match Params::parse(uri.query().unwrap_or_default().as_bytes()) {
        Ok(params) => start(&state, realm, &headers, client, params, false).await,
        Err(e) => ErrorResponse::page(e).into_response(),
    }
}

/// A new authorization request: at a tenant, or at a meta-tenant that hands it on to
/// the user's tenant (`meta`).
async fn start(
    state: &AppState,
    realm: Realm,
    headers: &HeaderMap,
    client: Option<std::net::IpAddr>,
    params: Params,
    posted: bool,
) -> Response {
    match realm {
        Realm::Tenant(tenant) => {
            use crate::runtime::rate_limits::Endpoint;
            if let Err(e) = state
                .rate_limits
                .check_address(&tenant, Endpoint::Authorize, client)
            {
                return ErrorResponse::page(e).into_response();
            }
            let start = Interaction::Start { posted };
            proceed(state, &tenant, headers, params, start).await
        }
        Realm::Meta(meta) => {
            super::meta::hand_on(
                state,
                meta,
                super::meta::Endpoint::Authorize,
                params,
                posted,
            )
            .await
        }
    }
}

/// OIDC Core §3.1.2.1: the authorization endpoint accepts POST with a form body too.
pub async fn post(
    State(state): State<AppState>,
    realm: Realm,
    headers: HeaderMap,
    ClientAddress(client): ClientAddress,
    body: Bytes,
) -> Response {
    match form(&headers, &body) {
        Ok(params) => start(&state, realm, &headers, client, params, true).await,
        Err(e) => ErrorResponse::page(e).into_response(),
    }
}

/// `/{t}/wsfed` and `/{t}/saml2`, where Entra ID serves WS-Federation and SAML 2.0: an
/// app moved over with its old protocol learns on a page that Tessera does not serve it.
pub async fn ws_federation() -> Response {
    not_served("WS-Federation")
}

pub async fn saml2() -> Response {
    not_served("SAML 2.0")
}

fn not_served(protocol: &str) -> Response {
    ErrorResponse::page(
        CatalogError::new(ErrorName::ProtocolNotSupported).with("protocol", protocol.to_owned()),
    )
    .into_response()
}
