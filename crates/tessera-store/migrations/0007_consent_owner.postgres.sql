-- Consents name their user too (ObjectKind::names_its_user): a user's consents are
-- found by the owner index of 0006 instead of reading the tenant's (the account page,
-- the admin API's consent list, deleting a user).
UPDATE directory_objects SET owner = doc::json ->> 'user' WHERE kind = 'consent';
