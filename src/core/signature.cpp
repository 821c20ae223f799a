#include "core/signature.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include <array>
#include <charconv>
#include <memory>
#include <new>
#include <optional>
#include <stdexcept>
#include <vector>

#include "core/base64.hpp"
#include "core/errors.hpp"
#include "core/time.hpp"

namespace orgsync::core {
namespace {

using Digest = std::array<unsigned char, 32>;

// Fetching the HMAC implementation is a costly part of OpenSSL 3's MAC API;
// do it once per process.
EVP_MAC* hmac_algorithm() {
  static EVP_MAC* const mac = EVP_MAC_fetch(nullptr, "HMAC", nullptr);
  if (mac == nullptr) throw std::runtime_error("OpenSSL has no HMAC implementation");
  return mac;
}

struct MacContextFree {
  void operator()(EVP_MAC_CTX* context) const { EVP_MAC_CTX_free(context); }
};

// HMAC contexts keyed once per signing key, and kept: restarting one with
// the key it holds (EVP_MAC_init without a key) only copies its precomputed
// inner state, where keying it anew hashes the padded key twice and fetching
// the digest by name costs more than hashing a body. A process sees a handful
// of keys; a rotation adds one.
class KeyedContexts {
 public:
  EVP_MAC_CTX* restarted_for(const SigningKey& key) {
    for (Entry& entry : entries_) {
      if (entry.key == key) {
        if (EVP_MAC_init(entry.context.get(), nullptr, 0, nullptr) != 1) throw std::runtime_error("HMAC-SHA256 failed");
        return entry.context.get();
      }
    }
    if (entries_.size() == kMaxKeys) entries_.clear();
    std::unique_ptr<EVP_MAC_CTX, MacContextFree> context(EVP_MAC_CTX_new(hmac_algorithm()));
    if (!context) throw std::bad_alloc();
    char digest_name[] = "SHA256";
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_utf8_string("digest", digest_name, 0),
        OSSL_PARAM_construct_end(),
    };
    if (EVP_MAC_init(context.get(), reinterpret_cast<const unsigned char*>(key.data()), key.size(), params) != 1) {
      throw std::runtime_error("HMAC-SHA256 failed");
    }
    entries_.push_back({key, std::move(context)});
    return entries_.back().context.get();
  }

 private:
  static constexpr size_t kMaxKeys = 16;
  struct Entry {
    SigningKey key;
    std::unique_ptr<EVP_MAC_CTX, MacContextFree> context;
  };
  std::vector<Entry> entries_;
};

Digest hmac_sha256(const SigningKey& key, std::string_view id, std::string_view timestamp, std::string_view body) {
  thread_local KeyedContexts contexts;
  EVP_MAC_CTX* context = contexts.restarted_for(key);
  // The signed content is "<id>.<timestamp>.<body>"; feed it piecewise so the
  // body is never copied.
  auto update = [&](std::string_view part) {
    return EVP_MAC_update(context, reinterpret_cast<const unsigned char*>(part.data()), part.size()) == 1;
  };
  Digest digest{};
  size_t length = 0;
  if (!update(id) || !update(".") || !update(timestamp) || !update(".") || !update(body) ||
      EVP_MAC_final(context, digest.data(), &length, digest.size()) != 1 || length != digest.size()) {
    throw std::runtime_error("HMAC-SHA256 failed");
  }
  return digest;
}

}  // namespace

SigningKey decode_secret(std::string_view secret) {
  constexpr std::string_view prefix = "whsec_";
  if (secret.substr(0, prefix.size()) == prefix) secret.remove_prefix(prefix.size());
  if (secret.empty()) throw InvalidSecret("signing secret is empty");
  auto key = base64_decode(secret);
  if (!key) throw InvalidSecret("signing secret is not base64 (expected \"whsec_<base64>\")");
  return std::move(*key);
}

const char* describe(Verdict verdict) {
  switch (verdict) {
    case Verdict::verified: return "signature verified";
    case Verdict::missing_id: return "missing svix-id (or webhook-id) header";
    case Verdict::missing_timestamp: return "missing svix-timestamp (or webhook-timestamp) header";
    case Verdict::missing_signature: return "missing svix-signature (or webhook-signature) header";
    case Verdict::malformed_timestamp: return "timestamp header is not a whole number of seconds";
    case Verdict::timestamp_too_old: return "timestamp is too old";
    case Verdict::timestamp_too_new: return "timestamp is too far in the future";
    case Verdict::no_matching_signature: return "no signature matches";
  }
  return "unknown verdict";
}

const char* reason_word(Verdict verdict) {
  switch (verdict) {
    case Verdict::verified: return "verified";
    case Verdict::missing_id: return "missing_id";
    case Verdict::missing_timestamp: return "missing_timestamp";
    case Verdict::missing_signature: return "missing_signature";
    case Verdict::malformed_timestamp: return "malformed_timestamp";
    case Verdict::timestamp_too_old: return "timestamp_too_old";
    case Verdict::timestamp_too_new: return "timestamp_too_new";
    case Verdict::no_matching_signature: return "no_matching_signature";
  }
  return "unknown";
}

Verdict verify(const DeliveryHeaders& headers, std::string_view body, const std::vector<SigningKey>& keys,
               int64_t now_seconds, int64_t tolerance_seconds) {
  if (headers.id.empty()) return Verdict::missing_id;
  if (headers.timestamp.empty()) return Verdict::missing_timestamp;
  if (headers.signature.empty()) return Verdict::missing_signature;
  auto timestamp = parse_unix_seconds(headers.timestamp);
  if (!timestamp) return Verdict::malformed_timestamp;
  if (*timestamp < now_seconds - tolerance_seconds) return Verdict::timestamp_too_old;
  if (*timestamp > now_seconds + tolerance_seconds) return Verdict::timestamp_too_new;

  std::vector<Digest> expected;
  expected.reserve(keys.size());
  for (const auto& key : keys) expected.push_back(hmac_sha256(key, headers.id, headers.timestamp, body));

  constexpr std::string_view version = "v1,";
  std::string_view rest = headers.signature;
  while (!rest.empty()) {
    size_t space = rest.find(' ');
    std::string_view entry = rest.substr(0, space);
    rest = space == std::string_view::npos ? std::string_view() : rest.substr(space + 1);
    if (entry.substr(0, version.size()) != version) continue;
    auto presented = base64_decode(entry.substr(version.size()));
    if (!presented || presented->size() != sizeof(Digest)) continue;
    for (const auto& digest : expected) {
      if (CRYPTO_memcmp(presented->data(), digest.data(), digest.size()) == 0) return Verdict::verified;
    }
  }
  return Verdict::no_matching_signature;
}

std::string sign(const SigningKey& key, std::string_view id, int64_t timestamp_seconds, std::string_view body) {
  Digest digest = hmac_sha256(key, id, std::to_string(timestamp_seconds), body);
  return "v1," + base64_encode(std::string_view(reinterpret_cast<const char*>(digest.data()), digest.size()));
}

}  // namespace orgsync::core
