// The JSON the core reads, parsed by a small strict parser of its own
// (RFC 8259, UTF-8 checked) that keeps what jsonb keeps: numbers of any size
// and precision, exactly, and nesting as deep as the body goes (Postgres
// limits it where it stores the result). Plus writing a value back out
// canonically, and joining two copies of one object.
#pragma once

#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace orgsync::core::json {

enum class Type : uint8_t { null, boolean, number, string, array, object };

// "null", "boolean", "number", "string", "array", "object": as error messages name them.
const char* type_name(Type type);

class Document;

// A value inside a Document; cheap to copy, valid while the Document lives.
class Value {
 public:
  Type type() const;
  bool is(Type type) const { return this->type() == type; }
  bool boolean() const;             // a boolean's value
  std::string_view string() const;  // a string's text, unescaped
  // A number as Postgres's numeric writes it: "1.50" stays "1.50", "1e3" is
  // "1000", "-0" is "0"; so a copy read back from jsonb has the same text.
  std::string_view number_text() const;

  // An object's member; the last one when a key repeats, as jsonb keeps it.
  std::optional<Value> member(std::string_view key) const;

  // Walks an object's members (key, value) or an array's items (empty key).
  template <typename Visit>
  void each(Visit&& visit) const;

 private:
  friend class Document;
  Value(const Document* document, uint32_t index) : document_(document), index_(index) {}
  const Document* document_;
  uint32_t index_;
};

// A parsed body. Throws InvalidPayload for anything that is not one JSON
// value, or a string or key jsonb refuses (holding U+0000, an unpaired
// surrogate escape); BeyondJsonb for a number beyond what numeric holds. Its
// values point into `text`, which must outlive it.
class Document {
 public:
  explicit Document(std::string_view text);
  Value root() const { return Value(this, 0); }

 private:
  friend class Value;
  struct Node {
    Type type;
    bool flag;         // a boolean's value
    uint32_t end;      // the index after this node's subtree
    const char* text;  // strings (unescaped) and numbers (as numeric writes them)
    uint32_t size;
  };
  std::vector<Node> nodes_;          // in document order; an object's children alternate key, value
  std::string unescaped_;            // strings that had escapes; reserved once, never reallocated
  std::deque<std::string> numbers_;  // numbers not written as numeric writes them, rewritten
};

// Compact JSON with keys sorted bytewise and repeated keys collapsed to the
// last: equal content, equal text, so it can be digested. Numbers are written
// as numeric writes them (number_text).
std::string canonical(Value value);

// Where a member's canonical text lies inside its object's.
struct Span {
  size_t offset = 0;
  size_t size = 0;
};

// canonical(object), and in spans[i] where the value of its member
// members[i] lies inside that text: the same text canonical(member) gives,
// written once. A member the object lacks keeps an empty span. A member
// named `omit` is left out.
std::string canonical(Value object, const std::string_view* members, Span* spans, size_t count,
                      std::string_view omit = {});

// The canonical text of two copies of one version of an object merged, so
// that neither loses what only the other carries: objects member by member
// (recursively), and where both hold different other values, the greater in
// a fixed order (null < false < true < numbers by value < strings < arrays),
// so that joining copies in any order gives the same text.
std::string join(Value a, Value b);

// ---- text ----------------------------------------------------------------

// Where `text` first breaks strict UTF-8 as Postgres accepts it for text (an
// overlong form, a surrogate, a code point past U+10FFFF, a cut sequence),
// or npos.
size_t invalid_utf8_at(std::string_view text);

// `text` as a quoted JSON string: '"', '\\' and control characters escaped.
void write_string(std::string& out, std::string_view text);

// ---- inline --------------------------------------------------------------

template <typename Visit>
void Value::each(Visit&& visit) const {
  const auto& nodes = document_->nodes_;
  bool object = nodes[index_].type == Type::object;
  for (uint32_t i = index_ + 1; i < nodes[index_].end;) {
    std::string_view key;
    if (object) {
      key = std::string_view(nodes[i].text, nodes[i].size);
      ++i;
    }
    Value item(document_, i);
    i = nodes[i].end;
    visit(key, item);
  }
}

}  // namespace orgsync::core::json
