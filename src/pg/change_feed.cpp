#include "pg/change_feed.hpp"

extern "C" {
#include "commands/async.h"
}

namespace orgsync::pg {

bool notify_changes = false;

namespace {

const char* origin_type = nullptr;
const char* origin_delivery_id = nullptr;

void append_field(StringInfo json, const char* key, const char* value) {
  if (json->len > 1) appendStringInfoChar(json, ',');
  escape_json(json, key);
  appendStringInfoChar(json, ':');
  if (value == nullptr) {
    appendStringInfoString(json, "null");
  } else {
    escape_json(json, value);
  }
}

}  // namespace

void set_change_origin(const char* event_type, const char* delivery_id) {
  origin_type = event_type;
  origin_delivery_id = delivery_id;
}

void note_change(core::Table table, Datum id, Datum organization_id, bool organization_id_isnull,
                 const char* operation) {
  if (!notify_changes) return;
  StringInfoData json;
  initStringInfo(&json);
  appendStringInfoChar(&json, '{');
  append_field(&json, "table", core::table_name(table));
  append_field(&json, "id", TextDatumGetCString(id));
  append_field(&json, "organization_id", organization_id_isnull ? nullptr : TextDatumGetCString(organization_id));
  append_field(&json, "operation", operation);
  append_field(&json, "type", origin_type);
  append_field(&json, "delivery_id", origin_delivery_id);
  appendStringInfoChar(&json, '}');
  Async_Notify("orgsync_changes", json.data);
  pfree(json.data);
}

}  // namespace orgsync::pg
