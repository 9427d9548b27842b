/* test_fraud_wangiri.c: the Wangiri detector (core/fraud/wangiri.h) at
 * hand-computed times: what counts as short, the flood threshold in calls
 * and in distinct callees, the window's edges (60 s in 12 buckets of 5 s),
 * callback protection's expiry and extension, short numbers, a full range
 * table and a full protection table. Fixed seed: the same run every time. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "core/fraud/wangiri.h"

#define S    SY_NS_PER_S
#define MIN  (60 * S)
#define HOUR (3600 * S)
#define SEED 0x1234567890abcdefull

/* Flood: more than 5 short calls to at least 3 callees in 60 s; short:
 * under 5 s; callback protection 1 h. */
static struct fraud_wangiri_cfg cfg_small(void)
{
	return (struct fraud_wangiri_cfg){
	    .on = true,
	    .source_digits = 8,
	    .short_ns = 5 * S,
	    .flood = {.max = 5, .window_ns = 60 * S, .action = FRAUD_BLOCK},
	    .distinct_min = 3,
	    .callback_ns = HOUR,
	    .callback = FRAUD_FLAG,
	    .ranges_max = 64,
	};
}

static struct fraud_wangiri *make(const struct fraud_wangiri_cfg *c)
{
	struct fraud_wangiri *w = NULL;
	assert_int_equal(fraud_wangiri_create(c, SEED, &w), SY_OK);
	return w;
}

static const struct fraud_call_end unanswered = {.answered = false, .by_caller = true, .ring_ns = 2 * S};

/* A short call from caller (range "37259123" unless given) to callee n. */
static void ring(struct fraud_wangiri *w, const char *caller, unsigned n, uint64_t now)
{
	char to[24];
	snprintf(to, sizeof(to), "4420700%05u", n);
	fraud_wangiri_call_end(w, sy_str_from(caller), sy_str_from(to), &unanswered, now);
}

#define SRC "372591230001"

static enum fraud_action inbound(struct fraud_wangiri *w, const char *caller, uint64_t now, char *why)
{
	why[0] = 0;
	return fraud_wangiri_inbound(w, sy_str_from(caller), now, why, FRAUD_REASON_MAX);
}

static enum fraud_action callback(struct fraud_wangiri *w, const char *callee, uint64_t now, char *why)
{
	why[0] = 0;
	return fraud_wangiri_callback(w, sy_str_from(callee), now, why, FRAUD_REASON_MAX);
}

/* Five short calls to five callees are not more than 5; the sixth floods:
 * new calls from the range are blocked, calls to it flagged. */
static void test_flood_threshold(void **state)
{
	struct fraud_wangiri_cfg c = cfg_small();
	struct fraud_wangiri *w = make(&c);
	char why[FRAUD_REASON_MAX];
	for (unsigned i = 0; i < 5; i++)
		ring(w, SRC, i, 10 * S + i);
	assert_int_equal(inbound(w, "372591239999", 11 * S, why), FRAUD_ALLOW);
	assert_int_equal(callback(w, "372591230001", 11 * S, why), FRAUD_ALLOW);
	assert_int_equal(fraud_wangiri_protected(w, 11 * S), 0);
	ring(w, "372591237777", 5, 12 * S); /* another caller of the same range */
	assert_int_equal(inbound(w, "372591239999", 12 * S, why), FRAUD_BLOCK);
	assert_string_equal(why, "wangiri.flood: 6 short calls in 60s from 37259123 to 3+ numbers");
	assert_int_equal(inbound(w, "372591249999", 12 * S, why), FRAUD_ALLOW); /* the next range */
	assert_string_equal(why, "");
	assert_int_equal(callback(w, "37259123555", 12 * S + 4 * MIN, why), FRAUD_FLAG);
	assert_string_equal(why, "wangiri.callback: +37259123... flooded us 4m ago (6 short calls to 3+ numbers)");
	assert_int_equal(fraud_wangiri_protected(w, 13 * S), 1);
	fraud_wangiri_destroy(w);
}

/* Only short calls count: unanswered within short_ns, or answered for less. */
static void test_what_is_short(void **state)
{
	struct fraud_wangiri_cfg c = cfg_small();
	struct fraud_wangiri *w = make(&c);
	char why[FRAUD_REASON_MAX];
	struct fraud_call_end not_short[] = {
	    {.answered = false, .ring_ns = 5 * S},			  /* rang exactly short_ns */
	    {.answered = false, .ring_ns = 30 * S},			  /* a normal unanswered call */
	    {.answered = true, .ring_ns = 1 * S, .duration_ns = 5 * S},	  /* talked exactly short_ns */
	    {.answered = true, .ring_ns = 1 * S, .duration_ns = 120 * S}, /* a normal call */
	};
	char to[24];
	for (unsigned i = 0; i < 40; i++) { /* 10 of each to 40 callees: any one counted would flood */
		snprintf(to, sizeof(to), "4420700%05u", i);
		fraud_wangiri_call_end(w, SY_STR(SRC), sy_str_from(to), &not_short[i / 10], S + i);
		if (i % 10 == 9)
			assert_int_equal(inbound(w, SRC, S + i, why), FRAUD_ALLOW);
	}
	assert_int_equal(inbound(w, SRC, 2 * S, why), FRAUD_ALLOW);
	struct fraud_call_end is_short[] = {
	    {.answered = false, .ring_ns = 5 * S - 1},
	    {.answered = true, .ring_ns = 4 * S, .duration_ns = 5 * S - 1},
	    {.answered = false, .ring_ns = 0}, /* refused at once */
	};
	for (unsigned i = 0; i < 6; i++) {
		snprintf(to, sizeof(to), "4420700%05u", i);
		fraud_wangiri_call_end(w, SY_STR(SRC), sy_str_from(to), &is_short[i % 3], 3 * S);
	}
	assert_int_equal(inbound(w, SRC, 3 * S, why), FRAUD_BLOCK);
	fraud_wangiri_destroy(w);
}

/* A hundred short calls to one callee are one callee: no flood. Two more
 * callees make three: a flood. */
static void test_one_callee_no_flood(void **state)
{
	struct fraud_wangiri_cfg c = cfg_small();
	struct fraud_wangiri *w = make(&c);
	char why[FRAUD_REASON_MAX];
	for (unsigned i = 0; i < 100; i++)
		ring(w, SRC, 7, S + i * 100000000ull);
	assert_int_equal(inbound(w, SRC, 11 * S, why), FRAUD_ALLOW);
	assert_int_equal(fraud_wangiri_protected(w, 11 * S), 0);
	ring(w, SRC, 8, 12 * S);
	assert_int_equal(inbound(w, SRC, 12 * S, why), FRAUD_ALLOW); /* 2 callees */
	ring(w, SRC, 9, 13 * S);
	assert_int_equal(inbound(w, SRC, 13 * S, why), FRAUD_BLOCK);
	assert_string_equal(why, "wangiri.flood: 102 short calls in 60s from 37259123 to 3+ numbers");
	fraud_wangiri_destroy(w);
}

/* The window: 12 buckets of 5 s. Calls at t = 0 are counted while
 * now < 60 s and gone at exactly 60 s; the callees leave with them. */
static void test_window_edges(void **state)
{
	struct fraud_wangiri_cfg c = cfg_small();
	struct fraud_wangiri *w = make(&c);
	char why[FRAUD_REASON_MAX];
	ring(w, SRC, 1, 0);
	ring(w, SRC, 2, 0);
	for (unsigned i = 0; i < 10; i++)
		ring(w, SRC, 3, 30 * S); /* 12 calls, 3 callees */
	assert_int_equal(inbound(w, SRC, 30 * S, why), FRAUD_BLOCK);
	assert_int_equal(inbound(w, SRC, 60 * S - 1, why), FRAUD_BLOCK);
	assert_string_equal(why, "wangiri.flood: 12 short calls in 60s from 37259123 to 3+ numbers");
	/* At 60 s the calls of t = 0 leave: 10 calls, but to one callee. */
	assert_int_equal(inbound(w, SRC, 60 * S, why), FRAUD_ALLOW);
	ring(w, SRC, 4, 60 * S);
	assert_int_equal(inbound(w, SRC, 60 * S, why), FRAUD_ALLOW); /* 2 callees */
	ring(w, SRC, 5, 89 * S + S / 2);
	assert_int_equal(inbound(w, SRC, 89 * S + S / 2, why), FRAUD_BLOCK); /* 12 calls, 3 callees */
	/* At 90 s the ten calls of t = 30 s leave: 2 left. */
	assert_int_equal(inbound(w, SRC, 90 * S, why), FRAUD_ALLOW);
	fraud_wangiri_destroy(w);
}

/* Protection ends at exactly crossing + callback_ns. */
static void test_callback_expiry(void **state)
{
	struct fraud_wangiri_cfg c = cfg_small();
	struct fraud_wangiri *w = make(&c);
	char why[FRAUD_REASON_MAX];
	const uint64_t t = 100 * S;
	for (unsigned i = 0; i < 6; i++)
		ring(w, SRC, i, t); /* crosses at the sixth: t */
	assert_int_equal(callback(w, "3725912300", t, why), FRAUD_FLAG);
	assert_int_equal(callback(w, "3725912300", t + HOUR - 1, why), FRAUD_FLAG);
	assert_string_equal(why, "wangiri.callback: +37259123... flooded us 59m ago (6 short calls to 3+ numbers)");
	assert_int_equal(fraud_wangiri_protected(w, t + HOUR - 1), 1);
	assert_int_equal(fraud_wangiri_protected(w, t + HOUR), 0); /* before any sweep */
	assert_int_equal(callback(w, "3725912300", t + HOUR, why), FRAUD_ALLOW);
	assert_string_equal(why, "");
	assert_int_equal(fraud_wangiri_protected(w, t + HOUR), 0);
	/* The flood itself ended long ago. */
	assert_int_equal(inbound(w, SRC, t + HOUR, why), FRAUD_ALLOW);
	fraud_wangiri_destroy(w);
}

/* A new crossing extends protection to the new crossing + callback_ns;
 * every short call while the range is over the limit is one. */
static void test_recrossing_extends(void **state)
{
	struct fraud_wangiri_cfg c = cfg_small();
	struct fraud_wangiri *w = make(&c);
	char why[FRAUD_REASON_MAX];
	for (unsigned i = 0; i < 6; i++)
		ring(w, SRC, i, 0);
	ring(w, SRC, 6, 10 * S); /* still over: protection to 10 s + 1 h */
	assert_int_equal(callback(w, "37259123", HOUR, why), FRAUD_FLAG);
	assert_int_equal(callback(w, "37259123", HOUR + 10 * S - 1, why), FRAUD_FLAG);
	assert_int_equal(callback(w, "37259123", HOUR + 10 * S, why), FRAUD_ALLOW);
	/* Again 30 min later: a new flood, a new hour. */
	const uint64_t t2 = HOUR + 30 * MIN;
	for (unsigned i = 0; i < 6; i++)
		ring(w, SRC, 100 + i, t2);
	assert_int_equal(callback(w, "37259123", t2 + 30 * MIN, why), FRAUD_FLAG);
	assert_string_equal(why, "wangiri.callback: +37259123... flooded us 30m ago (6 short calls to 3+ numbers)");
	assert_int_equal(callback(w, "37259123", t2 + HOUR - 1, why), FRAUD_FLAG);
	assert_int_equal(callback(w, "37259123", t2 + HOUR, why), FRAUD_ALLOW);
	fraud_wangiri_destroy(w);
}

/* Numbers shorter than source_digits are not grouped: never counted,
 * never protected; the key is 0. */
static void test_short_numbers(void **state)
{
	struct fraud_wangiri_cfg c = cfg_small();
	struct fraud_wangiri *w = make(&c);
	char why[FRAUD_REASON_MAX];
	assert_int_equal(fraud_wangiri_src_key(w, SY_STR("3725912")), 0);
	assert_int_not_equal(fraud_wangiri_src_key(w, SY_STR("37259123")), 0);
	assert_int_equal(fraud_wangiri_src_key(w, SY_STR("37259123")), fraud_wangiri_src_key(w, SY_STR("372591239")));
	for (unsigned i = 0; i < 50; i++)
		ring(w, "3725912", i, S);
	assert_int_equal(inbound(w, "3725912", S, why), FRAUD_ALLOW);
	assert_int_equal(callback(w, "3725912", S, why), FRAUD_ALLOW);
	assert_int_equal(callback(w, "", S, why), FRAUD_ALLOW);
	assert_int_equal(fraud_wangiri_protected(w, S), 0);
	/* The keys' form gives the same as the strings'. */
	for (unsigned i = 0; i < 6; i++)
		fraud_wangiri_call_end_keys(w, fraud_wangiri_src_key(w, SY_STR("99887766")), 1000 + i, &unanswered, S);
	fraud_wangiri_call_end_keys(w, 0, 1, &unanswered, S); /* not grouped: ignored */
	assert_int_equal(inbound(w, "998877661", S, why), FRAUD_BLOCK);
	fraud_wangiri_destroy(w);
}

/* More ranges than ranges_max: the least recently touched are forgotten,
 * memory does not grow; a protected range stays protected (its own table). */
static void test_table_eviction(void **state)
{
	struct fraud_wangiri_cfg c = cfg_small();
	c.ranges_max = 8;
	struct fraud_wangiri *w = make(&c);
	char why[FRAUD_REASON_MAX], src[24];
	size_t bytes = fraud_wangiri_bytes(w);
	for (unsigned i = 0; i < 6; i++)
		ring(w, "11111111", i, S); /* protected */
	for (unsigned i = 0; i < 5; i++)
		ring(w, "22222222", i, S); /* one short of a flood */
	for (unsigned r = 0; r < 200; r++) {
		snprintf(src, sizeof(src), "5%07u", r);
		ring(w, src, r, 2 * S + r);
	}
	assert_int_equal(fraud_wangiri_bytes(w), bytes);
	ring(w, "22222222", 5, 3 * S); /* its five were forgotten */
	assert_int_equal(inbound(w, "22222222", 3 * S, why), FRAUD_ALLOW);
	assert_int_equal(inbound(w, "11111111", 3 * S, why), FRAUD_ALLOW); /* forgotten too */
	assert_int_equal(callback(w, "11111111", 3 * S, why), FRAUD_FLAG); /* but still protected */
	fraud_wangiri_destroy(w);
}

/* The protection table holds max(16, ranges_max / 64) ranges: the 17th
 * pushes out the one that expires first. */
static void test_protection_full(void **state)
{
	struct fraud_wangiri_cfg c = cfg_small();
	struct fraud_wangiri *w = make(&c);
	char why[FRAUD_REASON_MAX], src[24];
	for (unsigned r = 0; r < 17; r++) {
		snprintf(src, sizeof(src), "6%07u", r);
		for (unsigned i = 0; i < 6; i++)
			ring(w, src, i, (r + 1) * S);
	}
	assert_int_equal(fraud_wangiri_protected(w, 20 * S), 16);
	assert_int_equal(callback(w, "60000000", 20 * S, why), FRAUD_ALLOW); /* expired first: evicted */
	assert_int_equal(callback(w, "60000001", 20 * S, why), FRAUD_FLAG);
	assert_int_equal(callback(w, "60000016", 20 * S, why), FRAUD_FLAG);
	/* They expire one by one, a second apart: 60000001 at 2 s + 1 h. */
	assert_int_equal(fraud_wangiri_protected(w, HOUR + 2 * S - 1), 16);
	assert_int_equal(callback(w, "60000001", HOUR + 2 * S - 1, why), FRAUD_FLAG);
	assert_int_equal(callback(w, "60000001", HOUR + 2 * S, why), FRAUD_ALLOW);
	assert_int_equal(fraud_wangiri_protected(w, HOUR + 2 * S), 15);
	assert_int_equal(fraud_wangiri_protected(w, HOUR + 17 * S), 0);
	assert_int_equal(callback(w, "60000016", HOUR + 17 * S, why), FRAUD_ALLOW);
	fraud_wangiri_destroy(w);
}

/* Saturation: protection for ever (callback_ns near 2^64) does not wrap
 * to the past; distinct callees cap at distinct_min ("3+"). */
static void test_saturation(void **state)
{
	struct fraud_wangiri_cfg c = cfg_small();
	c.callback_ns = UINT64_MAX - 5;
	struct fraud_wangiri *w = make(&c);
	char why[FRAUD_REASON_MAX];
	for (unsigned i = 0; i < 40; i++)
		ring(w, SRC, i, HOUR);
	assert_int_equal(callback(w, SRC, UINT64_MAX - 1, why), FRAUD_FLAG);
	assert_int_equal(inbound(w, SRC, HOUR, why), FRAUD_BLOCK);
	assert_string_equal(why, "wangiri.flood: 40 short calls in 60s from 37259123 to 3+ numbers");
	fraud_wangiri_destroy(w);
}

/* Time going backwards counts in the newest bucket (never rewinds). */
static void test_backwards(void **state)
{
	struct fraud_wangiri_cfg c = cfg_small();
	struct fraud_wangiri *w = make(&c);
	char why[FRAUD_REASON_MAX];
	for (unsigned i = 0; i < 5; i++)
		ring(w, SRC, i, 100 * S);
	ring(w, SRC, 5, 10 * S); /* from the past: counted at 100 s */
	assert_int_equal(inbound(w, SRC, 100 * S, why), FRAUD_BLOCK);
	assert_int_equal(inbound(w, SRC, 160 * S - 1, why), FRAUD_BLOCK);
	assert_int_equal(inbound(w, SRC, 160 * S, why), FRAUD_ALLOW);
	fraud_wangiri_destroy(w);
}

static uint64_t rng_next(uint64_t *x)
{
	*x ^= *x >> 12, *x ^= *x << 25, *x ^= *x >> 27;
	return *x * 0x2545f4914f6cdd1dull;
}

/* Two minutes of normal traffic with the engine's defaults (8 digits,
 * more than 30 short calls in 60 s to at least 20 callees, 24 h): 1,000
 * calls a second from random callers in 8 countries, plus an enterprise
 * block (44207946xxxx) making 20 calls a minute; 35% of all calls short
 * (unanswered within 5 s, busy, or answered briefly). Nothing floods. Then
 * 37259123xxxx rings 2 subscribers a second for 1 s each: its 31st short
 * call floods it, calls back to it are blocked, nobody else's. */
static void test_normal_traffic_then_flood(void **state)
{
	struct fraud_wangiri_cfg c = {.on = true,
				      .source_digits = 8,
				      .short_ns = 5 * S,
				      .flood = {30, 60 * S, FRAUD_BLOCK},
				      .distinct_min = 20,
				      .callback_ns = 24 * HOUR,
				      .callback = FRAUD_BLOCK,
				      .ranges_max = 65536};
	struct fraud_wangiri *w = make(&c);
	static const char *const cc[] = {"44", "1", "49", "33", "372", "234", "91", "86"};
	uint64_t x = 0x9e3779b97f4a7c15ull, flooded = 0;
	char from[24], to[24], why[FRAUD_REASON_MAX];
	for (uint64_t n = 0; n < 120000; n++) {
		uint64_t now = n * (S / 1000), r = rng_next(&x);
		if (n % 3000 == 0)
			snprintf(from, sizeof(from), "44207946%04u", (unsigned)(r % 10000));
		else
			snprintf(from, sizeof(from), "%s%09llu", cc[r % 8],
				 (unsigned long long)((r >> 8) % 1000000000));
		snprintf(to, sizeof(to), "4420%07u", (unsigned)((r >> 40) % 10000000));
		bool is_short = (r >> 20) % 100 < 35;
		struct fraud_call_end e = {.answered = !is_short, .ring_ns = 3 * S, .duration_ns = 90 * S};
		flooded += fraud_wangiri_inbound(w, sy_str_from(from), now, why, sizeof(why)) != FRAUD_ALLOW;
		fraud_wangiri_call_end(w, sy_str_from(from), sy_str_from(to), &e, now + 3 * S);
	}
	assert_int_equal(flooded, 0);
	assert_int_equal(fraud_wangiri_protected(w, 123 * S), 0);
	const uint64_t t0 = 200 * S;
	unsigned first = 0;
	for (unsigned k = 0; k < 120; k++) {
		uint64_t now = t0 + k * (S / 2), r = rng_next(&x);
		snprintf(from, sizeof(from), "37259123%04u", (unsigned)(r % 10000));
		snprintf(to, sizeof(to), "4420%07u", (unsigned)((r >> 40) % 10000000));
		if (fraud_wangiri_inbound(w, sy_str_from(from), now, why, sizeof(why)) != FRAUD_ALLOW && first == 0)
			first = k + 1;
		fraud_wangiri_call_end(w, sy_str_from(from), sy_str_from(to), &unanswered, now + S);
	}
	assert_int_equal(first, 32); /* the 31st ended at 16 s: the 32nd's INVITE (15.5 s) came before */
	assert_int_equal(fraud_wangiri_protected(w, t0 + 60 * S), 1);
	assert_int_equal(callback(w, "372591230042", t0 + 2 * HOUR, why), FRAUD_BLOCK);
	/* The last crossing: the 120th call's end at 260.5 s, when the window
	 * (buckets 205 .. 265 s) no longer holds the 8 that ended before 205 s. */
	assert_string_equal(why, "wangiri.callback: +37259123... flooded us 118m ago (112 short calls to 20+ numbers)");
	assert_int_equal(callback(w, "372591240042", t0 + 2 * HOUR, why), FRAUD_ALLOW);
	assert_int_equal(callback(w, "442079460001", t0 + 2 * HOUR, why), FRAUD_ALLOW);
	fraud_wangiri_destroy(w);
}

static void test_config(void **state)
{
	struct fraud_wangiri *w = NULL;
	struct fraud_wangiri_cfg c = cfg_small();
	c.distinct_min = FRAUD_WANGIRI_DISTINCT_MAX + 1;
	assert_int_equal(fraud_wangiri_create(&c, SEED, &w), SY_ERR_INVAL);
	char err[96] = "";
	assert_false(fraud_wangiri_cfg_check(&c, err, sizeof(err)));
	assert_string_equal(err, "wangiri_distinct must be at most 64 (the callees each range keeps)");
	c.distinct_min = FRAUD_WANGIRI_DISTINCT_MAX;
	assert_true(fraud_wangiri_cfg_check(&c, err, sizeof(err)));
	c = cfg_small();
	c.source_digits = 0;
	assert_int_equal(fraud_wangiri_create(&c, SEED, &w), SY_ERR_INVAL);
	c = cfg_small();
	c.ranges_max = 0;
	assert_int_equal(fraud_wangiri_create(&c, SEED, &w), SY_ERR_INVAL);
	assert_false(fraud_wangiri_cfg_check(&c, NULL, 0));
	/* Off: created, counts nothing, holds no tables. */
	c = cfg_small();
	c.on = false;
	assert_int_equal(fraud_wangiri_create(&c, SEED, &w), SY_OK);
	char why[FRAUD_REASON_MAX];
	for (unsigned i = 0; i < 10; i++)
		ring(w, SRC, i, S);
	assert_int_equal(inbound(w, SRC, S, why), FRAUD_ALLOW);
	assert_int_equal(callback(w, SRC, S, why), FRAUD_ALLOW);
	assert_true(fraud_wangiri_bytes(w) < 1024);
	fraud_wangiri_destroy(w);
	/* Flood off (max 0) with no window: nothing floods. */
	c = cfg_small();
	c.flood.max = 0;
	c.flood.window_ns = 0;
	assert_int_equal(fraud_wangiri_create(&c, SEED, &w), SY_OK);
	for (unsigned i = 0; i < 10; i++)
		ring(w, SRC, i, S);
	assert_int_equal(inbound(w, SRC, S, why), FRAUD_ALLOW);
	fraud_wangiri_destroy(w);
	/* distinct_min 0: any callees will do. */
	c = cfg_small();
	c.distinct_min = 0;
	assert_int_equal(fraud_wangiri_create(&c, SEED, &w), SY_OK);
	for (unsigned i = 0; i < 6; i++)
		ring(w, SRC, 1, S);
	assert_int_equal(inbound(w, SRC, S, why), FRAUD_BLOCK);
	assert_string_equal(why, "wangiri.flood: 6 short calls in 60s from 37259123 to 0 numbers");
	fraud_wangiri_destroy(w);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_flood_threshold),
	    cmocka_unit_test(test_what_is_short),
	    cmocka_unit_test(test_one_callee_no_flood),
	    cmocka_unit_test(test_window_edges),
	    cmocka_unit_test(test_callback_expiry),
	    cmocka_unit_test(test_recrossing_extends),
	    cmocka_unit_test(test_short_numbers),
	    cmocka_unit_test(test_table_eviction),
	    cmocka_unit_test(test_protection_full),
	    cmocka_unit_test(test_saturation),
	    cmocka_unit_test(test_backwards),
	    cmocka_unit_test(test_normal_traffic_then_flood),
	    cmocka_unit_test(test_config),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
