/* sip_msg_fuzz.c: libFuzzer harness on the SIP message layer
 * (core/sip/msg.c, on libosip2) and on what the switch reads from a
 * message: each input is parsed with sip_msg_parse() and the builders the
 * stack and the B2BUA use on a received message run on it; then the input,
 * split into datagrams at NUL bytes, goes into a fresh B2BUA on the test
 * env (requests from a caller, responses from a carrier; see expand() for
 * how an input answers the switch's own branches and tags), whose
 * transaction layer, dialogs and routing read it as a live switch would,
 * and every timer is run out. Built by `make fuzz`; the corpus replays in
 * `make test` (tests/it_fuzz_corpus.sh). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/sip/b2bua.h"
#include "core/sip/msg.h"
#include "core/sip/wire.h"
#include "tests/testenv.h"

#define FUZZ_DGRAMS_MAX 8

static void fuzz_builders(const struct sip_msg *msg, enum sy_rc rc)
{
	osip_message_t *m = msg->m, *resp = NULL, *out = NULL;
	struct sy_addr from = sy_addr_v4(198, 51, 100, 7, 5062), dest;
	char *buf;
	size_t len;
	if (msg->status == 0 && sip_response_build(m, 400, NULL, "f00d", &resp) == SY_OK) {
		if (sip_msg_to_buf(resp, &buf, &len) == SY_OK)
			osip_free(buf);
		sip_response_dest(resp, &from, &dest);
	}
	if (rc == SY_OK && msg->status == 0 && msg->method == SIP_M_INVITE) {
		if (sip_cancel_build(m, &out) == SY_OK)
			osip_message_free(out);
		if (resp != NULL && sip_ack_build(m, resp, &out) == SY_OK)
			osip_message_free(out);
	}
	if (resp != NULL)
		osip_message_free(resp);
	if (msg->status == 0)
		(void)sip_via_fix_received(m, &from);
	if (sip_msg_to_buf(m, &buf, &len) == SY_OK)
		osip_free(buf);
}

/* The stack matches transactions and dialogs on what osip parsed but
 * copies headers into its replies with the raw scanner (wire.h): both must
 * see the same Call-ID, or a reply would name another call. (The top Via
 * branch is not compared: osip keeps "branch=z9hG4bK1 x" whole, the raw
 * scanner stops at the space, and only the switch's own branches, which
 * have no spaces, are ever read raw.) */
static void check_raw_agrees(const struct sip_msg *msg)
{
	struct sy_str v;
	SY_ASSERT(sip_raw_find(msg->raw, SIP_H_CALL_ID, &v));
	SY_ASSERT(sy_str_eq(v, msg->call_id));
	/* Likewise whether To has a tag: osip's answer decides new call or
	 * in-dialog request, the raw one whether a reply adds our tag. */
	SY_ASSERT(sip_raw_find(msg->raw, SIP_H_TO, &v));
	SY_ASSERT(sip_raw_has_tag(v) == (msg->to_tag.len > 0));
}

/* The B2BUA's raw read of plain 1xx/2xx (sip_msg_parse_fast) takes only
 * what osip takes, and reads every field as osip does. */
static void check_fast_agrees(const uint8_t *data, size_t size, enum sy_rc rc, const struct sip_msg *o)
{
	struct sip_msg f;
	char err[96];
	if (rc == SY_ERR_FULL) /* osip's pool at its bound: the raw read needs none */
		return;
	enum sy_rc rf = sip_msg_parse_fast(data, size, &f, err, sizeof(err));
	if (rf != SY_OK || f.m != NULL) {
		SY_ASSERT(rf == rc);
		sip_msg_free(&f);
		return;
	}
	SY_ASSERT(rc == SY_OK && f.status == o->status && f.method == o->method && f.cseq == o->cseq);
	SY_ASSERT(f.max_forwards == o->max_forwards && sy_str_eq(f.branch, o->branch));
	SY_ASSERT(sy_str_eq(f.call_id, o->call_id) && sy_str_eq(f.from_tag, o->from_tag));
	SY_ASSERT(sy_str_eq(f.to_tag, o->to_tag));
	SY_ASSERT(sy_str_eq(f.via_host, o->via_host) && sy_str_eq(f.via_port, o->via_port));
	SY_ASSERT((f.via_port.p == NULL) == (o->via_port.p == NULL));
}

static void fuzz_parse(const uint8_t *data, size_t size)
{
	struct sip_msg msg;
	char err[96];
	enum sy_rc rc = sip_msg_parse(data, size, &msg, err, sizeof(err));
	SY_ASSERT(memchr(err, '\0', sizeof(err)) != NULL);
	check_fast_agrees(data, size, rc, &msg);
	if (rc == SY_ERR_PARSE || rc == SY_ERR_FULL) { /* FULL: osip's pool at its bound */
		SY_ASSERT(msg.m == NULL);
		return;
	}
	SY_ASSERT(msg.m != NULL && (rc == SY_OK || rc == SY_ERR_INVAL));
	if (rc == SY_OK) /* what the transaction layer keys on is there */
		SY_ASSERT(msg.call_id.len > 0 && (msg.status == 0 || (msg.status >= 100 && msg.status <= 699)));
	if (rc == SY_OK)
		check_raw_agrees(&msg);
	fuzz_builders(&msg, rc);
	sip_msg_free(&msg);
}

static uint32_t route_all(void *arg, struct sy_str number, uint16_t *ids, uint32_t max)
{
	uint32_t n = SY_MIN(max, 2u);
	for (uint32_t i = 0; i < n; i++)
		ids[i] = (uint16_t)i;
	return n;
}

/* The last datagram the switch sent to `to`, or an empty slice. */
static struct sy_str last_sent_to(const struct testenv *te, const struct sy_addr *to)
{
	for (size_t i = testenv_sent_count(te); i-- > 0;) {
		const struct testenv_sent *d = testenv_sent(te, i);
		if (sy_addr_eq(&d->to, to))
			return (struct sy_str){(const char *)d->buf, d->len};
	}
	return SY_STR_NULL;
}

/* The carrier the switch last sent something to (the first one before). */
static const struct sy_addr *last_carrier(const struct testenv *te, const struct b2bua_carrier *car)
{
	for (size_t i = testenv_sent_count(te); i-- > 0;) {
		const struct testenv_sent *d = testenv_sent(te, i);
		for (int k = 0; k < 2; k++)
			if (sy_addr_eq(&d->to, &car[k].addr))
				return &car[k].addr;
	}
	return &car[0].addr;
}

/* A peer cannot guess the branch, tags and Call-ID the switch made up, and
 * neither can the fuzzer: "$VIA", "$FROM", "$TO", "$CALLID" and "$CSEQ" in
 * a datagram stand for that header's value in the last message the switch
 * sent to the peer it comes from, so a seed can answer the switch's INVITE,
 * ACK its 200 and send BYE in its dialog. Returns a malloc'd copy. */
static uint8_t *expand(struct sy_str in, struct sy_str last, size_t *len)
{
	static const struct {
		const char *tok;
		enum sip_hdr id;
	} subs[] = {{"$VIA", SIP_H_VIA},
		    {"$FROM", SIP_H_FROM},
		    {"$TO", SIP_H_TO},
		    {"$CALLID", SIP_H_CALL_ID},
		    {"$CSEQ", SIP_H_CSEQ}};
	size_t cap = in.len + 5 * last.len + 1, n = 0;
	uint8_t *out = malloc(cap);
	for (size_t i = 0; i < in.len;) {
		size_t k = 0;
		while (k < SY_ARRAY_LEN(subs) &&
		       !(in.len - i >= strlen(subs[k].tok) && memcmp(in.p + i, subs[k].tok, strlen(subs[k].tok)) == 0))
			k++;
		struct sy_str v;
		if (k < SY_ARRAY_LEN(subs) && sip_raw_find(last, subs[k].id, &v) && n + v.len <= cap) {
			memcpy(out + n, v.p, v.len);
			n += v.len;
			i += strlen(subs[k].tok);
			continue;
		}
		out[n++] = (uint8_t)in.p[i++];
	}
	*len = n;
	return out;
}

static void fuzz_switch(const uint8_t *data, size_t size)
{
	static struct testenv te;
	struct b2bua_carrier car[2] = {{.name = "c1", .addr = sy_addr_v4(10, 0, 1, 1, 5060), .capacity = 4},
				       {.name = "c2", .addr = sy_addr_v4(10, 0, 1, 2, 5060)}};
	struct sy_addr caller = sy_addr_v4(10, 0, 0, 100, 5060);
	struct b2bua_cfg cfg = {
	    .env = &te.env,
	    .listen = sy_addr_v4(10, 0, 0, 1, 5060),
	    .calls_max = 4,
	    .txn_max = 16,
	    .timers = {.t1_ns = 500 * SY_NS_PER_MS, .t2_ns = 4 * SY_NS_PER_S, .t4_ns = 5 * SY_NS_PER_S},
	    .carriers = car,
	    .carriers_n = 2,
	    .route = route_all,
	    .failover = true,
	    .invite_timeout_ns = 3 * SY_NS_PER_S,
	    .ring_timeout_ns = 60 * SY_NS_PER_S,
	    .max_call_ns = 120 * SY_NS_PER_S};
	struct b2bua *b;
	testenv_init(&te, 7);
	SY_ASSERT(b2bua_create(&cfg, &b) == SY_OK);
	struct sy_dgram *sock = (struct sy_dgram *)&te.socks[te.nsocks - 1];
	size_t at = 0;
	for (int i = 0; i < FUZZ_DGRAMS_MAX && at < size; i++) {
		const uint8_t *nul = memchr(data + at, '\0', size - at);
		struct sy_str dg = {(const char *)data + at, nul != NULL ? (size_t)(nul - (data + at)) : size - at};
		at += dg.len + 1;
		/* '>' first: from the carrier side, '<': from the caller;
		 * otherwise responses come from the carrier, requests from
		 * the caller. The carrier is the one last sent a request. */
		bool from_car = dg.len >= 4 && memcmp(dg.p, "SIP/", 4) == 0;
		if (dg.len > 0 && (dg.p[0] == '>' || dg.p[0] == '<')) {
			from_car = dg.p[0] == '>';
			dg.p++, dg.len--;
		}
		const struct sy_addr *from = from_car ? last_carrier(&te, car) : &caller;
		/* The stack keeps the bytes of a request it answers; an
		 * exact-size copy lets ASan see any read past them. */
		size_t len;
		uint8_t *bytes = expand(dg, last_sent_to(&te, from), &len);
		testenv_inject(&te, sock, from, bytes, len);
		free(bytes);
		testenv_advance(&te, 100 * SY_NS_PER_MS);
	}
	/* Run every timer out: retransmissions, timeouts, dialog ends. */
	for (int i = 0; i < 8 && testenv_timers_pending(&te) > 0; i++)
		testenv_advance(&te, 70 * SY_NS_PER_S);
	if (getenv("FUZZ_TRACE") != NULL) /* what the switch sent */
		for (size_t i = 0; i < testenv_sent_count(&te); i++) {
			const struct testenv_sent *d = testenv_sent(&te, i);
			fprintf(stderr, "---- sent to %u.%u\n%.*s", d->to.port, (unsigned)i, (int)d->len,
				(const char *)d->buf);
		}
	b2bua_hangup_all(b);
	for (int i = 0; i < 8 && testenv_timers_pending(&te) > 0; i++)
		testenv_advance(&te, 70 * SY_NS_PER_S);
	b2bua_destroy(b);
	testenv_free(&te);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static bool init;
	if (!init) {
		sip_global_init();
		init = true;
	}
	uint8_t *copy = malloc(size ? size : 1);
	memcpy(copy, data, size);
	fuzz_parse(copy, size);
	free(copy);
	fuzz_switch(data, size);
	return 0;
}
