// Postgres through libpq: connections that reconnect after a restart and
// prepare their statements once, and what an SQLSTATE means for a sender.
#pragma once

#include <libpq-fe.h>

#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

namespace relay::pg {

using Result = std::unique_ptr<PGresult, decltype(&PQclear)>;

// A statement prepared on a connection the first time it runs there.
struct Statement {
  const char *name, *sql;
  int nparams;
  const int* param_formats = nullptr;  // libpq's: 1 binary, 0 text; null: all text
};

// One session. Failing to connect is not an error here: ensure() tries again
// when the session is needed.
class Connection {
 public:
  // `conninfo`: a libpq connection string or URI; empty: the PG* environment.
  Connection(const std::string& conninfo, const char* application_name);
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  bool ok() const { return PQstatus(pg_) == CONNECTION_OK; }
  // Connected, reconnecting first when the server closed the session (a
  // restart, say); false when the database cannot be reached.
  bool ensure();
  // The first line of libpq's last error message on this session.
  std::string error() const;

  // Sends `stmt` without waiting for its result (receive() collects it),
  // preparing it first when this session has not yet. Null once sent; else
  // why it did not go out, as a failed result.
  Result send(const Statement& stmt, const char* const* params, const int* lengths = nullptr);
  // The result of a statement, given what send() returned for it.
  Result receive(Result sent);
  Result run(const Statement& stmt, const char* const* params) { return receive(send(stmt, params)); }

  // True when `r` failed because the session broke (ensure() reconnects
  // before its next use), rather than with an error the server raised.
  bool lost(const PGresult* r) const;

 private:
  PGconn* pg_;
  std::set<const Statement*> prepared_;  // on this session; cleared by a reconnect
};

// A fixed set of connections lent out one request or worker at a time.
class Pool {
 public:
  struct Return {
    Pool* pool;
    void operator()(Connection* c) const { pool->release(c); }
  };
  using Lease = std::unique_ptr<Connection, Return>;

  Pool(const std::string& conninfo, int size, const char* application_name);

  // A working connection, or null with `error` set when none frees up within
  // `wait` or the database cannot be reached.
  Lease acquire(std::chrono::milliseconds wait, std::string& error);

  // True while a caller of acquire() waits: a lease held from one call to the
  // next should then be given back.
  bool awaited();

 private:
  void release(Connection* c);

  std::vector<std::unique_ptr<Connection>> conns_;
  std::vector<Connection*> free_;
  int waiting_ = 0;  // callers of acquire() waiting for a connection
  std::mutex mu_;
  std::condition_variable freed_;
};

// The HTTP status for a statement that failed with SQLSTATE `s`: 503 exactly
// where a retry can help.
int http_status_for_sqlstate(const std::string& s);

}  // namespace relay::pg
