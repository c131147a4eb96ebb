-- Tenants. Shared by SQLite and PostgreSQL: BOOLEAN is an integer in SQLite, and times
-- are Unix seconds in both so that comparisons and ordering agree.
CREATE TABLE tenants (
    id           TEXT    NOT NULL PRIMARY KEY,
    slug         TEXT    NOT NULL UNIQUE,
    display_name TEXT    NOT NULL,
    kind         TEXT    NOT NULL CHECK (kind IN ('work', 'consumers')),
    disabled     BOOLEAN NOT NULL DEFAULT FALSE,
    created_at   BIGINT  NOT NULL,
    updated_at   BIGINT  NOT NULL
);
