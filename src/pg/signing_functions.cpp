// SQL-callable signing helpers: orgsync.verify, orgsync.sign (for tests and
// tools) and orgsync.secret_key (add_secret stores its result).

#include <string_view>
#include <vector>

#include "core/signature.hpp"
#include "pg/boundary.hpp"
#include "pg/delivery.hpp"
#include "pg/pg_memory.hpp"
#include "pg/sql_args.hpp"
#include "pg/times.hpp"

namespace orgsync::pg {
namespace {

std::string_view view(Bytes bytes) { return {bytes.data, bytes.size}; }

// ---- C++ side --------------------------------------------------------------

bool verify_with_secret(const DeliveryHeaders& headers, Bytes body, Bytes secret, int64 now_seconds) {
  std::vector<core::SigningKey> keys{core::decode_secret(view(secret))};
  return core::verify({view(headers.id), view(headers.timestamp), view(headers.signature)}, view(body), keys,
                      now_seconds, timestamp_tolerance_seconds) == core::Verdict::verified;
}

bytea* decode_secret_to_bytea(Bytes secret) { return varlena_or_throw(core::decode_secret(view(secret))); }

char* sign_delivery(Bytes secret, Bytes id, int64 timestamp_seconds, Bytes body) {
  return cstring_or_throw(core::sign(core::decode_secret(view(secret)), view(id), timestamp_seconds, view(body)));
}

// ---- Postgres side ----------------------------------------------------------

// A delivery's time in Unix seconds; deliveries happen after 1970, not at infinity.
int64 delivery_seconds(TimestampTz at) {
  int64 seconds = TIMESTAMP_NOT_FINITE(at) ? -1 : unix_seconds_from_timestamp(at);
  if (seconds < 0) {
    ereport(ERROR, (errcode(ERRCODE_DATETIME_VALUE_OUT_OF_RANGE),
                    errmsg("orgsync: a delivery time must be finite and after 1970")));
  }
  return seconds;
}

Datum verify(FunctionCallInfo fcinfo) {
  DeliveryHeaders headers = find_delivery_headers(PG_GETARG_JSONB_P(0));
  Bytes body = text_bytes(PG_GETARG_TEXT_PP(1));
  Bytes secret = text_bytes(PG_GETARG_TEXT_PP(2));
  int64 at = delivery_seconds(PG_GETARG_TIMESTAMPTZ(3));
  PG_RETURN_BOOL(verify_with_secret(headers, body, secret, at));
}

Datum sign(FunctionCallInfo fcinfo) {
  Bytes secret = text_bytes(PG_GETARG_TEXT_PP(0));
  char* id = text_to_cstring(PG_GETARG_TEXT_PP(1));
  Bytes body = text_bytes(PG_GETARG_TEXT_PP(2));
  int64 at = delivery_seconds(PG_GETARG_TIMESTAMPTZ(3));
  char* signature = sign_delivery(secret, {id, strlen(id)}, at, body);

  StringInfoData json;
  initStringInfo(&json);
  appendStringInfoString(&json, "{\"svix-id\":");
  escape_json(&json, id);
  appendStringInfo(&json, ",\"svix-timestamp\":\"" INT64_FORMAT "\",\"svix-signature\":", at);
  escape_json(&json, signature);
  appendStringInfoChar(&json, '}');
  PG_RETURN_DATUM(DirectFunctionCall1(jsonb_in, CStringGetDatum(json.data)));
}

Datum secret_key(FunctionCallInfo fcinfo) {
  PG_RETURN_BYTEA_P(decode_secret_to_bytea(text_bytes(require_text_arg(fcinfo, 0, "secret"))));
}

}  // namespace
}  // namespace orgsync::pg

ORGSYNC_FUNCTION(orgsync_verify, orgsync::pg::verify)
ORGSYNC_FUNCTION(orgsync_sign, orgsync::pg::sign)
ORGSYNC_FUNCTION(orgsync_secret_key, orgsync::pg::secret_key)
