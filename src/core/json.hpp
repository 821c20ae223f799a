// The JSON the core reads: simdjson's DOM (validating, UTF-8 checked), plus
// the two things simdjson does not do for us: refusing what Postgres's jsonb
// cannot store, and writing an object back out canonically.
#pragma once

#include <simdjson.h>

#include <optional>
#include <string>
#include <string_view>

namespace orgsync::core::json {

using Value = simdjson::dom::element;

// A parsed body. Values point into it: keep it alive while using them.
class Document {
 public:
  // Throws InvalidPayload: not JSON, arrays and objects nested deeper than
  // max_depth, or a string or key holding U+0000 (jsonb refuses it).
  Document(std::string_view text, int max_depth);
  Value root() const { return root_; }

 private:
  simdjson::dom::parser parser_;
  Value root_;
};

// An object's member; the last one when a key repeats, as jsonb keeps it.
std::optional<Value> member(Value object, std::string_view key);

// Compact JSON with keys sorted bytewise and repeated keys collapsed to the
// last: equal content, equal text, so it can be digested. Numbers are written
// from their parsed values, so the text is always valid jsonb input.
std::string canonical(Value value);

// Where a member's canonical text lies inside its object's.
struct Span {
  size_t offset = 0;
  size_t size = 0;
};

// canonical(object), and in spans[i] where the value of its member
// members[i] lies inside that text: the same text canonical(member) gives,
// written once. A member the object lacks keeps an empty span.
std::string canonical(Value object, const std::string_view* members, Span* spans, size_t count);

}  // namespace orgsync::core::json
