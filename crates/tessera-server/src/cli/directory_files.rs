//! `tessera import FILE` and `tessera export --tenant SLUG`: the declarative tenant file
//! (docs/configuration.md). Import validates the whole file first and reports
//! every invalid field; then it plans against the store's current state and applies the
//! plan in one atomic batch, so nothing is written unless everything is.

use crate::cli::fatal::Fatal;
use std::collections::HashMap;
use tessera_core::clock::Clock;
use tessera_core::crypto::{MasterKey, PasswordParams};
use tessera_core::directory::file::{self, Format, TenantFile};
use tessera_core::directory::plan::{Current, Planner, plan};
use tessera_core::directory::{export, validate};
use tessera_core::ids::TenantId;
use tessera_core::rng::Rng;
use tessera_core::store::object::ObjectKind;
use tessera_core::store::{Store, StoreError};
use tessera_core::tenant::TenantSlug;

fn bad_input(message: String) -> Fatal {
    Fatal { message, status: 2 }
}

fn runtime(message: String) -> Fatal {
    Fatal { message, status: 1 }
}

/// Reads and checks a tenant file; every problem becomes one line of the error.
pub fn read(path: &str) -> Result<TenantFile, Fatal> {
    let text = if path == "-" {
        std::io::read_to_string(std::io::stdin())
    } else {
        std::fs::read_to_string(path)
    }
    .map_err(|e| bad_input(format!("cannot read {path}: {e}")))?;
    let parsed =
        file::parse(&text, Format::of_path(path)).map_err(|e| bad_input(format!("{path}: {e}")))?;
    let problems = validate::check(&parsed);
    if !problems.is_empty() {
        let lines: Vec<String> = problems
            .iter()
            .map(|p| format!("{path}: {}: {} ({})", p.field, p.message, p.code))
            .collect();
        return Err(bad_input(format!(
            "{} invalid field(s); nothing was imported\n{}",
            problems.len(),
            lines.join("\n")
        )));
    }
    Ok(parsed)
}

/// Every object of a tenant, all kinds.
async fn all_objects(
    store: &dyn Store,
    tenant_id: TenantId,
) -> Result<Vec<tessera_core::store::object::StoredObject>, Fatal> {
    let mut objects = Vec::new();
    for kind in ObjectKind::ALL
        .into_iter()
        .filter(|k| !k.is_protocol_state())
    {
        objects.extend(
            store
                .objects(tenant_id, kind)
                .await
                .map_err(|e| runtime(e.to_string()))?,
        );
    }
    Ok(objects)
}

/// The store's current state of each tenant the file names.
async fn current(store: &dyn Store, file: &TenantFile) -> Result<HashMap<String, Current>, Fatal> {
    let mut out = HashMap::new();
    for doc in &file.tenants {
        let slug = TenantSlug::parse_path(&doc.slug).map_err(|e| bad_input(e.message()))?;
        let Some(tenant) = store
            .tenant(&slug)
            .await
            .map_err(|e| runtime(e.to_string()))?
        else {
            continue;
        };
        let objects = all_objects(store, tenant.id).await?;
        out.insert(doc.slug.clone(), Current { tenant, objects });
    }
    Ok(out)
}

/// Imports `file`; returns the report lines (`no changes` when there is nothing to do).
pub async fn import(
    store: &dyn Store,
    file: &TenantFile,
    master: &MasterKey,
    password_params: PasswordParams,
    clock: &dyn Clock,
    rng: &dyn Rng,
) -> Result<Vec<String>, Fatal> {
    let current = current(store, file).await?;
    let planner = Planner {
        master,
        rng,
        password_params,
        now: clock.now(),
    };
    let mut plan = plan(file, &current, &planner).map_err(runtime)?;
    if plan.writes.is_empty() {
        return Ok(vec!["no changes".to_owned()]);
    }
    // What rests on the sign-ins the import ends goes in the same change: sessions and
    // device approvals (codes in flight and refresh tokens end by the user's own stamp).
    for ended in &plan.ended_sign_ins {
        let revocation =
            crate::oauth::revoke_sessions(store, planner.now, ended.tenant_id, &ended.user_key)
                .await
                .map_err(|e| runtime(format!("nothing was imported: {}", e.message())))?;
        plan.writes.extend(revocation.writes);
    }
    store.apply(plan.writes).await.map_err(|e| match e {
        StoreError::Conflict(d) => runtime(format!(
            "the store changed while importing ({d}); nothing was imported, run it again"
        )),
        other => runtime(format!("nothing was imported: {other}")),
    })?;
    // Then the records of those refresh tokens say so.
    for ended in &plan.ended_sign_ins {
        let (tenant, user) = (ended.tenant_id, ended.user_key.as_str());
        crate::oauth::revoke_refresh_tokens(store, planner.now, tenant, user, ended.reason)
            .await
            .map_err(|e| {
                runtime(format!(
                    "imported; marking the refresh tokens of {user} revoked failed ({}), though \
                     the import already voided them",
                    e.message()
                ))
            })?;
    }
    Ok(plan.report)
}

/// The tenant `slug` as a tenant file.
pub async fn export(store: &dyn Store, slug: &str, format: Format) -> Result<String, Fatal> {
    let parsed = TenantSlug::parse_path(slug)
        .map_err(|e| bad_input(format!("--tenant: {}", e.message())))?;
    let tenant = store
        .tenant(&parsed)
        .await
        .map_err(|e| runtime(e.to_string()))?
        .ok_or_else(|| bad_input(format!("--tenant: no tenant has the slug '{slug}'")))?;
    let objects = all_objects(store, tenant.id).await?;
    let doc = export::export(&tenant, &objects).map_err(runtime)?;
    Ok(file::render(&TenantFile { tenants: vec![doc] }, format))
}
