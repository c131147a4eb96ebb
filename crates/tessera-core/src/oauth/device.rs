//! The device authorization grant (RFC 8628), without HTTP: the record a device
//! authorization keeps, its two codes, and [`start`], the device authorization
//! endpoint's work (§3.1–3.2). The token endpoint's polling is
//! `token::grant::device_code`; the page where the user enters the code, signs in and
//! answers is the server's.
//!
//! Neither code is stored in a usable form. The record is stored under the keyed hash
//! of its user code (what the page looks it up by); the device code is the record's
//! object id sealed under the master key and bound to the tenant (what the token
//! endpoint opens to find it by id), so the store holds no form of it at all
//! (docs/decisions/0017-device-codes-not-stored.md).

use crate::directory::model::{App, GrantType};
use crate::errors::{CatalogError, ErrorName};
use crate::ids::{ClientId, ObjectId, TenantId, UserId};
use crate::oauth::params::Params;
use crate::oauth::scope;
use crate::oauth::token::TokenContext;
use crate::store::StoreError;
use crate::store::object::{ObjectKind, StoredObject, Write, encode};
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;
use time::OffsetDateTime;

/// How long the user has to enter the code and answer (`expires_in`), as Entra ID.
pub const LIFETIME_SECONDS: i64 = 900;
/// The polling interval a device starts with (§3.2's default).
pub const INTERVAL_SECONDS: u32 = 5;
/// §3.5: what `slow_down` adds to the interval, for that and every later request.
pub const SLOW_DOWN_SECONDS: u32 = 5;
/// The record stays this long past its end, so a device polling late is told the code
/// expired rather than that it is unknown.
const KEPT_AFTER_EXPIRY_SECONDS: i64 = 3600;

/// §6.1: user codes of 8 characters from the 20 consonants the RFC suggests: no vowels
/// (no words are spelled), no digits (nothing to confuse with O, I or S, which are
/// absent or alone); 20^8 ≈ 2^34.6 codes.
const ALPHABET: &[u8; 20] = b"BCDFGHJKLMNPQRSTVWXZ";
pub const USER_CODE_LENGTH: usize = 8;

/// What the store keeps of one device authorization.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeviceAuthorization {
    pub client_id: ClientId,
    pub scopes: BTreeSet<String>,
    /// The API the access token is for; `None`: the UserInfo endpoint.
    pub audience: Option<String>,
    /// The device's `User-Agent`, shown on the confirmation page (§5.4: the user must
    /// be able to tell whether it is their device asking).
    pub device: Option<String>,
    /// The interval the device must keep between polls, grown by `slow_down`.
    pub interval: u32,
    #[serde(with = "time::serde::rfc3339::option")]
    pub last_poll: Option<OffsetDateTime>,
    /// When the device asked: an app disabled since voids the authorization
    /// (`App::tokens_valid_from`).
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub expires_at: OffsetDateTime,
    /// Where the user's answer stands; its `user` member is the record's owner
    /// (`StoredObject::owner`), so revoking a user's records finds it.
    #[serde(flatten)]
    pub answer: Answer,
}

/// The user's answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum Answer {
    /// No one has answered yet.
    Pending,
    /// The user allowed the device: who, and how they signed in.
    Approved(Approval),
    /// The user declined.
    Denied { user: String },
    /// The device got its tokens; the codes are spent.
    Redeemed { user: String },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Approval {
    pub user: String,
    pub user_id: UserId,
    pub sid: String,
    #[serde(with = "time::serde::rfc3339")]
    pub auth_time: OffsetDateTime,
    pub amr: Vec<String>,
}

/// `token_hash` purposes and sealing contexts of the two codes.
const USER_CODE_PURPOSE: &str = "device_user_code";
const DEVICE_CODE_PURPOSE: &str = "device_code";

/// A new user code: [`USER_CODE_LENGTH`] characters of [`ALPHABET`], uniformly.
pub fn new_user_code(rng: &dyn crate::rng::Rng) -> String {
    let mut out = String::with_capacity(USER_CODE_LENGTH);
    while out.len() < USER_CODE_LENGTH {
        let mut byte = [0u8; 1];
        rng.fill(&mut byte);
        // 240 = 12 × 20: rejecting the rest keeps every character equally likely.
        if byte[0] < 240 {
            out.push(char::from(ALPHABET[usize::from(byte[0] % 20)]));
        }
    }
    out
}

/// The user code as shown: `XXXX-XXXX` (§6.1: a separator helps reading it out).
pub fn display(code: &str) -> String {
    let (a, b) = code.split_at(code.len().min(USER_CODE_LENGTH / 2));
    format!("{a}-{b}")
}

/// The user code a person typed: case, hyphens and spaces do not matter (§6.1). `None`
/// when it cannot be a code at all.
pub fn normalize(typed: &str) -> Option<String> {
    let code: String = typed
        .chars()
        .filter(|c| !matches!(c, '-' | ' ' | '\t'))
        .map(|c| c.to_ascii_uppercase())
        .collect();
    (code.len() == USER_CODE_LENGTH && code.bytes().all(|b| ALPHABET.contains(&b))).then_some(code)
}

/// The store key of the record with the (normalized) user code `code`.
pub fn user_code_key(master: &crate::crypto::MasterKey, code: &str) -> String {
    master.token_hash(USER_CODE_PURPOSE, code)
}

fn device_code_context(tenant_id: TenantId) -> String {
    format!("{DEVICE_CODE_PURPOSE}/{tenant_id}")
}

/// The device code of the record stored under `id`.
pub fn seal_device_code(
    master: &crate::crypto::MasterKey,
    rng: &dyn crate::rng::Rng,
    tenant_id: TenantId,
    id: ObjectId,
) -> String {
    master.seal_bearer(
        rng,
        id.as_uuid().as_bytes(),
        &device_code_context(tenant_id),
    )
}

/// The record id a device code carries; `None` for anything this tenant did not issue.
pub fn open_device_code(
    master: &crate::crypto::MasterKey,
    tenant_id: TenantId,
    value: &str,
) -> Option<ObjectId> {
    let plain = master.open_bearer(value, &device_code_context(tenant_id))?;
    let bytes: [u8; 16] = plain.try_into().ok()?;
    Some(ObjectId::from_uuid(uuid::Uuid::from_bytes(bytes)))
}

/// The device authorization response (§3.2).
#[derive(Debug, Serialize)]
pub struct DeviceAuthorizationResponse {
    pub device_code: String,
    pub user_code: String,
    pub verification_uri: String,
    pub verification_uri_complete: String,
    pub expires_in: i64,
    pub interval: u32,
}

/// The page where users enter codes for the tenant whose issuer is `issuer`.
pub fn verification_uri(issuer: &str) -> String {
    format!("{issuer}/device")
}

/// The device authorization endpoint (§3.1) for the authenticated `app`: the app must
/// be allowed the grant, the scopes resolve as at the authorization endpoint, and
/// scopes only an administrator may grant need the tenant's admin consent up front
/// (no page can ask an administrator from a device). `device`: the request's
/// `User-Agent`.
pub async fn start(
    ctx: &TokenContext<'_>,
    app: &App,
    params: &Params,
    device: Option<&str>,
) -> Result<DeviceAuthorizationResponse, CatalogError> {
    if !app.grant_types.contains(&GrantType::DeviceCode) {
        return Err(CatalogError::new(ErrorName::UnauthorizedGrantType)
            .with("client_id", app.client_id.clone())
            .with("grant_type", GrantType::DeviceCode.as_str()));
    }
    let apis = ctx.services.apis(ctx.tenant.id).await?;
    let resolved = scope::resolve(params.get("scope").unwrap_or_default(), app, &apis)?;
    resolved.check_admin_consent(app, ctx.tenant.slug.as_str())?;
    let now = ctx.clock.now();
    let record = DeviceAuthorization {
        client_id: app.client_id.clone(),
        scopes: resolved.values(),
        audience: resolved.audience.clone(),
        device: device.map(|d| d.chars().take(200).collect()),
        interval: INTERVAL_SECONDS,
        last_poll: None,
        created_at: now,
        expires_at: now + time::Duration::seconds(LIFETIME_SECONDS),
        answer: Answer::Pending,
    };
    // A user code already in use (by a live record, or one not yet swept) conflicts;
    // another is drawn. Three collisions in a row mean something else is wrong.
    let mut last = None;
    for _ in 0..3 {
        let user_code = new_user_code(ctx.rng);
        let id = ctx.rng.record_id(now);
        let object = StoredObject::new(
            id,
            ctx.tenant.id,
            ObjectKind::DeviceCode,
            user_code_key(ctx.master, &user_code),
            encode(&record),
            now,
        )
        .expiring(record.expires_at + time::Duration::seconds(KEPT_AFTER_EXPIRY_SECONDS));
        match ctx.store.apply(vec![Write::Put(object)]).await {
            Ok(()) => {
                let verification_uri = verification_uri(&ctx.issuer);
                let shown = display(&user_code);
                return Ok(DeviceAuthorizationResponse {
                    device_code: seal_device_code(ctx.master, ctx.rng, ctx.tenant.id, id),
                    verification_uri_complete: format!("{verification_uri}?user_code={shown}"),
                    verification_uri,
                    user_code: shown,
                    expires_in: LIFETIME_SECONDS,
                    interval: INTERVAL_SECONDS,
                });
            }
            Err(StoreError::Conflict(e)) => last = Some(e),
            Err(e) => return Err(e.into()),
        }
    }
    Err(CatalogError::new(ErrorName::InternalError)
        .internal(format!("three user codes in a row were taken: {last:?}")))
}

/// The record the user code `typed` names, while it may still be answered: for the
/// device page, which shows DeviceUserCodeInvalid (let the user type again) or
/// DeviceUserCodeExpired.
pub async fn pending(
    store: &dyn crate::store::Store,
    master: &crate::crypto::MasterKey,
    tenant_id: TenantId,
    now: OffsetDateTime,
    typed: &str,
) -> Result<(StoredObject, DeviceAuthorization), CatalogError> {
    let invalid = |why: &str| CatalogError::new(ErrorName::DeviceUserCodeInvalid).internal(why);
    let code = normalize(typed).ok_or_else(|| invalid("not a user code"))?;
    let key = user_code_key(master, &code);
    let (object, record) = crate::store::read::get::<DeviceAuthorization>(
        store,
        tenant_id,
        ObjectKind::DeviceCode,
        &key,
    )
    .await?
    .ok_or_else(|| invalid("no such user code"))?;
    if record.expires_at <= now {
        return Err(CatalogError::new(ErrorName::DeviceUserCodeExpired));
    }
    if record.answer != Answer::Pending {
        return Err(invalid("already answered"));
    }
    Ok((object, record))
}

/// Stores the user's `answer` to the record read as `object`, unless it changed since
/// (another answer on another page: `Conflict`).
pub async fn answer(
    store: &dyn crate::store::Store,
    now: OffsetDateTime,
    object: StoredObject,
    record: DeviceAuthorization,
    answer: Answer,
) -> Result<(), CatalogError> {
    let answered = DeviceAuthorization { answer, ..record };
    store
        .apply(vec![Write::Put(object.with_doc(encode(&answered), now))])
        .await
        .map_err(CatalogError::from)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::SequenceRng;

    #[test]
    fn user_codes_use_the_alphabet_and_read_back_however_typed() {
        let rng = SequenceRng::new(3);
        let mut seen = BTreeSet::new();
        for _ in 0..200 {
            let code = new_user_code(&rng);
            assert_eq!(code.len(), USER_CODE_LENGTH);
            assert!(code.bytes().all(|b| ALPHABET.contains(&b)), "{code}");
            let shown = display(&code);
            assert_eq!(shown.len(), 9);
            assert_eq!(&shown[4..5], "-");
            for typed in [shown.clone(), shown.to_lowercase(), format!(" {code} ")] {
                assert_eq!(normalize(&typed).as_deref(), Some(code.as_str()), "{typed}");
            }
            seen.insert(code);
        }
        assert!(seen.len() > 190, "codes repeat: {}", seen.len());
        // Look-alikes, vowels, wrong lengths and other scripts are no code.
        for typed in [
            "BCDF-GHJ0",
            "BCDF-GHJA",
            "BCDF-GHJ",
            "BCDF-GHJKM",
            "ＢCDF-GHJK",
            "",
        ] {
            assert_eq!(normalize(typed), None, "{typed}");
        }
    }

    #[test]
    fn a_device_code_opens_only_at_its_tenant_unaltered() {
        let master = crate::crypto::MasterKey::from_bytes(&[5; 32]);
        let rng = SequenceRng::new(4);
        let tenant = TenantId::from_uuid(uuid::Uuid::from_u128(1));
        let other = TenantId::from_uuid(uuid::Uuid::from_u128(2));
        let id = ObjectId::from_uuid(uuid::Uuid::from_u128(0xdead));
        let code = seal_device_code(&master, &rng, tenant, id);
        assert_eq!(open_device_code(&master, tenant, &code), Some(id));
        assert_eq!(open_device_code(&master, other, &code), None);
        let mut altered = code.clone().into_bytes();
        let last = altered.len() - 3;
        altered[last] = if altered[last] == b'A' { b'B' } else { b'A' };
        let altered = String::from_utf8(altered).unwrap();
        assert_eq!(open_device_code(&master, tenant, &altered), None);
        assert_eq!(open_device_code(&master, tenant, "not-a-code"), None);
    }
}
