/* tap.h: recording what a node sends and receives. A tap wraps an env:
 * the env it hands out forwards every operation to the inner one and, for
 * the transport operations, also gives each datagram and stream segment
 * (with the connection's open and close) to the tap's sinks, stamped with
 * the env's wall clock (virtual in the simulator). Sinks: a pcap writer
 * (frames synthesized with Ethernet, IPv4/IPv6, UDP and TCP headers, TCP
 * sequence numbers and handshakes kept per connection) and the HEPv3
 * exporter (core/pcap/hep.h). No tap, no cost: a node without --pcap or
 * `hep` runs on its env unwrapped. */
#ifndef SY_PCAP_TAP_H
#define SY_PCAP_TAP_H

#include "core/pcap/read.h"

enum pcap_seg_kind {
	PCAP_SEG_DATA = 0, /* a datagram, or bytes of a stream */
	PCAP_SEG_OPEN,	   /* a stream connected (TCP: SYN, SYN-ACK, ACK) */
	PCAP_SEG_CLOSE,	   /* a stream closed (TCP: FIN) */
};

struct pcap_seg {
	uint64_t ts_ns; /* wall clock, ns since the epoch */
	enum pcap_proto proto;
	enum pcap_seg_kind kind;
	struct sy_addr src, dst;
	uint64_t conn; /* TCP: the connection, unique within the tap; 0 for UDP */
	const uint8_t *data;
	size_t len;
};

struct pcap_sink {
	void (*seg)(void *arg, const struct pcap_seg *s);
	void *arg;
};

struct pcap_tap;
/* Makes *out an env that records into the tap and forwards to inner. */
struct pcap_tap *pcap_tap_create(const struct sy_env *inner, struct sy_env *out);
enum sy_rc pcap_tap_add_sink(struct pcap_tap *t, struct pcap_sink sink);
void pcap_tap_destroy(struct pcap_tap *t);

/* A sink writing a pcap file (libpcap's writer over the env's files). */
struct pcap_writer;
enum sy_rc pcap_writer_open(const struct sy_env *file_env, const char *path, struct pcap_writer **out, char *err,
			    size_t errlen);
struct pcap_sink pcap_writer_sink(struct pcap_writer *w);
/* Flushes and closes; the first write error, if any, is returned. */
enum sy_rc pcap_writer_close(struct pcap_writer *w);

#endif
