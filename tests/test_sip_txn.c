/* test_sip_txn.c: the RFC 3261 / RFC 6026 transaction layer on virtual
 * time. Every test checks the exact virtual send times of the datagrams the
 * stack emits and which TU callbacks fired when. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>

#include <cmocka.h>

#include "core/rng.h"
#include "core/sip/osip_pool.h"
#include "core/sip/txn.h"
#include "core/sip/wire.h"
#include "tests/testenv.h"

#define MS  SY_NS_PER_MS
#define SEC SY_NS_PER_S

enum ev_type { EV_REQUEST, EV_RESPONSE, EV_TIMEOUT, EV_TERMINATED };

struct ev {
	enum ev_type type;
	struct sip_txn *t;
	int status;
	enum sip_method method;
	uint64_t at_ns;
	bool had_request; /* sip_txn_request(t) != NULL during the callback */
};

struct fx {
	struct testenv te;
	struct sy_dgram *sock;
	struct sip_stack *s;
	struct sy_addr local, peer;
	struct ev evs[512];
	int nev;
	struct sip_txn *ist_to_ack; /* on an ACK with st == NULL: sip_txn_acked(this) */
	int respond_in_cb;	    /* non-zero: on_request answers this status at once */
};

static void record(struct fx *f, enum ev_type type, struct sip_txn *t, const struct sip_msg *m)
{
	SY_ASSERT(f->nev < (int)SY_ARRAY_LEN(f->evs));
	struct ev *e = &f->evs[f->nev++];
	*e = (struct ev){.type = type, .t = t, .at_ns = f->te.now_ns};
	if (m != NULL) {
		e->status = m->status;
		e->method = m->method;
	}
	if (t != NULL && type != EV_TERMINATED)
		e->had_request = sip_txn_request(t) != NULL;
}

static void tu_request(void *arg, struct sip_txn *st, const struct sip_msg *req, const struct sy_addr *from)
{
	struct fx *f = arg;
	record(f, EV_REQUEST, st, req);
	if (st == NULL && req->method == SIP_M_ACK && f->ist_to_ack != NULL)
		sip_txn_acked(f->ist_to_ack);
	if (st != NULL && f->respond_in_cb != 0) {
		osip_message_t *r;
		assert_int_equal(sip_response_build(sip_txn_request(st), f->respond_in_cb, NULL, "uas1", &r), SY_OK);
		assert_int_equal(sip_txn_respond(st, r), SY_OK);
		/* The request stays readable until on_request returns. */
		assert_non_null(req->m->call_id);
		assert_true(req->call_id.len > 0 && req->call_id.p == req->m->call_id->number);
		assert_int_equal(strlen(req->call_id.p), req->call_id.len); /* ASan: still allocated */
	}
}

static void tu_response(void *arg, struct sip_txn *ct, const struct sip_msg *resp)
{
	record(arg, EV_RESPONSE, ct, resp);
}

static void tu_timeout(void *arg, struct sip_txn *t)
{
	record(arg, EV_TIMEOUT, t, NULL);
}

static void tu_terminated(void *arg, struct sip_txn *t)
{
	record(arg, EV_TERMINATED, t, NULL);
}

static const struct sip_tu tu = {tu_request, tu_response, tu_timeout, tu_terminated};

static void on_dgram(void *arg, struct sy_dgram *sock, const struct sy_addr *from, const uint8_t *buf, size_t len)
{
	sip_stack_recv(arg, from, buf, len);
}

static bool fx_raw_requests; /* the next fx_new's stack: cfg.raw_requests */

static struct fx *fx_new(uint32_t txn_max)
{
	struct fx *f = calloc(1, sizeof(*f));
	testenv_init(&f->te, 7);
	f->local = sy_addr_v4(10, 0, 0, 1, 5060);
	f->peer = sy_addr_v4(10, 0, 0, 2, 5060);
	struct sip_stack_cfg cfg = {.env = &f->te.env,
				    .local = f->local,
				    .txn_max = txn_max,
				    .tu = &tu,
				    .tu_arg = f,
				    .raw_requests = fx_raw_requests};
	assert_int_equal(sy_env_dgram_open(&f->te.env, &f->local, on_dgram, NULL, &f->sock), SY_OK);
	cfg.sock = f->sock;
	assert_int_equal(sip_stack_create(&cfg, &f->s), SY_OK);
	f->te.socks[0].arg = f->s; /* the recv callback needs the stack */
	return f;
}

static void fx_free(struct fx *f)
{
	sip_stack_destroy(f->s);
	testenv_free(&f->te);
	free(f);
}

static void inject(struct fx *f, const char *fmt, ...)
{
	char buf[2048];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	SY_ASSERT(n > 0 && (size_t)n < sizeof(buf));
	testenv_inject(&f->te, f->sock, &f->peer, buf, (size_t)n);
}

/* A request from the peer: method, branch, To tag suffix, CSeq method. */
#define REQ_FMT                                                                                                        \
	"%s sip:bob@10.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 10.0.0.2:5060;branch=%s\r\n"                                  \
	"From: <sip:alice@x>;tag=f1\r\nTo: <sip:bob@10.0.0.1>%s\r\nCall-ID: c1@x\r\nCSeq: 1 %s\r\n"                    \
	"Max-Forwards: 70\r\nContent-Length: 0\r\n\r\n"
/* A response to our client transaction: status, reason, branch, CSeq method. */
#define RESP_FMT                                                                                                       \
	"SIP/2.0 %d %s\r\nVia: SIP/2.0/UDP 10.0.0.1:5060;branch=%s;rport=5060\r\n"                                     \
	"From: <sip:alice@x>;tag=f1\r\nTo: <sip:bob@y>;tag=t9\r\nCall-ID: c1@x\r\nCSeq: 1 %s\r\nContent-Length: "      \
	"0\r\n\r\n"

static void req_in(struct fx *f, const char *method, const char *branch)
{
	inject(f, REQ_FMT, method, branch, strcmp(method, "ACK") == 0 ? ";tag=uas1" : "", method);
}

static void resp_in(struct fx *f, int status, const char *branch, const char *cseq_method)
{
	inject(f, RESP_FMT, status, sip_reason_phrase(status), branch, cseq_method);
}

/* Starts a client transaction; SY_ERR_FULL / SY_ERR_INVAL (duplicate) are
 * returned, not asserted. */
static enum sy_rc try_client(struct fx *f, const char *method, const char *branch)
{
	char text[1024];
	struct sip_msg m;
	snprintf(text, sizeof(text),
		 "%s sip:bob@10.0.0.2 SIP/2.0\r\nVia: SIP/2.0/UDP 10.0.0.1:5060;branch=%s\r\n"
		 "From: <sip:alice@x>;tag=f1\r\nTo: <sip:bob@y>\r\nCall-ID: c1@x\r\nCSeq: 1 %s\r\n\r\n",
		 method, branch, method);
	assert_int_equal(sip_msg_parse((const uint8_t *)text, strlen(text), &m, NULL, 0), SY_OK);
	return sip_txn_client_start(f->s, m.m, &f->peer, NULL, NULL);
}

static struct sip_txn *client(struct fx *f, const char *method, const char *branch)
{
	char text[1024];
	struct sip_msg m;
	snprintf(text, sizeof(text),
		 "%s sip:bob@10.0.0.2 SIP/2.0\r\nVia: SIP/2.0/UDP 10.0.0.1:5060;branch=%s;rport\r\n"
		 "From: <sip:alice@x>;tag=f1\r\nTo: <sip:bob@y>\r\nCall-ID: c1@x\r\nCSeq: 1 %s\r\n"
		 "Route: <sip:10.0.0.2;lr>\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n",
		 method, branch, method);
	assert_int_equal(sip_msg_parse((const uint8_t *)text, strlen(text), &m, NULL, 0), SY_OK);
	struct sip_txn *t = NULL;
	assert_int_equal(sip_txn_client_start(f->s, m.m, &f->peer, f, &t), SY_OK);
	assert_non_null(t);
	return t;
}

static osip_message_t *answer(struct sip_txn *st, int status)
{
	osip_message_t *r;
	assert_non_null(sip_txn_request(st));
	assert_int_equal(sip_response_build(sip_txn_request(st), status, NULL, "uas1", &r), SY_OK);
	return r;
}

static void respond(struct sip_txn *st, int status)
{
	assert_int_equal(sip_txn_respond(st, answer(st, status)), SY_OK);
}

/* The datagrams sent from index `from` on: exactly n, at these times (in
 * ms), each starting with prefix. */
static void expect_sends(struct fx *f, size_t from, const char *prefix, const uint64_t *at_ms, size_t n)
{
	size_t have = testenv_sent_count(&f->te);
	if (have != from + n) {
		for (size_t i = from; i < have; i++)
			fprintf(stderr, "  sent[%zu] at %llu ms: %.30s\n", i,
				(unsigned long long)(testenv_sent(&f->te, i)->at_ns / MS),
				testenv_sent(&f->te, i)->buf);
		fail_msg("sent %zu datagrams from %zu, want %zu", have - from, from, n);
	}
	for (size_t i = 0; i < n; i++) {
		const struct testenv_sent *d = testenv_sent(&f->te, from + i);
		if (d->at_ns != at_ms[i] * MS)
			fail_msg("send %zu at %llu ns, want %llu ms", i, (unsigned long long)d->at_ns,
				 (unsigned long long)at_ms[i]);
		if (strncmp((const char *)d->buf, prefix, strlen(prefix)) != 0)
			fail_msg("send %zu is '%.40s', want prefix '%s'", i, d->buf, prefix);
		assert_true(sy_addr_eq(&d->to, &f->peer));
	}
}

static int count_ev(const struct fx *f, enum ev_type type)
{
	int n = 0;
	for (int i = 0; i < f->nev; i++)
		n += f->evs[i].type == type;
	return n;
}

static const struct ev *last_ev(const struct fx *f, enum ev_type type)
{
	for (int i = f->nev - 1; i >= 0; i--)
		if (f->evs[i].type == type)
			return &f->evs[i];
	return NULL;
}

static bool sent_contains(struct fx *f, size_t i, const char *needle)
{
	return strstr((const char *)testenv_sent(&f->te, i)->buf, needle) != NULL;
}

/* ---- client transactions ---- */

static void test_ict_timer_a_b(void **state)
{
	(void)state;
	struct fx *f = fx_new(16);
	struct sip_txn *t = client(f, "INVITE", "z9hG4bKict1");
	assert_int_equal(sip_txn_state(t), SIP_TS_CALLING);
	testenv_advance(&f->te, 40 * SEC);
	static const uint64_t at[] = {0, 500, 1500, 3500, 7500, 15500, 31500};
	expect_sends(f, 0, "INVITE ", at, SY_ARRAY_LEN(at));
	assert_int_equal(count_ev(f, EV_TIMEOUT), 1);
	assert_int_equal(last_ev(f, EV_TIMEOUT)->at_ns, 32 * SEC);
	assert_int_equal(last_ev(f, EV_TERMINATED)->at_ns, 32 * SEC);
	assert_int_equal(f->evs[f->nev - 1].type, EV_TERMINATED);
	assert_int_equal(sip_stack_stats(f->s)->retransmits_sent, 6);
	assert_int_equal(sip_stack_stats(f->s)->timeouts, 1);
	assert_int_equal(sip_stack_stats(f->s)->txn_active, 0);
	assert_int_equal(testenv_timers_pending(&f->te), 0);
	fx_free(f);
}

static void test_ict_1xx_then_2xx_accepted(void **state)
{
	(void)state;
	struct fx *f = fx_new(16);
	struct sip_txn *t = client(f, "INVITE", "z9hG4bKict2");
	testenv_advance(&f->te, 700 * MS);
	resp_in(f, 180, "z9hG4bKict2", "INVITE");
	assert_int_equal(sip_txn_state(t), SIP_TS_PROCEEDING);
	testenv_advance(&f->te, 60 * SEC); /* Proceeding: no retransmission, no Timer B */
	static const uint64_t at[] = {0, 500};
	expect_sends(f, 0, "INVITE ", at, 2);
	assert_int_equal(count_ev(f, EV_TIMEOUT), 0);
	resp_in(f, 200, "z9hG4bKict2", "INVITE");
	assert_int_equal(sip_txn_state(t), SIP_TS_ACCEPTED);
	assert_true(last_ev(f, EV_RESPONSE)->had_request); /* valid for the first final */
	assert_null(sip_txn_request(t));
	uint64_t t200 = f->te.now_ns;
	testenv_advance(&f->te, 10 * SEC);
	resp_in(f, 200, "z9hG4bKict2", "INVITE"); /* 2xx retransmission: to the TU */
	assert_int_equal(count_ev(f, EV_RESPONSE), 3);
	assert_ptr_equal(last_ev(f, EV_RESPONSE)->t, t);
	testenv_advance(&f->te, 30 * SEC);
	assert_int_equal(last_ev(f, EV_TERMINATED)->at_ns, t200 + 32 * SEC); /* Timer M */
	assert_int_equal(count_ev(f, EV_TIMEOUT), 0);
	resp_in(f, 200, "z9hG4bKict2", "INVITE"); /* after M: ct == NULL */
	assert_null(last_ev(f, EV_RESPONSE)->t);
	assert_int_equal(last_ev(f, EV_RESPONSE)->status, 200);
	expect_sends(f, 0, "INVITE ", at, 2); /* the stack never ACKs a 2xx */
	fx_free(f);
}

static void test_ict_error_ack_timer_d(void **state)
{
	(void)state;
	struct fx *f = fx_new(16);
	struct sip_txn *t = client(f, "INVITE", "z9hG4bKict3");
	testenv_advance(&f->te, 100 * MS);
	resp_in(f, 486, "z9hG4bKict3", "INVITE");
	assert_int_equal(sip_txn_state(t), SIP_TS_COMPLETED);
	assert_int_equal(count_ev(f, EV_RESPONSE), 1);
	assert_true(last_ev(f, EV_RESPONSE)->had_request);
	testenv_advance(&f->te, 900 * MS);
	resp_in(f, 486, "z9hG4bKict3", "INVITE"); /* absorbed: ACK resent */
	testenv_advance(&f->te, 20 * SEC);
	resp_in(f, 486, "z9hG4bKict3", "INVITE");
	assert_int_equal(count_ev(f, EV_RESPONSE), 1);
	testenv_advance(&f->te, 20 * SEC);
	assert_int_equal(testenv_sent(&f->te, 0)->at_ns, 0);
	assert_true(strncmp((const char *)testenv_sent(&f->te, 0)->buf, "INVITE ", 7) == 0);
	static const uint64_t ack_at[] = {100, 1000, 21000};
	expect_sends(f, 1, "ACK sip:bob@10.0.0.2 SIP/2.0", ack_at, 3);
	assert_true(sent_contains(f, 1, "branch=z9hG4bKict3"));
	assert_true(sent_contains(f, 1, "CSeq: 1 ACK"));
	assert_true(sent_contains(f, 1, "tag=t9"));
	assert_true(sent_contains(f, 1, "Route: <sip:10.0.0.2;lr>"));
	assert_int_equal(last_ev(f, EV_TERMINATED)->at_ns, 100 * MS + 32 * SEC); /* Timer D */
	assert_int_equal(count_ev(f, EV_TIMEOUT), 0);
	assert_int_equal(sip_stack_stats(f->s)->retransmits_absorbed, 2);
	fx_free(f);
}

static void test_nict_timer_e_f(void **state)
{
	(void)state;
	struct fx *f = fx_new(16);
	client(f, "OPTIONS", "z9hG4bKn1");
	testenv_advance(&f->te, 40 * SEC);
	static const uint64_t at[] = {0, 500, 1500, 3500, 7500, 11500, 15500, 19500, 23500, 27500, 31500};
	expect_sends(f, 0, "OPTIONS ", at, SY_ARRAY_LEN(at));
	assert_int_equal(last_ev(f, EV_TIMEOUT)->at_ns, 32 * SEC); /* Timer F */
	assert_int_equal(last_ev(f, EV_TERMINATED)->at_ns, 32 * SEC);
	fx_free(f);
}

static void test_nict_provisional_e_t2(void **state)
{
	(void)state;
	struct fx *f = fx_new(16);
	struct sip_txn *t = client(f, "BYE", "z9hG4bKn2");
	testenv_advance(&f->te, 200 * MS);
	resp_in(f, 100, "z9hG4bKn2", "BYE");
	assert_int_equal(sip_txn_state(t), SIP_TS_PROCEEDING);
	testenv_advance(&f->te, 40 * SEC);
	static const uint64_t at[] = {0, 500, 4500, 8500, 12500, 16500, 20500, 24500, 28500};
	expect_sends(f, 0, "BYE ", at, SY_ARRAY_LEN(at));
	assert_int_equal(last_ev(f, EV_TIMEOUT)->at_ns, 32 * SEC);
	fx_free(f);
}

static void test_nict_timer_k(void **state)
{
	(void)state;
	struct fx *f = fx_new(16);
	struct sip_txn *t = client(f, "BYE", "z9hG4bKn3");
	testenv_advance(&f->te, 300 * MS);
	resp_in(f, 200, "z9hG4bKn3", "BYE");
	assert_int_equal(sip_txn_state(t), SIP_TS_COMPLETED);
	assert_null(sip_txn_request(t));
	testenv_advance(&f->te, 1 * SEC);
	resp_in(f, 200, "z9hG4bKn3", "BYE");	/* absorbed */
	resp_in(f, 180, "z9hG4bKn3", "INVITE"); /* other method: no match, dropped */
	assert_int_equal(count_ev(f, EV_RESPONSE), 1);
	assert_int_equal(sip_stack_stats(f->s)->rx_stray_responses, 1);
	testenv_advance(&f->te, 10 * SEC);
	static const uint64_t at[] = {0};
	expect_sends(f, 0, "BYE ", at, 1);
	assert_int_equal(last_ev(f, EV_TERMINATED)->at_ns, 5300 * MS); /* Timer K = T4 */
	assert_int_equal(count_ev(f, EV_TIMEOUT), 0);
	fx_free(f);
}

static void test_client_cancel(void **state)
{
	(void)state;
	struct fx *f = fx_new(16);
	struct sip_txn *t = client(f, "INVITE", "z9hG4bKcc1");
	assert_int_equal(sip_txn_client_cancel(t), SY_OK); /* Calling: deferred */
	testenv_advance(&f->te, 200 * MS);
	static const uint64_t inv_at[] = {0};
	expect_sends(f, 0, "INVITE ", inv_at, 1);
	resp_in(f, 180, "z9hG4bKcc1", "INVITE"); /* now the CANCEL goes */
	static const uint64_t c_at[] = {200};
	expect_sends(f, 1, "CANCEL sip:bob@10.0.0.2 SIP/2.0", c_at, 1);
	assert_true(sent_contains(f, 1, "branch=z9hG4bKcc1"));
	assert_true(sent_contains(f, 1, "CSeq: 1 CANCEL"));
	testenv_advance(&f->te, 600 * MS); /* CANCEL's Timer E at 0.7 s */
	static const uint64_t c2_at[] = {200, 700};
	expect_sends(f, 1, "CANCEL ", c2_at, 2);
	resp_in(f, 200, "z9hG4bKcc1", "CANCEL"); /* internal: not for the TU */
	assert_int_equal(count_ev(f, EV_RESPONSE), 1);
	testenv_advance(&f->te, 100 * MS);
	resp_in(f, 487, "z9hG4bKcc1", "INVITE");
	assert_int_equal(count_ev(f, EV_RESPONSE), 2);
	assert_int_equal(last_ev(f, EV_RESPONSE)->status, 487);
	static const uint64_t ack_at[] = {900};
	expect_sends(f, 3, "ACK ", ack_at, 1);
	assert_int_equal(sip_txn_client_cancel(t), SY_OK); /* no-op now */
	testenv_advance(&f->te, 60 * SEC);
	expect_sends(f, 3, "ACK ", ack_at, 1);
	assert_int_equal(count_ev(f, EV_TERMINATED), 1); /* the CANCEL's is not reported */
	assert_int_equal(count_ev(f, EV_TIMEOUT), 0);
	assert_int_equal(sip_stack_stats(f->s)->txn_active, 0);
	fx_free(f);
}

/* What sip_raw_cancel_ack makes of the INVITE's full bytes (sent[0]). */
static void full_cancel_ack(struct fx *f, const char *method, struct sy_str to, char *out, size_t cap)
{
	const struct testenv_sent *inv = testenv_sent(&f->te, 0);
	struct sip_wbuf w;
	sip_w_init(&w, out, cap - 1);
	sip_raw_cancel_ack(&w, (struct sy_str){(const char *)inv->buf, inv->len}, method, to);
	assert_false(w.over);
	out[w.len] = '\0';
}

/* From the first 1xx an ICT keeps only what its CANCEL or ACK is made
 * of (no body, no Contact ...): fewer bytes held, and the CANCEL and the
 * ACK of the 487 byte for byte what the whole INVITE would have made. */
static void test_ict_ringing_skeleton(void **state)
{
	(void)state;
	struct fx *f = fx_new(16);
	static const char sdp[] = "v=0\r\no=- 1 1 IN IP4 10.0.0.1\r\ns=-\r\nc=IN IP4 10.0.0.1\r\nt=0 0\r\n"
				  "m=audio 10000 RTP/AVP 0 8 101\r\na=rtpmap:101 telephone-event/8000\r\n";
	char text[2048];
	snprintf(text, sizeof(text),
		 "INVITE sip:bob@10.0.0.2 SIP/2.0\r\nVia: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bKsk1;rport\r\n"
		 "Max-Forwards: 70\r\nRoute: <sip:10.0.0.2;lr>\r\nFrom: \"Alice\" <sip:alice@x>;tag=f1\r\n"
		 "To: <sip:bob@y>\r\nCall-ID: sk1@x\r\nCSeq: 7 INVITE\r\nContact: <sip:alice@10.0.0.1:5060>\r\n"
		 "Allow: INVITE, ACK, CANCEL, BYE, UPDATE\r\nSupported: timer\r\nUser-Agent: test\r\n"
		 "Content-Type: application/sdp\r\nContent-Length: %zu\r\n\r\n%s",
		 strlen(sdp), sdp);
	struct sip_msg m;
	assert_int_equal(sip_msg_parse((const uint8_t *)text, strlen(text), &m, NULL, 0), SY_OK);
	struct sip_txn *t = NULL;
	assert_int_equal(sip_txn_client_start(f->s, m.m, &f->peer, f, &t), SY_OK);
	uint64_t calling = sip_stack_stats(f->s)->mem_bytes;
	testenv_advance(&f->te, 100 * MS);
	inject(f, "SIP/2.0 180 Ringing\r\nVia: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bKsk1\r\n"
		  "From: <sip:alice@x>;tag=f1\r\nTo: <sip:bob@y>;tag=t9\r\nCall-ID: sk1@x\r\nCSeq: 7 INVITE\r\n"
		  "Content-Length: 0\r\n\r\n");
	assert_int_equal(sip_txn_state(t), SIP_TS_PROCEEDING);
	assert_true(sip_stack_stats(f->s)->mem_bytes < calling);
	char want[2048];
	assert_int_equal(sip_txn_client_cancel(t), SY_OK);
	full_cancel_ack(f, "CANCEL", SY_STR_NULL, want, sizeof(want));
	assert_int_equal(testenv_sent_count(&f->te), 2);
	assert_int_equal(testenv_sent(&f->te, 1)->len, strlen(want));
	assert_memory_equal(testenv_sent(&f->te, 1)->buf, want, strlen(want));
	testenv_advance(&f->te, 100 * MS);
	static const char to[] = "<sip:bob@y>;tag=t9";
	inject(f,
	       "SIP/2.0 487 Request Terminated\r\nVia: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bKsk1\r\n"
	       "From: <sip:alice@x>;tag=f1\r\nTo: %s\r\nCall-ID: sk1@x\r\nCSeq: 7 INVITE\r\n"
	       "Content-Length: 0\r\n\r\n",
	       to);
	assert_int_equal(sip_txn_state(t), SIP_TS_COMPLETED);
	full_cancel_ack(f, "ACK", (struct sy_str){to, strlen(to)}, want, sizeof(want));
	const struct testenv_sent *ack = testenv_sent(&f->te, testenv_sent_count(&f->te) - 1);
	assert_int_equal(ack->len, strlen(want));
	assert_memory_equal(ack->buf, want, strlen(want));
	testenv_advance(&f->te, 60 * SEC);
	assert_int_equal(sip_stack_stats(f->s)->txn_active, 0);
	fx_free(f);
}

static void test_client_cancel_no_answer(void **state)
{
	(void)state;
	struct fx *f = fx_new(16);
	struct sip_txn *t = client(f, "INVITE", "z9hG4bKcc2");
	testenv_advance(&f->te, 100 * MS);
	resp_in(f, 183, "z9hG4bKcc2", "INVITE");
	testenv_advance(&f->te, 900 * MS);
	assert_int_equal(sip_txn_client_cancel(t), SY_OK);
	resp_in(f, 200, "z9hG4bKcc2", "CANCEL");
	testenv_advance(&f->te, 40 * SEC);
	/* RFC 3261 9.1: no final response 64*T1 after the CANCEL. */
	assert_int_equal(last_ev(f, EV_TIMEOUT)->at_ns, 33 * SEC);
	assert_ptr_equal(last_ev(f, EV_TIMEOUT)->t, t);
	fx_free(f);
}

/* ---- server transactions ---- */

static struct sip_txn *last_st(const struct fx *f)
{
	const struct ev *e = last_ev(f, EV_REQUEST);
	assert_non_null(e);
	return e->t;
}

static void test_ist_provisional_and_timer_g_i(void **state)
{
	(void)state;
	struct fx *f = fx_new(16);
	req_in(f, "INVITE", "z9hG4bKs1");
	struct sip_txn *st = last_st(f);
	assert_non_null(st);
	assert_int_equal(sip_txn_kind(st), SIP_TXN_IST);
	assert_int_equal(sip_txn_state(st), SIP_TS_PROCEEDING);
	respond(st, 100);
	respond(st, 180);
	testenv_advance(&f->te, 1 * SEC);
	req_in(f, "INVITE", "z9hG4bKs1"); /* retransmission: last provisional again */
	assert_int_equal(count_ev(f, EV_REQUEST), 1);
	static const uint64_t p_at[] = {0, 0, 1000};
	expect_sends(f, 0, "SIP/2.0 1", p_at, 3);
	assert_true(sent_contains(f, 2, "180 Ringing"));
	testenv_advance(&f->te, 1 * SEC);
	respond(st, 486);
	assert_null(sip_txn_request(st));
	testenv_advance(&f->te, 8 * SEC); /* to 10 s */
	req_in(f, "INVITE", "z9hG4bKs1"); /* resend the final */
	static const uint64_t g_at[] = {2000, 2500, 3500, 5500, 9500, 10000};
	expect_sends(f, 3, "SIP/2.0 486 Busy Here", g_at, SY_ARRAY_LEN(g_at));
	testenv_advance(&f->te, 200 * MS);
	req_in(f, "ACK", "z9hG4bKs1"); /* ACK to the 486: absorbed */
	assert_int_equal(sip_txn_state(st), SIP_TS_CONFIRMED);
	assert_int_equal(count_ev(f, EV_REQUEST), 1);
	testenv_advance(&f->te, 1 * SEC);
	req_in(f, "ACK", "z9hG4bKs1");
	testenv_advance(&f->te, 20 * SEC);
	expect_sends(f, 3, "SIP/2.0 486 Busy Here", g_at, SY_ARRAY_LEN(g_at));
	assert_int_equal(last_ev(f, EV_TERMINATED)->at_ns, 15200 * MS); /* Timer I */
	assert_int_equal(count_ev(f, EV_TIMEOUT), 0);
	fx_free(f);
}

static void test_ist_timer_h(void **state)
{
	(void)state;
	struct fx *f = fx_new(16);
	req_in(f, "INVITE", "z9hG4bKs2");
	respond(last_st(f), 180); /* the caller stopped retransmitting: Timer G it is */
	respond(last_st(f), 603);
	testenv_advance(&f->te, 40 * SEC);
	static const uint64_t at[] = {0, 500, 1500, 3500, 7500, 11500, 15500, 19500, 23500, 27500, 31500};
	expect_sends(f, 1, "SIP/2.0 603 Decline", at, SY_ARRAY_LEN(at));
	assert_int_equal(last_ev(f, EV_TIMEOUT)->at_ns, 32 * SEC);
	assert_int_equal(last_ev(f, EV_TERMINATED)->at_ns, 32 * SEC);
	assert_int_equal(sip_stack_stats(f->s)->finals_once, 0);
	fx_free(f);
}

/* A refusal before any 1xx (docs/security.md): sent once, and
 * again for each copy of the INVITE that arrives, never by Timer G, so
 * an INVITE with a forged source yields one datagram, not eleven. */
static void test_ist_refusal_once(void **state)
{
	(void)state;
	struct fx *f = fx_new(16);
	req_in(f, "INVITE", "z9hG4bKs9");
	respond(last_st(f), 403);
	testenv_advance(&f->te, 2 * SEC);
	req_in(f, "INVITE", "z9hG4bKs9"); /* the caller's Timer A copy: answered again */
	testenv_advance(&f->te, 40 * SEC);
	static const uint64_t at[] = {0, 2000};
	expect_sends(f, 0, "SIP/2.0 403 Forbidden", at, SY_ARRAY_LEN(at));
	assert_int_equal(count_ev(f, EV_REQUEST), 1);
	assert_int_equal(last_ev(f, EV_TERMINATED)->at_ns, 32 * SEC); /* Timer H still bounds it */
	assert_int_equal(sip_stack_stats(f->s)->finals_once, 1);
	fx_free(f);
}

static void test_ist_accepted_acked(void **state)
{
	(void)state;
	struct fx *f = fx_new(16);
	req_in(f, "INVITE", "z9hG4bKs3");
	struct sip_txn *st = last_st(f);
	respond(st, 200);
	assert_int_equal(sip_txn_state(st), SIP_TS_ACCEPTED);
	f->ist_to_ack = st;
	testenv_advance(&f->te, 8 * SEC);
	req_in(f, "ACK", "z9hG4bKack3"); /* 2xx ACK: own branch, to the TU */
	const struct ev *e = last_ev(f, EV_REQUEST);
	assert_null(e->t);
	assert_int_equal(e->method, SIP_M_ACK);
	testenv_advance(&f->te, 1 * SEC);
	req_in(f, "INVITE", "z9hG4bKs3"); /* absorbed in Accepted, nothing sent */
	assert_int_equal(count_ev(f, EV_REQUEST), 2);
	testenv_advance(&f->te, 30 * SEC);
	static const uint64_t at[] = {0, 500, 1500, 3500, 7500};
	expect_sends(f, 0, "SIP/2.0 200 OK", at, SY_ARRAY_LEN(at));
	assert_int_equal(last_ev(f, EV_TERMINATED)->at_ns, 32 * SEC); /* Timer L */
	assert_int_equal(count_ev(f, EV_TIMEOUT), 0);
	fx_free(f);
}

static void test_ist_accepted_timer_l(void **state)
{
	(void)state;
	struct fx *f = fx_new(16);
	req_in(f, "INVITE", "z9hG4bKs4");
	respond(last_st(f), 200);
	testenv_advance(&f->te, 40 * SEC);
	static const uint64_t at[] = {0, 500, 1500, 3500, 7500, 11500, 15500, 19500, 23500, 27500, 31500};
	expect_sends(f, 0, "SIP/2.0 200 OK", at, SY_ARRAY_LEN(at));
	assert_int_equal(last_ev(f, EV_TIMEOUT)->at_ns, 32 * SEC);
	assert_int_equal(last_ev(f, EV_TERMINATED)->at_ns, 32 * SEC);
	fx_free(f);
}

static void test_nist_timer_j(void **state)
{
	(void)state;
	struct fx *f = fx_new(16);
	req_in(f, "BYE", "z9hG4bKs5");
	struct sip_txn *st = last_st(f);
	assert_int_equal(sip_txn_kind(st), SIP_TXN_NIST);
	assert_int_equal(sip_txn_state(st), SIP_TS_TRYING);
	testenv_advance(&f->te, 100 * MS);
	req_in(f, "BYE", "z9hG4bKs5"); /* Trying, nothing to resend */
	testenv_advance(&f->te, 100 * MS);
	respond(st, 200);
	testenv_advance(&f->te, 5 * SEC);
	req_in(f, "BYE", "z9hG4bKs5");
	testenv_advance(&f->te, 30 * SEC);
	static const uint64_t at[] = {200, 5200};
	expect_sends(f, 0, "SIP/2.0 200 OK", at, 2);
	assert_int_equal(count_ev(f, EV_REQUEST), 1);
	assert_int_equal(last_ev(f, EV_TERMINATED)->at_ns, 32200 * MS); /* Timer J */
	assert_int_equal(count_ev(f, EV_TIMEOUT), 0);
	req_in(f, "BYE", "z9hG4bKs5"); /* after J: a new transaction */
	assert_int_equal(count_ev(f, EV_REQUEST), 2);
	assert_int_equal(sip_stack_stats(f->s)->retransmits_absorbed, 2);
	fx_free(f);
}

/* A BYE's 200 (sip_txn_reply: status only, the To tag the request's own)
 * is not kept through Timer J: each retransmission gets it rebuilt, byte
 * for byte; a request that only shares the branch gets nothing. A reply
 * with anything of the TU's own (a reason phrase) is kept and resent. */
static void test_nist_rebuilt_reply(void **state)
{
	(void)state;
	struct fx *f = fx_new(16);
	inject(f, REQ_FMT, "BYE", "z9hG4bKr1", ";tag=uas1", "BYE");
	struct sip_txn *st = last_st(f);
	uint64_t bare = sip_stack_stats(f->s)->mem_bytes;
	struct sip_reply r = {.status = 200};
	assert_int_equal(sip_txn_reply(st, &r), SY_OK);
	assert_int_equal(sip_txn_state(st), SIP_TS_COMPLETED);
	/* No bytes held: the slab only (the request's copy is gone too). */
	assert_true(sip_stack_stats(f->s)->mem_bytes < bare);
	assert_int_equal(sip_stack_stats(f->s)->mem_bytes % sip_txn_slot_bytes(), 0);
	uint64_t slab = sip_stack_stats(f->s)->mem_bytes;
	testenv_advance(&f->te, 1 * SEC);
	inject(f, REQ_FMT, "BYE", "z9hG4bKr1", ";tag=uas1", "BYE");
	static const uint64_t at[] = {0, 1000};
	expect_sends(f, 0, "SIP/2.0 200 OK", at, 2);
	const struct testenv_sent *a = testenv_sent(&f->te, 0), *b = testenv_sent(&f->te, 1);
	assert_int_equal(a->len, b->len);
	assert_memory_equal(a->buf, b->buf, a->len);
	/* Same branch, another dialog's BYE: absorbed, nothing sent. */
	inject(f, "BYE sip:bob@10.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 10.0.0.2:5060;branch=z9hG4bKr1\r\n"
		  "From: <sip:alice@x>;tag=f1\r\nTo: <sip:bob@10.0.0.1>;tag=uas1\r\nCall-ID: other@x\r\n"
		  "CSeq: 1 BYE\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n");
	assert_int_equal(testenv_sent_count(&f->te), 2);
	assert_int_equal(sip_stack_stats(f->s)->retransmits_absorbed, 2);
	assert_int_equal(count_ev(f, EV_REQUEST), 1);
	/* A reason phrase of the TU's: the bytes are kept and resent as sent. */
	inject(f, REQ_FMT, "BYE", "z9hG4bKr2", ";tag=uas1", "BYE");
	st = last_st(f);
	r = (struct sip_reply){.status = 200, .reason = "Bye Then"};
	assert_int_equal(sip_txn_reply(st, &r), SY_OK);
	assert_true(sip_stack_stats(f->s)->mem_bytes > slab); /* the same slab, and the bytes kept */
	inject(f, REQ_FMT, "BYE", "z9hG4bKr2", ";tag=uas1", "BYE");
	static const uint64_t at2[] = {1000, 1000};
	expect_sends(f, 2, "SIP/2.0 200 Bye Then", at2, 2);
	testenv_advance(&f->te, 40 * SEC);
	assert_int_equal(sip_stack_stats(f->s)->txn_active, 0);
	fx_free(f);
}

/* Finished transactions that only wait for their end (Timer J here, K
 * for the client side) hold no env timer each: one per end queue. Each
 * still ends at its own deadline, in order, and one that leaves a queue
 * early (its ACK, its release) takes nothing else with it. */
static void test_end_queues(void **state)
{
	(void)state;
	enum { N = 50 };
	struct fx *f = fx_new(4 * N);
	char br[32];
	for (int i = 0; i < N; i++) {
		snprintf(br, sizeof(br), "z9hG4bKq%d", i);
		inject(f, REQ_FMT, "BYE", br, ";tag=uas1", "BYE");
		struct sip_reply r = {.status = 200};
		assert_int_equal(sip_txn_reply(last_st(f), &r), SY_OK);
		snprintf(br, sizeof(br), "z9hG4bKc%d", i);
		client(f, "OPTIONS", br);
		testenv_advance(&f->te, 10 * MS);
	}
	/* the client OPTIONS still retransmit (Timer E) on their own timers */
	assert_int_equal(testenv_timers_pending(&f->te), N + 1);
	for (int i = 0; i < N; i++) {
		snprintf(br, sizeof(br), "z9hG4bKc%d", i);
		resp_in(f, 200, br, "OPTIONS");
	}
	/* Completed everywhere: two queues, two timers */
	assert_int_equal(sip_stack_stats(f->s)->txn_lingering, 2 * N);
	assert_int_equal(testenv_timers_pending(&f->te), 2);
	size_t before = count_ev(f, EV_TERMINATED);
	/* Timer K (T4 = 5 s) ends the client ones, each at its own time */
	testenv_advance(&f->te, 5 * SEC);
	assert_int_equal(count_ev(f, EV_TERMINATED) - before, N);
	assert_int_equal(last_ev(f, EV_TERMINATED)->at_ns, 500 * MS + 5 * SEC);
	/* Timer J (64 x T1) ends the first BYE at 32 s, the last at 32.49 s */
	testenv_advance(&f->te, 32 * SEC - 5 * SEC - 500 * MS - 1);
	assert_int_equal(count_ev(f, EV_TERMINATED) - before, N);
	testenv_advance(&f->te, 1);
	assert_int_equal(count_ev(f, EV_TERMINATED) - before, N + 1);
	testenv_advance(&f->te, 490 * MS);
	assert_int_equal(count_ev(f, EV_TERMINATED) - before, 2 * N);
	assert_int_equal(last_ev(f, EV_TERMINATED)->at_ns, 32 * SEC + 490 * MS);
	assert_int_equal(sip_stack_stats(f->s)->txn_active, 0);
	assert_int_equal(testenv_timers_pending(&f->te), 0);
	fx_free(f);
}

/* cfg.raw_requests: the parsed request is the TU's inside on_request only;
 * a ringing INVITE then holds its bytes and no osip tree, and is still
 * answered (sip_txn_reply) from them. */
/* INVITEs answered 2xx and ACKed before the first retransmission: once
 * their T1 timer finds nothing to resend, Timer L's rest (32 s - T1) waits
 * on an end queue: one timer for all of them, each still ending 32 s
 * after its 2xx. */
static void test_end_queue_acked(void **state)
{
	(void)state;
	enum { N = 20 };
	struct fx *f = fx_new(4 * N);
	char br[32];
	for (int i = 0; i < N; i++) {
		snprintf(br, sizeof(br), "z9hG4bKa%d", i);
		req_in(f, "INVITE", br);
		struct sip_txn *st = last_st(f);
		respond(st, 200);
		testenv_advance(&f->te, 5 * MS);
		sip_txn_acked(st);
		/* and a BYE answered meanwhile: Timer J, 32 s from now */
		snprintf(br, sizeof(br), "z9hG4bKb%d", i);
		inject(f, REQ_FMT, "BYE", br, ";tag=uas1", "BYE");
		struct sip_reply r = {.status = 200};
		assert_int_equal(sip_txn_reply(last_st(f), &r), SY_OK);
		testenv_advance(&f->te, 5 * MS);
	}
	assert_int_equal(testenv_timers_pending(&f->te), N + 1);
	testenv_advance(&f->te, 500 * MS);
	assert_int_equal(testenv_sent_count(&f->te), 2 * N); /* no 2xx resent */
	assert_int_equal(testenv_timers_pending(&f->te), 2);
	testenv_advance(&f->te, 32 * SEC - 700 * MS - 1);
	assert_int_equal(count_ev(f, EV_TERMINATED), 0);
	testenv_advance(&f->te, 1); /* 32 s after the first 2xx */
	assert_int_equal(count_ev(f, EV_TERMINATED), 1);
	testenv_advance(&f->te, 10 * MS * (N - 1) + 5 * MS);
	assert_int_equal(count_ev(f, EV_TERMINATED), 2 * N);
	assert_int_equal(last_ev(f, EV_TERMINATED)->at_ns, 32 * SEC + 10 * MS * (N - 1) + 5 * MS);
	assert_int_equal(testenv_timers_pending(&f->te), 0);
	fx_free(f);
}

static void test_raw_requests(void **state)
{
	(void)state;
	struct sip_osip_pool_stats before, during;
	fx_raw_requests = true;
	struct fx *f = fx_new(16);
	fx_raw_requests = false;
	sip_osip_pool_stats(&before);
	req_in(f, "INVITE", "z9hG4bKraw1");
	struct sip_txn *st = last_st(f);
	assert_int_equal(count_ev(f, EV_REQUEST), 1);
	assert_null(sip_txn_request(st));
	assert_true(sip_txn_request_raw(st).len > 0);
	sip_osip_pool_stats(&during);
	size_t held_raw = during.used_bytes - before.used_bytes; /* the bytes, no parsed message */
	assert_true(held_raw > 0 && held_raw <= 1024);
	{ /* the same INVITE on a stack without raw_requests holds its tree too */
		struct fx *g = fx_new(16);
		struct sip_osip_pool_stats b2, d2;
		sip_osip_pool_stats(&b2);
		req_in(g, "INVITE", "z9hG4bKraw2");
		assert_non_null(sip_txn_request(last_st(g)));
		sip_osip_pool_stats(&d2);
		assert_true(d2.used_bytes - b2.used_bytes > held_raw + 1024);
		fx_free(g);
	}
	struct sip_reply r = {.status = 180, .to_tag = SY_STR("uas1")};
	assert_int_equal(sip_txn_reply(st, &r), SY_OK);
	r.status = 486;
	assert_int_equal(sip_txn_reply(st, &r), SY_OK);
	static const uint64_t at[] = {0, 0};
	expect_sends(f, 0, "SIP/2.0 ", at, 2);
	assert_non_null(strstr((const char *)testenv_sent(&f->te, 1)->buf, "486 Busy Here"));
	assert_non_null(strstr((const char *)testenv_sent(&f->te, 1)->buf, "branch=z9hG4bKraw1"));
	fx_free(f);
}

static void test_respond_inside_on_request(void **state)
{
	(void)state;
	struct fx *f = fx_new(16);
	f->respond_in_cb = 404;
	req_in(f, "OPTIONS", "z9hG4bKs6");
	struct sip_txn *st = last_st(f);
	assert_int_equal(sip_txn_state(st), SIP_TS_COMPLETED);
	assert_null(sip_txn_request(st));
	static const uint64_t at[] = {0};
	expect_sends(f, 0, "SIP/2.0 404 Not Found", at, 1);
	/* Responding twice or on a client transaction is refused. */
	osip_message_t *r;
	f->respond_in_cb = 0;
	req_in(f, "OPTIONS", "z9hG4bKs7");
	struct sip_txn *st2 = last_st(f);
	r = answer(st2, 200);
	osip_message_t *r2 = answer(st2, 500);
	assert_int_equal(sip_txn_respond(st2, r), SY_OK);
	assert_int_equal(sip_txn_respond(st2, r2), SY_ERR_STATE); /* freed by the stack */
	static const uint64_t at2[] = {0, 0};
	expect_sends(f, 0, "SIP/2.0 ", at2, 2);
	fx_free(f);
}

static void test_cancel_matching(void **state)
{
	(void)state;
	struct fx *f = fx_new(16);
	req_in(f, "INVITE", "z9hG4bKs8");
	struct sip_txn *ist = last_st(f);
	respond(ist, 180);
	req_in(f, "CANCEL", "z9hG4bKs8");
	struct sip_txn *cst = last_st(f);
	assert_ptr_not_equal(cst, ist);
	assert_int_equal(sip_txn_kind(cst), SIP_TXN_NIST);
	assert_ptr_equal(sip_txn_cancel_target(cst), ist);
	assert_null(sip_txn_cancel_target(ist));
	respond(cst, 200);
	respond(ist, 487);
	req_in(f, "CANCEL", "z9hG4bKother"); /* no INVITE with that branch */
	assert_null(sip_txn_cancel_target(last_st(f)));
	static const uint64_t at[] = {0, 0, 0};
	expect_sends(f, 0, "SIP/2.0 ", at, 3);
	assert_true(sent_contains(f, 1, "CSeq: 1 CANCEL"));
	assert_true(sent_contains(f, 2, "487 Request Terminated"));
	fx_free(f);
}

static void test_bad_request_400(void **state)
{
	(void)state;
	struct fx *f = fx_new(16);
	inject(f,
	       "INVITE sip:bob@10.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 10.0.0.2:5060;branch=z9hG4bKb1\r\n"
	       "From: <sip:alice@x>;tag=f1\r\nTo: <sip:bob@10.0.0.1>\r\nCSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n");
	static const uint64_t at[] = {0};
	expect_sends(f, 0, "SIP/2.0 400 Missing Call-ID\r\n", at, 1);
	assert_true(sent_contains(f, 0, "branch=z9hG4bKb1"));
	assert_int_equal(count_ev(f, EV_REQUEST), 0);
	assert_int_equal(sip_stack_stats(f->s)->rx_bad_400, 1);
	/* Never a 400 to an ACK; garbage is dropped and counted. */
	inject(f, "ACK sip:bob@10.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 10.0.0.2:5060;branch=z9hG4bKb2\r\n"
		  "From: <sip:alice@x>;tag=f1\r\nTo: <sip:bob@10.0.0.1>\r\nCSeq: 1 ACK\r\n\r\n");
	inject(f, "\x16\x03\x01 not sip");
	inject(f, "SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bKb3\r\nCSeq: 1 INVITE\r\n\r\n");
	expect_sends(f, 0, "SIP/2.0 400 ", at, 1);
	assert_int_equal(sip_stack_stats(f->s)->rx_bad_dropped, 3);
	assert_int_equal(sip_stack_stats(f->s)->rx_msgs, 4);
	fx_free(f);
}

static void test_pool_full(void **state)
{
	(void)state;
	struct fx *f = fx_new(2);
	req_in(f, "INVITE", "z9hG4bKp1");
	req_in(f, "OPTIONS", "z9hG4bKp2");
	req_in(f, "INVITE", "z9hG4bKp3");
	assert_int_equal(count_ev(f, EV_REQUEST), 2);
	static const uint64_t at[] = {0};
	expect_sends(f, 0, "SIP/2.0 503 Service Unavailable", at, 1);
	assert_true(sent_contains(f, 0, "branch=z9hG4bKp3"));
	assert_int_equal(sip_stack_stats(f->s)->txn_full, 1);
	struct sip_msg m;
	const char *text = "OPTIONS sip:x@10.0.0.2 SIP/2.0\r\nVia: SIP/2.0/UDP 10.0.0.1;branch=z9hG4bKp4\r\n"
			   "From: <sip:a@x>;tag=1\r\nTo: <sip:x@y>\r\nCall-ID: q\r\nCSeq: 1 OPTIONS\r\n\r\n";
	assert_int_equal(sip_msg_parse((const uint8_t *)text, strlen(text), &m, NULL, 0), SY_OK);
	struct sip_txn *t = (struct sip_txn *)1;
	assert_int_equal(sip_txn_client_start(f->s, m.m, &f->peer, NULL, &t), SY_ERR_FULL);
	assert_null(t);
	assert_int_equal(sip_stack_stats(f->s)->txn_full, 2);
	assert_int_equal(sip_stack_stats(f->s)->txn_active, 2);
	fx_free(f);
}

static void test_noise_never_crashes(void **state)
{
	(void)state;
	struct fx *f = fx_new(64);
	f->respond_in_cb = 486; /* so every IST completes and ends */
	struct sy_rng r;
	sy_rng_init(&r, 99);
	char base[512], buf[512];
	int n = snprintf(base, sizeof(base), REQ_FMT, "INVITE", "z9hG4bKz", "", "INVITE");
	for (int i = 0; i < 3000; i++) {
		memcpy(buf, base, (size_t)n);
		for (int k = 0; k < 3; k++)
			buf[sy_rng_below(&r, (uint64_t)n)] = (char)sy_rng_next(&r);
		size_t len = (size_t)n - (size_t)sy_rng_below(&r, 4);
		testenv_inject(&f->te, f->sock, &f->peer, buf, len);
		if (i % 100 == 0)
			testenv_advance(&f->te, 2 * SEC);
	}
	const struct sip_stack_stats *st = sip_stack_stats(f->s);
	assert_int_equal(st->rx_msgs, 3000);
	assert_true(st->rx_bad_dropped + st->rx_bad_400 > 0);
	testenv_advance(&f->te, 100 * SEC);
	assert_int_equal(st->txn_active, 0);
	fx_free(f);
}

static void test_rport_received(void **state)
{
	(void)state;
	struct fx *f = fx_new(16);
	struct sy_addr nat = sy_addr_v4(10, 0, 0, 2, 40000);
	const char *inv =
	    "INVITE sip:bob@10.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 192.168.1.5:5060;branch=z9hG4bKr1;rport\r\n"
	    "From: <sip:alice@x>;tag=f1\r\nTo: <sip:bob@10.0.0.1>\r\nCall-ID: c1@x\r\nCSeq: 1 INVITE\r\n"
	    "Content-Length: 0\r\n\r\n";
	testenv_inject(&f->te, f->sock, &nat, inv, strlen(inv));
	struct sip_txn *st = last_st(f);
	assert_true(sy_addr_eq(sip_txn_peer(st), &nat)); /* RFC 3581: source address and port */
	respond(st, 100);
	const struct testenv_sent *d = testenv_sent(&f->te, 0);
	assert_true(sy_addr_eq(&d->to, &nat));
	assert_non_null(strstr((const char *)d->buf, "received=10.0.0.2"));
	assert_non_null(strstr((const char *)d->buf, "rport=40000"));
	fx_free(f);
}

/* One mixed scenario; returns a digest of every datagram and its time. */
static uint64_t scenario_digest(uint64_t seed)
{
	struct fx *f = fx_new(32);
	struct sy_rng r;
	sy_rng_init(&r, seed);
	f->respond_in_cb = 180;
	char br[32];
	for (int i = 0; i < 200; i++) {
		snprintf(br, sizeof(br), "z9hG4bKd%d", (int)sy_rng_below(&r, 40));
		switch (sy_rng_below(&r, 4)) {
		case 0:
			req_in(f, "INVITE", br);
			break;
		case 1:
			req_in(f, "OPTIONS", br);
			break;
		case 2:
			resp_in(f, 180 + 100 * (int)sy_rng_below(&r, 4), br, "INVITE");
			break;
		default:
			try_client(f, sy_rng_below(&r, 2) ? "INVITE" : "BYE", br);
		}
		testenv_advance(&f->te, sy_rng_below(&r, 2 * SEC));
	}
	testenv_advance(&f->te, 100 * SEC);
	uint64_t h = 0;
	for (size_t i = 0; i < testenv_sent_count(&f->te); i++) {
		const struct testenv_sent *d = testenv_sent(&f->te, i);
		h = sy_hash64(d->buf, d->len, h ^ d->at_ns);
	}
	h ^= (uint64_t)f->nev << 32;
	/* ISTs answered 180 and ICTs given a 1xx wait for their TU forever. */
	assert_true(sip_stack_stats(f->s)->txn_active <= 32);
	assert_true(testenv_sent_count(&f->te) > 100);
	fx_free(f);
	return h;
}

static void test_deterministic(void **state)
{
	(void)state;
	assert_int_equal(scenario_digest(5), scenario_digest(5));
	assert_int_not_equal(scenario_digest(5), scenario_digest(6));
}

int main(void)
{
	sip_global_init();
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_ict_timer_a_b),
	    cmocka_unit_test(test_ict_1xx_then_2xx_accepted),
	    cmocka_unit_test(test_ict_error_ack_timer_d),
	    cmocka_unit_test(test_nict_timer_e_f),
	    cmocka_unit_test(test_nict_provisional_e_t2),
	    cmocka_unit_test(test_nict_timer_k),
	    cmocka_unit_test(test_client_cancel),
	    cmocka_unit_test(test_client_cancel_no_answer),
	    cmocka_unit_test(test_ict_ringing_skeleton),
	    cmocka_unit_test(test_ist_provisional_and_timer_g_i),
	    cmocka_unit_test(test_ist_timer_h),
	    cmocka_unit_test(test_ist_refusal_once),
	    cmocka_unit_test(test_ist_accepted_acked),
	    cmocka_unit_test(test_ist_accepted_timer_l),
	    cmocka_unit_test(test_nist_timer_j),
	    cmocka_unit_test(test_nist_rebuilt_reply),
	    cmocka_unit_test(test_end_queues),
	    cmocka_unit_test(test_end_queue_acked),
	    cmocka_unit_test(test_raw_requests),
	    cmocka_unit_test(test_respond_inside_on_request),
	    cmocka_unit_test(test_cancel_matching),
	    cmocka_unit_test(test_bad_request_400),
	    cmocka_unit_test(test_pool_full),
	    cmocka_unit_test(test_noise_never_crashes),
	    cmocka_unit_test(test_rport_received),
	    cmocka_unit_test(test_deterministic),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
