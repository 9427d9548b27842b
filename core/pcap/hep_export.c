/* hep_export.c: the HEPv3 exporter, a tap sink (hep.h). Each SIP message
 * the tap sees goes to the collector as one HEP packet over UDP: a UDP
 * datagram as it is, a TCP stream cut into messages by Content-Length.
 * Bounded: one packet buffer, a fixed number of stream slots of a fixed
 * size; a send the network refuses is counted and dropped, never retried
 * or queued, so the node's own traffic never waits on the collector. */
#include <stdio.h>
#include <stdlib.h>

#include "core/pcap/decode_int.h" /* the reader's SIP stream framing */
#include "core/pcap/hep.h"

#define HEP_TCP_SLOTS 64	  /* stream directions framed at once */
#define HEP_TCP_BUF   (64 * 1024) /* bytes held per direction: a SIP message's bound */
#define HEP_LINE_MAX  8192	  /* a start line longer than this is not SIP */

enum hep_dir_kind {
	HEP_DIR_FREE = 0,
	HEP_DIR_UNKNOWN, /* nothing seen yet: the first line tells */
	HEP_DIR_SIP,
	HEP_DIR_RESYNC, /* bytes were lost: wait for a segment that starts a message */
	HEP_DIR_OTHER,	/* not SIP (SMPP, HTTP): ignored to its close */
};

/* One direction of one TCP connection. */
struct hep_dir {
	enum hep_dir_kind kind;
	uint64_t conn;
	struct sy_addr src;
	uint8_t *buf; /* HEP_TCP_BUF, allocated on first use, kept */
	size_t len;
};

struct hep_exporter {
	const struct sy_env *env;
	struct hep_cfg cfg;
	struct sy_dgram *sock;
	struct hep_stats st;
	struct sy_log_limit log_lim;
	struct hep_dir dirs[HEP_TCP_SLOTS];
	uint8_t pkt[HEP_PACKET_MAX];
};

static void hep_recv(void *arg, struct sy_dgram *sock, const struct sy_addr *from, const uint8_t *buf, size_t len)
{
	(void)arg, (void)sock, (void)from, (void)buf, (void)len; /* a collector does not answer */
}

enum sy_rc hep_exporter_create(const struct sy_env *env, const struct hep_cfg *cfg, struct hep_exporter **out,
			       char *err, size_t errlen)
{
	SY_ASSERT(cfg->on);
	*out = NULL;
	struct hep_exporter *h = calloc(1, sizeof(*h));
	if (h == NULL) {
		snprintf(err, errlen, "HEP: out of memory");
		return SY_ERR_NOMEM;
	}
	h->env = env;
	h->cfg = *cfg;
	struct sy_addr local = {.family = cfg->collector.family}; /* any address, any port */
	enum sy_rc rc = sy_env_dgram_open(env, &local, hep_recv, h, &h->sock);
	if (rc != SY_OK) {
		snprintf(err, errlen, "HEP: cannot open a UDP socket towards the collector: %s", sy_rc_str(rc));
		free(h);
		return rc;
	}
	*out = h;
	return SY_OK;
}

void hep_exporter_destroy(struct hep_exporter *h)
{
	if (h == NULL)
		return;
	for (size_t i = 0; i < HEP_TCP_SLOTS; i++)
		free(h->dirs[i].buf);
	sy_env_dgram_close(h->env, h->sock);
	free(h);
}

const struct hep_stats *hep_exporter_stats(const struct hep_exporter *h)
{
	return &h->st;
}

/* One SIP message as one HEP packet. */
static void hep_send(struct hep_exporter *h, const struct pcap_seg *s, const uint8_t *data, size_t len)
{
	struct hep_msg m = {.src = s->src,
			    .dst = s->dst,
			    .ip_proto = (uint8_t)s->proto,
			    .proto_type = HEP_PROTO_SIP,
			    .ts_sec = (uint32_t)(s->ts_ns / SY_NS_PER_S),
			    .ts_usec = (uint32_t)(s->ts_ns % SY_NS_PER_S / SY_NS_PER_US),
			    .capture_id = h->cfg.capture_id,
			    .auth_key = sy_str_from(h->cfg.auth_key),
			    .node_name = sy_str_from(h->cfg.node_name),
			    .payload = data,
			    .payload_len = len};
	size_t n = hep_encode(&m, h->pkt, sizeof(h->pkt));
	if (n == 0) {
		h->st.oversize++;
		return;
	}
	enum sy_rc rc = sy_env_dgram_send(h->env, h->sock, &h->cfg.collector, h->pkt, n);
	if (rc != SY_OK) {
		h->st.dropped++;
		SY_LOG_LIMITED(h->env, &h->log_lim, SY_LOG_WARN, "HEP: send to the collector failed: %s",
			       sy_rc_str(rc));
		return;
	}
	h->st.sent++;
	h->st.bytes += n;
}

/* ---- TCP: a direction's bytes cut into SIP messages ---- */

static struct hep_dir *dir_find(struct hep_exporter *h, const struct pcap_seg *s, bool make)
{
	struct hep_dir *free_slot = NULL;
	for (size_t i = 0; i < HEP_TCP_SLOTS; i++) {
		struct hep_dir *d = &h->dirs[i];
		if (d->kind == HEP_DIR_FREE) {
			if (free_slot == NULL)
				free_slot = d;
		} else if (d->conn == s->conn && sy_addr_eq(&d->src, &s->src)) {
			return d;
		}
	}
	if (!make || free_slot == NULL)
		return NULL;
	if (free_slot->buf == NULL && (free_slot->buf = malloc(HEP_TCP_BUF)) == NULL)
		return NULL;
	free_slot->kind = HEP_DIR_UNKNOWN;
	free_slot->conn = s->conn;
	free_slot->src = s->src;
	free_slot->len = 0;
	return free_slot;
}

static void dir_consume(struct hep_dir *d, size_t n)
{
	SY_ASSERT(n <= d->len);
	memmove(d->buf, d->buf + n, d->len - n);
	d->len -= n;
}

/* The first message's length in d, 0 when it is not all there yet,
 * SIZE_MAX when it can never be framed (the stream must resync). */
static size_t dir_frame(const struct hep_dir *d)
{
	size_t len = 0;
	enum sy_rc rc = pcap__sip_frame(d->buf, d->len, &len);
	if (rc == SY_ERR_PARSE || len > HEP_TCP_BUF)
		return SIZE_MAX;
	if (rc == SY_AGAIN)
		return d->len == HEP_TCP_BUF ? SIZE_MAX : 0;
	return len;
}

/* Whether the buffered bytes start with a SIP start line: 1 yes, -1 no,
 * 0 not known until more arrives. SIP starts with a method or "SIP/2.0",
 * upper case; SMPP with a length's zero byte: no waiting for a line end
 * that never comes. */
static int dir_starts_sip(const struct hep_dir *d)
{
	size_t look = SY_MIN(d->len, (size_t)HEP_LINE_MAX);
	if (d->buf[0] < 'A' || d->buf[0] > 'Z')
		return -1;
	if (memchr(d->buf, '\n', look) == NULL && look < HEP_LINE_MAX)
		return 0;
	return hep_looks_sip(d->buf, d->len) ? 1 : -1;
}

static void dir_resync(struct hep_exporter *h, struct hep_dir *d)
{
	h->st.tcp_lost += d->len;
	d->len = 0;
	d->kind = HEP_DIR_RESYNC;
}

/* Sends every whole message the direction holds. The first line decides
 * what a new direction carries; on a SIP stream, a message that does not
 * start with a start line means the framing was lost. */
static void dir_drain(struct hep_exporter *h, struct hep_dir *d, const struct pcap_seg *s)
{
	for (;;) {
		size_t skip = 0; /* CRLF keepalives between messages (RFC 5626 4.4.1) */
		while (skip < d->len && (d->buf[skip] == '\r' || d->buf[skip] == '\n'))
			skip++;
		dir_consume(d, skip);
		if (d->len == 0)
			return;
		int sip = dir_starts_sip(d);
		if (sip == 0)
			return;
		if (sip < 0 && d->kind == HEP_DIR_UNKNOWN) {
			d->kind = HEP_DIR_OTHER;
			h->st.not_sip++;
			d->len = 0;
			return;
		}
		if (sip < 0) {
			dir_resync(h, d);
			return;
		}
		d->kind = HEP_DIR_SIP;
		size_t n = dir_frame(d);
		if (n == 0)
			return;
		if (n == SIZE_MAX) {
			dir_resync(h, d);
			return;
		}
		h->st.tcp_msgs++;
		hep_send(h, s, d->buf, n);
		dir_consume(d, n);
	}
}

static void hep_tcp_data(struct hep_exporter *h, const struct pcap_seg *s)
{
	struct hep_dir *d = dir_find(h, s, true);
	if (d == NULL) {
		h->st.tcp_lost += s->len;
		return;
	}
	if (d->kind == HEP_DIR_OTHER)
		return;
	if (d->kind == HEP_DIR_RESYNC) {
		if (!hep_looks_sip(s->data, s->len)) {
			h->st.tcp_lost += s->len;
			return;
		}
		d->kind = HEP_DIR_SIP;
	}
	if (s->len > HEP_TCP_BUF - d->len) {
		h->st.tcp_lost += s->len;
		dir_resync(h, d);
		return;
	}
	memcpy(d->buf + d->len, s->data, s->len);
	d->len += s->len;
	dir_drain(h, d, s);
}

/* Both directions of a closed connection give their slots back; a message
 * left without its end is lost. */
static void hep_tcp_close(struct hep_exporter *h, uint64_t conn)
{
	for (size_t i = 0; i < HEP_TCP_SLOTS; i++) {
		struct hep_dir *d = &h->dirs[i];
		if (d->kind != HEP_DIR_FREE && d->conn == conn) {
			if (d->kind == HEP_DIR_SIP || d->kind == HEP_DIR_UNKNOWN)
				h->st.tcp_lost += d->len;
			d->kind = HEP_DIR_FREE;
			d->len = 0;
		}
	}
}

static void hep_seg(void *arg, const struct pcap_seg *s)
{
	struct hep_exporter *h = arg;
	if (s->proto == PCAP_PROTO_TCP) {
		if (s->kind == PCAP_SEG_DATA && s->len > 0)
			hep_tcp_data(h, s);
		else if (s->kind == PCAP_SEG_CLOSE)
			hep_tcp_close(h, s->conn);
		return;
	}
	if (s->kind != PCAP_SEG_DATA)
		return;
	if (hep_looks_sip(s->data, s->len))
		hep_send(h, s, s->data, s->len);
	else
		h->st.not_sip++;
}

struct pcap_sink hep_exporter_sink(struct hep_exporter *h)
{
	return (struct pcap_sink){.seg = hep_seg, .arg = h};
}
