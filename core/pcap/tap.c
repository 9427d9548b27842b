/* tap.c: an env that forwards every operation to another and records the
 * transport ones as segments for the tap's sinks (core/pcap/tap.h).
 * Datagram sockets keep their inner handle (a small context carries the
 * owner's callback); streams are wrapped, because their callbacks and
 * their handle must both pass through here: the owner sees a struct
 * tap_stream as its struct sy_stream, freed exactly once, after on_close
 * or at the owner's close (whichever comes first), or at tap destroy for
 * the streams a simulated crash left without either. */
#include "core/pcap/tap.h"

#include <stdlib.h>

#define TAP_SINKS_MAX 4

struct tap_dgram {
	struct tap_dgram *next;
	struct pcap_tap *t;
	struct sy_dgram *sock;
	sy_dgram_recv_fn fn;
	void *arg;
	struct sy_addr local;
};

struct tap_lsn {
	struct tap_lsn *next;
	struct pcap_tap *t;
	struct sy_listener *l;
	struct sy_stream_cbs cbs;
	void *arg;
};

struct tap_stream {
	struct tap_stream *prev, *next;
	struct pcap_tap *t;
	struct sy_stream *inner;
	struct sy_stream_cbs cbs;
	void *arg;
	struct sy_addr local, peer;
	uint64_t conn;
	bool accepted;	 /* the peer connected: the peer is the SYN's source */
	bool opened;	 /* PCAP_SEG_OPEN given to the sinks */
	bool closed;	 /* PCAP_SEG_CLOSE given (or nothing more will be) */
	bool owner_gone; /* the owner closed it or on_close ran: free when out of callbacks */
	uint32_t in_cb;
};

struct pcap_tap {
	struct sy_env inner;
	struct pcap_sink sinks[TAP_SINKS_MAX];
	uint32_t nsinks;
	struct tap_dgram *dgrams;
	struct tap_lsn *lsns;
	struct tap_stream *streams;
	uint64_t next_conn;
	uint32_t nstreams;
};

static inline struct tap_stream *ts_of(struct sy_stream *s)
{
	return (struct tap_stream *)(void *)s;
}
static inline struct sy_stream *ts_handle(struct tap_stream *ts)
{
	return (struct sy_stream *)(void *)ts;
}

static void tap_emit(struct pcap_tap *t, enum pcap_proto proto, enum pcap_seg_kind kind, const struct sy_addr *src,
		     const struct sy_addr *dst, uint64_t conn, const void *data, size_t len)
{
	struct pcap_seg s = {.ts_ns = sy_env_wall_ns(&t->inner),
			     .proto = proto,
			     .kind = kind,
			     .src = *src,
			     .dst = *dst,
			     .conn = conn,
			     .data = data,
			     .len = len};
	for (uint32_t i = 0; i < t->nsinks; i++)
		t->sinks[i].seg(t->sinks[i].arg, &s);
}

/* A socket bound to the wildcard address has no address of its own to
 * show; one that talks to a loopback peer is on loopback, so the capture
 * shows that instead of 0.0.0.0 (what a capture on lo would show). */
static struct sy_addr tap_local_for(const struct sy_addr *local, const struct sy_addr *peer)
{
	static const uint8_t zero[16];
	struct sy_addr a = *local;
	bool unspec = memcmp(a.ip, zero, a.family == SY_AF_INET6 ? 16 : 4) == 0;
	if (!unspec && a.family == peer->family)
		return a;
	a.family = peer->family;
	memcpy(a.ip, peer->ip, sizeof(a.ip));
	bool loop =
	    peer->family == SY_AF_INET ? peer->ip[0] == 127 : memcmp(peer->ip, zero, 15) == 0 && peer->ip[15] == 1;
	if (!loop)
		memset(a.ip, 0, sizeof(a.ip));
	return a;
}

/* ---- forwarded as they are ---- */

#define INNER(ctx) (&((struct pcap_tap *)(ctx))->inner)

static uint64_t tap_now_ns(void *ctx)
{
	return sy_env_now_ns(INNER(ctx));
}
static uint64_t tap_wall_ns(void *ctx)
{
	return sy_env_wall_ns(INNER(ctx));
}
static sy_timer_id tap_timer_start(void *ctx, uint64_t delay_ns, sy_timer_fn fn, void *arg)
{
	return sy_env_timer_start(INNER(ctx), delay_ns, fn, arg);
}
static void tap_timer_cancel(void *ctx, sy_timer_id id)
{
	sy_env_timer_cancel(INNER(ctx), id);
}
static uint64_t tap_seed(void *ctx)
{
	return sy_env_seed(INNER(ctx));
}
static void tap_random(void *ctx, void *buf, size_t len)
{
	sy_env_random(INNER(ctx), buf, len);
}
static void tap_log(void *ctx, enum sy_log_level level, const char *fmt, va_list ap)
{
	INNER(ctx)->ops->log(INNER(ctx)->ctx, level, fmt, ap);
}
static void tap_event(void *ctx, const char *kind, const void *data, size_t len)
{
	sy_env_event(INNER(ctx), kind, data, len);
}
static enum sy_rc tap_file_open(void *ctx, const char *path, unsigned flags, struct sy_file **out)
{
	return sy_env_file_open(INNER(ctx), path, flags, out);
}
static enum sy_rc tap_file_read(void *ctx, struct sy_file *f, uint64_t off, void *buf, size_t len, size_t *got)
{
	return sy_env_file_read(INNER(ctx), f, off, buf, len, got);
}
static enum sy_rc tap_file_write(void *ctx, struct sy_file *f, uint64_t off, const void *buf, size_t len)
{
	return sy_env_file_write(INNER(ctx), f, off, buf, len);
}
static enum sy_rc tap_file_sync(void *ctx, struct sy_file *f)
{
	return sy_env_file_sync(INNER(ctx), f);
}
static enum sy_rc tap_file_sync_start(void *ctx, struct sy_file *f, sy_file_sync_fn fn, void *arg)
{
	return sy_env_file_sync_start(INNER(ctx), f, fn, arg);
}
static void tap_file_sync_wait(void *ctx, struct sy_file *f)
{
	sy_env_file_sync_wait(INNER(ctx), f);
}
static enum sy_rc tap_file_size(void *ctx, struct sy_file *f, uint64_t *out)
{
	return sy_env_file_size(INNER(ctx), f, out);
}
static enum sy_rc tap_file_truncate(void *ctx, struct sy_file *f, uint64_t size)
{
	return sy_env_file_truncate(INNER(ctx), f, size);
}
static void tap_file_close(void *ctx, struct sy_file *f)
{
	sy_env_file_close(INNER(ctx), f);
}
static enum sy_rc tap_file_lock(void *ctx, struct sy_file *f, uint64_t off, uint64_t len, enum sy_file_lock how)
{
	return sy_env_file_lock(INNER(ctx), f, off, len, how);
}
static enum sy_rc tap_file_unlink(void *ctx, const char *path)
{
	return sy_env_file_unlink(INNER(ctx), path);
}
static bool tap_file_exists(void *ctx, const char *path)
{
	return sy_env_file_exists(INNER(ctx), path);
}
static enum sy_rc tap_dir_make(void *ctx, const char *path)
{
	return sy_env_dir_make(INNER(ctx), path);
}

/* ---- datagrams ---- */

static struct tap_dgram *tap_dgram_find(struct pcap_tap *t, struct sy_dgram *sock, struct tap_dgram ***link)
{
	for (struct tap_dgram **p = &t->dgrams; *p != NULL; p = &(*p)->next)
		if ((*p)->sock == sock) {
			if (link != NULL)
				*link = p;
			return *p;
		}
	return NULL;
}

static void tap_dgram_recv(void *arg, struct sy_dgram *sock, const struct sy_addr *from, const uint8_t *buf, size_t len)
{
	struct tap_dgram *d = arg;
	struct sy_addr local = tap_local_for(&d->local, from);
	tap_emit(d->t, PCAP_PROTO_UDP, PCAP_SEG_DATA, from, &local, 0, buf, len);
	d->fn(d->arg, sock, from, buf, len);
}

static enum sy_rc tap_dgram_open(void *ctx, const struct sy_addr *local, sy_dgram_recv_fn fn, void *arg,
				 struct sy_dgram **out)
{
	struct pcap_tap *t = ctx;
	struct tap_dgram *d = calloc(1, sizeof(*d));
	if (d == NULL)
		return SY_ERR_NOMEM;
	*d = (struct tap_dgram){.t = t, .fn = fn, .arg = arg};
	enum sy_rc rc = sy_env_dgram_open(&t->inner, local, tap_dgram_recv, d, out);
	if (rc != SY_OK) {
		free(d);
		return rc;
	}
	d->sock = *out;
	sy_env_dgram_local(&t->inner, *out, &d->local);
	d->next = t->dgrams; /* newest first: a handle the backend reused finds its own socket */
	t->dgrams = d;
	return SY_OK;
}

static enum sy_rc tap_dgram_send(void *ctx, struct sy_dgram *s, const struct sy_addr *to, const void *buf, size_t len)
{
	struct pcap_tap *t = ctx;
	enum sy_rc rc = sy_env_dgram_send(&t->inner, s, to, buf, len);
	struct tap_dgram *d = tap_dgram_find(t, s, NULL);
	if (rc == SY_OK && d != NULL) {
		struct sy_addr local = tap_local_for(&d->local, to);
		tap_emit(t, PCAP_PROTO_UDP, PCAP_SEG_DATA, &local, to, 0, buf, len);
	}
	return rc;
}

static void tap_dgram_close(void *ctx, struct sy_dgram *s)
{
	struct pcap_tap *t = ctx;
	struct tap_dgram **link = NULL, *d = tap_dgram_find(t, s, &link);
	sy_env_dgram_close(&t->inner, s);
	if (d != NULL) {
		*link = d->next;
		free(d);
	}
}

static void tap_dgram_local(void *ctx, struct sy_dgram *s, struct sy_addr *out)
{
	sy_env_dgram_local(INNER(ctx), s, out);
}

/* ---- streams ---- */

static void ts_unlink_free(struct tap_stream *ts)
{
	struct pcap_tap *t = ts->t;
	if (ts->prev != NULL)
		ts->prev->next = ts->next;
	else
		t->streams = ts->next;
	if (ts->next != NULL)
		ts->next->prev = ts->prev;
	SY_ASSERT(t->nstreams > 0);
	t->nstreams--;
	free(ts);
}

static struct tap_stream *ts_new(struct pcap_tap *t, const struct sy_stream_cbs *cbs, void *arg)
{
	struct tap_stream *ts = calloc(1, sizeof(*ts));
	if (ts == NULL)
		return NULL;
	*ts = (struct tap_stream){.t = t, .cbs = *cbs, .arg = arg, .conn = pcap_tap_conn_id(t), .next = t->streams};
	if (t->streams != NULL)
		t->streams->prev = ts;
	t->streams = ts;
	t->nstreams++;
	return ts;
}

/* The handshake goes to the sinks before the first byte, whenever the
 * first byte comes (a connecting stream may be written to before it is
 * open), with the addresses known by then. */
static void ts_open(struct tap_stream *ts)
{
	if (ts->opened)
		return;
	struct pcap_tap *t = ts->t;
	struct sy_addr local;
	ts->opened = true;
	sy_env_stream_peer(&t->inner, ts->inner, &ts->peer);
	sy_env_stream_local(&t->inner, ts->inner, &local);
	ts->local = tap_local_for(&local, &ts->peer);
	if (ts->accepted)
		tap_emit(t, PCAP_PROTO_TCP, PCAP_SEG_OPEN, &ts->peer, &ts->local, ts->conn, NULL, 0);
	else
		tap_emit(t, PCAP_PROTO_TCP, PCAP_SEG_OPEN, &ts->local, &ts->peer, ts->conn, NULL, 0);
}

/* side: true when the closing side is this node. */
static void ts_close_seg(struct tap_stream *ts, bool ours)
{
	if (ts->closed)
		return;
	ts->closed = true;
	if (!ts->opened)
		return; /* never connected: nothing went over the wire */
	if (ours)
		tap_emit(ts->t, PCAP_PROTO_TCP, PCAP_SEG_CLOSE, &ts->local, &ts->peer, ts->conn, NULL, 0);
	else
		tap_emit(ts->t, PCAP_PROTO_TCP, PCAP_SEG_CLOSE, &ts->peer, &ts->local, ts->conn, NULL, 0);
}

static void ts_cb_done(struct tap_stream *ts)
{
	ts->in_cb--;
	if (ts->in_cb == 0 && ts->owner_gone)
		ts_unlink_free(ts);
}

static void ts_on_open(void *arg, struct sy_stream *s)
{
	struct tap_stream *ts = arg;
	ts->inner = s;
	ts_open(ts);
	if (ts->cbs.on_open == NULL)
		return;
	ts->in_cb++;
	ts->cbs.on_open(ts->arg, ts_handle(ts));
	ts_cb_done(ts);
}

static void ts_on_data(void *arg, struct sy_stream *s, const uint8_t *buf, size_t len)
{
	struct tap_stream *ts = arg;
	ts->inner = s;
	ts_open(ts);
	tap_emit(ts->t, PCAP_PROTO_TCP, PCAP_SEG_DATA, &ts->peer, &ts->local, ts->conn, buf, len);
	ts->in_cb++;
	ts->cbs.on_data(ts->arg, ts_handle(ts), buf, len);
	ts_cb_done(ts);
}

static void ts_on_close(void *arg, struct sy_stream *s, enum sy_rc why)
{
	struct tap_stream *ts = arg;
	ts->inner = s;
	ts_close_seg(ts, false);
	ts->in_cb++;
	ts->owner_gone = true; /* the handle is gone after on_close, whatever the owner does in it */
	ts->cbs.on_close(ts->arg, ts_handle(ts), why);
	ts_cb_done(ts);
}

static const struct sy_stream_cbs ts_cbs = {ts_on_open, ts_on_data, ts_on_close};

/* An accepted stream: wrapped before its owner hears of it. */
static void lsn_on_open(void *arg, struct sy_stream *s)
{
	struct tap_lsn *tl = arg;
	struct tap_stream *ts = ts_new(tl->t, &tl->cbs, tl->arg);
	if (ts == NULL) {
		sy_env_stream_close(&tl->t->inner, s); /* out of memory: refuse, as the backend would */
		return;
	}
	ts->inner = s;
	ts->accepted = true;
	sy_env_stream_set_arg(&tl->t->inner, s, ts);
	ts_on_open(ts, s);
}

/* An accepted stream keeps the listener's callbacks: on_open comes with the
 * listener's context and switches the stream's to its wrapper, which the
 * other two then get. */
static const struct sy_stream_cbs lsn_cbs = {lsn_on_open, ts_on_data, ts_on_close};

static enum sy_rc tap_stream_listen(void *ctx, const struct sy_addr *local, const struct sy_stream_cbs *cbs, void *arg,
				    struct sy_listener **out)
{
	struct pcap_tap *t = ctx;
	struct tap_lsn *tl = calloc(1, sizeof(*tl));
	if (tl == NULL)
		return SY_ERR_NOMEM;
	*tl = (struct tap_lsn){.t = t, .cbs = *cbs, .arg = arg};
	enum sy_rc rc = sy_env_stream_listen(&t->inner, local, &lsn_cbs, tl, out);
	if (rc != SY_OK) {
		free(tl);
		return rc;
	}
	tl->l = *out;
	tl->next = t->lsns;
	t->lsns = tl;
	return SY_OK;
}

static void tap_listener_close(void *ctx, struct sy_listener *l)
{
	struct pcap_tap *t = ctx;
	sy_env_listener_close(&t->inner, l);
	for (struct tap_lsn **p = &t->lsns; *p != NULL; p = &(*p)->next)
		if ((*p)->l == l) {
			struct tap_lsn *tl = *p;
			*p = tl->next;
			free(tl);
			return;
		}
}

static enum sy_rc tap_stream_connect(void *ctx, const struct sy_addr *remote, const struct sy_stream_cbs *cbs,
				     void *arg, struct sy_stream **out)
{
	struct pcap_tap *t = ctx;
	struct sy_stream *inner = NULL;
	struct tap_stream *ts = ts_new(t, cbs, arg);
	if (ts == NULL)
		return SY_ERR_NOMEM;
	ts->in_cb++; /* a backend calling back from inside connect must not free ts under us */
	enum sy_rc rc = sy_env_stream_connect(&t->inner, remote, &ts_cbs, ts, &inner);
	ts->in_cb--;
	if (rc != SY_OK || ts->owner_gone) {
		ts_unlink_free(ts);
		*out = NULL;
		return rc != SY_OK ? rc : SY_ERR_IO;
	}
	ts->inner = inner;
	*out = ts_handle(ts);
	return SY_OK;
}

static enum sy_rc tap_stream_write(void *ctx, struct sy_stream *s, const void *buf, size_t len)
{
	struct tap_stream *ts = ts_of(s);
	enum sy_rc rc = sy_env_stream_write(&ts->t->inner, ts->inner, buf, len);
	if (rc == SY_OK && len > 0) {
		ts_open(ts);
		tap_emit(ts->t, PCAP_PROTO_TCP, PCAP_SEG_DATA, &ts->local, &ts->peer, ts->conn, buf, len);
	}
	return rc;
}

static void tap_stream_set_arg(void *ctx, struct sy_stream *s, void *arg)
{
	ts_of(s)->arg = arg;
}

static size_t tap_stream_queued(void *ctx, struct sy_stream *s)
{
	return sy_env_stream_queued(INNER(ctx), ts_of(s)->inner);
}

static void tap_stream_close(void *ctx, struct sy_stream *s)
{
	struct tap_stream *ts = ts_of(s);
	ts_close_seg(ts, true);
	sy_env_stream_close(&ts->t->inner, ts->inner);
	ts->owner_gone = true;
	if (ts->in_cb == 0)
		ts_unlink_free(ts);
}

static void tap_stream_peer(void *ctx, struct sy_stream *s, struct sy_addr *out)
{
	sy_env_stream_peer(INNER(ctx), ts_of(s)->inner, out);
}

static void tap_stream_local(void *ctx, struct sy_stream *s, struct sy_addr *out)
{
	sy_env_stream_local(INNER(ctx), ts_of(s)->inner, out);
}

static const struct sy_env_ops tap_ops = {
    .now_ns = tap_now_ns,
    .wall_ns = tap_wall_ns,
    .timer_start = tap_timer_start,
    .timer_cancel = tap_timer_cancel,
    .dgram_open = tap_dgram_open,
    .dgram_send = tap_dgram_send,
    .dgram_close = tap_dgram_close,
    .dgram_local = tap_dgram_local,
    .stream_listen = tap_stream_listen,
    .listener_close = tap_listener_close,
    .stream_connect = tap_stream_connect,
    .stream_write = tap_stream_write,
    .stream_set_arg = tap_stream_set_arg,
    .stream_queued = tap_stream_queued,
    .stream_close = tap_stream_close,
    .stream_peer = tap_stream_peer,
    .stream_local = tap_stream_local,
    .seed = tap_seed,
    .random = tap_random,
    .log = tap_log,
    .file_open = tap_file_open,
    .file_read = tap_file_read,
    .file_write = tap_file_write,
    .file_sync = tap_file_sync,
    .file_sync_start = tap_file_sync_start,
    .file_sync_wait = tap_file_sync_wait,
    .file_size = tap_file_size,
    .file_truncate = tap_file_truncate,
    .file_close = tap_file_close,
    .file_lock = tap_file_lock,
    .file_unlink = tap_file_unlink,
    .file_exists = tap_file_exists,
    .dir_make = tap_dir_make,
    .event = tap_event,
};

struct pcap_tap *pcap_tap_create(const struct sy_env *inner, struct sy_env *out)
{
	struct pcap_tap *t = calloc(1, sizeof(*t));
	if (t == NULL)
		return NULL;
	t->inner = *inner;
	*out = (struct sy_env){.ops = &tap_ops, .ctx = t, .log_level = inner->log_level};
	return t;
}

enum sy_rc pcap_tap_add_sink(struct pcap_tap *t, struct pcap_sink sink)
{
	SY_ASSERT(sink.seg != NULL);
	if (t->nsinks == TAP_SINKS_MAX)
		return SY_ERR_FULL;
	t->sinks[t->nsinks++] = sink;
	return SY_OK;
}

uint32_t pcap_tap_streams(const struct pcap_tap *t)
{
	return t->nstreams;
}

uint64_t pcap_tap_conn_id(struct pcap_tap *t)
{
	return ++t->next_conn;
}

void pcap_tap_record(struct pcap_tap *t, const struct pcap_seg *s)
{
	struct pcap_seg seg = *s;
	if (seg.ts_ns == 0)
		seg.ts_ns = sy_env_wall_ns(&t->inner);
	for (uint32_t i = 0; i < t->nsinks; i++)
		t->sinks[i].seg(t->sinks[i].arg, &seg);
}

/* After the components on the tap's env are gone: what is left are the
 * contexts of sockets a crash (sim) or a teardown left open. */
void pcap_tap_destroy(struct pcap_tap *t)
{
	if (t == NULL)
		return;
	while (t->dgrams != NULL) {
		struct tap_dgram *d = t->dgrams;
		t->dgrams = d->next;
		free(d);
	}
	while (t->lsns != NULL) {
		struct tap_lsn *l = t->lsns;
		t->lsns = l->next;
		free(l);
	}
	while (t->streams != NULL)
		ts_unlink_free(t->streams);
	free(t);
}
