// libFuzzer target over src/core: signature verification, event planning,
// the JSON parser, canonical writer and join, and base64, with invariants
// checked on every input (a broken one traps).
//
// Input: "<signature header>\n<timestamp header>\n<body>". Missing lines are
// empty; the body is everything after the second newline. A body holding a
// form feed (never valid JSON) is also read as two documents to join.
//
// Build and run: test/fuzz/run.sh [SECONDS]
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <exception>
#include <string>
#include <string_view>
#include <vector>

#include "../unit/plan_invariants.hpp"
#include "core/base64.hpp"
#include "core/errors.hpp"
#include "core/event_types.hpp"
#include "core/json.hpp"
#include "core/plan.hpp"
#include "core/signature.hpp"
#include "core/time.hpp"

namespace {

namespace core = orgsync::core;
namespace json = core::json;
using Json = nlohmann::json;

// The fixed delivery identity the seeds are signed for (the first
// standard-webhooks vector: its id, secret and timestamp).
constexpr std::string_view kId = "msg_p5jXN8AQM9LWM0D4loKWxJek";
constexpr int64_t kNow = 1614265330;
constexpr int64_t kTolerance = 300;
constexpr int64_t kFallbackMs = 1614265330000;

const core::SigningKey& fixed_key() {
  static const core::SigningKey key = core::decode_secret("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw");
  return key;
}

[[noreturn]] void fail(const char* what, const std::string& detail = "") {
  std::fprintf(stderr, "invariant violated: %s%s%s\n", what, detail.empty() ? "" : ": ", detail.c_str());
  std::fflush(stderr);
  __builtin_trap();
}
#define CHECK(cond)           \
  do {                        \
    if (!(cond)) fail(#cond); \
  } while (0)
#define CHECK_DETAIL(cond, detail)      \
  do {                                  \
    if (!(cond)) fail(#cond, (detail)); \
  } while (0)

// ---- base64 ------------------------------------------------------------------

size_t padding_of(std::string_view s) {
  size_t n = 0;
  if (!s.empty() && s.back() == '=') ++n;
  if (s.size() >= 2 && s[s.size() - 2] == '=') ++n;
  return n;
}

void check_base64(std::string_view bytes) {
  // decode(encode(x)) == x, and the encoding has the canonical length.
  std::string encoded = core::base64_encode(bytes);
  CHECK(encoded.size() == (bytes.size() + 2) / 3 * 4);
  auto round = core::base64_decode(encoded);
  CHECK(round.has_value());
  CHECK(*round == bytes);

  // When decode(s) succeeds: its size follows from s, and encode(decode(s))
  // decodes to the same bytes (and is s itself up to ignored padding bits).
  auto decoded = core::base64_decode(bytes);
  if (decoded) {
    CHECK(bytes.size() % 4 == 0);
    CHECK(decoded->size() == bytes.size() / 4 * 3 - padding_of(bytes));
    std::string again = core::base64_encode(*decoded);
    CHECK(again.size() == bytes.size());
    auto twice = core::base64_decode(again);
    CHECK(twice.has_value());
    CHECK(*twice == *decoded);
    size_t unpadded = bytes.size() - padding_of(bytes);
    // Every character but the last data one is reproduced exactly.
    if (unpadded > 0) CHECK(again.compare(0, unpadded - 1, bytes.substr(0, unpadded - 1)) == 0);
  }
}

// ---- signatures ----------------------------------------------------------------

// Digits without a leading zero, up to the last second of 9999: the
// timestamps sign() writes as verify() reads them.
bool canonical_seconds(std::string_view text, int64_t& out) {
  if (text.empty() || text.size() > 12) return false;
  if (text.size() > 1 && text[0] == '0') return false;
  int64_t value = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return false;
    value = value * 10 + (c - '0');
  }
  if (value > core::kMaxTimeMs / 1000) return false;
  out = value;
  return true;
}

void check_signatures(std::string_view signature, std::string_view timestamp, std::string_view body) {
  const auto& key = fixed_key();
  core::Verdict verdict = core::verify({kId, timestamp, signature}, body, {key}, kNow, kTolerance);
  CHECK(int(verdict) >= int(core::Verdict::verified) && int(verdict) <= int(core::Verdict::no_matching_signature));
  CHECK(core::describe(verdict) != nullptr);
  if (timestamp.empty()) CHECK(verdict == core::Verdict::missing_timestamp);
  if (!timestamp.empty() && signature.empty()) CHECK(verdict == core::Verdict::missing_signature);
  // The one parser of delivery timestamps decides what is malformed.
  if (!timestamp.empty() && !signature.empty()) {
    CHECK((verdict == core::Verdict::malformed_timestamp) == !core::parse_unix_seconds(timestamp));
  }

  int64_t seconds = 0;
  bool canonical = canonical_seconds(timestamp, seconds);
  if (verdict == core::Verdict::verified) {
    CHECK(!timestamp.empty() && !signature.empty());
    if (canonical) CHECK(seconds >= kNow - kTolerance && seconds <= kNow + kTolerance);
    // Some single "v1," entry of the list verifies on its own, and when the
    // timestamp is canonical its bytes are those sign() computes.
    std::string_view rest = signature, match;
    while (!rest.empty() && match.empty()) {
      size_t space = rest.find(' ');
      std::string_view entry = rest.substr(0, space);
      rest = space == std::string_view::npos ? std::string_view() : rest.substr(space + 1);
      if (entry.substr(0, 3) != "v1,") continue;
      if (core::verify({kId, timestamp, entry}, body, {key}, kNow, kTolerance) == core::Verdict::verified) {
        match = entry;
      }
    }
    CHECK(!match.empty());
    if (canonical) {
      std::string expected = core::sign(key, kId, seconds, body);
      auto want = core::base64_decode(std::string_view(expected).substr(3));
      auto got = core::base64_decode(match.substr(3));
      CHECK(want && got && want->size() == 32 && *want == *got);
    }
    // No key, no verification.
    CHECK(core::verify({kId, timestamp, signature}, body, {}, kNow, kTolerance) ==
          core::Verdict::no_matching_signature);
  }

  // A delivery we sign ourselves verifies, at its own time and with the
  // fuzzed entries around it; the same signature over another body does not.
  if (canonical) {
    std::string sig = core::sign(key, kId, seconds, body);
    CHECK(sig.size() == 47 && sig.compare(0, 3, "v1,") == 0);
    CHECK(core::verify({kId, timestamp, sig}, body, {key}, seconds, 0) == core::Verdict::verified);
    std::string listed = std::string(signature) + " " + sig;
    CHECK(core::verify({kId, timestamp, listed}, body, {key}, seconds, 0) == core::Verdict::verified);
    std::string longer = std::string(body) + "x";
    CHECK(core::verify({kId, timestamp, sig}, longer, {key}, seconds, 0) == core::Verdict::no_matching_signature);
    if (seconds > 0) {
      CHECK(core::verify({kId, timestamp, sig}, body, {key}, seconds + kTolerance + 1, kTolerance) ==
            core::Verdict::timestamp_too_old);
    }
  }

  // A secret: usable, or InvalidSecret; nothing else.
  try {
    core::SigningKey k = core::decode_secret(signature);
    CHECK(!k.empty());
  } catch (const core::InvalidSecret&) {
  }
}

// ---- JSON --------------------------------------------------------------------

// Canonical text is a fixed point. (It may be longer than its source: numbers
// are written as numeric writes them, 1e9 as 1000000000.)
void check_canonical(json::Value value) {
  std::string text = json::canonical(value);
  json::Document again(text);
  CHECK(json::canonical(again.root()) == text);
}

// join is commutative, idempotent, absorbs, and writes canonical text.
void check_join(json::Value a, json::Value b) {
  std::string ab = json::join(a, b);
  CHECK(ab == json::join(b, a));
  CHECK(json::join(a, a) == json::canonical(a));
  json::Document joined(ab);
  CHECK(json::canonical(joined.root()) == ab);
  CHECK(json::join(a, joined.root()) == ab);
  CHECK(json::join(joined.root(), b) == ab);
}

// The form-feed-separated halves of a body, joined when both parse.
void check_join_pair(std::string_view body) {
  size_t split = body.find('\f');
  if (split == std::string_view::npos) return;
  try {
    json::Document a(body.substr(0, split)), b(body.substr(split + 1));
    check_join(a.root(), b.root());
  } catch (const core::InvalidPayload&) {
  } catch (const core::BeyondJsonb&) {
  }
}

// ---- event planning -------------------------------------------------------------

// Whether two plans write the same things.
bool same_writes(const std::vector<core::Write>& a, const std::vector<core::Write>& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (a[i].index() != b[i].index()) return false;
    if (auto* x = std::get_if<core::Upsert>(&a[i])) {
      const auto& y = std::get<core::Upsert>(b[i]);
      if (x->table != y.table || x->id != y.id || x->source != y.source || x->data != y.data ||
          x->version.key() != y.version.key() || x->values().size() != y.values().size()) {
        return false;
      }
      for (size_t v = 0; v < x->values().size(); ++v) {
        const auto& [cx, vx] = x->values()[v];
        const auto& [cy, vy] = y.values()[v];
        if (cx != cy || vx.is_null != vy.is_null || vx.text != vy.text || vx.number != vy.number ||
            vx.items != vy.items) {
          return false;
        }
      }
    } else if (auto* x = std::get_if<core::Tombstone>(&a[i])) {
      const auto& y = std::get<core::Tombstone>(b[i]);
      if (x->table != y.table || x->id != y.id || x->deleted_at_ms != y.deleted_at_ms ||
          x->create_missing != y.create_missing || x->organization_id != y.organization_id) {
        return false;
      }
    } else {
      const auto& e = std::get<core::EndChildren>(a[i]);
      const auto& f = std::get<core::EndChildren>(b[i]);
      if (e.table != f.table || e.parent != f.parent || e.parent_id != f.parent_id ||
          e.deleted_at_ms != f.deleted_at_ms) {
        return false;
      }
    }
  }
  return true;
}

core::EventPlan plan_or_trap(std::string_view body, const core::PlanOptions& options = {}) {
  try {
    core::EventPlan plan = core::plan_event(body, options);
    std::string problem = orgsync::test::check_plan(plan);
    CHECK_DETAIL(problem.empty(), problem);
    return plan;
  } catch (const std::exception& error) {
    fail("plan_event never throws", error.what());
  } catch (...) {
    fail("plan_event never throws");
  }
}

// ---- a mutated type never yields applied -----------------------------------------

enum class Declared { string, number, boolean, array, object };

struct Field {
  std::string pointer;  // into the body, e.g. "/data/organization/name"
  Declared type;
};

using D = Declared;

bool is_object_at(const Json& body, const std::string& pointer) {
  Json::json_pointer at(pointer);
  return body.contains(at) && body[at].is_object();
}

// Appends the members `keys` of the object at `object_pointer`.
void add(std::vector<Field>& fields, const std::string& object_pointer,
         std::initializer_list<std::pair<const char*, Declared>> keys) {
  for (const auto& [key, type] : keys) fields.push_back({object_pointer + "/" + key, type});
}

constexpr std::initializer_list<std::pair<const char*, Declared>> kOrganizationKeys = {
    {"id", D::string},
    {"name", D::string},
    {"slug", D::string},
    {"image_url", D::string},
    {"created_by", D::string},
    {"max_allowed_memberships", D::number},
    {"created_at", D::number},
    {"updated_at", D::number},
    {"public_metadata", D::object},
    {"private_metadata", D::object}};

// Every field the plan of `body`, an event of `type`, reads whatever its
// value, given the shape the body has.
std::vector<Field> fields_read(const core::EventType& type, const Json& body) {
  std::vector<Field> fields = {{"/type", D::string}, {"/timestamp", D::number}, {"/data", D::object}};
  bool membership_row = type.kind == core::ObjectKind::membership &&
                        (type.action == core::Action::upsert || is_object_at(body, "/data/public_user_data"));
  if (type.action == core::Action::removal && type.kind != core::ObjectKind::membership) {
    add(fields, "/data", {{"id", D::string}, {"deleted", D::boolean}});
    return fields;
  }
  switch (type.kind) {
    case core::ObjectKind::organization: add(fields, "/data", kOrganizationKeys); break;
    case core::ObjectKind::user:
      add(fields, "/data",
          {{"id", D::string},
           {"primary_email_address_id", D::string},
           {"email_addresses", D::array},
           {"primary_phone_number_id", D::string},
           {"phone_numbers", D::array},
           {"first_name", D::string},
           {"last_name", D::string},
           {"username", D::string},
           {"image_url", D::string},
           {"external_id", D::string},
           {"banned", D::boolean},
           {"locked", D::boolean},
           {"last_sign_in_at", D::number},
           {"created_at", D::number},
           {"updated_at", D::number},
           {"public_metadata", D::object},
           {"private_metadata", D::object}});
      if (is_object_at(body, "/data/email_addresses/0"))
        add(fields, "/data/email_addresses/0", {{"email_address", D::string}});
      if (is_object_at(body, "/data/phone_numbers/0"))
        add(fields, "/data/phone_numbers/0", {{"phone_number", D::string}});
      break;
    case core::ObjectKind::membership:
      add(fields, "/data", {{"id", D::string}, {"organization", D::object}, {"public_user_data", D::object}});
      if (is_object_at(body, "/data/organization")) add(fields, "/data/organization", kOrganizationKeys);
      if (membership_row) {
        add(fields, "/data",
            {{"role", D::string},
             {"role_name", D::string},
             {"permissions", D::array},
             {"created_at", D::number},
             {"updated_at", D::number},
             {"public_metadata", D::object},
             {"private_metadata", D::object}});
        add(fields, "/data/public_user_data",
            {{"user_id", D::string},
             {"identifier", D::string},
             {"username", D::string},
             {"first_name", D::string},
             {"last_name", D::string},
             {"image_url", D::string},
             {"banned", D::boolean},
             {"public_metadata", D::object},
             {"private_metadata", D::object}});
      }
      break;
    case core::ObjectKind::invitation:
      add(fields, "/data",
          {{"id", D::string},
           {"organization_id", D::string},
           {"email_address", D::string},
           {"role", D::string},
           {"role_name", D::string},
           {"status", D::string},
           {"inviter_id", D::string},
           {"user_id", D::string},
           {"created_at", D::number},
           {"updated_at", D::number},
           {"expires_at", D::number},
           {"public_metadata", D::object},
           {"private_metadata", D::object}});
      break;
    case core::ObjectKind::domain:
      add(fields, "/data",
          {{"id", D::string},
           {"organization_id", D::string},
           {"name", D::string},
           {"enrollment_mode", D::string},
           {"affiliation_email_address", D::string},
           {"total_pending_invitations", D::number},
           {"total_pending_suggestions", D::number},
           {"created_at", D::number},
           {"updated_at", D::number},
           {"public_organization_data", D::object},
           {"affiliation_verification", D::object}});
      if (is_object_at(body, "/data/public_organization_data")) {
        add(fields, "/data/public_organization_data",
            {{"name", D::string}, {"slug", D::string}, {"image_url", D::string}});
      }
      // verification is Clerk's older name, read only without the newer one.
      if (is_object_at(body, "/data/affiliation_verification")) {
        add(fields, "/data/affiliation_verification", {{"status", D::string}});
      } else {
        add(fields, "/data", {{"verification", D::object}});
        if (is_object_at(body, "/data/verification")) add(fields, "/data/verification", {{"status", D::string}});
      }
      break;
    case core::ObjectKind::role:
      add(fields, "/data",
          {{"id", D::string},
           {"key", D::string},
           {"name", D::string},
           {"description", D::string},
           {"is_creator_eligible", D::boolean},
           {"permissions", D::array},
           {"created_at", D::number},
           {"updated_at", D::number}});
      if (is_object_at(body, "/data/permissions/0")) add(fields, "/data/permissions/0", {{"key", D::string}});
      break;
    case core::ObjectKind::permission:
      add(fields, "/data",
          {{"id", D::string},
           {"key", D::string},
           {"name", D::string},
           {"description", D::string},
           {"type", D::string},
           {"created_at", D::number},
           {"updated_at", D::number}});
      break;
  }
  return fields;
}

// "/data/email_addresses/0/email_address" as errors name it:
// "data.email_addresses[0].email_address".
std::string path_of(const std::string& pointer) {
  std::string path;
  for (size_t at = 1; at <= pointer.size();) {
    size_t next = std::min(pointer.find('/', at), pointer.size());
    std::string token = pointer.substr(at, next - at);
    bool index = !token.empty() && token.find_first_not_of("0123456789") == std::string::npos;
    path += index ? "[" + token + "]" : (path.empty() ? "" : ".") + token;
    at = next + 1;
  }
  return path;
}

// For a body that applies: one field it reads, picked by `choice`, given a
// value of another JSON type (never null: an optional field may be null).
// The delivery must then be invalid, naming that field; and the two copies
// must join as any two documents do.
void check_mutated_type(std::string_view body, const core::EventPlan& applied, uint64_t choice) {
  const core::EventType* type = core::find_event_type(*applied.type);
  Json parsed;
  try {
    parsed = Json::parse(body);
  } catch (const Json::exception&) {
    return;  // JSON nlohmann reads otherwise (1e999, say): not this check's to judge
  }
  // nlohmann writes numbers back its own way (1716883200.000e3, a whole
  // number for the core, as 1716883200000.0, which is not): only a body it
  // rewrites without changing the plan can show what one mutated field does.
  try {
    if (plan_or_trap(parsed.dump(), core::PlanOptions{kFallbackMs}).disposition != applied.disposition) return;
  } catch (const Json::exception&) {
    return;
  }
  std::vector<Field> fields = fields_read(*type, parsed);
  const Field& field = fields[choice % fields.size()];
  static const Json kValues[] = {Json("x"), Json(7), Json(true), Json::array(), Json::object()};
  static const Declared kTypes[] = {D::string, D::number, D::boolean, D::array, D::object};
  size_t pick = (choice / fields.size()) % 4;
  size_t value = pick + (size_t(field.type) <= pick ? 1 : 0);  // skip the declared type
  CHECK(kTypes[value] != field.type);
  parsed[Json::json_pointer(field.pointer)] = kValues[value];
  std::string mutated;
  try {
    mutated = parsed.dump();
  } catch (const Json::exception&) {
    return;
  }
  core::EventPlan plan = plan_or_trap(mutated, core::PlanOptions{kFallbackMs});
  CHECK_DETAIL(plan.disposition == core::Disposition::invalid, field.pointer + " = " + kValues[value].dump());
  CHECK_DETAIL(plan.error.rfind(path_of(field.pointer) + ": ", 0) == 0, field.pointer + ": " + plan.error);

  json::Document original(body), changed(mutated);
  check_join(original.root(), changed.root());
}

// Whether the body holds a number beyond what numeric stores: planning it
// keeps the delivery as invalid, with the parser's reason.
bool beyond_jsonb(std::string_view body) {
  try {
    json::Document document(body);
  } catch (const core::BeyondJsonb& error) {
    core::EventPlan plan = core::plan_event(body);
    CHECK_DETAIL(plan.disposition == core::Disposition::invalid && plan.error == error.what() && plan.writes.empty(),
                 "a body beyond jsonb is invalid: " + plan.error);
    return true;
  } catch (const core::InvalidPayload&) {
  }
  return false;
}

void check_planning(std::string_view body, uint64_t choice) {
  if (beyond_jsonb(body)) return;
  core::EventPlan plain = plan_or_trap(body);
  core::EventPlan fallback = plan_or_trap(body, core::PlanOptions{kFallbackMs});
  // The delivery time only matters where the event has no time of its own.
  CHECK(plain.type == fallback.type);
  CHECK(plain.object_id == fallback.object_id);
  CHECK(plain.event_time_ms == fallback.event_time_ms);
  if (plain.disposition == core::Disposition::ignore) CHECK(fallback.disposition == core::Disposition::ignore);
  if (plain.disposition == core::Disposition::apply) {
    CHECK(fallback.disposition == core::Disposition::apply);
    CHECK(fallback.writes.size() == plain.writes.size());
    if (plain.event_time_ms) CHECK(same_writes(plain.writes, fallback.writes));
  }
  if (plain.disposition == core::Disposition::invalid && fallback.disposition != core::Disposition::invalid) {
    // Only a missing deletion time is made good by the delivery's.
    CHECK(!plain.event_time_ms);
    CHECK(plain.error == "timestamp: missing, and the delivery has no signed time");
  }
  // Planning is deterministic.
  core::EventPlan again = core::plan_event(body);
  CHECK(again.disposition == plain.disposition && again.error == plain.error);
  CHECK(same_writes(again.writes, plain.writes));

  // What the parser accepts, canonical text keeps; what it refuses, the plan does.
  try {
    json::Document document(body);
    check_canonical(document.root());
  } catch (const core::InvalidPayload& error) {
    CHECK(plain.disposition == core::Disposition::invalid && plain.error == error.what());
  }

  if (fallback.disposition == core::Disposition::apply) check_mutated_type(body, fallback, choice);
}

// FNV-1a of the input: which field check_mutated_type changes, and to what.
uint64_t choice_of(std::string_view input) {
  uint64_t hash = 14695981039346656037ull;
  for (unsigned char c : input) hash = (hash ^ c) * 1099511628211ull;
  return hash;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  std::string_view signature, timestamp, body;
  size_t first = input.find('\n');
  if (first == std::string_view::npos) {
    signature = input;
  } else {
    signature = input.substr(0, first);
    size_t second = input.find('\n', first + 1);
    if (second == std::string_view::npos) {
      timestamp = input.substr(first + 1);
    } else {
      timestamp = input.substr(first + 1, second - first - 1);
      body = input.substr(second + 1);
    }
  }

  check_signatures(signature, timestamp, body);
  check_planning(body, choice_of(input));
  check_join_pair(body);
  check_base64(input);
  check_base64(body);
  check_base64(signature.substr(signature.find(',') == std::string_view::npos ? 0 : signature.find(',') + 1));
  return 0;
}
