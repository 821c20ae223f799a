// `orgsync-relay backfill`'s settings, from flags and the variables Clerk's
// SDKs read (CLERK_API_URL); the backfill runs as a role of its own, so it
// reads none of the relay's environment. Clerk's secret key is not among
// them: it comes from CLERK_SECRET_KEY alone.
#pragma once

#include <cstddef>
#include <string>

namespace relay::backfill {

struct Options {
  std::string database_url;                          // empty: libpq reads the PG* environment
  std::string api_url = "https://api.clerk.com/v1";  // or $CLERK_API_URL/v1
  std::string api_ca_file;                           // empty: the system's CA certificates
  bool sweep = false;
  bool resume = false;
  unsigned rate = 9;       // requests per second; 0: no limit. Below Clerk's 100 per 10 s for development instances
  size_t page_size = 500;  // Clerk's maximum
};

// Reads argv[first..argc). Exits 0 after --help or --version, 2 on a bad flag.
Options parse_options(int argc, char** argv, int first);

// Exits 2 with `what` and the usage.
[[noreturn]] void usage_error(const std::string& what);

}  // namespace relay::backfill
