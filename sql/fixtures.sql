-- Every real Clerk sample applies, column by column.
\set org_created `cat test/fixtures/clerk/organization.created.json`
\set org_updated `cat test/fixtures/clerk/organization.updated.json`
\set org_deleted `cat test/fixtures/clerk/organization.deleted.json`
\set user_created `cat test/fixtures/clerk/user.created.json`
\set user_updated `cat test/fixtures/clerk/user.updated.json`
\set user_deleted `cat test/fixtures/clerk/user.deleted.json`
\set mem_created `cat test/fixtures/clerk/organizationMembership.created.json`
\set mem_updated `cat test/fixtures/clerk/organizationMembership.updated.json`
\set mem_deleted `cat test/fixtures/clerk/organizationMembership.deleted.json`
\set inv_created `cat test/fixtures/clerk/organizationInvitation.created.json`
\set inv_accepted `cat test/fixtures/clerk/organizationInvitation.accepted.json`
\set inv_revoked `cat test/fixtures/clerk/organizationInvitation.revoked.json`
\set session_ended `cat test/fixtures/clerk/session.ended.json`

-- organizations
SELECT orgsync.apply_event(:'org_created');
SELECT orgsync.apply_event(:'org_updated') ->> 'status' AS status;
SELECT id, name, slug, image_url, created_by, max_allowed_memberships, public_metadata, private_metadata,
       created_at, updated_at, deleted_at, source, data ->> 'object' AS object FROM orgsync.organizations ORDER BY id;

-- users: primary_email is the address named by primary_email_address_id
SELECT orgsync.apply_event(:'user_created') ->> 'status' AS status;
SELECT orgsync.apply_event(:'user_updated') ->> 'status' AS status;
SELECT id, primary_email, first_name, last_name, username, image_url, external_id, public_metadata,
       private_metadata, created_at, updated_at, deleted_at, source FROM orgsync.users ORDER BY id;
SELECT jsonb_path_query_array(data, '$.email_addresses[*].id') AS address_ids, data ->> 'primary_email_address_id' AS primary_id
FROM orgsync.users ORDER BY id;

-- memberships bring placeholder rows for a member not yet seen
SELECT orgsync.apply_event(:'mem_created') ->> 'status' AS status;
SELECT orgsync.apply_event(:'mem_updated') ->> 'status' AS status;
SELECT id, organization_id, user_id, role, permissions, public_metadata, private_metadata, created_at, updated_at, deleted_at
FROM orgsync.memberships ORDER BY id;
SELECT id, primary_email, first_name, last_name, source FROM orgsync.users ORDER BY id;
SELECT orgsync.apply_event(:'mem_deleted') ->> 'status' AS status;
SELECT id, deleted_at FROM orgsync.memberships ORDER BY id;

-- invitations follow their status
SELECT orgsync.apply_event(:'inv_created') ->> 'status' AS status;
SELECT orgsync.apply_event(:'inv_revoked') ->> 'status' AS status;
SELECT orgsync.apply_event(:'inv_accepted') ->> 'status' AS status;
SELECT id, organization_id, email_address, role, status, created_at, updated_at, expires_at FROM orgsync.invitations ORDER BY id;

-- deletions: tombstones, and the user's and organization's memberships end
SELECT orgsync.apply_event(:'user_deleted') ->> 'status' AS status;
SELECT orgsync.apply_event(:'org_deleted') ->> 'status' AS status;
SELECT id, name, deleted_at FROM orgsync.organizations ORDER BY id;
SELECT id, first_name, deleted_at FROM orgsync.users ORDER BY id;

-- other event types are ignored
SELECT orgsync.apply_event(:'session_ended');

-- payloads captured from real traffic in 2024 (ms timestamps, old role names)
TRUNCATE orgsync.organizations, orgsync.users, orgsync.memberships;
\set r_org_created `cat test/fixtures/clerk/received_2024/organization.created.json`
\set r_org_updated `cat test/fixtures/clerk/received_2024/organization.updated.json`
\set r_mem_created `cat test/fixtures/clerk/received_2024/organizationMembership.created.json`
\set r_mem_updated `cat test/fixtures/clerk/received_2024/organizationMembership.updated.json`
\set r_mem_deleted `cat test/fixtures/clerk/received_2024/organizationMembership.deleted.json`
\set r_user_created `cat test/fixtures/clerk/received_2024/user.created.json`
SELECT e ->> 'type' AS type, orgsync.apply_event(e) ->> 'status' AS status
FROM (VALUES (1, :'r_mem_deleted'::jsonb), (2, :'r_mem_created'), (3, :'r_mem_updated'), (4, :'r_org_updated'),
             (5, :'r_org_created'), (6, :'r_user_created')) AS v(n, e) ORDER BY n;
SELECT id, name, slug, source, updated_at FROM orgsync.organizations ORDER BY id;
SELECT id, primary_email, first_name, last_name, source FROM orgsync.users ORDER BY id;
SELECT id, organization_id, user_id, role, deleted_at FROM orgsync.memberships ORDER BY id;
TRUNCATE orgsync.organizations, orgsync.users, orgsync.memberships, orgsync.invitations;
