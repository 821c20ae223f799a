\echo Use "ALTER EXTENSION orgsync UPDATE TO '0.4.0'" to load this file. \quit

-- 0.4.0: strict payloads, Clerk's whole organization model, backfill, the
-- PostgREST entry point and tenancy from session tokens, and the operating
-- surface. Each part below is one topic.

-- Strict payloads and who may call what -------------------------------------

-- Clerk's organization model: domains, roles, permissions, invitations -------

-- Backfill and heal -----------------------------------------------------------

-- PostgREST and tenancy from Clerk session tokens ----------------------------

-- Operating: status, change feed, retention -----------------------------------
