/* test_pool.c: slab pools (core/pool.h): objects come out in index order,
 * zeroed, at stable addresses across slab boundaries; the maximum holds
 * (including a last, partial slab); nothing is allocated before use; and
 * an owner's LIFO free list over a pool hands out slots in the same order
 * as the same free list threaded through one array up front. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>

#include <cmocka.h>

#include "core/pool.h"
#include "core/rng.h"

struct obj {
	uint32_t idx, next_free;
	uint64_t payload[5];
};

static void test_grow_in_order_zeroed_stable(void **state)
{
	struct sy_pool p;
	assert_int_equal(sy_pool_init(&p, sizeof(struct obj), 5000), SY_OK);
	assert_int_equal(sy_pool_used(&p), 0);
	assert_int_equal(p.slab_bytes, 0); /* nothing before the first object */
	struct obj *first[5000];
	for (uint32_t i = 0; i < 5000; i++) {
		uint32_t idx = UINT32_MAX;
		struct obj *o = sy_pool_grow(&p, &idx);
		assert_non_null(o);
		assert_int_equal(idx, i);
		assert_int_equal(o->idx | o->payload[0] | o->payload[4], 0);
		o->idx = i;
		o->payload[4] = ~(uint64_t)i;
		first[i] = o;
	}
	uint32_t idx;
	assert_null(sy_pool_grow(&p, &idx)); /* max reached, partial last slab included */
	for (uint32_t i = 0; i < 5000; i++) {
		struct obj *o = sy_pool_at(&p, i);
		assert_ptr_equal(o, first[i]);
		assert_int_equal(o->idx, i);
		assert_int_equal(o->payload[4], ~(uint64_t)i);
	}
	assert_true(p.slab_bytes >= 5000 * sizeof(struct obj));
	assert_true(p.slab_bytes < 5000 * sizeof(struct obj) + (1u << p.shift) * sizeof(struct obj));
	sy_pool_free(&p);
}

static void test_slab_is_bounded(void **state)
{
	struct sy_pool p;
	/* A big object: at least 16 per slab even if that exceeds the byte target. */
	assert_int_equal(sy_pool_init(&p, 100000, 40), SY_OK);
	assert_int_equal(p.shift, 4);
	assert_int_equal(p.slab_n, 3);
	sy_pool_free(&p);
	assert_int_equal(sy_pool_init(&p, 16, 1000000), SY_OK);
	assert_true(((size_t)1 << p.shift) * 16 <= SY_POOL_SLAB_BYTES);
	sy_pool_free(&p);
}

/* The reference: one array, every slot on a LIFO free list from the start. */
struct ref {
	struct obj *a;
	uint32_t head;
};

static uint32_t ref_alloc(struct ref *r)
{
	uint32_t i = r->head;
	if (i != UINT32_MAX)
		r->head = r->a[i].next_free;
	return i;
}

static uint32_t pool_alloc(struct sy_pool *p, uint32_t *head)
{
	uint32_t i = *head;
	if (i != UINT32_MAX) {
		*head = ((struct obj *)sy_pool_at(p, i))->next_free;
		return i;
	}
	return sy_pool_grow(p, &i) != NULL ? i : UINT32_MAX;
}

static void test_same_order_as_array(void **state)
{
	enum { MAX = 3000 };
	struct ref r = {.a = calloc(MAX, sizeof(struct obj)), .head = 0};
	assert_non_null(r.a);
	for (uint32_t i = 0; i < MAX; i++)
		r.a[i].next_free = i + 1 < MAX ? i + 1 : UINT32_MAX;
	struct sy_pool p;
	uint32_t head = UINT32_MAX, live[MAX], live_n = 0;
	assert_int_equal(sy_pool_init(&p, sizeof(struct obj), MAX), SY_OK);
	struct sy_rng rng;
	sy_rng_init(&rng, 7);
	for (int step = 0; step < 200000; step++) {
		if (live_n > 0 && sy_rng_below(&rng, 100) < 48) {
			uint32_t k = (uint32_t)sy_rng_below(&rng, live_n), i = live[k];
			live[k] = live[--live_n];
			r.a[i].next_free = r.head;
			r.head = i;
			((struct obj *)sy_pool_at(&p, i))->next_free = head;
			head = i;
		} else {
			uint32_t want = ref_alloc(&r), got = pool_alloc(&p, &head);
			assert_int_equal(got, want);
			if (got != UINT32_MAX)
				live[live_n++] = got;
		}
	}
	assert_true(sy_pool_used(&p) <= MAX);
	sy_pool_free(&p);
	free(r.a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_grow_in_order_zeroed_stable),
	    cmocka_unit_test(test_slab_is_bounded),
	    cmocka_unit_test(test_same_order_as_array),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
