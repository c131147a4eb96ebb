//! `grant_type=urn:ietf:params:oauth:grant-type:token-exchange` (RFC 8693) as
//! on-behalf-of: a confidential app that serves an API (the API's `client_id`) received
//! a user's access token for that API and exchanges it for an access token to a
//! downstream API, to call it as that user. The new token keeps the user as `sub`,
//! names the app as the actor (`act`, RFC 8693 §4.1) and carries only scopes the user
//! (or an administrator, tenant-wide) consented to for this app. It is an access token
//! alone: no ID token, no refresh token (the app exchanges again when it needs one).
//!
//! The checks, in order: the subject token is a current access token of this tenant,
//! issued to a user, for an API this app serves (the API names its app:
//! docs/decisions/0016-api-names-its-app-for-on-behalf-of.md); the target is one API
//! of the app's permissions; the user still exists and is enabled; the user's consent
//! covers the scopes.

use super::super::context::TokenContext;
use super::super::issue::{self, Grant, TokenResponse};
use super::super::request::{ACCESS_TOKEN_TYPE, DEFAULT_SUFFIX, TokenExchangeRequest};
use crate::directory::model::{App, Consent, User};
use crate::directory::redirect::Platform;
use crate::errors::{CatalogError, ErrorName};
use crate::ids::UserId;
use crate::oauth::scope::{self, OIDC_SCOPES, ResolvedScopes};
use crate::store::object::ObjectKind;
use crate::store::read;
use serde_json::Value;
use std::collections::BTreeSet;

fn subject_invalid(reason: impl Into<String>) -> CatalogError {
    CatalogError::new(ErrorName::TokenExchangeSubjectInvalid).with("reason", reason.into())
}

pub async fn exchange(
    ctx: &TokenContext<'_>,
    app: &App,
    request: &TokenExchangeRequest,
) -> Result<TokenResponse, CatalogError> {
    // The subject token: valid now, a user's, for an API this app serves.
    let claims = ctx
        .services
        .access_token(ctx.tenant, request.subject_token.expose())
        .await
        .map_err(|e| {
            // Tessera could not check it (the store is down): say so, not "invalid".
            if e.entry().status >= 500 {
                return e;
            }
            let why = e.message();
            subject_invalid(format!(
                "it is not a current access token of this tenant ({})",
                why.trim_end_matches('.')
            ))
        })?;
    let text = |name: &str| claims.get(name).and_then(Value::as_str);
    let user_id = text("sub")
        .and_then(|s| uuid::Uuid::parse_str(s).ok())
        .filter(|_| text("sid").is_some())
        .map(UserId::from_uuid)
        .ok_or_else(|| subject_invalid("it is an app's own token, not a user's"))?;
    let subject_audience = text("aud").unwrap_or_default();
    let apis = ctx.services.apis(ctx.tenant.id).await?;
    let served_by_app = apis
        .iter()
        .any(|a| a.identifier == subject_audience && a.client_id.as_ref() == Some(&app.client_id));
    if !served_by_app {
        return Err(subject_invalid(format!(
            "it was issued for {}, which is not an API served by the app {}",
            subject_audience.chars().take(200).collect::<String>(),
            app.client_id
        )));
    }

    // The target: one downstream API among the app's permissions.
    let requested = target_scopes(app, request)?;
    let resolved = scope::resolve(&requested, app, &apis)?;
    let Some(audience) = resolved.audience.clone() else {
        return Err(CatalogError::new(ErrorName::InvalidRequestFormat).with(
            "detail",
            "scope must name scopes of a downstream API ({api}/{scope} or {api}/.default)",
        ));
    };
    if let Some(target) = &request.target
        && *target != audience
    {
        return Err(CatalogError::new(ErrorName::InvalidRequestFormat).with(
            "detail",
            "resource (or audience) and scope name different APIs",
        ));
    }

    // The user, by the token's `sub`: still there and enabled.
    let user_object = ctx
        .store
        .object_by_id(ctx.tenant.id, ObjectKind::User, user_id.object())
        .await?
        .ok_or_else(|| subject_invalid("its user no longer exists"))?;
    let user: User = user_object
        .decode()
        .map_err(|e| CatalogError::new(ErrorName::InternalError).internal(e))?;
    if !user.enabled {
        return Err(CatalogError::new(ErrorName::AccountDisabled));
    }
    let auth_time = claims
        .get("auth_time")
        .and_then(Value::as_i64)
        .and_then(|t| time::OffsetDateTime::from_unix_timestamp(t).ok())
        .ok_or_else(|| subject_invalid("it has no auth_time"))?;
    if user.sign_in_revoked(auth_time) {
        return Err(subject_invalid(
            "the user's sign-in it rests on was ended since (sessions revoked, disabled, or password reset)",
        ));
    }
    let user_key = user.username.key();

    let scopes = consented(ctx, app, &resolved, &audience, &user_key).await?;
    let grant = Grant {
        tenant: ctx.tenant,
        app,
        user_id,
        user_key,
        scopes,
        audience: Some(audience),
        nonce: None,
        claims: Default::default(),
        sid: text("sid").unwrap_or_default().to_owned(),
        auth_time,
        amr: Vec::new(),
        platform: Platform::Web,
        delegated: true,
    };
    let plan = issue::plan(ctx, &grant, None).await?;
    let mut response = issue::tokens(ctx, &grant, &user, plan)?;
    response.issued_token_type = Some(ACCESS_TOKEN_TYPE);
    Ok(response)
}

/// The scope values asked for: `{api}/.default` stands for every scope the app's
/// permissions list on that API (as Entra ID reads it); OIDC scopes, which clients
/// such as MSAL add to every request, are left out, since the result is an access
/// token only.
fn target_scopes(app: &App, request: &TokenExchangeRequest) -> Result<String, CatalogError> {
    let mut out = Vec::new();
    for value in request.scope.split(' ').filter(|s| !s.is_empty()) {
        if OIDC_SCOPES.iter().any(|(s, _)| *s == value) {
            continue;
        }
        match value.strip_suffix(DEFAULT_SUFFIX) {
            Some(api) => {
                let permission =
                    app.permissions
                        .iter()
                        .find(|p| p.api == api)
                        .ok_or_else(|| {
                            CatalogError::new(ErrorName::InvalidScope)
                                .with("scope", value.chars().take(200).collect::<String>())
                                .with("supported", scope::supported(app).join(" "))
                        })?;
                out.extend(permission.scopes.iter().map(|s| format!("{api}/{s}")));
            }
            None => out.push(value.to_owned()),
        }
    }
    Ok(out.join(" "))
}

/// The requested scopes, when consent covers them: the tenant's admin consent to the
/// app covers all; otherwise the user's own consent to this app. Scopes only an
/// administrator may grant need the admin consent. A user who never consented to any
/// scope of the target API must be asked (ConsentRequired, with a sign-in the app starts);
/// one who consented to some, and not to all asked for, is refused the rest
/// (ScopeNotSubset).
async fn consented(
    ctx: &TokenContext<'_>,
    app: &App,
    resolved: &ResolvedScopes,
    audience: &str,
    user_key: &str,
) -> Result<BTreeSet<String>, CatalogError> {
    resolved.check_admin_consent(app, ctx.tenant.slug.as_str())?;
    let asked = resolved.values();
    if app.admin_consented {
        return Ok(asked);
    }
    let key = Consent::key(&app.client_id, user_key);
    let granted = read::get::<Consent>(ctx.store, ctx.tenant.id, ObjectKind::Consent, &key)
        .await?
        .map(|(_, c)| c.scopes)
        .unwrap_or_default();
    let missing: Vec<&str> = asked
        .iter()
        .filter(|s| !granted.contains(*s))
        .map(String::as_str)
        .collect();
    if missing.is_empty() {
        return Ok(asked);
    }
    let any_of_api = granted
        .iter()
        .any(|s| s.strip_prefix(audience).is_some_and(|r| r.starts_with('/')));
    Err(if any_of_api {
        CatalogError::new(ErrorName::ScopeNotSubset).with("scope", missing.join(" "))
    } else {
        CatalogError::new(ErrorName::ConsentRequired)
            .with("scope", missing.join(" "))
            .with("client_id", app.client_id.clone())
    })
}
