//! Whether the user must be asked before the app gets the scopes it requested: a
//! tenant-wide admin consent or an earlier consent of this user covering every
//! requested scope means no; `prompt=consent` always asks. Scopes only an
//! administrator may grant are refused without admin consent (AdminConsentRequired).

use super::lookup;
use super::session::CurrentSession;
use crate::http::error_response::store_error;
use crate::runtime::state::AppState;
use std::collections::BTreeSet;
use tessera_core::directory::model::{App, Consent};
use tessera_core::errors::{CatalogError, ErrorName};
use tessera_core::oauth::authorize::AuthorizeRequest;
use tessera_core::store::object::{ObjectKind, StoredObject, Write, encode};
use tessera_core::tenant::Tenant;

pub enum Decision {
    Granted,
    Ask,
}

/// `answer`: what the user chose on the consent page, when they just did.
pub async fn decide(
    state: &AppState,
    tenant: &Tenant,
    app: &App,
    request: &AuthorizeRequest,
    current: &CurrentSession,
    answer: Option<bool>,
    headers: &axum::http::HeaderMap,
) -> Result<Decision, CatalogError> {
    request
        .scopes
        .check_admin_consent(app, tenant.slug.as_str())?;
    if let Some(allow) = answer {
        // The user's answer on the consent page goes to the sign-in log.
        let outcome = if allow {
            record(
                state,
                tenant,
                app,
                request.scopes.values(),
                &current.session.user,
            )
            .await
        } else {
            Err(CatalogError::new(ErrorName::ConsentDeclined)
                .with("client_id", app.client_id.clone()))
        };
        let step = super::sign_in_log::Step {
            step: "consent",
            user: &current.session.user,
            app: Some(app.client_id.as_str()),
            client: None,
            sid: Some(&current.session.sid),
        };
        super::sign_in_log::record(state, tenant, headers, step, outcome.as_ref().copied()).await;
        return outcome.map(|()| Decision::Granted);
    }
    if request.prompt.consent {
        return Ok(Decision::Ask);
    }
    if app.admin_consented {
        return Ok(Decision::Granted);
    }
    let key = Consent::key(&app.client_id, &current.session.user);
    let granted = lookup::get::<Consent>(state, tenant.id, ObjectKind::Consent, &key).await?;
    let covered = granted.is_some_and(|(_, c)| request.scopes.values().is_subset(&c.scopes));
    Ok(if covered {
        Decision::Granted
    } else {
        Decision::Ask
    })
}

/// Adds `scopes` to the user's (`user_key`) consent for the app.
pub async fn record(
    state: &AppState,
    tenant: &Tenant,
    app: &App,
    scopes: BTreeSet<String>,
    user_key: &str,
) -> Result<(), CatalogError> {
    let now = state.clock.now();
    let key = Consent::key(&app.client_id, user_key);
    let existing = lookup::get::<Consent>(state, tenant.id, ObjectKind::Consent, &key).await?;
    let write = match existing {
        Some((object, mut consent)) => {
            consent.scopes.extend(scopes);
            consent.granted_at = now;
            object.with_doc(encode(&consent), now)
        }
        None => {
            let consent = Consent {
                user: user_key.to_owned(),
                client_id: app.client_id.clone(),
                scopes,
                granted_at: now,
            };
            StoredObject::new(
                state.rng.object_id(),
                tenant.id,
                ObjectKind::Consent,
                key,
                encode(&consent),
                now,
            )
        }
    };
    // A concurrent consent of the same user to the same app loses here with Conflict;
    // the user sees an error and tries again, and nothing is half-written.
    state
        .store
        .apply(vec![Write::Put(write)])
        .await
        .map_err(store_error)
}
