-- Signing secrets per endpoint, several at once during a rotation.
\set old_secret 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw'
\set new_secret 'whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD'
\set org_created `cat test/fixtures/clerk/organization.created.json`
CREATE FUNCTION pg_temp.deliver(secret text, id text, body text, endpoint text DEFAULT 'default') RETURNS text LANGUAGE plpgsql AS $$
BEGIN
  RETURN orgsync.handle_event(orgsync.sign(secret, id, body), body, endpoint) ->> 'status';
EXCEPTION WHEN OTHERS THEN
  RETURN SQLSTATE || ': ' || SQLERRM;
END $$;

-- no secret yet: 55000, which the relay answers with 503 so Svix retries
SELECT pg_temp.deliver(:'old_secret', 'msg_s0', :'org_created');
SELECT orgsync.add_secret(:'old_secret');
SELECT orgsync.add_secret(:'old_secret');  -- adding twice is harmless
SELECT orgsync.add_secret('MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw');  -- the same key without its prefix
SELECT endpoint, encode(key, 'base64') AS key FROM orgsync.secrets ORDER BY endpoint, key;
SELECT pg_temp.deliver(:'old_secret', 'msg_s1', :'org_created');
SELECT pg_temp.deliver(:'new_secret', 'msg_s2', :'org_created');

-- rotation: both secrets verify while both are present
SELECT orgsync.add_secret(:'new_secret');
SELECT pg_temp.deliver(:'old_secret', 'msg_s3', :'org_created');
SELECT pg_temp.deliver(:'new_secret', 'msg_s4', :'org_created');
SELECT orgsync.remove_secret(:'old_secret');
SELECT orgsync.remove_secret(:'old_secret');  -- already gone
SELECT pg_temp.deliver(:'old_secret', 'msg_s5', :'org_created');
SELECT pg_temp.deliver(:'new_secret', 'msg_s6', :'org_created');

-- endpoints are separate: a secret of one does not verify another
SELECT orgsync.add_secret(:'old_secret', 'staging');
SELECT pg_temp.deliver(:'old_secret', 'msg_s7', :'org_created', 'staging');
SELECT pg_temp.deliver(:'new_secret', 'msg_s8', :'org_created', 'staging');
SELECT id, endpoint, status FROM orgsync.events ORDER BY id;

-- endpoints without keys are not cached: names made up by callers do not
-- grow the backend's memory (the cache holds 'default' and 'staging')
SELECT total_bytes AS cache_bytes FROM pg_backend_memory_contexts WHERE name = 'orgsync signing keys' \gset
SELECT count(*) AS refused FROM generate_series(1, 500) i
WHERE pg_temp.deliver(:'new_secret', 'msg_x' || i, :'org_created', 'made_up_' || repeat('x', 200) || i) LIKE '55000%';
SELECT total_bytes = :cache_bytes AS cache_unchanged FROM pg_backend_memory_contexts WHERE name = 'orgsync signing keys';

TRUNCATE orgsync.organizations, orgsync.users, orgsync.memberships, orgsync.invitations, orgsync.events, orgsync.secrets;
