-- Included by sql/upgrade.sql in each database where it compares an install
-- of orgsync with a fresh one: views and functions over the catalogs, all
-- temporary, that keep working whatever objects a version adds.
--   schema_description (kind, name, detail): everything schema orgsync and
--     the extension have, one row per object or column, detail as text.
--   schema_rows (tbl, row): every row of orgsync's tables as jsonb, without
--     the columns that hold the time of writing (timestamptz with a
--     default, and when a key last verified a delivery), which differ
--     between two databases by nature.
--   pg_temp.schema_difference(fresh), pg_temp.rows_difference(fresh): the
--     rows of those views that are here and not in `fresh` (the same view's
--     rows in the fresh database, as jsonb), and the other way round.
--   pg_temp.deliver(secret, bodies): signs each body (delivery ids msg_sample_1,
--     2, ...) and hands them all to orgsync.handle_events.

CREATE TEMP VIEW schema_description (kind, name, detail) AS
WITH ns AS (SELECT 'orgsync'::regnamespace AS oid),
ext AS (SELECT e.* FROM pg_extension e WHERE e.extname = 'orgsync'),
rel AS (SELECT c.* FROM pg_class c, ns WHERE c.relnamespace = ns.oid AND c.relkind <> 'i')
SELECT 'schema', n.nspname::text,
       jsonb_build_object('owner', pg_get_userbyid(n.nspowner), 'acl', n.nspacl::text[],
                          'comment', obj_description(n.oid, 'pg_namespace'))::text
FROM pg_namespace n, ns WHERE n.oid = ns.oid
UNION ALL
SELECT 'extension', ext.extname::text,
       jsonb_build_object('version', ext.extversion, 'schema', ext.extnamespace::regnamespace::text,
                          'owner', pg_get_userbyid(ext.extowner), 'relocatable', ext.extrelocatable,
                          'config', ext.extconfig::regclass[]::text[], 'conditions', ext.extcondition,
                          'comment', obj_description(ext.oid, 'pg_extension'))::text
FROM ext
UNION ALL
-- every object the extension owns, of any kind
SELECT 'member', pg_describe_object(d.classid, d.objid, d.objsubid), d.deptype::text
FROM pg_depend d, ext
WHERE d.refclassid = 'pg_extension'::regclass AND d.refobjid = ext.oid
UNION ALL
SELECT 'relation', rel.relname::text,
       jsonb_build_object('kind', rel.relkind, 'persistence', rel.relpersistence, 'options', rel.reloptions,
                          'access method', (SELECT amname FROM pg_am WHERE oid = rel.relam),
                          'row security', rel.relrowsecurity, 'forced', rel.relforcerowsecurity,
                          'replica identity', rel.relreplident, 'owner', pg_get_userbyid(rel.relowner),
                          'acl', rel.relacl::text[], 'tablespace', rel.reltablespace,
                          'partition of', (SELECT inhparent::regclass::text FROM pg_inherits WHERE inhrelid = rel.oid),
                          'partition bound', pg_get_expr(rel.relpartbound, rel.oid))::text
FROM rel
UNION ALL
SELECT 'column', rel.relname || '.' || a.attname,
       jsonb_build_object('position', row_number() OVER (PARTITION BY rel.oid ORDER BY a.attnum),
                          'type', format_type(a.atttypid, a.atttypmod), 'not null', a.attnotnull,
                          'default', pg_get_expr(ad.adbin, ad.adrelid), 'identity', a.attidentity,
                          'generated', a.attgenerated, 'storage', a.attstorage, 'compression', a.attcompression,
                          'collation', (SELECT collname FROM pg_collation WHERE oid = a.attcollation),
                          'statistics', a.attstattarget, 'acl', a.attacl::text[],
                          -- Postgres's own column options: a modified server may keep options of
                          -- its own there, different in every table (one writes pg_attver=<n>)
                          'options', (SELECT array_agg(o ORDER BY o) FROM unnest(a.attoptions) o
                                      WHERE o LIKE 'n\_distinct%'))::text
FROM rel JOIN pg_attribute a ON a.attrelid = rel.oid AND a.attnum > 0 AND NOT a.attisdropped
LEFT JOIN pg_attrdef ad ON ad.adrelid = a.attrelid AND ad.adnum = a.attnum
UNION ALL
SELECT 'index', c.relname::text,
       jsonb_build_object('definition', pg_get_indexdef(i.indexrelid), 'clustered', i.indisclustered,
                          'replica identity', i.indisreplident, 'options', c.reloptions)::text
FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid JOIN rel ON rel.oid = i.indrelid
UNION ALL
SELECT 'constraint', coalesce(c.relname, t.typname) || '.' || con.conname,
       pg_get_constraintdef(con.oid) || CASE WHEN con.convalidated THEN '' ELSE ' NOT VALID' END
FROM pg_constraint con
LEFT JOIN pg_class c ON c.oid = con.conrelid
LEFT JOIN pg_type t ON t.oid = con.contypid
WHERE con.connamespace = 'orgsync'::regnamespace
UNION ALL
SELECT 'trigger', rel.relname || '.' || tg.tgname,
       pg_get_triggerdef(tg.oid) || ' enabled ' || tg.tgenabled::text
FROM pg_trigger tg JOIN rel ON rel.oid = tg.tgrelid WHERE NOT tg.tgisinternal
UNION ALL
SELECT 'policy', rel.relname || '.' || p.polname,
       jsonb_build_object('command', p.polcmd, 'permissive', p.polpermissive,
                          'roles', (SELECT array_agg(CASE WHEN r = 0 THEN 'public' ELSE pg_get_userbyid(r)::text END ORDER BY 1)
                                    FROM unnest(p.polroles) r),
                          'using', pg_get_expr(p.polqual, p.polrelid), 'check', pg_get_expr(p.polwithcheck, p.polrelid))::text
FROM pg_policy p JOIN rel ON rel.oid = p.polrelid
UNION ALL
SELECT 'rule', rel.relname || '.' || r.rulename, pg_get_ruledef(r.oid)
FROM pg_rewrite r JOIN rel ON rel.oid = r.ev_class WHERE r.rulename <> '_RETURN'
UNION ALL
SELECT 'view', rel.relname::text, pg_get_viewdef(rel.oid)
FROM rel WHERE rel.relkind IN ('v', 'm')
UNION ALL
SELECT 'sequence', rel.relname::text,
       jsonb_build_object('type', s.seqtypid::regtype::text, 'start', s.seqstart, 'increment', s.seqincrement,
                          'min', s.seqmin, 'max', s.seqmax, 'cache', s.seqcache, 'cycle', s.seqcycle,
                          'owned by', (SELECT pg_describe_object(d.refclassid, d.refobjid, d.refobjsubid)
                                       FROM pg_depend d WHERE d.classid = 'pg_class'::regclass AND d.objid = rel.oid
                                         AND d.deptype IN ('a', 'i')))::text
FROM rel JOIN pg_sequence s ON s.seqrelid = rel.oid
UNION ALL
-- types of their own: enums with their labels in order, domains, ranges, base
-- and composite types (not a table's row type, not the implicit array types)
SELECT 'type', t.typname::text,
       jsonb_build_object('kind', t.typtype, 'owner', pg_get_userbyid(t.typowner), 'acl', t.typacl::text[],
                          'labels', (SELECT array_agg(e.enumlabel ORDER BY e.enumsortorder) FROM pg_enum e WHERE e.enumtypid = t.oid),
                          'base', CASE WHEN t.typtype = 'd' THEN format_type(t.typbasetype, t.typtypmod) END,
                          'not null', t.typnotnull, 'default', t.typdefault)::text
FROM pg_type t, ns
WHERE t.typnamespace = ns.oid
  AND (t.typrelid = 0 OR (SELECT relkind FROM pg_class WHERE oid = t.typrelid) = 'c')
  AND NOT (t.typcategory = 'A' AND t.typelem <> 0 AND EXISTS (SELECT FROM pg_type e WHERE e.typarray = t.oid))
UNION ALL
SELECT 'function', p.oid::regprocedure::text,
       jsonb_build_object('definition', CASE WHEN p.prokind = 'a' THEN pg_get_function_result(p.oid)
                                             ELSE pg_get_functiondef(p.oid) END,
                          'config', p.proconfig, 'owner', pg_get_userbyid(p.proowner), 'acl', p.proacl::text[])::text
FROM pg_proc p, ns WHERE p.pronamespace = ns.oid
UNION ALL
SELECT 'statistics', s.stxname::text, pg_get_statisticsobjdef(s.oid)
FROM pg_statistic_ext s, ns WHERE s.stxnamespace = ns.oid
UNION ALL
SELECT 'default privileges', pg_get_userbyid(a.defaclrole) || ' ' || a.defaclobjtype::text, a.defaclacl::text
FROM pg_default_acl a, ns WHERE a.defaclnamespace = ns.oid
UNION ALL
-- comments on anything in the schema, columns and constraints included
SELECT 'comment', o.type || ' ' || o.identity, d.description
FROM pg_description d, pg_identify_object(d.classoid, d.objoid, d.objsubid) o
WHERE o.schema = 'orgsync'
UNION ALL
-- the roles that the schema's privileges name (orgsync_webhook, ...)
SELECT 'role', r.rolname::text,
       jsonb_build_object('superuser', r.rolsuper, 'inherit', r.rolinherit, 'create role', r.rolcreaterole,
                          'create database', r.rolcreatedb, 'login', r.rolcanlogin, 'replication', r.rolreplication,
                          'bypass row security', r.rolbypassrls, 'comment', shobj_description(r.oid, 'pg_authid'),
                          'member of', (SELECT array_agg(m.roleid::regrole::text ORDER BY 1) FROM pg_auth_members m
                                        WHERE m.member = r.oid))::text
FROM pg_roles r
WHERE r.oid IN (SELECT a.grantee FROM pg_namespace n, aclexplode(n.nspacl) a, ns WHERE n.oid = ns.oid
                UNION SELECT a.grantee FROM rel, aclexplode(rel.relacl) a
                UNION SELECT a.grantee FROM pg_proc p, aclexplode(p.proacl) a, ns WHERE p.pronamespace = ns.oid
                UNION SELECT a.grantee FROM pg_type t, aclexplode(t.typacl) a, ns WHERE t.typnamespace = ns.oid);

DO $$
BEGIN
    EXECUTE 'CREATE TEMP VIEW schema_rows (tbl, row) AS ' || (
        SELECT string_agg(format('SELECT %L::text, to_jsonb(t) - %L::text[] FROM %s t', c.relname,
                                 (SELECT coalesce(array_agg(a.attname), '{}') FROM pg_attribute a
                                  WHERE a.attrelid = c.oid AND a.atttypid = 'timestamptz'::regtype
                                    AND (a.atthasdef OR (c.relname, a.attname) = ('secrets', 'last_verified_at'))),
                                 c.oid::regclass), ' UNION ALL ' ORDER BY c.relname)
        FROM pg_class c WHERE c.relnamespace = 'orgsync'::regnamespace AND c.relkind IN ('r', 'p'));
END $$;

CREATE FUNCTION pg_temp.schema_difference(fresh jsonb)
RETURNS TABLE (side text, kind text, name text, detail text) LANGUAGE sql AS $$
    SELECT * FROM (SELECT 'here only' AS side, * FROM (TABLE schema_description
                                               EXCEPT SELECT * FROM jsonb_to_recordset(fresh) AS f(kind text, name text, detail text)) d
                   UNION ALL
                   SELECT 'fresh only', * FROM (SELECT * FROM jsonb_to_recordset(fresh) AS f(kind text, name text, detail text)
                                                EXCEPT TABLE schema_description) d) diff
    ORDER BY kind, name, side
$$;

CREATE FUNCTION pg_temp.rows_difference(fresh jsonb)
RETURNS TABLE (side text, tbl text, "row" jsonb) LANGUAGE sql AS $$
    SELECT * FROM (SELECT 'here only' AS side, * FROM (TABLE schema_rows
                                               EXCEPT SELECT * FROM jsonb_to_recordset(fresh) AS f(tbl text, "row" jsonb)) d
                   UNION ALL
                   SELECT 'fresh only', * FROM (SELECT * FROM jsonb_to_recordset(fresh) AS f(tbl text, "row" jsonb)
                                                EXCEPT TABLE schema_rows) d) diff
    ORDER BY tbl, "row"::text, side
$$;

CREATE FUNCTION pg_temp.deliver(secret text, bodies text[])
RETURNS SETOF jsonb LANGUAGE sql AS $$
    SELECT orgsync.handle_events(array_agg(orgsync.sign(secret, 'msg_sample_' || n, body) ORDER BY n),
                                 array_agg(body ORDER BY n))
    FROM unnest(bodies) WITH ORDINALITY AS t(body, n)
$$;
