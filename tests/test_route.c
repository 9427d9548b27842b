/* test_route.c: longest-prefix match on the digit trie, the carrier table's
 * failover order, and a million random prefixes against a reference. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <cmocka.h>

#include "core/rng.h"
#include "core/route/route.h"

static void test_longest_match(void **state)
{
	static const struct {
		const char *prefix;
		uint32_t value;
	} adds[] = {{"1", 1}, {"44", 44}, {"+4420", 4420}, {"442079", 442079}, {"49", 49}};
	static const struct {
		const char *number;
		bool found;
		uint32_t value;
		size_t len;
	} cases[] = {
		{"+12125550100", true, 1, 1}, {"12125550100", true, 1, 1}, {"+442079460000", true, 442079, 6},
		{"442071234567", true, 4420, 4}, {"4413", true, 44, 2},	  {"+4930", true, 49, 2},
		{"33123", false, 0, 0},		 {"", false, 0, 0},	  {"+", false, 0, 0},
		{"4", false, 0, 0},		 {"44;x", true, 44, 2},	  {"4a42079", false, 0, 0},
		{"++44", false, 0, 0},		 {"442079 extra", true, 442079, 6},
	};
	struct route_trie t;
	assert_int_equal(route_trie_init(&t, 0), SY_OK);
	for (size_t i = 0; i < SY_ARRAY_LEN(adds); i++)
		assert_int_equal(route_add(&t, sy_str_from(adds[i].prefix), adds[i].value), SY_OK);
	assert_int_equal(t.prefix_n, SY_ARRAY_LEN(adds));
	for (size_t i = 0; i < SY_ARRAY_LEN(cases); i++) {
		uint32_t v = 0;
		size_t len = 99;
		bool found = route_lookup(&t, sy_str_from(cases[i].number), &v, &len);
		assert_int_equal(found, cases[i].found);
		if (found) {
			assert_int_equal(v, cases[i].value);
			assert_int_equal(len, cases[i].len);
		}
	}
	route_trie_free(&t);
}

static void test_add_rules(void **state)
{
	struct route_trie t;
	uint32_t v;
	size_t len;
	assert_int_equal(route_trie_init(&t, 0), SY_OK);
	assert_int_equal(route_add(&t, SY_STR("4a"), 1), SY_ERR_INVAL);
	assert_int_equal(route_add(&t, SY_STR("44"), ROUTE_NONE), SY_ERR_INVAL);
	assert_int_equal(route_add(&t, SY_STR("123456789012345678901234567890123"), 1), SY_ERR_INVAL);
	assert_false(route_lookup(&t, SY_STR("44"), &v, &len));
	assert_int_equal(route_add(&t, SY_STR("44"), 1), SY_OK);
	assert_int_equal(route_add(&t, SY_STR("44"), 2), SY_OK); /* replaces */
	assert_int_equal(t.prefix_n, 1);
	assert_true(route_lookup(&t, SY_STR("449"), &v, &len));
	assert_int_equal(v, 2);
	/* The empty prefix is a default route that matches with length 0. */
	assert_int_equal(route_add(&t, SY_STR("+"), 7), SY_OK);
	assert_true(route_lookup(&t, SY_STR("33"), &v, &len));
	assert_int_equal(v, 7);
	assert_int_equal(len, 0);
	route_trie_free(&t);
}

static void test_carriers(void **state)
{
	struct route_table rt;
	uint16_t ids[8];
	assert_int_equal(route_table_init(&rt, 0), SY_OK);
	/* Declaration order 0..3; priorities say 2 first, then 0 and 3 (tied,
	 * in declaration order), then 1. */
	assert_int_equal(route_table_add(&rt, SY_STR("44"), 0, 5), SY_OK);
	assert_int_equal(route_table_add(&rt, SY_STR("44"), 1, 9), SY_OK);
	assert_int_equal(route_table_add(&rt, SY_STR("+44"), 2, -1), SY_OK);
	assert_int_equal(route_table_add(&rt, SY_STR("44"), 3, 5), SY_OK);
	assert_int_equal(route_table_add(&rt, SY_STR("44"), 3, 5), SY_ERR_INVAL); /* already there */
	assert_int_equal(route_table_add(&rt, SY_STR("4420"), 1, 0), SY_OK);
	assert_int_equal(route_lookup_carriers(&rt, SY_STR("+447700900000"), ids, 8), 4);
	assert_int_equal(ids[0], 2);
	assert_int_equal(ids[1], 0);
	assert_int_equal(ids[2], 3);
	assert_int_equal(ids[3], 1);
	assert_int_equal(route_lookup_carriers(&rt, SY_STR("+447700900000"), ids, 2), 2);
	assert_int_equal(route_lookup_carriers(&rt, SY_STR("442071234567"), ids, 8), 1);
	assert_int_equal(ids[0], 1);
	assert_int_equal(route_lookup_carriers(&rt, SY_STR("+1212"), ids, 8), 0);
	for (uint16_t i = 10; i < 10 + ROUTE_SET_MAX; i++)
		assert_int_equal(route_table_add(&rt, SY_STR("1"), i, 0), SY_OK);
	assert_int_equal(route_table_add(&rt, SY_STR("1"), 99, 0), SY_ERR_FULL);
	assert_int_equal(route_table_add(&rt, SY_STR("1x"), 99, 0), SY_ERR_INVAL);
	route_table_free(&rt);
}

/* Reference: a sorted array of (prefix, value); the longest match is found
 * by probing every prefix length of the number with bsearch. */
struct ref {
	char digits[12];
	uint32_t value;
};

static int ref_cmp(const void *a, const void *b)
{
	return strcmp(((const struct ref *)a)->digits, ((const struct ref *)b)->digits);
}

static void random_digits(struct sy_rng *r, char *out, size_t n)
{
	for (size_t i = 0; i < n; i++)
		out[i] = (char)('0' + sy_rng_below(r, 10));
	out[n] = '\0';
}

static bool ref_lookup(const struct ref *refs, size_t n, const char *num, uint32_t *v, size_t *len)
{
	struct ref key;
	for (size_t l = strlen(num); l > 0; l--) {
		memcpy(key.digits, num, l);
		key.digits[l] = '\0';
		const struct ref *hit = bsearch(&key, refs, n, sizeof(*refs), ref_cmp);
		if (hit) {
			*v = hit->value;
			*len = l;
			return true;
		}
	}
	return false;
}

static void test_million(void **state)
{
	const size_t n = 1000000;
	struct ref *refs = malloc(n * sizeof(*refs));
	struct route_trie t;
	struct sy_rng r;
	assert_non_null(refs);
	assert_int_equal(route_trie_init(&t, 0), SY_OK);
	sy_rng_init(&r, 2024);
	for (size_t i = 0; i < n; i++) {
		random_digits(&r, refs[i].digits, 2 + sy_rng_below(&r, 9)); /* 2..10 digits */
		refs[i].value = (uint32_t)i;
		assert_int_equal(route_add(&t, sy_str_from(refs[i].digits), (uint32_t)i), SY_OK);
	}
	/* Duplicates: the trie keeps the last value added; so must the reference. */
	qsort(refs, n, sizeof(*refs), ref_cmp);
	size_t m = 0;
	for (size_t i = 0; i < n; i++) {
		if (m > 0 && strcmp(refs[m - 1].digits, refs[i].digits) == 0)
			refs[m - 1].value = SY_MAX(refs[m - 1].value, refs[i].value);
		else
			refs[m++] = refs[i];
	}
	assert_int_equal(t.prefix_n, m);
	assert_true(sizeof(struct route_node) * t.node_n / m < 200); /* bytes per prefix */
	for (int i = 0; i < 20000; i++) {
		char num[16];
		random_digits(&r, num, 11);
		uint32_t v1 = 0, v2 = 0;
		size_t l1 = 0, l2 = 0;
		bool f1 = route_lookup(&t, sy_str_from(num), &v1, &l1);
		assert_int_equal(f1, ref_lookup(refs, m, num, &v2, &l2));
		if (f1) {
			assert_int_equal(v1, v2);
			assert_int_equal(l1, l2);
		}
	}
	/* A true brute force over every prefix for a small sample. */
	for (int i = 0; i < 20; i++) {
		char num[16];
		random_digits(&r, num, 11);
		size_t best = 0;
		uint32_t bv = 0, v = 0;
		for (size_t k = 0; k < m; k++) {
			size_t l = strlen(refs[k].digits);
			if (l > best && strncmp(num, refs[k].digits, l) == 0)
				best = l, bv = refs[k].value;
		}
		size_t len = 0;
		assert_int_equal(route_lookup(&t, sy_str_from(num), &v, &len), best > 0);
		if (best) {
			assert_int_equal(v, bv);
			assert_int_equal(len, best);
		}
	}
	route_trie_free(&t);
	free(refs);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_longest_match), cmocka_unit_test(test_add_rules),
		cmocka_unit_test(test_carriers),      cmocka_unit_test(test_million),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
