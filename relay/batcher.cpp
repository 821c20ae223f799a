#include "batcher.hpp"

#include <algorithm>
#include <chrono>
#include <cstdint>

#include "log.hpp"

namespace relay {

namespace {

// How long a job may wait for a database worker; then 503 and Svix retries.
constexpr std::chrono::seconds kPoolWait(5);

// The benchmark floor and /healthz: a round trip, nothing written.
const pg::Statement kSelectOne{"select_one", "SELECT 1", 0};
// --batch 1: one delivery per transaction, and transactions in parallel (no
// turns); the same columns as kHandleEvents, so that one function reads both.
const pg::Statement kHandleEvent{"handle_event",
                                 "SELECT r::text, r->>'status', r->>'sqlstate', r->>'error', r->>'reason' "
                                 "FROM orgsync.handle_event($1::jsonb, $2, $3) AS r",
                                 3};
// Otherwise deliveries for one endpoint, in one transaction: a row each, in
// order. A lone delivery goes this way too: handle_events calls take turns in
// Postgres, so the workers never deadlock one another (their commits overlap).
// Its arrays go in binary (binary_array()): Postgres's text array input reads
// a literal twice, a character at a time, unescaping every quote of the JSON.
const int kBinaryArraysTextEndpoint[] = {1, 1, 0};
const pg::Statement kHandleEvents{"handle_events",
                                  "SELECT r::text, r->>'status', r->>'sqlstate', r->>'error', r->>'reason' "
                                  "FROM orgsync.handle_events($1::jsonb[], $2::text[], $3) WITH ORDINALITY AS t(r, n) "
                                  "ORDER BY n",
                                  3, kBinaryArraysTextEndpoint};

Outcome failure(int status, std::string error, std::string sqlstate = "") {
  Outcome o;
  o.status = status;
  o.result = "failed";
  o.error = std::move(error);
  o.sqlstate = std::move(sqlstate);
  return o;
}

// A delivery orgsync refused (SQLSTATE 28000 and the check that failed, say),
// or could not take yet (55000: an endpoint without a secret, an extension
// not updated to its library): rejected, for `reason`.
Outcome refused(std::string sqlstate, std::string error, std::string reason) {
  int status = pg::http_status_for_sqlstate(sqlstate);
  Outcome o = failure(status, std::move(error), std::move(sqlstate));
  if (!reason.empty()) o.result = "rejected", o.reason = std::move(reason);
  return o;
}

// Row `row` of a kHandleEvent or kHandleEvents result.
Outcome outcome_of_row(const PGresult* r, int row) {
  std::string status = PQgetvalue(r, row, 1);
  if (std::find(kStoredStatuses.begin(), kStoredStatuses.end(), status) != kStoredStatuses.end()) {
    Outcome o;
    o.status = 200;
    o.json = PQgetvalue(r, row, 0);
    o.result = std::move(status);
    return o;
  }
  // handle_events' answer for a delivery that handle_event would have raised
  // an error on: answered as that error, whatever the size of its batch.
  if (status == "rejected" && !PQgetisnull(r, row, 2))
    return refused(PQgetvalue(r, row, 2), PQgetvalue(r, row, 3), PQgetvalue(r, row, 4));
  return failure(500, "orgsync returned an unexpected status");
}

Outcome outcome_of_error(const PGresult* r, const pg::Connection& c) {
  if (c.lost(r)) return failure(503, "database connection lost: " + c.error());
  const char* msg = PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY);
  std::string state = PQresultErrorField(r, PG_DIAG_SQLSTATE);
  // handle_event names the check a refused delivery failed in its DETAIL.
  const char* detail = PQresultErrorField(r, PG_DIAG_MESSAGE_DETAIL);
  bool not_verified = state.compare(0, 2, "28") == 0;
  bool orgsync_refused = not_verified || state == "22023" || state == "22004" || state == "55000";
  std::string reason = orgsync_refused && detail ? detail : not_verified ? "not_verified" : "";
  return refused(state, msg ? msg : "database error", reason);
}

bool has_rows(const PGresult* r, size_t rows) {
  return PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == static_cast<int>(rows);
}

void append_int32(std::string& out, uint32_t value) {
  for (int shift = 24; shift >= 0; shift -= 8) out += char((value >> shift) & 0xff);
}

// One field of each delivery as a PostgreSQL array in binary format (what
// array_recv reads): one dimension, no NULLs, then each element's length and
// bytes, taken as they are. A jsonb element starts with its format version, 1.
constexpr uint32_t kTextOid = 25, kJsonbOid = 3802;
std::string binary_array(const Jobs& batch, std::string Job::*field, uint32_t element_type) {
  bool jsonb = element_type == kJsonbOid;
  size_t size = 20;
  for (const auto& d : batch) size += 4 + jsonb + (*d.*field).size();
  std::string out;
  out.reserve(size);
  append_int32(out, 1);  // dimensions
  append_int32(out, 0);  // no NULLs
  append_int32(out, element_type);
  append_int32(out, uint32_t(batch.size()));
  append_int32(out, 1);  // lower bound
  for (const auto& d : batch) {
    const std::string& value = *d.*field;
    append_int32(out, uint32_t(value.size() + jsonb));
    if (jsonb) out += '\x01';
    out += value;
  }
  return out;
}

void answer_all(const Jobs& batch, const Outcome& o) {
  for (const auto& job : batch) job->answer(o);
}

}  // namespace

// ------------------------------------------------------------ pending jobs

void PendingJobs::push(std::unique_ptr<Job> job) {
  bool first;
  {
    std::lock_guard<std::mutex> lock(mu_);
    first = queue_.empty();
    queue_.push_back(std::move(job));
  }
  ready_.notify_one();
  if (first) changed_.notify_all();
}

Jobs PendingJobs::take(size_t max, bool wait) {
  Jobs batch;
  std::unique_lock<std::mutex> lock(mu_);
  if (wait) ready_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
  if (queue_.empty()) return batch;
  if (queue_.front()->probe) {
    batch.push_back(std::move(queue_.front()));
    queue_.pop_front();
  } else {
    const std::string endpoint = queue_.front()->endpoint;
    for (auto it = queue_.begin(); it != queue_.end() && batch.size() < max;) {
      if (!(*it)->probe && (*it)->endpoint == endpoint) {
        batch.push_back(std::move(*it));
        it = queue_.erase(it);
      } else {
        ++it;
      }
    }
  }
  // What is left (a probe, another endpoint, or past `max`) may have had its
  // wake-up spent on this worker.
  bool left = !queue_.empty();
  lock.unlock();
  if (left) ready_.notify_one();
  return batch;
}

Jobs PendingJobs::expired(std::chrono::steady_clock::duration age, bool wait) {
  std::unique_lock<std::mutex> lock(mu_);
  for (;;) {
    Jobs out;
    auto now = std::chrono::steady_clock::now();
    // Oldest first: the queue stays in order of arrival.
    while (!queue_.empty() && now - queue_.front()->queued >= age) {
      out.push_back(std::move(queue_.front()));
      queue_.pop_front();
    }
    if (!out.empty() || stopping_ || !wait) return out;
    if (queue_.empty())
      changed_.wait(lock);
    else
      changed_.wait_until(lock, queue_.front()->queued + age);
  }
}

void PendingJobs::stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  ready_.notify_all();
  changed_.notify_all();
}

// ------------------------------------------------------------------ batcher

Batcher::Batcher(const std::string& conninfo, int workers, size_t batch, Metrics& metrics)
    : batch_(batch), metrics_(metrics) {
  int failed = 0;
  std::string error;
  for (int i = 0; i < workers; i++) {
    connections_.push_back(std::make_unique<pg::Connection>(conninfo, "orgsync-relay"));
    // A connection that failed is tried again when a job needs it.
    if (!connections_.back()->ok()) failed++, error = connections_.back()->error();
  }
  if (failed) log_event(LogLevel::warn, "connect_failed", {number_field("connections", failed), {"error", error}});
  for (auto& c : connections_) workers_.emplace_back([this, &c] { work(*c); });
  expiry_ = std::thread([this] { expire(); });
}

Batcher::~Batcher() {
  pending_.stop();
  for (auto& t : workers_) t.join();
  expiry_.join();
}

void Batcher::deliver(std::string headers, std::string body, std::string endpoint, Answer answer) {
  auto job = std::make_unique<Job>();
  job->headers = std::move(headers);
  job->body = std::move(body);
  job->endpoint = std::move(endpoint);
  job->answer = std::move(answer);
  enqueue(std::move(job));
}

void Batcher::probe(Answer answer) {
  auto job = std::make_unique<Job>();
  job->probe = true;
  job->answer = std::move(answer);
  enqueue(std::move(job));
}

void Batcher::enqueue(std::unique_ptr<Job> job) {
  job->queued = std::chrono::steady_clock::now();
  pending_.push(std::move(job));
}

// Jobs no worker took within kPoolWait: 503, and Svix retries.
void Batcher::expire() {
  for (;;) {
    Jobs late = pending_.expired(kPoolWait, true);
    if (late.empty()) return;  // stopped
    answer_all(late, failure(503, "database unavailable: no database worker free in time"));
  }
}

// A database worker: each call sends every delivery waiting for one endpoint
// (up to the batch size), or one probe.
void Batcher::work(pg::Connection& c) {
  for (;;) {
    Jobs batch = pending_.take(batch_, true);
    if (batch.empty()) return;  // stopped
    unsigned reconnects = c.reconnects();
    bool connected = c.ensure();
    if (c.reconnects() != reconnects) metrics_.count_reconnect();
    if (connected) {
      serve(c, std::move(batch));
    } else {
      answer_all(batch, failure(503, "database unavailable: " + c.error()));
    }
  }
}

// Calls for `batch`, then for what waits by the time each call returns. Each
// call goes out before the previous one's jobs are answered, so that Postgres
// works on it while their answers are written.
void Batcher::serve(pg::Connection& c, Jobs batch) {
  auto sent_at = std::chrono::steady_clock::now();
  pg::Result sent = send_call(c, batch);
  while (!batch.empty()) {
    pg::Result r = c.receive(std::move(sent));
    if (log_enabled(LogLevel::debug)) {
      std::chrono::duration<double, std::milli> took = std::chrono::steady_clock::now() - sent_at;
      log_event(LogLevel::debug, "call",
                {{"statement", batch.front()->probe ? "select_one"
                               : batch_ == 1        ? "handle_event"
                                                    : "handle_events"},
                 number_field("jobs", static_cast<double>(batch.size())),
                 number_field("duration_ms", took.count())});
    }
    Jobs next;
    // Not after a failure: settle() may then need the connection itself.
    if (has_rows(r.get(), batch.size())) {
      next = pending_.take(batch_, false);
      sent_at = std::chrono::steady_clock::now();
      if (!next.empty()) sent = send_call(c, next);
    }
    settle(c, batch, r.get());
    batch = std::move(next);
  }
}

// Answers each job of `batch` from `r`, the result of its call. When a call
// of deliveries failed as a whole, other than by a lost connection (one
// delivery that makes it raise, say), each delivery goes again alone, so that
// one cannot fail its neighbours and a 2xx still means committed.
void Batcher::settle(pg::Connection& c, Jobs& batch, const PGresult* r) {
  if (batch.front()->probe) {
    if (PQresultStatus(r) != PGRES_TUPLES_OK)
      return answer_all(batch, failure(503, "database unavailable: " + c.error()));
    Outcome ok;
    ok.status = 200;
    ok.json = R"({"status":"ok"})";
    return answer_all(batch, ok);
  }
  metrics_.observe_batch(batch.size());
  if (has_rows(r, batch.size())) {
    auto committed = std::chrono::steady_clock::now();
    for (size_t i = 0; i < batch.size(); i++) {
      Outcome o = outcome_of_row(r, static_cast<int>(i));
      o.batch = batch.size();
      if (o.status == 200) metrics_.observe_commit(std::chrono::duration<double>(committed - batch[i]->queued).count());
      batch[i]->answer(std::move(o));
    }
    return;
  }
  Outcome failed = outcome_of_error(r, c);
  failed.batch = batch.size();
  if (batch.size() == 1 || c.lost(r)) return answer_all(batch, failed);
  log_event(LogLevel::warn, "batch_failed",
            {number_field("deliveries", static_cast<double>(batch.size())),
             {"sqlstate", failed.sqlstate},
             {"error", failed.error}});
  for (auto& job : batch) {
    Jobs alone;
    alone.push_back(std::move(job));
    settle(c, alone, c.receive(send_call(c, alone)).get());
  }
}

// Sends the call for `batch` (see pg::Connection::send()).
pg::Result Batcher::send_call(pg::Connection& c, const Jobs& batch) {
  const Job& first = *batch.front();
  if (first.probe) return c.send(kSelectOne, nullptr);
  if (batch_ == 1) {
    const char* params[] = {first.headers.c_str(), first.body.c_str(), first.endpoint.c_str()};
    return c.send(kHandleEvent, params);
  }
  std::string headers = binary_array(batch, &Job::headers, kJsonbOid);
  std::string bodies = binary_array(batch, &Job::body, kTextOid);
  const char* params[] = {headers.data(), bodies.data(), first.endpoint.c_str()};
  const int lengths[] = {int(headers.size()), int(bodies.size()), 0};
  return c.send(kHandleEvents, params, lengths);
}

}  // namespace relay
