#include "metrics.hpp"

#include <cstdio>

#include "version.hpp"

namespace relay {

namespace {

std::string number(double value) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.17g", value);
  return buf;
}

void family(std::string& out, const char* name, const char* type, const char* help) {
  out += std::string("# HELP ") + name + " " + help + "\n# TYPE " + name + " " + type + "\n";
}

void sample(std::string& out, const std::string& name, const std::string& labels, const std::string& value) {
  out += name + (labels.empty() ? "" : "{" + labels + "}") + " " + value + "\n";
}

// A counter with one label; its values are words the relay chose, which need
// no escaping.
void labelled(std::string& out, const char* name, const char* help, const char* label,
              const std::map<std::string, uint64_t>& values) {
  family(out, name, "counter", help);
  for (const auto& [value, count] : values)
    sample(out, name, std::string(label) + "=\"" + value + "\"", std::to_string(count));
}

}  // namespace

void Metrics::Histogram::observe(double value) {
  size_t i = 0;
  while (i < bounds.size() && value > bounds[i]) i++;
  counts[i]++;
  sum += value;
  count++;
}

Metrics::Metrics()
    : started_(std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count()) {
  // Every series a dashboard expects, from zero (Prometheus' rate() needs a start).
  for (const char* s : {"200", "400", "401", "404", "405", "408", "413", "415", "431", "500", "503"}) requests_[s] = 0;
  for (std::string_view o : kStoredStatuses) deliveries_[std::string(o)] = 0;
  for (const char* o : {"rejected", "failed"}) deliveries_[o] = 0;
  for (const char* r : {"bad_signature", "malformed_header", "timestamp", "unknown_endpoint", "extension_not_updated",
                        "too_large", "not_utf8", "unsupported_type", "malformed_request", "timeout"})
    rejected_[r] = 0;
  batch_.bounds = {1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1000};
  commit_.bounds = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};
  batch_.counts.assign(batch_.bounds.size() + 1, 0);
  commit_.counts.assign(commit_.bounds.size() + 1, 0);
}

const char* rejection_label(const std::string& reason) {
  if (reason == "no_matching_signature" || reason == "not_verified") return "bad_signature";
  if (reason == "missing_id" || reason == "missing_timestamp" || reason == "missing_signature" ||
      reason == "malformed_timestamp" || reason == "id_too_long")
    return "malformed_header";
  if (reason == "timestamp_too_old" || reason == "timestamp_too_new") return "timestamp";
  if (reason == "null_delivery") return "malformed_request";
  for (const char* same : {"unknown_endpoint", "extension_not_updated", "too_large", "not_utf8", "unsupported_type",
                           "malformed_request", "timeout"})
    if (reason == same) return same;
  return "other";
}

void Metrics::count_response(const Response& res) {
  std::lock_guard<std::mutex> lock(mu_);
  requests_[std::to_string(res.status)]++;
  if (res.notes.outcome.empty()) return;
  deliveries_[res.notes.outcome]++;
  if (res.notes.outcome == "rejected") rejected_[rejection_label(res.notes.reason)]++;
}

void Metrics::observe_batch(size_t deliveries) {
  std::lock_guard<std::mutex> lock(mu_);
  batch_.observe(static_cast<double>(deliveries));
}

void Metrics::observe_commit(double seconds) {
  std::lock_guard<std::mutex> lock(mu_);
  commit_.observe(seconds);
}

void Metrics::watch(std::function<size_t()> in_flight, std::function<size_t()> connections) {
  in_flight_ = std::move(in_flight);
  connections_ = std::move(connections);
}

std::string Metrics::render() const {
  std::string out;
  auto histogram = [&out](const char* name, const char* help, const Histogram& h) {
    family(out, name, "histogram", help);
    uint64_t cumulative = 0;
    for (size_t i = 0; i <= h.bounds.size(); i++) {
      cumulative += h.counts[i];
      sample(out, std::string(name) + "_bucket", "le=\"" + (i < h.bounds.size() ? number(h.bounds[i]) : "+Inf") + "\"",
             std::to_string(cumulative));
    }
    sample(out, std::string(name) + "_sum", "", number(h.sum));
    sample(out, std::string(name) + "_count", "", std::to_string(h.count));
  };
  {
    std::lock_guard<std::mutex> lock(mu_);
    labelled(out, "orgsync_relay_http_requests_total", "HTTP requests answered, by status code.", "status", requests_);
    labelled(out, "orgsync_relay_deliveries_total",
             "Deliveries (POST /webhooks) answered, by outcome: stored as applied, duplicate, stale, ignored or "
             "invalid; rejected; or failed in or before the database.",
             "outcome", deliveries_);
    labelled(out, "orgsync_relay_rejected_deliveries_total", "Deliveries rejected, by reason.", "reason", rejected_);
    histogram("orgsync_relay_batch_size", "Deliveries per database call.", batch_);
    histogram("orgsync_relay_receipt_to_commit_seconds",
              "Seconds from a delivery received whole to its transaction committed.", commit_);
  }
  family(out, "orgsync_relay_database_reconnects_total", "counter",
         "Database connections made again after they were lost.");
  sample(out, "orgsync_relay_database_reconnects_total", "", std::to_string(reconnects_.load()));
  family(out, "orgsync_relay_http_requests_in_flight", "gauge", "Requests received whole and not answered yet.");
  sample(out, "orgsync_relay_http_requests_in_flight", "", std::to_string(in_flight_ ? in_flight_() : 0));
  family(out, "orgsync_relay_http_connections", "gauge", "Open HTTP connections.");
  sample(out, "orgsync_relay_http_connections", "", std::to_string(connections_ ? connections_() : 0));
  family(out, "orgsync_relay_build_info", "gauge", "The relay's version, as a label; always 1.");
  sample(out, "orgsync_relay_build_info", std::string("version=\"") + kVersion + "\"", "1");
  family(out, "process_start_time_seconds", "gauge", "Start time of the process since the Unix epoch, in seconds.");
  sample(out, "process_start_time_seconds", "", number(started_));
  return out;
}

Response metrics_response(const Request& req, const Metrics& metrics) {
  if (req.method != "GET" && req.method != "HEAD") return method_not_allowed("GET, HEAD");
  Response res;
  res.content_type = "text/plain; version=0.0.4; charset=utf-8";
  res.body = metrics.render();
  return res;
}

}  // namespace relay
