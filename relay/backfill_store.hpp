// The backfill's side of orgsync in Postgres, and all of its SQL: runs and
// their progress (orgsync.backfill_runs, backfill_progress), pages, the
// sweep's candidates and tombstones. Calls that fail where a retry can help
// (a lost connection, a server restarting, a deadlock) are retried.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "pager.hpp"
#include "postgres.hpp"

namespace relay::backfill {

struct Counts {
  int64_t read = 0, applied = 0, stale = 0, tombstoned = 0;
  Counts& operator+=(const Counts& other);
};

// How far a run got with one kind.
struct KindProgress {
  std::string position;  // the next page's start (JSON); empty: none read yet
  bool listed = false;   // its listing was read to the end
  bool swept = false;
  Counts counts;
};

struct Run {
  int64_t id = 0;
  bool sweep = false;
  std::map<std::string, KindProgress> kinds;  // by kind name; absent: not started
};

// A live row the run's listing did not contain.
struct Candidate {
  std::string id;
  std::optional<std::string> organization_id, user_id;
  std::string sync_version;  // as text, handed back to backfill_tombstone
};

struct DatabaseError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

class Store {
 public:
  // Connects; throws DatabaseError when it cannot.
  explicit Store(const std::string& conninfo);

  Run start(bool sweep);
  // The newest run that has not finished, with its progress.
  std::optional<Run> unfinished_run();

  // Sends `page` of `kind` to be applied, without waiting; page_applied()
  // waits for its counts. One page at a time: the next call of any kind
  // waits for it first.
  void send_page(int64_t run, const std::string& kind, Page page);
  Counts page_applied();

  std::vector<Candidate> candidates(int64_t run, const std::string& kind);
  // 'tombstoned', 'changed' (a webhook wrote the row since) or 'gone'.
  std::string tombstone(int64_t run, const std::string& kind, const Candidate& candidate);
  void swept(int64_t run, const std::string& kind);
  void finish(int64_t run, const std::string& outcome);

  // Time spent waiting for Postgres's answers.
  double seconds() const { return seconds_; }

 private:
  struct InFlight {
    std::string run, kind, total;
    Page page;
    std::vector<const char*> params() const;
  };

  // Runs `statement` and waits for it, retrying where a retry can help;
  // throws DatabaseError. `sent`: what send() returned when it was sent.
  pg::Result call(const pg::Statement& statement, const std::vector<const char*>& params);
  pg::Result wait_for(const pg::Statement& statement, const std::vector<const char*>& params, pg::Result sent);

  pg::Connection connection_;
  std::optional<InFlight> in_flight_;
  pg::Result in_flight_sent_{nullptr, &PQclear};
  double seconds_ = 0;
};

}  // namespace relay::backfill
