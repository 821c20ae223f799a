// core/json: the strict parser, canonical text, spans, and join.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <random>
#include <string>
#include <vector>

#include "core/errors.hpp"
#include "core/json.hpp"

namespace {

namespace json = orgsync::core::json;
using json::Type;
using orgsync::core::BeyondJsonb;
using orgsync::core::InvalidPayload;
using Json = nlohmann::json;

std::string canon(const std::string& text) { return json::canonical(json::Document(text).root()); }

std::string joined(const std::string& a, const std::string& b) {
  json::Document x(a), y(b);
  return json::join(x.root(), y.root());
}

// The parse's error, or "" when it parses.
std::string parse_error(const std::string& text) {
  try {
    json::Document document(text);
    return "";
  } catch (const InvalidPayload& error) {
    return error.what();
  }
}

// ---- parsing -------------------------------------------------------------------

TEST(JsonParse, ValuesAndTheirTypes) {
  json::Document d(R"( {"s":"t\u00e9xt","n":-1.50e+3,"t":true,"f":false,"z":null,"a":[1,"x"],"o":{}} )");
  json::Value root = d.root();
  EXPECT_TRUE(root.is(Type::object));
  EXPECT_EQ(root.member("s")->string(), "t\xc3\xa9xt");
  EXPECT_EQ(root.member("n")->type(), Type::number);
  EXPECT_EQ(root.member("n")->number_text(), "-1500");
  EXPECT_TRUE(root.member("t")->boolean());
  EXPECT_FALSE(root.member("f")->boolean());
  EXPECT_TRUE(root.member("z")->is(Type::null));
  EXPECT_TRUE(root.member("a")->is(Type::array));
  EXPECT_TRUE(root.member("o")->is(Type::object));
  EXPECT_FALSE(root.member("missing").has_value());
  EXPECT_FALSE(root.member("a")->member("0").has_value());  // not an object
  // Any JSON value is a document.
  for (const char* scalar : {"42", "\"s\"", "true", "null", "[]", " {} "}) EXPECT_EQ(parse_error(scalar), "") << scalar;
}

TEST(JsonParse, TypeNames) {
  EXPECT_STREQ(json::type_name(Type::null), "null");
  EXPECT_STREQ(json::type_name(Type::boolean), "boolean");
  EXPECT_STREQ(json::type_name(Type::number), "number");
  EXPECT_STREQ(json::type_name(Type::string), "string");
  EXPECT_STREQ(json::type_name(Type::array), "array");
  EXPECT_STREQ(json::type_name(Type::object), "object");
}

TEST(JsonParse, RepeatedKeyReadsAsTheLast) {
  json::Document d(R"({"a":1,"b":2,"a":3})");
  EXPECT_EQ(d.root().member("a")->number_text(), "3");
  // each() still walks every member, in document order.
  std::vector<std::string> seen;
  d.root().each([&](std::string_view key, json::Value value) {
    seen.push_back(std::string(key) + "=" + std::string(value.number_text()));
  });
  EXPECT_EQ(seen, (std::vector<std::string>{"a=1", "b=2", "a=3"}));
}

TEST(JsonParse, EachWalksArrayItemsWithEmptyKeys) {
  json::Document d(R"([1,[2,3],{"k":4},"5"])");
  std::vector<Type> types;
  d.root().each([&](std::string_view key, json::Value value) {
    EXPECT_TRUE(key.empty());
    types.push_back(value.type());
  });
  EXPECT_EQ(types, (std::vector<Type>{Type::number, Type::array, Type::object, Type::string}));
}

// A number's text as the document keeps it.
std::string number_of(const std::string& number) {
  std::string text = "[" + number + "]";  // the document points into its text
  json::Document d(text);
  std::string kept;
  d.root().each([&](std::string_view, json::Value v) { kept = v.number_text(); });
  return kept;
}

TEST(JsonParse, NumbersAreKeptAsNumericWritesThem) {
  // Of any size and precision, exactly, in the form Postgres's numeric writes
  // (its output of numeric_in of the text): what a copy read back from jsonb has.
  for (const char* number :
       {"1.50", "0.0", "123456789012345678901234567890", "-123456789012345678901234567890.000000000001", "0.000001"}) {
    EXPECT_EQ(number_of(number), number);
  }
  EXPECT_EQ(number_of("-0"), "0");
  EXPECT_EQ(number_of("-0.00"), "0.00");
  EXPECT_EQ(number_of("1E+2"), "100");
  EXPECT_EQ(number_of("-1.50e+3"), "-1500");
  EXPECT_EQ(number_of("10e-1"), "1.0");
  EXPECT_EQ(number_of("1.5e-3"), "0.0015");
  EXPECT_EQ(number_of("1e999"), "1" + std::string(999, '0'));
  EXPECT_EQ(number_of("-1e-999"), "-0." + std::string(998, '0') + "1");
}

TEST(JsonParse, NumbersBeyondNumericAreRefused) {
  // numeric holds 131072 digits before the point and 16383 after.
  EXPECT_EQ(number_of("1e131071").size(), 131072u);
  EXPECT_EQ(number_of("1e-16383").size(), 16385u);
  for (const char* number : {"1e131072", "1e-16384", "1e99999999999"}) {
    EXPECT_THROW(number_of(number), BeyondJsonb) << number;
  }
  // and no more than a jsonb value's 256 MB of them written out
  std::string many = "[";
  for (int i = 0; i < 2100; ++i) many += (i ? ",1e131071" : "1e131071");
  many += "]";
  EXPECT_THROW(json::Document{many}, BeyondJsonb);
}

TEST(JsonParse, RejectsWhatIsNotJson) {
  for (const char* text : {"",
                           " ",
                           "nul",
                           "nulll",
                           "tru",
                           "True",
                           "NaN",
                           "Infinity",
                           "-",
                           "+1",
                           "01",
                           "-01",
                           "1.",
                           ".5",
                           "1e",
                           "1e+",
                           "0x10",
                           "1 2",
                           "[1,]",
                           "[,1]",
                           "[1 2]",
                           "{\"a\":1,}",
                           "{,}",
                           "{\"a\"}",
                           "{\"a\" 1}",
                           "{a:1}",
                           "{'a':1}",
                           "{\"a\":1 /* c */}",
                           "[",
                           "]",
                           "{",
                           "}",
                           "[}",
                           "{]",
                           "\"open",
                           "\"tab\there\"",
                           "\"new\nline\"",
                           "\"\\x\"",
                           "\"\\u12\"",
                           "\"\\u12G4\"",
                           "\"\\U0041\"",
                           "\xef\xbb\xbf{}",
                           "\f{}",
                           "\v[]"}) {
    EXPECT_NE(parse_error(text), "") << "'" << text << "'";
  }
  EXPECT_NE(parse_error(std::string("\"a\0b\"", 5)), "");  // a raw NUL byte
  EXPECT_NE(parse_error(std::string("[1]\0", 4)), "");
  EXPECT_EQ(parse_error(" \t\r\n[ 1 , {\"a\" : 2} ] \n"), "");
}

TEST(JsonParse, ErrorsSayWhere) {
  EXPECT_EQ(parse_error("[1,]"), "body is not valid JSON: invalid value at byte 3");
  EXPECT_EQ(parse_error("{\"a\":1} x"), "body is not valid JSON: unexpected text after the value at byte 8");
}

TEST(JsonParse, StrictUtf8) {
  for (const char* text : {"\"\xc3\"", "\"\xc0\x80\"", "\"\xe0\x80\x80\"", "\"\xed\xa0\x80\"", "\"\xf4\x90\x80\x80\"",
                           "\"\xff\"", "\"\x80\"", "{\"\xc3\":1}", "[\"abcdefgh\xc3\"]", "\"\xf0\x9f\x98\""}) {
    EXPECT_NE(parse_error(text).find("invalid UTF-8"), std::string::npos) << text;
  }
  // Two-, three- and four-byte forms, at their limits.
  EXPECT_EQ(parse_error("\"\xc2\x80\xdf\xbf\xe0\xa0\x80\xef\xbf\xbf\xf0\x90\x80\x80\xf4\x8f\xbf\xbf\""), "");
}

TEST(JsonParse, UnpairedSurrogateEscapesAreInvalid) {
  // Postgres cannot store them in jsonb.
  for (const char* text : {R"("\ud800")", R"("\udbff")", R"("\udc00")", R"("\udfff")", R"("a\ud800b")",
                           R"("\ud800\u0041")", R"("\ud800\ud800")", R"("\udc00\ud800")", R"({"\ud83d":1})"}) {
    EXPECT_NE(parse_error(text).find("unpaired surrogate"), std::string::npos) << text << ": " << parse_error(text);
  }
  EXPECT_NE(parse_error(R"("\ud800\u12")"), "");
  // A pair is one code point, in UTF-8.
  EXPECT_EQ(json::Document(R"("\ud83d\ude00")").root().string(), "\xf0\x9f\x98\x80");
  EXPECT_EQ(json::Document(R"("\uD83D\uDE00")").root().string(), "\xf0\x9f\x98\x80");
}

TEST(JsonParse, NulEscapeIsInvalid) {
  for (const char* text : {R"("\u0000")", R"("a\u0000b")", R"({"k\u0000":1})", R"([["x","\u0000"]])"}) {
    EXPECT_NE(parse_error(text).find("\\u0000"), std::string::npos) << text;
  }
  // An escaped backslash before "u0000" is an ordinary string; so is U+0001.
  EXPECT_EQ(json::Document(R"("a\\u0000b")").root().string(), "a\\u0000b");
  EXPECT_EQ(json::Document(R"("\u0001")").root().string(), std::string("\x01"));
}

TEST(JsonParse, Escapes) {
  EXPECT_EQ(json::Document(R"("\"\\\/\b\f\n\r\t\u0041\u00e9\u20ac")").root().string(),
            "\"\\/\b\f\n\r\tA\xc3\xa9\xe2\x82\xac");
  // Escaped and plain strings side by side keep their own text.
  json::Document d(R"(["plain","esc\u0061ped","plain2","\n"])");
  std::vector<std::string> items;
  d.root().each([&](std::string_view, json::Value v) { items.emplace_back(v.string()); });
  EXPECT_EQ(items, (std::vector<std::string>{"plain", "escaped", "plain2", "\n"}));
}

// ---- no depth limit ------------------------------------------------------------

TEST(JsonDepth, MillionDeepArraysParseAndCanonicalise) {
  // Parsing and writing are iterative: nesting is Postgres's to limit, and
  // the C++ stack must not be what does.
  constexpr size_t kDepth = 1'000'000;
  std::string text = std::string(kDepth, '[') + "7" + std::string(kDepth, ']');
  json::Document d(text);
  EXPECT_EQ(json::canonical(d.root()), text);
  EXPECT_EQ(joined(text, text), text);
}

TEST(JsonDepth, MillionDeepObjectsParseAndCanonicalise) {
  constexpr size_t kDepth = 1'000'000;
  std::string open;
  open.reserve(kDepth * 5);
  for (size_t i = 0; i < kDepth; ++i) open += "{\"k\":";
  std::string text = open + "{}" + std::string(kDepth, '}');
  json::Document d(text);
  EXPECT_EQ(json::canonical(d.root()), text);
  // Joined member by member near the top, whole below: no recursion to the bottom.
  EXPECT_EQ(joined(text, text), text);
}

// ---- canonical -------------------------------------------------------------------

TEST(JsonCanonical, SortsKeysBytewiseAndKeepsTheLastOfRepeats) {
  EXPECT_EQ(canon(R"({"b":1,"a":2,"B":3,"\u00e9":4,"aa":5,"a":6})"),
            "{\"B\":3,\"a\":6,\"aa\":5,\"b\":1,\"\xc3\xa9\":4}");
  EXPECT_EQ(canon(R"({"o":{"z":[{"y":1,"x":2}],"z":null}})"), R"({"o":{"z":null}})");
  EXPECT_EQ(canon(R"({"o":{"z":null,"z":[{"y":1,"x":2}]}})"), R"({"o":{"z":[{"x":2,"y":1}]}})");
  EXPECT_EQ(canon(" [ 1 , { } , [ ] , \"\" ] "), R"([1,{},[],""])");
}

TEST(JsonCanonical, NumbersAsNumericWritesThem) {
  EXPECT_EQ(canon("[1.50, 1e9, -0, 123456789012345678901234567890, 1E+2, 0.1e-5]"),
            "[1.50,1000000000,0,123456789012345678901234567890,100,0.000001]");
}

TEST(JsonCanonical, StringsEscapedOneWay) {
  EXPECT_EQ(canon(R"("\u0041\/\u00e9\ud83d\ude00")"), "\"A/\xc3\xa9\xf0\x9f\x98\x80\"");
  EXPECT_EQ(canon(R"("\"\\\b\f\n\r\t\u0001\u001f\u007f")"), "\"\\\"\\\\\\b\\f\\n\\r\\t\\u0001\\u001f\x7f\"");
  EXPECT_EQ(canon(R"({"k\n":"v"})"), R"({"k\n":"v"})");
  // A long run between escapes, past the 8-byte fast path.
  EXPECT_EQ(canon(R"("abcdefghijklmnop\nabcdefghijklmnopq\"")"), R"("abcdefghijklmnop\nabcdefghijklmnopq\"")");
}

// Random documents built with nlohmann, whose dump() (sorted keys, compact,
// control characters as \u00xx, other text raw) is canonical text too: an
// independent oracle for the writer.
Json random_json(std::mt19937& rng, int depth) {
  static const std::vector<uint32_t> kCodePoints = {'a',  'Z',  ' ',  '"',  '\\',   '/',    0x01,   0x08,
                                                    0x0a, 0x1f, 0x7f, 0xe9, 0x20ac, 0xffff, 0x1f600};
  auto random_string = [&] {
    std::string s;
    for (int n = int(rng() % 12); n > 0; --n) {
      uint32_t c = kCodePoints[rng() % kCodePoints.size()];
      if (c < 0x80) {
        s += char(c);
      } else if (c < 0x800) {
        s += char(0xC0 | (c >> 6)), s += char(0x80 | (c & 0x3F));
      } else if (c < 0x10000) {
        s += char(0xE0 | (c >> 12)), s += char(0x80 | ((c >> 6) & 0x3F)), s += char(0x80 | (c & 0x3F));
      } else {
        s += char(0xF0 | (c >> 18)), s += char(0x80 | ((c >> 12) & 0x3F));
        s += char(0x80 | ((c >> 6) & 0x3F)), s += char(0x80 | (c & 0x3F));
      }
    }
    return s;
  };
  switch (depth > 3 ? rng() % 5 : rng() % 7) {
    case 0: return nullptr;
    case 1: return rng() % 2 == 0;
    case 2: return int64_t(rng()) - int64_t(rng());
    case 3: return random_string();
    case 4: return uint64_t(rng()) << 20;
    case 5: {
      Json array = Json::array();
      for (int n = int(rng() % 4); n > 0; --n) array.push_back(random_json(rng, depth + 1));
      return array;
    }
    default: {
      Json object = Json::object();
      for (int n = int(rng() % 5); n > 0; --n) object[random_string()] = random_json(rng, depth + 1);
      return object;
    }
  }
}

TEST(JsonCanonical, AgreesWithAnIndependentWriter) {
  std::mt19937 rng(20240611);
  for (int i = 0; i < 2000; ++i) {
    Json value = random_json(rng, 0);
    std::string expected = value.dump();
    EXPECT_EQ(canon(expected), expected);
    EXPECT_EQ(canon(value.dump(2)), expected);  // whitespace does not matter
  }
}

// ---- spans -------------------------------------------------------------------------

TEST(JsonSpans, MembersCanonicalTextInsideTheObjects) {
  json::Document d(R"({"z":[1, 2],"organization":{"b":1,"a":{"organization":3}},"s":"x","e":{},"n":5,"s":"y"})");
  const std::string_view members[] = {"organization", "s", "n", "e", "z", "missing"};
  json::Span spans[6];
  std::string text = json::canonical(d.root(), members, spans, 6);
  EXPECT_EQ(text, json::canonical(d.root()));
  EXPECT_EQ(text.substr(spans[0].offset, spans[0].size), R"({"a":{"organization":3},"b":1})");
  EXPECT_EQ(text.substr(spans[1].offset, spans[1].size), R"("y")");  // the last of a repeated key
  EXPECT_EQ(text.substr(spans[2].offset, spans[2].size), "5");
  EXPECT_EQ(text.substr(spans[3].offset, spans[3].size), "{}");
  EXPECT_EQ(text.substr(spans[4].offset, spans[4].size), "[1,2]");
  EXPECT_EQ(spans[5].offset, 0u);
  EXPECT_EQ(spans[5].size, 0u);
  // Each the same text canonical(member) gives.
  for (size_t i = 0; i < 5; ++i) {
    EXPECT_EQ(text.substr(spans[i].offset, spans[i].size), json::canonical(*d.root().member(members[i])));
  }
}

TEST(JsonSpans, OmitLeavesAMemberOut) {
  json::Document d(R"({"url":"https://x?token=1","id":"i","nested":{"url":"kept"}})");
  EXPECT_EQ(json::canonical(d.root(), nullptr, nullptr, 0, "url"), R"({"id":"i","nested":{"url":"kept"}})");
  EXPECT_EQ(json::canonical(d.root(), nullptr, nullptr, 0, "absent"), json::canonical(d.root()));
}

// ---- join ----------------------------------------------------------------------------

TEST(JsonJoin, KeepsWhatOnlyOneCopyHas) {
  EXPECT_EQ(joined(R"({"a":1,"n":{"x":1}})", R"({"b":2,"n":{"y":2}})"), R"({"a":1,"b":2,"n":{"x":1,"y":2}})");
  EXPECT_EQ(joined(R"({"a":1})", "{}"), R"({"a":1})");
}

TEST(JsonJoin, PrefersNonNull) {
  EXPECT_EQ(joined(R"({"a":null})", R"({"a":"v"})"), R"({"a":"v"})");
  EXPECT_EQ(joined(R"({"a":false})", R"({"a":null})"), R"({"a":false})");
  EXPECT_EQ(joined(R"({"a":null})", R"({"a":{"k":1}})"), R"({"a":{"k":1}})");
}

TEST(JsonJoin, TheGreaterInAFixedOrder) {
  // null < false < true < numbers by value < strings < arrays < objects.
  const std::vector<std::string> ascending = {"null",  "false", "true", "-1" + std::string(999, '0'), "-5",   "1.5",
                                              "1.50",  "2",     "10",   "1" + std::string(999, '0'),  "\"\"", "\"A\"",
                                              "\"a\"", "[1]",   "{}"};
  for (size_t i = 0; i < ascending.size(); ++i) {
    for (size_t j = i; j < ascending.size(); ++j) {
      EXPECT_EQ(joined(ascending[i], ascending[j]), ascending[j]) << ascending[i] << " " << ascending[j];
      EXPECT_EQ(joined(ascending[j], ascending[i]), ascending[j]) << ascending[j] << " " << ascending[i];
    }
  }
  // Numbers equal as doubles are ordered by their text, in either order.
  EXPECT_EQ(joined("123456789012345678901234567890", "123456789012345678901234567891"),
            "123456789012345678901234567891");
  EXPECT_EQ(joined("123456789012345678901234567891", "123456789012345678901234567890"),
            "123456789012345678901234567891");
  EXPECT_EQ(joined("0", "-0"), joined("-0", "0"));
}

// Numbers beyond a double's range are ordered by their exact value:
// "1<400 zeros>e-10" (1e390) above 5, "0.<400 zeros>1e+5" (1e-396) below it.
TEST(JsonJoin, NumbersBeyondDoubleByTheirValue) {
  std::string huge = "1" + std::string(400, '0') + "e-10";
  std::string tiny = "0." + std::string(400, '0') + "1e+5";
  EXPECT_EQ(joined(huge, "5"), "1" + std::string(390, '0') + "." + std::string(10, '0'));
  EXPECT_EQ(joined(tiny, "5"), "5");
  // written differently, equal by value: the same join in either order
  EXPECT_EQ(joined("1.5e999", "15e998"), joined("15e998", "1.5e999"));
}

// Two objects `levels` deep whose innermost objects differ.
std::string nest(int levels, const std::string& inner) {
  std::string text = inner;
  for (int i = 0; i < levels; ++i) text = "{\"k\":" + text + "}";
  return text;
}

TEST(JsonJoin, MemberByMemberToDepth32ThenWhole) {
  EXPECT_EQ(joined(nest(31, R"({"x":1})"), nest(31, R"({"y":1})")), nest(31, R"({"x":1,"y":1})"));
  EXPECT_EQ(joined(nest(32, R"({"x":1})"), nest(32, R"({"y":1})")), nest(32, R"({"y":1})"));
  EXPECT_EQ(joined(nest(32, R"({"y":1})"), nest(32, R"({"x":1})")), nest(32, R"({"y":1})"));
}

// Random objects over few keys and values, so that copies overlap and clash.
std::string random_text(std::mt19937& rng, int depth) {
  static const char* kScalars[] = {"null",
                                   "true",
                                   "false",
                                   "0",
                                   "-0",
                                   "1",
                                   "1.0",
                                   "1.50",
                                   "2",
                                   "10",
                                   "1e2",
                                   "100",
                                   "1e999",
                                   "-1e999",
                                   "123456789012345678901234567890",
                                   "123456789012345678901234567891",
                                   "\"\"",
                                   "\"a\"",
                                   "\"b\"",
                                   "\"\\u0061\"",
                                   "\"\xc3\xa9\""};
  static const char* kKeys[] = {"a", "b", "c", "\\u0061", "\xc3\xa9"};
  unsigned pick = rng() % 10;
  if (depth >= 4 || pick < 4) return kScalars[rng() % (sizeof kScalars / sizeof *kScalars)];
  if (pick < 6) {
    std::string array = "[";
    for (int n = int(rng() % 3); n > 0; --n) array += random_text(rng, depth + 1) + (n > 1 ? "," : "");
    return array + "]";
  }
  std::string object = "{";
  for (int n = int(rng() % 5); n > 0; --n) {
    object += std::string("\"") + kKeys[rng() % 5] + "\":" + random_text(rng, depth + 1) + (n > 1 ? "," : "");
  }
  return object + "}";
}

std::string random_object(std::mt19937& rng) {
  std::string text;
  do text = random_text(rng, 0);
  while (text[0] != '{');
  return text;
}

TEST(JsonJoin, IsASemilattice) {
  // Commutative, associative and idempotent: copies joined in any order and
  // any number of times give the same text.
  std::mt19937 rng(7);
  for (int i = 0; i < 3000; ++i) {
    std::string a = random_object(rng), b = random_object(rng), c = random_object(rng);
    SCOPED_TRACE(a + " | " + b + " | " + c);
    std::string ab = joined(a, b);
    EXPECT_EQ(ab, joined(b, a));
    EXPECT_EQ(joined(a, a), canon(a));
    EXPECT_EQ(joined(ab, b), ab);
    EXPECT_EQ(joined(a, ab), ab);
    EXPECT_EQ(joined(ab, c), joined(a, joined(b, c)));
    EXPECT_EQ(canon(ab), ab);  // canonical text
  }
}

TEST(JsonJoin, KeepsEveryKeyOfEitherCopy) {
  std::mt19937 rng(11);
  for (int i = 0; i < 1000; ++i) {
    std::string a = random_object(rng), b = random_object(rng);
    std::string ab = joined(a, b);
    json::Document x(a), y(b), z(ab);
    for (const json::Document* copy : {&x, &y}) {
      copy->root().each([&](std::string_view key, json::Value) {
        EXPECT_TRUE(z.root().member(key).has_value()) << key << " of " << a << " | " << b;
      });
    }
  }
}

}  // namespace
