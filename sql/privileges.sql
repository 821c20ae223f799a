-- Who may do what. Secrets are readable by no ordinary role; the webhook
-- entry points are for members of orgsync_webhook (the relay's role);
-- trusted and administrative functions are for the owner only.
SET client_min_messages = warning;
CREATE ROLE regress_webhook LOGIN IN ROLE orgsync_webhook;
CREATE ROLE regress_app LOGIN;
CREATE ROLE regress_stranger LOGIN;
GRANT SELECT ON orgsync.organizations, orgsync.users, orgsync.memberships TO regress_app;
RESET client_min_messages;

\set secret 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw'
SELECT orgsync.add_secret(:'secret');
\set org_created `cat test/fixtures/clerk/organization.created.json`

SET ROLE regress_webhook;
-- the webhook role can deliver...
SELECT orgsync.handle_event(orgsync.sign(:'secret', 'msg_priv_1', :'org_created'), :'org_created') ->> 'status' AS status;
-- ...but not read secrets, events or mirror tables, nor add secrets or apply unsigned events
SELECT * FROM orgsync.secrets;
SELECT count(*) FROM orgsync.events;
SELECT count(*) FROM orgsync.organizations;
SELECT orgsync.add_secret('whsec_plJ3nmyCDGBKInavdOK15jsl');
SELECT orgsync.remove_secret(:'secret');
SELECT orgsync.apply_event(:'org_created');
SELECT orgsync.replay('msg_priv_1');
SELECT orgsync.secret_key(:'secret');
-- and cannot loosen the replay window
SET orgsync.timestamp_tolerance = '1 day';
RESET ROLE;

SET ROLE regress_app;
-- the app reads the mirror tables it was granted, and uses the helpers
SELECT id, name FROM orgsync.organizations ORDER BY id;
SELECT orgsync.is_member('org_2g7np7Hrk0SN6kj5EDMLDaKNL0S', 'user_nobody');
SELECT count(*) FROM orgsync.secrets;
RESET ROLE;

SET ROLE regress_stranger;
-- a role without the grant cannot deliver at all, signed or not
SELECT orgsync.handle_event(orgsync.sign(:'secret', 'msg_priv_2', :'org_created'), :'org_created');
SELECT * FROM orgsync.handle_events(ARRAY['{}'::jsonb], ARRAY['junk']);
RESET ROLE;

-- the secrets table and privileged functions, as the catalog sees them
SELECT relname, relacl FROM pg_class WHERE relnamespace = 'orgsync'::regnamespace AND relkind = 'r' ORDER BY relname;
SELECT p.proname, p.prosecdef, has_function_privilege('public', p.oid, 'EXECUTE') AS public_can_execute,
       has_function_privilege('orgsync_webhook', p.oid, 'EXECUTE') AS webhook_can_execute,
       p.proconfig
FROM pg_proc p WHERE p.pronamespace = 'orgsync'::regnamespace ORDER BY p.proname;

TRUNCATE orgsync.organizations, orgsync.users, orgsync.memberships, orgsync.invitations, orgsync.events, orgsync.secrets;
REVOKE SELECT ON orgsync.organizations, orgsync.users, orgsync.memberships FROM regress_app;
DROP ROLE regress_webhook;
DROP ROLE regress_app;
DROP ROLE regress_stranger;
