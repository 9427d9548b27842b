/* decode_int.h: the decoder's insides, shared by decode.c (link layers,
 * IPv4/IPv6, UDP), ipfrag.c (fragment reassembly), tcp.c (stream
 * reassembly) and frame.c (cutting SIP messages and SMPP PDUs out of a
 * stream). Not for use outside core/pcap/. */
#ifndef SY_PCAP_DECODE_INT_H
#define SY_PCAP_DECODE_INT_H

#include "core/htab.h"
#include "core/pcap/read.h"

/* Link types by their LINKTYPE_* numbers (tcpdump.org/linktypes.html);
 * libpcap hands some out as DLT_* values, mapped in pcap__linktype(). */
enum {
	PCAP_LT_NULL = 0,
	PCAP_LT_ETHERNET = 1,
	PCAP_LT_RAW = 101,
	PCAP_LT_LOOP = 108,
	PCAP_LT_SLL = 113,
	PCAP_LT_IPV4 = 228,
	PCAP_LT_IPV6 = 229,
	PCAP_LT_SLL2 = 276,
};

/* Limits: every table and buffer of the decoder has one. */
enum {
	PCAP_VLAN_TAGS_MAX = 4,		  /* 802.1Q, QinQ and one more level */
	PCAP_IPV6_EXT_MAX = 8,		  /* extension headers followed per packet */
	PCAP_FRAG_DGRAMS_MAX = 256,	  /* IP datagrams being reassembled at once */
	PCAP_FRAG_BYTES_MAX = 8u << 20,	  /* their buffers, all together */
	PCAP_FRAG_DGRAM_MAX = 65535 + 40, /* largest datagram rebuilt (IPv4 limit; IPv6 without jumbograms) */
	PCAP_TCP_DIRS_MAX = 16384,	  /* TCP directions tracked at once */
	PCAP_TCP_SEGS_MAX = 4096,	  /* out-of-order segments held per direction */
	PCAP_SIP_HEAD_MAX = 64 * 1024,	  /* SIP start line and headers, without the body */
	PCAP_SIP_BODY_MAX = 1u << 20,	  /* Content-Length accepted on a stream */
};

#define PCAP_FRAG_TIMEOUT_NS (30ull * 1000000000ull)  /* Linux's ipfrag_time */
#define PCAP_TCP_IDLE_NS     (600ull * 1000000000ull) /* a direction silent this long is forgotten */

/* A datagram's network layer, as handed to the transport layer. */
struct pcap_ip {
	uint8_t family; /* SY_AF_INET or SY_AF_INET6 */
	uint8_t proto;	/* transport: 17 UDP, 6 TCP, ... */
	uint8_t src[16], dst[16];
};

/* The frame being decoded. */
struct pcap_cur {
	uint64_t frame, ts_ns;
};

struct pcap_frag;
struct pcap_tcp_dir;

struct pcap_decoder {
	struct pcap_read_cfg cfg;
	uint32_t linktype;
	pcap_msg_fn fn;
	void *arg;
	struct pcap_read_stats *stats;
	struct pcap_cur cur;
	enum sy_rc stop; /* the first non-OK rc of fn: every later frame is ignored */

	/* ipfrag.c */
	struct pcap_frag *frags; /* oldest first */
	uint32_t frag_n;
	size_t frag_bytes;

	/* tcp.c */
	struct sy_htab tcp;
	struct pcap_tcp_dir *tcp_lru; /* least recently active first */
	struct pcap_tcp_dir *tcp_mru;
	uint32_t tcp_n;
	size_t tcp_held; /* stream and out-of-order buffer bytes of all directions */
};

/* decode.c */
void pcap__malformed(struct pcap_decoder *d, const char *why);
void pcap__emit(struct pcap_decoder *d, const struct pcap_ip *ip, uint16_t sport, uint16_t dport, enum pcap_proto proto,
		enum pcap_app app, const uint8_t *p, size_t n);
/* The transport layer of a whole (possibly reassembled) IP datagram. */
void pcap__transport(struct pcap_decoder *d, const struct pcap_ip *ip, const uint8_t *p, size_t n);
/* IPv6 extension headers from next header nh at p: sets *proto and *off
 * to the transport; the fragment header, if met, is left to the caller
 * (*frag_off set, else SIZE_MAX). false: malformed. */
bool pcap__ipv6_ext(uint8_t nh, const uint8_t *p, size_t n, uint8_t *proto, size_t *off, size_t *frag_off);
uint32_t pcap__linktype(int dlt);

/* ipfrag.c: one fragment of datagram id; off in bytes; last: no more
 * fragments follow it. proto is the transport (IPv6: the fragment
 * header's next header; only the first fragment's counts there). */
void pcap__frag_add(struct pcap_decoder *d, const struct pcap_ip *ip, uint32_t id, size_t off, bool last,
		    const uint8_t *p, size_t n);
void pcap__frag_free_all(struct pcap_decoder *d);

/* tcp.c */
void pcap__tcp_segment(struct pcap_decoder *d, const struct pcap_ip *ip, const uint8_t *p, size_t n);
void pcap__tcp_finish(struct pcap_decoder *d);
void pcap__tcp_free_all(struct pcap_decoder *d);
bool pcap__smpp_port(const struct pcap_decoder *d, uint16_t port);

/* frame.c: application framing. */
/* 1: p starts a SIP request or status line; 0: it does not; -1: the
 * line is not complete yet (a stream may still make it one). */
int pcap__sip_start(const uint8_t *p, size_t n);
/* The length of the SIP message at p (headers, blank line, Content-Length
 * of body): SY_OK with *len, SY_AGAIN when incomplete, SY_ERR_PARSE when
 * it cannot be framed. */
enum sy_rc pcap__sip_frame(const uint8_t *p, size_t n, size_t *len);
/* The offset of the next SIP start line in p (after a line end), or n. */
size_t pcap__sip_resync(const uint8_t *p, size_t n);
/* Whether the 16 bytes at p are a plausible SMPP header. */
bool pcap__smpp_header_ok(const uint8_t *p, size_t n);
/* The offset of the next plausible SMPP header, or n. */
size_t pcap__smpp_resync(const uint8_t *p, size_t n);

#endif
