// HTTP requests and responses as the relay's handlers see them: a whole
// request in, one response out, whatever server carried them.
#pragma once

#include <cstddef>
#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace relay {

struct Request {
  std::string method;
  std::string path;                                          // percent-decoded, without the query
  std::vector<std::pair<std::string, std::string>> headers;  // in arrival order
  std::string body;

  // The first value of header `name` (any case), or empty.
  std::string header(std::string_view name) const;
  bool multipart() const;
};

// What the request log says beyond the request and the status.
struct RequestNotes {
  size_t batch = 0;  // deliveries in the database call that answered it; 0: none
  // A delivery's: applied, duplicate, stale, ignored, invalid (stored), rejected
  // (refused, for `reason`) or failed (the database failed or was unavailable).
  std::string outcome;
  std::string reason;    // one word: why it was refused
  std::string sqlstate;  // behind an error answer
  std::string error;     // server-side trouble, for the log
};

struct Response {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;  // beyond Content-Type and Content-Length
  RequestNotes notes;
};

// A JSON error answer: {"error": ..., "sqlstate": ...}; a 503 tells the
// sender when to retry.
Response error_response(int status, const std::string& error, const std::string& sqlstate = "");
// The same for a request refused, for `reason` (one word).
Response refusal(int status, const std::string& reason, const std::string& error);
// 405, with the methods the path allows.
Response method_not_allowed(const char* allow);

// Called once per request, from any thread, with its response.
using Respond = std::function<void(Response)>;
// Takes a whole request (it may move the body out) and answers it through
// Respond, now or later.
using Handler = std::function<void(Request&, Respond)>;

}  // namespace relay
