\echo Use "ALTER EXTENSION orgsync UPDATE TO '0.3.0'" to load this file. \quit

-- orgsync's C functions run as a superuser and find their tables in schema
-- orgsync by name. CREATE EXTENSION installs into an orgsync schema that
-- already exists, keeping its owner, who could then rename it and put
-- tables and triggers of their own where the functions look. Refuse that.
DO $$
BEGIN
    IF NOT (SELECT r.rolsuper FROM pg_catalog.pg_namespace n JOIN pg_catalog.pg_roles r ON r.oid = n.nspowner
            WHERE n.nspname = 'orgsync') THEN
        RAISE EXCEPTION 'orgsync: schema orgsync is owned by a role that is not a superuser'
            USING ERRCODE = '42501',
                  HINT = 'Make a superuser its owner (ALTER SCHEMA orgsync OWNER TO ...), or drop it and create the extension again.';
    END IF;
END $$;

-- Only the extension's owner reads signing keys and calls these; REVOKE ...
-- FROM PUBLIC leaves what ALTER DEFAULT PRIVILEGES granted to other roles.
DO $$
DECLARE
    grant_row record;
BEGIN
    FOR grant_row IN
        SELECT format('TABLE %s', c.oid::regclass) AS object, a.grantee
        FROM pg_catalog.pg_class c, pg_catalog.aclexplode(c.relacl) a
        WHERE c.oid = 'orgsync.secrets'::regclass AND a.grantee <> c.relowner
        UNION
        SELECT format('FUNCTION %s', p.oid::regprocedure), a.grantee
        FROM pg_catalog.pg_proc p, pg_catalog.aclexplode(p.proacl) a
        WHERE p.oid IN ('orgsync.add_secret(text, text)'::regprocedure, 'orgsync.remove_secret(text, text)'::regprocedure,
                        'orgsync.apply_event(jsonb)'::regprocedure, 'orgsync.replay(text)'::regprocedure,
                        'orgsync.secret_key(text)'::regprocedure, 'orgsync.secrets_changed()'::regprocedure)
          AND a.grantee <> p.proowner
    LOOP
        EXECUTE format('REVOKE ALL ON %s FROM %s', grant_row.object,
                       CASE WHEN grant_row.grantee = 0 THEN 'PUBLIC'
                            ELSE pg_catalog.quote_ident(pg_catalog.pg_get_userbyid(grant_row.grantee)) END);
    END LOOP;
END $$;

-- pg_dump dumps no data of an extension's tables unless told to: without
-- this, a dump and restore kept the extension and lost every mirrored row,
-- every recorded delivery and the signing keys (a dump holds the database's
-- secrets as it holds its data).
SELECT pg_catalog.pg_extension_config_dump('orgsync.organizations', '');
SELECT pg_catalog.pg_extension_config_dump('orgsync.users', '');
SELECT pg_catalog.pg_extension_config_dump('orgsync.memberships', '');
SELECT pg_catalog.pg_extension_config_dump('orgsync.invitations', '');
SELECT pg_catalog.pg_extension_config_dump('orgsync.events', '');
SELECT pg_catalog.pg_extension_config_dump('orgsync.secrets', '');

-- Two live memberships of one user in one organization (one ended and
-- recreated under a new id, the other's deletion not yet delivered) named
-- the organization twice.
CREATE OR REPLACE FUNCTION user_organizations(user_id text)
RETURNS SETOF text
LANGUAGE sql STABLE PARALLEL SAFE SECURITY DEFINER SET search_path = pg_catalog, orgsync
AS $$
    SELECT DISTINCT m.organization_id FROM orgsync.memberships m
    WHERE m.user_id = user_organizations.user_id AND m.deleted_at IS NULL
$$;
