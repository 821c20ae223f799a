-- What an operator sees: orgsync.status (here as of a fixed time, through
-- status_at), the signing keys by fingerprint with when each last verified a
-- delivery, and replay_invalid. A monitoring role reads these and nothing else.
SET client_min_messages = warning;
CREATE ROLE regress_monitor LOGIN IN ROLE orgsync_monitor;
RESET client_min_messages;
\set secret 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw'
SELECT orgsync.add_secret(:'secret', label => 'from Clerk, 2026-12');
SELECT orgsync.add_secret('whsec_plJ3nmyCDGBKInavdOK15jsl', label => 'old');
SELECT orgsync.add_secret(:'secret', 'other_endpoint');
-- deliveries of the last day, received at fixed times
\set org `cat test/fixtures/clerk/organization.created.json`
\set user `cat test/fixtures/clerk/user.created.json`
SELECT orgsync.handle_event(orgsync.sign(:'secret', 'msg_s' || n, body), body) ->> 'status'
FROM (VALUES (1, :'org'), (2, :'org'), (3, :'user'), (4, '{"type": "user.created", "data": {"id": 5}}'),
             (5, '{"type": "session.created", "data": {"id": "sess_1"}}'), (6, :'org'), (7, :'org')) AS d(n, body) ORDER BY n;
-- received so many minutes before noon, so many seconds after the event
UPDATE orgsync.events SET received_at = '2026-12-01 12:00:00+00'::timestamptz - (s.minutes * interval '1 minute'),
                          event_time = CASE WHEN event_time IS NOT NULL
                                            THEN '2026-12-01 12:00:00+00'::timestamptz - (s.minutes * interval '1 minute') - s.lag * interval '1 second' END
FROM (VALUES ('msg_s1', 300, 3), ('msg_s2', 30, 2), ('msg_s3', 10, 3), ('msg_s4', 20, 3), ('msg_s5', 5, 3),
             ('msg_s6', 40, 4), ('msg_s7', 50, 60)) AS s(id, minutes, lag)
WHERE events.id = s.id;

SELECT * FROM orgsync.status_at('2026-12-01 12:00:00+00');
-- two hours later: nothing in the last hour, the invalid one still waiting
SELECT type, last_hour, last_day, invalid_waiting FROM orgsync.status_at('2026-12-01 14:00:00+00');
-- the keys: fingerprints and labels, never the secret; the one in use marked as used
SELECT endpoint, fingerprint = orgsync.secret_fingerprint(:'secret') AS is_clerk_secret, label,
       last_verified_at IS NOT NULL AS verified_lately, keys_of_endpoint
FROM orgsync.signing_keys ORDER BY endpoint, label;

SET ROLE regress_monitor;
SELECT type, invalid_waiting FROM orgsync.status WHERE invalid_waiting > 0;
SELECT count(*) AS key_rows FROM orgsync.signing_keys;
SELECT count(*) FROM orgsync.secrets;
SELECT count(*) FROM orgsync.events;
SELECT count(*) FROM orgsync.organizations;
SELECT orgsync.replay_invalid();
RESET ROLE;

-- replaying what is invalid: still invalid, counted by outcome; then, once
-- fixed (here by hand), applied
SELECT * FROM orgsync.replay_invalid();
SELECT * FROM orgsync.replay_invalid(endpoint => 'other_endpoint');
UPDATE orgsync.events SET payload = '{"type": "user.created", "data": {"id": "user_5"}}' WHERE id = 'msg_s4';
SELECT * FROM orgsync.replay_invalid(since => '2026-12-01 11:00:00+00');
SELECT id, status FROM orgsync.events WHERE id = 'msg_s4';

TRUNCATE orgsync.organizations, orgsync.users, orgsync.events, orgsync.secrets;
DROP ROLE regress_monitor;
