-- What an application attaches to orgsync's tables keeps working although
-- orgsync writes rows without the SQL executor: row triggers, foreign keys
-- into the tables, columns it adds, constraints. Statement triggers do not fire.
\set org_created `cat test/fixtures/clerk/organization.created.json`
\set org_updated `cat test/fixtures/clerk/organization.updated.json`
\set org_deleted `cat test/fixtures/clerk/organization.deleted.json`
\set mem_created `cat test/fixtures/clerk/organizationMembership.created.json`

CREATE TABLE regress_audit (n serial, kind text, id text, old_name text, new_name text, deleted_at timestamptz);
CREATE FUNCTION regress_audit_row() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO public.regress_audit (kind, id, old_name, new_name, deleted_at)
  VALUES (TG_WHEN || ' ' || TG_OP || ' ' || TG_LEVEL || ' ' || TG_TABLE_NAME,
          CASE WHEN TG_LEVEL = 'ROW' THEN NEW.id END,
          CASE WHEN TG_LEVEL = 'ROW' AND TG_OP = 'UPDATE' THEN OLD.name END,
          CASE WHEN TG_LEVEL = 'ROW' THEN NEW.name END,
          CASE WHEN TG_LEVEL = 'ROW' THEN NEW.deleted_at END);
  RETURN NEW;
END $$;
CREATE FUNCTION regress_upper_name() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN NEW.name := upper(NEW.name); RETURN NEW; END $$;
CREATE TRIGGER regress_after AFTER INSERT OR UPDATE ON orgsync.organizations
  FOR EACH ROW EXECUTE FUNCTION regress_audit_row();
CREATE TRIGGER regress_deleted AFTER UPDATE OF deleted_at ON orgsync.organizations
  FOR EACH ROW EXECUTE FUNCTION regress_audit_row();
CREATE TRIGGER regress_statement AFTER INSERT OR UPDATE ON orgsync.organizations
  FOR EACH STATEMENT EXECUTE FUNCTION regress_audit_row();
-- a BEFORE trigger may change the row orgsync writes
CREATE TRIGGER regress_before BEFORE INSERT OR UPDATE ON orgsync.organizations
  FOR EACH ROW EXECUTE FUNCTION regress_upper_name();

-- (trigger functions run with orgsync's search_path: name your tables in full)
CREATE FUNCTION pg_temp.try_apply(event jsonb) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
  RETURN orgsync.apply_event(event) ->> 'status';
EXCEPTION WHEN OTHERS THEN
  RETURN SQLSTATE || ': ' || SQLERRM;
END $$;
\set new_org `sed 's/org_2g7np7Hrk0SN6kj5EDMLDaKNL0S/org_regress_new/' test/fixtures/clerk/organization.created.json`

-- a column the application adds takes its default on every row orgsync inserts
ALTER TABLE orgsync.organizations ADD COLUMN regress_plan text NOT NULL DEFAULT 'free';
-- an application table that refers to organizations
CREATE TABLE regress_hotels (id text PRIMARY KEY REFERENCES orgsync.organizations (id), stars int);

SELECT orgsync.apply_event(:'org_created') ->> 'status' AS created;
SELECT orgsync.apply_event(:'org_updated') ->> 'status' AS updated;
SELECT orgsync.apply_event(:'org_created') ->> 'status' AS stale_changes_nothing;
SELECT orgsync.apply_event(:'mem_created') ->> 'status' AS membership;
INSERT INTO regress_hotels SELECT id, 4 FROM orgsync.organizations;
SELECT orgsync.apply_event(:'org_deleted') ->> 'status' AS deleted;
SELECT kind, id, old_name, new_name, deleted_at FROM regress_audit ORDER BY n;
SELECT id, name, regress_plan, deleted_at IS NOT NULL AS deleted FROM orgsync.organizations ORDER BY id;
SELECT h.id, h.stars, o.name FROM regress_hotels h JOIN orgsync.organizations o USING (id) ORDER BY h.id;

-- a constraint the application adds is enforced, and the failing event keeps nothing
ALTER TABLE orgsync.organizations ADD CONSTRAINT regress_short_name CHECK (length(name) < 5) NOT VALID;
SELECT pg_temp.try_apply(:'new_org');
SELECT count(*) AS kept FROM orgsync.organizations WHERE id = 'org_regress_new';
ALTER TABLE orgsync.organizations DROP CONSTRAINT regress_short_name;

-- a column orgsync needs, dropped, fails clearly; back, orgsync finds it again
BEGIN;
ALTER TABLE orgsync.organizations DROP COLUMN slug;
SELECT pg_temp.try_apply(:'new_org');
ROLLBACK;
SELECT pg_temp.try_apply(:'new_org') AS after_rollback;
SELECT id, name, slug, regress_plan FROM orgsync.organizations ORDER BY id;

-- the index a cascade reads, dropped, fails clearly
BEGIN;
DROP INDEX orgsync.memberships_organization_id_idx;
SELECT pg_temp.try_apply(:'org_deleted');
ROLLBACK;

-- a BEFORE UPDATE trigger locks the row once more before orgsync updates it:
-- a row this transaction wrote a moment earlier, in a savepoint too
SELECT jsonb_set(jsonb_set(:'new_org'::jsonb, '{data,id}', '"org_regress_txn"'), '{data,name}', '"txn one"') AS txn_1 \gset
SELECT jsonb_set(jsonb_set(:'txn_1'::jsonb, '{data,name}', '"txn two"'), '{data,updated_at}', '1900000000000') AS txn_2 \gset
SELECT jsonb_set(jsonb_set(:'txn_1'::jsonb, '{data,name}', '"txn three"'), '{data,updated_at}', '1900000000001') AS txn_3 \gset
BEGIN;
SELECT pg_temp.try_apply(:'txn_1') AS created;
SELECT pg_temp.try_apply(:'txn_2') AS updated_in_the_same_transaction;
SAVEPOINT regress_savepoint;
SELECT pg_temp.try_apply(:'txn_3') AS updated_in_a_savepoint;
RELEASE regress_savepoint;
SELECT id, name FROM orgsync.organizations WHERE id = 'org_regress_txn';
ROLLBACK;

DROP TABLE regress_hotels, regress_audit;
DROP TRIGGER regress_after ON orgsync.organizations;
DROP TRIGGER regress_deleted ON orgsync.organizations;
DROP TRIGGER regress_statement ON orgsync.organizations;
DROP TRIGGER regress_before ON orgsync.organizations;
DROP FUNCTION regress_audit_row(), regress_upper_name();
ALTER TABLE orgsync.organizations DROP COLUMN regress_plan;
-- A row trigger may write anywhere: a membership's organization, locked
-- and read a moment earlier, is read again after the user's triggers ran.
TRUNCATE orgsync.organizations, orgsync.users, orgsync.memberships;
CREATE FUNCTION regress_end_organization() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  UPDATE orgsync.organizations SET deleted_at = '2024-01-01 00:00+00' WHERE id = 'org_2g7np7Hrk0SN6kj5EDMLDaKNL0S';
  RETURN NEW;
END $$;
CREATE TRIGGER regress_end_organization BEFORE INSERT ON orgsync.users
  FOR EACH ROW EXECUTE FUNCTION regress_end_organization();
SELECT orgsync.apply_event(:'org_created') ->> 'status' AS organization;
SELECT orgsync.apply_event(:'mem_created') ->> 'status' AS membership;
SELECT id, deleted_at AS born_ended_at FROM orgsync.memberships ORDER BY id;
DROP TRIGGER regress_end_organization ON orgsync.users;
DROP FUNCTION regress_end_organization();

TRUNCATE orgsync.organizations, orgsync.users, orgsync.memberships, orgsync.invitations, orgsync.events;
