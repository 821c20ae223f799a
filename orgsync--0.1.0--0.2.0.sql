\echo Use "ALTER EXTENSION orgsync UPDATE TO '0.2.0'" to load this file. \quit

-- Many deliveries in one call and one transaction: for backfills, and for the
-- relay's group commit. One result per delivery, in array order.
CREATE FUNCTION handle_events(headers jsonb[], bodies text[], endpoint text DEFAULT 'default')
RETURNS SETOF jsonb
AS 'MODULE_PATHNAME', 'orgsync_handle_events'
LANGUAGE C VOLATILE SECURITY DEFINER SET search_path = pg_catalog, orgsync SET enable_seqscan = off
ROWS 100;
