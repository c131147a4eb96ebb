-- Directory objects no longer reference tenants by a foreign key on PostgreSQL. The key's
-- check ran on every insert (every token, code and session) as a `SELECT … FOR KEY SHARE`
-- of the tenant's row, so all of a tenant's concurrent inserts, from every node, locked
-- one row (a multixact whenever two overlap), and the check took an eighth of
-- PostgreSQL's CPU per refresh rotation (BENCHMARKS.md, item 20). What it guarded cannot
-- happen: tenants are never deleted (they are disabled), and every object is written
-- under the id of a tenant the node read from the store. SQLite keeps its key: one
-- writer thread, no row locks.
ALTER TABLE directory_objects DROP CONSTRAINT IF EXISTS directory_objects_tenant_id_fkey;
