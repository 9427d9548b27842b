/* write.c: the pcap writer, a tap sink. Each segment becomes the frames a
 * capture on the node's interface would hold: Ethernet (locally
 * administered MACs made from the IPs), IPv4 or IPv6, then UDP or TCP with
 * correct lengths and checksums; a TCP connection gets its handshake, its
 * bytes cut at the MSS with sequence and acknowledgement numbers kept per
 * connection, and a FIN exchange, so Wireshark follows it without a
 * complaint. libpcap writes the file (nanosecond stamps) through a cookie
 * FILE over the env's file operations: core/ opens nothing itself. */
#include "core/pcap/tap.h"

#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>

#include "core/htab.h"

#define ETH_LEN		14
#define IP4_LEN		20
#define IP6_LEN		40
#define UDP_LEN		8
#define TCP_LEN		20
#define SNAPLEN		262144
#define FRAME_MAX	(ETH_LEN + IP6_LEN + TCP_LEN + 65535)
#define UDP_PAYLOAD_MAX (65535 - IP4_LEN - UDP_LEN)
/* Segments as a 1500-byte Ethernet MTU leaves room for. */
#define MSS4 1460
#define MSS6 1440
/* Bytes one side may send unanswered before the other ACKs: under a
 * 65,535-byte window, so no "window full" in the analysis. */
#define ACK_EVERY 32768
#define WINDOW	  65535

enum { TCP_FIN = 0x01, TCP_SYN = 0x02, TCP_PSH = 0x08, TCP_ACK = 0x10 };

struct wconn {
	struct sy_hnode hn;
	uint64_t id;
	struct sy_addr a, b; /* a opened it (sent the SYN) */
	uint32_t seq[2];     /* next sequence number of a, of b */
	uint32_t unacked[2]; /* bytes sent by a, by b, since the other's last ACK */
};

struct pcap_writer {
	const struct sy_env *env;
	struct sy_file *file;
	uint64_t off;
	FILE *fp;
	pcap_t *dead;
	pcap_dumper_t *dump;
	size_t pending; /* bytes handed to stdio since the last flush */
	uint16_t ip_id;
	struct sy_htab conns;
	struct pcap_writer_stats st;
	uint8_t frame[FRAME_MAX];
	/* stdio's buffer, ours: glibc ignores the size given with a NULL one
	 * and writes a record that overflows its own in pieces, which a kill
	 * would cut in the middle. This one holds a flush's worth and a frame. */
	char iobuf[PCAP_WRITER_FLUSH_BYTES + 2 * FRAME_MAX];
};

/* ---- the cookie FILE: stdio's writes become env file writes ---- */

static ssize_t cookie_write(void *c, const char *buf, size_t len)
{
	struct pcap_writer *w = c;
	if (w->st.error != SY_OK)
		return -1;
	enum sy_rc rc = sy_env_file_write(w->env, w->file, w->off, buf, len);
	if (rc != SY_OK) {
		w->st.error = rc;
		return -1;
	}
	w->off += len;
	w->st.bytes += len;
	return (ssize_t)len;
}

static int cookie_close(void *c)
{
	struct pcap_writer *w = c;
	sy_env_file_close(w->env, w->file);
	w->file = NULL;
	return 0;
}

/* ---- checksums ---- */

static uint32_t sum16(uint32_t acc, const uint8_t *p, size_t n)
{
	for (; n > 1; p += 2, n -= 2)
		acc += (uint32_t)p[0] << 8 | p[1];
	if (n == 1)
		acc += (uint32_t)p[0] << 8;
	return acc;
}

static uint16_t fold(uint32_t acc)
{
	while (acc >> 16)
		acc = (acc & 0xffff) + (acc >> 16);
	return (uint16_t)~acc;
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void put32(uint8_t *p, uint32_t v)
{
	put16(p, (uint16_t)(v >> 16));
	put16(p + 2, (uint16_t)v);
}

/* The TCP/UDP checksum over the pseudo-header and the L4 bytes. */
static uint16_t l4_csum(const struct sy_addr *src, const struct sy_addr *dst, uint8_t proto, const uint8_t *l4,
			size_t len)
{
	size_t alen = src->family == SY_AF_INET6 ? 16 : 4;
	uint32_t acc = sum16(0, src->ip, alen);
	acc = sum16(acc, dst->ip, alen);
	acc += proto + (uint32_t)(len & 0xffff) + (uint32_t)(len >> 16);
	return fold(sum16(acc, l4, len));
}

/* ---- frames ---- */

static void mac_of(const struct sy_addr *a, uint8_t *mac)
{
	const uint8_t *ip = a->family == SY_AF_INET6 ? a->ip + 12 : a->ip;
	mac[0] = 0x02; /* locally administered, unicast */
	mac[1] = 0x00;
	memcpy(mac + 2, ip, 4);
}

/* Ethernet and IP headers for l4len bytes of proto; returns their length. */
static size_t frame_head(struct pcap_writer *w, const struct sy_addr *src, const struct sy_addr *dst, uint8_t proto,
			 size_t l4len)
{
	uint8_t *f = w->frame;
	bool v6 = src->family == SY_AF_INET6;
	mac_of(dst, f);
	mac_of(src, f + 6);
	put16(f + 12, v6 ? 0x86dd : 0x0800);
	uint8_t *ip = f + ETH_LEN;
	if (v6) {
		memset(ip, 0, IP6_LEN);
		ip[0] = 0x60;
		put16(ip + 4, (uint16_t)l4len);
		ip[6] = proto;
		ip[7] = 64;
		memcpy(ip + 8, src->ip, 16);
		memcpy(ip + 24, dst->ip, 16);
		return ETH_LEN + IP6_LEN;
	}
	memset(ip, 0, IP4_LEN);
	ip[0] = 0x45;
	put16(ip + 2, (uint16_t)(IP4_LEN + l4len));
	put16(ip + 4, w->ip_id++);
	put16(ip + 6, 0x4000); /* don't fragment */
	ip[8] = 64;
	ip[9] = proto;
	memcpy(ip + 12, src->ip, 4);
	memcpy(ip + 16, dst->ip, 4);
	put16(ip + 10, fold(sum16(0, ip, IP4_LEN)));
	return ETH_LEN + IP4_LEN;
}

static void frame_out(struct pcap_writer *w, uint64_t ts_ns, size_t len)
{
	size_t rec = sizeof(struct pcap_pkthdr) + len;
	if (w->pending + rec > PCAP_WRITER_FLUSH_BYTES)
		pcap_writer_flush(w); /* whole frames only reach the file */
	struct pcap_pkthdr h = {.caplen = (bpf_u_int32)len, .len = (bpf_u_int32)len};
	h.ts.tv_sec = (time_t)(ts_ns / SY_NS_PER_S);
	h.ts.tv_usec = (suseconds_t)(ts_ns % SY_NS_PER_S); /* nanoseconds: the dumper is nano */
	pcap_dump((u_char *)w->dump, &h, w->frame);
	w->pending += rec;
	w->st.frames++;
}

static void write_udp(struct pcap_writer *w, const struct pcap_seg *s)
{
	if (s->len > UDP_PAYLOAD_MAX || s->src.family != s->dst.family) {
		w->st.too_big++;
		return;
	}
	size_t l4len = UDP_LEN + s->len;
	size_t off = frame_head(w, &s->src, &s->dst, PCAP_PROTO_UDP, l4len);
	uint8_t *u = w->frame + off;
	put16(u, s->src.port);
	put16(u + 2, s->dst.port);
	put16(u + 4, (uint16_t)l4len);
	put16(u + 6, 0);
	memcpy(u + UDP_LEN, s->data, s->len);
	uint16_t c = l4_csum(&s->src, &s->dst, PCAP_PROTO_UDP, u, l4len);
	put16(u + 6, c == 0 ? 0xffff : c);
	frame_out(w, s->ts_ns, off + l4len);
	w->st.dgrams++;
}

static void write_tcp(struct pcap_writer *w, uint64_t ts_ns, const struct wconn *c, int from, uint8_t flags,
		      const uint8_t *data, size_t len)
{
	const struct sy_addr *src = from == 0 ? &c->a : &c->b, *dst = from == 0 ? &c->b : &c->a;
	size_t l4len = TCP_LEN + len;
	size_t off = frame_head(w, src, dst, PCAP_PROTO_TCP, l4len);
	uint8_t *t = w->frame + off;
	memset(t, 0, TCP_LEN);
	put16(t, src->port);
	put16(t + 2, dst->port);
	put32(t + 4, c->seq[from]);
	put32(t + 8, (flags & TCP_ACK) ? c->seq[1 - from] : 0);
	t[12] = (TCP_LEN / 4) << 4;
	t[13] = flags;
	put16(t + 14, WINDOW);
	if (len > 0)
		memcpy(t + TCP_LEN, data, len);
	put16(t + 16, l4_csum(src, dst, PCAP_PROTO_TCP, t, l4len));
	frame_out(w, ts_ns, off + l4len);
}

/* ---- connections ---- */

static struct wconn *conn_find(struct pcap_writer *w, uint64_t id)
{
	struct sy_hnode *n = sy_htab_find(&w->conns, (struct sy_str){(const char *)&id, sizeof(id)});
	return n != NULL ? SY_CONTAINER_OF(n, struct wconn, hn) : NULL;
}

/* The three-way handshake, a the side that connects. The initial sequence
 * numbers come from the connection id: the same run writes the same file. */
static struct wconn *conn_open(struct pcap_writer *w, const struct pcap_seg *s)
{
	struct wconn *c = calloc(1, sizeof(*c));
	if (c == NULL)
		return NULL;
	uint64_t h = sy_hash64(&s->conn, sizeof(s->conn), 0x7461702d69736eull);
	*c = (struct wconn){.id = s->conn, .a = s->src, .b = s->dst, .seq = {(uint32_t)h, (uint32_t)(h >> 32)}};
	sy_htab_insert(&w->conns, &c->hn, (struct sy_str){(const char *)&c->id, sizeof(c->id)});
	write_tcp(w, s->ts_ns, c, 0, TCP_SYN, NULL, 0);
	c->seq[0]++;
	write_tcp(w, s->ts_ns, c, 1, TCP_SYN | TCP_ACK, NULL, 0);
	c->seq[1]++;
	write_tcp(w, s->ts_ns, c, 0, TCP_ACK, NULL, 0);
	return c;
}

static int conn_side(const struct wconn *c, const struct pcap_seg *s)
{
	return sy_addr_eq(&s->src, &c->a) && sy_addr_eq(&s->dst, &c->b) ? 0 : 1;
}

static void conn_data(struct pcap_writer *w, struct wconn *c, const struct pcap_seg *s)
{
	int x = conn_side(c, s);
	size_t mss = c->a.family == SY_AF_INET6 ? MSS6 : MSS4;
	for (size_t done = 0; done < s->len;) {
		size_t n = SY_MIN(mss, s->len - done);
		write_tcp(w, s->ts_ns, c, x, TCP_PSH | TCP_ACK, s->data + done, n);
		c->seq[x] += (uint32_t)n;
		c->unacked[x] += (uint32_t)n;
		c->unacked[1 - x] = 0; /* that segment acknowledged all the other side sent */
		done += n;
		if (c->unacked[x] >= ACK_EVERY) {
			write_tcp(w, s->ts_ns, c, 1 - x, TCP_ACK, NULL, 0);
			c->unacked[x] = 0;
		}
	}
}

/* The side that closes sends FIN, the other answers FIN, the first ACKs. */
static void conn_close(struct pcap_writer *w, struct wconn *c, const struct pcap_seg *s)
{
	int x = conn_side(c, s);
	write_tcp(w, s->ts_ns, c, x, TCP_FIN | TCP_ACK, NULL, 0);
	c->seq[x]++;
	write_tcp(w, s->ts_ns, c, 1 - x, TCP_FIN | TCP_ACK, NULL, 0);
	c->seq[1 - x]++;
	write_tcp(w, s->ts_ns, c, x, TCP_ACK, NULL, 0);
	sy_htab_remove(&w->conns, &c->hn);
	free(c);
}

static void writer_seg(void *arg, const struct pcap_seg *s)
{
	struct pcap_writer *w = arg;
	w->st.segs++;
	if (s->proto == PCAP_PROTO_UDP) {
		write_udp(w, s);
		return;
	}
	if (s->src.family != s->dst.family)
		return;
	struct wconn *c = conn_find(w, s->conn);
	if (s->kind == PCAP_SEG_OPEN) {
		if (c == NULL)
			conn_open(w, s);
		return;
	}
	if (c == NULL && s->kind == PCAP_SEG_DATA)
		c = conn_open(w, s); /* bytes of a connection opened before the capture: shown from a handshake */
	if (c == NULL)
		return;
	if (s->kind == PCAP_SEG_DATA)
		conn_data(w, c, s);
	else
		conn_close(w, c, s);
}

/* ---- the writer ---- */

static void writer_free(struct pcap_writer *w)
{
	if (w->dump != NULL)
		pcap_dump_close(w->dump); /* fclose: the cookie closes the file */
	else if (w->fp != NULL)
		fclose(w->fp);
	else if (w->file != NULL)
		sy_env_file_close(w->env, w->file);
	if (w->dead != NULL)
		pcap_close(w->dead);
	for (uint64_t i = 0; w->conns.buckets != NULL && i <= w->conns.mask; i++)
		while (w->conns.buckets[i] != NULL) {
			struct wconn *c = SY_CONTAINER_OF(w->conns.buckets[i], struct wconn, hn);
			sy_htab_remove(&w->conns, &c->hn);
			free(c);
		}
	sy_htab_free(&w->conns);
	free(w);
}

static enum sy_rc writer_file(struct pcap_writer *w, const char *path, char *err, size_t errlen)
{
	enum sy_rc rc = sy_env_file_open(w->env, path, SY_FILE_WRITE | SY_FILE_CREATE, &w->file);
	if (rc == SY_OK)
		rc = sy_env_file_truncate(w->env, w->file, 0);
	if (rc != SY_OK) {
		snprintf(err, errlen, "%s: %s", path, sy_env_file_err(rc));
		return rc;
	}
	cookie_io_functions_t io = {.read = NULL, .write = cookie_write, .seek = NULL, .close = cookie_close};
	if ((w->fp = fopencookie(w, "w", io)) == NULL) {
		snprintf(err, errlen, "%s: out of memory", path);
		return SY_ERR_NOMEM;
	}
	setvbuf(w->fp, w->iobuf, _IOFBF, sizeof(w->iobuf));
	return SY_OK;
}

enum sy_rc pcap_writer_open(const struct sy_env *file_env, const char *path, struct pcap_writer **out, char *err,
			    size_t errlen)
{
	*out = NULL;
	struct pcap_writer *w = calloc(1, sizeof(*w));
	if (w == NULL || sy_htab_init(&w->conns, 64) != SY_OK) {
		free(w);
		snprintf(err, errlen, "%s: out of memory", path);
		return SY_ERR_NOMEM;
	}
	w->env = file_env;
	enum sy_rc rc = writer_file(w, path, err, errlen);
	if (rc != SY_OK)
		goto out_free;
	rc = SY_ERR_NOMEM;
	w->dead = pcap_open_dead_with_tstamp_precision(DLT_EN10MB, SNAPLEN, PCAP_TSTAMP_PRECISION_NANO);
	if (w->dead == NULL || (w->dump = pcap_dump_fopen(w->dead, w->fp)) == NULL) {
		snprintf(err, errlen, "%s: %s", path, w->dead != NULL ? pcap_geterr(w->dead) : "out of memory");
		goto out_free;
	}
	if ((rc = pcap_writer_flush(w)) != SY_OK) { /* the file header now: an empty capture is still a capture */
		snprintf(err, errlen, "%s: %s", path, sy_env_file_err(rc));
		goto out_free;
	}
	*out = w;
	return SY_OK;
out_free:
	writer_free(w);
	return rc;
}

struct pcap_sink pcap_writer_sink(struct pcap_writer *w)
{
	return (struct pcap_sink){writer_seg, w};
}

enum sy_rc pcap_writer_flush(struct pcap_writer *w)
{
	if (w->pending > 0 || w->st.flushes == 0) {
		pcap_dump_flush(w->dump);
		w->st.flushes++;
	}
	w->pending = 0;
	return w->st.error;
}

void pcap_writer_stats(const struct pcap_writer *w, struct pcap_writer_stats *out)
{
	*out = w->st;
}

enum sy_rc pcap_writer_close(struct pcap_writer *w)
{
	if (w == NULL)
		return SY_OK;
	pcap_writer_flush(w);
	enum sy_rc rc = w->st.error;
	writer_free(w);
	return rc;
}
