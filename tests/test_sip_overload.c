/* test_sip_overload.c: overload control in front of the transaction pool
 * (issue 9). The test plays a caller and a carrier against a B2BUA on the
 * fake env, sets up calls, then fills the transaction pool with requests
 * for unknown dialogs (each leaves a NIST lingering 32 s): first to the
 * admission threshold, then to the last slot. Throughout, new INVITEs get
 * 503 with Retry-After while BYE, ACK and CANCEL for the known calls are
 * served: from the reserve above the threshold, then with no transaction. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>

#include <cmocka.h>

#include "core/conf/node.h"
#include "core/conf/scn.h"
#include "core/metrics/counters.h"
#include "core/sip/b2bua.h"
#include "core/sip/osip_pool.h"
#include "core/sip/wire.h"
#include "tests/testenv.h"

#define MS  SY_NS_PER_MS
#define SEC SY_NS_PER_S

#define TXN_MAX 40 /* admission stops new work at 36 (90%) */

struct fx {
	struct testenv te;
	struct b2bua *b;
	struct sy_dgram *sock;
	struct b2bua_carrier car;
	struct sy_addr sw, caller, carrier;
	size_t cdrs;
	int seq; /* branches and fillers */
};

static uint32_t route_fn(void *arg, struct sy_str number, uint16_t *ids, uint32_t max)
{
	(void)arg, (void)number, (void)max;
	ids[0] = 0;
	return 1;
}

static void on_cdr(void *arg, const struct cdr *cdr)
{
	(void)cdr;
	((struct fx *)arg)->cdrs++;
}

/* Default deny: the caller (10.0.0.100) is a trunk. */
static const struct sip_access_cfg *callers_trunk(void)
{
	static struct sip_access_cfg c = {
	    .trunks = {{.name = "callers",
			.nets = {{.addr = {.family = SY_AF_INET, .ip = {10, 0, 0, 100}}, .bits = 32}},
			.net_n = 1}},
	    .trunk_n = 1,
	};
	return &c;
}

static struct fx *fx_new(void)
{
	struct fx *f = calloc(1, sizeof(*f));
	assert_non_null(f);
	testenv_init(&f->te, 9);
	f->sw = sy_addr_v4(10, 0, 0, 1, 5060);
	f->caller = sy_addr_v4(10, 0, 0, 100, 5060);
	f->carrier = sy_addr_v4(10, 0, 1, 1, 5060);
	snprintf(f->car.name, sizeof(f->car.name), "carrier1");
	f->car.addr = f->carrier;
	struct b2bua_cfg cfg = {
	    .env = &f->te.env,
	    .listen = f->sw,
	    .calls_max = 64,
	    .txn_max = TXN_MAX,
	    .timers = {.t1_ns = 500 * MS, .t2_ns = 4 * SEC, .t4_ns = 5 * SEC},
	    .carriers = &f->car,
	    .carriers_n = 1,
	    .route = route_fn,
	    .access = callers_trunk(),
	    .on_cdr = on_cdr,
	    .cdr_arg = f,
	};
	assert_int_equal(b2bua_create(&cfg, &f->b), SY_OK);
	f->sock = (struct sy_dgram *)&f->te.socks[f->te.nsocks - 1];
	return f;
}

static void fx_free(struct fx *f)
{
	b2bua_destroy(f->b);
	testenv_free(&f->te);
	free(f);
}

static const struct sip_stack_stats *sst(struct fx *f)
{
	return sip_stack_stats(b2bua_stack(f->b));
}

/* Injects header lines written with "\n" (made CRLF) and an empty body. */
static void inject(struct fx *f, const struct sy_addr *from, const char *fmt, ...)
{
	char hdr[2048], buf[4096];
	va_list ap;
	va_start(ap, fmt);
	int hl = vsnprintf(hdr, sizeof(hdr), fmt, ap);
	va_end(ap);
	assert_true(hl > 0 && (size_t)hl < sizeof(hdr));
	size_t n = 0;
	for (int i = 0; i < hl; i++) {
		if (hdr[i] == '\n')
			buf[n++] = '\r';
		buf[n++] = hdr[i];
	}
	n += (size_t)snprintf(buf + n, sizeof(buf) - n, "Content-Length: 0\r\n\r\n");
	testenv_inject(&f->te, f->sock, from, buf, n);
}

/* The last datagram sent to `to` whose text contains both needles (NULL:
 * any), searching sends from index `since`; NULL when none. */
static const char *last_sent(struct fx *f, size_t since, const struct sy_addr *to, const char *a, const char *b)
{
	const char *hit = NULL;
	for (size_t i = since; i < testenv_sent_count(&f->te); i++) {
		const struct testenv_sent *d = testenv_sent(&f->te, i);
		const char *t = (const char *)d->buf;
		if (sy_addr_eq(&d->to, to) && strstr(t, a) != NULL && (b == NULL || strstr(t, b) != NULL))
			hit = t;
	}
	return hit;
}

static size_t count_sent(struct fx *f, size_t since, const struct sy_addr *to, const char *a, const char *b)
{
	size_t n = 0;
	for (size_t i = since; i < testenv_sent_count(&f->te); i++) {
		const struct testenv_sent *d = testenv_sent(&f->te, i);
		const char *t = (const char *)d->buf;
		n += sy_addr_eq(&d->to, to) && strstr(t, a) != NULL && (b == NULL || strstr(t, b) != NULL);
	}
	return n;
}

/* The carrier answers the request text req (sent by the switch). */
static void carrier_reply(struct fx *f, const char *req, int code)
{
	char out[4096];
	struct sip_wbuf w;
	sip_w_init(&w, out, sizeof(out));
	struct sip_reply r = {.status = code, .to_tag = SY_STR("cr1")};
	if (code == 200)
		r.contact = SY_STR("<sip:gw@10.0.1.1:5060>");
	sip_raw_response(&w, sy_str_from(req), &r);
	assert_false(w.over);
	testenv_inject(&f->te, f->sock, &f->carrier, out, w.len);
}

static void invite(struct fx *f, int call)
{
	inject(f, &f->caller,
	       "INVITE sip:4420%d@10.0.0.1 SIP/2.0\nVia: SIP/2.0/UDP 10.0.0.100:5060;branch=z9hG4bKinv%d\n"
	       "Max-Forwards: 70\nFrom: <sip:alice@10.0.0.100>;tag=fa%d\nTo: <sip:4420%d@10.0.0.1>\n"
	       "Call-ID: call%d@a\nCSeq: 1 INVITE\nContact: <sip:alice@10.0.0.100:5060>\n",
	       call, call, call, call, call);
}

/* A call up to ringing (180) or answered (200 relayed to the caller). */
static void call_setup(struct fx *f, int call, int upto)
{
	size_t mark = testenv_sent_count(&f->te);
	char cid[32];
	snprintf(cid, sizeof(cid), "call%d@a", call);
	invite(f, call);
	const char *binv = last_sent(f, mark, &f->carrier, "INVITE sip:", NULL);
	assert_non_null(binv);
	char req[4096];
	snprintf(req, sizeof(req), "%s", binv);
	carrier_reply(f, req, 180);
	if (upto == 200)
		carrier_reply(f, req, 200);
	assert_non_null(last_sent(f, mark, &f->caller, upto == 200 ? "SIP/2.0 200" : "SIP/2.0 180", cid));
}

/* The To value (with our tag) of the switch's 200 for a call. */
static void a_to(struct fx *f, int call, char *out, size_t n)
{
	char cid[32];
	snprintf(cid, sizeof(cid), "call%d@a", call);
	const char *ok = last_sent(f, 0, &f->caller, "SIP/2.0 200", cid);
	assert_non_null(ok);
	struct sy_str to;
	assert_true(sip_raw_find(sy_str_from(ok), SIP_H_TO, &to));
	snprintf(out, n, "%.*s", (int)to.len, to.p);
}

static void a_indialog(struct fx *f, int call, const char *method, int cseq)
{
	char to[256];
	a_to(f, call, to, sizeof(to));
	inject(f, &f->caller,
	       "%s sip:switchyard@10.0.0.1:5060 SIP/2.0\nVia: SIP/2.0/UDP 10.0.0.100:5060;branch=z9hG4bK%s%d\n"
	       "Max-Forwards: 70\nFrom: <sip:alice@10.0.0.100>;tag=fa%d\nTo: %s\nCall-ID: call%d@a\nCSeq: %d %s\n",
	       method, method, f->seq++, call, to, call, cseq, method);
}

static void a_cancel(struct fx *f, int call)
{
	inject(f, &f->caller,
	       "CANCEL sip:4420%d@10.0.0.1 SIP/2.0\nVia: SIP/2.0/UDP 10.0.0.100:5060;branch=z9hG4bKinv%d\n"
	       "Max-Forwards: 70\nFrom: <sip:alice@10.0.0.100>;tag=fa%d\nTo: <sip:4420%d@10.0.0.1>\n"
	       "Call-ID: call%d@a\nCSeq: 1 CANCEL\n",
	       call, call, call, call, call);
}

/* In-dialog requests for dialogs nobody knows: each is answered 481 and
 * its NIST lingers 32 s (Timer J), in the reserve's class. */
static void fill_to(struct fx *f, uint64_t active)
{
	for (int guard = 0; sst(f)->txn_active < active && guard < 1000; guard++)
		inject(f, &f->caller,
		       "INFO sip:x@10.0.0.1 SIP/2.0\nVia: SIP/2.0/UDP 10.0.0.100:5060;branch=z9hG4bKfill%d\n"
		       "From: <sip:z@10.0.0.100>;tag=z1\nTo: <sip:x@10.0.0.1>;tag=gone\nCall-ID: gone%d@a\n"
		       "CSeq: 1 INFO\n",
		       f->seq, f->seq),
		    f->seq++;
	assert_int_equal(sst(f)->txn_active, active);
}

/* A new INVITE is refused 503 with Retry-After and counted by reason. */
static void expect_invite_refused(struct fx *f, int call)
{
	size_t mark = testenv_sent_count(&f->te);
	uint64_t before = sst(f)->rejected[SIP_OVL_TXN];
	char cid[32];
	snprintf(cid, sizeof(cid), "call%d@a", call);
	invite(f, call);
	const char *r = last_sent(f, mark, &f->caller, "SIP/2.0 503 Service Unavailable", cid);
	assert_non_null(r);
	assert_non_null(strstr(r, "\r\nRetry-After: 5\r\n"));
	assert_null(last_sent(f, mark, &f->carrier, "INVITE sip:", NULL));
	assert_int_equal(sst(f)->rejected[SIP_OVL_TXN], before + 1);
}

/* A BYE for a known call: 200 to the caller (never 503), BYE to the
 * carrier, the call's CDR. */
static void expect_bye_served(struct fx *f, int call)
{
	size_t mark = testenv_sent_count(&f->te), cdrs = f->cdrs;
	char cid[32];
	snprintf(cid, sizeof(cid), "call%d@a", call);
	a_indialog(f, call, "BYE", 2);
	assert_non_null(last_sent(f, mark, &f->caller, "SIP/2.0 200 OK", "CSeq: 2 BYE"));
	assert_int_equal(count_sent(f, mark, &f->caller, "SIP/2.0 503", NULL), 0);
	const char *bye = last_sent(f, mark, &f->carrier, "BYE sip:", NULL);
	assert_non_null(bye);
	/* the call (and its CDR) ends when the carrier has answered the BYE too */
	char req[4096];
	snprintf(req, sizeof(req), "%s", bye);
	carrier_reply(f, req, 200);
	assert_int_equal(f->cdrs, cdrs + 1);
}

static void test_full_pool_serves_dialogs(void **state)
{
	(void)state;
	struct fx *f = fx_new();
	call_setup(f, 1, 200); /* answered, ACKed: BYE in the reserve */
	a_indialog(f, 1, "ACK", 1);
	call_setup(f, 2, 200); /* answered, ACKed: BYE at the last slot */
	a_indialog(f, 2, "ACK", 1);
	call_setup(f, 3, 200); /* answered, not ACKed yet */
	call_setup(f, 4, 180); /* ringing: to be cancelled */
	assert_int_equal(b2bua_stats(f->b)->active, 4);

	/* At the admission threshold: new INVITEs refused, the BYE takes a
	 * transaction from the reserve. */
	fill_to(f, TXN_MAX * 90 / 100);
	expect_invite_refused(f, 10);
	expect_bye_served(f, 1);
	assert_int_equal(sst(f)->served_stateless, 0);

	/* Every slot taken: BYE, ACK and CANCEL are still served. */
	size_t mark;
	fill_to(f, TXN_MAX);
	expect_invite_refused(f, 11);
	expect_bye_served(f, 2);
	assert_int_equal(sst(f)->served_stateless, 1);

	/* An UPDATE past the reserve, which a TU may relay and answer
	 * later, gets 503 with Retry-After; the call stays up. */
	size_t m0 = testenv_sent_count(&f->te);
	a_indialog(f, 3, "UPDATE", 2);
	const char *u = last_sent(f, m0, &f->caller, "SIP/2.0 503", "CSeq: 2 UPDATE");
	assert_non_null(u);
	assert_non_null(strstr(u, "\r\nRetry-After: 5\r\n"));
	assert_int_equal(b2bua_stats(f->b)->active, 2);

	/* The ACK for call 3's 200 stops its retransmissions. */
	mark = testenv_sent_count(&f->te);
	a_indialog(f, 3, "ACK", 1);
	testenv_advance(&f->te, 8 * SEC);
	assert_int_equal(count_sent(f, mark, &f->caller, "SIP/2.0 200", "call3@a"), 0);

	/* CANCEL of the ringing call: 200 for the CANCEL, 487 for the
	 * INVITE, and the CANCEL goes on to the carrier. */
	fill_to(f, TXN_MAX); /* the carrier's answers to the BYEs freed slots */
	mark = testenv_sent_count(&f->te);
	a_cancel(f, 4);
	assert_non_null(last_sent(f, mark, &f->caller, "SIP/2.0 200 OK", "CSeq: 1 CANCEL"));
	assert_non_null(last_sent(f, mark, &f->caller, "SIP/2.0 487", "call4@a"));
	assert_non_null(last_sent(f, mark, &f->carrier, "CANCEL sip:", NULL));
	assert_int_equal(count_sent(f, mark, &f->caller, "SIP/2.0 503", NULL), 0);
	assert_int_equal(sst(f)->served_stateless, 2);

	/* /metrics shows the picture. */
	static char page[16384];
	struct sy_ctr_out o = {.p = page, .cap = sizeof(page)};
	sy_counters_prom(&o, &sip_stack_counters, sst(f));
	assert_false(o.cut);
	page[o.len] = '\0';
	assert_non_null(strstr(page, "\nswitchyard_sip_rejected_txn_total 3\n"));
	assert_non_null(strstr(page, "\nswitchyard_sip_served_stateless_total 2\n"));
	assert_non_null(strstr(page, "\nswitchyard_sip_txn_lingering "));
	assert_non_null(strstr(page, "switchyard_sip_loop_lag_seconds_count "));
	fx_free(f);
}

/* Past the threshold on calls, not transactions: counted as "calls". */
static void test_calls_threshold(void **state)
{
	(void)state;
	struct fx *f = fx_new();
	b2bua_destroy(f->b);
	struct b2bua_cfg cfg = {
	    .env = &f->te.env,
	    .listen = f->sw,
	    .calls_max = 10,
	    .txn_max = 1000,
	    .timers = {.t1_ns = 500 * MS, .t2_ns = 4 * SEC, .t4_ns = 5 * SEC},
	    .carriers = &f->car,
	    .carriers_n = 1,
	    .route = route_fn,
	    .access = callers_trunk(),
	    .pike = {.off = true}, /* 600 requests at one instant from one caller */
	};
	assert_int_equal(b2bua_create(&cfg, &f->b), SY_OK);
	f->sock = (struct sy_dgram *)&f->te.socks[f->te.nsocks - 1];
	for (int i = 1; i <= 9; i++)
		call_setup(f, i, 180);
	size_t mark = testenv_sent_count(&f->te);
	invite(f, 20);
	const char *r = last_sent(f, mark, &f->caller, "SIP/2.0 503", "call20@a");
	assert_non_null(r);
	assert_non_null(strstr(r, "\r\nRetry-After: 5\r\n"));
	assert_int_equal(sst(f)->rejected[SIP_OVL_CALLS], 1);
	assert_int_equal(sst(f)->rejected[SIP_OVL_TXN], 0);
	fx_free(f);
}

/* A loop busy elsewhere runs timers late: the fake clock jumps past a
 * retransmission timer before it fires. New INVITEs are then refused for
 * lag; once timers run on time again they are admitted. */
static void test_lag_threshold(void **state)
{
	(void)state;
	struct fx *f = fx_new();
	call_setup(f, 1, 200);	 /* not ACKed: the 2xx is retransmitted from T1 */
	f->te.now_ns += 3 * SEC; /* the loop stalls 3 s */
	testenv_advance(&f->te, 0);
	assert_true(sst(f)->lag.count >= 1 && sst(f)->lag.max_ns >= 2 * SEC);
	assert_true(sst(f)->lag_ns > 200 * MS);
	size_t mark = testenv_sent_count(&f->te);
	invite(f, 2);
	const char *r = last_sent(f, mark, &f->caller, "SIP/2.0 503", "call2@a");
	assert_non_null(r);
	assert_non_null(strstr(r, "\r\nRetry-After: 5\r\n"));
	assert_int_equal(sst(f)->rejected[SIP_OVL_LAG], 1);
	/* The caller ACKs; timers run on time again and the late one ages
	 * out of the 1-2 s window. */
	a_indialog(f, 1, "ACK", 1);
	testenv_advance(&f->te, 3 * SEC);
	assert_int_equal(sip_stack_overload(b2bua_stack(f->b)), SIP_OVL_NONE);
	mark = testenv_sent_count(&f->te);
	invite(f, 3);
	assert_non_null(last_sent(f, mark, &f->carrier, "INVITE sip:", NULL));
	assert_int_equal(sst(f)->rejected[SIP_OVL_LAG], 1);
	fx_free(f);
}

/* What a lingering transaction costs (docs/operations.md, Sizing): calls
 * set up and ended by the caller's BYE leave, per call, the A leg's IST
 * (ACKed: keeps nothing), the B leg's ICT (Accepted: nothing), the BYE's
 * NIST (nothing: its 200 OK is rebuilt from a retransmitted BYE) and the
 * B leg BYE's NICT (nothing); none keeps its request or a parsed message. Measured from osip's pool, where the kept
 * bytes live, plus the slot. */
static void test_lingering_bytes(void **state)
{
	(void)state;
	enum { CALLS = 200 };
	struct fx *f = fx_new();
	b2bua_destroy(f->b);
	struct b2bua_cfg cfg = {
	    .env = &f->te.env,
	    .listen = f->sw,
	    .calls_max = CALLS + 8,
	    .txn_max = 4096,
	    .timers = {.t1_ns = 500 * MS, .t2_ns = 4 * SEC, .t4_ns = 5 * SEC},
	    .carriers = &f->car,
	    .carriers_n = 1,
	    .route = route_fn,
	    .access = callers_trunk(),
	    .pike = {.off = true}, /* 600 requests at one instant from one caller */
	};
	assert_int_equal(b2bua_create(&cfg, &f->b), SY_OK);
	f->sock = (struct sy_dgram *)&f->te.socks[f->te.nsocks - 1];
	struct sip_osip_pool_stats before, after;
	sip_osip_pool_stats(&before);
	for (int i = 1; i <= CALLS; i++) {
		call_setup(f, i, 200);
		a_indialog(f, i, "ACK", 1);
		size_t mark = testenv_sent_count(&f->te);
		a_indialog(f, i, "BYE", 2);
		const char *bye = last_sent(f, mark, &f->carrier, "BYE sip:", NULL);
		assert_non_null(bye);
		char req[4096];
		snprintf(req, sizeof(req), "%s", bye);
		carrier_reply(f, req, 200);
	}
	assert_int_equal(b2bua_stats(f->b)->active, 0);
	assert_int_equal(sst(f)->txn_active, 4 * CALLS);
	assert_int_equal(sst(f)->txn_lingering, 4 * CALLS);
	sip_osip_pool_stats(&after);
	size_t kept = after.used_bytes - before.used_bytes;
	size_t slot = sip_txn_slot_bytes();
	size_t per = slot + 4 + kept / (4 * CALLS); /* slot + bucket + kept bytes */
	fprintf(stderr,
		"lingering: %d transactions, %zu bytes kept in osip's pool, %zu bytes each "
		"(slot %zu + bucket 4 + kept); accounted %llu bytes with slabs\n",
		4 * CALLS, kept, per, slot, (unsigned long long)sst(f)->mem_bytes);
	assert_true(per <= slot + 4);
	/* The stack's own account (mem_bytes: slabs plus kept blocks) agrees. */
	uint64_t slabs = sst(f)->mem_bytes - kept;
	assert_true(slabs % slot == 0 && slabs >= 4 * CALLS * slot);
	/* Not even the BYE NIST keeps its 200 OK. */
	assert_int_equal(kept, 0);
	testenv_advance(&f->te, 40 * SEC);
	assert_int_equal(sst(f)->txn_active, 0);
	assert_int_equal(sst(f)->txn_lingering, 0);
	sip_osip_pool_stats(&after);
	assert_int_equal(after.used_bytes, before.used_bytes);
	fx_free(f);
}

/* [node] keys: sip_memory, overload_at, overload_lag, retry_after reach the
 * switch's config; bad values fail with file:line. */
static void test_node_keys(void **state)
{
	(void)state;
	char err[256];
	struct scn *sc = NULL;
	const char *text = "[node]\nsip_memory = 512MB\noverload_at = 80%\noverload_lag = 50ms\nretry_after = 30s\n"
			   "osip_memory = 2GB\n";
	assert_int_equal(scn_parse_string(text, "n.scn", &sc, err, sizeof(err)), SY_OK);
	struct node_cfg *n = conf_node_new(sc);
	assert_non_null(n);
	assert_int_equal(n->sw.limits.mem_max, (uint64_t)512 << 20);
	assert_int_equal(n->sw.limits.admit_pct, 80);
	assert_int_equal(n->sw.limits.lag_max_ns, 50 * MS);
	assert_int_equal(n->sw.limits.retry_after_s, 30);
	assert_int_equal(n->sw.limits.osip_max, (uint64_t)2 << 30);
	free(n);
	scn_free(sc);
	static const char *bad[] = {
	    "[node]\nsip_memory = 12 apples\n", "[node]\nsip_memory = 100KB\n", "[node]\noverload_at = 0%\n",
	    "[node]\noverload_at = 90\n",	"[node]\noverload_at = 101%\n", "[node]\nretry_after = 1500ms\n",
	};
	for (size_t i = 0; i < SY_ARRAY_LEN(bad); i++) {
		sc = NULL;
		assert_int_equal(scn_parse_string(bad[i], "n.scn", &sc, err, sizeof(err)), SY_ERR_PARSE);
		assert_null(sc);
		assert_non_null(strstr(err, "n.scn:2:"));
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_full_pool_serves_dialogs),
	    cmocka_unit_test(test_calls_threshold),
	    cmocka_unit_test(test_lag_threshold),
	    cmocka_unit_test(test_lingering_bytes),
	    cmocka_unit_test(test_node_keys),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
