#include "pg/sql_args.hpp"

namespace orgsync::pg {

text* require_text_arg(FunctionCallInfo fcinfo, int n, const char* name) {
  if (PG_ARGISNULL(n)) {
    ereport(ERROR, (errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED), errmsg("orgsync: %s must not be NULL", name)));
  }
  return PG_GETARG_TEXT_PP(n);
}

int array_arg(FunctionCallInfo fcinfo, int n, const char* name, Oid element_type, Datum** values, bool** nulls) {
  if (PG_ARGISNULL(n)) {
    ereport(ERROR, (errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED), errmsg("orgsync: %s must not be NULL", name)));
  }
  ArrayType* array = PG_GETARG_ARRAYTYPE_P(n);
  if (ARR_NDIM(array) > 1) {
    ereport(ERROR,
            (errcode(ERRCODE_ARRAY_SUBSCRIPT_ERROR), errmsg("orgsync: %s must be a one-dimensional array", name)));
  }
  int count;
  deconstruct_array(array, element_type, -1, false, TYPALIGN_INT, values, nulls, &count);
  return count;
}

}  // namespace orgsync::pg
