// libFuzzer target over src/core: signature verification, event planning and
// base64, with invariants checked on every input (a broken one traps).
//
// Input: "<signature header>\n<timestamp header>\n<body>". Missing lines are
// empty; the body is everything after the second newline.
//
// Build and run: test/fuzz/run.sh [SECONDS]
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <exception>
#include <string>
#include <string_view>
#include <vector>

#include "core/base64.hpp"
#include "core/errors.hpp"
#include "core/event.hpp"
#include "core/signature.hpp"

namespace {

namespace core = orgsync::core;
using K = core::StatementKind;
using T = core::Param::Type;

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

[[noreturn]] void fail(const char* what) {
  std::fprintf(stderr, "invariant violated: %s\n", what);
  std::fflush(stderr);
  __builtin_trap();
}
#define CHECK(cond)           \
  do {                        \
    if (!(cond)) fail(#cond); \
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

bool canonical_seconds(std::string_view text, int64_t& out) {
  if (text.empty() || text.size() > 18) return false;
  if (text.size() > 1 && text[0] == '0') return false;
  int64_t value = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return false;
    value = value * 10 + (c - '0');
  }
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
      if (core::verify({kId, timestamp, entry}, body, {key}, kNow, kTolerance) == core::Verdict::verified)
        match = entry;
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

// ---- event planning -------------------------------------------------------------

const std::vector<T>& param_types(K kind) {
  static const std::vector<T> org = {T::text,         T::text,         T::text, T::text, T::text, T::int64,
                                     T::timestamp_ms, T::timestamp_ms, T::json, T::text, T::text};
  static const std::vector<T> user = {T::text, T::text,         T::text,         T::text, T::text, T::text,
                                      T::text, T::timestamp_ms, T::timestamp_ms, T::json, T::text, T::text};
  static const std::vector<T> membership = {T::text,         T::text,         T::text,         T::text, T::text,
                                            T::timestamp_ms, T::timestamp_ms, T::timestamp_ms, T::json, T::text};
  static const std::vector<T> deletion = {T::text, T::timestamp_ms};
  switch (kind) {
    case K::upsert_organization: return org;
    case K::upsert_user: return user;
    case K::upsert_membership:
    case K::upsert_invitation: return membership;
    default: return deletion;
  }
}

// "{r,u,e,d}": four decimal integers; r is the rank, 0 or 1.
bool is_version(const std::string& text, int64_t& rank) {
  if (text.size() < 9 || text.front() != '{' || text.back() != '}') return false;
  std::string_view rest(text.data() + 1, text.size() - 2);
  for (int part = 0; part < 4; ++part) {
    size_t comma = rest.find(',');
    if ((comma == std::string_view::npos) != (part == 3)) return false;
    std::string_view number = rest.substr(0, comma);
    if (!number.empty() && number[0] == '-') number.remove_prefix(1);
    if (number.empty() || number.size() > 19) return false;
    for (char c : number) {
      if (c < '0' || c > '9') return false;
    }
    if (part == 0) rank = number == "0" ? 0 : number == "1" ? 1 : -1;
    rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
  }
  return true;
}

void check_plan(const core::EventPlan& plan) {
  switch (plan.disposition) {
    case core::Disposition::invalid:
      CHECK(!plan.error.empty());
      CHECK(plan.statements.empty());
      return;
    case core::Disposition::ignore:
      CHECK(plan.statements.empty());
      CHECK(plan.type.has_value());
      return;
    case core::Disposition::apply: break;
  }
  CHECK(plan.type.has_value());
  CHECK(plan.error.empty());
  CHECK(!plan.statements.empty() && plan.statements.size() <= 4);
  if (plan.event_time_ms) CHECK(*plan.event_time_ms >= 0 && *plan.event_time_ms <= 100'000'000'000'000);
  for (const auto& s : plan.statements) {
    CHECK(int(s.kind) >= 0 && int(s.kind) < core::kStatementKinds);
    const auto& types = param_types(s.kind);
    CHECK(s.params.size() == types.size());
    for (size_t i = 0; i < types.size(); ++i) {
      CHECK(s.params[i].type == types[i]);
      if (s.params[i].is_null) CHECK(s.params[i].text.empty() && s.params[i].number == 0);
      if (!s.params[i].is_null && types[i] == T::text) {
        CHECK(s.params[i].text.find('\0') == std::string::npos);
      }
    }
    // Every statement names its object.
    CHECK(!s.params[0].is_null && !s.params[0].text.empty());
    if (types.size() == 2) {
      CHECK(!s.params[1].is_null);  // a deletion always has its time
    } else {
      size_t version = types.size() - 1,
             data = types.size() - (s.kind == K::upsert_membership || s.kind == K::upsert_invitation ? 2 : 3);
      int64_t rank = -1;
      CHECK(!s.params[version].is_null && is_version(s.params[version].text, rank));
      CHECK(rank == 0 || rank == 1);
      CHECK(!s.params[data].is_null && s.params[data].text.size() >= 2 && s.params[data].text.front() == '{' &&
            s.params[data].text.back() == '}');
    }
    if (s.kind == K::upsert_organization) {
      const auto& max = s.params[5];
      if (!max.is_null) CHECK(max.number >= INT32_MIN && max.number <= INT32_MAX);
    }
    if (s.kind == K::upsert_membership) {
      CHECK(!s.params[1].is_null && !s.params[1].text.empty());
      CHECK(!s.params[2].is_null && !s.params[2].text.empty());
      CHECK(!s.params[4].is_null && s.params[4].text.front() == '{' && s.params[4].text.back() == '}');
    }
    for (const auto& p : s.params) {
      if (p.type == T::timestamp_ms && !p.is_null) {
        CHECK(p.number >= 0 && p.number <= 100'000'000'000'000);
      }
    }
  }
  // The statement sequences the planner knows.
  K first = plan.statements[0].kind;
  size_t n = plan.statements.size();
  if (first == K::upsert_organization && n > 1) {
    CHECK(n == 3 || n == 4);
    CHECK(plan.statements[1].kind == K::upsert_user && plan.statements[2].kind == K::upsert_membership);
    // The membership's organization and user are the ones upserted first.
    CHECK(plan.statements[2].params[1].text == plan.statements[0].params[0].text);
    CHECK(plan.statements[2].params[2].text == plan.statements[1].params[0].text);
    if (n == 4) {
      CHECK(plan.statements[3].kind == K::delete_membership);
      CHECK(plan.statements[3].params[0].text == plan.statements[2].params[0].text);
      CHECK(!plan.statements[2].params[7].is_null);
      CHECK(plan.statements[3].params[1].number == plan.statements[2].params[7].number);
    } else {
      CHECK(n == 3 && plan.statements[2].params[7].is_null);
    }
  } else if (first == K::delete_organization || first == K::delete_user) {
    CHECK(n == 2);
    CHECK(plan.statements[1].kind ==
          (first == K::delete_organization ? K::end_organization_memberships : K::end_user_memberships));
    CHECK(plan.statements[1].params[0].text == plan.statements[0].params[0].text);
    CHECK(plan.statements[1].params[1].number == plan.statements[0].params[1].number);
  } else {
    CHECK(n == 1);
    CHECK(first == K::upsert_organization || first == K::upsert_user || first == K::upsert_invitation);
  }
  // The plan's object is the event's own: the membership for a membership.
  CHECK(plan.object_id.has_value());
  CHECK(*plan.object_id == plan.statements[n >= 3 ? 2 : 0].params[0].text);
}

void check_planning(std::string_view body) {
  core::EventPlan plain, fallback;
  try {
    plain = core::plan_event(body);
    fallback = core::plan_event(body, core::PlanOptions{kFallbackMs});
  } catch (const std::exception& error) {
    std::fprintf(stderr, "plan_event threw: %s\n", error.what());
    fail("plan_event never throws");
  } catch (...) {
    fail("plan_event never throws");
  }
  check_plan(plain);
  check_plan(fallback);
  // The fallback only matters where the event has no time of its own.
  CHECK(plain.type == fallback.type);
  CHECK(plain.object_id == fallback.object_id);
  CHECK(plain.event_time_ms == fallback.event_time_ms);
  if (plain.disposition == core::Disposition::ignore) CHECK(fallback.disposition == core::Disposition::ignore);
  if (plain.disposition == core::Disposition::apply) {
    CHECK(fallback.disposition == core::Disposition::apply);
    CHECK(fallback.statements.size() == plain.statements.size());
    if (plain.event_time_ms) {
      for (size_t i = 0; i < plain.statements.size(); ++i) {
        const auto& a = plain.statements[i].params;
        const auto& b = fallback.statements[i].params;
        for (size_t j = 0; j < a.size(); ++j) {
          CHECK(a[j].is_null == b[j].is_null && a[j].text == b[j].text && a[j].number == b[j].number);
        }
      }
    }
  }
  if (plain.disposition == core::Disposition::invalid && fallback.disposition != core::Disposition::invalid) {
    // Only a missing deletion time can be cured by the fallback.
    CHECK(!plain.event_time_ms);
    CHECK(plain.error == "deletion event has no usable timestamp");
  }
  // Planning is deterministic.
  core::EventPlan again = core::plan_event(body);
  CHECK(again.disposition == plain.disposition && again.error == plain.error &&
        again.statements.size() == plain.statements.size());
  for (size_t i = 0; i < again.statements.size(); ++i) {
    for (size_t j = 0; j < again.statements[i].params.size(); ++j) {
      CHECK(again.statements[i].params[j].text == plain.statements[i].params[j].text);
    }
  }
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
  check_planning(body);
  check_base64(input);
  check_base64(body);
  check_base64(signature.substr(signature.find(',') == std::string_view::npos ? 0 : signature.find(',') + 1));
  return 0;
}
