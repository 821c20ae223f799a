// orgsync-relay: a small HTTP front door that hands Svix/Clerk webhook
// deliveries to orgsync.handle_events() (the deliveries waiting at the same
// moment, in one transaction) and turns each one's outcome into the HTTP
// status Svix acts on (2xx = done, anything else = retry later).

#include <httplib.h>
#include <libpq-fe.h>

#include <pthread.h>
#include <signal.h>
#include <sys/socket.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;

// How long a delivery may wait for a database worker, or a request for a
// connection; then 503 and Svix retries.
constexpr auto kPoolWait = std::chrono::seconds(5);
constexpr const char* kRetryAfter = "5";  // seconds, on every 503
// Genuine deliveries carry a few hundred bytes of headers; all of them go to
// Postgres with the body, so their total is capped like the body's size.
constexpr size_t kMaxHeaderBytes = 64 * 1024;

struct Options {
  std::string host = "127.0.0.1";
  int port = 8787;
  std::string database_url;  // empty: libpq reads the PG* environment
  // One: handle_events calls take turns inside Postgres anyway; more workers
  // only split the waiting deliveries into smaller batches (bench/relay/README.md).
  int pool = 1;
  size_t batch = 64;  // deliveries per handle_events call, at the most
  size_t max_body = 1 << 20;
  bool select_one = false;  // benchmark floor: SELECT 1 instead of handle_event
};

// ---------------------------------------------------------------- text helpers

// Strict UTF-8 as PostgreSQL accepts it for text: no NUL, no overlong forms,
// no surrogates, nothing past U+10FFFF.
bool valid_utf8(std::string_view s) {
  static const uint32_t min_for_len[] = {0, 0, 0x80, 0x800, 0x10000};
  size_t i = 0;
  while (i < s.size()) {
    auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      if (c == 0) return false;
      i++;
      continue;
    }
    size_t len;
    uint32_t cp;
    if ((c & 0xE0) == 0xC0) {
      len = 2, cp = c & 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
      len = 3, cp = c & 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
      len = 4, cp = c & 0x07;
    } else {
      return false;
    }
    if (i + len > s.size()) return false;
    for (size_t k = 1; k < len; k++) {
      auto cc = static_cast<unsigned char>(s[i + k]);
      if ((cc & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (cc & 0x3F);
    }
    if (cp < min_for_len[len] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
    i += len;
  }
  return true;
}

void append_json_string(std::string& out, std::string_view s) {
  out += '"';
  for (char ch : s) {
    auto c = static_cast<unsigned char>(ch);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += ch;
    } else if (c < 0x20 || c == 0x7F) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", c);
      out += buf;
    } else {
      out += ch;
    }
  }
  out += '"';
}

std::string json_string(std::string_view s) {
  std::string out;
  append_json_string(out, s);
  return out;
}

// A logfmt value: bare when it is a plain token, else quoted and escaped.
std::string logfmt(std::string_view s) {
  bool bare = !s.empty();
  for (char ch : s) {
    auto c = static_cast<unsigned char>(ch);
    if (c <= ' ' || c == '=' || c == '"' || c == '\\' || c >= 0x7F) bare = false;
  }
  return bare ? std::string(s) : json_string(s);
}

std::string ascii_lower(std::string s) {
  for (auto& c : s)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return s;
}

// The request headers as a JSON object with lower-cased names; when a header
// repeats, the first occurrence wins. False when a header is not UTF-8.
bool headers_json(const httplib::Headers& headers, std::string& out) {
  out = "{";
  std::string prev;
  // httplib's multimap compares names case-insensitively, so repeats are
  // adjacent and in arrival order.
  for (const auto& [name, value] : headers) {
    std::string key = ascii_lower(name);
    // Pseudo-headers httplib adds for the peer and local address: not sent.
    if (key == prev || key == "remote_addr" || key == "remote_port" || key == "local_addr" || key == "local_port")
      continue;
    if (!valid_utf8(key) || !valid_utf8(value)) return false;
    if (out.size() > 1) out += ',';
    append_json_string(out, key);
    out += ':';
    append_json_string(out, value);
    prev = std::move(key);
  }
  out += '}';
  return true;
}

// ----------------------------------------------------------- connection pool

using Result = std::unique_ptr<PGresult, decltype(&PQclear)>;

// The first line of libpq's last error message on this connection.
std::string connection_error(PGconn* pg) {
  std::string msg = PQerrorMessage(pg);
  auto nl = msg.find('\n');
  return nl == std::string::npos ? msg : msg.substr(0, nl);
}

// A statement the relay prepares on a connection the first time it runs it there.
struct Statement {
  const char *name, *sql;
  int nparams;
  const int* param_formats = nullptr;  // libpq's: 1 binary, 0 text; null: all text
};

// The benchmark floor: a round trip, nothing written.
const Statement kSelectOne{"select_one", "SELECT 1", 0};
// --batch 1: one delivery per transaction, and transactions in parallel (no
// turns); the same columns as kHandleEvents, so that one function reads both.
const Statement kHandleEvent{"handle_event",
                             "SELECT r::text, r->>'status', r->>'sqlstate', r->>'error' "
                             "FROM orgsync.handle_event($1::jsonb, $2, $3) AS r",
                             3};
// Otherwise deliveries for one endpoint, in one transaction: a row each, in
// order. A lone delivery goes this way too: handle_events calls take turns in
// Postgres, so the workers never deadlock one another (their commits overlap).
// Its arrays go in binary (binary_array()): Postgres's text array input reads
// a literal twice, a character at a time, unescaping every quote of the JSON.
const int kBinaryArraysTextEndpoint[] = {1, 1, 0};
const Statement kHandleEvents{"handle_events",
                              "SELECT r::text, r->>'status', r->>'sqlstate', r->>'error' "
                              "FROM orgsync.handle_events($1::jsonb[], $2::text[], $3) WITH ORDINALITY AS t(r, n) "
                              "ORDER BY n",
                              3, kBinaryArraysTextEndpoint};

class Pool {
 public:
  struct Conn {
    PGconn* pg = nullptr;
    std::set<const Statement*> prepared;  // on this session; cleared by a reset
  };
  struct Return {
    Pool* pool;
    void operator()(Conn* c) const { pool->release(c); }
  };
  using Lease = std::unique_ptr<Conn, Return>;

  Pool(const std::string& conninfo, int size) : conns_(size) {
    // connect_timeout comes first so the URL can override it; client_encoding
    // comes last because bodies go to the server byte for byte as UTF-8.
    const char* keys[] = {"connect_timeout", "dbname", "client_encoding", "fallback_application_name", nullptr};
    const char* vals[] = {"5", conninfo.c_str(), "UTF8", "orgsync-relay", nullptr};
    int failed = 0;
    std::string error;
    for (auto& c : conns_) {
      c.pg = PQconnectdbParams(keys, vals, 1);
      // Notices (including the FATAL a dying server sends to idle sessions)
      // would otherwise go to stderr and break the one-line-per-request log.
      PQsetNoticeProcessor(
          c.pg, [](void*, const char*) {}, nullptr);
      // A failed connection is retried (PQreset) when a request needs it.
      if (PQstatus(c.pg) != CONNECTION_OK) failed++, error = connection_error(c.pg);
      free_.push_back(&c);
    }
    if (failed) std::fprintf(stderr, "event=connect_failed connections=%d error=%s\n", failed, logfmt(error).c_str());
  }
  ~Pool() {
    for (auto& c : conns_) PQfinish(c.pg);
  }

  // A working connection, or null with `error` set when none frees up in
  // time or the database cannot be reached.
  Lease acquire(std::string& error) {
    std::unique_lock<std::mutex> lock(mu_);
    waiting_++;
    bool freed = freed_.wait_for(lock, kPoolWait, [&] { return !free_.empty(); });
    waiting_--;
    if (!freed) {
      error = "no database connection free in time";
      return Lease(nullptr, Return{this});
    }
    Lease conn(free_.back(), Return{this});
    free_.pop_back();
    lock.unlock();

    // Reading pending input detects a session the server closed while idle
    // (e.g. a restart) before a request is spent on it: the first read takes
    // the server's goodbye message, the second sees the end of the stream.
    PQconsumeInput(conn->pg);
    PQconsumeInput(conn->pg);
    if (PQstatus(conn->pg) != CONNECTION_OK) {
      PQreset(conn->pg);
      conn->prepared.clear();
      if (PQstatus(conn->pg) != CONNECTION_OK) {
        error = connection_error(conn->pg);
        return Lease(nullptr, Return{this});
      }
    }
    return conn;
  }

  // True while a caller of acquire() waits: a lease held from one call to the
  // next should then be given back.
  bool awaited() {
    std::lock_guard<std::mutex> lock(mu_);
    return waiting_ > 0;
  }

 private:
  void release(Conn* c) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      free_.push_back(c);
    }
    freed_.notify_one();
  }

  std::vector<Conn> conns_;
  std::vector<Conn*> free_;
  int waiting_ = 0;  // callers of acquire() waiting for a connection
  std::mutex mu_;
  std::condition_variable freed_;
};

// Sends `stmt` on `c` without waiting for its result (receive() collects
// it), preparing it first when this session has not yet. Null once sent;
// else why it did not go out, as a failed result.
Result send(Pool::Conn& c, const Statement& stmt, const char* const* params, const int* lengths = nullptr) {
  if (!c.prepared.count(&stmt)) {
    Result p(PQprepare(c.pg, stmt.name, stmt.sql, stmt.nparams, nullptr), &PQclear);
    if (PQresultStatus(p.get()) != PGRES_COMMAND_OK) return p;
    c.prepared.insert(&stmt);
  }
  if (PQsendQueryPrepared(c.pg, stmt.name, stmt.nparams, params, lengths, stmt.param_formats, 0))
    return Result(nullptr, &PQclear);
  return Result(PQmakeEmptyPGresult(c.pg, PGRES_FATAL_ERROR), &PQclear);
}

// The result of a statement on `c`, given what send() returned for it.
Result receive(Pool::Conn& c, Result sent) {
  if (sent) return sent;  // it did not go out
  Result last(nullptr, &PQclear);
  while (PGresult* r = PQgetResult(c.pg)) last.reset(r);
  if (!last) last.reset(PQmakeEmptyPGresult(c.pg, PGRES_FATAL_ERROR));
  return last;
}

// Runs `stmt` on `c` and waits for its result.
Result run(Pool::Conn& c, const Statement& stmt, const char* const* params) {
  return receive(c, send(c, stmt, params));
}

// ------------------------------------------------------------- worker threads

// httplib 0.11's ThreadPool queues accepted connections without limit; this
// one blocks the accept loop instead, so overload waits in the listen backlog.
class BoundedQueue : public httplib::TaskQueue {
 public:
  BoundedQueue(size_t threads, size_t max_queued) : max_queued_(max_queued) {
    for (size_t i = 0; i < threads; i++) workers_.emplace_back([this] { work(); });
  }

  void enqueue(std::function<void()> fn) override {
    std::unique_lock<std::mutex> lock(mu_);
    space_.wait(lock, [&] { return jobs_.size() < max_queued_; });
    jobs_.push_back(std::move(fn));
    lock.unlock();
    ready_.notify_one();
  }

  // Runs what is queued (httplib then just closes those sockets) and joins.
  void shutdown() override {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stopping_ = true;
    }
    ready_.notify_all();
    for (auto& t : workers_) t.join();
  }

 private:
  void work() {
    for (;;) {
      std::function<void()> fn;
      {
        std::unique_lock<std::mutex> lock(mu_);
        ready_.wait(lock, [&] { return stopping_ || !jobs_.empty(); });
        if (jobs_.empty()) return;
        fn = std::move(jobs_.front());
        jobs_.pop_front();
      }
      space_.notify_one();
      fn();
    }
  }

  const size_t max_queued_;
  std::vector<std::thread> workers_;
  std::deque<std::function<void()>> jobs_;
  bool stopping_ = false;
  std::mutex mu_;
  std::condition_variable ready_, space_;
};

// ---------------------------------------------------------------- deliveries

// 503 exactly where a retry can help: lost or refused connections,
// serialization failures and deadlocks, lock and statement timeouts,
// shutdowns, exhausted resources, and an endpoint whose signing secret is not
// configured yet.
int status_for_sqlstate(const std::string& s) {
  std::string cls = s.substr(0, 2);
  if (cls == "28") return 401;
  if (cls == "08" || cls == "53" || s == "25006" || s == "40001" || s == "40P01" || s == "55P03" || s == "55000" ||
      s == "57014" || s == "57P01" || s == "57P02" || s == "57P03")
    return 503;
  if (cls == "22") return 400;
  return 500;
}

// What one delivery is answered: its handle_event result when it was stored
// (200), else an error and the SQLSTATE behind it, if any.
struct Outcome {
  int status = 0;
  std::string json;    // the stored delivery's result
  std::string result;  // its "status", for the log
  std::string error, sqlstate;
  size_t batch = 0;  // deliveries in the database call that answered it; 0: none
};

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
    return failure(status_for_sqlstate(state), PQgetvalue(r, row, 3), state);
  }
  return failure(500, "orgsync returned an unexpected status");
}

// True when a call failed because the connection broke (the pool resets it
// before its next use), rather than with an error the server raised.
bool connection_lost(const PGresult* r, PGconn* pg) {
  return PQstatus(pg) != CONNECTION_OK || !PQresultErrorField(r, PG_DIAG_SQLSTATE);
}

Outcome outcome_of_error(const PGresult* r, PGconn* pg) {
  if (connection_lost(r, pg)) return failure(503, "database connection lost: " + connection_error(pg));
  const char* msg = PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY);
  std::string state = PQresultErrorField(r, PG_DIAG_SQLSTATE);
  return failure(status_for_sqlstate(state), msg ? msg : "database error", state);
}

bool has_rows(const PGresult* r, size_t rows) {
  return PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == static_cast<int>(rows);
}

// A delivery on its way to the database: the request thread that received it
// waits on `outcome`, which a database worker sets.
struct Delivery {
  std::string headers, body, endpoint;
  std::promise<Outcome> outcome;
};

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

// Deliveries waiting for a database worker, oldest first. Each request thread
// waits for its own delivery, so there are never more than HTTP threads.
class PendingDeliveries {
 public:
  void push(Delivery* d) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      queue_.push_back(d);
    }
    ready_.notify_one();
  }

  // False when a worker has taken it already (and will answer it).
  bool withdraw(Delivery* d) {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = std::find(queue_.begin(), queue_.end(), d);
    if (it == queue_.end()) return false;
    queue_.erase(it);
    return true;
  }

  // Takes the oldest delivery and the others waiting for the same endpoint
  // (one call serves one endpoint), up to `max`, in order of arrival; with
  // `wait`, waits for one first. Empty when none waits (with `wait`: once
  // stopped with nothing left).
  std::vector<Delivery*> take(size_t max, bool wait) {
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

  void stop() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stopping_ = true;
    }
    ready_.notify_all();
  }

 private:
  std::deque<Delivery*> queue_;
  bool stopping_ = false;
  std::mutex mu_;
  std::condition_variable ready_;
};

// ------------------------------------------------------------------- the relay

// What the access log needs beyond the request and response. A request is
// routed, answered and logged on one thread, so a thread_local carries it.
struct LogContext {
  Clock::time_point start;
  bool started = false;
  size_t batch = 0;
  std::string result, sqlstate, error;
};
thread_local LogContext tl_log;

class Relay {
 public:
  explicit Relay(const Options& opt) : opt_(opt), pool_(opt.database_url, opt.pool) {
    for (int i = 0; i < opt.pool; i++) workers_.emplace_back([this] { work(); });
  }

  // Called once every request has been answered: the workers have nothing left.
  ~Relay() {
    pending_.stop();
    for (auto& t : workers_) t.join();
  }

  // Every method on every path comes through here. Bodies are always read
  // (up to the limit, the rest discarded) so a keep-alive connection stays in
  // step even when the answer is 404 or 405.
  void route(const httplib::Request& req, httplib::Response& res, const httplib::ContentReader* reader) {
    std::string body;
    if (reader) {
      bool too_big = false;
      auto receive = [&](const char* data, size_t n) {
        if (too_big || body.size() + n > opt_.max_body)
          too_big = true;
        else
          body.append(data, n);
        return true;
      };
      // httplib fails a multipart body read any other way than part by part.
      bool ok = req.is_multipart_form_data()
                    ? (*reader)([](const httplib::MultipartFormData&) { return true; }, receive)
                    : (*reader)(receive);
      // httplib itself answers 413 for a Content-Length over the limit
      // (set_payload_max_length); chunked bodies are capped above.
      if (too_big || res.status == 413)
        return fail(res, 413, "body larger than " + std::to_string(opt_.max_body) + " bytes");
      if (!ok) return fail(res, 400, "could not read the request body");
    }

    const std::string prefix = "/webhooks/";
    std::string endpoint = req.path.rfind(prefix, 0) == 0 ? req.path.substr(prefix.size()) : "";
    if (req.path == "/webhooks" || (!endpoint.empty() && endpoint.find('/') == std::string::npos)) {
      if (req.method != "POST") return method_not_allowed(res, "POST");
      webhook(req, res, std::move(body), endpoint.empty() ? "default" : endpoint);
    } else if (req.path == "/healthz") {
      if (req.method != "GET" && req.method != "HEAD") return method_not_allowed(res, "GET, HEAD");
      select_one(res);
    } else {
      fail(res, 404, "not found");
    }
  }

 private:
  void webhook(const httplib::Request& req, httplib::Response& res, std::string body, std::string endpoint) {
    if (req.is_multipart_form_data()) return fail(res, 415, "a delivery is a JSON body, not multipart form data");
    size_t header_bytes = 0;
    for (const auto& [name, value] : req.headers) header_bytes += name.size() + value.size();
    if (header_bytes > kMaxHeaderBytes)
      return fail(res, 431, "request headers larger than " + std::to_string(kMaxHeaderBytes) + " bytes");
    // A genuine delivery is UTF-8 JSON; anything else cannot be a text parameter.
    if (!valid_utf8(body)) return fail(res, 400, "body is not valid UTF-8 text (or contains NUL bytes)");
    std::string headers;
    if (!headers_json(req.headers, headers)) return fail(res, 400, "a request header is not valid UTF-8");
    if (!valid_utf8(endpoint)) return fail(res, 400, "endpoint name is not valid UTF-8");
    // The floor is one unbatched round trip per request.
    if (opt_.select_one) return select_one(res);

    Outcome o = deliver(Delivery{std::move(headers), std::move(body), std::move(endpoint), {}});
    tl_log.batch = o.batch;
    if (o.status != 200) return fail(res, o.status, o.error, o.sqlstate.empty() ? nullptr : o.sqlstate.c_str());
    tl_log.result = o.result;
    reply(res, 200, o.json);
  }

  // Hands the delivery to the database workers and waits for its outcome.
  Outcome deliver(Delivery d) {
    auto outcome = d.outcome.get_future();
    pending_.push(&d);
    if (outcome.wait_for(kPoolWait) == std::future_status::timeout && pending_.withdraw(&d))
      return failure(503, "database unavailable: no database worker free in time");
    return outcome.get();
  }

  // A database worker, one per pool connection: each call sends every
  // delivery waiting for one endpoint (up to --batch).
  void work() {
    for (;;) {
      std::vector<Delivery*> batch = pending_.take(opt_.batch, true);
      if (batch.empty()) return;  // stopped
      std::string error;
      auto conn = pool_.acquire(error);
      if (conn) {
        serve(*conn, std::move(batch));
      } else {
        for (Delivery* d : batch) answer(d, failure(503, "database unavailable: " + error), 0);
      }
    }
  }

  // Calls for `batch`, then for what waits by the time each call returns,
  // while nothing else needs the connection. Each call goes out before the
  // previous one's deliveries are answered, so that Postgres works on it
  // while their request threads wake up.
  void serve(Pool::Conn& c, std::vector<Delivery*> batch) {
    Result sent = send_call(c, batch);
    while (!batch.empty()) {
      Result r = receive(c, std::move(sent));
      std::vector<Delivery*> next;
      // Not after a failure: settle() may then need the connection itself.
      if (has_rows(r.get(), batch.size()) && !pool_.awaited()) {
        next = pending_.take(opt_.batch, false);
        if (!next.empty()) sent = send_call(c, next);
      }
      settle(c, batch, r.get());
      batch = std::move(next);
    }
  }

  // Answers each delivery of `batch` from `r`, the result of its call. When
  // the call failed as a whole, other than by a lost connection (one delivery
  // that makes it raise, say), each delivery goes again alone, so that one
  // cannot fail its neighbours and a 2xx still means committed.
  void settle(Pool::Conn& c, const std::vector<Delivery*>& batch, const PGresult* r) {
    if (has_rows(r, batch.size())) {
      for (size_t i = 0; i < batch.size(); i++) answer(batch[i], outcome_of_row(r, static_cast<int>(i)), batch.size());
      return;
    }
    Outcome failed = outcome_of_error(r, c.pg);
    if (batch.size() == 1 || connection_lost(r, c.pg)) {
      for (Delivery* d : batch) answer(d, failed, batch.size());
      return;
    }
    std::fprintf(stderr, "event=batch_failed deliveries=%zu sqlstate=%s error=%s\n", batch.size(),
                 logfmt(failed.sqlstate).c_str(), logfmt(failed.error).c_str());
    for (Delivery* d : batch) settle(c, {d}, receive(c, send_call(c, {d})).get());
  }

  // Sends the call for `batch` (see send()).
  Result send_call(Pool::Conn& c, const std::vector<Delivery*>& batch) {
    if (opt_.batch == 1) {
      const Delivery* d = batch.front();
      const char* params[] = {d->headers.c_str(), d->body.c_str(), d->endpoint.c_str()};
      return send(c, kHandleEvent, params);
    }
    std::string headers = binary_array(batch, &Delivery::headers, kJsonbOid);
    std::string bodies = binary_array(batch, &Delivery::body, kTextOid);
    const char* params[] = {headers.data(), bodies.data(), batch.front()->endpoint.c_str()};
    const int lengths[] = {int(headers.size()), int(bodies.size()), 0};
    return send(c, kHandleEvents, params, lengths);
  }

  // Wakes the request thread; `d` may be gone as soon as this returns.
  static void answer(Delivery* d, Outcome o, size_t batch) {
    o.batch = batch;
    d->outcome.set_value(std::move(o));
  }

  // SELECT 1 on a pooled connection: /healthz, and the --select-one floor.
  void select_one(httplib::Response& res) {
    std::string error;
    auto conn = pool_.acquire(error);
    if (!conn) return fail(res, 503, "database unavailable: " + error);
    Result r = run(*conn, kSelectOne, nullptr);
    if (PQresultStatus(r.get()) != PGRES_TUPLES_OK)
      return fail(res, 503, "database unavailable: " + connection_error(conn->pg));
    reply(res, 200, R"({"status":"ok"})");
  }

  static void reply(httplib::Response& res, int status, const std::string& json) {
    res.status = status;
    res.set_content(json, "application/json");
  }

  static void fail(httplib::Response& res, int status, const std::string& error, const char* sqlstate = nullptr) {
    std::string json = R"({"error":)" + json_string(error);
    if (sqlstate) {
      json += R"(,"sqlstate":)" + json_string(sqlstate);
      tl_log.sqlstate = sqlstate;
    }
    // Server-side trouble is logged; client errors may echo client input.
    if (status >= 500) tl_log.error = error;
    if (status == 503) res.set_header("Retry-After", kRetryAfter);
    reply(res, status, json + "}");
  }

  static void method_not_allowed(httplib::Response& res, const char* allow) {
    res.set_header("Allow", allow);
    fail(res, 405, "method not allowed");
  }

  const Options& opt_;
  Pool pool_;
  PendingDeliveries pending_;
  std::vector<std::thread> workers_;
};

void log_request(const httplib::Request& req, const httplib::Response& res) {
  std::string line =
      "method=" + logfmt(req.method) + " path=" + logfmt(req.path) + " status=" + std::to_string(res.status);
  std::string id = req.get_header_value("svix-id");
  if (id.empty()) id = req.get_header_value("webhook-id");
  if (!id.empty()) line += " delivery_id=" + logfmt(id);
  if (tl_log.started) {
    std::chrono::duration<double, std::milli> ms = Clock::now() - tl_log.start;
    char buf[32];
    std::snprintf(buf, sizeof buf, " latency_ms=%.1f", ms.count());
    line += buf;
  }
  if (tl_log.batch) line += " batch=" + std::to_string(tl_log.batch);
  if (!tl_log.result.empty()) line += " result=" + tl_log.result;
  if (!tl_log.sqlstate.empty()) line += " sqlstate=" + logfmt(tl_log.sqlstate);
  if (!tl_log.error.empty()) line += " error=" + logfmt(tl_log.error);
  line += '\n';
  std::fputs(line.c_str(), stderr);  // one write per line: no interleaving
  tl_log = LogContext{};
}

// ------------------------------------------------------------------- options

const char* kUsage =
    "usage: orgsync-relay [options]\n"
    "\n"
    "Receives Clerk webhooks (sent through Svix) and hands them to\n"
    "orgsync.handle_events() in PostgreSQL: the deliveries waiting at the same\n"
    "moment go in one transaction, each answered with its own result.\n"
    "\n"
    "  --listen HOST:PORT       address to listen on (port 0: any free port)\n"
    "                           [ORGSYNC_RELAY_LISTEN, default 127.0.0.1:8787]\n"
    "  --database-url CONNINFO  libpq connection string or URI\n"
    "                           [ORGSYNC_RELAY_DATABASE_URL, default empty: PG* variables]\n"
    "  --pool N                 database connections, each with its worker\n"
    "                           [ORGSYNC_RELAY_POOL, default 1]\n"
    "  --batch N                deliveries per transaction, at the most (1: one each,\n"
    "                           with handle_event, in parallel over the pool)\n"
    "                           [ORGSYNC_RELAY_BATCH, default 64]\n"
    "  --max-body BYTES         largest accepted body\n"
    "                           [ORGSYNC_RELAY_MAX_BODY, default 1048576]\n"
    "  --select-one             benchmark floor: POST /webhooks runs SELECT 1 instead\n"
    "  --help                   show this help\n"
    "\n"
    "Routes: POST /webhooks, POST /webhooks/ENDPOINT, GET /healthz\n";

bool parse_number(const std::string& s, unsigned long long lo, unsigned long long hi, unsigned long long& out) {
  if (s.empty() || s.find_first_not_of("0123456789") != std::string::npos || s.size() > 12) return false;
  out = std::stoull(s);
  return out >= lo && out <= hi;
}

// Applies one setting (name without the dashes); false when its value is malformed.
bool apply(Options& opt, const std::string& name, const std::string& value) {
  unsigned long long n;
  if (name == "listen") {
    auto colon = value.rfind(':');
    if (colon == std::string::npos || colon == 0) return false;
    std::string host = value.substr(0, colon);
    if (host.size() > 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
    if (!parse_number(value.substr(colon + 1), 0, 65535, n)) return false;
    opt.host = host;
    opt.port = static_cast<int>(n);
  } else if (name == "database-url") {
    opt.database_url = value;
  } else if (name == "pool") {
    if (!parse_number(value, 1, 1000, n)) return false;
    opt.pool = static_cast<int>(n);
  } else if (name == "batch") {
    if (!parse_number(value, 1, 1000, n)) return false;
    opt.batch = static_cast<size_t>(n);
  } else {  // max-body: the callers pass known names only
    if (!parse_number(value, 1, 1ULL << 30, n)) return false;
    opt.max_body = static_cast<size_t>(n);
  }
  return true;
}

// Environment first, then flags. Exits 0 on --help, 2 on a bad setting.
Options parse_options(int argc, char** argv) {
  Options opt;
  auto die = [](const std::string& what) {
    std::fprintf(stderr, "orgsync-relay: %s\n\n%s", what.c_str(), kUsage);
    std::exit(2);
  };
  const char* env[][2] = {{"ORGSYNC_RELAY_LISTEN", "listen"},
                          {"ORGSYNC_RELAY_DATABASE_URL", "database-url"},
                          {"ORGSYNC_RELAY_POOL", "pool"},
                          {"ORGSYNC_RELAY_BATCH", "batch"},
                          {"ORGSYNC_RELAY_MAX_BODY", "max-body"}};
  for (auto& e : env) {
    const char* v = std::getenv(e[0]);
    if (v && !apply(opt, e[1], v)) die(std::string("bad value in ") + e[0]);
  }
  for (int i = 1; i < argc; i++) {
    std::string arg = argv[i];
    if (arg == "--help" || arg == "-h") {
      std::fputs(kUsage, stdout);
      std::exit(0);
    }
    if (arg == "--select-one") {
      opt.select_one = true;
      continue;
    }
    std::string name = arg.substr(0, arg.find('=')), value;
    if (name != "--listen" && name != "--database-url" && name != "--pool" && name != "--batch" && name != "--max-body")
      die("unknown option " + name);
    if (name.size() < arg.size()) {
      value = arg.substr(name.size() + 1);
    } else if (i + 1 < argc) {
      value = argv[++i];
    } else {
      die("missing value for " + arg);
    }
    if (!apply(opt, name.substr(2), value)) die("bad value for " + name + ": " + value);
  }
  if (!opt.database_url.empty()) {
    char* err = nullptr;
    PQconninfoOption* parsed = PQconninfoParse(opt.database_url.c_str(), &err);
    if (!parsed) {
      std::string msg = err ? err : "out of memory";
      PQfreemem(err);
      die("bad --database-url: " + msg);
    }
    PQconninfoFree(parsed);
  }
  return opt;
}

}  // namespace

int main(int argc, char** argv) {
  Options opt = parse_options(argc, argv);

  // Termination signals go to one thread that stops the server; block them
  // before any other thread exists so every thread inherits the mask.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  std::signal(SIGPIPE, SIG_IGN);  // a client that hangs up must not kill us

  Relay relay(opt);
  httplib::Server svr;
  // Twice the pool: idle keep-alive connections also hold a thread, and must
  // not starve requests that could use a free database connection; plus a
  // batch, so that a full one can gather while every connection is busy.
  size_t threads = 2 * static_cast<size_t>(opt.pool) + opt.batch;
  svr.new_task_queue = [threads] { return new BoundedQueue(threads, 4 * threads); };
  svr.set_payload_max_length(opt.max_body);
  svr.set_tcp_nodelay(true);  // headers and body are separate writes

  auto plain = [&](const httplib::Request& req, httplib::Response& res) { relay.route(req, res, nullptr); };
  auto with_body = [&](const httplib::Request& req, httplib::Response& res, const httplib::ContentReader& reader) {
    relay.route(req, res, &reader);
  };
  svr.Get(".*", plain);
  svr.Options(".*", plain);
  svr.Post(".*", with_body);
  svr.Put(".*", with_body);
  svr.Patch(".*", with_body);
  svr.Delete(".*", with_body);
  svr.set_pre_routing_handler([](const httplib::Request&, httplib::Response&) {
    tl_log.start = Clock::now();
    tl_log.started = true;
    return httplib::Server::HandlerResponse::Unhandled;
  });
  // Errors httplib answers itself (malformed request, unknown method) get a
  // JSON body too.
  svr.set_error_handler(httplib::Server::HandlerWithResponse([](const httplib::Request&, httplib::Response& res) {
    if (!res.body.empty()) return httplib::Server::HandlerResponse::Unhandled;
    res.set_content(R"({"error":"HTTP )" + std::to_string(res.status) + "\"}", "application/json");
    return httplib::Server::HandlerResponse::Handled;
  }));
  svr.set_logger(log_request);
  // httplib 0.11 listens with a backlog of 5: in a burst of concurrent
  // deliveries the kernel drops the connections past it, and each waits a
  // second to try again. Its socket-options hook is what sees the listening
  // socket (the last one it is called for is the one bound).
  int listener = -1;
  svr.set_socket_options([&listener](int sock) {
    httplib::default_socket_options(sock);
    listener = sock;
  });

  int port = opt.port == 0 ? svr.bind_to_any_port(opt.host) : svr.bind_to_port(opt.host, opt.port) ? opt.port : -1;
  if (port < 0 || listen(listener, SOMAXCONN) != 0) {
    std::fprintf(stderr, "orgsync-relay: cannot listen on %s:%d\n", opt.host.c_str(), opt.port);
    return 1;
  }
  bool v6 = opt.host.find(':') != std::string::npos;
  std::printf("orgsync-relay listening on http://%s%s%s:%d (pool %d, batch %zu)\n", v6 ? "[" : "", opt.host.c_str(),
              v6 ? "]" : "", port, opt.pool, opt.batch);
  std::fflush(stdout);

  std::thread([&svr, &stop_signals] {
    int sig;
    sigwait(&stop_signals, &sig);
    // stop() is a no-op until listen has started; the signal may beat it.
    while (!svr.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(10));
    svr.stop();  // closes the listener; listen_after_bind() then joins the workers
    std::fprintf(stderr, "event=shutdown signal=%s\n", sig == SIGTERM ? "TERM" : "INT");
  }).detach();

  // Returns once stopped and every request in flight has been answered; the
  // workers stop and the pool's connections close when `relay` goes out of scope.
  return svr.listen_after_bind() ? 0 : 1;
}
