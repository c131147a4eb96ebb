-- The audit log: append-only, read newest first per tenant.
CREATE TABLE audit_log (
    id        TEXT   NOT NULL PRIMARY KEY,
    tenant_id TEXT   NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    at        BIGINT NOT NULL,
    actor     TEXT   NOT NULL,
    action    TEXT   NOT NULL,
    target    TEXT   NOT NULL,
    changes   TEXT   NOT NULL
);
CREATE INDEX audit_log_by_tenant_time ON audit_log (tenant_id, at);
