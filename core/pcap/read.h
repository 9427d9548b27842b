/* read.h: reading captures. libpcap parses the file (pcap and pcapng,
 * either byte order, micro- or nanosecond stamps) through the env's file
 * operations (a cookie FILE, so core/ opens nothing itself and the
 * simulator reads the same way); the decoder below takes each frame from
 * its link layer (Ethernet with VLAN tags, Linux cooked SLL/SLL2, raw IP,
 * BSD loopback) through IPv4/IPv6 (fragments reassembled) to UDP and TCP
 * (streams reassembled: out-of-order segments, retransmissions), and cuts
 * application messages out: a SIP message per UDP datagram or per
 * Content-Length frame of a TCP stream, an SMPP PDU per command_length.
 *
 * Bad input never stops the process: a frame that does not decode is
 * counted (stats.malformed, first_malformed_frame) and skipped; a file
 * libpcap cannot read, or one that ends in the middle of a frame, is an
 * error naming the frame ("FILE: frame N: truncated ..."). */
#ifndef SY_PCAP_READ_H
#define SY_PCAP_READ_H

#include "core/env.h"

enum pcap_proto { PCAP_PROTO_UDP = 17, PCAP_PROTO_TCP = 6 };
enum pcap_app { PCAP_APP_OTHER = 0, PCAP_APP_SIP, PCAP_APP_SMPP };

/* One application message: a UDP datagram's payload, or one SIP message /
 * SMPP PDU cut out of a reassembled TCP stream. */
struct pcap_msg {
	uint64_t frame; /* 1-based number of the frame that completed it */
	uint64_t ts_ns; /* that frame's capture time, ns since the epoch */
	enum pcap_proto proto;
	enum pcap_app app;
	struct sy_addr src, dst;
	const uint8_t *data; /* valid during the callback only */
	size_t len;
};

struct pcap_read_cfg {
	const char *filter;	 /* a BPF expression (tcpdump syntax); NULL = every frame */
	uint16_t smpp_ports[4];	 /* TCP ports framed as SMPP; all 0 = 2775 */
	size_t tcp_buffer_max;	 /* bytes held per TCP direction awaiting a gap; 0 = 1 MiB */
	uint64_t frames_max;	 /* stop after this many frames; 0 = all */
	size_t tcp_total_max;	 /* bytes held by all TCP directions together; 0 = 256 MiB (added by the reader) */
};

struct pcap_read_stats {
	uint32_t linktype; /* LINKTYPE_* of the (first) interface */
	uint64_t frames, bytes;
	uint64_t first_ts_ns, last_ts_ns;
	uint64_t ts_backwards; /* frames stamped earlier than the frame before */
	uint64_t ipv4, ipv6, udp, tcp, other; /* frames by what they carry */
	uint64_t fragments, reassembled;      /* IP fragments; datagrams rebuilt from them */
	uint64_t tcp_segments, tcp_retrans, tcp_out_of_order, tcp_gaps;
	uint64_t msgs_sip, msgs_smpp, msgs_other;
	uint64_t malformed; /* frames that did not decode, skipped */
	uint64_t first_malformed_frame;
	char first_malformed_why[96];
	/* Added by the reader (h11-read): */
	uint64_t frag_overlaps;	 /* fragments overlapping bytes already held (first copy kept) */
	uint64_t frag_dropped;	 /* datagrams given up: timed out, over a bound, contradictory, unfinished */
	uint64_t tcp_streams;	 /* TCP directions seen (a connection is two) */
	uint64_t tcp_bytes_lost; /* stream bytes skipped over at gaps */
};

/* Return SY_OK to go on; anything else stops the read with that code. */
typedef enum sy_rc (*pcap_msg_fn)(void *arg, const struct pcap_msg *m);

/* Reads PATH through env's files, calling fn for each message in capture
 * order. Any env with file operations will do: sy_live_files() in cmd/
 * (core/live/live.h), a simulated node's env in sim/, the tests' testenv. SY_ERR_NOTFOUND when the file is missing; SY_ERR_PARSE when
 * libpcap rejects it or it is truncated (err: "PATH: frame N: why"). */
enum sy_rc pcap_read_file(const struct sy_env *env, const char *path, const struct pcap_read_cfg *cfg,
			  pcap_msg_fn fn, void *arg, struct pcap_read_stats *stats, char *err, size_t errlen);

/* A link type's name for reports: "Ethernet", "Linux cooked (SLL)", ...;
 * "LINKTYPE N" (in buf) for one the decoder does not know. */
const char *pcap_linktype_name(uint32_t linktype, char *buf, size_t n);

/* The decoder alone, fed frame by frame (the fuzz harness and the unit
 * tests use it; pcap_read_file drives it from libpcap). */
struct pcap_decoder;
struct pcap_decoder *pcap_decoder_create(const struct pcap_read_cfg *cfg, uint32_t linktype, pcap_msg_fn fn,
					 void *arg, struct pcap_read_stats *stats);
/* caplen bytes at data were captured of a frame wire_len long. */
enum sy_rc pcap_decoder_frame(struct pcap_decoder *d, uint64_t frame, uint64_t ts_ns, const uint8_t *data,
			      size_t caplen, size_t wire_len);
/* Flushes what the streams still hold (a last message without its end). */
enum sy_rc pcap_decoder_finish(struct pcap_decoder *d);
void pcap_decoder_destroy(struct pcap_decoder *d);

#endif
