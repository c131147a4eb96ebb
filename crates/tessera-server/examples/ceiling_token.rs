//! Machine calibration for BENCHMARKS.md: the minimal client_credentials-like endpoint
//! that was measured on a 2-vCPU machine when Tessera's targets were set (form + Basic +
//! HMAC check + a signed JWT, signing with aws-lc-rs directly), whose 44k/s (EdDSA)
//! there is what "client_credentials ≥ 30,000/s (≈ 70 % of the ceiling)" refers to.
//! Also an introspection-like endpoint (form + Basic + HMAC check + verifying an Ed25519
//! JWT), which was not measured there. Nothing here is Tessera's code: it is the least
//! work such an endpoint can do, so the machine's ceiling for it.
//!   ceiling_token <addr> <eddsa|es256>
//! `POST /token` takes what benches/client_credentials.lua sends, `POST /introspect` what
//! benches/introspect.lua sends, `GET /sample` returns a token for the latter.
//! Run by `benches/calibrate.sh`.

use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{
    ECDSA_P256_SHA256_FIXED_SIGNING, ED25519, EcdsaKeyPair, Ed25519KeyPair, KeyPair,
    UnparsedPublicKey,
};
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use hmac::{Hmac, Mac};
use sha2::Sha256;

/// The bench tenant's client_credentials app (benches/tenant.json).
const CLIENT_ID: &str = "daemon";
const CLIENT_SECRET: &str = "bench-daemon-secret-0123456789abcdef";

enum Signer {
    EdDsa(Ed25519KeyPair),
    Es256(EcdsaKeyPair, SystemRandom),
}

struct Ceiling {
    signer: Signer,
    header_b64: String,
    /// Introspection verifies Ed25519 tokens whatever the signing mode.
    ed_verify: Ed25519KeyPair,
    hmac_key: [u8; 32],
    secret_mac: Vec<u8>,
}

type Shared = Arc<Ceiling>;

#[derive(serde::Deserialize)]
struct TokenForm {
    grant_type: String,
    #[serde(default)]
    scope: String,
}

#[derive(serde::Deserialize)]
struct IntrospectForm {
    token: String,
}

fn mac(key: &[u8; 32], value: &[u8]) -> Hmac<Sha256> {
    let mut m = <Hmac<Sha256> as Mac>::new_from_slice(key).expect("any key length");
    m.update(value);
    m
}

/// The Basic credentials, checked with a constant-time HMAC comparison.
fn authenticated(state: &Ceiling, headers: &HeaderMap) -> bool {
    let Some(encoded) = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Basic "))
    else {
        return false;
    };
    let Ok(decoded) = STANDARD.decode(encoded) else {
        return false;
    };
    let Some((id, secret)) = std::str::from_utf8(&decoded)
        .ok()
        .and_then(|s| s.split_once(':'))
    else {
        return false;
    };
    id == CLIENT_ID
        && mac(&state.hmac_key, secret.as_bytes())
            .verify_slice(&state.secret_mac)
            .is_ok()
}

// A stand-alone measure of the machine, outside Tessera: no injected clock to use.
#[allow(clippy::disallowed_methods)]
fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

fn sign(state: &Ceiling, claims: &serde_json::Value) -> String {
    let payload = URL_SAFE_NO_PAD.encode(claims.to_string());
    let input = format!("{}.{payload}", state.header_b64);
    let signature = match &state.signer {
        Signer::EdDsa(pair) => pair.sign(input.as_bytes()).as_ref().to_vec(),
        Signer::Es256(pair, rng) => pair
            .sign(rng, input.as_bytes())
            .map(|s| s.as_ref().to_vec())
            .unwrap_or_default(),
    };
    format!("{input}.{}", URL_SAFE_NO_PAD.encode(signature))
}

fn claims(scope: &str) -> serde_json::Value {
    let mut jti = [0u8; 16];
    let _ = aws_lc_rs::rand::fill(&mut jti);
    let iat = now();
    serde_json::json!({
        "iss": "http://127.0.0.1/bench", "sub": CLIENT_ID, "aud": "api://bench",
        "client_id": CLIENT_ID, "iat": iat, "exp": iat + 3600,
        "jti": URL_SAFE_NO_PAD.encode(jti), "scope": scope,
    })
}

async fn token(State(state): State<Shared>, headers: HeaderMap, form: Form<TokenForm>) -> Response {
    if !authenticated(&state, &headers) || form.grant_type != "client_credentials" {
        return StatusCode::UNAUTHORIZED.into_response();
    }
    let body = serde_json::json!({
        "access_token": sign(&state, &claims(&form.scope)),
        "token_type": "Bearer", "expires_in": 3600,
    });
    (
        [(header::CONTENT_TYPE, "application/json")],
        body.to_string(),
    )
        .into_response()
}

async fn introspect(
    State(state): State<Shared>,
    headers: HeaderMap,
    form: Form<IntrospectForm>,
) -> Response {
    if !authenticated(&state, &headers) {
        return StatusCode::UNAUTHORIZED.into_response();
    }
    let inactive = r#"{"active":false}"#.to_owned();
    let body = form
        .token
        .rsplit_once('.')
        .and_then(|(input, sig)| {
            let sig = URL_SAFE_NO_PAD.decode(sig).ok()?;
            UnparsedPublicKey::new(&ED25519, state.ed_verify.public_key().as_ref())
                .verify(input.as_bytes(), &sig)
                .ok()?;
            let payload = URL_SAFE_NO_PAD.decode(input.split_once('.')?.1).ok()?;
            let mut claims: serde_json::Value = serde_json::from_slice(&payload).ok()?;
            (claims.get("exp")?.as_u64()? > now()).then_some(())?;
            claims.as_object_mut()?.insert("active".into(), true.into());
            Some(claims.to_string())
        })
        .unwrap_or(inactive);
    ([(header::CONTENT_TYPE, "application/json")], body).into_response()
}

async fn sample(State(state): State<Shared>) -> String {
    let header = URL_SAFE_NO_PAD.encode(r#"{"alg":"EdDSA","typ":"at+jwt"}"#);
    let payload = URL_SAFE_NO_PAD.encode(claims("read").to_string());
    let input = format!("{header}.{payload}");
    let sig = state.ed_verify.sign(input.as_bytes());
    format!("{input}.{}", URL_SAFE_NO_PAD.encode(sig.as_ref()))
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let addr = args.next().unwrap_or_else(|| "127.0.0.1:18091".to_owned());
    let (signer, alg) = match args.next().as_deref() {
        Some("es256") => (
            Signer::Es256(
                EcdsaKeyPair::generate(&ECDSA_P256_SHA256_FIXED_SIGNING)?,
                SystemRandom::new(),
            ),
            "ES256",
        ),
        _ => (Signer::EdDsa(Ed25519KeyPair::generate()?), "EdDSA"),
    };
    let mut hmac_key = [0u8; 32];
    aws_lc_rs::rand::fill(&mut hmac_key)?;
    let secret_mac = mac(&hmac_key, CLIENT_SECRET.as_bytes())
        .finalize()
        .into_bytes()
        .to_vec();
    let state = Arc::new(Ceiling {
        signer,
        header_b64: URL_SAFE_NO_PAD.encode(format!(r#"{{"alg":"{alg}","typ":"at+jwt"}}"#)),
        ed_verify: Ed25519KeyPair::generate()?,
        hmac_key,
        secret_mac,
    });
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?
        .block_on(async {
            let app = Router::new()
                .route("/token", post(token))
                .route("/introspect", post(introspect))
                .route("/sample", get(sample))
                .with_state(state);
            let listener = tokio::net::TcpListener::bind(&addr).await?;
            println!("ready on http://{addr} ({alg})");
            axum::serve(listener, app).await
        })?;
    Ok(())
}
