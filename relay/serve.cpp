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
#include "version.hpp"
#include "webhook_handler.hpp"

namespace relay {

namespace {

std::string address(const std::string& host, int port) {
  bool v6 = host.find(':') != std::string::npos;
  return (v6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

}  // namespace

int serve(int argc, char** argv, int first) {
  Options opt = parse_options(argc, argv, first);
  configure_log(opt.log_format, opt.log_level);

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
                    [](const Request& req, Response& res, HttpServer::Clock::duration took) {
                      WebhookHandler::note_refusal(req, res);
                      log_request(req, res, took);
                    },
                    opt.max_body);

  int port = server.bind(opt.host, opt.port);
  if (port < 0) {
    std::fprintf(stderr, "orgsync-relay: cannot listen on %s:%d\n", opt.host.c_str(), opt.port);
    return 1;
  }
  std::string listen = address(opt.host, port);
  Fields started{{"version", kVersion},
                 {"listen", listen},
                 {"database", pg::describe_conninfo(opt.database_url)},
                 number_field("pool", opt.pool),
                 number_field("batch", static_cast<double>(opt.batch)),
                 number_field("max_body", static_cast<double>(opt.max_body))};
  log_event(LogLevel::info, "start", started);
  std::printf("orgsync-relay listening on http://%s (pool %d, batch %zu)\n", listen.c_str(), opt.pool, opt.batch);
  std::fflush(stdout);

  std::thread([&server, &stop_signals] {
    int sig;
    sigwait(&stop_signals, &sig);
    server.stop();
    log_event(LogLevel::info, "shutdown", {{"signal", sig == SIGTERM ? "TERM" : "INT"}});
  }).detach();

  // Returns once stopped and every request in flight has been answered; the
  // workers stop and the connections close when `batcher` goes out of scope.
  server.run();
  return 0;
}

}  // namespace relay
