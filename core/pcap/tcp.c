/* tcp.c: TCP stream reassembly for the decoder, one state per direction.
 * In-order bytes go to the direction's buffer and are cut into SIP
 * messages or SMPP PDUs (frame.c) as soon as one is whole; segments ahead
 * of the next expected byte wait, up to cfg.tcp_buffer_max bytes; bytes
 * already received (retransmissions, overlaps) are dropped, the first copy
 * kept. When the hole cannot be filled (the buffer is full, or the stream
 * ends), the gap is counted, the partial message dropped, and framing
 * resumes at the next message start found in the stream. */
#include <stdlib.h>
#include <string.h>

#include "core/pcap/decode_int.h"

enum { TCP_FIN = 0x01, TCP_SYN = 0x02, TCP_RST = 0x04 };
#define TCP_KEY_LEN 37

struct pcap_tcp_seg {
	struct pcap_tcp_seg *next; /* by sequence number */
	uint32_t seq, len;
	uint8_t data[];
};

struct pcap_tcp_dir {
	struct sy_hnode node;
	uint8_t key[TCP_KEY_LEN];
	struct pcap_ip ip;
	uint16_t sport, dport;
	struct pcap_tcp_dir *older, *newer; /* activity order */
	uint64_t last_ns;
	bool seq_known, synced, closed, fin_seen, app_known, syn_seen;
	enum pcap_app app;
	uint32_t next_seq, fin_seq, isn;
	uint8_t *buf; /* in-order bytes not framed yet */
	size_t len, cap;
	struct pcap_tcp_seg *ooo; /* ahead of next_seq */
	uint32_t ooo_n;
	size_t ooo_bytes;
};

static int32_t seq_diff(uint32_t a, uint32_t b)
{
	return (int32_t)(a - b);
}

static uint16_t be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

bool pcap__smpp_port(const struct pcap_decoder *d, uint16_t port)
{
	for (size_t i = 0; i < SY_ARRAY_LEN(d->cfg.smpp_ports); i++)
		if (d->cfg.smpp_ports[i] != 0 && d->cfg.smpp_ports[i] == port)
			return true;
	return false;
}

/* ---- the table of directions, in activity order ---- */

static void lru_unlink(struct pcap_decoder *d, struct pcap_tcp_dir *t)
{
	if (t->older != NULL)
		t->older->newer = t->newer;
	else
		d->tcp_lru = t->newer;
	if (t->newer != NULL)
		t->newer->older = t->older;
	else
		d->tcp_mru = t->older;
	t->older = t->newer = NULL;
}

static void lru_push(struct pcap_decoder *d, struct pcap_tcp_dir *t)
{
	t->older = d->tcp_mru;
	t->newer = NULL;
	if (d->tcp_mru != NULL)
		d->tcp_mru->newer = t;
	else
		d->tcp_lru = t;
	d->tcp_mru = t;
}

static void dir_clear(struct pcap_decoder *d, struct pcap_tcp_dir *t)
{
	d->tcp_held -= t->cap + t->ooo_bytes;
	while (t->ooo != NULL) {
		struct pcap_tcp_seg *s = t->ooo;
		t->ooo = s->next;
		free(s);
	}
	t->ooo_n = 0;
	t->ooo_bytes = 0;
	free(t->buf);
	t->buf = NULL;
	t->len = t->cap = 0;
}

static void dir_free(struct pcap_decoder *d, struct pcap_tcp_dir *t)
{
	sy_htab_remove(&d->tcp, &t->node);
	lru_unlink(d, t);
	dir_clear(d, t);
	d->tcp_n--;
	free(t);
}

static void dir_key(const struct pcap_ip *ip, uint16_t sport, uint16_t dport, uint8_t *key)
{
	key[0] = ip->family;
	memcpy(key + 1, ip->src, 16);
	memcpy(key + 17, ip->dst, 16);
	key[33] = (uint8_t)(sport >> 8);
	key[34] = (uint8_t)sport;
	key[35] = (uint8_t)(dport >> 8);
	key[36] = (uint8_t)dport;
}

/* ---- framing the in-order bytes ---- */

static void buf_consume(struct pcap_tcp_dir *t, size_t n)
{
	SY_ASSERT(n <= t->len);
	if (n == 0)
		return;
	memmove(t->buf, t->buf + n, t->len - n);
	t->len -= n;
}

/* What the direction carries, from its port or first bytes. false: not
 * known yet (too few bytes to tell). */
static bool dir_app(struct pcap_decoder *d, struct pcap_tcp_dir *t)
{
	if (pcap__smpp_port(d, t->sport) || pcap__smpp_port(d, t->dport)) {
		t->app = PCAP_APP_SMPP;
		return true;
	}
	size_t at = 0;
	while (at < t->len && (t->buf[at] == '\r' || t->buf[at] == '\n'))
		at++;
	int s = pcap__sip_start(t->buf + at, t->len - at);
	if (s == -1 && t->len < 1024)
		return false;
	/* 5060 only: 5061 is SIP over TLS, which no capture lets us read. */
	bool sip_port = t->sport == 5060 || t->dport == 5060;
	bool has_sip = t->len >= 7 && memmem(t->buf, t->len, "SIP/2.0", 7) != NULL;
	t->app = s == 1 || sip_port || has_sip ? PCAP_APP_SIP : PCAP_APP_OTHER;
	return true;
}

/* Finds the next message start in an unsynchronised stream: true when
 * the buffer now opens with one. */
static bool dir_resync(struct pcap_decoder *d, struct pcap_tcp_dir *t)
{
	size_t skip = t->app == PCAP_APP_SIP ? pcap__sip_resync(t->buf, t->len) : pcap__smpp_resync(t->buf, t->len);
	size_t lost = skip;
	/* CRLF keep-alives ahead of a first message are not lost bytes. */
	for (size_t i = 0; i < skip && t->app == PCAP_APP_SIP && (t->buf[i] == '\r' || t->buf[i] == '\n'); i++)
		lost--;
	d->stats->tcp_bytes_lost += lost;
	buf_consume(t, skip);
	if (t->app == PCAP_APP_SIP)
		t->synced = t->len > 0 && pcap__sip_start(t->buf, t->len) == 1;
	else
		t->synced = pcap__smpp_header_ok(t->buf, t->len);
	return t->synced;
}

/* The length of the whole message the buffer opens with: SY_OK, SY_AGAIN
 * (wait for more), SY_ERR_PARSE (the stream is out of step). */
static enum sy_rc dir_next_msg(struct pcap_tcp_dir *t, size_t *mlen)
{
	if (t->app == PCAP_APP_SMPP) {
		if (t->len < 16)
			return SY_AGAIN;
		if (!pcap__smpp_header_ok(t->buf, t->len))
			return SY_ERR_PARSE;
		*mlen = be32(t->buf);
		return t->len < *mlen ? SY_AGAIN : SY_OK;
	}
	/* CRLF keep-alives (RFC 5626 §3.5.1) between messages. */
	size_t at = 0;
	while (at < t->len && (t->buf[at] == '\r' || t->buf[at] == '\n'))
		at++;
	buf_consume(t, at);
	int s = pcap__sip_start(t->buf, t->len);
	if (s != 1)
		return s == 0 ? SY_ERR_PARSE : SY_AGAIN;
	return pcap__sip_frame(t->buf, t->len, mlen);
}

static void dir_frame(struct pcap_decoder *d, struct pcap_tcp_dir *t)
{
	if (t->len == 0)
		return;
	if (!t->app_known) {
		if (!dir_app(d, t))
			return;
		t->app_known = true;
	}
	while (t->len > 0 && d->stop == SY_OK) {
		if (t->app == PCAP_APP_OTHER) {
			pcap__emit(d, &t->ip, t->sport, t->dport, PCAP_PROTO_TCP, PCAP_APP_OTHER, t->buf, t->len);
			t->len = 0;
			return;
		}
		if (!t->synced && !dir_resync(d, t))
			return;
		size_t mlen = 0;
		enum sy_rc rc = dir_next_msg(t, &mlen);
		if (rc == SY_AGAIN)
			return;
		if (rc != SY_OK) {
			pcap__malformed(d, t->app == PCAP_APP_SIP ? "tcp: SIP stream out of step"
								  : "tcp: SMPP stream out of step");
			t->synced = false;
			buf_consume(t, 1); /* resync from the next byte on */
			d->stats->tcp_bytes_lost++;
			continue;
		}
		pcap__emit(d, &t->ip, t->sport, t->dport, PCAP_PROTO_TCP, t->app, t->buf, mlen);
		buf_consume(t, mlen);
	}
}

/* ---- sequence space ---- */

static void buf_append(struct pcap_decoder *d, struct pcap_tcp_dir *t, const uint8_t *p, size_t n)
{
	/* A message may be up to its headers plus its body bound; anything
	 * longer that has not framed is not a message we can cut out. */
	size_t max = SY_MAX(d->cfg.tcp_buffer_max, (size_t)PCAP_SIP_HEAD_MAX + PCAP_SIP_BODY_MAX);
	if (t->len + n > max) {
		pcap__malformed(d, "tcp: message larger than the stream buffer");
		d->stats->tcp_bytes_lost += t->len;
		t->len = 0;
		t->synced = false;
		if (n > max) {
			d->stats->tcp_bytes_lost += n;
			return;
		}
	}
	if (t->len + n > t->cap) {
		size_t cap = SY_MAX(t->len + n, SY_MIN(t->cap * 2 + 4096, max));
		uint8_t *b = realloc(t->buf, cap);
		if (b == NULL) {
			d->stats->tcp_bytes_lost += n;
			return;
		}
		d->tcp_held += cap - t->cap;
		t->buf = b;
		t->cap = cap;
	}
	memcpy(t->buf + t->len, p, n);
	t->len += n;
}

/* Moves waiting segments that now join the in-order bytes into the buffer. */
static void ooo_drain(struct pcap_decoder *d, struct pcap_tcp_dir *t)
{
	while (t->ooo != NULL && seq_diff(t->ooo->seq, t->next_seq) <= 0) {
		struct pcap_tcp_seg *s = t->ooo;
		t->ooo = s->next;
		t->ooo_n--;
		t->ooo_bytes -= s->len;
		d->tcp_held -= s->len;
		uint32_t end = s->seq + s->len;
		if (seq_diff(end, t->next_seq) > 0) {
			uint32_t skip = t->next_seq - s->seq;
			buf_append(d, t, s->data + skip, s->len - skip);
			t->next_seq = end;
		} else {
			d->stats->tcp_retrans++;
		}
		free(s);
	}
}

/* Gives up on the bytes before to_seq: the message they belonged to is
 * dropped and framing resumes at the next message start. */
static void dir_gap(struct pcap_decoder *d, struct pcap_tcp_dir *t, uint32_t to_seq)
{
	d->stats->tcp_gaps++;
	d->stats->tcp_bytes_lost += (uint32_t)(to_seq - t->next_seq) + t->len;
	t->len = 0;
	t->synced = false;
	t->next_seq = to_seq;
	ooo_drain(d, t);
}

/* Holds a segment ahead of next_seq; false when it is a copy of one held. */
static bool ooo_insert(struct pcap_decoder *d, struct pcap_tcp_dir *t, uint32_t seq, const uint8_t *p, size_t n)
{
	struct pcap_tcp_seg **pp = &t->ooo;
	while (*pp != NULL && seq_diff((*pp)->seq, seq) < 0)
		pp = &(*pp)->next;
	if (*pp != NULL && (*pp)->seq == seq && (*pp)->len >= n)
		return false;
	struct pcap_tcp_seg *s = malloc(sizeof(*s) + n);
	if (s == NULL)
		return true;
	s->seq = seq;
	s->len = (uint32_t)n;
	memcpy(s->data, p, n);
	s->next = *pp;
	*pp = s;
	t->ooo_n++;
	t->ooo_bytes += n;
	d->tcp_held += n;
	return true;
}

static void dir_data(struct pcap_decoder *d, struct pcap_tcp_dir *t, uint32_t seq, const uint8_t *p, size_t n)
{
	if (!t->seq_known) {
		/* The capture began mid-connection: start here, unsynchronised. */
		t->seq_known = true;
		t->next_seq = seq;
		t->synced = false;
	}
	int32_t rel = seq_diff(seq, t->next_seq);
	if (t->closed || (rel < 0 && seq_diff(seq + (uint32_t)n, t->next_seq) <= 0)) {
		d->stats->tcp_retrans++;
		return;
	}
	if (rel < 0) {
		/* Overlaps what we have: keep only the new tail. */
		d->stats->tcp_retrans++;
		p += (uint32_t)-rel;
		n -= (uint32_t)-rel;
		seq = t->next_seq;
		rel = 0;
	}
	if (rel > 0) {
		if (t->ooo_bytes + n > d->cfg.tcp_buffer_max || t->ooo_n == PCAP_TCP_SEGS_MAX) {
			/* No room to wait for the hole: skip to what is held. */
			dir_gap(d, t, t->ooo != NULL ? t->ooo->seq : seq);
			dir_frame(d, t);
			dir_data(d, t, seq, p, n);
			return;
		}
		if (ooo_insert(d, t, seq, p, n))
			d->stats->tcp_out_of_order++;
		else
			d->stats->tcp_retrans++;
		return;
	}
	buf_append(d, t, p, n);
	t->next_seq = seq + (uint32_t)n;
	ooo_drain(d, t);
	dir_frame(d, t);
}

/* The stream ended (FIN, RST, idle, end of capture): what is still held
 * is framed across any holes, a last partial message handed over as is. */
static void dir_close(struct pcap_decoder *d, struct pcap_tcp_dir *t)
{
	if (t->closed)
		return;
	while (t->ooo != NULL && d->stop == SY_OK) {
		dir_gap(d, t, t->ooo->seq);
		dir_frame(d, t);
	}
	dir_frame(d, t);
	if (t->len > 0 && t->synced && t->app != PCAP_APP_OTHER)
		pcap__emit(d, &t->ip, t->sport, t->dport, PCAP_PROTO_TCP, t->app, t->buf, t->len);
	else if (t->len > 0)
		d->stats->tcp_bytes_lost += t->len;
	t->closed = true;
	dir_clear(d, t);
}

/* ---- segments ---- */

static struct pcap_tcp_dir *dir_get(struct pcap_decoder *d, const struct pcap_ip *ip, uint16_t sport, uint16_t dport,
				    bool create)
{
	uint8_t key[TCP_KEY_LEN];
	dir_key(ip, sport, dport, key);
	struct sy_hnode *n = sy_htab_find(&d->tcp, (struct sy_str){(const char *)key, sizeof(key)});
	if (n != NULL)
		return SY_CONTAINER_OF(n, struct pcap_tcp_dir, node);
	if (!create)
		return NULL;
	if (d->tcp_n == PCAP_TCP_DIRS_MAX) {
		dir_close(d, d->tcp_lru);
		dir_free(d, d->tcp_lru);
	}
	struct pcap_tcp_dir *t = calloc(1, sizeof(*t));
	if (t == NULL)
		return NULL;
	memcpy(t->key, key, sizeof(key));
	t->ip = *ip;
	t->sport = sport;
	t->dport = dport;
	sy_htab_insert(&d->tcp, &t->node, (struct sy_str){(const char *)t->key, sizeof(t->key)});
	lru_push(d, t);
	d->tcp_n++;
	d->stats->tcp_streams++;
	return t;
}

/* Directions silent for PCAP_TCP_IDLE_NS of capture time are closed and
 * forgotten, so a long capture holds only its live connections. */
static void dir_expire(struct pcap_decoder *d)
{
	while (d->tcp_lru != NULL && d->tcp_lru->last_ns + PCAP_TCP_IDLE_NS < d->cur.ts_ns) {
		struct pcap_tcp_dir *t = d->tcp_lru;
		dir_close(d, t);
		dir_free(d, t);
	}
}

/* A SYN opens the direction afresh unless it repeats the one we saw. */
static void dir_syn(struct pcap_decoder *d, struct pcap_tcp_dir *t, uint32_t seq)
{
	if (t->syn_seen && t->isn == seq)
		return; /* a retransmitted SYN, or the SYN-ACK's copy */
	dir_clear(d, t);
	t->syn_seen = true;
	t->isn = seq;
	t->seq_known = true;
	t->synced = true; /* a new stream opens with a message */
	t->closed = t->fin_seen = t->app_known = false;
	t->next_seq = seq + 1;
}

void pcap__tcp_segment(struct pcap_decoder *d, const struct pcap_ip *ip, const uint8_t *p, size_t n)
{
	d->stats->tcp++;
	dir_expire(d);
	if (n < 20 || (size_t)(p[12] >> 4) * 4 < 20 || (size_t)(p[12] >> 4) * 4 > n) {
		pcap__malformed(d, "tcp: header cut short");
		return;
	}
	size_t off = (size_t)(p[12] >> 4) * 4;
	uint16_t sport = be16(p), dport = be16(p + 2);
	uint32_t seq = be32(p + 4);
	uint8_t flags = p[13];
	size_t len = n - off;
	if (len > 0)
		d->stats->tcp_segments++;
	/* A bare ACK of a stream we never saw tells nothing. */
	struct pcap_tcp_dir *t = dir_get(d, ip, sport, dport, len > 0 || (flags & TCP_SYN));
	if (t == NULL)
		return;
	t->last_ns = d->cur.ts_ns;
	lru_unlink(d, t);
	lru_push(d, t);
	if (flags & TCP_SYN) {
		dir_syn(d, t, seq);
		seq++;
	}
	if (len > 0)
		dir_data(d, t, seq, p + off, len);
	if ((flags & TCP_FIN) && !t->fin_seen) {
		t->fin_seen = true;
		t->fin_seq = seq + (uint32_t)len;
	}
	/* Closed once every byte before the FIN is in, or at once on RST. */
	if ((flags & TCP_RST) || (t->fin_seen && t->seq_known && seq_diff(t->next_seq, t->fin_seq) >= 0))
		dir_close(d, t);
	/* All directions together hold at most cfg.tcp_total_max: the least
	 * recently active give way (closed, what they hold handed over). */
	while (d->tcp_held > d->cfg.tcp_total_max && d->tcp_lru != t) {
		struct pcap_tcp_dir *old = d->tcp_lru;
		dir_close(d, old);
		dir_free(d, old);
	}
}

void pcap__tcp_finish(struct pcap_decoder *d)
{
	for (struct pcap_tcp_dir *t = d->tcp_lru; t != NULL && d->stop == SY_OK; t = t->newer)
		dir_close(d, t);
}

void pcap__tcp_free_all(struct pcap_decoder *d)
{
	while (d->tcp_lru != NULL)
		dir_free(d, d->tcp_lru);
}
