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
/* Stream wrappers alive: an owner's stream from its open until on_close or
 * its close (a simulated crash leaves some until pcap_tap_destroy). */
uint32_t pcap_tap_streams(const struct pcap_tap *t);
/* For traffic that does not pass through the env (serve's HTTP API runs
 * on libevent's HTTP server, core/live/http.c): a fresh connection id,
 * unique within the tap beside its own streams', and a segment given to
 * every sink as the tap's own would be. s->ts_ns 0: stamped with the
 * wall clock of the env the tap wraps. */
uint64_t pcap_tap_conn_id(struct pcap_tap *t);
void pcap_tap_record(struct pcap_tap *t, const struct pcap_seg *s);

/* A sink writing a pcap file (libpcap's writer over the env's files). */
struct pcap_writer;
enum sy_rc pcap_writer_open(const struct sy_env *file_env, const char *path, struct pcap_writer **out, char *err,
			    size_t errlen);
struct pcap_sink pcap_writer_sink(struct pcap_writer *w);
/* Flushes and closes; the first write error, if any, is returned. */
enum sy_rc pcap_writer_close(struct pcap_writer *w);
/* Hands what is buffered to the file, whole frames only (the writer also
 * does it on its own every PCAP_WRITER_FLUSH_BYTES), so a capture cut
 * short by a kill ends on a frame boundary and stays readable. */
enum sy_rc pcap_writer_flush(struct pcap_writer *w);
#define PCAP_WRITER_FLUSH_BYTES (64u * 1024)

struct pcap_writer_stats {
	uint64_t frames;  /* frames written (handshakes, ACKs and FINs included) */
	uint64_t segs;	  /* segments given to the sink */
	uint64_t dgrams;  /* UDP datagrams among them */
	uint64_t too_big; /* datagrams no IP packet can hold (over 65,507 bytes), skipped */
	uint64_t bytes;	  /* file bytes handed to the env, header included */
	uint64_t flushes;
	enum sy_rc error; /* the first write error, or SY_OK */
};
void pcap_writer_stats(const struct pcap_writer *w, struct pcap_writer_stats *out);

/* What a command needs to capture one node: the tap is made when the
 * first sink is added (a node with none runs on its own env, unwrapped),
 * and --pcap's writer is one of the sinks; the HEP exporter adds its own.
 *   struct pcap_node_tap nt;
 *   pcap_node_tap_init(&nt, env);
 *   pcap_node_tap_pcap(&nt, sy_live_files(), path, timer_env, err, n);
 *   pcap_node_tap_add(&nt, hep_sink);
 *   env = pcap_node_tap_env(&nt);          // give this to the components
 *   ... components destroyed ...
 *   pcap_node_tap_close(&nt);              // flushes, closes, frees */
struct pcap_node_tap {
	const struct sy_env *inner;
	struct sy_env env;
	struct pcap_tap *tap;
	struct pcap_writer *writer;
	const struct sy_env *timer_env; /* flushes the writer every second (live); NULL: no timer (sim) */
	sy_timer_id flush_timer;
};
void pcap_node_tap_init(struct pcap_node_tap *nt, const struct sy_env *inner);
enum sy_rc pcap_node_tap_add(struct pcap_node_tap *nt, struct pcap_sink sink);
/* Opens PATH through file_env (real files even for a simulated node, so
 * the capture touches neither the simulated disk nor the run's digest) and
 * adds the writer. timer_env: the env whose timer flushes it once a second
 * (a live node's own), or NULL. err: "PATH: why". */
enum sy_rc pcap_node_tap_pcap(struct pcap_node_tap *nt, const struct sy_env *file_env, const char *path,
			      const struct sy_env *timer_env, char *err, size_t errlen);
/* The env to hand to the node's components: the tap's, or inner. Add
 * every sink first: the env changes from inner to the tap's with the
 * first one. */
const struct sy_env *pcap_node_tap_env(const struct pcap_node_tap *nt);
/* After the components are gone: frees the tap, closes the writer; its
 * first write error, if any, is returned. */
enum sy_rc pcap_node_tap_close(struct pcap_node_tap *nt);

#endif
