-- Malformed input: each probe gets a documented status or a clear error with
-- a real SQLSTATE, and the backend survives. One probe per line.
\set secret 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw'
SELECT orgsync.add_secret(:'secret');

-- Delivers `body` signed under a fresh delivery id; the status, or the error.
CREATE FUNCTION pg_temp.probe(body text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE result jsonb;
BEGIN
  result := orgsync.handle_event(orgsync.sign('whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw', 'msg_' || md5(body), body), body);
  RETURN concat_ws(': ', result ->> 'status', result ->> 'error');
EXCEPTION WHEN OTHERS THEN
  RETURN SQLSTATE || ': ' || SQLERRM;
END $$;
\set ECHO none
\i sql/include/try.sql
\set ECHO all

-- bodies that are signed but unusable: stored as invalid
SELECT pg_temp.probe('');
SELECT pg_temp.probe(' ');
SELECT pg_temp.probe('{');
SELECT pg_temp.probe('{"type": "user.created", "data": {"id": "user_1"');
SELECT pg_temp.probe('null');
SELECT pg_temp.probe('[]');
SELECT pg_temp.probe('"user.created"');
SELECT pg_temp.probe('42');
SELECT pg_temp.probe('{}');
SELECT pg_temp.probe('{"type": null}');
SELECT pg_temp.probe('{"type": 7, "data": {}}');
SELECT pg_temp.probe('{"type": ["user.created"]}');
SELECT pg_temp.probe('{"type": "user.created"}');
SELECT pg_temp.probe('{"type": "user.created", "data": null}');
SELECT pg_temp.probe('{"type": "user.created", "data": "user_1"}');
SELECT pg_temp.probe('{"type": "user.created", "data": []}');
SELECT pg_temp.probe('{"type": "user.created", "data": {"id": 12}}');
SELECT pg_temp.probe('{"type": "user.created", "data": {"id": ""}}');
SELECT pg_temp.probe('{"type": "organization.deleted", "data": {"id": "org_1", "deleted": true}}');
SELECT pg_temp.probe('{"type": "organizationMembership.created", "data": {"id": "mem_1"}}');
SELECT pg_temp.probe('{"type": "organizationMembership.created", "data": {"id": "mem_1", "organization": {"id": "org_1"}}}');
SELECT pg_temp.probe('{"type": "organizationMembership.created", "data": {"id": "mem_1", "organization": {"id": "org_1"}, "public_user_data": {}}}');
SELECT pg_temp.probe('{"type": "organizationMembership.created", "data": {"id": "mem_1", "organization": "org_1", "public_user_data": {"user_id": "u"}}}');
SELECT pg_temp.probe('{"type": "user.created", "data": {"id": "user_\u0000"}}');
SELECT pg_temp.probe('{"type": "user.created", "data": {"id": "user_1", "x\u0000": 1}}');
SELECT pg_temp.probe('{"type": "user.created", "data": {"id": "user_1"}} trailing');
SELECT pg_temp.probe('{"type": "user.created", "data": {"id": "user_1",}}');
SELECT pg_temp.probe('{"type": "user.created", "data": {"id": "\ud800"}}');

-- values too long for a btree index: a long id, or a long slug, is invalid
-- (a slug column left empty would not be Clerk's state)
SELECT pg_temp.probe(format('{"type": "organization.created", "data": {"id": "org_%s"}}', (SELECT string_agg(md5(i::text), '') FROM generate_series(1, 100) i)));
SELECT pg_temp.probe(format('{"type": "organization.created", "data": {"id": "org_long_slug", "slug": "%s"}}', (SELECT string_agg(md5(i::text), '') FROM generate_series(1, 100) i)));
SELECT id, slug, length(data ->> 'slug') AS slug_in_data FROM orgsync.organizations WHERE id = 'org_long_slug';

-- timestamps of every shape: seconds and ms apply, as does a whole number
-- with an exponent (1e3); negative, huge, fractional and string ones make
-- the delivery invalid
SELECT ts, pg_temp.probe(format('{"type": "organization.deleted", "timestamp": %s, "data": {"id": "org_ts_%s"}}', ts, md5(ts))) AS result
FROM unnest(ARRAY['1716883200', '1716883200000', '0', '-1', '1e3', '1716883200.5', '"1716883200"', 'null', '99999999999999999999', '9223372036854775807']) AS ts ORDER BY ts;
-- a missing (null) event time falls back to the delivery's own signed timestamp (now)
SELECT CASE WHEN deleted_at > now() - interval '1 hour' THEN 'delivery time' ELSE deleted_at::text END AS deleted_at, count(*)
FROM orgsync.organizations WHERE id LIKE 'org_ts_%' GROUP BY 1 ORDER BY 1;

-- huge bodies: 10 MB of valid JSON applies; 10 MB of garbage is stored as invalid
SELECT pg_temp.probe('{"type": "user.created", "timestamp": 1716883200, "data": {"id": "user_big", "unsafe_metadata": {"blob": "' || repeat('x', 10 * 1024 * 1024) || '"}}}');
SELECT pg_temp.probe(repeat('[', 10 * 1024 * 1024)) AS deep_garbage;
SELECT pg_temp.probe(repeat('x', 10 * 1024 * 1024)) LIKE 'invalid: body is not valid JSON: %' AS garbage_is_invalid;
SELECT id, length(data::text) > 10 * 1024 * 1024 AS kept_whole FROM orgsync.users WHERE id = 'user_big';

-- bad headers and arguments
SELECT pg_temp.try($$SELECT orgsync.handle_event(NULL, '{}')$$);
SELECT pg_temp.try($$SELECT orgsync.handle_event('{}', NULL)$$);
SELECT pg_temp.try($$SELECT orgsync.handle_event('{}', '{}', NULL)$$);
SELECT pg_temp.try($$SELECT orgsync.handle_event('{}', '{}')$$);
SELECT pg_temp.try($$SELECT orgsync.handle_event('null', '{}')$$);
SELECT pg_temp.try($$SELECT orgsync.handle_event('{"svix-id": "", "svix-timestamp": "", "svix-signature": ""}', '{}')$$);
SELECT pg_temp.try($$SELECT orgsync.handle_event('{"svix-id": {"nested": 1}, "svix-timestamp": [1], "svix-signature": true}', '{}')$$);
SELECT pg_temp.try($$SELECT orgsync.handle_event('{"svix-id": "m", "svix-timestamp": "1", "svix-signature": "v1,x"}', '{}', 'no_such_endpoint')$$);
SELECT pg_temp.try($$SELECT orgsync.handle_event('{bad json', '{}')$$);
SELECT pg_temp.try($$SELECT orgsync.handle_event(orgsync.sign('whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw', repeat('m', 257), '{}'), '{}')$$);
SELECT pg_temp.try($$SELECT orgsync.apply_event(NULL)$$);
SELECT pg_temp.try($$SELECT orgsync.apply_event('[]')$$);
SELECT pg_temp.try($$SELECT orgsync.apply_event('{"type": "user.created"}')$$);
SELECT pg_temp.try($$SELECT orgsync.apply_event('{"type": "user.updated", "data": {"id": 1}}')$$);
SELECT pg_temp.try($$SELECT orgsync.apply_event('{"type": "user.deleted", "data": {"id": "user_x"}}')$$);
SELECT pg_temp.try($$SELECT orgsync.replay(NULL)$$);
SELECT pg_temp.try($$SELECT orgsync.add_secret('')$$);
SELECT pg_temp.try($$SELECT orgsync.add_secret('whsec_')$$);
SELECT pg_temp.try($$SELECT orgsync.add_secret('whsec_!!!!')$$);
SELECT pg_temp.try($$SELECT orgsync.add_secret('whsec_abc')$$);
SELECT pg_temp.try($$SELECT orgsync.add_secret(NULL)$$);
SELECT pg_temp.try($$SELECT orgsync.sign('whsec_', 'm', '{}')$$);

-- every public function with NULLs, empty strings and wrong JSON types
SELECT pg_temp.try($$SELECT orgsync.verify(NULL, NULL, NULL)$$);
SELECT pg_temp.try($$SELECT orgsync.verify('{}', '', 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw')$$);
SELECT pg_temp.try($$SELECT orgsync.verify('{"svix-id": "", "svix-timestamp": "", "svix-signature": ""}', '', 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw')$$);
SELECT pg_temp.try($$SELECT orgsync.verify('{"svix-id": "m", "svix-timestamp": "0", "svix-signature": "v1,"}', '', 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw', 'infinity')$$);
SELECT pg_temp.try($$SELECT orgsync.verify('{"svix-id": "m", "svix-timestamp": "0", "svix-signature": "v1,"}', '', 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw', '-infinity')$$);
SELECT pg_temp.try($$SELECT orgsync.sign(NULL, 'm', '{}')$$);
SELECT pg_temp.try($$SELECT orgsync.sign('whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw', '', '', 'epoch') ->> 'svix-signature'$$);
SELECT pg_temp.try($$SELECT orgsync.sign('whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw', 'm', '', 'infinity')$$);
SELECT pg_temp.try($$SELECT orgsync.sign('whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw', 'm', '', '1900-01-01')$$);
SELECT pg_temp.try($$SELECT orgsync.remove_secret(NULL)$$);
SELECT pg_temp.try($$SELECT orgsync.remove_secret('whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw', NULL)$$);
SELECT pg_temp.try($$SELECT orgsync.add_secret('whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw', NULL)$$);
SELECT pg_temp.try($$SELECT orgsync.apply_event('{"type": "organization.created", "data": {"id": "org_x", "name": {"nested": [1, 2, {"deep": true}]}}}') ->> 'status'$$);
SELECT pg_temp.try($$SELECT orgsync.apply_event('"just a string"'::jsonb)$$);
SELECT pg_temp.try($$SELECT orgsync.apply_event(('{"type": "organization.created", "data": {"id": "org_' || repeat('x', 100000) || '"}}')::jsonb) ->> 'status'$$);
SELECT pg_temp.try($$SELECT orgsync.replay('')$$);
SELECT pg_temp.try($$SELECT orgsync.is_member(NULL, NULL)::text$$);
SELECT pg_temp.try($$SELECT orgsync.has_role('', '', '')::text$$);
SELECT pg_temp.try($$SELECT count(*) FROM orgsync.user_organizations(NULL)$$);
-- invalid UTF-8 and NUL never reach orgsync: Postgres refuses them as text and jsonb
SELECT pg_temp.try($$SELECT orgsync.handle_event('{}', convert_from('\xc328'::bytea, 'UTF8'))$$);
SELECT pg_temp.try($$SELECT orgsync.handle_event('{"svix-id": "\u0000"}', '{}')$$);
SELECT pg_temp.try($$SELECT orgsync.apply_event('{"type": "user.created", "data": {"id": "\u0000"}}')$$);

-- nothing half-applied: every probe above left one events row, or none
SELECT status, count(*) FROM orgsync.events GROUP BY status ORDER BY status;
TRUNCATE orgsync.organizations, orgsync.users, orgsync.memberships, orgsync.invitations, orgsync.events, orgsync.secrets;
