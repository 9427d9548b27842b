/* test_money.c: exact decimal parsing, formatting and the ceiling rule of
 * core/billing/money.h, table-driven. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <cmocka.h>

#include "core/billing/money.h"

static void test_parse(void **state)
{
	static const struct {
		const char *s;
		enum sy_rc rc;
		int64_t micros;
	} cases[] = {
	    {"0.0123", SY_OK, 12300},
	    {"1", SY_OK, 1000000},
	    {"1.", SY_OK, 1000000},
	    {".5", SY_OK, 500000},
	    {"-2.5", SY_OK, -2500000},
	    {"+0.000001", SY_OK, 1},
	    {"0.000001", SY_OK, 1},
	    {"0.01230000", SY_OK, 12300},
	    {"12345.678901", SY_OK, 12345678901},
	    {"9000000000000", SY_OK, 9000000000000000000},
	    {"-9000000000000", SY_OK, -9000000000000000000},
	    {"0.0000001", SY_ERR_PARSE, 0},
	    {"0.0000005", SY_ERR_PARSE, 0},
	    {"9000000000000.000001", SY_ERR_INVAL, 0},
	    {"99999999999999999999", SY_ERR_INVAL, 0},
	    {"", SY_ERR_PARSE, 0},
	    {"-", SY_ERR_PARSE, 0},
	    {".", SY_ERR_PARSE, 0},
	    {"0,01", SY_ERR_PARSE, 0},
	    {"0,01x", SY_ERR_PARSE, 0},
	    {"1e-3", SY_ERR_PARSE, 0},
	    {" 1", SY_ERR_PARSE, 0},
	    {"1 ", SY_ERR_PARSE, 0},
	    {"1.2.3", SY_ERR_PARSE, 0},
	    {"--1", SY_ERR_PARSE, 0},
	    {"$1", SY_ERR_PARSE, 0},
	};
	for (size_t i = 0; i < SY_ARRAY_LEN(cases); i++) {
		int64_t v = 0;
		enum sy_rc rc = money_parse(sy_str_from(cases[i].s), &v);
		if (rc != cases[i].rc || (rc == SY_OK && v != cases[i].micros))
			fail_msg("'%s': rc %d micros %lld", cases[i].s, rc, (long long)v);
	}
}

static void test_format(void **state)
{
	static const struct {
		int64_t micros;
		const char *s;
	} cases[] = {
	    {0, "0.00"},
	    {1, "0.000001"},
	    {-5, "-0.000005"},
	    {12300, "0.0123"},
	    {1000000, "1.00"},
	    {1500000, "1.50"},
	    {12345600, "12.3456"},
	    {-2500000, "-2.50"},
	    {9000000000000000000, "9000000000000.00"},
	    {INT64_MIN, "-9223372036854.775808"},
	};
	for (size_t i = 0; i < SY_ARRAY_LEN(cases); i++) {
		char buf[MONEY_FMT_MAX];
		size_t n = money_fmt(cases[i].micros, buf);
		assert_string_equal(buf, cases[i].s);
		assert_int_equal(n, strlen(cases[i].s));
		int64_t back;
		if (cases[i].micros != INT64_MIN) { /* round trip */
			assert_int_equal(money_parse(sy_str_from(buf), &back), SY_OK);
			assert_int_equal(back, cases[i].micros);
		}
	}
}

static void test_ceil(void **state)
{
	static const struct {
		int64_t a, b, d, want;
	} cases[] = {
	    {12300, 60, 60, 12300}, /* a whole minute is the rate */
	    {12300, 1, 60, 205},    /* 12300/60 = 205 exactly */
	    {10000, 1, 60, 167},    /* 166.67 rounds up */
	    {10000, 7, 60, 1167},   /* 1166.67 */
	    {1, 1, 60, 1},	    /* any fraction of a micro costs one */
	    {0, 99, 60, 0},	    {10000, 0, 60, 0}, {1000000000000, 4294968, 60, 71582800000000000},
	};
	for (size_t i = 0; i < SY_ARRAY_LEN(cases); i++)
		assert_int_equal(money_mul_div_ceil(cases[i].a, cases[i].b, cases[i].d), cases[i].want);
}

static void test_currency(void **state)
{
	struct money_ccy c, d;
	assert_int_equal(money_ccy_parse(SY_STR("usd"), &c), SY_OK);
	assert_string_equal(c.code, "USD");
	assert_int_equal(money_ccy_parse(SY_STR("USD"), &d), SY_OK);
	assert_true(money_ccy_eq(c, d));
	assert_int_equal(money_ccy_parse(SY_STR("EUR"), &d), SY_OK);
	assert_false(money_ccy_eq(c, d));
	static const char *const bad[] = {"", "US", "USDX", "U1D", "U D", "€"};
	for (size_t i = 0; i < SY_ARRAY_LEN(bad); i++)
		assert_int_equal(money_ccy_parse(sy_str_from(bad[i]), &c), SY_ERR_PARSE);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_parse),
	    cmocka_unit_test(test_format),
	    cmocka_unit_test(test_ceil),
	    cmocka_unit_test(test_currency),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
