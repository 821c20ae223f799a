-- Upgrading in place: an install made at 0.1.0 with data in it, updated to
-- the current version, keeps its rows and gains what the new version adds.
SELECT current_database() AS regress_db \gset
SET client_min_messages = warning;
DROP DATABASE IF EXISTS regress_orgsync_upgrade;
CREATE DATABASE regress_orgsync_upgrade;
RESET client_min_messages;
\c regress_orgsync_upgrade
CREATE EXTENSION orgsync VERSION '0.1.0';
\set secret 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw'
SELECT orgsync.add_secret(:'secret');
\set org_created `cat test/fixtures/clerk/organization.created.json`
\set membership_created `cat test/fixtures/clerk/organizationMembership.created.json`
SELECT orgsync.handle_event(orgsync.sign(:'secret', 'msg_1', :'org_created'), :'org_created') ->> 'status' AS status;
SELECT orgsync.handle_event(orgsync.sign(:'secret', 'msg_2', :'membership_created'), :'membership_created') ->> 'status' AS status;
CREATE TEMP TABLE before_update AS
SELECT 'org' AS tbl, to_jsonb(o) AS row FROM orgsync.organizations o
UNION ALL SELECT 'user', to_jsonb(u) FROM orgsync.users u
UNION ALL SELECT 'membership', to_jsonb(m) FROM orgsync.memberships m
UNION ALL SELECT 'event', to_jsonb(e) FROM orgsync.events e;
SELECT to_regprocedure('orgsync.handle_events(jsonb[], text[], text)') IS NULL AS no_batch_function_yet;

ALTER EXTENSION orgsync UPDATE;
SELECT extversion FROM pg_extension WHERE extname = 'orgsync';
SELECT array_length(extconfig, 1) AS tables_pg_dump_dumps FROM pg_extension WHERE extname = 'orgsync';

-- the rows are untouched
SELECT count(*) AS rows_before, count(*) FILTER (WHERE row NOT IN (
  SELECT to_jsonb(o) FROM orgsync.organizations o UNION ALL SELECT to_jsonb(u) FROM orgsync.users u
  UNION ALL SELECT to_jsonb(m) FROM orgsync.memberships m UNION ALL SELECT to_jsonb(e) FROM orgsync.events e)) AS changed
FROM before_update;
-- the cached keys and old deliveries still work: a retry is a duplicate
SELECT orgsync.handle_event(orgsync.sign(:'secret', 'msg_1', :'org_created'), :'org_created') ->> 'status' AS status;
-- and the new function is there, with the same privileges as handle_event
SELECT r ->> 'status' AS status
FROM orgsync.handle_events(ARRAY[orgsync.sign(:'secret', 'msg_2', :'membership_created'),
                                 orgsync.sign(:'secret', 'msg_3', :'org_created')],
                           ARRAY[:'membership_created', :'org_created']) WITH ORDINALITY AS t(r, n)
ORDER BY n;
SELECT p.proname, p.prosecdef, p.proconfig, has_function_privilege('public', p.oid, 'EXECUTE') AS public_can_execute
FROM pg_proc p WHERE p.oid IN ('orgsync.handle_event(jsonb, text, text)'::regprocedure,
                               'orgsync.handle_events(jsonb[], text[], text)'::regprocedure)
ORDER BY p.proname;

-- large columns are compressed with lz4; live-membership checks read only the index
SELECT attrelid::regclass AS tbl, attname, attcompression FROM pg_attribute
WHERE attrelid IN ('orgsync.events'::regclass, 'orgsync.organizations'::regclass, 'orgsync.users'::regclass,
                   'orgsync.memberships'::regclass, 'orgsync.invitations'::regclass) AND attcompression <> ''
ORDER BY attrelid::regclass::text, attname;
VACUUM orgsync.memberships;
SET enable_seqscan = off;
EXPLAIN (COSTS OFF) SELECT 1 FROM orgsync.memberships m
WHERE m.user_id = 'user_1' AND m.organization_id = 'org_1' AND m.deleted_at IS NULL AND m.role = 'org:admin';
RESET enable_seqscan;

\c :regress_db
DROP DATABASE regress_orgsync_upgrade;
