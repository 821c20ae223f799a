#include "backfill_store.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <thread>

namespace relay::backfill {

namespace {

constexpr int kMaxAttempts = 8;

// libpq text parameters and results; casts in the SQL give them their types.
const pg::Statement kStart{"orgsync_backfill_start", "SELECT orgsync.backfill_start($1::boolean)", 1};
const pg::Statement kUnfinishedRun{
    "orgsync_backfill_runs",
    "SELECT id, sweep FROM orgsync.backfill_runs WHERE finished_at IS NULL ORDER BY id DESC LIMIT 1", 0};
const pg::Statement kProgress{"orgsync_backfill_progress",
                              "SELECT kind, position::text, listed_at IS NOT NULL, swept_at IS NOT NULL, read, "
                              "applied, stale, tombstoned FROM orgsync.backfill_progress WHERE run_id = $1::bigint",
                              1};
const pg::Statement kPage{"orgsync_backfill_page",
                          "SELECT (r ->> 'read')::bigint, (r ->> 'applied')::bigint, (r ->> 'stale')::bigint "
                          "FROM orgsync.backfill_page($1::bigint, $2, $3, $4::jsonb, $5::bigint, $6::boolean) r",
                          6};
const pg::Statement kCandidates{"orgsync_backfill_candidates",
                                "SELECT id, organization_id, user_id, sync_version::text "
                                "FROM orgsync.backfill_candidates($1::bigint, $2)",
                                2};
const pg::Statement kTombstone{"orgsync_backfill_tombstone",
                               "SELECT orgsync.backfill_tombstone($1::bigint, $2, $3, $4::bigint[])", 4};
const pg::Statement kSwept{"orgsync_backfill_swept", "SELECT orgsync.backfill_swept($1::bigint, $2)", 2};
const pg::Statement kFinish{"orgsync_backfill_finish", "SELECT orgsync.backfill_finish($1::bigint, $2)", 2};

std::string value(const PGresult* r, int row, int column) { return PQgetvalue(r, row, column); }
int64_t number(const PGresult* r, int row, int column) { return std::stoll(value(r, row, column)); }
bool boolean(const PGresult* r, int row, int column) { return value(r, row, column) == "t"; }
std::optional<std::string> nullable(const PGresult* r, int row, int column) {
  if (PQgetisnull(r, row, column)) return std::nullopt;
  return value(r, row, column);
}

}  // namespace

Counts& Counts::operator+=(const Counts& other) {
  read += other.read;
  applied += other.applied;
  stale += other.stale;
  tombstoned += other.tombstoned;
  return *this;
}

Store::Store(const std::string& conninfo) : connection_(conninfo, "orgsync-backfill") {
  if (!connection_.ok()) throw DatabaseError("cannot connect to the database: " + connection_.error());
}

pg::Result Store::call(const pg::Statement& statement, const std::vector<const char*>& params) {
  if (in_flight_) page_applied();
  connection_.ensure();
  return wait_for(statement, params, connection_.send(statement, params.data()));
}

pg::Result Store::wait_for(const pg::Statement& statement, const std::vector<const char*>& params, pg::Result sent) {
  for (int attempt = 1;; ++attempt) {
    auto started = std::chrono::steady_clock::now();
    pg::Result result = connection_.receive(std::move(sent));
    seconds_ += std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    ExecStatusType status = PQresultStatus(result.get());
    if (status == PGRES_TUPLES_OK || status == PGRES_COMMAND_OK) return result;

    const char* sqlstate = PQresultErrorField(result.get(), PG_DIAG_SQLSTATE);
    bool lost = connection_.lost(result.get());
    if ((!lost && !pg::retryable_sqlstate(sqlstate ? sqlstate : "")) || attempt == kMaxAttempts) {
      const char* primary = PQresultErrorField(result.get(), PG_DIAG_MESSAGE_PRIMARY);
      std::string message = primary ? primary : connection_.error();
      std::string what = statement.name;  // orgsync_backfill_page: orgsync.backfill_page
      what[what.find('_')] = '.';
      throw DatabaseError(what + ": " + message + (sqlstate ? std::string(" (SQLSTATE ") + sqlstate + ")" : "") +
                          (attempt > 1 ? ", " + std::to_string(attempt) + " attempts" : ""));
    }
    std::this_thread::sleep_for(std::chrono::duration<double>(std::min(30.0, 0.25 * std::pow(2.0, attempt - 1))));
    connection_.ensure();
    sent = connection_.send(statement, params.data());
  }
}

Run Store::start(bool sweep) {
  pg::Result r = call(kStart, {sweep ? "true" : "false"});
  return Run{number(r.get(), 0, 0), sweep, {}};
}

std::optional<Run> Store::unfinished_run() {
  pg::Result r = call(kUnfinishedRun, {});
  if (PQntuples(r.get()) == 0) return std::nullopt;
  Run run{number(r.get(), 0, 0), boolean(r.get(), 0, 1), {}};
  std::string id = std::to_string(run.id);
  pg::Result progress = call(kProgress, {id.c_str()});
  for (int i = 0; i < PQntuples(progress.get()); ++i) {
    KindProgress& kind = run.kinds[value(progress.get(), i, 0)];
    kind.position = value(progress.get(), i, 1);  // "" when NULL
    kind.listed = boolean(progress.get(), i, 2);
    kind.swept = boolean(progress.get(), i, 3);
    kind.counts = Counts{number(progress.get(), i, 4), number(progress.get(), i, 5), number(progress.get(), i, 6),
                         number(progress.get(), i, 7)};
  }
  return run;
}

std::vector<const char*> Store::InFlight::params() const {
  return {run.c_str(),
          kind.c_str(),
          page.body.c_str(),
          page.next_position.c_str(),
          page.total ? total.c_str() : nullptr,
          page.last ? "true" : "false"};
}

void Store::send_page(int64_t run, const std::string& kind, Page page) {
  if (in_flight_) page_applied();
  std::string total = page.total ? std::to_string(*page.total) : "";
  in_flight_ = InFlight{std::to_string(run), kind, std::move(total), std::move(page)};
  connection_.ensure();
  in_flight_sent_ = connection_.send(kPage, in_flight_->params().data());
}

Counts Store::page_applied() {
  InFlight in_flight = std::move(*in_flight_);
  in_flight_.reset();
  pg::Result r = wait_for(kPage, in_flight.params(), std::move(in_flight_sent_));
  return Counts{number(r.get(), 0, 0), number(r.get(), 0, 1), number(r.get(), 0, 2), 0};
}

std::vector<Candidate> Store::candidates(int64_t run, const std::string& kind) {
  std::string id = std::to_string(run);
  pg::Result r = call(kCandidates, {id.c_str(), kind.c_str()});
  std::vector<Candidate> candidates;
  for (int i = 0; i < PQntuples(r.get()); ++i) {
    candidates.push_back(
        Candidate{value(r.get(), i, 0), nullable(r.get(), i, 1), nullable(r.get(), i, 2), value(r.get(), i, 3)});
  }
  return candidates;
}

std::string Store::tombstone(int64_t run, const std::string& kind, const Candidate& candidate) {
  std::string id = std::to_string(run);
  pg::Result r = call(kTombstone, {id.c_str(), kind.c_str(), candidate.id.c_str(), candidate.sync_version.c_str()});
  return value(r.get(), 0, 0);
}

void Store::swept(int64_t run, const std::string& kind) {
  std::string id = std::to_string(run);
  call(kSwept, {id.c_str(), kind.c_str()});
}

void Store::finish(int64_t run, const std::string& outcome) {
  std::string id = std::to_string(run);
  call(kFinish, {id.c_str(), outcome.c_str()});
}

}  // namespace relay::backfill
