#include "options.hpp"

#include <libpq-fe.h>

#include <cstdio>
#include <cstdlib>
#include <functional>

#include "version.hpp"

namespace relay {

namespace {

const char* kUsage =
    "usage: orgsync-relay [serve] [options]\n"
    "\n"
    "Receives Clerk webhooks (sent through Svix) and hands them to\n"
    "orgsync.handle_events() in PostgreSQL: the deliveries waiting at the same\n"
    "moment go in one transaction, each answered with its own result.\n"
    "\n"
    "  --listen HOST:PORT       address to listen on (port 0: any free port)\n"
    "                           [ORGSYNC_RELAY_LISTEN, default 127.0.0.1:8787]\n"
    "  --metrics-listen HOST:PORT  serve GET /metrics there, not on --listen\n"
    "                           [ORGSYNC_RELAY_METRICS_LISTEN, default unset]\n"
    "  --database-url CONNINFO  libpq connection string or URI\n"
    "                           [ORGSYNC_RELAY_DATABASE_URL, default empty: PG* variables]\n"
    "  --pool N                 database connections, each with its worker\n"
    "                           [ORGSYNC_RELAY_POOL, default 1]\n"
    "  --batch N                deliveries per transaction, at the most (1: one each,\n"
    "                           with handle_event, in parallel over the pool)\n"
    "                           [ORGSYNC_RELAY_BATCH, default 64]\n"
    "  --max-body BYTES         largest accepted body\n"
    "                           [ORGSYNC_RELAY_MAX_BODY, default 1048576]\n"
    "  --log-format text|json   one logfmt line, or one JSON object, per request and event\n"
    "                           [ORGSYNC_RELAY_LOG_FORMAT, default text]\n"
    "  --log-level LEVEL        debug, info, warn or error: the least logged\n"
    "                           [ORGSYNC_RELAY_LOG_LEVEL, default info]\n"
    "  --select-one             benchmark floor: POST /webhooks runs SELECT 1 instead\n"
    "  --version                print the version\n"
    "  --help                   show this help\n"
    "\n"
    "Routes: POST /webhooks, POST /webhooks/ENDPOINT, GET /healthz, GET /metrics\n"
    "\n"
    "orgsync-relay backfill --help: the backfill from Clerk's Backend API\n";

// HOST:PORT, or [HOST]:PORT for an IPv6 address.
bool parse_address(const std::string& value, std::string& host, int& port) {
  unsigned long long n;
  auto colon = value.rfind(':');
  if (colon == std::string::npos || colon == 0) return false;
  std::string h = value.substr(0, colon);
  if (h.size() > 2 && h.front() == '[' && h.back() == ']') h = h.substr(1, h.size() - 2);
  if (!parse_number(value.substr(colon + 1), 0, 65535, n)) return false;
  host = h;
  port = static_cast<int>(n);
  return true;
}

// Applies one setting (name without the dashes); false when its value is malformed.
bool apply(Options& opt, const std::string& name, const std::string& value) {
  unsigned long long n;
  if (name == "listen") {
    return parse_address(value, opt.host, opt.port);
  } else if (name == "metrics-listen") {
    return parse_address(value, opt.metrics_host, opt.metrics_port);
  } else if (name == "database-url") {
    opt.database_url = value;
  } else if (name == "pool") {
    if (!parse_number(value, 1, 1000, n)) return false;
    opt.pool = static_cast<int>(n);
  } else if (name == "batch") {
    if (!parse_number(value, 1, 1000, n)) return false;
    opt.batch = static_cast<size_t>(n);
  } else if (name == "max-body") {
    if (!parse_number(value, 1, 1ULL << 30, n)) return false;
    opt.max_body = static_cast<size_t>(n);
  } else if (name == "log-format") {
    return parse_log_format(value, opt.log_format);
  } else if (name == "log-level") {
    return parse_log_level(value, opt.log_level);
  } else {
    return false;
  }
  return true;
}

}  // namespace

Options parse_options(int argc, char** argv, int first) {
  Options opt;
  auto die = [](const std::string& what) {
    std::fprintf(stderr, "orgsync-relay: %s\n\n%s", what.c_str(), kUsage);
    std::exit(2);
  };
  const char* env[][2] = {{"ORGSYNC_RELAY_LISTEN", "listen"},
                          {"ORGSYNC_RELAY_METRICS_LISTEN", "metrics-listen"},
                          {"ORGSYNC_RELAY_DATABASE_URL", "database-url"},
                          {"ORGSYNC_RELAY_POOL", "pool"},
                          {"ORGSYNC_RELAY_BATCH", "batch"},
                          {"ORGSYNC_RELAY_MAX_BODY", "max-body"},
                          {"ORGSYNC_RELAY_LOG_FORMAT", "log-format"},
                          {"ORGSYNC_RELAY_LOG_LEVEL", "log-level"}};
  for (auto& e : env) {
    const char* v = std::getenv(e[0]);
    if (v && !apply(opt, e[1], v)) die(std::string("bad value in ") + e[0]);
  }
  read_flags(
      argc, argv, first, kUsage,
      {{"listen", true},
       {"metrics-listen", true},
       {"database-url", true},
       {"pool", true},
       {"batch", true},
       {"max-body", true},
       {"log-format", true},
       {"log-level", true},
       {"select-one", false}},
      [&](const std::string& name, const std::string& value) {
        if (name == "select-one") {
          opt.select_one = true;
        } else if (!apply(opt, name, value)) {
          die("bad value for --" + name + ": " + value);
        }
      },
      die);
  std::string conninfo_problem = conninfo_error(opt.database_url);
  if (!conninfo_problem.empty()) die("bad --database-url: " + conninfo_problem);
  return opt;
}

void read_flags(int argc, char** argv, int first, const char* usage, std::initializer_list<Flag> flags,
                const std::function<void(const std::string& name, const std::string& value)>& on_flag,
                const std::function<void(const std::string& message)>& fail) {
  for (int i = first; i < argc; i++) {
    std::string arg = argv[i];
    if (arg == "--help" || arg == "-h") {
      std::fputs(usage, stdout);
      std::exit(0);
    }
    if (arg == "--version") {
      std::printf("orgsync-relay %s\n", kVersion);
      std::exit(0);
    }
    std::string name = arg.substr(0, arg.find('=')), value;
    const Flag* flag = nullptr;
    for (const Flag& f : flags)
      if (name == std::string("--") + f.name) flag = &f;
    if (!flag) return fail("unknown option " + name);
    if (flag->takes_value) {
      if (name.size() < arg.size()) {
        value = arg.substr(name.size() + 1);
      } else if (i + 1 < argc) {
        value = argv[++i];
      } else {
        return fail("missing value for " + arg);
      }
    } else if (name.size() < arg.size()) {
      return fail(name + " takes no value");
    }
    on_flag(flag->name, value);
  }
}

bool parse_number(const std::string& s, unsigned long long lo, unsigned long long hi, unsigned long long& out) {
  if (s.empty() || s.find_first_not_of("0123456789") != std::string::npos || s.size() > 12) return false;
  out = std::stoull(s);
  return out >= lo && out <= hi;
}

std::string conninfo_error(const std::string& conninfo) {
  if (conninfo.empty()) return "";
  char* err = nullptr;
  PQconninfoOption* parsed = PQconninfoParse(conninfo.c_str(), &err);
  if (parsed) {
    PQconninfoFree(parsed);
    return "";
  }
  std::string msg = err ? err : "out of memory";
  PQfreemem(err);
  while (!msg.empty() && msg.back() == '\n') msg.pop_back();
  return msg;
}

}  // namespace relay
