-- Organization domains: created, updated (verified), deleted; in both
-- orders and twice over; ended with their organization; looked up by email.
\set ECHO none
\i sql/include/deliver.sql
\set ECHO all
\set created `cat test/fixtures/clerk/organizationDomain.created.json`
\set updated `cat test/fixtures/clerk/organizationDomain.updated.json`
\set deleted `cat test/fixtures/clerk/organizationDomain.deleted.json`
-- Clerk's examples use two ids for one domain; these are one domain.
CREATE TEMP TABLE history AS SELECT * FROM (VALUES
  (1, jsonb_set(:'created'::jsonb, '{data,id}', '"orgdm_1"')),
  (2, jsonb_set(jsonb_set(:'updated'::jsonb, '{data,id}', '"orgdm_1"'), '{timestamp}', '1716883500')),
  (3, jsonb_set(jsonb_set(:'deleted'::jsonb, '{data,id}', '"orgdm_1"'), '{timestamp}', '1716883600'))) AS h(n, body);

-- created, then updated: the verified version, with its organization as a placeholder
SELECT n, pg_temp.deliver(body) FROM history WHERE n <= 2 ORDER BY n;
SELECT id, organization_id, name, enrollment_mode, verification_status, affiliation_email_address,
       total_pending_invitations, total_pending_suggestions, source, deleted_at IS NULL AS live
FROM orgsync.domains;
SELECT id, name, slug, source FROM orgsync.organizations;
-- an email address at the verified domain finds its organization
SELECT * FROM orgsync.domain_organizations('Jane.Doe@ACME.com');
SELECT count(*) AS unverified_or_other FROM orgsync.domain_organizations('jane@other.example');
-- the same in reverse order, and every delivery again: the same row
TRUNCATE orgsync.domains, orgsync.organizations, orgsync.events;
SELECT n, pg_temp.deliver(body) FROM history WHERE n <= 2 ORDER BY n DESC;
SELECT n, pg_temp.deliver(body, 'again') AS again FROM history WHERE n <= 2 ORDER BY n;
SELECT id, name, enrollment_mode, verification_status, updated_at = to_timestamp(1716883500) AS newest
FROM orgsync.domains;

-- the deletion first: a tombstone that the later copies never bring back
TRUNCATE orgsync.domains, orgsync.organizations, orgsync.events;
SELECT n, pg_temp.deliver(body) FROM history ORDER BY n DESC;
SELECT id, name, source, deleted_at = to_timestamp(1716883600) AS deleted_at_deletion FROM orgsync.domains;
SELECT count(*) AS verified_domain_of_deleted FROM orgsync.domain_organizations('jane@acme.com');

-- a domain ends with its organization, also one that arrives after the deletion
TRUNCATE orgsync.domains, orgsync.organizations, orgsync.events;
SELECT pg_temp.deliver(body) FROM history WHERE n = 1;
SELECT pg_temp.deliver('{"type": "organization.deleted", "timestamp": 1716883400, "data": {"id": "org_2g7np7Hrk0SN6kj5EDMLDaKNL0S", "deleted": true}}');
SELECT pg_temp.deliver(jsonb_set(body, '{data,id}', '"orgdm_late"')) FROM history WHERE n = 2;
SELECT id, deleted_at = to_timestamp(1716883400) AS ended_with_organization FROM orgsync.domains ORDER BY id;

TRUNCATE orgsync.domains, orgsync.organizations, orgsync.events, orgsync.secrets;
