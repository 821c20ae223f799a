// The relay's log on stderr: one line per request, and a line per event
// (start, shutdown, a batch retried delivery by delivery, ...). Each line has
// an ISO-8601 UTC time and a level; text lines are logfmt, json lines one
// object. One write per line, so lines from different threads never
// interleave. Secrets, signatures and bodies are never logged.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "http.hpp"

namespace relay {

enum class LogLevel { debug, info, warn, error };
enum class LogFormat { text, json };

// Before any other thread logs.
void configure_log(LogFormat format, LogLevel level);
bool parse_log_level(const std::string& word, LogLevel& level);
bool parse_log_format(const std::string& word, LogFormat& format);

struct Field {
  std::string name, value;
  bool number = false;  // a JSON number rather than a string
};
using Fields = std::vector<Field>;

Field number_field(std::string name, double value);

bool log_enabled(LogLevel level);
void log_event(LogLevel level, const std::string& event, const Fields& fields);
void log_request(const Request& req, const Response& res, std::chrono::steady_clock::duration duration);

}  // namespace relay
