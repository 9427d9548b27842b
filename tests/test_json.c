/* test_json.c: the flat JSON parser of the HTTP API (core/json.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <cmocka.h>

#include "core/json.h"

static void get(const char *in, const char *key, const char *want)
{
	char scratch[512], err[128];
	struct json_obj o;
	assert_int_equal(json_parse_flat(in, strlen(in), scratch, sizeof(scratch), &o, err, sizeof(err)), SY_OK);
	struct sy_str v;
	assert_true(json_get_str(&o, key, &v));
	assert_int_equal(v.len, strlen(want));
	assert_memory_equal(v.p, want, v.len);
}

static void test_valid(void **state)
{
	(void)state;
	get("{\"from\":\"+15551234\",\"to\":\"+447700900123\",\"text\":\"hello\"}", "to", "+447700900123");
	get(" { \"text\" : \"a\\\"b\\\\c\\n\" } ", "text", "a\"b\\c\n");
	get("{\"text\":\"caf\\u00e9 \\ud83d\\ude00\"}", "text", "caf\xc3\xa9 \xf0\x9f\x98\x80");
	get("{\"n\":12,\"ok\":true,\"text\":\"x\"}", "text", "x");
	get("{\"text\":\"\"}", "text", "");
}

static void test_invalid(void **state)
{
	(void)state;
	static const char *const bad[] = {
		"", "[]", "{", "{\"a\"}", "{\"a\":}", "{\"a\":\"x\",}", "{\"a\":\"x\"} extra", "{\"a\":{\"b\":1}}",
		"{\"a\":[1]}", "{\"a\":\"\\q\"}", "{\"a\":\"\\ud800\"}", "{\"a\":\"\\udc00\"}", "{\"a\":\"x\",\"a\":\"y\"}",
		"{\"a\":\"unterminated}", "{\"a\":\"tab\there\"}", "{\"a\":\"\\u12\"}",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char scratch[512], err[128] = "";
		struct json_obj o;
		assert_int_equal(json_parse_flat(bad[i], strlen(bad[i]), scratch, sizeof(scratch), &o, err, sizeof(err)),
				 SY_ERR_PARSE);
		assert_true(err[0] != '\0');
	}
}

static void test_absent_and_types(void **state)
{
	(void)state;
	char scratch[128], err[64];
	struct json_obj o;
	const char *in = "{\"n\":5}";
	struct sy_str v;
	assert_int_equal(json_parse_flat(in, strlen(in), scratch, sizeof(scratch), &o, err, sizeof(err)), SY_OK);
	assert_false(json_get_str(&o, "n", &v));   /* a number is not a string */
	assert_false(json_get_str(&o, "text", &v)); /* absent */
}

/* Every prefix of a valid object is refused without reading past it. */
static void test_truncations(void **state)
{
	(void)state;
	const char *in = "{\"from\":\"+1555\",\"text\":\"caf\\u00e9\"}";
	for (size_t n = 0; n < strlen(in); n++) {
		char *copy = malloc(n ? n : 1), scratch[128], err[64];
		memcpy(copy, in, n);
		struct json_obj o;
		assert_int_equal(json_parse_flat(copy, n, scratch, sizeof(scratch), &o, err, sizeof(err)), SY_ERR_PARSE);
		free(copy);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_valid),
		cmocka_unit_test(test_invalid),
		cmocka_unit_test(test_absent_and_types),
		cmocka_unit_test(test_truncations),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
