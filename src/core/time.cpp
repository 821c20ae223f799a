#include "core/time.hpp"

#include <charconv>

namespace orgsync::core {

std::optional<int64_t> parse_integer(std::string_view text) {
  int64_t value = 0;
  if (text.empty() || text.find_first_of(".eE") != std::string_view::npos) return std::nullopt;
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

std::optional<int64_t> parse_unix_seconds(std::string_view text) {
  if (text.empty() || text.find_first_not_of("0123456789") != std::string_view::npos) return std::nullopt;
  auto seconds = parse_integer(text);
  if (!seconds || *seconds > kMaxTimeMs / 1000) return std::nullopt;
  return seconds;
}

}  // namespace orgsync::core
