-- orgsync.handle_event: verify, record once, apply; every status.
\set secret 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw'
SELECT orgsync.add_secret(:'secret');
\set org_created `cat test/fixtures/clerk/organization.created.json`
\set org_updated `cat test/fixtures/clerk/organization.updated.json`
\set session_created `cat test/fixtures/clerk/session.created.json`

-- a genuine delivery is applied and recorded
SELECT orgsync.handle_event(orgsync.sign(:'secret', 'msg_1', :'org_created'), :'org_created');
SELECT id, name, slug, source FROM orgsync.organizations ORDER BY id;
SELECT id, endpoint, type, status, error, object_id, event_time, payload = :'org_created' AS verbatim FROM orgsync.events ORDER BY id;

-- the same delivery again (Svix retries) is a duplicate and changes nothing
SELECT orgsync.handle_event(orgsync.sign(:'secret', 'msg_1', :'org_created'), :'org_created') ->> 'status' AS status;
-- the same event under a new delivery id is stale: recorded, no change
SELECT orgsync.handle_event(orgsync.sign(:'secret', 'msg_1b', :'org_created'), :'org_created') ->> 'status' AS status;
-- a newer version is applied; an older one after it is stale
SELECT orgsync.handle_event(orgsync.sign(:'secret', 'msg_2', :'org_updated'), :'org_updated') ->> 'status' AS status;
SELECT orgsync.handle_event(orgsync.sign(:'secret', 'msg_3', :'org_created'), :'org_created') ->> 'status' AS status;
SELECT id, name, slug, updated_at FROM orgsync.organizations ORDER BY id;

-- an event type orgsync does not model is recorded as ignored
SELECT orgsync.handle_event(orgsync.sign(:'secret', 'msg_4', :'session_created'), :'session_created');

-- signed but unusable: stored verbatim as invalid, never lost, 2xx for Svix
SELECT orgsync.handle_event(orgsync.sign(:'secret', 'msg_5', '{"type":"user.created","data":'), '{"type":"user.created","data":');
SELECT orgsync.handle_event(orgsync.sign(:'secret', 'msg_6', '{"type":"user.created","data":{}}'), '{"type":"user.created","data":{}}');
SELECT id, type, status, error, payload FROM orgsync.events WHERE status = 'invalid' ORDER BY id;

-- an unverified delivery raises SQLSTATE 28000 and stores nothing
CREATE FUNCTION pg_temp.deliver(headers jsonb, body text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
  RETURN orgsync.handle_event(headers, body) ->> 'status';
EXCEPTION WHEN OTHERS THEN
  RETURN SQLSTATE || ': ' || SQLERRM;
END $$;
SELECT pg_temp.deliver(orgsync.sign('whsec_plJ3nmyCDGBKInavdOK15jsl', 'msg_f1', :'org_updated'), :'org_updated') AS wrong_secret;
SELECT pg_temp.deliver(orgsync.sign(:'secret', 'msg_f2', :'org_updated'), :'org_updated' || ' ') AS tampered_body;
SELECT pg_temp.deliver(orgsync.sign(:'secret', 'msg_f3', :'org_updated', now() - interval '6 minutes'), :'org_updated') AS stale_timestamp;
SELECT pg_temp.deliver(orgsync.sign(:'secret', 'msg_f4', :'org_updated', now() + interval '6 minutes'), :'org_updated') AS future_timestamp;
SELECT pg_temp.deliver(orgsync.sign(:'secret', 'msg_f5', :'org_updated') - 'svix-signature', :'org_updated') AS no_signature;
SELECT pg_temp.deliver(orgsync.sign(:'secret', 'msg_f6', :'org_updated') - 'svix-id', :'org_updated') AS no_id;
SELECT pg_temp.deliver(orgsync.sign(:'secret', 'msg_f7', :'org_updated') - 'svix-timestamp', :'org_updated') AS no_timestamp;
SELECT pg_temp.deliver(orgsync.sign(:'secret', 'msg_f8', :'org_updated') || '{"svix-timestamp": "soon"}', :'org_updated') AS bad_timestamp;
SELECT pg_temp.deliver('[]', :'org_updated') AS headers_not_object;
SELECT count(*) AS stored_from_forgeries FROM orgsync.events WHERE id LIKE 'msg_f%';

-- webhook-* headers work too
SELECT orgsync.handle_event(
  (SELECT jsonb_object_agg(replace(key, 'svix-', 'webhook-'), value) FROM jsonb_each(orgsync.sign(:'secret', 'msg_7', :'org_updated'))),
  :'org_updated') ->> 'status' AS status;

-- replay applies a stored delivery again and records the outcome
SELECT orgsync.replay('msg_5');
SELECT orgsync.replay('msg_1');
SELECT pg_temp.deliver(NULL, NULL);
DO $$ BEGIN PERFORM orgsync.replay('no_such_delivery'); EXCEPTION WHEN OTHERS THEN RAISE NOTICE '%: %', SQLSTATE, SQLERRM; END $$;

SELECT id, type, status, object_id FROM orgsync.events ORDER BY id;
TRUNCATE orgsync.organizations, orgsync.users, orgsync.memberships, orgsync.invitations, orgsync.events, orgsync.secrets;
