// Standard Webhooks / Svix signature verification.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <openssl/evp.h>
#include <openssl/sha.h>

#include <cstdlib>
#include <fstream>
#include <random>
#include <set>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "core/base64.hpp"
#include "core/errors.hpp"
#include "core/signature.hpp"

namespace orgsync::core {
// Readable verdicts in failure messages.
void PrintTo(Verdict verdict, std::ostream* os) { *os << describe(verdict) << " (" << int(verdict) << ")"; }
}  // namespace orgsync::core

namespace {

namespace core = orgsync::core;
using core::Verdict;
using Json = nlohmann::json;
using namespace std::string_literals;

std::string fixtures_dir() {
  const char* env = std::getenv("ORGSYNC_FIXTURES");
  return env != nullptr && *env != '\0' ? env : "test/fixtures";
}

std::string read_fixture(const std::string& relative) {
  std::string path = fixtures_dir() + "/" + relative;
  std::ifstream in(path, std::ios::binary);
  if (!in)
    throw std::runtime_error("cannot open fixture " + path + " (run from the repo root or set ORGSYNC_FIXTURES)");
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

const Json& vectors() {
  static const Json parsed = Json::parse(read_fixture("standard_webhooks_vectors.json"));
  return parsed;
}

struct SymmetricVector {
  std::string name, secret, id, payload, expected;
  int64_t timestamp;
  size_t key_len;
};

std::vector<SymmetricVector> symmetric_vectors() {
  std::vector<SymmetricVector> out;
  for (const auto& v : vectors().at("symmetric_fixed")) {
    out.push_back({v.at("name").get<std::string>(), v.at("secret").get<std::string>(),
                   v.at("msg_id").get<std::string>(), v.at("payload").get<std::string>(),
                   v.at("expected_signature").get<std::string>(), v.at("timestamp").get<int64_t>(),
                   v.at("key_len_bytes_computed").get<size_t>()});
  }
  return out;
}

// Independent oracle: HMAC-SHA256 (RFC 2104) built from SHA-256 alone.
std::string hmac_sha256_oracle(std::string key, const std::string& message) {
  constexpr size_t kBlock = 64;
  unsigned char md[SHA256_DIGEST_LENGTH];
  if (key.size() > kBlock) {
    SHA256(reinterpret_cast<const unsigned char*>(key.data()), key.size(), md);
    key.assign(reinterpret_cast<char*>(md), sizeof md);
  }
  key.resize(kBlock, '\0');
  std::string inner(kBlock, '\0'), outer(kBlock, '\0');
  for (size_t i = 0; i < kBlock; ++i) {
    inner[i] = char(key[i] ^ 0x36);
    outer[i] = char(key[i] ^ 0x5c);
  }
  inner += message;
  SHA256(reinterpret_cast<const unsigned char*>(inner.data()), inner.size(), md);
  outer.append(reinterpret_cast<char*>(md), sizeof md);
  SHA256(reinterpret_cast<const unsigned char*>(outer.data()), outer.size(), md);
  return std::string(reinterpret_cast<char*>(md), sizeof md);
}

std::string oracle_signature(const std::string& key, const std::string& id, int64_t ts, const std::string& body) {
  std::string mac = hmac_sha256_oracle(key, id + "." + std::to_string(ts) + "." + body);
  std::string b64(45, '\0');
  int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(b64.data()),
                          reinterpret_cast<const unsigned char*>(mac.data()), int(mac.size()));
  b64.resize(size_t(n));
  return "v1," + b64;
}

Verdict verify_at(const std::string& id, const std::string& ts, const std::string& sig, std::string_view body,
                  const std::vector<core::SigningKey>& keys, int64_t now, int64_t tolerance = 300) {
  return core::verify({id, ts, sig}, body, keys, now, tolerance);
}

// A fixed delivery used by the hand-written cases.
struct Delivery {
  core::SigningKey key = core::decode_secret("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw");
  std::string id = "msg_p5jXN8AQM9LWM0D4loKWxJek";
  int64_t ts = 1614265330;
  std::string body = "{\"test\": 2432232314}";
  std::string sig = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=";
};

TEST(SignatureVectors, FileHasVectors) {
  EXPECT_EQ(vectors().at("symmetric_fixed").size(), 3u);
  EXPECT_GE(vectors().at("negative_and_parsing_cases").size(), 10u);
}

TEST(SignatureVectors, SignGivesExpectedSignature) {
  for (const auto& v : symmetric_vectors()) {
    SCOPED_TRACE(v.name);
    core::SigningKey key = core::decode_secret(v.secret);
    EXPECT_EQ(key.size(), v.key_len);
    EXPECT_EQ(core::sign(key, v.id, v.timestamp, v.payload), v.expected);
    EXPECT_EQ(oracle_signature(key, v.id, v.timestamp, v.payload), v.expected);  // the oracle agrees
  }
}

TEST(SignatureVectors, VerifyAtOwnTimestamp) {
  for (const auto& v : symmetric_vectors()) {
    SCOPED_TRACE(v.name);
    core::SigningKey key = core::decode_secret(v.secret);
    std::string ts = std::to_string(v.timestamp);
    EXPECT_EQ(verify_at(v.id, ts, v.expected, v.payload, {key}, v.timestamp), Verdict::verified);
    EXPECT_EQ(verify_at(v.id, ts, v.expected, v.payload, {key}, v.timestamp, 0), Verdict::verified);
    // Without the prefix, the same key.
    ASSERT_EQ(v.secret.rfind("whsec_", 0), 0u);
    EXPECT_EQ(core::decode_secret(v.secret.substr(6)), key);
    // Far from its timestamp, the same delivery is refused for its age.
    EXPECT_EQ(verify_at(v.id, ts, v.expected, v.payload, {key}, v.timestamp + 86400), Verdict::timestamp_too_old);
    EXPECT_EQ(verify_at(v.id, ts, v.expected, v.payload, {key}, v.timestamp - 86400), Verdict::timestamp_too_new);
  }
}

// Every negative/parsing case that carries a signature header, checked
// against the vector it refers to (the rust one when its source names that
// secret, the first one otherwise).
TEST(SignatureVectors, NegativeAndParsingCasesWithHeaders) {
  auto all = symmetric_vectors();
  int checked = 0;
  for (const auto& c : vectors().at("negative_and_parsing_cases")) {
    if (!c.contains("signature_header")) continue;
    std::string name = c.at("case").get<std::string>();
    SCOPED_TRACE(name);
    std::string source = c.value("source", "");
    const SymmetricVector* v = &all[0];
    for (const auto& candidate : all) {
      if (source.find(candidate.secret) != std::string::npos) v = &candidate;
    }
    std::string header = c.at("signature_header").get<std::string>();
    if (header == "<valid header>[0:8]") header = v->expected.substr(0, 8);
    if (auto pos = header.find("<valid v1,...>"); pos != std::string::npos) {
      header.replace(pos, std::string("<valid v1,...>").size(), v->expected);
    }
    ASSERT_EQ(header.find('<'), std::string::npos) << "unhandled placeholder in " << header;
    std::string expect = c.at("expect").get<std::string>();
    core::SigningKey key = core::decode_secret(v->secret);
    Verdict got = verify_at(v->id, std::to_string(v->timestamp), header, v->payload, {key}, v->timestamp);
    if (expect == "pass") {
      EXPECT_EQ(got, Verdict::verified) << header;
    } else {
      ASSERT_EQ(expect, "fail");
      EXPECT_EQ(got, Verdict::no_matching_signature) << header;
    }
    ++checked;
  }
  EXPECT_EQ(checked, 8);
}

// The cases without a signature header are covered by the named tests below;
// a new case in the file must be looked at.
TEST(SignatureVectors, EveryOtherCaseHasATest) {
  const std::set<std::string> covered = {
      "missing any of id/timestamp/signature header",  // Signature.MissingHeaderInEachPosition
      "timestamp header 'hello'",                      // Signature.MalformedTimestamps
      "timestamp = now - 300s - 1s",                   // Signature.ToleranceBoundary
      "timestamp = now + 300s + 1s",                   // Signature.ToleranceBoundary
      "secret with and without 'whsec_' prefix",       // Signature.PrefixIsOptional
      "empty secret '' or 'whsec_'",                   // Signature.InvalidSecretsThrow
      // Header names are the Postgres layer's business; the core gets values.
      "headers svix-* vs webhook-* (unbranded)",
  };
  for (const auto& c : vectors().at("negative_and_parsing_cases")) {
    if (c.contains("signature_header")) continue;
    std::string name = c.at("case").get<std::string>();
    EXPECT_EQ(covered.count(name), 1u) << "negative case without a test: " << name;
  }
}

TEST(SignatureVectors, AsymmetricV1aEntryIsSkipped) {
  const auto& a = vectors().at("asymmetric_fixed").at(0);
  std::string v1a = a.at("expected_signature").get<std::string>();
  ASSERT_EQ(v1a.rfind("v1a,", 0), 0u);
  Delivery d;
  ASSERT_EQ(a.at("msg_id").get<std::string>(), d.id);
  ASSERT_EQ(a.at("payload").get<std::string>(), d.body);
  std::string ts = std::to_string(d.ts);
  EXPECT_EQ(verify_at(d.id, ts, v1a, d.body, {d.key}, d.ts), Verdict::no_matching_signature);
  EXPECT_EQ(verify_at(d.id, ts, v1a + " " + d.sig, d.body, {d.key}, d.ts), Verdict::verified);
  EXPECT_EQ(verify_at(d.id, ts, d.sig + " " + v1a, d.body, {d.key}, d.ts), Verdict::verified);
}

TEST(Signature, MultiSignatureLists) {
  Delivery d;
  std::string ts = std::to_string(d.ts);
  std::string wrong = "v1,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc=";
  std::string b64 = d.sig.substr(3);
  auto check = [&](const std::string& header) { return verify_at(d.id, ts, header, d.body, {d.key}, d.ts); };
  EXPECT_EQ(check(wrong), Verdict::no_matching_signature);
  EXPECT_EQ(check(d.sig), Verdict::verified);
  EXPECT_EQ(check(wrong + " " + d.sig), Verdict::verified);
  EXPECT_EQ(check(d.sig + " " + wrong), Verdict::verified);
  EXPECT_EQ(check("v2," + b64 + " v1a," + b64 + " " + wrong + " " + d.sig), Verdict::verified);
  EXPECT_EQ(check(wrong + "  " + d.sig), Verdict::verified);  // empty entries are skipped
  EXPECT_EQ(check(d.sig + " "), Verdict::verified);
  // The right bytes under any other version, or mangled, do not count.
  EXPECT_EQ(check("v2," + b64), Verdict::no_matching_signature);
  EXPECT_EQ(check("v1a," + b64), Verdict::no_matching_signature);
  EXPECT_EQ(check("V1," + b64), Verdict::no_matching_signature);
  EXPECT_EQ(check("v1" + b64), Verdict::no_matching_signature);
  EXPECT_EQ(check("v1;" + b64), Verdict::no_matching_signature);
  EXPECT_EQ(check(",v1," + b64), Verdict::no_matching_signature);
  EXPECT_EQ(check("v1, " + b64), Verdict::no_matching_signature);
  EXPECT_EQ(check(d.sig + "x"), Verdict::no_matching_signature);
  EXPECT_EQ(check(d.sig + "AAAA"), Verdict::no_matching_signature);
  EXPECT_EQ(check(d.sig.substr(0, d.sig.size() - 4)), Verdict::no_matching_signature);
  EXPECT_EQ(check("v1," + b64 + "," + b64), Verdict::no_matching_signature);
  EXPECT_EQ(check(" "), Verdict::no_matching_signature);
  EXPECT_EQ(check("v1,"), Verdict::no_matching_signature);
  // Tab is not a separator.
  EXPECT_EQ(check(wrong + "\t" + d.sig), Verdict::no_matching_signature);
}

TEST(Signature, KeyRotation) {
  core::SigningKey old_key = core::decode_secret("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw");
  core::SigningKey new_key = core::decode_secret("whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD");
  core::SigningKey other = core::decode_secret("whsec_plJ3nmyCDGBKInavdOK15jsl");
  std::string id = "msg_rotate", body = "{\"type\":\"user.created\"}";
  int64_t ts = 1730000000;
  std::string t = std::to_string(ts);
  std::string by_old = core::sign(old_key, id, ts, body);
  std::string by_new = core::sign(new_key, id, ts, body);
  std::string by_other = core::sign(other, id, ts, body);
  ASSERT_NE(by_old, by_new);
  for (const auto& keys : std::vector<std::vector<core::SigningKey>>{{old_key, new_key}, {new_key, old_key}}) {
    EXPECT_EQ(verify_at(id, t, by_old, body, keys, ts), Verdict::verified);
    EXPECT_EQ(verify_at(id, t, by_new, body, keys, ts), Verdict::verified);
    EXPECT_EQ(verify_at(id, t, by_other, body, keys, ts), Verdict::no_matching_signature);
    EXPECT_EQ(verify_at(id, t, by_other + " " + by_new, body, keys, ts), Verdict::verified);
  }
  // Sender signs with both during rotation; a receiver with only one key accepts.
  EXPECT_EQ(verify_at(id, t, by_old + " " + by_new, body, {new_key}, ts), Verdict::verified);
  EXPECT_EQ(verify_at(id, t, by_old + " " + by_new, body, {old_key}, ts), Verdict::verified);
  EXPECT_EQ(verify_at(id, t, by_old, body, {new_key}, ts), Verdict::no_matching_signature);
  EXPECT_EQ(verify_at(id, t, by_old, body, {other, new_key, other}, ts), Verdict::no_matching_signature);
  EXPECT_EQ(verify_at(id, t, by_old, body, {}, ts), Verdict::no_matching_signature);
}

TEST(Signature, ToleranceBoundary) {
  Delivery d;
  for (int64_t tolerance : {0, 1, 300, 3600}) {
    SCOPED_TRACE("tolerance " + std::to_string(tolerance));
    for (int64_t offset : {-tolerance - 1, -tolerance, int64_t(0), tolerance, tolerance + 1}) {
      int64_t ts = d.ts + offset;  // the delivery's time; "now" is d.ts
      std::string sig = core::sign(d.key, d.id, ts, d.body);
      Verdict got = verify_at(d.id, std::to_string(ts), sig, d.body, {d.key}, d.ts, tolerance);
      if (offset < -tolerance) {
        EXPECT_EQ(got, Verdict::timestamp_too_old) << offset;
      } else if (offset > tolerance) {
        EXPECT_EQ(got, Verdict::timestamp_too_new) << offset;
      } else {
        EXPECT_EQ(got, Verdict::verified) << offset;
      }
    }
  }
}

TEST(Signature, MalformedTimestamps) {
  Delivery d;
  for (const std::string& ts :
       {"hello"s, "-1"s, "12a"s, "a12"s, " 1614265330"s, "1614265330 "s, "+1614265330"s, "1614265330.0"s, "1.6e9"s,
        "0x60372bf2"s, "99999999999999999999"s, "9223372036854775808"s, "-9223372036854775809"s, "1614265330\n"s,
        "1614265330\0"s, "\xef\xbc\x91"s, "9223372036854775807"s, "253402300800"s}) {
    EXPECT_EQ(verify_at(d.id, ts, d.sig, d.body, {d.key}, d.ts), Verdict::malformed_timestamp) << "'" << ts << "'";
  }
  // The last second of 9999 parses (parse_unix_seconds), so the age check decides.
  EXPECT_EQ(verify_at(d.id, "253402300799", d.sig, d.body, {d.key}, d.ts), Verdict::timestamp_too_new);
  EXPECT_EQ(verify_at(d.id, "0", d.sig, d.body, {d.key}, d.ts), Verdict::timestamp_too_old);
  EXPECT_EQ(verify_at(d.id, "", d.sig, d.body, {d.key}, d.ts), Verdict::missing_timestamp);
}

TEST(Signature, MissingHeaderInEachPosition) {
  Delivery d;
  std::string ts = std::to_string(d.ts);
  auto check = [&](std::string_view id, std::string_view t, std::string_view sig) {
    return core::verify({id, t, sig}, d.body, {d.key}, d.ts, 300);
  };
  EXPECT_EQ(check(d.id, ts, d.sig), Verdict::verified);
  EXPECT_EQ(check("", ts, d.sig), Verdict::missing_id);
  EXPECT_EQ(check(d.id, "", d.sig), Verdict::missing_timestamp);
  EXPECT_EQ(check(d.id, ts, ""), Verdict::missing_signature);
  // Several missing: reported in order id, timestamp, signature.
  EXPECT_EQ(check("", "", d.sig), Verdict::missing_id);
  EXPECT_EQ(check("", ts, ""), Verdict::missing_id);
  EXPECT_EQ(check(d.id, "", ""), Verdict::missing_timestamp);
  EXPECT_EQ(check("", "", ""), Verdict::missing_id);
  // Missing headers are reported before a malformed or stale timestamp.
  EXPECT_EQ(check(d.id, "hello", ""), Verdict::missing_signature);
  EXPECT_EQ(check("", "hello", d.sig), Verdict::missing_id);
}

TEST(Signature, TimestampChecksComeBeforeSignature) {
  Delivery d;
  EXPECT_EQ(verify_at(d.id, "hello", "v1,garbage", d.body, {d.key}, d.ts), Verdict::malformed_timestamp);
  EXPECT_EQ(verify_at(d.id, std::to_string(d.ts), d.sig, d.body, {d.key}, d.ts + 301), Verdict::timestamp_too_old);
  EXPECT_EQ(verify_at(d.id, std::to_string(d.ts), "v1,garbage", d.body, {d.key}, d.ts - 301),
            Verdict::timestamp_too_new);
}

TEST(Signature, SignedContentCoversIdTimestampAndBody) {
  Delivery d;
  std::string ts = std::to_string(d.ts);
  EXPECT_EQ(verify_at(d.id, ts, d.sig, d.body, {d.key}, d.ts), Verdict::verified);
  EXPECT_EQ(verify_at(d.id + "x", ts, d.sig, d.body, {d.key}, d.ts), Verdict::no_matching_signature);
  EXPECT_EQ(verify_at(d.id, std::to_string(d.ts + 1), d.sig, d.body, {d.key}, d.ts), Verdict::no_matching_signature);
  // Leading zeros: same number, different signed text.
  EXPECT_EQ(verify_at(d.id, "0" + ts, d.sig, d.body, {d.key}, d.ts), Verdict::no_matching_signature);
  // Moving the separator between id and timestamp changes the content too.
  EXPECT_EQ(verify_at("msg_p5jXN8AQM9LWM0D4loKWxJek.1", "614265330", d.sig, d.body, {d.key}, 614265330),
            Verdict::no_matching_signature);
}

TEST(Signature, PrefixIsOptional) {
  for (const auto& v : symmetric_vectors()) {
    std::string bare = v.secret.substr(6);
    EXPECT_EQ(core::decode_secret(v.secret), core::decode_secret(bare)) << v.secret;
    EXPECT_EQ(core::decode_secret(bare), *core::base64_decode(bare));
  }
  Delivery d;
  core::SigningKey bare_key = core::decode_secret("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw");
  EXPECT_EQ(verify_at(d.id, std::to_string(d.ts), d.sig, d.body, {bare_key}, d.ts), Verdict::verified);
  // Only one prefix is stripped, and only at the start.
  EXPECT_THROW(core::decode_secret("whsec_whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"), core::InvalidSecret);
  EXPECT_THROW(core::decode_secret("WHSEC_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"), core::InvalidSecret);
}

TEST(Signature, InvalidSecretsThrow) {
  for (const std::string& secret :
       {""s, "whsec_"s, "whsec_not base64!"s, "abc"s, "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaS"s, "whsec_===="s,
        "whsec_MfKQ-r8GKYqrTwjUPD8ILPZIo2LaLaSw"s, " whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"s,
        "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw\n"s, "whsec"s, "whsec_\0\0\0\0"s}) {
    EXPECT_THROW(core::decode_secret(secret), core::InvalidSecret) << "'" << secret << "'";
  }
  // InvalidSecret is an invalid_argument with a message.
  try {
    core::decode_secret("whsec_");
    ADD_FAILURE() << "no exception";
  } catch (const std::invalid_argument& error) {
    EXPECT_NE(std::string(error.what()).find("empty"), std::string::npos) << error.what();
  }
}

TEST(Signature, EmptyBody) {
  Delivery d;
  std::string sig = core::sign(d.key, d.id, d.ts, "");
  EXPECT_EQ(sig, oracle_signature(d.key, d.id, d.ts, ""));
  EXPECT_EQ(verify_at(d.id, std::to_string(d.ts), sig, "", {d.key}, d.ts), Verdict::verified);
  EXPECT_EQ(verify_at(d.id, std::to_string(d.ts), sig, " ", {d.key}, d.ts), Verdict::no_matching_signature);
  EXPECT_EQ(verify_at(d.id, std::to_string(d.ts), d.sig, "", {d.key}, d.ts), Verdict::no_matching_signature);
}

TEST(Signature, OneMegabyteBody) {
  Delivery d;
  std::mt19937_64 rng(42);
  std::string body(1 << 20, '\0');
  for (auto& c : body) c = char(rng() & 0xff);
  std::string sig = core::sign(d.key, d.id, d.ts, body);
  EXPECT_EQ(sig, oracle_signature(d.key, d.id, d.ts, body));
  std::string ts = std::to_string(d.ts);
  EXPECT_EQ(verify_at(d.id, ts, sig, body, {d.key}, d.ts), Verdict::verified);
  for (size_t at : {size_t(0), body.size() / 2, body.size() - 1}) {
    std::string changed = body;
    changed[at] = char(changed[at] ^ 1);
    EXPECT_EQ(verify_at(d.id, ts, sig, changed, {d.key}, d.ts), Verdict::no_matching_signature) << at;
  }
  EXPECT_EQ(verify_at(d.id, ts, sig, std::string_view(body).substr(0, body.size() - 1), {d.key}, d.ts),
            Verdict::no_matching_signature);
  EXPECT_EQ(verify_at(d.id, ts, sig, body + "\n", {d.key}, d.ts), Verdict::no_matching_signature);
}

TEST(Signature, ExactRawBytesAreSigned) {
  Delivery d;
  std::string ts = std::to_string(d.ts);
  EXPECT_EQ(verify_at(d.id, ts, d.sig, d.body, {d.key}, d.ts), Verdict::verified);
  for (const std::string& body :
       {"{\"test\":2432232314}"s, "{\"test\":  2432232314}"s, "{\"test\": 2432232314}\n"s, " {\"test\": 2432232314}"s,
        "{\"test\": 2432232314}\r\n"s, "{\"test\": 2432232314}\0"s, "{\"test\": 2432232315}"s}) {
    EXPECT_EQ(verify_at(d.id, ts, d.sig, body, {d.key}, d.ts), Verdict::no_matching_signature) << body;
  }
}

TEST(Signature, SignMatchesOracleForRandomInputs) {
  std::mt19937_64 rng(99);
  for (int i = 0; i < 200; ++i) {
    size_t key_len = 1 + rng() % 130;  // both sides of the 64-byte HMAC block
    std::string key(key_len, '\0'), body(rng() % 300, '\0'), id = "msg_" + std::to_string(rng());
    for (auto& c : key) c = char(rng() & 0xff);
    for (auto& c : body) c = char(rng() & 0xff);
    int64_t ts = int64_t(rng() % 4000000000ull);
    std::string sig = core::sign(key, id, ts, body);
    ASSERT_EQ(sig, oracle_signature(key, id, ts, body)) << "key length " << key_len;
    ASSERT_EQ(sig.size(), 47u);
    ASSERT_EQ(verify_at(id, std::to_string(ts), sig, body, {key}, ts, 0), Verdict::verified);
  }
}

// HMAC contexts are keyed once per key and restarted for each message: a
// message signed after others, under the same key or another, or after more
// keys than are kept, is signed as if it were the first.
TEST(Signature, KeptContextsSignEveryMessageAfresh) {
  std::mt19937_64 rng(7);
  auto random_bytes = [&rng](size_t size) {
    std::string bytes(size, '\0');
    for (auto& c : bytes) c = char(rng() & 0xff);
    return bytes;
  };
  std::vector<std::string> keys;
  for (int k = 0; k < 40; ++k) keys.push_back(random_bytes(24 + rng() % 80));
  for (int i = 0; i < 600; ++i) {
    // mostly three keys, now and then one of the others
    const std::string& key = keys[i % 7 == 0 ? rng() % keys.size() : rng() % 3];
    std::string body = random_bytes(rng() % 500), id = "msg_" + std::to_string(i);
    int64_t ts = 1730000000 + i;
    ASSERT_EQ(core::sign(key, id, ts, body), oracle_signature(key, id, ts, body)) << "message " << i;
  }
}

TEST(Signature, DescribeEveryVerdict) {
  std::set<std::string> texts;
  for (int i = 0; i <= int(Verdict::no_matching_signature); ++i) {
    std::string text = core::describe(Verdict(i));
    EXPECT_FALSE(text.empty());
    EXPECT_NE(text, "unknown verdict") << i;
    texts.insert(text);
  }
  EXPECT_EQ(texts.size(), size_t(int(Verdict::no_matching_signature) + 1));
  EXPECT_STREQ(core::describe(Verdict::verified), "signature verified");
}

}  // namespace

TEST(ReasonWord, OneDistinctWordPerVerdict) {
  std::set<std::string> words;
  for (int i = 0; i <= int(Verdict::no_matching_signature); ++i) {
    std::string word = core::reason_word(Verdict(i));
    EXPECT_EQ(word.find_first_not_of("abcdefghijklmnopqrstuvwxyz_"), std::string::npos) << word;
    words.insert(word);
  }
  EXPECT_EQ(words.size(), size_t(Verdict::no_matching_signature) + 1);
  EXPECT_STREQ(core::reason_word(Verdict::timestamp_too_old), "timestamp_too_old");
}
