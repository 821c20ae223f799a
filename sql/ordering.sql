-- Merge rules: whatever the order and however many duplicates, the tables
-- end as if every event had arrived once, in Clerk's order. Checked here
-- over every permutation of small histories.

-- Builders for Clerk-shaped events. Times are given in seconds after
-- 2024-05-28 08:00 UTC and sent as Clerk does, in ms; `ts` is the event time.
CREATE FUNCTION pg_temp.ms(t bigint) RETURNS bigint LANGUAGE sql AS $$ SELECT (1716883200 + t) * 1000 $$;
CREATE FUNCTION pg_temp.at(t numeric) RETURNS timestamptz LANGUAGE sql AS $$ SELECT to_timestamp(1716883200 + t) $$;
CREATE FUNCTION pg_temp.org_event(type text, id text, name text, updated bigint, ts bigint) RETURNS jsonb LANGUAGE sql AS $$
  SELECT jsonb_build_object('object', 'event', 'type', type, 'timestamp', pg_temp.ms(ts), 'data',
    CASE WHEN type LIKE '%.deleted' THEN jsonb_build_object('object', 'organization', 'id', id, 'deleted', true)
    ELSE jsonb_build_object('object', 'organization', 'id', id, 'name', name, 'slug', lower(name),
      'created_by', 'user_creator', 'max_allowed_memberships', 5, 'private_metadata', '{"tier": "gold"}'::jsonb,
      'created_at', pg_temp.ms(0), 'updated_at', pg_temp.ms(updated)) END)
$$;
CREATE FUNCTION pg_temp.user_event(type text, id text, email text, updated bigint, ts bigint) RETURNS jsonb LANGUAGE sql AS $$
  SELECT jsonb_build_object('object', 'event', 'type', type, 'timestamp', pg_temp.ms(ts), 'data',
    CASE WHEN type LIKE '%.deleted' THEN jsonb_build_object('object', 'user', 'id', id, 'deleted', true)
    ELSE jsonb_build_object('object', 'user', 'id', id, 'first_name', 'Full', 'last_name', 'Event',
      'primary_email_address_id', 'idn_2',
      'email_addresses', jsonb_build_array(
        jsonb_build_object('id', 'idn_1', 'email_address', 'old-' || email),
        jsonb_build_object('id', 'idn_2', 'email_address', email)),
      'created_at', pg_temp.ms(0), 'updated_at', pg_temp.ms(updated)) END)
$$;
CREATE FUNCTION pg_temp.membership_event(type text, id text, org text, org_name text, org_updated bigint,
                                         member text, role text, updated bigint, ts bigint) RETURNS jsonb LANGUAGE sql AS $$
  SELECT jsonb_build_object('object', 'event', 'type', type, 'timestamp', pg_temp.ms(ts), 'data', jsonb_build_object(
    'object', 'organization_membership', 'id', id, 'role', role, 'permissions', jsonb_build_array('org:read'),
    'organization', jsonb_build_object('object', 'organization', 'id', org, 'name', org_name, 'slug', lower(org_name),
                                       'created_at', pg_temp.ms(0), 'updated_at', pg_temp.ms(org_updated)),
    'public_user_data', jsonb_build_object('user_id', member, 'first_name', 'Snap', 'last_name', 'Shot',
                                           'identifier', member || '@example.com'),
    'created_at', pg_temp.ms(0), 'updated_at', pg_temp.ms(updated)))
$$;

-- Every column of every mirror table, as one comparable text.
CREATE FUNCTION pg_temp.state() RETURNS text LANGUAGE sql AS $$
  SELECT concat_ws(E'\n',
    (SELECT string_agg(t::text, E'\n' ORDER BY t.id) FROM orgsync.organizations t),
    (SELECT string_agg(t::text, E'\n' ORDER BY t.id) FROM orgsync.users t),
    (SELECT string_agg(t::text, E'\n' ORDER BY t.id) FROM orgsync.memberships t))
$$;
CREATE FUNCTION pg_temp.reset() RETURNS void LANGUAGE sql AS $$
  DELETE FROM orgsync.organizations; DELETE FROM orgsync.users; DELETE FROM orgsync.memberships;
$$;

-- Applies `history` in every order (each event twice: the permutation, then
-- again in reverse, as duplicates), and returns how many distinct final
-- states there were and whether Clerk's order reached the same one.
CREATE FUNCTION pg_temp.check_all_orders(history jsonb[]) RETURNS TABLE (orders int, distinct_states int, matches_clerk_order boolean)
LANGUAGE plpgsql AS $$
DECLARE
  n int := cardinality(history);
  expected text;
  perm int[];
  i int;
  states text[] := '{}';
BEGIN
  PERFORM pg_temp.reset();
  FOR i IN 1..n LOOP PERFORM orgsync.apply_event(history[i]); END LOOP;
  expected := pg_temp.state();
  orders := 0;
  FOR perm IN
    WITH RECURSIVE p(seq) AS (
      SELECT ARRAY[k] FROM generate_series(1, n) k
      UNION ALL
      SELECT seq || k FROM p, generate_series(1, n) k WHERE k <> ALL (seq))
    SELECT seq FROM p WHERE cardinality(seq) = n
  LOOP
    PERFORM pg_temp.reset();
    FOR i IN 1..n LOOP PERFORM orgsync.apply_event(history[perm[i]]); END LOOP;
    FOR i IN REVERSE n..1 LOOP PERFORM orgsync.apply_event(history[perm[i]]); END LOOP;
    orders := orders + 1;
    IF NOT pg_temp.state() = ANY (states) THEN states := states || pg_temp.state(); END IF;
  END LOOP;
  distinct_states := cardinality(states);
  matches_clerk_order := states = ARRAY[expected];
  RETURN NEXT;
END $$;

-- 1. A membership before its organization and user exist; renames; a role
--    change; then the organization is deleted.
SELECT * FROM pg_temp.check_all_orders(ARRAY[
  pg_temp.user_event('user.created', 'user_1', 'ann@example.com', 1100, 1100),
  pg_temp.org_event('organization.created', 'org_1', 'Acme', 1200, 1200),
  pg_temp.membership_event('organizationMembership.created', 'mem_1', 'org_1', 'Acme', 1200, 'user_1', 'org:member', 1300, 1300),
  pg_temp.org_event('organization.updated', 'org_1', 'Acme Two', 1400, 1400),
  pg_temp.membership_event('organizationMembership.updated', 'mem_1', 'org_1', 'Acme Two', 1400, 'user_1', 'org:admin', 1500, 1500),
  pg_temp.org_event('organization.deleted', 'org_1', NULL, NULL, 1600)]);
-- the state they all reach
SELECT id, name, slug, created_by, private_metadata, source, deleted_at IS NOT NULL AS deleted FROM orgsync.organizations ORDER BY id;
SELECT id, primary_email, first_name, source, deleted_at IS NOT NULL AS deleted FROM orgsync.users ORDER BY id;
SELECT id, organization_id, user_id, role, permissions, deleted_at = pg_temp.at(1600) AS ended_by_org_deletion FROM orgsync.memberships ORDER BY id;

-- 2. A member removed and invited back (a new membership id), a user update,
--    then the user deleted.
SELECT * FROM pg_temp.check_all_orders(ARRAY[
  pg_temp.membership_event('organizationMembership.created', 'mem_a', 'org_2', 'Beta', 1000, 'user_2', 'org:member', 2000, 2000),
  pg_temp.membership_event('organizationMembership.deleted', 'mem_a', 'org_2', 'Beta', 1000, 'user_2', 'org:member', 2000, 2100),
  pg_temp.membership_event('organizationMembership.created', 'mem_b', 'org_2', 'Beta', 1000, 'user_2', 'org:admin', 2200, 2200),
  pg_temp.user_event('user.created', 'user_2', 'bo@example.com', 1900, 1900),
  pg_temp.user_event('user.updated', 'user_2', 'bo@new.example.com', 2300, 2300),
  pg_temp.user_event('user.deleted', 'user_2', NULL, NULL, 2400)]);
SELECT id, name, source, deleted_at IS NOT NULL AS deleted FROM orgsync.organizations ORDER BY id;
SELECT id, primary_email, first_name, source, deleted_at = pg_temp.at(2400) AS deleted_at_user_deletion FROM orgsync.users ORDER BY id;
SELECT id, role, deleted_at = pg_temp.at(2100) AS own_deletion, deleted_at = pg_temp.at(2400) AS user_deletion FROM orgsync.memberships ORDER BY id;

-- 3. Ties: two copies of the same version (same updated_at) with different
--    content are joined: what only one carries is kept, and where both
--    differ the greater value wins ("Right" over "Left"), in every order.
SELECT * FROM pg_temp.check_all_orders(ARRAY[
  pg_temp.org_event('organization.updated', 'org_3', 'Left', 5000, 5000),
  pg_temp.org_event('organization.updated', 'org_3', 'Right', 5000, 5000),
  pg_temp.membership_event('organizationMembership.created', 'mem_3', 'org_3', 'Snapshot', 9000, 'user_3', 'org:member', 5000, 5000)]);
SELECT id, name, source FROM orgsync.organizations ORDER BY id;

-- 4. Deletion is final: a late created/updated never brings an object back.
SELECT pg_temp.reset();
SELECT orgsync.apply_event(pg_temp.org_event('organization.deleted', 'org_4', NULL, NULL, 9000)) ->> 'status' AS deletion_first;
SELECT orgsync.apply_event(pg_temp.org_event('organization.created', 'org_4', 'Ghost', 8000, 8000)) ->> 'status' AS late_create;
SELECT orgsync.apply_event(pg_temp.membership_event('organizationMembership.created', 'mem_4', 'org_4', 'Ghost', 8000, 'user_4', 'org:member', 8500, 8500)) ->> 'status' AS late_membership;
SELECT orgsync.apply_event(pg_temp.org_event('organization.deleted', 'org_4', NULL, NULL, 9000)) ->> 'status' AS deletion_again;
SELECT id, name, source, deleted_at = pg_temp.at(9000) AS deleted FROM orgsync.organizations ORDER BY id;
SELECT id, deleted_at = pg_temp.at(9000) AS born_ended FROM orgsync.memberships ORDER BY id;

-- 5. The event timestamp comes in seconds in some payloads, ms in others.
SELECT pg_temp.reset();
SELECT orgsync.apply_event(jsonb_set(pg_temp.org_event('organization.deleted', 'org_s', NULL, NULL, 0), '{timestamp}', '1716883200')) ->> 'status';
SELECT orgsync.apply_event(jsonb_set(pg_temp.org_event('organization.deleted', 'org_ms', NULL, NULL, 0), '{timestamp}', '1716883200000')) ->> 'status';
SELECT id, deleted_at FROM orgsync.organizations ORDER BY id;
SELECT pg_temp.reset();
