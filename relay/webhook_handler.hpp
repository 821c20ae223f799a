// The relay's routes: POST /webhooks[/ENDPOINT] hands a delivery to the
// batcher and answers with its outcome; GET /healthz asks the database;
// GET /metrics, unless it has a listener of its own.
#pragma once

#include "batcher.hpp"
#include "http.hpp"
#include "metrics.hpp"

namespace relay {

class WebhookHandler {
 public:
  // `select_one`: the benchmark floor, SELECT 1 instead of handle_event;
  // `metrics`: served at GET /metrics, unless null (served elsewhere).
  WebhookHandler(Batcher& batcher, bool select_one, const Metrics* metrics)
      : batcher_(batcher), select_one_(select_one), metrics_(metrics) {}

  // Every method on every path comes through here.
  void handle(Request& req, Respond respond);
  // For a request the server refused before it was whole (too large, too
  // slow, malformed): if it was a delivery, it was rejected.
  static void note_refusal(const Request& req, Response& res);

 private:
  void webhook(Request& req, std::string endpoint, Respond respond);

  Batcher& batcher_;
  const bool select_one_;
  const Metrics* metrics_;
};

}  // namespace relay
