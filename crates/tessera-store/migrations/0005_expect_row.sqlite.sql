-- PostgreSQL only (a function that one-statement batches call); SQLite applies batches
-- inside one transaction on its single writer connection, so it needs nothing here.
SELECT 1;
