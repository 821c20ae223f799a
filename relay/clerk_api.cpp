#include "clerk_api.hpp"

#include <openssl/x509.h>

#include <algorithm>
#include <cmath>
#include <thread>

#include "core/errors.hpp"
#include "core/json.hpp"
#include "httplib.hpp"
#include "text.hpp"
#include "version.hpp"

namespace relay::clerk {

namespace {

namespace json = orgsync::core::json;
using Clock = std::chrono::steady_clock;

const char* status_text(int status) {
  switch (status) {
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 408: return "Request Timeout";
    case 422: return "Unprocessable Entity";
    case 429: return "Too Many Requests";
    case 500: return "Internal Server Error";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    default: return "";
  }
}

std::string describe_status(int status) {
  std::string text = status_text(status);
  return std::to_string(status) + (text.empty() ? "" : " " + text);
}

// Retry-After in seconds (Clerk sends seconds); negative when absent or an
// HTTP date, which then gets the backoff instead. Capped, so that a broken
// answer cannot stall the run for hours.
double retry_after_seconds(const std::string& value) {
  if (value.empty() || value.size() > 6 || value.find_first_not_of("0123456789") != std::string::npos) return -1;
  return std::min(std::stod(value), 300.0);
}

}  // namespace

Api::Api(const Settings& settings) : settings_(settings), random_(std::random_device{}()) {
  const std::string& url = settings_.url;
  auto scheme_end = url.find("://");
  std::string scheme = scheme_end == std::string::npos ? "" : url.substr(0, scheme_end);
  if (scheme != "http" && scheme != "https") throw std::invalid_argument("expected http:// or https://");
  auto path_start = url.find('/', scheme_end + 3);
  std::string origin = url.substr(0, path_start);
  if (origin.size() == scheme_end + 3) throw std::invalid_argument("no host");
  if (path_start != std::string::npos) base_path_ = url.substr(path_start);
  while (!base_path_.empty() && base_path_.back() == '/') base_path_.pop_back();
  if (base_path_.find_first_of("?#") != std::string::npos) throw std::invalid_argument("a query or fragment");

  client_ = std::make_unique<httplib::Client>(origin);
  if (!client_->is_valid()) throw std::invalid_argument("not a usable http(s)://host[:port]");
  client_->set_keep_alive(true);
  client_->set_connection_timeout(10);
  client_->set_read_timeout(60);
  client_->set_write_timeout(10);
  client_->set_bearer_token_auth(settings_.secret_key.c_str());
  client_->set_default_headers(
      {{"Accept", "application/json"}, {"User-Agent", std::string("orgsync-relay/") + kVersion + " (backfill)"}});
  // Verification stays on; a CA file only replaces the system's trust store.
  client_->enable_server_certificate_verification(true);
  if (!settings_.ca_file.empty()) client_->set_ca_cert_path(settings_.ca_file.c_str());
}

Api::~Api() = default;

void Api::pace() {
  if (settings_.rate <= 0) return;
  auto now = Clock::now();
  if (next_start_ > now) std::this_thread::sleep_until(next_start_);
  auto interval = std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(1 / settings_.rate));
  next_start_ = std::max(now, next_start_) + interval;
}

// Full jitter: anywhere between 0 and the exponential bound, so that many
// clients retrying at once spread out.
double Api::backoff_seconds(int attempt) {
  double bound = std::min(kMaxBackoffSeconds, 0.5 * std::pow(2.0, attempt - 1));
  return std::uniform_real_distribution<double>(0, bound)(random_);
}

Answer Api::get(const std::string& path) {
  std::string target = base_path_ + path;
  for (int attempt = 1;; ++attempt) {
    pace();
    auto started = Clock::now();
    httplib::Result result = client_->Get(target.c_str());
    request_seconds_ += std::chrono::duration<double>(Clock::now() - started).count();
    ++requests_;

    std::string why;
    double wait = -1;
    if (!result) {
      httplib::Error error = result.error();
      if (error == httplib::Error::SSLServerVerification) {
        long code = client_->get_openssl_verify_result();
        throw Unavailable("the certificate of " + settings_.url + " did not verify" +
                          (code != X509_V_OK ? std::string(": ") + X509_verify_cert_error_string(code)
                                             : std::string(": it does not name the host")));
      }
      if (error == httplib::Error::SSLLoadingCerts) throw Unavailable("cannot load the CA certificates to verify with");
      why = "no answer: " + httplib::to_string(error);
    } else {
      int status = result->status;
      if (status == 401 || status == 403) {
        throw AuthenticationFailed("Clerk refused the secret key (" + describe_status(status) +
                                   clerk_message(result->body) + "); check CLERK_SECRET_KEY");
      }
      if (status == 429) {
        wait = retry_after_seconds(result->get_header_value("Retry-After"));
      } else if (status < 500 && status != 408) {
        return Answer{status, std::move(result->body)};
      }
      why = describe_status(status);
    }
    if (attempt == kMaxAttempts) {
      throw Unavailable("GET " + path + ": " + why + ", " + std::to_string(attempt) + " attempts");
    }
    if (wait < 0) wait = backoff_seconds(attempt);
    ++retries_;
    if (on_retry_) on_retry_(Retry{path, why, attempt, wait});
    std::this_thread::sleep_for(std::chrono::duration<double>(wait));
  }
}

Unavailable Api::unexpected(const std::string& path, const Answer& answer, const std::string& expected) const {
  return Unavailable("GET " + path + ": Clerk answered " + describe_status(answer.status) + clerk_message(answer.body) +
                     ", expected " + expected);
}

std::string Api::clerk_message(const std::string& body) const {
  std::string message;
  try {
    json::Document document(body);
    auto errors = document.root().member("errors");
    if (errors && errors->is(json::Type::array)) {
      errors->each([&](std::string_view, json::Value error) {
        if (!message.empty() || !error.is(json::Type::object)) return;
        for (const char* key : {"code", "long_message"}) {
          auto value = error.member(key);
          if (!value || !value->is(json::Type::string)) continue;
          if (!message.empty()) message += ": ";
          message += value->string();
        }
      });
    }
  } catch (const orgsync::core::InvalidPayload&) {  // not JSON: no message to add
  } catch (const orgsync::core::BeyondJsonb&) {
  }
  if (message.empty()) return "";
  // On one line, short, and never the key, whatever the body held.
  for (auto& c : message)
    if (static_cast<unsigned char>(c) < 0x20) c = ' ';
  for (size_t at; !settings_.secret_key.empty() && (at = message.find(settings_.secret_key)) != std::string::npos;)
    message.replace(at, settings_.secret_key.size(), "[secret key]");
  return ": " + shortened(message, 200);
}

std::string url_encode(std::string_view s) {
  static const char* hex = "0123456789ABCDEF";
  std::string out;
  for (char ch : s) {
    auto c = static_cast<unsigned char>(ch);
    if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '-' || c == '_' ||
        c == '.' || c == '~') {
      out += ch;
    } else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  return out;
}

}  // namespace relay::clerk
