// What a running backfill shows. On a terminal: one line per kind on stderr
// (objects done / total, objects per second, time left, then the sweep's
// candidates), redrawn in place. Otherwise: one logfmt line per page, per
// sweep decision and per retried request, as the relay logs. At the end, a
// summary per kind on stdout.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "backfill_store.hpp"
#include "clerk_api.hpp"
#include "pager.hpp"

namespace relay::backfill {

class Progress {
 public:
  Progress(const std::vector<std::string>& kinds, bool terminal);

  // What an earlier invocation of a resumed run did.
  void resumed(const std::string& kind, const KindProgress& progress);
  void listing(const std::string& kind);
  void page(const std::string& kind, const Page& page, const Counts& counts);
  void listed(const std::string& kind);
  void sweeping(const std::string& kind, size_t candidates);
  // `result`: alive or unconfirmed (Clerk was asked, or could not be), else
  // what backfill_tombstone answered: tombstoned, changed or gone.
  void checked(const std::string& kind, const Candidate& candidate, const std::string& result);
  void swept(const std::string& kind);
  void retry(const clerk::Retry& retry);

  // The summary: per kind, objects read, applied, stale, tombstoned (the
  // whole run's), and the time this invocation spent on it.
  std::string summary() const;

 private:
  using Clock = std::chrono::steady_clock;
  struct Kind {
    explicit Kind(std::string kind_name) : name(std::move(kind_name)) {}
    std::string name;
    std::string state = "waiting";
    uint64_t done = 0;
    std::optional<int64_t> total;
    uint64_t read_here = 0;  // objects read by this invocation
    std::optional<Clock::time_point> started;
    double seconds = 0;  // spent by this invocation
    size_t candidates = 0, checked = 0;
    Counts counts;
  };

  Kind& kind(const std::string& name);
  void start(Kind& kind);
  void stop(Kind& kind);
  std::string line(const Kind& kind) const;
  // Redraws the terminal's lines (at most ten times a second unless `now`),
  // after printing `above` on a line of its own above them.
  void draw(bool now, const std::string& above = "");

  std::vector<Kind> kinds_;
  bool terminal_;
  bool drawn_ = false;
  Clock::time_point last_draw_{};
};

}  // namespace relay::backfill
