-- The data column holds what jsonb makes of the event's `data`: strings,
-- escapes, numbers, nesting and repeated keys, each one line. `same_value`
-- and `same_text` compare it with what jsonb makes of the delivery itself:
-- numbers are kept as written (1.50 stays 1.50), as jsonb keeps them.
\set secret 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw'
SELECT orgsync.add_secret(:'secret');
CREATE TEMP TABLE probe (n serial, label text, value text);
INSERT INTO probe (label, value) VALUES
  ('plain string', '"Acme"'),
  ('empty string', '""'),
  ('quote and backslash', '"a\"b\\c"'),
  ('control escapes', '"\n\t\r\b\f"'),
  ('\u0001 and \u001f', '"\u0001x\u001f"'),
  ('escaped slash', '"a\/b"'),
  ('\u escapes of non-ASCII', '"\u00e9\u4e2d\ud83d\ude00"'),
  ('raw UTF-8', '"é中😀"'),
  ('long string', '"' || repeat('abcdefghij', 1000) || '"'),
  ('zero', '0'),
  ('negative zero', '-0'),
  ('integer', '42'),
  ('negative integer', '-17'),
  ('int64 max', '9223372036854775807'),
  ('uint64 max', '18446744073709551615'),
  ('decimal', '1.5'),
  ('trailing zero', '1.50'),
  ('float that is whole', '100.0'),
  ('exponent', '1e2'),
  ('negative exponent', '-12.5E-3'),
  ('tiny', '5e-324'),
  ('huge', '1.7976931348623157e308'),
  ('true', 'true'),
  ('false', 'false'),
  ('null', 'null'),
  ('empty object', '{}'),
  ('empty array', '[]'),
  ('array of mixed', '[1, "two", null, true, {"a": []}, [[]]]'),
  ('nested objects', '{"b": {"c": {"d": {"e": 1}}}, "a": 0}'),
  ('repeated key, last wins', '{"k": 1, "k": 2, "j": 0, "k": 3}'),
  ('keys of every length', '{"bbb": 3, "a": 1, "cc": 2, "": 0, "aa": 4}'),
  ('non-ASCII keys', '{"é": 1, "e": 2, "中文": 3}'),
  ('escaped keys', '{"a\"b": 1, "a\nb": 2}'),
  ('deep nesting', repeat('[', 600) || repeat(']', 600)),
  ('whitespace around', E' \t\n{ "a" :\n 1 } ');
CREATE TEMP TABLE delivered AS
SELECT n, label, format('{"type":"organization.updated","object":"event","timestamp":1716883200,'
                        '"data":{"object":"organization","id":"org_json_%s","name":"x","x":%s}}', n, value) AS body
FROM probe;
SELECT n, label,
       orgsync.handle_event(orgsync.sign(:'secret', 'msg_json_' || n, body), body) ->> 'status' AS status
FROM delivered ORDER BY n;
SELECT d.n, d.label, o.data = (d.body::jsonb) -> 'data' AS same_value,
       o.data::text = ((d.body::jsonb) -> 'data')::text AS same_text,
       CASE WHEN o.data::text <> ((d.body::jsonb) -> 'data')::text THEN o.data -> 'x' END AS stored
FROM delivered d JOIN orgsync.organizations o ON o.id = 'org_json_' || d.n
ORDER BY d.n;
TRUNCATE orgsync.organizations, orgsync.events;
SELECT orgsync.remove_secret(:'secret');
