// The relay's log on stderr: one line per request, and a line per event
// (shutdown, a batch retried delivery by delivery, ...). One write per line,
// so lines from different threads never interleave.
#pragma once

#include <chrono>
#include <string>
#include <utility>
#include <vector>

#include "http.hpp"

namespace relay {

using Fields = std::vector<std::pair<std::string, std::string>>;

void log_event(const std::string& event, const Fields& fields);
void log_request(const Request& req, const Response& res, std::chrono::steady_clock::duration duration);

}  // namespace relay
