// Clerk's Backend API as the backfill calls it: GET requests carrying the
// secret key, paced to a rate, and retried where a retry can help: a 429
// after its Retry-After, a 5xx or a lost connection after an exponential
// backoff with full jitter; a bounded number of attempts in all.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <random>
#include <stdexcept>
#include <string>
#include <string_view>

namespace httplib {
class Client;
}

namespace relay::clerk {

struct Settings {
  std::string url;         // the API's base, e.g. https://api.clerk.com/v1
  std::string ca_file;     // PEM certificates to trust instead of the system's; empty: the system's
  std::string secret_key;  // sent as `Authorization: Bearer`; never printed
  double rate = 9;         // requests started per second at the most; 0: no limit
};

// Clerk refused the key (401) or what it may read (403): no retry can help.
struct AuthenticationFailed : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// Clerk could not be reached, its certificate did not verify, or it kept
// failing through every attempt; or it answered something unusable.
struct Unavailable : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// A final answer: 2xx, or a 4xx other than 401, 403, 408 and 429, which only
// the caller can judge (a 404 in the sweep means gone).
struct Answer {
  int status = 0;
  std::string body;
};

// A request about to be tried again, for the progress display.
struct Retry {
  std::string path;
  std::string why;  // "429 Too Many Requests", "no answer: ..."
  int attempt;      // the attempt that failed, from 1
  double wait_seconds;
};

class Api {
 public:
  static constexpr int kMaxAttempts = 8;
  static constexpr double kMaxBackoffSeconds = 30;

  // Throws std::invalid_argument for a url that is not http(s)://host[:port][/path].
  explicit Api(const Settings& settings);
  ~Api();
  Api(const Api&) = delete;
  Api& operator=(const Api&) = delete;

  // GET `path` (with its query; relative to the base url).
  Answer get(const std::string& path);
  // An Unavailable saying that Clerk's answer to `path` was not what the
  // backfill expects, with Clerk's own message.
  Unavailable unexpected(const std::string& path, const Answer& answer, const std::string& expected) const;

  void on_retry(std::function<void(const Retry&)> observer) { on_retry_ = std::move(observer); }
  uint64_t requests() const { return requests_; }
  uint64_t retries() const { return retries_; }
  // Time spent in requests (answers included), not in waits between them.
  double request_seconds() const { return request_seconds_; }

 private:
  void pace();
  double backoff_seconds(int attempt);
  // Clerk's error message from an error body, on one line, without the key.
  std::string clerk_message(const std::string& body) const;

  Settings settings_;
  std::string base_path_;  // the url's path, e.g. "/v1"
  std::unique_ptr<httplib::Client> client_;
  std::chrono::steady_clock::time_point next_start_{};
  std::mt19937_64 random_;
  std::function<void(const Retry&)> on_retry_;
  uint64_t requests_ = 0, retries_ = 0;
  double request_seconds_ = 0;
};

// `s` percent-encoded for a path segment or a query value.
std::string url_encode(std::string_view s);

}  // namespace relay::clerk
