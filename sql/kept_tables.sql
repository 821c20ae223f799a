-- The tables a call opens stay open for the next call in the same
-- (sub)transaction. Whatever may run between two calls still can: utility
-- statements on those tables, savepoints, exception blocks, cursors, calls
-- nested in a trigger. No resource leak warning may appear below.
\set secret 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw'
SELECT orgsync.add_secret(:'secret');
\set user_created `cat test/fixtures/clerk/user.created.json`

-- user.created deliveries for ids user_<n>, signed
CREATE TEMP TABLE regress_source AS SELECT :'secret' AS secret, :'user_created'::jsonb AS user_created;
CREATE FUNCTION pg_temp.user_delivery(n int, OUT headers jsonb, OUT body text) LANGUAGE sql AS $$
  SELECT orgsync.sign(secret, 'msg_kept_' || n, b), b
  FROM (SELECT secret, jsonb_set(user_created, '{data,id}', to_jsonb('user_' || n))::text AS b FROM regress_source) s
$$;
CREATE FUNCTION pg_temp.deliver(n int) RETURNS text LANGUAGE sql AS $$
  SELECT orgsync.handle_event(headers, body) ->> 'status' FROM pg_temp.user_delivery(n)
$$;

-- utility statements on orgsync's tables between calls of one transaction
BEGIN;
SELECT pg_temp.deliver(n) FROM generate_series(1, 3) n;
TRUNCATE orgsync.users;
SELECT pg_temp.deliver(4);
ALTER TABLE orgsync.users ADD COLUMN regress_note text DEFAULT 'added mid-transaction';
SELECT pg_temp.deliver(5);
SELECT id, regress_note FROM orgsync.users ORDER BY id;
COMMIT;
ALTER TABLE orgsync.users DROP COLUMN regress_note;

-- savepoints: rolled back, released
BEGIN;
SELECT pg_temp.deliver(6);
SAVEPOINT a;
SELECT pg_temp.deliver(7);
ROLLBACK TO a;
SELECT pg_temp.deliver(8);
SAVEPOINT b;
SELECT pg_temp.deliver(9);
RELEASE b;
SELECT pg_temp.deliver(10);
COMMIT;

-- exception blocks: tables opened in a block that ends, fails, or nests
CREATE FUNCTION pg_temp.deliver_in_block(first int, last int, fail boolean) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  BEGIN
    FOR n IN first..last LOOP
      PERFORM pg_temp.deliver(n);
    END LOOP;
    IF fail THEN PERFORM 1 / 0; END IF;
  EXCEPTION WHEN division_by_zero THEN
    NULL;
  END;
END $$;
DO $$
BEGIN
  PERFORM pg_temp.deliver(11);
  PERFORM pg_temp.deliver_in_block(12, 12, false);  -- opened outside the block
  BEGIN
    PERFORM pg_temp.deliver(13);
    RAISE EXCEPTION 'undo 13';
  EXCEPTION WHEN raise_exception THEN
    PERFORM pg_temp.deliver(14);
  END;
  PERFORM pg_temp.deliver(15);
END $$;
BEGIN;
SELECT pg_temp.deliver_in_block(16, 17, false);  -- first opened in the block, which ends
SELECT pg_temp.deliver(18);
SELECT pg_temp.deliver_in_block(19, 19, true);
SELECT pg_temp.deliver(20);
COMMIT;
BEGIN;
SELECT pg_temp.deliver_in_block(30, 30, true);  -- first opened in the block, which fails
SELECT pg_temp.deliver(31);
SELECT pg_temp.deliver_in_block(32, 32, false);
COMMIT;

-- a procedure that commits between calls
CREATE PROCEDURE regress_deliver_and_commit(first int, last int) LANGUAGE plpgsql AS $$
BEGIN
  FOR n IN first..last LOOP
    PERFORM pg_temp.deliver(n);
    IF n % 2 = 0 THEN COMMIT; ELSE ROLLBACK; END IF;
  END LOOP;
END $$;
CALL regress_deliver_and_commit(33, 36);
DROP PROCEDURE regress_deliver_and_commit(int, int);

-- a cursor left open between calls, then closed
BEGIN;
DECLARE c CURSOR FOR SELECT pg_temp.deliver(n) FROM generate_series(21, 23) n;
FETCH 1 FROM c;
SELECT pg_temp.deliver(24);
FETCH ALL FROM c;
CLOSE c;
SELECT pg_temp.deliver(25);
COMMIT;

-- a call that fails ends its transaction; the next one starts afresh
BEGIN;
SELECT pg_temp.deliver(26);
SELECT orgsync.handle_event(headers, body || ' ') FROM pg_temp.user_delivery(27);
ROLLBACK;
SELECT pg_temp.deliver(27);

-- a call nested in a row trigger of a call
CREATE FUNCTION regress_deliver_follower() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.id = 'user_28' THEN PERFORM pg_temp.deliver(29); END IF;
  RETURN NULL;
END $$;
CREATE TRIGGER regress_follower AFTER INSERT ON orgsync.users
  FOR EACH ROW EXECUTE FUNCTION regress_deliver_follower();
SELECT pg_temp.deliver(28);
DROP TRIGGER regress_follower ON orgsync.users;
DROP FUNCTION regress_deliver_follower();

SELECT id FROM orgsync.users ORDER BY id COLLATE "C";
SELECT count(*) AS deliveries, count(*) FILTER (WHERE status = 'applied') AS applied
FROM orgsync.events WHERE id LIKE 'msg_kept_%';

-- the tables stay open for a whole transaction: its memory must not grow
-- with the number of calls
BEGIN;
SELECT count(pg_temp.deliver(n)) FROM generate_series(100, 299) n;
SELECT sum(total_bytes) AS after_200 FROM pg_backend_memory_contexts
WHERE parent = 'TopTransactionContext' AND name = 'ExecutorState' \gset
SELECT count(pg_temp.deliver(n)) FROM generate_series(300, 2299) n;
SELECT sum(total_bytes) = :after_200 AS flat_after_2200 FROM pg_backend_memory_contexts
WHERE parent = 'TopTransactionContext' AND name = 'ExecutorState';
COMMIT;

TRUNCATE orgsync.users, orgsync.events, orgsync.secrets;
