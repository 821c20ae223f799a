-- prune_events: old delivery rows go, in committed batches; ids still needed
-- to recognise a Svix redelivery stay (up to 27 h 35 min of retries: 28 hours
-- plus the timestamp tolerance), invalid ones stay unless asked, the mirror stays.

-- First in a new session, as cron's is: nothing has loaded the library (nor
-- defined orgsync.timestamp_tolerance) yet.
CALL orgsync.prune_events('30 days');
\set secret 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw'
SELECT orgsync.add_secret(:'secret');
\set org `cat test/fixtures/clerk/organization.created.json`
SELECT orgsync.handle_event(orgsync.sign(:'secret', 'msg_r' || n, body), body) ->> 'status'
FROM (VALUES (1, :'org'), (2, :'org'), (3, :'org'), (4, '{"type": "user.created", "data": {"id": 5}}'),
             (5, :'org')) AS d(n, body) ORDER BY n;
-- received: 40 days ago, 30 days and a minute, 28 h 4 min (inside the kept
-- window), 40 days (invalid), just now
UPDATE orgsync.events SET received_at = now() - s.age
FROM (VALUES ('msg_r1', interval '40 days'), ('msg_r2', interval '30 days 1 minute'),
             ('msg_r3', interval '28 hours 4 minutes'), ('msg_r4', interval '40 days')) AS s(id, age)
WHERE events.id = s.id;

-- too short a window is refused
CALL orgsync.prune_events('1 hour');
CALL orgsync.prune_events('28 hours');
-- thirty days, in batches of one row: two go; the invalid one and the mirror stay
CALL orgsync.prune_events('30 days', batch_size => 1);
SELECT id, status FROM orgsync.events ORDER BY id;
SELECT count(*) AS organizations FROM orgsync.organizations;
-- the kept window: a redelivery just inside it is a duplicate...
CALL orgsync.prune_events('28 hours 5 minutes');
SELECT orgsync.handle_event(orgsync.sign(:'secret', 'msg_r3', :'org'), :'org') ->> 'status' AS redelivered_inside;
-- ...and once pruned, recorded again, changing nothing in the mirror
UPDATE orgsync.events SET received_at = now() - interval '28 hours 6 minutes' WHERE id = 'msg_r3';
CALL orgsync.prune_events('28 hours 5 minutes');
SELECT orgsync.handle_event(orgsync.sign(:'secret', 'msg_r3', :'org'), :'org') ->> 'status' AS redelivered_outside;
-- invalid ones only when asked
CALL orgsync.prune_events('30 days', include_invalid => true);
SELECT id, status FROM orgsync.events ORDER BY id;

TRUNCATE orgsync.organizations, orgsync.events, orgsync.secrets;
