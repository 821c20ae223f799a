// core/fields: typed reading of a Clerk object, with paths in errors; and
// core/time: the integer and timestamp parsers.
#include <gtest/gtest.h>

#include <functional>
#include <string>

#include "core/errors.hpp"
#include "core/fields.hpp"
#include "core/json.hpp"
#include "core/time.hpp"

namespace {

namespace core = orgsync::core;
namespace json = core::json;
using core::Fields;
using core::InvalidPayload;

// The message a read throws, or "" when it does not.
std::string error_of(const std::function<void()>& read) {
  try {
    read();
    return "";
  } catch (const InvalidPayload& error) {
    return error.what();
  }
}

TEST(Fields, MustBeAnObject) {
  json::Document array("[]"), number("7");
  EXPECT_EQ(error_of([&] { Fields(array.root(), "data"); }), "data: expected object, got array");
  EXPECT_EQ(error_of([&] { Fields(number.root(), ""); }), "body: expected object, got number");
}

TEST(Fields, WrongTypesNameTheFieldByPath) {
  json::Document d(R"({"role":7,"name":"n","org":{"slug":[1],"max":1.5},"when":"soon","flag":"yes",
                       "list":{"a":1},"perms":["a",2],"items":[{"email":5}]})");
  Fields data(d.root(), "data");
  EXPECT_EQ(error_of([&] { data.text("role"); }), "data.role: expected string, got number 7");
  EXPECT_EQ(error_of([&] { data.int32("name"); }), "data.name: expected 32-bit integer, got string");
  Fields org = data.required_object("org");
  EXPECT_EQ(org.path(), "data.org");
  EXPECT_EQ(error_of([&] { org.text("slug"); }), "data.org.slug: expected string, got array");
  EXPECT_EQ(error_of([&] { org.int32("max"); }), "data.org.max: expected 32-bit integer, got number 1.5");
  EXPECT_EQ(error_of([&] { data.time_ms("when"); }),
            "data.when: expected whole milliseconds between 1970 and 9999, got string");
  EXPECT_EQ(error_of([&] { data.boolean("flag"); }), "data.flag: expected boolean, got string");
  EXPECT_EQ(error_of([&] { data.strings("list"); }), "data.list: expected array of strings, got object");
  EXPECT_EQ(error_of([&] { data.strings("perms"); }), "data.perms[1]: expected string, got number");
  EXPECT_EQ(error_of([&] { data.objects("perms"); }), "data.perms[0]: expected object, got string");
  EXPECT_EQ(error_of([&] { data.object("role"); }), "data.role: expected object, got number");
  auto items = data.objects("items");
  ASSERT_TRUE(items.has_value());
  EXPECT_EQ(error_of([&] { (*items)[0].text("email"); }), "data.items[0].email: expected string, got number 5");
  // The body itself names its members alone.
  Fields body(d.root(), "");
  EXPECT_EQ(error_of([&] { body.text("role"); }), "role: expected string, got number 7");
}

TEST(Fields, AbsentAndNullReadAsNothing) {
  json::Document d(R"({"a":null})");
  Fields data(d.root(), "data");
  for (const char* key : {"a", "missing"}) {
    EXPECT_FALSE(data.text(key).has_value());
    EXPECT_FALSE(data.indexed_text(key).has_value());
    EXPECT_FALSE(data.int32(key).has_value());
    EXPECT_FALSE(data.boolean(key).has_value());
    EXPECT_FALSE(data.time_ms(key).has_value());
    EXPECT_FALSE(data.strings(key).has_value());
    EXPECT_FALSE(data.object(key).has_value());
    EXPECT_FALSE(data.objects(key).has_value());
    EXPECT_FALSE(data.has(key));
  }
  EXPECT_EQ(error_of([&] { data.required_text("a"); }), "data.a: missing, expected string");
  EXPECT_EQ(error_of([&] { data.required_object("missing"); }), "data.missing: missing, expected object");
  EXPECT_EQ(error_of([&] { data.id("a"); }), "data.a: missing, expected string");
}

TEST(Fields, ReadsValues) {
  json::Document d(R"({"s":"t","b":false,"n":-2147483648,"t":1716883200000,"l":["x",""],"e":[],"o":{"k":"v"},
                       "os":[{"k":1},{"k":2}],"r":1,"r":"last"})");
  Fields data(d.root(), "data");
  EXPECT_EQ(data.text("s"), "t");
  EXPECT_EQ(data.boolean("b"), false);
  EXPECT_EQ(data.int32("n"), INT32_MIN);
  EXPECT_EQ(data.time_ms("t"), 1716883200000);
  EXPECT_EQ(data.strings("l"), (std::vector<std::string>{"x", ""}));
  EXPECT_EQ(data.strings("e"), std::vector<std::string>{});
  EXPECT_EQ(data.required_object("o").text("k"), "v");
  ASSERT_EQ(data.objects("os")->size(), 2u);
  EXPECT_EQ((*data.objects("os"))[1].path(), "data.os[1]");
  EXPECT_EQ(data.text("r"), "last");  // a repeated key: the last, as jsonb keeps it
  EXPECT_TRUE(data.has("b"));
}

TEST(Fields, IdsAreNonEmptyAndAtMost256Bytes) {
  auto id_error = [](const std::string& id) {
    std::string text = R"({"id":")" + id + "\"}";
    json::Document d(text);
    return error_of([&] { Fields(d.root(), "data").id("id"); });
  };
  EXPECT_EQ(id_error("org_1"), "");
  EXPECT_EQ(id_error(std::string(core::kMaxIdLength, 'x')), "");
  EXPECT_EQ(id_error(std::string(core::kMaxIdLength + 1, 'x')), "data.id: longer than 256 bytes");
  EXPECT_EQ(id_error(""), "data.id: empty, expected an id");
}

TEST(Fields, IndexedTextAtMost1024Bytes) {
  auto slug_error = [](size_t size) {
    std::string text = R"({"slug":")" + std::string(size, 's') + "\"}";
    json::Document d(text);
    return error_of([&] { Fields(d.root(), "data").indexed_text("slug"); });
  };
  EXPECT_EQ(slug_error(core::kMaxIndexedText), "");
  EXPECT_EQ(slug_error(core::kMaxIndexedText + 1), "data.slug: longer than 1024 bytes");
}

TEST(Fields, Int32Range) {
  auto read = [](const std::string& number) -> std::string {
    std::string text = R"({"n":)" + number + "}";
    json::Document d(text);
    try {
      return std::to_string(*Fields(d.root(), "data").int32("n"));
    } catch (const InvalidPayload& error) {
      return error.what();
    }
  };
  EXPECT_EQ(read("2147483647"), "2147483647");
  EXPECT_EQ(read("-2147483648"), "-2147483648");
  EXPECT_EQ(read("0"), "0");
  EXPECT_EQ(read("-0"), "0");
  EXPECT_EQ(read("1e3"), "1000");  // numbers are read as numeric writes them
  for (const char* bad : {"2147483648", "-2147483649", "99999999999999999999", "5.0"}) {
    EXPECT_EQ(read(bad), std::string("data.n: expected 32-bit integer, got number ") + bad);
  }
  EXPECT_EQ(read("1e12"), "data.n: expected 32-bit integer, got number 1000000000000");
}

TEST(Fields, TimesWithinTheYears1970To9999) {
  auto read = [](const std::string& number) -> std::optional<int64_t> {
    std::string text = R"({"t":)" + number + "}";
    json::Document d(text);
    try {
      return Fields(d.root(), "data").time_ms("t");
    } catch (const InvalidPayload& error) {
      EXPECT_EQ(
          std::string(error.what()).rfind("data.t: expected whole milliseconds between 1970 and 9999, got number ", 0),
          0u);
      return std::nullopt;
    }
  };
  EXPECT_EQ(read("0"), 0);
  EXPECT_EQ(read("253402300799999"), core::kMaxTimeMs);  // 9999-12-31T23:59:59.999Z
  EXPECT_EQ(read("1.7e12"), 1700000000000);              // the whole number numeric makes of it
  for (const char* bad : {"253402300800000", "-1", "1716883200000.0", "1.7e-12", "9223372036854775808", "1e999"}) {
    EXPECT_EQ(read(bad), std::nullopt) << bad;
  }
}

// ---- core/time ----------------------------------------------------------------------

TEST(Time, ParseInteger) {
  EXPECT_EQ(core::parse_integer("12"), 12);
  EXPECT_EQ(core::parse_integer("-3"), -3);
  EXPECT_EQ(core::parse_integer("0"), 0);
  EXPECT_EQ(core::parse_integer("9223372036854775807"), INT64_MAX);
  EXPECT_EQ(core::parse_integer("-9223372036854775808"), INT64_MIN);
  for (const char* bad :
       {"", "1.0", "1e3", "1E3", "9223372036854775808", "-9223372036854775809", "+1", " 1", "1 ", "0x1", "1a", "-"}) {
    EXPECT_EQ(core::parse_integer(bad), std::nullopt) << "'" << bad << "'";
  }
}

TEST(Time, ParseUnixSeconds) {
  EXPECT_EQ(core::parse_unix_seconds("1614265330"), 1614265330);
  EXPECT_EQ(core::parse_unix_seconds("0"), 0);
  EXPECT_EQ(core::parse_unix_seconds("253402300799"), 253402300799);  // the last second of 9999
  for (const char* bad : {"", "253402300800", "-1", "+1", " 1", "1 ", "1.0", "1e3", "12a", "99999999999999999999"}) {
    EXPECT_EQ(core::parse_unix_seconds(bad), std::nullopt) << "'" << bad << "'";
  }
}

TEST(Time, NormalizeEventTime) {
  // Below 1e11 a value can only be seconds.
  EXPECT_EQ(core::normalize_event_time_ms(1716883200), 1716883200000);
  EXPECT_EQ(core::normalize_event_time_ms(1716883200000), 1716883200000);
  EXPECT_EQ(core::normalize_event_time_ms(0), 0);
  EXPECT_EQ(core::normalize_event_time_ms(1), 1000);
  EXPECT_EQ(core::normalize_event_time_ms(99'999'999'999), 99'999'999'999'000);
  EXPECT_EQ(core::normalize_event_time_ms(100'000'000'000), 100'000'000'000);
}

}  // namespace
