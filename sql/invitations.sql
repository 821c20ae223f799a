-- Invitations: accepted and revoked are final; they end with their
-- organization (also when they arrive after it); they read as expired
-- after expires_at; the url (the acceptance token) stays out of the mirror.
\set ECHO none
\i sql/include/deliver.sql
\set ECHO all
\set created `cat test/fixtures/clerk/organizationInvitation.created.json`
\set accepted `cat test/fixtures/clerk/organizationInvitation.accepted.json`

-- accepted, then a pending copy with the same updated_at: still accepted
SELECT pg_temp.deliver(:'accepted');
SELECT pg_temp.deliver(jsonb_set(:'created'::jsonb, '{data,updated_at}', '1716883500000'));
SELECT pg_temp.deliver(:'created');
SELECT id, status, user_id, role_name, inviter_id, data ? 'url' AS url_in_data, sync_version[1] AS rank
FROM orgsync.invitations;
-- its organization is known by its id alone until its own event comes
SELECT id, name, source, data IS NULL AS no_data FROM orgsync.organizations;
-- the url is kept in the recorded delivery, which only the owner reads
SELECT count(*) AS deliveries_with_url FROM orgsync.events WHERE payload::jsonb #>> '{data,url}' IS NOT NULL;

-- revoked is final too, whichever arrives first; the same delivery again is
-- a duplicate, the same body under a new delivery id (a resend) changes nothing
\set revoked `cat test/fixtures/clerk/organizationInvitation.revoked.json`
TRUNCATE orgsync.invitations, orgsync.organizations, orgsync.events;
SELECT pg_temp.deliver(jsonb_set(:'created'::jsonb, '{data,updated_at}', '1716883500000'), 'pending_first_');
SELECT pg_temp.deliver(:'revoked');
SELECT pg_temp.deliver(:'revoked');
SELECT pg_temp.deliver(:'revoked', 'resend_');
SELECT pg_temp.deliver(jsonb_set(:'created'::jsonb, '{data,updated_at}', '1716883500000'), 'pending_again_');
SELECT id, status, sync_version[1] AS rank FROM orgsync.invitations;

-- pending copies end with their organization's deletion, late ones too
TRUNCATE orgsync.invitations, orgsync.organizations, orgsync.events;
SELECT pg_temp.deliver(:'created');
SELECT pg_temp.deliver('{"type": "organization.deleted", "timestamp": 1716883400, "data": {"id": "org_2g7np7Hrk0SN6kj5EDMLDaKNL0S", "deleted": true}}');
SELECT pg_temp.deliver(jsonb_set(:'created'::jsonb, '{data,id}', '"orginv_late"'));
SELECT id, status, deleted_at = to_timestamp(1716883400) AS ended_with_organization FROM orgsync.invitations ORDER BY id;

-- pending after expires_at reads as expired, ended with its organization
-- as ended (Clerk sends no event for either); pending only while acceptable
SELECT pg_temp.deliver(jsonb_set(jsonb_set(jsonb_set(:'created'::jsonb, '{data,id}', '"orginv_future"'),
                                 '{data,expires_at}', '253402300799000'), '{data,organization_id}', '"org_live"'));
UPDATE orgsync.invitations SET deleted_at = NULL WHERE id = 'orginv_2g7np7Hrk0SN6kj5EDMLDaKNL0S';
SELECT i.id, i.status, orgsync.current_status(i) FROM orgsync.invitations i ORDER BY i.id;

-- only the documented types apply: a future organizationInvitation.deleted is ignored, and kept
SELECT pg_temp.deliver('{"type": "organizationInvitation.deleted", "timestamp": 1716883500, "data": {"object": "organization_invitation", "id": "orginv_late", "deleted": true}}');
SELECT type, status FROM orgsync.events WHERE type = 'organizationInvitation.deleted';

TRUNCATE orgsync.invitations, orgsync.organizations, orgsync.events, orgsync.secrets;
