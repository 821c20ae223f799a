#include "batcher.hpp"

#include <algorithm>
#include <chrono>
#include <cstdint>

#include "log.hpp"

namespace relay {

namespace {

// How long a delivery may wait for a database worker, or a probe for a
// connection; then 503 and Svix retries.
constexpr std::chrono::seconds kPoolWait(5);

// The benchmark floor and /healthz: a round trip, nothing written.
const pg::Statement kSelectOne{"select_one", "SELECT 1", 0};
// --batch 1: one delivery per transaction, and transactions in parallel (no
// turns); the same columns as kHandleEvents, so that one function reads both.
const pg::Statement kHandleEvent{"handle_event",
                                 "SELECT r::text, r->>'status', r->>'sqlstate', r->>'error' "
                                 "FROM orgsync.handle_event($1::jsonb, $2, $3) AS r",
                                 3};
// Otherwise deliveries for one endpoint, in one transaction: a row each, in
// order. A lone delivery goes this way too: handle_events calls take turns in
// Postgres, so the workers never deadlock one another (their commits overlap).
// Its arrays go in binary (binary_array()): Postgres's text array input reads
// a literal twice, a character at a time, unescaping every quote of the JSON.
const int kBinaryArraysTextEndpoint[] = {1, 1, 0};
const pg::Statement kHandleEvents{"handle_events",
                                  "SELECT r::text, r->>'status', r->>'sqlstate', r->>'error' "
                                  "FROM orgsync.handle_events($1::jsonb[], $2::text[], $3) WITH ORDINALITY AS t(r, n) "
                                  "ORDER BY n",
                                  3, kBinaryArraysTextEndpoint};

Outcome failure(int status, std::string error, std::string sqlstate = "") {
  Outcome o;
  o.status = status;
  o.error = std::move(error);
  o.sqlstate = std::move(sqlstate);
  return o;
}

// Row `row` of a kHandleEvent or kHandleEvents result.
Outcome outcome_of_row(const PGresult* r, int row) {
  std::string status = PQgetvalue(r, row, 1);
  if (status == "applied" || status == "duplicate" || status == "stale" || status == "ignored" || status == "invalid") {
    Outcome o;
    o.status = 200;
    o.json = PQgetvalue(r, row, 0);
    o.result = std::move(status);
    return o;
  }
  // handle_events' answer for a delivery that handle_event would have raised
  // an error on: answered as that error, whatever the size of its batch.
  if (status == "rejected" && !PQgetisnull(r, row, 2)) {
    std::string state = PQgetvalue(r, row, 2);
    return failure(pg::http_status_for_sqlstate(state), PQgetvalue(r, row, 3), state);
  }
  return failure(500, "orgsync returned an unexpected status");
}

Outcome outcome_of_error(const PGresult* r, const pg::Connection& c) {
  if (c.lost(r)) return failure(503, "database connection lost: " + c.error());
  const char* msg = PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY);
  std::string state = PQresultErrorField(r, PG_DIAG_SQLSTATE);
  return failure(pg::http_status_for_sqlstate(state), msg ? msg : "database error", state);
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
std::string binary_array(const std::vector<Delivery*>& batch, std::string Delivery::*field, uint32_t element_type) {
  bool jsonb = element_type == kJsonbOid;
  size_t size = 20;
  for (const Delivery* d : batch) size += 4 + jsonb + (d->*field).size();
  std::string out;
  out.reserve(size);
  append_int32(out, 1);  // dimensions
  append_int32(out, 0);  // no NULLs
  append_int32(out, element_type);
  append_int32(out, uint32_t(batch.size()));
  append_int32(out, 1);  // lower bound
  for (const Delivery* d : batch) {
    const std::string& value = d->*field;
    append_int32(out, uint32_t(value.size() + jsonb));
    if (jsonb) out += '\x01';
    out += value;
  }
  return out;
}

// Wakes the request thread; `d` may be gone as soon as this returns.
void answer(Delivery* d, Outcome o, size_t batch) {
  o.batch = batch;
  d->outcome.set_value(std::move(o));
}

}  // namespace

// ------------------------------------------------------ pending deliveries

void PendingDeliveries::push(Delivery* d) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    queue_.push_back(d);
  }
  ready_.notify_one();
}

bool PendingDeliveries::withdraw(Delivery* d) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = std::find(queue_.begin(), queue_.end(), d);
  if (it == queue_.end()) return false;
  queue_.erase(it);
  return true;
}

std::vector<Delivery*> PendingDeliveries::take(size_t max, bool wait) {
  std::vector<Delivery*> batch;
  std::unique_lock<std::mutex> lock(mu_);
  if (wait) ready_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
  if (queue_.empty()) return batch;
  const Delivery* oldest = queue_.front();
  for (auto it = queue_.begin(); it != queue_.end() && batch.size() < max;) {
    if ((*it)->endpoint == oldest->endpoint) {
      batch.push_back(*it);
      it = queue_.erase(it);
    } else {
      ++it;
    }
  }
  // What is left (another endpoint, or past `max`) may have had its wake-up
  // spent on this worker.
  bool left = !queue_.empty();
  lock.unlock();
  if (left) ready_.notify_one();
  return batch;
}

void PendingDeliveries::stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  ready_.notify_all();
}

// ------------------------------------------------------------------ batcher

Batcher::Batcher(const std::string& conninfo, int pool, size_t batch)
    : batch_(batch), pool_(conninfo, pool, "orgsync-relay") {
  for (int i = 0; i < pool; i++) workers_.emplace_back([this] { work(); });
}

Batcher::~Batcher() {
  pending_.stop();
  for (auto& t : workers_) t.join();
}

Outcome Batcher::deliver(std::string headers, std::string body, std::string endpoint) {
  Delivery d{std::move(headers), std::move(body), std::move(endpoint), {}};
  auto outcome = d.outcome.get_future();
  pending_.push(&d);
  if (outcome.wait_for(kPoolWait) == std::future_status::timeout && pending_.withdraw(&d))
    return failure(503, "database unavailable: no database worker free in time");
  return outcome.get();
}

Outcome Batcher::probe() {
  std::string error;
  auto conn = pool_.acquire(kPoolWait, error);
  if (!conn) return failure(503, "database unavailable: " + error);
  pg::Result r = conn->run(kSelectOne, nullptr);
  if (PQresultStatus(r.get()) != PGRES_TUPLES_OK) return failure(503, "database unavailable: " + conn->error());
  Outcome o;
  o.status = 200;
  o.json = R"({"status":"ok"})";
  return o;
}

// A database worker, one per pool connection: each call sends every delivery
// waiting for one endpoint (up to the batch size).
void Batcher::work() {
  for (;;) {
    std::vector<Delivery*> batch = pending_.take(batch_, true);
    if (batch.empty()) return;  // stopped
    std::string error;
    auto conn = pool_.acquire(kPoolWait, error);
    if (conn) {
      serve(*conn, std::move(batch));
    } else {
      for (Delivery* d : batch) answer(d, failure(503, "database unavailable: " + error), 0);
    }
  }
}

// Calls for `batch`, then for what waits by the time each call returns, while
// nothing else needs the connection. Each call goes out before the previous
// one's deliveries are answered, so that Postgres works on it while their
// request threads wake up.
void Batcher::serve(pg::Connection& c, std::vector<Delivery*> batch) {
  pg::Result sent = send_call(c, batch);
  while (!batch.empty()) {
    pg::Result r = c.receive(std::move(sent));
    std::vector<Delivery*> next;
    // Not after a failure: settle() may then need the connection itself.
    if (has_rows(r.get(), batch.size()) && !pool_.awaited()) {
      next = pending_.take(batch_, false);
      if (!next.empty()) sent = send_call(c, next);
    }
    settle(c, batch, r.get());
    batch = std::move(next);
  }
}

// Answers each delivery of `batch` from `r`, the result of its call. When the
// call failed as a whole, other than by a lost connection (one delivery that
// makes it raise, say), each delivery goes again alone, so that one cannot
// fail its neighbours and a 2xx still means committed.
void Batcher::settle(pg::Connection& c, const std::vector<Delivery*>& batch, const PGresult* r) {
  if (has_rows(r, batch.size())) {
    for (size_t i = 0; i < batch.size(); i++) answer(batch[i], outcome_of_row(r, static_cast<int>(i)), batch.size());
    return;
  }
  Outcome failed = outcome_of_error(r, c);
  if (batch.size() == 1 || c.lost(r)) {
    for (Delivery* d : batch) answer(d, failed, batch.size());
    return;
  }
  log_event("batch_failed",
            {{"deliveries", std::to_string(batch.size())}, {"sqlstate", failed.sqlstate}, {"error", failed.error}});
  for (Delivery* d : batch) settle(c, {d}, c.receive(send_call(c, {d})).get());
}

// Sends the call for `batch` (see pg::Connection::send()).
pg::Result Batcher::send_call(pg::Connection& c, const std::vector<Delivery*>& batch) {
  if (batch_ == 1) {
    const Delivery* d = batch.front();
    const char* params[] = {d->headers.c_str(), d->body.c_str(), d->endpoint.c_str()};
    return c.send(kHandleEvent, params);
  }
  std::string headers = binary_array(batch, &Delivery::headers, kJsonbOid);
  std::string bodies = binary_array(batch, &Delivery::body, kTextOid);
  const char* params[] = {headers.data(), bodies.data(), batch.front()->endpoint.c_str()};
  const int lengths[] = {int(headers.size()), int(bodies.size()), 0};
  return c.send(kHandleEvents, params, lengths);
}

}  // namespace relay
