-- has_permission answers from the newest knowledge: the live role of the
-- membership's role key, unless the membership was updated after it; the
-- membership's own copy when no live role of that key is known.
\set mem_created `cat test/fixtures/clerk/organizationMembership.created.json`
\set role_created `cat test/fixtures/clerk/role.created.json`
\set role_deleted `cat test/fixtures/clerk/role.deleted.json`
CREATE TEMP TABLE fixture (name text PRIMARY KEY, event jsonb);
INSERT INTO fixture VALUES ('membership', :'mem_created'), ('role', :'role_created'), ('role.deleted', :'role_deleted');

-- A membership event: user in org with role, its permissions, updated at ms.
CREATE FUNCTION pg_temp.membership(type text, member text, org text, role text, permissions text[], updated_ms bigint)
RETURNS text LANGUAGE sql AS $$
  SELECT orgsync.apply_event(event || jsonb_build_object('type', type, 'data', event -> 'data' || jsonb_build_object(
      'id', 'orgmem_' || member || '_' || org, 'role', role, 'permissions', permissions, 'updated_at', updated_ms,
      'organization', event -> 'data' -> 'organization' || jsonb_build_object('id', org),
      'public_user_data', event -> 'data' -> 'public_user_data' || jsonb_build_object('user_id', member)))) ->> 'status'
  FROM fixture WHERE name = 'membership'
$$;
-- A role event: role id with key and permission keys, updated at ms.
CREATE FUNCTION pg_temp.role(type text, role_id text, key text, permissions text[], updated_ms bigint)
RETURNS text LANGUAGE sql AS $$
  SELECT orgsync.apply_event(event || jsonb_build_object('type', type, 'data', event -> 'data' || jsonb_build_object(
      'id', role_id, 'key', key, 'updated_at', updated_ms,
      'permissions', (SELECT coalesce(jsonb_agg(jsonb_build_object('object', 'permission', 'key', p)), '[]') FROM unnest(permissions) p)))) ->> 'status'
  FROM fixture WHERE name = 'role'
$$;
CREATE FUNCTION pg_temp.role_deleted(role_id text, at_ms bigint) RETURNS text LANGUAGE sql AS $$
  SELECT orgsync.apply_event(event || jsonb_build_object('timestamp', at_ms, 'data', event -> 'data' || jsonb_build_object('id', role_id))) ->> 'status'
  FROM fixture WHERE name = 'role.deleted'
$$;
-- What has_permission says for ann in hotel A, permission by permission.
CREATE FUNCTION pg_temp.ann_may() RETURNS TABLE (read boolean, write boolean, publish boolean, archive boolean, sys_read boolean)
LANGUAGE sql AS $$
  SELECT orgsync.has_permission('org_a', 'org:posts:read', 'user_ann'), orgsync.has_permission('org_a', 'org:posts:write', 'user_ann'),
         orgsync.has_permission('org_a', 'org:posts:publish', 'user_ann'), orgsync.has_permission('org_a', 'org:posts:archive', 'user_ann'),
         orgsync.has_permission('org_a', 'org:sys_memberships:read', 'user_ann')
$$;

-- no role known: the membership's copy, system permissions included
SELECT pg_temp.membership('organizationMembership.created', 'user_ann', 'org_a', 'org:editor',
                          '{org:posts:read,org:posts:write,org:sys_memberships:read}', 1000);
SELECT * FROM pg_temp.ann_may();

-- the role, updated after the membership, wins: write was taken away from it
SELECT pg_temp.role('role.created', 'role_editor', 'org:editor', '{org:posts:read,org:sys_memberships:read}', 2000);
SELECT * FROM pg_temp.ann_may();
-- and a later role.updated reaches every member at once, no membership event needed
SELECT pg_temp.role('role.updated', 'role_editor', 'org:editor', '{org:posts:read,org:posts:publish,org:sys_memberships:read}', 3000);
SELECT * FROM pg_temp.ann_may();
-- an older copy of the role changes nothing
SELECT pg_temp.role('role.updated', 'role_editor', 'org:editor', '{org:posts:read}', 2500);
SELECT * FROM pg_temp.ann_may();

-- a membership updated after the role's last delivered update knows better
-- (the role's own update is still on its way)
SELECT pg_temp.membership('organizationMembership.updated', 'user_ann', 'org_a', 'org:editor',
                          '{org:posts:read,org:posts:archive}', 4000);
SELECT * FROM pg_temp.ann_may();
-- until the role's update arrives
SELECT pg_temp.role('role.updated', 'role_editor', 'org:editor', '{org:posts:read,org:posts:archive,org:sys_memberships:read}', 5000);
SELECT * FROM pg_temp.ann_may();

-- a deleted role is no longer known: the membership's copy answers
SELECT pg_temp.role_deleted('role_editor', 6000);
SELECT * FROM pg_temp.ann_may();
-- a role created again under the same key, new id: the live one answers
SELECT pg_temp.role('role.created', 'role_editor_2', 'org:editor', '{org:posts:write}', 7000);
SELECT * FROM pg_temp.ann_may();
-- a copy of the role without its permissions list says nothing about them:
-- the membership's copy answers, until a copy with the list arrives
SELECT orgsync.apply_event(event || jsonb_build_object('type', 'role.updated', 'data', ((event -> 'data') - 'permissions')
         || jsonb_build_object('id', 'role_editor_2', 'key', 'org:editor', 'updated_at', 7500))) ->> 'status'
FROM fixture WHERE name = 'role';
SELECT * FROM pg_temp.ann_may();
SELECT pg_temp.role('role.updated', 'role_editor_2', 'org:editor', '{org:posts:write}', 7600);
SELECT * FROM pg_temp.ann_may();

-- another member of the same role gets the role's permissions; a member of
-- another role does not; roles are matched by key exactly
SELECT pg_temp.membership('organizationMembership.created', 'user_ben', 'org_a', 'org:editor', '{org:posts:read}', 1000);
SELECT pg_temp.membership('organizationMembership.created', 'user_cy', 'org_a', 'editor', '{org:posts:read}', 1000);
SELECT orgsync.has_permission('org_a', 'org:posts:write', 'user_ben') AS ben_write, orgsync.has_permission('org_a', 'org:posts:read', 'user_ben') AS ben_read,
       orgsync.has_permission('org_a', 'org:posts:write', 'user_cy') AS cy_write, orgsync.has_permission('org_a', 'org:posts:read', 'user_cy') AS cy_read;

-- not in the organization, another organization, an ended membership
SELECT orgsync.has_permission('org_b', 'org:posts:write', 'user_ann') AS other_org,
       orgsync.has_permission('org_a', 'org:posts:write', 'user_nobody') AS stranger;
SELECT pg_temp.membership('organizationMembership.deleted', 'user_ann', 'org_a', 'org:editor', '{org:posts:read}', 8000);
SELECT * FROM pg_temp.ann_may();

-- the token's user by default
SET request.jwt.claims = '{"sub": "user_ben", "org_id": "org_a", "org_role": "org:editor", "org_permissions": ["org:posts:write"]}';
SELECT orgsync.has_permission('org_a', 'org:posts:write') AS ben_write, orgsync.has_permission('org_a', 'org:posts:read') AS ben_read,
       orgsync.has_permission(orgsync.current_org_id(), 'org:posts:write') AS in_token_org;
RESET request.jwt.claims;

TRUNCATE orgsync.organizations, orgsync.users, orgsync.memberships, orgsync.roles, orgsync.events;
