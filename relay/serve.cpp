#include "serve.hpp"

#include <pthread.h>
#include <signal.h>

#include <csignal>
#include <cstdio>
#include <thread>

#include "batcher.hpp"
#include "http_server.hpp"
#include "log.hpp"
#include "options.hpp"
#include "webhook_handler.hpp"

namespace relay {

int serve(int argc, char** argv, int first) {
  Options opt = parse_options(argc, argv, first);

  // Termination signals go to one thread that stops the server; block them
  // before any other thread exists so every thread inherits the mask.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  std::signal(SIGPIPE, SIG_IGN);  // a client that hangs up must not kill us

  Batcher batcher(opt.database_url, opt.pool, opt.batch);
  WebhookHandler webhooks(batcher, opt.select_one);
  HttpServer server([&webhooks](Request& req, Respond respond) { webhooks.handle(req, std::move(respond)); },
                    log_request, opt.max_body);

  int port = server.bind(opt.host, opt.port);
  if (port < 0) {
    std::fprintf(stderr, "orgsync-relay: cannot listen on %s:%d\n", opt.host.c_str(), opt.port);
    return 1;
  }
  bool v6 = opt.host.find(':') != std::string::npos;
  std::printf("orgsync-relay listening on http://%s%s%s:%d (pool %d, batch %zu)\n", v6 ? "[" : "", opt.host.c_str(),
              v6 ? "]" : "", port, opt.pool, opt.batch);
  std::fflush(stdout);

  std::thread([&server, &stop_signals] {
    int sig;
    sigwait(&stop_signals, &sig);
    server.stop();
    log_event("shutdown", {{"signal", sig == SIGTERM ? "TERM" : "INT"}});
  }).detach();

  // Returns once stopped and every request in flight has been answered; the
  // workers stop and the connections close when `batcher` goes out of scope.
  server.run();
  return 0;
}

}  // namespace relay
