-- Lets several writes travel as one statement (data-modifying CTEs, see
-- src/postgres_batch.rs): a write that must change a row and changed none raises, and the
-- error rolls the whole statement back, as a failed write rolls back a transaction.
-- SQLSTATE TS001 is Tessera's own; the message names the write by its position.
CREATE FUNCTION tessera_expect_row(changed BIGINT, write_index INT) RETURNS VOID
LANGUAGE plpgsql AS $fn$
BEGIN
    IF changed = 0 THEN
        RAISE EXCEPTION 'write % changed no row', write_index USING ERRCODE = 'TS001';
    END IF;
END
$fn$;
