-- One object, two copies: Clerk's Backend API and its webhooks describe an
-- object with the same schema but not always the same content (counts only
-- on request, a slimmer organization inside a membership, no envelope time
-- in a listing). At equal updated_at the copies are the same version: they
-- are joined, so the slimmer never erases what the fuller carried, in
-- either order.
\set ECHO none
\i sql/include/deliver.sql
\set ECHO all
\set webhook `cat test/fixtures/clerk/organization.created.json`
-- the listing's copy: members_count asked for, no envelope
CREATE TEMP TABLE copies AS SELECT
  :'webhook'::jsonb AS webhook,
  jsonb_build_object('data', jsonb_build_array(
    (:'webhook'::jsonb -> 'data') || '{"members_count": 7, "pending_invitations_count": 1}')) AS listing;

-- webhook first, then the listing: the counts are added, the event time kept
SELECT pg_temp.deliver(webhook) FROM copies;
SELECT status FROM copies, orgsync.apply_listing('organizations', listing::text);
SELECT data -> 'members_count' AS members_count, data -> 'admin_delete_enabled' AS admin_delete_enabled,
       sync_version[3] AS event_time, source FROM orgsync.organizations;
SELECT data AS joined FROM orgsync.organizations \gset
-- the listing first, then the webhook: the same row
TRUNCATE orgsync.organizations, orgsync.events;
SELECT status FROM copies, orgsync.apply_listing('organizations', listing::text);
SELECT pg_temp.deliver(webhook) FROM copies;
SELECT data = :'joined'::jsonb AS same_data, data -> 'members_count' AS members_count,
       sync_version[3] AS event_time FROM orgsync.organizations;
-- and again: nothing left to change
SELECT status FROM copies, orgsync.apply_listing('organizations', listing::text);

-- a membership's slimmer organization never overwrites the organization's own row
\set membership `cat test/fixtures/clerk/organizationMembership.created.json`
SELECT pg_temp.deliver(jsonb_set(:'membership'::jsonb, '{data,organization}',
                                 jsonb_build_object('object', 'organization', 'id', 'org_2g7np7Hrk0SN6kj5EDMLDaKNL0S',
                                                    'name', 'Old Name', 'updated_at', 1716883200000)));
SELECT name, source, data ? 'members_count' AS kept_count FROM orgsync.organizations;
-- nor a fuller snapshot of the same version
SELECT pg_temp.deliver(:'membership');
SELECT name, source, data ? 'max_allowed_memberships' AS kept_max FROM orgsync.organizations;
-- two snapshots of one version joined: the membership listed later with a slimmer organization
TRUNCATE orgsync.organizations, orgsync.users, orgsync.memberships, orgsync.events;
SELECT pg_temp.deliver(:'membership');
SELECT status FROM orgsync.apply_listing('memberships', jsonb_build_array(jsonb_set(
  :'membership'::jsonb -> 'data', '{organization}', '{"object": "organization", "id": "org_2g7np7Hrk0SN6kj5EDMLDaKNL0S", "updated_at": 1716883200000, "name": "Acme Corp"}'))::text);
SELECT o.name, o.data ? 'max_allowed_memberships' AS org_kept_max, m.data #> '{organization,max_allowed_memberships}' AS in_membership
FROM orgsync.organizations o, orgsync.memberships m;

TRUNCATE orgsync.organizations, orgsync.users, orgsync.memberships, orgsync.events, orgsync.secrets;
