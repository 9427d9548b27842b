/* test_smsc_peer_keys.c: the carrier's key tables (peers/smsc_peer_keys.h):
 * message identities as 8-byte values (0 included), key TLVs as (id, first
 * upstream id) or text records, counts only for keys that came again, and
 * keys_max. Checked against what was added, through many doublings. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>

#include <cmocka.h>

#include "peers/smsc_peer_keys.h"

static char *fmt_msg(uint64_t v, char *buf)
{
	snprintf(buf, 32, "h:%016llx", (unsigned long long)v);
	return buf;
}

static void test_messages(void **state)
{
	(void)state;
	struct peer_keys k;
	char b[32];
	assert_int_equal(peer_keys_init(&k, 1000000), SY_OK);
	enum { N = 200000 };
	for (uint64_t i = 0; i < N; i++) {
		uint64_t v = i * 0x9E3779B97F4A7C15ull; /* 0 first */
		assert_false(peer_keys_msg_seen(&k, v));
		assert_true(peer_keys_msg_add(&k, v));
		if (i % 1000 == 0)
			peer_keys_msg_again(&k, v);
	}
	for (uint64_t i = 0; i < N; i++) {
		uint64_t v = i * 0x9E3779B97F4A7C15ull;
		assert_true(peer_keys_msg_seen(&k, v));
		assert_int_equal(peer_keys_count(&k, true, sy_str_from(fmt_msg(v, b))), i % 1000 == 0 ? 2 : 1);
	}
	assert_false(peer_keys_msg_seen(&k, 12345));
	assert_int_equal(peer_keys_count(&k, true, sy_str_from(fmt_msg(12345, b))), 0);
	assert_int_equal(peer_keys_count(&k, true, SY_STR("h:zz")), 0);
	assert_int_equal(k.used, N);
	peer_keys_free(&k);
}

static void test_key_tlvs(void **state)
{
	(void)state;
	struct peer_keys k;
	uint64_t up = 0;
	assert_int_equal(peer_keys_init(&k, 5), SY_OK);
	struct peer_kref a = peer_keys_kref(SY_STR("1001")), t = peer_keys_kref(SY_STR("0123"));
	struct peer_kref l = peer_keys_kref(SY_STR("a-key-of-twenty-five-chars"));
	assert_int_equal(a.v, 1001);
	assert_int_equal(t.v, 0); /* not canonical: kept as text */
	assert_false(peer_keys_key_seen(&k, &a, &up));
	assert_true(peer_keys_key_add(&k, &a, 7));
	assert_true(peer_keys_key_add(&k, &t, 8));
	assert_true(peer_keys_key_add(&k, &l, 9)); /* text on the heap */
	assert_true(peer_keys_key_seen(&k, &a, &up) && up == 7);
	assert_true(peer_keys_key_seen(&k, &t, &up) && up == 8);
	assert_true(peer_keys_key_seen(&k, &l, &up) && up == 9);
	peer_keys_key_again(&k, &a);
	peer_keys_key_again(&k, &t);
	peer_keys_key_again(&k, &t);
	assert_int_equal(peer_keys_count(&k, false, SY_STR("1001")), 2);
	assert_int_equal(peer_keys_count(&k, false, SY_STR("0123")), 3);
	assert_int_equal(peer_keys_count(&k, false, SY_STR("a-key-of-twenty-five-chars")), 1);
	assert_int_equal(peer_keys_count(&k, false, SY_STR("123")), 0);
	/* keys_max (5): two more, then none */
	assert_true(peer_keys_msg_add(&k, 0));
	assert_true(peer_keys_msg_seen(&k, 0));
	struct peer_kref b = peer_keys_kref(SY_STR("1002"));
	assert_true(peer_keys_key_add(&k, &b, 10));
	assert_false(peer_keys_msg_add(&k, 77));
	assert_false(peer_keys_msg_seen(&k, 77));
	peer_keys_free(&k);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_messages),
	    cmocka_unit_test(test_key_tlvs),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
