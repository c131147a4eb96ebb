-- A multi-tenant app is found by its client_id from every tenant (the /common,
-- /organizations and /consumers endpoints, and the tenants its users come from), so a
-- client_id names at most one multi-tenant app across all tenants. This unique partial
-- index is both the rule (a second one is a unique violation, reported as a conflict)
-- and the lookup's index (Store::multi_tenant_app). `multi_tenant` is the App
-- document's member (tessera_core::directory::model::App), a JSON boolean. The kind is
-- tested first, so other objects' documents are not parsed.
CREATE UNIQUE INDEX IF NOT EXISTS directory_objects_multi_tenant_app ON directory_objects (key)
    WHERE kind = 'app' AND (doc::jsonb -> 'multi_tenant') = 'true'::jsonb;
