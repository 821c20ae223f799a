// `orgsync-relay serve`'s settings: from the environment, then from flags.
#pragma once

#include <cstddef>
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

}  // namespace relay
