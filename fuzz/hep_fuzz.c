/* hep_fuzz.c: libFuzzer harness on the HEPv3 decoder (core/pcap/hep.h)
 * and the exporter's stream framer. The input is read as a run of HEP
 * packets (a HEP-over-TCP stream): each that decodes must re-encode to a
 * packet that decodes to the same fields. Then the same bytes go through
 * the exporter as one UDP datagram and as a TCP stream cut at a point the
 * input picks, on the test env: whatever it sends must decode as HEP
 * carrying SIP. Built by `make fuzz`; replayed over fuzz/corpus/hep/ by
 * tests/it_fuzz_corpus.sh. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/pcap/hep.h"
#include "tests/testenv.h"

static void check_reencode(const struct hep_msg *m, size_t used)
{
	static uint8_t out[HEP_PACKET_MAX];
	struct hep_msg r;
	size_t n = hep_encode(m, out, sizeof(out)), used2;
	const char *why;
	/* an input may hold unknown chunks the encoder drops: never longer */
	SY_ASSERT(n > 0 && n <= used);
	SY_ASSERT(hep_decode(out, n, &r, &used2, &why) == SY_OK && used2 == n);
	SY_ASSERT(sy_addr_eq(&r.src, &m->src) && sy_addr_eq(&r.dst, &m->dst));
	SY_ASSERT(r.ts_sec == m->ts_sec && r.ts_usec == m->ts_usec && r.capture_id == m->capture_id);
	SY_ASSERT(r.payload_len == m->payload_len && memcmp(r.payload, m->payload, r.payload_len) == 0);
	SY_ASSERT(sy_str_eq(r.auth_key, m->auth_key) && sy_str_eq(r.node_name, m->node_name));
}

static void fuzz_decode(const uint8_t *data, size_t size)
{
	size_t at = 0;
	while (at < size) {
		/* an exact-size copy so ASan catches any read past the packet */
		size_t left = size - at;
		uint8_t *copy = malloc(left);
		memcpy(copy, data + at, left);
		struct hep_msg m;
		size_t used;
		const char *why;
		enum sy_rc rc = hep_decode(copy, left, &m, &used, &why);
		if (rc == SY_OK) {
			SY_ASSERT(used >= HEP_HDR_LEN && used <= left);
			/* a family byte other than 2 or 10 decodes as IPv4 */
			if (m.src.family == SY_AF_INET || m.src.family == SY_AF_INET6)
				check_reencode(&m, used);
		} else {
			SY_ASSERT(rc == SY_AGAIN || (rc == SY_ERR_PARSE && why != NULL));
		}
		free(copy);
		if (rc != SY_OK)
			break;
		at += used;
	}
}

static void feed(struct pcap_sink *k, enum pcap_proto proto, enum pcap_seg_kind kind, const uint8_t *p, size_t n)
{
	struct pcap_seg s = {.ts_ns = 1767225600ull * SY_NS_PER_S,
			     .proto = proto,
			     .kind = kind,
			     .src = sy_addr_v4(10, 0, 0, 1, 5060),
			     .dst = sy_addr_v4(10, 0, 0, 2, 5060),
			     .conn = proto == PCAP_PROTO_TCP ? 1 : 0,
			     .data = p,
			     .len = n};
	k->seg(k->arg, &s);
}

static void fuzz_export(const uint8_t *data, size_t size)
{
	struct testenv te;
	testenv_init(&te, 1);
	struct hep_cfg cfg = {.on = true, .collector = sy_addr_v4(127, 0, 0, 1, 9060), .capture_id = 1};
	struct hep_exporter *h;
	char err[128];
	SY_ASSERT(hep_exporter_create(&te.env, &cfg, &h, err, sizeof(err)) == SY_OK);
	struct pcap_sink k = hep_exporter_sink(h);
	feed(&k, PCAP_PROTO_UDP, PCAP_SEG_DATA, data, size);
	size_t cut = size > 0 ? data[0] % (size + 1) : 0;
	feed(&k, PCAP_PROTO_TCP, PCAP_SEG_DATA, data, cut);
	feed(&k, PCAP_PROTO_TCP, PCAP_SEG_DATA, data + cut, size - cut);
	feed(&k, PCAP_PROTO_TCP, PCAP_SEG_CLOSE, NULL, 0);
	for (size_t i = 0; i < testenv_sent_count(&te); i++) {
		const struct testenv_sent *d = testenv_sent(&te, i);
		struct hep_msg m;
		size_t used;
		const char *why;
		SY_ASSERT(hep_decode(d->buf, d->len, &m, &used, &why) == SY_OK && used == d->len);
		SY_ASSERT(m.proto_type == HEP_PROTO_SIP && hep_looks_sip(m.payload, m.payload_len));
	}
	const struct hep_stats *st = hep_exporter_stats(h);
	SY_ASSERT(st->sent == testenv_sent_count(&te) && st->tcp_msgs <= st->sent);
	hep_exporter_destroy(h);
	testenv_free(&te);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_decode(data, size);
	fuzz_export(data, size);
	return 0;
}
