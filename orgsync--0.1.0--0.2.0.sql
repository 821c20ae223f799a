\echo Use "ALTER EXTENSION orgsync UPDATE TO '0.2.0'" to load this file. \quit

-- Many deliveries in one call and one transaction: for backfills, and for the
-- relay's group commit. One result per delivery, in array order.
CREATE FUNCTION handle_events(headers jsonb[], bodies text[], endpoint text DEFAULT 'default')
RETURNS SETOF jsonb
AS 'MODULE_PATHNAME', 'orgsync_handle_events'
LANGUAGE C VOLATILE SECURITY DEFINER SET search_path = pg_catalog, orgsync
ROWS 100;

-- The merge no longer runs planned statements (the key lookup reads a table
-- of a few rows), so no plan needs steering away from sequential scans.
ALTER FUNCTION handle_event(jsonb, text, text) RESET enable_seqscan;
ALTER FUNCTION apply_event(jsonb) RESET enable_seqscan;
ALTER FUNCTION replay(text) RESET enable_seqscan;

-- Rows and bodies of 2 kB and more are compressed as they are written; lz4
-- does it in about half of pglz's time. A server built without lz4 keeps pglz.
DO $$
BEGIN
    ALTER TABLE orgsync.events ALTER payload SET COMPRESSION lz4;
    ALTER TABLE orgsync.organizations ALTER data SET COMPRESSION lz4;
    ALTER TABLE orgsync.users ALTER data SET COMPRESSION lz4;
    ALTER TABLE orgsync.memberships ALTER data SET COMPRESSION lz4;
    ALTER TABLE orgsync.invitations ALTER data SET COMPRESSION lz4;
EXCEPTION WHEN feature_not_supported THEN
    NULL;
END $$;

-- is_member, has_role and user_organizations answer from the index alone
-- (an index-only scan, once autovacuum has marked the pages all-visible).
DROP INDEX memberships_user_id_organization_id_idx;
CREATE INDEX memberships_user_id_organization_id_idx ON memberships (user_id, organization_id)
    INCLUDE (role, deleted_at);
