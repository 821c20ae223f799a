#include "core/json.hpp"

#include <algorithm>
#include <charconv>
#include <cstring>

#include "core/errors.hpp"

namespace orgsync::core::json {
namespace {

// ---- reading ---------------------------------------------------------------

[[noreturn]] void not_json(const char* what, size_t at) {
  throw InvalidPayload(std::string("body is not valid JSON: ") + what + " at byte " + std::to_string(at));
}

}  // namespace

// ASCII runs are skipped 8 bytes at a time.
size_t invalid_utf8_at(std::string_view text) {
  const auto* bytes = reinterpret_cast<const unsigned char*>(text.data());
  size_t i = 0, n = text.size();
  while (i < n) {
    uint64_t word;
    if (i + 8 <= n && (std::memcpy(&word, bytes + i, 8), (word & 0x8080808080808080ull) == 0)) {
      i += 8;
      continue;
    }
    unsigned char c = bytes[i];
    if (c < 0x80) {
      ++i;
      continue;
    }
    size_t length = (c & 0xE0) == 0xC0 ? 2 : (c & 0xF0) == 0xE0 ? 3 : (c & 0xF8) == 0xF0 ? 4 : 0;
    if (length == 0 || i + length > n) return i;
    uint32_t code = c & (0x7F >> length);
    for (size_t k = 1; k < length; ++k) {
      if ((bytes[i + k] & 0xC0) != 0x80) return i;
      code = (code << 6) | (bytes[i + k] & 0x3F);
    }
    static constexpr uint32_t kSmallest[] = {0, 0, 0x80, 0x800, 0x10000};
    if (code < kSmallest[length] || code > 0x10FFFF || (code >= 0xD800 && code <= 0xDFFF)) return i;
    i += length;
  }
  return std::string_view::npos;
}

namespace {

void check_utf8(std::string_view text) {
  size_t at = invalid_utf8_at(text);
  if (at != std::string_view::npos) not_json("invalid UTF-8", at);
}

// Whether any of 8 bytes is below 0x20, '"' or '\\' (bit tricks from
// "Bit Twiddling Hacks": a zero byte, and a byte less than n).
bool has_special_byte(uint64_t bytes) {
  constexpr uint64_t kOnes = 0x0101010101010101ull, kHighs = 0x8080808080808080ull;
  auto has_zero = [](uint64_t v) { return (v - kOnes) & ~v & kHighs; };
  uint64_t below_space = (bytes - kOnes * 0x20) & ~bytes & kHighs;
  return (below_space | has_zero(bytes ^ (kOnes * '"')) | has_zero(bytes ^ (kOnes * '\\'))) != 0;
}

void append_utf8(std::string& out, uint32_t code) {
  if (code < 0x80) {
    out += char(code);
  } else if (code < 0x800) {
    out += char(0xC0 | (code >> 6));
    out += char(0x80 | (code & 0x3F));
  } else if (code < 0x10000) {
    out += char(0xE0 | (code >> 12));
    out += char(0x80 | ((code >> 6) & 0x3F));
    out += char(0x80 | (code & 0x3F));
  } else {
    out += char(0xF0 | (code >> 18));
    out += char(0x80 | ((code >> 12) & 0x3F));
    out += char(0x80 | ((code >> 6) & 0x3F));
    out += char(0x80 | (code & 0x3F));
  }
}

// ---- numbers, as Postgres's numeric keeps them ------------------------------

// numeric's limits: digits before the decimal point, and after it.
constexpr size_t kNumericMaxIntegerDigits = 131072;
constexpr long kNumericMaxScale = 16383;
// A jsonb value is at most 256 MB: numbers written out longer than that in
// all (a few bytes of "1e131071" each become 128 kB) could not be stored.
constexpr size_t kMaxWrittenNumbers = 256u << 20;

bool is_plain_integer(std::string_view text) {
  return text.find_first_of(".eE") == std::string_view::npos && text != "-0";
}

// `text` (valid JSON number syntax) as numeric_out writes numeric_in's value
// of it: no exponent, as many fraction digits as its scale, no sign on zero.
std::string numeric_text(std::string_view text) {
  bool negative = text[0] == '-';
  if (negative) text.remove_prefix(1);
  size_t e = text.find_first_of("eE");
  std::string_view mantissa = text.substr(0, e);
  long exponent = 0;
  if (e != std::string_view::npos) {
    std::string_view digits = text.substr(e + 1);
    bool down = !digits.empty() && digits[0] == '-';
    if (!digits.empty() && (digits[0] == '-' || digits[0] == '+')) digits.remove_prefix(1);
    while (digits.size() > 1 && digits[0] == '0') digits.remove_prefix(1);
    if (digits.size() > 9) throw BeyondJsonb("a JSON number is beyond the range of numeric");
    exponent = std::stol(std::string(digits));
    if (down) exponent = -exponent;
  }
  size_t point = mantissa.find('.');
  std::string_view whole = mantissa.substr(0, point);
  std::string_view fraction = point == std::string_view::npos ? std::string_view() : mantissa.substr(point + 1);
  long scale = std::max(0L, long(fraction.size()) - exponent);
  long integer_digits = long(whole.size()) + exponent;  // where the point goes among all the digits
  if (scale > kNumericMaxScale || integer_digits > long(kNumericMaxIntegerDigits) + long(whole.size())) {
    throw BeyondJsonb("a JSON number is beyond the range of numeric");
  }
  std::string digits = std::string(whole) + std::string(fraction);
  std::string integer, decimals;
  if (integer_digits <= 0) {
    decimals = std::string(size_t(-integer_digits), '0') + digits;
  } else if (size_t(integer_digits) >= digits.size()) {
    integer = digits + std::string(size_t(integer_digits) - digits.size(), '0');
  } else {
    integer = digits.substr(0, size_t(integer_digits));
    decimals = digits.substr(size_t(integer_digits));
  }
  decimals.resize(size_t(scale), '0');  // exactly `scale` digits: only trailing zeros are added or cut
  size_t first = integer.find_first_not_of('0');
  integer = first == std::string::npos ? "0" : integer.substr(first);
  if (integer.size() > kNumericMaxIntegerDigits) throw BeyondJsonb("a JSON number is beyond the range of numeric");
  bool zero = integer == "0" && decimals.find_first_not_of('0') == std::string::npos;
  std::string out = negative && !zero ? "-" : "";
  out += integer;
  if (scale > 0) out += "." + decimals;
  return out;
}

// The order of two numbers in numeric_text's form, by value; 0 when equal.
int compare_numbers(std::string_view a, std::string_view b) {
  bool a_negative = a[0] == '-', b_negative = b[0] == '-';
  if (a_negative != b_negative) return a_negative ? -1 : 1;
  if (a_negative) {
    a.remove_prefix(1);
    b.remove_prefix(1);
  }
  int sign = a_negative ? -1 : 1;
  size_t a_point = std::min(a.find('.'), a.size()), b_point = std::min(b.find('.'), b.size());
  if (a_point != b_point) return a_point < b_point ? -sign : sign;
  for (size_t i = 0; i < a_point; ++i) {
    if (a[i] != b[i]) return a[i] < b[i] ? -sign : sign;
  }
  for (size_t i = 1;; ++i) {
    char x = a_point + i < a.size() ? a[a_point + i] : '0';
    char y = b_point + i < b.size() ? b[b_point + i] : '0';
    if (a_point + i >= a.size() && b_point + i >= b.size()) return 0;
    if (x != y) return x < y ? -sign : sign;
  }
}

class Parser {
 public:
  Parser(std::string_view text, std::string& unescaped) : text_(text), unescaped_(unescaped) {}

  size_t at() const { return at_; }
  bool done() {
    skip_space();
    return at_ == text_.size();
  }
  char peek() {
    skip_space();
    if (at_ == text_.size()) not_json("unexpected end", at_);
    return text_[at_];
  }
  void take(char expected, const char* what) {
    if (peek() != expected) not_json(what, at_);
    ++at_;
  }

  // A string; the opening quote is next. Without escapes (nearly every
  // string) the result points into the text.
  std::string_view string() {
    take('"', "expected a string");
    size_t start = at_, n = text_.size();
    for (;;) {
      uint64_t word;
      while (at_ + 8 <= n && (std::memcpy(&word, text_.data() + at_, 8), !has_special_byte(word))) at_ += 8;
      if (at_ == n) not_json("unterminated string", start - 1);
      char c = text_[at_];
      if (c == '"') {
        ++at_;
        return text_.substr(start, at_ - 1 - start);
      }
      if (c == '\\') return escaped_string(start);
      if (static_cast<unsigned char>(c) < 0x20) not_json("control character in a string", at_);
      ++at_;
    }
  }

  std::string_view number() {
    size_t start = at_, n = text_.size();
    auto digits = [&] {
      size_t first = at_;
      while (at_ < n && text_[at_] >= '0' && text_[at_] <= '9') ++at_;
      return at_ - first;
    };
    if (at_ < n && text_[at_] == '-') ++at_;
    if (at_ < n && text_[at_] == '0') {
      ++at_;
    } else if (digits() == 0) {
      not_json("invalid value", start);
    }
    if (at_ < n && text_[at_] == '.') {
      ++at_;
      if (digits() == 0) not_json("invalid number", start);
    }
    if (at_ < n && (text_[at_] == 'e' || text_[at_] == 'E')) {
      ++at_;
      if (at_ < n && (text_[at_] == '+' || text_[at_] == '-')) ++at_;
      if (digits() == 0) not_json("invalid number", start);
    }
    return text_.substr(start, at_ - start);
  }

  void word(const char* expected) {
    size_t length = std::strlen(expected);
    if (text_.compare(at_, length, expected) != 0) not_json("invalid value", at_);
    at_ += length;
  }

 private:
  void skip_space() {
    while (at_ < text_.size() &&
           (text_[at_] == ' ' || text_[at_] == '\n' || text_[at_] == '\r' || text_[at_] == '\t')) {
      ++at_;
    }
  }

  uint32_t hex4() {
    if (at_ + 4 > text_.size()) not_json("invalid \\u escape", at_);
    uint32_t code = 0;
    for (int i = 0; i < 4; ++i) {
      char c = text_[at_++];
      int digit = c >= '0' && c <= '9'   ? c - '0'
                  : c >= 'a' && c <= 'f' ? c - 'a' + 10
                  : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                         : -1;
      if (digit < 0) not_json("invalid \\u escape", at_ - 1);
      code = code * 16 + uint32_t(digit);
    }
    return code;
  }

  // Unescapes into the document's buffer, which never reallocates: its
  // capacity is the whole text's size, and unescaping only shortens.
  std::string_view escaped_string(size_t start) {
    size_t begin = unescaped_.size();
    unescaped_.append(text_, start, at_ - start);
    for (;;) {
      if (at_ == text_.size()) not_json("unterminated string", start - 1);
      char c = text_[at_++];
      if (c == '"') break;
      if (static_cast<unsigned char>(c) < 0x20) not_json("control character in a string", at_ - 1);
      if (c != '\\') {
        unescaped_ += c;
        continue;
      }
      if (at_ == text_.size()) not_json("unterminated string", start - 1);
      switch (text_[at_++]) {
        case '"': unescaped_ += '"'; break;
        case '\\': unescaped_ += '\\'; break;
        case '/': unescaped_ += '/'; break;
        case 'b': unescaped_ += '\b'; break;
        case 'f': unescaped_ += '\f'; break;
        case 'n': unescaped_ += '\n'; break;
        case 'r': unescaped_ += '\r'; break;
        case 't': unescaped_ += '\t'; break;
        case 'u': {
          uint32_t code = hex4();
          if (code >= 0xD800 && code <= 0xDBFF) {
            if (text_.compare(at_, 2, "\\u") != 0) throw InvalidPayload("JSON string has an unpaired surrogate escape");
            at_ += 2;
            uint32_t low = hex4();
            if (low < 0xDC00 || low > 0xDFFF) throw InvalidPayload("JSON string has an unpaired surrogate escape");
            code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00);
          } else if (code >= 0xDC00 && code <= 0xDFFF) {
            throw InvalidPayload("JSON string has an unpaired surrogate escape");
          }
          if (code == 0) throw InvalidPayload("JSON string contains \\u0000, which Postgres cannot store");
          append_utf8(unescaped_, code);
          break;
        }
        default: not_json("invalid escape", at_ - 1);
      }
    }
    return std::string_view(unescaped_).substr(begin);
  }

  std::string_view text_;
  std::string& unescaped_;
  size_t at_ = 0;
};

// ---- ordering, for join -------------------------------------------------------

int type_rank(Value value) {
  switch (value.type()) {
    case Type::null: return 0;
    case Type::boolean: return value.boolean() ? 2 : 1;
    case Type::number: return 3;
    case Type::string: return 4;
    case Type::array: return 5;
    case Type::object: return 6;
  }
  return 0;
}

// a < b in join's order; equal canonical texts are equal values.
bool less(Value a, Value b) {
  int ra = type_rank(a), rb = type_rank(b);
  if (ra != rb) return ra < rb;
  if (a.is(Type::number)) {
    int order = compare_numbers(a.number_text(), b.number_text());
    if (order != 0) return order < 0;
  }
  if (a.is(Type::string)) return a.string() < b.string();
  return canonical(a) < canonical(b);
}

}  // namespace

// ---- writing ---------------------------------------------------------------

void write_string(std::string& out, std::string_view text) {
  static constexpr char kHex[] = "0123456789abcdef";
  out += '"';
  size_t run = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    uint64_t bytes;
    while (i + 8 <= text.size() && (std::memcpy(&bytes, text.data() + i, 8), !has_special_byte(bytes))) i += 8;
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

namespace {

struct Member {
  std::string_view key;
  Value value;
};

// An object's members sorted by key; a stable sort keeps repeats in order,
// and only the last of each is kept, as jsonb keeps it.
std::vector<Member> sorted_members(Value object) {
  std::vector<Member> members;
  object.each([&](std::string_view key, Value value) { members.push_back({key, value}); });
  std::stable_sort(members.begin(), members.end(), [](const Member& a, const Member& b) { return a.key < b.key; });
  size_t kept = 0;
  for (size_t i = 0; i < members.size(); ++i) {
    if (i + 1 < members.size() && members[i + 1].key == members[i].key) continue;
    members[kept++] = members[i];
  }
  members.erase(members.begin() + kept, members.end());
  return members;
}

// Writes iteratively: nesting is as deep as the body's, and the C++ stack
// must not be what limits it.
class Writer {
 public:
  explicit Writer(std::string& out) : out_(out) {}

  // Writes `value`; for the outermost object, where members[i]'s value goes
  // lands in spans[i].
  void write(Value value, const std::string_view* members = nullptr, Span* spans = nullptr, size_t count = 0,
             std::string_view omit = {}) {
    open(value);
    if (!omit.empty() && !frames_.empty()) {
      auto& items = frames_.back().items;
      items.erase(std::remove_if(items.begin(), items.end(), [&](const Member& m) { return m.key == omit; }),
                  items.end());
    }
    while (!frames_.empty()) {
      Frame& frame = frames_.back();
      if (frame.pending_span != nullptr) {
        frame.pending_span->size = out_.size() - frame.pending_span->offset;
        frame.pending_span = nullptr;
      }
      if (frame.next == frame.items.size()) {
        out_ += frame.object ? '}' : ']';
        frames_.pop_back();
        continue;
      }
      const Member& item = frame.items[frame.next++];
      if (frame.next > 1) out_ += ',';
      if (frame.object) {
        write_string(out_, item.key);
        out_ += ':';
        if (frames_.size() == 1) {
          for (size_t m = 0; m < count; ++m) {
            if (item.key == members[m]) {
              spans[m].offset = out_.size();
              frame.pending_span = &spans[m];
            }
          }
        }
      }
      open(item.value);  // may invalidate `frame`
    }
  }

 private:
  struct Frame {
    bool object;
    std::vector<Member> items;
    size_t next = 0;
    Span* pending_span = nullptr;  // a span to close once its value is written
  };

  // Writes a scalar whole, or opens a container.
  void open(Value value) {
    switch (value.type()) {
      case Type::object:
        out_ += '{';
        frames_.push_back({true, sorted_members(value)});
        break;
      case Type::array: {
        out_ += '[';
        Frame frame{false, {}};
        value.each([&](std::string_view, Value item) { frame.items.push_back({{}, item}); });
        frames_.push_back(std::move(frame));
        break;
      }
      case Type::string: write_string(out_, value.string()); break;
      case Type::number: out_ += value.number_text(); break;
      case Type::boolean: out_ += value.boolean() ? "true" : "false"; break;
      case Type::null: out_ += "null"; break;
    }
    // A scalar completes at once: close a span waiting for it.
    if (!value.is(Type::object) && !value.is(Type::array) && !frames_.empty() &&
        frames_.back().pending_span != nullptr) {
      frames_.back().pending_span->size = out_.size() - frames_.back().pending_span->offset;
      frames_.back().pending_span = nullptr;
    }
  }

  std::string& out_;
  std::vector<Frame> frames_;
};

// Objects are joined member by member to this depth; below it, values are
// compared whole. Clerk's objects are a few levels deep; metadata can be
// deeper, and its joins need not recurse without bound.
constexpr int kJoinDepth = 32;

void write_join(std::string& out, Value a, Value b, int depth) {
  if (!(a.is(Type::object) && b.is(Type::object) && depth < kJoinDepth)) {
    out += canonical(less(a, b) ? b : a);
    return;
  }
  std::vector<Member> x = sorted_members(a), y = sorted_members(b);
  out += '{';
  size_t i = 0, j = 0;
  bool first = true;
  while (i < x.size() || j < y.size()) {
    if (!first) out += ',';
    first = false;
    int order = i == x.size() ? 1 : j == y.size() ? -1 : x[i].key.compare(y[j].key);
    const Member& member = order <= 0 ? x[i] : y[j];
    write_string(out, member.key);
    out += ':';
    if (order == 0) {
      write_join(out, x[i].value, y[j].value, depth + 1);
    } else {
      out += canonical(member.value);
    }
    if (order <= 0) ++i;
    if (order >= 0) ++j;
  }
  out += '}';
}

}  // namespace

const char* type_name(Type type) {
  switch (type) {
    case Type::null: return "null";
    case Type::boolean: return "boolean";
    case Type::number: return "number";
    case Type::string: return "string";
    case Type::array: return "array";
    case Type::object: return "object";
  }
  return "?";
}

Type Value::type() const { return document_->nodes_[index_].type; }
bool Value::boolean() const { return document_->nodes_[index_].flag; }
std::string_view Value::string() const {
  const auto& node = document_->nodes_[index_];
  return {node.text, node.size};
}
std::string_view Value::number_text() const { return string(); }

std::optional<Value> Value::member(std::string_view key) const {
  if (!is(Type::object)) return std::nullopt;
  std::optional<Value> found;
  each([&](std::string_view name, Value value) {
    if (name == key) found = value;
  });
  return found;
}

Document::Document(std::string_view text) {
  check_utf8(text);
  unescaped_.reserve(text.size());
  nodes_.reserve(text.size() / 8 + 4);  // at most one value per 8 bytes of a Clerk payload, most often fewer
  Parser parser(text, unescaped_);
  std::vector<uint32_t> open;  // containers not yet closed, innermost last
  size_t written_numbers = 0;
  auto add = [&](Type type, std::string_view content = {}, bool flag = false) {
    if (nodes_.size() >= UINT32_MAX - 1) throw InvalidPayload("JSON body has too many values");
    nodes_.push_back({type, flag, uint32_t(nodes_.size() + 1), content.data(), uint32_t(content.size())});
  };
  auto closing = [&] { return nodes_[open.back()].type == Type::object ? '}' : ']'; };
  auto close = [&] {
    parser.take(closing(), "");
    nodes_[open.back()].end = uint32_t(nodes_.size());
    open.pop_back();
  };
  auto key = [&] {
    add(Type::string, parser.string());
    parser.take(':', "expected ':' after a key");
  };
  for (;;) {
    // A value: a scalar whole, or a container opened (and closed if empty).
    char c = parser.peek();
    if (c == '{' || c == '[') {
      parser.take(c, "");
      open.push_back(uint32_t(nodes_.size()));
      add(c == '{' ? Type::object : Type::array);
      if (parser.peek() != closing()) {
        if (c == '{') key();
        continue;
      }
      close();
    } else if (c == '"') {
      add(Type::string, parser.string());
    } else if (c == 't') {
      parser.word("true");
      add(Type::boolean, {}, true);
    } else if (c == 'f') {
      parser.word("false");
      add(Type::boolean, {}, false);
    } else if (c == 'n') {
      parser.word("null");
      add(Type::null);
    } else {
      std::string_view number = parser.number();
      if (is_plain_integer(number)) {
        if (number.size() - (number[0] == '-') > kNumericMaxIntegerDigits) {
          throw BeyondJsonb("a JSON number is beyond the range of numeric");
        }
      } else {
        number = numbers_.emplace_back(numeric_text(number));
        if ((written_numbers += number.size()) > kMaxWrittenNumbers) {
          throw BeyondJsonb("the JSON numbers, written out, are beyond the size of a jsonb value");
        }
      }
      add(Type::number, number);
    }
    // After a value: close what ends here, up to the next value.
    while (!open.empty() && parser.peek() != ',') {
      if (parser.peek() != closing()) {
        not_json(closing() == '}' ? "expected ',' or '}'" : "expected ',' or ']'", parser.at());
      }
      close();
    }
    if (open.empty()) break;
    parser.take(',', "");
    if (nodes_[open.back()].type == Type::object) key();
  }
  if (!parser.done()) not_json("unexpected text after the value", parser.at());
}

std::string canonical(Value value) {
  std::string out;
  Writer(out).write(value);
  return out;
}

std::string canonical(Value object, const std::string_view* members, Span* spans, size_t count, std::string_view omit) {
  std::string out;
  Writer(out).write(object, members, spans, count, omit);
  return out;
}

std::string join(Value a, Value b) {
  std::string out;
  write_join(out, a, b, 0);
  return out;
}

}  // namespace orgsync::core::json
