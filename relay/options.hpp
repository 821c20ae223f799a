// `orgsync-relay serve`'s settings: from the environment, then from flags.
#pragma once

#include <cstddef>
#include <functional>
#include <initializer_list>
#include <string>

#include "log.hpp"

namespace relay {

struct Options {
  std::string host = "127.0.0.1";
  int port = 8787;
  // GET /metrics on a listener of its own; unset (port -1): on the main one.
  std::string metrics_host;
  int metrics_port = -1;
  std::string database_url;  // empty: libpq reads the PG* environment
  // One: handle_events calls take turns inside Postgres anyway; more workers
  // only split the waiting deliveries into smaller batches (bench/relay/README.md).
  int pool = 1;
  size_t batch = 64;  // deliveries per handle_events call, at the most
  size_t max_body = 1 << 20;
  bool select_one = false;  // benchmark floor: SELECT 1 instead of handle_event
  LogFormat log_format = LogFormat::text;
  LogLevel log_level = LogLevel::info;
};

// Reads the environment, then argv[first..argc). Exits 0 after --help, 2 on a
// bad setting.
Options parse_options(int argc, char** argv, int first);

// A command's flag: --name VALUE or --name=VALUE when it takes a value, else --name.
struct Flag {
  const char* name;  // without the dashes
  bool takes_value;
};

// Reads argv[first..argc) as `flags`, calling on_flag(name, value) for each
// in order ("" for a flag without a value). --help prints `usage` and exits
// 0; --version prints the version and exits 0. An unknown flag, a missing
// value or a value given to a flag that takes none calls fail(message),
// which must not return.
void read_flags(int argc, char** argv, int first, const char* usage, std::initializer_list<Flag> flags,
                const std::function<void(const std::string& name, const std::string& value)>& on_flag,
                const std::function<void(const std::string& message)>& fail);

// Shared by the commands' options: a decimal number in [lo, hi].
bool parse_number(const std::string& s, unsigned long long lo, unsigned long long hi, unsigned long long& out);
// Why libpq refuses `conninfo` (a connection string or URI); empty when it
// accepts it, or when it is empty (the PG* environment).
std::string conninfo_error(const std::string& conninfo);

}  // namespace relay
