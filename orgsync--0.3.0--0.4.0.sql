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

-- A snapshot now also comes from a domain's organization data, or is only
-- the organization id an invitation carries: 'membership' said too little.
ALTER TYPE row_source RENAME VALUE 'membership' TO 'snapshot';

ALTER TABLE users
    ADD COLUMN primary_phone   text,
    ADD COLUMN banned          boolean,
    ADD COLUMN locked          boolean,
    ADD COLUMN last_sign_in_at timestamptz;

-- A membership's deletion may come without the member (Clerk's schema does
-- not require public_user_data there): its tombstone knows only the organization.
ALTER TABLE memberships
    ADD COLUMN role_name text,
    ALTER COLUMN user_id DROP NOT NULL;

-- Invitations end with their organization, as memberships do; the accepting
-- user and the inviter are columns. An invitation's url (it carries the
-- acceptance token) is no longer copied into the mirror: it stays in the
-- recorded delivery, which only the extension's owner reads.
ALTER TABLE invitations
    ADD COLUMN role_name  text,
    ADD COLUMN inviter_id text,
    ADD COLUMN user_id    text,
    ADD COLUMN deleted_at timestamptz;
UPDATE invitations i SET deleted_at = o.deleted_at
FROM organizations o WHERE o.id = i.organization_id AND o.deleted_at IS NOT NULL;
UPDATE invitations SET data = data - 'url' WHERE data ? 'url';
-- accepted, revoked and expired are final: rank 2, above any pending copy.
UPDATE invitations SET sync_version[1] = 2
WHERE status IN ('accepted', 'revoked', 'expired') AND sync_version[1] = 1;

CREATE TABLE domains (
    id                        text PRIMARY KEY,
    organization_id           text,
    name                      text,
    enrollment_mode           text,
    verification_status       text,
    affiliation_email_address text,
    total_pending_invitations integer,
    total_pending_suggestions integer,
    created_at                timestamptz,
    updated_at                timestamptz,
    deleted_at                timestamptz,
    data                      jsonb,
    source                    row_source NOT NULL,
    sync_version              bigint[] NOT NULL DEFAULT '{}'
);
CREATE INDEX ON domains (organization_id);
CREATE INDEX ON domains (lower(name)) WHERE deleted_at IS NULL;

-- Roles and permissions are the instance's, not one organization's.
CREATE TABLE roles (
    id                  text PRIMARY KEY,
    key                 text,
    name                text,
    description         text,
    is_creator_eligible boolean,
    permissions         text[],
    created_at          timestamptz,
    updated_at          timestamptz,
    deleted_at          timestamptz,
    data                jsonb,
    source              row_source NOT NULL,
    sync_version        bigint[] NOT NULL DEFAULT '{}'
);
CREATE INDEX ON roles (key);

CREATE TABLE permissions (
    id           text PRIMARY KEY,
    key          text,
    name         text,
    description  text,
    type         text,
    created_at   timestamptz,
    updated_at   timestamptz,
    deleted_at   timestamptz,
    data         jsonb,
    source       row_source NOT NULL,
    sync_version bigint[] NOT NULL DEFAULT '{}'
);
CREATE INDEX ON permissions (key);

DO $$
BEGIN
    ALTER TABLE orgsync.domains ALTER data SET COMPRESSION lz4;
    ALTER TABLE orgsync.roles ALTER data SET COMPRESSION lz4;
    ALTER TABLE orgsync.permissions ALTER data SET COMPRESSION lz4;
EXCEPTION WHEN feature_not_supported THEN
    NULL;
END $$;

SELECT pg_catalog.pg_extension_config_dump('orgsync.domains', '');
SELECT pg_catalog.pg_extension_config_dump('orgsync.roles', '');
SELECT pg_catalog.pg_extension_config_dump('orgsync.permissions', '');

-- An invitation's status as a reader should see it now: Clerk sends no event
-- when a pending invitation expires. Use it as a column: i.current_status.
CREATE FUNCTION current_status(invitation invitations)
RETURNS text
LANGUAGE sql STABLE PARALLEL SAFE SET search_path = pg_catalog, orgsync
AS $$
    SELECT CASE WHEN invitation.status = 'pending' AND invitation.expires_at <= pg_catalog.now()
                THEN 'expired' ELSE invitation.status END
$$;

-- The organizations whose verified domain an email address is at, with how
-- a user with that address may join (enrollment_mode).
CREATE FUNCTION domain_organizations(email text)
RETURNS TABLE (organization_id text, domain text, enrollment_mode text)
LANGUAGE sql STABLE PARALLEL SAFE SECURITY DEFINER SET search_path = pg_catalog, orgsync
AS $$
    SELECT d.organization_id, d.name, d.enrollment_mode
    FROM orgsync.domains d
    JOIN orgsync.organizations o ON o.id = d.organization_id AND o.deleted_at IS NULL
    WHERE lower(d.name) = lower(substring(email FROM '@([^@]*)$'))
      AND d.deleted_at IS NULL AND d.verification_status = 'verified'
    ORDER BY d.organization_id
$$;

-- Backfill and heal -----------------------------------------------------------

-- PostgREST and tenancy from Clerk session tokens ----------------------------

-- Operating: status, change feed, retention -----------------------------------
