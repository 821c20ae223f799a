-- Roles and permissions: the instance's, created, updated (a role's
-- permission list changes), deleted by id; in both orders and twice over.
\set ECHO none
\i sql/include/deliver.sql
\set ECHO all
CREATE TEMP TABLE history (n int, body jsonb);
\set e `cat test/fixtures/clerk/role.created.json`
INSERT INTO history VALUES (1, :'e');
\set e `cat test/fixtures/clerk/role.updated.json`
INSERT INTO history VALUES (2, jsonb_set(:'e'::jsonb, '{timestamp}', '1716883500'));
\set e `cat test/fixtures/clerk/role.deleted.json`
INSERT INTO history VALUES (3, jsonb_set(:'e'::jsonb, '{timestamp}', '1716883600'));
\set e `cat test/fixtures/clerk/permission.created.json`
INSERT INTO history VALUES (4, :'e');
\set e `cat test/fixtures/clerk/permission.updated.json`
INSERT INTO history VALUES (5, jsonb_set(:'e'::jsonb, '{timestamp}', '1716883500'));
\set e `cat test/fixtures/clerk/permission.deleted.json`
INSERT INTO history VALUES (6, jsonb_set(:'e'::jsonb, '{timestamp}', '1716883600'));

-- in order: the role's permission keys follow its updates
SELECT n, pg_temp.deliver(body) FROM history WHERE n IN (1, 2, 4, 5) ORDER BY n;
SELECT id, key, name, description, is_creator_eligible, permissions, source, deleted_at IS NULL AS live FROM orgsync.roles;
SELECT id, key, name, type, source, deleted_at IS NULL AS live FROM orgsync.permissions;
-- the updates first, then the creations, then all again: the same rows
TRUNCATE orgsync.roles, orgsync.permissions, orgsync.events;
SELECT n, pg_temp.deliver(body) FROM history WHERE n IN (1, 2, 4, 5) ORDER BY n DESC;
SELECT n, pg_temp.deliver(body, 'again') AS again FROM history WHERE n IN (1, 2, 4, 5) ORDER BY n;
SELECT id, key, permissions FROM orgsync.roles;
SELECT id, key, name FROM orgsync.permissions;
-- deletions carry no key: tombstones by id, final whatever comes later
TRUNCATE orgsync.roles, orgsync.permissions, orgsync.events;
SELECT n, pg_temp.deliver(body) FROM history ORDER BY n DESC;
SELECT id, key, source, deleted_at = to_timestamp(1716883600) AS deleted FROM orgsync.roles;
SELECT id, key, source, deleted_at = to_timestamp(1716883600) AS deleted FROM orgsync.permissions;

TRUNCATE orgsync.roles, orgsync.permissions, orgsync.events, orgsync.secrets;
