-- orgsync.webhook(json), the PostgREST entry point, called as PostgREST calls
-- it: as the anonymous role, request.headers set with lower-cased names, the
-- body as json. Outcomes PostgREST must not answer 2xx for raise PTnnn, the
-- SQLSTATE that makes PostgREST answer HTTP nnn. (test/postgrest drives it
-- over the wire as PostgREST does.)
\set secret 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw'
\set eu_secret 'whsec_plJ3nmyCDGBKInavdOK15jsl'
SELECT orgsync.add_secret(:'secret');
SELECT orgsync.add_secret(:'eu_secret', 'eu');
SET client_min_messages = warning;
CREATE ROLE regress_web_anon IN ROLE orgsync_webhook;
RESET client_min_messages;

-- Calls webhook(body) (or webhook(body, endpoint)) with these headers set as
-- PostgREST sets them; the result, or the error's SQLSTATE, message and detail.
CREATE FUNCTION pg_temp.post(headers jsonb, body text, endpoint text DEFAULT NULL) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
  result jsonb;
  detail text;
BEGIN
  PERFORM set_config('request.headers', headers::text, true);
  IF endpoint IS NULL THEN
    result := orgsync.webhook(body::json);
  ELSE
    result := orgsync.webhook(body::json, endpoint);
  END IF;
  RETURN result::text;
EXCEPTION WHEN OTHERS THEN
  GET STACKED DIAGNOSTICS detail = PG_EXCEPTION_DETAIL;
  RETURN format('%s: %s (%s)', SQLSTATE, SQLERRM, detail);
END $$;
-- Headers signed now with `secret`, as Svix sends them (content-type too).
CREATE FUNCTION pg_temp.signed(secret text, id text, body text, at timestamptz DEFAULT now()) RETURNS jsonb LANGUAGE sql AS $$
  SELECT orgsync.sign(secret, id, body, at) || '{"content-type": "application/json", "user-agent": "Svix-Webhooks/1.24"}'
$$;
-- The same headers under the Standard Webhooks names.
CREATE FUNCTION pg_temp.standard(headers jsonb) RETURNS jsonb LANGUAGE sql AS $$
  SELECT jsonb_object_agg(replace(key, 'svix-', 'webhook-'), value) FROM jsonb_each(headers)
$$;
\set org_created `cat test/fixtures/clerk/organization.created.json`
\set user_created `cat test/fixtures/clerk/user.created.json`

SET ROLE regress_web_anon;
-- delivered, then delivered again
SELECT pg_temp.post(pg_temp.signed(:'secret', 'msg_pgrst_1', :'org_created'), :'org_created');
SELECT pg_temp.post(pg_temp.signed(:'secret', 'msg_pgrst_1', :'org_created'), :'org_created');
-- the Standard Webhooks header set
SELECT pg_temp.post(pg_temp.standard(pg_temp.signed(:'secret', 'msg_pgrst_2', :'user_created')), :'user_created');
-- an event type orgsync does not model is stored and answered 2xx too
SELECT pg_temp.post(pg_temp.signed(:'secret', 'msg_pgrst_3', '{"type": "session.created", "data": {}}'), '{"type": "session.created", "data": {}}');
-- a signed body orgsync cannot use exactly (here a name that is a number) is
-- stored as invalid, never applied, and answered 2xx too: the result names
-- the field, and Svix does not retry what is kept for replay
SELECT jsonb_set(:'org_created'::jsonb, '{data,name}', '42')::text AS org_invalid \gset
SELECT pg_temp.post(pg_temp.signed(:'secret', 'msg_pgrst_invalid', :'org_invalid'), :'org_invalid');

-- the body's exact text is what was signed (escapes, key order, spaces,
-- 1.0): json keeps it; the same body as jsonb re-serialises it
\set exact `cat test/postgrest/exact-body.json`
SELECT pg_temp.post(pg_temp.signed(:'secret', 'msg_pgrst_exact', :'exact'), :'exact');
SELECT pg_temp.post(pg_temp.signed(:'secret', 'msg_pgrst_reordered', :'exact'), (:'exact'::jsonb)::text);

-- refused: 401 for a bad or missing signature or an old or future
-- timestamp, 400 for a delivery without an id or timestamp, or a timestamp
-- that is no number; the check's word in the detail
SELECT pg_temp.post(pg_temp.signed(:'eu_secret', 'msg_pgrst_forged', :'org_created'), :'org_created');
SELECT pg_temp.post(pg_temp.signed(:'secret', 'msg_pgrst_1', :'org_created'), :'user_created');
SELECT pg_temp.post(pg_temp.signed(:'secret', 'msg_pgrst_4', :'org_created') - 'svix-signature', :'org_created');
SELECT pg_temp.post(pg_temp.signed(:'secret', 'msg_pgrst_5', :'org_created', now() - interval '1 hour'), :'org_created');
SELECT pg_temp.post(pg_temp.signed(:'secret', 'msg_pgrst_6', :'org_created', now() + interval '1 hour'), :'org_created');
SELECT pg_temp.post(pg_temp.signed(:'secret', 'msg_pgrst_7', :'org_created') - 'svix-id', :'org_created');
SELECT pg_temp.post(pg_temp.signed(:'secret', 'msg_pgrst_8', :'org_created') - 'svix-timestamp', :'org_created');
SELECT pg_temp.post(pg_temp.signed(:'secret', 'msg_pgrst_9', :'org_created') || '{"svix-timestamp": "soon"}', :'org_created');
SELECT pg_temp.post('{}', :'org_created');
-- a delivery id over 256 bytes: 22023, which PostgREST answers 400
SELECT pg_temp.post(pg_temp.signed(:'secret', repeat('x', 257), :'org_created'), :'org_created');

-- endpoints: webhook(body, endpoint) behind a wrapper per endpoint; each
-- verifies with its own keys; an endpoint without a secret is refused 401
SELECT pg_temp.post(pg_temp.signed(:'eu_secret', 'msg_pgrst_eu', :'org_created'), :'org_created', 'eu');
SELECT pg_temp.post(pg_temp.signed(:'secret', 'msg_pgrst_eu_2', :'org_created'), :'org_created', 'eu');
SELECT pg_temp.post(pg_temp.signed(:'secret', 'msg_pgrst_us', :'org_created'), :'org_created', 'us');

-- a read-only transaction: 503, so that Svix retries
BEGIN READ ONLY;
SELECT pg_temp.post(pg_temp.signed(:'secret', 'msg_pgrst_ro', :'org_created'), :'org_created');
COMMIT;
RESET ROLE;

-- what was stored: the accepted deliveries, nothing of the refused ones
SELECT id, endpoint, type, status FROM orgsync.events ORDER BY id;
SELECT payload = :'exact' AS stored_byte_for_byte FROM orgsync.events WHERE id = 'msg_pgrst_exact';
SELECT id, status, error, payload = :'org_invalid' AS stored_as_sent FROM orgsync.events WHERE status = 'invalid';
SELECT id, name FROM orgsync.organizations ORDER BY id;
SELECT id, first_name, last_name, data -> 'public_metadata' AS public_metadata FROM orgsync.users ORDER BY id;

-- The anonymous role can deliver, and nothing else: not read secrets,
-- deliveries or the mirror, nor change secrets, apply or replay events,
-- backfill, or ask who belongs where.
SET ROLE regress_web_anon;
SELECT count(*) FROM orgsync.secrets;
SELECT count(*) FROM orgsync.events;
SELECT count(*) FROM orgsync.organizations;
SELECT count(*) FROM orgsync.memberships;
SELECT orgsync.add_secret('whsec_plJ3nmyCDGBKInavdOK15jsl', 'mine');
SELECT orgsync.remove_secret(:'secret');
SELECT orgsync.apply_event(:'org_created');
SELECT orgsync.replay('msg_pgrst_1');
SELECT * FROM orgsync.apply_listing('organizations', '[]');
SELECT orgsync.apply_deletion('organizations', 'org_1', now());
SELECT orgsync.is_member('org_1', 'user_1');
SET orgsync.timestamp_tolerance = '1 day';
RESET ROLE;

DROP ROLE regress_web_anon;
TRUNCATE orgsync.organizations, orgsync.users, orgsync.memberships, orgsync.invitations, orgsync.events, orgsync.secrets;
