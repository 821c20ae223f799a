-- Strict payloads: every field orgsync reads has a declared type. A signed
-- delivery with a field of another type, a time out of range, or a required
-- field missing is kept as `invalid` with an error naming the field, and
-- nothing of it is applied; absent optional fields and explicit nulls apply.
-- One probe per line: a Clerk example with one field replaced (or removed).
\set secret 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw'
SELECT orgsync.add_secret(:'secret');
CREATE TEMP TABLE example (type text PRIMARY KEY, body jsonb);
\set e `cat test/fixtures/clerk/organization.created.json`
INSERT INTO example VALUES ('organization.created', :'e');
\set e `cat test/fixtures/clerk/organization.deleted.json`
INSERT INTO example VALUES ('organization.deleted', :'e');
\set e `cat test/fixtures/clerk/user.created.json`
INSERT INTO example VALUES ('user.created', :'e');
\set e `cat test/fixtures/clerk/organizationMembership.created.json`
INSERT INTO example VALUES ('organizationMembership.created', :'e');
\set e `cat test/fixtures/clerk/organizationMembership.deleted.json`
INSERT INTO example VALUES ('organizationMembership.deleted', :'e');
\set e `cat test/fixtures/clerk/organizationInvitation.accepted.json`
INSERT INTO example VALUES ('organizationInvitation.accepted', :'e');
\set e `cat test/fixtures/clerk/organizationDomain.updated.json`
INSERT INTO example VALUES ('organizationDomain.updated', :'e');
\set e `cat test/fixtures/clerk/role.created.json`
INSERT INTO example VALUES ('role.created', :'e');
\set e `cat test/fixtures/clerk/permission.created.json`
INSERT INTO example VALUES ('permission.created', :'e');

-- The example of `type` with `path` set to `value` (removed when NULL),
-- delivered signed; its status and error.
CREATE FUNCTION pg_temp.mutated(type text, path text[], value jsonb) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
  body text;
  result jsonb;
BEGIN
  SELECT CASE WHEN value IS NULL THEN e.body #- path ELSE jsonb_set(e.body, path, value) END
  INTO body FROM example e WHERE e.type = mutated.type;
  result := orgsync.handle_event(orgsync.sign('whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw', 'msg_' || md5(body), body), body);
  RETURN concat_ws(': ', result ->> 'status', result ->> 'error');
END $$;

-- the envelope
SELECT pg_temp.mutated('organization.created', '{type}', '7');
SELECT pg_temp.mutated('organization.created', '{timestamp}', '"soon"');
SELECT pg_temp.mutated('organization.created', '{timestamp}', '-5');
SELECT pg_temp.mutated('organization.created', '{timestamp}', '1.5');
SELECT pg_temp.mutated('organization.created', '{timestamp}', '253402300800000');
SELECT pg_temp.mutated('organization.created', '{data}', '"org_1"');
SELECT pg_temp.mutated('organization.created', '{data}', NULL);
-- organizations
SELECT pg_temp.mutated('organization.created', '{data,id}', '42');
SELECT pg_temp.mutated('organization.created', '{data,id}', NULL);
SELECT pg_temp.mutated('organization.created', '{data,name}', '42');
SELECT pg_temp.mutated('organization.created', '{data,slug}', '["s"]');
SELECT pg_temp.mutated('organization.created', '{data,image_url}', 'true');
SELECT pg_temp.mutated('organization.created', '{data,created_by}', '{}');
SELECT pg_temp.mutated('organization.created', '{data,max_allowed_memberships}', '"ten"');
SELECT pg_temp.mutated('organization.created', '{data,max_allowed_memberships}', '1.5');
SELECT pg_temp.mutated('organization.created', '{data,max_allowed_memberships}', '99999999999');
SELECT pg_temp.mutated('organization.created', '{data,max_allowed_memberships}', '10.0');
-- a number is what numeric reads (as jsonb's ->> then ::int would): 1e2 is
-- the integer 100 (sent as text: jsonb would write it 100 itself)
BEGIN;
SELECT orgsync.handle_event(orgsync.sign(:'secret', 'msg_exponent', b), b) ->> 'status' AS status
FROM (SELECT '{"type": "organization.created", "object": "event", "timestamp": 1716883200000, "data": '
             '{"id": "org_exponent", "object": "organization", "max_allowed_memberships": 1e2, '
             '"created_at": 1716883200000, "updated_at": 1716883200000}}' AS b) d;
SELECT max_allowed_memberships, data -> 'max_allowed_memberships' AS in_data
FROM orgsync.organizations WHERE id = 'org_exponent';
ROLLBACK;
SELECT pg_temp.mutated('organization.created', '{data,created_at}', '"x"');
SELECT pg_temp.mutated('organization.created', '{data,updated_at}', '"x"');
SELECT pg_temp.mutated('organization.created', '{data,updated_at}', '-5');
SELECT pg_temp.mutated('organization.created', '{data,updated_at}', '1.5');
SELECT pg_temp.mutated('organization.created', '{data,updated_at}', '1716883200000.0');
SELECT pg_temp.mutated('organization.created', '{data,updated_at}', '253402300800000');
SELECT pg_temp.mutated('organization.created', '{data,public_metadata}', '"gold"');
SELECT pg_temp.mutated('organization.created', '{data,private_metadata}', '[1]');
SELECT pg_temp.mutated('organization.deleted', '{data,deleted}', '"yes"');
SELECT pg_temp.mutated('organization.deleted', '{data,deleted}', 'false');
SELECT pg_temp.mutated('organization.deleted', '{data,id}', 'null');
-- users
SELECT pg_temp.mutated('user.created', '{data,email_addresses}', '"none"');
SELECT pg_temp.mutated('user.created', '{data,email_addresses}', '[5]');
SELECT pg_temp.mutated('user.created', '{data,email_addresses}', '[{"id": "idn_1", "email_address": 5}]');
SELECT pg_temp.mutated('user.created', '{data,primary_email_address_id}', '3');
SELECT pg_temp.mutated('user.created', '{data,phone_numbers}', '{}');
SELECT pg_temp.mutated('user.created', '{data,primary_phone_number_id}', 'false');
SELECT pg_temp.mutated('user.created', '{data,first_name}', '["A"]');
SELECT pg_temp.mutated('user.created', '{data,last_name}', '1');
SELECT pg_temp.mutated('user.created', '{data,username}', '1');
SELECT pg_temp.mutated('user.created', '{data,image_url}', '1');
SELECT pg_temp.mutated('user.created', '{data,external_id}', '1');
SELECT pg_temp.mutated('user.created', '{data,banned}', '"yes"');
SELECT pg_temp.mutated('user.created', '{data,locked}', '0');
SELECT pg_temp.mutated('user.created', '{data,last_sign_in_at}', '"yesterday"');
-- memberships, and the organization and user they carry
SELECT pg_temp.mutated('organizationMembership.created', '{data,role}', '7');
SELECT pg_temp.mutated('organizationMembership.created', '{data,role}', NULL);
SELECT pg_temp.mutated('organizationMembership.created', '{data,role_name}', '1');
SELECT pg_temp.mutated('organizationMembership.created', '{data,permissions}', '"org:posts:read"');
SELECT pg_temp.mutated('organizationMembership.created', '{data,permissions}', '[1, "org:posts:read"]');
SELECT pg_temp.mutated('organizationMembership.created', '{data,created_at}', '-1');
SELECT pg_temp.mutated('organizationMembership.created', '{data,organization}', '"org_1"');
SELECT pg_temp.mutated('organizationMembership.created', '{data,organization,id}', '1');
SELECT pg_temp.mutated('organizationMembership.created', '{data,organization,name}', '1');
SELECT pg_temp.mutated('organizationMembership.created', '{data,organization,updated_at}', '"x"');
SELECT pg_temp.mutated('organizationMembership.created', '{data,public_user_data}', '[]');
SELECT pg_temp.mutated('organizationMembership.created', '{data,public_user_data,user_id}', '1');
SELECT pg_temp.mutated('organizationMembership.created', '{data,public_user_data,first_name}', '{}');
SELECT pg_temp.mutated('organizationMembership.created', '{data,public_user_data,identifier}', '1');
SELECT pg_temp.mutated('organizationMembership.created', '{data,public_user_data,username}', '1');
SELECT pg_temp.mutated('organizationMembership.created', '{data,public_user_data,banned}', '"no"');
SELECT pg_temp.mutated('organizationMembership.deleted', '{data,organization}', NULL);
-- invitations
SELECT pg_temp.mutated('organizationInvitation.accepted', '{data,status}', '1');
SELECT pg_temp.mutated('organizationInvitation.accepted', '{data,status}', NULL);
SELECT pg_temp.mutated('organizationInvitation.accepted', '{data,organization_id}', NULL);
SELECT pg_temp.mutated('organizationInvitation.accepted', '{data,email_address}', '[]');
SELECT pg_temp.mutated('organizationInvitation.accepted', '{data,user_id}', '1');
SELECT pg_temp.mutated('organizationInvitation.accepted', '{data,inviter_id}', '1');
SELECT pg_temp.mutated('organizationInvitation.accepted', '{data,expires_at}', '"next week"');
-- domains
SELECT pg_temp.mutated('organizationDomain.updated', '{data,name}', '1');
SELECT pg_temp.mutated('organizationDomain.updated', '{data,organization_id}', NULL);
SELECT pg_temp.mutated('organizationDomain.updated', '{data,enrollment_mode}', 'true');
SELECT pg_temp.mutated('organizationDomain.updated', '{data,verification}', '"verified"');
SELECT pg_temp.mutated('organizationDomain.updated', '{data,verification,status}', '1');
SELECT pg_temp.mutated('organizationDomain.updated', '{data,total_pending_invitations}', '"2"');
SELECT pg_temp.mutated('organizationDomain.updated', '{data,public_organization_data}', '{"id": "org_x", "slug": 1}');
-- roles and permissions
SELECT pg_temp.mutated('role.created', '{data,key}', '1');
SELECT pg_temp.mutated('role.created', '{data,key}', NULL);
SELECT pg_temp.mutated('role.created', '{data,permissions}', '"org:posts:create"');
SELECT pg_temp.mutated('role.created', '{data,permissions}', '["org:posts:create"]');
SELECT pg_temp.mutated('role.created', '{data,permissions,0,key}', NULL);
SELECT pg_temp.mutated('role.created', '{data,is_creator_eligible}', '"no"');
SELECT pg_temp.mutated('permission.created', '{data,key}', '1');
SELECT pg_temp.mutated('permission.created', '{data,type}', '1');

-- none of the above applied anything
SELECT (SELECT count(*) FROM orgsync.organizations) + (SELECT count(*) FROM orgsync.users)
     + (SELECT count(*) FROM orgsync.memberships) + (SELECT count(*) FROM orgsync.invitations)
     + (SELECT count(*) FROM orgsync.domains) + (SELECT count(*) FROM orgsync.roles)
     + (SELECT count(*) FROM orgsync.permissions) AS rows_written;
SELECT status, count(*) FROM orgsync.events GROUP BY status ORDER BY status;

-- absent optional fields and explicit nulls apply
SELECT pg_temp.mutated('organization.created', '{data,name}', 'null');
SELECT pg_temp.mutated('organization.created', '{data,slug}', NULL);
SELECT pg_temp.mutated('user.created', '{data,username}', 'null');
SELECT pg_temp.mutated('user.created', '{data,email_addresses}', NULL);
SELECT pg_temp.mutated('organizationMembership.created', '{data,permissions}', 'null');
SELECT pg_temp.mutated('organizationMembership.deleted', '{data,public_user_data}', NULL);
SELECT pg_temp.mutated('organizationDomain.updated', '{data,verification}', 'null');
SELECT pg_temp.mutated('role.created', '{data,description}', 'null');
SELECT id, name, slug FROM orgsync.organizations ORDER BY id;

TRUNCATE orgsync.organizations, orgsync.users, orgsync.memberships, orgsync.invitations, orgsync.domains,
         orgsync.roles, orgsync.permissions, orgsync.events, orgsync.secrets;
