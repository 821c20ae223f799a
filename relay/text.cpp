#include "text.hpp"

#include "core/json.hpp"

namespace relay {

bool valid_utf8(std::string_view s) {
  return s.find('\0') == std::string_view::npos && orgsync::core::json::invalid_utf8_at(s) == std::string_view::npos;
}

void append_json_string(std::string& out, std::string_view s) { orgsync::core::json::write_string(out, s); }

std::string json_string(std::string_view s) {
  std::string out;
  append_json_string(out, s);
  return out;
}

std::string logfmt(std::string_view s) {
  bool bare = !s.empty();
  for (char ch : s) {
    auto c = static_cast<unsigned char>(ch);
    if (c <= ' ' || c == '=' || c == '"' || c == '\\' || c >= 0x7F) bare = false;
  }
  return bare ? std::string(s) : json_string(s);
}

std::string shortened(std::string_view s, size_t max) {
  if (s.size() <= max) return std::string(s);
  while (max > 0 && (static_cast<unsigned char>(s[max]) & 0xC0) == 0x80) --max;  // a continuation byte
  return std::string(s.substr(0, max)) + "...";
}

std::string ascii_lower(std::string s) {
  for (auto& c : s)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return s;
}

}  // namespace relay
