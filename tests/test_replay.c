/* test_replay.c: replaying captured dialogs (peers/replay*.c): the
 * rewriting of captured text, pacing and gap clamping, and a replayed
 * caller against a replayed callee on the test env (a tiny pump carries
 * the datagrams between their sockets), matching, diverging and timing
 * out. The flows are built by hand (core/pcap/flows.h), from the text of
 * pcaps/sip_ipv6_udp.pcap and of a call shaped like pcaps/sip_ipv4_tcp.pcap. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>

#include <cmocka.h>

#include "core/sip/wire.h"
#include "peers/replay.h"
#include "peers/world.h"
#include "tests/testenv.h"

/* ---- hand-built flows ---- */

#define V6_CALLER "fe80:0:0:0:21a:a0ff:fe07:32e0"
#define V6_CALLEE "fec0:0:0:0:216:d3ff:fe0d:22c"
#define HDRS(meth, cseq, totag)                                                                                        \
	"Call-ID: c3eF6f58@" V6_CALLER "\r\n"                                                                          \
	"Contact: <sip:9876@" V6_CALLER ":5060>\r\n"                                                                   \
	"CSeq: " cseq " " meth "\r\n"                                                                                  \
	"From: <sip:9876@" V6_CALLER ">;tag=a3bhg\r\n"                                                                 \
	"To: <sip:4321@" V6_CALLEE ">" totag "\r\n"                                                                    \
	"Via: SIP/2.0/UDP " V6_CALLER ":5060;branch=z9hG4bKkdjuw8376\r\n"                                              \
	"Max-Forwards: 70\r\n"
#define SDP_V6(who)                                                                                                    \
	"v=0\r\no=Valid8 8521 32 IN IP6 " who "\r\ns=SIP-Call\r\nc=IN IP6 " who                                        \
	"\r\nt=0 0\r\nm=audio 5008 RTP/AVP 0\r\n"

static const char v6_invite[] = "INVITE sip:4321@" V6_CALLEE ":5060 SIP/2.0\r\n" HDRS(
    "INVITE", "1", "") "Authorization: Digest username=\"x\"\r\n"
		       "Content-Type: application/sdp\r\nContent-Length: 143\r\n\r\n" SDP_V6(V6_CALLER);
static const char v6_200[] =
    "SIP/2.0 200 OK\r\n" HDRS("INVITE", "1", ";tag=b7") "Content-Type: application/sdp\r\n"
							"Content-Length: 141\r\n\r\n" SDP_V6(V6_CALLEE);
static const char v6_ack[] =
    "ACK sip:4321@" V6_CALLEE " SIP/2.0\r\n" HDRS("ACK", "1", ";tag=b7") "Content-Length: 0\r\n\r\n";
static const char v6_bye[] =
    "BYE sip:4321@" V6_CALLEE " SIP/2.0\r\n" HDRS("BYE", "2", ";tag=b7") "Content-Length: 0\r\n\r\n";
static const char v6_bye200[] = "SIP/2.0 200 OK\r\n" HDRS("BYE", "2", ";tag=b7") "Content-Length: 0\r\n\r\n";
static const char v6_100[] = "SIP/2.0 100 Trying\r\n" HDRS("INVITE", "1", "") "Content-Length: 0\r\n\r\n";

struct hmsg {
	uint64_t at_ms;
	uint8_t from;
	const char *text;
	uint32_t txn;
};

struct hflows {
	struct pcap_flows f;
	struct pcap_dialog d;
	struct pcap_sip msgs[8];
	struct pcap_sip_txn txns[4];
};

static void set_method(char *dst, const char *text, bool request)
{
	const char *p = request ? text : strstr(text, "CSeq: ") + 6;
	while (!request && *p >= '0' && *p <= '9')
		p++;
	p += !request;
	size_t n = strcspn(p, " \r");
	snprintf(dst, 16, "%.*s", (int)n, p);
}

/* One dialog; codes of a txn come from its last final response. */
static void hflows_build(struct hflows *h, const struct hmsg *m, uint32_t n, uint32_t txn_n)
{
	memset(h, 0, sizeof(*h));
	struct pcap_dialog *d = &h->d;
	for (uint32_t i = 0; i < n; i++) {
		struct pcap_sip *s = &h->msgs[i];
		s->at_ns = m[i].at_ms * SY_NS_PER_MS;
		s->from = m[i].from;
		s->request = strncmp(m[i].text, "SIP/2.0", 7) != 0;
		s->code = s->request ? 0 : (uint16_t)atoi(m[i].text + 8);
		s->cseq = (uint32_t)atoi(strstr(m[i].text, "CSeq: ") + 6);
		s->txn = m[i].txn;
		set_method(s->method, m[i].text, s->request);
		s->text = (const uint8_t *)m[i].text;
		s->len = strlen(m[i].text);
		struct pcap_sip_txn *t = &h->txns[s->txn];
		if (s->request) {
			t->from = s->from;
			t->cseq = s->cseq;
			memcpy(t->method, s->method, sizeof(t->method));
		} else if (s->code >= 200) {
			t->final_code = s->code;
		}
	}
	d->call_id = "c3eF6f58";
	d->from_user = "9876";
	d->to_user = "4321";
	d->method = "INVITE";
	assert_int_equal(sy_addr_parse("[" V6_CALLER "]:5060", 0, &d->caller), SY_OK);
	assert_int_equal(sy_addr_parse("[" V6_CALLEE "]:5060", 0, &d->callee), SY_OK);
	d->msgs = h->msgs;
	d->msg_n = n;
	d->txns = h->txns;
	d->txn_n = txn_n;
	d->duration_ns = h->msgs[n - 1].at_ns;
	d->complete = true;
	h->f.dialogs = d;
	h->f.dialog_n = 1;
}

/* The IPv6 capture's dialog: INVITE 100 200 ACK, the caller's BYE, 200;
 * gaps of years in the capture become 3 s, 1 ms... here. */
static void v6_dialog(struct hflows *h, const char *final)
{
	const struct hmsg m[] = {
	    {0, PCAP_SIDE_CALLER, v6_invite, 0}, {5, PCAP_SIDE_CALLEE, v6_100, 0},
	    {3000, PCAP_SIDE_CALLEE, final, 0},	 {3020, PCAP_SIDE_CALLER, v6_ack, 1},
	    {8000, PCAP_SIDE_CALLER, v6_bye, 2}, {8010, PCAP_SIDE_CALLEE, v6_bye200, 2},
	};
	hflows_build(h, m, 6, 3);
}

/* ---- rewriting ---- */

static void test_rw_uri(void **state)
{
	char out[256];
	size_t n = replay_rw_uri(SY_STR("sip:201@10.33.6.101;user=phone"), SY_STR("10.0.0.1:5060"), out, sizeof(out));
	assert_string_equal((out[n] = 0, out), "sip:201@10.0.0.1:5060;user=phone");
	n = replay_rw_uri(SY_STR("sip:201@10.33.6.101:5060;transport=tcp;lr"), SY_STR("h:1"), out, sizeof(out));
	assert_string_equal((out[n] = 0, out), "sip:201@h:1;lr");
	n = replay_rw_uri(SY_STR("sip:4321@" V6_CALLEE ":5060"), SY_STR("[::1]:5070"), out, sizeof(out));
	assert_string_equal((out[n] = 0, out), "sip:4321@[::1]:5070");
	n = replay_rw_uri(SY_STR("sips:bestel.com"), SY_STR("1.2.3.4:5"), out, sizeof(out));
	assert_string_equal((out[n] = 0, out), "sip:1.2.3.4:5");
	assert_int_equal(replay_rw_uri(SY_STR("tel:+1555"), SY_STR("h"), out, sizeof(out)), 0);
}

static size_t rw_v6_invite(char *out, size_t cap, const struct sy_addr *caller)
{
	static const struct sy_str routes[] = {SY_STR("<sip:10.0.0.9;lr>")};
	struct replay_rw rw = {
	    .ruri = SY_STR("sip:4321@10.0.0.1:5060"),
	    .via_host = SY_STR("10.0.5.1:5060"),
	    .branch = SY_STR("z9hG4bK-rp-7-0"),
	    .call_id = SY_STR("7-3@rp"),
	    .from_tag = SY_STR("rf7"),
	    .from_host = SY_STR("10.0.5.1:5060"),
	    .to_host = SY_STR("10.0.0.1:5060"),
	    .contact_host = SY_STR("10.0.5.1:5060"),
	    .routes = routes,
	    .route_n = 1,
	    .sdp_from = caller,
	    .sdp_to = "10.0.5.1",
	};
	return replay_rw_request(SY_STR(v6_invite), &rw, out, cap);
}

static void test_rw_request(void **state)
{
	char out[4096];
	struct sy_addr caller;
	assert_int_equal(sy_addr_parse("[" V6_CALLER "]:5060", 0, &caller), SY_OK);
	size_t n = rw_v6_invite(out, sizeof(out), &caller);
	assert_true(n > 0);
	out[n] = '\0';
	struct sip_ua_msg m;
	assert_int_equal(sip_ua_parse(out, n, &m), SY_OK); /* Content-Length matches the new body */
	assert_int_equal(m.via_n, 1);
	assert_true(sy_str_eq(m.via[0], SY_STR("SIP/2.0/UDP 10.0.5.1:5060;branch=z9hG4bK-rp-7-0;rport")));
	assert_true(sy_str_eq(m.ruri, SY_STR("sip:4321@10.0.0.1:5060")));
	assert_true(sy_str_eq(m.call_id, SY_STR("7-3@rp")));
	assert_true(sy_str_eq(m.from_tag, SY_STR("rf7")));
	assert_int_equal(m.to_tag.len, 0);
	assert_true(sy_str_eq(m.from, SY_STR("<sip:9876@10.0.5.1:5060>;tag=rf7")));
	assert_true(sy_str_eq(m.to, SY_STR("<sip:4321@10.0.0.1:5060>")));
	assert_true(sy_str_eq(m.contact_uri, SY_STR("sip:9876@10.0.5.1:5060")));
	assert_int_equal(m.cseq, 1);
	assert_int_equal(m.content_length, m.body.len);
	assert_non_null(strstr(out, "c=IN IP4 10.0.5.1\r\n"));
	assert_non_null(strstr(out, "o=Valid8 8521 32 IN IP4 10.0.5.1\r\n"));
	assert_non_null(strstr(out, "Route: <sip:10.0.0.9;lr>\r\n"));
	assert_non_null(strstr(out, "Max-Forwards: 70\r\n"));
	assert_null(strstr(out, V6_CALLER)); /* no trace of the capture's caller left */
	assert_null(strstr(out, "Authorization"));
	/* an SDP address that is not the capture's caller is kept */
	struct sy_addr other = sy_addr_v4(192, 0, 2, 1, 0);
	n = rw_v6_invite(out, sizeof(out), &other);
	out[n] = '\0';
	assert_non_null(strstr(out, "c=IN IP6 " V6_CALLER "\r\n"));
	assert_int_equal(rw_v6_invite(out, 200, &caller), 0); /* does not fit: nothing */
}

/* ---- pacing ---- */

static void test_pacing(void **state)
{
	struct hflows h;
	v6_dialog(&h, v6_200);
	struct replay_cfg cfg = {.flows = &h.f};
	bool cl;
	uint64_t years = 200000000ull * SY_NS_PER_S;
	assert_int_equal(replay_gap(&cfg, years, &cl), REPLAY_MAX_GAP_NS);
	assert_true(cl);
	assert_int_equal(replay_gap(&cfg, 2 * SY_NS_PER_S, &cl), 2 * SY_NS_PER_S);
	assert_false(cl);
	cfg.max_gap_ns = SY_NS_PER_S;
	assert_int_equal(replay_gap(&cfg, 2 * SY_NS_PER_S, &cl), SY_NS_PER_S);
	cfg = (struct replay_cfg){.flows = &h.f, .pace = REPLAY_PACE_FACTOR, .factor_milli = 10000};
	assert_int_equal(replay_gap(&cfg, 3 * SY_NS_PER_S, &cl), 300 * SY_NS_PER_MS);
	cfg = (struct replay_cfg){.flows = &h.f, .pace = REPLAY_PACE_RATE, .rate_milli = 2000000, .loop = 20000};
	uint64_t offs[2];
	replay_offsets(&cfg, offs);
	assert_int_equal(replay_total(&cfg), 20000);
	assert_int_equal(replay_start_at(&cfg, offs, 2000), SY_NS_PER_S);
	assert_int_equal(replay_start_at(&cfg, offs, 1), SY_NS_PER_S / 2000);
	cfg.limit = 5;
	assert_int_equal(replay_total(&cfg), 5);
	/* original: each pass starts when the last one's dialog has ended */
	cfg = (struct replay_cfg){.flows = &h.f, .loop = 3};
	replay_offsets(&cfg, offs);
	assert_int_equal(offs[0], 0);
	assert_int_equal(replay_start_at(&cfg, offs, 2), 2 * (5 * SY_NS_PER_S + SY_NS_PER_MS)); /* 8 s cut to 5 s */
}

/* ---- a replayed caller against a replayed callee ---- */

static void pump(struct testenv *te, size_t *done)
{
	while (*done < testenv_sent_count(te)) {
		const struct testenv_sent *d = testenv_sent(te, (*done)++);
		for (uint32_t i = 0; i < te->nsocks; i++)
			if (te->socks[i].open && sy_addr_eq(&te->socks[i].local, &d->to))
				testenv_inject(te, (struct sy_dgram *)&te->socks[i], &d->from, d->buf, d->len);
	}
}

static void run(struct testenv *te, uint64_t for_ns)
{
	size_t done = 0;
	for (uint64_t t = 0; t < for_ns; t += SY_NS_PER_MS) {
		pump(te, &done);
		testenv_advance(te, SY_NS_PER_MS);
	}
	pump(te, &done);
}

struct pair {
	struct testenv te;
	struct replay_uac *u;
	struct replay_uas *s;
};

static void pair_run(struct pair *p, const struct pcap_flows *callers, const struct pcap_flows *callees, uint32_t loop,
		     bool carrier_up)
{
	testenv_init(&p->te, 7);
	struct replay_cfg sc = {.flows = callees, .local = sy_addr_v4(10, 0, 1, 1, 5060)};
	struct replay_cfg cc = {.flows = callers,
				.local = sy_addr_v4(10, 0, 3, 1, 5060),
				.target = sc.local,
				.pace = REPLAY_PACE_RATE,
				.rate_milli = 100000,
				.loop = loop};
	p->s = NULL;
	if (carrier_up)
		assert_int_equal(replay_uas_create(&p->te.env, &sc, &p->s), SY_OK);
	assert_int_equal(replay_uac_create(&p->te.env, &cc, &p->u), SY_OK);
	replay_uac_start(p->u);
	run(&p->te, 60 * SY_NS_PER_S);
	assert_true(replay_uac_done(p->u));
}

static void pair_free(struct pair *p)
{
	replay_uac_destroy(p->u);
	replay_uas_destroy(p->s);
	testenv_free(&p->te);
}

static void test_replay_matches(void **state)
{
	struct hflows h;
	v6_dialog(&h, v6_200);
	struct pair p;
	pair_run(&p, &h.f, &h.f, 10, true);
	const struct replay_stats *st = replay_uac_stats(p.u);
	assert_int_equal(st->dialogs, 10);
	assert_int_equal(st->completed, 10);
	assert_int_equal(st->matching, 10);
	assert_int_equal(st->divergent, 0);
	assert_int_equal(st->failed, 0);
	assert_int_equal(st->requests, 30); /* INVITE, ACK, BYE each */
	assert_int_equal(replay_uas_stats(p.s)->completed, 10);
	assert_int_equal(replay_uas_stats(p.s)->active, 0);
	/* the copies ran at once: every Call-ID and From tag differs */
	char seen[16][64];
	uint32_t n = 0;
	for (size_t i = 0; i < testenv_sent_count(&p.te) && n < 16; i++) {
		const struct testenv_sent *d = testenv_sent(&p.te, i);
		if (strncmp((const char *)d->buf, "INVITE ", 7) != 0)
			continue;
		struct sip_ua_msg m;
		assert_int_equal(sip_ua_parse((const char *)d->buf, d->len, &m), SY_OK);
		snprintf(seen[n], sizeof(seen[n]), "%.*s", (int)m.call_id.len, m.call_id.p);
		for (uint32_t k = 0; k < n; k++)
			assert_string_not_equal(seen[k], seen[n]);
		n++;
	}
	assert_int_equal(n, 10);
	pair_free(&p);
}

static void test_replay_diverges(void **state)
{
	static const char busy[] =
	    "SIP/2.0 486 Busy Here\r\n" HDRS("INVITE", "1", ";tag=b7") "Content-Length: 0\r\n\r\n";
	struct hflows callers, callees;
	v6_dialog(&callers, v6_200);
	const struct hmsg m[] = {{0, PCAP_SIDE_CALLER, v6_invite, 0}, {300, PCAP_SIDE_CALLEE, busy, 0}};
	hflows_build(&callees, m, 2, 1);
	struct pair p;
	pair_run(&p, &callers.f, &callees.f, 2, true);
	const struct replay_stats *st = replay_uac_stats(p.u);
	assert_int_equal(st->dialogs, 2);
	assert_int_equal(st->divergent, 2);
	assert_int_equal(st->matching, 0);
	assert_int_equal(st->failed, 0);
	assert_int_equal(st->div_n, 2);
	assert_string_equal(st->div[0].want, "INVITE 200, BYE 200");
	assert_string_equal(st->div[0].got, "INVITE 486, BYE -");
	assert_string_equal(st->div[0].call_id, "c3eF6f58");
	assert_int_equal(replay_uas_stats(p.s)->completed, 2); /* the 486 was ACKed */
	pair_free(&p);
}

static void test_replay_times_out(void **state)
{
	struct hflows h;
	v6_dialog(&h, v6_200);
	struct pair p;
	pair_run(&p, &h.f, &h.f, 1, false);
	const struct replay_stats *st = replay_uac_stats(p.u);
	assert_int_equal(st->dialogs, 1);
	assert_int_equal(st->failed, 1);
	assert_int_equal(st->completed, 0);
	assert_true(st->retransmits >= 6); /* timer A: 0.5 1 2 4 8 16 s */
	assert_string_equal(st->div[0].got, "INVITE -, BYE - (timeout)");
	pair_free(&p);
}

/* The capture ends while the INVITE rings: the copy CANCELs it, the
 * callee answers 487, the copy (gone) ACKs it; both sides end. */
static void test_replay_cancels_open_invite(void **state)
{
	static const char ringing[] =
	    "SIP/2.0 180 Ringing\r\n" HDRS("INVITE", "1", ";tag=b7") "Content-Length: 0\r\n\r\n";
	struct hflows h;
	const struct hmsg m[] = {
	    {0, PCAP_SIDE_CALLER, v6_invite, 0}, {5, PCAP_SIDE_CALLEE, v6_100, 0}, {40, PCAP_SIDE_CALLEE, ringing, 0}};
	hflows_build(&h, m, 3, 1);
	h.txns[0].final_code = 0;
	struct pair p;
	pair_run(&p, &h.f, &h.f, 3, true);
	const struct replay_stats *st = replay_uac_stats(p.u);
	assert_int_equal(st->matching, 3); /* INVITE - as captured */
	assert_int_equal(st->failed, 0);
	const struct replay_stats *ss = replay_uas_stats(p.s);
	assert_int_equal(ss->completed, 3);
	assert_int_equal(ss->active, 0);
	size_t cancels = 0, acks = 0;
	for (size_t i = 0; i < testenv_sent_count(&p.te); i++) {
		const char *b = (const char *)testenv_sent(&p.te, i)->buf;
		cancels += strncmp(b, "CANCEL ", 7) == 0;
		acks += strncmp(b, "ACK ", 4) == 0;
	}
	assert_int_equal(cancels, 3);
	assert_int_equal(acks, 3);
	pair_free(&p);
}

/* ---- [replay] sections ---- */

static void parse_err(const char *text, const char *want)
{
	struct world *w = NULL;
	char err[512];
	assert_int_equal(world_parse_buf(text, strlen(text), "sc/r.scn", NULL, 0, &w, err, sizeof(err)), SY_ERR_PARSE);
	if (strstr(err, want) == NULL)
		fail_msg("error '%s' does not say '%s'", err, want);
}

static void test_section(void **state)
{
	static const char text[] = "[run]\nduration = 1s\n[carrier c]\nprefixes = 1\n"
				   "[replay]\npcap = x.pcap\npace = 2000/s\nloop = 10\nlimit = 7\nmax_gap = 1s\n"
				   "[replay c]\npcap = /abs/y.pcap\nrole = carriers\npace = x2.5\nkey = round-robin\n"
				   "carrier = c\nfilter = udp port 5060\n";
	struct world *w = NULL;
	char err[512];
	assert_int_equal(world_parse_buf(text, sizeof(text) - 1, "sc/r.scn", NULL, 0, &w, err, sizeof(err)), SY_OK);
	assert_int_equal(w->replay_n, 2);
	assert_string_equal(w->replays[0].pcap, "sc/x.pcap"); /* relative to the scenario's folder */
	struct replay_cfg c;
	world_replay_cfg(&w->replays[0], &c);
	assert_int_equal(c.pace, REPLAY_PACE_RATE);
	assert_int_equal(c.rate_milli, 2000000);
	assert_int_equal(c.loop, 10);
	assert_int_equal(c.limit, 7);
	assert_int_equal(c.max_gap_ns, SY_NS_PER_S);
	assert_int_equal(w->replays[1].role, WORLD_REPLAY_CARRIERS);
	assert_string_equal(w->replays[1].pcap, "/abs/y.pcap");
	assert_string_equal(w->replays[1].filter, "udp port 5060");
	world_replay_cfg(&w->replays[1], &c);
	assert_int_equal(c.pace, REPLAY_PACE_FACTOR);
	assert_int_equal(c.factor_milli, 2500);
	assert_int_equal(c.key, REPLAY_KEY_ROUND_ROBIN);
	assert_int_equal(c.max_gap_ns, REPLAY_MAX_GAP_NS);
	world_free(w);
	parse_err("[replay]\nrole = callers\n", "pcap");
	parse_err("[replay]\npcap = a\npace = fast\n", "r.scn:3: bad pace 'fast'");
	parse_err("[replay]\npcap = a\nrole = both\n", "bad role");
	parse_err("[replay]\npcap = a\nkey = name\n", "bad key");
	parse_err("[replay]\npcap = a\nrole = carriers\ncarrier = nope\n", "r.scn:4: no [carrier nope]");
	parse_err("[replay]\npcap = a\ncarrier = nope\n", "role = carriers");
	parse_err("[replay]\npcap = a\nmax_gap = 0s\n", "max_gap");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_rw_uri),
	    cmocka_unit_test(test_rw_request),
	    cmocka_unit_test(test_pacing),
	    cmocka_unit_test(test_replay_matches),
	    cmocka_unit_test(test_replay_diverges),
	    cmocka_unit_test(test_replay_times_out),
	    cmocka_unit_test(test_replay_cancels_open_invite),
	    cmocka_unit_test(test_section),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
