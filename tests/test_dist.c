/* test_dist.c: duration and distribution parsing, printing and sampling. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "core/dist.h"

static void test_duration_table(void **state)
{
	static const struct {
		const char *in;
		bool ok;
		uint64_t ns;
	} cases[] = {
		{"2s", true, 2 * SY_NS_PER_S},	  {"250ms", true, 250 * SY_NS_PER_MS},
		{"1.5s", true, 1500 * SY_NS_PER_MS}, {"90", true, 90 * SY_NS_PER_S},
		{"2m", true, 120 * SY_NS_PER_S},   {"1h", true, 3600 * SY_NS_PER_S},
		{"7us", true, 7000},		  {"12ns", true, 12},
		{"0s", true, 0},		  {"0.000000001s", true, 1},
		{"10x", false, 0},		  {"", false, 0},
		{"s", false, 0},		  {".5s", false, 0},
		{"1.s", false, 0},		  {"1.5ns", false, 0},
		{"-1s", false, 0},		  {"1 s", false, 0},
		{"99999999999999999999s", false, 0}, {"1e3s", false, 0},
	};
	for (size_t i = 0; i < SY_ARRAY_LEN(cases); i++) {
		uint64_t ns = 12345;
		enum sy_rc rc = sy_duration_parse(cases[i].in, &ns);
		if (cases[i].ok) {
			assert_int_equal(rc, SY_OK);
			assert_int_equal(ns, cases[i].ns);
		} else {
			assert_int_equal(rc, SY_ERR_INVAL);
		}
	}
}

static void test_decimal(void **state)
{
	uint64_t v;
	assert_int_equal(sy_decimal_parse(SY_STR("0.0100"), 6, &v), SY_OK);
	assert_int_equal(v, 10000);
	assert_int_equal(sy_decimal_parse(SY_STR("12"), 3, &v), SY_OK);
	assert_int_equal(v, 12000);
	assert_int_equal(sy_decimal_parse(SY_STR("0.50000"), 3, &v), SY_OK); /* extra zeros ok */
	assert_int_equal(v, 500);
	assert_int_equal(sy_decimal_parse(SY_STR("0.0001"), 3, &v), SY_ERR_INVAL); /* would round */
	assert_int_equal(sy_decimal_parse(SY_STR("1,5"), 3, &v), SY_ERR_INVAL);
	assert_int_equal(sy_decimal_parse(SY_STR("18446744073709551616"), 0, &v), SY_ERR_INVAL);
}

/* Each form parses to the expected kind and prints back to its canonical text. */
static void test_dist_parse_fmt(void **state)
{
	static const struct {
		const char *in, *canon;
		enum sy_dist_kind kind;
		uint64_t a, b;
	} cases[] = {
		{"2s", "2s", SY_DIST_FIXED, 2 * SY_NS_PER_S, 0},
		{"fixed 30s", "30s", SY_DIST_FIXED, 30 * SY_NS_PER_S, 0},
		{"2s..6s", "2s..6s", SY_DIST_UNIFORM, 2 * SY_NS_PER_S, 6 * SY_NS_PER_S},
		{"uniform 1s 1500ms", "1s..1500ms", SY_DIST_UNIFORM, SY_NS_PER_S, 1500 * SY_NS_PER_MS},
		{"exp 90s", "exp 90s", SY_DIST_EXP, 90 * SY_NS_PER_S, 0},
		{"normal 20ms 5ms", "normal 20ms 5ms", SY_DIST_NORMAL, 20 * SY_NS_PER_MS, 5 * SY_NS_PER_MS},
		{"lognormal 90s 1.0", "lognormal 90s 1.0", SY_DIST_LOGNORMAL, 90 * SY_NS_PER_S, 0},
		{"  exp   2m ", "exp 2m", SY_DIST_EXP, 120 * SY_NS_PER_S, 0},
	};
	for (size_t i = 0; i < SY_ARRAY_LEN(cases); i++) {
		struct sy_dist d;
		char err[128], buf[64];
		assert_int_equal(sy_dist_parse(cases[i].in, &d, err, sizeof(err)), SY_OK);
		assert_int_equal(d.kind, cases[i].kind);
		assert_int_equal(d.a_ns, cases[i].a);
		if (d.kind != SY_DIST_LOGNORMAL)
			assert_int_equal(d.b_ns, cases[i].b);
		sy_dist_fmt(&d, buf, sizeof(buf));
		assert_string_equal(buf, cases[i].canon);
	}
}

static void test_dist_errors(void **state)
{
	static const struct {
		const char *in, *err;
	} cases[] = {
		{"10x", "bad duration '10x'"},
		{"", "bad distribution ''"},
		{"poisson 3s", "unknown distribution 'poisson'"},
		{"exp", "bad duration 'exp'"},
		{"normal 20ms", "'normal' takes 2 values"},
		{"exp 1s 2s", "'exp' takes 1 value"},
		{"6s..2s", "empty range '6s..2s'"},
		{"2s..", "bad duration ''"},
		{"lognormal 90s abc", "bad sigma 'abc'"},
		{"a b c d", "bad distribution 'a b c d'"},
	};
	for (size_t i = 0; i < SY_ARRAY_LEN(cases); i++) {
		struct sy_dist d;
		char err[128] = "";
		assert_int_equal(sy_dist_parse(cases[i].in, &d, err, sizeof(err)), SY_ERR_INVAL);
		assert_string_equal(err, cases[i].err);
	}
}

/* Sample means land near the distribution's mean; samples stay in range;
 * the same seed gives the same sequence. */
static void test_dist_sample(void **state)
{
	static const char *forms[] = {"2s..6s", "exp 90s", "normal 20ms 5ms", "lognormal 90s 0.5", "fixed 3s"};
	for (size_t f = 0; f < SY_ARRAY_LEN(forms); f++) {
		struct sy_dist d;
		struct sy_rng r1, r2;
		assert_int_equal(sy_dist_parse(forms[f], &d, NULL, 0), SY_OK);
		sy_rng_init(&r1, 42);
		sy_rng_init(&r2, 42);
		unsigned __int128 sum = 0;
		const int n = 200000;
		for (int i = 0; i < n; i++) {
			uint64_t x = sy_dist_sample(&d, &r1);
			assert_int_equal(x, sy_dist_sample(&d, &r2));
			if (d.kind == SY_DIST_UNIFORM)
				assert_true(x >= d.a_ns && x <= d.b_ns);
			sum += x;
		}
		uint64_t mean = (uint64_t)(sum / n), want = sy_dist_mean(&d);
		uint64_t diff = mean > want ? mean - want : want - mean;
		assert_true(diff * 100 <= want * 2); /* within 2% */
	}
}

static void test_dist_clamp(void **state)
{
	struct sy_dist d;
	struct sy_rng r;
	assert_int_equal(sy_dist_parse("normal 1ms 10ms", &d, NULL, 0), SY_OK);
	sy_rng_init(&r, 7);
	int zeros = 0;
	for (int i = 0; i < 10000; i++)
		zeros += sy_dist_sample(&d, &r) == 0;
	assert_true(zeros > 3000); /* about 46% fall below 0 and are clamped */
	assert_int_equal(sy_dist_mean(&(struct sy_dist){SY_DIST_UNIFORM, 2, 6, 0}), 4);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_duration_table), cmocka_unit_test(test_decimal),
		cmocka_unit_test(test_dist_parse_fmt), cmocka_unit_test(test_dist_errors),
		cmocka_unit_test(test_dist_sample),    cmocka_unit_test(test_dist_clamp),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
