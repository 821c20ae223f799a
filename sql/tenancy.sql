-- Tenancy from Clerk session tokens: the claim readers on version 1 and
-- version 2 tokens, the helpers' default user, who counts as a member, and
-- who may ask.
\set mem_created `cat test/fixtures/clerk/organizationMembership.created.json`
\set user_created `cat test/fixtures/clerk/user.created.json`

-- Runs a one-value query; its value as text, or the error with its SQLSTATE.
\set ECHO none
\i sql/include/try.sql
\set ECHO all
-- What the four readers make of the claims now set.
CREATE FUNCTION pg_temp.token() RETURNS TABLE (user_id text, org_id text, org_role text, org_permissions text)
LANGUAGE sql AS $$
  SELECT pg_temp.try('SELECT orgsync.current_user_id()'), pg_temp.try('SELECT orgsync.current_org_id()'),
         pg_temp.try('SELECT orgsync.current_org_role()'), pg_temp.try('SELECT orgsync.current_org_permissions()')
$$;

-- no claims at all, and what PostgREST leaves after a transaction: NULL, no error
SELECT * FROM pg_temp.token();
SET request.jwt.claims = '';
SELECT * FROM pg_temp.token();

-- version 1: the active organization in org_id, org_role, org_permissions
SET request.jwt.claims = '{"sub": "user_alice", "sid": "sess_1", "org_id": "org_a", "org_slug": "hotel-a", "org_role": "org:admin", "org_permissions": ["org:rooms:read", "org:rooms:manage"]}';
SELECT * FROM pg_temp.token();
-- version 1 without an active organization
SET request.jwt.claims = '{"sub": "user_alice", "sid": "sess_1"}';
SELECT * FROM pg_temp.token();

-- version 2: the organization in o, its role without "org:", permissions as
-- names (per) with a bitmask per organization feature of fea (fpm); user-only
-- features (u:) and their masks are skipped
SET request.jwt.claims = '{"v": 2, "sub": "user_alice", "fea": "o:rooms,u:profile,o:bookings,uo:reports", "o": {"id": "org_a", "slg": "hotel-a", "rol": "admin", "per": "read,manage", "fpm": "3,1,2"}}';
SELECT * FROM pg_temp.token();
-- a mask wider than the names, spaces, a mask that is not a number, a missing mask
SET request.jwt.claims = '{"v": 2, "sub": "user_alice", "fea": "o:rooms, o:bookings ,o:spa,o:bar", "o": {"id": "org_a", "rol": "member", "per": "read, manage", "fpm": "7, x,2"}}';
SELECT * FROM pg_temp.token();
-- an organization without permissions, and a version 2 token without an organization
SET request.jwt.claims = '{"v": 2, "sub": "user_alice", "o": {"id": "org_a", "rol": "member"}}';
SELECT * FROM pg_temp.token();
SET request.jwt.claims = '{"v": 2, "sub": "user_alice", "fea": "u:profile"}';
SELECT * FROM pg_temp.token();
-- claims of unexpected types are never an error: a version 2 o that is not
-- an object and a version 1 org_permissions that is not an array read as
-- absent; other claims read as their JSON text (a number 7 as '7'), v too
SET request.jwt.claims = '{"v": 2, "o": "org_a", "org_id": "org_b"}';
SELECT * FROM pg_temp.token();
SET request.jwt.claims = '{"sub": 7, "org_id": null, "org_role": "org:admin", "org_permissions": "org:rooms:read"}';
SELECT * FROM pg_temp.token();
SET request.jwt.claims = '{"v": "2", "sub": true, "o": {"id": 5, "rol": 7}}';
SELECT * FROM pg_temp.token();
SET request.jwt.claims = '{"sub": {"id": "user_alice"}, "org_permissions": [1, "org:rooms:read", null]}';
SELECT * FROM pg_temp.token();

-- claims that are not a JSON object: a clear error, 22P02
SET request.jwt.claims = 'eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJ1c2VyXzEifQ.c2ln';
SELECT * FROM pg_temp.token();
SET request.jwt.claims = '["user_alice"]';
SELECT pg_temp.try('SELECT orgsync.current_user_id()');
SET request.jwt.claims = '{"sub": "user_alice"';
SELECT pg_temp.try('SELECT orgsync.current_user_id()');
RESET request.jwt.claims;

-- the readers are inlined into the query that calls them (no function call
-- per row), and so is the helpers' default
EXPLAIN (VERBOSE, COSTS OFF) SELECT orgsync.current_user_id();
-- (the organization's readers too: no call of theirs is left in the plan)
CREATE FUNCTION pg_temp.plan_calls(query text, pattern text) RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE line text; calls bigint := 0;
BEGIN
  FOR line IN EXECUTE 'EXPLAIN (VERBOSE, COSTS OFF) ' || query LOOP
    calls := calls + (SELECT count(*) FROM regexp_matches(line, pattern, 'g'));
  END LOOP;
  RETURN calls;
END $$;
SELECT pg_temp.plan_calls('SELECT orgsync.current_org_id(), orgsync.current_org_role()',
                          'orgsync\.current_org_(id|role)\(') AS calls_left;
EXPLAIN (VERBOSE, COSTS OFF) SELECT orgsync.is_member('org_a');

-- The mirror: alice admin of hotel A; bob in A and B; carol in B; a banned
-- and a locked member of A.
CREATE TEMP TABLE fixture (name text PRIMARY KEY, event jsonb);
INSERT INTO fixture VALUES ('membership', :'mem_created'), ('user', :'user_created');
CREATE FUNCTION pg_temp.membership(type text, membership_id text, org text, member text, role text) RETURNS text
LANGUAGE sql AS $$
  SELECT orgsync.apply_event(jsonb_set(jsonb_set(jsonb_set(jsonb_set(jsonb_set(event,
    '{type}', to_jsonb(type)), '{data,id}', to_jsonb(membership_id)), '{data,organization,id}', to_jsonb(org)),
    '{data,public_user_data,user_id}', to_jsonb(member)), '{data,role}', to_jsonb(role))) ->> 'status'
  FROM fixture WHERE name = 'membership'
$$;
CREATE FUNCTION pg_temp.user_event(type text, user_id text, banned boolean, locked boolean, updated_ms bigint) RETURNS text
LANGUAGE sql AS $$
  SELECT orgsync.apply_event(event || jsonb_build_object('type', type) || jsonb_build_object('data', event -> 'data'
    || jsonb_build_object('id', user_id, 'banned', banned, 'locked', locked, 'updated_at', updated_ms))) ->> 'status'
  FROM fixture WHERE name = 'user'
$$;
SELECT pg_temp.membership('organizationMembership.created', 'orgmem_alice_a', 'org_a', 'user_alice', 'org:admin');
SELECT pg_temp.membership('organizationMembership.created', 'orgmem_bob_a', 'org_a', 'user_bob', 'org:member');
SELECT pg_temp.membership('organizationMembership.created', 'orgmem_bob_b', 'org_b', 'user_bob', 'org:member');
SELECT pg_temp.membership('organizationMembership.created', 'orgmem_carol_b', 'org_b', 'user_carol', 'org:member');
SELECT pg_temp.membership('organizationMembership.created', 'orgmem_banned_a', 'org_a', 'user_banned', 'org:member');
SELECT pg_temp.membership('organizationMembership.created', 'orgmem_locked_a', 'org_a', 'user_locked', 'org:member');

-- the helpers default to the token's user, in either version
SET request.jwt.claims = '{"v": 2, "sub": "user_alice", "o": {"id": "org_a", "rol": "admin"}}';
SELECT orgsync.is_member('org_a') AS alice_in_a, orgsync.is_member('org_b') AS alice_in_b,
       orgsync.has_role('org_a', 'org:admin') AS alice_admin_of_a, orgsync.has_role('org_a', orgsync.current_org_role()) AS token_role_held;
SELECT * FROM orgsync.user_organizations();
SET request.jwt.claims = '{"sub": "user_bob", "org_id": "org_b", "org_role": "org:member"}';
SELECT orgsync.is_member('org_a') AS bob_in_a, orgsync.is_member('org_b') AS bob_in_b, orgsync.has_role('org_a', 'org:admin') AS bob_admin_of_a;
SELECT * FROM orgsync.user_organizations() ORDER BY 1;
-- and the explicit forms keep working as before
SELECT orgsync.is_member('org_a', 'user_alice') AS alice_in_a, orgsync.has_role('org_a', 'user_alice', 'org:admin') AS alice_admin,
       orgsync.has_role('org_a', 'user_bob', 'org:admin') AS bob_admin;

-- no token: no user, so no membership, and no error
RESET request.jwt.claims;
SELECT orgsync.is_member('org_a') AS member, orgsync.has_role('org_a', 'org:admin') AS admin,
       (SELECT count(*) FROM orgsync.user_organizations()) AS organizations;

-- the token's organization claim is not trusted on its own: carol's token
-- still names hotel B after she was removed, the mirror knows better
SET request.jwt.claims = '{"v": 2, "sub": "user_carol", "o": {"id": "org_b", "rol": "member"}}';
SELECT orgsync.current_org_id() AS token_says, orgsync.is_member(orgsync.current_org_id()) AS member;
SELECT pg_temp.membership('organizationMembership.deleted', 'orgmem_carol_b', 'org_b', 'user_carol', 'org:member');
SELECT orgsync.current_org_id() AS token_says, orgsync.is_member(orgsync.current_org_id()) AS member,
       orgsync.has_role(orgsync.current_org_id(), orgsync.current_org_role()) AS role_held,
       (SELECT count(*) FROM orgsync.user_organizations()) AS organizations;

-- a banned user is no member anywhere (Clerk revoked their sessions); a
-- locked one stays a member (a lock only stops new sign-ins, and anyone can
-- cause one by failing to sign in as them)
SELECT pg_temp.user_event('user.created', 'user_banned', false, false, 1716883200000);
SELECT pg_temp.user_event('user.created', 'user_locked', false, false, 1716883200000);
SELECT orgsync.is_member('org_a', 'user_banned') AS banned_member, orgsync.is_member('org_a', 'user_locked') AS locked_member,
       orgsync.has_permission('org_a', 'org:posts:read', 'user_banned') AS banned_permission;
SELECT pg_temp.user_event('user.updated', 'user_banned', true, false, 1716883300000);
SELECT pg_temp.user_event('user.updated', 'user_locked', false, true, 1716883300000);
SELECT orgsync.is_member('org_a', 'user_banned') AS banned_member, orgsync.has_role('org_a', 'user_banned', 'org:member') AS banned_role,
       orgsync.has_permission('org_a', 'org:posts:read', 'user_banned') AS banned_permission,
       (SELECT count(*) FROM orgsync.user_organizations('user_banned')) AS banned_organizations,
       orgsync.is_member('org_a', 'user_locked') AS locked_member, orgsync.has_role('org_a', 'user_locked', 'org:member') AS locked_role,
       orgsync.has_permission('org_a', 'org:posts:read', 'user_locked') AS locked_permission;
-- the ban lifted, the membership counts again
SELECT pg_temp.user_event('user.updated', 'user_banned', false, false, 1716883400000);
SELECT orgsync.is_member('org_a', 'user_banned') AS banned_member,
       orgsync.has_permission('org_a', 'org:posts:read', 'user_banned') AS banned_permission;

-- Who may ask: roles granted orgsync_app; PUBLIC no longer. The claim
-- readers stay open to all: they read only the caller's own setting.
SET client_min_messages = warning;
CREATE ROLE regress_tenancy_app IN ROLE orgsync_app;
CREATE ROLE regress_tenancy_stranger;
RESET client_min_messages;
SET request.jwt.claims = '{"sub": "user_bob", "org_id": "org_a", "org_role": "org:member"}';
SET ROLE regress_tenancy_stranger;
SELECT pg_temp.try('SELECT orgsync.current_user_id()') AS current_user_id;
SELECT pg_temp.try('SELECT orgsync.is_member(''org_a'')') AS is_member;
SELECT pg_temp.try('SELECT orgsync.has_role(''org_a'', ''org:member'')') AS has_role;
SELECT pg_temp.try('SELECT orgsync.has_role(''org_a'', ''user_bob'', ''org:member'')') AS has_role_of;
SELECT pg_temp.try('SELECT orgsync.has_permission(''org_a'', ''org:posts:read'')') AS has_permission;
SELECT pg_temp.try('SELECT count(*) FROM orgsync.user_organizations()') AS user_organizations;
SELECT pg_temp.try('SELECT count(*) FROM orgsync.domain_organizations(''jane@acme.com'')') AS domain_organizations;
SELECT pg_temp.try('SELECT count(*) FROM orgsync.active_memberships') AS active_memberships;
RESET ROLE;
SET ROLE regress_tenancy_app;
SELECT orgsync.is_member('org_a') AS is_member, orgsync.has_role('org_a', 'org:member') AS has_role,
       orgsync.has_permission('org_a', 'org:posts:read') AS has_permission,
       (SELECT count(*) FROM orgsync.user_organizations()) AS user_organizations,
       (SELECT count(*) FROM orgsync.domain_organizations('jane@acme.com')) AS domain_organizations;
SELECT pg_temp.try('SELECT count(*) FROM orgsync.memberships') AS memberships_table;
-- asking about another user needs nothing more: any role that runs SQL can
-- set the claims it likes, so the grant is the boundary
SELECT orgsync.is_member('org_a', 'user_alice') AS alice_in_a;
SELECT set_config('request.jwt.claims', '{"sub": "user_alice"}', true) IS NOT NULL AS claims_set, orgsync.has_role('org_a', 'org:admin') AS as_alice_admin;
RESET ROLE;
RESET request.jwt.claims;

-- the grants, as the catalog has them
SELECT p.oid::regprocedure AS function, p.prosecdef AS definer,
       has_function_privilege('public', p.oid, 'EXECUTE') AS public,
       has_function_privilege('orgsync_app', p.oid, 'EXECUTE') AS app
FROM pg_proc p
WHERE p.pronamespace = 'orgsync'::regnamespace
  AND p.proname IN ('session_claims', 'claims_not_json', 'current_user_id', 'current_org_id', 'current_org_role',
                    'current_org_permissions', 'is_member', 'has_role', 'has_permission', 'user_organizations',
                    'domain_organizations')
ORDER BY p.oid::regprocedure::text;

DROP ROLE regress_tenancy_app;
DROP ROLE regress_tenancy_stranger;
TRUNCATE orgsync.organizations, orgsync.users, orgsync.memberships, orgsync.invitations, orgsync.events;
