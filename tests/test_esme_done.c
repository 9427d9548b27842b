/* test_esme_done.c: the applications' done window (peers/esme_int.h, struct
 * esme_done): the ids of the last cap receipted parts, 8 bytes each, to
 * tell a duplicate receipt from an unknown one. Checked against a plain
 * reference (the last cap ids added), through growth, eviction and
 * backward-shift deletion under colliding homes; the id values; and the
 * texts the applications write straight in GSM or UCS2. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>

#include <cmocka.h>

#include "core/rng.h"
#include "peers/esme_int.h"

/* ids added in order: every one of the last cap is known, every older one
 * is forgotten and counted, whatever the values. */
static void window_check(uint64_t cap, uint64_t total, uint64_t (*gen)(uint64_t i, void *), void *arg)
{
	struct esme_done d = {.cap = cap};
	uint64_t forgotten = 0;
	for (uint64_t i = 0; i < total; i++) {
		esme__done_add(&d, gen(i, arg), &forgotten);
		assert_true(esme__done_has(&d, gen(i, arg)));
	}
	assert_int_equal(forgotten, total > cap ? total - cap : 0);
	assert_int_equal(d.n, total < cap ? total : cap);
	for (uint64_t i = 0; i < total; i++)
		assert_int_equal(esme__done_has(&d, gen(i, arg)), i + cap >= total);
	/* the set holds exactly the ring's ids */
	uint64_t in_set = 0;
	for (uint64_t i = 0; i <= d.mask; i++)
		in_set += d.set[i] != 0;
	assert_int_equal(in_set, d.n);
	esme__done_free(&d);
}

static uint64_t gen_seq(uint64_t i, void *arg)
{
	(void)arg;
	return 1000000 + i; /* the switch's ids: consecutive numbers */
}

static uint64_t gen_rand(uint64_t i, void *arg)
{
	/* distinct, spread */
	(void)arg;
	uint64_t x = (i + 1) * 0x9E3779B97F4A7C15ull;
	return x | 1;
}

/* Values whose homes collide a lot (they differ only in bits the home
 * ignores at small sizes) stress the backward-shift deletion. */
static uint64_t gen_clash(uint64_t i, void *arg)
{
	uint64_t k = *(uint64_t *)arg;
	return ((i % k) << 40 | (i / k)) + 1;
}

static void test_window_sequential(void **state)
{
	(void)state;
	window_check(65536, 300000, gen_seq, NULL);
	window_check(4, 100, gen_seq, NULL);
	window_check(1000, 500, gen_seq, NULL); /* never full */
}

static void test_window_random(void **state)
{
	(void)state;
	window_check(5000, 123457, gen_rand, NULL);
}

static void test_window_clashes(void **state)
{
	(void)state;
	uint64_t k = 7;
	window_check(3000, 50000, gen_clash, &k);
	k = 1;
	window_check(3000, 50000, gen_clash, &k);
}

/* The same id twice stays one entry: its later receipts are duplicates. */
static void test_window_repeat(void **state)
{
	(void)state;
	struct esme_done d = {.cap = 3};
	uint64_t forgotten = 0;
	esme__done_add(&d, 5, &forgotten);
	esme__done_add(&d, 5, &forgotten);
	esme__done_add(&d, 6, &forgotten);
	esme__done_add(&d, 7, &forgotten);
	assert_int_equal(forgotten, 0);
	assert_true(esme__done_has(&d, 5) && esme__done_has(&d, 6) && esme__done_has(&d, 7));
	esme__done_add(&d, 8, &forgotten);
	assert_int_equal(forgotten, 1);
	assert_false(esme__done_has(&d, 5));
	assert_false(esme__done_has(&d, 9));
	esme__done_free(&d);
	assert_false(esme__done_has(&d, 6));
}

static void test_id_value(void **state)
{
	(void)state;
	/* canonical decimal ids exactly (as the value plus one) */
	assert_int_equal(esme__id_value(SY_STR("1234567")), 1234568);
	assert_int_equal(esme__id_value(SY_STR("1")), 2);
	assert_true(esme__id_value(SY_STR("0")) >> 63);			  /* smsq ids start at 1 */
	assert_true(esme__id_value(SY_STR("9223372036854775807")) >> 63); /* INT64_MAX: hashed */
	/* other texts: hashed with the top bit set, never 0, never a number's value */
	uint64_t a = esme__id_value(SY_STR("carrier-17")), b = esme__id_value(SY_STR("carrier-18"));
	uint64_t c = esme__id_value(SY_STR("01234567")); /* not canonical: not the number */
	assert_true(a >> 63 && b >> 63 && c >> 63);
	assert_true(a != b && c != esme__id_value(SY_STR("1234567")));
	assert_int_equal(esme__id_value(SY_STR("carrier-17")), a);
	assert_true(esme__id_value(SY_STR("")) >> 63);
}

/* esme_send.c writes texts straight in their encoding: the same octets as
 * the encoders would make from the UTF-8 text. */
static void test_text_encoding(void **state)
{
	(void)state;
	struct sy_str g = sy_str_from(esme__gsm_chars);
	uint8_t out[256];
	size_t len = 0, bad = 0;
	assert_int_equal(smpp_gsm_from_utf8(g, out, sizeof(out), &len, &bad), SY_OK);
	assert_int_equal(bad, 0);
	assert_int_equal(len, g.len);
	assert_memory_equal(out, g.p, g.len);
	/* U+0020 and U+0430..U+044F as UTF-8, and as UCS2 big-endian */
	char u[2 * 33];
	uint8_t want[2 * 33];
	size_t n = 0;
	u[n] = ' ';
	want[2 * n] = 0;
	want[2 * n + 1] = 0x20;
	n++;
	for (uint32_t cp = 0x430; cp < 0x450; cp++, n++) {
		u[2 * n - 1] = (char)(0xC0 | (cp >> 6));
		u[2 * n] = (char)(0x80 | (cp & 0x3F));
		want[2 * n] = (uint8_t)(cp >> 8);
		want[2 * n + 1] = (uint8_t)cp;
	}
	assert_int_equal(smpp_ucs2_from_utf8((struct sy_str){u, 2 * n - 1}, out, sizeof(out), &len), SY_OK);
	assert_int_equal(len, 2 * n);
	assert_memory_equal(out, want, 2 * n);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_window_sequential), cmocka_unit_test(test_window_random),
	    cmocka_unit_test(test_window_clashes),    cmocka_unit_test(test_window_repeat),
	    cmocka_unit_test(test_id_value),	      cmocka_unit_test(test_text_encoding),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
