-- Metadata is not orgsync's to judge: the app writes public and private
-- metadata, and the signed-in user writes unsafe_metadata from the browser.
-- Any valid JSON there is stored as jsonb stores it (numbers of any size and
-- precision numeric takes, nesting as deep as Postgres takes) and never
-- blocks a delivery; what jsonb cannot take is no data of Clerk's.
\set secret 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw'
SELECT orgsync.add_secret(:'secret');
CREATE FUNCTION pg_temp.deliver(id text, body text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE result jsonb;
BEGIN
  result := orgsync.handle_event(orgsync.sign('whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw', id, body), body);
  RETURN concat_ws(': ', result ->> 'status', result ->> 'error');
EXCEPTION WHEN OTHERS THEN
  RETURN SQLSTATE || ': ' || SQLERRM;
END $$;
-- A user whose unsafe_metadata holds what a browser can put there.
CREATE FUNCTION pg_temp.user_event(type text, first_name text, updated bigint) RETURNS text LANGUAGE sql AS $$
  SELECT format('{"type": "%s", "timestamp": %s, "data": {"object": "user", "id": "user_meta", "first_name": "%s", '
                '"updated_at": %s, "public_metadata": {"plan": 1.50, "quota": 12345678901234567890123}, '
                '"unsafe_metadata": {"big": 99999999999999999999999999999, "huge": 1e999, "tiny": -1E-999, '
                '"precise": 0.10000000000000000000000001, "deep": %s1%s}}}',
                type, updated, first_name, updated, repeat('{"a": [', 1000), repeat(']}', 1000))
$$;

SELECT pg_temp.deliver('msg_meta_1', pg_temp.user_event('user.created', 'Ann', 1716883200000));
-- stored exactly as jsonb stores the delivery's data
SELECT data = (SELECT payload::jsonb -> 'data' FROM orgsync.events WHERE id = 'msg_meta_1') AS data_exact,
       public_metadata = '{"plan": 1.50, "quota": 12345678901234567890123}' AS public_metadata_exact,
       data #>> '{unsafe_metadata,big}' AS big, data #>> '{unsafe_metadata,precise}' AS precise,
       jsonb_typeof(data #> ('{unsafe_metadata,deep' || repeat(',a,0', 999) || ',a}')::text[]) AS innermost
FROM orgsync.users WHERE id = 'user_meta';
-- and the user stays in sync: a rename and the deletion both apply
SELECT pg_temp.deliver('msg_meta_2', pg_temp.user_event('user.updated', 'Anna', 1716883300000));
SELECT pg_temp.deliver('msg_meta_3', '{"type": "user.deleted", "timestamp": 1716883400000, "data": {"id": "user_meta", "deleted": true}}');
SELECT id, first_name, deleted_at IS NOT NULL AS deleted FROM orgsync.users WHERE id = 'user_meta';

-- Deeper than Postgres itself nests jsonb (its stack depth limit,
-- max_stack_depth), a delivery is refused as jsonb_in would refuse it:
-- SQLSTATE 54001, nothing stored, and Svix keeps it for a retry.
SELECT pg_temp.deliver('msg_meta_4', '{"type": "user.updated", "data": {"id": "user_deep", "unsafe_metadata": '
                       || repeat('[', 100000) || repeat(']', 100000) || '}}');
SELECT pg_temp.deliver('msg_meta_5', '{"type": "user.updated", "data": {"id": "user_deep", "unsafe_metadata": '
                       || repeat('{"a":', 100000) || '1' || repeat('}', 100000) || '}}');
SELECT count(*) AS refused_recorded FROM orgsync.events WHERE id IN ('msg_meta_4', 'msg_meta_5');
SELECT count(*) AS refused_applied FROM orgsync.users WHERE id = 'user_deep';
-- the same text as jsonb: Postgres's own limit
SELECT pg_temp.deliver('x', (repeat('[', 100000) || repeat(']', 100000))::jsonb::text) AS jsonb_in;

-- A number beyond numeric's range (131,072 digits before the point) is one
-- no jsonb stores, whatever the server's settings: the delivery is kept as
-- invalid, its body as it came, and nothing of it is applied.
SELECT pg_temp.deliver('msg_meta_6', '{"type": "user.updated", "timestamp": 1716883500000, "data": {"id": "user_huge", '
                       || '"object": "user", "updated_at": 1716883500000, "unsafe_metadata": {"n": 1e131072}}}');
-- ...and so is an integer of 131,073 digits, written out
SELECT pg_temp.deliver('msg_meta_7', '{"type": "user.updated", "timestamp": 1716883500000, "data": {"id": "user_huge", '
                       || '"object": "user", "updated_at": 1716883500000, "unsafe_metadata": {"n": 1' || repeat('0', 131072) || '}}}');
SELECT id, status, error, length(payload) AS payload_length FROM orgsync.events WHERE id IN ('msg_meta_6', 'msg_meta_7') ORDER BY id;
SELECT count(*) AS huge_applied FROM orgsync.users WHERE id = 'user_huge';

TRUNCATE orgsync.users, orgsync.events, orgsync.secrets;
