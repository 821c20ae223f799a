#include "pg/delivery_log.hpp"

#include "pg/catalog.hpp"
#include "pg/rows.hpp"

namespace orgsync::pg {
namespace {

void set_text_or_null(RowAccess* access, TupleTableSlot* row, Column column, const char* value) {
  set_column(access, Table::events, row, column, value == nullptr ? Datum(0) : CStringGetTextDatum(value),
             value == nullptr);
}

}  // namespace

bool delivery_recorded(RowAccess* access, text* delivery_id) {
  return find_row(access, Table::events, PointerGetDatum(delivery_id), false) != nullptr;
}

bool record_delivery(RowAccess* access, const Delivery& delivery) {
  TupleTableSlot* row = new_row(access, Table::events);
  set_column(access, Table::events, row, Column::id, PointerGetDatum(delivery.id), false);
  set_column(access, Table::events, row, Column::endpoint, PointerGetDatum(delivery.endpoint), false);
  set_text_or_null(access, row, Column::type, delivery.type);
  set_column(access, Table::events, row, Column::status, delivery_status_datum(delivery.status), false);
  set_text_or_null(access, row, Column::error, delivery.error);
  set_text_or_null(access, row, Column::object_id, delivery.object_id);
  set_column(access, Table::events, row, Column::event_time, TimestampTzGetDatum(delivery.event_time),
             !delivery.has_event_time);
  set_column(access, Table::events, row, Column::payload, PointerGetDatum(delivery.payload), false);
  while (!insert_row(access, Table::events, row)) {
    if (delivery_recorded(access, delivery.id)) return false;
  }
  return true;
}

bool load_delivery(RowAccess* access, text* delivery_id, RecordedDelivery* loaded) {
  TupleTableSlot* found = find_row(access, Table::events, PointerGetDatum(delivery_id), true);
  if (found == nullptr) return false;
  bool isnull, time_isnull;
  loaded->payload = DatumGetTextPP(get_column(access, Table::events, found, Column::payload, &isnull));
  Datum time = get_column(access, Table::events, found, Column::event_time, &time_isnull);
  loaded->has_event_time = !time_isnull;
  loaded->event_time = time_isnull ? 0 : DatumGetTimestampTz(time);
  Datum status = get_column(access, Table::events, found, Column::status, &isnull);
  loaded->status = DatumGetCString(DirectFunctionCall1(enum_out, status));
  return true;
}

void set_delivery_status(RowAccess* access, text* delivery_id, const char* status, const char* error) {
  TupleTableSlot* found = find_row(access, Table::events, PointerGetDatum(delivery_id), true);
  if (found == nullptr) return;
  TupleTableSlot* row = changed_row(access, Table::events, found);
  set_column(access, Table::events, row, Column::status, delivery_status_datum(status), false);
  set_text_or_null(access, row, Column::error, error);
  update_row(access, Table::events, found, row);
}

}  // namespace orgsync::pg
