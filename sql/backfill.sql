-- The backfill's SQL: pages of Backend API listings applied under the merge
-- rules of webhooks, runs that keep their place, and a sweep that ends only
-- rows Clerk confirmed gone and that did not change meanwhile.
SET client_min_messages = warning;
CREATE ROLE regress_backfill LOGIN IN ROLE orgsync_backfill;
RESET client_min_messages;
\set ECHO none
\i sql/include/try.sql
\set ECHO all
\set membership `cat test/fixtures/clerk/organizationMembership.created.json`
CREATE TEMP TABLE api AS SELECT
  jsonb_build_object('data', jsonb_build_array(
     jsonb_build_object('object', 'organization', 'id', 'org_a', 'name', 'A', 'created_at', 1716883200000, 'updated_at', 1716883200000),
     jsonb_build_object('object', 'organization', 'id', 'org_b', 'name', 'B', 'created_at', 1716883200000, 'updated_at', 1716883200000)),
     'total_count', 2)::text AS organizations,
  jsonb_build_array(jsonb_build_object('object', 'user', 'id', 'user_1', 'first_name', 'Ann', 'updated_at', 1716883200000))::text AS users,
  jsonb_build_object('data', jsonb_build_array(:'membership'::jsonb -> 'data'), 'total_count', 1)::text AS memberships;
GRANT SELECT ON api TO regress_backfill;

-- bad pages and arguments: a real SQLSTATE, nothing applied
SELECT pg_temp.try($$SELECT count(*) FROM orgsync.apply_listing('sessions', '[]')$$);
SELECT pg_temp.try($$SELECT count(*) FROM orgsync.apply_listing(NULL, '[]')$$);
SELECT pg_temp.try($$SELECT count(*) FROM orgsync.apply_listing('users', NULL)$$);
SELECT pg_temp.try($$SELECT count(*) FROM orgsync.apply_listing('users', 'not json')$$);
SELECT pg_temp.try($$SELECT count(*) FROM orgsync.apply_listing('users', '{"total_count": 0}')$$);
SELECT pg_temp.try($$SELECT count(*) FROM orgsync.apply_listing('users', '{"data": {}}')$$);
SELECT pg_temp.try($$SELECT count(*) FROM orgsync.apply_listing('users', '[1]')$$);
SELECT pg_temp.try($$SELECT count(*) FROM orgsync.apply_listing('users', '[{"id": "user_ok"}, {"name": "no id"}]')$$);
SELECT pg_temp.try($$SELECT count(*) FROM orgsync.apply_listing('users', '[{"id": "user_ok", "first_name": 7}]')$$);
SELECT pg_temp.try($$SELECT count(*) FROM orgsync.apply_listing('users', '[]')$$);
SELECT pg_temp.try($$SELECT orgsync.apply_deletion('organizations', 'org_x', 'infinity')$$);
SELECT pg_temp.try($$SELECT orgsync.apply_deletion('organizations', NULL, now())$$);
SELECT pg_temp.try($$SELECT orgsync.apply_deletion('organizations', '', now())$$);
SELECT pg_temp.try($$SELECT orgsync.apply_deletion('organizations', repeat('x', 257), now())$$);
SELECT pg_temp.try($$SELECT orgsync.backfill_page(12345, 'users', '[]')$$);
SELECT count(*) AS rows_applied FROM orgsync.users;

-- a run as the backfill role: pages applied, progress kept with each page
SET ROLE regress_backfill;
SELECT orgsync.backfill_start(sweep => true) AS run \gset
SELECT orgsync.backfill_page(:run, 'organizations', organizations, '{"offset": 2}', 2, true) FROM api;
SELECT orgsync.backfill_page(:run, 'users', users, '{"starting_after": "user_1"}', NULL, true) FROM api;
SELECT orgsync.backfill_page(:run, 'memberships', memberships, '{"offset": 1}', 1, true) FROM api;
SELECT kind, position, total, pages, read, applied, stale, listed_at IS NOT NULL AS listed
FROM orgsync.backfill_progress WHERE run_id = :run ORDER BY kind;
-- and nothing else: no mirror, no deliveries, no secrets, no webhooks
SELECT pg_temp.try($$SELECT count(*) FROM orgsync.organizations$$);
SELECT pg_temp.try($$SELECT count(*) FROM orgsync.backfill_seen$$);
SELECT pg_temp.try($$SELECT count(*) FROM orgsync.events$$);
SELECT pg_temp.try($$SELECT orgsync.apply_event('{}')$$);
SELECT pg_temp.try($$SELECT orgsync.handle_event('{}', '{}')$$);
-- nor end an object without the sweep's checks (a tombstone is final)
SELECT pg_temp.try($$SELECT orgsync.apply_deletion('organizations', 'org_a', now())$$);
RESET ROLE;
SELECT id, name, source FROM orgsync.organizations ORDER BY id;
SELECT id, first_name, source FROM orgsync.users ORDER BY id;

-- rows the listings did not contain: a webhook's organization, and one
-- created from a membership only; candidates only once a listing is complete
SELECT orgsync.apply_event('{"type": "organization.created", "timestamp": 1716883300, "data": {"id": "org_gone", "name": "Gone", "updated_at": 1716883200000}}') ->> 'status';
SELECT orgsync.apply_event('{"type": "organization.created", "timestamp": 1716883300, "data": {"id": "org_changing", "name": "Changing", "updated_at": 1716883200000}}') ->> 'status';
SET ROLE regress_backfill;
SELECT pg_temp.try(format('SELECT count(*) FROM orgsync.backfill_candidates(%s, %L)', :run, 'domains'));
SELECT pg_temp.try(format('SELECT count(*) FROM orgsync.backfill_candidates(%s, %L)', :run, 'invitations'));
-- nor tombstones before the listing is complete, nor of another kind
SELECT pg_temp.try(format('SELECT orgsync.backfill_tombstone(%s, %L, %L, %L)', :run, 'domains', 'dmn_1', '{1,1,1,1}'));
SELECT pg_temp.try(format('SELECT orgsync.backfill_tombstone(%s, %L, %L, %L)', :run, 'invitations', 'inv_1', '{1,1,1,1}'));
SELECT pg_temp.try(format('SELECT orgsync.backfill_tombstone(%s, %L, %L, NULL)', :run, 'organizations', 'org_a'));
SELECT pg_temp.try(format('SELECT orgsync.backfill_swept(%s, %L)', :run, 'sessions'));
CREATE TEMP TABLE candidates AS SELECT * FROM orgsync.backfill_candidates(:run, 'organizations');
RESET ROLE;
GRANT SELECT ON candidates TO regress_backfill;
SET ROLE regress_backfill;
SELECT id, organization_id, user_id FROM candidates ORDER BY id;
SELECT id, organization_id, user_id FROM orgsync.backfill_candidates(:run, 'users') ORDER BY id;
RESET ROLE;
-- a webhook changes one candidate after the candidates were listed; then
-- every candidate is taken as confirmed gone (the relay asks Clerk first)
SELECT orgsync.apply_event('{"type": "organization.updated", "timestamp": 1716883400, "data": {"id": "org_changing", "name": "Renamed", "updated_at": 1716883400000}}') ->> 'status';
SET ROLE regress_backfill;
SELECT c.id, orgsync.backfill_tombstone(:run, 'organizations', c.id, c.sync_version) FROM candidates c ORDER BY c.id;
SELECT c.id, orgsync.backfill_tombstone(:run, 'organizations', c.id, c.sync_version) AS again FROM candidates c ORDER BY c.id;
SELECT orgsync.backfill_swept(:run, 'organizations');
SELECT orgsync.backfill_finish(:run);
SELECT pg_temp.try(format('SELECT orgsync.backfill_page(%s, %L, %L)', :run, 'users', '[]'));
SELECT pg_temp.try(format('SELECT orgsync.backfill_swept(%s, %L)', :run, 'users'));
SELECT sweep, finished_at IS NOT NULL AS finished, outcome FROM orgsync.backfill_runs WHERE id = :run;
SELECT kind, tombstoned, swept_at IS NOT NULL AS swept FROM orgsync.backfill_progress WHERE run_id = :run ORDER BY kind;
RESET ROLE;
SELECT id, name, deleted_at IS NOT NULL AS deleted FROM orgsync.organizations ORDER BY id;
SELECT id, deleted_at IS NOT NULL AS ended_with_its_organization FROM orgsync.memberships ORDER BY id;
SELECT count(*) AS seen_left FROM orgsync.backfill_seen;

-- a run without --sweep has no candidates
SELECT orgsync.backfill_start() AS quick \gset
SELECT pg_temp.try(format('SELECT count(*) FROM orgsync.backfill_candidates(%s, %L)', :quick, 'organizations'));
SELECT pg_temp.try(format('SELECT orgsync.backfill_tombstone(%s, %L, %L, %L)', :quick, 'organizations', 'org_a', '{1,1,1,1}'));
SELECT orgsync.backfill_finish(:quick, 'stopped: test');

TRUNCATE orgsync.organizations, orgsync.users, orgsync.memberships, orgsync.events, orgsync.backfill_runs
RESTART IDENTITY CASCADE;
DROP ROLE regress_backfill;
