/* test_hep.c: the HEPv3 encoder against bytes computed by hand from the
 * HEP3 specification (chunk by chunk), encode/decode round trips for IPv4
 * and IPv6, the decoder's refusals, and the exporter as a tap sink on the
 * test env: UDP SIP, SIP cut out of TCP streams (packed, split, byte by
 * byte), what is not SIP, and sends that fail. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "core/pcap/hep.h"
#include "tests/testenv.h"

/* 10.0.0.1:5060 -> 10.0.0.2:5080 over UDP at 2026-01-01T00:00:00.123456Z,
 * capture id 2001, auth key "pw", node "n1", payload "SIP/2". */
static const uint8_t v4_bytes[] = {
    'H',  'E',	'P',  '3',  0x00, 0x78,				     /* total 120 */
    0x00, 0x00, 0x00, 0x01, 0x00, 0x07, 0x02,			     /* family: IPv4 */
    0x00, 0x00, 0x00, 0x02, 0x00, 0x07, 0x11,			     /* protocol: UDP */
    0x00, 0x00, 0x00, 0x03, 0x00, 0x0a, 10,   0,    0,	  1,	     /* source IPv4 */
    0x00, 0x00, 0x00, 0x04, 0x00, 0x0a, 10,   0,    0,	  2,	     /* destination IPv4 */
    0x00, 0x00, 0x00, 0x07, 0x00, 0x08, 0x13, 0xc4,		     /* source port 5060 */
    0x00, 0x00, 0x00, 0x08, 0x00, 0x08, 0x13, 0xd8,		     /* destination port 5080 */
    0x00, 0x00, 0x00, 0x09, 0x00, 0x0a, 0x69, 0x55, 0xb9, 0x00,	     /* seconds 1767225600 */
    0x00, 0x00, 0x00, 0x0a, 0x00, 0x0a, 0x00, 0x01, 0xe2, 0x40,	     /* microseconds 123456 */
    0x00, 0x00, 0x00, 0x0b, 0x00, 0x07, 0x01,			     /* protocol type: SIP */
    0x00, 0x00, 0x00, 0x0c, 0x00, 0x0a, 0x00, 0x00, 0x07, 0xd1,	     /* capture id 2001 */
    0x00, 0x00, 0x00, 0x0e, 0x00, 0x08, 'p',  'w',		     /* auth key */
    0x00, 0x00, 0x00, 0x13, 0x00, 0x08, 'n',  '1',		     /* node name */
    0x00, 0x00, 0x00, 0x0f, 0x00, 0x0b, 'S',  'I',  'P',  '/',	'2', /* payload */
};

static struct hep_msg v4_msg(void)
{
	return (struct hep_msg){.src = sy_addr_v4(10, 0, 0, 1, 5060),
				.dst = sy_addr_v4(10, 0, 0, 2, 5080),
				.ip_proto = 17,
				.proto_type = HEP_PROTO_SIP,
				.ts_sec = 1767225600,
				.ts_usec = 123456,
				.capture_id = 2001,
				.auth_key = SY_STR("pw"),
				.node_name = SY_STR("n1"),
				.payload = (const uint8_t *)"SIP/2",
				.payload_len = 5};
}

static struct hep_msg v6_msg(void)
{
	struct hep_msg m = {.ip_proto = 6,
			    .proto_type = HEP_PROTO_SIP,
			    .ts_sec = 7,
			    .ts_usec = 999999,
			    .capture_id = 0xfedcba98u,
			    .payload = (const uint8_t *)"INVITE",
			    .payload_len = 6};
	assert_int_equal(sy_addr_parse("[2001:db8::1]:5060", 0, &m.src), SY_OK);
	assert_int_equal(sy_addr_parse("[2001:db8::2]:5061", 0, &m.dst), SY_OK);
	return m;
}

static void assert_same(const struct hep_msg *a, const struct hep_msg *b)
{
	assert_true(sy_addr_eq(&a->src, &b->src) && sy_addr_eq(&a->dst, &b->dst));
	assert_int_equal(a->ip_proto, b->ip_proto);
	assert_int_equal(a->proto_type, b->proto_type);
	assert_int_equal(a->ts_sec, b->ts_sec);
	assert_int_equal(a->ts_usec, b->ts_usec);
	assert_int_equal(a->capture_id, b->capture_id);
	assert_true(sy_str_eq(a->auth_key, b->auth_key) && sy_str_eq(a->node_name, b->node_name));
	assert_int_equal(a->payload_len, b->payload_len);
	assert_memory_equal(a->payload, b->payload, a->payload_len);
}

static void test_encode_v4_bytes(void **state)
{
	struct hep_msg m = v4_msg();
	uint8_t buf[256];
	assert_int_equal(hep_encoded_len(&m), sizeof(v4_bytes));
	assert_int_equal(hep_encode(&m, buf, sizeof(buf)), sizeof(v4_bytes));
	assert_memory_equal(buf, v4_bytes, sizeof(v4_bytes));
	/* one byte short: nothing */
	assert_int_equal(hep_encode(&m, buf, sizeof(v4_bytes) - 1), 0);
}

/* IPv6: family 10, address chunks 5 and 6 of 16 bytes; no auth key or
 * node name chunk when they are empty. */
static void test_encode_v6_layout(void **state)
{
	struct hep_msg m = v6_msg();
	uint8_t buf[256];
	size_t n = hep_encode(&m, buf, sizeof(buf));
	assert_int_equal(n, 6 + 7 + 7 + 22 + 22 + 8 + 8 + 10 + 10 + 7 + 10 + 12);
	assert_int_equal(buf[4] << 8 | buf[5], n);
	static const uint8_t head[] = {0, 0, 0, 1, 0, 7, 10, 0, 0, 0, 2, 0, 7, 6, 0, 0, 0, 5, 0, 22};
	assert_memory_equal(buf + 6, head, sizeof(head));
	assert_memory_equal(buf + 26, m.src.ip, 16);
	static const uint8_t dst_hdr[] = {0, 0, 0, 6, 0, 22};
	assert_memory_equal(buf + 42, dst_hdr, sizeof(dst_hdr));
	assert_memory_equal(buf + 48, m.dst.ip, 16);
	/* capture id big-endian, then the payload chunk last */
	static const uint8_t cid[] = {0, 0, 0, 0x0c, 0, 10, 0xfe, 0xdc, 0xba, 0x98};
	assert_memory_equal(buf + n - 12 - 10, cid, sizeof(cid));
	static const uint8_t pl[] = {0, 0, 0, 0x0f, 0, 12, 'I', 'N', 'V', 'I', 'T', 'E'};
	assert_memory_equal(buf + n - 12, pl, sizeof(pl));
}

static void test_round_trip(void **state)
{
	struct hep_msg ms[2] = {v4_msg(), v6_msg()};
	for (size_t i = 0; i < 2; i++) {
		uint8_t buf[256];
		size_t n = hep_encode(&ms[i], buf, sizeof(buf)), used;
		const char *why;
		struct hep_msg d;
		assert_true(n > 0);
		assert_int_equal(hep_decode(buf, n, &d, &used, &why), SY_OK);
		assert_int_equal(used, n);
		assert_same(&ms[i], &d);
		/* every shorter prefix is incomplete, never an error or a read past it */
		for (size_t k = 0; k < n; k++) {
			uint8_t *cut = malloc(k ? k : 1);
			memcpy(cut, buf, k);
			assert_int_equal(hep_decode(cut, k, &d, &used, &why), SY_AGAIN);
			free(cut);
		}
	}
	/* the hand-made bytes decode to the message they were made from */
	struct hep_msg d, want = v4_msg();
	size_t used;
	const char *why;
	assert_int_equal(hep_decode(v4_bytes, sizeof(v4_bytes), &d, &used, &why), SY_OK);
	assert_same(&want, &d);
}

/* A copy of v4_bytes with one edit, decoded. */
static enum sy_rc decode_edit(size_t at, uint8_t v, const char **why)
{
	uint8_t b[sizeof(v4_bytes)];
	memcpy(b, v4_bytes, sizeof(b));
	b[at] = v;
	struct hep_msg d;
	size_t used;
	return hep_decode(b, sizeof(b), &d, &used, why);
}

static void test_decode_refuses(void **state)
{
	const char *why;
	assert_int_equal(decode_edit(3, '2', &why), SY_ERR_PARSE);    /* HEP2 */
	assert_int_equal(decode_edit(5, 5, &why), SY_ERR_PARSE);      /* total below the header */
	assert_int_equal(decode_edit(11, 5, &why), SY_ERR_PARSE);     /* family chunk length 5 < 6 */
	assert_int_equal(decode_edit(11, 8, &why), SY_ERR_PARSE);     /* family chunk of 2 bytes */
	assert_int_equal(decode_edit(114, 0xff, &why), SY_ERR_PARSE); /* payload chunk runs past the end */
	assert_non_null(why);
	assert_int_equal(decode_edit(16, 0x01, &why), SY_ERR_PARSE);  /* protocol chunk made a second family */
	assert_int_equal(decode_edit(96, 0x99, &why), SY_OK);	      /* auth key made an unknown type: skipped */
	assert_int_equal(decode_edit(101, 0x01, &why), SY_OK);	      /* node name of vendor 0x0100: skipped */
	assert_int_equal(decode_edit(112, 0x77, &why), SY_ERR_PARSE); /* no payload chunk left */
	assert_string_equal(why, "a required chunk is missing");
	assert_int_equal(decode_edit(26, 0x00, &why), SY_OK);	     /* address bytes are data */
	assert_int_equal(decode_edit(23, 0x05, &why), SY_ERR_PARSE); /* an IPv6 source in an IPv4 packet: wrong size */
}

static void test_looks_sip(void **state)
{
	static const struct {
		const char *s;
		bool sip;
	} cases[] = {
	    {"INVITE sip:1@h SIP/2.0\r\nVia: x\r\n", true},
	    {"OPTIONS sip:h SIP/2.0\n", true},
	    {"SIP/2.0 200 OK\r\n", true},
	    {"SIP/2.0 700 Bad\r\n", false},
	    {"GET / HTTP/1.1\r\n", false},
	    {"INVITE sip:1@h SIP/2.0", false}, /* no line end yet */
	    {"\r\n\r\n", false},
	    {" INVITE sip:x SIP/2.0\r\n", false},
	    {"", false},
	};
	for (size_t i = 0; i < SY_ARRAY_LEN(cases); i++)
		assert_int_equal(hep_looks_sip((const uint8_t *)cases[i].s, strlen(cases[i].s)), cases[i].sip);
	static const uint8_t smpp[] = {0, 0, 0, 16, 0, 0, 0, 0x15, 0, 0, 0, 0, 0, 0, 0, 1};
	assert_false(hep_looks_sip(smpp, sizeof(smpp)));
}

/* ---- the exporter ---- */

struct fx {
	struct testenv te;
	struct hep_exporter *h;
	struct pcap_sink sink;
};

static struct fx *fx_new(void)
{
	struct fx *f = calloc(1, sizeof(*f));
	testenv_init(&f->te, 1);
	struct hep_cfg cfg = {.on = true, .collector = sy_addr_v4(192, 0, 2, 9, 9060), .capture_id = 2001};
	strcpy(cfg.auth_key, "secret");
	char err[128];
	assert_int_equal(hep_exporter_create(&f->te.env, &cfg, &f->h, err, sizeof(err)), SY_OK);
	f->sink = hep_exporter_sink(f->h);
	return f;
}

static void fx_free(struct fx *f)
{
	hep_exporter_destroy(f->h);
	testenv_free(&f->te);
	free(f);
}

static void feed(struct fx *f, enum pcap_proto proto, enum pcap_seg_kind kind, uint64_t conn, const char *data,
		 size_t len)
{
	struct pcap_seg s = {.ts_ns = 1767225600ull * SY_NS_PER_S + 5 * SY_NS_PER_MS + 7,
			     .proto = proto,
			     .kind = kind,
			     .src = sy_addr_v4(10, 0, 0, 1, 5060),
			     .dst = sy_addr_v4(10, 0, 0, 2, 5070),
			     .conn = conn,
			     .data = (const uint8_t *)data,
			     .len = len};
	f->sink.seg(f->sink.arg, &s);
}

/* Sent datagram i: to the collector, decoding to a SIP payload equal to want. */
static void assert_sent(struct fx *f, size_t i, uint8_t ip_proto, const char *want)
{
	assert_true(i < testenv_sent_count(&f->te));
	const struct testenv_sent *d = testenv_sent(&f->te, i);
	struct sy_addr coll = sy_addr_v4(192, 0, 2, 9, 9060);
	assert_true(sy_addr_eq(&d->to, &coll));
	struct hep_msg m;
	size_t used;
	const char *why;
	assert_int_equal(hep_decode(d->buf, d->len, &m, &used, &why), SY_OK);
	assert_int_equal(used, d->len);
	assert_int_equal(m.ip_proto, ip_proto);
	assert_int_equal(m.proto_type, HEP_PROTO_SIP);
	assert_int_equal(m.capture_id, 2001);
	assert_int_equal(m.ts_sec, 1767225600);
	assert_int_equal(m.ts_usec, 5000);
	assert_int_equal(m.src.port, 5060);
	assert_int_equal(m.dst.port, 5070);
	assert_true(sy_str_eq(m.auth_key, SY_STR("secret")));
	assert_int_equal(m.node_name.len, 0);
	assert_int_equal(m.payload_len, strlen(want));
	assert_memory_equal(m.payload, want, m.payload_len);
}

#define INV "INVITE sip:1@h SIP/2.0\r\nVia: SIP/2.0/TCP h\r\nContent-Length: 4\r\n\r\nv=0\n"
#define BYE "BYE sip:1@h SIP/2.0\r\nl: 0\r\n\r\n"
#define OK  "SIP/2.0 200 OK\r\nCall-ID: c\r\n\r\n"

static void test_export_udp(void **state)
{
	struct fx *f = fx_new();
	feed(f, PCAP_PROTO_UDP, PCAP_SEG_DATA, 0, INV, strlen(INV));
	feed(f, PCAP_PROTO_UDP, PCAP_SEG_DATA, 0, "\r\n\r\n", 4); /* a keepalive */
	feed(f, PCAP_PROTO_UDP, PCAP_SEG_DATA, 0, OK, strlen(OK));
	assert_int_equal(testenv_sent_count(&f->te), 2);
	assert_sent(f, 0, 17, INV);
	assert_sent(f, 1, 17, OK);
	const struct hep_stats *st = hep_exporter_stats(f->h);
	assert_int_equal(st->sent, 2);
	assert_int_equal(st->not_sip, 1);
	assert_int_equal(st->bytes, testenv_sent(&f->te, 0)->len + testenv_sent(&f->te, 1)->len);
	/* the network refuses one: counted, nothing retried */
	f->te.fail_sends = 1;
	feed(f, PCAP_PROTO_UDP, PCAP_SEG_DATA, 0, OK, strlen(OK));
	assert_int_equal(st->dropped, 1);
	assert_int_equal(testenv_sent_count(&f->te), 2);
	/* a datagram too large for HEP's 16-bit length */
	size_t big = 70000;
	char *p = malloc(big);
	memset(p, 'x', big);
	memcpy(p, OK, strlen(OK));
	feed(f, PCAP_PROTO_UDP, PCAP_SEG_DATA, 0, p, big);
	free(p);
	assert_int_equal(st->oversize, 1);
	assert_int_equal(st->sent, 2);
	fx_free(f);
}

/* Three messages in a stream cut at every byte, then packed in one
 * segment: the same three HEP packets each time. */
static void test_export_tcp(void **state)
{
	static const char stream[] = "\r\n" INV BYE "\r\n\r\n" OK;
	for (size_t step = 1; step <= sizeof(stream); step += sizeof(stream) - 2) {
		struct fx *f = fx_new();
		feed(f, PCAP_PROTO_TCP, PCAP_SEG_OPEN, 9, NULL, 0);
		for (size_t at = 0; at < sizeof(stream) - 1; at += step)
			feed(f, PCAP_PROTO_TCP, PCAP_SEG_DATA, 9, stream + at, SY_MIN(step, sizeof(stream) - 1 - at));
		assert_int_equal(testenv_sent_count(&f->te), 3);
		assert_sent(f, 0, 6, INV);
		assert_sent(f, 1, 6, BYE);
		assert_sent(f, 2, 6, OK);
		const struct hep_stats *st = hep_exporter_stats(f->h);
		assert_int_equal(st->tcp_msgs, 3);
		assert_int_equal(st->tcp_lost, 0);
		/* half a message, then the close: lost, and the slot is free */
		feed(f, PCAP_PROTO_TCP, PCAP_SEG_DATA, 9, INV, 30);
		feed(f, PCAP_PROTO_TCP, PCAP_SEG_CLOSE, 9, NULL, 0);
		assert_int_equal(st->tcp_lost, 30);
		fx_free(f);
	}
}

/* An SMPP stream and an HTTP stream: nothing sent; a SIP stream that
 * overflows the buffer resyncs on the next message. */
static void test_export_tcp_other(void **state)
{
	struct fx *f = fx_new();
	static const uint8_t bind[] = {0, 0, 0, 16, 0, 0, 0, 9, 0, 0, 0, 0, 0, 0, 0, 1};
	feed(f, PCAP_PROTO_TCP, PCAP_SEG_DATA, 1, (const char *)bind, sizeof(bind));
	feed(f, PCAP_PROTO_TCP, PCAP_SEG_DATA, 1, INV, strlen(INV)); /* SIP text later in an SMPP stream: ignored */
	feed(f, PCAP_PROTO_TCP, PCAP_SEG_DATA, 2, "GET /metrics HTTP/1.1\r\n\r\n", 25);
	assert_int_equal(testenv_sent_count(&f->te), 0);
	const struct hep_stats *st = hep_exporter_stats(f->h);
	assert_int_equal(st->not_sip, 2);
	size_t big = 70 * 1024;
	char *p = malloc(big);
	memset(p, 'x', big);
	memcpy(p, "MESSAGE sip:a SIP/2.0\r\nContent-Length: 99999\r\n\r\n", 49);
	feed(f, PCAP_PROTO_TCP, PCAP_SEG_DATA, 3, p, big);
	free(p);
	assert_int_equal(st->tcp_lost, big);
	feed(f, PCAP_PROTO_TCP, PCAP_SEG_DATA, 3, "v=0\n", 4); /* the rest of the lost one */
	feed(f, PCAP_PROTO_TCP, PCAP_SEG_DATA, 3, BYE, strlen(BYE));
	assert_int_equal(st->tcp_lost, big + 4);
	assert_int_equal(testenv_sent_count(&f->te), 1);
	assert_sent(f, 0, 6, BYE);
	fx_free(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_encode_v4_bytes), cmocka_unit_test(test_encode_v6_layout),
	    cmocka_unit_test(test_round_trip),	    cmocka_unit_test(test_decode_refuses),
	    cmocka_unit_test(test_looks_sip),	    cmocka_unit_test(test_export_udp),
	    cmocka_unit_test(test_export_tcp),	    cmocka_unit_test(test_export_tcp_other),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
