-- Values of 256 bytes and more in `data` and `payload` are stored compressed
-- with the method their column declares (lz4), although Postgres itself only
-- compresses a row of 2 kB and more; smaller values, and values compression
-- cannot shrink (an object made of hex digits), are stored as they are. All
-- read back unchanged.
\set secret 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw'
SELECT orgsync.add_secret(:'secret');
CREATE TEMP TABLE sample (n int, label text, name text);
INSERT INTO sample VALUES
  (1, 'small', 'Acme'),
  (2, 'repetitive, 0.4 kB', repeat('Acme ', 60)),
  (3, 'repetitive, 1.6 kB', repeat('Acme ', 300)),
  (4, 'hex digits, 0.4 kB', (SELECT string_agg(md5(i::text), '') FROM generate_series(1, 10) i));
CREATE TEMP TABLE delivered AS
SELECT n, label, format('{"type":"organization.created","object":"event","timestamp":1716883200,'
                        '"data":{"object":"organization","id":"org_zip_%s","name":"%s","updated_at":1716883200000}}',
                        n, name) AS body
FROM sample;
SELECT n, label, orgsync.handle_event(orgsync.sign(:'secret', 'msg_zip_' || n, body), body) ->> 'status' AS status
FROM delivered ORDER BY n;
CREATE TEMP VIEW stored AS
SELECT d.n, d.label, octet_length(d.body) AS body_bytes,
       pg_column_compression(e.payload) AS payload_compression, e.payload = d.body AS payload_same,
       pg_column_compression(o.data) AS data_compression, o.data = (d.body::jsonb) -> 'data' AS data_same
FROM delivered d
JOIN orgsync.events e ON e.id = 'msg_zip_' || d.n
JOIN orgsync.organizations o ON o.id = 'org_zip_' || d.n;
SELECT * FROM stored ORDER BY n;

-- An update stores the new version compressed too; apply_event and replay
-- take the same path (replay reads the compressed payload back).
SELECT orgsync.apply_event(format('{"type":"organization.updated","data":{"object":"organization","id":"org_zip_1",'
                                  '"name":"%s","updated_at":1716883300000}}', repeat('Acme ', 100))::jsonb) ->> 'status' AS status;
SELECT pg_column_compression(data) AS data_compression, data ->> 'name' = repeat('Acme ', 100) AS data_same
FROM orgsync.organizations WHERE id = 'org_zip_1';
SELECT orgsync.replay('msg_zip_3') ->> 'status' AS replayed;

-- The columns' declarations decide: external storage is never compressed,
-- and another method is used as declared.
ALTER TABLE orgsync.organizations ALTER data SET STORAGE external;
ALTER TABLE orgsync.events ALTER payload SET COMPRESSION pglz;
UPDATE delivered SET body = replace(body, 'org_zip_', 'org_zip_altered_');
DELETE FROM orgsync.events;
SELECT n, orgsync.handle_event(orgsync.sign(:'secret', 'msg_zip_' || n, body), body) ->> 'status' AS status
FROM delivered WHERE n = 3;
SELECT pg_column_compression(e.payload) AS payload_compression, e.payload = d.body AS payload_same,
       pg_column_compression(o.data) AS data_compression, o.data = (d.body::jsonb) -> 'data' AS data_same
FROM delivered d
JOIN orgsync.events e ON e.id = 'msg_zip_' || d.n
JOIN orgsync.organizations o ON o.id = 'org_zip_altered_' || d.n
WHERE d.n = 3;
ALTER TABLE orgsync.organizations ALTER data SET STORAGE extended;
ALTER TABLE orgsync.events ALTER payload SET COMPRESSION lz4;

DROP VIEW stored;
TRUNCATE orgsync.organizations, orgsync.events;
SELECT orgsync.remove_secret(:'secret');
