\echo Use "CREATE EXTENSION orgsync" to load this file. \quit

-- Every mirror row keeps `sync_version`, the merge key of the version it shows:
-- {rank, updated_at ms, event time ms, digest}. Arrays compare element by
-- element, so `<` orders versions; rank 1 is a full Clerk object, rank 0 a
-- snapshot carried inside a membership, '{}' a row known only by its deletion.
-- `deleted_at` is set once and only ever moves earlier: deletion is final.

-- Where a row's content came from: a full Clerk object, a snapshot carried
-- inside a membership, or nothing but its deletion.
CREATE TYPE row_source AS ENUM ('event', 'membership', 'deletion');
-- What became of a recorded delivery (a duplicate is not recorded again).
CREATE TYPE delivery_status AS ENUM ('applied', 'stale', 'ignored', 'invalid');

CREATE TABLE organizations (
    id                      text PRIMARY KEY,
    name                    text,
    slug                    text,
    image_url               text,
    created_by              text,
    max_allowed_memberships integer,
    public_metadata         jsonb,
    private_metadata        jsonb,
    created_at              timestamptz,
    updated_at              timestamptz,
    deleted_at              timestamptz,
    data                    jsonb,
    source                  row_source NOT NULL,
    sync_version            bigint[] NOT NULL DEFAULT '{}'
);
CREATE INDEX ON organizations (slug);

CREATE TABLE users (
    id               text PRIMARY KEY,
    primary_email    text,
    first_name       text,
    last_name        text,
    username         text,
    image_url        text,
    external_id      text,
    public_metadata  jsonb,
    private_metadata jsonb,
    created_at       timestamptz,
    updated_at       timestamptz,
    deleted_at       timestamptz,
    data             jsonb,
    source           row_source NOT NULL,
    sync_version     bigint[] NOT NULL DEFAULT '{}'
);
CREATE INDEX ON users (primary_email);
CREATE INDEX ON users (external_id);

-- No unique (organization_id, user_id): a member removed and invited back gets
-- a new membership id, and the two can be live at once while deliveries are
-- still out of order.
CREATE TABLE memberships (
    id               text PRIMARY KEY,
    organization_id  text NOT NULL,
    user_id          text NOT NULL,
    role             text,
    permissions      text[],
    public_metadata  jsonb,
    private_metadata jsonb,
    created_at       timestamptz,
    updated_at       timestamptz,
    deleted_at       timestamptz,
    data             jsonb,
    sync_version     bigint[] NOT NULL DEFAULT '{}'
);
CREATE INDEX ON memberships (organization_id);
CREATE INDEX ON memberships (user_id, organization_id);

CREATE TABLE invitations (
    id               text PRIMARY KEY,
    organization_id  text,
    email_address    text,
    role             text,
    status           text,
    public_metadata  jsonb,
    private_metadata jsonb,
    created_at       timestamptz,
    updated_at       timestamptz,
    expires_at       timestamptz,
    data             jsonb,
    sync_version     bigint[] NOT NULL DEFAULT '{}'
);
CREATE INDEX ON invitations (organization_id);

-- One row per verified delivery, kept verbatim: nothing accepted is lost.
CREATE TABLE events (
    id          text PRIMARY KEY,              -- svix-id / webhook-id
    endpoint    text NOT NULL,
    type        text,
    status      delivery_status NOT NULL,
    error       text,
    object_id   text,
    event_time  timestamptz,
    received_at timestamptz NOT NULL DEFAULT now(),
    payload     text NOT NULL
);
CREATE INDEX ON events (received_at);
CREATE INDEX events_invalid_idx ON events (received_at) WHERE status = 'invalid';

-- Signing keys, decoded from the `whsec_...` secret. Several per endpoint
-- during a rotation. Only the extension owner reads this table.
CREATE TABLE secrets (
    endpoint text NOT NULL,
    key      bytea NOT NULL,
    added_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (endpoint, key)
);

-- Keys are cached per backend; any change to this table tells every backend
-- to drop its cache, at commit, as Postgres does for its own catalogs.
CREATE FUNCTION secrets_changed() RETURNS trigger
AS 'MODULE_PATHNAME', 'orgsync_secrets_changed'
LANGUAGE C;
CREATE TRIGGER secrets_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON secrets
FOR EACH STATEMENT EXECUTE FUNCTION secrets_changed();
REVOKE ALL ON FUNCTION secrets_changed() FROM PUBLIC;

REVOKE ALL ON ALL TABLES IN SCHEMA orgsync FROM PUBLIC;
GRANT USAGE ON SCHEMA orgsync TO PUBLIC;

-- Verification --------------------------------------------------------------

CREATE FUNCTION verify(headers jsonb, body text, secret text, at timestamptz DEFAULT now())
RETURNS boolean
AS 'MODULE_PATHNAME', 'orgsync_verify'
LANGUAGE C STRICT STABLE PARALLEL SAFE;

CREATE FUNCTION sign(secret text, delivery_id text, body text, at timestamptz DEFAULT now())
RETURNS jsonb
AS 'MODULE_PATHNAME', 'orgsync_sign'
LANGUAGE C STRICT IMMUTABLE PARALLEL SAFE;

CREATE FUNCTION secret_key(secret text)
RETURNS bytea
AS 'MODULE_PATHNAME', 'orgsync_secret_key'
LANGUAGE C IMMUTABLE PARALLEL SAFE;
REVOKE ALL ON FUNCTION secret_key(text) FROM PUBLIC;

CREATE FUNCTION add_secret(secret text, endpoint text DEFAULT 'default')
RETURNS void
LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, orgsync
AS $$
    INSERT INTO orgsync.secrets (endpoint, key)
    VALUES (endpoint, orgsync.secret_key(secret))
    ON CONFLICT DO NOTHING
$$;

CREATE FUNCTION remove_secret(secret text, endpoint text DEFAULT 'default')
RETURNS boolean
LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, orgsync
AS $$
    WITH gone AS (
        DELETE FROM orgsync.secrets s
        WHERE s.endpoint = remove_secret.endpoint AND s.key = orgsync.secret_key(secret)
        RETURNING 1)
    SELECT count(*) > 0 FROM gone
$$;
REVOKE ALL ON FUNCTION add_secret(text, text), remove_secret(text, text) FROM PUBLIC;

-- Applying events -----------------------------------------------------------
-- Every statement they run is a keyed lookup. Their plans are kept per
-- backend; one made while a table was analysed nearly empty would otherwise
-- keep sequential scans until the next autoanalyze.

CREATE FUNCTION handle_event(headers jsonb, body text, endpoint text DEFAULT 'default')
RETURNS jsonb
AS 'MODULE_PATHNAME', 'orgsync_handle_event'
LANGUAGE C VOLATILE SECURITY DEFINER SET search_path = pg_catalog, orgsync SET enable_seqscan = off;

CREATE FUNCTION apply_event(event jsonb)
RETURNS jsonb
AS 'MODULE_PATHNAME', 'orgsync_apply_event'
LANGUAGE C VOLATILE SECURITY DEFINER SET search_path = pg_catalog, orgsync SET enable_seqscan = off;
REVOKE ALL ON FUNCTION apply_event(jsonb) FROM PUBLIC;

CREATE FUNCTION replay(delivery_id text)
RETURNS jsonb
AS 'MODULE_PATHNAME', 'orgsync_replay'
LANGUAGE C VOLATILE SECURITY DEFINER SET search_path = pg_catalog, orgsync SET enable_seqscan = off;
REVOKE ALL ON FUNCTION replay(text) FROM PUBLIC;

-- Helpers for row-level security on the application's own tables -----------

CREATE FUNCTION is_member(organization_id text, user_id text)
RETURNS boolean
LANGUAGE sql STABLE PARALLEL SAFE SECURITY DEFINER SET search_path = pg_catalog, orgsync
AS $$
    SELECT EXISTS (
        SELECT 1 FROM orgsync.memberships m
        WHERE m.user_id = is_member.user_id
          AND m.organization_id = is_member.organization_id
          AND m.deleted_at IS NULL)
$$;

CREATE FUNCTION has_role(organization_id text, user_id text, role text)
RETURNS boolean
LANGUAGE sql STABLE PARALLEL SAFE SECURITY DEFINER SET search_path = pg_catalog, orgsync
AS $$
    SELECT EXISTS (
        SELECT 1 FROM orgsync.memberships m
        WHERE m.user_id = has_role.user_id
          AND m.organization_id = has_role.organization_id
          AND m.role = has_role.role
          AND m.deleted_at IS NULL)
$$;

CREATE FUNCTION user_organizations(user_id text)
RETURNS SETOF text
LANGUAGE sql STABLE PARALLEL SAFE SECURITY DEFINER SET search_path = pg_catalog, orgsync
AS $$
    SELECT m.organization_id FROM orgsync.memberships m
    WHERE m.user_id = user_organizations.user_id AND m.deleted_at IS NULL
$$;
