-- Upgrading in place, and a fresh install against upgraded ones.
-- An install made at 0.1.0 with data in it, updated to the current version,
-- keeps its rows and gains what the new version adds. A fresh install of the
-- current version (the script make generates) has exactly what installs
-- updated from 0.1.0 and from 0.3.0 have: every object, column, privilege
-- and comment, compared through the catalogs (sql/include/compare_installs.sql),
-- shows no difference; and the same signed deliveries leave the same rows in
-- the fresh install as in the one updated from 0.3.0.
SELECT current_database() AS regress_db \gset
SET client_min_messages = warning;
DROP DATABASE IF EXISTS regress_orgsync_fresh;
DROP DATABASE IF EXISTS regress_orgsync_upgrade;
DROP DATABASE IF EXISTS regress_orgsync_from_030;
DROP DATABASE IF EXISTS regress_orgsync_data_030;
CREATE DATABASE regress_orgsync_data_030;
CREATE DATABASE regress_orgsync_fresh;
CREATE DATABASE regress_orgsync_upgrade;
CREATE DATABASE regress_orgsync_from_030;
RESET client_min_messages;
\set secret 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw'
\set org_created `cat test/fixtures/clerk/organization.created.json`
\set org_updated `cat test/fixtures/clerk/organization.updated.json`
\set user_created `cat test/fixtures/clerk/user.created.json`
\set membership_created `cat test/fixtures/clerk/organizationMembership.created.json`
\set invitation_created `cat test/fixtures/clerk/organizationInvitation.created.json`
\set invitation_accepted `cat test/fixtures/clerk/organizationInvitation.accepted.json`
\set session_created `cat test/fixtures/clerk/session.created.json`

-- The fresh install: its schema, and the rows a sample of deliveries leaves.
\c regress_orgsync_fresh
CREATE EXTENSION orgsync;
\set ECHO none
\i sql/include/compare_installs.sql
\set ECHO all
SELECT jsonb_agg(d) AS fresh_schema FROM schema_description d \gset
-- what is compared (every row of each kind, and of any other kind there is)
SELECT kind, count(*) > 0 AS described FROM schema_description
WHERE kind IN ('schema', 'extension', 'member', 'relation', 'column', 'index', 'constraint', 'trigger',
               'type', 'function', 'role')
GROUP BY kind ORDER BY kind;
SELECT orgsync.add_secret(:'secret');
SELECT ARRAY[:'membership_created', :'org_updated', :'org_created', :'user_created', :'invitation_created',
             :'session_created', '{"type": "user.created", "object": "event", "timestamp": 1700000000000, "data": {}}'] AS sample \gset
SELECT r ->> 'status' AS status FROM pg_temp.deliver(:'secret', :'sample') WITH ORDINALITY AS t(r, n) ORDER BY n;
SELECT jsonb_agg(r) AS fresh_rows FROM schema_rows r \gset
SELECT count(*) AS rows_compared FROM schema_rows;

-- Updated from 0.1.0, with data in it.
\c regress_orgsync_upgrade
CREATE EXTENSION orgsync VERSION '0.1.0';
SELECT orgsync.add_secret(:'secret');
-- The new library is installed before ALTER EXTENSION ... UPDATE: until
-- then it refuses deliveries (55000, which the relay answers with 503, so
-- Svix delivers them again) rather than work on objects it does not know.
SELECT orgsync.handle_event(orgsync.sign(:'secret', 'msg_0', :'org_created'), :'org_created');
SELECT orgsync.apply_event(:'org_created');
-- The rows 0.1.0's library left after msg_1 (organization.created) and msg_2
-- (organizationMembership.created), as it wrote them.
INSERT INTO orgsync.organizations (id, name, slug, image_url, created_by, max_allowed_memberships, public_metadata,
                                   private_metadata, created_at, updated_at, data, source, sync_version)
SELECT d ->> 'id', d ->> 'name', d ->> 'slug', d ->> 'image_url', d ->> 'created_by', 5, '{}', '{}',
       '2024-05-28 08:00:00+00', '2024-05-28 08:00:00+00', d, 'event', '{1,1716883200000,1716883200000,-4739091901967953373}'
FROM (SELECT :'org_created'::jsonb -> 'data' AS d) o;
INSERT INTO orgsync.users (id, primary_email, first_name, last_name, image_url, data, source, sync_version)
SELECT d ->> 'user_id', d ->> 'identifier', d ->> 'first_name', d ->> 'last_name', d ->> 'image_url', d, 'membership',
       '{0,1716883200000,1716883200000,-4688107413932870640}'
FROM (SELECT :'membership_created'::jsonb -> 'data' -> 'public_user_data' AS d) u;
INSERT INTO orgsync.memberships (id, organization_id, user_id, role, permissions, public_metadata, private_metadata,
                                 created_at, updated_at, data, sync_version)
SELECT d ->> 'id', d -> 'organization' ->> 'id', d -> 'public_user_data' ->> 'user_id', d ->> 'role',
       '{org:posts:read,org:posts:write}', '{}', '{}', '2024-05-28 08:00:00+00', '2024-05-28 08:00:00+00', d,
       '{1,1716883200000,1716883200000,7055000429651775638}'
FROM (SELECT :'membership_created'::jsonb -> 'data' AS d) m;
INSERT INTO orgsync.events (id, endpoint, type, status, object_id, event_time, payload) VALUES
    ('msg_1', 'default', 'organization.created', 'applied', 'org_2g7np7Hrk0SN6kj5EDMLDaKNL0S', '2024-05-28 08:00:00+00', :'org_created'),
    ('msg_2', 'default', 'organizationMembership.created', 'applied', 'orgmem_2g7np7Hrk0SN6kj5EDMLDaKNL0S',
     '2024-05-28 08:00:00+00', :'membership_created');
CREATE TEMP TABLE before_update AS
SELECT 'org' AS tbl, to_jsonb(o) AS row FROM orgsync.organizations o
UNION ALL SELECT 'user', to_jsonb(u) FROM orgsync.users u
UNION ALL SELECT 'membership', to_jsonb(m) FROM orgsync.memberships m
UNION ALL SELECT 'event', to_jsonb(e) FROM orgsync.events e;
SELECT to_regprocedure('orgsync.handle_events(jsonb[], text[], text)') IS NULL AS no_batch_function_yet;

ALTER EXTENSION orgsync UPDATE;
SELECT extversion FROM pg_extension WHERE extname = 'orgsync';
SELECT c::regclass AS tables_pg_dump_dumps FROM pg_extension, unnest(extconfig) AS c WHERE extname = 'orgsync' ORDER BY c::regclass::text;

-- every value is kept (the tables gain columns); the one change is the name
-- of a placeholder's source, 'membership' then, 'snapshot' now
CREATE TEMP TABLE after_update AS
SELECT 'org' AS tbl, to_jsonb(o) AS row FROM orgsync.organizations o
UNION ALL SELECT 'user', to_jsonb(u) FROM orgsync.users u
UNION ALL SELECT 'membership', to_jsonb(m) FROM orgsync.memberships m
UNION ALL SELECT 'event', to_jsonb(e) FROM orgsync.events e;
SELECT b.tbl, b.row ->> 'id' AS id, key, b.row -> key AS before, a.row -> key AS after
FROM before_update b JOIN after_update a ON a.tbl = b.tbl AND a.row ->> 'id' = b.row ->> 'id',
     jsonb_object_keys(b.row) AS key
WHERE b.row -> key IS DISTINCT FROM a.row -> key
ORDER BY 1, 2, 3;
SELECT (SELECT count(*) FROM before_update) AS rows_before, (SELECT count(*) FROM after_update) AS rows_after;
-- deliveries work now; a retry of an old delivery is a duplicate
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

-- the same schema as the fresh install
\set ECHO none
\i sql/include/compare_installs.sql
\set ECHO all
SELECT * FROM pg_temp.schema_difference(:'fresh_schema');

-- Updated from 0.3.0: the same schema, and the same rows after the same deliveries.
\c regress_orgsync_from_030
CREATE EXTENSION orgsync VERSION '0.3.0';
ALTER EXTENSION orgsync UPDATE;
\set ECHO none
\i sql/include/compare_installs.sql
\set ECHO all
SELECT * FROM pg_temp.schema_difference(:'fresh_schema');
SELECT orgsync.add_secret(:'secret');
SELECT r ->> 'status' AS status FROM pg_temp.deliver(:'secret', :'sample') WITH ORDINALITY AS t(r, n) ORDER BY n;
SELECT * FROM pg_temp.rows_difference(:'fresh_rows');


-- Updated from 0.3.0 with rows in it: the columns 0.4.0 adds are read from
-- each row's stored data, as the library reads the same object (a user banned
-- before the update must not pass is_member). The rows as 0.3.0 wrote them:
\c regress_orgsync_data_030
CREATE EXTENSION orgsync VERSION '0.3.0';
SELECT (:'user_created'::jsonb -> 'data') || '{"banned": true, "locked": true, "last_sign_in_at": 1716883300000,
        "primary_phone_number_id": "idn_p", "phone_numbers": [{"id": "idn_x", "phone_number": "+15550001"},
                                                            {"id": "idn_p", "phone_number": "+15550002"}]}' AS user_data \gset
SELECT jsonb_set(jsonb_set(:'membership_created'::jsonb -> 'data', '{public_user_data,identifier}', '"+15550003"'),
                 '{public_user_data,banned}', 'true') AS membership_data \gset
SELECT (:'invitation_created'::jsonb -> 'data') || '{"inviter_id": "user_inviter"}' AS invitation_data \gset
SELECT (:'invitation_accepted'::jsonb -> 'data') || '{"id": "orginv_accepted"}' AS accepted_data \gset
INSERT INTO orgsync.users (id, data, source, sync_version) VALUES
    (:'user_data'::jsonb ->> 'id', :'user_data', 'event', '{1,1716883200000,1716883200000,1}'),
    (:'membership_data'::jsonb #>> '{public_user_data,user_id}', :'membership_data'::jsonb -> 'public_user_data',
     'membership', '{0,1716883200000,1716883200000,2}');
INSERT INTO orgsync.memberships (id, organization_id, user_id, role, data, sync_version)
SELECT d ->> 'id', d #>> '{organization,id}', d #>> '{public_user_data,user_id}', d ->> 'role', d,
       '{1,1716883200000,1716883200000,3}'
FROM (SELECT :'membership_data'::jsonb AS d) m;
INSERT INTO orgsync.invitations (id, organization_id, email_address, role, status, data, sync_version)
SELECT d ->> 'id', d ->> 'organization_id', d ->> 'email_address', d ->> 'role', d ->> 'status', d,
       ARRAY[1, (d ->> 'updated_at')::bigint, (d ->> 'updated_at')::bigint, 4]
FROM (VALUES (:'invitation_data'::jsonb), (:'accepted_data'::jsonb)) AS i(d);
ALTER EXTENSION orgsync UPDATE;
CREATE TEMP VIEW new_columns (tbl, id, added) AS
SELECT 'invitations', id, jsonb_build_object('role_name', role_name, 'inviter_id', inviter_id, 'user_id', user_id)
FROM orgsync.invitations
UNION ALL SELECT 'memberships', id, jsonb_build_object('role_name', role_name) FROM orgsync.memberships
UNION ALL SELECT 'users', id, jsonb_build_object('primary_phone', primary_phone, 'banned', banned, 'locked', locked,
                                                 'last_sign_in_at', last_sign_in_at)
FROM orgsync.users;
SELECT * FROM new_columns ORDER BY tbl, id;
SELECT jsonb_agg(n) AS upgraded FROM new_columns n \gset
-- the library writes the same values from the same objects
TRUNCATE orgsync.organizations, orgsync.users, orgsync.memberships, orgsync.invitations;
SELECT orgsync.apply_event(jsonb_build_object('type', t, 'object', 'event', 'timestamp', 1716883200000, 'data', d))
       ->> 'status' AS status
FROM (VALUES (1, 'user.created', :'user_data'::jsonb), (2, 'organizationMembership.created', :'membership_data'),
             (3, 'organizationInvitation.created', :'invitation_data'),
             (4, 'organizationInvitation.accepted', :'accepted_data')) AS e(n, t, d)
ORDER BY n;
(TABLE new_columns EXCEPT SELECT * FROM jsonb_to_recordset(:'upgraded') AS u(tbl text, id text, added jsonb))
UNION ALL
(SELECT * FROM jsonb_to_recordset(:'upgraded') AS u(tbl text, id text, added jsonb) EXCEPT TABLE new_columns)
ORDER BY 1, 2;

\c :regress_db
DROP DATABASE regress_orgsync_fresh;
DROP DATABASE regress_orgsync_upgrade;
DROP DATABASE regress_orgsync_from_030;
DROP DATABASE regress_orgsync_data_030;
