-- Row-level security on an application's own table with orgsync's helpers.
\set mem_created `cat test/fixtures/clerk/organizationMembership.created.json`
SELECT orgsync.apply_event(:'mem_created') ->> 'status' AS status;
-- a second member, an admin
SELECT orgsync.apply_event(jsonb_set(jsonb_set(jsonb_set(:'mem_created', '{data,id}', '"orgmem_admin"'),
  '{data,public_user_data,user_id}', '"user_admin"'), '{data,role}', '"org:admin"')) ->> 'status' AS status;

SELECT orgsync.is_member('org_2g7np7Hrk0SN6kj5EDMLDaKNL0S', 'user_2h8op3Isl1QR7tKu5FGNfaLKEoU') AS member;
SELECT orgsync.is_member('org_2g7np7Hrk0SN6kj5EDMLDaKNL0S', 'user_stranger') AS stranger;
SELECT orgsync.has_role('org_2g7np7Hrk0SN6kj5EDMLDaKNL0S', 'user_admin', 'org:admin') AS admin;
SELECT orgsync.has_role('org_2g7np7Hrk0SN6kj5EDMLDaKNL0S', 'user_2h8op3Isl1QR7tKu5FGNfaLKEoU', 'org:admin') AS member_is_admin;
SELECT * FROM orgsync.user_organizations('user_admin');

-- the application's table: a hotel per Clerk organization, readable by its members
SET client_min_messages = warning;
-- the helpers are for roles granted orgsync_app
CREATE ROLE regress_hotel_app IN ROLE orgsync_app;
RESET client_min_messages;
CREATE TABLE hotels (organization_id text PRIMARY KEY, name text);
INSERT INTO hotels VALUES ('org_2g7np7Hrk0SN6kj5EDMLDaKNL0S', 'Grand Acme'), ('org_other', 'Elsewhere Inn');
ALTER TABLE hotels ENABLE ROW LEVEL SECURITY;
CREATE POLICY members_read ON hotels FOR SELECT
  USING (orgsync.is_member(organization_id, current_setting('app.user_id', true)));
CREATE POLICY admins_write ON hotels FOR UPDATE
  USING (orgsync.has_role(organization_id, current_setting('app.user_id', true), 'org:admin'));
GRANT SELECT, UPDATE ON hotels TO regress_hotel_app;

SET ROLE regress_hotel_app;
SET app.user_id = 'user_2h8op3Isl1QR7tKu5FGNfaLKEoU';
SELECT * FROM hotels ORDER BY organization_id;
UPDATE hotels SET name = 'Renamed by member' RETURNING *;
SET app.user_id = 'user_admin';
UPDATE hotels SET name = 'Renamed by admin' RETURNING *;
SET app.user_id = 'user_stranger';
SELECT * FROM hotels ORDER BY organization_id;
RESET app.user_id;
RESET ROLE;

-- the same with the user of the request's Clerk session token, as PostgREST
-- sets its claims: the helpers default to it
CREATE POLICY token_members_read ON hotels FOR SELECT USING (orgsync.is_member(organization_id));
SET ROLE regress_hotel_app;
SET request.jwt.claims = '{"sub": "user_2h8op3Isl1QR7tKu5FGNfaLKEoU", "v": 2, "o": {"id": "org_other", "rol": "admin"}}';
SELECT * FROM hotels ORDER BY organization_id;
SET request.jwt.claims = '{"sub": "user_stranger", "v": 2, "o": {"id": "org_2g7np7Hrk0SN6kj5EDMLDaKNL0S", "rol": "admin"}}';
SELECT * FROM hotels ORDER BY organization_id;
RESET ROLE;
SELECT * FROM hotels ORDER BY organization_id;

-- when the membership ends, access ends
SELECT orgsync.apply_event(jsonb_set(:'mem_created', '{type}', '"organizationMembership.deleted"')) ->> 'status' AS status;
SET ROLE regress_hotel_app;
SET app.user_id = 'user_2h8op3Isl1QR7tKu5FGNfaLKEoU';
SET request.jwt.claims = '{"sub": "user_2h8op3Isl1QR7tKu5FGNfaLKEoU", "org_id": "org_2g7np7Hrk0SN6kj5EDMLDaKNL0S", "org_role": "org:member"}';
SELECT * FROM hotels ORDER BY organization_id;
RESET ROLE;
RESET request.jwt.claims;

DROP TABLE hotels;
DROP ROLE regress_hotel_app;
TRUNCATE orgsync.organizations, orgsync.users, orgsync.memberships, orgsync.invitations, orgsync.events, orgsync.secrets;
