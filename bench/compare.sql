-- Rows that differ between the orgsync and baseline schemas after the same
-- deliveries: every column, except the digest in sync_version (the two
-- compute it differently; elements 1..3 must match) and events.received_at.
-- One row per table: table, orgsync rows, baseline rows, mismatches.
CREATE TEMP VIEW compare_keys AS
SELECT 'organizations' AS tbl, o.id, to_jsonb(o) - 'sync_version' || jsonb_build_object('v', o.sync_version[1:3]) AS row
FROM orgsync.organizations o
UNION ALL SELECT 'users', u.id, to_jsonb(u) - 'sync_version' || jsonb_build_object('v', u.sync_version[1:3]) FROM orgsync.users u
UNION ALL SELECT 'memberships', m.id, to_jsonb(m) - 'sync_version' || jsonb_build_object('v', m.sync_version[1:3]) FROM orgsync.memberships m
UNION ALL SELECT 'invitations', i.id, to_jsonb(i) - 'sync_version' || jsonb_build_object('v', i.sync_version[1:3]) FROM orgsync.invitations i
UNION ALL SELECT 'events', e.id, to_jsonb(e) - 'received_at' FROM orgsync.events e;

CREATE TEMP VIEW compare_baseline AS
SELECT 'organizations' AS tbl, o.id, to_jsonb(o) - 'sync_version' || jsonb_build_object('v', o.sync_version[1:3]) AS row
FROM baseline.organizations o
UNION ALL SELECT 'users', u.id, to_jsonb(u) - 'sync_version' || jsonb_build_object('v', u.sync_version[1:3]) FROM baseline.users u
UNION ALL SELECT 'memberships', m.id, to_jsonb(m) - 'sync_version' || jsonb_build_object('v', m.sync_version[1:3]) FROM baseline.memberships m
UNION ALL SELECT 'invitations', i.id, to_jsonb(i) - 'sync_version' || jsonb_build_object('v', i.sync_version[1:3]) FROM baseline.invitations i
UNION ALL SELECT 'events', e.id, to_jsonb(e) - 'received_at' FROM baseline.events e;

SELECT tbl AS "table", count(a.id) AS orgsync_rows, count(b.id) AS baseline_rows,
       count(*) FILTER (WHERE a.row IS DISTINCT FROM b.row) AS mismatches
FROM compare_keys a FULL JOIN compare_baseline b USING (tbl, id)
GROUP BY tbl ORDER BY tbl;
