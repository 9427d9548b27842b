/* json.h: a small strict parser for the flat JSON objects the HTTP API takes
 * ({"from":"+1555","to":"+4477","text":"hi \u00e9"}): string, number, true,
 * false and null values; nested objects and arrays are refused. Strings are
 * unescaped (\uXXXX and surrogate pairs to UTF-8) into a caller buffer. */
#ifndef SY_JSON_H
#define SY_JSON_H

#include "base.h"

#define JSON_FIELDS_MAX 16

struct json_field {
	struct sy_str key;   /* unescaped, points into the scratch buffer */
	struct sy_str value; /* strings unescaped; numbers and literals as written */
	bool is_string;
};

struct json_obj {
	struct json_field f[JSON_FIELDS_MAX];
	uint32_t n;
};

/* Parses p[0..len) into out, unescaping into scratch (at least len bytes).
 * SY_ERR_PARSE with a reason in err on malformed input or duplicate keys. */
enum sy_rc json_parse_flat(const char *p, size_t len, char *scratch, size_t scratch_len, struct json_obj *out,
			   char *err, size_t errlen);
/* The string value of key, or false when absent or not a string. */
bool json_get_str(const struct json_obj *o, const char *key, struct sy_str *out);

#endif
