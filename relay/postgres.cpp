#include "postgres.hpp"

#include <cstring>

namespace relay::pg {

Connection::Connection(const std::string& conninfo, const char* application_name) {
  // connect_timeout comes first so the conninfo can override it;
  // client_encoding comes last because text goes to the server byte for byte
  // as UTF-8.
  const char* keys[] = {"connect_timeout", "dbname", "client_encoding", "fallback_application_name", nullptr};
  const char* vals[] = {"5", conninfo.c_str(), "UTF8", application_name, nullptr};
  pg_ = PQconnectdbParams(keys, vals, 1);
  // Notices (including the FATAL a dying server sends to idle sessions) would
  // otherwise go to stderr, past the relay's log.
  PQsetNoticeProcessor(
      pg_, [](void*, const char*) {}, nullptr);
}

Connection::~Connection() { PQfinish(pg_); }

bool Connection::ensure() {
  // Reading pending input detects a session the server closed while idle
  // before a statement is spent on it: the first read takes the server's
  // goodbye message, the second sees the end of the stream.
  PQconsumeInput(pg_);
  PQconsumeInput(pg_);
  if (ok()) return true;
  PQreset(pg_);
  prepared_.clear();
  if (ok()) reconnects_++;
  return ok();
}

std::string Connection::error() const {
  std::string msg = PQerrorMessage(pg_);
  auto nl = msg.find('\n');
  return nl == std::string::npos ? msg : msg.substr(0, nl);
}

Result Connection::send(const Statement& stmt, const char* const* params, const int* lengths) {
  if (!prepared_.count(&stmt)) {
    Result p(PQprepare(pg_, stmt.name, stmt.sql, stmt.nparams, nullptr), &PQclear);
    if (PQresultStatus(p.get()) != PGRES_COMMAND_OK) return p;
    prepared_.insert(&stmt);
  }
  if (PQsendQueryPrepared(pg_, stmt.name, stmt.nparams, params, lengths, stmt.param_formats, 0))
    return Result(nullptr, &PQclear);
  return Result(PQmakeEmptyPGresult(pg_, PGRES_FATAL_ERROR), &PQclear);
}

Result Connection::receive(Result sent) {
  if (sent) return sent;  // it did not go out
  Result last(nullptr, &PQclear);
  while (PGresult* r = PQgetResult(pg_)) last.reset(r);
  if (!last) last.reset(PQmakeEmptyPGresult(pg_, PGRES_FATAL_ERROR));
  return last;
}

bool Connection::lost(const PGresult* r) const { return !ok() || !PQresultErrorField(r, PG_DIAG_SQLSTATE); }

std::string describe_conninfo(const std::string& conninfo) {
  char* err = nullptr;
  PQconninfoOption* options = conninfo.empty() ? PQconndefaults() : PQconninfoParse(conninfo.c_str(), &err);
  PQfreemem(err);
  if (!options) return "";
  std::string out;
  for (PQconninfoOption* o = options; o->keyword; o++) {
    std::string key = o->keyword;
    // libpq marks its secrets (password, sslpassword, and any it adds) with '*'.
    if (!o->val || std::strchr(o->dispchar, '*')) continue;
    if (conninfo.empty() && key != "host" && key != "port" && key != "user" && key != "dbname") continue;
    std::string value = o->val;
    bool bare = !value.empty() && value.find_first_of(" '\\") == std::string::npos;
    if (!bare) {
      std::string quoted = "'";
      for (char c : value) quoted += c == '\'' || c == '\\' ? std::string("\\") + c : std::string(1, c);
      value = quoted + "'";
    }
    out += (out.empty() ? "" : " ") + key + "=" + value;
  }
  PQconninfoFree(options);
  return out;
}

bool retryable_sqlstate(const std::string& s) {
  std::string cls = s.substr(0, 2);
  return cls == "08" || cls == "53" || s == "40001" || s == "40P01" || s == "55P03" || s == "57P01" || s == "57P02" ||
         s == "57P03";
}

// What a retry can get past (above), statement timeouts, read-only
// transactions (a standby), and an object not in the state needed yet (for
// orgsync: an endpoint whose signing secret is not configured, an extension
// not updated) are 503.
int http_status_for_sqlstate(const std::string& s) {
  std::string cls = s.substr(0, 2);
  if (cls == "28") return 401;
  if (retryable_sqlstate(s) || s == "25006" || s == "55000" || s == "57014") return 503;
  if (cls == "22") return 400;
  return 500;
}

}  // namespace relay::pg
