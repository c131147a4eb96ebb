//! Turns a validated tenant file and the store's current state into the writes that make
//! the store match the file, and a report of what changes. Import is additive: objects
//! that exist in the store but not in the file are left alone, and so are passwords,
//! TOTP secrets and client secrets the file does not mention (export never prints them,
//! so export → import must not erase them). A second run of the same file plans nothing.

use super::file::{AppDoc, ScopeDoc, TenantDoc, TenantFile, UserDoc};
use super::model::{Api, ApiScope, App, ClientSecret, GrantType, Group, User};
use super::names::Username;
use crate::audit::{AuditEntry, changed_fields};
use crate::crypto::{MasterKey, PasswordParams, hash_password, verify_password};
use crate::ids::ClientId;
use crate::ids::ObjectId;
use crate::ids::{TenantId, UserId};
use crate::rng::Rng;
use crate::secret::Secret;
use crate::store::object::{ObjectKind, StoredObject, Write, encode};
use crate::tenant::{NewTenant, Tenant, TenantSlug};
use serde::{Serialize, de::DeserializeOwned};
use std::collections::{BTreeSet, HashMap};
use time::OffsetDateTime;

/// A tenant as it is in the store now.
#[derive(Debug, Clone)]
pub struct Current {
    pub tenant: Tenant,
    pub objects: Vec<StoredObject>,
}

/// What planning needs besides the file and the current state.
pub struct Planner<'a> {
    pub master: &'a MasterKey,
    pub rng: &'a dyn Rng,
    pub password_params: PasswordParams,
    pub now: OffsetDateTime,
}

#[derive(Debug, Default)]
pub struct Plan {
    pub writes: Vec<Write>,
    /// One line per created or updated object, e.g. `contoso: created user alice`.
    pub report: Vec<String>,
    /// Users whose sign-ins the import ends (disabled, or given a new password), as the
    /// admin API would: the importer revokes what rests on them in the same change.
    pub ended_sign_ins: Vec<EndedSignIns>,
}

/// A user whose sign-ins an import ends, and why (the reason revoked refresh tokens
/// carry).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EndedSignIns {
    pub tenant_id: TenantId,
    pub user_key: String,
    pub reason: &'static str,
}

/// Plans the import of a file that passed [`super::validate::check`]. `current` maps
/// slugs to their state for the tenants that exist.
pub fn plan(
    file: &TenantFile,
    current: &HashMap<String, Current>,
    p: &Planner,
) -> Result<Plan, String> {
    let mut out = Plan::default();
    for doc in &file.tenants {
        plan_tenant(doc, current.get(&doc.slug), p, &mut out)?;
    }
    Ok(out)
}

/// Existing objects of one kind, by key.
type ByKey<'a> = HashMap<&'a str, &'a StoredObject>;

struct TenantPlan<'a, 'p> {
    slug: &'a str,
    tenant_id: TenantId,
    existing: HashMap<ObjectKind, ByKey<'a>>,
    p: &'a Planner<'p>,
    /// Ids drawn for objects that do not exist yet, so a user's id is known before the
    /// user is written (its TOTP secret is sealed against it).
    new_ids: HashMap<(ObjectKind, String), ObjectId>,
    out: &'a mut Plan,
}

impl TenantPlan<'_, '_> {
    fn existing<T: DeserializeOwned>(
        &self,
        kind: ObjectKind,
        key: &str,
    ) -> Result<Option<(&StoredObject, T)>, String> {
        match self.existing.get(&kind).and_then(|m| m.get(key)) {
            Some(obj) => Ok(Some((obj, obj.decode::<T>()?))),
            None => Ok(None),
        }
    }

    /// The id of the object `key`: the stored one, or one drawn now and kept.
    fn id_for(&mut self, kind: ObjectKind, key: &str) -> ObjectId {
        if let Some(obj) = self.existing.get(&kind).and_then(|m| m.get(key)) {
            return obj.id;
        }
        let rng = self.p.rng;
        *self
            .new_ids
            .entry((kind, key.to_owned()))
            .or_insert_with(|| rng.object_id())
    }

    /// Writes `value` under `key` unless it is already stored exactly so.
    fn put<T: Serialize + DeserializeOwned + PartialEq>(
        &mut self,
        kind: ObjectKind,
        key: &str,
        value: &T,
        label: &str,
    ) -> Result<ObjectId, String> {
        let (object, verb, before) = match self.existing::<T>(kind, key)? {
            Some((obj, old)) if &old == value => return Ok(obj.id),
            Some((obj, old)) => (
                obj.clone().with_doc(encode(value), self.p.now),
                "updated",
                serde_json::to_value(&old).unwrap_or_default(),
            ),
            None => {
                let id = self.id_for(kind, key);
                let new =
                    StoredObject::new(id, self.tenant_id, kind, key, encode(value), self.p.now);
                (new, "created", serde_json::json!({}))
            }
        };
        let id = object.id;
        let after = serde_json::to_value(value).unwrap_or_default();
        self.out.writes.push(Write::Audit(AuditEntry {
            id: self.p.rng.object_id(),
            tenant_id: self.tenant_id,
            at: self.p.now,
            actor: "import".to_owned(),
            action: format!(
                "{}.{}",
                kind.as_str(),
                if verb == "created" {
                    "create"
                } else {
                    "update"
                }
            ),
            target: format!("{}:{key}", kind.as_str()),
            changes: changed_fields(&before, &after),
        }));
        self.out.writes.push(Write::Put(object));
        self.out
            .report
            .push(format!("{}: {verb} {} {label}", self.slug, kind.as_str()));
        Ok(id)
    }
}

fn plan_tenant(
    doc: &TenantDoc,
    current: Option<&Current>,
    p: &Planner,
    out: &mut Plan,
) -> Result<(), String> {
    let slug = TenantSlug::parse_path(&doc.slug).map_err(|e| e.message())?;
    let tenant_id = match current {
        Some(c) => {
            let display_name = doc
                .display_name
                .clone()
                .unwrap_or_else(|| c.tenant.display_name.clone());
            if display_name != c.tenant.display_name
                || doc.kind != c.tenant.kind
                || doc.policy != c.tenant.policy
            {
                out.writes.push(Write::UpdateTenant {
                    id: c.tenant.id,
                    display_name,
                    kind: doc.kind,
                    policy: encode(&doc.policy),
                    disabled: c.tenant.disabled,
                    at: p.now,
                });
                out.report.push(format!("{slug}: updated tenant"));
                let before = serde_json::json!({"display_name": c.tenant.display_name, "kind": c.tenant.kind, "policy": c.tenant.policy});
                let after = serde_json::json!({"display_name": doc.display_name.as_ref().unwrap_or(&c.tenant.display_name), "kind": doc.kind, "policy": doc.policy});
                out.writes.push(tenant_audit(
                    p,
                    c.tenant.id,
                    &slug,
                    "tenant.update",
                    changed_fields(&before, &after),
                ));
            }
            c.tenant.id
        }
        None => {
            let id = TenantId::from_uuid(p.rng.uuid());
            out.writes.push(Write::CreateTenant(NewTenant {
                id,
                slug: slug.clone(),
                display_name: doc.display_name.clone().unwrap_or_else(|| slug.to_string()),
                kind: doc.kind,
                policy: doc.policy.clone(),
                created_at: p.now,
            }));
            out.report.push(format!("{slug}: created tenant"));
            let fields = ["display_name", "kind", "policy", "slug"]
                .map(str::to_owned)
                .to_vec();
            out.writes
                .push(tenant_audit(p, id, &slug, "tenant.create", fields));
            id
        }
    };
    // Every tenant signs with its own keys: a new one (or one that somehow has none)
    // gets an active key of each algorithm.
    let has_keys =
        current.is_some_and(|c| c.objects.iter().any(|o| o.kind == ObjectKind::SigningKey));
    if !has_keys {
        out.writes.extend(crate::keys::initial_keys(
            tenant_id, p.master, p.rng, p.now,
        )?);
        out.report.push(format!(
            "{slug}: created signing keys (EdDSA, ES256, RS256)"
        ));
    }
    let mut existing: HashMap<ObjectKind, ByKey> = HashMap::new();
    for obj in current.iter().flat_map(|c| &c.objects) {
        existing
            .entry(obj.kind)
            .or_default()
            .insert(obj.key.as_str(), obj);
    }
    let mut tp = TenantPlan {
        slug: slug.as_str(),
        tenant_id,
        existing,
        p,
        new_ids: HashMap::new(),
        out,
    };

    let mut group_names: BTreeSet<&str> = doc.groups.iter().map(|g| g.name.as_str()).collect();
    group_names.extend(
        doc.users
            .iter()
            .flat_map(|u| u.groups.iter().map(String::as_str)),
    );
    for name in group_names {
        let app_roles = doc
            .groups
            .iter()
            .find(|g| g.name == name)
            .map(|g| g.app_roles.iter().cloned().collect())
            .unwrap_or_default();
        let group = Group {
            name: name.to_owned(),
            app_roles,
        };
        tp.put(ObjectKind::Group, name, &group, name)?;
    }
    for u in &doc.users {
        let user = plan_user(&mut tp, u)?;
        tp.put(
            ObjectKind::User,
            &user.username.key(),
            &user,
            user.username.as_str(),
        )?;
    }
    for a in &doc.apis {
        let api = Api {
            identifier: a.identifier.clone(),
            name: a.name.clone(),
            scopes: a.scopes.iter().map(scope).collect(),
            app_roles: a.app_roles.clone(),
            client_id: a.client_id.as_deref().map(ClientId::new),
            access_token_signing_alg: a
                .access_token_signing_alg
                .as_deref()
                .and_then(crate::keys::SigningAlg::parse),
        };
        tp.put(ObjectKind::Api, &api.identifier, &api, &api.identifier)?;
    }
    for a in &doc.apps {
        let app = plan_app(&tp, doc, a)?;
        let key = app.client_id.to_string();
        tp.put(ObjectKind::App, &key, &app, &key)?;
    }
    Ok(())
}

fn tenant_audit(
    p: &Planner,
    tenant_id: TenantId,
    slug: &TenantSlug,
    action: &str,
    changes: Vec<String>,
) -> Write {
    Write::Audit(AuditEntry {
        id: p.rng.object_id(),
        tenant_id,
        at: p.now,
        actor: "import".to_owned(),
        action: action.to_owned(),
        target: format!("tenant:{slug}"),
        changes,
    })
}

fn scope(s: &ScopeDoc) -> ApiScope {
    match s {
        ScopeDoc::Name(n) => ApiScope {
            name: n.clone(),
            description: format!("Use the {n} permission"),
            admin_consent_required: false,
        },
        ScopeDoc::Full(d) => ApiScope {
            name: d.name.clone(),
            description: d
                .description
                .clone()
                .unwrap_or_else(|| format!("Use the {} permission", d.name)),
            admin_consent_required: d.admin_consent_required,
        },
    }
}

fn plan_user(tp: &mut TenantPlan, u: &UserDoc) -> Result<User, String> {
    let username = Username::parse(&u.username).map_err(str::to_owned)?;
    let context = totp_context(
        tp.tenant_id,
        UserId::of(tp.id_for(ObjectKind::User, &username.key())),
    );
    let old = tp.existing::<User>(ObjectKind::User, &username.key())?;
    let old_user = old.as_ref().map(|(_, user)| user);
    let password_hash = match (&u.password, old_user.and_then(|o| o.password_hash.clone())) {
        // Keep the stored hash when the file's password still matches it, so a second
        // import changes nothing (a fresh salt would).
        (Some(pw), Some(hash)) if verify_password(&Secret::new(pw.clone()), &hash) => Some(hash),
        (Some(pw), _) => Some(hash_password(
            &Secret::new(pw.clone()),
            tp.p.password_params,
            tp.p.rng,
        )),
        (None, kept) => kept,
    };
    let kept = old_user.and_then(|o| o.totp_secret_sealed.clone());
    let totp_secret_sealed = match (&u.totp_secret, kept) {
        // Unchanged secrets keep their sealed form (a fresh nonce would be a change).
        (Some(secret), Some(sealed))
            if tp.p.master.open(&sealed, &context).as_deref() == Some(secret.as_bytes()) =>
        {
            Some(sealed)
        }
        (Some(secret), _) => Some(tp.p.master.seal(tp.p.rng, secret.as_bytes(), &context)),
        (None, kept) => kept,
    };
    let mut user = User {
        email: u.email.clone(),
        name: u.name.clone(),
        enabled: u.enabled,
        totp_secret_sealed,
        // Not in the file: issued to the user at enrolment.
        recovery_codes: old_user
            .map(|o| o.recovery_codes.clone())
            .unwrap_or_default(),
        groups: u.groups.iter().cloned().collect(),
        app_roles: u.app_roles.iter().cloned().collect(),
        username,
        // Not in the file: a revocation stays in force through an import, and so does
        // a temporary password the file leaves as it was.
        sessions_valid_from: old_user.and_then(|o| o.sessions_valid_from),
        password_change_required: old_user
            .is_some_and(|o| o.password_change_required && o.password_hash == password_hash),
        password_hash,
    };
    // Disabling a user or setting a new password ends their sign-ins, whether the admin
    // API or a file does it; enabling them again later revives nothing.
    let reason = match old_user {
        Some(old) if old.enabled && !user.enabled => Some("the user was disabled"),
        Some(old) if old.password_hash.is_some() && old.password_hash != user.password_hash => {
            Some("the password was reset")
        }
        _ => None,
    };
    if let Some(reason) = reason {
        user.end_sign_ins(tp.p.now);
        tp.out.ended_sign_ins.push(EndedSignIns {
            tenant_id: tp.tenant_id,
            user_key: user.username.key(),
            reason,
        });
    }
    Ok(user)
}

/// The AEAD context of a user's sealed TOTP secret.
pub fn totp_context(tenant_id: TenantId, user_id: UserId) -> String {
    format!("totp/{tenant_id}/{user_id}")
}

fn plan_app(tp: &TenantPlan, tenant: &TenantDoc, a: &AppDoc) -> Result<App, String> {
    // Without a client_id, an existing app of the same name keeps its id; otherwise one
    // is generated.
    let client_id = match &a.client_id {
        Some(id) => id.clone(),
        None => {
            let same_name = tp
                .existing
                .get(&ObjectKind::App)
                .into_iter()
                .flat_map(|m| m.values())
                .find_map(|obj| {
                    obj.decode::<App>()
                        .ok()
                        .filter(|app| app.name == a.name)
                        .map(|app| app.client_id.into())
                });
            same_name.unwrap_or_else(|| tp.p.rng.uuid().to_string())
        }
    };
    let old = tp
        .existing::<App>(ObjectKind::App, &client_id)?
        .map(|(_, app)| app);
    let mut secrets = old.as_ref().map(|o| o.secrets.clone()).unwrap_or_default();
    for s in a.secrets.iter().flatten() {
        let value = Secret::new(s.value.clone());
        let hash = tp.p.master.secret_hash(&value);
        let expires_at = match &s.expires_at {
            Some(t) => Some(
                OffsetDateTime::parse(t, &time::format_description::well_known::Rfc3339)
                    .map_err(|e| e.to_string())?,
            ),
            None => None,
        };
        match secrets.iter_mut().find(|old| old.hash == hash) {
            Some(old) => old.expires_at = expires_at,
            None => secrets.push(ClientSecret {
                id: tp.p.rng.uuid(),
                hint: s.value.chars().take(3).collect(),
                hash,
                expires_at,
                created_at: tp.p.now,
            }),
        }
    }
    let assignments: Vec<_> = tenant
        .assignments
        .iter()
        .filter(|x| x.app == client_id || (a.client_id.is_none() && x.app == a.name))
        .collect();
    let assigned_users = assignments
        .iter()
        .filter_map(|x| x.user.as_ref().map(|u| u.to_lowercase()))
        .collect();
    let assigned_groups = assignments.iter().filter_map(|x| x.group.clone()).collect();
    Ok(App {
        client_id: ClientId::new(client_id),
        name: a.name.clone(),
        multi_tenant: a.multi_tenant,
        personal_accounts: a.personal_accounts,
        assignment_required: a.assignment_required,
        mfa_required: a.mfa_required,
        redirect_uris: (&a.redirect_uris).into(),
        post_logout_redirect_uris: a.post_logout_redirect_uris.clone(),
        backchannel_logout_uri: a.backchannel_logout_uri.clone(),
        frontchannel_logout_uri: a.frontchannel_logout_uri.clone(),
        allowed_platforms: a.allowed_platforms.clone(),
        secrets,
        jwks: a.jwks.clone(),
        grant_types: a
            .grant_types
            .iter()
            .filter_map(|g| GrantType::parse(g))
            .collect(),
        implicit: a.implicit,
        permissions: a.permissions.clone(),
        admin_consented: a.admin_consented,
        assigned_users,
        assigned_groups,
        id_token_signed_response_alg: a
            .id_token_signed_response_alg
            .as_deref()
            .and_then(crate::keys::SigningAlg::parse),
        enabled: a.enabled,
        tokens_valid_from: tokens_valid_from(old.as_ref(), a.enabled, tp.p.now),
    })
}

/// [`App::tokens_valid_from`] after a change that leaves the app `enabled`: a new app's
/// credentials start now, a disabled app's end now, otherwise they stay as they were.
pub fn tokens_valid_from(
    old: Option<&App>,
    enabled: bool,
    now: OffsetDateTime,
) -> Option<OffsetDateTime> {
    match old {
        None => Some(now),
        Some(old) if old.enabled && !enabled => Some(now),
        Some(old) => old.tokens_valid_from,
    }
}
