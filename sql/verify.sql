-- orgsync.verify: Standard Webhooks / Svix signature checks.
-- Vectors from the Standard Webhooks and Svix test suites, checked at their own time.
\set secret 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw'
\set body '{"test": 2432232314}'
\set good 'v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE='
\set at 'to_timestamp(1614265330)'

CREATE FUNCTION pg_temp.h(id text, ts text, sig text) RETURNS jsonb LANGUAGE sql
AS $$ SELECT jsonb_strip_nulls(jsonb_build_object('svix-id', id, 'svix-timestamp', ts, 'svix-signature', sig)) $$;

-- the three published vectors verify
SELECT orgsync.verify(pg_temp.h('msg_p5jXN8AQM9LWM0D4loKWxJek', '1614265330', :'good'), :'body', :'secret', :at);
SELECT orgsync.verify(pg_temp.h('msg_loFOjxBNrRLzqYUf', '1731705121', 'v1,rAvfW3dJ/X/qxhsaXPOyyCGmRKsaKWcsNccKXlIktD0='),
                      '{"event_type":"ping","data":{"success":true}}', 'whsec_plJ3nmyCDGBKInavdOK15jsl', to_timestamp(1731705121));
SELECT orgsync.verify(pg_temp.h('msg_27UH4WbU6Z5A5EzD8u03UvzRbpk', '1649367553', 'v1,tZ1I4/hDygAJgO5TYxiSd6Sd0kDW6hPenDe+bTa3Kkw='),
                      '{"email":"test@example.com","username":"test_user"}', 'whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD', to_timestamp(1649367553));
-- sign() reproduces the vector
SELECT orgsync.sign(:'secret', 'msg_p5jXN8AQM9LWM0D4loKWxJek', :'body', :at);
-- the secret works with and without its whsec_ prefix
SELECT orgsync.verify(pg_temp.h('msg_p5jXN8AQM9LWM0D4loKWxJek', '1614265330', :'good'), :'body', 'MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw', :at);

-- header names are case-insensitive, and webhook-* works as well as svix-*
SELECT orgsync.verify(jsonb_build_object('Svix-Id', 'msg_p5jXN8AQM9LWM0D4loKWxJek', 'SVIX-TIMESTAMP', '1614265330', 'svix-Signature', :'good'), :'body', :'secret', :at);
SELECT orgsync.verify(jsonb_build_object('webhook-id', 'msg_p5jXN8AQM9LWM0D4loKWxJek', 'webhook-timestamp', '1614265330', 'webhook-signature', :'good'), :'body', :'secret', :at);
SELECT orgsync.verify(jsonb_build_object('Webhook-Id', 'msg_p5jXN8AQM9LWM0D4loKWxJek', 'svix-timestamp', '1614265330', 'WEBHOOK-SIGNATURE', :'good'), :'body', :'secret', :at);

-- any one v1 entry of a list may match; v1a, v2 and junk entries are skipped
SELECT orgsync.verify(pg_temp.h('msg_p5jXN8AQM9LWM0D4loKWxJek', '1614265330',
  'v1,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc= v2,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc= ' || :'good' || ' v1,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc='), :'body', :'secret', :at);
SELECT orgsync.verify(pg_temp.h('msg_p5jXN8AQM9LWM0D4loKWxJek', '1614265330', 'v1a,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE= garbage ' || :'good'), :'body', :'secret', :at);

-- every bad delivery is false
SELECT orgsync.verify(pg_temp.h('msg_p5jXN8AQM9LWM0D4loKWxJek', '1614265330', 'v1,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc='), :'body', :'secret', :at) AS wrong_signature;
SELECT orgsync.verify(pg_temp.h('msg_p5jXN8AQM9LWM0D4loKWxJek', '1614265330', 'v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OA='), :'body', :'secret', :at) AS one_char_off;
SELECT orgsync.verify(pg_temp.h('msg_p5jXN8AQM9LWM0D4loKWxJek', '1614265330', 'v1,dawfeoifkpqwoekfpqoekf'), :'body', :'secret', :at) AS garbage_base64;
SELECT orgsync.verify(pg_temp.h('msg_p5jXN8AQM9LWM0D4loKWxJek', '1614265330', 'v1,'), :'body', :'secret', :at) AS empty_after_version;
SELECT orgsync.verify(pg_temp.h('msg_p5jXN8AQM9LWM0D4loKWxJek', '1614265330', left(:'good', 8)), :'body', :'secret', :at) AS truncated;
SELECT orgsync.verify(pg_temp.h('msg_p5jXN8AQM9LWM0D4loKWxJek', '1614265330', 'v1a,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE='), :'body', :'secret', :at) AS only_v1a;
SELECT orgsync.verify(pg_temp.h('msg_p5jXN8AQM9LWM0D4loKWxJek', '1614265330', :'good'), '{"test": 2432232315}', :'secret', :at) AS tampered_body;
SELECT orgsync.verify(pg_temp.h('msg_p5jXN8AQM9LWM0D4loKWxJek', '1614265330', :'good'), '{"test":2432232314}', :'secret', :at) AS reformatted_body;
SELECT orgsync.verify(pg_temp.h('msg_p5jXN8AQM9LWM0D4loKWxJek', '1614265330', :'good'), :'body', 'whsec_plJ3nmyCDGBKInavdOK15jsl', :at) AS wrong_secret;
SELECT orgsync.verify(pg_temp.h('msg_other', '1614265330', :'good'), :'body', :'secret', :at) AS other_id;
SELECT orgsync.verify(pg_temp.h(NULL, '1614265330', :'good'), :'body', :'secret', :at) AS missing_id;
SELECT orgsync.verify(pg_temp.h('msg_p5jXN8AQM9LWM0D4loKWxJek', NULL, :'good'), :'body', :'secret', :at) AS missing_timestamp;
SELECT orgsync.verify(pg_temp.h('msg_p5jXN8AQM9LWM0D4loKWxJek', '1614265330', NULL), :'body', :'secret', :at) AS missing_signature;
SELECT orgsync.verify(pg_temp.h('msg_p5jXN8AQM9LWM0D4loKWxJek', 'hello', :'good'), :'body', :'secret', :at) AS word_timestamp;
SELECT orgsync.verify(pg_temp.h('msg_p5jXN8AQM9LWM0D4loKWxJek', '1614265330.0', :'good'), :'body', :'secret', :at) AS fractional_timestamp;
SELECT orgsync.verify(pg_temp.h('msg_p5jXN8AQM9LWM0D4loKWxJek', '99999999999999999999999', :'good'), :'body', :'secret', :at) AS huge_timestamp;
SELECT orgsync.verify(jsonb_build_object('svix-id', 1, 'svix-timestamp', 1614265330, 'svix-signature', :'good'), :'body', :'secret', :at) AS non_string_values;
SELECT orgsync.verify('[]', :'body', :'secret', :at) AS headers_array;
SELECT orgsync.verify('"svix-id"', :'body', :'secret', :at) AS headers_scalar;
SELECT orgsync.verify('{}', :'body', :'secret', :at) AS headers_empty;

-- the timestamp must be within orgsync.timestamp_tolerance (300 s) either way
SELECT d AS seconds_off, orgsync.verify(pg_temp.h('msg_p5jXN8AQM9LWM0D4loKWxJek', '1614265330', :'good'), :'body', :'secret', to_timestamp(1614265330 + d))
FROM unnest(ARRAY[-301, -300, 0, 300, 301]) AS d ORDER BY d;
SET orgsync.timestamp_tolerance = '1h';
SELECT orgsync.verify(pg_temp.h('msg_p5jXN8AQM9LWM0D4loKWxJek', '1614265330', :'good'), :'body', :'secret', to_timestamp(1614265330 + 3000)) AS within_an_hour;
RESET orgsync.timestamp_tolerance;
SHOW orgsync.timestamp_tolerance;

-- an unusable secret is an error, not a false
SELECT orgsync.verify(pg_temp.h('m', '1', 'v1,x'), '', '', now());
SELECT orgsync.verify(pg_temp.h('m', '1', 'v1,x'), '', 'whsec_', now());
SELECT orgsync.verify(pg_temp.h('m', '1', 'v1,x'), '', 'whsec_not base64!', now());
SELECT orgsync.sign('whsec_***', 'm', '', now());

-- STRICT: a NULL argument gives NULL
SELECT orgsync.verify(NULL, :'body', :'secret', :at) IS NULL AS null_headers;
SELECT orgsync.verify(pg_temp.h('msg_p5jXN8AQM9LWM0D4loKWxJek', '1614265330', :'good'), NULL, :'secret', :at) IS NULL AS null_body;

-- round trip through sign() at now(), with a long unicode body
SELECT orgsync.verify(orgsync.sign(:'secret', 'msg_unicode', b), b, :'secret') FROM repeat('Zoë 東京 🚀 ', 5000) AS b;
