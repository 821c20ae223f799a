#include "core/fields.hpp"

#include "core/errors.hpp"

namespace orgsync::core {

using json::Type;

Fields::Fields(json::Value value, std::string path) : object_(value), path_(std::move(path)) {
  if (!value.is(Type::object)) {
    throw InvalidPayload((path_.empty() ? "body" : path_) + ": expected object, got " + json::type_name(value.type()));
  }
}

// The body itself has an empty path: its members are named alone ("type").
std::string Fields::path_of(std::string_view key) const {
  return path_.empty() ? std::string(key) : path_ + "." + std::string(key);
}

void Fields::wrong_type(std::string_view key, const char* expected, json::Value got) const {
  std::string shown = got.is(Type::number) ? " " + std::string(got.number_text()) : "";
  throw InvalidPayload(path_of(key) + ": expected " + expected + ", got " + json::type_name(got.type()) + shown);
}

std::optional<json::Value> Fields::find(std::string_view key) const {
  auto value = object_.member(key);
  if (value && value->is(Type::null)) return std::nullopt;
  return value;
}

bool Fields::has(std::string_view key) const { return find(key).has_value(); }

std::optional<std::string> Fields::text(std::string_view key) const {
  auto value = find(key);
  if (!value) return std::nullopt;
  if (!value->is(Type::string)) wrong_type(key, "string", *value);
  return std::string(value->string());
}

std::string Fields::required_text(std::string_view key) const {
  auto value = text(key);
  if (!value) throw InvalidPayload(path_of(key) + ": missing, expected string");
  return std::move(*value);
}

std::string Fields::id(std::string_view key) const {
  std::string value = required_text(key);
  if (value.empty()) throw InvalidPayload(path_of(key) + ": empty, expected an id");
  if (value.size() > kMaxIdLength) {
    throw InvalidPayload(path_of(key) + ": longer than " + std::to_string(kMaxIdLength) + " bytes");
  }
  return value;
}

std::optional<std::string> Fields::indexed_text(std::string_view key) const {
  auto value = text(key);
  if (value && value->size() > kMaxIndexedText) {
    throw InvalidPayload(path_of(key) + ": longer than " + std::to_string(kMaxIndexedText) + " bytes");
  }
  return value;
}

std::optional<int32_t> Fields::int32(std::string_view key) const {
  auto value = find(key);
  if (!value) return std::nullopt;
  auto number = value->is(Type::number) ? parse_integer(value->number_text()) : std::nullopt;
  if (!number || *number < INT32_MIN || *number > INT32_MAX) wrong_type(key, "32-bit integer", *value);
  return int32_t(*number);
}

std::optional<bool> Fields::boolean(std::string_view key) const {
  auto value = find(key);
  if (!value) return std::nullopt;
  if (!value->is(Type::boolean)) wrong_type(key, "boolean", *value);
  return value->boolean();
}

std::optional<int64_t> Fields::time_ms(std::string_view key) const {
  auto value = find(key);
  if (!value) return std::nullopt;
  auto ms = value->is(Type::number) ? parse_integer(value->number_text()) : std::nullopt;
  if (!ms || *ms < 0 || *ms > kMaxTimeMs) wrong_type(key, "whole milliseconds between 1970 and 9999", *value);
  return ms;
}

std::optional<std::vector<std::string>> Fields::strings(std::string_view key) const {
  auto value = find(key);
  if (!value) return std::nullopt;
  if (!value->is(Type::array)) wrong_type(key, "array of strings", *value);
  std::vector<std::string> items;
  size_t index = 0;
  value->each([&](std::string_view, json::Value item) {
    if (!item.is(Type::string)) {
      throw InvalidPayload(path_of(key) + "[" + std::to_string(index) + "]: expected string, got " +
                           json::type_name(item.type()));
    }
    items.emplace_back(item.string());
    ++index;
  });
  return items;
}

std::optional<Fields> Fields::object(std::string_view key) const {
  auto value = find(key);
  if (!value) return std::nullopt;
  return Fields(*value, path_of(key));
}

Fields Fields::required_object(std::string_view key) const {
  auto value = object(key);
  if (!value) throw InvalidPayload(path_of(key) + ": missing, expected object");
  return std::move(*value);
}

std::optional<std::vector<Fields>> Fields::objects(std::string_view key) const {
  auto value = find(key);
  if (!value) return std::nullopt;
  if (!value->is(Type::array)) wrong_type(key, "array of objects", *value);
  std::vector<Fields> items;
  value->each([&](std::string_view, json::Value item) {
    items.emplace_back(item, path_of(key) + "[" + std::to_string(items.size()) + "]");
  });
  return items;
}

}  // namespace orgsync::core
