//! Several writes as one PostgreSQL statement: each write a data-modifying CTE, the
//! announcements of changes in its final `SELECT`. A refresh rotation or a code
//! redemption (two versioned puts) then costs one round trip instead of four (`BEGIN`,
//! two statements, `COMMIT`); on two cores shared with the database, round trips are
//! what bound those grants.
//!
//! Atomicity is the statement's: a write that must change a row and changed none makes
//! `tessera_expect_row` (migration 0005) raise, and the error rolls every write back.
//! Within one statement the writes cannot see each other's effects and run in no
//! defined order, so only writes that cannot interact go this way: puts of protocol
//! records (keys are hashes of their bearer values and never change, so no write frees
//! a key another one takes), each of a different object.
//!
//! A conditional batch (`Store::apply_if`, [`Batch::required`]) reads the required
//! object in a first CTE `g` and returns its row; when `g` found none meeting the
//! requirement, the final `SELECT` raises (`tessera_expect_row` with the index one past
//! the writes, [`Batch::unmet`]) and the writes roll back with the statement, as a
//! failed write's do. The writes' own SQL is left as it is.

use crate::sql::{Expect, Stmt, Value};
use std::collections::HashMap;
use std::fmt::Write as _;
use std::sync::{Arc, LazyLock, Mutex, PoisonError};
use tessera_core::store::object::Write;
use tessera_core::store::{Change, Requirement, StoreError};

/// The SQLSTATE `tessera_expect_row` raises.
pub const NO_ROW: &str = "TS001";

/// One statement carrying out a batch of writes.
#[derive(Debug)]
pub struct Batch<'a> {
    pub sql: Arc<str>,
    pub params: Vec<Value>,
    statements: &'a [Stmt],
    guarded: bool,
}

impl<'a> Batch<'a> {
    /// The batch as one statement, when its writes allow it (see the module comment).
    pub fn of(
        writes: &[Write],
        statements: &'a [Stmt],
        changes: &std::collections::BTreeSet<Change>,
    ) -> Option<Self> {
        Self::new(writes, statements, changes, None)
    }

    /// The batch as one statement made only while `required` is met, returning the
    /// required object's row; when its writes allow it.
    pub fn required(
        writes: &[Write],
        statements: &'a [Stmt],
        changes: &std::collections::BTreeSet<Change>,
        required: &Requirement,
    ) -> Option<Self> {
        Self::new(writes, statements, changes, Some(required))
    }

    fn new(
        writes: &[Write],
        statements: &'a [Stmt],
        changes: &std::collections::BTreeSet<Change>,
        required: Option<&Requirement>,
    ) -> Option<Self> {
        let mut ids = Vec::with_capacity(writes.len());
        for write in writes {
            match write {
                Write::Put(o) if o.kind.is_protocol_state() && !ids.contains(&o.id) => {
                    ids.push(o.id)
                }
                _ => return None,
            }
        }
        let mut params: Vec<Value> = required
            .map(required_params)
            .into_iter()
            .flatten()
            .collect();
        params.extend(
            statements
                .iter()
                .flat_map(|stmt| stmt.params.iter().cloned()),
        );
        params.extend(changes.iter().map(|c| Value::Text(c.encode())));
        let guarded = required.is_some();
        Some(Self {
            sql: sql_of(statements, changes.len(), guarded),
            params,
            statements,
            guarded,
        })
    }

    /// Whether the error `tessera_expect_row` raised with `message` says that the
    /// required object was not found meeting the requirement (so nothing was written).
    pub fn unmet(&self, message: &str) -> bool {
        self.guarded && write_index(message) == Some(self.statements.len())
    }

    /// The error of the write `tessera_expect_row` named in `message`, as the
    /// statement-by-statement path would have reported it.
    pub fn no_row(&self, message: &str) -> StoreError {
        match write_index(message).and_then(|i| self.statements.get(i)) {
            Some(Stmt {
                expect: Expect::SomeRow(err),
                what,
                ..
            }) => err(format!("{what}: no row matched")),
            _ => StoreError::Internal(format!("a batched write failed: {message}")),
        }
    }
}

/// The write index in a `tessera_expect_row` message ("write N changed no row").
fn write_index(message: &str) -> Option<usize> {
    message.split_whitespace().nth(1)?.parse().ok()
}

/// Batches larger than this (a whole family of refresh tokens revoked at once) have
/// their SQL built each time, so that the kept shapes stay few.
const KEPT_UP_TO: usize = 4;

/// The SQL of a batch of `statements` announcing `changes` changes. It depends only on
/// the batch's shape (each statement's text, parameter count and expectation, and the
/// number of changes), and the shapes that recur are few (a rotation, a redemption), so
/// each is built once and kept: building it on every batch was 1.2 % of Tessera's
/// CPU samples under PostgreSQL rotations in the seventh session of 2026-11-27 (2.9 %
/// in the sixth's), and nothing measurable after.
fn sql_of(statements: &[Stmt], changes: usize, guarded: bool) -> Arc<str> {
    type Shape = (Vec<(&'static str, usize, bool)>, usize, bool);
    static KEPT: LazyLock<Mutex<HashMap<Shape, Arc<str>>>> = LazyLock::new(Default::default);
    if statements.len() > KEPT_UP_TO {
        return build(statements, changes, guarded).into();
    }
    let shape: Shape = (
        statements
            .iter()
            .map(|s| {
                (
                    s.sql,
                    s.params.len(),
                    matches!(s.expect, Expect::SomeRow(_)),
                )
            })
            .collect(),
        changes,
        guarded,
    );
    let mut kept = KEPT.lock().unwrap_or_else(PoisonError::into_inner);
    kept.entry(shape)
        .or_insert_with(|| build(statements, changes, guarded).into())
        .clone()
}

/// The parameters of the required object's CTE `g`, ahead of the writes'.
const GUARD_PARAMS: usize = 5;

/// The required object (`Requirement`), if it meets the requirement: found through the
/// (tenant, kind, key) unique index; its id and flag tested inside `(…) IS TRUE` so
/// that they cannot choose another index (see `sql::UPDATE_OBJECT`). The flag as JSON
/// text: `->>` would take the string `"true"` for the boolean.
macro_rules! select_required {
    () => {
        "SELECT id, tenant_id, kind, key, doc, created_at, updated_at, version, expires_at \
         FROM directory_objects WHERE tenant_id = $1 AND kind = $2 AND key = $3 \
         AND (id = $4 AND (doc::json -> $5)::text = 'true') IS TRUE"
    };
}
pub const SELECT_REQUIRED: &str = select_required!();
const GUARD: &str = concat!("g AS (", select_required!(), ")");

/// [`SELECT_REQUIRED`]'s parameters.
pub fn required_params(required: &Requirement) -> [Value; GUARD_PARAMS] {
    [
        Value::Text(required.tenant_id.to_string()),
        Value::Text(required.kind.as_str().to_owned()),
        Value::Text(required.key.clone()),
        Value::Text(required.id.to_string()),
        Value::Text(required.flag.member().to_owned()),
    ]
}

/// Each write a CTE `wI`; then the checks of the writes that must change a row, and
/// the announcements, whose parameters follow the statements'. `guarded`: the required
/// object's CTE `g` first, its parameters ahead of the writes'; its row selected, and
/// its absence raised first.
fn build(statements: &[Stmt], changes: usize, guarded: bool) -> String {
    let mut sql = String::from("WITH ");
    let mut offset = 0;
    if guarded {
        sql.push_str(GUARD);
        offset = GUARD_PARAMS;
    }
    for (i, stmt) in statements.iter().enumerate() {
        if i > 0 || guarded {
            sql.push_str(", ");
        }
        let _ = write!(sql, "w{i} AS (");
        push_shifted(&mut sql, stmt.sql, offset);
        sql.push_str(" RETURNING 1)");
        offset += stmt.params.len();
    }
    let mut outputs = Vec::new();
    if guarded {
        outputs.push(format!(
            "g.id, g.tenant_id, g.kind, g.key, g.doc, g.created_at, g.updated_at, g.version, \
             g.expires_at, CASE WHEN g.id IS NULL THEN tessera_expect_row(0, {}) END",
            statements.len()
        ));
    }
    for (i, stmt) in statements.iter().enumerate() {
        // The PL/pgSQL function is called only when the write changed nothing: a
        // call on every batch cost PostgreSQL about 13 µs each
        // (docs/decisions/0003-postgres-one-statement-batches.md). It is VOLATILE, so it
        // is never folded at plan time.
        if let Expect::SomeRow(_) = stmt.expect {
            outputs.push(format!(
                "CASE WHEN (SELECT count(*) FROM w{i}) = 0 THEN tessera_expect_row(0, {i}) END"
            ));
        }
    }
    for n in 1..=changes {
        outputs.push(format!(
            "pg_notify('{}', ${})",
            crate::changes::POSTGRES_CHANNEL,
            offset + n
        ));
    }
    if outputs.is_empty() {
        outputs.push("1".to_owned());
    }
    sql.push_str(" SELECT ");
    sql.push_str(&outputs.join(", "));
    if guarded {
        sql.push_str(" FROM (SELECT 1) AS one LEFT JOIN g ON TRUE");
    }
    sql
}

/// Appends `sql` with every `$N` placeholder renumbered to `$N+offset`. The statements
/// are Tessera's own constants: `$` appears in them only as a placeholder.
fn push_shifted(out: &mut String, sql: &str, offset: usize) {
    let mut chars = sql.char_indices().peekable();
    while let Some((_, c)) = chars.next() {
        out.push(c);
        if c != '$' {
            continue;
        }
        let mut n = 0usize;
        let mut digits = false;
        while let Some(&(_, d)) = chars.peek() {
            let Some(v) = d.to_digit(10) else { break };
            n = n * 10 + v as usize;
            digits = true;
            chars.next();
        }
        if digits {
            let _ = write!(out, "{}", n + offset);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tessera_core::ids::{ObjectId, TenantId};
    use tessera_core::store::object::{ObjectKind, StoredObject};
    use time::OffsetDateTime;

    fn put(kind: ObjectKind, id: ObjectId) -> Write {
        let now = OffsetDateTime::UNIX_EPOCH;
        Write::Put(StoredObject {
            id,
            tenant_id: TenantId::from_uuid(uuid::Uuid::nil()),
            kind,
            key: id.to_string(),
            doc: "{}".into(),
            created_at: now,
            updated_at: now,
            version: 0,
            expires_at: None,
        })
    }

    #[test]
    fn placeholders_are_renumbered_past_the_earlier_writes() {
        let mut out = String::new();
        push_shifted(&mut out, "VALUES ($1, $2, $10) WHERE v = $9", 9);
        assert_eq!(out, "VALUES ($10, $11, $19) WHERE v = $18");
    }

    /// A rotation's writes: the token `old` (stored at `version`) updated, `new` inserted.
    fn rotation(old: u128, new: u128, version: i64) -> Vec<Write> {
        let mut rotated = put(
            ObjectKind::RefreshToken,
            ObjectId::from_uuid(uuid::Uuid::from_u128(old)),
        );
        if let Write::Put(o) = &mut rotated {
            o.version = version;
        }
        vec![
            rotated,
            put(
                ObjectKind::RefreshToken,
                ObjectId::from_uuid(uuid::Uuid::from_u128(new)),
            ),
        ]
    }

    #[test]
    fn two_record_puts_become_one_statement_that_checks_both() {
        // A rotation: the stored token updated (8 parameters), the new one inserted (9).
        let writes = rotation(1, 2, 3);
        let stmts: Vec<Stmt> = writes.iter().map(crate::sql::statements).collect();
        let batch = Batch::of(&writes, &stmts, &Default::default()).expect("one statement");
        assert_eq!(batch.params.len(), 17);
        assert!(batch.sql.starts_with("WITH w0 AS (UPDATE"));
        assert!(batch.sql.contains("w1 AS (INSERT"), "{}", batch.sql);
        assert!(batch.sql.contains("$17"), "{}", batch.sql);
        assert!(
            batch.sql.contains(
                "CASE WHEN (SELECT count(*) FROM w1) = 0 THEN tessera_expect_row(0, 1) END"
            )
        );
        let err = batch.no_row("write 1 changed no row");
        assert!(
            matches!(&err, StoreError::Conflict(m) if m.contains("no row matched")),
            "{err:?}"
        );
    }

    #[test]
    fn a_shape_is_built_once_and_its_parameters_each_time() {
        let (first, second) = (rotation(1, 2, 1), rotation(3, 4, 1));
        let stmts_1: Vec<Stmt> = first.iter().map(crate::sql::statements).collect();
        let stmts_2: Vec<Stmt> = second.iter().map(crate::sql::statements).collect();
        let none = Default::default();
        let a = Batch::of(&first, &stmts_1, &none).expect("one statement");
        let b = Batch::of(&second, &stmts_2, &none).expect("one statement");
        assert!(Arc::ptr_eq(&a.sql, &b.sql), "the same text, kept");
        assert_ne!(a.params, b.params);
        assert_eq!(&*a.sql, build(&stmts_1, 0, false));
        // A change to announce is another shape, its parameter after the writes'.
        let change = Change {
            tenant: TenantId::from_uuid(uuid::Uuid::nil()),
            kind: Some(ObjectKind::App),
        };
        let announcing = Batch::of(&first, &stmts_1, &[change].into()).expect("one statement");
        assert!(!Arc::ptr_eq(&a.sql, &announcing.sql));
        assert!(announcing.sql.ends_with(", $18)"), "{}", announcing.sql);
        assert_eq!(announcing.params.len(), 18);
    }

    #[test]
    fn a_conditional_batch_reads_its_guard_first_and_raises_past_the_writes() {
        let writes = rotation(1, 2, 1);
        let stmts: Vec<Stmt> = writes.iter().map(crate::sql::statements).collect();
        let required = Requirement {
            tenant_id: TenantId::from_uuid(uuid::Uuid::nil()),
            kind: ObjectKind::User,
            key: "alice".into(),
            id: ObjectId::from_uuid(uuid::Uuid::from_u128(3)),
            flag: tessera_core::store::Flag::UserEnabled,
        };
        let none = Default::default();
        let batch = Batch::required(&writes, &stmts, &none, &required).expect("one statement");
        // The guard's parameters first, the writes' after them, unchanged.
        assert_eq!(batch.params.len(), GUARD_PARAMS + 17);
        assert_eq!(batch.params[2], Value::Text("alice".into()));
        assert_eq!(
            &batch.params[GUARD_PARAMS..],
            &Batch::of(&writes, &stmts, &none).unwrap().params[..]
        );
        assert!(batch.sql.starts_with("WITH g AS (SELECT"), "{}", batch.sql);
        assert!(batch.sql.contains(", w0 AS (UPDATE"), "{}", batch.sql);
        // No row from `g` raises with the index past the writes: that is `unmet`.
        assert!(
            batch
                .sql
                .contains("CASE WHEN g.id IS NULL THEN tessera_expect_row(0, 2) END"),
            "{}",
            batch.sql
        );
        assert!(batch.sql.ends_with(" LEFT JOIN g ON TRUE"), "{}", batch.sql);
        assert!(batch.unmet("write 2 changed no row"));
        assert!(!batch.unmet("write 1 changed no row"));
        let plain = Batch::of(&writes, &stmts, &none).expect("one statement");
        assert!(
            !plain.unmet("write 2 changed no row"),
            "only a guarded batch"
        );
        assert!(!Arc::ptr_eq(&plain.sql, &batch.sql));
    }

    #[test]
    fn directory_writes_and_repeated_objects_keep_the_transaction() {
        let id = ObjectId::from_uuid(uuid::Uuid::from_u128(7));
        for writes in [
            vec![put(ObjectKind::User, id)],
            vec![put(ObjectKind::AuthCode, id), put(ObjectKind::AuthCode, id)],
        ] {
            let stmts: Vec<Stmt> = writes.iter().map(crate::sql::statements).collect();
            assert!(Batch::of(&writes, &stmts, &Default::default()).is_none());
        }
    }
}
