-- What CREATE EXTENSION refuses or undoes so that orgsync's superuser
-- functions stay in orgsync's hands, and what it registers for pg_dump.
SELECT current_database() AS regress_db \gset
SET client_min_messages = warning;
DROP DATABASE IF EXISTS regress_orgsync_install;
CREATE DATABASE regress_orgsync_install;
RESET client_min_messages;
CREATE ROLE regress_schema_squatter;
CREATE ROLE regress_reporting;
\c regress_orgsync_install

-- a schema orgsync owned by another role: its owner could swap the tables
-- the functions write as superuser; CREATE EXTENSION refuses it
CREATE SCHEMA orgsync AUTHORIZATION regress_schema_squatter;
\set VERBOSITY terse
CREATE EXTENSION orgsync;
\set VERBOSITY default
SELECT count(*) AS extensions FROM pg_extension WHERE extname = 'orgsync';
DROP SCHEMA orgsync;

-- default privileges reach the mirror tables as the administrator chose, but
-- never the signing keys, the raw deliveries (invitation urls carry tokens)
-- or the functions not meant for PUBLIC
ALTER DEFAULT PRIVILEGES GRANT SELECT ON TABLES TO regress_reporting;
ALTER DEFAULT PRIVILEGES GRANT EXECUTE ON FUNCTIONS TO regress_reporting;
CREATE EXTENSION orgsync;
SELECT has_table_privilege('regress_reporting', 'orgsync.memberships', 'SELECT') AS reads_memberships,
       has_table_privilege('regress_reporting', 'orgsync.secrets', 'SELECT') AS reads_secrets,
       has_table_privilege('regress_reporting', 'orgsync.events', 'SELECT') AS reads_deliveries;
SELECT p.oid::regprocedure AS function, has_function_privilege('regress_reporting', p.oid, 'EXECUTE') AS executes
FROM pg_proc p WHERE p.pronamespace = 'orgsync'::regnamespace ORDER BY p.oid::regprocedure::text;

-- pg_dump dumps these tables' rows
SELECT unnest(extconfig)::regclass AS dumped_table, unnest(extcondition) AS condition
FROM pg_extension WHERE extname = 'orgsync' ORDER BY dumped_table::text;

-- user_organizations names an organization once, however many live
-- memberships the user has in it
\set membership `cat test/fixtures/clerk/organizationMembership.created.json`
SELECT orgsync.apply_event(:'membership') ->> 'status' AS first;
SELECT orgsync.apply_event(jsonb_set(:'membership'::jsonb, '{data,id}', '"orgmem_regress_second"')) ->> 'status' AS second;
SELECT count(*) AS live_memberships, (SELECT count(*) FROM orgsync.user_organizations(min(m.user_id))) AS organizations
FROM orgsync.memberships m WHERE m.deleted_at IS NULL;

\c :regress_db
DROP DATABASE regress_orgsync_install;
DROP ROLE regress_schema_squatter, regress_reporting;
