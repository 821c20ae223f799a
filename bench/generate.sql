-- Realistic Clerk payloads for the benchmarks, built in SQL from the captured
-- samples in test/fixtures/clerk (run psql from the repository root).
--
--   bench.payload(type, obj, step, t_ms, created_ms, updated_ms, org, usr)
--       one event body (jsonb) of one object at one step of its life
--   bench.history(events)        a Clerk history of about `events` events
--   bench.deliveries(total, dup_fraction)
--       that history as deliveries (n, id, body), shuffled, with duplicates
--   bench.sign_deliveries(source, secret)
--       (re)creates bench_deliveries(n, headers, body), signed now
--
-- Each object's updated_at strictly increases and every event has its own
-- timestamp, so no two versions of an object tie on {rank, updated_at,
-- event_time}: the final state never depends on the digest.
SET client_min_messages = warning;
CREATE SCHEMA bench;

-- Timed runs (bench/timed.sql).
CREATE TABLE bench.runs (part text, label text, run int, rows bigint, seconds float8, cpu_seconds float8,
                         wait_seconds float8, lsn0 pg_lsn, lsn1 pg_lsn);

\set t_user `cat test/fixtures/clerk/received_2024/user.created.json`
\set t_org `cat test/fixtures/clerk/received_2024/organization.created.json`
\set t_mem `cat test/fixtures/clerk/received_2024/organizationMembership.created.json`
\set t_user_deleted `cat test/fixtures/clerk/user.deleted.json`
\set t_org_deleted `cat test/fixtures/clerk/organization.deleted.json`
CREATE TABLE bench.templates (kind text PRIMARY KEY, body jsonb NOT NULL);
INSERT INTO bench.templates VALUES
  ('user', :'t_user'), ('organization', :'t_org'), ('membership', :'t_mem'),
  ('user.deleted', :'t_user_deleted'), ('organization.deleted', :'t_org_deleted');

-- Ids as long as Clerk's.
CREATE FUNCTION bench.user_id(u bigint) RETURNS text LANGUAGE sql IMMUTABLE
  RETURN 'user_2o' || lpad(u::text, 25, '0');
CREATE FUNCTION bench.org_id(o bigint) RETURNS text LANGUAGE sql IMMUTABLE
  RETURN 'org_2o' || lpad(o::text, 25, '0');
CREATE FUNCTION bench.membership_id(m bigint) RETURNS text LANGUAGE sql IMMUTABLE
  RETURN 'orgmem_2o' || lpad(m::text, 25, '0');

-- The body of one event. `step` numbers the versions of the object (0 at
-- creation); a deletion of a membership repeats its last step.
CREATE FUNCTION bench.payload(type text, obj bigint, step int, t_ms bigint, created_ms bigint,
                              updated_ms bigint, org bigint DEFAULT NULL, usr bigint DEFAULT NULL)
RETURNS jsonb LANGUAGE plpgsql STABLE AS $$
DECLARE
  family text := split_part(type, '.', 1);
  tpl jsonb;
  data jsonb;
  email jsonb;
BEGIN
  IF type IN ('user.deleted', 'organization.deleted') THEN
    tpl := (SELECT body FROM bench.templates WHERE kind = type) - 'instance_id';
    data := jsonb_build_object('object', family, 'deleted', true,
              'id', CASE family WHEN 'user' THEN bench.user_id(obj) ELSE bench.org_id(obj) END);
    data := data || CASE family WHEN 'user' THEN jsonb_build_object('external_id', 'ext_' || obj)
                                ELSE jsonb_build_object('slug', 'org-' || obj || '-v' || step) END;
  ELSIF family = 'user' THEN
    tpl := (SELECT body FROM bench.templates WHERE kind = 'user');
    email := tpl #> '{data,email_addresses,0}';
    -- From the first update on, a second address that becomes the primary one.
    data := tpl -> 'data' || jsonb_build_object(
      'id', bench.user_id(obj), 'first_name', 'First' || obj, 'last_name', 'Last' || obj || 'v' || step,
      'username', 'user' || obj, 'external_id', CASE WHEN obj % 3 = 0 THEN 'ext_' || obj END,
      'created_at', created_ms, 'updated_at', updated_ms, 'last_active_at', updated_ms,
      'last_sign_in_at', updated_ms,
      'primary_email_address_id', 'idn_2o' || lpad(obj::text, 22, '0') || least(step, 1));
    email := email || jsonb_build_object('id', 'idn_2o' || lpad(obj::text, 22, '0') || '0',
               'email_address', 'user' || obj || '@example.com', 'created_at', created_ms, 'updated_at', created_ms);
    data := jsonb_set(data, '{email_addresses}', CASE WHEN step = 0 THEN jsonb_build_array(email) ELSE
              jsonb_build_array(email, email || jsonb_build_object('id', 'idn_2o' || lpad(obj::text, 22, '0') || '1',
                                                                   'email_address', 'user' || obj || '.work@example.com')) END);
  ELSIF family = 'organization' THEN
    tpl := (SELECT body FROM bench.templates WHERE kind = 'organization');
    data := tpl -> 'data' || jsonb_build_object(
      'id', bench.org_id(obj), 'name', 'Organization ' || obj || ' v' || step,
      'slug', 'org-' || obj || '-v' || step, 'created_by', bench.user_id(coalesce(usr, obj)),
      'max_allowed_memberships', 5 + step, 'created_at', created_ms, 'updated_at', updated_ms);
  ELSE
    tpl := (SELECT body FROM bench.templates WHERE kind = 'membership');
    data := tpl -> 'data' || jsonb_build_object(
      'id', bench.membership_id(obj),
      'role', CASE WHEN step % 2 = 0 THEN 'org:member' ELSE 'org:admin' END,
      'role_name', CASE WHEN step % 2 = 0 THEN 'Member' ELSE 'Admin' END,
      'permissions', CASE WHEN step % 2 = 0 THEN '["org:sys_memberships:read"]'::jsonb
                          ELSE tpl #> '{data,permissions}' END,
      'created_at', created_ms, 'updated_at', updated_ms,
      'organization', tpl #> '{data,organization}' || jsonb_build_object(
        'id', bench.org_id(org), 'name', 'Organization ' || org, 'slug', 'org-' || org,
        'created_at', created_ms - 1000, 'updated_at', created_ms - 1000),
      'public_user_data', tpl #> '{data,public_user_data}' || jsonb_build_object(
        'user_id', bench.user_id(usr), 'first_name', 'First' || usr, 'last_name', 'Last' || usr,
        'identifier', 'user' || usr || '@example.com'));
  END IF;
  RETURN tpl || jsonb_build_object('type', type, 'timestamp', t_ms, 'data', data);
END $$;

-- A Clerk history: users, organizations and memberships created, updated and
-- deleted, in Clerk's order (seq). Proportions of the events: users 20% created,
-- 10% updated, 1% deleted; organizations 4%, 4%, 0.5%; memberships 40%, 12%, 8%.
CREATE FUNCTION bench.history(events int)
RETURNS TABLE (seq int, type text, obj bigint, step int, t_ms bigint, created_ms bigint,
               updated_ms bigint, org bigint, usr bigint)
LANGUAGE sql AS $$
WITH sizes AS (
  SELECT greatest(1, events / 5) AS users, greatest(1, events / 25) AS orgs,
         greatest(1, events * 2 / 5) AS memberships),
objects AS (  -- r0: creation instant in [0, 0.7); deleted: 1 in 20 users, 1 in 8 orgs, 1 in 5 memberships
  SELECT 'user' AS family, g::bigint AS obj, random() * 0.7 AS r0, g % 20 = 7 AS deleted,
         NULL::bigint AS org, NULL::bigint AS usr
  FROM sizes, generate_series(1, users) g
  UNION ALL
  SELECT 'organization', g, random() * 0.7, g % 8 = 3, NULL, 1 + floor(random() * users)::bigint
  FROM sizes, generate_series(1, orgs) g
  UNION ALL
  SELECT 'organizationMembership', g, random() * 0.7, g % 5 = 2,
         1 + floor(random() * orgs)::bigint, 1 + floor(random() * users)::bigint
  FROM sizes, generate_series(1, memberships) g),
lives AS (    -- the deletion instant, when there is one
  SELECT o.*, CASE WHEN deleted THEN r0 + (1 - r0) * random() END AS r_end FROM objects o),
picks AS (    -- which objects get updates: users 10%, orgs 4%, memberships 12% of the events
  SELECT 'user' AS family, 1 + floor(random() * users)::bigint AS obj FROM sizes, generate_series(1, events / 10)
  UNION ALL
  SELECT 'organization', 1 + floor(random() * orgs)::bigint FROM sizes, generate_series(1, events / 25)
  UNION ALL
  SELECT 'organizationMembership', 1 + floor(random() * memberships)::bigint
  FROM sizes, generate_series(1, events * 3 / 25)),
raw AS (
  SELECT family, obj, 'created' AS what, r0 AS r, org, usr FROM lives
  UNION ALL
  SELECT family, obj, 'updated', r0 + (coalesce(r_end, 1) - r0) * random(), org, usr
  FROM picks JOIN lives USING (family, obj)
  UNION ALL
  SELECT family, obj, 'deleted', r_end, org, usr FROM lives WHERE deleted),
timed AS (    -- one second of Clerk time between events
  SELECT *, (row_number() OVER (ORDER BY r))::int AS seq,
         1730000000000 + 1000 * row_number() OVER (ORDER BY r) AS t_ms,
         (row_number() OVER (PARTITION BY family, obj ORDER BY r) - 1)::int AS step
  FROM raw),
versioned AS (
  SELECT *, min(t_ms) OVER (PARTITION BY family, obj) - 7 AS created_ms,
         lag(t_ms) OVER (PARTITION BY family, obj ORDER BY r) - 3 AS previous_updated_ms
  FROM timed)
SELECT seq, family || '.' || what, obj,
       CASE WHEN what = 'deleted' THEN step - 1 ELSE step END,
       t_ms, created_ms,
       CASE WHEN what = 'deleted' THEN previous_updated_ms ELSE t_ms - 3 END,
       org, usr
FROM versioned
$$;

-- `total` deliveries of a history, unsigned: a fraction `dup_fraction` of
-- them repeat an earlier delivery (same svix-id and body), all shuffled.
CREATE FUNCTION bench.deliveries(total int, dup_fraction float8)
RETURNS TABLE (n int, id text, body text)
LANGUAGE sql AS $$
WITH events AS (
  SELECT h.seq, 'msg_2o' || lpad(h.seq::text, 25, '0') AS id,
         bench.payload(h.type, h.obj, h.step, h.t_ms, h.created_ms, h.updated_ms, h.org, h.usr)::text AS body
  FROM bench.history(round(total * (1 - dup_fraction))::int) h),
unique_count AS (SELECT count(*)::int AS c FROM events),
repeats AS (
  SELECT e.* FROM unique_count,
    LATERAL (SELECT 1 + floor(random() * c)::int AS seq FROM generate_series(1, total - c)) p
    JOIN events e USING (seq)),
everything AS (SELECT * FROM events UNION ALL SELECT * FROM repeats)
SELECT (row_number() OVER (ORDER BY random()))::int, id, body FROM everything
$$;

-- bench_deliveries(n, headers, body): `source` (n, id, body) signed now, in n order.
CREATE FUNCTION bench.sign_deliveries(source regclass, secret text) RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE signed bigint;
BEGIN
  DROP TABLE IF EXISTS public.bench_deliveries;
  EXECUTE format('CREATE TABLE public.bench_deliveries AS
                  SELECT n, orgsync.sign(%L, id, body) AS headers, body FROM %s ORDER BY n', secret, source);
  GET DIAGNOSTICS signed = ROW_COUNT;
  ALTER TABLE public.bench_deliveries ADD PRIMARY KEY (n);
  RETURN signed;
END $$;

-- Timed runs grouped: medians (and extremes) per delivery, wall and backend CPU.
CREATE VIEW bench.summary AS
SELECT part, label, count(*) AS runs, min(lsn0) AS first_lsn,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY seconds) AS seconds,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY cpu_seconds) AS cpu_seconds,
       format('%s (%s-%s)', round(percentile_cont(0.5) WITHIN GROUP (ORDER BY seconds * 1e6 / rows)),
              round(min(seconds * 1e6 / rows)), round(max(seconds * 1e6 / rows))) AS wall_us,
       format('%s (%s-%s)', round(percentile_cont(0.5) WITHIN GROUP (ORDER BY cpu_seconds * 1e6 / rows)),
              round(min(cpu_seconds * 1e6 / rows)), round(max(cpu_seconds * 1e6 / rows))) AS cpu_us,
       round(percentile_cont(0.5) WITHIN GROUP (ORDER BY cpu_seconds * 1e6 / rows)) AS cpu_us_median,
       round(100 * sum(wait_seconds) / sum(seconds)) AS waited_pct,
       round(percentile_cont(0.5) WITHIN GROUP (ORDER BY pg_wal_lsn_diff(lsn1, lsn0) / rows)) AS wal_bytes
FROM bench.runs GROUP BY part, label;
