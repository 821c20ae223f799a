-- The RLS benchmark's data: 10,000 organizations (hotels) of 5 members each,
-- 1,000,000 bookings (100 per hotel), and the benchmark's user, a member of
-- 3 hotels. The mirror rows are inserted directly, as the merge leaves them:
-- this benchmark reads them.
\set ON_ERROR_STOP on
CREATE EXTENSION orgsync;

INSERT INTO orgsync.organizations (id, name, source)
SELECT format('org_%s', lpad(i::text, 5, '0')), format('Hotel %s', i), 'event'
FROM generate_series(1, 10000) i;
INSERT INTO orgsync.users (id, source)
SELECT format('user_%s', lpad(i::text, 5, '0')), 'event'::orgsync.row_source FROM generate_series(1, 20000) i
UNION ALL SELECT 'user_bench', 'event';
INSERT INTO orgsync.memberships (id, organization_id, user_id, role)
SELECT format('orgmem_%s_%s', o, k), format('org_%s', lpad(o::text, 5, '0')),
       format('user_%s', lpad((((o - 1) * 5 + k) % 20000 + 1)::text, 5, '0')), 'org:member'
FROM generate_series(1, 10000) o, generate_series(1, 5) k
UNION ALL
SELECT format('orgmem_bench_%s', o), format('org_%s', lpad(o::text, 5, '0')), 'user_bench', 'org:admin'
FROM unnest(ARRAY[42, 4242, 9999]) o;

CREATE SCHEMA bench;
CREATE TABLE bench.bookings (
    id       bigint PRIMARY KEY,
    hotel_id text NOT NULL REFERENCES orgsync.organizations (id),
    guest    text NOT NULL,
    nights   integer NOT NULL
);
INSERT INTO bench.bookings
SELECT i, format('org_%s', lpad(((i - 1) % 10000 + 1)::text, 5, '0')), format('guest %s', i), 1 + i % 7
FROM generate_series(1, 1000000) i;
CREATE INDEX ON bench.bookings (hotel_id);
ALTER TABLE bench.bookings ENABLE ROW LEVEL SECURITY;

CREATE ROLE bench_app IN ROLE orgsync_app;
GRANT USAGE ON SCHEMA bench TO bench_app;
GRANT SELECT ON bench.bookings TO bench_app;
VACUUM ANALYZE;
