-- The directory: one JSON document per object, addressed by tenant, kind and a key that
-- is unique within the tenant and kind (lowercase username, group name, API identifier,
-- client_id, signing key id). Kinds are checked in code (ObjectKind), so a new kind needs
-- no table rebuild. Tenants gain their sign-in policy (JSON).
ALTER TABLE tenants ADD COLUMN policy TEXT NOT NULL DEFAULT '{}';

CREATE TABLE directory_objects (
    id         TEXT   NOT NULL PRIMARY KEY,
    tenant_id  TEXT   NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    kind       TEXT   NOT NULL,
    key        TEXT   NOT NULL,
    doc        TEXT   NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    -- Optimistic concurrency (StoredObject::version): incremented on every write.
    version    BIGINT NOT NULL DEFAULT 1,
    UNIQUE (tenant_id, kind, key)
);
