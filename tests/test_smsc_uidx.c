/* test_smsc_uidx.c: the SMSC's receipt index (core/smpp/smsc_uidx.h):
 * every added value is found under its key and every removed one is not,
 * across the doublings that keep the load at most a half; values whose
 * hashes share a tag or a home are told apart by the caller's compare;
 * removal by backward shift leaves every other value reachable; the first
 * table is small whatever size is announced. The home is the tag's low
 * bits (the hash's bits 32..), so the tests choose those. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>

#include <cmocka.h>

#include "core/smpp/smsc_uidx.h"

#define N 20000u

/* The owner: a key and the hash it was added under, per value. */
static uint64_t hashes[N];
static uint32_t keys[N];

struct probe {
	uint32_t key;
};

static bool eq(const void *arg, uint32_t v)
{
	return keys[v] == ((const struct probe *)arg)->key;
}

static uint32_t find(const struct smsc_uidx *x, uint64_t h, uint32_t key)
{
	struct probe p = {key};
	return smsc_uidx_find(x, h, eq, &p);
}

static void test_first_table_small(void **state)
{
	(void)state;
	struct smsc_uidx x;
	assert_int_equal(smsc_uidx_init(&x, 1u << 24, 7), SY_OK);
	assert_int_equal(smsc_uidx_slots(&x), 4096);
	smsc_uidx_free(&x);
	assert_int_equal(smsc_uidx_init(&x, 3, 7), SY_OK);
	assert_int_equal(smsc_uidx_slots(&x), 16);
	smsc_uidx_free(&x);
}

/* Real hashes of keys "k<i>": add all, remove the odd ones, find the rest. */
static void test_grow_find_remove(void **state)
{
	(void)state;
	struct smsc_uidx x;
	assert_int_equal(smsc_uidx_init(&x, 4, 0x1234), SY_OK);
	char buf[24];
	for (uint32_t i = 0; i < N; i++) {
		int n = snprintf(buf, sizeof buf, "k%u", i);
		keys[i] = i;
		hashes[i] = smsc_uidx_hash(&x, (struct sy_str){buf, (size_t)n});
		assert_int_equal(smsc_uidx_insert(&x, hashes[i], i), SY_OK);
		assert_true((uint64_t)x.n * 2 <= (uint64_t)smsc_uidx_slots(&x));
	}
	assert_int_equal(x.n, N);
	for (uint32_t i = 0; i < N; i++)
		assert_int_equal(find(&x, hashes[i], i), i);
	for (uint32_t i = 1; i < N; i += 2)
		smsc_uidx_remove(&x, hashes[i], i);
	assert_int_equal(x.n, N / 2);
	for (uint32_t i = 0; i < N; i++)
		assert_int_equal(find(&x, hashes[i], i), i % 2 ? UINT32_MAX : i);
	smsc_uidx_free(&x);
}

/* Hashes chosen to collide: one home for all (a long cluster), and pairs
 * with the same tag and home; the compare tells them apart and removal in
 * any order keeps the cluster walkable. */
static void test_collisions(void **state)
{
	(void)state;
	struct smsc_uidx x;
	assert_int_equal(smsc_uidx_init(&x, 64, 1), SY_OK);
	const uint32_t n = 40;
	for (uint32_t i = 0; i < n; i++) {
		keys[i] = 1000 + i;
		/* home 5 for all; the tag repeats every 4 values */
		hashes[i] = ((uint64_t)((i % 4) << 16 | 5) << 32) | i;
		assert_int_equal(smsc_uidx_insert(&x, hashes[i], i), SY_OK);
	}
	for (uint32_t i = 0; i < n; i++)
		assert_int_equal(find(&x, hashes[i], 1000 + i), i);
	assert_int_equal(find(&x, hashes[0], 999), UINT32_MAX);
	/* remove from the middle, the front, the back */
	uint32_t order[] = {20, 0, 39, 1, 38, 10, 11, 12};
	for (size_t k = 0; k < SY_ARRAY_LEN(order); k++) {
		smsc_uidx_remove(&x, hashes[order[k]], order[k]);
		keys[order[k]] = 0;
	}
	for (uint32_t i = 0; i < n; i++) {
		bool gone = false;
		for (size_t k = 0; k < SY_ARRAY_LEN(order); k++)
			gone |= order[k] == i;
		assert_int_equal(find(&x, hashes[i], 1000 + i), gone ? UINT32_MAX : i);
	}
	/* a cluster that wraps past the last slot */
	uint32_t last = smsc_uidx_slots(&x) - 1;
	for (uint32_t i = 100; i < 106; i++) {
		keys[i] = 5000 + i;
		hashes[i] = ((uint64_t)(i << 16 | last) << 32) | i;
		assert_int_equal(smsc_uidx_insert(&x, hashes[i], i), SY_OK);
	}
	smsc_uidx_remove(&x, hashes[100], 100);
	smsc_uidx_remove(&x, hashes[103], 103);
	for (uint32_t i = 100; i < 106; i++)
		assert_int_equal(find(&x, hashes[i], 5000 + i), i == 100 || i == 103 ? UINT32_MAX : i);
	smsc_uidx_free(&x);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_first_table_small),
	    cmocka_unit_test(test_grow_find_remove),
	    cmocka_unit_test(test_collisions),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
