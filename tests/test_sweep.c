/* test_sweep.c: the pure parts of `switchyard sweep` (sim/sweep.h): the
 * --vary range, a scenario key overridden in the text (and the result
 * parsed as a scenario), the statistics, the knee, Erlang-B against the
 * published tables. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim/run.h"
#include "sim/sweep.h"

static void test_range(void **state)
{
	char err[256], buf[32];
	struct sweep_range r;
	assert_int_equal(sweep_range_parse("traffic.voice.cps=1000..20000/10", &r, err, sizeof(err)), 0);
	assert_string_equal(r.key, "traffic.voice.cps");
	assert_int_equal(r.n, 10);
	assert_true(r.integer);
	assert_true(sweep_range_value(&r, 0) == 1000);
	assert_true(sweep_range_value(&r, 1) == 3111); /* 1000 + 19000/9, rounded */
	assert_true(sweep_range_value(&r, 9) == 20000);
	sweep_value_fmt(&r, sweep_range_value(&r, 1), buf, sizeof(buf));
	assert_string_equal(buf, "3111");

	assert_int_equal(sweep_range_parse("traffic.voice.cps=0.75..1.75/5", &r, err, sizeof(err)), 0);
	assert_false(r.integer);
	sweep_value_fmt(&r, sweep_range_value(&r, 2), buf, sizeof(buf));
	assert_string_equal(buf, "1.25");
	sweep_value_fmt(&r, sweep_range_value(&r, 4), buf, sizeof(buf));
	assert_string_equal(buf, "1.75");

	assert_int_equal(sweep_range_parse("carrier.a.capacity=30..30/1", &r, err, sizeof(err)), 0);
	assert_true(sweep_range_value(&r, 0) == 30);

	static const char *const bad[] = {
	    "cps=1..2/2",		/* no section */
	    "traffic.voice.cps=1..2",	/* no /N */
	    "traffic.voice.cps=2..1/3", /* going down */
	    "traffic.voice.cps=1..2/0",
	    "traffic.voice.cps=1..2/1",
	    "traffic.voice.cps=1..2/201",
	    "traffic.voice.cps=x..2/2",
	    "traffic.voice.cps=1..2/2x",
	    "=1..2/2",
	    "traffic.voice.cps",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		assert_int_equal(sweep_range_parse(bad[i], &r, err, sizeof(err)), -1);
		assert_non_null(strstr(err, "--vary"));
	}
}

static const char scn[] = "[run]\n"
			  "duration = 10s\n"
			  "\n"
			  "[carrier trunk]\n"
			  "prefixes = 1\n"
			  "capacity = 30 calls\n"
			  "\n"
			  "[trunk callers]\n"
			  "address = 10.0.2.1\n"
			  "\n"
			  "[ traffic   voice ]\n"
			  "cps = 1.25\n"
			  "to = +1XXXXXXXXXX\n"
			  "hold = exp 20s";

static void test_override(void **state)
{
	char err[256];
	char *t = sweep_override(scn, strlen(scn), "traffic.voice.cps", "7.5", err, sizeof(err));
	assert_non_null(t);
	assert_non_null(strstr(t, "[ traffic   voice ]\ncps = 7.5\nto = "));
	assert_null(strstr(t, "1.25"));
	free(t);
	/* A key the section lacks is added to it (here, the last section). */
	t = sweep_override(scn, strlen(scn), "traffic.voice.duration", "5s", err, sizeof(err));
	assert_non_null(t);
	assert_non_null(strstr(t, "hold = exp 20s\nduration = 5s\n"));
	free(t);
	/* ... or before the next section's header. */
	t = sweep_override(scn, strlen(scn), "run.drain", "3s", err, sizeof(err));
	assert_non_null(t);
	assert_non_null(strstr(t, "duration = 10s\n\ndrain = 3s\n[carrier trunk]"));
	free(t);
	/* "capacity" under [carrier trunk], not "prefixes"; the result parses. */
	t = sweep_override(scn, strlen(scn), "carrier.trunk.capacity", "29 calls", err, sizeof(err));
	assert_non_null(t);
	assert_non_null(strstr(t, "prefixes = 1\ncapacity = 29 calls\n"));
	struct sim_scenario *sc = NULL;
	assert_int_equal(sim_scenario_parse_string(t, "override.scn", &sc, err, sizeof(err)), SY_OK);
	sim_scenario_free(sc);
	free(t);
	/* A value the parser refuses is its error, with the key's name. */
	t = sweep_override(scn, strlen(scn), "traffic.voice.hold", "exp 20x", err, sizeof(err));
	assert_non_null(t);
	assert_int_not_equal(sim_scenario_parse_string(t, "override.scn", &sc, err, sizeof(err)), SY_OK);
	assert_non_null(strstr(err, "hold"));
	free(t);
	/* No such section; no section at all. */
	assert_null(sweep_override(scn, strlen(scn), "traffic.sms.tps", "1", err, sizeof(err)));
	assert_non_null(strstr(err, "no [traffic sms] section"));
	assert_null(sweep_override(scn, strlen(scn), "cps", "1", err, sizeof(err)));
}

static void test_stats(void **state)
{
	assert_true(fabs(sweep_t95(1) - 12.706) < 1e-9);
	assert_true(fabs(sweep_t95(3) - 3.182) < 1e-9);
	assert_true(fabs(sweep_t95(1000) - 1.96) < 1e-9);
	double x[] = {4, 6, 5, 7}, mean, ci;
	sweep_mean_ci(x, 4, &mean, &ci);
	assert_true(fabs(mean - 5.5) < 1e-12);
	/* sd = sqrt(5/3); half-width = 3.182 sd / 2 */
	assert_true(fabs(ci - 3.182 * sqrt(5.0 / 3.0) / 2.0) < 1e-9);
	sweep_mean_ci(x, 1, &mean, &ci);
	assert_true(mean == 4 && ci == 0);
	double lo, hi;
	sweep_wilson(3, 3, 1.96, &lo, &hi); /* 3 of 3: 0.439 .. 1 */
	assert_true(fabs(lo - 0.4385) < 1e-3 && hi == 1);
	sweep_wilson(0, 12000, 1.96, &lo, &hi); /* the rule of three's neighbour: 3.84 / n */
	assert_true(lo < 1e-12 && fabs(hi - 3.8416 / 12003.84) < 1e-7);
	sweep_wilson(50, 100, 1.96, &lo, &hi);
	assert_true(fabs(lo - 0.4038) < 1e-3 && fabs(hi - 0.5962) < 1e-3);
}

/* Published Erlang-B tables: the load N circuits carry at 1% and 2% blocking. */
static void test_erlang_b(void **state)
{
	static const struct {
		unsigned n;
		double a, b;
	} table[] = {
	    {30, 25.0, 0.0526}, {30, 20.34, 0.01},  {30, 21.93, 0.02}, {10, 5.08, 0.02},
	    {10, 4.46, 0.01},	{100, 84.06, 0.01}, {1, 1.0, 0.5},     {2, 1.0, 0.2},
	};
	for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
		double b = sweep_erlang_b(table[i].n, table[i].a);
		assert_true(fabs(b - table[i].b) < 0.0001);
	}
	assert_true(sweep_erlang_b(0, 5) == 1.0);
	assert_true(sweep_erlang_b(5, 0) == 0.0);
	/* Large trunks stay finite (the recursion never forms A^N / N!). */
	double b = sweep_erlang_b(5000, 4800);
	assert_true(b > 5e-5 && b < 2e-4); /* 9.28e-5 */
}

static void test_knee(void **state)
{
	struct sweep_point_pass p[] = {{1000, 3, 3}, {2000, 3, 3}, {3000, 3, 3}, {4000, 3, 2}, {5000, 3, 0}};
	struct sweep_knee k = sweep_knee_find(p, 5, 1.0);
	assert_int_equal(k.index, 2);
	assert_int_equal(k.first_fail, 3);
	assert_true(fabs(k.confidence - 0.4385) < 1e-3);
	k = sweep_knee_find(p, 5, 0.6); /* 2 of 3 is enough */
	assert_int_equal(k.index, 3);
	assert_int_equal(k.first_fail, 4);
	/* A pass above a failure does not raise the knee. */
	struct sweep_point_pass q[] = {{1, 2, 2}, {2, 2, 1}, {3, 2, 2}};
	k = sweep_knee_find(q, 3, 1.0);
	assert_int_equal(k.index, 0);
	assert_int_equal(k.first_fail, 1);
	struct sweep_point_pass all[] = {{1, 4, 4}, {2, 4, 4}};
	k = sweep_knee_find(all, 2, 1.0);
	assert_int_equal(k.index, 1);
	assert_int_equal(k.first_fail, -1);
	struct sweep_point_pass none[] = {{1, 4, 3}};
	k = sweep_knee_find(none, 1, 1.0);
	assert_int_equal(k.index, -1);
	assert_true(k.confidence == 0);
}

static void test_json_metric(void **state)
{
	const char *j = "{\"scenario\":\"x\",\"metrics\":{\"calls.attempted\":4972,\"asr\":93.7047,"
			"\"caller.asr\":90.5,\"pdd.p99\":2.026},\"expect\":[]}";
	double v;
	assert_true(sweep_json_metric(j, "asr", &v) && v == 93.7047);
	assert_true(sweep_json_metric(j, "calls.attempted", &v) && v == 4972);
	assert_true(sweep_json_metric(j, "pdd.p99", &v) && v == 2.026);
	assert_false(sweep_json_metric(j, "pdd", &v));
	assert_false(sweep_json_metric(j, "scenario", &v));
	assert_false(sweep_json_metric("{}", "asr", &v));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_range),    cmocka_unit_test(test_override), cmocka_unit_test(test_stats),
	    cmocka_unit_test(test_erlang_b), cmocka_unit_test(test_knee),     cmocka_unit_test(test_json_metric),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
