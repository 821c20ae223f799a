-- The second floor: a database where orgsync.handle_event is NOT the
-- extension but a stand-in that only records the delivery (id and body) and
-- commits, so the unmodified relay measures HTTP + libpq + one small insert
-- + a commit that waits for fsync. No verification, no JSON beyond the
-- headers cast, no merge. plpgsql, so its plan is prepared once per session.
CREATE SCHEMA orgsync;
CREATE TABLE orgsync.events (id text PRIMARY KEY, payload text NOT NULL);
CREATE FUNCTION orgsync.handle_event(headers jsonb, body text, endpoint text DEFAULT 'default')
RETURNS jsonb LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO orgsync.events VALUES (headers ->> 'svix-id', body) ON CONFLICT DO NOTHING;
  RETURN CASE WHEN FOUND THEN '{"status": "applied"}' ELSE '{"status": "duplicate"}' END;
END $$;
-- The relay's batch form: the same insert for each delivery, all in the one
-- transaction of the call, so the floor commits once per batch as orgsync does.
CREATE FUNCTION orgsync.handle_events(headers jsonb[], bodies text[], endpoint text DEFAULT 'default')
RETURNS SETOF jsonb LANGUAGE plpgsql AS $$
BEGIN
  FOR i IN 1 .. cardinality(bodies) LOOP
    RETURN NEXT orgsync.handle_event(headers[i], bodies[i], endpoint);
  END LOOP;
END $$;
