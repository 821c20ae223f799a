#include "backfill_options.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <cstdio>
#include <cstdlib>

#include "options.hpp"

namespace relay::backfill {

namespace {

const char* kUsage =
    "usage: CLERK_SECRET_KEY=sk_... orgsync-relay backfill [options]\n"
    "\n"
    "Reads every organization, user, membership, invitation, domain, role and\n"
    "permission from Clerk's Backend API and applies them to orgsync in\n"
    "PostgreSQL under the merge rules of webhooks, a page per transaction.\n"
    "\n"
    "  --database-url CONNINFO  libpq connection string or URI, for a role granted\n"
    "                           orgsync_backfill [default empty: the PG* variables]\n"
    "  --api-url URL            Clerk's Backend API [$CLERK_API_URL/v1, else\n"
    "                           https://api.clerk.com/v1]; http:// only to a loopback\n"
    "                           host (127.0.0.0/8, localhost, [::1])\n"
    "  --api-ca-file FILE       trust the CA certificates in FILE (PEM) instead of the\n"
    "                           system's; the certificate is verified all the same\n"
    "  --sweep                  then end the live rows Clerk no longer has (each one\n"
    "                           confirmed gone by a request of its own)\n"
    "  --resume                 continue the newest unfinished run where it stopped\n"
    "  --rate N                 requests per second at the most; 0: no limit [9]\n"
    "  --page-size N            objects per request, 2 to 500 [500]\n"
    "  --version                print the version\n"
    "  --help                   show this help\n"
    "\n"
    "Clerk's secret key comes from CLERK_SECRET_KEY, and only from there.\n"
    "Exit status: 0 complete; 1 failed (Clerk unreachable or failing after retries,\n"
    "a database error); 2 usage; 3 Clerk refused the key (401, 403).\n";

}  // namespace

void usage_error(const std::string& what) {
  std::fprintf(stderr, "orgsync-relay backfill: %s\n\n%s", what.c_str(), kUsage);
  std::exit(2);
}

namespace {

// Whether an http:// url names this machine by its loopback address or
// `localhost`: the only place the secret key may go unencrypted (a stand-in
// for tests). Anything else after the host than a port is refused too, so that
// no spelling (userinfo, say) reads one host here and another in the client.
bool loopback_http(const std::string& url) {
  const size_t from = std::string("http://").size();
  std::string authority = url.substr(from, url.find_first_of("/?#", from) - from);
  bool bracketed = !authority.empty() && authority[0] == '[';
  size_t host_end = bracketed ? authority.find(']') : authority.find(':');
  if (bracketed && host_end == std::string::npos) return false;
  std::string host = bracketed ? authority.substr(1, host_end - 1) : authority.substr(0, host_end);
  std::string port = host_end == std::string::npos ? "" : authority.substr(host_end + bracketed);
  if (!port.empty() &&
      (port.size() == 1 || port[0] != ':' || port.find_first_not_of("0123456789", 1) != std::string::npos))
    return false;
  in_addr v4;
  in6_addr v6;
  if (bracketed) return inet_pton(AF_INET6, host.c_str(), &v6) == 1 && IN6_IS_ADDR_LOOPBACK(&v6);
  return host == "localhost" || (inet_pton(AF_INET, host.c_str(), &v4) == 1 && ntohl(v4.s_addr) >> 24 == 127);
}

void set_api_url(Options& opt, const std::string& flag, const std::string& value) {
  if (value.rfind("https://", 0) != 0 && value.rfind("http://", 0) != 0)
    usage_error("bad " + flag + ": expected https://HOST[:PORT][/PATH]");
  if (value.rfind("http://", 0) == 0 && !loopback_http(value))
    usage_error("bad " + flag + ": http:// would send the secret key unencrypted; it is for a stand-in on this " +
                "machine only (127.0.0.0/8, localhost, [::1]): use https://");
  opt.api_url = value;
}

}  // namespace

Options parse_options(int argc, char** argv, int first) {
  Options opt;
  // CLERK_API_URL is what Clerk's SDKs read for the API's address, without
  // the version; --api-url, with it, wins.
  if (const char* base = std::getenv("CLERK_API_URL"); base != nullptr && *base != '\0') {
    std::string url = base;
    while (!url.empty() && url.back() == '/') url.pop_back();
    set_api_url(opt, "CLERK_API_URL", url + "/v1");
  }
  auto apply = [&opt](const std::string& name, const std::string& value) {
    unsigned long long n;
    if (name == "sweep" || name == "resume") {
      (name == "sweep" ? opt.sweep : opt.resume) = true;
    } else if (name == "database-url") {
      std::string problem = conninfo_error(value);
      if (!problem.empty()) usage_error("bad --database-url: " + problem);
      opt.database_url = value;
    } else if (name == "api-url") {
      set_api_url(opt, "--api-url", value);
    } else if (name == "api-ca-file") {
      if (std::FILE* f = std::fopen(value.c_str(), "r")) {
        std::fclose(f);
      } else {
        usage_error("cannot read --api-ca-file " + value);
      }
      opt.api_ca_file = value;
    } else if (name == "rate") {
      if (!parse_number(value, 0, 100000, n)) usage_error("bad value for --rate: " + value);
      opt.rate = static_cast<unsigned>(n);
    } else {  // page-size
      if (!parse_number(value, 2, 500, n)) usage_error("bad value for --page-size (2 to 500): " + value);
      opt.page_size = static_cast<size_t>(n);
    }
  };
  read_flags(argc, argv, first, kUsage,
             {{"database-url", true},
              {"api-url", true},
              {"api-ca-file", true},
              {"sweep", false},
              {"resume", false},
              {"rate", true},
              {"page-size", true}},
             apply, usage_error);
  return opt;
}

}  // namespace relay::backfill
