/* test_htab.c: the chained hash table (core/htab.h): every linked key is
 * found and every removed one is not, across the doublings that keep the
 * bucket array about as large as the entries; the first bucket array is
 * small whatever size is announced; nodes under one key come back newest
 * first, before and after a doubling; a seeded table finds the same. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>

#include <cmocka.h>

#include "core/htab.h"

struct item {
	struct sy_hnode h;
	char key[24];
	uint32_t no;
};

static struct sy_str key_of(struct item *it, uint32_t i)
{
	int n = snprintf(it->key, sizeof(it->key), "k%u", i);
	return (struct sy_str){it->key, (size_t)n};
}

static struct item *find(struct sy_htab *t, const char *k)
{
	struct sy_hnode *h = sy_htab_find(t, sy_str_from(k));
	return h == NULL ? NULL : SY_CONTAINER_OF(h, struct item, h);
}

static void test_first_array_small(void **state)
{
	struct sy_htab t;
	assert_int_equal(sy_htab_init(&t, (uint64_t)1 << 24), SY_OK);
	assert_int_equal(sy_htab_buckets(&t), SY_HTAB_INIT_MAX);
	sy_htab_free(&t);
	assert_int_equal(sy_htab_init(&t, 3), SY_OK);
	assert_int_equal(sy_htab_buckets(&t), 16);
	sy_htab_free(&t);
	assert_int_equal(sy_htab_init(&t, 100), SY_OK);
	assert_int_equal(sy_htab_buckets(&t), 128);
	sy_htab_free(&t);
}

static void grow_find_remove(uint64_t seed)
{
	enum { N = 200000 };
	struct item *it = calloc(N, sizeof(*it));
	assert_non_null(it);
	struct sy_htab t;
	assert_int_equal(sy_htab_init_seeded(&t, 16, seed), SY_OK);
	for (uint32_t i = 0; i < N; i++) {
		it[i].no = i;
		sy_htab_insert(&t, &it[i].h, key_of(&it[i], i));
		/* load stays at most one entry per bucket (after this insert, at most two) */
		assert_true(t.count <= 2 * sy_htab_buckets(&t));
	}
	assert_int_equal(t.count, N);
	assert_true(sy_htab_buckets(&t) >= N / 2 && sy_htab_buckets(&t) <= 2 * (uint64_t)N);
	char k[24];
	for (uint32_t i = 0; i < N; i++) {
		snprintf(k, sizeof(k), "k%u", i);
		struct item *f = find(&t, k);
		assert_non_null(f);
		assert_int_equal(f->no, i);
	}
	assert_null(find(&t, "k200000"));
	for (uint32_t i = 0; i < N; i += 2)
		sy_htab_remove(&t, &it[i].h);
	assert_int_equal(t.count, N / 2);
	for (uint32_t i = 0; i < N; i++) {
		snprintf(k, sizeof(k), "k%u", i);
		struct item *f = find(&t, k);
		if (i % 2 == 0) {
			assert_null(f);
		} else {
			assert_non_null(f);
			assert_int_equal(f->no, i);
		}
	}
	sy_htab_free(&t);
	free(it);
}

static void test_grows_and_finds(void **state)
{
	grow_find_remove(SY_HTAB_SEED_FIXED);
	grow_find_remove(0x0123456789abcdefull);
}

/* Three nodes under "dup" with thousands of other keys between them, so
 * the table doubles while they are linked: newest first every time. */
static void test_repeated_key_order_kept(void **state)
{
	enum { N = 5000 };
	struct item *it = calloc(N, sizeof(*it));
	struct item dup[3];
	assert_non_null(it);
	struct sy_htab t;
	assert_int_equal(sy_htab_init(&t, 16), SY_OK);
	uint64_t first_buckets = sy_htab_buckets(&t);
	for (uint32_t d = 0; d < 3; d++) {
		for (uint32_t i = d * (N / 3); i < (d + 1) * (N / 3); i++)
			sy_htab_insert(&t, &it[i].h, key_of(&it[i], i));
		dup[d].no = d;
		memcpy(dup[d].key, "dup", 4);
		sy_htab_insert(&t, &dup[d].h, sy_str_from(dup[d].key));
		struct sy_hnode *h = sy_htab_find(&t, SY_STR("dup"));
		for (int32_t want = (int32_t)d; want >= 0; want--) {
			assert_non_null(h);
			assert_int_equal(SY_CONTAINER_OF(h, struct item, h)->no, (uint32_t)want);
			h = sy_htab_find_next(&t, h);
		}
		assert_null(h);
	}
	assert_true(sy_htab_buckets(&t) > first_buckets);
	sy_htab_remove(&t, &dup[1].h);
	struct sy_hnode *h = sy_htab_find(&t, SY_STR("dup"));
	assert_ptr_equal(h, &dup[2].h);
	assert_ptr_equal(sy_htab_find_next(&t, h), &dup[0].h);
	sy_htab_free(&t);
	free(it);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_first_array_small),
	    cmocka_unit_test(test_grows_and_finds),
	    cmocka_unit_test(test_repeated_key_order_kept),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
