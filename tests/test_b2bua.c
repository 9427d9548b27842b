/* test_b2bua.c: black-box tests of the B2BUA (core/sip/b2bua.h) on the fake
 * env: the test plays the caller and the carriers by injecting datagrams,
 * parses every datagram the switch sends and checks its destination, exact
 * headers and virtual send time, and checks the CDRs and stats. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <cmocka.h>

#include "core/billing/callbill.h"
#include "core/conf/node.h"
#include "core/conf/scn.h"
#include "core/sip/b2bua.h"
#include "tests/testenv.h"

#define MS  SY_NS_PER_MS
#define SEC SY_NS_PER_S

#define SENT_MAX 16384
#define KEPT_MAX 4096
#define CDRS_MAX 1024

static const char SDP_A[] = "v=0\r\no=alice 1 1 IN IP4 10.0.0.100\r\ns=-\r\nc=IN IP4 10.0.0.100\r\n"
			    "t=0 0\r\nm=audio 40000 RTP/AVP 0 8\r\n";
static const char SDP_B[] = "v=0\r\no=gw 7 7 IN IP4 10.0.1.1\r\ns=-\r\nc=IN IP4 10.0.1.50\r\n"
			    "t=0 0\r\nm=audio 50000 RTP/AVP 8\r\n";

/* ---- the route table: longest prefix -> carriers in order ---- */

struct rt_entry {
	const char *prefix;
	uint16_t ids[3];
	uint32_t n;
};

static const struct rt_entry ROUTES[] = {
    {"1", {0, 1}, 2},	  /* carrier1, fail over to carrier2 */
    {"44", {0}, 1},	  /* carrier1 only */
    {"33", {2}, 1},	  /* carrier3 only */
    {"49", {0, 1, 2}, 3}, /* all three */
    {"4477", {1}, 1},	  /* longer prefix wins over "44" */
};

static uint32_t route_fn(void *arg, struct sy_str number, uint16_t *ids, uint32_t max)
{
	uint32_t *calls = arg;
	const struct rt_entry *best = NULL;
	(*calls)++;
	for (size_t i = 0; i < SY_ARRAY_LEN(ROUTES); i++) {
		size_t pl = strlen(ROUTES[i].prefix);
		if (pl <= number.len && memcmp(number.p, ROUTES[i].prefix, pl) == 0 &&
		    (best == NULL || pl > strlen(best->prefix)))
			best = &ROUTES[i];
	}
	if (best == NULL)
		return 0;
	uint32_t n = SY_MIN(best->n, max);
	memcpy(ids, best->ids, n * sizeof(*ids));
	return n;
}

/* ---- fixture ---- */

struct fx {
	struct testenv te;
	struct b2bua_cfg cfg;
	struct b2bua *b;
	struct sy_dgram *sock;
	struct b2bua_carrier car[3];
	struct sip_access_cfg access; /* the caller is a trunk (default deny) */
	struct sy_addr sw, caller, c[3];
	uint32_t route_calls;
	struct cdr cdrs[CDRS_MAX];
	size_t ncdr;
	bool taken[SENT_MAX];
	struct sip_msg *kept[KEPT_MAX];
	size_t nkept;
	int ua_seq, br_seq;
	bool echo;	     /* print injected datagrams (evidence in the bug tests) */
	struct fraud *fraud; /* the fraud tests' component (cfg.fraud) */
	char fraud_path[96];
};

static void on_cdr(void *arg, const struct cdr *cdr)
{
	struct fx *f = arg;
	assert_true(f->ncdr < CDRS_MAX);
	f->cdrs[f->ncdr++] = *cdr;
}

static int fx_setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	assert_non_null(f);
	testenv_init(&f->te, 1234);
	f->sw = sy_addr_v4(10, 0, 0, 1, 5060);
	f->caller = sy_addr_v4(10, 0, 0, 100, 5060);
	static const char *names[] = {"carrier1", "carrier2", "carrier3"};
	for (int i = 0; i < 3; i++) {
		f->c[i] = sy_addr_v4(10, 0, 1, (uint8_t)(i + 1), 5060);
		snprintf(f->car[i].name, sizeof(f->car[i].name), "%s", names[i]);
		f->car[i].addr = f->c[i];
	}
	f->cfg = (struct b2bua_cfg){
	    .env = &f->te.env,
	    .listen = f->sw,
	    .calls_max = 64,
	    .txn_max = 8192,
	    .timers = {.t1_ns = 500 * MS, .t2_ns = 4 * SEC, .t4_ns = 5 * SEC},
	    .carriers = f->car,
	    .carriers_n = 3,
	    .route = route_fn,
	    .route_arg = &f->route_calls,
	    .on_cdr = on_cdr,
	    .cdr_arg = f,
	    .failover = true,
	    .invite_timeout_ns = 3 * SEC,
	    .ring_timeout_ns = 60 * SEC,
	    .cdr_id_base = 1000,
	    .access = &f->access,
	};
	snprintf(f->access.trunks[0].name, SIP_AUTH_NAME_MAX, "callers");
	f->access.trunks[0].nets[0] = (struct sip_net){f->caller, 32};
	f->access.trunks[0].nets[0].addr.port = 0;
	f->access.trunks[0].net_n = 1;
	f->access.trunk_n = 1;
	*state = f;
	return 0;
}

static void fx_start(struct fx *f)
{
	assert_int_equal(b2bua_create(&f->cfg, &f->b), SY_OK);
	f->sock = (struct sy_dgram *)&f->te.socks[f->te.nsocks - 1];
}

static void fx_release(struct fx *f)
{
	for (size_t i = 0; i < f->nkept; i++) {
		sip_msg_free(f->kept[i]);
		free(f->kept[i]);
	}
	f->nkept = 0;
}

static int fx_teardown(void **state)
{
	struct fx *f = *state;
	b2bua_destroy(f->b);
	if (f->fraud != NULL) {
		fraud_destroy(f->fraud);
		unlink(f->fraud_path);
	}
	fx_release(f);
	testenv_free(&f->te);
	free(f);
	return 0;
}

static const struct b2bua_stats *st(struct fx *f)
{
	return b2bua_stats(f->b);
}

/* ---- injecting ---- */

/* Injects a message: the start line and headers as printf text with "\n"
 * line ends (turned into CRLF), then Content-Length and the body. */
static void injectv(struct fx *f, const struct sy_addr *from, const char *body, const char *fmt, va_list ap)
{
	char hdr[4096], buf[8192];
	int hl = vsnprintf(hdr, sizeof(hdr), fmt, ap);
	assert_true(hl > 0 && (size_t)hl < sizeof(hdr));
	size_t n = 0;
	for (int i = 0; i < hl; i++) {
		if (hdr[i] == '\n')
			buf[n++] = '\r';
		buf[n++] = hdr[i];
	}
	size_t bl = body != NULL ? strlen(body) : 0;
	n += (size_t)snprintf(buf + n, sizeof(buf) - n, "Content-Length: %zu\r\n\r\n", bl);
	assert_true(n + bl < sizeof(buf));
	memcpy(buf + n, body != NULL ? body : "", bl);
	if (f->echo)
		fprintf(stderr, "--- injected:\n%.*s\n", (int)(n + bl), buf);
	testenv_inject(&f->te, f->sock, from, buf, n + bl);
}

static void injectf(struct fx *f, const struct sy_addr *from, const char *body, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	injectv(f, from, body, fmt, ap);
	va_end(ap);
}

/* ---- what the switch sent ---- */

static void dump_unread(struct fx *f)
{
	for (size_t i = 0; i < testenv_sent_count(&f->te); i++) {
		if (f->taken[i])
			continue;
		const struct testenv_sent *d = testenv_sent(&f->te, i);
		char to[SY_ADDR_STRLEN];
		sy_addr_fmt(&d->to, to, sizeof(to));
		fprintf(stderr, "--- unread #%zu to %s at %llu ms:\n%s\n", i, to, (unsigned long long)(d->at_ns / MS),
			(const char *)d->buf);
	}
}

/* How many datagrams to `to` are not taken yet. */
static size_t unread_to(struct fx *f, const struct sy_addr *to)
{
	size_t n = 0;
	for (size_t i = 0; i < testenv_sent_count(&f->te); i++)
		if (!f->taken[i] && sy_addr_eq(&testenv_sent(&f->te, i)->to, to))
			n++;
	return n;
}

/* Takes the oldest datagram to `to` not taken yet, parses it (it must be a
 * well-formed SIP message) and returns it; *at_ns gets its send time. */
static struct sip_msg *take_at(struct fx *f, const struct sy_addr *to, uint64_t *at_ns)
{
	size_t n = testenv_sent_count(&f->te);
	assert_true(n < SENT_MAX);
	for (size_t i = 0; i < n; i++) {
		const struct testenv_sent *d = testenv_sent(&f->te, i);
		if (f->taken[i] || !sy_addr_eq(&d->to, to))
			continue;
		f->taken[i] = true;
		assert_true(sy_addr_eq(&d->from, &f->sw));
		struct sip_msg *m = calloc(1, sizeof(*m));
		char err[128] = "";
		assert_non_null(m);
		enum sy_rc rc = sip_msg_parse(d->buf, d->len, m, err, sizeof(err));
		if (rc != SY_OK)
			fprintf(stderr, "unparseable (%s):\n%s\n", err, (const char *)d->buf);
		assert_int_equal(rc, SY_OK);
		assert_true(f->nkept < KEPT_MAX);
		f->kept[f->nkept++] = m;
		if (at_ns != NULL)
			*at_ns = d->at_ns;
		return m;
	}
	char s[SY_ADDR_STRLEN];
	sy_addr_fmt(to, s, sizeof(s));
	dump_unread(f);
	fail_msg("nothing sent to %s", s);
	return NULL;
}

static struct sip_msg *take(struct fx *f, const struct sy_addr *to)
{
	return take_at(f, to, NULL);
}

/* Everything sent has been taken (checked). */
static void expect_quiet(struct fx *f)
{
	size_t n = testenv_sent_count(&f->te), unread = 0;
	for (size_t i = 0; i < n; i++)
		unread += !f->taken[i];
	if (unread != 0)
		dump_unread(f);
	assert_int_equal(unread, 0);
}

/* Forgets the datagrams so far (all must have been taken). */
static void sent_reset(struct fx *f)
{
	expect_quiet(f);
	memset(f->taken, 0, sizeof(bool) * testenv_sent_count(&f->te));
	testenv_sent_clear(&f->te);
}

/* ---- assertions on parsed messages ---- */

#define assert_str_is(slice, lit)                                                                                      \
	do {                                                                                                           \
		struct sy_str s_ = (slice);                                                                            \
		const char *l_ = (lit);                                                                                \
		if (!sy_str_eq(s_, sy_str_from(l_)))                                                                   \
			fail_msg("%s: got '%.*s', want '%s'", #slice, (int)s_.len, s_.p ? s_.p : "", l_);              \
	} while (0)

static void dump_msg(const struct sip_msg *m)
{
	char *buf = NULL;
	size_t len = 0;
	if (sip_msg_to_buf(m->m, &buf, &len) == SY_OK) {
		fprintf(stderr, "--- message:\n%.*s\n", (int)len, buf);
		osip_free(buf);
	}
}

static void assert_response(const struct sip_msg *m, int status, enum sip_method method, uint32_t cseq)
{
	if (m->status != status || m->method != method || m->cseq != cseq)
		dump_msg(m);
	assert_int_equal(m->status, status);
	assert_int_equal(m->method, method);
	assert_int_equal(m->cseq, cseq);
}

static void assert_request(const struct sip_msg *m, enum sip_method method, uint32_t cseq)
{
	if (m->status != 0 || m->method != method || m->cseq != cseq)
		dump_msg(m);
	assert_int_equal(m->status, 0);
	assert_int_equal(m->method, method);
	assert_int_equal(m->cseq, cseq);
	/* our own Via: the switch's address and an RFC 3261 branch */
	osip_via_t *v = osip_list_get(&m->m->vias, 0);
	assert_non_null(v);
	assert_string_equal(v->host, "10.0.0.1");
	assert_string_equal(v->port, "5060");
	assert_true(m->branch.len > 7 && memcmp(m->branch.p, "z9hG4bK", 7) == 0);
}

static void assert_uri(const osip_uri_t *u, const char *user, const char *host, const char *port)
{
	assert_non_null(u);
	if (user == NULL)
		assert_null(u->username);
	else
		assert_string_equal(u->username, user);
	assert_string_equal(u->host, host);
	if (port != NULL)
		assert_string_equal(u->port, port);
}

static const char *body_of(const struct sip_msg *m, size_t *len)
{
	osip_body_t *b = NULL;
	if (osip_message_get_body(m->m, 0, &b) < 0 || b == NULL) {
		*len = 0;
		return NULL;
	}
	*len = b->length;
	return b->body;
}

static void assert_body(const struct sip_msg *m, const char *want)
{
	size_t len;
	const char *b = body_of(m, &len);
	if (want == NULL) {
		assert_int_equal(len, 0);
		assert_non_null(m->m->content_length);
		assert_string_equal(m->m->content_length->value, "0");
		return;
	}
	assert_non_null(b);
	assert_int_equal(len, strlen(want));
	assert_memory_equal(b, want, len);
	assert_non_null(m->m->content_type);
	assert_string_equal(m->m->content_type->type, "application");
	assert_string_equal(m->m->content_type->subtype, "sdp");
}

static const osip_uri_t *contact_uri(const struct sip_msg *m)
{
	osip_contact_t *ct = NULL;
	if (osip_message_get_contact(m->m, 0, &ct) < 0 || ct == NULL)
		return NULL;
	return ct->url;
}

static void copy_str(char *dst, size_t n, struct sy_str s)
{
	assert_true(s.len < n);
	memcpy(dst, s.p, s.len);
	dst[s.len] = '\0';
}

/* ---- the caller (A side) ---- */

struct ua {
	int id;
	char callee[40];
	char cid[64], ftag[32], branch[64];
	char tag[64];		   /* the switch's To tag on the A leg */
	struct sip_msg *binv;	   /* the B-leg INVITE the carrier got */
	const struct sy_addr *car; /* ...and that carrier's address */
	char car_tag[32];	   /* the carrier's To tag */
	char b_cid[96], b_ftag[64];
	uint64_t t0;
};

static void caller_invite_full(struct fx *f, struct ua *u, const char *callee, int max_forwards,
			       const char *contact_user)
{
	memset(u, 0, sizeof(*u));
	u->id = ++f->ua_seq;
	snprintf(u->callee, sizeof(u->callee), "%s", callee);
	snprintf(u->cid, sizeof(u->cid), "a%d-x@10.0.0.100", u->id);
	snprintf(u->ftag, sizeof(u->ftag), "fa%d", u->id);
	snprintf(u->branch, sizeof(u->branch), "z9hG4bKca%d", u->id);
	u->t0 = f->te.now_ns;
	injectf(f, &f->caller, SDP_A,
		"INVITE sip:%s@10.0.0.1:5060 SIP/2.0\n"
		"Via: SIP/2.0/UDP 10.0.0.100:5060;branch=%s\n"
		"Max-Forwards: %d\n"
		"From: \"Alice\" <sip:4420001@10.0.0.100>;tag=%s\n"
		"To: <sip:%s@10.0.0.1>\n"
		"Call-ID: %s\n"
		"CSeq: 1 INVITE\n"
		"Contact: <sip:%s@10.0.0.100:5060>\n"
		"Content-Type: application/sdp\n",
		callee, u->branch, max_forwards, u->ftag, callee, u->cid, contact_user);
}

static void caller_invite_mf(struct fx *f, struct ua *u, const char *callee, int max_forwards)
{
	caller_invite_full(f, u, callee, max_forwards, "alice");
}

static void caller_invite(struct fx *f, struct ua *u, const char *callee)
{
	caller_invite_mf(f, u, callee, 70);
}

/* An in-dialog request from the caller (new branch, our To tag). */
static void caller_req(struct fx *f, struct ua *u, const char *method, uint32_t cseq)
{
	injectf(f, &f->caller, NULL,
		"%s sip:switchyard@10.0.0.1:5060 SIP/2.0\n"
		"Via: SIP/2.0/UDP 10.0.0.100:5060;branch=z9hG4bKcr%d\n"
		"Max-Forwards: 70\n"
		"From: \"Alice\" <sip:4420001@10.0.0.100>;tag=%s\n"
		"To: <sip:%s@10.0.0.1>;tag=%s\n"
		"Call-ID: %s\n"
		"CSeq: %u %s\n",
		method, ++f->br_seq, u->ftag, u->callee, u->tag, u->cid, cseq, method);
}

/* The ACK of a non-2xx final: the INVITE's branch and CSeq (RFC 3261 17.1.1.3). */
static void caller_ack_err(struct fx *f, struct ua *u, const struct sip_msg *resp)
{
	char tag[64] = "", branch[64];
	copy_str(tag, sizeof(tag), resp->to_tag);
	copy_str(branch, sizeof(branch), resp->branch);
	injectf(f, &f->caller, NULL,
		"ACK sip:%s@10.0.0.1:5060 SIP/2.0\n"
		"Via: SIP/2.0/UDP 10.0.0.100:5060;branch=%s\n"
		"Max-Forwards: 70\n"
		"From: \"Alice\" <sip:4420001@10.0.0.100>;tag=%s\n"
		"To: <sip:%s@10.0.0.1>;tag=%s\n"
		"Call-ID: %s\n"
		"CSeq: %u ACK\n",
		u->callee, branch, u->ftag, u->callee, tag, u->cid, resp->cseq);
}

static void caller_cancel(struct fx *f, struct ua *u)
{
	injectf(f, &f->caller, NULL,
		"CANCEL sip:%s@10.0.0.1:5060 SIP/2.0\n"
		"Via: SIP/2.0/UDP 10.0.0.100:5060;branch=%s\n"
		"Max-Forwards: 70\n"
		"From: \"Alice\" <sip:4420001@10.0.0.100>;tag=%s\n"
		"To: <sip:%s@10.0.0.1>\n"
		"Call-ID: %s\n"
		"CSeq: 1 CANCEL\n",
		u->callee, u->branch, u->ftag, u->callee, u->cid);
}

/* ---- the carriers (B side) ---- */

/* A response from the carrier to the B-leg request req: Vias, From, To,
 * Call-ID and CSeq copied; the carrier's To tag unless To has one. */
static void carrier_respond(struct fx *f, struct ua *u, const struct sip_msg *req, int code, const char *body,
			    const char *extra)
{
	char vias[1024] = "", *s = NULL, from[256], to[256], cid[128], cseq[64];
	size_t vl = 0;
	for (int i = 0; i < osip_list_size(&req->m->vias); i++) {
		assert_int_equal(osip_via_to_str(osip_list_get(&req->m->vias, i), &s), 0);
		vl += (size_t)snprintf(vias + vl, sizeof(vias) - vl, "Via: %s\n", s);
		osip_free(s);
	}
	assert_int_equal(osip_from_to_str(req->m->from, &s), 0);
	snprintf(from, sizeof(from), "%s", s);
	osip_free(s);
	assert_int_equal(osip_to_to_str(req->m->to, &s), 0);
	if (req->to_tag.len == 0 && code > 100)
		snprintf(to, sizeof(to), "%s;tag=%s", s, u->car_tag);
	else
		snprintf(to, sizeof(to), "%s", s);
	osip_free(s);
	assert_int_equal(osip_call_id_to_str(req->m->call_id, &s), 0);
	snprintf(cid, sizeof(cid), "%s", s);
	osip_free(s);
	assert_int_equal(osip_cseq_to_str(req->m->cseq, &s), 0);
	snprintf(cseq, sizeof(cseq), "%s", s);
	osip_free(s);
	char host[SY_ADDR_STRLEN];
	sy_addr_fmt(u->car, host, sizeof(host));
	injectf(f, u->car, body, "SIP/2.0 %d Whatever\n%sFrom: %s\nTo: %s\nCall-ID: %s\nCSeq: %s\n%s%s%s%s", code, vias,
		from, to, cid, cseq, code > 100 && code < 300 && req->method == SIP_M_INVITE ? "Contact: <sip:gw@" : "",
		code > 100 && code < 300 && req->method == SIP_M_INVITE ? host : "",
		code > 100 && code < 300 && req->method == SIP_M_INVITE ? ">\n" : "", extra != NULL ? extra : "");
}

/* The caller's response to a request the switch sent it (BYE, UPDATE):
 * Vias, From, To, Call-ID and CSeq copied. */
static void caller_respond(struct fx *f, const struct sip_msg *req, int code)
{
	char vias[1024] = "", *s = NULL, from[256], to[256], cid[128], cseq[64];
	size_t vl = 0;
	for (int i = 0; i < osip_list_size(&req->m->vias); i++) {
		assert_int_equal(osip_via_to_str(osip_list_get(&req->m->vias, i), &s), 0);
		vl += (size_t)snprintf(vias + vl, sizeof(vias) - vl, "Via: %s\n", s);
		osip_free(s);
	}
	assert_int_equal(osip_from_to_str(req->m->from, &s), 0);
	snprintf(from, sizeof(from), "%s", s);
	osip_free(s);
	assert_int_equal(osip_to_to_str(req->m->to, &s), 0);
	snprintf(to, sizeof(to), "%s", s);
	osip_free(s);
	assert_int_equal(osip_call_id_to_str(req->m->call_id, &s), 0);
	snprintf(cid, sizeof(cid), "%s", s);
	osip_free(s);
	assert_int_equal(osip_cseq_to_str(req->m->cseq, &s), 0);
	snprintf(cseq, sizeof(cseq), "%s", s);
	osip_free(s);
	injectf(f, &f->caller, NULL, "SIP/2.0 %d Whatever\n%sFrom: %s\nTo: %s\nCall-ID: %s\nCSeq: %s\n", code, vias,
		from, to, cid, cseq);
}

static void carrier_invite_resp(struct fx *f, struct ua *u, int code, const char *body)
{
	carrier_respond(f, u, u->binv, code, body, body != NULL ? "Content-Type: application/sdp\n" : NULL);
}

/* The carrier hangs up: From = the INVITE's To + its tag, To = our From. */
static void carrier_bye(struct fx *f, struct ua *u)
{
	char *from = NULL, *to = NULL, host[SY_ADDR_STRLEN];
	assert_int_equal(osip_to_to_str(u->binv->m->to, &from), 0);
	assert_int_equal(osip_from_to_str(u->binv->m->from, &to), 0);
	sy_addr_fmt(u->car, host, sizeof(host));
	injectf(f, u->car, NULL,
		"BYE sip:switchyard@10.0.0.1:5060 SIP/2.0\n"
		"Via: SIP/2.0/UDP %s;branch=z9hG4bKcb%d\n"
		"Max-Forwards: 70\n"
		"From: %s;tag=%s\n"
		"To: %s\n"
		"Call-ID: %s\n"
		"CSeq: 1 BYE\n",
		host, ++f->br_seq, from, u->car_tag, to, u->b_cid);
	osip_free(from);
	osip_free(to);
}

/* ---- call flows ---- */

/* INVITE from the caller: 100 back, INVITE out to carrier `car`. */
static void call_setup(struct fx *f, struct ua *u, const char *callee, int car)
{
	caller_invite(f, u, callee);
	struct sip_msg *t = take(f, &f->caller);
	assert_response(t, 100, SIP_M_INVITE, 1);
	assert_str_is(t->call_id, u->cid);
	assert_int_equal(t->to_tag.len, 0);
	u->car = &f->c[car];
	u->binv = take(f, u->car);
	assert_request(u->binv, SIP_M_INVITE, 1);
	copy_str(u->b_cid, sizeof(u->b_cid), u->binv->call_id);
	copy_str(u->b_ftag, sizeof(u->b_ftag), u->binv->from_tag);
	snprintf(u->car_tag, sizeof(u->car_tag), "ct%d", u->id);
	expect_quiet(f);
}

/* The carrier rings: 180 relayed to the caller with our To tag. */
static void call_ring(struct fx *f, struct ua *u)
{
	carrier_invite_resp(f, u, 180, NULL);
	struct sip_msg *r = take(f, &f->caller);
	assert_response(r, 180, SIP_M_INVITE, 1);
	assert_str_is(r->call_id, u->cid);
	assert_str_is(r->from_tag, u->ftag);
	assert_true(r->to_tag.len > 0);
	copy_str(u->tag, sizeof(u->tag), r->to_tag);
	expect_quiet(f);
}

/* The carrier answers: ACK to it, 200 to the caller; the caller ACKs. */
static void call_answer(struct fx *f, struct ua *u)
{
	carrier_invite_resp(f, u, 200, SDP_B);
	struct sip_msg *ack = take(f, u->car);
	assert_request(ack, SIP_M_ACK, 1);
	assert_str_is(ack->call_id, u->b_cid);
	assert_str_is(ack->to_tag, u->car_tag);
	assert_str_is(ack->from_tag, u->b_ftag);
	struct sip_msg *ok = take(f, &f->caller);
	assert_response(ok, 200, SIP_M_INVITE, 1);
	assert_str_is(ok->call_id, u->cid);
	assert_body(ok, SDP_B);
	if (u->tag[0] != '\0')
		assert_str_is(ok->to_tag, u->tag); /* the same dialog as the 180's */
	else
		copy_str(u->tag, sizeof(u->tag), ok->to_tag);
	assert_true(ok->to_tag.len > 0);
	assert_uri(contact_uri(ok), "switchyard", "10.0.0.1", "5060");
	caller_req(f, u, "ACK", 1);
	expect_quiet(f);
}

/* The caller hangs up: 200 to it, BYE to the carrier, which answers 200. */
static void call_bye_from_caller(struct fx *f, struct ua *u)
{
	caller_req(f, u, "BYE", 2);
	struct sip_msg *ok = take(f, &f->caller);
	assert_response(ok, 200, SIP_M_BYE, 2);
	assert_str_is(ok->call_id, u->cid);
	struct sip_msg *bye = take(f, u->car);
	assert_request(bye, SIP_M_BYE, 2);
	assert_str_is(bye->call_id, u->b_cid);
	assert_str_is(bye->from_tag, u->b_ftag);
	assert_str_is(bye->to_tag, u->car_tag);
	carrier_respond(f, u, bye, 200, NULL, NULL);
	expect_quiet(f);
}

static const struct cdr *last_cdr(struct fx *f)
{
	assert_true(f->ncdr > 0);
	return &f->cdrs[f->ncdr - 1];
}

static void assert_cdr(const struct cdr *r, enum cdr_disposition d, int status, const char *carrier, enum cdr_side side)
{
	if (r->disposition != d)
		fail_msg("disposition %s, want %s", cdr_disposition_name(r->disposition), cdr_disposition_name(d));
	assert_int_equal(r->sip_status, status);
	assert_string_equal(r->carrier, carrier);
	assert_int_equal(r->hangup, side);
	assert_string_equal(r->caller, "4420001");
}

/* ---- 1. the basic call ---- */

/* The B-leg INVITE of the basic call: a new dialog towards carrier1. */
static void check_b_invite(const struct ua *u, const char *sdp)
{
	const struct sip_msg *inv = u->binv;
	assert_uri(inv->m->req_uri, "15551234", "10.0.1.1", "5060");
	assert_int_equal(inv->max_forwards, 69);
	assert_body(inv, sdp);
	assert_false(sy_str_eq(inv->call_id, sy_str_from(u->cid)));
	assert_true(inv->from_tag.len > 0);
	assert_false(sy_str_eq(inv->from_tag, sy_str_from(u->ftag)));
	assert_int_equal(inv->to_tag.len, 0);
	assert_string_equal(inv->m->from->url->username, "4420001");
	assert_string_equal(inv->m->to->url->username, "15551234");
	assert_int_equal(osip_list_size(&inv->m->vias), 1); /* the caller's Via is not leaked */
	assert_uri(contact_uri(inv), "switchyard", "10.0.0.1", "5060");
}

/* Default deny: an INVITE from an address no trunk lists, with no users
 * configured, is answered 403 before anything is allocated: no carrier
 * hears of it, no route is looked up, no CDR. */
static void test_identity_unknown_source_403(void **state)
{
	struct fx *f = *state;
	f->access.trunks[0].nets[0].addr = sy_addr_v4(10, 0, 0, 99, 0); /* the caller is 10.0.0.100 */
	fx_start(f);
	struct ua u;
	caller_invite(f, &u, "15551234");
	assert_response(take(f, &f->caller), 403, SIP_M_INVITE, 1);
	for (int i = 0; i < 3; i++)
		assert_int_equal(unread_to(f, &f->c[i]), 0);
	expect_quiet(f);
	assert_int_equal(f->route_calls, 0);
	assert_int_equal(f->ncdr, 0);
	assert_int_equal(st(f)->attempts, 0);
	assert_int_equal(b2bua_auth_stats(f->b)->rejected, 1);
	assert_int_equal(b2bua_auth_stats(f->b)->by_trunk, 0);
}

/* The CDR names the account of the trunk the call came from. */
static void test_identity_cdr_account(void **state)
{
	struct fx *f = *state;
	snprintf(f->access.trunks[0].account, SIP_AUTH_NAME_MAX, "acme");
	fx_start(f);
	struct ua u;
	call_setup(f, &u, "15551234", 0);
	call_ring(f, &u);
	call_answer(f, &u);
	call_bye_from_caller(f, &u);
	assert_int_equal(f->ncdr, 1);
	assert_string_equal(last_cdr(f)->account, "acme");
	assert_int_equal(b2bua_auth_stats(f->b)->by_trunk, 1);
}

/* A REGISTER from the phone of digest user 4471234 (behind NAT: its
 * Contact names a private address); auth is "" or a credentials line. */
static void phone_register(struct fx *f, const struct sy_addr *phone, int cseq, const char *auth)
{
	injectf(f, phone, NULL,
		"REGISTER sip:10.0.0.1 SIP/2.0\n"
		"Via: SIP/2.0/UDP 10.0.0.200:5062;branch=z9hG4bKreg%d\n"
		"Max-Forwards: 70\n"
		"From: <sip:4471234@10.0.0.1>;tag=ph\n"
		"To: <sip:4471234@10.0.0.1>\n"
		"Call-ID: reg-1@10.0.0.200\n"
		"CSeq: %d REGISTER\n"
		"Contact: <sip:4471234@192.168.1.20:5062>\n"
		"Expires: 600\n"
		"%s",
		cseq, cseq, auth);
}

/* The registrar end to end: 401, REGISTER with the digest, 200 listing
 * the contact; then a call from the trunk to 4471234 goes to the phone's
 * packet source with its Contact as Request-URI, not to a carrier. */
static void test_identity_registered_user(void **state)
{
	struct fx *f = *state;
	struct sip_user_cfg *usr = &f->access.users[f->access.user_n++];
	snprintf(usr->name, sizeof(usr->name), "4471234");
	snprintf(usr->password, sizeof(usr->password), "phone-pw");
	fx_start(f);
	struct sy_addr phone = sy_addr_v4(10, 0, 0, 200, 5062);
	phone_register(f, &phone, 1, "");
	struct sip_msg *r = take(f, &phone);
	assert_response(r, 401, SIP_M_REGISTER, 1);
	const char *np = memmem(r->raw.p, r->raw.len, "nonce=\"", 7);
	assert_non_null(np);
	char nonce[80], ha1[65], resp[65], auth[512];
	size_t nl = (size_t)((const char *)memchr(np + 7, '"', 70) - (np + 7));
	memcpy(nonce, np + 7, nl);
	nonce[nl] = '\0';
	sip_digest_ha1(SIP_ALG_SHA256, "4471234", "switchyard", "phone-pw", ha1);
	sip_digest_response(SIP_ALG_SHA256, ha1, nonce, "00000001", "abc", "auth", "REGISTER", "sip:10.0.0.1", resp);
	snprintf(
	    auth, sizeof(auth),
	    "Authorization: Digest username=\"4471234\", realm=\"switchyard\", nonce=\"%s\", uri=\"sip:10.0.0.1\", "
	    "response=\"%s\", algorithm=SHA-256, qop=auth, nc=00000001, cnonce=\"abc\"\n",
	    nonce, resp);
	phone_register(f, &phone, 2, auth);
	r = take(f, &phone);
	assert_response(r, 200, SIP_M_REGISTER, 2);
	assert_non_null(memmem(r->raw.p, r->raw.len, "Contact: <sip:4471234@192.168.1.20:5062>;expires=600", 52));
	assert_int_equal(b2bua_auth_stats(f->b)->bindings, 1);
	/* a call from the trunk to the registered user */
	struct ua u;
	caller_invite(f, &u, "4471234");
	assert_response(take(f, &f->caller), 100, SIP_M_INVITE, 1);
	struct sip_msg *inv = take(f, &phone);
	assert_request(inv, SIP_M_INVITE, 1);
	assert_uri(inv->m->req_uri, "4471234", "192.168.1.20", "5062");
	assert_int_equal(f->route_calls, 0); /* no carrier route was looked up */
	for (int i = 0; i < 3; i++)
		assert_int_equal(unread_to(f, &f->c[i]), 0);
	assert_int_equal(b2bua_auth_stats(f->b)->reg_routed, 1);
}

static void test_basic_call(void **state)
{
	struct fx *f = *state;
	fx_start(f);
	testenv_advance(&f->te, 5 * SEC); /* CDR times are not at zero */
	struct ua u;
	call_setup(f, &u, "15551234", 0);

	check_b_invite(&u, SDP_A);
	assert_int_equal(f->car[0].active, 1);
	assert_int_equal(f->car[0].attempts, 1);

	testenv_advance(&f->te, 200 * MS);
	call_ring(f, &u);
	testenv_advance(&f->te, 800 * MS);
	call_answer(f, &u);
	assert_int_equal(f->ncdr, 0);
	assert_int_equal(st(f)->active, 1);

	/* 30 s of talk: nothing on the wire (no retransmission once ACKed) */
	testenv_advance(&f->te, 30 * SEC);
	expect_quiet(f);
	call_bye_from_caller(f, &u);

	/* the BYE's dialog headers, in full */
	struct sip_msg *bye = f->kept[f->nkept - 1];
	assert_int_equal(bye->method, SIP_M_BYE);
	assert_uri(bye->m->req_uri, "gw", "10.0.1.1", "5060"); /* the carrier's Contact */
	assert_string_equal(bye->m->to->url->username, "15551234");
	assert_string_equal(bye->m->from->url->username, "4420001");

	assert_int_equal(f->ncdr, 1);
	const struct cdr *r = last_cdr(f);
	assert_cdr(r, CDR_DISP_ANSWERED, 200, "carrier1", CDR_SIDE_CALLER);
	assert_int_equal(r->id, 1001);
	assert_string_equal(r->callee, "15551234");
	assert_string_equal(r->a_call_id, u.cid);
	assert_string_equal(r->b_call_id, u.b_cid);
	assert_int_equal(r->duration_ms, 30000);
	assert_int_equal(r->pdd_ms, 200);
	uint64_t wall0 = f->te.wall_base_ns + 5 * SEC;
	assert_int_equal(r->start_ns, wall0);
	assert_int_equal(r->answer_ns, wall0 + 1 * SEC);
	assert_int_equal(r->end_ns, wall0 + 31 * SEC);

	const struct b2bua_stats *s = st(f);
	assert_int_equal(s->invites, 1);
	assert_int_equal(s->attempts, 1);
	assert_int_equal(s->answered, 1);
	assert_int_equal(s->completed, 1);
	assert_int_equal(s->failed, 0);
	assert_int_equal(s->cdrs, 1);
	assert_int_equal(s->active, 0);
	assert_int_equal(s->active_peak, 1);
	assert_int_equal(s->final_by_code[200], 1);
	assert_int_equal(s->pdd.count, 1);
	assert_int_equal(s->pdd.min_ns, 200 * MS);
	assert_int_equal(s->setup.count, 1);
	assert_int_equal(s->setup.min_ns, 1 * SEC);
	assert_int_equal(f->car[0].active, 0);
	assert_int_equal(f->car[0].answered, 1);
	assert_int_equal(f->route_calls, 1);

	/* the transactions drain: nothing more is sent */
	testenv_advance(&f->te, 60 * SEC);
	expect_quiet(f);
}

/* An INVITE answered 200 straight (no 180): pdd is the time to the 200. */
static void test_answer_without_ringing(void **state)
{
	struct fx *f = *state;
	fx_start(f);
	struct ua u;
	call_setup(f, &u, "4412345", 0);
	carrier_invite_resp(f, &u, 100, NULL); /* stops Timer A */
	testenv_advance(&f->te, 700 * MS);
	call_answer(f, &u);
	testenv_advance(&f->te, 2 * SEC);
	call_bye_from_caller(f, &u);
	const struct cdr *r = last_cdr(f);
	assert_cdr(r, CDR_DISP_ANSWERED, 200, "carrier1", CDR_SIDE_CALLER);
	assert_int_equal(r->pdd_ms, 700);
	assert_int_equal(r->duration_ms, 2000);
}

/* ---- 2. the carrier hangs up ---- */

static void test_bye_from_carrier(void **state)
{
	struct fx *f = *state;
	fx_start(f);
	struct ua u;
	call_setup(f, &u, "15551234", 0);
	call_ring(f, &u);
	testenv_advance(&f->te, 1 * SEC);
	call_answer(f, &u);
	testenv_advance(&f->te, 12345 * MS);
	carrier_bye(f, &u);

	struct sip_msg *ok = take(f, &f->c[0]);
	assert_response(ok, 200, SIP_M_BYE, 1);
	assert_str_is(ok->call_id, u.b_cid);
	struct sip_msg *bye = take(f, &f->caller);
	assert_request(bye, SIP_M_BYE, bye->cseq);
	assert_str_is(bye->call_id, u.cid);
	/* the caller's dialog seen from our side (RFC 3261 12.2.1.1) */
	assert_uri(bye->m->req_uri, "alice", "10.0.0.100", "5060");
	assert_str_is(bye->from_tag, u.tag);
	assert_uri(bye->m->from->url, "15551234", "10.0.0.1", NULL);
	assert_str_is(bye->to_tag, u.ftag);
	assert_uri(bye->m->to->url, "4420001", "10.0.0.100", NULL);
	assert_true(bye->cseq >= 1);
	expect_quiet(f);

	/* the caller answers our BYE; nothing more happens */
	carrier_respond(f, &(struct ua){.car = &f->caller}, bye, 200, NULL, NULL);
	testenv_advance(&f->te, 40 * SEC);
	expect_quiet(f);

	assert_int_equal(f->ncdr, 1);
	const struct cdr *r = last_cdr(f);
	assert_cdr(r, CDR_DISP_ANSWERED, 200, "carrier1", CDR_SIDE_CALLEE);
	assert_int_equal(r->duration_ms, 12345);
	assert_string_equal(r->b_call_id, u.b_cid);
	assert_int_equal(st(f)->completed, 1);
	assert_int_equal(st(f)->active, 0);
	assert_int_equal(f->car[0].active, 0);
}

/* A caller whose dialog strings outgrow the bytes kept in the call itself
 * (CALL_BUF_INLINE): its long Contact moves them to the heap, and the BYE
 * the switch sends later is still built from them in full. */
static void test_long_dialog_strings(void **state)
{
	struct fx *f = *state;
	fx_start(f);
	char user[601];
	for (size_t i = 0; i < sizeof(user) - 1; i++)
		user[i] = (char)('a' + i % 26);
	user[sizeof(user) - 1] = '\0';
	struct ua u;
	caller_invite_full(f, &u, "15551234", 70, user);
	assert_response(take(f, &f->caller), 100, SIP_M_INVITE, 1);
	u.car = &f->c[0];
	u.binv = take(f, u.car);
	assert_request(u.binv, SIP_M_INVITE, 1);
	copy_str(u.b_cid, sizeof(u.b_cid), u.binv->call_id);
	copy_str(u.b_ftag, sizeof(u.b_ftag), u.binv->from_tag);
	snprintf(u.car_tag, sizeof(u.car_tag), "ct%d", u.id);
	call_ring(f, &u);
	call_answer(f, &u);
	carrier_bye(f, &u);
	assert_response(take(f, &f->c[0]), 200, SIP_M_BYE, 1);
	struct sip_msg *bye = take(f, &f->caller);
	assert_request(bye, SIP_M_BYE, bye->cseq);
	assert_str_is(bye->call_id, u.cid);
	assert_uri(bye->m->req_uri, user, "10.0.0.100", "5060");
	assert_str_is(bye->from_tag, u.tag);
	assert_str_is(bye->to_tag, u.ftag);
	carrier_respond(f, &(struct ua){.car = &f->caller}, bye, 200, NULL, NULL);
	testenv_advance(&f->te, 40 * SEC);
	expect_quiet(f);
	assert_int_equal(st(f)->completed, 1);
	assert_int_equal(st(f)->active, 0);
}

/* ---- 3. requests the switch refuses ---- */

static void test_no_route(void **state)
{
	struct fx *f = *state;
	fx_start(f);
	struct ua u;
	caller_invite(f, &u, "999123");
	struct sip_msg *t = take(f, &f->caller);
	assert_response(t, 100, SIP_M_INVITE, 1);
	struct sip_msg *nf = take(f, &f->caller);
	assert_response(nf, 404, SIP_M_INVITE, 1);
	assert_str_is(nf->call_id, u.cid);
	assert_str_is(nf->from_tag, u.ftag);
	assert_true(nf->to_tag.len > 0);
	assert_str_is(nf->branch, u.branch);
	caller_ack_err(f, &u, nf); /* absorbed by the transaction */
	testenv_advance(&f->te, 40 * SEC);
	expect_quiet(f);

	assert_int_equal(f->ncdr, 1);
	const struct cdr *r = last_cdr(f);
	assert_cdr(r, CDR_DISP_NO_ROUTE, 404, "", CDR_SIDE_SYSTEM);
	assert_string_equal(r->callee, "999123");
	assert_string_equal(r->a_call_id, u.cid);
	assert_string_equal(r->b_call_id, "");
	assert_int_equal(r->answer_ns, 0);
	assert_int_equal(r->duration_ms, 0);
	assert_int_equal(st(f)->no_route, 1);
	assert_int_equal(st(f)->failed, 1);
	assert_int_equal(st(f)->final_by_code[404], 1);
	assert_int_equal(st(f)->active, 0);
}

static void test_max_forwards_zero(void **state)
{
	struct fx *f = *state;
	fx_start(f);
	struct ua u;
	caller_invite_mf(f, &u, "15551234", 0);
	struct sip_msg *r = take(f, &f->caller);
	assert_response(r, 483, SIP_M_INVITE, 1);
	assert_str_is(r->call_id, u.cid);
	expect_quiet(f);
	assert_int_equal(f->ncdr, 0);
	assert_int_equal(f->route_calls, 0);
	assert_int_equal(st(f)->invites, 1);
	assert_int_equal(st(f)->attempts, 0);

	/* Max-Forwards: 1 still goes out, with 0 */
	caller_invite_mf(f, &u, "15551234", 1);
	assert_response(take(f, &f->caller), 100, SIP_M_INVITE, 1);
	struct sip_msg *inv = take(f, &f->c[0]);
	assert_int_equal(inv->max_forwards, 0);
	expect_quiet(f);
}

static void test_missing_call_id(void **state)
{
	struct fx *f = *state;
	fx_start(f);
	injectf(f, &f->caller, SDP_A,
		"INVITE sip:15551234@10.0.0.1:5060 SIP/2.0\n"
		"Via: SIP/2.0/UDP 10.0.0.100:5060;branch=z9hG4bKnocid\n"
		"Max-Forwards: 70\n"
		"From: <sip:4420001@10.0.0.100>;tag=x1\n"
		"To: <sip:15551234@10.0.0.1>\n"
		"CSeq: 1 INVITE\n"
		"Content-Type: application/sdp\n");
	size_t n = testenv_sent_count(&f->te);
	assert_int_equal(n, 1);
	const struct testenv_sent *d = testenv_sent(&f->te, 0);
	assert_true(sy_addr_eq(&d->to, &f->caller));
	assert_true(d->len > 12 && memcmp(d->buf, "SIP/2.0 400 ", 12) == 0);
	f->taken[0] = true;
	assert_int_equal(f->ncdr, 0);
	assert_int_equal(st(f)->invites, 0);
	assert_int_equal(f->route_calls, 0);
}

static const struct {
	const char *name;
	const char *bytes;
	size_t len;
} GARBAGE[] = {
    {"empty", "", 0},
    {"nul bytes", "\0\0\0\0", 4},
    {"binary", "\x80\xff\x01\x02\xfe garbage \x7f", 14},
    {"start line only", "INVITE sip:1@x SIP/2.0\r\n", 24},
    {"no headers end", "INVITE sip:1@x SIP/2.0\r\nVia: SIP/2.0/UDP", 40},
    {"response garbage", "SIP/2.0 abc\r\n\r\n", 15},
    {"status only", "SIP/2.0 200 OK\r\n\r\n", 18},
    {"CRLF keepalive", "\r\n\r\n", 4},
    {"huge content-length", "OPTIONS sip:x@10.0.0.1 SIP/2.0\r\nContent-Length: 99999999999999999999\r\n\r\nabc", 76},
};

static void test_garbage(void **state)
{
	struct fx *f = *state;
	fx_start(f);
	for (size_t i = 0; i < SY_ARRAY_LEN(GARBAGE); i++) {
		/* a heap copy of exactly len bytes, so ASan sees any over-read */
		uint8_t *buf = malloc(GARBAGE[i].len ? GARBAGE[i].len : 1);
		memcpy(buf, GARBAGE[i].bytes, GARBAGE[i].len);
		testenv_inject(&f->te, f->sock, &f->caller, buf, GARBAGE[i].len);
		free(buf);
		if (testenv_sent_count(&f->te) != 0)
			fail_msg("%s: the switch answered garbage", GARBAGE[i].name);
	}
	/* every prefix of a valid INVITE: no crash, no call */
	char inv[1024];
	int n = snprintf(inv, sizeof(inv),
			 "INVITE sip:15551234@10.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 10.0.0.100:5060;branch=z9hG4bKg\r\n"
			 "From: <sip:1@x>;tag=1\r\nTo: <sip:15551234@10.0.0.1>\r\nCall-ID: g@x\r\nCSeq: 1 INVITE\r\n"
			 "Content-Length: 0\r\n\r\n");
	int first_call = -1;
	for (int len = 0; len < n - 4; len++) {
		uint8_t *buf = malloc((size_t)len + 1);
		memcpy(buf, inv, (size_t)len);
		testenv_inject(&f->te, f->sock, &f->caller, buf, (size_t)len);
		free(buf);
		if (first_call < 0 && st(f)->attempts > 0)
			first_call = len;
	}
	/* A prefix with every mandatory header but no blank line is taken as
	 * an INVITE (osip is lenient; RFC 3261 7 wants the empty line): at most
	 * one call, whatever the later prefixes (they are retransmissions). */
	if (first_call >= 0)
		fprintf(stderr, "note: a %d-byte prefix without the blank line started a call\n", first_call);
	assert_true(first_call < 0 || first_call >= (int)(strstr(inv, "CSeq: 1 INVITE") - inv) + 14);
	assert_true(st(f)->attempts <= 1);
	for (size_t i = 0; i < testenv_sent_count(&f->te); i++) {
		const struct testenv_sent *d = testenv_sent(&f->te, i);
		bool to_caller = sy_addr_eq(&d->to, &f->caller);
		bool ok = to_caller ? memcmp(d->buf, "SIP/2.0 400", 11) == 0 || memcmp(d->buf, "SIP/2.0 100", 11) == 0
				    : sy_addr_eq(&d->to, &f->c[0]) && memcmp(d->buf, "INVITE ", 7) == 0;
		if (!ok)
			fail_msg("answered a truncated INVITE:\n%s", (const char *)d->buf);
		f->taken[i] = true;
	}
	assert_int_equal(f->ncdr, 0);
	/* still alive: a real call works */
	struct ua u;
	call_setup(f, &u, "15551234", 0);
}

/* Out-of-dialog requests with no call behind them, one per row. */
static const struct {
	const char *what;
	const char *method, *ruri, *to_tag; /* to_tag NULL: none */
	uint32_t cseq;
	int status; /* 0: nothing is sent back */
	enum sip_method m;
} STRAYS[] = {
    {"OPTIONS ping", "OPTIONS", "sip:10.0.0.1:5060", NULL, 7, 200, SIP_M_OPTIONS},
    {"BYE, unknown dialog", "BYE", "sip:switchyard@10.0.0.1:5060", "nosuch", 2, 481, SIP_M_BYE},
    {"BYE without To tag", "BYE", "sip:switchyard@10.0.0.1:5060", NULL, 2, 481, SIP_M_BYE},
    {"ACK, unknown dialog", "ACK", "sip:switchyard@10.0.0.1:5060", "nosuch", 1, 0, SIP_M_ACK},
    {"CANCEL matching no INVITE", "CANCEL", "sip:1555@10.0.0.1:5060", NULL, 1, 481, SIP_M_CANCEL},
    {"REGISTER (a trunk does not register; no users: 403)", "REGISTER", "sip:10.0.0.1", NULL, 1, 403, SIP_M_REGISTER},
};

static void test_options_and_stray(void **state)
{
	struct fx *f = *state;
	fx_start(f);
	for (size_t i = 0; i < SY_ARRAY_LEN(STRAYS); i++) {
		char tag[64] = "", cid[64], branch[64];
		if (STRAYS[i].to_tag != NULL)
			snprintf(tag, sizeof(tag), ";tag=%s", STRAYS[i].to_tag);
		snprintf(cid, sizeof(cid), "stray%zu@10.0.0.100", i);
		snprintf(branch, sizeof(branch), "z9hG4bKstray%zu", i);
		injectf(f, &f->caller, NULL,
			"%s %s SIP/2.0\n"
			"Via: SIP/2.0/UDP 10.0.0.100:5060;branch=%s\n"
			"Max-Forwards: 70\n"
			"From: <sip:4420001@10.0.0.100>;tag=s%zu\n"
			"To: <sip:1555@10.0.0.1>%s\n"
			"Call-ID: %s\n"
			"CSeq: %u %s\n",
			STRAYS[i].method, STRAYS[i].ruri, branch, i, tag, cid, STRAYS[i].cseq, STRAYS[i].method);
		if (STRAYS[i].status == 0) {
			if (testenv_sent_count(&f->te) != 0 && unread_to(f, &f->caller) != 0)
				fail_msg("%s: answered", STRAYS[i].what);
			continue;
		}
		struct sip_msg *r = take(f, &f->caller);
		assert_response(r, STRAYS[i].status, STRAYS[i].m, STRAYS[i].cseq);
		assert_str_is(r->call_id, cid);
		assert_str_is(r->branch, branch);
		expect_quiet(f);
	}
	assert_int_equal(st(f)->stray, 2);
	assert_int_equal(st(f)->invites, 0);
	assert_int_equal(f->ncdr, 0);
	assert_int_equal(f->route_calls, 0);
}

/* In-dialog requests other than BYE on a confirmed call. */
static void test_in_dialog_requests(void **state)
{
	struct fx *f = *state;
	fx_start(f);
	struct ua u;
	call_setup(f, &u, "15551234", 0);
	call_ring(f, &u);
	call_answer(f, &u);
	static const struct {
		const char *method;
		enum sip_method m;
		int status;
	} cases[] = {
	    {"OPTIONS", SIP_M_OPTIONS, 200},
	    {"INFO", SIP_M_INFO, 200},
	    {"UPDATE", SIP_M_UPDATE, 200}, /* no body: a session refresh, answered here */
	    {"MESSAGE", SIP_M_OTHER, 501},
	};
	for (size_t i = 0; i < SY_ARRAY_LEN(cases); i++) {
		caller_req(f, &u, cases[i].method, (uint32_t)(10 + i));
		struct sip_msg *r = take(f, &f->caller);
		assert_int_equal(r->status, cases[i].status);
		assert_int_equal(r->cseq, 10 + i);
		assert_str_is(r->call_id, u.cid);
		if (cases[i].m == SIP_M_INVITE)
			caller_ack_err(f, &u, r);
		expect_quiet(f);
	}
	assert_int_equal(f->ncdr, 0);
	caller_req(f, &u, "BYE", 20);
	assert_response(take(f, &f->caller), 200, SIP_M_BYE, 20);
	struct sip_msg *bye = take(f, u.car);
	assert_request(bye, SIP_M_BYE, 2);
	assert_int_equal(f->ncdr, 0); /* until the carrier answers our BYE */
	carrier_respond(f, &u, bye, 200, NULL, NULL);
	assert_int_equal(f->ncdr, 1);
	assert_cdr(last_cdr(f), CDR_DISP_ANSWERED, 200, "carrier1", CDR_SIDE_CALLER);
}

/* ---- 4. carrier failures and failover ---- */

/* The stack's ACK for a carrier's non-2xx final: same branch as the
 * INVITE, CSeq n ACK, the response's To tag. */
static void expect_err_ack(struct fx *f, struct ua *u)
{
	struct sip_msg *ack = take(f, u->car);
	assert_int_equal(ack->method, SIP_M_ACK);
	assert_int_equal(ack->cseq, 1);
	assert_true(sy_str_eq(ack->branch, u->binv->branch));
	assert_str_is(ack->call_id, u->b_cid);
	assert_str_is(ack->to_tag, u->car_tag);
}

static void test_busy(void **state)
{
	struct fx *f = *state;
	fx_start(f);
	struct ua u;
	call_setup(f, &u, "15551234", 0);
	testenv_advance(&f->te, 300 * MS);
	carrier_invite_resp(f, &u, 486, NULL);
	expect_err_ack(f, &u);
	struct sip_msg *r = take(f, &f->caller);
	assert_response(r, 486, SIP_M_INVITE, 1);
	assert_str_is(r->call_id, u.cid);
	assert_str_is(r->branch, u.branch);
	assert_true(r->to_tag.len > 0);
	expect_quiet(f);
	/* a retransmitted 486 is ACKed again by the stack, not relayed */
	carrier_invite_resp(f, &u, 486, NULL);
	expect_err_ack(f, &u);
	expect_quiet(f);
	caller_ack_err(f, &u, r);
	testenv_advance(&f->te, 40 * SEC);
	expect_quiet(f);

	assert_int_equal(f->ncdr, 1);
	const struct cdr *c = last_cdr(f);
	assert_cdr(c, CDR_DISP_BUSY, 486, "carrier1", CDR_SIDE_SYSTEM);
	assert_string_equal(c->b_call_id, u.b_cid);
	assert_int_equal(c->pdd_ms, 300);
	assert_int_equal(c->duration_ms, 0);
	assert_int_equal(st(f)->failovers, 0); /* 486 is not a failover code */
	assert_int_equal(st(f)->failed, 1);
	assert_int_equal(st(f)->final_by_code[486], 1);
	assert_int_equal(f->car[0].failed, 1);
	assert_int_equal(f->car[0].active, 0);
	assert_int_equal(f->car[1].attempts, 0);
}

static void test_failover_503(void **state)
{
	struct fx *f = *state;
	fx_start(f);
	struct ua u;
	call_setup(f, &u, "15551234", 0);
	char first_cid[96];
	snprintf(first_cid, sizeof(first_cid), "%s", u.b_cid);
	struct sip_msg *first_inv = u.binv;
	carrier_invite_resp(f, &u, 100, NULL);
	expect_quiet(f); /* a carrier's 100 is not relayed */
	testenv_advance(&f->te, 100 * MS);
	carrier_invite_resp(f, &u, 503, NULL);
	expect_err_ack(f, &u);
	/* the same call goes to carrier2 as a fresh B dialog */
	u.car = &f->c[1];
	u.binv = take(f, u.car);
	assert_request(u.binv, SIP_M_INVITE, 1);
	assert_uri(u.binv->m->req_uri, "15551234", "10.0.1.2", "5060");
	assert_int_equal(u.binv->max_forwards, 69);
	assert_body(u.binv, SDP_A);
	copy_str(u.b_cid, sizeof(u.b_cid), u.binv->call_id);
	copy_str(u.b_ftag, sizeof(u.b_ftag), u.binv->from_tag);
	assert_string_not_equal(u.b_cid, first_cid);
	expect_quiet(f); /* the caller hears nothing of the 503 */
	assert_int_equal(f->car[0].active, 0);
	assert_int_equal(f->car[1].active, 1);

	/* a late 503 retransmission from carrier1 is ACKed by the stack only */
	struct ua old = u;
	old.car = &f->c[0];
	old.binv = first_inv;
	snprintf(old.b_cid, sizeof(old.b_cid), "%s", first_cid);
	carrier_invite_resp(f, &old, 503, NULL);
	expect_err_ack(f, &old);
	expect_quiet(f);
	testenv_advance(&f->te, 100 * MS);
	call_ring(f, &u);
	call_answer(f, &u);
	testenv_advance(&f->te, 5 * SEC);
	call_bye_from_caller(f, &u);
	assert_int_equal(f->ncdr, 1);
	const struct cdr *c = last_cdr(f);
	assert_cdr(c, CDR_DISP_ANSWERED, 200, "carrier2", CDR_SIDE_CALLER);
	assert_string_equal(c->b_call_id, u.b_cid);
	assert_int_equal(c->duration_ms, 5000);
	assert_int_equal(c->pdd_ms, 200);
	assert_int_equal(st(f)->failovers, 1);
	assert_int_equal(st(f)->attempts, 1);
	assert_int_equal(f->car[0].failed, 1);
	assert_int_equal(f->car[1].answered, 1);
}

/* 5xx from the last carrier of the route: passed on to the caller. */
static void test_503_last_carrier(void **state)
{
	struct fx *f = *state;
	fx_start(f);
	struct ua u;
	call_setup(f, &u, "4412345", 0);
	carrier_invite_resp(f, &u, 503, NULL);
	expect_err_ack(f, &u);
	struct sip_msg *r = take(f, &f->caller);
	assert_response(r, 503, SIP_M_INVITE, 1);
	expect_quiet(f);
	assert_cdr(last_cdr(f), CDR_DISP_CONGESTION, 503, "carrier1", CDR_SIDE_SYSTEM);
	assert_int_equal(st(f)->failovers, 0);
}

/* Codes that fail over (408, 5xx but 501/505) and codes that do not. */
static void test_failover_codes(void **state)
{
	struct fx *f = *state;
	fx_start(f);
	static const struct {
		int code;
		bool failover;
		enum cdr_disposition d;
	} cases[] = {
	    {500, true, 0},
	    {502, true, 0},
	    {408, true, 0},
	    {501, false, CDR_DISP_FAILED},
	    {505, false, CDR_DISP_FAILED},
	    {404, false, CDR_DISP_NO_ROUTE},
	    {480, false, CDR_DISP_NO_ANSWER},
	    {403, false, CDR_DISP_FAILED},
	    {600, false, CDR_DISP_BUSY},
	    {603, false, CDR_DISP_FAILED},
	};
	for (size_t i = 0; i < SY_ARRAY_LEN(cases); i++) {
		struct ua u;
		size_t cdrs = f->ncdr;
		call_setup(f, &u, "15551234", 0);
		carrier_invite_resp(f, &u, cases[i].code, NULL);
		expect_err_ack(f, &u);
		if (cases[i].failover) {
			u.car = &f->c[1];
			u.binv = take(f, u.car);
			assert_request(u.binv, SIP_M_INVITE, 1);
			copy_str(u.b_cid, sizeof(u.b_cid), u.binv->call_id);
			snprintf(u.car_tag, sizeof(u.car_tag), "ct2-%d", u.id);
			carrier_invite_resp(f, &u, 486, NULL);
			expect_err_ack(f, &u);
			struct sip_msg *r = take(f, &f->caller);
			assert_response(r, 486, SIP_M_INVITE, 1);
			caller_ack_err(f, &u, r);
			assert_cdr(last_cdr(f), CDR_DISP_BUSY, 486, "carrier2", CDR_SIDE_SYSTEM);
		} else {
			struct sip_msg *r = take(f, &f->caller);
			assert_response(r, cases[i].code, SIP_M_INVITE, 1);
			caller_ack_err(f, &u, r);
			if (last_cdr(f)->disposition != cases[i].d)
				fail_msg("code %d: disposition %s", cases[i].code,
					 cdr_disposition_name(last_cdr(f)->disposition));
			assert_cdr(last_cdr(f), cases[i].d, cases[i].code, "carrier1", CDR_SIDE_SYSTEM);
		}
		expect_quiet(f);
		assert_int_equal(f->ncdr, cdrs + 1);
		testenv_advance(&f->te, 1 * SEC);
		sent_reset(f);
		fx_release(f);
	}
}

/* failover = false: the first carrier's 503 goes to the caller. */
static void test_failover_off(void **state)
{
	struct fx *f = *state;
	f->cfg.failover = false;
	fx_start(f);
	struct ua u;
	call_setup(f, &u, "15551234", 0);
	carrier_invite_resp(f, &u, 503, NULL);
	expect_err_ack(f, &u);
	assert_response(take(f, &f->caller), 503, SIP_M_INVITE, 1);
	expect_quiet(f);
	assert_cdr(last_cdr(f), CDR_DISP_CONGESTION, 503, "carrier1", CDR_SIDE_SYSTEM);
	assert_int_equal(f->car[1].attempts, 0);
}

/* ---- 5. silent carriers ---- */

/* Takes every INVITE to `to` and checks their send times (retransmissions
 * of one transaction: same branch). */
static struct sip_msg *expect_invites(struct fx *f, const struct sy_addr *to, const uint64_t *at, size_t n)
{
	struct sip_msg *first = NULL;
	for (size_t i = 0; i < n; i++) {
		uint64_t t;
		struct sip_msg *m = take_at(f, to, &t);
		assert_request(m, SIP_M_INVITE, 1);
		assert_int_equal(t, at[i]);
		if (first == NULL)
			first = m;
		assert_true(sy_str_eq(m->branch, first->branch));
		assert_true(sy_str_eq(m->call_id, first->call_id));
	}
	assert_int_equal(unread_to(f, to), 0);
	return first;
}

static void test_invite_timeout_failover(void **state)
{
	struct fx *f = *state;
	fx_start(f);
	struct ua u;
	caller_invite(f, &u, "15551234");
	assert_response(take(f, &f->caller), 100, SIP_M_INVITE, 1);
	/* carrier1 never answers: Timer A retransmits at 0.5 s and 1.5 s, then
	 * the 3 s invite timeout gives it up (no retransmission at 3.5 s) */
	testenv_advance(&f->te, 3 * SEC - 1);
	const uint64_t at1[] = {0, 500 * MS, 1500 * MS};
	struct sip_msg *inv1 = expect_invites(f, &f->c[0], at1, 3);
	expect_quiet(f);
	assert_int_equal(st(f)->timeouts, 0);
	testenv_advance(&f->te, 1);
	assert_int_equal(st(f)->timeouts, 1);
	assert_int_equal(st(f)->failovers, 1);
	assert_int_equal(f->car[0].timeouts, 1);
	assert_int_equal(f->car[0].active, 0);
	/* carrier2 gets it at 3 s, and is silent as well: 408 at 6 s */
	testenv_advance(&f->te, 3 * SEC);
	const uint64_t at2[] = {3 * SEC, 3500 * MS, 4500 * MS};
	struct sip_msg *inv2 = expect_invites(f, &f->c[1], at2, 3);
	assert_false(sy_str_eq(inv1->call_id, inv2->call_id));
	uint64_t t;
	struct sip_msg *r = take_at(f, &f->caller, &t);
	assert_response(r, 408, SIP_M_INVITE, 1);
	assert_int_equal(t, 6 * SEC);
	expect_quiet(f);
	caller_ack_err(f, &u, r);
	/* nothing more to anyone: abandoned transactions stay quiet */
	testenv_advance(&f->te, 70 * SEC);
	expect_quiet(f);

	assert_int_equal(f->ncdr, 1);
	const struct cdr *c = last_cdr(f);
	/* as implemented: a carrier timeout is recorded as NO_ANSWER / 408 */
	assert_cdr(c, CDR_DISP_NO_ANSWER, 408, "carrier2", CDR_SIDE_SYSTEM);
	assert_int_equal(c->pdd_ms, 6000);
	char cid2[96];
	copy_str(cid2, sizeof(cid2), inv2->call_id);
	assert_string_equal(c->b_call_id, cid2);
	assert_int_equal(st(f)->timeouts, 2);
	assert_int_equal(st(f)->failovers, 1);
	assert_int_equal(st(f)->final_by_code[408], 1);
	assert_int_equal(f->car[1].timeouts, 1);
	assert_int_equal(f->car[1].active, 0);
	assert_int_equal(st(f)->active, 0);
}

/* invite_timeout_ns = 0: only Timer B (64*T1 = 32 s) ends the attempt. */
static void test_timer_b(void **state)
{
	struct fx *f = *state;
	f->cfg.invite_timeout_ns = 0;
	fx_start(f);
	struct ua u;
	caller_invite(f, &u, "4412345");
	assert_response(take(f, &f->caller), 100, SIP_M_INVITE, 1);
	testenv_advance(&f->te, 32 * SEC - 1);
	/* A: 0.5, 1.5, 3.5, 7.5, 15.5, 31.5 s */
	const uint64_t at[] = {0, 500 * MS, 1500 * MS, 3500 * MS, 7500 * MS, 15500 * MS, 31500 * MS};
	expect_invites(f, &f->c[0], at, SY_ARRAY_LEN(at));
	expect_quiet(f);
	testenv_advance(&f->te, 1);
	uint64_t t;
	struct sip_msg *r = take_at(f, &f->caller, &t);
	assert_response(r, 408, SIP_M_INVITE, 1);
	assert_int_equal(t, 32 * SEC);
	caller_ack_err(f, &u, r);
	expect_quiet(f);
	assert_cdr(last_cdr(f), CDR_DISP_NO_ANSWER, 408, "carrier1", CDR_SIDE_SYSTEM);
	assert_int_equal(st(f)->timeouts, 1);
	assert_int_equal(f->car[0].timeouts, 1);
}

/* A 100 Trying stops the invite timeout (the ring timeout runs instead). */
static void test_trying_stops_invite_timeout(void **state)
{
	struct fx *f = *state;
	fx_start(f);
	struct ua u;
	call_setup(f, &u, "15551234", 0);
	testenv_advance(&f->te, 400 * MS);
	carrier_invite_resp(f, &u, 100, NULL);
	testenv_advance(&f->te, 10 * SEC);
	expect_quiet(f); /* no retransmission, no failover */
	assert_int_equal(st(f)->timeouts, 0);
	call_ring(f, &u);
	call_answer(f, &u);
	call_bye_from_caller(f, &u);
	assert_cdr(last_cdr(f), CDR_DISP_ANSWERED, 200, "carrier1", CDR_SIDE_CALLER);
	assert_int_equal(last_cdr(f)->pdd_ms, 10400);
}

/* ---- 6. CANCEL ---- */

/* The CANCEL the switch sends for the B-leg INVITE (RFC 3261 9.1). */
static struct sip_msg *expect_b_cancel(struct fx *f, struct ua *u)
{
	struct sip_msg *c = take(f, u->car);
	assert_request(c, SIP_M_CANCEL, 1);
	assert_true(sy_str_eq(c->branch, u->binv->branch));
	assert_str_is(c->call_id, u->b_cid);
	assert_str_is(c->from_tag, u->b_ftag);
	assert_int_equal(c->to_tag.len, 0);
	assert_uri(c->m->req_uri, u->callee, "10.0.1.1", "5060");
	return c;
}

static void test_cancel_while_ringing(void **state)
{
	struct fx *f = *state;
	fx_start(f);
	struct ua u;
	call_setup(f, &u, "15551234", 0);
	testenv_advance(&f->te, 250 * MS);
	call_ring(f, &u);
	testenv_advance(&f->te, 4 * SEC);
	caller_cancel(f, &u);

	struct sip_msg *ok = take(f, &f->caller);
	assert_response(ok, 200, SIP_M_CANCEL, 1);
	assert_str_is(ok->branch, u.branch);
	struct sip_msg *term = take(f, &f->caller);
	assert_response(term, 487, SIP_M_INVITE, 1);
	assert_str_is(term->to_tag, u.tag);
	struct sip_msg *cancel = expect_b_cancel(f, &u);
	expect_quiet(f);
	assert_int_equal(f->ncdr, 0); /* the call waits for the carrier's 487 */
	assert_int_equal(st(f)->active, 1);
	caller_ack_err(f, &u, term);

	carrier_respond(f, &u, cancel, 200, NULL, NULL);
	carrier_invite_resp(f, &u, 487, NULL);
	expect_err_ack(f, &u);
	expect_quiet(f);
	assert_int_equal(f->ncdr, 1);
	const struct cdr *c = last_cdr(f);
	assert_cdr(c, CDR_DISP_CANCELLED, 487, "carrier1", CDR_SIDE_CALLER);
	assert_int_equal(c->pdd_ms, 250);
	assert_int_equal(c->answer_ns, 0);
	assert_int_equal(c->duration_ms, 0);
	assert_int_equal(st(f)->cancelled, 1);
	assert_int_equal(st(f)->active, 0);
	assert_int_equal(f->car[0].active, 0);
	testenv_advance(&f->te, 40 * SEC);
	expect_quiet(f);
}

/* CANCEL before the carrier sent any 1xx: the CANCEL to the carrier waits
 * for its first provisional response (RFC 3261 9.1). */
static void test_cancel_before_provisional(void **state)
{
	struct fx *f = *state;
	fx_start(f);
	struct ua u;
	call_setup(f, &u, "15551234", 0);
	caller_cancel(f, &u);
	assert_response(take(f, &f->caller), 200, SIP_M_CANCEL, 1);
	struct sip_msg *term = take(f, &f->caller);
	assert_response(term, 487, SIP_M_INVITE, 1);
	caller_ack_err(f, &u, term);
	expect_quiet(f);
	testenv_advance(&f->te, 100 * MS);
	carrier_invite_resp(f, &u, 100, NULL);
	struct sip_msg *cancel = expect_b_cancel(f, &u);
	carrier_respond(f, &u, cancel, 200, NULL, NULL);
	carrier_invite_resp(f, &u, 487, NULL);
	expect_err_ack(f, &u);
	expect_quiet(f);
	assert_cdr(last_cdr(f), CDR_DISP_CANCELLED, 487, "carrier1", CDR_SIDE_CALLER);
	assert_int_equal(st(f)->active, 0);
}

/* The carrier's 200 crosses our CANCEL: ACK and BYE it; the caller already
 * has its 487. */
static void test_cancel_crosses_200(void **state)
{
	struct fx *f = *state;
	fx_start(f);
	struct ua u;
	call_setup(f, &u, "15551234", 0);
	call_ring(f, &u);
	caller_cancel(f, &u);
	assert_response(take(f, &f->caller), 200, SIP_M_CANCEL, 1);
	struct sip_msg *term = take(f, &f->caller);
	assert_response(term, 487, SIP_M_INVITE, 1);
	expect_b_cancel(f, &u);
	caller_ack_err(f, &u, term);
	carrier_invite_resp(f, &u, 200, SDP_B);
	struct sip_msg *ack = take(f, u.car);
	assert_request(ack, SIP_M_ACK, 1);
	assert_str_is(ack->to_tag, u.car_tag);
	struct sip_msg *bye = take(f, u.car);
	assert_request(bye, SIP_M_BYE, 2);
	assert_str_is(bye->to_tag, u.car_tag);
	assert_str_is(bye->call_id, u.b_cid);
	carrier_respond(f, &u, bye, 200, NULL, NULL);
	expect_quiet(f);
	assert_int_equal(f->ncdr, 1);
	assert_cdr(last_cdr(f), CDR_DISP_CANCELLED, 487, "carrier1", CDR_SIDE_CALLER);
	assert_int_equal(st(f)->answered, 0);
	assert_int_equal(st(f)->active, 0);
}

/* BYE from the caller on the early dialog: ends it like a CANCEL. */
static void test_early_bye(void **state)
{
	struct fx *f = *state;
	fx_start(f);
	struct ua u;
	call_setup(f, &u, "15551234", 0);
	call_ring(f, &u);
	caller_req(f, &u, "BYE", 2);
	assert_response(take(f, &f->caller), 200, SIP_M_BYE, 2);
	struct sip_msg *term = take(f, &f->caller);
	assert_response(term, 487, SIP_M_INVITE, 1);
	caller_ack_err(f, &u, term);
	struct sip_msg *cancel = expect_b_cancel(f, &u);
	carrier_respond(f, &u, cancel, 200, NULL, NULL);
	carrier_invite_resp(f, &u, 487, NULL);
	expect_err_ack(f, &u);
	expect_quiet(f);
	assert_cdr(last_cdr(f), CDR_DISP_CANCELLED, 487, "carrier1", CDR_SIDE_CALLER);
}

/* ---- 7. ring timeout ---- */

static void test_ring_timeout(void **state)
{
	struct fx *f = *state;
	f->cfg.ring_timeout_ns = 20 * SEC;
	fx_start(f);
	struct ua u;
	testenv_advance(&f->te, 1 * SEC);
	call_setup(f, &u, "15551234", 0);
	testenv_advance(&f->te, 400 * MS);
	call_ring(f, &u);
	testenv_advance(&f->te, 20 * SEC - 1);
	expect_quiet(f);
	testenv_advance(&f->te, 1);
	uint64_t t;
	struct sip_msg *r = take_at(f, &f->caller, &t);
	assert_response(r, 480, SIP_M_INVITE, 1);
	assert_int_equal(t, 21400 * MS);
	assert_str_is(r->to_tag, u.tag);
	struct sip_msg *cancel = expect_b_cancel(f, &u);
	expect_quiet(f);
	caller_ack_err(f, &u, r);
	assert_int_equal(st(f)->ring_timeouts, 1);
	carrier_respond(f, &u, cancel, 200, NULL, NULL);
	testenv_advance(&f->te, 50 * MS);
	carrier_invite_resp(f, &u, 487, NULL);
	expect_err_ack(f, &u);
	expect_quiet(f);

	assert_int_equal(f->ncdr, 1);
	const struct cdr *c = last_cdr(f);
	assert_cdr(c, CDR_DISP_NO_ANSWER, 480, "carrier1", CDR_SIDE_SYSTEM);
	assert_int_equal(c->pdd_ms, 400);
	assert_int_equal(st(f)->final_by_code[480], 1);
	assert_int_equal(st(f)->cancelled, 0);
	assert_int_equal(st(f)->active, 0);
	assert_int_equal(f->car[0].active, 0);
	testenv_advance(&f->te, 40 * SEC);
	expect_quiet(f);
}

/* Ring timeout and a carrier that never answers the CANCEL: the call ends
 * on its own after 64*T1 (no slot is held forever). */
static void test_ring_timeout_carrier_dead(void **state)
{
	struct fx *f = *state;
	f->cfg.ring_timeout_ns = 5 * SEC;
	fx_start(f);
	struct ua u;
	call_setup(f, &u, "15551234", 0);
	call_ring(f, &u);
	testenv_advance(&f->te, 5 * SEC);
	struct sip_msg *r = take(f, &f->caller);
	assert_response(r, 480, SIP_M_INVITE, 1);
	caller_ack_err(f, &u, r);
	expect_b_cancel(f, &u);
	testenv_advance(&f->te, 40 * SEC);
	/* CANCEL retransmissions only */
	while (unread_to(f, u.car) > 0)
		assert_int_equal(take(f, u.car)->method, SIP_M_CANCEL);
	expect_quiet(f);
	assert_int_equal(f->ncdr, 1);
	assert_cdr(last_cdr(f), CDR_DISP_NO_ANSWER, 480, "carrier1", CDR_SIDE_SYSTEM);
	assert_int_equal(st(f)->active, 0);
	assert_int_equal(f->car[0].active, 0);
}

/* ---- 8. capacity ---- */

static void test_carrier_capacity(void **state)
{
	struct fx *f = *state;
	f->car[0].capacity = 1;
	f->car[1].capacity = 1;
	fx_start(f);
	struct ua a, b, c, d;
	call_setup(f, &a, "15550001", 0);
	call_ring(f, &a);
	call_answer(f, &a);
	/* carrier1 is full: the second call goes to carrier2 */
	call_setup(f, &b, "15550002", 1);
	assert_uri(b.binv->m->req_uri, "15550002", "10.0.1.2", "5060");
	assert_int_equal(f->car[0].attempts, 1);
	/* both full: 503 to the third, and a CONGESTION CDR */
	caller_invite(f, &c, "15550003");
	assert_response(take(f, &f->caller), 100, SIP_M_INVITE, 1);
	struct sip_msg *r = take(f, &f->caller);
	assert_response(r, 503, SIP_M_INVITE, 1);
	caller_ack_err(f, &c, r);
	expect_quiet(f);
	assert_int_equal(f->ncdr, 1);
	assert_cdr(last_cdr(f), CDR_DISP_CONGESTION, 503, "", CDR_SIDE_SYSTEM);
	assert_string_equal(last_cdr(f)->b_call_id, "");
	assert_int_equal(st(f)->congestion, 1);
	/* the first call ends: carrier1 takes calls again */
	call_bye_from_caller(f, &a);
	assert_int_equal(f->car[0].active, 0);
	call_setup(f, &d, "15550004", 0);
	assert_int_equal(f->car[0].active, 1);
	assert_int_equal(f->car[1].active, 1);
	assert_int_equal(st(f)->active, 2);
	assert_int_equal(st(f)->active_peak, 3); /* the congested call held a slot briefly */
}

static void test_pool_full(void **state)
{
	struct fx *f = *state;
	f->cfg.calls_max = 2;
	fx_start(f);
	struct ua a, b, c;
	call_setup(f, &a, "15550001", 0);
	call_setup(f, &b, "15550002", 0);
	caller_invite(f, &c, "15550003");
	struct sip_msg *r = take(f, &f->caller);
	assert_response(r, 503, SIP_M_INVITE, 1); /* at once, no 100 */
	assert_str_is(r->call_id, c.cid);
	caller_ack_err(f, &c, r);
	expect_quiet(f);
	assert_int_equal(st(f)->invites, 3);
	assert_int_equal(st(f)->attempts, 2);
	assert_int_equal(st(f)->congestion, 1);
	assert_int_equal(st(f)->final_by_code[503], 1);
	assert_int_equal(f->ncdr, 0); /* as implemented: no call record, no CDR */
	assert_int_equal(f->route_calls, 2);

	/* calls end; the pool serves again, over and over */
	carrier_invite_resp(f, &a, 486, NULL);
	expect_err_ack(f, &a);
	assert_response(take(f, &f->caller), 486, SIP_M_INVITE, 1);
	call_ring(f, &b);
	call_answer(f, &b);
	for (int i = 0; i < 5; i++) {
		struct ua n;
		call_setup(f, &n, "15550009", 0);
		call_answer(f, &n);
		/* full again: one more gets 503 */
		caller_invite(f, &c, "15550003");
		assert_response(take(f, &f->caller), 503, SIP_M_INVITE, 1);
		call_bye_from_caller(f, &n);
	}
	call_bye_from_caller(f, &b);
	assert_int_equal(st(f)->active, 0);
	assert_int_equal(st(f)->congestion, 6);
	assert_int_equal(f->ncdr, 7);
}

/* ---- 9. 2xx retransmissions ---- */

static void test_2xx_retransmissions(void **state)
{
	struct fx *f = *state;
	fx_start(f);
	struct ua u;
	call_setup(f, &u, "15551234", 0);
	call_ring(f, &u);
	carrier_invite_resp(f, &u, 200, SDP_B);
	struct sip_msg *ack1 = take(f, u.car);
	assert_request(ack1, SIP_M_ACK, 1);
	uint64_t t0;
	struct sip_msg *ok = take_at(f, &f->caller, &t0);
	assert_response(ok, 200, SIP_M_INVITE, 1);
	expect_quiet(f);

	/* the carrier did not get our ACK and resends its 200: ACK again,
	 * nothing new to the caller */
	testenv_advance(&f->te, 400 * MS);
	carrier_invite_resp(f, &u, 200, SDP_B);
	struct sip_msg *ack2 = take(f, u.car);
	assert_request(ack2, SIP_M_ACK, 1);
	assert_str_is(ack2->call_id, u.b_cid);
	assert_str_is(ack2->to_tag, u.car_tag);
	assert_uri(ack2->m->req_uri, "gw", "10.0.1.1", "5060");
	expect_quiet(f);

	/* no ACK from the caller: the 200 goes again at T1, 2T1, 4T1, T2 */
	testenv_advance_to(&f->te, t0 + 11500 * MS);
	const uint64_t at[] = {500 * MS, 1500 * MS, 3500 * MS, 7500 * MS, 11500 * MS};
	for (size_t i = 0; i < SY_ARRAY_LEN(at); i++) {
		uint64_t t;
		struct sip_msg *re = take_at(f, &f->caller, &t);
		assert_response(re, 200, SIP_M_INVITE, 1);
		assert_int_equal(t - t0, at[i]);
		assert_str_is(re->to_tag, u.tag);
		assert_body(re, SDP_B);
	}
	expect_quiet(f);
	caller_req(f, &u, "ACK", 1);
	testenv_advance(&f->te, 30 * SEC);
	expect_quiet(f);
	/* and a late 200 from the carrier after its transaction ended */
	testenv_advance(&f->te, 30 * SEC);
	carrier_invite_resp(f, &u, 200, SDP_B);
	assert_request(take(f, u.car), SIP_M_ACK, 1);
	expect_quiet(f);
	assert_int_equal(st(f)->answered, 1);
	assert_int_equal(st(f)->ack_timeouts, 0);
	assert_int_equal(f->ncdr, 0);
	call_bye_from_caller(f, &u);
	assert_cdr(last_cdr(f), CDR_DISP_ANSWERED, 200, "carrier1", CDR_SIDE_CALLER);
}

/* The caller never ACKs the 200: after 64*T1 both legs get a BYE. */
static void test_ack_timeout(void **state)
{
	struct fx *f = *state;
	fx_start(f);
	struct ua u;
	testenv_advance(&f->te, 1 * SEC);
	call_setup(f, &u, "15551234", 0);
	call_ring(f, &u);
	carrier_invite_resp(f, &u, 200, SDP_B);
	assert_request(take(f, u.car), SIP_M_ACK, 1);
	testenv_advance(&f->te, 32 * SEC);
	while (unread_to(f, &f->caller) > 0) {
		struct sip_msg *m = take(f, &f->caller);
		if (m->status == 0) { /* the BYE comes last */
			assert_request(m, SIP_M_BYE, m->cseq);
			assert_str_is(m->call_id, u.cid);
			assert_str_is(m->from_tag, u.tag);
			caller_respond(f, m, 200);
			break;
		}
		assert_response(m, 200, SIP_M_INVITE, 1);
	}
	struct sip_msg *bye = take(f, u.car);
	assert_request(bye, SIP_M_BYE, 2);
	assert_str_is(bye->call_id, u.b_cid);
	testenv_advance(&f->te, 20 * MS);
	carrier_respond(f, &u, bye, 200, NULL, NULL);
	expect_quiet(f);
	assert_int_equal(f->ncdr, 1);
	const struct cdr *c = last_cdr(f);
	assert_cdr(c, CDR_DISP_ANSWERED, 200, "carrier1", CDR_SIDE_SYSTEM);
	assert_int_equal(c->duration_ms, 32000); /* ended when the BYEs left */
	assert_int_equal(st(f)->ack_timeouts, 1);
	assert_int_equal(st(f)->active, 0);
}

/* max_call_ns: the switch hangs up a connected call on both legs. */
static void test_max_call_duration(void **state)
{
	struct fx *f = *state;
	f->cfg.max_call_ns = 120 * SEC;
	fx_start(f);
	struct ua u;
	call_setup(f, &u, "15551234", 0);
	call_ring(f, &u);
	testenv_advance(&f->te, 2 * SEC);
	call_answer(f, &u);
	testenv_advance(&f->te, 120 * SEC - 1);
	expect_quiet(f);
	testenv_advance(&f->te, 1);
	struct sip_msg *b1 = take(f, u.car);
	assert_request(b1, SIP_M_BYE, 2);
	assert_str_is(b1->call_id, u.b_cid);
	struct sip_msg *b2 = take(f, &f->caller);
	assert_request(b2, SIP_M_BYE, b2->cseq);
	assert_str_is(b2->call_id, u.cid);
	assert_str_is(b2->from_tag, u.tag);
	assert_str_is(b2->to_tag, u.ftag);
	expect_quiet(f);
	assert_int_equal(f->ncdr, 0); /* the CDR waits for both BYEs' answers */
	carrier_respond(f, &u, b1, 200, NULL, NULL);
	caller_respond(f, b2, 200);
	const struct cdr *c = last_cdr(f);
	assert_cdr(c, CDR_DISP_ANSWERED, 200, "carrier1", CDR_SIDE_SYSTEM);
	assert_int_equal(c->duration_ms, 120000);
	/* a BYE from the caller that crossed ours: 481 */
	caller_req(f, &u, "BYE", 2);
	assert_response(take(f, &f->caller), 481, SIP_M_BYE, 2);
	assert_int_equal(f->ncdr, 1);
}

/* Shutdown: connected calls get BYEs, calls in setup a 503; one CDR each. */
static void test_hangup_all(void **state)
{
	struct fx *f = *state;
	fx_start(f);
	struct ua a, b;
	call_setup(f, &a, "15550001", 0);
	call_ring(f, &a);
	call_answer(f, &a);
	call_setup(f, &b, "4412345", 0);
	call_ring(f, &b);
	b2bua_hangup_all(f->b);
	assert_request(take(f, a.car), SIP_M_BYE, 2);
	struct sip_msg *bye = take(f, &f->caller);
	assert_request(bye, SIP_M_BYE, bye->cseq);
	assert_str_is(bye->call_id, a.cid);
	struct sip_msg *r = take(f, &f->caller);
	assert_response(r, 503, SIP_M_INVITE, 1);
	assert_str_is(r->call_id, b.cid);
	expect_b_cancel(f, &b);
	expect_quiet(f);
	assert_int_equal(f->ncdr, 2);
	assert_int_equal(st(f)->active, 0);
	assert_int_equal(f->car[0].active, 0);
	/* the carrier's 487 for the cancelled leg comes to no call */
	carrier_invite_resp(f, &b, 487, NULL);
	expect_err_ack(f, &b);
	expect_quiet(f);
	assert_int_equal(f->ncdr, 2);
}

/* ---- 10. one CDR per attempt over many mixed calls ---- */

enum mix_kind { MIX_ANSWER, MIX_BUSY, MIX_NO_ROUTE, MIX_CANCEL, MIX_FAILOVER, MIX_TIMEOUT, MIX_KINDS };

/* Shutdown ends calls in every state, each with one CDR and its billing
 * closed: connected, answered but not yet ACKed, ringing, proceeding with no
 * 1xx, and cancelled by the caller but still waiting for the carrier's final
 * response (which hangup_all once skipped: no CDR, the hold left open). A
 * 200 that then crosses the shutdown CANCEL is ACKed and BYEd. */
static const char hang_tariff[] = "Prefix,Description,Rate,Connection Fee,Increments,Minimum,Band,Service,Currency\n"
				  "1,USA,0.0600,0,6/6,0,,voice,USD\n"
				  "44,UK,0.0600,0,6/6,0,,voice,USD\n";

static struct callbill *hang_billing(struct fx *f, struct scn **scn, struct node_cfg **node, char *dir)
{
	char path[96], text[512], err[256];
	struct callbill *cb = NULL;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/t.csv", dir);
	FILE *t = fopen(path, "w");
	assert_non_null(t);
	fputs(hang_tariff, t);
	fclose(t);
	snprintf(text, sizeof(text),
		 "[tariff retail]\nfile = %s\n\n[account alice]\ncallers = +4420001\nbalance = 0.33 USD\n", path);
	assert_int_equal(scn_parse_string(text, "hang.scn", scn, err, sizeof(err)), SY_OK);
	assert_non_null(*node = conf_node_new(*scn));
	struct callbill_cfg c = {.env = &f->te.env, .billing = &(*node)->billing, .slice_s = 60, .guard_s = 10};
	assert_int_equal(callbill_create(&c, &cb, err, sizeof(err)), SY_OK);
	assert_non_null(cb);
	unlink(path);
	return cb;
}

static void test_hangup_every_state(void **state)
{
	struct fx *f = *state;
	struct scn *scn = NULL;
	struct node_cfg *node = NULL;
	char dir[] = "/tmp/sy-b2bua-hang.XXXXXX";
	f->cfg.bill = hang_billing(f, &scn, &node, dir);
	snprintf(f->access.trunks[0].account, SIP_AUTH_NAME_MAX, "alice");
	f->cfg.invite_timeout_ns = 0; /* the call without a 1xx stays in setup */
	fx_start(f);
	struct ua up, unack, ring, early, canc;
	call_setup(f, &up, "15550001", 0);
	call_ring(f, &up);
	call_answer(f, &up);
	call_setup(f, &unack, "15550002", 0);
	call_ring(f, &unack);
	carrier_invite_resp(f, &unack, 200, SDP_B);
	assert_request(take(f, unack.car), SIP_M_ACK, 1);
	assert_response(take(f, &f->caller), 200, SIP_M_INVITE, 1);
	call_setup(f, &ring, "15550003", 0);
	call_ring(f, &ring);
	call_setup(f, &early, "15550004", 0);
	call_setup(f, &canc, "15550005", 0);
	call_ring(f, &canc);
	caller_cancel(f, &canc);
	assert_response(take(f, &f->caller), 200, SIP_M_CANCEL, 1);
	assert_response(take(f, &f->caller), 487, SIP_M_INVITE, 1);
	expect_b_cancel(f, &canc);
	expect_quiet(f);
	assert_int_equal(st(f)->active, 5);
	testenv_advance(&f->te, 12 * SEC);
	/* retransmissions meanwhile: INVITE and CANCEL to the carrier (timers
	 * A, E), the unACKed 200 and the 487 to the caller (timer G) */
	while (unread_to(f, &f->c[0]) > 0) {
		struct sip_msg *m = take(f, &f->c[0]);
		assert_true(m->method == SIP_M_INVITE || m->method == SIP_M_CANCEL);
	}
	while (unread_to(f, &f->caller) > 0) {
		struct sip_msg *m = take(f, &f->caller);
		assert_true(m->status == 200 || m->status == 487);
	}
	b2bua_hangup_all(f->b);
	assert_int_equal(f->ncdr, 5);
	assert_int_equal(st(f)->active, 0);
	assert_int_equal(f->car[0].active, 0);
	enum cdr_disposition want[] = {CDR_DISP_ANSWERED, CDR_DISP_ANSWERED, CDR_DISP_FAILED, CDR_DISP_FAILED,
				       CDR_DISP_CANCELLED};
	for (size_t i = 0; i < 5; i++) {
		if (f->cdrs[i].disposition != want[i])
			fail_msg("CDR %zu: %s", i, cdr_disposition_name(f->cdrs[i].disposition));
	}
	for (size_t i = 0; i < 2; i++)
		assert_int_not_equal(f->cdrs[i].tariff_id, 0); /* rated and charged */
	assert_int_equal(f->cdrs[0].rated_ms, 12000);
	assert_int_equal(f->cdrs[0].cost_micros, 12000); /* 12 s at 0.06/min */
	assert_int_equal(f->cdrs[4].rated_ms, 0);
	struct callbill_stats bs;
	callbill_stats(f->cfg.bill, &bs);
	assert_int_equal(bs.revenue_micros, 24000); /* the two answered calls, nothing held */
	int64_t charged, decrease;
	assert_true(callbill_conserved(f->cfg.bill, &charged, &decrease));
	/* every hold was released: 0.33 - 0.024 still pays five first slices
	 * of 0.06 (one hold left open would leave room for four) */
	for (int i = 0; i < 5; i++) {
		char cid[32];
		uint16_t status = 0;
		const char *why = NULL;
		struct callbill_call bc;
		snprintf(cid, sizeof(cid), "after-%d", i);
		assert_int_equal(callbill_authorize(f->cfg.bill, SY_STR("alice"), SY_STR("4420001"), SY_STR("15559999"),
						    sy_str_from(cid), &bc, &status, &why),
				 SY_OK);
	}
	/* BYE both legs of the two answered calls; 503 and CANCEL for the
	 * ringing one; 503 (its CANCEL waits for a 1xx) for the one without */
	for (int i = 0; i < 2; i++) {
		assert_request(take(f, &f->c[0]), SIP_M_BYE, 2);
		assert_request(take(f, &f->caller), SIP_M_BYE, 1);
	}
	assert_response(take(f, &f->caller), 503, SIP_M_INVITE, 1);
	expect_b_cancel(f, &ring);
	assert_response(take(f, &f->caller), 503, SIP_M_INVITE, 1);
	expect_quiet(f);
	/* the cancelled call's carrier answers after all: ACK and BYE */
	carrier_invite_resp(f, &canc, 200, SDP_B);
	assert_request(take(f, canc.car), SIP_M_ACK, 1);
	struct sip_msg *bye = take(f, canc.car);
	assert_request(bye, SIP_M_BYE, 2);
	assert_str_is(bye->call_id, canc.b_cid);
	assert_str_is(bye->to_tag, canc.car_tag);
	carrier_invite_resp(f, &canc, 200, SDP_B); /* its retransmission: ACK only */
	assert_request(take(f, canc.car), SIP_M_ACK, 1);
	assert_int_equal(f->ncdr, 5);
	b2bua_destroy(f->b);
	f->b = NULL;
	callbill_destroy(f->cfg.bill);
	scn_free(scn);
	free(node);
	rmdir(dir);
}

/* ---- session timers (RFC 4028) and the end of a call ---- */

static bool raw_has(const struct sip_msg *m, const char *text)
{
	return memmem(m->raw.p, m->raw.len, text, strlen(text)) != NULL;
}

/* Both legs' UPDATEs at a refresh: returns them (A's, B's). */
static void take_updates(struct fx *f, struct ua *u, struct sip_msg **a, struct sip_msg **b)
{
	*a = take(f, &f->caller);
	assert_request(*a, SIP_M_UPDATE, (*a)->cseq);
	assert_str_is((*a)->call_id, u->cid);
	assert_str_is((*a)->to_tag, u->ftag);
	assert_true(raw_has(*a, "Session-Expires: 90;refresher=uac"));
	*b = take(f, u->car);
	assert_request(*b, SIP_M_UPDATE, (*b)->cseq);
	assert_str_is((*b)->call_id, u->b_cid);
	assert_str_is((*b)->to_tag, u->car_tag);
}

/* The switch asks the carrier for a 90 s session it refreshes itself, and
 * refreshes the caller's leg too: UPDATE on both every 45 s. A 481 to a
 * refresh (the carrier lost the call) ends it: BYE both, SESSION_EXPIRED. */
static void test_session_refresh(void **state)
{
	struct fx *f = *state;
	f->cfg.session_expires_s = 90;
	f->cfg.min_se_s = 90;
	fx_start(f);
	struct ua u;
	call_setup(f, &u, "15551234", 0);
	assert_true(raw_has(u.binv, "Session-Expires: 90;refresher=uac"));
	assert_true(raw_has(u.binv, "Min-SE: 90"));
	assert_true(raw_has(u.binv, "Supported: timer"));
	call_ring(f, &u);
	call_answer(f, &u);
	struct sip_msg *ok = f->kept[f->nkept - 1]; /* call_answer's 200 to the caller */
	assert_true(raw_has(ok, "Session-Expires: 90;refresher=uas"));
	testenv_advance(&f->te, 45 * SEC - 1);
	expect_quiet(f);
	testenv_advance(&f->te, 1);
	struct sip_msg *ua, *ub;
	take_updates(f, &u, &ua, &ub);
	caller_respond(f, ua, 200);
	carrier_respond(f, &u, ub, 200, NULL, NULL);
	expect_quiet(f);
	testenv_advance(&f->te, 45 * SEC);
	take_updates(f, &u, &ua, &ub);
	caller_respond(f, ua, 200);
	carrier_respond(f, &u, ub, 481, NULL, NULL);
	struct sip_msg *bb = take(f, u.car), *ba = take(f, &f->caller);
	assert_request(bb, SIP_M_BYE, ub->cseq + 1);
	assert_request(ba, SIP_M_BYE, ua->cseq + 1);
	expect_quiet(f);
	carrier_respond(f, &u, bb, 481, NULL, NULL);
	caller_respond(f, ba, 200);
	assert_int_equal(f->ncdr, 1);
	const struct cdr *c = last_cdr(f);
	assert_cdr(c, CDR_DISP_SESSION_EXPIRED, 200, "carrier1", CDR_SIDE_SYSTEM);
	assert_int_equal(c->duration_ms, 90000);
	assert_int_equal(st(f)->session_expired, 1);
	assert_int_equal(st(f)->refreshes, 4);
	assert_int_equal(st(f)->active, 0);
}

/* A caller without UPDATE answers our refreshes 501: it still holds the
 * dialog, so the call lives on past the interval (only a timeout, 408 or
 * 481 ends it). */
static void test_session_update_refused(void **state)
{
	struct fx *f = *state;
	f->cfg.session_expires_s = 90;
	f->cfg.min_se_s = 90;
	fx_start(f);
	struct ua u;
	call_setup(f, &u, "15551234", 0);
	call_ring(f, &u);
	call_answer(f, &u);
	for (int i = 0; i < 4; i++) { /* 45, 90, 135, 180 s */
		testenv_advance(&f->te, 45 * SEC);
		struct sip_msg *ua, *ub;
		take_updates(f, &u, &ua, &ub);
		caller_respond(f, ua, 501);
		carrier_respond(f, &u, ub, 200, NULL, NULL);
		expect_quiet(f);
	}
	assert_int_equal(st(f)->session_expired, 0);
	assert_int_equal(st(f)->active, 1);
	caller_req(f, &u, "BYE", 2);
	assert_response(take(f, &f->caller), 200, SIP_M_BYE, 2);
	struct sip_msg *bye = take(f, u.car);
	assert_request(bye, SIP_M_BYE, 6); /* after four UPDATEs */
	carrier_respond(f, &u, bye, 200, NULL, NULL);
	expect_quiet(f);
	assert_cdr(last_cdr(f), CDR_DISP_ANSWERED, 200, "carrier1", CDR_SIDE_CALLER);
	assert_int_equal(last_cdr(f)->duration_ms, 180000);
}

/* The carrier vanishes mid-call: the refresh UPDATE times out (timer F),
 * the call ends; the BYE to the dead carrier times out too. A peer's own
 * UPDATE refreshes its leg. */
static void test_session_carrier_vanishes(void **state)
{
	struct fx *f = *state;
	f->cfg.session_expires_s = 90;
	f->cfg.min_se_s = 90;
	fx_start(f);
	struct ua u;
	call_setup(f, &u, "15551234", 0);
	call_ring(f, &u);
	call_answer(f, &u);
	testenv_advance(&f->te, 10 * SEC);
	caller_req(f, &u, "UPDATE", 2);
	assert_response(take(f, &f->caller), 200, SIP_M_UPDATE, 2);
	testenv_advance(&f->te, 35 * SEC);
	struct sip_msg *ua, *ub;
	take_updates(f, &u, &ua, &ub);
	caller_respond(f, ua, 200);
	testenv_advance(&f->te, 32 * SEC); /* timer F: 64 * T1 */
	size_t byes = 0;
	while (unread_to(f, u.car) > 0) { /* UPDATE resent, then the BYE */
		struct sip_msg *m = take(f, u.car);
		byes += m->method == SIP_M_BYE;
		assert_request(m, m->method == SIP_M_BYE ? SIP_M_BYE : SIP_M_UPDATE,
			       ub->cseq + (m->method == SIP_M_BYE));
	}
	assert_true(byes > 0);
	assert_int_equal(st(f)->session_expired, 1);
	struct sip_msg *ba = take(f, &f->caller);
	assert_request(ba, SIP_M_BYE, ua->cseq + 1);
	caller_respond(f, ba, 200);
	assert_int_equal(f->ncdr, 0); /* the carrier's BYE is still out */
	testenv_advance(&f->te, 32 * SEC);
	while (unread_to(f, u.car) > 0)
		assert_request(take(f, u.car), SIP_M_BYE, ub->cseq + 1);
	expect_quiet(f);
	assert_int_equal(f->ncdr, 1);
	const struct cdr *c = last_cdr(f);
	assert_cdr(c, CDR_DISP_SESSION_EXPIRED, 200, "carrier1", CDR_SIDE_SYSTEM);
	assert_int_equal(c->duration_ms, 77000); /* to when the BYEs left */
	assert_int_equal(st(f)->bye_timeouts, 1);
	assert_int_equal(st(f)->active, 0);
}

/* The caller hangs up and the carrier never answers our BYE: the call ends
 * at timer F with BYE_TIMEOUT, its duration up to the BYE. */
static void test_bye_timeout(void **state)
{
	struct fx *f = *state;
	fx_start(f);
	struct ua u;
	call_setup(f, &u, "15551234", 0);
	call_ring(f, &u);
	call_answer(f, &u);
	testenv_advance(&f->te, 5 * SEC);
	caller_req(f, &u, "BYE", 2);
	assert_response(take(f, &f->caller), 200, SIP_M_BYE, 2);
	testenv_advance(&f->te, 32 * SEC - 1);
	while (unread_to(f, u.car) > 0)
		assert_request(take(f, u.car), SIP_M_BYE, 2);
	assert_int_equal(f->ncdr, 0);
	assert_int_equal(st(f)->active, 1);
	testenv_advance(&f->te, 1);
	assert_int_equal(f->ncdr, 1);
	const struct cdr *c = last_cdr(f);
	assert_cdr(c, CDR_DISP_BYE_TIMEOUT, 200, "carrier1", CDR_SIDE_CALLER);
	assert_int_equal(c->duration_ms, 5000);
	assert_int_equal(st(f)->active, 0);
	assert_int_equal(f->car[0].active, 0);
}

/* 422: a caller's interval below min_se is refused with Min-SE; a
 * carrier's 422 is retried once, on the same carrier, with its Min-SE. */
static void test_session_422(void **state)
{
	struct fx *f = *state;
	f->cfg.session_expires_s = 120;
	f->cfg.min_se_s = 90;
	fx_start(f);
	injectf(f, &f->caller, SDP_A,
		"INVITE sip:15551234@10.0.0.1:5060 SIP/2.0\n"
		"Via: SIP/2.0/UDP 10.0.0.100:5060;branch=z9hG4bKse1\n"
		"Max-Forwards: 70\n"
		"From: <sip:4420001@10.0.0.100>;tag=se1\n"
		"To: <sip:15551234@10.0.0.1>\n"
		"Call-ID: se1@10.0.0.100\n"
		"CSeq: 1 INVITE\n"
		"Supported: timer\n"
		"Session-Expires: 30\n"
		"Contact: <sip:alice@10.0.0.100:5060>\n"
		"Content-Type: application/sdp\n");
	struct sip_msg *r = take(f, &f->caller);
	assert_response(r, 422, SIP_M_INVITE, 1);
	assert_true(raw_has(r, "Min-SE: 90"));
	expect_quiet(f);
	assert_int_equal(st(f)->too_small, 1);
	assert_cdr(last_cdr(f), CDR_DISP_FAILED, 422, "", CDR_SIDE_SYSTEM);
	struct ua u;
	call_setup(f, &u, "15551234", 0);
	assert_true(raw_has(u.binv, "Session-Expires: 120;refresher=uac"));
	carrier_respond(f, &u, u.binv, 422, NULL, "Min-SE: 300\n");
	expect_err_ack(f, &u);
	struct sip_msg *again = take(f, u.car);
	assert_request(again, SIP_M_INVITE, 1);
	assert_true(raw_has(again, "Session-Expires: 300;refresher=uac"));
	assert_true(raw_has(again, "Min-SE: 300"));
	u.binv = again;
	copy_str(u.b_cid, sizeof(u.b_cid), again->call_id);
	copy_str(u.b_ftag, sizeof(u.b_ftag), again->from_tag);
	carrier_respond(f, &u, again, 422, NULL, "Min-SE: 600\n"); /* asked again: a failure */
	expect_err_ack(f, &u);
	r = take(f, &f->caller);
	assert_response(r, 422, SIP_M_INVITE, 1);
	expect_quiet(f);
	assert_int_equal(st(f)->active, 0);
}

/* ---- re-INVITE and UPDATE relayed end to end ---- */

static const char SDP_HOLD[] = "v=0\r\no=alice 1 2 IN IP4 10.0.0.100\r\ns=-\r\nc=IN IP4 10.0.0.100\r\n"
			       "t=0 0\r\nm=audio 40000 RTP/AVP 0 8\r\na=sendonly\r\n";
static const char SDP_HELD[] = "v=0\r\no=gw 7 8 IN IP4 10.0.1.1\r\ns=-\r\nc=IN IP4 10.0.1.50\r\n"
			       "t=0 0\r\nm=audio 50000 RTP/AVP 8\r\na=recvonly\r\n";

static void caller_req_body(struct fx *f, struct ua *u, const char *method, uint32_t cseq, const char *body)
{
	injectf(f, &f->caller, body,
		"%s sip:switchyard@10.0.0.1:5060 SIP/2.0\n"
		"Via: SIP/2.0/UDP 10.0.0.100:5060;branch=z9hG4bKcr%d\n"
		"Max-Forwards: 70\n"
		"From: \"Alice\" <sip:4420001@10.0.0.100>;tag=%s\n"
		"To: <sip:%s@10.0.0.1>;tag=%s\n"
		"Call-ID: %s\n"
		"CSeq: %u %s\n"
		"Contact: <sip:alice@10.0.0.100:5060>\n"
		"%s",
		method, ++f->br_seq, u->ftag, u->callee, u->tag, u->cid, cseq, method,
		body != NULL ? "Content-Type: application/sdp\n" : "");
}

static void carrier_req(struct fx *f, struct ua *u, const char *method, uint32_t cseq, const char *body)
{
	char *from = NULL, *to = NULL, host[SY_ADDR_STRLEN];
	assert_int_equal(osip_to_to_str(u->binv->m->to, &from), 0);
	assert_int_equal(osip_from_to_str(u->binv->m->from, &to), 0);
	sy_addr_fmt(u->car, host, sizeof(host));
	injectf(f, u->car, body,
		"%s sip:switchyard@10.0.0.1:5060 SIP/2.0\n"
		"Via: SIP/2.0/UDP %s;branch=z9hG4bKcq%d\n"
		"Max-Forwards: 70\n"
		"From: %s;tag=%s\n"
		"To: %s\n"
		"Call-ID: %s\n"
		"CSeq: %u %s\n"
		"Contact: <sip:gw@%s>\n"
		"%s",
		method, host, ++f->br_seq, from, u->car_tag, to, u->b_cid, cseq, method, host,
		body != NULL ? "Content-Type: application/sdp\n" : "");
	osip_free(from);
	osip_free(to);
}

/* Hold and resume: the caller's re-INVITE (a=sendonly) reaches the carrier
 * with its SDP, the carrier's answer (a=recvonly) comes back; the switch
 * ACKs the carrier and absorbs the caller's ACK. A second re-INVITE while
 * one is open gets 491. Then the carrier resumes with a bodiless re-INVITE
 * (offer in the 2xx, answer in the ACK, relayed), and the caller changes
 * its SDP with UPDATE. The call still ends normally. */
static void test_reinvite_relay(void **state)
{
	struct fx *f = *state;
	fx_start(f);
	struct ua u;
	call_setup(f, &u, "15551234", 0);
	call_ring(f, &u);
	call_answer(f, &u);
	caller_req_body(f, &u, "INVITE", 2, SDP_HOLD);
	struct sip_msg *ri = take(f, u.car);
	assert_request(ri, SIP_M_INVITE, 2);
	assert_str_is(ri->call_id, u.b_cid);
	assert_str_is(ri->to_tag, u.car_tag);
	assert_body(ri, SDP_HOLD);
	caller_req_body(f, &u, "INVITE", 3, SDP_A); /* glare: one at a time */
	assert_response(take(f, &f->caller), 491, SIP_M_INVITE, 3);
	carrier_respond(f, &u, ri, 200, SDP_HELD, "Content-Type: application/sdp\n");
	assert_request(take(f, u.car), SIP_M_ACK, 2);
	struct sip_msg *ok = take(f, &f->caller);
	assert_response(ok, 200, SIP_M_INVITE, 2);
	assert_body(ok, SDP_HELD);
	caller_req(f, &u, "ACK", 2);
	expect_quiet(f);
	/* the carrier resumes, offer in our 200 (delayed offer) */
	carrier_req(f, &u, "INVITE", 2, NULL);
	struct sip_msg *ra = take(f, &f->caller);
	assert_request(ra, SIP_M_INVITE, ra->cseq);
	assert_str_is(ra->call_id, u.cid);
	caller_respond(f, ra, 200); /* (a real caller would offer here) */
	struct sip_msg *ok2 = take(f, u.car);
	assert_response(ok2, 200, SIP_M_INVITE, 2);
	expect_quiet(f); /* no ACK to the caller before the carrier's */
	carrier_req(f, &u, "ACK", 2, SDP_B);
	struct sip_msg *ack = take(f, &f->caller);
	assert_request(ack, SIP_M_ACK, ra->cseq);
	assert_body(ack, SDP_B);
	/* UPDATE with a new SDP from the caller: relayed, answered */
	caller_req_body(f, &u, "UPDATE", 4, SDP_A);
	struct sip_msg *up = take(f, u.car);
	assert_request(up, SIP_M_UPDATE, 3);
	assert_body(up, SDP_A);
	carrier_respond(f, &u, up, 200, SDP_B, "Content-Type: application/sdp\n");
	struct sip_msg *uok = take(f, &f->caller);
	assert_response(uok, 200, SIP_M_UPDATE, 4);
	assert_body(uok, SDP_B);
	expect_quiet(f);
	assert_int_equal(st(f)->relayed, 3);
	caller_req(f, &u, "BYE", 5);
	assert_response(take(f, &f->caller), 200, SIP_M_BYE, 5);
	struct sip_msg *bye = take(f, u.car);
	assert_request(bye, SIP_M_BYE, 4);
	carrier_respond(f, &u, bye, 200, NULL, NULL);
	expect_quiet(f);
	assert_cdr(last_cdr(f), CDR_DISP_ANSWERED, 200, "carrier1", CDR_SIDE_CALLER);
	assert_int_equal(st(f)->active, 0);
}

/* A refused re-INVITE (488 from the carrier) is passed back; the session
 * stays as it was and a later one goes through. */
static void test_reinvite_refused(void **state)
{
	struct fx *f = *state;
	fx_start(f);
	struct ua u;
	call_setup(f, &u, "15551234", 0);
	call_ring(f, &u);
	call_answer(f, &u);
	caller_req_body(f, &u, "INVITE", 2, SDP_HOLD);
	struct sip_msg *ri = take(f, u.car);
	carrier_respond(f, &u, ri, 488, NULL, NULL);
	assert_request(take(f, u.car), SIP_M_ACK, 2); /* the stack's ACK of a non-2xx */
	struct sip_msg *r = take(f, &f->caller);
	assert_response(r, 488, SIP_M_INVITE, 2);
	caller_ack_err(f, &u, r);
	expect_quiet(f);
	caller_req_body(f, &u, "INVITE", 3, SDP_HOLD);
	assert_request(take(f, u.car), SIP_M_INVITE, 3);
	assert_int_equal(st(f)->relayed, 2);
}

struct mix_expect {
	uint64_t answered, failed, no_route, cancelled, timeouts, failovers, completed;
	uint64_t disp[CDR_DISP_COUNT];
};

/* Ends the connected calls in open[], alternately from each side. */
static void mix_hangup(struct fx *f, struct ua *open, size_t n, struct mix_expect *e)
{
	for (size_t i = 0; i < n; i++) {
		struct ua *u = &open[i];
		if (i % 2 == 0) {
			call_bye_from_caller(f, u);
		} else {
			carrier_bye(f, u);
			assert_response(take(f, u->car), 200, SIP_M_BYE, 1);
			struct sip_msg *bye = take(f, &f->caller);
			assert_request(bye, SIP_M_BYE, bye->cseq);
			assert_str_is(bye->call_id, u->cid);
			carrier_respond(f, &(struct ua){.car = &f->caller}, bye, 200, NULL, NULL);
		}
		e->completed++;
		e->disp[CDR_DISP_ANSWERED]++;
	}
}

static void mix_call(struct fx *f, struct ua *u, enum mix_kind kind, struct mix_expect *e)
{
	switch (kind) {
	case MIX_ANSWER:
		call_setup(f, u, "15550100", 0);
		call_ring(f, u);
		call_answer(f, u);
		e->answered++;
		return;
	case MIX_BUSY:
		call_setup(f, u, "4415550", 0);
		carrier_invite_resp(f, u, 486, NULL);
		expect_err_ack(f, u);
		caller_ack_err(f, u, take(f, &f->caller));
		e->failed++;
		e->disp[CDR_DISP_BUSY]++;
		return;
	case MIX_NO_ROUTE:
		caller_invite(f, u, "99912");
		assert_response(take(f, &f->caller), 100, SIP_M_INVITE, 1);
		caller_ack_err(f, u, take(f, &f->caller));
		e->failed++;
		e->no_route++;
		e->disp[CDR_DISP_NO_ROUTE]++;
		return;
	case MIX_CANCEL: {
		call_setup(f, u, "15550200", 0);
		call_ring(f, u);
		caller_cancel(f, u);
		assert_response(take(f, &f->caller), 200, SIP_M_CANCEL, 1);
		caller_ack_err(f, u, take(f, &f->caller));
		carrier_respond(f, u, expect_b_cancel(f, u), 200, NULL, NULL);
		carrier_invite_resp(f, u, 487, NULL);
		expect_err_ack(f, u);
		e->failed++;
		e->cancelled++;
		e->disp[CDR_DISP_CANCELLED]++;
		return;
	}
	case MIX_FAILOVER:
		call_setup(f, u, "15550300", 0);
		carrier_invite_resp(f, u, 503, NULL);
		expect_err_ack(f, u);
		u->car = &f->c[1];
		u->binv = take(f, u->car);
		copy_str(u->b_cid, sizeof(u->b_cid), u->binv->call_id);
		copy_str(u->b_ftag, sizeof(u->b_ftag), u->binv->from_tag);
		call_answer(f, u);
		e->answered++;
		e->failovers++;
		return;
	case MIX_TIMEOUT:
		call_setup(f, u, "4415551", 0);
		testenv_advance(&f->te, 3 * SEC);
		while (unread_to(f, u->car) > 0) /* Timer A retransmissions */
			assert_int_equal(take(f, u->car)->method, SIP_M_INVITE);
		caller_ack_err(f, u, take(f, &f->caller));
		e->failed++;
		e->timeouts++;
		e->disp[CDR_DISP_NO_ANSWER]++;
		return;
	default:
		fail();
	}
}

static void test_cdr_per_attempt(void **state)
{
	struct fx *f = *state;
	fx_start(f);
	struct mix_expect e = {0};
	struct ua open[5];
	size_t nopen = 0;
	uint64_t seed = 7;
	const int calls = 200;
	for (int i = 0; i < calls; i++) {
		seed = seed * 6364136223846793005ull + 1442695040888963407ull;
		enum mix_kind kind = (enum mix_kind)((seed >> 33) % MIX_KINDS);
		struct ua *u = kind == MIX_ANSWER || kind == MIX_FAILOVER ? &open[nopen] : &(struct ua){0};
		mix_call(f, u, kind, &e);
		if (kind == MIX_ANSWER || kind == MIX_FAILOVER)
			nopen++;
		if (nopen == SY_ARRAY_LEN(open) || i == calls - 1) {
			testenv_advance(&f->te, 1 * SEC);
			mix_hangup(f, open, nopen, &e);
			nopen = 0;
		}
		testenv_advance(&f->te, 100 * MS);
		expect_quiet(f);
		if (nopen == 0) {
			sent_reset(f);
			fx_release(f);
		}
	}
	testenv_advance(&f->te, 100 * SEC); /* every transaction drains */
	expect_quiet(f);

	const struct b2bua_stats *s = st(f);
	assert_int_equal(f->ncdr, calls);
	assert_int_equal(s->cdrs, calls);
	assert_int_equal(s->invites, calls);
	assert_int_equal(s->attempts, calls);
	assert_int_equal(s->active, 0);
	assert_int_equal(s->answered, e.answered);
	assert_int_equal(s->completed, e.completed);
	assert_int_equal(s->failed, e.failed);
	assert_int_equal(s->no_route, e.no_route);
	assert_int_equal(s->cancelled, e.cancelled);
	assert_int_equal(s->timeouts, e.timeouts);
	assert_int_equal(s->failovers, e.failovers);
	assert_int_equal(e.completed, e.answered);
	uint64_t finals = 0;
	for (int c = 0; c < 700; c++)
		finals += s->final_by_code[c];
	assert_int_equal(finals, e.answered + e.failed);
	uint64_t disp[CDR_DISP_COUNT] = {0};
	for (size_t i = 0; i < f->ncdr; i++) {
		assert_int_equal(f->cdrs[i].id, 1001 + i); /* ids continue cdr_id_base */
		disp[f->cdrs[i].disposition]++;
		for (size_t j = 0; j < i; j++) /* one CDR per caller dialog */
			assert_string_not_equal(f->cdrs[i].a_call_id, f->cdrs[j].a_call_id);
	}
	for (int d = 0; d < CDR_DISP_COUNT; d++)
		if (disp[d] != e.disp[d])
			fail_msg("%s: %llu CDRs, want %llu", cdr_disposition_name((enum cdr_disposition)d),
				 (unsigned long long)disp[d], (unsigned long long)e.disp[d]);
	for (int i = 0; i < 3; i++)
		assert_int_equal(f->car[i].active, 0);
	/* the mix really had every kind */
	assert_true(e.answered > e.failovers && e.failovers > 0 && e.cancelled > 0 && e.timeouts > 0 &&
		    e.no_route > 0 && e.disp[CDR_DISP_BUSY] > 0);
}

/* ---- more protocol details ---- */

static void inject_invite_of(struct fx *f, const struct ua *u)
{
	injectf(f, &f->caller, SDP_A,
		"INVITE sip:%s@10.0.0.1:5060 SIP/2.0\n"
		"Via: SIP/2.0/UDP 10.0.0.100:5060;branch=%s\n"
		"Max-Forwards: 70\n"
		"From: \"Alice\" <sip:4420001@10.0.0.100>;tag=%s\n"
		"To: <sip:%s@10.0.0.1>\n"
		"Call-ID: %s\n"
		"CSeq: 1 INVITE\n"
		"Contact: <sip:alice@10.0.0.100:5060>\n"
		"Content-Type: application/sdp\n",
		u->callee, u->branch, u->ftag, u->callee, u->cid);
}

/* Retransmitted INVITEs from the caller are absorbed: the last response is
 * resent, no second call or B-leg INVITE. */
static void test_invite_retransmission(void **state)
{
	struct fx *f = *state;
	fx_start(f);
	struct ua u;
	call_setup(f, &u, "15551234", 0);
	carrier_invite_resp(f, &u, 100, NULL);
	inject_invite_of(f, &u);
	assert_response(take(f, &f->caller), 100, SIP_M_INVITE, 1);
	expect_quiet(f);
	call_ring(f, &u);
	inject_invite_of(f, &u);
	struct sip_msg *r = take(f, &f->caller);
	assert_response(r, 180, SIP_M_INVITE, 1);
	assert_str_is(r->to_tag, u.tag);
	expect_quiet(f);
	assert_int_equal(st(f)->invites, 1);
	assert_int_equal(st(f)->attempts, 1);
	assert_int_equal(f->car[0].attempts, 1);
}

/* 183 with early media SDP is relayed with its body; the 200 follows. */
static void test_183_early_media(void **state)
{
	struct fx *f = *state;
	fx_start(f);
	struct ua u;
	call_setup(f, &u, "15551234", 0);
	testenv_advance(&f->te, 150 * MS);
	carrier_invite_resp(f, &u, 183, SDP_B);
	struct sip_msg *r = take(f, &f->caller);
	assert_response(r, 183, SIP_M_INVITE, 1);
	assert_body(r, SDP_B);
	assert_true(r->to_tag.len > 0);
	copy_str(u.tag, sizeof(u.tag), r->to_tag);
	expect_quiet(f);
	testenv_advance(&f->te, 1 * SEC);
	call_answer(f, &u);
	call_bye_from_caller(f, &u);
	assert_int_equal(last_cdr(f)->pdd_ms, 150);
}

/* The carrier's Record-Route becomes the B dialog's route set, reversed
 * (RFC 3261 12.1.2), on the ACK and the BYE. */
static void test_record_route(void **state)
{
	struct fx *f = *state;
	fx_start(f);
	struct ua u;
	call_setup(f, &u, "15551234", 0);
	carrier_respond(f, &u, u.binv, 200, SDP_B,
			"Content-Type: application/sdp\n"
			"Record-Route: <sip:p1.carrier.net;lr>\n"
			"Record-Route: <sip:p2.carrier.net;lr>\n");
	struct sip_msg *ack = take(f, u.car);
	assert_request(ack, SIP_M_ACK, 1);
	struct sip_msg *ok = take(f, &f->caller);
	assert_response(ok, 200, SIP_M_INVITE, 1);
	assert_int_equal(osip_list_size(&ok->m->record_routes), 0); /* the legs stay apart */
	copy_str(u.tag, sizeof(u.tag), ok->to_tag);
	caller_req(f, &u, "ACK", 1);
	caller_req(f, &u, "BYE", 2);
	assert_response(take(f, &f->caller), 200, SIP_M_BYE, 2);
	struct sip_msg *bye = take(f, u.car);
	assert_request(bye, SIP_M_BYE, 2);
	expect_quiet(f);
	const struct sip_msg *ms[] = {ack, bye};
	for (int i = 0; i < 2; i++) {
		assert_int_equal(osip_list_size(&ms[i]->m->routes), 2);
		osip_route_t *r0 = osip_list_get(&ms[i]->m->routes, 0);
		osip_route_t *r1 = osip_list_get(&ms[i]->m->routes, 1);
		assert_string_equal(r0->url->host, "p2.carrier.net");
		assert_string_equal(r1->url->host, "p1.carrier.net");
		assert_uri(ms[i]->m->req_uri, "gw", "10.0.1.1", "5060");
	}
}

/* Headers too large for the call record: refused with 400, one CDR. */
static void test_headers_too_large(void **state)
{
	struct fx *f = *state;
	fx_start(f);
	char name[1500];
	memset(name, 'x', sizeof(name) - 1);
	name[sizeof(name) - 1] = '\0';
	injectf(f, &f->caller, SDP_A,
		"INVITE sip:15551234@10.0.0.1:5060 SIP/2.0\n"
		"Via: SIP/2.0/UDP 10.0.0.100:5060;branch=z9hG4bKbig\n"
		"Max-Forwards: 70\n"
		"From: \"%s\" <sip:4420001@10.0.0.100>;tag=big\n"
		"To: <sip:15551234@10.0.0.1>\n"
		"Call-ID: big@10.0.0.100\n"
		"CSeq: 1 INVITE\n"
		"Content-Type: application/sdp\n",
		name);
	struct sip_msg *r = take(f, &f->caller);
	assert_response(r, 400, SIP_M_INVITE, 1);
	assert_str_is(r->call_id, "big@10.0.0.100");
	expect_quiet(f);
	assert_int_equal(f->ncdr, 1);
	assert_int_equal(last_cdr(f)->disposition, CDR_DISP_FAILED);
	assert_int_equal(last_cdr(f)->sip_status, 400);
	assert_int_equal(st(f)->active, 0);
	assert_int_equal(f->route_calls, 0);
	struct ua u;
	call_setup(f, &u, "15551234", 0); /* the switch goes on */
	/* Regression: the 400 once carried "To: <...>;tag=" with an empty tag
	 * (the call's tag was not stored yet); RFC 3261 25.1 wants a token. */
	osip_generic_param_t *tag = NULL;
	if (osip_to_get_tag(r->m->to, &tag) == 0 && tag != NULL && (tag->gvalue == NULL || tag->gvalue[0] == '\0')) {
		fprintf(stderr, "%s\n", (const char *)testenv_sent(&f->te, 0)->buf);
		fail_msg("400 Headers Too Large has an empty To tag");
	}
}

/* Digits come from the URI user part; a tel-style number with
 * punctuation routes on its digits. */
static void test_number_normalisation(void **state)
{
	struct fx *f = *state;
	fx_start(f);
	struct ua u;
	call_setup(f, &u, "+1-555-0100", 0);
	assert_uri(u.binv->m->req_uri, "15550100", "10.0.1.1", "5060");
	/* the longest prefix wins: 4477 -> carrier2 only */
	struct ua v;
	call_setup(f, &v, "4477123", 1);
	carrier_invite_resp(f, &v, 503, NULL);
	expect_err_ack(f, &v);
	struct sip_msg *r = take(f, &f->caller);
	assert_response(r, 503, SIP_M_INVITE, 1);
	expect_quiet(f);
	assert_cdr(last_cdr(f), CDR_DISP_CONGESTION, 503, "carrier2", CDR_SIDE_SYSTEM);
	assert_string_equal(last_cdr(f)->callee, "4477123");
}

/* ---- bugs found (these tests FAIL on purpose until b2bua.c is fixed) ---- */

/* BUG: a call answered at monotonic time 0 is billed as unanswered.
 * call_emit_cdr() treats t_answer_ns == 0 (and t_18x_ns == 0) as "never":
 * the env's clock starts at 0 (testenv and the simulator), so a call set up
 * in the first instant gets duration_ms 0 and a pdd that runs to the end of
 * the call. Expected: duration 10000, pdd 0. */
static void test_bug_answer_at_time_zero(void **state)
{
	struct fx *f = *state;
	fx_start(f);
	struct ua u;
	call_setup(f, &u, "15551234", 0);
	call_ring(f, &u);
	call_answer(f, &u);
	testenv_advance(&f->te, 10 * SEC);
	call_bye_from_caller(f, &u);
	const struct cdr *r = last_cdr(f);
	assert_cdr(r, CDR_DISP_ANSWERED, 200, "carrier1", CDR_SIDE_CALLER);
	assert_int_equal(r->answer_ns, f->te.wall_base_ns);
	if (r->duration_ms != 10000 || r->pdd_ms != 0)
		fail_msg("BUG: answered at t=0: duration_ms %u (want 10000), pdd_ms %u (want 0)", r->duration_ms,
			 r->pdd_ms);
}

/* BUG: a 2xx from a carrier the switch gave up on (invite timeout, then
 * failover) is neither ACKed nor BYEd: RFC 3261 13.2.2.4 says the UAC MUST
 * ACK every 2xx, and a B2BUA must then end the unwanted dialog with BYE,
 * or the carrier holds (and bills) a call no CDR records. */
static void test_bug_late_2xx_after_abandon(void **state)
{
	struct fx *f = *state;
	fx_start(f);
	struct ua u;
	caller_invite(f, &u, "15551234");
	assert_response(take(f, &f->caller), 100, SIP_M_INVITE, 1);
	u.car = &f->c[0];
	u.binv = take(f, u.car);
	copy_str(u.b_cid, sizeof(u.b_cid), u.binv->call_id);
	copy_str(u.b_ftag, sizeof(u.b_ftag), u.binv->from_tag);
	snprintf(u.car_tag, sizeof(u.car_tag), "late");
	testenv_advance(&f->te, 3 * SEC);
	while (unread_to(f, &f->c[0]) > 0)
		assert_int_equal(take(f, &f->c[0])->method, SIP_M_INVITE);
	struct sip_msg *inv2 = take(f, &f->c[1]);
	assert_request(inv2, SIP_M_INVITE, 1);
	expect_quiet(f);
	/* carrier1 answers after all */
	testenv_advance(&f->te, 200 * MS);
	f->echo = true;
	carrier_invite_resp(f, &u, 200, SDP_B);
	f->echo = false;
	assert_int_equal(unread_to(f, &f->caller), 0); /* the caller must not see it */
	if (unread_to(f, &f->c[0]) == 0)
		fail_msg("BUG: late 200 from the abandoned carrier1 was not ACKed (no datagram to 10.0.1.1)");
	struct sip_msg *ack = take(f, &f->c[0]);
	assert_request(ack, SIP_M_ACK, 1);
	assert_str_is(ack->call_id, u.b_cid);
	assert_str_is(ack->to_tag, "late");
	struct sip_msg *bye = take(f, &f->c[0]);
	assert_request(bye, SIP_M_BYE, bye->cseq);
	assert_str_is(bye->call_id, u.b_cid);
}

/* ---- issue 10: dialogs, reflection, stray 2xx, pike (docs/security.md) ---- */

/* An in-dialog request on the A leg with the tags and source given. */
static void forged_req(struct fx *f, const struct sy_addr *from, struct ua *u, const char *method, const char *ftag,
		       const char *totag, uint32_t cseq)
{
	injectf(f, from, NULL,
		"%s sip:switchyard@10.0.0.1:5060 SIP/2.0\n"
		"Via: SIP/2.0/UDP 10.0.0.100:5060;branch=z9hG4bKfg%d\n"
		"Max-Forwards: 70\n"
		"From: \"Alice\" <sip:4420001@10.0.0.100>;tag=%s\n"
		"To: <sip:%s@10.0.0.1>;tag=%s\n"
		"Call-ID: %s\n"
		"CSeq: %u %s\n",
		method, ++f->br_seq, ftag, u->callee, totag, u->cid, cseq, method);
}

static void connected_call(struct fx *f, struct ua *u)
{
	fx_start(f);
	call_setup(f, u, "15551234", 0);
	call_ring(f, u);
	call_answer(f, u);
}

/* A BYE with the right Call-ID but a wrong tag gets 481; the call stays. */
static void test_forged_bye_wrong_tag(void **state)
{
	struct fx *f = *state;
	struct ua u;
	connected_call(f, &u);
	forged_req(f, &f->caller, &u, "BYE", "guess", u.tag, 2); /* wrong From tag */
	assert_response(take(f, &f->caller), 481, SIP_M_BYE, 2);
	forged_req(f, &f->caller, &u, "BYE", u.ftag, "a1guess", 2); /* wrong To tag */
	assert_response(take(f, &f->caller), 481, SIP_M_BYE, 2);
	expect_quiet(f);
	assert_int_equal(st(f)->dlg_refused[B2BUA_REFUSED_TAG], 2);
	assert_int_equal(st(f)->active, 1);
	assert_int_equal(f->ncdr, 0);
	call_bye_from_caller(f, &u); /* the real caller still hangs up */
	assert_int_equal(st(f)->completed, 1);
}

/* The right tags from another source (another port behind the same IP,
 * another IP) get 481, answered to that source; the call stays. A B-leg
 * BYE must come from the carrier's address. */
static void test_forged_bye_other_source(void **state)
{
	struct fx *f = *state;
	struct ua u;
	connected_call(f, &u);
	struct sy_addr port2 = sy_addr_v4(10, 0, 0, 100, 5062), evil = sy_addr_v4(192, 0, 2, 66, 5060);
	forged_req(f, &port2, &u, "BYE", u.ftag, u.tag, 2);
	assert_response(take(f, &port2), 481, SIP_M_BYE, 2);
	forged_req(f, &evil, &u, "BYE", u.ftag, u.tag, 2);
	assert_response(take(f, &evil), 481, SIP_M_BYE, 2);
	struct ua fake = u;
	fake.car = &evil; /* carrier_bye sends from u->car */
	carrier_bye(f, &fake);
	assert_response(take(f, &evil), 481, SIP_M_BYE, 1);
	forged_req(f, &evil, &u, "ACK", u.ftag, u.tag, 1);
	expect_quiet(f);
	assert_int_equal(st(f)->dlg_refused[B2BUA_REFUSED_SOURCE], 4);
	assert_int_equal(st(f)->active, 1);
	assert_int_equal(f->ncdr, 0);
	call_bye_from_caller(f, &u);
	assert_int_equal(st(f)->completed, 1);
}

/* A CANCEL with the INVITE's branch, from another source: 481. */
static void test_forged_cancel_other_source(void **state)
{
	struct fx *f = *state;
	fx_start(f);
	struct ua u;
	call_setup(f, &u, "15551234", 0);
	struct sy_addr caller = f->caller;
	f->caller = sy_addr_v4(10, 0, 0, 100, 5999);
	caller_cancel(f, &u);
	assert_response(take(f, &f->caller), 481, SIP_M_CANCEL, 1);
	f->caller = caller;
	expect_quiet(f);
	assert_int_equal(st(f)->cancelled, 0); /* the source is part of the transaction's identity */
	caller_cancel(f, &u);		       /* the caller's own CANCEL works */
	assert_response(take(f, &f->caller), 200, SIP_M_CANCEL, 1);
	assert_int_equal(st(f)->cancelled, 1);
}

/* Every response goes to the packet's source: a Via naming a third party
 * (no rport) gets nothing, and a refusal before any 1xx is sent once per
 * INVITE copy, never by Timer G. */
static void test_response_to_source_not_via(void **state)
{
	struct fx *f = *state;
	f->cfg.calls_max = 1; /* the second call is refused 503 before any 1xx */
	fx_start(f);
	struct ua u;
	call_setup(f, &u, "15551234", 0);
	struct sy_addr victim = sy_addr_v4(192, 0, 2, 99, 5099);
	for (int copy = 0; copy < 2; copy++) {
		injectf(f, &f->caller, SDP_A,
			"INVITE sip:15551234@10.0.0.1:5060 SIP/2.0\n"
			"Via: SIP/2.0/UDP 192.0.2.99:5099;branch=z9hG4bKrefl\n"
			"Max-Forwards: 70\n"
			"From: <sip:4420001@192.0.2.99>;tag=refl\n"
			"To: <sip:15551234@10.0.0.1>\n"
			"Call-ID: refl@192.0.2.99\n"
			"CSeq: 1 INVITE\n"
			"Content-Type: application/sdp\n");
		uint64_t at;
		assert_response(take_at(f, &f->caller, &at), 503, SIP_M_INVITE, 1);
		assert_int_equal(at, f->te.now_ns);
		testenv_advance(&f->te, 1 * SEC);
	}
	testenv_advance(&f->te, 40 * SEC);
	for (int c = 0; c < 3; c++) /* the first call's B-leg INVITEs (no answer: failover) */
		while (unread_to(f, &f->c[c]) > 0)
			assert_int_equal(take(f, &f->c[c])->method, SIP_M_INVITE);
	while (unread_to(f, &f->caller) > 0) /* the first call's end */
		take(f, &f->caller);
	assert_int_equal(unread_to(f, &victim), 0);
	expect_quiet(f);
	assert_int_equal(sip_stack_stats(b2bua_stack(f->b))->finals_once, 1);
}

/* A 2xx with an unknown Call-ID: one ACK and one BYE to its source (not
 * its Contact), no transaction, then at most 20/s with a burst of 40. */
static void test_stray_2xx_source(void **state)
{
	struct fx *f = *state;
	fx_start(f);
	struct sy_addr src = sy_addr_v4(198, 51, 100, 7, 5060), contact = sy_addr_v4(192, 0, 2, 50, 5060);
	for (int i = 0; i < 100; i++)
		injectf(f, &src, NULL,
			"SIP/2.0 200 OK\n"
			"Via: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bKnosuch%d\n"
			"From: <sip:a@10.0.0.1>;tag=x\n"
			"To: <sip:b@192.0.2.50>;tag=y\n"
			"Call-ID: stray%d@192.0.2.50\n"
			"CSeq: 1 INVITE\n"
			"Contact: <sip:b@192.0.2.50:5060>\n",
			i, i);
	for (int i = 0; i < 40; i++) {
		assert_request(take(f, &src), SIP_M_ACK, 1);
		struct sip_msg *bye = take(f, &src);
		assert_request(bye, SIP_M_BYE, 2);
		assert_str_is(bye->to_tag, "y");
	}
	assert_int_equal(sip_stack_stats(b2bua_stack(f->b))->txn_active, 0);
	testenv_advance(&f->te, 40 * SEC); /* nothing retransmitted */
	assert_int_equal(unread_to(f, &contact), 0);
	expect_quiet(f);
	assert_int_equal(st(f)->stray_2xx, 40);
	assert_int_equal(st(f)->stray_2xx_limited, 60);
}

static void options_from(struct fx *f, const struct sy_addr *from, int i)
{
	injectf(f, from, NULL,
		"OPTIONS sip:10.0.0.1 SIP/2.0\n"
		"Via: SIP/2.0/UDP 10.9.9.9:5060;branch=z9hG4bKpk%d\n"
		"Max-Forwards: 70\n"
		"From: <sip:p@10.9.9.9>;tag=p%d\n"
		"To: <sip:10.0.0.1>\n"
		"Call-ID: pike%d@10.9.9.9\n"
		"CSeq: 1 OPTIONS\n",
		i, i, i);
}

/* pike = 10/s burst 20 block 60s: the 21st request at t=0 blocks the
 * source until t=60s exactly; other sources and carriers are served. */
static void test_pike_block(void **state)
{
	struct fx *f = *state;
	f->cfg.pike = (struct sip_pike_cfg){.rate = 10, .burst = 20, .block_ns = 60 * SEC};
	fx_start(f);
	struct sy_addr flood = sy_addr_v4(203, 0, 113, 9, 40000), other = sy_addr_v4(203, 0, 113, 10, 5060);
	int i = 0;
	for (; i < 30; i++)
		options_from(f, &flood, i);
	for (int k = 0; k < 20; k++)
		assert_response(take(f, &flood), 200, SIP_M_OPTIONS, 1);
	expect_quiet(f);
	assert_int_equal(st(f)->pike_limited, 1);
	assert_int_equal(st(f)->pike_dropped, 10);
	flood.port = 40001; /* the block is per IP, whatever the port */
	options_from(f, &flood, i++);
	options_from(f, &other, i++);
	assert_response(take(f, &other), 200, SIP_M_OPTIONS, 1);
	for (int k = 0; k < 50; k++) /* the carrier is exempt */
		options_from(f, &f->c[0], i++);
	assert_int_equal(unread_to(f, &f->c[0]), 50);
	while (unread_to(f, &f->c[0]) > 0)
		take(f, &f->c[0]);
	testenv_advance(&f->te, 60 * SEC - 1);
	options_from(f, &flood, i++);
	expect_quiet(f);
	testenv_advance(&f->te, 1);
	options_from(f, &flood, i++);
	assert_response(take(f, &flood), 200, SIP_M_OPTIONS, 1);
	assert_int_equal(st(f)->pike_dropped, 12);
	assert_int_equal(st(f)->pike_tracked, 2);
	expect_quiet(f);
}

/* A 2xx carrying the B leg's Call-ID after its transaction ended, from
 * somewhere other than the carrier: a stray (ACK+BYE to its source), not
 * a retransmission of the carrier's answer; the call stays up. */
static void test_forged_b_2xx(void **state)
{
	struct fx *f = *state;
	struct ua u;
	connected_call(f, &u);
	testenv_advance(&f->te, 40 * SEC); /* the B leg's ICT is gone (Timer M) */
	struct sy_addr evil = sy_addr_v4(192, 0, 2, 66, 5060);
	struct ua fake = u;
	fake.car = &evil;
	carrier_invite_resp(f, &fake, 200, SDP_B);
	assert_request(take(f, &evil), SIP_M_ACK, 1);
	assert_request(take(f, &evil), SIP_M_BYE, 2);
	expect_quiet(f); /* nothing to the carrier or the caller */
	assert_int_equal(st(f)->stray_2xx, 1);
	carrier_invite_resp(f, &u, 200, SDP_B); /* the carrier's own: ACKed again */
	assert_request(take(f, u.car), SIP_M_ACK, 1);
	expect_quiet(f);
	assert_int_equal(st(f)->active, 1);
	call_bye_from_caller(f, &u);
}

/* ---- fraud in the call path (b2bua_fraud.c) ---- */

/* A fraud component on the fixture's env: a ranges file (4477 premium,
 * 4479 blocked) and the rule "default" as the test sets it, for the trunk
 * "callers" (no account: keyed by the trunk). */
static struct fraud_rule_cfg *fraud_rule(struct fx *f, struct fraud_cfg *c)
{
	static const char ranges[] = "prefix,class,label\n+4477,premium,UK premium\n+4479,blocked,never\n";
	struct sy_file *fl;
	snprintf(f->fraud_path, sizeof(f->fraud_path), "/tmp/sy-b2bua-fraud-%d.csv", (int)getpid());
	assert_int_equal(sy_env_file_open(&f->te.env, f->fraud_path, SY_FILE_WRITE | SY_FILE_CREATE, &fl), SY_OK);
	assert_int_equal(sy_env_file_write(&f->te.env, fl, 0, ranges, strlen(ranges)), SY_OK);
	sy_env_file_close(&f->te.env, fl);
	fraud_cfg_defaults(c);
	c->on = true;
	c->accounts_max = 64;
	snprintf(c->ranges_path, sizeof(c->ranges_path), "%s", f->fraud_path);
	fraud_rule_defaults(&c->rules[0]);
	snprintf(c->rules[0].name, sizeof(c->rules[0].name), "default");
	c->rule_n = 1;
	c->default_rule = 0;
	return &c->rules[0];
}

static void fraud_start(struct fx *f, const struct fraud_cfg *c)
{
	char err[256];
	if (fraud_create(&f->te.env, c, NULL, NULL, NULL, &f->fraud, err, sizeof(err)) != SY_OK)
		fail_msg("fraud_create: %s", err);
	f->cfg.fraud = f->fraud;
	fx_start(f);
}

/* The message holds this header line (whole, with its CRLF). */
static void assert_header(const struct sip_msg *m, const char *line)
{
	if (memmem(m->raw.p, m->raw.len, line, strlen(line)) == NULL) {
		dump_msg(m);
		fail_msg("no '%s'", line);
	}
}

/* Block: a call to a blocked range is refused 403 with the Reason, before
 * any carrier hears of it; its CDR says FAILED, 403 and why. */
static void test_fraud_block_403(void **state)
{
	struct fx *f = *state;
	struct fraud_cfg c;
	fraud_rule(f, &c);
	fraud_start(f, &c);
	struct ua u;
	caller_invite(f, &u, "447900123456");
	assert_response(take(f, &f->caller), 100, SIP_M_INVITE, 1);
	struct sip_msg *r = take(f, &f->caller);
	assert_response(r, 403, SIP_M_INVITE, 1);
	assert_header(r, "Reason: SIP;cause=403;text=\"fraud: irsf.blocked_class: +447900123456 is in blocked range");
	caller_ack_err(f, &u, r);
	expect_quiet(f); /* no B leg */
	assert_int_equal(f->route_calls, 0);
	const struct cdr *cd = last_cdr(f);
	assert_cdr(cd, CDR_DISP_FAILED, 403, "", CDR_SIDE_SYSTEM);
	assert_int_equal(cd->fraud_action, FRAUD_BLOCK);
	assert_int_equal(cd->fraud_detector, FRAUD_DET_IRSF);
	assert_true(strncmp(cd->fraud_reason, "irsf.blocked_class: +447900123456", 33) == 0);
	assert_int_equal(fraud_stats(f->fraud)->by_action[FRAUD_BLOCK], 1);
	assert_int_equal(st(f)->active, 0);
}

/* Throttle: over the account's call rate a call gets 503 with the
 * configured Retry-After; the one before it goes through untouched. */
static void test_fraud_throttle_503(void **state)
{
	struct fx *f = *state;
	struct fraud_cfg c;
	struct fraud_rule_cfg *r = fraud_rule(f, &c);
	r->calls = (struct fraud_limit){.max = 1, .window_ns = 10 * SEC, .action = FRAUD_THROTTLE};
	c.retry_after_s = 42;
	fraud_start(f, &c);
	struct ua a, b;
	call_setup(f, &a, "15551234", 0);
	assert_int_equal(f->ncdr, 0);
	caller_invite(f, &b, "15551235");
	assert_response(take(f, &f->caller), 100, SIP_M_INVITE, 1);
	struct sip_msg *t = take(f, &f->caller);
	assert_response(t, 503, SIP_M_INVITE, 1);
	assert_header(t, "Retry-After: 42\r\n");
	assert_header(t, "Reason: SIP;cause=503;text=\"fraud: velocity.calls: ");
	caller_ack_err(f, &b, t);
	expect_quiet(f);
	const struct cdr *cd = last_cdr(f);
	assert_cdr(cd, CDR_DISP_FAILED, 503, "", CDR_SIDE_SYSTEM);
	assert_int_equal(cd->fraud_action, FRAUD_THROTTLE);
	assert_int_equal(cd->fraud_detector, FRAUD_DET_VELOCITY);
	call_ring(f, &a);
	call_answer(f, &a);
	call_bye_from_caller(f, &a);
	assert_int_equal(last_cdr(f)->fraud_action, FRAUD_ALLOW);
	assert_string_equal(last_cdr(f)->fraud_reason, "");
}

/* A premium-range call that runs past premium_max is torn down on virtual
 * time: BYE to both legs, each with the Reason, the CDR says why. */
static void test_fraud_premium_teardown(void **state)
{
	struct fx *f = *state;
	struct fraud_cfg c;
	struct fraud_rule_cfg *r = fraud_rule(f, &c);
	r->premium_max_ns = 60 * SEC;
	fraud_start(f, &c);
	struct ua u;
	call_setup(f, &u, "447712345678", 1); /* 4477: carrier2 */
	call_ring(f, &u);
	call_answer(f, &u);
	testenv_advance(&f->te, 60 * SEC - 1);
	expect_quiet(f);
	testenv_advance(&f->te, 1);
	struct sip_msg *b1 = take(f, u.car);
	assert_request(b1, SIP_M_BYE, 2);
	assert_str_is(b1->call_id, u.b_cid);
	assert_header(b1, "Reason: SIP;cause=403;text=\"fraud: irsf.premium_max: ");
	struct sip_msg *b2 = take(f, &f->caller);
	assert_request(b2, SIP_M_BYE, b2->cseq);
	assert_str_is(b2->call_id, u.cid);
	assert_header(b2, "Reason: SIP;cause=403;text=\"fraud: irsf.premium_max: ");
	expect_quiet(f);
	carrier_respond(f, &u, b1, 200, NULL, NULL);
	caller_respond(f, b2, 200);
	const struct cdr *cd = last_cdr(f);
	assert_cdr(cd, CDR_DISP_ANSWERED, 200, "carrier2", CDR_SIDE_SYSTEM);
	assert_int_equal(cd->duration_ms, 60000);
	assert_int_equal(cd->fraud_action, FRAUD_BLOCK);
	assert_int_equal(cd->fraud_detector, FRAUD_DET_IRSF);
	assert_true(strncmp(cd->fraud_reason, "irsf.premium_max: ", 18) == 0);
	assert_int_equal(fraud_stats(f->fraud)->teardowns, 1);
	assert_int_equal(st(f)->active, 0);
}

/* Every call begun is ended once with the component, whatever became of
 * it (refused, cancelled, answered, torn down): with at most one call at
 * once, the account's count is back to 0 after each, so a lone call goes
 * through and a second one at the same time is still refused. */
static void test_fraud_end_every_call(void **state)
{
	struct fx *f = *state;
	struct fraud_cfg c;
	struct fraud_rule_cfg *r = fraud_rule(f, &c);
	r->concurrent = (struct fraud_limit){.max = 1, .action = FRAUD_BLOCK};
	r->premium_max_ns = 30 * SEC;
	fraud_start(f, &c);
	struct ua u;
	caller_invite(f, &u, "447900000001"); /* refused: blocked range */
	assert_response(take(f, &f->caller), 100, SIP_M_INVITE, 1);
	caller_ack_err(f, &u, take(f, &f->caller));
	call_setup(f, &u, "15550001", 0); /* cancelled while ringing */
	call_ring(f, &u);
	caller_cancel(f, &u);
	assert_response(take(f, &f->caller), 200, SIP_M_CANCEL, 1);
	struct sip_msg *term = take(f, &f->caller);
	assert_response(term, 487, SIP_M_INVITE, 1);
	caller_ack_err(f, &u, term);
	carrier_respond(f, &u, expect_b_cancel(f, &u), 200, NULL, NULL);
	carrier_invite_resp(f, &u, 487, NULL);
	expect_err_ack(f, &u);
	call_setup(f, &u, "447700000002", 1); /* torn down */
	call_ring(f, &u);
	call_answer(f, &u);
	testenv_advance(&f->te, 30 * SEC);
	carrier_respond(f, &u, take(f, u.car), 200, NULL, NULL);
	caller_respond(f, take(f, &f->caller), 200);
	call_setup(f, &u, "15550003", 0); /* answered, hung up by the caller */
	call_ring(f, &u);
	call_answer(f, &u);
	call_bye_from_caller(f, &u);
	expect_quiet(f);
	assert_int_equal(f->ncdr, 4);
	assert_int_equal(st(f)->active, 0);
	struct ua a, b;
	call_setup(f, &a, "15550004", 0); /* one at a time: allowed */
	caller_invite(f, &b, "15550005"); /* two at once: refused */
	assert_response(take(f, &f->caller), 100, SIP_M_INVITE, 1);
	struct sip_msg *t = take(f, &f->caller);
	assert_response(t, 403, SIP_M_INVITE, 1);
	assert_header(t, "Reason: SIP;cause=403;text=\"fraud: velocity.concurrent: 2 calls in progress (max 1)\"\r\n");
	caller_ack_err(f, &b, t);
	call_ring(f, &a);
	call_answer(f, &a);
	call_bye_from_caller(f, &a);
	expect_quiet(f);
	assert_int_equal(fraud_stats(f->fraud)->decisions, 6);
}

int main(void)
{
	sip_global_init();
#define T(fn) cmocka_unit_test_setup_teardown(fn, fx_setup, fx_teardown)
	const struct CMUnitTest tests[] = {
	    T(test_basic_call),
	    T(test_identity_unknown_source_403),
	    T(test_identity_cdr_account),
	    T(test_identity_registered_user),
	    T(test_answer_without_ringing),
	    T(test_bye_from_carrier),
	    T(test_long_dialog_strings),
	    T(test_no_route),
	    T(test_max_forwards_zero),
	    T(test_missing_call_id),
	    T(test_garbage),
	    T(test_options_and_stray),
	    T(test_in_dialog_requests),
	    T(test_busy),
	    T(test_failover_503),
	    T(test_503_last_carrier),
	    T(test_failover_codes),
	    T(test_failover_off),
	    T(test_invite_timeout_failover),
	    T(test_timer_b),
	    T(test_trying_stops_invite_timeout),
	    T(test_cancel_while_ringing),
	    T(test_cancel_before_provisional),
	    T(test_cancel_crosses_200),
	    T(test_early_bye),
	    T(test_ring_timeout),
	    T(test_ring_timeout_carrier_dead),
	    T(test_carrier_capacity),
	    T(test_pool_full),
	    T(test_2xx_retransmissions),
	    T(test_ack_timeout),
	    T(test_max_call_duration),
	    T(test_hangup_all),
	    T(test_hangup_every_state),
	    T(test_session_refresh),
	    T(test_session_carrier_vanishes),
	    T(test_session_update_refused),
	    T(test_bye_timeout),
	    T(test_session_422),
	    T(test_reinvite_relay),
	    T(test_reinvite_refused),
	    T(test_cdr_per_attempt),
	    T(test_invite_retransmission),
	    T(test_183_early_media),
	    T(test_record_route),
	    T(test_headers_too_large),
	    T(test_number_normalisation),
	    T(test_bug_answer_at_time_zero),
	    T(test_bug_late_2xx_after_abandon),
	    T(test_forged_bye_wrong_tag),
	    T(test_forged_bye_other_source),
	    T(test_forged_cancel_other_source),
	    T(test_response_to_source_not_via),
	    T(test_stray_2xx_source),
	    T(test_pike_block),
	    T(test_forged_b_2xx),
	    T(test_fraud_block_403),
	    T(test_fraud_throttle_503),
	    T(test_fraud_premium_teardown),
	    T(test_fraud_end_every_call),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
