//! Minting the tokens of a grant: an RFC 9068 JWT access token, an OIDC ID token when
//! `openid` was granted, and an opaque refresh token (stored hashed) when
//! `offline_access` was granted and the app may use the refresh grant.

use super::super::signing;
use crate::state::AppState;
use std::collections::BTreeSet;
use tessera_core::crypto::generate_token;
use tessera_core::directory::model::{App, GrantType, User};
use tessera_core::directory::object::{ObjectKind, StoredObject, Write, encode};
use tessera_core::directory::redirect::Platform;
use tessera_core::errors::{CatalogError, ErrorName};
use tessera_core::keys::SigningAlg;
use tessera_core::oauth::jose::left_half_hash;
use tessera_core::oauth::records::{RefreshToken, purpose};
use tessera_core::oauth::scope;
use tessera_core::tenant::Tenant;
use time::OffsetDateTime;

/// Who and what the tokens are for.
pub struct Grant<'a> {
    pub tenant: &'a Tenant,
    pub app: &'a App,
    pub user_id: uuid::Uuid,
    pub user: &'a User,
    pub scopes: BTreeSet<String>,
    pub audience: Option<String>,
    pub nonce: Option<String>,
    pub sid: String,
    pub auth_time: OffsetDateTime,
    pub amr: Vec<String>,
    pub platform: Platform,
    /// When rotating: the family the new refresh token continues, and its end.
    pub lineage: Option<Lineage>,
}

/// A refresh token family: every token descended from one authorization. What the
/// family may ask for is the original grant's, even when this access token is narrower.
#[derive(Debug, Clone)]
pub struct Lineage {
    pub family: String,
    pub family_expires_at: OffsetDateTime,
    pub scopes: BTreeSet<String>,
    pub audience: Option<String>,
}

/// The tokens, with what must be stored or remembered about them.
pub struct Issued {
    pub body: serde_json::Value,
    pub access_jti: String,
    pub access_expires_at: OffsetDateTime,
    /// The refresh token's store key and record, to be written with the grant's change.
    pub refresh: Option<(String, RefreshToken)>,
}

impl Issued {
    /// The write storing the new refresh token, if one was issued (stored by the hash
    /// of its value; the sweeper may delete it once it can no longer be used).
    pub fn refresh_write(&self, state: &AppState, tenant: &Tenant) -> Option<Write> {
        self.refresh.as_ref().map(|(key, record)| {
            let now = state.clock.now();
            Write::Put(
                StoredObject::new(
                    state.rng.record_id(now),
                    tenant.id,
                    ObjectKind::RefreshToken,
                    key.clone(),
                    encode(record),
                    now,
                )
                .expiring(record.expires_at),
            )
        })
    }
}

/// The UserInfo endpoint URL: the audience of tokens that carry only OIDC scopes.
pub fn userinfo_url(state: &AppState, tenant: &Tenant) -> String {
    format!("{}/oauth2/userinfo", state.issuer(tenant.slug.as_str()))
}

fn internal(detail: String) -> CatalogError {
    CatalogError::new(ErrorName::InternalError).internal(detail)
}

pub async fn tokens(state: &AppState, grant: Grant<'_>) -> Result<Issued, CatalogError> {
    let now = state.clock.now();
    let policy = &grant.tenant.policy;
    let issuer = state.issuer(grant.tenant.slug.as_str());
    let alg = grant.app.token_signing_alg.unwrap_or(SigningAlg::EdDSA);
    let signer = signing::active(state, grant.tenant.id, alg).await?;
    let lifetime = i64::from(policy.access_token_lifetime_seconds);
    let exp = now + time::Duration::seconds(lifetime);
    let jti = state.rng.uuid().to_string();
    let audience = grant
        .audience
        .clone()
        .unwrap_or_else(|| userinfo_url(state, grant.tenant));
    let scope_string = grant.scopes.iter().cloned().collect::<Vec<_>>().join(" ");
    // `scp` holds the API's own scope names (the audience already names the API), as
    // Entra ID does; `scope` the values as granted (RFC 9068 §2.2.3).
    let scp: Vec<&str> = grant
        .scopes
        .iter()
        .map(|s| match &grant.audience {
            Some(api) => s
                .strip_prefix(api.as_str())
                .and_then(|r| r.strip_prefix('/'))
                .unwrap_or(s),
            None => s,
        })
        .collect();
    // RFC 9068 §2.2.
    let access_claims = serde_json::json!({
        "iss": issuer,
        "sub": grant.user_id.to_string(),
        "aud": audience,
        "client_id": grant.app.client_id,
        "scope": scope_string,
        "scp": scp.join(" "),
        "iat": now.unix_timestamp(),
        "nbf": now.unix_timestamp(),
        "exp": exp.unix_timestamp(),
        "jti": jti,
        "auth_time": grant.auth_time.unix_timestamp(),
        "sid": grant.sid,
        "tid": grant.tenant.id.to_string(),
    });
    // RFC 9068 §2.1: typ "at+jwt", so an access token is never mistaken for an ID token.
    let access_token = signer.sign("at+jwt", &access_claims).map_err(internal)?;
    let mut body = serde_json::json!({
        "access_token": access_token,
        "token_type": "Bearer",
        "expires_in": lifetime,
        "scope": scope_string,
    });

    if grant.scopes.contains(scope::OPENID) {
        // OIDC Core §2 and §3.1.3.6.
        let mut id = serde_json::json!({
            "iss": issuer,
            "sub": grant.user_id.to_string(),
            "aud": grant.app.client_id,
            "azp": grant.app.client_id,
            "exp": exp.unix_timestamp(),
            "iat": now.unix_timestamp(),
            "auth_time": grant.auth_time.unix_timestamp(),
            "at_hash": left_half_hash(alg, &access_token),
            "sid": grant.sid,
            "amr": grant.amr,
            "tid": grant.tenant.id.to_string(),
        });
        if let Some(nonce) = &grant.nonce {
            id["nonce"] = nonce.clone().into();
        }
        if grant.scopes.contains(scope::PROFILE) {
            id["preferred_username"] = grant.user.username.as_str().into();
            if let Some(name) = &grant.user.name {
                id["name"] = name.clone().into();
            }
        }
        if grant.scopes.contains(scope::EMAIL)
            && let Some(email) = &grant.user.email
        {
            id["email"] = email.clone().into();
            // Addresses are entered by administrators, not verified by Tessera.
            id["email_verified"] = false.into();
        }
        body["id_token"] = signer.sign("JWT", &id).map_err(internal)?.into();
    }

    // A rotation always continues its family, even when this access token's scopes
    // were narrowed to leave out offline_access.
    let refresh = if (grant.lineage.is_some() || grant.scopes.contains(scope::OFFLINE_ACCESS))
        && grant.app.grant_types.contains(&GrantType::RefreshToken)
    {
        let value = generate_token(state.rng.as_ref());
        let lineage = grant.lineage.clone().unwrap_or_else(|| {
            // A new family: SPA tokens get their short fixed life, others the absolute one.
            let life = if grant.platform == Platform::Spa {
                policy.spa_refresh_token_lifetime_seconds
            } else {
                policy.refresh_token_lifetime_seconds
            };
            Lineage {
                family: state.rng.uuid().to_string(),
                family_expires_at: now + time::Duration::seconds(i64::from(life)),
                scopes: grant.scopes.clone(),
                audience: grant.audience.clone(),
            }
        });
        let idle_end = now + time::Duration::seconds(i64::from(policy.refresh_token_idle_seconds));
        let record = RefreshToken {
            client_id: grant.app.client_id.clone(),
            user: grant.user.username.key(),
            user_id: Some(grant.user_id),
            scopes: lineage.scopes,
            audience: lineage.audience,
            sid: grant.sid.clone(),
            family: lineage.family,
            platform: grant.platform,
            amr: grant.amr.clone(),
            auth_time: grant.auth_time,
            issued_at: now,
            expires_at: idle_end.min(lineage.family_expires_at),
            family_expires_at: lineage.family_expires_at,
            revoked: None,
        };
        body["refresh_token"] = value.clone().into();
        Some((state.master.token_hash(purpose::REFRESH, &value), record))
    } else {
        None
    };
    Ok(Issued {
        body,
        access_jti: jti,
        access_expires_at: exp,
        refresh,
    })
}
