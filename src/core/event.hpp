// Turns one Clerk event into the statements that merge it into the mirror
// tables. Pure: no I/O, no Postgres. The statements themselves (SQL) live in
// the Postgres layer; this file decides which run and with what values.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace orgsync::core {

// The statements the Postgres layer knows. Parameter order is documented at
// each statement's SQL in src/pg/statements.cpp.
enum class StatementKind {
  upsert_organization,
  upsert_user,
  upsert_membership,
  upsert_invitation,
  delete_organization,
  delete_user,
  delete_membership,
  end_organization_memberships,
  end_user_memberships,
};
constexpr int kStatementKinds = 9;

// One value bound to one SQL parameter. A JSON object travels as its
// canonical text and becomes jsonb once; arrays and versions travel as text
// and are cast in SQL.
struct Param {
  enum class Type { text, int64, timestamp_ms, json };
  Type type;
  bool is_null = true;
  std::string text;
  int64_t number = 0;

  static Param null(Type type) { return Param{type, true, {}, 0}; }
  static Param of_text(std::optional<std::string> value);
  static Param of_json(std::string text) { return Param{Type::json, false, std::move(text), 0}; }
  static Param of_int64(std::optional<int64_t> value);
  static Param of_time(std::optional<int64_t> ms);
};

struct Statement {
  StatementKind kind;
  std::vector<Param> params;
};

// The merge key of one version of an object. Compared element by element
// (Postgres compares bigint[] the same way): a full object (rank 1) beats a
// snapshot carried inside a membership (rank 0); then newer `updated_at`; then
// later event; then a digest of the content, so equal keys mean equal content
// and every tie is broken the same way whatever the arrival order.
struct Version {
  int64_t rank;
  int64_t updated_at_ms;
  int64_t event_time_ms;
  int64_t digest;

  std::array<int64_t, 4> key() const { return {rank, updated_at_ms, event_time_ms, digest}; }
  std::string to_sql_array() const;  // "{1,2,3,4}"
};

enum class Disposition {
  apply,    // a modelled event: run `statements`
  ignore,   // an event type orgsync does not model
  invalid,  // signed but unusable; `error` says why
};

struct EventPlan {
  Disposition disposition = Disposition::invalid;
  std::optional<std::string> type;
  std::optional<std::string> object_id;
  std::optional<int64_t> event_time_ms;
  std::string error;
  std::vector<Statement> statements;
};

struct PlanOptions {
  // Used as the deletion time when the event carries no `timestamp`
  // (the delivery's own signed timestamp, when there is one).
  std::optional<int64_t> fallback_event_time_ms;
};

// Never throws for bad input: a body that cannot be applied yields
// Disposition::invalid with the reason.
EventPlan plan_event(std::string_view body, const PlanOptions& options = {});

// Clerk sends the top-level `timestamp` in seconds in some payloads and in
// milliseconds in others; a value below 1e11 can only be seconds.
int64_t normalize_event_time_ms(int64_t value);

// The deepest JSON nesting accepted; Clerk objects are a handful of levels deep.
constexpr int kMaxJsonDepth = 64;

}  // namespace orgsync::core
