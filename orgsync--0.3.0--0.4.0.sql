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

-- A page of a Clerk Backend API listing (a JSON array of objects, or Clerk's
-- {"data": [...], "total_count": N}) of one kind, applied under the merge
-- rules of webhooks, in one call: one row per object, in page order.
CREATE FUNCTION apply_listing(kind text, page text)
RETURNS TABLE (id text, status text)
AS 'MODULE_PATHNAME', 'orgsync_apply_listing'
LANGUAGE C VOLATILE SECURITY DEFINER SET search_path = pg_catalog, orgsync
ROWS 500;

-- An object Clerk says is gone, ended as its deletion event would end it
-- (an organization's memberships, invitations and domains with it).
CREATE FUNCTION apply_deletion(kind text, id text, deleted_at timestamptz)
RETURNS text
AS 'MODULE_PATHNAME', 'orgsync_apply_deletion'
LANGUAGE C VOLATILE SECURITY DEFINER SET search_path = pg_catalog, orgsync;

-- A backfill run, and how far it got per kind: `relay/orgsync-relay backfill`
-- keeps its place here (--resume continues from `position`), and an
-- operator can read past runs.
CREATE TABLE backfill_runs (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    sweep       boolean NOT NULL,
    started_at  timestamptz NOT NULL DEFAULT now(),
    finished_at timestamptz,
    outcome     text  -- NULL while running; 'complete', or why it stopped
);

CREATE TABLE backfill_progress (
    run_id     bigint NOT NULL REFERENCES backfill_runs ON DELETE CASCADE,
    kind       text NOT NULL,
    position   jsonb,             -- where the next page starts, as the fetcher keeps it
    total      bigint,            -- objects, as the API last counted them
    pages      integer NOT NULL DEFAULT 0,
    read       bigint NOT NULL DEFAULT 0,
    applied    bigint NOT NULL DEFAULT 0,
    stale      bigint NOT NULL DEFAULT 0,
    tombstoned bigint NOT NULL DEFAULT 0,
    started_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    listed_at  timestamptz,       -- the listing was read to its end
    swept_at   timestamptz,       -- the sweep of this kind ended
    PRIMARY KEY (run_id, kind)
);

-- The ids a sweeping run's listings contained; a live row not among them is
-- a candidate for the sweep. Emptied when the run ends.
CREATE TABLE backfill_seen (
    run_id bigint NOT NULL REFERENCES backfill_runs ON DELETE CASCADE,
    kind   text NOT NULL,
    id     text NOT NULL,
    PRIMARY KEY (run_id, kind, id)
);

SELECT pg_catalog.pg_extension_config_dump('orgsync.backfill_runs', '');
SELECT pg_catalog.pg_extension_config_dump('orgsync.backfill_progress', '');

CREATE FUNCTION backfill_start(sweep boolean DEFAULT false)
RETURNS bigint
LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, orgsync
AS $$
    INSERT INTO orgsync.backfill_runs (sweep) VALUES (sweep) RETURNING id
$$;

-- A run that is still open, for the next page.
CREATE FUNCTION backfill_open_run(run_id bigint)
RETURNS orgsync.backfill_runs
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, orgsync
AS $$
DECLARE
    run orgsync.backfill_runs;
BEGIN
    SELECT * INTO run FROM orgsync.backfill_runs r WHERE r.id = run_id;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'orgsync: no backfill run %', run_id USING ERRCODE = '22023';
    END IF;
    IF run.finished_at IS NOT NULL THEN
        RAISE EXCEPTION 'orgsync: backfill run % has ended', run_id USING ERRCODE = '55000';
    END IF;
    RETURN run;
END $$;

-- Applies one page of `kind` for a run, and records in the same transaction
-- where the next page starts: a run killed between pages resumes exactly.
-- `last` says the listing has been read to its end.
CREATE FUNCTION backfill_page(run_id bigint, kind text, page text, next_position jsonb DEFAULT NULL,
                              total bigint DEFAULT NULL, last boolean DEFAULT false)
RETURNS jsonb
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, orgsync
AS $$
DECLARE
    run orgsync.backfill_runs := orgsync.backfill_open_run(run_id);
    counts record;
BEGIN
    WITH applied AS (
        SELECT * FROM orgsync.apply_listing(kind, page)
    ), seen AS (
        INSERT INTO orgsync.backfill_seen (run_id, kind, id)
        SELECT backfill_page.run_id, backfill_page.kind, a.id FROM applied a WHERE run.sweep
        ON CONFLICT DO NOTHING
    )
    SELECT count(*) AS read, count(*) FILTER (WHERE a.status = 'applied') AS applied,
           count(*) FILTER (WHERE a.status = 'stale') AS stale
    INTO counts FROM applied a;
    INSERT INTO orgsync.backfill_progress AS g (run_id, kind, position, total, pages, read, applied, stale, listed_at)
    VALUES (run_id, kind, next_position, total, 1, counts.read, counts.applied, counts.stale,
            CASE WHEN last THEN now() END)
    ON CONFLICT ON CONSTRAINT backfill_progress_pkey DO UPDATE SET
        position = excluded.position, total = coalesce(excluded.total, g.total), pages = g.pages + 1,
        read = g.read + excluded.read, applied = g.applied + excluded.applied, stale = g.stale + excluded.stale,
        updated_at = now(), listed_at = coalesce(g.listed_at, excluded.listed_at);
    RETURN jsonb_build_object('read', counts.read, 'applied', counts.applied, 'stale', counts.stale);
END $$;

-- The sweep's candidates of `kind`: live rows the run's complete listing did
-- not contain, with the version they have now. Each must be confirmed gone
-- by Clerk before backfill_tombstone ends it.
CREATE FUNCTION backfill_candidates(run_id bigint, kind text)
RETURNS TABLE (id text, organization_id text, user_id text, sync_version bigint[])
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, orgsync
AS $$
DECLARE
    run orgsync.backfill_runs := orgsync.backfill_open_run(run_id);
    tables constant jsonb := '{"organizations": "organizations", "users": "users", "memberships": "memberships",
                               "domains": "domains", "roles": "roles", "permissions": "permissions"}';
BEGIN
    IF NOT run.sweep THEN
        RAISE EXCEPTION 'orgsync: backfill run % does not sweep', run_id USING ERRCODE = '55000';
    END IF;
    IF tables ->> kind IS NULL THEN
        RAISE EXCEPTION 'orgsync: no sweep for kind "%"', kind USING ERRCODE = '22023',
            HINT = 'The kinds swept are organizations, users, memberships, domains, roles and permissions.';
    END IF;
    IF NOT EXISTS (SELECT FROM orgsync.backfill_progress g
                   WHERE g.run_id = backfill_candidates.run_id AND g.kind = backfill_candidates.kind
                     AND g.listed_at IS NOT NULL) THEN
        RAISE EXCEPTION 'orgsync: the % listing of run % is not complete', kind, run_id USING ERRCODE = '55000',
            DETAIL = 'A row missing from an incomplete listing is not a deletion.';
    END IF;
    RETURN QUERY EXECUTE format(
        'SELECT t.id, %s, %s, t.sync_version FROM orgsync.%I t
         WHERE t.deleted_at IS NULL
           AND NOT EXISTS (SELECT FROM orgsync.backfill_seen s WHERE s.run_id = $1 AND s.kind = $2 AND s.id = t.id)
         ORDER BY t.id',
        CASE WHEN kind IN ('memberships', 'domains') THEN 't.organization_id' ELSE 'NULL::text' END,
        CASE WHEN kind = 'memberships' THEN 't.user_id' ELSE 'NULL::text' END,
        tables ->> kind)
    USING run_id, kind;
END $$;

-- Ends a candidate Clerk confirmed gone, unless the row changed since it was
-- listed as one (a webhook wrote it meanwhile): 'tombstoned', 'changed', or
-- 'gone' (already ended).
CREATE FUNCTION backfill_tombstone(run_id bigint, kind text, id text, seen_version bigint[])
RETURNS text
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, orgsync
AS $$
DECLARE
    run orgsync.backfill_runs := orgsync.backfill_open_run(run_id);
    current record;
BEGIN
    IF kind NOT IN ('organizations', 'users', 'memberships', 'domains', 'roles', 'permissions') THEN
        RAISE EXCEPTION 'orgsync: no sweep for kind "%"', kind USING ERRCODE = '22023';
    END IF;
    EXECUTE format('SELECT t.sync_version, t.deleted_at FROM orgsync.%I t WHERE t.id = $1 FOR UPDATE', kind)
    INTO current USING id;
    IF current IS NULL OR current.deleted_at IS NOT NULL THEN
        RETURN 'gone';
    END IF;
    IF current.sync_version IS DISTINCT FROM seen_version THEN
        RETURN 'changed';
    END IF;
    PERFORM orgsync.apply_deletion(kind, id, now());
    UPDATE orgsync.backfill_progress g SET tombstoned = g.tombstoned + 1, updated_at = now()
    WHERE g.run_id = backfill_tombstone.run_id AND g.kind = backfill_tombstone.kind;
    RETURN 'tombstoned';
END $$;

CREATE FUNCTION backfill_swept(run_id bigint, kind text)
RETURNS void
LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, orgsync
AS $$
    UPDATE orgsync.backfill_progress g SET swept_at = now(), updated_at = now()
    WHERE g.run_id = backfill_swept.run_id AND g.kind = backfill_swept.kind
$$;

CREATE FUNCTION backfill_finish(run_id bigint, outcome text DEFAULT 'complete')
RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, orgsync
AS $$
BEGIN
    PERFORM orgsync.backfill_open_run(run_id);
    UPDATE orgsync.backfill_runs r SET finished_at = now(), outcome = backfill_finish.outcome
    WHERE r.id = backfill_finish.run_id;
    DELETE FROM orgsync.backfill_seen s WHERE s.run_id = backfill_finish.run_id;
END $$;

-- The backfill's role: it may apply listings and deletions Clerk confirms,
-- and keep its runs; nothing else (no secrets, no deliveries, no reading of
-- the mirror beyond what a sweep's candidates show).
DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = 'orgsync_backfill') THEN
        CREATE ROLE orgsync_backfill NOLOGIN;
    END IF;
END $$;
COMMENT ON ROLE orgsync_backfill IS 'orgsync: may backfill the mirror from Clerk''s Backend API';
REVOKE ALL ON FUNCTION apply_listing(text, text), apply_deletion(text, text, timestamptz),
    backfill_start(boolean), backfill_open_run(bigint),
    backfill_page(bigint, text, text, jsonb, bigint, boolean), backfill_candidates(bigint, text),
    backfill_tombstone(bigint, text, text, bigint[]), backfill_swept(bigint, text),
    backfill_finish(bigint, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION apply_listing(text, text), apply_deletion(text, text, timestamptz),
    backfill_start(boolean), backfill_page(bigint, text, text, jsonb, bigint, boolean),
    backfill_candidates(bigint, text), backfill_tombstone(bigint, text, text, bigint[]),
    backfill_swept(bigint, text), backfill_finish(bigint, text) TO orgsync_backfill;
GRANT SELECT ON backfill_runs, backfill_progress TO orgsync_backfill;

-- PostgREST and tenancy from Clerk session tokens ----------------------------

-- Operating: status, change feed, retention -----------------------------------
