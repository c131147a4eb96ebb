-- When a protocol record (session, code, refresh token, deny-list entry) may be deleted,
-- so the sweeper deletes expired records by index instead of reading them all.
-- NULL: kept until deleted (directory content).
ALTER TABLE directory_objects ADD COLUMN expires_at BIGINT;
CREATE INDEX directory_objects_expiry ON directory_objects (tenant_id, kind, expires_at)
    WHERE expires_at IS NOT NULL;
