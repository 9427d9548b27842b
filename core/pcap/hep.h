/* hep.h: HEPv3 (the HEP/EEP encapsulation of sipcapture.org, which Homer,
 * heplify-server and most SIP stacks speak), and the exporter that sends a
 * HEP copy of every SIP message a node sends or receives to a collector.
 *
 * A HEPv3 packet is "HEP3", a 16-bit total length, then chunks: a 16-bit
 * vendor (0 = generic), a 16-bit type and a 16-bit length that counts the
 * chunk's own 6-byte header; every integer in network byte order. The
 * generic chunk types used here are numbered as in the HEP3 network
 * protocol specification (github.com/sipcapture/HEP). The encoder and the
 * decoder are pure: no IO, no allocation.
 *
 * Protocol types: SIP is 0x01. The specification's list (SIP, XMPP, SDP,
 * RTP, RTCP, MGCP, MEGACO, M2UA, M3UA, IAX, H.322, H.321, M2PA, MOS reports,
 * SIP/DNS/M3UA/RTSP/DIAMETER/GSM MAP JSON, CDR, LOG...) assigns none to
 * SMPP, so SMPP PDUs are not exported: a collector would have no way to
 * tell them from any other payload. */
#ifndef SY_PCAP_HEP_H
#define SY_PCAP_HEP_H

#include "core/env.h"
#include "core/metrics/counters.h"
#include "core/pcap/tap.h"

#define HEP_PORT_DEFAULT 9060  /* the port collectors listen on by custom */
#define HEP_ID_DEFAULT	 2001  /* capture agent id when [node] hep_id is not set */
#define HEP_KEY_MAX	 64    /* bytes of the auth key ([node] hep_password) */
#define HEP_NODE_MAX	 64    /* bytes of the node name ([node] hep_node) */
#define HEP_HDR_LEN	 6     /* "HEP3" and the total length; also a chunk's header */
#define HEP_PACKET_MAX	 65535 /* the total length is 16 bits */

/* Generic chunk types (vendor 0). */
enum hep_chunk_type {
	HEP_CH_IP_FAMILY = 0x0001,  /* uint8: 2 = IPv4, 10 = IPv6 */
	HEP_CH_IP_PROTO = 0x0002,   /* uint8: 17 = UDP, 6 = TCP */
	HEP_CH_SRC_IP4 = 0x0003,    /* 4 bytes */
	HEP_CH_DST_IP4 = 0x0004,    /* 4 bytes */
	HEP_CH_SRC_IP6 = 0x0005,    /* 16 bytes */
	HEP_CH_DST_IP6 = 0x0006,    /* 16 bytes */
	HEP_CH_SRC_PORT = 0x0007,   /* uint16 */
	HEP_CH_DST_PORT = 0x0008,   /* uint16 */
	HEP_CH_TS_SEC = 0x0009,	    /* uint32: Unix seconds */
	HEP_CH_TS_USEC = 0x000a,    /* uint32: microseconds within the second */
	HEP_CH_PROTO_TYPE = 0x000b, /* uint8: HEP_PROTO_* */
	HEP_CH_CAPTURE_ID = 0x000c, /* uint32: the capture agent's id */
	HEP_CH_AUTH_KEY = 0x000e,   /* octets: a password the collector may check */
	HEP_CH_PAYLOAD = 0x000f,    /* octets: the captured message */
	HEP_CH_NODE_NAME = 0x0013,  /* octets: the capture node's name */
};

enum { HEP_FAMILY_IP4 = 2, HEP_FAMILY_IP6 = 10 };
enum { HEP_PROTO_SIP = 0x01 };

/* One HEP packet's fields. The strings and the payload are slices: into
 * the caller's memory when encoding, into the packet when decoded. */
struct hep_msg {
	struct sy_addr src, dst; /* same family; it gives the family chunk */
	uint8_t ip_proto;	 /* 17 UDP, 6 TCP */
	uint8_t proto_type;	 /* HEP_PROTO_SIP */
	uint32_t ts_sec, ts_usec;
	uint32_t capture_id;
	struct sy_str auth_key;	 /* empty: no chunk */
	struct sy_str node_name; /* empty: no chunk */
	const uint8_t *payload;
	size_t payload_len;
};

/* The size hep_encode() writes for m. */
size_t hep_encoded_len(const struct hep_msg *m);
/* Writes m as one HEPv3 packet into buf: the chunks in the order of
 * enum hep_chunk_type, the payload last. Returns its length, or 0 when it
 * does not fit in cap or in HEP_PACKET_MAX (nothing useful is written). */
size_t hep_encode(const struct hep_msg *m, uint8_t *buf, size_t cap);
/* Reads one HEPv3 packet from the start of buf; *used is its total length
 * (a stream may hold more). Chunks of other vendors and unknown generic
 * types are skipped; a known chunk of the wrong size, one that runs past
 * the packet, a repeated one, or a missing family, protocol, address,
 * port, time, protocol type, capture id or payload is SY_ERR_PARSE with
 * the reason in *why. SY_AGAIN: buf holds less than the packet's length. */
enum sy_rc hep_decode(const uint8_t *buf, size_t len, struct hep_msg *out, size_t *used, const char **why);

/* ---- the exporter: a tap sink (tap.h) ---- */

/* [node] hep, hep_id, hep_password, hep_node (docs/pcap.md). */
struct hep_cfg {
	bool on; /* hep = HOST:PORT was given */
	struct sy_addr collector;
	uint32_t capture_id;
	char auth_key[HEP_KEY_MAX + 1]; /* "" = no auth key chunk */
	char node_name[HEP_NODE_MAX + 1];
};

struct hep_stats {
	uint64_t sent;	   /* HEP packets handed to the network */
	uint64_t bytes;	   /* their bytes */
	uint64_t dropped;  /* the network refused them (counted, never retried) */
	uint64_t oversize; /* SIP messages too large for one HEP packet */
	uint64_t not_sip;  /* datagrams and stream messages that carry no SIP (SMPP, HTTP, keepalives) */
	uint64_t tcp_lost; /* stream bytes given up on: unframeable, over the buffer, or no slot */
	uint64_t tcp_msgs; /* SIP messages cut out of TCP streams (part of sent) */
};
extern const struct sy_counter_table hep_counters; /* struct hep_stats */

struct hep_exporter;
/* env sends the HEP packets: the node's own env, not the tap's (a HEP
 * packet is no message of the node's and must not be tapped itself). */
enum sy_rc hep_exporter_create(const struct sy_env *env, const struct hep_cfg *cfg, struct hep_exporter **out,
			       char *err, size_t errlen);
struct pcap_sink hep_exporter_sink(struct hep_exporter *h);
const struct hep_stats *hep_exporter_stats(const struct hep_exporter *h);
void hep_exporter_destroy(struct hep_exporter *h);

/* True when data starts with a SIP start line: "SIP/2.0 NNN " or a
 * request line "METHOD SP URI SP SIP/2.0". The exporter's test. */
bool hep_looks_sip(const uint8_t *data, size_t len);

#endif
