#include "http.hpp"

#include <strings.h>

#include "text.hpp"

namespace relay {

std::string Request::header(std::string_view name) const {
  for (const auto& [key, value] : headers)
    if (key.size() == name.size() && strncasecmp(key.data(), name.data(), name.size()) == 0) return value;
  return "";
}

bool Request::multipart() const {
  std::string type = header("content-type");
  return strncasecmp(type.c_str(), "multipart/form-data", 19) == 0;
}

Response error_response(int status, const std::string& error, const std::string& sqlstate) {
  Response res;
  res.status = status;
  res.body = R"({"error":)" + json_string(error);
  if (!sqlstate.empty()) res.body += R"(,"sqlstate":)" + json_string(sqlstate);
  res.body += '}';
  res.notes.sqlstate = sqlstate;
  // Server-side trouble is logged; client errors may echo client input.
  if (status >= 500) res.notes.error = error;
  if (status == 503) res.headers.emplace_back("Retry-After", "5");
  return res;
}

Response method_not_allowed(const char* allow) {
  Response res = error_response(405, "method not allowed");
  res.headers.emplace_back("Allow", allow);
  return res;
}

Response refusal(int status, const std::string& reason, const std::string& error) {
  Response res = error_response(status, error);
  res.notes.reason = reason;
  return res;
}

}  // namespace relay
