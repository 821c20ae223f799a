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

}  // namespace relay
