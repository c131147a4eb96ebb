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

use crate::sql::{Expect, Stmt, Value};
use std::fmt::Write as _;
use tessera_core::directory::object::Write;
use tessera_core::store::{Change, StoreError};

/// The SQLSTATE `tessera_expect_row` raises.
pub const NO_ROW: &str = "TS001";

/// One statement carrying out a batch of writes.
#[derive(Debug)]
pub struct Batch<'a> {
    pub sql: String,
    pub params: Vec<Value>,
    statements: &'a [Stmt],
}

impl<'a> Batch<'a> {
    /// The batch as one statement, when its writes allow it (see the module comment).
    pub fn of(
        writes: &[Write],
        statements: &'a [Stmt],
        changes: &std::collections::BTreeSet<Change>,
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
        let mut sql = String::from("WITH ");
        let mut params = Vec::new();
        for (i, stmt) in statements.iter().enumerate() {
            if i > 0 {
                sql.push_str(", ");
            }
            let _ = write!(sql, "w{i} AS (");
            push_shifted(&mut sql, stmt.sql, params.len());
            sql.push_str(" RETURNING 1)");
            params.extend(stmt.params.iter().cloned());
        }
        let mut outputs = Vec::new();
        for (i, stmt) in statements.iter().enumerate() {
            // The PL/pgSQL function is called only when the write changed nothing: a
            // call on every batch cost PostgreSQL about 13 µs each (BENCHMARKS.md,
            // item 23). It is VOLATILE, so it is never folded at plan time.
            if let Expect::SomeRow(_) = stmt.expect {
                outputs.push(format!(
                    "CASE WHEN (SELECT count(*) FROM w{i}) = 0 THEN tessera_expect_row(0, {i}) END"
                ));
            }
        }
        for change in changes {
            params.push(Value::Text(change.encode()));
            outputs.push(format!(
                "pg_notify('{}', ${})",
                super::postgres::CHANGES_CHANNEL,
                params.len()
            ));
        }
        if outputs.is_empty() {
            outputs.push("1".to_owned());
        }
        sql.push_str(" SELECT ");
        sql.push_str(&outputs.join(", "));
        Some(Self {
            sql,
            params,
            statements,
        })
    }

    /// The error of the write `tessera_expect_row` named in `message`, as the
    /// statement-by-statement path would have reported it.
    pub fn no_row(&self, message: &str) -> StoreError {
        let index: Option<usize> = message
            .split_whitespace()
            .nth(1)
            .and_then(|n| n.parse().ok());
        match index.and_then(|i| self.statements.get(i)) {
            Some(Stmt {
                expect: Expect::SomeRow(err),
                what,
                ..
            }) => err(format!("{what}: no row matched")),
            _ => StoreError::Internal(format!("a batched write failed: {message}")),
        }
    }
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
    use tessera_core::directory::object::{ObjectKind, StoredObject};
    use time::OffsetDateTime;

    fn put(kind: ObjectKind, id: uuid::Uuid) -> Write {
        let now = OffsetDateTime::UNIX_EPOCH;
        Write::Put(StoredObject {
            id,
            tenant_id: uuid::Uuid::nil(),
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

    #[test]
    fn two_record_puts_become_one_statement_that_checks_both() {
        // A rotation: the stored token updated (8 parameters), the new one inserted (9).
        let mut rotated = put(ObjectKind::RefreshToken, uuid::Uuid::from_u128(1));
        if let Write::Put(o) = &mut rotated {
            o.version = 3;
        }
        let writes = vec![
            rotated,
            put(ObjectKind::RefreshToken, uuid::Uuid::from_u128(2)),
        ];
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
    fn directory_writes_and_repeated_objects_keep_the_transaction() {
        let id = uuid::Uuid::from_u128(7);
        for writes in [
            vec![put(ObjectKind::User, id)],
            vec![put(ObjectKind::AuthCode, id), put(ObjectKind::AuthCode, id)],
        ] {
            let stmts: Vec<Stmt> = writes.iter().map(crate::sql::statements).collect();
            assert!(Batch::of(&writes, &stmts, &Default::default()).is_none());
        }
    }
}
