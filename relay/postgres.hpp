// Postgres through libpq: connections that reconnect after a restart and
// prepare their statements once, and what an SQLSTATE means for a sender.
#pragma once

#include <libpq-fe.h>

#include <memory>
#include <set>
#include <string>

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
  // How often ensure() has connected again after the session was lost.
  unsigned reconnects() const { return reconnects_; }
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
  unsigned reconnects_ = 0;
};

// `conninfo` (a connection string or URI; empty: the PG* environment's host,
// port, user and database) as "key=value ...", without the fields libpq
// marks secret (password, sslpassword): fit for a log.
std::string describe_conninfo(const std::string& conninfo);

// Lost connections, a server shutting down or short of resources,
// serialization failures, deadlocks and lock timeouts: what running the same
// statement again can get past.
bool retryable_sqlstate(const std::string& s);

// The HTTP status for a statement that failed with SQLSTATE `s`: 503 exactly
// where a retry can help.
int http_status_for_sqlstate(const std::string& s);

}  // namespace relay::pg
