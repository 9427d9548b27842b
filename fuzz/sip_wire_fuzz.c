/* sip_wire_fuzz.c: libFuzzer harness on the raw SIP scanner and the
 * builders that copy from a received message (core/sip/wire.c). The switch
 * runs them only on what osip accepted, but wire.h promises they never read
 * outside the message on any input, so they get raw bytes here. Every slice
 * they return must lie inside the input; every builder must stay inside its
 * buffer or say `over`. Built by `make fuzz`; the corpus replays in
 * `make test` (tests/it_fuzz_corpus.sh). The peers' whole-datagram scan
 * (sip_ua_parse, wire_ua.c) sits on the same line scanner and gets the same
 * bytes; a message it accepts must rebuild into one it accepts again. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/sip/wire.h"

static void check_in(struct sy_str msg, struct sy_str s)
{
	if (s.len == 0)
		return;
	SY_ASSERT(s.p >= msg.p && s.len <= msg.len && s.p + s.len <= msg.p + msg.len);
}

/* What the B2BUA and the transaction layer read from one header value. */
static void fuzz_value(struct sy_str msg, const struct sip_raw_hdr *h)
{
	check_in(msg, h->name);
	check_in(msg, h->value);
	check_in(msg, sip_raw_uri_of(h->value));
	(void)sip_raw_has_tag(h->value);
	struct sy_str top = sip_raw_top_via(h->value);
	check_in(msg, top);
	check_in(msg, sip_raw_via_branch(top));
}

static void fuzz_builders(struct sy_str msg, const struct sy_addr *from)
{
	static char out[2 * 65536 + 512];
	struct sip_wbuf w;
	struct sy_str to = SY_STR_NULL;
	(void)sip_raw_find(msg, SIP_H_TO, &to);
	struct sip_reply r = {.status = 200,
			      .to_tag = SY_STR("a1b2"),
			      .contact = SY_STR("<sip:sw@192.0.2.1>"),
			      .content_type = SY_STR("application/sdp"),
			      .body = SY_STR("v=0\r\n")};
	sip_w_init(&w, out, sizeof(out));
	sip_raw_response(&w, msg, &r);
	SY_ASSERT(w.len <= w.cap);
	/* A small buffer too: a builder must stop at its end, not after. */
	sip_w_init(&w, out, 64);
	sip_raw_response(&w, msg, &r);
	SY_ASSERT(w.len <= 64);
	sip_w_init(&w, out, sizeof(out));
	sip_raw_cancel_ack(&w, msg, "CANCEL", SY_STR_NULL);
	sip_w_init(&w, out, sizeof(out));
	sip_raw_cancel_ack(&w, msg, "ACK", to);
	SY_ASSERT(w.len <= w.cap);
	size_t n = sip_raw_fix_via(msg, from, out, sizeof(out));
	SY_ASSERT(n == 0 || (n >= msg.len && n <= sizeof(out)));
	(void)sip_raw_fix_via(msg, from, out, msg.len / 2);
}

/* The peers' scan: every slice inside, and a response built from what it
 * read scans again with the same dialog fields. */
static void fuzz_ua(struct sy_str msg)
{
	static char out[2 * 65536 + 512];
	struct sip_ua_msg m, r;
	if (sip_ua_parse(msg.p, msg.len, &m) != SY_OK)
		return;
	SY_ASSERT(m.via_n > 0 && m.via_n <= SIP_UA_VIA_MAX && m.rr_n <= SIP_UA_RR_MAX);
	for (size_t i = 0; i < m.via_n; i++)
		check_in(msg, m.via[i]);
	for (size_t i = 0; i < m.rr_n; i++)
		check_in(msg, m.rr[i]);
	struct sy_str all[] = {m.method, m.ruri,   m.reason,  m.branch,	     m.from,	    m.from_tag,
			       m.to,	 m.to_tag, m.call_id, m.cseq_method, m.contact_uri, m.body};
	for (size_t i = 0; i < SY_ARRAY_LEN(all); i++)
		check_in(msg, all[i]);
	struct sip_ua_resp resp;
	size_t len;
	sip_ua_resp_from_msg(&resp, &m, 200);
	resp.to_tag = SY_STR("fz1");
	if (sip_ua_response(&resp, out, sizeof(out), &len) != SY_OK)
		return;
	SY_ASSERT(sip_ua_parse(out, len, &r) == SY_OK && r.status == 200 && r.cseq == m.cseq);
	SY_ASSERT(r.via_n == m.via_n && sy_str_eq(r.call_id, m.call_id));
}

/* {NULL, 0} is the empty text everywhere in the tree (SY_STR_NULL); every
 * reader must take it without NULL + 0 arithmetic. */
static void fuzz_null_slice(const struct sy_addr *from)
{
	struct sip_raw_hdr h = {.name = SY_STR_NULL, .value = SY_STR_NULL};
	size_t pos = 0;
	SY_ASSERT(!sip_raw_next(SY_STR_NULL, &pos, &h) && pos == 0);
	fuzz_value(SY_STR_NULL, &h);
	struct sy_str ctype, body;
	sip_raw_body(SY_STR_NULL, &ctype, &body);
	SY_ASSERT(ctype.len == 0 && body.len == 0 && sip_raw_start_line(SY_STR_NULL).len == 0);
	fuzz_builders(SY_STR_NULL, from);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* An exact-size copy so ASan sees a read one byte past the end. */
	char *copy = malloc(size ? size : 1);
	memcpy(copy, data, size);
	struct sy_str msg = {copy, size};
	check_in(msg, sip_raw_start_line(msg));
	struct sip_raw_hdr h;
	size_t pos = 0, prev = 0, n = 0;
	while (sip_raw_next(msg, &pos, &h)) {
		SY_ASSERT(pos > prev && pos <= size); /* progress, inside */
		prev = pos;
		fuzz_value(msg, &h);
		n++;
	}
	SY_ASSERT(pos <= size);
	struct sy_str v, ctype, body;
	for (int id = SIP_H_VIA; id <= SIP_H_MAX_FORWARDS; id++)
		if (sip_raw_find(msg, (enum sip_hdr)id, &v))
			check_in(msg, v);
	sip_raw_body(msg, &ctype, &body);
	check_in(msg, ctype);
	check_in(msg, body);
	struct sy_addr v4, v6;
	SY_ASSERT(sy_addr_parse("198.51.100.7:5062", 5060, &v4) == SY_OK);
	SY_ASSERT(sy_addr_parse("[2001:db8::7]:5060", 5060, &v6) == SY_OK);
	fuzz_builders(msg, size % 2 ? &v4 : &v6);
	fuzz_null_slice(&v4);
	fuzz_ua(msg);
	free(copy);
	return 0;
}
