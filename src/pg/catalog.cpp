#include "pg/catalog.hpp"

extern "C" {
#include "access/toast_compression.h"
#include "catalog/namespace.h"
#include "catalog/pg_enum.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/syscache.h"
}

namespace orgsync::pg {
namespace {

TableInfo table_info[core::kTables];

void forget_tables(Datum, Oid relid) {
  for (TableInfo& info : table_info) {
    if (relid == InvalidOid || relid == info.relid) info.relid = InvalidOid;
  }
}

// The type a column must have for what the core writes into it.
Oid expected_type(core::Column column) {
  switch (core::value_type(column)) {
    case core::ValueType::text: return TEXTOID;
    case core::ValueType::int32: return INT4OID;
    case core::ValueType::boolean: return BOOLOID;
    case core::ValueType::time_ms: return TIMESTAMPTZOID;
    case core::ValueType::json: return JSONBOID;
    case core::ValueType::text_array: return TEXTARRAYOID;
  }
  return InvalidOid;
}

// Mirror tables only: the deliveries log's columns are written by the
// Postgres layer itself, with types of its own (an enum status).
void check_type(core::Table table, core::Column column, Form_pg_attribute attribute) {
  if (table == core::Table::events || column == core::Column::source || column == core::Column::id) return;
  Oid expected = column == core::Column::sync_version ? INT8ARRAYOID : expected_type(column);
  if (attribute->atttypid != expected) {
    ereport(ERROR, (errcode(ERRCODE_DATATYPE_MISMATCH),
                    errmsg("orgsync: column orgsync.%s.%s has type %s, where orgsync writes %s",
                           core::table_name(table), core::column_name(column), format_type_be(attribute->atttypid),
                           format_type_be(expected))));
  }
}

Datum enum_label(const char* type, const char* label) {
  Oid type_oid = GetSysCacheOid2(TYPENAMENSP, Anum_pg_type_oid, CStringGetDatum(type),
                                 ObjectIdGetDatum(get_namespace_oid("orgsync", false)));
  Oid label_oid = OidIsValid(type_oid) ? GetSysCacheOid2(ENUMTYPOIDNAME, Anum_pg_enum_oid, ObjectIdGetDatum(type_oid),
                                                         CStringGetDatum(label))
                                       : InvalidOid;
  if (!OidIsValid(label_oid)) {
    ereport(ERROR, (errcode(ERRCODE_UNDEFINED_OBJECT),
                    errmsg("orgsync: enum orgsync.%s has no label \"%s\"", type, label),
                    errhint("If the orgsync library was just upgraded, run ALTER EXTENSION orgsync UPDATE.")));
  }
  return ObjectIdGetDatum(label_oid);
}

}  // namespace

Oid table_relid(core::Table table) {
  Oid relid = table_info[int(table)].relid;
  if (!OidIsValid(relid)) relid = get_relname_relid(core::table_name(table), get_namespace_oid("orgsync", false));
  if (!OidIsValid(relid)) {
    ereport(ERROR, (errcode(ERRCODE_UNDEFINED_TABLE), errmsg("orgsync: table orgsync.%s is missing", core::table_name(table)),
                    errhint("If the orgsync library was just upgraded, run ALTER EXTENSION orgsync UPDATE.")));
  }
  return relid;
}

const TableInfo& describe_table(core::Table table, Relation rel) {
  TableInfo& info = table_info[int(table)];
  if (info.relid == RelationGetRelid(rel)) return info;
  TupleDesc desc = RelationGetDescr(rel);
  for (int c = 0; c < core::kColumns; ++c) {
    info.attnums[c] = 0;
    info.compression[c] = InvalidCompressionMethod;
    for (int a = 0; a < desc->natts; ++a) {
      Form_pg_attribute attribute = TupleDescAttr(desc, a);
      if (attribute->attisdropped || strcmp(NameStr(attribute->attname), core::column_name(core::Column(c))) != 0) {
        continue;
      }
      check_type(table, core::Column(c), attribute);
      info.attnums[c] = AttrNumber(a + 1);
      bool compressible = attribute->attlen == -1 &&
                          (attribute->attstorage == TYPSTORAGE_EXTENDED || attribute->attstorage == TYPSTORAGE_MAIN);
      if (compressible) info.compression[c] = attribute->attcompression;
    }
  }
  info.primary_key = RelationGetPrimaryKeyIndex(rel);  // checked where a table is opened
  info.relid = RelationGetRelid(rel);
  return info;
}

namespace {

// Enum labels looked up once and kept until any type changes (a dropped and
// re-created extension has new ones).
struct CachedLabel {
  const char* type;
  const char* label;
  Datum value;
};
CachedLabel cached_labels[8];
int cached_label_count = 0;

void forget_labels(Datum, int, uint32) { cached_label_count = 0; }

Datum cached_enum_label(const char* type, const char* label) {
  for (int i = 0; i < cached_label_count; ++i) {
    if (strcmp(cached_labels[i].type, type) == 0 && strcmp(cached_labels[i].label, label) == 0) {
      return cached_labels[i].value;
    }
  }
  Datum value = enum_label(type, label);
  if (cached_label_count < int(sizeof(cached_labels) / sizeof(*cached_labels))) {
    cached_labels[cached_label_count++] = {type, label, value};
  }
  return value;
}

}  // namespace

Datum row_source_datum(core::RowSource source) { return cached_enum_label("row_source", core::source_label(source)); }

// `status` is one of the string literals "applied", "stale", "ignored", "invalid".
Datum delivery_status_datum(const char* status) { return cached_enum_label("delivery_status", status); }

void register_catalog_invalidation() {
  CacheRegisterRelcacheCallback(forget_tables, 0);
  CacheRegisterSyscacheCallback(TYPEOID, forget_labels, 0);
}

}  // namespace orgsync::pg
