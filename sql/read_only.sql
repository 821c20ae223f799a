-- orgsync writes rows without the SQL executor, so it checks what the
-- executor would: a read-only transaction (or a hot standby) refuses every
-- function that writes, with 25006, and keeps nothing.
\set secret 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw'
\set org_created `cat test/fixtures/clerk/organization.created.json`
SELECT orgsync.add_secret(:'secret');
SELECT orgsync.handle_event(orgsync.sign(:'secret', 'msg_ro1', :'org_created'), :'org_created') ->> 'status' AS recorded;

CREATE FUNCTION pg_temp.try(call text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
  EXECUTE call;
  RETURN 'done';
EXCEPTION WHEN OTHERS THEN
  RETURN SQLSTATE || ': ' || SQLERRM;
END $$;

BEGIN READ ONLY;
SELECT pg_temp.try(format('SELECT orgsync.handle_event(%L, %L)',
  orgsync.sign(:'secret', 'msg_ro2', :'org_created'), :'org_created')) AS handle_event;
SELECT pg_temp.try(format('SELECT orgsync.handle_events(ARRAY[%L]::jsonb[], ARRAY[%L])',
  orgsync.sign(:'secret', 'msg_ro3', :'org_created'), :'org_created')) AS handle_events;
SELECT pg_temp.try(format('SELECT orgsync.apply_event(%L)', :'org_created')) AS apply_event;
SELECT pg_temp.try($$SELECT orgsync.replay('msg_ro1')$$) AS replay;
-- reading stays allowed
SELECT count(*) AS organizations FROM orgsync.organizations;
COMMIT;

SET default_transaction_read_only = on;
SELECT pg_temp.try(format('SELECT orgsync.apply_event(%L)', :'org_created')) AS apply_event_by_default;
RESET default_transaction_read_only;

SELECT id, status FROM orgsync.events ORDER BY id;
TRUNCATE orgsync.organizations, orgsync.users, orgsync.memberships, orgsync.invitations, orgsync.events, orgsync.secrets;
