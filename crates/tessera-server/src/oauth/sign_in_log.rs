//! The sign-in log: every password sign-in (success, or failure with its catalogue
//! code: wrong password, locked, disabled, blocked network, …), every consent answer,
//! admin consent and device approval, with time, user, app, client address, user agent, trace id and
//! the sign-in (`sid`) it belongs to (`tessera_core::audit::SignInEvent`). Kept for the
//! tenant's `sign_in_log_days`, then swept like other expired records. Read through
//! the admin API (`admin::sign_ins`) and `tessera admin trace`: the trace id on an
//! error page leads to every event of that request and of its sign-in.
//!
//! Logging never decides a sign-in: a log write that fails is reported in the server
//! log and the answer goes out as it would have.
//!
//! An address past its rate limit has the first refused attempt of each minute logged,
//! not every one (`RateLimits::log_refusal`): its flood costs a store write a minute.

use crate::runtime::rate_limits::Endpoint;
use crate::runtime::state::AppState;
use axum::http::{HeaderMap, header};
use tessera_core::audit::SignInEvent;
use tessera_core::errors::{CatalogError, ErrorName};
use tessera_core::store::object::{ObjectKind, StoredObject, Write, encode};
use tessera_core::tenant::Tenant;

/// One step to log.
pub struct Step<'a> {
    /// `password`, `consent`, `admin_consent`, `device_approval`.
    pub step: &'static str,
    /// The user's key, or the username as typed.
    pub user: &'a str,
    pub app: Option<&'a str>,
    pub client: Option<std::net::IpAddr>,
    pub sid: Option<&'a str>,
}

/// Longest user agent kept, in characters.
const USER_AGENT_CHARS: usize = 512;

/// Logs `step` with its outcome: success, or the refusal (a failure of the server
/// itself is not the user's attempt and is not logged here).
pub async fn record(
    state: &AppState,
    tenant: &Tenant,
    headers: &HeaderMap,
    step: Step<'_>,
    outcome: Result<(), &CatalogError>,
) {
    if outcome.is_err_and(|e| e.entry().status >= 500) {
        return;
    }
    if outcome.is_err_and(|e| e.name == ErrorName::RateLimited)
        && !state
            .rate_limits
            .log_refusal(tenant, Endpoint::SignIn, step.client)
    {
        return;
    }
    let now = state.clock.now();
    let ctx = crate::http::request_context::current();
    let (outcome, code, error) = match outcome {
        Ok(()) => ("success", None, None),
        Err(e) => (
            "failure",
            Some(e.entry().code_str()),
            Some(e.entry().name.to_owned()),
        ),
    };
    let event = SignInEvent {
        at: now,
        user: step.user.to_lowercase(),
        step: step.step.to_owned(),
        outcome: outcome.to_owned(),
        code,
        error,
        app: step.app.map(str::to_owned),
        client_address: step.client.map(|ip| ip.to_string()),
        user_agent: headers.get(header::USER_AGENT).map(|v| {
            String::from_utf8_lossy(v.as_bytes())
                .chars()
                .take(USER_AGENT_CHARS)
                .collect()
        }),
        trace_id: ctx.trace_id.to_string(),
        sid: step.sid.map(str::to_owned),
    };
    let id = state.rng.record_id(now);
    let days = i64::from(tenant.policy.sign_in_log_days);
    let object = StoredObject::new(
        id,
        tenant.id,
        ObjectKind::SignInEvent,
        event.key(id),
        encode(&event),
        now,
    )
    .expiring(now + time::Duration::days(days));
    if let Err(e) = state.store.apply(vec![Write::Put(object)]).await {
        tracing::warn!(trace_id = %ctx.trace_id, error = %e, "sign-in event not logged");
    }
}
