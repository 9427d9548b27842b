/* test_sip_osip_pool.c: osip's memory is bounded (core/sip/osip_pool.h).
 * Parsed messages are held until the pool refuses: the next parse fails
 * cleanly (SY_ERR_FULL, nothing half-built), the stack drops and counts the
 * datagram, and parsing works again once memory is freed. Its own binary:
 * the pool is process-wide and these tests shrink it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>

#include <cmocka.h>

#include "core/sip/msg.h"
#include "core/sip/osip_pool.h"
#include "core/sip/txn.h"
#include "tests/testenv.h"

#define LIMIT	 ((size_t)256 << 10)
#define KEEP	 ((size_t)16 << 10)
#define HELD_MAX 4096 /* far more messages than LIMIT can hold */

static const char invite[] = "INVITE sip:bob@192.0.2.2 SIP/2.0\r\n"
			     "Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK776asdhds;rport\r\n"
			     "Max-Forwards: 70\r\n"
			     "To: Bob <sip:bob@192.0.2.2>\r\n"
			     "From: Alice <sip:alice@192.0.2.1>;tag=1928301774\r\n"
			     "Call-ID: a84b4c76e66710@192.0.2.1\r\n"
			     "CSeq: 314159 INVITE\r\n"
			     "Contact: <sip:alice@192.0.2.1>\r\n"
			     "Content-Length: 0\r\n\r\n";

static struct sip_msg held[HELD_MAX];

static void check_bound(void)
{
	struct sip_osip_pool_stats st;
	sip_osip_pool_stats(&st);
	assert_true(st.used_bytes + st.kept_bytes <= st.limit_bytes);
	assert_true(st.kept_bytes <= st.keep_bytes);
	assert_true(st.peak_bytes <= st.limit_bytes);
}

/* Parses invite into held[] until the pool refuses; returns how many. */
static size_t fill(void)
{
	size_t n = 0;
	char err[64];
	for (;;) {
		assert_true(n < HELD_MAX);
		enum sy_rc rc = sip_msg_parse((const uint8_t *)invite, strlen(invite), &held[n], err, sizeof(err));
		check_bound();
		if (rc == SY_ERR_FULL) {
			assert_null(held[n].m); /* nothing half-built is handed out */
			assert_int_equal(held[n].call_id.len, 0);
			assert_string_equal(err, "Out of memory");
			return n;
		}
		assert_int_equal(rc, SY_OK);
		n++;
	}
}

static void release(size_t from, size_t to)
{
	for (size_t i = from; i < to; i++)
		sip_msg_free(&held[i]);
}

static void test_bound_holds(void **state)
{
	(void)state;
	struct sip_osip_pool_stats st;
	sip_osip_pool_configure(LIMIT, KEEP);
	sip_osip_pool_stats(&st);
	uint64_t refused0 = st.refused;
	size_t n = fill();
	assert_true(n > 10); /* the bound is not hit by the first messages */
	sip_osip_pool_stats(&st);
	assert_true(st.refused > refused0);
	/* Still full: the next parse fails the same clean way. */
	struct sip_msg m;
	assert_int_equal(sip_msg_parse((const uint8_t *)invite, strlen(invite), &m, NULL, 0), SY_ERR_FULL);
	assert_null(m.m);
	/* Free a few: parsing works again, up to the same bound. */
	release(n - 4, n);
	assert_int_equal(sip_msg_parse((const uint8_t *)invite, strlen(invite), &m, NULL, 0), SY_OK);
	sip_msg_free(&m);
	/* Free everything: nothing stays in use, and what the pool keeps for
	 * reuse is capped; the rest went back to the system. */
	release(0, n - 4);
	sip_osip_pool_stats(&st);
	assert_int_equal(st.used_bytes, 0);
	assert_true(st.kept_bytes <= KEEP);
	check_bound();
	/* The same number fits again: frees really returned to the pool. */
	size_t again = fill();
	assert_true(again + 2 >= n && again <= n + 2);
	release(0, again);
	sip_osip_pool_configure(SIP_OSIP_POOL_MAX_DEFAULT, SIP_OSIP_POOL_KEEP_DEFAULT);
}

static void tu_request(void *arg, struct sip_txn *st, const struct sip_msg *req, const struct sy_addr *from)
{
	(*(int *)arg)++;
}

static void tu_response(void *arg, struct sip_txn *ct, const struct sip_msg *resp)
{
}

static void tu_none(void *arg, struct sip_txn *t)
{
}

static const struct sip_tu tu = {tu_request, tu_response, tu_none, tu_none};

static void on_dgram(void *arg, struct sy_dgram *sock, const struct sy_addr *from, const uint8_t *buf, size_t len)
{
	sip_stack_recv(arg, from, buf, len);
}

/* The stack drops a datagram it cannot parse for want of memory and counts
 * it apart from malformed input (sip.osip_pool_exhausted). */
static void test_stack_counts_exhaustion(void **state)
{
	(void)state;
	struct testenv te;
	struct sy_dgram *sock;
	struct sip_stack *s;
	int requests = 0;
	struct sy_addr local = sy_addr_v4(192, 0, 2, 2, 5060), peer = sy_addr_v4(192, 0, 2, 1, 5060);
	testenv_init(&te, 7);
	struct sip_stack_cfg cfg = {.env = &te.env, .local = local, .txn_max = 16, .tu = &tu, .tu_arg = &requests};
	assert_int_equal(sy_env_dgram_open(&te.env, &local, on_dgram, NULL, &sock), SY_OK);
	cfg.sock = sock;
	assert_int_equal(sip_stack_create(&cfg, &s), SY_OK);
	te.socks[0].arg = s;

	sip_osip_pool_configure(LIMIT, KEEP);
	size_t n = fill();
	testenv_inject(&te, sock, &peer, invite, strlen(invite));
	const struct sip_stack_stats *ss = sip_stack_stats(s);
	assert_int_equal(ss->rx_pool_exhausted, 1);
	assert_int_equal(ss->rx_bad_dropped + ss->rx_bad_400, 0);
	assert_int_equal(requests, 0);
	assert_int_equal(testenv_sent_count(&te), 0); /* nothing answered */

	release(0, n);
	testenv_inject(&te, sock, &peer, invite, strlen(invite));
	assert_int_equal(ss->rx_pool_exhausted, 1);
	assert_int_equal(requests, 1);

	sip_stack_destroy(s);
	testenv_free(&te);
	sip_osip_pool_configure(SIP_OSIP_POOL_MAX_DEFAULT, SIP_OSIP_POOL_KEEP_DEFAULT);
}

int main(void)
{
	sip_global_init();
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_bound_holds),
	    cmocka_unit_test(test_stack_counts_exhaustion),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
