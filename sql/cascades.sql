-- A deletion ends the memberships of its organization or user through the
-- index on their organization_id or user_id, whatever the planner's
-- statistics say. A table analysed with rows, emptied (TRUNCATE) and
-- analysed again once made a cascade read the whole table for every row it
-- ended, in a plan a session kept until the next autoanalyze.
TRUNCATE orgsync.organizations, orgsync.users, orgsync.memberships;
ALTER TABLE orgsync.memberships SET (autovacuum_enabled = off);
\set body `cat test/fixtures/clerk/organizationMembership.created.json`
CREATE TEMP TABLE member_of (org text, n int);
INSERT INTO member_of SELECT 'org_big', n FROM generate_series(1, 300) n;
INSERT INTO member_of VALUES ('org_small', 1), ('org_small', 2);
CREATE TEMP VIEW membership_created AS
SELECT jsonb_set(jsonb_set(jsonb_set(:'body'::jsonb,
         '{data,id}', to_jsonb(org || '_mem_' || n)),
         '{data,organization,id}', to_jsonb(org)),
         '{data,public_user_data,user_id}', to_jsonb(org || '_user_' || n)) AS event
FROM member_of;
SELECT count(*) AS memberships_applied
FROM membership_created, orgsync.apply_event(event) AS status WHERE status ->> 'status' = 'applied';
ANALYZE orgsync.memberships;
TRUNCATE orgsync.organizations, orgsync.users, orgsync.memberships;
ANALYZE orgsync.memberships;
\set org_deleted `cat test/fixtures/clerk/organization.deleted.json`
\set user_deleted `cat test/fixtures/clerk/user.deleted.json`
-- Deletions while the table is empty: a session that keeps plans keeps one
-- from here (after five, Postgres settles on a generic plan).
SELECT count(*) AS deletions_applied
FROM generate_series(1, 6) n,
     orgsync.apply_event(jsonb_set(:'org_deleted'::jsonb, '{data,id}', to_jsonb('org_gone_' || n))) AS o,
     orgsync.apply_event(jsonb_set(:'user_deleted'::jsonb, '{data,id}', to_jsonb('user_gone_' || n))) AS u
WHERE o ->> 'status' = 'applied' AND u ->> 'status' = 'applied';

SELECT count(*) AS memberships_applied
FROM membership_created, orgsync.apply_event(event) AS status WHERE status ->> 'status' = 'applied';

-- pg_stat_xact_user_tables counts the rows this transaction has read
BEGIN;
SELECT orgsync.apply_event(jsonb_set(:'org_deleted'::jsonb, '{data,id}', '"org_small"')) ->> 'status' AS org_small_deleted;
SELECT orgsync.apply_event(jsonb_set(:'user_deleted'::jsonb, '{data,id}', '"org_big_user_7"')) ->> 'status' AS user_deleted;
SELECT seq_tup_read AS rows_read_by_sequential_scans, idx_tup_fetch <= 12 AS only_their_rows_read
FROM pg_stat_xact_user_tables WHERE relid = 'orgsync.memberships'::regclass;
COMMIT;
SELECT id, deleted_at IS NOT NULL AS ended
FROM orgsync.memberships
WHERE organization_id = 'org_small' OR user_id = 'org_big_user_7' OR id IN ('org_big_mem_6', 'org_big_mem_8')
ORDER BY id;
ALTER TABLE orgsync.memberships RESET (autovacuum_enabled);
TRUNCATE orgsync.organizations, orgsync.users, orgsync.memberships;
