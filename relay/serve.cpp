#include "serve.hpp"

#include <pthread.h>
#include <signal.h>

#include <csignal>
#include <memory>
#include <cstdio>
#include <thread>

#include "batcher.hpp"
#include "http_server.hpp"
#include "log.hpp"
#include "metrics.hpp"
#include "options.hpp"
#include "version.hpp"
#include "webhook_handler.hpp"

namespace relay {

namespace {

// A request line, a Host header and no body: all a scrape needs.
constexpr size_t kMetricsMaxBody = 4096;

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

  Metrics metrics;
  Batcher batcher(opt.database_url, opt.pool, opt.batch, metrics);
  bool metrics_apart = opt.metrics_port >= 0;
  WebhookHandler webhooks(batcher, opt.select_one, metrics_apart ? nullptr : &metrics);
  HttpServer server([&webhooks](Request& req, Respond respond) { webhooks.handle(req, std::move(respond)); },
                    [&metrics](const Request& req, Response& res, HttpServer::Clock::duration took) {
                      WebhookHandler::note_refusal(req, res);
                      log_request(req, res, took);
                      metrics.count_response(res);
                    },
                    opt.max_body);
  metrics.watch([&server] { return server.in_flight(); }, [&server] { return server.connections(); });
  // Scrapes on a listener of their own are neither logged nor counted.
  std::unique_ptr<HttpServer> metrics_server;
  if (metrics_apart) {
    metrics_server = std::make_unique<HttpServer>(
        [&metrics](Request& req, Respond respond) {
          respond(req.path == "/metrics" ? metrics_response(req, metrics) : error_response(404, "not found"));
        },
        [](const Request&, Response&, HttpServer::Clock::duration) {}, kMetricsMaxBody);
  }

  int port = server.bind(opt.host, opt.port);
  int metrics_port = metrics_server ? metrics_server->bind(opt.metrics_host, opt.metrics_port) : 0;
  if (port < 0 || metrics_port < 0) {
    bool main = port < 0;
    std::fprintf(stderr, "orgsync-relay: cannot listen on %s:%d\n", (main ? opt.host : opt.metrics_host).c_str(),
                 main ? opt.port : opt.metrics_port);
    return 1;
  }
  std::string listen = address(opt.host, port);
  Fields started{{"version", kVersion},
                 {"listen", listen},
                 {"database", pg::describe_conninfo(opt.database_url)},
                 number_field("pool", opt.pool),
                 number_field("batch", static_cast<double>(opt.batch)),
                 number_field("max_body", static_cast<double>(opt.max_body))};
  if (metrics_server) started.push_back({"metrics_listen", address(opt.metrics_host, metrics_port)});
  log_event(LogLevel::info, "start", started);
  std::printf("orgsync-relay listening on http://%s (pool %d, batch %zu)\n", listen.c_str(), opt.pool, opt.batch);
  std::fflush(stdout);

  std::thread([&server, &metrics_server, &stop_signals] {
    int sig;
    sigwait(&stop_signals, &sig);
    server.stop();
    if (metrics_server) metrics_server->stop();
    log_event(LogLevel::info, "shutdown", {{"signal", sig == SIGTERM ? "TERM" : "INT"}});
  }).detach();

  std::thread scrapes;
  if (metrics_server) scrapes = std::thread([&metrics_server] { metrics_server->run(); });
  // Returns once stopped and every request in flight has been answered; the
  // workers stop and the connections close when `batcher` goes out of scope.
  server.run();
  if (scrapes.joinable()) scrapes.join();
  return 0;
}

}  // namespace relay
