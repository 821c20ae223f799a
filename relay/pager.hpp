// Reading a Clerk listing page by page while Clerk's list changes under it,
// so that every object that exists throughout the listing is read at least
// once (repeats are harmless: the merge is idempotent). docs/backfill.md,
// "Paging", gives the argument.
//
// Offset listings (everything but users) are read oldest first, each page
// overlapping the one before: a page counts only when it holds an object of
// the page before (or starts at offset 0), which proves that no object
// before it was skipped. When deletions before our place have moved every
// later object to a lower offset, the page holds none of them, and the pager
// steps back (a page, then twice that, ...) until it finds its place.
//
// Users are read by cursor (`starting_after`), which deletions elsewhere do
// not move. If the cursor's user is deleted meanwhile, Clerk is assumed to
// refuse the cursor (a 4xx) or to answer a short page: the pager then
// continues from the cursor's creation time (`created_at_after`), and it
// confirms that the cursor still exists before it believes a short page ends
// the listing.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "backfill_kinds.hpp"
#include "clerk_api.hpp"

namespace relay::backfill {

struct Page {
  std::string body;              // exactly as Clerk sent it
  size_t objects = 0;            // in this page
  uint64_t done = 0;             // objects of the listing behind this page's end
  std::optional<int64_t> total;  // as Clerk last counted them
  std::string next_position;     // JSON: where the next page starts (backfill_page's next_position)
  bool last = false;             // the listing has been read to its end
};

class Pager {
 public:
  virtual ~Pager() = default;
  // Throws clerk::AuthenticationFailed or clerk::Unavailable.
  virtual Page next() = 0;
};

// A pager for `kind` that continues from `position` (a page's next_position,
// as a run kept it; empty: from the start). Throws std::invalid_argument for
// a position it cannot read.
std::unique_ptr<Pager> make_pager(const KindInfo& kind, clerk::Api& api, size_t page_size, const std::string& position);

// The ids of every object of the offset listing `path` (oldest first), read
// as the pagers read: nothing that exists throughout is missed.
std::vector<std::string> list_ids(clerk::Api& api, const std::string& path, size_t page_size);

}  // namespace relay::backfill
