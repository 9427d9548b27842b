/* test_hist.c: log-linear histogram buckets, percentiles and merge. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <cmocka.h>

#include "core/metrics/hist.h"
#include "core/rng.h"

static struct sy_hist *hist_new(void)
{
	struct sy_hist *h = malloc(sizeof(*h));
	assert_non_null(h);
	sy_hist_init(h);
	return h;
}

static void test_empty(void **state)
{
	struct sy_hist *h = hist_new();
	assert_int_equal(sy_hist_percentile(h, 50), 0);
	assert_int_equal(sy_hist_percentile(h, 0), 0);
	assert_int_equal(sy_hist_percentile(h, 100), 0);
	assert_int_equal(sy_hist_mean(h), 0);
	free(h);
}

static uint64_t dist(uint64_t a, uint64_t b)
{
	return a > b ? a - b : b - a;
}

/* Uniform sets over several ranges: each percentile within 1% of the exact
 * order statistic; p0 and p100 exactly min and max. */
static void test_uniform_sets(void **state)
{
	static const struct {
		uint64_t lo, hi;
	} ranges[] = {{0, 100}, {1000, 2000}, {1000000, 200000000}, {5 * SY_NS_PER_S, 900 * SY_NS_PER_S}};
	static const double ps[] = {1, 10, 25, 50, 75, 90, 99, 99.9};
	for (size_t k = 0; k < SY_ARRAY_LEN(ranges); k++) {
		struct sy_hist *h = hist_new();
		uint64_t lo = ranges[k].lo, hi = ranges[k].hi, n = 100000;
		/* Evenly spaced values: the exact p-th percentile is known. */
		for (uint64_t i = 0; i < n; i++)
			sy_hist_add(h, lo + (hi - lo) * i / (n - 1));
		assert_int_equal(sy_hist_percentile(h, 0), lo);
		assert_int_equal(sy_hist_percentile(h, 100), hi);
		for (size_t j = 0; j < SY_ARRAY_LEN(ps); j++) {
			uint64_t rank = (uint64_t)(ps[j] * n / 100.0 + 0.999999); /* 1-based */
			uint64_t exact = lo + (hi - lo) * (rank - 1) / (n - 1);
			uint64_t got = sy_hist_percentile(h, ps[j]);
			assert_true(got >= exact);
			assert_true(dist(got, exact) * 100 <= exact || dist(got, exact) <= 1);
		}
		free(h);
	}
}

static void test_exact_small(void **state)
{
	struct sy_hist *h = hist_new();
	for (uint64_t v = 1; v <= 100; v++)
		sy_hist_add(h, v);
	assert_int_equal(sy_hist_percentile(h, 50), 50); /* values below 128 are exact */
	assert_int_equal(sy_hist_percentile(h, 99), 99);
	assert_int_equal(sy_hist_mean(h), 50); /* 5050 / 100 */
	assert_int_equal(h->min_ns, 1);
	assert_int_equal(h->max_ns, 100);
	free(h);
}

static void test_extremes(void **state)
{
	struct sy_hist *h = hist_new();
	sy_hist_add(h, 0);
	sy_hist_add(h, UINT64_MAX);
	sy_hist_add(h, 1ull << 63);
	assert_int_equal(sy_hist_percentile(h, 0), 0);
	assert_int_equal(sy_hist_percentile(h, 100), UINT64_MAX);
	assert_true(sy_hist_percentile(h, 50) >= (1ull << 63));
	assert_int_equal(sy_hist_percentile(h, -5), 0);	     /* clamped to p0 */
	assert_int_equal(sy_hist_percentile(h, 250), UINT64_MAX); /* clamped to p100 */
	free(h);
}

/* Merging two halves equals adding everything to one histogram. */
static void test_merge(void **state)
{
	struct sy_hist *a = hist_new(), *b = hist_new(), *all = hist_new();
	struct sy_rng r;
	sy_rng_init(&r, 3);
	for (int i = 0; i < 50000; i++) {
		uint64_t v = sy_rng_below(&r, 10 * SY_NS_PER_S);
		sy_hist_add(i % 2 ? a : b, v);
		sy_hist_add(all, v);
	}
	sy_hist_merge(a, b);
	assert_memory_equal(a, all, sizeof(*a));
	struct sy_hist *empty = hist_new();
	sy_hist_merge(a, empty);
	assert_memory_equal(a, all, sizeof(*a));
	sy_hist_merge(empty, all);
	assert_memory_equal(empty, all, sizeof(*a));
	free(a);
	free(b);
	free(all);
	free(empty);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_empty),	   cmocka_unit_test(test_uniform_sets), cmocka_unit_test(test_exact_small),
		cmocka_unit_test(test_extremes), cmocka_unit_test(test_merge),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
