/* test_peers.c: the simulated SIP peers: the UA scanner (core/sip/wire_ua.c) on valid, real
 * and malformed input, builders checked against libosip2, and a UAC talking
 * to a UAS over a tiny in-test env (virtual clock, 1 ms links, optional loss). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>

#include <cmocka.h>
#include <osipparser2/osip_parser.h>

#include "core/env.h"
#include "core/rng.h"
#include "core/timerq.h"
#include "core/sip/wire.h"
#include "peers/uac.h"
#include "peers/uas.h"

/* ---- scanner tables ---- */

/* From /work/shared/pcaps/sip_ipv6_udp.pcap (heplify example capture). */
static const char real_invite[] = "INVITE sip:4321@fec0:0:0:0:216:d3ff:fe0d:22c:5060 SIP/2.0\r\n"
				  "Call-ID: c3eF6f58-363323Cd-8058EB88-10300252@fe80:0:0:0:21a:a0ff:fe07:32e0\r\n"
				  "Contact: <sip:9876@fe80:0:0:0:21a:a0ff:fe07:32e0:5060>\r\n"
				  "CSeq: 1 INVITE\r\n"
				  "From: <sip:9876@fe80:0:0:0:21a:a0ff:fe07:32e0>;tag=a3bhg\r\n"
				  "To: <sip:4321@fec0:0:0:0:216:d3ff:fe0d:22c>\r\n"
				  "Via: SIP/2.0/UDP fe80:0:0:0:21a:a0ff:fe07:32e0:5060;branch=z9hG4bKkdjuw8376\r\n"
				  "Max-Forwards: 70\r\n"
				  "Allow: INVITE, ACK, BYE, CANCEL, REFER, OPTIONS, REGISTER, SUBSCRIBE\r\n"
				  "Content-Type: application/sdp\r\n"
				  "Content-Length: 181\r\n"
				  "\r\n"
				  "v=0\r\n"
				  "o=Valid8.com-UserAgent 8521 32 IN IP6 fe80:0:0:0:21a:a0ff:fe07:32e0\r\n"
				  "s=SIP-Call\r\n"
				  "c=IN IP6 fe80:0:0:0:21a:a0ff:fe07:32e0\r\n"
				  "t=0 0\r\n"
				  "m=audio 5008 RTP/AVP 0\r\n"
				  "a=rtpmap:0 pcmu/8000/1\r\n"
				  "\r\n";

/* From /work/shared/pcaps/rtp_rtcp_sip_ipv4_udp.pcap (heplify example capture). */
static const char real_100[] = "SIP/2.0 100 Trying\r\n"
			       "Via: SIP/2.0/UDP 200.57.7.195;branch=z9hG4bKff9b46fb055c0521cc24024da96cd290\r\n"
			       "Via: SIP/2.0/UDP 200.57.7.195:55061;branch=z9hG4bK291d90e31a47b225bd0ddff4353e9cc0\r\n"
			       "From: <sip:200.57.7.195:55061;user=phone>;tag=GR52RWG346-34\r\n"
			       "To: \"francisco@bestel.com\" <sip:francisco@bestel.com:55060>;tag=298852044\r\n"
			       "Contact: <sip:francisco@200.57.7.204:5061>\r\n"
			       "Call-ID: 12013223@200.57.7.195\r\n"
			       "CSeq: 1 INVITE\r\n"
			       "Server: X-Lite release 1103m\r\n"
			       "Content-Length: 0\r\n"
			       "\r\n";

static const char compact_bye[] =
    "BYE sip:bob@10.0.0.2 SIP/2.0\r\n"
    "v: SIP/2.0/UDP 10.0.0.1:5060;rport;branch=z9hG4bKa1, SIP/2.0/UDP 10.0.0.9;branch=z9hG4bKb2\n"
    "V: SIP/2.0/UDP 10.0.0.8;branch=z9hG4bKc3\r\n"
    "f: \"Al, ice\" <sip:alice@a.example;transport=udp>;TAG=ft1\r\n"
    "t: sip:bob@b.example;tag=tt2\r\n"
    "i: cid-77@a\r\n"
    "cseq  :  2   BYE\r\n"
    "m: \"x\" <sip:alice@10.0.0.1:5060;ob>;expires=60, <sip:other@h>\r\n"
    "record-route: <sip:p1;lr>, <sip:p2;lr>\r\n"
    "Record-Route: <sip:p3;lr>\r\n"
    "Subject: folded\r\n"
    " continuation line\r\n"
    "l: 4\r\n"
    "\r\n"
    "abcdEXTRA";

struct scan_case {
	const char *name, *msg;
	const char *method; /* NULL for a response */
	int status;
	const char *call_id, *branch, *from_tag, *to_tag, *cseq_method, *contact;
	uint32_t cseq;
	size_t via_n, rr_n, body_len;
};

static const struct scan_case scan_cases[] = {
    {"real ipv6 invite", real_invite, "INVITE", 0, "c3eF6f58-363323Cd-8058EB88-10300252@fe80:0:0:0:21a:a0ff:fe07:32e0",
     "z9hG4bKkdjuw8376", "a3bhg", "", "INVITE", "sip:9876@fe80:0:0:0:21a:a0ff:fe07:32e0:5060", 1, 1, 0, 181},
    {"real 100 two vias", real_100, NULL, 100, "12013223@200.57.7.195", "z9hG4bKff9b46fb055c0521cc24024da96cd290",
     "GR52RWG346-34", "298852044", "INVITE", "sip:francisco@200.57.7.204:5061", 1, 2, 0, 0},
    {"compact forms, LF, folding", compact_bye, "BYE", 0, "cid-77@a", "z9hG4bKa1", "ft1", "tt2", "BYE",
     "sip:alice@10.0.0.1:5060;ob", 2, 3, 3, 4},
};

static void assert_slice(struct sy_str s, const char *want)
{
	if (s.len != strlen(want) || (s.len > 0 && memcmp(s.p, want, s.len) != 0)) {
		print_error("got '%.*s' want '%s'\n", (int)s.len, s.p ? s.p : "", want);
		fail();
	}
}

/* A heap copy of exactly len bytes, so ASan flags any read past the end. */
static char *exact(const char *p, size_t len)
{
	char *b = malloc(len ? len : 1);
	assert_non_null(b);
	memcpy(b, p, len);
	return b;
}

static void test_scan_valid(void **state)
{
	for (size_t i = 0; i < SY_ARRAY_LEN(scan_cases); i++) {
		const struct scan_case *c = &scan_cases[i];
		struct sip_ua_msg m;
		size_t len = strlen(c->msg);
		char *b = exact(c->msg, len);
		print_message("case %s\n", c->name);
		assert_int_equal(sip_ua_parse(b, len, &m), SY_OK);
		assert_int_equal(m.is_request, c->method != NULL);
		if (c->method)
			assert_slice(m.method, c->method);
		assert_int_equal(m.status, c->status);
		assert_slice(m.call_id, c->call_id);
		assert_slice(m.branch, c->branch);
		assert_slice(m.from_tag, c->from_tag);
		assert_slice(m.to_tag, c->to_tag);
		assert_slice(m.cseq_method, c->cseq_method);
		assert_slice(m.contact_uri, c->contact);
		assert_int_equal(m.cseq, c->cseq);
		assert_int_equal(m.via_n, c->via_n);
		assert_int_equal(m.rr_n, c->rr_n);
		assert_int_equal(m.body.len, c->body_len);
		free(b);
	}
}

static void test_scan_details(void **state)
{
	struct sip_ua_msg m;
	assert_int_equal(sip_ua_parse(compact_bye, strlen(compact_bye), &m), SY_OK);
	assert_slice(m.via[1], "SIP/2.0/UDP 10.0.0.9;branch=z9hG4bKb2");
	assert_slice(m.via[2], "SIP/2.0/UDP 10.0.0.8;branch=z9hG4bKc3");
	assert_slice(m.rr[2], "<sip:p3;lr>");
	assert_slice(m.body, "abcd");
	assert_slice(m.from, "\"Al, ice\" <sip:alice@a.example;transport=udp>;TAG=ft1");
	assert_slice(sip_raw_uri_of(m.to), "sip:bob@b.example");
	assert_slice(m.ruri, "sip:bob@10.0.0.2");
}

static const char *const bad_msgs[] = {
    "",
    "garbage",
    "INVITE sip:a@b SIP/2.0",						/* no line end */
    "INVITE sip:a@b SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\n", /* no empty line */
    "INVITE sip:a@b SIP/3.0\r\n\r\n",
    "SIP/2.0 99 Low\r\nVia: x\r\nFrom: a\r\nTo: b\r\nCall-ID: c\r\nCSeq: 1 INVITE\r\n\r\n",
    "SIP/2.0 2000 OK\r\n\r\n",
    "INVITE sip:a@b SIP/2.0\r\nFrom: a\r\nTo: b\r\nCall-ID: c\r\nCSeq: 1 INVITE\r\n\r\n", /* no Via */
    "INVITE sip:a@b SIP/2.0\r\nVia: x\r\nFrom: a\r\nTo: b\r\nCall-ID: c\r\nCSeq: x INVITE\r\n\r\n",
    "INVITE sip:a@b SIP/2.0\r\nVia: x\r\nFrom: a\r\nTo: b\r\nCall-ID: c\r\nCSeq: 1\r\n\r\n",
    "INVITE sip:a@b SIP/2.0\r\nVia: x,\r\nFrom: a\r\nTo: b\r\nCall-ID: c\r\nCSeq: 1 INVITE\r\n\r\n",
    "INVITE sip:a@b SIP/2.0\r\nVia: x\r\nFrom: a\r\nTo: b\r\nCall-ID: c\r\nCSeq: 1 INVITE\r\nl: 10\r\n\r\nshort",
    "INVITE sip:a@b SIP/2.0\r\nVia: x\r\nFrom: a\r\nTo: b\r\nCall-ID: c\r\nCSeq: 1 INVITE\r\nl: -1\r\n\r\n",
    "INVITE sip:a@b SIP/2.0\r\nno colon here\r\n\r\n",
    "INVITE sip:a@b SIP/2.0\r\nVia: x\r\nFrom: a\r\nTo: b\r\nCall-ID: c\r\nCSeq: 99999999999 INVITE\r\n\r\n",
};

static void test_scan_malformed(void **state)
{
	struct sip_ua_msg m;
	for (size_t i = 0; i < SY_ARRAY_LEN(bad_msgs); i++) {
		size_t len = strlen(bad_msgs[i]);
		char *b = exact(bad_msgs[i], len);
		if (sip_ua_parse(b, len, &m) != SY_ERR_PARSE) {
			print_error("bad message %zu accepted\n", i);
			fail();
		}
		free(b);
	}
	/* Every truncation of a valid message: no crash, no read past the end,
	 * and anything cut inside the headers is rejected. */
	for (size_t i = 0; i < SY_ARRAY_LEN(scan_cases); i++) {
		const char *msg = scan_cases[i].msg;
		size_t full = strlen(msg), hdr_end = (size_t)(strstr(msg, "\r\n\r\n") - msg);
		for (size_t n = 0; n < full; n++) {
			char *b = exact(msg, n);
			enum sy_rc rc = sip_ua_parse(b, n, &m);
			if (n < hdr_end)
				assert_int_equal(rc, SY_ERR_PARSE);
			free(b);
		}
	}
}

static void test_scan_garbage(void **state)
{
	struct sy_rng r;
	struct sip_ua_msg m;
	static const char alphabet[] = "SIP/2.0 INVITE:;,<>\"=\r\n \tvftiml0123456789z9hG4bKtag";
	sy_rng_init(&r, 7);
	for (int iter = 0; iter < 20000; iter++) {
		size_t n = (size_t)sy_rng_below(&r, 200);
		char *b = malloc(n ? n : 1);
		for (size_t j = 0; j < n; j++)
			b[j] = sy_rng_chance_ppm(&r, 100000) ? (char)sy_rng_below(&r, 256)
							     : alphabet[sy_rng_below(&r, sizeof(alphabet) - 1)];
		enum sy_rc rc = sip_ua_parse(b, n, &m);
		assert_true(rc == SY_OK || rc == SY_ERR_PARSE);
		free(b);
	}
	/* Mutations of a real message: flip bytes in place. */
	size_t len = strlen(real_invite);
	for (int iter = 0; iter < 5000; iter++) {
		char *b = exact(real_invite, len);
		for (int k = 0; k < 4; k++)
			b[sy_rng_below(&r, len)] = (char)sy_rng_below(&r, 256);
		enum sy_rc rc = sip_ua_parse(b, len, &m);
		assert_true(rc == SY_OK || rc == SY_ERR_PARSE);
		free(b);
	}
}

/* ---- builders against libosip2 ---- */

static void osip_check(const char *buf, size_t len, const char *method, int status)
{
	osip_message_t *om = NULL;
	assert_int_equal(osip_message_init(&om), 0);
	if (osip_message_parse(om, buf, len) != 0) {
		print_error("libosip2 rejected:\n%.*s\n", (int)len, buf);
		fail();
	}
	if (method)
		assert_string_equal(osip_message_get_method(om), method);
	else if (status > 0)
		assert_int_equal(osip_message_get_status_code(om), status);
	osip_via_t *via = NULL;
	assert_int_equal(osip_message_get_via(om, 0, &via), 0);
	osip_generic_param_t *br = NULL;
	assert_int_equal(osip_via_param_get_byname(via, "branch", &br), 0);
	assert_memory_equal(br->gvalue, "z9hG4bK", 7);
	assert_non_null(osip_message_get_call_id(om));
	assert_non_null(osip_message_get_cseq(om));
	assert_non_null(om->content_length);
	osip_message_free(om);
}

static void test_build_roundtrip(void **state)
{
	char buf[2048], sdp[512];
	size_t len, sdp_len = sip_ua_sdp(sdp, sizeof(sdp), "10.0.0.1", false, 10000, 7);
	assert_true(sdp_len > 0);
	struct sy_str route[2] = {SY_STR("<sip:p1.example;lr>"), SY_STR("<sip:p2.example;lr>")};
	struct sip_ua_req r = {
	    .method = SY_STR("INVITE"),
	    .ruri = SY_STR("sip:+15551234567@10.0.0.2:5060"),
	    .via_host = SY_STR("10.0.0.1:5062"),
	    .branch = SY_STR("z9hG4bK-t-1"),
	    .from = SY_STR("<sip:+15550000001@10.0.0.1:5062>"),
	    .from_tag = SY_STR("f1"),
	    .to = SY_STR("<sip:+15551234567@10.0.0.2:5060>"),
	    .call_id = SY_STR("1-0@t"),
	    .cseq = 1,
	    .contact = SY_STR("sip:a@10.0.0.1:5062"),
	    .route = route,
	    .route_n = 2,
	    .body = {sdp, sdp_len},
	};
	assert_int_equal(sip_ua_request(&r, buf, sizeof(buf), &len), SY_OK);
	osip_check(buf, len, "INVITE", 0);
	struct sip_ua_msg m;
	assert_int_equal(sip_ua_parse(buf, len, &m), SY_OK);
	assert_slice(m.branch, "z9hG4bK-t-1");
	assert_slice(m.from_tag, "f1");
	assert_int_equal(m.to_tag.len, 0);
	assert_int_equal(m.body.len, sdp_len);
	assert_non_null(strstr(buf, "Max-Forwards: 70\r\n"));
	assert_non_null(strstr(buf, ";rport;branch="));

	/* A 200 from that INVITE, with a tag, Contact and SDP. */
	char rbuf[2048];
	struct sip_ua_resp resp;
	sip_ua_resp_from_msg(&resp, &m, 200);
	resp.to_tag = SY_STR("t9");
	resp.contact = SY_STR("sip:b@10.0.0.2");
	resp.body = m.body;
	assert_int_equal(sip_ua_response(&resp, rbuf, sizeof(rbuf), &len), SY_OK);
	osip_check(rbuf, len, NULL, 200);
	struct sip_ua_msg m2;
	assert_int_equal(sip_ua_parse(rbuf, len, &m2), SY_OK);
	assert_int_equal(m2.status, 200);
	assert_slice(m2.to_tag, "t9");
	assert_slice(m2.call_id, "1-0@t");
	assert_slice(m2.contact_uri, "sip:b@10.0.0.2");

	/* Responses to the real multi-Via message copy every Via. */
	assert_int_equal(sip_ua_parse(real_100, strlen(real_100), &m), SY_OK);
	sip_ua_resp_from_msg(&resp, &m, 486);
	assert_int_equal(sip_ua_response(&resp, rbuf, sizeof(rbuf), &len), SY_OK);
	osip_check(rbuf, len, NULL, 486);
	assert_int_equal(sip_ua_parse(rbuf, len, &m2), SY_OK);
	assert_int_equal(m2.via_n, 2);
	assert_slice(m2.to_tag, "298852044"); /* an existing tag is kept, not doubled */

	/* Every prefix-sized buffer is refused cleanly. */
	for (size_t cap = 0; cap < 64; cap++)
		assert_int_equal(sip_ua_request(&r, buf, cap, &len), SY_ERR_FULL);
	r.branch = SY_STR("nomagic");
	assert_int_equal(sip_ua_request(&r, buf, sizeof(buf), &len), SY_ERR_INVAL);
}

static void test_build_ack_bye_cancel(void **state)
{
	static const char *const methods[] = {"ACK", "BYE", "CANCEL"};
	char buf[1024];
	size_t len;
	for (size_t i = 0; i < SY_ARRAY_LEN(methods); i++) {
		struct sip_ua_req r = {
		    .method = sy_str_from(methods[i]),
		    .ruri = SY_STR("sip:b@[2001:db8::2]:5060"),
		    .via_host = SY_STR("[2001:db8::1]:5060"),
		    .branch = SY_STR("z9hG4bKx"),
		    .from = SY_STR("<sip:a@[2001:db8::1]>"),
		    .from_tag = SY_STR("1"),
		    .to = SY_STR("<sip:b@[2001:db8::2]>"),
		    .to_tag = sy_str_from(i == 2 ? "" : "2"),
		    .call_id = SY_STR("c@h"),
		    .cseq = (uint32_t)(i + 1),
		};
		assert_int_equal(sip_ua_request(&r, buf, sizeof(buf), &len), SY_OK);
		osip_check(buf, len, methods[i], 0);
		struct sip_ua_msg m;
		assert_int_equal(sip_ua_parse(buf, len, &m), SY_OK);
		assert_true(sy_str_ieq(m.cseq_method, sy_str_from(methods[i])));
		assert_true(m.has_content_length);
		assert_int_equal(m.content_length, 0);
	}
}

/* ---- a tiny fake env: virtual clock, timerq, 1 ms links, optional loss ---- */

#define FAKE_SOCKS 4
#define FAKE_FLOWS 1024

struct fake_sock {
	struct fake_net *net;
	struct sy_addr addr;
	sy_dgram_recv_fn fn;
	void *arg;
	bool open;
	uint64_t sent[FAKE_FLOWS];
};

struct fake_net {
	uint64_t now_ns;
	struct sy_tq tq;
	struct fake_sock socks[FAKE_SOCKS];
	uint64_t dropped, osip_checked;
	uint32_t drop_every; /* drop every Nth datagram; 0 = none */
	bool osip_check_all;
};

struct pkt {
	struct fake_net *net;
	struct sy_addr from, to;
	size_t len;
	uint8_t data[];
};

static uint64_t f_now(void *ctx)
{
	return ((struct fake_net *)ctx)->now_ns;
}
static uint64_t f_wall(void *ctx)
{
	return ((struct fake_net *)ctx)->now_ns + 1700000000ull * SY_NS_PER_S;
}
static sy_timer_id f_timer_start(void *ctx, uint64_t delay_ns, sy_timer_fn fn, void *arg)
{
	struct fake_net *n = ctx;
	sy_timer_id id = sy_tq_add(&n->tq, n->now_ns + delay_ns, fn, arg);
	SY_ASSERT(id != 0);
	return id;
}
static void f_timer_cancel(void *ctx, sy_timer_id id)
{
	sy_tq_cancel(&((struct fake_net *)ctx)->tq, id);
}
static enum sy_rc f_dgram_open(void *ctx, const struct sy_addr *local, sy_dgram_recv_fn fn, void *arg,
			       struct sy_dgram **out)
{
	struct fake_net *n = ctx;
	for (int i = 0; i < FAKE_SOCKS; i++) {
		if (!n->socks[i].open) {
			n->socks[i] = (struct fake_sock){n, *local, fn, arg, true, {0}};
			*out = (struct sy_dgram *)&n->socks[i];
			return SY_OK;
		}
	}
	return SY_ERR_FULL;
}
static void deliver(void *arg)
{
	struct pkt *p = arg;
	for (int i = 0; i < FAKE_SOCKS; i++) {
		struct fake_sock *s = &p->net->socks[i];
		if (s->open && sy_addr_eq(&s->addr, &p->to))
			s->fn(s->arg, (struct sy_dgram *)s, &p->from, p->data, p->len);
	}
	free(p);
}
static enum sy_rc f_dgram_send(void *ctx, struct sy_dgram *sd, const struct sy_addr *to, const void *buf, size_t len)
{
	struct fake_net *n = ctx;
	struct fake_sock *s = (struct fake_sock *)sd;
	if (n->osip_check_all) {
		struct sip_ua_msg m;
		assert_int_equal(sip_ua_parse(buf, len, &m), SY_OK);
		osip_check(buf, len, NULL, m.status);
		n->osip_checked++;
	}
	/* Every Nth datagram of each (sender, call) flow is dropped. A global
	 * counter falls into lockstep with the retransmission timers of calls
	 * running in parallel and then drops one call's every copy, which tests
	 * the fake rather than the peers. The UAC's Call-IDs start with the call
	 * number, which makes the flow index. */
	const char *cid = strstr(buf, "Call-ID: ");
	size_t flow = cid ? strtoul(cid + 9, NULL, 10) % FAKE_FLOWS : 0;
	bool drop = n->drop_every != 0 && ++s->sent[flow] % n->drop_every == 0;
	if (getenv("PEERS_TRACE") != NULL) /* debugging aid: one line per datagram */
		fprintf(stderr, "%9.3f %s %.40s| %.*s\n", (double)n->now_ns / 1e9, drop ? "DROP" : "sent",
			strstr(buf, "Call-ID: ") ? strstr(buf, "Call-ID: ") + 9 : "",
			(int)(strchr(buf, '\r') ? (const char *)strchr(buf, '\r') - (const char *)buf : 0),
			(const char *)buf);
	if (drop) {
		n->dropped++;
		return SY_OK;
	}
	struct pkt *p = malloc(sizeof(*p) + len);
	SY_ASSERT(p != NULL);
	*p = (struct pkt){n, s->addr, *to, len};
	memcpy(p->data, buf, len);
	f_timer_start(n, SY_NS_PER_MS, deliver, p);
	return SY_OK;
}
static void f_dgram_close(void *ctx, struct sy_dgram *s)
{
	((struct fake_sock *)s)->open = false;
}
static void f_dgram_local(void *ctx, struct sy_dgram *s, struct sy_addr *out)
{
	*out = ((struct fake_sock *)s)->addr;
}
/* Reproducible filler: nothing here needs unpredictable bytes. */
static void f_random(void *ctx, void *buf, size_t len)
{
	static uint64_t st = 1;
	uint8_t *b = buf;
	for (size_t i = 0; i < len; i++)
		b[i] = (uint8_t)sy_splitmix64(&st);
}

static uint64_t f_seed(void *ctx)
{
	return 42;
}
static void f_log(void *ctx, enum sy_log_level level, const char *fmt, va_list ap)
{
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
}

static const struct sy_env_ops fake_ops = {
    .now_ns = f_now,
    .wall_ns = f_wall,
    .timer_start = f_timer_start,
    .timer_cancel = f_timer_cancel,
    .dgram_open = f_dgram_open,
    .dgram_send = f_dgram_send,
    .dgram_close = f_dgram_close,
    .dgram_local = f_dgram_local,
    .seed = f_seed,
    .random = f_random,
    .log = f_log,
};

/* Runs events until the queue is empty or until limit_ns. */
static void fake_run(struct fake_net *n, uint64_t limit_ns)
{
	uint64_t at;
	sy_timer_fn fn;
	void *arg;
	while (sy_tq_peek(&n->tq, &at) && at <= limit_ns) {
		n->now_ns = SY_MAX(n->now_ns, at);
		if (sy_tq_pop(&n->tq, n->now_ns, &at, &fn, &arg))
			fn(arg);
	}
}

/* ---- UAC <-> UAS scenarios ---- */

struct scenario {
	uint32_t answer_ppm;
	uint32_t drop_every;
	bool osip_all;
	uint32_t noanswer_ppm;
	uint32_t uas_capacity;
	uint64_t ring_timeout_ns;
};

struct result {
	struct uac_stats uac;
	struct uas_stats uas;
	uint64_t done_calls, done_bye_ok, dropped, end_ns;
};

static void on_done(void *arg, const struct uac_call_result *r)
{
	struct result *res = arg;
	res->done_calls++;
	res->done_bye_ok += r->bye_ok;
	if (getenv("PEERS_TRACE") && !r->bye_ok)
		fprintf(stderr, "call %llu status %d ended %.3f without BYE 200\n", (unsigned long long)r->call_no,
			r->status, (double)r->end_ns / 1e9);
}

static void run_scenario(const struct scenario *sc, struct result *res)
{
	struct fake_net *n = calloc(1, sizeof(*n));
	assert_non_null(n);
	assert_int_equal(sy_tq_init(&n->tq, 1024, 1 << 20), SY_OK);
	n->drop_every = sc->drop_every;
	n->osip_check_all = sc->osip_all;
	struct sy_env env = {&fake_ops, n, SY_LOG_WARN};

	struct uas_cfg scfg = {.local = sy_addr_v4(10, 0, 0, 2, 5060),
			       .answer_ppm = sc->answer_ppm,
			       .reject = {{486, 1000000}},
			       .reject_n = 1,
			       .ring = sy_dist_fixed(2 * SY_NS_PER_S),
			       .calls_max = 200,
			       .noanswer_ppm = sc->noanswer_ppm,
			       .capacity = sc->uas_capacity};
	struct uac_cfg ccfg = {.name = "uac1",
			       .local = sy_addr_v4(10, 0, 0, 1, 5060),
			       .target = scfg.local,
			       .cps_milli = 10000,
			       .dest = {{"+1XXXXXXXXXX", 1000000}},
			       .dest_n = 1,
			       .hold = sy_dist_fixed(5 * SY_NS_PER_S),
			       .max_calls = 100,
			       .calls_max = 200,
			       .ring_timeout_ns = sc->ring_timeout_ns};
	struct uas *s;
	struct uac *u;
	assert_int_equal(uas_create(&env, &scfg, &s), SY_OK);
	assert_int_equal(uac_create(&env, &ccfg, &u), SY_OK);
	memset(res, 0, sizeof(*res));
	uac_on_call_done(u, on_done, res);
	uas_start(s);
	uac_start(u);
	fake_run(n, 3600 * SY_NS_PER_S);
	res->end_ns = n->now_ns;
	res->uac = *uac_stats(u);
	res->uas = *uas_stats(s);
	res->dropped = n->dropped;
	uac_destroy(u);
	uas_destroy(s);
	fake_run(n, UINT64_MAX); /* nothing should be left */
	sy_tq_free(&n->tq);
	free(n);
}

/* What a hand-made caller socket received (test_uas_long_headers). */
struct rx_log {
	int n;
	char last[4096];
	size_t last_len;
};

static void rx_keep(void *arg, struct sy_dgram *sock, const struct sy_addr *from, const uint8_t *buf, size_t len)
{
	(void)sock;
	(void)from;
	struct rx_log *l = arg;
	l->n++;
	l->last_len = SY_MIN(len, sizeof(l->last) - 1);
	memcpy(l->last, buf, l->last_len);
	l->last[l->last_len] = '\0';
}

/* An INVITE whose headers outgrow what a carrier's call keeps in itself
 * (UAS_HDR_INLINE): they move to the heap and the answer still carries
 * every Via, in order, and the Call-ID. */
static void test_uas_long_headers(void **state)
{
	(void)state;
	struct fake_net *n = calloc(1, sizeof(*n));
	assert_non_null(n);
	assert_int_equal(sy_tq_init(&n->tq, 1024, 1 << 20), SY_OK);
	struct sy_env env = {&fake_ops, n, SY_LOG_WARN};
	struct uas_cfg scfg = {.local = sy_addr_v4(10, 0, 0, 2, 5060),
			       .answer_ppm = 1000000,
			       .ring = sy_dist_fixed(SY_NS_PER_S),
			       .calls_max = 4};
	struct uas *s;
	assert_int_equal(uas_create(&env, &scfg, &s), SY_OK);
	struct rx_log log = {0};
	struct sy_dgram *caller;
	struct sy_addr at = sy_addr_v4(10, 0, 0, 1, 5060);
	assert_int_equal(sy_env_dgram_open(&env, &at, rx_keep, &log, &caller), SY_OK);
	char msg[2048];
	int len = snprintf(msg, sizeof(msg),
			   "INVITE sip:123@10.0.0.2 SIP/2.0\r\n"
			   "Via: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bK-first-%0100d\r\n"
			   "Via: SIP/2.0/UDP 10.0.0.9:5060;branch=z9hG4bK-second-%0100d\r\n"
			   "Via: SIP/2.0/UDP 10.0.0.8:5060;branch=z9hG4bK-third-%0100d\r\n"
			   "From: <sip:1@10.0.0.1>;tag=f1\r\nTo: <sip:123@10.0.0.2>\r\n"
			   "Call-ID: long-%060d@10.0.0.1\r\nCSeq: 1 INVITE\r\n"
			   "Contact: <sip:1@10.0.0.1:5060>\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n",
			   1, 2, 3, 4);
	assert_true(len > 0 && (size_t)len < sizeof(msg));
	assert_int_equal(sy_env_dgram_send(&env, caller, &scfg.local, msg, (size_t)len), SY_OK);
	fake_run(n, 2 * SY_NS_PER_S);
	assert_true(log.n >= 2);
	assert_non_null(strstr(log.last, "SIP/2.0 200 OK"));
	const char *v1 = strstr(log.last, "z9hG4bK-first-"), *v2 = strstr(log.last, "z9hG4bK-second-"),
		   *v3 = strstr(log.last, "z9hG4bK-third-");
	assert_true(v1 != NULL && v2 > v1 && v3 > v2);
	assert_non_null(
	    strstr(log.last, "Call-ID: long-000000000000000000000000000000000000000000000000000000000004@"));
	assert_int_equal(uas_stats(s)->answered, 1);
	uas_destroy(s);
	sy_env_dgram_close(&env, caller);
	fake_run(n, UINT64_MAX);
	sy_tq_free(&n->tq);
	free(n);
}

static void test_calls_answered(void **state)
{
	struct result r;
	run_scenario(&(struct scenario){.answer_ppm = 1000000, .osip_all = true}, &r);
	assert_int_equal(r.uac.attempted, 100);
	assert_int_equal(r.uac.skipped, 0);
	assert_int_equal(r.uac.answered, 100);
	assert_int_equal(r.uac.completed, 100);
	assert_int_equal(r.uac.failed, 0);
	assert_int_equal(r.uac.timeouts, 0);
	assert_int_equal(r.uac.bye_failed, 0);
	assert_int_equal(r.uac.active, 0);
	assert_int_equal(r.uac.retransmits, 0);
	assert_int_equal(r.uac.rx_bad, 0);
	assert_int_equal(r.uac.pdd.count, 100);
	assert_int_equal(r.uac.setup.count, 100);
	/* 1 ms each way: PDD (180 sent at once) is 2 ms, setup adds the 2 s ring. */
	assert_int_equal(r.uac.pdd.min_ns, 2 * SY_NS_PER_MS);
	assert_int_equal(r.uac.pdd.max_ns, 2 * SY_NS_PER_MS);
	assert_int_equal(r.uac.setup.min_ns, 2 * SY_NS_PER_S + 2 * SY_NS_PER_MS);
	assert_int_equal(r.uas.invites, 100);
	assert_int_equal(r.uas.answered, 100);
	assert_int_equal(r.uas.acks, 100);
	assert_int_equal(r.uas.byes, 100);
	assert_int_equal(r.uas.active, 0);
	assert_int_equal(r.done_calls, 100);
	assert_int_equal(r.done_bye_ok, 100);
	/* 100 calls at 10 cps with 7 s per call end somewhere around 17 s. */
	assert_true(r.end_ns > 8 * SY_NS_PER_S && r.end_ns < 30 * SY_NS_PER_S);
}

static void test_calls_rejected(void **state)
{
	struct result r;
	run_scenario(&(struct scenario){.answer_ppm = 0, .osip_all = true}, &r);
	assert_int_equal(r.uac.attempted, 100);
	assert_int_equal(r.uac.answered, 0);
	assert_int_equal(r.uac.failed, 100);
	assert_int_equal(r.uac.failed_class[4], 100);
	assert_int_equal(r.uac.failed_code[UAC_CODE_486], 100);
	assert_int_equal(r.uac.acks, 100);
	assert_int_equal(r.uac.pdd.count, 100);
	assert_int_equal(r.uac.completed, 0);
	assert_int_equal(r.uac.active, 0);
	assert_int_equal(r.uas.rejected_code[486], 100);
	assert_int_equal(r.uas.acks, 100); /* the non-2xx ACK matched its call */
	assert_int_equal(r.uas.active, 0);
	assert_int_equal(r.done_calls, 100);
}

static void test_calls_lossy(void **state)
{
	struct result r, again;
	const struct scenario sc = {.answer_ppm = 1000000, .drop_every = 3};
	run_scenario(&sc, &r);
	assert_true(r.dropped > 100);
	assert_int_equal(r.uac.attempted, 100);
	assert_int_equal(r.uac.answered, 100);
	assert_int_equal(r.uac.completed, 100);
	assert_int_equal(r.uac.failed, 0);
	assert_int_equal(r.uac.timeouts, 0);
	assert_int_equal(r.uac.active, 0);
	assert_true(r.uac.retransmits > 0);
	assert_true(r.uas.retransmits > 0); /* lost ACKs made the UAS resend its 200 */
	assert_int_equal(r.uas.ack_timeouts, 0);
	assert_int_equal(r.uas.active, 0);
	/* Same seed, same run. */
	run_scenario(&sc, &again);
	assert_memory_equal(&r.uac, &again.uac, offsetof(struct uac_stats, pdd));
	assert_int_equal(r.end_ns, again.end_ns);
}

static void test_calls_rejected_lossy(void **state)
{
	struct result r;
	run_scenario(&(struct scenario){.answer_ppm = 0, .drop_every = 3}, &r);
	assert_int_equal(r.uac.failed_code[UAC_CODE_486], 100);
	assert_int_equal(r.uac.timeouts, 0);
	assert_int_equal(r.uac.active, 0);
	assert_int_equal(r.uas.active, 0);
	/* Each 486's first copy is lost (third datagram of the UAS's flow), so
	 * every reject arrived through a timer G retransmission. */
	assert_true(r.uas.retransmits >= 100);
	assert_int_equal(r.uac.acks, 100);
	assert_int_equal(r.uas.acks, 100);
}

static void test_calls_cancelled(void **state)
{
	struct result r;
	/* The UAS never answers; the UAC cancels after 3 s of ringing. */
	run_scenario(&(struct scenario){.noanswer_ppm = 1000000, .osip_all = true, .ring_timeout_ns = 3 * SY_NS_PER_S},
		     &r);
	assert_int_equal(r.uac.failed_code[UAC_CODE_487], 100);
	assert_int_equal(r.uas.cancelled, 100);
	assert_int_equal(r.uas.rejected_code[487], 100);
	assert_int_equal(r.uac.active, 0);
	assert_int_equal(r.uas.active, 0);
	assert_int_equal(r.uac.pdd.count, 100);
}

static void test_calls_overload(void **state)
{
	struct result r;
	/* Capacity 10 with ~70 calls up at once: the rest get 503 at once. */
	run_scenario(&(struct scenario){.answer_ppm = 1000000, .uas_capacity = 10}, &r);
	assert_true(r.uac.failed_code[UAC_CODE_503] > 0);
	assert_int_equal(r.uac.failed_code[UAC_CODE_503], r.uas.overload);
	assert_int_equal(r.uac.answered + r.uac.failed, 100);
	assert_int_equal(r.uac.completed, r.uac.answered);
	assert_int_equal(r.uas.active, 0);
}

int main(void)
{
	parser_init();
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_scan_valid),	     cmocka_unit_test(test_scan_details),
	    cmocka_unit_test(test_scan_malformed),   cmocka_unit_test(test_scan_garbage),
	    cmocka_unit_test(test_build_roundtrip),  cmocka_unit_test(test_build_ack_bye_cancel),
	    cmocka_unit_test(test_calls_answered),   cmocka_unit_test(test_calls_rejected),
	    cmocka_unit_test(test_calls_lossy),	     cmocka_unit_test(test_calls_rejected_lossy),
	    cmocka_unit_test(test_calls_cancelled),  cmocka_unit_test(test_calls_overload),
	    cmocka_unit_test(test_uas_long_headers),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
