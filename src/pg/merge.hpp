// The merge rules, carried out row by row: they make the mirror end where
// Clerk is, whatever the order of arrival and however many copies arrive.
//   - An upsert replaces a row only with a newer version (sync_version, a
//     bigint[] compared element by element: rank, then updated_at); two
//     copies of the same version are joined (core::rejoin), so that neither
//     erases what only the other carried.
//   - A deletion sets deleted_at once; it only ever moves earlier. A
//     deletion of an object not seen yet leaves a tombstone row.
//   - A deleted organization ends its memberships, invitations and domains,
//     a deleted user its memberships; a child written after its parent's
//     deletion is born ended.
// Every writer locks rows in one order (organization, user, then the
// object's own row; a cascade in id order), so concurrent writers never
// deadlock. Postgres side: everything here can raise.
#pragma once

#include "pg/bound_writes.hpp"
#include "pg/row_access.hpp"

namespace orgsync::pg {

// Carries out one write, or all of them in order; returns the number of
// rows changed.
uint64 apply_write(RowAccess* access, const BoundWrite& write);
uint64 apply_writes(RowAccess* access, const BoundWrites& writes);

}  // namespace orgsync::pg
