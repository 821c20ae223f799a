#include "core/base64.hpp"

#include <array>
#include <cstdint>

namespace orgsync::core {
namespace {

constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

constexpr std::array<int8_t, 256> make_decode_table() {
  std::array<int8_t, 256> table{};
  for (auto& entry : table) entry = -1;
  for (int i = 0; i < 64; ++i) table[static_cast<unsigned char>(kAlphabet[i])] = static_cast<int8_t>(i);
  return table;
}

constexpr auto kDecode = make_decode_table();

}  // namespace

std::string base64_encode(std::string_view bytes) {
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  size_t i = 0;
  for (; i + 3 <= bytes.size(); i += 3) {
    uint32_t n = (uint8_t(bytes[i]) << 16) | (uint8_t(bytes[i + 1]) << 8) | uint8_t(bytes[i + 2]);
    out += kAlphabet[(n >> 18) & 63];
    out += kAlphabet[(n >> 12) & 63];
    out += kAlphabet[(n >> 6) & 63];
    out += kAlphabet[n & 63];
  }
  size_t rest = bytes.size() - i;
  if (rest > 0) {
    uint32_t n = uint8_t(bytes[i]) << 16;
    if (rest == 2) n |= uint8_t(bytes[i + 1]) << 8;
    out += kAlphabet[(n >> 18) & 63];
    out += kAlphabet[(n >> 12) & 63];
    out += rest == 2 ? kAlphabet[(n >> 6) & 63] : '=';
    out += '=';
  }
  return out;
}

std::optional<std::string> base64_decode(std::string_view text) {
  if (text.size() % 4 != 0) return std::nullopt;
  size_t padding = 0;
  if (!text.empty() && text.back() == '=') ++padding;
  if (text.size() >= 2 && text[text.size() - 2] == '=') ++padding;

  std::string out;
  out.reserve(text.size() / 4 * 3);
  uint32_t accumulator = 0;
  for (size_t i = 0; i < text.size() - padding; ++i) {
    int8_t sextet = kDecode[static_cast<unsigned char>(text[i])];
    if (sextet < 0) return std::nullopt;
    accumulator = (accumulator << 6) | uint32_t(sextet);
    if (i % 4 == 3) {
      out += char(accumulator >> 16);
      out += char(accumulator >> 8);
      out += char(accumulator);
      accumulator = 0;
    }
  }
  // Like the Svix libraries, ignore the bits that padding leaves over.
  if (padding == 1) {
    out += char(accumulator >> 10);
    out += char(accumulator >> 2);
  } else if (padding == 2) {
    out += char(accumulator >> 4);
  }
  return out;
}

}  // namespace orgsync::core
