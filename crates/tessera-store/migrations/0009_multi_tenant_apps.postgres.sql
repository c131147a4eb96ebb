-- Apps are found by client_id from every tenant (Store::apps_with_client_id): the
-- /common, /organizations and /consumers endpoints find a multi-tenant app there, and
-- tell a single-tenant one that must use its own tenant. A client_id names at most one
-- multi-tenant app across all tenants: the unique partial index is that rule (a second
-- one is a unique violation, reported as a conflict). `multi_tenant` is the App
-- document's member (tessera_core::directory::model::App), a JSON boolean. The kind is
-- tested first, so other objects' documents are not parsed.
CREATE UNIQUE INDEX IF NOT EXISTS directory_objects_multi_tenant_app ON directory_objects (key)
    WHERE kind = 'app' AND (doc::jsonb -> 'multi_tenant') = 'true'::jsonb;
CREATE INDEX IF NOT EXISTS directory_objects_app_client_id ON directory_objects (key)
    WHERE kind = 'app';
