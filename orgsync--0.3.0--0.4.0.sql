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
-- The new columns of rows 0.3.0 wrote, read from their stored data as the
-- library reads a delivery (a value of another JSON type reads as NULL): a
-- user banned before the update must not pass is_member until Clerk next
-- sends it, and a backfill would keep the row as it is (same version, same
-- content).
UPDATE users SET
    primary_phone = (SELECT p ->> 'phone_number'
                     FROM jsonb_array_elements(CASE WHEN jsonb_typeof(data -> 'phone_numbers') = 'array'
                                                    THEN data -> 'phone_numbers' END) p
                     WHERE p -> 'id' = data -> 'primary_phone_number_id'
                       AND jsonb_typeof(p -> 'phone_number') = 'string' LIMIT 1),
    banned = CASE WHEN jsonb_typeof(data -> 'banned') = 'boolean' THEN (data -> 'banned')::boolean END,
    locked = CASE WHEN jsonb_typeof(data -> 'locked') = 'boolean' THEN (data -> 'locked')::boolean END,
    last_sign_in_at = CASE WHEN data ->> 'last_sign_in_at' ~ '^[0-9]{1,15}$' AND jsonb_typeof(data -> 'last_sign_in_at') = 'number'
                           THEN timestamptz 'epoch' + (data ->> 'last_sign_in_at')::bigint * interval '1 millisecond' END
WHERE source = 'event' AND data IS NOT NULL;
-- a member's public data: its identifier is a phone number when it starts with +
UPDATE users SET
    primary_phone = CASE WHEN jsonb_typeof(data -> 'identifier') = 'string' AND data ->> 'identifier' LIKE '+%'
                          AND data ->> 'identifier' NOT LIKE '%@%' THEN data ->> 'identifier' END,
    banned = CASE WHEN jsonb_typeof(data -> 'banned') = 'boolean' THEN (data -> 'banned')::boolean END
WHERE source = 'snapshot' AND data IS NOT NULL;
UPDATE memberships SET role_name = CASE WHEN jsonb_typeof(data -> 'role_name') = 'string' THEN data ->> 'role_name' END
WHERE data IS NOT NULL;
UPDATE invitations SET
    role_name = CASE WHEN jsonb_typeof(data -> 'role_name') = 'string' THEN data ->> 'role_name' END,
    inviter_id = CASE WHEN jsonb_typeof(data -> 'inviter_id') = 'string' THEN data ->> 'inviter_id' END,
    user_id = CASE WHEN jsonb_typeof(data -> 'user_id') = 'string' THEN data ->> 'user_id' END
WHERE data IS NOT NULL;
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
-- when a pending invitation expires, nor for one whose organization was
-- deleted. 'pending' means it can still be accepted; a pending one past
-- expires_at is 'expired', one ended with its organization 'ended'.
CREATE FUNCTION current_status(invitation invitations)
RETURNS text
LANGUAGE sql STABLE PARALLEL SAFE SET search_path = pg_catalog, orgsync
AS $$
    SELECT CASE WHEN invitation.status <> 'pending' THEN invitation.status
                WHEN invitation.deleted_at IS NOT NULL THEN 'ended'
                WHEN invitation.expires_at <= pg_catalog.now() THEN 'expired'
                ELSE 'pending' END
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
-- (an organization's memberships, invitations and domains with it):
-- 'applied', or 'stale' if it was already deleted then. With if_version,
-- only a live row at exactly that sync_version is ended ('changed': it was
-- written since; 'gone': not live), checked in the writers' turn.
CREATE FUNCTION apply_deletion(kind text, id text, deleted_at timestamptz, if_version bigint[] DEFAULT NULL)
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
-- and where its ids go on: a restored database's next run must not take an
-- id a restored run has
SELECT pg_catalog.pg_extension_config_dump(pg_catalog.pg_get_serial_sequence('orgsync.backfill_runs', 'id')::regclass, '');
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

-- The table a sweep of `kind` reads, once the run sweeps and has read that
-- kind's listing to its end: a row missing from an incomplete listing is not
-- a deletion.
CREATE FUNCTION backfill_sweep_table(run_id bigint, kind text)
RETURNS text
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, orgsync
AS $$
DECLARE
    run orgsync.backfill_runs := orgsync.backfill_open_run(run_id);
BEGIN
    IF NOT run.sweep THEN
        RAISE EXCEPTION 'orgsync: backfill run % does not sweep', run_id USING ERRCODE = '55000';
    END IF;
    IF kind IS NULL OR kind NOT IN ('organizations', 'users', 'memberships', 'domains', 'roles', 'permissions') THEN
        RAISE EXCEPTION 'orgsync: no sweep for kind "%"', kind USING ERRCODE = '22023',
            HINT = 'The kinds swept are organizations, users, memberships, domains, roles and permissions.';
    END IF;
    IF NOT EXISTS (SELECT FROM orgsync.backfill_progress g
                   WHERE g.run_id = backfill_sweep_table.run_id AND g.kind = backfill_sweep_table.kind
                     AND g.listed_at IS NOT NULL) THEN
        RAISE EXCEPTION 'orgsync: the % listing of run % is not complete', kind, run_id USING ERRCODE = '55000',
            DETAIL = 'A row missing from an incomplete listing is not a deletion.';
    END IF;
    RETURN kind;
END $$;

-- The sweep's candidates of `kind`: live rows the run's complete listing did
-- not contain, with the version they have now. Each must be confirmed gone
-- by Clerk before backfill_tombstone ends it.
CREATE FUNCTION backfill_candidates(run_id bigint, kind text)
RETURNS TABLE (id text, organization_id text, user_id text, sync_version bigint[])
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, orgsync
AS $$
BEGIN
    RETURN QUERY EXECUTE format(
        'SELECT t.id, %s, %s, t.sync_version FROM orgsync.%I t
         WHERE t.deleted_at IS NULL
           AND NOT EXISTS (SELECT FROM orgsync.backfill_seen s WHERE s.run_id = $1 AND s.kind = $2 AND s.id = t.id)
         ORDER BY t.id',
        CASE WHEN kind IN ('memberships', 'domains') THEN 't.organization_id' ELSE 'NULL::text' END,
        CASE WHEN kind = 'memberships' THEN 't.user_id' ELSE 'NULL::text' END,
        orgsync.backfill_sweep_table(run_id, kind))
    USING run_id, kind;
END $$;

-- Ends a candidate Clerk confirmed gone, unless the row changed since it was
-- listed as one (a webhook wrote it meanwhile): 'tombstoned', 'changed', or
-- 'gone' (already ended). apply_deletion checks the version in the writers'
-- turn: locking the row here first could deadlock with a batch.
CREATE FUNCTION backfill_tombstone(run_id bigint, kind text, id text, seen_version bigint[])
RETURNS text
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, orgsync
AS $$
DECLARE
    outcome text;
BEGIN
    PERFORM orgsync.backfill_sweep_table(run_id, kind);
    IF seen_version IS NULL THEN
        RAISE EXCEPTION 'orgsync: seen_version must not be NULL' USING ERRCODE = '22004';
    END IF;
    outcome := orgsync.apply_deletion(kind, id, pg_catalog.now(), seen_version);
    IF outcome <> 'applied' THEN
        RETURN CASE outcome WHEN 'stale' THEN 'gone' ELSE outcome END;
    END IF;
    UPDATE orgsync.backfill_progress g SET tombstoned = g.tombstoned + 1, updated_at = pg_catalog.now()
    WHERE g.run_id = backfill_tombstone.run_id AND g.kind = backfill_tombstone.kind;
    RETURN 'tombstoned';
END $$;

CREATE FUNCTION backfill_swept(run_id bigint, kind text)
RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, orgsync
AS $$
BEGIN
    PERFORM orgsync.backfill_sweep_table(run_id, kind);
    UPDATE orgsync.backfill_progress g SET swept_at = pg_catalog.now(), updated_at = pg_catalog.now()
    WHERE g.run_id = backfill_swept.run_id AND g.kind = backfill_swept.kind;
END $$;

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
REVOKE ALL ON FUNCTION apply_listing(text, text), apply_deletion(text, text, timestamptz, bigint[]),
    backfill_start(boolean), backfill_open_run(bigint), backfill_sweep_table(bigint, text),
    backfill_page(bigint, text, text, jsonb, bigint, boolean), backfill_candidates(bigint, text),
    backfill_tombstone(bigint, text, text, bigint[]), backfill_swept(bigint, text),
    backfill_finish(bigint, text) FROM PUBLIC;
-- apply_deletion is not granted: it ends any object unchecked, and a
-- tombstone is final. backfill_tombstone calls it, as the owner, only for a
-- candidate of a complete listing at the version the sweep saw.
GRANT EXECUTE ON FUNCTION apply_listing(text, text),
    backfill_start(boolean), backfill_page(bigint, text, text, jsonb, bigint, boolean),
    backfill_candidates(bigint, text), backfill_tombstone(bigint, text, text, bigint[]),
    backfill_swept(bigint, text), backfill_finish(bigint, text) TO orgsync_backfill;
GRANT SELECT ON backfill_runs, backfill_progress TO orgsync_backfill;

-- PostgREST and tenancy from Clerk session tokens ----------------------------

-- The claims of the request's Clerk session token: PostgREST puts them in
-- request.jwt.claims once it has verified the token; an application that
-- verifies tokens itself sets the same setting per transaction. NULL when
-- there are none (PostgREST leaves '' behind after a transaction). The
-- readers below are SECURITY INVOKER sql functions without a SET clause, so
-- that Postgres inlines them into the query that calls them.
CREATE FUNCTION claims_not_json(claims text)
RETURNS json
LANGUAGE plpgsql STABLE PARALLEL SAFE SET search_path = pg_catalog, orgsync
AS $$
BEGIN
    RAISE EXCEPTION 'orgsync: request.jwt.claims is not a JSON object'
        USING ERRCODE = '22P02',
              DETAIL = format('It begins with %L.', left(claims, 20)),
              HINT = 'Set it to the verified claims of the Clerk session token, as PostgREST does.';
END $$;

CREATE FUNCTION session_claims()
RETURNS json
LANGUAGE sql STABLE PARALLEL SAFE
AS $$
    SELECT CASE
        WHEN coalesce(pg_catalog.current_setting('request.jwt.claims', true), '') = '' THEN NULL
        WHEN pg_catalog.current_setting('request.jwt.claims', true) ~ '^\s*\{'
            THEN pg_catalog.current_setting('request.jwt.claims', true)::json
        ELSE orgsync.claims_not_json(pg_catalog.current_setting('request.jwt.claims', true))
    END
$$;

-- Clerk's session tokens come in two versions: version 2 (claim v = 2) puts
-- the active organization in the object o {id, slg, rol, per, fpm}, its role
-- without the "org:" prefix; version 1 has org_id, org_slug, org_role and
-- org_permissions. Every token without v = 2 is read as version 1, as
-- Clerk's own SDK reads it. A role is spelled as version 1 tokens and the
-- mirror spell it ("org:admin").
CREATE FUNCTION current_user_id()
RETURNS text
LANGUAGE sql STABLE PARALLEL SAFE
AS $$
    SELECT orgsync.session_claims() ->> 'sub'
$$;

CREATE FUNCTION current_org_id()
RETURNS text
LANGUAGE sql STABLE PARALLEL SAFE
AS $$
    SELECT CASE WHEN orgsync.session_claims() ->> 'v' = '2' THEN orgsync.session_claims() -> 'o' ->> 'id'
                ELSE orgsync.session_claims() ->> 'org_id' END
$$;

CREATE FUNCTION current_org_role()
RETURNS text
LANGUAGE sql STABLE PARALLEL SAFE
AS $$
    SELECT CASE WHEN orgsync.session_claims() ->> 'v' = '2' THEN 'org:' || (orgsync.session_claims() -> 'o' ->> 'rol')
                ELSE orgsync.session_claims() ->> 'org_role' END
$$;

-- Version 2 lists permission names once (o.per) and, per organization
-- feature of the fea claim ("o:rooms", "uo:reports"), a decimal bitmask
-- (o.fpm) of the names that feature grants: bit k, counted from the least
-- significant, is the k-th name, giving "org:<feature>:<name>". Decoded as
-- Clerk's SDK decodes it; a mask that is not a decimal number grants nothing.
-- With its subqueries it is not inlined: in a policy, write
-- (SELECT orgsync.current_org_permissions()) to decode the claims once.
CREATE FUNCTION current_org_permissions()
RETURNS text[]
LANGUAGE sql STABLE PARALLEL SAFE
AS $$
    SELECT CASE
        WHEN c ->> 'v' = '2' THEN CASE WHEN json_typeof(c -> 'o') = 'object' THEN coalesce((
            SELECT array_agg(format('org:%s:%s', feature.name, btrim(permission.name)) ORDER BY feature.n, permission.n)
            FROM (SELECT substr(f.entry, strpos(f.entry, ':') + 1) AS name, row_number() OVER (ORDER BY f.n) AS n
                  FROM (SELECT btrim(entry) AS entry, n
                        FROM unnest(string_to_array(c ->> 'fea', ',')) WITH ORDINALITY AS fea(entry, n)) f
                  WHERE strpos(split_part(f.entry, ':', 1), 'o') > 0 AND strpos(f.entry, ':') > 0) feature
            JOIN unnest(string_to_array(c -> 'o' ->> 'fpm', ',')) WITH ORDINALITY AS mask(bits, n)
              ON mask.n = feature.n AND btrim(mask.bits) ~ '^\d+$'
            JOIN unnest(string_to_array(c -> 'o' ->> 'per', ',')) WITH ORDINALITY AS permission(name, n)
              ON mod(div(btrim(mask.bits)::numeric, 2::numeric ^ (permission.n - 1)), 2) = 1), '{}') END
        ELSE CASE WHEN json_typeof(c -> 'org_permissions') = 'array' THEN coalesce((
            SELECT array_agg(p.name ORDER BY p.n)
            FROM json_array_elements_text(c -> 'org_permissions') WITH ORDINALITY AS p(name, n)), '{}') END
    END
    FROM (SELECT orgsync.session_claims() AS c) claims
$$;

-- Who counts as a member: a live membership of a user Clerk has not banned.
-- A banned user's sessions are revoked and they may not sign in again; a
-- locked user (too many failed sign-ins, which anyone who knows the address
-- can cause) keeps their sessions and stays a member. Ended memberships,
-- and those of deleted organizations and users (ended with them), do not count.
CREATE VIEW active_memberships AS
SELECT m.*
FROM memberships m
WHERE m.deleted_at IS NULL
  AND NOT EXISTS (SELECT FROM users u WHERE u.id = m.user_id AND u.banned);

-- The helpers read the mirror, never the token's organization claims: a
-- member removed in Clerk keeps a valid token until it expires, and the
-- mirror learns of the removal as the webhook arrives. They default to the
-- token's user; the default is evaluated in the calling query.
CREATE OR REPLACE FUNCTION is_member(organization_id text, user_id text DEFAULT orgsync.current_user_id())
RETURNS boolean
LANGUAGE sql STABLE PARALLEL SAFE SECURITY DEFINER SET search_path = pg_catalog, orgsync
AS $$
    SELECT EXISTS (
        SELECT FROM orgsync.active_memberships m
        WHERE m.user_id = is_member.user_id AND m.organization_id = is_member.organization_id)
$$;

CREATE OR REPLACE FUNCTION has_role(organization_id text, user_id text, role text)
RETURNS boolean
LANGUAGE sql STABLE PARALLEL SAFE SECURITY DEFINER SET search_path = pg_catalog, orgsync
AS $$
    SELECT EXISTS (
        SELECT FROM orgsync.active_memberships m
        WHERE m.user_id = has_role.user_id AND m.organization_id = has_role.organization_id
          AND m.role = has_role.role)
$$;

-- has_role for the token's user. A default cannot go on has_role's user_id:
-- it comes before role, and moving it would silently swap two text arguments
-- in every existing call.
CREATE FUNCTION has_role(organization_id text, role text)
RETURNS boolean
LANGUAGE sql STABLE PARALLEL SAFE
AS $$
    SELECT orgsync.has_role(organization_id, orgsync.current_user_id(), role)
$$;

-- A membership carries its role's permissions as of the membership's last
-- event; a role.updated changes them without (as far as Clerk documents)
-- touching the memberships. The newer of the two wins: the live role of
-- that key unless the membership was updated after it (the role's own
-- update not delivered yet), and the membership's copy when no live role of
-- that key is known. Both list system permissions (org:sys_*), which
-- session tokens never carry: ask has_permission for those.
CREATE FUNCTION has_permission(organization_id text, permission text, user_id text DEFAULT orgsync.current_user_id())
RETURNS boolean
LANGUAGE sql STABLE PARALLEL SAFE SECURITY DEFINER SET search_path = pg_catalog, orgsync
AS $$
    SELECT EXISTS (
        SELECT FROM orgsync.active_memberships m
        -- a role unknown, or known without its permissions list, says nothing
        LEFT JOIN LATERAL (
            SELECT r.permissions, r.updated_at FROM orgsync.roles r
            WHERE r.key = m.role AND r.deleted_at IS NULL
            ORDER BY r.updated_at DESC NULLS LAST, r.id DESC LIMIT 1) role ON true
        WHERE m.user_id = has_permission.user_id AND m.organization_id = has_permission.organization_id
          AND has_permission.permission = ANY (
              CASE WHEN role.permissions IS NULL OR m.updated_at > role.updated_at THEN m.permissions ELSE role.permissions END))
$$;

CREATE OR REPLACE FUNCTION user_organizations(user_id text DEFAULT orgsync.current_user_id())
RETURNS SETOF text
LANGUAGE sql STABLE PARALLEL SAFE SECURITY DEFINER SET search_path = pg_catalog, orgsync
AS $$
    SELECT DISTINCT m.organization_id FROM orgsync.active_memberships m
    WHERE m.user_id = user_organizations.user_id
$$;

-- Who may ask. The helpers read memberships with the owner's rights, so
-- whoever may call them learns who belongs where: the application grants
-- orgsync_app to the roles its requests run as. Asking about another user
-- than the token's needs nothing more: request.jwt.claims is a setting any
-- role can set, so a role that can run SQL can be any user it likes, and the
-- boundary is which roles may call the helpers at all. End users who reach
-- the database only through PostgREST or the application cannot set it.
-- The claim readers stay PUBLIC: they read only the caller's own setting.
DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = 'orgsync_app') THEN
        CREATE ROLE orgsync_app NOLOGIN;
    END IF;
END $$;
COMMENT ON ROLE orgsync_app IS 'orgsync: may ask who belongs to which organization (is_member, has_role, has_permission, user_organizations, domain_organizations)';

-- The PostgREST entry point: POST /rpc/webhook with Clerk's body, for
-- PostgREST 9 and later. PostgREST passes an application/json body to a
-- function of one unnamed json parameter as the text it received, and json
-- keeps that text: the signature is checked over the bytes Svix signed.
-- The headers are PostgREST's request.headers. PostgREST would answer 403
-- for SQLSTATE 28000 and 405 for 25006; its PTnnn SQLSTATEs choose the HTTP
-- status instead. Expose a one-line wrapper in the API schema PostgREST
-- serves, never schema orgsync: webhook(body) for endpoint 'default',
-- webhook(body, endpoint) behind a wrapper per further endpoint.
CREATE FUNCTION webhook(body json, endpoint text)
RETURNS jsonb
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, orgsync
AS $$
DECLARE
    check_word text;
BEGIN
    RETURN orgsync.handle_event(coalesce(nullif(current_setting('request.headers', true), ''), '{}')::jsonb,
                                body::text, endpoint);
EXCEPTION
    WHEN invalid_authorization_specification THEN
        GET STACKED DIAGNOSTICS check_word = PG_EXCEPTION_DETAIL;
        RAISE EXCEPTION USING MESSAGE = SQLERRM, DETAIL = check_word,
            ERRCODE = CASE WHEN check_word IN ('missing_id', 'missing_timestamp', 'malformed_timestamp')
                           THEN 'PT400' ELSE 'PT401' END;
    WHEN object_not_in_prerequisite_state THEN
        -- no secret for the endpoint (unknown_endpoint), or an extension not
        -- updated to its library yet (extension_not_updated): Svix retries
        -- a 503, and the update may come in time. (The condition is class 55:
        -- a lock timeout, 55P03, goes on as it is.)
        IF SQLSTATE <> '55000' THEN
            RAISE;
        END IF;
        GET STACKED DIAGNOSTICS check_word = PG_EXCEPTION_DETAIL;
        RAISE EXCEPTION USING MESSAGE = SQLERRM, DETAIL = check_word,
            ERRCODE = CASE WHEN check_word = 'unknown_endpoint' THEN 'PT401' ELSE 'PT503' END;
    WHEN read_only_sql_transaction THEN
        RAISE EXCEPTION USING ERRCODE = 'PT503', MESSAGE = SQLERRM, DETAIL = 'read_only';
END $$;

CREATE FUNCTION webhook(json)
RETURNS jsonb
LANGUAGE sql VOLATILE
AS $$
    SELECT orgsync.webhook($1, 'default')
$$;

-- PUBLIC may call none of these (nor, from the end of this script, roles
-- that ALTER DEFAULT PRIVILEGES gave them to).
REVOKE ALL ON FUNCTION is_member(text, text), has_role(text, text, text), has_role(text, text),
    has_permission(text, text, text), user_organizations(text), domain_organizations(text),
    webhook(json, text), webhook(json) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION is_member(text, text), has_role(text, text, text), has_role(text, text),
    has_permission(text, text, text), user_organizations(text), domain_organizations(text) TO orgsync_app;
GRANT EXECUTE ON FUNCTION webhook(json, text), webhook(json) TO orgsync_webhook;

-- Operating: status, change feed, retention -----------------------------------

-- Each signing key by a fingerprint (the first 16 hex digits of SHA-256 of
-- the decoded key: no secret in it), a label, and when a delivery last
-- verified with it (recorded at most once a minute per backend), so that an
-- operator rotating secrets sees when the old one is unused. Only changes of
-- the keys themselves reset the backends' key caches.
ALTER TABLE secrets
    ADD COLUMN label            text,
    ADD COLUMN fingerprint      text GENERATED ALWAYS AS (left(encode(sha256(key), 'hex'), 16)) STORED,
    ADD COLUMN last_verified_at timestamptz;
DROP TRIGGER secrets_changed ON secrets;
CREATE TRIGGER secrets_changed AFTER INSERT OR DELETE OR TRUNCATE OR UPDATE OF endpoint, key ON secrets
FOR EACH STATEMENT EXECUTE FUNCTION secrets_changed();

DROP FUNCTION add_secret(text, text);
CREATE FUNCTION add_secret(secret text, endpoint text DEFAULT 'default', label text DEFAULT NULL)
RETURNS void
LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, orgsync
AS $$
    INSERT INTO orgsync.secrets (endpoint, key, label)
    VALUES (endpoint, orgsync.secret_key(secret), label)
    ON CONFLICT (endpoint, key) DO UPDATE SET label = coalesce(excluded.label, secrets.label)
$$;
REVOKE ALL ON FUNCTION add_secret(text, text, text) FROM PUBLIC;

-- The fingerprint of a secret, as orgsync.signing_keys shows it.
CREATE FUNCTION secret_fingerprint(secret text)
RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE SET search_path = pg_catalog, orgsync
AS $$ SELECT left(encode(sha256(orgsync.secret_key(secret)), 'hex'), 16) $$;
REVOKE ALL ON FUNCTION secret_fingerprint(text) FROM PUBLIC;

CREATE VIEW signing_keys AS
SELECT s.endpoint, s.fingerprint, s.label, s.added_at, s.last_verified_at,
       count(*) OVER (PARTITION BY s.endpoint) AS keys_of_endpoint
FROM secrets s;

-- How deliveries are going, as of `at`, per endpoint and event type: counts
-- by status over the last hour and day, the newest event time applied, the
-- lag from event time to receipt over the last hour, and the invalid
-- deliveries waiting for a replay. orgsync.status is this as of now().
CREATE FUNCTION status_at(at timestamptz)
RETURNS TABLE (endpoint text, type text, last_hour jsonb, last_day jsonb, newest_applied_event timestamptz,
               lag_p50 interval, lag_max interval, invalid_waiting bigint, oldest_invalid timestamptz)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, orgsync
AS $$
    WITH recent AS (
        SELECT e.endpoint, coalesce(e.type, '') AS type, e.status, e.received_at, e.event_time
        FROM orgsync.events e
        WHERE e.received_at > at - interval '1 day' AND e.received_at <= at
    ), invalid AS (
        SELECT e.endpoint, coalesce(e.type, '') AS type, count(*) AS waiting, min(e.received_at) AS oldest
        FROM orgsync.events e WHERE e.status = 'invalid' AND e.received_at <= at
        GROUP BY 1, 2
    ), counts AS (
        SELECT r.endpoint, r.type,
               jsonb_object_agg(r.status, r.hour) FILTER (WHERE r.hour > 0) AS last_hour,
               jsonb_object_agg(r.status, r.day) AS last_day
        FROM (SELECT endpoint, type, status::text, count(*) FILTER (WHERE received_at > at - interval '1 hour') AS hour,
                     count(*) AS day
              FROM recent GROUP BY 1, 2, 3) r
        GROUP BY 1, 2
    ), timing AS (
        SELECT endpoint, type,
               max(event_time) FILTER (WHERE status = 'applied') AS newest_applied_event,
               percentile_disc(0.5) WITHIN GROUP (ORDER BY received_at - event_time)
                   FILTER (WHERE received_at > at - interval '1 hour') AS lag_p50,
               max(received_at - event_time) FILTER (WHERE received_at > at - interval '1 hour') AS lag_max
        FROM recent GROUP BY 1, 2
    )
    SELECT k.endpoint, nullif(k.type, ''), coalesce(c.last_hour, '{}'), coalesce(c.last_day, '{}'),
           t.newest_applied_event, t.lag_p50, t.lag_max, coalesce(i.waiting, 0), i.oldest
    FROM (SELECT endpoint, type FROM counts UNION SELECT endpoint, type FROM invalid) k
    LEFT JOIN counts c USING (endpoint, type)
    LEFT JOIN timing t USING (endpoint, type)
    LEFT JOIN invalid i USING (endpoint, type)
    ORDER BY k.endpoint, k.type
$$;

CREATE VIEW status AS SELECT * FROM status_at(now());

-- Stored invalid deliveries run again under the normal merge rules (after a
-- newer orgsync that understands them, say): how many came out how.
CREATE FUNCTION replay_invalid(endpoint text DEFAULT NULL, since timestamptz DEFAULT NULL)
RETURNS TABLE (status text, deliveries bigint)
LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, orgsync
AS $$
    SELECT r.status, count(*)
    FROM (SELECT e.id FROM orgsync.events e
          WHERE e.status = 'invalid'
            AND (replay_invalid.endpoint IS NULL OR e.endpoint = replay_invalid.endpoint)
            AND (replay_invalid.since IS NULL OR e.received_at >= replay_invalid.since)
          ORDER BY e.received_at, e.id) invalid,
         LATERAL (SELECT orgsync.replay(invalid.id) ->> 'status' AS status) r
    GROUP BY r.status ORDER BY r.status
$$;
REVOKE ALL ON FUNCTION replay_invalid(text, timestamptz) FROM PUBLIC;

-- Old delivery rows go (their bodies are the bulk of the table), in batches
-- that each commit: never one still needed to recognise a redelivery (Svix
-- retries a delivery for about 27 hours, each attempt freshly signed, so ids
-- are kept that long plus the timestamp tolerance), and never an invalid one
-- unless asked. Returns how many rows and how many bytes of bodies went.
-- A procedure, so that each batch commits: run it as the extension's owner
-- (CALL orgsync.prune_events('30 days'), from cron or pg_cron). It names its
-- tables and functions with their schema: a procedure that commits cannot SET
-- search_path (operators and types still resolve through the caller's).
CREATE PROCEDURE prune_events(older_than interval, include_invalid boolean DEFAULT false,
                              batch_size integer DEFAULT 10000, INOUT deleted_rows bigint DEFAULT NULL,
                              INOUT deleted_bytes bigint DEFAULT NULL)
LANGUAGE plpgsql
AS $$
DECLARE
    -- The setting exists once the library is loaded, which nothing here does
    -- (cron's session calls no other function): unset, it has the library's
    -- default, 300 seconds.
    kept interval := interval '28 hours'
        + coalesce(pg_catalog.current_setting('orgsync.timestamp_tolerance', true), '300')::interval;
    cutoff timestamptz;
    batch_rows bigint;
    batch_bytes bigint;
BEGIN
    IF older_than IS NULL OR older_than < kept THEN
        RAISE EXCEPTION 'orgsync: older_than must be at least %', kept USING ERRCODE = '22023',
            DETAIL = 'Svix retries a delivery for up to 27 h 35 min; a delivery id is kept 28 hours plus the timestamp tolerance, to recognise a redelivery.';
    END IF;
    IF batch_size IS NULL OR batch_size < 1 THEN
        RAISE EXCEPTION 'orgsync: batch_size must be positive' USING ERRCODE = '22023';
    END IF;
    cutoff := pg_catalog.now() - older_than;
    deleted_rows := 0;
    deleted_bytes := 0;
    LOOP
        WITH doomed AS (
            SELECT e.id FROM orgsync.events e
            WHERE e.received_at < cutoff AND (include_invalid OR e.status <> 'invalid')
            ORDER BY e.received_at LIMIT batch_size
        ), gone AS (
            DELETE FROM orgsync.events e USING doomed WHERE e.id = doomed.id
            RETURNING pg_catalog.pg_column_size(e.payload) AS bytes
        )
        SELECT pg_catalog.count(*), coalesce(pg_catalog.sum(bytes), 0) INTO batch_rows, batch_bytes FROM gone;
        deleted_rows := deleted_rows + batch_rows;
        deleted_bytes := deleted_bytes + batch_bytes;
        EXIT WHEN batch_rows < batch_size;
        COMMIT;
    END LOOP;
END $$;
REVOKE ALL ON PROCEDURE prune_events(interval, boolean, integer, bigint, bigint) FROM PUBLIC;

-- What monitoring may read: the state of deliveries and the keys by
-- fingerprint, no secret, no payload, no mirror row.
DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = 'orgsync_monitor') THEN
        CREATE ROLE orgsync_monitor NOLOGIN;
    END IF;
END $$;
COMMENT ON ROLE orgsync_monitor IS 'orgsync: may read orgsync.status and orgsync.signing_keys';
REVOKE ALL ON signing_keys, status FROM PUBLIC;
REVOKE ALL ON FUNCTION status_at(timestamptz) FROM PUBLIC;
GRANT SELECT ON signing_keys, status, backfill_runs, backfill_progress TO orgsync_monitor;
GRANT EXECUTE ON FUNCTION status_at(timestamptz) TO orgsync_monitor;

-- Grants from default privileges, taken back ---------------------------------

-- As in 0.3.0: REVOKE ... FROM PUBLIC leaves what ALTER DEFAULT PRIVILEGES
-- granted other roles. On every function not meant for PUBLIC, and on the
-- tables holding keys and raw deliveries (invitation urls carry acceptance
-- tokens), only the owner and orgsync's own roles keep privileges. Grants on
-- the mirror tables stay as the administrator chose.
DO $$
DECLARE
    grant_row record;
BEGIN
    FOR grant_row IN
        SELECT format('%s %s', CASE p.prokind WHEN 'p' THEN 'PROCEDURE' ELSE 'FUNCTION' END, p.oid::regprocedure)
                   AS object, a.grantee
        FROM pg_catalog.pg_proc p, pg_catalog.aclexplode(p.proacl) a
        WHERE p.pronamespace = 'orgsync'::regnamespace AND a.grantee <> p.proowner
          AND NOT EXISTS (SELECT FROM pg_catalog.aclexplode(p.proacl) pa WHERE pa.grantee = 0)
        UNION
        SELECT format('TABLE %s', c.oid::regclass), a.grantee
        FROM pg_catalog.pg_class c, pg_catalog.aclexplode(c.relacl) a
        WHERE c.oid IN ('orgsync.secrets'::regclass, 'orgsync.events'::regclass, 'orgsync.backfill_seen'::regclass)
          AND a.grantee <> c.relowner
    LOOP
        CONTINUE WHEN grant_row.grantee <> 0
                  AND pg_catalog.pg_get_userbyid(grant_row.grantee) LIKE 'orgsync\_%';
        EXECUTE format('REVOKE ALL ON %s FROM %s', grant_row.object,
                       CASE WHEN grant_row.grantee = 0 THEN 'PUBLIC'
                            ELSE pg_catalog.quote_ident(pg_catalog.pg_get_userbyid(grant_row.grantee)) END);
    END LOOP;
END $$;
