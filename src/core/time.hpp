// Times as Clerk and Standard Webhooks write them, read one way everywhere.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace orgsync::core {

// Clerk's times are milliseconds since 1970; the latest orgsync accepts is
// the end of year 9999.
constexpr int64_t kMaxTimeMs = 253'402'300'799'999;

// A whole number in JSON integer syntax ("12", "-3"; not "1.0" or "1e3") that
// fits in int64.
std::optional<int64_t> parse_integer(std::string_view text);

// A delivery's timestamp header: whole seconds, digits only, up to year 9999.
// The one parser of delivery timestamps (verification and event times).
std::optional<int64_t> parse_unix_seconds(std::string_view text);

// Clerk sends the top-level `timestamp` in seconds in some payloads and in
// milliseconds in others; a value below 1e11 can only be seconds.
inline int64_t normalize_event_time_ms(int64_t value) { return value < 100'000'000'000 ? value * 1000 : value; }

}  // namespace orgsync::core
