/* test_fraud_state.c: the bounded state under core/fraud/ (fwin, cms, hll,
 * ftab) at hand-computed times, at its edges (window boundaries, counter
 * saturation, time going backwards, a full table) and for its stated error
 * bounds, with fixed seeds (the same seed gives the same results). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <math.h>
#include <cmocka.h>

#include "core/fraud/cms.h"
#include "core/fraud/ftab.h"
#include "core/fraud/fwin.h"
#include "core/fraud/hll.h"
#include "core/fraud/mix.h"

#define S  SY_NS_PER_S
#define MS SY_NS_PER_MS

/* A small deterministic generator for the test streams (xorshift64*). */
static uint64_t rng_next(uint64_t *s)
{
	*s ^= *s >> 12, *s ^= *s << 25, *s ^= *s >> 27;
	return *s * 0x2545f4914f6cdd1dull;
}

/* ---- fwin ---- */

struct win10 {
	struct fraud_fwin_geom g;
	struct fraud_fwin *w;
};

/* W = 10 s in 10 buckets of 1 s. */
static struct win10 win10(void)
{
	struct win10 x;
	assert_int_equal(fraud_fwin_geom_init(&x.g, 10 * S, 10), SY_OK);
	x.w = calloc(1, fraud_fwin_bytes(10));
	assert_non_null(x.w);
	return x;
}

static void test_fwin_geometry(void **state)
{
	struct fraud_fwin_geom g;
	assert_int_equal(fraud_fwin_geom_init(&g, 10 * S, 3), SY_ERR_INVAL); /* not a multiple */
	assert_int_equal(fraud_fwin_geom_init(&g, 10 * S, 0), SY_ERR_INVAL);
	assert_int_equal(fraud_fwin_geom_init(&g, 0, 1), SY_ERR_INVAL);
	assert_int_equal(fraud_fwin_geom_init(&g, 4096 * S, FRAUD_FWIN_BUCKETS_MAX + 1), SY_ERR_INVAL);
	assert_int_equal(fraud_fwin_geom_init(&g, 60 * S, 6), SY_OK);
	assert_int_equal(g.bucket_ns, 10 * S);
	assert_int_equal(fraud_fwin_bytes(8), 16 + 64);
}

/* Adds at t = 0, W - 1, W, W + bucket: each leaves exactly when its bucket
 * is B buckets old. */
static void test_fwin_boundaries(void **state)
{
	struct win10 x = win10();
	const uint64_t W = 10 * S;
	assert_int_equal(fraud_fwin_sum(&x.g, x.w, 0), 0);
	assert_int_equal(fraud_fwin_add(&x.g, x.w, 0, 1), 1);
	assert_int_equal(fraud_fwin_sum(&x.g, x.w, W - 1), 1); /* bucket 9: 0 .. 9 */
	assert_int_equal(fraud_fwin_sum(&x.g, x.w, W), 0);     /* bucket 10: 1 .. 10 */
	assert_int_equal(fraud_fwin_add(&x.g, x.w, W - 1, 2), 3);
	assert_int_equal(fraud_fwin_add(&x.g, x.w, W, 4), 6); /* t = 0 left */
	assert_int_equal(fraud_fwin_add(&x.g, x.w, W + S, 8), 14);
	assert_int_equal(fraud_fwin_sum(&x.g, x.w, 2 * W - S - 1), 14); /* bucket 18 */
	assert_int_equal(fraud_fwin_sum(&x.g, x.w, 2 * W - S), 12);	/* bucket 19: W - 1 left */
	assert_int_equal(fraud_fwin_sum(&x.g, x.w, 2 * W), 8);		/* W left */
	assert_int_equal(fraud_fwin_sum(&x.g, x.w, 2 * W + S), 0);	/* W + S left */
	/* Inside a bucket: added at 0.5 s, gone with bucket 0 at t = W (9.5 s later). */
	fraud_fwin_reset(&x.g, x.w);
	fraud_fwin_add(&x.g, x.w, 500 * MS, 7);
	assert_int_equal(fraud_fwin_sum(&x.g, x.w, W - 1), 7);
	assert_int_equal(fraud_fwin_sum(&x.g, x.w, W), 0);
	/* sum does not change the window: a later add sees the same. */
	assert_int_equal(fraud_fwin_add(&x.g, x.w, W - 1, 1), 8);
	/* A jump far ahead empties it. */
	assert_int_equal(fraud_fwin_add(&x.g, x.w, 1000 * W + 3, 5), 5);
	free(x.w);
}

static void test_fwin_saturation(void **state)
{
	struct win10 x = win10();
	assert_int_equal(fraud_fwin_add(&x.g, x.w, 0, UINT64_MAX - 1), UINT64_MAX - 1);
	assert_true(fraud_fwin_add(&x.g, x.w, 0, 5) == UINT64_MAX); /* the bucket saturates */
	assert_true(fraud_fwin_add(&x.g, x.w, S, 3) == UINT64_MAX); /* and the sum */
	assert_true(fraud_fwin_sum(&x.g, x.w, 9 * S) == UINT64_MAX);
	/* The saturated bucket leaves: the sum is exact again (3 + 2). */
	assert_int_equal(fraud_fwin_add(&x.g, x.w, 10 * S, 2), 5);
	assert_int_equal(fraud_fwin_sum(&x.g, x.w, 11 * S), 2);
	free(x.w);
}

/* A now before the newest bucket seen counts in that bucket; nothing is
 * lost or counted twice, and the window never moves back. */
static void test_fwin_backwards(void **state)
{
	struct win10 x = win10();
	fraud_fwin_add(&x.g, x.w, 5 * S, 1);
	assert_int_equal(fraud_fwin_add(&x.g, x.w, 3 * S, 1), 2); /* taken as 5 s */
	assert_int_equal(fraud_fwin_sum(&x.g, x.w, 0), 2);
	assert_int_equal(fraud_fwin_sum(&x.g, x.w, 15 * S - 1), 2);
	assert_int_equal(fraud_fwin_sum(&x.g, x.w, 15 * S), 0); /* both left with bucket 5 */
	free(x.w);
}

/* Against a brute-force list of (t, amount) under random steps, some back. */
static void test_fwin_against_list(void **state)
{
	struct fraud_fwin_geom g;
	assert_int_equal(fraud_fwin_geom_init(&g, 700 * MS, 7), SY_OK);
	struct fraud_fwin *w = calloc(1, fraud_fwin_bytes(7));
	enum { N = 3000 };
	static uint64_t bt[N], amt[N];
	uint64_t s = 42, now = 0, newest = 0;
	for (int i = 0; i < N; i++) {
		uint64_t r = rng_next(&s);
		now = (r & 7) == 0 && now > 50 * MS ? now - 50 * MS : now + (r >> 40) % (300 * MS);
		uint64_t k = now / g.bucket_ns;
		newest = k > newest ? k : newest;
		bt[i] = newest, amt[i] = r % 1000;
		uint64_t got = fraud_fwin_add(&g, w, now, amt[i]), want = 0;
		for (int j = 0; j <= i; j++)
			want += newest - bt[j] < g.buckets ? amt[j] : 0;
		assert_int_equal(got, want);
	}
	free(w);
}

/* ---- cms ---- */

static struct fraud_cms *cms(uint32_t d, uint32_t w, uint64_t seed)
{
	struct fraud_cms *c;
	struct fraud_cms_cfg cfg = {.depth = d, .width = w, .epoch_ns = S, .seed = seed};
	assert_int_equal(fraud_cms_create(&cfg, &c), SY_OK);
	return c;
}

static void test_cms_window(void **state)
{
	struct fraud_cms *c;
	struct fraud_cms_cfg bad = {.depth = 4, .width = 100, .epoch_ns = S};
	assert_int_equal(fraud_cms_create(&bad, &c), SY_ERR_INVAL); /* width not a power of two */
	c = cms(4, 1024, 7);
	assert_int_equal(fraud_cms_add(c, 11, 500 * MS, 3), 3);
	assert_int_equal(fraud_cms_add(c, 11, 1500 * MS, 2), 5); /* previous + current epoch */
	assert_int_equal(fraud_cms_estimate(c, 11, 2 * S - 1), 5);
	assert_int_equal(fraud_cms_estimate(c, 11, 2 * S), 2); /* epoch 0 left */
	assert_int_equal(fraud_cms_estimate(c, 11, 3 * S), 0);
	assert_int_equal(fraud_cms_total(c, 2 * S), 2);
	/* Backwards: counted in the newest epoch (1). */
	assert_int_equal(fraud_cms_add(c, 11, 0, 1), 6);
	assert_int_equal(fraud_cms_estimate(c, 11, 2 * S), 3);
	/* Saturation at UINT32_MAX per counter: the estimate stays at the top. */
	fraud_cms_add(c, 12, 10 * S, UINT32_MAX);
	assert_true(fraud_cms_add(c, 12, 10 * S, 5) == UINT32_MAX);
	fraud_cms_destroy(c);
}

/* A skewed stream (key k drawn with weight ~ 1/k over 5,000 keys) into a
 * narrow sketch: no key is under-counted, and few exceed the e/w x N bound
 * (each one may with probability e^-d). */
static void test_cms_skewed(void **state)
{
	enum { KEYS = 5000, EVENTS = 200000 };
	const uint32_t d = 4, w = 256;
	struct fraud_cms *c = cms(d, w, 99);
	static uint64_t truth[KEYS];
	memset(truth, 0, sizeof(truth));
	uint64_t s = 5;
	for (int i = 0; i < EVENTS; i++) {
		uint64_t k = (uint64_t)(exp((double)(rng_next(&s) % 100000) / 100000.0 * log(KEYS)) - 1);
		truth[k]++;
		fraud_cms_add(c, k * 0x9e3779b97f4a7c15ull, 0, 1);
	}
	double bound = exp(1.0) / w * EVENTS;
	uint32_t over = 0;
	for (uint64_t k = 0; k < KEYS; k++) {
		uint64_t e = fraud_cms_estimate(c, k * 0x9e3779b97f4a7c15ull, 0);
		assert_true(e >= truth[k]);
		over += (double)(e - truth[k]) > bound;
	}
	assert_int_equal(fraud_cms_total(c, 0), EVENTS);
	assert_true(over <= KEYS * exp(-(double)d) * 1.5); /* expected <= 92 */
	printf("cms d=%u w=%u: %u of %u keys over the bound %.0f\n", d, w, over, KEYS, bound);
	fraud_cms_destroy(c);
}

static void test_cms_seed(void **state)
{
	struct fraud_cms *a = cms(2, 16, 1), *b = cms(2, 16, 1), *c = cms(2, 16, 2);
	uint64_t differ = 0;
	for (uint64_t k = 0; k < 200; k++) {
		fraud_cms_add(a, k, 0, (uint32_t)k);
		fraud_cms_add(b, k, 0, (uint32_t)k);
		fraud_cms_add(c, k, 0, (uint32_t)k);
	}
	for (uint64_t k = 0; k < 200; k++) {
		assert_int_equal(fraud_cms_estimate(a, k, 0), fraud_cms_estimate(b, k, 0));
		differ += fraud_cms_estimate(a, k, 0) != fraud_cms_estimate(c, k, 0);
	}
	assert_true(differ > 0); /* another seed, other collisions */
	fraud_cms_destroy(a), fraud_cms_destroy(b), fraud_cms_destroy(c);
}

/* ---- hll ---- */

static struct fraud_hll *hll(uint32_t p)
{
	struct fraud_hll *h = malloc(fraud_hll_bytes(p));
	assert_int_equal(fraud_hll_init(h, p), SY_OK);
	return h;
}

/* n distinct keys from `first` within 3 sigma (sigma = 1.04 / sqrt(m)). */
static void hll_within(uint32_t p, uint64_t first, uint64_t n)
{
	struct fraud_hll *h = hll(p);
	for (uint64_t i = 0; i < n; i++) {
		fraud_hll_add(h, first + i, 3);
		fraud_hll_add(h, first + i, 3); /* duplicates do not count */
	}
	double e = (double)fraud_hll_estimate(h), sigma = 1.04 / sqrt((double)(1u << p));
	printf("hll p=%u n=%llu: %.0f (%+.2f%%, 3 sigma %.2f%%)\n", p, (unsigned long long)n, e,
	       100 * (e - (double)n) / (double)n, 300 * sigma);
	assert_true(fabs(e - (double)n) <= 3 * sigma * (double)n);
	free(h);
}

static void test_hll_accuracy(void **state)
{
	struct fraud_hll h0;
	assert_int_equal(fraud_hll_init(&h0, 3), SY_ERR_INVAL);
	struct fraud_hll *h = hll(10);
	assert_int_equal(fraud_hll_estimate(h), 0);
	free(h);
	hll_within(10, 1, 100); /* linear counting */
	hll_within(10, 1000, 10000);
	hll_within(12, 7, 10000);
	hll_within(12, 1 << 30, 100000);
	hll_within(12, 5ull << 40, 1000000);
	hll_within(14, 9ull << 50, 1000000);
}

static void test_hll_merge(void **state)
{
	struct fraud_hll *a = hll(11), *b = hll(11), *c = hll(10);
	for (uint64_t i = 0; i < 30000; i++)
		fraud_hll_add(i < 20000 ? a : b, i, 1); /* a: 0..19999, b: 20000..29999 */
	for (uint64_t i = 10000; i < 20000; i++)
		fraud_hll_add(b, i, 1); /* b also 10000..19999: overlap */
	assert_int_equal(fraud_hll_merge(a, c), SY_ERR_INVAL);
	/* The running sum kept by add equals the one merge recomputes. */
	struct fraud_hll *e0 = hll(11);
	assert_int_equal(fraud_hll_merge(e0, b), SY_OK);
	assert_int_equal(fraud_hll_estimate(e0), fraud_hll_estimate(b));
	assert_true(e0->sum == b->sum && e0->zeros == b->zeros);
	free(e0);
	assert_int_equal(fraud_hll_merge(a, b), SY_OK);
	double e = (double)fraud_hll_estimate(a), sigma = 1.04 / sqrt(2048.0);
	assert_true(fabs(e - 30000) <= 3 * sigma * 30000);
	free(a), free(b), free(c);
}

static struct fraud_hllw *hllw(uint64_t seed)
{
	struct fraud_hllw *w;
	struct fraud_hllw_cfg cfg = {.p = 10, .n = 4, .epoch_ns = 900 * S, .seed = seed}; /* an hour */
	assert_int_equal(fraud_hllw_create(&cfg, &w), SY_OK);
	return w;
}

static bool near(uint64_t e, uint64_t n)
{
	return fabs((double)e - (double)n) <= 3 * 1.04 / 32 * (double)n;
}

static void test_hllw_forgets(void **state)
{
	const uint64_t E = 900 * S;
	struct fraud_hllw *w = hllw(8), *v = hllw(8);
	for (uint64_t i = 0; i < 1000; i++)
		fraud_hllw_add(w, i, 10 * S); /* epoch 0 */
	for (uint64_t i = 0; i < 1000; i++)
		fraud_hllw_add(w, i, E + 1); /* epoch 1, the same keys */
	for (uint64_t i = 0; i < 2000; i++)
		fraud_hllw_add(w, 50000 + i, 2 * E); /* epoch 2, new keys */
	/* In the newest epoch the window's own sketch answers (O(1)): the same
	 * registers as one plain sketch fed every key. */
	struct fraud_hll *all = hll(10);
	for (uint64_t i = 0; i < 1000; i++)
		fraud_hll_add(all, i, 8);
	for (uint64_t i = 0; i < 2000; i++)
		fraud_hll_add(all, 50000 + i, 8);
	assert_int_equal(fraud_hllw_estimate(w, 3 * E - 1), fraud_hll_estimate(all));
	free(all);
	assert_true(near(fraud_hllw_estimate(w, 3 * E), 3000));
	assert_true(near(fraud_hllw_estimate(w, 4 * E - 1), 3000));
	assert_true(near(fraud_hllw_estimate(w, 4 * E), 3000)); /* epoch 0 left, its keys were in 1 */
	assert_true(near(fraud_hllw_estimate(w, 5 * E), 2000)); /* epoch 1 left */
	assert_true(near(fraud_hllw_estimate(w, 6 * E - 1), 2000));
	assert_int_equal(fraud_hllw_estimate(w, 6 * E), 0); /* epoch 2 left */
	/* Backwards: an add at 0 counts in the newest epoch (2). */
	fraud_hllw_add(w, 777777, 0);
	assert_int_equal(fraud_hllw_estimate(w, 5 * E), fraud_hllw_estimate(w, 5 * E));
	assert_true(fraud_hllw_estimate(w, 5 * E) >= 2000 * 0.9);
	/* A jump far ahead: only the new epoch. */
	fraud_hllw_add(w, 1, 100 * E);
	assert_int_equal(fraud_hllw_estimate(w, 100 * E), 1);
	/* Same seed, same adds: the same estimate. */
	for (uint64_t i = 0; i < 5000; i++)
		fraud_hllw_add(v, i * 31, (i % 4) * E);
	struct fraud_hllw *u = hllw(8);
	for (uint64_t i = 0; i < 5000; i++)
		fraud_hllw_add(u, i * 31, (i % 4) * E);
	assert_int_equal(fraud_hllw_estimate(u, 3 * E), fraud_hllw_estimate(v, 3 * E));
	fraud_hllw_destroy(w), fraud_hllw_destroy(v), fraud_hllw_destroy(u);
}

/* ---- ftab ---- */

struct acct {
	uint64_t calls;
	uint64_t spend;
	uint8_t rest[48];
};

static struct fraud_ftab *ftab(uint64_t keys, uint64_t seed)
{
	struct fraud_ftab *t;
	struct fraud_ftab_cfg cfg = {.keys = keys, .blob = sizeof(struct acct), .seed = seed};
	assert_int_equal(fraud_ftab_create(&cfg, &t), SY_OK);
	return t;
}

static void test_ftab_basic(void **state)
{
	struct fraud_ftab *t = ftab(100, 1);
	bool fresh;
	uint64_t k = fraud_ftab_key(t, SY_STR("acct-1"));
	assert_null(fraud_ftab_find(t, k));
	struct acct *a = fraud_ftab_get(t, k, 1, &fresh);
	assert_true(fresh);
	assert_int_equal(a->calls, 0);
	a->calls = 5;
	assert_ptr_equal(fraud_ftab_get(t, k, 2, &fresh), a);
	assert_false(fresh);
	assert_ptr_equal(fraud_ftab_find(t, k), a);
	assert_null(fraud_ftab_find(t, fraud_ftab_key(t, SY_STR("acct-2"))));
	struct acct *z = fraud_ftab_get(t, 0, 3, NULL); /* key 0 is usable (as 1) */
	assert_ptr_equal(fraud_ftab_find(t, 0), z);
	assert_int_equal(fraud_ftab_stats(t)->tracked, 2);
	assert_true(fraud_ftab_del(t, k));
	assert_false(fraud_ftab_del(t, k));
	assert_null(fraud_ftab_find(t, k));
	a = fraud_ftab_get(t, k, 4, &fresh); /* back, zeroed */
	assert_true(fresh);
	assert_int_equal(a->calls, 0);
	assert_int_equal(fraud_ftab_stats(t)->tracked, 2);
	assert_int_equal(fraud_ftab_stats(t)->evicted, 0);
	fraud_ftab_destroy(t);
}

/* A table for 8 keys (16 slots) fed 1,000: it never grows, evicts the
 * least recently touched, and a key touched after every insert survives. */
static void test_ftab_full(void **state)
{
	struct fraud_ftab *t = ftab(8, 2);
	size_t bytes = fraud_ftab_bytes(t);
	uint64_t hot = 0xabcdef, first = 1000;
	struct acct *h = fraud_ftab_get(t, hot, 0, NULL);
	h->calls = 42;
	fraud_ftab_get(t, first, 0, NULL);
	for (uint64_t i = 1; i <= 1000; i++) {
		bool fresh;
		fraud_ftab_get(t, 5000 + i, 2 * i, &fresh);
		assert_true(fresh);
		assert_non_null(fraud_ftab_find(t, 5000 + i)); /* the newest is always there */
		fraud_ftab_get(t, hot, 2 * i + 1, NULL);
	}
	const struct fraud_ftab_stats *st = fraud_ftab_stats(t);
	assert_true(st->tracked <= 16);
	assert_int_equal(st->inserted, 1002);
	assert_int_equal(st->evicted, st->inserted - st->tracked);
	assert_ptr_equal(fraud_ftab_find(t, hot), h);
	assert_int_equal(h->calls, 42);
	assert_null(fraud_ftab_find(t, first)); /* never touched again: gone */
	assert_int_equal(fraud_ftab_bytes(t), bytes);
	fraud_ftab_destroy(t);
}

/* A million accounts of 64 bytes: 2^21 slots of 80 bytes, under 1 GiB. */
static void test_ftab_million(void **state)
{
	struct fraud_ftab *t = ftab(1000000, 3);
	size_t bytes = fraud_ftab_bytes(t);
	assert_true(bytes >= (2u << 20) * 80u && bytes < (2u << 20) * 80u + 4096);
	assert_true(bytes < (1u << 30) / 4);
	for (uint64_t i = 0; i < 1000000; i++)
		((struct acct *)fraud_ftab_get(t, fraud_mix64(i), i, NULL))->calls = i;
	const struct fraud_ftab_stats *st = fraud_ftab_stats(t);
	printf("ftab 1M keys: %zu bytes (%.0f per key), %llu evicted\n", bytes, (double)bytes / 1e6,
	       (unsigned long long)st->evicted);
	assert_true(st->evicted < 1000); /* at 48% load both windows full is rare (63 seen) */
	uint64_t found = 0;
	for (uint64_t i = 0; i < 1000000; i++) {
		struct acct *a = fraud_ftab_find(t, fraud_mix64(i));
		found += a != NULL && a->calls == i;
	}
	assert_int_equal(found, st->tracked);
	fraud_ftab_destroy(t);
}

static void test_ftab_determinism(void **state)
{
	struct fraud_ftab *a = ftab(64, 9), *b = ftab(64, 9);
	for (uint64_t i = 0; i < 5000; i++) {
		fraud_ftab_get(a, i * 7919, i, NULL);
		fraud_ftab_get(b, i * 7919, i, NULL);
	}
	assert_int_equal(fraud_ftab_stats(a)->evicted, fraud_ftab_stats(b)->evicted);
	for (uint64_t i = 0; i < 5000; i++)
		assert_true((fraud_ftab_find(a, i * 7919) == NULL) == (fraud_ftab_find(b, i * 7919) == NULL));
	fraud_ftab_destroy(a), fraud_ftab_destroy(b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_fwin_geometry),     cmocka_unit_test(test_fwin_boundaries),
	    cmocka_unit_test(test_fwin_saturation),   cmocka_unit_test(test_fwin_backwards),
	    cmocka_unit_test(test_fwin_against_list), cmocka_unit_test(test_cms_window),
	    cmocka_unit_test(test_cms_skewed),	      cmocka_unit_test(test_cms_seed),
	    cmocka_unit_test(test_hll_accuracy),      cmocka_unit_test(test_hll_merge),
	    cmocka_unit_test(test_hllw_forgets),      cmocka_unit_test(test_ftab_basic),
	    cmocka_unit_test(test_ftab_full),	      cmocka_unit_test(test_ftab_million),
	    cmocka_unit_test(test_ftab_determinism),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
