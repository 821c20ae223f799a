// Reading the fields orgsync uses from a Clerk object, each with its declared
// type. A field of another type, a time out of range or a required field that
// is missing throws InvalidPayload naming the field by its path, such as
// "data.role: expected string, got number". Absent fields and explicit nulls
// of optional ones read as nothing.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/json.hpp"
#include "core/time.hpp"

namespace orgsync::core {

// Ids are about 30 bytes; orgsync indexes them, and refuses ones over this.
constexpr size_t kMaxIdLength = 256;

// Values of indexed columns (slugs, email addresses, external ids) must fit
// in a B-tree entry; Clerk's are far shorter.
constexpr size_t kMaxIndexedText = 1024;

class Fields {
 public:
  // `value` must be an object, else InvalidPayload ("data: expected object, got array").
  Fields(json::Value value, std::string path);

  const std::string& path() const { return path_; }
  json::Value value() const { return object_; }

  // A non-empty string of at most kMaxIdLength bytes.
  std::string id(std::string_view key) const;
  std::optional<std::string> text(std::string_view key) const;
  std::string required_text(std::string_view key) const;
  // A string of at most kMaxIndexedText bytes.
  std::optional<std::string> indexed_text(std::string_view key) const;
  std::optional<int32_t> int32(std::string_view key) const;
  std::optional<bool> boolean(std::string_view key) const;
  // Integer milliseconds within [1970, 9999].
  std::optional<int64_t> time_ms(std::string_view key) const;
  std::optional<std::vector<std::string>> strings(std::string_view key) const;
  std::optional<Fields> object(std::string_view key) const;
  Fields required_object(std::string_view key) const;
  // An array's objects, each readable as Fields ("data.email_addresses[2]").
  std::optional<std::vector<Fields>> objects(std::string_view key) const;
  bool has(std::string_view key) const;  // present and not null

 private:
  std::optional<json::Value> find(std::string_view key) const;  // absent or null: nothing
  std::string path_of(std::string_view key) const;
  [[noreturn]] void wrong_type(std::string_view key, const char* expected, json::Value got) const;

  json::Value object_;
  std::string path_;
};

}  // namespace orgsync::core
