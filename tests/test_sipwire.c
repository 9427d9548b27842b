/* test_sipwire.c: the [node] pike and pike_exempt keys (docs/scenarios.md)
 * and the address prefixes they take (core/sip/pike.h). The pike itself,
 * dialog matching and reflection are tested on the B2BUA (test_b2bua.c,
 * "issue 10") and against a live serve (tests/security/sipwire.sh). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>

#include <cmocka.h>

#include "core/conf/node.h"
#include "core/conf/scn.h"
#include "core/sip/pike.h"

static struct node_cfg *node_of(const char *text)
{
	char err[256];
	struct scn *sc = NULL;
	if (scn_parse_string(text, "n.scn", &sc, err, sizeof(err)) != SY_OK)
		fail_msg("%s", err);
	struct node_cfg *n = conf_node_new(sc);
	assert_non_null(n);
	scn_free(sc);
	return n;
}

static void test_pike_keys(void **state)
{
	(void)state;
	struct node_cfg *n = node_of("[node]\n");
	assert_false(n->sw.pike.off); /* on by default, at the defaults of pike.h */
	assert_int_equal(n->sw.pike.rate, 0);
	assert_int_equal(n->sw.pike.exempt_n, 0);
	free(n);
	n = node_of("[node]\npike_exempt = 10.0.2.0/24, 192.0.2.7 [2001:db8::]/32\npike = 50/s burst 80 block 2s\n");
	assert_int_equal(n->sw.pike.rate, 50);
	assert_int_equal(n->sw.pike.burst, 80);
	assert_int_equal(n->sw.pike.block_ns, 2 * SY_NS_PER_S);
	assert_int_equal(n->sw.pike.exempt_n, 3); /* kept when pike comes after */
	assert_int_equal(n->sw.pike.exempt[0].bits, 24);
	assert_int_equal(n->sw.pike.exempt[1].bits, 32);
	assert_int_equal(n->sw.pike.exempt[2].bits, 32);
	assert_int_equal(n->sw.pike.exempt[2].addr.family, SY_AF_INET6);
	free(n);
	n = node_of("[node]\npike = 300/s\n");
	assert_int_equal(n->sw.pike.burst, 600); /* twice the rate */
	free(n);
	n = node_of("[node]\npike = off\n");
	assert_true(n->sw.pike.off);
	free(n);
	static const char *bad[] = {
	    "[node]\npike = 0/s\n",		  "[node]\npike = 200\n",	     "[node]\npike = 200/s burst 10\n",
	    "[node]\npike = 200/s block\n",	  "[node]\npike = 200/s blorp 3\n", "[node]\npike = on\n",
	    "[node]\npike_exempt = 10.0.0.0/33\n", "[node]\npike_exempt = host\n",
	};
	for (size_t i = 0; i < SY_ARRAY_LEN(bad); i++) {
		char err[256];
		struct scn *sc = NULL;
		if (scn_parse_string(bad[i], "n.scn", &sc, err, sizeof(err)) != SY_ERR_PARSE)
			fail_msg("accepted: %s", bad[i]);
		assert_non_null(strstr(err, "n.scn:2:"));
	}
}

static bool has(const char *net, const char *addr)
{
	struct sip_net n;
	struct sy_addr a;
	assert_int_equal(sip_net_parse(sy_str_from(net), &n), SY_OK);
	assert_int_equal(sy_addr_parse(addr, 5060, &a), SY_OK);
	return sip_net_has(&n, &a);
}

static void test_net_match(void **state)
{
	(void)state;
	assert_true(has("10.0.2.0/24", "10.0.2.200"));
	assert_false(has("10.0.2.0/24", "10.0.3.1"));
	assert_true(has("10.0.2.7", "10.0.2.7:7000")); /* any port */
	assert_false(has("10.0.2.7", "10.0.2.8"));
	assert_true(has("10.0.0.0/13", "10.7.255.255"));
	assert_false(has("10.0.0.0/13", "10.8.0.0"));
	assert_true(has("0.0.0.0/0", "203.0.113.1"));
	assert_true(has("[2001:db8::]/32", "[2001:db8:1::5]:5060"));
	assert_false(has("[2001:db8::]/32", "[2001:db9::5]:5060"));
	assert_false(has("10.0.0.0/8", "[::ffff:10.0.0.1]:5060"));
	/* one parser for [trunk] address and pike_exempt: a port narrows it */
	assert_true(has("10.1.1.1:5070", "10.1.1.1:5070"));
	assert_false(has("10.1.1.1:5070", "10.1.1.1:5060"));
	assert_true(has("[2001:db8::1]:5070", "[2001:db8::1]:5070"));
	assert_false(has("[2001:db8::1]:5070", "[2001:db8::1]:5071"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_pike_keys),
	    cmocka_unit_test(test_net_match),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
