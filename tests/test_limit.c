/* test_limit.c: per-source limits (core/sec/limit.h) at exact times. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "core/sec/limit.h"

#define MS (SY_NS_PER_S / 1000)

static struct sy_addr ip4(uint32_t v)
{
	struct sy_addr a = {.family = SY_AF_INET, .port = 5060};
	a.ip[0] = (uint8_t)(v >> 24), a.ip[1] = (uint8_t)(v >> 16), a.ip[2] = (uint8_t)(v >> 8), a.ip[3] = (uint8_t)v;
	return a;
}

static void test_rate_and_block(void **state)
{
	struct sy_srclimit *l;
	struct sy_srclimit_cfg cfg = {.rate = 10, .burst = 5, .block_ns = 2 * SY_NS_PER_S, .seed = 1};
	assert_int_equal(sy_srclimit_create(&cfg, &l), SY_OK);
	struct sy_addr a = ip4(0x0a000001), b = ip4(0x0a000002);
	for (int i = 0; i < 5; i++)
		assert_int_equal(sy_srclimit_hit(l, &a, 0), SY_SRC_OK); /* the burst */
	assert_int_equal(sy_srclimit_hit(l, &a, 0), SY_SRC_LIMITED);
	assert_int_equal(sy_srclimit_hit(l, &a, 1 * SY_NS_PER_S), SY_SRC_BLOCKED);
	assert_int_equal(sy_srclimit_hit(l, &b, 1 * SY_NS_PER_S), SY_SRC_OK); /* others unaffected */
	a.port = 9999;							       /* the port does not matter */
	assert_true(sy_srclimit_blocked(l, &a, 2 * SY_NS_PER_S - 1));
	assert_false(sy_srclimit_blocked(l, &a, 2 * SY_NS_PER_S));
	/* After the block, 10/s: one token per 100 ms (the bucket refilled). */
	for (int i = 0; i < 5; i++)
		assert_int_equal(sy_srclimit_hit(l, &a, 2 * SY_NS_PER_S), SY_SRC_OK);
	assert_int_equal(sy_srclimit_hit(l, &a, 2 * SY_NS_PER_S + 100 * MS), SY_SRC_OK);
	assert_int_equal(sy_srclimit_hit(l, &a, 2 * SY_NS_PER_S + 150 * MS), SY_SRC_LIMITED);
	const struct sy_srclimit_stats *st = sy_srclimit_stats(l);
	assert_int_equal(st->limited, 2);
	assert_int_equal(st->dropped, 3);
	sy_srclimit_destroy(l);
}

static void test_conns(void **state)
{
	struct sy_srclimit *l;
	struct sy_srclimit_cfg cfg = {.conns = 2, .slots = 64, .seed = 2};
	assert_int_equal(sy_srclimit_create(&cfg, &l), SY_OK);
	struct sy_addr a = ip4(0x7f000001);
	assert_true(sy_srclimit_conn_open(l, &a, 0));
	assert_true(sy_srclimit_conn_open(l, &a, 0));
	assert_false(sy_srclimit_conn_open(l, &a, 0));
	/* A flood of other sources cannot evict the entry that holds them. */
	for (uint32_t i = 0; i < 10000; i++) {
		struct sy_addr o = ip4(0x0b000000 + i);
		sy_srclimit_hit(l, &o, i);
	}
	assert_false(sy_srclimit_conn_open(l, &a, 20000));
	sy_srclimit_conn_close(l, &a);
	assert_true(sy_srclimit_conn_open(l, &a, 20000));
	assert_int_equal(sy_srclimit_stats(l)->conns_refused, 2);
	assert_true(sy_srclimit_stats(l)->tracked <= 64);
	sy_srclimit_destroy(l);
}

static void test_backoff(void **state)
{
	struct sy_srclimit *l;
	struct sy_srclimit_cfg cfg = {.seed = 3};
	assert_int_equal(sy_srclimit_create(&cfg, &l), SY_OK);
	struct sy_addr a = ip4(0xc0000201);
	assert_int_equal(sy_srclimit_fail(l, &a, 0, 1 * SY_NS_PER_S, 8 * SY_NS_PER_S), 1);
	assert_true(sy_srclimit_blocked(l, &a, SY_NS_PER_S - 1));
	assert_false(sy_srclimit_blocked(l, &a, SY_NS_PER_S));
	assert_int_equal(sy_srclimit_fail(l, &a, 10 * SY_NS_PER_S, SY_NS_PER_S, 8 * SY_NS_PER_S), 2);
	assert_true(sy_srclimit_blocked(l, &a, 12 * SY_NS_PER_S - 1)); /* 2 s */
	for (int i = 0; i < 10; i++)
		sy_srclimit_fail(l, &a, 20 * SY_NS_PER_S, SY_NS_PER_S, 8 * SY_NS_PER_S);
	assert_true(sy_srclimit_blocked(l, &a, 28 * SY_NS_PER_S - 1)); /* capped at 8 s */
	assert_false(sy_srclimit_blocked(l, &a, 28 * SY_NS_PER_S));
	assert_int_equal(sy_srclimit_hit(l, &a, 28 * SY_NS_PER_S), SY_SRC_OK); /* no rate set */
	sy_srclimit_success(l, &a);
	assert_int_equal(sy_srclimit_fail(l, &a, 30 * SY_NS_PER_S, SY_NS_PER_S, 8 * SY_NS_PER_S), 1);
	sy_srclimit_destroy(l);
}

static void test_ipv6(void **state)
{
	struct sy_srclimit *l;
	struct sy_srclimit_cfg cfg = {.rate = 1, .burst = 1, .block_ns = SY_NS_PER_S, .seed = 4};
	assert_int_equal(sy_srclimit_create(&cfg, &l), SY_OK);
	struct sy_addr a, b;
	assert_int_equal(sy_addr_parse("[2001:db8::1]:5060", 5060, &a), SY_OK);
	assert_int_equal(sy_addr_parse("[2001:db8::2]:5060", 5060, &b), SY_OK);
	assert_int_equal(sy_srclimit_hit(l, &a, 0), SY_SRC_OK);
	assert_int_equal(sy_srclimit_hit(l, &a, 0), SY_SRC_LIMITED);
	assert_int_equal(sy_srclimit_hit(l, &b, 0), SY_SRC_OK);
	sy_srclimit_destroy(l);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_rate_and_block),
	    cmocka_unit_test(test_conns),
	    cmocka_unit_test(test_backoff),
	    cmocka_unit_test(test_ipv6),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
