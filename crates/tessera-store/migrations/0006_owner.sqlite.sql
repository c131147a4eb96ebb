-- The user a protocol record belongs to (its document's `user` field), indexed, so a
-- user's sessions, codes and refresh tokens are found without reading the tenant's:
-- signing out everywhere, a password change, a reused refresh token's family.
-- Written when a record is inserted (Store::objects_of_user); a record never changes
-- hands, so updates leave it.
ALTER TABLE directory_objects ADD COLUMN owner TEXT;
UPDATE directory_objects SET owner = json_extract(doc, '$.user')
    WHERE kind IN ('session', 'authorization_code', 'refresh_token');
CREATE INDEX directory_objects_owner ON directory_objects (tenant_id, kind, owner)
    WHERE owner IS NOT NULL;
