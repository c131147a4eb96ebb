//! `tessera serve --demo`: a demo tenant, user and app, and a tiny relying party inside
//! Tessera itself (`/demo-app`) that walks the authorization code flow with PKCE and
//! shows the tokens it received, decoded. For trying Tessera out; never for production
//! (the demo user's password is printed).

use crate::cli::fatal::Fatal;
use crate::http::error_response::ErrorResponse;
use crate::oauth::token::redeem_code;
use crate::pages::page;
use crate::runtime::state::AppState;
use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use minijinja::context;
use sha2::Digest;
use tessera_core::crypto::{generate_token, verify_password};
use tessera_core::directory::file::TenantFile;
use tessera_core::directory::model::User;
use tessera_core::errors::{CatalogError, ErrorName};
use tessera_core::oauth::params::Params;
use tessera_core::oauth::token::request::CodeRequest;
use tessera_core::secret::Secret;
use tessera_core::store::object::{ObjectKind, Write, encode};

pub const TENANT: &str = "demo";
pub const CLIENT_ID: &str = "demo-app";
pub const USERNAME: &str = "demo";
pub const PASSWORD: &str = "demo-password";
const COOKIE: &str = "tessera_demo";

pub fn callback_url(public_url: &str) -> String {
    format!("{public_url}/demo-app/callback")
}

/// Imports the demo tenant (idempotent) and returns the line to print.
pub async fn setup(state: &AppState) -> Result<String, Fatal> {
    let file: TenantFile = serde_json::from_value(serde_json::json!({ "tenants": [{
        "slug": TENANT, "display_name": "Tessera demo",
        "users": [ { "username": USERNAME, "password": PASSWORD, "name": "Demo User", "email": "demo@example.test" } ],
        "apps": [ { "client_id": CLIENT_ID, "name": "Tessera demo app",
                    "redirect_uris": { "web": [callback_url(&state.public_url)] } } ]
    }]}))
    .map_err(|e| Fatal { message: format!("the demo tenant file is invalid: {e}"), status: 1 })?;
    crate::cli::directory_files::import(
        state.store.as_ref(),
        &file,
        &state.master,
        state.passwords.params(),
        state.clock.as_ref(),
        state.rng.as_ref(),
    )
    .await?;
    Ok(format!(
        "demo: open {}/demo-app in a browser and sign in as '{USERNAME}' with password '{PASSWORD}'",
        state.public_url
    ))
}

/// A start without `--demo` on a store that once ran with it: the demo account, whose
/// password is printed in every demo start and in the docs, is disabled (its sessions,
/// refresh tokens and device approvals ended with it), so no node serves a well-known
/// credential it was not asked to. Only an enabled `demo` user of the `demo` tenant whose
/// password is still the public one is touched; `--demo` enables it again. Whether it
/// was disabled now.
pub async fn retire(state: &AppState) -> Result<bool, Fatal> {
    let fail = |e: String| Fatal::runtime(format!("cannot check the demo account: {e}"));
    let slug = tessera_core::tenant::TenantSlug::parse(TENANT).map_err(|e| fail(e.message()))?;
    let Some(tenant) = state
        .store
        .tenant(&slug)
        .await
        .map_err(|e| fail(e.to_string()))?
    else {
        return Ok(false);
    };
    let found = tessera_core::store::read::get::<User>(
        state.store.as_ref(),
        tenant.id,
        ObjectKind::User,
        USERNAME,
    )
    .await
    .map_err(|e| fail(e.to_string()))?;
    let Some((object, mut user)) = found else {
        return Ok(false);
    };
    let public = user
        .password_hash
        .as_deref()
        .is_some_and(|hash| verify_password(&Secret::new(PASSWORD), hash));
    if !user.enabled || !public {
        return Ok(false);
    }
    let now = state.clock.now();
    user.enabled = false;
    user.end_sign_ins(now);
    let key = user.username.key();
    let revocation = crate::oauth::revoke_sessions(state.store.as_ref(), now, tenant.id, &key)
        .await
        .map_err(|e| fail(e.message()))?;
    let mut writes = vec![Write::Put(object.with_doc(encode(&user), now))];
    writes.extend(revocation.writes);
    state
        .store
        .apply(writes)
        .await
        .map_err(|e| fail(e.to_string()))?;
    let reason = "the demo account was disabled";
    crate::oauth::revoke_refresh_tokens(state.store.as_ref(), now, tenant.id, &key, reason)
        .await
        .map_err(|e| fail(e.message()))?;
    tracing::warn!(
        tenant = TENANT,
        user = USERNAME,
        "disabled the demo account: its password is public; start with --demo to use it again"
    );
    Ok(true)
}

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/demo-app", get(start))
        .route("/demo-app/callback", get(callback))
}

/// Starts a sign-in: a fresh state and PKCE verifier kept in a cookie, then the
/// authorization request.
async fn start(State(state): State<AppState>) -> Response {
    let verifier = generate_token(state.rng.as_ref());
    let csrf_state = generate_token(state.rng.as_ref());
    let challenge = URL_SAFE_NO_PAD.encode(sha2::Sha256::digest(verifier.as_bytes()));
    let query = serde_urlencoded::to_string([
        ("client_id", CLIENT_ID),
        ("response_type", "code"),
        ("redirect_uri", &callback_url(&state.public_url)),
        ("scope", "openid profile email offline_access"),
        ("state", &csrf_state),
        ("nonce", &generate_token(state.rng.as_ref())),
        ("code_challenge", &challenge),
        ("code_challenge_method", "S256"),
    ])
    .unwrap_or_default();
    let location = format!("{}/oauth2/authorize?{query}", state.issuer(TENANT));
    let cookie = format!(
        "{COOKIE}={csrf_state}.{verifier}; Path=/demo-app; Max-Age=600; HttpOnly; SameSite=Lax"
    );
    let mut response = StatusCode::FOUND.into_response();
    for (name, value) in [(header::LOCATION, location), (header::SET_COOKIE, cookie)] {
        if let Ok(v) = HeaderValue::from_str(&value) {
            response.headers_mut().insert(name, v);
        }
    }
    response
}

/// The redirect URI: checks state, redeems the code at the token endpoint (in process)
/// and shows the tokens decoded.
async fn callback(
    State(state): State<AppState>,
    headers: HeaderMap,
    uri: axum::http::Uri,
) -> Response {
    let fail = |detail: &str| {
        ErrorResponse::page(
            CatalogError::new(ErrorName::InvalidRequestFormat).with("detail", detail.to_owned()),
        )
        .into_response()
    };
    let Ok(params) = Params::parse(uri.query().unwrap_or_default().as_bytes()) else {
        return fail("the callback's query string is malformed");
    };
    if let Some(error) = params.get("error") {
        return page(
            StatusCode::OK,
            "demo.html",
            context! { title => "Demo", error => error, description => params.get("error_description") },
        );
    }
    let cookie = crate::oauth::cookies::get(&headers, COOKIE).unwrap_or_default();
    let Some((expected_state, verifier)) = cookie.split_once('.') else {
        return fail("the demo cookie is missing; start again at /demo-app");
    };
    if params.get("state") != Some(expected_state) {
        return fail("state does not match the one this browser sent");
    }
    if params.get("iss") != Some(state.issuer(TENANT).as_str()) {
        return fail("iss does not name the demo tenant (RFC 9207)");
    }
    let Some(code) = params.get("code") else {
        return fail("the callback carries no code");
    };
    let request = CodeRequest {
        code: Secret::new(code),
        redirect_uri: Some(callback_url(&state.public_url)),
        code_verifier: Some(verifier.to_owned()),
        origin: None,
    };
    let tokens = match redeem_code(&state, TENANT, CLIENT_ID, request).await {
        Ok(t) => t,
        Err(e) => return e.into_response(),
    };
    let decode = |jwt: Option<&str>| {
        jwt.map(|t| {
            t.split('.')
                .take(2)
                .map(|part| {
                    URL_SAFE_NO_PAD
                        .decode(part)
                        .ok()
                        .and_then(|b| serde_json::from_slice::<serde_json::Value>(&b).ok())
                        .and_then(|v| serde_json::to_string_pretty(&v).ok())
                        .unwrap_or_default()
                })
                .collect::<Vec<_>>()
        })
    };
    page(
        StatusCode::OK,
        "demo.html",
        context! {
            title => "Demo",
            id_token => decode(tokens.id_token.as_deref()),
            access_token => decode(Some(&tokens.access_token)),
            refresh_token => tokens.refresh_token.is_some(),
            expires_in => tokens.expires_in,
            scope => tokens.scope,
        },
    )
}
