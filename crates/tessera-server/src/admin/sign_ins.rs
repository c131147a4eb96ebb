//! The sign-in log (`oauth::sign_in_log`): `/tenants/{slug}/sign-ins`, by user or by
//! trace id, and `/traces/{trace_id}` across tenants, which `tessera admin trace` calls.
//! A trace id leads to the events of that request and of the sign-ins they belong to
//! (the same `sid`): the password step behind a consent that failed, for one.

use super::auth::Admin;
use super::common::{ApiResult, Problem, internal, store, tenant};
use crate::http::extract::{Path, Query};
use crate::runtime::state::AppState;
use axum::Json;
use axum::extract::State;
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;
use tessera_core::audit::SignInEvent;
use tessera_core::store::object::ObjectKind;
use tessera_core::tenant::Tenant;
use utoipa::{IntoParams, ToSchema};

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SignInParams {
    /// Only this user's attempts (the username, in any case; an unknown one too).
    pub user: Option<String>,
    /// Only the events of this request and of the sign-ins they belong to.
    pub trace_id: Option<String>,
    /// At most this many events, newest first (1 to 1000, default 100).
    pub limit: Option<u32>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SignInView {
    pub tenant: String,
    pub at: String,
    pub user: String,
    /// `password`, `consent`, `admin_consent` or `device_approval`.
    pub step: String,
    /// `success` or `failure`.
    pub outcome: String,
    /// The catalogue code of a failure, and its name.
    pub code: Option<String>,
    pub error: Option<String>,
    pub app: Option<String>,
    pub client_address: Option<String>,
    pub user_agent: Option<String>,
    pub trace_id: String,
    /// The sign-in (session) the step started or continued.
    pub sid: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SignInList {
    pub items: Vec<SignInView>,
}

/// The tenant's sign-in log, newest first: every password sign-in, consent answer and
/// admin consent, kept for the tenant's `sign_in_log_days`.
#[utoipa::path(get, path = "/tenants/{slug}/sign-ins", tag = "audit", params(("slug" = String, Path), SignInParams),
    responses((status = 200, body = SignInList), (status = 404, body = Problem)))]
pub async fn list(
    _: Admin,
    State(state): State<AppState>,
    Path(slug): Path<String>,
    Query(p): Query<SignInParams>,
) -> ApiResult<Json<SignInList>> {
    let t = tenant(&state, &slug).await?;
    // As every other list clamps it (`common::list_page`).
    let limit = p.limit.unwrap_or(100).clamp(1, 1000);
    let mut events = match (&p.trace_id, &p.user) {
        (Some(trace), _) => of_trace(&state, &t, trace).await?,
        (None, Some(user)) => of_user(&state, &t, &user.trim().to_lowercase()).await?,
        (None, None) => decoded(
            state
                .store
                .objects(t.id, ObjectKind::SignInEvent)
                .await
                .map_err(store)?,
        )?,
    };
    if let (Some(_), Some(user)) = (&p.trace_id, &p.user) {
        let user = user.trim().to_lowercase();
        events.retain(|e| e.user == user);
    }
    Ok(Json(SignInList {
        items: newest_first(&t, events, limit as usize),
    }))
}

/// Every event of a trace id, in whichever tenant it happened, with the events of the
/// sign-ins they belong to; newest first.
#[utoipa::path(get, path = "/traces/{trace_id}", tag = "audit", params(("trace_id" = String, Path)),
    responses((status = 200, body = SignInList)))]
pub async fn trace(
    _: Admin,
    State(state): State<AppState>,
    Path(trace_id): Path<String>,
) -> ApiResult<Json<SignInList>> {
    let mut items = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let page = state
            .store
            .list_tenants(after.as_deref(), 1000)
            .await
            .map_err(store)?;
        for t in &page.items {
            let events = of_trace(&state, t, &trace_id).await?;
            items.extend(newest_first(t, events, 1000));
        }
        match page.next {
            Some(next) => after = Some(next),
            None => break,
        }
    }
    items.sort_by(|a, b| b.at.cmp(&a.at));
    Ok(Json(SignInList { items }))
}

/// The events of the request `trace_id`, and of the sign-ins (user and `sid`) they
/// belong to.
async fn of_trace(state: &AppState, t: &Tenant, trace_id: &str) -> ApiResult<Vec<SignInEvent>> {
    let prefix = SignInEvent::trace_prefix(trace_id);
    let found = state
        .store
        .objects_after(t.id, ObjectKind::SignInEvent, Some(trace_id), 1000)
        .await
        .map_err(store)?;
    let mut events = decoded(
        found
            .into_iter()
            .take_while(|o| o.key.starts_with(&prefix))
            .collect(),
    )?;
    let sign_ins: BTreeSet<(String, String)> = events
        .iter()
        .filter_map(|e| Some((e.user.clone(), e.sid.clone()?)))
        .collect();
    for (user, sid) in sign_ins {
        for e in of_user(state, t, &user).await? {
            if e.sid.as_deref() == Some(sid.as_str()) && e.trace_id != trace_id {
                events.push(e);
            }
        }
    }
    Ok(events)
}

async fn of_user(state: &AppState, t: &Tenant, user: &str) -> ApiResult<Vec<SignInEvent>> {
    decoded(
        state
            .store
            .objects_of_user(t.id, ObjectKind::SignInEvent, user)
            .await
            .map_err(store)?,
    )
}

fn decoded(objects: Vec<tessera_core::store::object::StoredObject>) -> ApiResult<Vec<SignInEvent>> {
    objects
        .iter()
        .map(|o| o.decode::<SignInEvent>().map_err(internal))
        .collect()
}

fn newest_first(t: &Tenant, mut events: Vec<SignInEvent>, limit: usize) -> Vec<SignInView> {
    events.sort_by_key(|e| std::cmp::Reverse(e.at));
    events
        .into_iter()
        .take(limit)
        .map(|e| SignInView {
            tenant: t.slug.as_str().to_owned(),
            at: tessera_core::errors::render::timestamp(e.at),
            user: e.user,
            step: e.step,
            outcome: e.outcome,
            code: e.code,
            error: e.error,
            app: e.app,
            client_address: e.client_address,
            user_agent: e.user_agent,
            trace_id: e.trace_id,
            sid: e.sid,
        })
        .collect()
}
