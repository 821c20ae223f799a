-- Receiving Clerk's webhooks with PostgREST. Run once per database, as a
-- superuser, after CREATE EXTENSION orgsync:
--   psql -v authenticator_password='...' -v webhook_secret='whsec_...' -f webhook.sql

-- The role PostgREST logs in as (db-uri). NOINHERIT: it holds no privilege
-- of its own, only the roles it switches to for each request.
CREATE ROLE authenticator LOGIN NOINHERIT PASSWORD :'authenticator_password';

-- The role PostgREST runs a request without a JWT as (db-anon-role): every
-- webhook delivery. orgsync_webhook lets it deliver signed webhooks and
-- nothing else: no reading of secrets, deliveries or the mirror, no secrets
-- added or removed, no unsigned events, replays or backfills.
CREATE ROLE web_anon NOLOGIN;
GRANT web_anon TO authenticator;
GRANT orgsync_webhook TO web_anon;

-- The schema PostgREST serves (db-schemas; the first one, so that the URL
-- needs no Content-Profile header), holding the one function Clerk calls:
-- POST /rpc/webhook. Never serve schema orgsync itself.
CREATE SCHEMA api;
GRANT USAGE ON SCHEMA api TO web_anon;
CREATE FUNCTION api.webhook(json) RETURNS jsonb
LANGUAGE sql AS $$ SELECT orgsync.webhook($1) $$;
REVOKE ALL ON FUNCTION api.webhook(json) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION api.webhook(json) TO web_anon;

-- The signing secret of the endpoint in Clerk's dashboard (Webhooks).
SELECT orgsync.add_secret(:'webhook_secret');
