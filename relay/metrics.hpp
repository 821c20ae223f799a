// The relay's metrics, counted as requests are answered and database calls
// return, and served in Prometheus' text exposition format (version 0.0.4).
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "http.hpp"

namespace relay {

// What handle_event(s) answers for a delivery it has stored, which the relay
// answers 200; with the relay's own `rejected` and `failed`, the outcomes of
// orgsync_relay_deliveries_total.
inline constexpr std::array<std::string_view, 5> kStoredStatuses = {"applied", "duplicate", "stale", "ignored",
                                                                    "invalid"};

class Metrics {
 public:
  Metrics();

  // A response of the relay's listener (its notes say a delivery's outcome).
  void count_response(const Response& res);
  // A handle_events (or handle_event) call of `deliveries`.
  void observe_batch(size_t deliveries);
  // A delivery committed, `seconds` after the relay had received it whole.
  void observe_commit(double seconds);
  void count_reconnect() { reconnects_++; }
  // Gauges read when scraped: requests in flight, open connections.
  void watch(std::function<size_t()> in_flight, std::function<size_t()> connections);

  // The exposition, for GET /metrics.
  std::string render() const;

 private:
  struct Histogram {
    std::vector<double> bounds;
    std::vector<uint64_t> counts;  // per bucket, not cumulative; one more for +Inf
    double sum = 0;
    uint64_t count = 0;
    void observe(double value);
  };

  mutable std::mutex mu_;
  std::map<std::string, uint64_t> requests_, deliveries_, rejected_;
  Histogram batch_, commit_;
  std::atomic<uint64_t> reconnects_{0};
  std::function<size_t()> in_flight_, connections_;
  const double started_;  // Unix time
};

// GET or HEAD /metrics: the exposition (405 for other methods).
Response metrics_response(const Request& req, const Metrics& metrics);

// The reason label for a rejected delivery's reason word: orgsync's checks
// fall into bad_signature, malformed_header and timestamp.
const char* rejection_label(const std::string& reason);

}  // namespace relay
