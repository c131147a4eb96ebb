//! OIDC Back-Channel Logout 1.0: when a session ends, every app that took part in it
//! (`Session::clients`) and registered a `backchannel_logout_uri` gets a logout token
//! (§2.4), signed with the app's ID-token algorithm and typed `logout+jwt`, POSTed as
//! the form member `logout_token` (§2.5). Sent in the background, so the user's sign-out
//! does not wait on apps: a network failure, a timeout, a 5xx, 408 or 429 is tried again
//! after `Outbound::retry_delays` with a freshly signed token; any other 4xx is the
//! app refusing the token, and is final (§2.8). The outcome of each notice goes to the
//! tenant's audit log (`logout.backchannel.delivered` / `.failed`). Notices live in the
//! node's memory: a node stopped mid-retry drops the rest (documented in
//! docs/sign-in-and-logout.md).

use super::session::CurrentSession;
use super::signing;
use crate::runtime::state::AppState;
use tessera_core::audit::AuditEntry;
use tessera_core::directory::model::App;
use tessera_core::errors::CatalogError;
use tessera_core::ids::{ClientId, UserId};
use tessera_core::keys::SigningAlg;
use tessera_core::oauth::logout::LogoutClaims;
use tessera_core::oauth::token::issue::id_token_alg;
use tessera_core::store::object::Write;
use tessera_core::tenant::Tenant;

/// One logout token to deliver.
pub struct Notice {
    client_id: ClientId,
    uri: String,
    alg: SigningAlg,
    sub: UserId,
    sid: String,
}

impl Notice {
    pub fn new(app: &App, uri: &str, ended: &CurrentSession) -> Self {
        Self {
            client_id: app.client_id.clone(),
            uri: uri.to_owned(),
            alg: id_token_alg(app),
            sub: ended.user_id,
            sid: ended.session.sid.clone(),
        }
    }
}

/// Starts delivering `notices` in the background.
pub fn send(state: &AppState, tenant: &Tenant, notices: Vec<Notice>) {
    for notice in notices {
        let (state, tenant) = (state.clone(), tenant.clone());
        tokio::spawn(async move { deliver(&state, &tenant, notice).await });
    }
}

/// Why an attempt did not deliver.
enum Failure {
    /// The app answered with this client error: retrying would not help.
    Refused(u16),
    /// Worth another try: a 5xx, 408, 429, a timeout or a connection failure.
    Transient(String),
}

async fn deliver(state: &AppState, tenant: &Tenant, notice: Notice) {
    let pauses = std::iter::once(std::time::Duration::ZERO)
        .chain(state.outbound.retry_delays.iter().copied());
    let mut attempts = 0;
    let mut outcome = String::new();
    for pause in pauses {
        tokio::time::sleep(pause).await;
        attempts += 1;
        match attempt(state, tenant, &notice).await {
            Ok(status) => {
                return record(
                    state,
                    tenant,
                    &notice,
                    "delivered",
                    attempts,
                    &format!("status={status}"),
                )
                .await;
            }
            Err(Failure::Refused(status)) => {
                return record(
                    state,
                    tenant,
                    &notice,
                    "failed",
                    attempts,
                    &format!("status={status}"),
                )
                .await;
            }
            Err(Failure::Transient(why)) => outcome = why,
        }
    }
    record(state, tenant, &notice, "failed", attempts, &outcome).await;
}

/// Signs a logout token and POSTs it once; the status of a 2xx answer.
async fn attempt(state: &AppState, tenant: &Tenant, notice: &Notice) -> Result<u16, Failure> {
    let transient =
        |e: CatalogError| Failure::Transient(format!("signing={}", e.name.entry().code_str()));
    let signer = signing::active(state, tenant.id, notice.alg)
        .await
        .map_err(transient)?;
    let issuer = state.issuer(tenant.slug.as_str());
    let claims = LogoutClaims::new(
        &issuer,
        notice.client_id.as_str(),
        notice.sub,
        &notice.sid,
        state.rng.uuid().to_string(),
        state.clock.now(),
    );
    // Back-Channel Logout §2.4 and RFC 8725 §3.11: explicitly typed.
    let token = signer
        .sign("logout+jwt", &claims)
        .map_err(|e| Failure::Transient(format!("signing={e}")))?;
    let client = state
        .outbound
        .client()
        .map_err(|e| Failure::Transient(format!("client={e}")))?;
    let response = client
        .post(&notice.uri)
        .form(&[("logout_token", token)])
        .send()
        .await
        .map_err(|e| {
            Failure::Transient(if e.is_timeout() {
                "timeout".to_owned()
            } else {
                "connection failed".to_owned()
            })
        })?;
    let status = response.status().as_u16();
    match status {
        200..=299 => Ok(status),
        408 | 429 | 500..=599 => Err(Failure::Transient(format!("status={status}"))),
        _ => Err(Failure::Refused(status)),
    }
}

/// The notice's outcome, in the audit log and the server log (never the token).
async fn record(
    state: &AppState,
    tenant: &Tenant,
    notice: &Notice,
    outcome: &str,
    attempts: u32,
    detail: &str,
) {
    tracing::info!(
        tenant = tenant.slug.as_str(),
        client_id = notice.client_id.as_str(),
        sid = notice.sid.as_str(),
        outcome,
        attempts,
        detail,
        "back-channel logout"
    );
    let entry = Write::Audit(AuditEntry {
        id: state.rng.object_id(),
        tenant_id: tenant.id,
        at: state.clock.now(),
        actor: "tessera".to_owned(),
        action: format!("logout.backchannel.{outcome}"),
        target: format!("app:{}/sid:{}", notice.client_id, notice.sid),
        changes: vec![format!("attempts={attempts}"), detail.to_owned()],
    });
    if let Err(e) = state.store.apply(vec![entry]).await {
        tracing::warn!(tenant = tenant.slug.as_str(), error = %e, "the back-channel logout outcome was not recorded");
    }
}
