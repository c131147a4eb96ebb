-- The audit log: append-only, read newest first per tenant. `seq` orders entries written
-- in the same second (SQLite: the rowid alias; PostgreSQL: an identity column).
CREATE TABLE audit_log (
    seq       INTEGER PRIMARY KEY AUTOINCREMENT,
    id        TEXT   NOT NULL UNIQUE,
    tenant_id TEXT   NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    at        BIGINT NOT NULL,
    actor     TEXT   NOT NULL,
    action    TEXT   NOT NULL,
    target    TEXT   NOT NULL,
    changes   TEXT   NOT NULL
);
CREATE INDEX audit_log_by_tenant_time ON audit_log (tenant_id, at);
