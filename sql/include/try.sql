-- pg_temp.try(query): the query's one value as text ('NULL' for NULL), or
-- the error it raised as 'SQLSTATE: message', so that a probe shows either.
CREATE FUNCTION pg_temp.try(query text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE value text;
BEGIN
  EXECUTE query INTO value;
  RETURN coalesce(value, 'NULL');
EXCEPTION WHEN OTHERS THEN
  RETURN SQLSTATE || ': ' || SQLERRM;
END $$;
