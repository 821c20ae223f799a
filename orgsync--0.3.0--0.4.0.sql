\echo Use "ALTER EXTENSION orgsync UPDATE TO '0.4.0'" to load this file. \quit

-- 0.4.0: strict payloads, Clerk's whole organization model, backfill, the
-- PostgREST entry point and tenancy from session tokens, and the operating
-- surface. Each part below is one topic.

-- Strict payloads and who may call what -------------------------------------

-- Webhook deliveries come from the relay (or PostgREST), not from every role
-- that can log in: a call takes work and locks in the server before anything
-- has verified. Grant orgsync_webhook to the role the relay connects as.
-- Roles belong to the cluster: an install in a second database finds it made.
DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = 'orgsync_webhook') THEN
        CREATE ROLE orgsync_webhook NOLOGIN;
    END IF;
END $$;
COMMENT ON ROLE orgsync_webhook IS 'orgsync: may deliver signed Clerk webhooks (handle_event, handle_events)';
REVOKE ALL ON FUNCTION handle_event(jsonb, text, text), handle_events(jsonb[], text[], text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION handle_event(jsonb, text, text), handle_events(jsonb[], text[], text) TO orgsync_webhook;

-- Clerk's organization model: domains, roles, permissions, invitations -------

-- Backfill and heal -----------------------------------------------------------

-- PostgREST and tenancy from Clerk session tokens ----------------------------

-- Operating: status, change feed, retention -----------------------------------
