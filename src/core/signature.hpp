// Standard Webhooks (Svix) signature verification: HMAC-SHA256 over
// "<id>.<timestamp>.<body>", keyed with the base64 secret after `whsec_`.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace orgsync::core {

// A decoded signing key (raw bytes).
using SigningKey = std::string;

// Decodes `whsec_<base64>` or bare base64. Throws InvalidSecret.
SigningKey decode_secret(std::string_view secret);

// The three delivery headers, as found (empty view when absent).
struct DeliveryHeaders {
  std::string_view id;
  std::string_view timestamp;
  std::string_view signature;
};

enum class Verdict {
  verified,
  missing_id,
  missing_timestamp,
  missing_signature,
  malformed_timestamp,
  timestamp_too_old,
  timestamp_too_new,
  no_matching_signature,
};

// Why a delivery failed, in words fit for an error message.
const char* describe(Verdict verdict);
// The same as one word (the enumerator's name), for programs: the relay's
// metrics and logs, PostgREST answers.
const char* reason_word(Verdict verdict);

// Any one `v1,<base64>` entry of the space-separated signature list may match
// any one key (rotation); other versions are skipped. The timestamp must lie
// within `tolerance_seconds` of `now_seconds` either way. When verified, the
// index of the key that matched goes to *matched_key, if given.
Verdict verify(const DeliveryHeaders& headers, std::string_view body, const std::vector<SigningKey>& keys,
               int64_t now_seconds, int64_t tolerance_seconds, size_t* matched_key = nullptr);

// The `v1,<base64>` signature of a delivery.
std::string sign(const SigningKey& key, std::string_view id, int64_t timestamp_seconds, std::string_view body);

}  // namespace orgsync::core
