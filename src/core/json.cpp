#include "core/json.hpp"

#include <algorithm>
#include <charconv>
#include <cstring>
#include <vector>

#include "core/errors.hpp"

namespace orgsync::core::json {
namespace {

using simdjson::dom::element_type;

void check_strings_and_depth(Value value, int depth, int max_depth) {
  switch (value.type()) {
    case element_type::ARRAY:
      if (depth > max_depth) throw InvalidPayload("JSON is nested too deeply");
      for (Value item : simdjson::dom::array(value)) check_strings_and_depth(item, depth + 1, max_depth);
      break;
    case element_type::OBJECT:
      if (depth > max_depth) throw InvalidPayload("JSON is nested too deeply");
      for (auto field : simdjson::dom::object(value)) {
        if (field.key.find('\0') != std::string_view::npos) {
          throw InvalidPayload("JSON key contains \\u0000, which Postgres cannot store");
        }
        check_strings_and_depth(field.value, depth + 1, max_depth);
      }
      break;
    case element_type::STRING:
      if (std::string_view(value).find('\0') != std::string_view::npos) {
        throw InvalidPayload("JSON string contains \\u0000, which Postgres cannot store");
      }
      break;
    default: break;
  }
}

// Whether any of 8 bytes is below 0x20, '"' or '\\' (bit tricks from
// "Bit Twiddling Hacks": a zero byte, and a byte less than n).
bool needs_escape(uint64_t bytes) {
  constexpr uint64_t kOnes = 0x0101010101010101ull, kHighs = 0x8080808080808080ull;
  auto has_zero = [](uint64_t v) { return (v - kOnes) & ~v & kHighs; };
  uint64_t below_space = (bytes - kOnes * 0x20) & ~bytes & kHighs;
  return (below_space | has_zero(bytes ^ (kOnes * '"')) | has_zero(bytes ^ (kOnes * '\\'))) != 0;
}

// Runs that need no escaping (nearly all of a Clerk payload) are copied whole,
// and skipped over 8 bytes at a time.
void write_string(std::string& out, std::string_view text) {
  static constexpr char kHex[] = "0123456789abcdef";
  out += '"';
  size_t run = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    uint64_t bytes;
    while (i + 8 <= text.size() && (std::memcpy(&bytes, text.data() + i, 8), !needs_escape(bytes))) i += 8;
    if (i == text.size()) break;
    auto c = static_cast<unsigned char>(text[i]);
    if (c >= 0x20 && c != '"' && c != '\\') continue;
    out.append(text, run, i - run);
    run = i + 1;
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        out += "\\u00";
        out += kHex[c >> 4];
        out += kHex[c & 0xf];
    }
  }
  out.append(text, run);
  out += '"';
}

template <typename Number>
void write_number(std::string& out, Number number) {
  char buffer[32];
  auto end = std::to_chars(buffer, buffer + sizeof(buffer), number).ptr;
  out.append(buffer, end);
}

void write(std::string& out, Value value);

// Sorted by key; a stable sort keeps repeats in order, so the last wins.
// Where the value of each `members[i]` is written goes to spans[i].
void write_object(std::string& out, Value object, const std::string_view* members = nullptr, Span* spans = nullptr,
                  size_t count = 0) {
  std::vector<simdjson::dom::key_value_pair> fields;
  for (auto field : simdjson::dom::object(object)) fields.push_back(field);
  std::stable_sort(fields.begin(), fields.end(), [](const auto& a, const auto& b) { return a.key < b.key; });
  out += '{';
  bool first = true;
  for (size_t i = 0; i < fields.size(); ++i) {
    if (i + 1 < fields.size() && fields[i + 1].key == fields[i].key) continue;
    if (!first) out += ',';
    first = false;
    write_string(out, fields[i].key);
    out += ':';
    size_t start = out.size();
    write(out, fields[i].value);
    for (size_t m = 0; m < count; ++m) {
      if (fields[i].key == members[m]) spans[m] = {start, out.size() - start};
    }
  }
  out += '}';
}

void write(std::string& out, Value value) {
  switch (value.type()) {
    case element_type::OBJECT: write_object(out, value); break;
    case element_type::ARRAY: {
      out += '[';
      bool first = true;
      for (Value item : simdjson::dom::array(value)) {
        if (!first) out += ',';
        first = false;
        write(out, item);
      }
      out += ']';
      break;
    }
    case element_type::STRING: write_string(out, std::string_view(value)); break;
    case element_type::INT64: write_number(out, int64_t(value)); break;
    case element_type::UINT64: write_number(out, uint64_t(value)); break;
    case element_type::DOUBLE: {
      size_t start = out.size();
      write_number(out, double(value));
      // Keep a float a float ("100.0", not "100"), as it was sent.
      if (out.find_first_of(".e", start) == std::string::npos) out += ".0";
      break;
    }
    case element_type::BOOL: out += bool(value) ? "true" : "false"; break;
    case element_type::NULL_VALUE: out += "null"; break;
  }
}

}  // namespace

Document::Document(std::string_view text, int max_depth) {
  // simdjson counts a scalar as a level of its own; check_strings_and_depth
  // enforces the exact limit on containers.
  if (parser_.allocate(std::max<size_t>(text.size(), 64), max_depth + 1) != simdjson::SUCCESS) {
    throw std::bad_alloc();
  }
  // An empty view may have a null data(), which simdjson would memcpy from.
  const char* bytes = text.empty() ? "" : text.data();
  auto error = parser_.parse(bytes, text.size()).get(root_);
  if (error == simdjson::DEPTH_ERROR) throw InvalidPayload("JSON is nested too deeply");
  if (error) throw InvalidPayload(std::string("body is not valid JSON: ") + simdjson::error_message(error));
  check_strings_and_depth(root_, 1, max_depth);
}

std::optional<Value> member(Value object, std::string_view key) {
  simdjson::dom::object fields;
  if (object.get(fields) != simdjson::SUCCESS) return std::nullopt;
  std::optional<Value> found;
  for (auto field : fields) {
    if (field.key == key) found = field.value;
  }
  return found;
}

std::string canonical(Value value) {
  std::string out;
  write(out, value);
  return out;
}

std::string canonical(Value object, const std::string_view* members, Span* spans, size_t count) {
  std::string out;
  write_object(out, object, members, spans, count);
  return out;
}

}  // namespace orgsync::core::json
