/* test_pcap_write.c: the tap (core/pcap/tap.h) forwards every operation
 * and records datagrams and stream open/data/close, with the owner seeing
 * its own callbacks, args and a wrapped stream handle freed exactly once
 * (ASan checks the once); a node without a sink keeps its env unwrapped;
 * the pcap writer's file, read back with libpcap, holds the frames a real
 * capture would: Ethernet, IPv4/IPv6 with a good header checksum, UDP and
 * TCP with good checksums, a handshake, sequence and acknowledgement
 * numbers that add up, MSS-sized segments, ACKs under the window, FINs. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <cmocka.h>
#include <pcap/pcap.h>

#include "core/pcap/tap.h"
#include "tests/testenv.h"

/* ---- a sink that keeps copies ---- */

#define SEGS_MAX 64
struct rec {
	struct pcap_seg s[SEGS_MAX];
	uint8_t data[SEGS_MAX][256];
	size_t n;
};

static void rec_seg(void *arg, const struct pcap_seg *s)
{
	struct rec *r = arg;
	assert_true(r->n < SEGS_MAX);
	r->s[r->n] = *s;
	if (s->len > 0)
		memcpy(r->data[r->n], s->data, SY_MIN(s->len, sizeof(r->data[0])));
	r->s[r->n].data = r->data[r->n];
	r->n++;
}

static void assert_seg(const struct rec *r, size_t i, enum pcap_proto p, enum pcap_seg_kind k,
		       const struct sy_addr *src, const struct sy_addr *dst, const char *data)
{
	assert_true(i < r->n);
	const struct pcap_seg *s = &r->s[i];
	assert_int_equal(s->proto, p);
	assert_int_equal(s->kind, k);
	assert_true(sy_addr_eq(&s->src, src));
	assert_true(sy_addr_eq(&s->dst, dst));
	assert_int_equal(s->len, data ? strlen(data) : 0);
	if (data != NULL)
		assert_memory_equal(s->data, data, strlen(data));
}

/* ---- datagrams, on the testenv ---- */

struct owner {
	int got;
	void *last_arg;
	struct sy_stream *last_stream;
	char buf[256];
	size_t len;
	enum sy_rc why;
	bool close_in_data; /* closes the stream from inside on_data */
	const struct sy_env *env;
};

static void own_recv(void *arg, struct sy_dgram *sock, const struct sy_addr *from, const uint8_t *buf, size_t len)
{
	struct owner *o = arg;
	o->got++;
	o->last_arg = arg;
	memcpy(o->buf, buf, len);
	o->len = len;
}

static void test_dgram_forwarded_and_recorded(void **state)
{
	struct testenv te;
	testenv_init(&te, 1);
	testenv_advance(&te, 5 * SY_NS_PER_MS);
	struct rec r = {0};
	struct owner o = {0};
	struct sy_env tenv;
	struct pcap_tap *t = pcap_tap_create(&te.env, &tenv);
	assert_non_null(t);
	assert_int_equal(pcap_tap_add_sink(t, (struct pcap_sink){rec_seg, &r}), SY_OK);
	struct sy_addr me = sy_addr_v4(10, 0, 0, 1, 5060), peer = sy_addr_v4(10, 0, 0, 2, 5070);
	struct sy_dgram *d;
	assert_int_equal(sy_env_dgram_open(&tenv, &me, own_recv, &o, &d), SY_OK);
	assert_int_equal(sy_env_dgram_send(&tenv, d, &peer, "INVITE", 6), SY_OK);
	assert_int_equal(testenv_sent_count(&te), 1); /* forwarded */
	assert_memory_equal(testenv_sent(&te, 0)->buf, "INVITE", 6);
	assert_seg(&r, 0, PCAP_PROTO_UDP, PCAP_SEG_DATA, &me, &peer, "INVITE");
	assert_int_equal(r.s[0].ts_ns, sy_env_wall_ns(&te.env));
	assert_int_equal(r.s[0].conn, 0);
	testenv_inject(&te, d, &peer, "SIP/2.0 200 OK", 14);
	assert_int_equal(o.got, 1); /* the owner's callback, with its own arg */
	assert_ptr_equal(o.last_arg, &o);
	assert_memory_equal(o.buf, "SIP/2.0 200 OK", 14);
	assert_seg(&r, 1, PCAP_PROTO_UDP, PCAP_SEG_DATA, &peer, &me, "SIP/2.0 200 OK");
	/* A failed send is not in the capture: it never left. */
	te.fail_sends = 1;
	assert_int_not_equal(sy_env_dgram_send(&tenv, d, &peer, "x", 1), SY_OK);
	assert_int_equal(r.n, 2);
	/* Everything else is the inner env's. */
	assert_int_equal(sy_env_now_ns(&tenv), sy_env_now_ns(&te.env));
	assert_int_equal(sy_env_seed(&tenv), 1);
	struct sy_addr l;
	sy_env_dgram_local(&tenv, d, &l);
	assert_true(sy_addr_eq(&l, &me));
	sy_env_dgram_close(&tenv, d);
	pcap_tap_destroy(t);
	testenv_free(&te);
}

static void test_no_sink_no_tap(void **state)
{
	struct testenv te;
	testenv_init(&te, 1);
	struct pcap_node_tap nt;
	pcap_node_tap_init(&nt, &te.env);
	assert_ptr_equal(pcap_node_tap_env(&nt), &te.env); /* unwrapped: no cost at all */
	assert_null(nt.tap);
	assert_int_equal(pcap_node_tap_close(&nt), SY_OK);
	struct rec r = {0};
	pcap_node_tap_init(&nt, &te.env);
	assert_int_equal(pcap_node_tap_add(&nt, (struct pcap_sink){rec_seg, &r}), SY_OK);
	const struct sy_env *tenv = pcap_node_tap_env(&nt);
	assert_ptr_not_equal(tenv, &te.env);
	/* Every operation is forwarded: an op added to env.h and not to the
	 * tap would be NULL here (the table is function pointers only). */
	uintptr_t ops[sizeof(struct sy_env_ops) / sizeof(uintptr_t)];
	_Static_assert(sizeof(struct sy_env_ops) % sizeof(uintptr_t) == 0, "pointers only");
	memcpy(ops, tenv->ops, sizeof(ops));
	for (size_t i = 0; i < SY_ARRAY_LEN(ops); i++)
		assert_true(ops[i] != 0);
	assert_int_equal(pcap_node_tap_close(&nt), SY_OK);
	testenv_free(&te);
}

/* ---- streams, on a fake backend the test drives by hand ---- */

struct fstream {
	struct sy_stream_cbs cbs;
	void *arg;
	struct sy_addr local, peer;
	int closes;
	char out[256];
	size_t out_len;
};
struct fake {
	struct sy_env_ops ops;
	struct sy_env env;
	struct sy_stream_cbs lcbs;
	void *larg;
	struct sy_listener *lsn;
	struct fstream st[4];
	int nst;
};
static struct fake *fake_of(void *ctx)
{
	return ctx;
}
static struct fstream *fs(struct sy_stream *s)
{
	return (struct fstream *)(void *)s;
}
static struct sy_stream *fh(struct fstream *f)
{
	return (struct sy_stream *)(void *)f;
}
static enum sy_rc f_listen(void *ctx, const struct sy_addr *local, const struct sy_stream_cbs *cbs, void *arg,
			   struct sy_listener **out)
{
	struct fake *f = fake_of(ctx);
	f->lcbs = *cbs;
	f->larg = arg;
	*out = f->lsn = (struct sy_listener *)(void *)&f->lcbs;
	return SY_OK;
}
static void f_listener_close(void *ctx, struct sy_listener *l)
{
	assert_ptr_equal(l, fake_of(ctx)->lsn);
}
static enum sy_rc f_connect(void *ctx, const struct sy_addr *remote, const struct sy_stream_cbs *cbs, void *arg,
			    struct sy_stream **out)
{
	struct fake *f = fake_of(ctx);
	struct fstream *s = &f->st[f->nst++];
	*s = (struct fstream){.cbs = *cbs, .arg = arg, .local = sy_addr_v4(10, 0, 0, 1, 40000), .peer = *remote};
	*out = fh(s);
	return SY_OK;
}
static enum sy_rc f_write(void *ctx, struct sy_stream *s, const void *buf, size_t len)
{
	memcpy(fs(s)->out + fs(s)->out_len, buf, len);
	fs(s)->out_len += len;
	return SY_OK;
}
static void f_set_arg(void *ctx, struct sy_stream *s, void *arg)
{
	fs(s)->arg = arg;
}
static size_t f_queued(void *ctx, struct sy_stream *s)
{
	return fs(s)->out_len;
}
static void f_close(void *ctx, struct sy_stream *s)
{
	fs(s)->closes++;
}
static void f_peer(void *ctx, struct sy_stream *s, struct sy_addr *out)
{
	*out = fs(s)->peer;
}
static void f_local(void *ctx, struct sy_stream *s, struct sy_addr *out)
{
	*out = fs(s)->local;
}

/* The fake's clock is the testenv's (the tap stamps segments with it). */
static struct testenv *g_te;
static uint64_t f_wall(void *ctx)
{
	return sy_env_wall_ns(&g_te->env);
}
static uint64_t f_now(void *ctx)
{
	return sy_env_now_ns(&g_te->env);
}

static void fake_init(struct fake *f, struct testenv *te)
{
	memset(f, 0, sizeof(*f));
	g_te = te;
	f->ops.now_ns = f_now;
	f->ops.wall_ns = f_wall;
	f->ops.stream_listen = f_listen;
	f->ops.listener_close = f_listener_close;
	f->ops.stream_connect = f_connect;
	f->ops.stream_write = f_write;
	f->ops.stream_set_arg = f_set_arg;
	f->ops.stream_queued = f_queued;
	f->ops.stream_close = f_close;
	f->ops.stream_peer = f_peer;
	f->ops.stream_local = f_local;
	f->env = (struct sy_env){.ops = &f->ops, .ctx = f, .log_level = SY_LOG_WARN};
}

static void own_open(void *arg, struct sy_stream *s)
{
	struct owner *o = arg;
	o->got++;
	o->last_stream = s;
	o->last_arg = arg;
}
static void own_data(void *arg, struct sy_stream *s, const uint8_t *buf, size_t len)
{
	struct owner *o = arg;
	o->got++;
	o->last_stream = s;
	memcpy(o->buf, buf, len);
	o->len = len;
	if (o->close_in_data)
		sy_env_stream_close(o->env, s);
}
static void own_close(void *arg, struct sy_stream *s, enum sy_rc why)
{
	struct owner *o = arg;
	o->got++;
	o->last_stream = s;
	o->why = why;
}
static const struct sy_stream_cbs own_cbs = {own_open, own_data, own_close};

static void test_stream_accepted(void **state)
{
	struct testenv te;
	testenv_init(&te, 1);
	struct fake f;
	fake_init(&f, &te);
	struct rec r = {0};
	struct sy_env tenv;
	struct pcap_tap *t = pcap_tap_create(&f.env, &tenv);
	assert_int_equal(pcap_tap_add_sink(t, (struct pcap_sink){rec_seg, &r}), SY_OK);
	struct owner lo = {.env = &tenv}, so = {.env = &tenv};
	struct sy_addr me = sy_addr_v4(10, 0, 0, 1, 2775), peer = sy_addr_v4(10, 0, 4, 1, 49152);
	struct sy_listener *l;
	assert_int_equal(sy_env_stream_listen(&tenv, &me, &own_cbs, &lo, &l), SY_OK);
	assert_ptr_equal(l, f.lsn); /* listeners are not wrapped: sy_live_listener_local keeps working */
	/* The backend accepts: on_open with the listener's context. */
	struct fstream *in = &f.st[f.nst++];
	*in = (struct fstream){.cbs = f.lcbs, .arg = f.larg, .local = me, .peer = peer};
	in->cbs.on_open(in->arg, fh(in));
	assert_int_equal(lo.got, 1);
	struct sy_stream *h = lo.last_stream;
	assert_ptr_not_equal(h, fh(in));				    /* the owner holds the wrapper */
	assert_seg(&r, 0, PCAP_PROTO_TCP, PCAP_SEG_OPEN, &peer, &me, NULL); /* the peer sent the SYN */
	sy_env_stream_set_arg(&tenv, h, &so);
	in->cbs.on_data(in->arg, fh(in), (const uint8_t *)"bind", 4);
	assert_int_equal(so.got, 1); /* the owner's new arg */
	assert_ptr_equal(so.last_stream, h);
	assert_seg(&r, 1, PCAP_PROTO_TCP, PCAP_SEG_DATA, &peer, &me, "bind");
	assert_int_equal(sy_env_stream_write(&tenv, h, "resp", 4), SY_OK);
	assert_int_equal(in->out_len, 4);
	assert_seg(&r, 2, PCAP_PROTO_TCP, PCAP_SEG_DATA, &me, &peer, "resp");
	assert_int_equal(sy_env_stream_queued(&tenv, h), 4);
	struct sy_addr a;
	sy_env_stream_peer(&tenv, h, &a);
	assert_true(sy_addr_eq(&a, &peer));
	sy_env_stream_local(&tenv, h, &a);
	assert_true(sy_addr_eq(&a, &me));
	assert_int_equal(r.s[0].conn, r.s[2].conn);
	assert_int_not_equal(r.s[0].conn, 0);
	/* The peer closes: on_close through, then the wrapper is gone (ASan). */
	in->cbs.on_close(in->arg, fh(in), SY_OK);
	assert_int_equal(so.got, 2);
	assert_ptr_equal(so.last_stream, h);
	assert_seg(&r, 3, PCAP_PROTO_TCP, PCAP_SEG_CLOSE, &peer, &me, NULL);
	assert_int_equal(in->closes, 0);
	assert_int_equal(pcap_tap_streams(t), 0);

	/* A second one the owner closes from inside on_data: closed once, freed once. */
	struct fstream *in2 = &f.st[f.nst++];
	*in2 = (struct fstream){.cbs = f.lcbs, .arg = f.larg, .local = me, .peer = peer};
	in2->cbs.on_open(in2->arg, fh(in2));
	assert_int_equal(pcap_tap_streams(t), 1);
	h = lo.last_stream;
	so = (struct owner){.env = &tenv, .close_in_data = true};
	sy_env_stream_set_arg(&tenv, h, &so);
	in2->cbs.on_data(in2->arg, fh(in2), (const uint8_t *)"x", 1);
	assert_int_equal(in2->closes, 1);
	assert_int_equal(pcap_tap_streams(t), 0); /* freed once out of the callback */
	assert_int_equal(r.n, 7);
	assert_seg(&r, 6, PCAP_PROTO_TCP, PCAP_SEG_CLOSE, &me, &peer, NULL); /* our FIN */
	assert_int_not_equal(r.s[4].conn, r.s[0].conn);
	sy_env_listener_close(&tenv, l);
	pcap_tap_destroy(t);
	testenv_free(&te);
}

static void test_stream_connected(void **state)
{
	struct testenv te;
	testenv_init(&te, 1);
	struct fake f;
	fake_init(&f, &te);
	struct rec r = {0};
	struct sy_env tenv;
	struct pcap_tap *t = pcap_tap_create(&f.env, &tenv);
	assert_int_equal(pcap_tap_add_sink(t, (struct pcap_sink){rec_seg, &r}), SY_OK);
	struct owner o = {.env = &tenv};
	struct sy_addr smsc = sy_addr_v4(10, 0, 3, 1, 2775);
	struct sy_stream *h;
	assert_int_equal(sy_env_stream_connect(&tenv, &smsc, &own_cbs, &o, &h), SY_OK);
	struct fstream *out = &f.st[0];
	assert_ptr_not_equal(h, fh(out));
	assert_int_equal(r.n, 0); /* nothing on the wire before the SYN-ACK... */
	assert_int_equal(sy_env_stream_write(&tenv, h, "early", 5), SY_OK);
	assert_int_equal(r.n, 2); /* ...unless bytes go: the handshake first */
	assert_seg(&r, 0, PCAP_PROTO_TCP, PCAP_SEG_OPEN, &out->local, &smsc, NULL);
	assert_seg(&r, 1, PCAP_PROTO_TCP, PCAP_SEG_DATA, &out->local, &smsc, "early");
	out->cbs.on_open(out->arg, fh(out));
	assert_int_equal(o.got, 1);
	assert_ptr_equal(o.last_stream, h);
	assert_int_equal(r.n, 2); /* opened once */
	sy_env_stream_close(&tenv, h);
	assert_int_equal(out->closes, 1);
	assert_seg(&r, 2, PCAP_PROTO_TCP, PCAP_SEG_CLOSE, &out->local, &smsc, NULL);
	assert_int_equal(pcap_tap_streams(t), 0);
	/* A connect refused before it opened leaves nothing in the capture. */
	assert_int_equal(sy_env_stream_connect(&tenv, &smsc, &own_cbs, &o, &h), SY_OK);
	f.st[1].cbs.on_close(f.st[1].arg, fh(&f.st[1]), SY_ERR_IO);
	assert_int_equal(o.why, SY_ERR_IO);
	assert_int_equal(r.n, 3);
	assert_int_equal(pcap_tap_streams(t), 0);
	pcap_tap_destroy(t);
	testenv_free(&te);
}

/* Segments from beside the env (serve's HTTP): conn ids that no stream of
 * the tap has, every sink given the segment, stamped with the tap's clock
 * when the caller gives none. */
static void test_record_from_outside(void **state)
{
	struct testenv te;
	testenv_init(&te, 1);
	struct fake f;
	fake_init(&f, &te);
	struct rec r = {0}, r2 = {0};
	struct sy_env tenv;
	struct pcap_tap *t = pcap_tap_create(&f.env, &tenv);
	assert_int_equal(pcap_tap_add_sink(t, (struct pcap_sink){rec_seg, &r}), SY_OK);
	assert_int_equal(pcap_tap_add_sink(t, (struct pcap_sink){rec_seg, &r2}), SY_OK);
	struct owner o = {.env = &tenv};
	struct sy_addr smsc = sy_addr_v4(10, 0, 3, 1, 2775), api = sy_addr_v4(10, 0, 1, 1, 8080),
		       cli = sy_addr_v4(10, 0, 9, 9, 40000);
	struct sy_stream *h;
	assert_int_equal(sy_env_stream_connect(&tenv, &smsc, &own_cbs, &o, &h), SY_OK);
	uint64_t id1 = pcap_tap_conn_id(t), id2 = pcap_tap_conn_id(t);
	assert_int_equal(sy_env_stream_write(&tenv, h, "x", 1), SY_OK); /* the stream's OPEN and DATA */
	assert_int_not_equal(id1, 0);
	assert_int_not_equal(id1, id2);
	assert_int_not_equal(id1, r.s[0].conn);
	assert_int_not_equal(id2, r.s[0].conn);
	pcap_tap_record(t, &(struct pcap_seg){0, PCAP_PROTO_TCP, PCAP_SEG_DATA, cli, api, id1, (const uint8_t *)"GET", 3});
	pcap_tap_record(t, &(struct pcap_seg){42, PCAP_PROTO_TCP, PCAP_SEG_CLOSE, api, cli, id1, NULL, 0});
	assert_int_equal(r.n, 4);
	assert_int_equal(r2.n, 4);
	assert_seg(&r, 2, PCAP_PROTO_TCP, PCAP_SEG_DATA, &cli, &api, "GET");
	assert_seg(&r2, 2, PCAP_PROTO_TCP, PCAP_SEG_DATA, &cli, &api, "GET");
	assert_int_equal(r.s[2].conn, id1);
	assert_int_equal(r.s[2].ts_ns, sy_env_wall_ns(&te.env));
	assert_seg(&r, 3, PCAP_PROTO_TCP, PCAP_SEG_CLOSE, &api, &cli, NULL);
	assert_int_equal(r.s[3].ts_ns, 42);
	sy_env_stream_close(&tenv, h);
	pcap_tap_destroy(t);
	testenv_free(&te);
}

/* ---- the writer's file, read back ---- */

struct frame {
	uint64_t ts_ns;
	size_t len;
	uint8_t b[2048];
};

static size_t read_back(const char *path, struct frame *fr, size_t max)
{
	char err[PCAP_ERRBUF_SIZE];
	pcap_t *p = pcap_open_offline_with_tstamp_precision(path, PCAP_TSTAMP_PRECISION_NANO, err);
	assert_non_null(p);
	assert_int_equal(pcap_datalink(p), DLT_EN10MB);
	struct pcap_pkthdr *h;
	const u_char *d;
	size_t n = 0;
	int rc;
	while ((rc = pcap_next_ex(p, &h, &d)) == 1) {
		assert_true(n < max);
		assert_int_equal(h->caplen, h->len);
		assert_true(h->caplen <= sizeof(fr[n].b));
		fr[n].ts_ns = (uint64_t)h->ts.tv_sec * SY_NS_PER_S + (uint64_t)h->ts.tv_usec;
		fr[n].len = h->caplen;
		memcpy(fr[n].b, d, h->caplen);
		n++;
	}
	assert_int_equal(rc, PCAP_ERROR_BREAK); /* the end of the file, not a truncated record */
	pcap_close(p);
	return n;
}

static uint32_t sum16(uint32_t acc, const uint8_t *p, size_t n)
{
	for (; n > 1; p += 2, n -= 2)
		acc += (uint32_t)p[0] << 8 | p[1];
	if (n == 1)
		acc += (uint32_t)p[0] << 8;
	while (acc >> 16)
		acc = (acc & 0xffff) + (acc >> 16);
	return acc;
}
static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}
static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)get16(p) << 16 | get16(p + 2);
}

/* Checks the IP and L4 checksums and lengths; returns the L4 header. */
static const uint8_t *check_frame(const struct frame *f, uint8_t proto, size_t *l4len)
{
	const uint8_t *ip = f->b + 14;
	uint32_t ps;
	if (get16(f->b + 12) == 0x0800) {
		assert_int_equal(ip[0], 0x45);
		assert_int_equal(get16(ip + 2), f->len - 14);
		assert_int_equal(sum16(0, ip, 20), 0xffff); /* header checksum good */
		assert_int_equal(ip[9], proto);
		*l4len = f->len - 34;
		ps = sum16(0, ip + 12, 8);
	} else {
		assert_int_equal(get16(f->b + 12), 0x86dd);
		assert_int_equal(get16(ip + 4), f->len - 54);
		assert_int_equal(ip[6], proto);
		*l4len = f->len - 54;
		ps = sum16(0, ip + 8, 32);
	}
	const uint8_t *l4 = f->b + f->len - *l4len;
	ps += proto + (uint32_t)*l4len;
	assert_int_equal(sum16(ps, l4, *l4len), 0xffff); /* L4 checksum good */
	if (proto == PCAP_PROTO_UDP)
		assert_int_equal(get16(l4 + 4), *l4len);
	return l4;
}

static void test_writer_frames(void **state)
{
	struct testenv te;
	testenv_init(&te, 1);
	char path[] = "/tmp/test_pcap_write.XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	close(fd);
	struct pcap_writer *w;
	char err[256];
	assert_int_equal(pcap_writer_open(&te.env, path, &w, err, sizeof(err)), SY_OK);
	struct pcap_sink sk = pcap_writer_sink(w);
	struct sy_addr a = sy_addr_v4(10, 0, 0, 1, 5060), b = sy_addr_v4(10, 0, 1, 1, 5061), a6, b6;
	assert_int_equal(sy_addr_parse("[2001:db8::1]:5060", 0, &a6), SY_OK);
	assert_int_equal(sy_addr_parse("[2001:db8::2]:5062", 0, &b6), SY_OK);
	uint64_t t0 = 1700000000123456789ull;
	sk.seg(sk.arg, &(struct pcap_seg){t0, PCAP_PROTO_UDP, PCAP_SEG_DATA, a, b, 0, (const uint8_t *)"OPTIONS", 7});
	sk.seg(sk.arg, &(struct pcap_seg){t0 + 1, PCAP_PROTO_UDP, PCAP_SEG_DATA, a6, b6, 0, (const uint8_t *)"odd", 3});
	static uint8_t big[36000];
	for (size_t i = 0; i < sizeof(big); i++)
		big[i] = (uint8_t)i;
	struct sy_addr c = sy_addr_v4(10, 0, 4, 1, 49152), s = sy_addr_v4(10, 0, 0, 1, 2775);
	sk.seg(sk.arg, &(struct pcap_seg){t0 + 2, PCAP_PROTO_TCP, PCAP_SEG_OPEN, c, s, 7, NULL, 0});
	sk.seg(sk.arg, &(struct pcap_seg){t0 + 3, PCAP_PROTO_TCP, PCAP_SEG_DATA, c, s, 7, big, sizeof(big)});
	sk.seg(sk.arg, &(struct pcap_seg){t0 + 4, PCAP_PROTO_TCP, PCAP_SEG_DATA, s, c, 7, (const uint8_t *)"ok", 2});
	sk.seg(sk.arg, &(struct pcap_seg){t0 + 5, PCAP_PROTO_TCP, PCAP_SEG_CLOSE, s, c, 7, NULL, 0});
	struct pcap_writer_stats st;
	pcap_writer_stats(w, &st);
	assert_int_equal(st.segs, 6);
	assert_int_equal(st.dgrams, 2);
	assert_int_equal(pcap_writer_close(w), SY_OK);

	static struct frame fr[64];
	size_t n = read_back(path, fr, 64);
	/* 2 UDP + 3 handshake + 25 data (36000 at 1460) + 1 ACK at 32K + 1 reply + 3 FIN/ACK */
	assert_int_equal(n, 2 + 3 + 25 + 1 + 1 + 3);
	assert_int_equal(st.frames, n);
	size_t l4len;
	const uint8_t *u = check_frame(&fr[0], PCAP_PROTO_UDP, &l4len);
	assert_int_equal(fr[0].ts_ns, t0);
	assert_int_equal(get16(u), 5060);
	assert_int_equal(get16(u + 2), 5061);
	assert_memory_equal(u + 8, "OPTIONS", 7);
	assert_memory_equal(fr[0].b, "\x02\x00\x0a\x00\x01\x01", 6); /* dst MAC from 10.0.1.1 */
	u = check_frame(&fr[1], PCAP_PROTO_UDP, &l4len);
	assert_memory_equal(u + 8, "odd", 3); /* odd length: the padded checksum byte */
	/* The handshake. */
	const uint8_t *syn = check_frame(&fr[2], PCAP_PROTO_TCP, &l4len);
	const uint8_t *synack = check_frame(&fr[3], PCAP_PROTO_TCP, &l4len);
	const uint8_t *ack = check_frame(&fr[4], PCAP_PROTO_TCP, &l4len);
	assert_int_equal(syn[13], 0x02);
	assert_int_equal(synack[13], 0x12);
	assert_int_equal(ack[13], 0x10);
	uint32_t cs = get32(syn + 4), ss = get32(synack + 4);
	assert_int_equal(get32(synack + 8), cs + 1);
	assert_int_equal(get32(ack + 8), ss + 1);
	/* The data: MSS-sized, contiguous, acknowledging the server's SYN. */
	uint32_t seq = cs + 1;
	size_t got = 0;
	for (size_t i = 5; i < 31; i++) {
		const uint8_t *tcp = check_frame(&fr[i], PCAP_PROTO_TCP, &l4len);
		if (get16(tcp) == 2775) { /* the server's ACK after 32 KB */
			assert_int_equal(tcp[13], 0x10);
			assert_int_equal(get32(tcp + 8), seq);
			assert_true(got >= 32768);
			continue;
		}
		assert_int_equal(tcp[13], 0x18);
		assert_int_equal(get32(tcp + 4), seq);
		assert_int_equal(get32(tcp + 8), ss + 1);
		size_t len = l4len - 20;
		assert_true(len <= 1460);
		assert_memory_equal(tcp + 20, big + got, len);
		seq += (uint32_t)len;
		got += len;
	}
	assert_int_equal(got, sizeof(big));
	const uint8_t *rep = check_frame(&fr[31], PCAP_PROTO_TCP, &l4len);
	assert_int_equal(get32(rep + 4), ss + 1);
	assert_int_equal(get32(rep + 8), seq);
	const uint8_t *f1 = check_frame(&fr[32], PCAP_PROTO_TCP, &l4len);
	const uint8_t *f2 = check_frame(&fr[33], PCAP_PROTO_TCP, &l4len);
	const uint8_t *f3 = check_frame(&fr[34], PCAP_PROTO_TCP, &l4len);
	assert_int_equal(get16(f1), 2775); /* the server closed first */
	assert_int_equal(f1[13], 0x11);
	assert_int_equal(get32(f1 + 4), ss + 3);
	assert_int_equal(f2[13], 0x11);
	assert_int_equal(get32(f2 + 8), ss + 4);
	assert_int_equal(f3[13], 0x10);
	assert_int_equal(get32(f3 + 8), get32(f2 + 4) + 1);
	unlink(path);
	testenv_free(&te);
}

static void test_writer_open_error(void **state)
{
	struct testenv te;
	testenv_init(&te, 1);
	struct pcap_writer *w = (struct pcap_writer *)&te;
	char err[256];
	assert_int_equal(pcap_writer_open(&te.env, "/nonexistent-sy/x.pcap", &w, err, sizeof(err)), SY_ERR_NOTFOUND);
	assert_null(w);
	assert_string_equal(err, "/nonexistent-sy/x.pcap: No such file or directory");
	testenv_free(&te);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_dgram_forwarded_and_recorded),
	    cmocka_unit_test(test_no_sink_no_tap),
	    cmocka_unit_test(test_stream_accepted),
	    cmocka_unit_test(test_stream_connected),
	    cmocka_unit_test(test_record_from_outside),
	    cmocka_unit_test(test_writer_frames),
	    cmocka_unit_test(test_writer_open_error),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
