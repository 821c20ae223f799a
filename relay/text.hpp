// Text helpers: what the relay checks of a request's bytes and how it writes
// JSON strings and logfmt values.
#pragma once

#include <string>
#include <string_view>

namespace relay {

// Strict UTF-8 as PostgreSQL accepts it for text (the core's check), and no
// NUL, which text cannot hold.
bool valid_utf8(std::string_view s);

// `s` as a quoted JSON string, control characters escaped (the core's writer).
void append_json_string(std::string& out, std::string_view s);
std::string json_string(std::string_view s);

// A logfmt value: bare when it is a plain token, else quoted and escaped.
std::string logfmt(std::string_view s);

std::string ascii_lower(std::string s);

// `s` cut to at most `max` bytes on a UTF-8 character's boundary, with "..."
// when something was cut: a short message Postgres still takes as text.
std::string shortened(std::string_view s, size_t max);

}  // namespace relay
