#include "pg/canonical_jsonb.hpp"

#include <cstring>

namespace orgsync::pg {
namespace {

struct Reader {
  const char* at;
  const char* end;
};

[[noreturn]] void not_canonical() {
  ereport(ERROR, (errcode(ERRCODE_INTERNAL_ERROR), errmsg("orgsync: JSON from the core is not canonical")));
}

char take(Reader& r) {
  if (r.at == r.end) not_canonical();
  return *r.at++;
}

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  not_canonical();
}

// A string, its opening quote already taken. Without escapes (nearly every
// string) it points into the text, which outlives the jsonb being built.
void read_string(Reader& r, JsonbValue* out) {
  const char* start = r.at;
  const char* stop = start;
  while (stop < r.end && *stop != '"' && *stop != '\\') ++stop;
  out->type = jbvString;
  if (stop < r.end && *stop == '"') {
    out->val.string.val = const_cast<char*>(start);
    out->val.string.len = int(stop - start);
    r.at = stop + 1;
    return;
  }
  StringInfoData unescaped;
  initStringInfo(&unescaped);
  appendBinaryStringInfo(&unescaped, start, int(stop - start));
  r.at = stop;
  for (;;) {
    char c = take(r);
    if (c == '"') break;
    if (c != '\\') {
      appendStringInfoChar(&unescaped, c);
      continue;
    }
    switch (take(r)) {
      case '"': appendStringInfoChar(&unescaped, '"'); break;
      case '\\': appendStringInfoChar(&unescaped, '\\'); break;
      case 'b': appendStringInfoChar(&unescaped, '\b'); break;
      case 'f': appendStringInfoChar(&unescaped, '\f'); break;
      case 'n': appendStringInfoChar(&unescaped, '\n'); break;
      case 'r': appendStringInfoChar(&unescaped, '\r'); break;
      case 't': appendStringInfoChar(&unescaped, '\t'); break;
      case 'u': {  // \u00XX: a control character
        int code = 0;
        for (int i = 0; i < 4; ++i) code = code * 16 + hex_digit(take(r));
        if (code < 1 || code >= 0x20) not_canonical();
        appendStringInfoChar(&unescaped, char(code));
        break;
      }
      default: not_canonical();
    }
  }
  out->val.string.val = unescaped.data;
  out->val.string.len = unescaped.len;
}

void expect_word(Reader& r, const char* word) {
  size_t length = strlen(word);
  if (size_t(r.end - r.at) < length || memcmp(r.at, word, length) != 0) not_canonical();
  r.at += length;
}

// Numbers go through numeric_in, as jsonb_in sends them.
void read_number(Reader& r, JsonbValue* out) {
  const char* start = r.at;
  auto in_number = [](char c) {
    return (c >= '0' && c <= '9') || c == '-' || c == '+' || c == '.' || c == 'e' || c == 'E';
  };
  while (r.at < r.end && in_number(*r.at)) ++r.at;
  if (r.at == start) not_canonical();
  out->type = jbvNumeric;
  out->val.numeric = DatumGetNumeric(DirectFunctionCall3(numeric_in, CStringGetDatum(pnstrdup(start, r.at - start)),
                                                         ObjectIdGetDatum(InvalidOid), Int32GetDatum(-1)));
}

bool read_value(JsonbParseState** state, Reader& r, JsonbValue* scalar);

// A container, its opening bracket already taken; returns it (complete once
// the outermost one has been read).
JsonbValue* read_container(JsonbParseState** state, Reader& r, bool object) {
  check_stack_depth();
  pushJsonbValue(state, object ? WJB_BEGIN_OBJECT : WJB_BEGIN_ARRAY, nullptr);
  char close = object ? '}' : ']';
  if (r.at < r.end && *r.at == close) {
    ++r.at;
  } else {
    for (;;) {
      if (object) {
        JsonbValue key;
        if (take(r) != '"') not_canonical();
        read_string(r, &key);
        pushJsonbValue(state, WJB_KEY, &key);
        if (take(r) != ':') not_canonical();
      }
      JsonbValue scalar;
      if (read_value(state, r, &scalar)) pushJsonbValue(state, object ? WJB_VALUE : WJB_ELEM, &scalar);
      char next = take(r);
      if (next == close) break;
      if (next != ',') not_canonical();
    }
  }
  return pushJsonbValue(state, object ? WJB_END_OBJECT : WJB_END_ARRAY, nullptr);
}

// One value: a container is pushed whole (false), a scalar is returned in
// *scalar (true) for the caller to push as a value or an element.
bool read_value(JsonbParseState** state, Reader& r, JsonbValue* scalar) {
  if (r.at == r.end) not_canonical();
  switch (*r.at) {
    case '{':
      ++r.at;
      read_container(state, r, true);
      return false;
    case '[':
      ++r.at;
      read_container(state, r, false);
      return false;
    case '"':
      ++r.at;
      read_string(r, scalar);
      return true;
    case 't':
      expect_word(r, "true");
      scalar->type = jbvBool;
      scalar->val.boolean = true;
      return true;
    case 'f':
      expect_word(r, "false");
      scalar->type = jbvBool;
      scalar->val.boolean = false;
      return true;
    case 'n':
      expect_word(r, "null");
      scalar->type = jbvNull;
      return true;
    default: read_number(r, scalar); return true;
  }
}

}  // namespace

Datum jsonb_from_canonical(const char* text, size_t length) {
  Reader r{text, text + length};
  if (r.at == r.end || *r.at != '{') not_canonical();  // the core writes objects only
  JsonbParseState* state = nullptr;
  ++r.at;
  JsonbValue* object = read_container(&state, r, true);
  if (r.at != r.end) not_canonical();
  return JsonbPGetDatum(JsonbValueToJsonb(object));
}

}  // namespace orgsync::pg
