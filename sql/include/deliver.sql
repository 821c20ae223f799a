-- The test secret, added for the default endpoint, and
-- pg_temp.deliver(body, copy): `body` signed and handed to handle_event as
-- delivery 'msg_' || copy || md5(body); its status. The same body twice is
-- a duplicate; another `copy` makes it a new delivery of the same content.
\set secret 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw'
SELECT orgsync.add_secret(:'secret');
CREATE FUNCTION pg_temp.deliver(body jsonb, copy text DEFAULT '') RETURNS text LANGUAGE sql AS $$
  SELECT orgsync.handle_event(orgsync.sign('whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw', 'msg_' || copy || md5(body::text), body::text),
                              body::text) ->> 'status'
$$;
