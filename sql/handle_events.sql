-- orgsync.handle_events: many deliveries in one call and one transaction,
-- each treated as handle_event treats it, one result per delivery in order.
\set secret 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw'
SELECT orgsync.add_secret(:'secret');
CREATE TEMP TABLE fixture (n int, delivery_id text, body text);
\set body `cat test/fixtures/clerk/organizationMembership.created.json`
INSERT INTO fixture VALUES (1, 'msg_m1', :'body');
\set body `cat test/fixtures/clerk/organization.updated.json`
INSERT INTO fixture VALUES (2, 'msg_o2', :'body');
\set body `cat test/fixtures/clerk/organization.created.json`
INSERT INTO fixture VALUES (3, 'msg_o1', :'body');
\set body `cat test/fixtures/clerk/user.created.json`
INSERT INTO fixture VALUES (4, 'msg_u1', :'body');
\set body `cat test/fixtures/clerk/organizationMembership.updated.json`
INSERT INTO fixture VALUES (5, 'msg_m2', :'body');
INSERT INTO fixture VALUES (6, 'msg_o2', (SELECT body FROM fixture WHERE n = 2));
\set body `cat test/fixtures/clerk/session.created.json`
INSERT INTO fixture VALUES (7, 'msg_s1', :'body');
INSERT INTO fixture VALUES (8, 'msg_bad', '{"type":"user.created","data":{}}');
\set body `cat test/fixtures/clerk/user.deleted.json`
INSERT INTO fixture VALUES (9, 'msg_u2', :'body');
\set body `cat test/fixtures/clerk/organizationMembership.deleted.json`
INSERT INTO fixture VALUES (10, 'msg_m3', :'body');
-- signed once, so that both runs below see the same delivery timestamps
CREATE TEMP TABLE signed AS
SELECT n, delivery_id, orgsync.sign(:'secret', delivery_id, body) AS headers, body FROM fixture;

-- every status, in the order given: a duplicate within the batch, an ignored
-- type, an invalid body, and refusals that do not stop the others
SELECT n, r
FROM orgsync.handle_events(
  (SELECT array_agg(headers ORDER BY n) FROM signed)
    || orgsync.sign('whsec_plJ3nmyCDGBKInavdOK15jsl', 'msg_forged', '{}')
    || NULL::jsonb
    || orgsync.sign(:'secret', repeat('m', 257), '{}'),
  (SELECT array_agg(body ORDER BY n) FROM signed) || '{}'::text || '{}'::text || '{}'::text)
  WITH ORDINALITY AS t(r, n)
ORDER BY n;
SELECT count(*) AS recorded, count(*) FILTER (WHERE id = 'msg_forged' OR length(id) > 256) AS refused_recorded
FROM orgsync.events;

-- the same deliveries one at a time give the same statuses and the same tables
CREATE TEMP VIEW mirror_state AS
SELECT 'org' AS tbl, to_jsonb(o) AS row FROM orgsync.organizations o
UNION ALL SELECT 'user', to_jsonb(u) FROM orgsync.users u
UNION ALL SELECT 'membership', to_jsonb(m) FROM orgsync.memberships m
UNION ALL SELECT 'event', to_jsonb(e) - 'received_at' FROM orgsync.events e;
CREATE TEMP TABLE batch_state AS SELECT * FROM mirror_state;
TRUNCATE orgsync.organizations, orgsync.users, orgsync.memberships, orgsync.events;
SELECT string_agg(orgsync.handle_event(headers, body) ->> 'status', ' ' ORDER BY n) AS one_at_a_time FROM signed;
SELECT count(*) AS differing_rows
FROM ((TABLE batch_state EXCEPT ALL TABLE mirror_state) UNION ALL (TABLE mirror_state EXCEPT ALL TABLE batch_state)) d;
SELECT count(*) AS rows_compared FROM batch_state;

-- a batch is one transaction: a failure in it keeps none of it
TRUNCATE orgsync.organizations, orgsync.users, orgsync.memberships, orgsync.events;
CREATE FUNCTION pg_temp.refuse_o1() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.id = 'msg_o1' THEN RAISE EXCEPTION 'refused by a test trigger'; END IF;
  RETURN NEW;
END $$;
CREATE TRIGGER refuse_o1 BEFORE INSERT ON orgsync.events FOR EACH ROW EXECUTE FUNCTION pg_temp.refuse_o1();
\set VERBOSITY terse
SELECT count(*) FROM orgsync.handle_events((SELECT array_agg(headers ORDER BY n) FROM signed),
                                           (SELECT array_agg(body ORDER BY n) FROM signed));
\set VERBOSITY default
DROP TRIGGER refuse_o1 ON orgsync.events;
SELECT count(*) AS kept FROM orgsync.events;

-- calls take turns while they run (test/isolation/specs/batches_take_turns.spec);
-- the turn ends with the call, even in a transaction that goes on
BEGIN;
SELECT count(*) FROM orgsync.handle_events((SELECT array_agg(headers ORDER BY n) FROM signed WHERE n <= 2),
                                           (SELECT array_agg(body ORDER BY n) FROM signed WHERE n <= 2));
SELECT count(*) AS turns_held FROM pg_locks
WHERE locktype = 'object' AND classid = 'pg_extension'::regclass AND pid = pg_backend_pid();
ROLLBACK;

-- what fails the whole call
SELECT count(*) FROM orgsync.handle_events('{}', '{}');
SELECT * FROM orgsync.handle_events(ARRAY['{}'::jsonb], '{}');
SELECT * FROM orgsync.handle_events(NULL, '{}');
SELECT * FROM orgsync.handle_events('{}', NULL);
SELECT * FROM orgsync.handle_events('{}', '{}', NULL);
SELECT * FROM orgsync.handle_events(ARRAY[ARRAY['{}'::jsonb]], ARRAY[ARRAY['{}']]);
-- more deliveries than one call may take (the relay's largest batch is 1000)
SELECT * FROM orgsync.handle_events(array_fill('{}'::jsonb, ARRAY[1001]), array_fill('{}'::text, ARRAY[1001]));
SELECT * FROM orgsync.handle_events((SELECT array_agg(headers) FROM signed WHERE n = 1),
                                    (SELECT array_agg(body) FROM signed WHERE n = 1), 'no_such_endpoint');

TRUNCATE orgsync.organizations, orgsync.users, orgsync.memberships, orgsync.invitations, orgsync.events, orgsync.secrets;

-- many small batches, each in its own transaction, over rows whose earlier
-- versions are dead: lookups meet dead index entries, and what the index scan
-- remembers of them must outlive each delivery's memory (this crashed once)
SELECT orgsync.add_secret(:'secret');
CREATE PROCEDURE pg_temp.deliver_in_batches(batches int, per_batch int) LANGUAGE plpgsql AS $$
DECLARE
  n int := 0;
  bodies text[];
BEGIN
  FOR b IN 1 .. batches LOOP
    SELECT array_agg(jsonb_build_object('type', 'organization.updated', 'timestamp', 1716883200000 + v,
             'data', jsonb_build_object('id', 'org_' || (v % 7), 'object', 'organization', 'name', repeat('Org ', 50) || v,
                                        'slug', 'org-' || v, 'public_metadata', jsonb_build_object('v', v),
                                        'created_at', 1716883200000, 'updated_at', 1716883200000 + v))::text ORDER BY v)
      INTO bodies FROM generate_series(n + 1, n + per_batch) v;
    PERFORM orgsync.handle_events(
      (SELECT array_agg(orgsync.sign('whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw', 'batch_' || i, bodies[i - n]) ORDER BY i)
       FROM generate_series(n + 1, n + per_batch) i), bodies);
    n := n + per_batch;
    COMMIT;
  END LOOP;
END $$;
CALL pg_temp.deliver_in_batches(200, 5);
SELECT count(*) AS deliveries, count(*) FILTER (WHERE status = 'applied') AS applied FROM orgsync.events WHERE id LIKE 'batch_%';
SELECT id, slug, public_metadata FROM orgsync.organizations ORDER BY id;
TRUNCATE orgsync.organizations, orgsync.events, orgsync.secrets;
