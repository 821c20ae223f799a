-- The hotel app: a hotel is a Clerk organization, its staff are the
-- organization's members, guests are Clerk users with bookings. Run after
-- CREATE EXTENSION orgsync and docs/postgrest/webhook.sql (which creates
-- the roles authenticator and web_anon and the webhook's schema, api), as a
-- superuser. README.md explains each choice.

-- The role PostgREST switches to for a signed-in user: Clerk's session
-- token carries "role": "hotel_user" (a claim added under Sessions ->
-- Customize session token); without it PostgREST would use web_anon.
CREATE ROLE hotel_user NOLOGIN;
GRANT hotel_user TO authenticator;
GRANT orgsync_app TO hotel_user;

CREATE SCHEMA hotel;
GRANT USAGE ON SCHEMA hotel TO hotel_user;

-- A hotel's id is its Clerk organization's id. orgsync never deletes an
-- organization's row (a deletion sets deleted_at), so the key holds after
-- Clerk deletes the organization, and refuses the hotel of an organization
-- the mirror does not know yet.
CREATE TABLE hotel.hotels (
    id   text PRIMARY KEY REFERENCES orgsync.organizations (id),
    name text NOT NULL,
    city text NOT NULL
);

CREATE TABLE hotel.rooms (
    hotel_id   text NOT NULL REFERENCES hotel.hotels (id),
    number     text NOT NULL,
    kind       text NOT NULL,
    rate_cents integer NOT NULL CHECK (rate_cents > 0),
    PRIMARY KEY (hotel_id, number)
);

-- What guests see: their own bookings, never another hotel's or another
-- guest's. The staff of the booking's hotel see all of its bookings.
CREATE TABLE hotel.bookings (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    hotel_id      text NOT NULL,
    room_number   text NOT NULL,
    guest_user_id text NOT NULL DEFAULT orgsync.current_user_id(),
    guest_name    text NOT NULL,
    stay          daterange NOT NULL,
    FOREIGN KEY (hotel_id, room_number) REFERENCES hotel.rooms (hotel_id, number)
);
CREATE INDEX ON hotel.bookings (hotel_id);
CREATE INDEX ON hotel.bookings (guest_user_id);

-- Staff are the hotel's members, as the mirror has them now; each member
-- sees the staff of their own hotels. security_barrier: a caller's own
-- filters run after is_member, so they cannot see other hotels' rows.
CREATE VIEW hotel.staff WITH (security_barrier) AS
SELECT m.organization_id AS hotel_id, m.user_id, m.role, u.first_name, u.last_name, u.primary_email
FROM orgsync.active_memberships m
JOIN orgsync.users u ON u.id = m.user_id
WHERE orgsync.is_member(m.organization_id);

ALTER TABLE hotel.hotels ENABLE ROW LEVEL SECURITY;
ALTER TABLE hotel.rooms ENABLE ROW LEVEL SECURITY;
ALTER TABLE hotel.bookings ENABLE ROW LEVEL SECURITY;

-- The helpers default to the user of the request's session token and read
-- the mirror, so a member removed in Clerk loses access as the webhook
-- arrives, whatever their token still says.
CREATE POLICY staff_read ON hotel.hotels FOR SELECT TO hotel_user
    USING (orgsync.is_member(id));
CREATE POLICY guests_read ON hotel.hotels FOR SELECT TO hotel_user
    USING (EXISTS (SELECT FROM hotel.bookings b WHERE b.hotel_id = hotels.id));

CREATE POLICY staff_read ON hotel.rooms FOR SELECT TO hotel_user
    USING (orgsync.is_member(hotel_id));
-- Changing rooms takes the permission, from the role as Clerk has it now.
CREATE POLICY managers_write ON hotel.rooms FOR UPDATE TO hotel_user
    USING (orgsync.has_permission(hotel_id, 'org:rooms:manage'));

-- Bookings are the large table: the hotels the user works at are read once
-- per query (an InitPlan), not once per row, and the index on hotel_id
-- finds their rows (docs/tenancy.md has the figures).
CREATE POLICY staff_read ON hotel.bookings FOR SELECT TO hotel_user
    USING (hotel_id = ANY (ARRAY(SELECT orgsync.user_organizations())));
CREATE POLICY guests_read ON hotel.bookings FOR SELECT TO hotel_user
    USING (guest_user_id = (SELECT orgsync.current_user_id()));

GRANT SELECT ON hotel.hotels, hotel.rooms, hotel.bookings, hotel.staff TO hotel_user;
GRANT UPDATE (kind, rate_cents) ON hotel.rooms TO hotel_user;

-- For the operator: hotels whose organization Clerk has deleted. They keep
-- their rooms and bookings (records the business keeps, and guests still
-- see theirs); no member is left to see them.
CREATE VIEW hotel.closed_hotels AS
SELECT h.id, h.name, o.deleted_at
FROM hotel.hotels h JOIN orgsync.organizations o ON o.id = h.id
WHERE o.deleted_at IS NOT NULL;
