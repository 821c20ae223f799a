#include "backfill.hpp"

#include <unistd.h>

#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <memory>

#include "backfill_kinds.hpp"
#include "backfill_options.hpp"
#include "backfill_store.hpp"
#include "clerk_api.hpp"
#include "log.hpp"
#include "pager.hpp"
#include "progress.hpp"
#include "sweep.hpp"
#include "text.hpp"

namespace relay::backfill {

namespace {

// One run, from its first page to backfill_finish.
class Backfill {
 public:
  Backfill(const Options& options, clerk::Api& api, Store& store, Run run, Progress& progress)
      : options_(options), api_(api), store_(store), run_(std::move(run)), progress_(progress) {}

  void list_all() {
    for (const KindInfo& kind : kKinds) {
      auto found = run_.kinds.find(kind.name());
      if (found != run_.kinds.end() && found->second.listed) continue;  // done before a --resume
      list(kind, found == run_.kinds.end() ? "" : found->second.position);
    }
  }

  // After every listing: backfill_candidates refuses a kind whose listing is
  // incomplete, and an organization's or user's tombstone ends its
  // memberships before they would be asked about one by one.
  void sweep_all() {
    for (const KindInfo& kind : kKinds) {
      auto found = run_.kinds.find(kind.name());
      if (kind.swept && (found == run_.kinds.end() || !found->second.swept)) sweep(kind);
    }
  }

 private:
  // One page applied while the next is read: page k goes to Postgres
  // (without waiting), then page k+1 is requested, then page k's counts are
  // collected.
  void list(const KindInfo& kind, const std::string& position) {
    std::unique_ptr<Pager> pager = make_pager(kind, api_, options_.page_size, position);
    progress_.listing(kind.name());
    std::optional<Page> in_flight;  // what the display needs of the page Postgres has (not its body)
    for (bool last = false; !last;) {
      Page page = pager->next();
      if (in_flight) progress_.page(kind.name(), *in_flight, store_.page_applied());
      last = page.last;
      in_flight = Page{"", page.objects, page.done, page.total, "", page.last};
      store_.send_page(run_.id, kind.name(), std::move(page));
    }
    progress_.page(kind.name(), *in_flight, store_.page_applied());
    progress_.listed(kind.name());
  }

  void sweep(const KindInfo& kind) {
    std::vector<Candidate> candidates = store_.candidates(run_.id, kind.name());
    progress_.sweeping(kind.name(), candidates.size());
    for (const Candidate& candidate : candidates) {
      Presence presence = ask_clerk(api_, kind, candidate, options_.page_size);
      // Only what Clerk confirmed gone, and only if no webhook wrote it since
      // it became a candidate.
      std::string result =
          presence == Presence::gone ? store_.tombstone(run_.id, kind.name(), candidate) : presence_name(presence);
      progress_.checked(kind.name(), candidate, result);
    }
    store_.swept(run_.id, kind.name());
    progress_.swept(kind.name());
  }

  const Options& options_;
  clerk::Api& api_;
  Store& store_;
  Run run_;
  Progress& progress_;
};

[[noreturn]] void fail(int status, const std::string& message) {
  std::fprintf(stderr, "orgsync-relay backfill: %s\n", message.c_str());
  std::exit(status);
}

// The run to work on: a new one, or with --resume the newest unfinished one.
Run open_run(const Options& options, Store& store) {
  if (!options.resume) return store.start(options.sweep);
  std::optional<Run> run = store.unfinished_run();
  if (!run) fail(kFailed, "--resume: no unfinished run in orgsync.backfill_runs");
  if (options.sweep && !run->sweep) {
    usage_error("--resume --sweep: run " + std::to_string(run->id) +
                " was started without --sweep; finish it without, or start a new run");
  }
  return *run;
}

// A run's outcome in orgsync.backfill_runs: short, on one line.
std::string outcome(const std::string& why) { return shortened("failed: " + why, 300); }

}  // namespace

int run(int argc, char** argv, int first) {
  Options options = parse_options(argc, argv, first);
  const char* key = std::getenv("CLERK_SECRET_KEY");
  if (!key || !*key) usage_error("CLERK_SECRET_KEY is not set: the backfill reads Clerk's secret key from it");
  std::signal(SIGPIPE, SIG_IGN);

  std::unique_ptr<clerk::Api> api;
  try {
    api =
        std::make_unique<clerk::Api>(clerk::Settings{options.api_url, options.api_ca_file, key, double(options.rate)});
  } catch (const std::invalid_argument& error) {
    usage_error("bad --api-url " + options.api_url + ": " + error.what());
  }

  std::unique_ptr<Store> store;
  Run run;
  try {
    store = std::make_unique<Store>(options.database_url);
    // The key first: a wrong one fails before a run is started.
    std::string probe = "/users/count";
    clerk::Answer answer = api->get(probe);
    if (answer.status != 200) throw api->unexpected(probe, answer, "200");
    run = open_run(options, *store);
  } catch (const clerk::AuthenticationFailed& error) {
    fail(kAuthentication, error.what());
  } catch (const std::exception& error) {
    fail(kFailed, error.what());
  }

  std::vector<std::string> names;
  for (const KindInfo& kind : kKinds) names.emplace_back(kind.name());
  Progress progress(names, isatty(STDERR_FILENO));
  for (const auto& [name, kind] : run.kinds) progress.resumed(name, kind);
  api->on_retry([&progress](const clerk::Retry& retry) { progress.retry(retry); });
  log_event(LogLevel::info, "backfill_run",
            {{"run", std::to_string(run.id)},
             {"resumed", options.resume ? "true" : "false"},
             {"sweep", run.sweep ? "true" : "false"},
             {"api_url", options.api_url}});

  auto started = std::chrono::steady_clock::now();
  int status = kComplete;
  std::string error;
  try {
    Backfill backfill(options, *api, *store, run, progress);
    backfill.list_all();
    if (run.sweep) backfill.sweep_all();
    store->finish(run.id, "complete");
  } catch (const clerk::AuthenticationFailed& e) {
    status = kAuthentication, error = e.what();
  } catch (const std::exception& e) {  // clerk::Unavailable, DatabaseError, a position that cannot be read
    status = kFailed, error = e.what();
  }
  if (status != kComplete) {
    try {
      store->finish(run.id, outcome(error));
    } catch (const DatabaseError&) {
      // the database is what failed: the run stays unfinished, for --resume
    }
  }

  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  std::printf("run %lld %s in %.1f s\n%s", static_cast<long long>(run.id), status == kComplete ? "complete" : "failed",
              seconds, progress.summary().c_str());
  std::printf("Clerk: %llu requests (%llu retried), %.1f s in requests; Postgres: %.1f s waiting for answers\n",
              static_cast<unsigned long long>(api->requests()), static_cast<unsigned long long>(api->retries()),
              api->request_seconds(), store->seconds());
  std::fflush(stdout);
  if (status != kComplete) fail(status, error);
  return kComplete;
}

}  // namespace relay::backfill
