-- The baseline: what one would write without the extension, in plpgsql with
-- pgcrypto. Same tables (schema `baseline`), same contract as
-- orgsync.handle_event(headers, body, endpoint):
--   * verify: svix-* (else webhook-*) headers, names without case; the
--     timestamp within 300 s of now; HMAC-SHA256 of "<id>.<timestamp>.<body>"
--     under each key of the endpoint (the base64 part of whsec_...), against
--     any of the space-separated v1 signatures, compared through a digest of
--     both sides (no early exit on the first differing byte);
--   * parse the body with ::jsonb (a body that is not JSON is recorded as
--     invalid, as orgsync does);
--   * insert the events row ON CONFLICT DO NOTHING (nothing inserted: a
--     duplicate), then guarded merge statements with the rules that
--     src/pg/statements.cpp carries out row by row, the same version key {rank, updated_at,
--     event time, digest}; the digest here is hashtextextended(data::text, 0)
--     instead of orgsync's FNV-1a of its own serialisation, so only the first
--     three elements of sync_version compare equal.
-- `source` and `status` take whatever type orgsync's columns have (%TYPE).
-- Known differences at the edges, none of them in the benchmark's payloads:
-- the error texts of some invalid bodies, and JSON numbers written as floats
-- (1e3, 1.0) where an integer is expected.
SET client_min_messages = warning;
CREATE SCHEMA baseline;
CREATE EXTENSION pgcrypto WITH SCHEMA baseline;

CREATE TABLE baseline.organizations (LIKE orgsync.organizations INCLUDING ALL);
CREATE TABLE baseline.users (LIKE orgsync.users INCLUDING ALL);
CREATE TABLE baseline.memberships (LIKE orgsync.memberships INCLUDING ALL);
CREATE TABLE baseline.invitations (LIKE orgsync.invitations INCLUDING ALL);
CREATE TABLE baseline.events (LIKE orgsync.events INCLUDING ALL);
CREATE TABLE baseline.secrets (LIKE orgsync.secrets INCLUDING ALL);

CREATE FUNCTION baseline.add_secret(secret text, endpoint text DEFAULT 'default') RETURNS void
LANGUAGE sql AS $$
  INSERT INTO baseline.secrets (endpoint, key)
  VALUES (endpoint, decode(regexp_replace(secret, '^whsec_', ''), 'base64'))
  ON CONFLICT DO NOTHING
$$;

-- Field readers, inlined by the planner. A field of the wrong type is absent.
CREATE FUNCTION baseline.str(o jsonb, k text) RETURNS text LANGUAGE sql IMMUTABLE
  RETURN CASE WHEN jsonb_typeof(o -> k) = 'string' THEN o ->> k END;
-- A string stored in an indexed column: absent when longer than 1 kB.
CREATE FUNCTION baseline.istr(o jsonb, k text) RETURNS text LANGUAGE sql IMMUTABLE
  RETURN CASE WHEN jsonb_typeof(o -> k) = 'string' AND octet_length(o ->> k) <= 1024 THEN o ->> k END;
-- Milliseconds since the epoch: a whole number in 0..1e14.
CREATE FUNCTION baseline.ms(o jsonb, k text) RETURNS bigint LANGUAGE sql IMMUTABLE
  RETURN CASE WHEN jsonb_typeof(o -> k) = 'number' AND (o ->> k) ~ '^[0-9]{1,15}$'
               AND (o ->> k)::bigint <= 100000000000000 THEN (o ->> k)::bigint END;
CREATE FUNCTION baseline.int32(o jsonb, k text) RETURNS integer LANGUAGE sql IMMUTABLE
  RETURN CASE WHEN jsonb_typeof(o -> k) = 'number' AND (o ->> k) ~ '^-?[0-9]{1,10}$'
               AND (o ->> k)::bigint BETWEEN -2147483648 AND 2147483647 THEN (o ->> k)::integer END;
CREATE FUNCTION baseline.ts(ms bigint) RETURNS timestamptz LANGUAGE sql IMMUTABLE
  RETURN 'epoch'::timestamptz + ms * interval '1 millisecond';
-- {rank, updated_at (else created_at) of `times`, event time, digest of `data`}
CREATE FUNCTION baseline.version(rank int, times jsonb, event_ms bigint, data jsonb) RETURNS bigint[]
LANGUAGE sql IMMUTABLE
  RETURN ARRAY[rank, coalesce(baseline.ms(times, 'updated_at'), baseline.ms(times, 'created_at'), 0),
               coalesce(event_ms, 0), hashtextextended(data::text, 0)];

-- Merge statements: each returns the number of rows it changed.

CREATE FUNCTION baseline.merge_organization(o jsonb, rank int, event_ms bigint) RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
  changed bigint;
  src baseline.organizations.source%TYPE := CASE WHEN rank = 1 THEN 'event' ELSE 'snapshot' END;
BEGIN
  INSERT INTO baseline.organizations AS t
      (id, name, slug, image_url, created_by, max_allowed_memberships, public_metadata,
       private_metadata, created_at, updated_at, data, source, sync_version)
  VALUES (baseline.str(o, 'id'), baseline.str(o, 'name'), baseline.istr(o, 'slug'),
          baseline.str(o, 'image_url'), baseline.str(o, 'created_by'),
          baseline.int32(o, 'max_allowed_memberships'),
          NULLIF(o -> 'public_metadata', 'null'), NULLIF(o -> 'private_metadata', 'null'),
          baseline.ts(baseline.ms(o, 'created_at')), baseline.ts(baseline.ms(o, 'updated_at')), o,
          src, baseline.version(rank, o, event_ms, o))
  ON CONFLICT (id) DO UPDATE SET
      name = excluded.name, slug = excluded.slug, image_url = excluded.image_url,
      created_by = excluded.created_by, max_allowed_memberships = excluded.max_allowed_memberships,
      public_metadata = excluded.public_metadata, private_metadata = excluded.private_metadata,
      created_at = excluded.created_at, updated_at = excluded.updated_at, data = excluded.data,
      source = excluded.source, sync_version = excluded.sync_version
  WHERE t.sync_version < excluded.sync_version;
  GET DIAGNOSTICS changed = ROW_COUNT;
  RETURN changed;
END $$;

-- A full user (source 'event'), or the snapshot a membership carries (source
-- 'snapshot', rank 0, versioned by the membership).
CREATE FUNCTION baseline.merge_user(u jsonb, event_ms bigint, membership jsonb DEFAULT NULL) RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
  changed bigint;
  snapshot boolean := membership IS NOT NULL;
  src baseline.users.source%TYPE := CASE WHEN membership IS NOT NULL THEN 'snapshot' ELSE 'event' END;
  identifier text;
BEGIN
  IF snapshot THEN
    identifier := baseline.istr(u, 'identifier');
    IF strpos(identifier, '@') = 0 THEN identifier := NULL; END IF;
  END IF;
  INSERT INTO baseline.users AS t
      (id, primary_email, first_name, last_name, username, image_url, external_id, banned, locked,
       last_sign_in_at, public_metadata, private_metadata, created_at, updated_at, data, source, sync_version)
  VALUES (
      CASE WHEN snapshot THEN baseline.str(u, 'user_id') ELSE baseline.str(u, 'id') END,
      CASE WHEN snapshot THEN identifier ELSE
        (SELECT baseline.istr(a, 'email_address')
         FROM jsonb_array_elements(CASE WHEN jsonb_typeof(u -> 'email_addresses') = 'array'
                                        THEN u -> 'email_addresses' END) a
         WHERE baseline.str(a, 'id') = baseline.str(u, 'primary_email_address_id') LIMIT 1) END,
      baseline.str(u, 'first_name'), baseline.str(u, 'last_name'),
      baseline.str(u, 'username'), baseline.str(u, 'image_url'),
      CASE WHEN NOT snapshot THEN baseline.istr(u, 'external_id') END,
      (u -> 'banned')::boolean, CASE WHEN NOT snapshot THEN (u -> 'locked')::boolean END,
      CASE WHEN NOT snapshot THEN baseline.ts(baseline.ms(u, 'last_sign_in_at')) END,
      NULLIF(u -> 'public_metadata', 'null'), NULLIF(u -> 'private_metadata', 'null'),
      CASE WHEN NOT snapshot THEN baseline.ts(baseline.ms(u, 'created_at')) END,
      CASE WHEN NOT snapshot THEN baseline.ts(baseline.ms(u, 'updated_at')) END,
      u, src,
      CASE WHEN snapshot THEN baseline.version(0, membership, event_ms, u)
           ELSE baseline.version(1, u, event_ms, u) END)
  ON CONFLICT (id) DO UPDATE SET
      primary_email = excluded.primary_email, first_name = excluded.first_name,
      last_name = excluded.last_name, username = excluded.username, image_url = excluded.image_url,
      external_id = excluded.external_id, banned = excluded.banned, locked = excluded.locked,
      last_sign_in_at = excluded.last_sign_in_at, public_metadata = excluded.public_metadata,
      private_metadata = excluded.private_metadata, created_at = excluded.created_at,
      updated_at = excluded.updated_at, data = excluded.data, source = excluded.source,
      sync_version = excluded.sync_version
  WHERE t.sync_version < excluded.sync_version;
  GET DIAGNOSTICS changed = ROW_COUNT;
  RETURN changed;
END $$;

-- Organization snapshot, member snapshot, then the membership (born ended if
-- its organization or user is already deleted); a deletion also ends it.
CREATE FUNCTION baseline.merge_membership(m jsonb, event_ms bigint, deleted boolean) RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
  changed bigint;
  total bigint;
  mem_id text := baseline.str(m, 'id');
  org_id text := baseline.str(m -> 'organization', 'id');
  usr_id text := baseline.str(m -> 'public_user_data', 'user_id');
  ended_at timestamptz := CASE WHEN deleted THEN baseline.ts(event_ms) END;
BEGIN
  total := baseline.merge_organization(m -> 'organization', 0, event_ms)
         + baseline.merge_user(m -> 'public_user_data', event_ms, m);
  INSERT INTO baseline.memberships AS t
      (id, organization_id, user_id, role, role_name, permissions, public_metadata, private_metadata,
       created_at, updated_at, deleted_at, data, sync_version)
  VALUES (mem_id, org_id, usr_id, baseline.str(m, 'role'), baseline.str(m, 'role_name'),
          ARRAY(SELECT p #>> '{}'
                FROM jsonb_array_elements(CASE WHEN jsonb_typeof(m -> 'permissions') = 'array'
                                               THEN m -> 'permissions' END) p
                WHERE jsonb_typeof(p) = 'string'),
          NULLIF(m -> 'public_metadata', 'null'), NULLIF(m -> 'private_metadata', 'null'),
          baseline.ts(baseline.ms(m, 'created_at')), baseline.ts(baseline.ms(m, 'updated_at')),
          LEAST(ended_at, (SELECT o.deleted_at FROM baseline.organizations o WHERE o.id = org_id),
                          (SELECT u.deleted_at FROM baseline.users u WHERE u.id = usr_id)),
          m, baseline.version(1, m, event_ms, m))
  ON CONFLICT (id) DO UPDATE SET
      organization_id = excluded.organization_id, user_id = excluded.user_id, role = excluded.role,
      role_name = excluded.role_name, permissions = excluded.permissions, public_metadata = excluded.public_metadata,
      private_metadata = excluded.private_metadata, created_at = excluded.created_at,
      updated_at = excluded.updated_at, deleted_at = LEAST(t.deleted_at, excluded.deleted_at),
      data = excluded.data, sync_version = excluded.sync_version
  WHERE t.sync_version < excluded.sync_version;
  GET DIAGNOSTICS changed = ROW_COUNT;
  total := total + changed;
  IF deleted THEN
    UPDATE baseline.memberships AS t SET deleted_at = ended_at
    WHERE t.id = mem_id AND (t.deleted_at IS NULL OR t.deleted_at > ended_at);
    GET DIAGNOSTICS changed = ROW_COUNT;
    total := total + changed;
  END IF;
  RETURN total;
END $$;

CREATE FUNCTION baseline.merge_invitation(i jsonb, event_ms bigint) RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE changed bigint;
BEGIN
  INSERT INTO baseline.invitations AS t
      (id, organization_id, email_address, role, status, public_metadata, private_metadata,
       created_at, updated_at, expires_at, data, sync_version)
  VALUES (baseline.str(i, 'id'), baseline.istr(i, 'organization_id'), baseline.str(i, 'email_address'),
          baseline.str(i, 'role'), baseline.str(i, 'status'),
          NULLIF(i -> 'public_metadata', 'null'), NULLIF(i -> 'private_metadata', 'null'),
          baseline.ts(baseline.ms(i, 'created_at')), baseline.ts(baseline.ms(i, 'updated_at')),
          baseline.ts(baseline.ms(i, 'expires_at')), i, baseline.version(1, i, event_ms, i))
  ON CONFLICT (id) DO UPDATE SET
      organization_id = excluded.organization_id, email_address = excluded.email_address,
      role = excluded.role, status = excluded.status, public_metadata = excluded.public_metadata,
      private_metadata = excluded.private_metadata, created_at = excluded.created_at,
      updated_at = excluded.updated_at, expires_at = excluded.expires_at, data = excluded.data,
      sync_version = excluded.sync_version
  WHERE t.sync_version < excluded.sync_version;
  GET DIAGNOSTICS changed = ROW_COUNT;
  RETURN changed;
END $$;

-- A tombstone (deleted_at only moves earlier), then the memberships end,
-- locked in id order.
CREATE FUNCTION baseline.merge_deletion(family text, object_id text, event_ms bigint) RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
  changed bigint;
  total bigint;
  at timestamptz := baseline.ts(event_ms);
BEGIN
  IF family = 'organization' THEN
    INSERT INTO baseline.organizations AS t (id, deleted_at, source) VALUES (object_id, at, 'deletion')
    ON CONFLICT (id) DO UPDATE SET deleted_at = excluded.deleted_at
    WHERE t.deleted_at IS NULL OR t.deleted_at > excluded.deleted_at;
    GET DIAGNOSTICS total = ROW_COUNT;
    UPDATE baseline.memberships AS m SET deleted_at = at
    FROM (SELECT e.id FROM baseline.memberships e
          WHERE e.organization_id = object_id AND (e.deleted_at IS NULL OR e.deleted_at > at)
          ORDER BY e.id FOR UPDATE) AS ending
    WHERE m.id = ending.id;
  ELSE
    INSERT INTO baseline.users AS t (id, deleted_at, source) VALUES (object_id, at, 'deletion')
    ON CONFLICT (id) DO UPDATE SET deleted_at = excluded.deleted_at
    WHERE t.deleted_at IS NULL OR t.deleted_at > excluded.deleted_at;
    GET DIAGNOSTICS total = ROW_COUNT;
    UPDATE baseline.memberships AS m SET deleted_at = at
    FROM (SELECT e.id FROM baseline.memberships e
          WHERE e.user_id = object_id AND (e.deleted_at IS NULL OR e.deleted_at > at)
          ORDER BY e.id FOR UPDATE) AS ending
    WHERE m.id = ending.id;
  END IF;
  GET DIAGNOSTICS changed = ROW_COUNT;
  RETURN total + changed;
END $$;

CREATE FUNCTION baseline.handle_event(headers jsonb, body text, endpoint text DEFAULT 'default')
RETURNS jsonb
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, baseline
AS $$
DECLARE
  h jsonb := headers;
  delivery_id text;
  signed_at text;
  signatures text;
  keys bytea[];
  key bytea;
  message bytea;
  expected bytea;
  candidate text;
  verified boolean := false;
  now_s bigint := floor(extract(epoch FROM clock_timestamp()));
  event jsonb;
  data jsonb;
  type text;
  object_id text;
  event_ms bigint;
  raw_ms numeric;
  family text;
  status text;
  recorded baseline.events.status%TYPE;
  error text;
  changed bigint;
BEGIN
  -- Header names are case-insensitive; HTTP stacks mostly hand them lowercased.
  IF NOT (h ?& ARRAY['svix-id', 'svix-timestamp', 'svix-signature']) THEN
    SELECT jsonb_object_agg(lower(e.key), e.value) INTO h FROM jsonb_each(headers) e;
  END IF;
  delivery_id := coalesce(str(h, 'svix-id'), str(h, 'webhook-id'));
  signed_at := coalesce(str(h, 'svix-timestamp'), str(h, 'webhook-timestamp'));
  signatures := coalesce(str(h, 'svix-signature'), str(h, 'webhook-signature'));

  keys := ARRAY(SELECT s.key FROM baseline.secrets s WHERE s.endpoint = handle_event.endpoint);
  IF cardinality(keys) = 0 THEN
    RAISE EXCEPTION 'baseline: no signing secret for endpoint "%"', endpoint USING ERRCODE = '55000';
  END IF;
  IF coalesce(delivery_id, '') = '' OR coalesce(signed_at, '') = '' OR coalesce(signatures, '') = '' THEN
    RAISE EXCEPTION 'baseline: webhook delivery not verified: missing header' USING ERRCODE = '28000';
  END IF;
  IF octet_length(delivery_id) > 256 THEN
    RAISE EXCEPTION 'baseline: delivery id is longer than 256 bytes' USING ERRCODE = '22023';
  END IF;
  IF signed_at !~ '^[0-9]{1,18}$' THEN
    RAISE EXCEPTION 'baseline: webhook delivery not verified: malformed timestamp' USING ERRCODE = '28000';
  END IF;
  IF abs(signed_at::bigint - now_s) > 300 THEN
    RAISE EXCEPTION 'baseline: webhook delivery not verified: timestamp out of tolerance' USING ERRCODE = '28000';
  END IF;
  message := convert_to(delivery_id || '.' || signed_at || '.' || body, 'UTF8');
  FOREACH key IN ARRAY keys LOOP
    expected := digest('v1,' || encode(hmac(message, key, 'sha256'), 'base64'), 'sha256');
    FOREACH candidate IN ARRAY string_to_array(signatures, ' ') LOOP
      IF digest(candidate, 'sha256') = expected THEN verified := true; END IF;
    END LOOP;
  END LOOP;
  IF NOT verified THEN
    RAISE EXCEPTION 'baseline: webhook delivery not verified: no signature matches' USING ERRCODE = '28000';
  END IF;

  -- Plan: what the event is, and whether it can be applied.
  BEGIN
    event := body::jsonb;
  EXCEPTION WHEN invalid_text_representation OR untranslatable_character OR program_limit_exceeded
                 OR statement_too_complex OR numeric_value_out_of_range THEN
    error := 'body is not valid JSON: ' || SQLERRM;
  END;
  event_ms := signed_at::bigint * 1000;
  IF error IS NULL AND jsonb_typeof(event) <> 'object' THEN
    error := 'body is not a JSON object';
  ELSIF error IS NULL THEN
    type := str(event, 'type');
    data := event -> 'data';
    IF jsonb_typeof(data) = 'object' THEN object_id := str(data, 'id'); END IF;
    IF jsonb_typeof(event -> 'timestamp') = 'number' AND (event ->> 'timestamp') ~ '^[0-9]{1,19}$' THEN
      raw_ms := (event ->> 'timestamp')::numeric;
      IF raw_ms < 100000000000 THEN raw_ms := raw_ms * 1000; END IF;
      IF raw_ms <= 100000000000000 THEN event_ms := raw_ms; END IF;
    END IF;
    family := split_part(type, '.', 1);
    IF type IS NULL THEN
      error := '"type" is missing or not a string';
    ELSIF type NOT IN ('organization.created', 'organization.updated', 'organization.deleted',
                       'user.created', 'user.updated', 'user.deleted',
                       'organizationMembership.created', 'organizationMembership.updated',
                       'organizationMembership.deleted')
          AND family <> 'organizationInvitation' THEN
      status := 'ignored';
    ELSIF jsonb_typeof(data) IS DISTINCT FROM 'object' THEN
      error := '"data" is missing or not an object';
    ELSIF family = 'organizationMembership' THEN
      IF jsonb_typeof(data -> 'organization') IS DISTINCT FROM 'object' THEN
        error := 'data.organization is missing or not an object';
      ELSIF jsonb_typeof(data -> 'public_user_data') IS DISTINCT FROM 'object' THEN
        error := 'data.public_user_data is missing or not an object';
      ELSIF coalesce(str(data, 'id'), '') = '' THEN
        error := 'membership id is missing or not a string';
      ELSIF coalesce(str(data -> 'organization', 'id'), '') = '' THEN
        error := 'data.organization.id is missing or not a string';
      ELSIF coalesce(str(data -> 'public_user_data', 'user_id'), '') = '' THEN
        error := 'public_user_data.user_id is missing or not a string';
      END IF;
    ELSIF coalesce(str(data, 'id'), '') = '' THEN
      error := family || ' id is missing or not a string';
    END IF;
    IF error IS NULL AND status IS NULL AND greatest(octet_length(str(data, 'id')), octet_length(str(data -> 'organization', 'id')),
                                                     octet_length(str(data -> 'public_user_data', 'user_id'))) > 256 THEN
      error := 'an id is longer than 256 bytes';
    END IF;
  END IF;
  status := CASE WHEN error IS NOT NULL THEN 'invalid' ELSE coalesce(status, 'applied') END;
  recorded := status;

  -- Record the delivery once by its id; a repeat changes nothing.
  INSERT INTO baseline.events (id, endpoint, type, status, error, object_id, event_time, payload)
  VALUES (delivery_id, endpoint, type, recorded, error, object_id, ts(event_ms), body)
  ON CONFLICT (id) DO NOTHING;
  IF NOT FOUND THEN
    status := 'duplicate';
  ELSIF status = 'applied' THEN
    changed := CASE
      WHEN type IN ('organization.created', 'organization.updated') THEN merge_organization(data, 1, event_ms)
      WHEN type IN ('user.created', 'user.updated') THEN merge_user(data, event_ms)
      WHEN type = 'organization.deleted' THEN merge_deletion('organization', object_id, event_ms)
      WHEN type = 'user.deleted' THEN merge_deletion('user', object_id, event_ms)
      WHEN family = 'organizationMembership' THEN
        merge_membership(data, event_ms, type = 'organizationMembership.deleted')
      ELSE merge_invitation(data, event_ms) END;
    IF changed = 0 THEN
      status := 'stale';
      UPDATE baseline.events e SET status = 'stale' WHERE e.id = delivery_id;
    END IF;
  END IF;
  RETURN jsonb_strip_nulls(jsonb_build_object('status', status, 'delivery_id', delivery_id, 'type', type,
                                              'object_id', object_id, 'error', error));
END $$;
