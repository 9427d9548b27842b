/* test_pcap_read.c: core/pcap/read.h. Hand-built frames through the
 * decoder (every link type, VLAN tags, IPv4 and IPv6 fragments, TCP
 * streams: out of order, retransmitted, split and packed SIP messages and
 * SMPP PDUs, a gap), hand-built capture files through pcap_read_file (pcap
 * in both stamp precisions, pcapng), the real captures of pcaps/ checked
 * against tshark's counts, and the errors of a truncated capture and of
 * random bytes. Files are written into a temp dir, never into pcaps/. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "core/pcap/read.h"
#include "tests/testenv.h"

/* ---- collecting what the decoder hands over ---- */

#define MSGS_MAX 64

struct got_msg {
	struct pcap_msg m;
	uint8_t *copy;
};

struct got {
	struct got_msg msgs[MSGS_MAX];
	size_t n;
	size_t total;	    /* also counts those past MSGS_MAX */
	uint64_t by_cmd[4]; /* SMPP: submit_sm, submit_sm_resp, deliver_sm, deliver_sm_resp */
};

static uint32_t rd32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static enum sy_rc got_fn(void *arg, const struct pcap_msg *m)
{
	struct got *g = arg;
	g->total++;
	if (m->app == PCAP_APP_SMPP && m->len >= 16) {
		uint32_t id = rd32(m->data + 4);
		int i = id == 4 ? 0 : id == 0x80000004u ? 1 : id == 5 ? 2 : id == 0x80000005u ? 3 : -1;
		if (i >= 0)
			g->by_cmd[i]++;
	}
	if (g->n == MSGS_MAX)
		return SY_OK;
	struct got_msg *x = &g->msgs[g->n++];
	x->m = *m;
	x->copy = malloc(m->len + 1);
	memcpy(x->copy, m->data, m->len);
	x->copy[m->len] = 0;
	x->m.data = x->copy;
	return SY_OK;
}

static void got_free(struct got *g)
{
	for (size_t i = 0; i < g->n; i++)
		free(g->msgs[i].copy);
	memset(g, 0, sizeof(*g));
}

static void assert_msg(const struct got *g, size_t i, enum pcap_app app, const char *text)
{
	assert_true(i < g->n);
	assert_int_equal(g->msgs[i].m.app, app);
	assert_int_equal(g->msgs[i].m.len, strlen(text));
	assert_memory_equal(g->msgs[i].m.data, text, strlen(text));
}

/* ---- building frames ---- */

struct buf {
	uint8_t b[70000];
	size_t n;
};

static void put(struct buf *b, const void *p, size_t n)
{
	assert_true(b->n + n <= sizeof(b->b));
	if (n == 0)
		return; /* p may be NULL */
	memcpy(b->b + b->n, p, n);
	b->n += n;
}
static void put8(struct buf *b, uint8_t v)
{
	put(b, &v, 1);
}
static void put16(struct buf *b, uint16_t v)
{
	put8(b, (uint8_t)(v >> 8));
	put8(b, (uint8_t)v);
}
static void put32(struct buf *b, uint32_t v)
{
	put16(b, (uint16_t)(v >> 16));
	put16(b, (uint16_t)v);
}

static const uint8_t V4_A[4] = {10, 0, 0, 1}, V4_B[4] = {10, 0, 0, 2};
static const uint8_t V6_A[16] = {0x20, 0x01, 0x0d, 0xb8, [15] = 1}, V6_B[16] = {0x20, 0x01, 0x0d, 0xb8, [15] = 2};

/* An IPv4 header: proto, id, fragment offset in bytes, more fragments. */
static void ipv4_hdr(struct buf *b, uint8_t proto, size_t payload, uint16_t id, size_t frag_off, bool more,
		     bool options)
{
	size_t ihl = options ? 24 : 20;
	put8(b, (uint8_t)(0x40 | ihl / 4));
	put8(b, 0);
	put16(b, (uint16_t)(ihl + payload));
	put16(b, id);
	put16(b, (uint16_t)((more ? 0x2000 : 0) | frag_off / 8));
	put8(b, 64);
	put8(b, proto);
	put16(b, 0); /* checksum: not checked, as promised */
	put(b, V4_A, 4);
	put(b, V4_B, 4);
	if (options)
		put32(b, 0x01010100); /* NOP NOP NOP EOL */
}

/* An IPv6 header; with a fragment header when frag is set. */
static void ipv6_hdr(struct buf *b, uint8_t proto, size_t payload, bool frag, uint32_t id, size_t frag_off, bool more)
{
	put32(b, 0x60000000);
	put16(b, (uint16_t)(payload + (frag ? 8 : 0)));
	put8(b, frag ? 44 : proto);
	put8(b, 64);
	put(b, V6_A, 16);
	put(b, V6_B, 16);
	if (frag) {
		put8(b, proto);
		put8(b, 0);
		put16(b, (uint16_t)(frag_off | (more ? 1 : 0)));
		put32(b, id);
	}
}

static void udp_hdr(struct buf *b, size_t payload)
{
	put16(b, 5060);
	put16(b, 5080);
	put16(b, (uint16_t)(8 + payload));
	put16(b, 0);
}

enum { FIN = 1, SYN = 2, RST = 4, PSH = 8, ACK = 16 };

static void tcp_hdr(struct buf *b, uint16_t sport, uint16_t dport, uint32_t seq, uint8_t flags)
{
	put16(b, sport);
	put16(b, dport);
	put32(b, seq);
	put32(b, 0);
	put8(b, 5 << 4);
	put8(b, flags);
	put16(b, 65535);
	put32(b, 0);
}

static void ether(struct buf *b, uint16_t type, int vlans)
{
	static const uint8_t mac[12] = {2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2};
	put(b, mac, 12);
	for (int i = 0; i < vlans; i++) {
		put16(b, i == 0 && vlans > 1 ? 0x88a8 : 0x8100);
		put16(b, (uint16_t)(100 + i));
	}
	put16(b, type);
}

static const char INVITE[] = "INVITE sip:bob@example.com SIP/2.0\r\n"
			     "Via: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bK-1\r\n"
			     "Call-ID: a@b\r\n"
			     "CSeq: 1 INVITE\r\n"
			     "Content-Length: 4\r\n"
			     "\r\n"
			     "v=0\n";
static const char OK200[] = "SIP/2.0 200 OK\r\n"
			    "Call-ID: a@b\r\n"
			    "CSeq: 1 INVITE\r\n"
			    "c: text/plain\r\n"
			    "l  : 5\r\n"
			    "\r\n"
			    "hello";

struct dec {
	struct pcap_read_stats st;
	struct got g;
	struct pcap_decoder *d;
	uint64_t frame;
};

static void dec_open(struct dec *x, uint32_t linktype, const struct pcap_read_cfg *cfg)
{
	memset(x, 0, sizeof(*x));
	x->d = pcap_decoder_create(cfg, linktype, got_fn, &x->g, &x->st);
	assert_non_null(x->d);
}

static void dec_feed(struct dec *x, const struct buf *b)
{
	x->frame++;
	assert_int_equal(pcap_decoder_frame(x->d, x->frame, x->frame * SY_NS_PER_MS, b->b, b->n, b->n), SY_OK);
}

static void dec_close(struct dec *x)
{
	assert_int_equal(pcap_decoder_finish(x->d), SY_OK);
	pcap_decoder_destroy(x->d);
	x->d = NULL;
}

static void dec_free(struct dec *x)
{
	if (x->d != NULL)
		pcap_decoder_destroy(x->d);
	got_free(&x->g);
}

/* A UDP datagram carrying text, over IPv4 or IPv6. */
static void ip_udp(struct buf *b, bool v6, const char *text)
{
	size_t n = strlen(text);
	if (v6)
		ipv6_hdr(b, 17, 8 + n, false, 0, 0, false);
	else
		ipv4_hdr(b, 17, 8 + n, 1, 0, false, false);
	udp_hdr(b, n);
	put(b, text, n);
}

/* ---- link types ---- */

static void check_one_sip(struct dec *x, bool v6)
{
	assert_int_equal(x->g.n, 1);
	assert_msg(&x->g, 0, PCAP_APP_SIP, INVITE);
	const struct pcap_msg *m = &x->g.msgs[0].m;
	assert_int_equal(m->proto, PCAP_PROTO_UDP);
	assert_int_equal(m->src.family, v6 ? SY_AF_INET6 : SY_AF_INET);
	assert_int_equal(m->src.port, 5060);
	assert_int_equal(m->dst.port, 5080);
	assert_memory_equal(m->src.ip, v6 ? V6_A : V4_A, v6 ? 16 : 4);
	assert_memory_equal(m->dst.ip, v6 ? V6_B : V4_B, v6 ? 16 : 4);
	assert_int_equal(m->frame, 1);
	assert_int_equal(m->ts_ns, SY_NS_PER_MS);
	assert_int_equal(v6 ? x->st.ipv6 : x->st.ipv4, 1);
	assert_int_equal(x->st.udp, 1);
	assert_int_equal(x->st.msgs_sip, 1);
	assert_int_equal(x->st.malformed, 0);
}

static void test_link_types(void **state)
{
	for (int v6 = 0; v6 <= 1; v6++) {
		uint16_t et = v6 ? 0x86dd : 0x0800;
		for (int lt = 0; lt < 9; lt++) {
			struct buf b = {0};
			uint32_t linktype;
			switch (lt) {
			case 0:
				linktype = 1, ether(&b, et, 0);
				break;
			case 1:
				linktype = 1, ether(&b, et, 1);
				break; /* 802.1Q */
			case 2:
				linktype = 1, ether(&b, et, 2);
				break; /* QinQ */
			case 3:	       /* SLL: packet type, ARPHRD, address length, address, protocol */
				linktype = 113, put16(&b, 0), put16(&b, 1), put16(&b, 6), put32(&b, 0), put32(&b, 0),
				put16(&b, et);
				break;
			case 4: /* SLL2: protocol first */
				linktype = 276, put16(&b, et), put16(&b, 0), put32(&b, 1), put16(&b, 1), put8(&b, 0),
				put8(&b, 6), put32(&b, 0), put32(&b, 0);
				break;
			case 5:
				linktype = 101;
				break;
			case 6:
				linktype = v6 ? 229 : 228;
				break;
			case 7: /* NULL: the family in the writer's (here little-endian) order */
				linktype = 0, put8(&b, v6 ? 30 : 2), put8(&b, 0), put16(&b, 0);
				break;
			default: /* LOOP: network order */
				linktype = 108, put32(&b, v6 ? 24 : 2);
				break;
			}
			ip_udp(&b, v6, INVITE);
			struct dec x;
			dec_open(&x, linktype, NULL);
			assert_int_equal(x.st.linktype, linktype);
			dec_feed(&x, &b);
			dec_close(&x);
			check_one_sip(&x, v6);
			dec_free(&x);
		}
	}
}

static void test_link_errors(void **state)
{
	struct dec x;
	/* Five VLAN tags: past the bound, malformed, no crash. */
	struct buf b = {0};
	ether(&b, 0x0800, 5);
	ip_udp(&b, false, INVITE);
	dec_open(&x, 1, NULL);
	dec_feed(&x, &b);
	/* ARP: another protocol, not an error. */
	struct buf arp = {0};
	ether(&arp, 0x0806, 0);
	put32(&arp, 0);
	dec_feed(&x, &arp);
	/* An IPv4 packet whose total length runs past the frame. */
	struct buf cut = {0};
	ether(&cut, 0x0800, 0);
	ip_udp(&cut, false, INVITE);
	cut.n -= 10;
	dec_feed(&x, &cut);
	/* UDP that is not SIP, and SIP over UDP with options in the IP header. */
	struct buf other = {0}, opt = {0};
	ether(&other, 0x0800, 0);
	ip_udp(&other, false, "\r\n\r\n");
	dec_feed(&x, &other);
	ether(&opt, 0x0800, 0);
	ipv4_hdr(&opt, 17, 8 + strlen(OK200), 7, 0, false, true);
	udp_hdr(&opt, strlen(OK200));
	put(&opt, OK200, strlen(OK200));
	dec_feed(&x, &opt);
	dec_close(&x);
	assert_int_equal(x.st.frames, 5);
	assert_int_equal(x.st.malformed, 2);
	assert_int_equal(x.st.first_malformed_frame, 1);
	assert_string_equal(x.st.first_malformed_why, "vlan: too many tags");
	assert_int_equal(x.st.other, 1);
	assert_int_equal(x.st.msgs_other, 1);
	assert_int_equal(x.st.msgs_sip, 1);
	assert_msg(&x.g, 1, PCAP_APP_SIP, OK200);
	dec_free(&x);
}

/* ---- IP fragments ---- */

/* A SIP INVITE with a body of body_len bytes. */
static char *big_invite(size_t body_len)
{
	char *s = malloc(body_len + 512);
	int n =
	    sprintf(s, "INVITE sip:bob@example.com SIP/2.0\r\nCall-ID: big@b\r\nContent-Length: %zu\r\n\r\n", body_len);
	for (size_t i = 0; i < body_len; i++)
		s[n + i] = (char)('a' + i % 26);
	s[n + body_len] = 0;
	return s;
}

/* The UDP datagram (header and text) whose IP payload is fragmented. */
static void udp_payload(struct buf *b, const char *text)
{
	udp_hdr(b, strlen(text));
	put(b, text, strlen(text));
}

static void v4_fragment(struct buf *f, const struct buf *dgram, uint16_t id, size_t off, size_t len)
{
	bool more = off + len < dgram->n;
	ether(f, 0x0800, 0);
	ipv4_hdr(f, 17, len, id, off, more, false);
	put(f, dgram->b + off, len);
}

static void test_ipv4_fragments(void **state)
{
	char *text = big_invite(1400);
	struct buf dgram = {0};
	udp_payload(&dgram, text);
	struct buf f[3];
	memset(f, 0, sizeof(f));
	v4_fragment(&f[0], &dgram, 77, 0, 512);
	v4_fragment(&f[1], &dgram, 77, 512, 512);
	v4_fragment(&f[2], &dgram, 77, 1024, dgram.n - 1024);
	struct dec x;
	dec_open(&x, 1, NULL);
	/* Out of order, the middle one twice (a duplicate overlaps). */
	dec_feed(&x, &f[2]);
	dec_feed(&x, &f[1]);
	dec_feed(&x, &f[1]);
	assert_int_equal(x.g.n, 0);
	dec_feed(&x, &f[0]);
	dec_close(&x);
	assert_int_equal(x.g.n, 1);
	assert_msg(&x.g, 0, PCAP_APP_SIP, text);
	assert_int_equal(x.g.msgs[0].m.frame, 4);
	assert_int_equal(x.st.fragments, 4);
	assert_int_equal(x.st.reassembled, 1);
	assert_int_equal(x.st.frag_overlaps, 1);
	assert_int_equal(x.st.udp, 1); /* the datagram, once */
	assert_int_equal(x.st.frag_dropped, 0);
	dec_free(&x);

	/* An overlap that rewrites bytes: the first copy is kept. */
	struct buf evil = {0}, forged = dgram;
	memset(forged.b + 600, 'X', 100);
	v4_fragment(&evil, &forged, 78, 512, 512);
	struct buf g[3];
	memset(g, 0, sizeof(g));
	v4_fragment(&g[0], &dgram, 78, 0, 512);
	v4_fragment(&g[1], &dgram, 78, 512, 512);
	v4_fragment(&g[2], &dgram, 78, 1024, dgram.n - 1024);
	dec_open(&x, 1, NULL);
	dec_feed(&x, &g[1]);
	dec_feed(&x, &evil);
	dec_feed(&x, &g[2]);
	dec_feed(&x, &g[0]);
	dec_close(&x);
	assert_int_equal(x.g.n, 1);
	assert_msg(&x.g, 0, PCAP_APP_SIP, text);
	assert_int_equal(x.st.frag_overlaps, 1);
	dec_free(&x);

	/* A datagram missing a fragment is given up after 30 s of capture
	 * time; one left unfinished at the end is counted too. */
	dec_open(&x, 1, NULL);
	dec_feed(&x, &g[0]);
	x.frame += 40000; /* 40 s later (frames are stamped 1 ms apart) */
	struct buf h0 = {0};
	v4_fragment(&h0, &dgram, 79, 0, 512);
	dec_feed(&x, &h0);
	assert_int_equal(x.st.frag_dropped, 1);
	/* The rest of the timed-out datagram comes too late to complete it. */
	dec_feed(&x, &g[1]);
	dec_feed(&x, &g[2]);
	dec_close(&x);
	assert_int_equal(x.g.n, 0);
	assert_int_equal(x.st.frag_dropped, 3);
	assert_int_equal(x.st.reassembled, 0);
	dec_free(&x);
	free(text);
}

static void v6_fragment(struct buf *f, const struct buf *dgram, uint32_t id, size_t off, size_t len)
{
	bool more = off + len < dgram->n;
	ether(f, 0x86dd, 0);
	ipv6_hdr(f, 17, len, true, id, off, more);
	put(f, dgram->b + off, len);
}

static void test_ipv6_fragments(void **state)
{
	char *text = big_invite(2000);
	struct buf dgram = {0};
	udp_payload(&dgram, text);
	struct buf f[2];
	memset(f, 0, sizeof(f));
	v6_fragment(&f[0], &dgram, 0x12345678, 0, 1232);
	v6_fragment(&f[1], &dgram, 0x12345678, 1232, dgram.n - 1232);
	struct dec x;
	dec_open(&x, 1, NULL);
	dec_feed(&x, &f[1]);
	dec_feed(&x, &f[0]);
	/* An atomic fragment (offset 0, no more): a datagram of its own. */
	struct buf small = {0}, a = {0};
	udp_payload(&small, OK200);
	v6_fragment(&a, &small, 9, 0, small.n);
	dec_feed(&x, &a);
	dec_close(&x);
	assert_int_equal(x.g.n, 2);
	assert_msg(&x.g, 0, PCAP_APP_SIP, text);
	assert_msg(&x.g, 1, PCAP_APP_SIP, OK200);
	assert_int_equal(x.g.msgs[0].m.src.family, SY_AF_INET6);
	assert_int_equal(x.st.fragments, 3);
	assert_int_equal(x.st.reassembled, 2);
	assert_int_equal(x.st.ipv6, 3);
	assert_int_equal(x.st.malformed, 0);
	dec_free(&x);
	free(text);
}

/* ---- TCP streams ---- */

static void seg(struct dec *x, uint16_t sport, uint16_t dport, uint32_t seq, uint8_t flags, const void *p, size_t n)
{
	struct buf b = {0};
	ether(&b, 0x0800, 0);
	ipv4_hdr(&b, 6, 20 + n, 1, 0, false, false);
	tcp_hdr(&b, sport, dport, seq, flags);
	put(&b, p, n);
	dec_feed(x, &b);
}

#define ISN 1000000u

static void test_tcp_sip_out_of_order(void **state)
{
	struct dec x;
	dec_open(&x, 1, NULL);
	seg(&x, 40000, 5060, ISN, SYN, NULL, 0);
	size_t n = strlen(INVITE), a = 20, b = 50;
	const uint32_t s0 = ISN + 1;
	/* Three pieces, delivered 3, 3 again, 1, 1 again, 2. */
	seg(&x, 40000, 5060, s0 + (uint32_t)b, ACK | PSH, INVITE + b, n - b);
	seg(&x, 40000, 5060, s0 + (uint32_t)b, ACK | PSH, INVITE + b, n - b);
	seg(&x, 40000, 5060, s0, ACK | PSH, INVITE, a);
	seg(&x, 40000, 5060, s0, ACK | PSH, INVITE, a);
	assert_int_equal(x.g.n, 0);
	seg(&x, 40000, 5060, s0 + (uint32_t)a, ACK | PSH, INVITE + a, b - a);
	assert_int_equal(x.g.n, 1);
	assert_msg(&x.g, 0, PCAP_APP_SIP, INVITE);
	assert_int_equal(x.g.msgs[0].m.frame, 6);
	assert_int_equal(x.g.msgs[0].m.proto, PCAP_PROTO_TCP);
	assert_int_equal(x.g.msgs[0].m.src.port, 40000);
	/* A segment overlapping old and new bytes: only the new ones count. */
	char two[512];
	snprintf(two, sizeof(two), "%s%s", INVITE + n - 5, OK200);
	seg(&x, 40000, 5060, s0 + (uint32_t)n - 5, ACK | PSH, two, strlen(two));
	seg(&x, 40000, 5060, s0 + (uint32_t)(n + strlen(OK200)), ACK | FIN, NULL, 0);
	dec_close(&x);
	assert_int_equal(x.g.n, 2);
	assert_msg(&x.g, 1, PCAP_APP_SIP, OK200);
	assert_int_equal(x.st.tcp_out_of_order, 1);
	assert_int_equal(x.st.tcp_retrans, 3);
	assert_int_equal(x.st.tcp_gaps, 0);
	assert_int_equal(x.st.tcp_segments, 6);
	assert_int_equal(x.st.tcp, 8);
	assert_int_equal(x.st.tcp_streams, 1);
	assert_int_equal(x.st.msgs_sip, 2);
	dec_free(&x);
}

static void test_tcp_sip_packed(void **state)
{
	/* Two messages and CRLF keep-alives in one segment, then the same
	 * stream fed a byte per segment: the same messages either way. */
	char text[1024];
	snprintf(text, sizeof(text), "\r\n\r\n%s\r\n%s", INVITE, OK200);
	for (int bytewise = 0; bytewise <= 1; bytewise++) {
		struct dec x;
		dec_open(&x, 1, NULL);
		uint32_t seq = ISN;
		if (!bytewise) {
			seg(&x, 5060, 5060, seq, ACK | PSH, text, strlen(text));
		} else {
			for (size_t i = 0; i < strlen(text); i++)
				seg(&x, 5060, 5060, seq + (uint32_t)i, ACK, text + i, 1);
		}
		dec_close(&x);
		assert_int_equal(x.g.n, 2);
		assert_msg(&x.g, 0, PCAP_APP_SIP, INVITE);
		assert_msg(&x.g, 1, PCAP_APP_SIP, OK200);
		assert_int_equal(x.st.malformed, 0);
		assert_int_equal(x.st.tcp_bytes_lost, 0);
		dec_free(&x);
	}
}

/* An SMPP PDU: header and body bytes. */
static size_t smpp_pdu(uint8_t *out, uint32_t id, uint32_t seqno, size_t body)
{
	struct buf b = {0};
	put32(&b, (uint32_t)(16 + body));
	put32(&b, id);
	put32(&b, 0);
	put32(&b, seqno);
	for (size_t i = 0; i < body; i++)
		put8(&b, (uint8_t)i);
	memcpy(out, b.b, b.n);
	return b.n;
}

static void test_tcp_smpp(void **state)
{
	uint8_t s[512];
	size_t n = 0, lens[3];
	lens[0] = smpp_pdu(s, 4, 1, 40);
	lens[1] = smpp_pdu(s + lens[0], 4, 2, 50);
	lens[2] = smpp_pdu(s + lens[0] + lens[1], 0x15, 3, 0);
	n = lens[0] + lens[1] + lens[2];
	struct pcap_read_cfg cfg = {.smpp_ports = {9000}};
	struct dec x;
	dec_open(&x, 1, &cfg);
	seg(&x, 50000, 9000, ISN, SYN, NULL, 0);
	/* One and a half PDUs, then the rest of the second and a third. */
	size_t cut = lens[0] + lens[1] / 2;
	seg(&x, 50000, 9000, ISN + 1, ACK, s, cut);
	assert_int_equal(x.g.n, 1);
	seg(&x, 50000, 9000, ISN + 1 + (uint32_t)cut, ACK, s + cut, n - cut);
	dec_close(&x);
	assert_int_equal(x.g.n, 3);
	for (int i = 0; i < 3; i++) {
		assert_int_equal(x.g.msgs[i].m.app, PCAP_APP_SMPP);
		assert_int_equal(x.g.msgs[i].m.len, lens[i]);
		assert_int_equal(rd32(x.g.msgs[i].m.data + 12), i + 1);
	}
	assert_int_equal(x.st.msgs_smpp, 3);
	assert_int_equal(x.g.by_cmd[0], 2);
	dec_free(&x);

	/* Port 2775 is SMPP by default; the same bytes on another port are not. */
	dec_open(&x, 1, NULL);
	seg(&x, 50000, 2775, ISN, ACK, s, n);
	seg(&x, 50001, 9000, ISN, ACK, s, n);
	dec_close(&x);
	assert_int_equal(x.st.msgs_smpp, 3);
	assert_int_equal(x.st.msgs_other, 1);
	dec_free(&x);
}

static void test_tcp_gap(void **state)
{
	/* A lost segment in the middle of a message: with a small buffer the
	 * stream gives up on the hole, drops the broken message, and picks up
	 * at the next message start (here inside the segment after the hole). */
	struct pcap_read_cfg cfg = {.tcp_buffer_max = 300};
	struct dec x;
	dec_open(&x, 1, &cfg);
	seg(&x, 40000, 5060, ISN, SYN, NULL, 0);
	uint32_t s0 = ISN + 1;
	size_t n = strlen(INVITE);
	seg(&x, 40000, 5060, s0, ACK, INVITE, 30); /* then 30..60 is lost */
	char tail[1024];
	snprintf(tail, sizeof(tail), "%s%s", INVITE + 60, OK200);
	seg(&x, 40000, 5060, s0 + 60, ACK, tail, strlen(tail));
	assert_int_equal(x.g.n, 0);
	/* Over the buffer bound: the hole is given up. */
	char *big = big_invite(300);
	size_t after = n + strlen(OK200);
	seg(&x, 40000, 5060, s0 + (uint32_t)after + 100, ACK, big, 250);
	assert_int_equal(x.st.tcp_gaps, 1);
	assert_int_equal(x.st.malformed, 0); /* a gap is not a malformed frame */
	assert_int_equal(x.g.n, 1);
	assert_msg(&x.g, 0, PCAP_APP_SIP, OK200);
	assert_int_equal(x.st.tcp_bytes_lost, 30 + 30 + (n - 60));
	dec_close(&x);
	/* The end: the second hole is skipped too, the last partial message
	 * (an INVITE cut after 250 bytes, its body missing) handed over as is. */
	assert_int_equal(x.st.tcp_gaps, 2);
	assert_int_equal(x.g.n, 2);
	assert_int_equal(x.g.msgs[1].m.len, 250);
	assert_memory_equal(x.g.msgs[1].m.data, big, 250);
	dec_free(&x);
	free(big);
}

static void test_tcp_rst_and_midstream(void **state)
{
	struct dec x;
	dec_open(&x, 1, NULL);
	/* Capture started in the middle of a message: framing starts at the
	 * next message, the bytes before it are counted as lost. */
	char text[1024];
	snprintf(text, sizeof(text), "%s%s", INVITE + 10, OK200);
	seg(&x, 40000, 5060, 7777, ACK, text, strlen(text));
	assert_int_equal(x.g.n, 1);
	assert_msg(&x.g, 0, PCAP_APP_SIP, OK200);
	assert_int_equal(x.st.tcp_bytes_lost, strlen(INVITE) - 10);
	/* RST: the direction is closed at once, what it held (the first 40
	 * bytes of an INVITE) handed over; a late copy of its bytes is dropped. */
	uint32_t end = 7777 + (uint32_t)strlen(text);
	seg(&x, 40000, 5060, end, ACK, INVITE, 40);
	assert_int_equal(x.g.n, 1);
	seg(&x, 40000, 5060, end + 40, RST, NULL, 0);
	assert_int_equal(x.g.n, 2);
	assert_int_equal(x.g.msgs[1].m.len, 40);
	seg(&x, 40000, 5060, 7777, ACK, text, strlen(text));
	assert_int_equal(x.g.n, 2);
	assert_int_equal(x.st.tcp_retrans, 1);
	/* A new connection on the same ports (a new SYN) starts afresh, and a
	 * repeated SYN does not reset it. */
	seg(&x, 40000, 5060, 5000, SYN, NULL, 0);
	seg(&x, 40000, 5060, 5001, ACK, INVITE, 40);
	seg(&x, 40000, 5060, 5000, SYN, NULL, 0);
	seg(&x, 40000, 5060, 5041, ACK | FIN, INVITE + 40, strlen(INVITE) - 40);
	assert_int_equal(x.g.n, 3);
	assert_msg(&x.g, 2, PCAP_APP_SIP, INVITE);
	dec_close(&x);
	assert_int_equal(x.st.tcp_streams, 1);
	assert_int_equal(x.st.malformed, 0);
	dec_free(&x);
}

static void test_tcp_total_bound(void **state)
{
	/* Ten directions each holding the first 2,000 bytes of a message
	 * with a 3,000-byte body: with 8 KiB for all, the least recently
	 * active give way, closed and their partial messages handed over. */
	char *big = big_invite(3000);
	struct pcap_read_cfg cfg = {.tcp_total_max = 8192};
	struct dec x;
	dec_open(&x, 1, &cfg);
	for (uint16_t i = 0; i < 10; i++)
		seg(&x, (uint16_t)(41000 + i), 5060, ISN, ACK, big, 2000);
	assert_true(x.g.n >= 6);
	for (size_t i = 0; i < x.g.n; i++) {
		assert_int_equal(x.g.msgs[i].m.len, 2000);
		assert_int_equal(x.g.msgs[i].m.src.port, 41000 + i);
	}
	size_t early = x.g.n;
	dec_close(&x);
	assert_int_equal(x.g.n, 10);
	print_message("%zu of 10 directions gave way before the end\n", early);
	dec_free(&x);
	free(big);
}

static void test_ipv6_ext_headers(void **state)
{
	/* Hop-by-hop (8 bytes of padding options) then destination options
	 * (16 bytes) before UDP; then a chain that runs past the packet. */
	struct buf b = {0};
	size_t n = strlen(INVITE);
	ether(&b, 0x86dd, 0);
	put32(&b, 0x60000000);
	put16(&b, (uint16_t)(8 + 16 + 8 + n));
	put8(&b, 0);
	put8(&b, 64);
	put(&b, V6_A, 16);
	put(&b, V6_B, 16);
	put8(&b, 60), put8(&b, 0), put16(&b, 0x0104), put32(&b, 0);
	put8(&b, 17), put8(&b, 1), put16(&b, 0x010c), put32(&b, 0), put32(&b, 0), put32(&b, 0);
	udp_hdr(&b, n);
	put(&b, INVITE, n);
	struct dec x;
	dec_open(&x, 1, NULL);
	dec_feed(&x, &b);
	b.b[14 + 40 + 8 + 1] = 200; /* destination options now 1608 bytes long */
	dec_feed(&x, &b);
	dec_close(&x);
	assert_int_equal(x.g.n, 1);
	assert_msg(&x.g, 0, PCAP_APP_SIP, INVITE);
	assert_int_equal(x.st.malformed, 1);
	assert_string_equal(x.st.first_malformed_why, "ipv6: bad extension header");
	dec_free(&x);
}

/* ---- capture files ---- */

static char tmpdir[64];

static void tmp_path(char *out, size_t n, const char *name)
{
	snprintf(out, n, "%s/%s", tmpdir, name);
}

static void write_file(const char *path, const void *p, size_t n)
{
	FILE *f = fopen(path, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(p, 1, n, f), n);
	assert_int_equal(fclose(f), 0);
}

static uint8_t *read_whole(const char *path, size_t *n)
{
	FILE *f = fopen(path, "rb");
	assert_non_null(f);
	uint8_t *p = malloc(4u << 20);
	*n = fread(p, 1, 4u << 20, f);
	fclose(f);
	return p;
}

static void le32(struct buf *b, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		put8(b, (uint8_t)(v >> (8 * i)));
}
static void le16(struct buf *b, uint16_t v)
{
	put8(b, (uint8_t)v);
	put8(b, (uint8_t)(v >> 8));
}

static enum sy_rc read_path(const char *path, const struct pcap_read_cfg *cfg, struct got *g,
			    struct pcap_read_stats *st, char *err, size_t errlen)
{
	struct testenv te;
	testenv_init(&te, 1);
	enum sy_rc rc = pcap_read_file(&te.env, path, cfg, got_fn, g, st, err, errlen);
	testenv_free(&te);
	return rc;
}

/* A classic pcap file (little-endian) of one UDP SIP frame on Ethernet,
 * stamped 1700000000.123456789 s; nano: the nanosecond magic. */
static void test_file_pcap_and_pcapng(void **state)
{
	struct buf frame = {0};
	ether(&frame, 0x0800, 0);
	ip_udp(&frame, false, INVITE);
	for (int kind = 0; kind < 3; kind++) {
		struct buf f = {0};
		if (kind < 2) {
			le32(&f, kind == 0 ? 0xa1b2c3d4 : 0xa1b23c4d);
			le16(&f, 2), le16(&f, 4), le32(&f, 0), le32(&f, 0), le32(&f, 65535), le32(&f, 1);
			le32(&f, 1700000000), le32(&f, kind == 0 ? 123456 : 123456789);
			le32(&f, (uint32_t)frame.n), le32(&f, (uint32_t)frame.n);
			put(&f, frame.b, frame.n);
		} else {
			/* pcapng: section header, interface (default µs stamps), one EPB. */
			le32(&f, 0x0a0d0d0a), le32(&f, 28), le32(&f, 0x1a2b3c4d), le16(&f, 1), le16(&f, 0);
			le32(&f, 0xffffffff), le32(&f, 0xffffffff), le32(&f, 28);
			le32(&f, 1), le32(&f, 20), le16(&f, 1), le16(&f, 0), le32(&f, 65535), le32(&f, 20);
			uint64_t us = 1700000000ull * 1000000 + 123456;
			size_t pad = (4 - frame.n % 4) % 4, len = 32 + frame.n + pad;
			le32(&f, 6), le32(&f, (uint32_t)len), le32(&f, 0), le32(&f, (uint32_t)(us >> 32)),
			    le32(&f, (uint32_t)us);
			le32(&f, (uint32_t)frame.n), le32(&f, (uint32_t)frame.n);
			put(&f, frame.b, frame.n);
			for (size_t i = 0; i < pad; i++)
				put8(&f, 0);
			le32(&f, (uint32_t)len);
		}
		char path[128];
		tmp_path(path, sizeof(path), "one.cap");
		write_file(path, f.b, f.n);
		struct got g = {0};
		struct pcap_read_stats st;
		char err[256];
		assert_int_equal(read_path(path, NULL, &g, &st, err, sizeof(err)), SY_OK);
		assert_int_equal(g.n, 1);
		assert_msg(&g, 0, PCAP_APP_SIP, INVITE);
		uint64_t want = 1700000000ull * SY_NS_PER_S + (kind == 1 ? 123456789 : 123456000);
		assert_int_equal(g.msgs[0].m.ts_ns, want);
		assert_int_equal(st.first_ts_ns, want);
		assert_int_equal(st.linktype, 1);
		assert_int_equal(st.frames, 1);
		assert_int_equal(st.bytes, frame.n);
		got_free(&g);
	}
}

/* The four real captures of pcaps/ (pcaps/README.md), counted by tshark:
 *   tshark -r F -Y sip | wc -l                      SIP messages
 *   tshark -r F -Y udp | wc -l, -Y tcp, -Y ip, -Y ipv6, -Y "tcp.len>0"
 *   tshark -r F -Y "not ip and not ipv6" | wc -l    (part of "other")
 *   capinfos -c -d F                                frames, captured bytes
 *   tshark -r F -Y tcp.analysis.retransmission      data retransmissions only
 *                                                   (tshark also flags SYN ones)
 * SMPP: tshark -r pcaps/smpp_loopback.pcap -Y "smpp.command_id==N" -T fields
 *   -e smpp.command_id  (frame 19 holds two deliver_sm). */
struct real {
	const char *file;
	uint32_t linktype;
	uint64_t frames, bytes, ipv4, ipv6, udp, tcp, tcp_segments, tcp_retrans, sip, smpp;
};

static const struct real REAL[] = {
    {"pcaps/rtp_rtcp_sip_ipv4_udp.pcap", 1, 4269, 855508, 4105, 0, 3583, 522, 198, 0, 14, 0},
    {"pcaps/sip_ipv4_tcp.pcap", 1, 84, 18511, 84, 0, 68, 16, 7, 0, 7, 0},
    {"pcaps/sip_ipv4_tcp_retrans.pcap", 113, 196, 43819, 194, 0, 4, 181, 80, 1, 8, 0},
    {"pcaps/sip_ipv6_udp.pcap", 1, 6, 3586, 0, 6, 6, 0, 0, 0, 6, 0},
    {"pcaps/smpp_loopback.pcap", 1, 39, 4311, 39, 0, 0, 39, 23, 0, 0, 24},
};

static void test_real_captures(void **state)
{
	for (size_t i = 0; i < SY_ARRAY_LEN(REAL); i++) {
		const struct real *r = &REAL[i];
		struct got g = {0};
		struct pcap_read_stats st;
		char err[256];
		assert_int_equal(read_path(r->file, NULL, &g, &st, err, sizeof(err)), SY_OK);
		print_message("%s: %llu frames, %llu SIP, %llu SMPP, %llu other messages\n", r->file,
			      (unsigned long long)st.frames, (unsigned long long)st.msgs_sip,
			      (unsigned long long)st.msgs_smpp, (unsigned long long)st.msgs_other);
		assert_int_equal(st.linktype, r->linktype);
		char name[32];
		assert_string_equal(pcap_linktype_name(st.linktype, name, sizeof(name)),
				    r->linktype == 1 ? "Ethernet" : "Linux cooked (SLL)");
		assert_int_equal(st.frames, r->frames);
		assert_int_equal(st.bytes, r->bytes);
		assert_int_equal(st.ipv4, r->ipv4);
		assert_int_equal(st.ipv6, r->ipv6);
		assert_int_equal(st.udp, r->udp);
		assert_int_equal(st.tcp, r->tcp);
		assert_int_equal(st.tcp_segments, r->tcp_segments);
		assert_int_equal(st.tcp_retrans, r->tcp_retrans);
		assert_int_equal(st.msgs_sip, r->sip);
		assert_int_equal(st.msgs_smpp, r->smpp);
		assert_int_equal(st.malformed, 0);
		assert_int_equal(st.tcp_gaps, 0);
		got_free(&g);
	}
}

/* pcaps/sip_ipv6_udp.pcap stamps its last frames past 2038: a classic
 * pcap's 32-bit seconds are unsigned (tshark -T fields -e frame.time_epoch
 * gives 1328589362.251758 for frame 1 and 3867576602.251758 for frame 6);
 * libpcap hands them over sign-extended. */
static void test_real_stamps_past_2038(void **state)
{
	(void)state;
	struct got g = {0};
	struct pcap_read_stats st;
	char err[256];
	assert_int_equal(read_path("pcaps/sip_ipv6_udp.pcap", NULL, &g, &st, err, sizeof(err)), SY_OK);
	assert_int_equal(st.first_ts_ns, 1328589362251758000ull);
	assert_int_equal(st.last_ts_ns, 3867576602251758000ull);
	assert_int_equal(st.ts_backwards, 0);
	got_free(&g);
}

static void test_real_smpp(void **state)
{
	struct got g = {0};
	struct pcap_read_stats st;
	char err[256];
	assert_int_equal(read_path("pcaps/smpp_loopback.pcap", NULL, &g, &st, err, sizeof(err)), SY_OK);
	assert_int_equal(g.by_cmd[0], 5); /* submit_sm */
	assert_int_equal(g.by_cmd[1], 5); /* submit_sm_resp */
	assert_int_equal(g.by_cmd[2], 5); /* deliver_sm (receipts) */
	assert_int_equal(g.by_cmd[3], 5);
	/* The bind opens the ESME's stream; two receipts share frame 19. */
	assert_int_equal(rd32(g.msgs[0].m.data + 4), 9);
	assert_int_equal(g.msgs[0].m.dst.port, 2775);
	size_t in19 = 0;
	for (size_t i = 0; i < g.n; i++)
		in19 += g.msgs[i].m.frame == 19;
	assert_int_equal(in19, 2);
	got_free(&g);
}

static void test_filter(void **state)
{
	struct got g = {0};
	struct pcap_read_stats st;
	char err[256];
	struct pcap_read_cfg cfg = {.filter = "tcp port 5060"};
	assert_int_equal(read_path("pcaps/sip_ipv4_tcp.pcap", &cfg, &g, &st, err, sizeof(err)), SY_OK);
	/* tshark -r pcaps/sip_ipv4_tcp.pcap -Y "tcp.port==5060" | wc -l: 16 */
	assert_int_equal(st.frames, 16);
	assert_int_equal(st.udp, 0);
	assert_int_equal(st.msgs_sip, 7);
	assert_int_equal(g.msgs[0].m.frame > 1, true); /* numbers are the file's */
	got_free(&g);
	cfg.filter = "tcp port";
	assert_int_equal(read_path("pcaps/sip_ipv4_tcp.pcap", &cfg, &g, &st, err, sizeof(err)), SY_ERR_INVAL);
	assert_non_null(strstr(err, "pcaps/sip_ipv4_tcp.pcap: filter \"tcp port\""));
	got_free(&g);
}

/* Frame k's record offset in a classic pcap file. */
static size_t record_offset(const uint8_t *p, size_t n, int k)
{
	size_t at = 24;
	for (int i = 1; i < k; i++) {
		assert_true(at + 16 <= n);
		at += 16 + (p[at + 8] | p[at + 9] << 8 | p[at + 10] << 16 | (size_t)p[at + 11] << 24);
	}
	return at;
}

static void test_bad_files(void **state)
{
	size_t n;
	uint8_t *p = read_whole("pcaps/sip_ipv4_tcp.pcap", &n);
	char path[128], err[256];
	struct got g = {0};
	struct pcap_read_stats st;
	/* Cut in the middle of frame 10's data, then of frame 20's header. */
	tmp_path(path, sizeof(path), "cut.pcap");
	write_file(path, p, record_offset(p, n, 10) + 16 + 30);
	assert_int_equal(read_path(path, NULL, &g, &st, err, sizeof(err)), SY_ERR_PARSE);
	print_message("%s\n", err);
	char want[256];
	snprintf(want, sizeof(want), "%s: frame 10: truncated (libpcap: ", path);
	assert_memory_equal(err, want, strlen(want));
	assert_int_equal(st.frames, 9);
	got_free(&g);
	write_file(path, p, record_offset(p, n, 20) + 5);
	assert_int_equal(read_path(path, NULL, &g, &st, err, sizeof(err)), SY_ERR_PARSE);
	snprintf(want, sizeof(want), "%s: frame 20: truncated (libpcap: ", path);
	assert_memory_equal(err, want, strlen(want));
	got_free(&g);
	/* Random bytes (a fixed xorshift stream). */
	uint64_t x = 88172645463325252ull;
	for (size_t i = 0; i < 4096; i++) {
		x ^= x << 13, x ^= x >> 7, x ^= x << 17;
		p[i] = (uint8_t)x;
	}
	tmp_path(path, sizeof(path), "random.pcap");
	write_file(path, p, 4096);
	assert_int_equal(read_path(path, NULL, &g, &st, err, sizeof(err)), SY_ERR_PARSE);
	print_message("%s\n", err);
	snprintf(want, sizeof(want), "%s: not a capture (libpcap: ", path);
	assert_memory_equal(err, want, strlen(want));
	write_file(path, p, 0);
	assert_int_equal(read_path(path, NULL, &g, &st, err, sizeof(err)), SY_ERR_PARSE);
	assert_memory_equal(err, want, strlen(want));
	tmp_path(path, sizeof(path), "missing.pcap");
	assert_int_equal(read_path(path, NULL, &g, &st, err, sizeof(err)), SY_ERR_NOTFOUND);
	assert_int_equal(g.total, 0);
	char name[32];
	assert_string_equal(pcap_linktype_name(147, name, sizeof(name)), "LINKTYPE 147");
	free(p);
}

static int setup(void **state)
{
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/sy-test-pcap.XXXXXX");
	return mkdtemp(tmpdir) != NULL ? 0 : -1;
}

static int teardown(void **state)
{
	const char *names[] = {"one.cap", "cut.pcap", "random.pcap"};
	char path[128];
	for (size_t i = 0; i < SY_ARRAY_LEN(names); i++) {
		tmp_path(path, sizeof(path), names[i]);
		unlink(path);
	}
	return rmdir(tmpdir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_link_types),
	    cmocka_unit_test(test_link_errors),
	    cmocka_unit_test(test_ipv4_fragments),
	    cmocka_unit_test(test_ipv6_fragments),
	    cmocka_unit_test(test_tcp_sip_out_of_order),
	    cmocka_unit_test(test_tcp_sip_packed),
	    cmocka_unit_test(test_tcp_smpp),
	    cmocka_unit_test(test_tcp_gap),
	    cmocka_unit_test(test_tcp_rst_and_midstream),
	    cmocka_unit_test(test_tcp_total_bound),
	    cmocka_unit_test(test_ipv6_ext_headers),
	    cmocka_unit_test(test_file_pcap_and_pcapng),
	    cmocka_unit_test(test_real_captures),
	    cmocka_unit_test(test_real_smpp),
	    cmocka_unit_test(test_real_stamps_past_2038),
	    cmocka_unit_test(test_filter),
	    cmocka_unit_test(test_bad_files),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
