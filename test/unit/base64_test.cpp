// base64_encode / base64_decode: RFC 4648 vectors, round trips, rejections.
#include <gtest/gtest.h>
#include <openssl/evp.h>

#include <random>
#include <string>
#include <vector>

#include "core/base64.hpp"

namespace {

using orgsync::core::base64_decode;
using orgsync::core::base64_encode;
using namespace std::string_literals;

// Independent oracle: OpenSSL's standard, padded base64.
std::string openssl_encode(const std::string& bytes) {
  std::string out(4 * ((bytes.size() + 2) / 3) + 1, '\0');
  int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(bytes.data()), int(bytes.size()));
  out.resize(size_t(n));
  return out;
}

std::string random_bytes(std::mt19937_64& rng, size_t n) {
  std::string bytes(n, '\0');
  for (auto& c : bytes) c = char(rng() & 0xff);
  return bytes;
}

struct Vector {
  std::string plain;
  std::string encoded;
};

// RFC 4648 section 10.
const std::vector<Vector> kRfc4648 = {
    {"", ""},
    {"f", "Zg=="},
    {"fo", "Zm8="},
    {"foo", "Zm9v"},
    {"foob", "Zm9vYg=="},
    {"fooba", "Zm9vYmE="},
    {"foobar", "Zm9vYmFy"},
};

TEST(Base64, Rfc4648VectorsEncode) {
  for (const auto& v : kRfc4648) EXPECT_EQ(base64_encode(v.plain), v.encoded) << "plain: " << v.plain;
}

TEST(Base64, Rfc4648VectorsDecode) {
  for (const auto& v : kRfc4648) {
    auto decoded = base64_decode(v.encoded);
    ASSERT_TRUE(decoded.has_value()) << v.encoded;
    EXPECT_EQ(*decoded, v.plain) << v.encoded;
  }
}

TEST(Base64, HighAlphabetAndBinary) {
  EXPECT_EQ(base64_encode("\xfb\xff"s), "+/8=");
  EXPECT_EQ(base64_encode("\xff\xff\xff"s), "////");
  EXPECT_EQ(base64_encode("\x00\x00\x00"s), "AAAA");
  EXPECT_EQ(base64_encode("\x00"s), "AA==");
  EXPECT_EQ(base64_encode("\xfb\xef\xbe"s), "++++");
  EXPECT_EQ(base64_decode("+/8="), std::optional<std::string>("\xfb\xff"s));
  EXPECT_EQ(base64_decode("AA=="), std::optional<std::string>("\x00"s));
  EXPECT_EQ(base64_decode("AAAA"), std::optional<std::string>("\x00\x00\x00"s));
  // Every byte value, against OpenSSL.
  std::string all;
  for (int i = 0; i < 256; ++i) all += char(i);
  EXPECT_EQ(base64_encode(all), openssl_encode(all));
  EXPECT_EQ(base64_decode(base64_encode(all)), std::optional<std::string>(all));
}

TEST(Base64, RoundTripsAllLengths0To64) {
  std::mt19937_64 rng(20240601);
  for (int round = 0; round < 8; ++round) {
    for (size_t n = 0; n <= 64; ++n) {
      std::string bytes = random_bytes(rng, n);
      std::string encoded = base64_encode(bytes);
      EXPECT_EQ(encoded.size(), 4 * ((n + 2) / 3)) << "length " << n;
      EXPECT_EQ(encoded, openssl_encode(bytes)) << "length " << n;
      auto decoded = base64_decode(encoded);
      ASSERT_TRUE(decoded.has_value()) << "length " << n << ": " << encoded;
      EXPECT_EQ(*decoded, bytes) << "length " << n;
    }
  }
}

TEST(Base64, RejectsBadLength) {
  for (const char* text : {"Z", "Zg", "Zg=", "Zm9vY", "Zm9vYg", "Zm9vYg=", "Zm9vYmFy=", "A"}) {
    EXPECT_FALSE(base64_decode(text).has_value()) << text;
  }
}

TEST(Base64, RejectsBadAlphabet) {
  const std::vector<std::string> bad = {
      "Zm9-",
      "Zm9_",  // base64url is not accepted
      "Zm 9v",
      "Zm9v\n",
      "Zm9v\r\nZm9v",
      " Zm9",
      "Zm9\t",
      "Zm.v",
      "Zm9v!AAA",
      "Zm\x00v"s,
      "\xc3\xa9"
      "AA",  // NUL, non-ASCII
      "Zm9\x80",
      "Zm9\xff",
  };
  for (const auto& text : bad) EXPECT_FALSE(base64_decode(text).has_value()) << "'" << text << "'";
}

TEST(Base64, RejectsMisplacedPadding) {
  for (const char* text : {"=Zm9", "Z=m9", "Zm=v", "Zg=a", "====", "A===", "Zg==Zm9v", "Zm8=Zm9v",
                           "Zm9v====", "Zm9vZ===", "Zm9v=Zm9", "=AAA", "AA=A", "=", "==", "Zm9vYg==="}) {
    EXPECT_FALSE(base64_decode(text).has_value()) << text;
  }
}

TEST(Base64, EmptyDecodesToEmpty) {
  auto decoded = base64_decode("");
  ASSERT_TRUE(decoded.has_value());
  EXPECT_TRUE(decoded->empty());
}

// Documented: like the Svix libraries, the bits padding leaves over are
// ignored, so a non-canonical last character still decodes (to the same bytes
// as the canonical one).
TEST(Base64, NonCanonicalTrailingBitsAreIgnored) {
  EXPECT_EQ(base64_decode("Zh=="), std::optional<std::string>("f"));
  EXPECT_EQ(base64_decode("Zv=="), std::optional<std::string>("f"));
  EXPECT_EQ(base64_decode("Zm9="), std::optional<std::string>("fo"));
  EXPECT_EQ(base64_decode("Zm+="), std::optional<std::string>(base64_decode("Zm8=")));
  // But a change in a used bit changes the result.
  EXPECT_NE(base64_decode("Zw=="), base64_decode("Zg=="));
}

// When decode(s) succeeds, encode(decode(s)) decodes to the same bytes.
TEST(Base64, DecodeEncodeDecodeIsStable) {
  std::mt19937_64 rng(7);
  const std::string alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  int accepted = 0;
  for (int i = 0; i < 2000; ++i) {
    size_t quads = rng() % 6;
    std::string text;
    for (size_t q = 0; q < quads * 4; ++q) text += alphabet[rng() % 64];
    if (!text.empty()) {
      int pad = int(rng() % 3);
      for (int p = 0; p < pad; ++p) text[text.size() - 1 - p] = '=';
    }
    auto once = base64_decode(text);
    ASSERT_TRUE(once.has_value()) << text;
    ++accepted;
    EXPECT_EQ(once->size(), text.size() / 4 * 3 - (text.size() >= 1 && text.back() == '=' ? 1 : 0) -
                                (text.size() >= 2 && text[text.size() - 2] == '=' ? 1 : 0))
        << text;
    auto twice = base64_decode(base64_encode(*once));
    ASSERT_TRUE(twice.has_value()) << text;
    EXPECT_EQ(*twice, *once) << text;
  }
  EXPECT_EQ(accepted, 2000);
}

}  // namespace
