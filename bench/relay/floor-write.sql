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
