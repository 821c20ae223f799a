-- Receiving Clerk's webhooks with PostgREST. Run once per database, as a
-- superuser, after CREATE EXTENSION orgsync:
--   psql -v authenticator_password='...' -v webhook_secret='whsec_...' -f webhook.sql

-- PostgREST logs in as authenticator (db-uri; NOINHERIT: no privilege of its
-- own) and runs each delivery (no JWT) as web_anon (db-anon-role), which
-- orgsync_webhook lets deliver signed webhooks and nothing else.
CREATE ROLE authenticator LOGIN NOINHERIT PASSWORD :'authenticator_password';
CREATE ROLE web_anon NOLOGIN;
GRANT web_anon TO authenticator;
GRANT orgsync_webhook TO web_anon;

-- The schema PostgREST serves (the first of db-schemas: Clerk sends no
-- Content-Profile header) holds the one function Clerk calls, POST
-- /rpc/webhook. Never serve schema orgsync itself.
CREATE SCHEMA api;
GRANT USAGE ON SCHEMA api TO web_anon;
CREATE FUNCTION api.webhook(json) RETURNS jsonb
LANGUAGE sql AS $$ SELECT orgsync.webhook($1) $$;
REVOKE ALL ON FUNCTION api.webhook(json) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION api.webhook(json) TO web_anon;

-- The signing secret of the endpoint in Clerk's dashboard (Webhooks).
SELECT orgsync.add_secret(:'webhook_secret');
