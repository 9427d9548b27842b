/* test_sim.c: the simulator core: event order with ties, timers and cancel,
 * the determinism digest, node crash and restart, streams (order, close,
 * refusal, crash), and the per-second series CSV. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>

#include <cmocka.h>

#include "core/rng.h"
#include "sim/digest.h"
#include "sim/net.h"
#include "sim/series.h"
#include "sim/sim.h"

/* ---- event order ---- */

struct order_log {
	struct sim *sim;
	int tags[32];
	uint64_t at[32];
	int n;
};

struct tagged {
	struct order_log *log;
	int tag;
};

static void order_fn(void *arg)
{
	struct tagged *t = arg;
	struct order_log *l = t->log;
	l->at[l->n] = sim_now(l->sim);
	l->tags[l->n++] = t->tag;
}

static void test_event_order_ties(void **state)
{
	(void)state;
	struct sim *s = sim_create(1, 0);
	struct sim_node *a = sim_node_add(s, "a", NULL);
	struct order_log log = {.sim = s};
	/* Mixed world events and node timers; ties must run in insertion order. */
	static const uint64_t times[] = {50, 30, 30, 10, 50, 30, 0, 10};
	struct tagged tg[SY_ARRAY_LEN(times)];
	for (size_t i = 0; i < SY_ARRAY_LEN(times); i++) {
		tg[i] = (struct tagged){&log, (int)i};
		if (i % 2 == 0)
			assert_int_not_equal(sim_at(s, times[i], order_fn, &tg[i]), 0);
		else
			assert_int_not_equal(sy_env_timer_start(sim_node_env(a), times[i], order_fn, &tg[i]), 0);
	}
	assert_int_equal(sim_pending(s), 8);
	assert_int_equal(sim_run_until(s, 100), 8);
	static const int want[] = {6, 3, 7, 1, 2, 5, 0, 4};
	assert_int_equal(log.n, 8);
	for (int i = 0; i < 8; i++) {
		assert_int_equal(log.tags[i], want[i]);
		assert_int_equal(log.at[i], times[want[i]]);
	}
	assert_int_equal(sim_now(s), 100);
	assert_int_equal(sim_stats(s)->events, 8);
	sim_destroy(s);
}

static void test_run_until_stops_at_bound(void **state)
{
	(void)state;
	struct sim *s = sim_create(1, 0);
	struct order_log log = {.sim = s};
	struct tagged t1 = {&log, 1}, t2 = {&log, 2};
	sim_at(s, 10, order_fn, &t1);
	sim_at(s, 11, order_fn, &t2);
	assert_int_equal(sim_run_until(s, 10), 1);
	assert_int_equal(sim_now(s), 10);
	assert_int_equal(log.n, 1);
	/* A past time is clamped to now, so it runs next, not before now. */
	struct tagged t3 = {&log, 3};
	sim_at(s, 2, order_fn, &t3);
	assert_int_equal(sim_run_until_idle(s, 100), 2);
	assert_int_equal(log.tags[1], 3);
	assert_int_equal(log.at[1], 10);
	assert_int_equal(log.tags[2], 2);
	sim_destroy(s);
}

/* ---- timers ---- */

static void count_fn(void *arg)
{
	(*(int *)arg)++;
}

static void test_timer_cancel(void **state)
{
	(void)state;
	struct sim *s = sim_create(7, 1000);
	struct sim_node *a = sim_node_add(s, "a", "10.1.0.1");
	const struct sy_env *e = sim_node_env(a);
	int c[3] = {0};
	sy_timer_id ids[3];
	for (int i = 0; i < 3; i++)
		ids[i] = sy_env_timer_start(e, (uint64_t)(i + 1) * SY_NS_PER_MS, count_fn, &c[i]);
	sy_env_timer_cancel(e, ids[1]);
	sy_env_timer_cancel(e, ids[1]); /* twice is harmless */
	sy_env_timer_cancel(e, 0);
	sim_run_until(s, 10 * SY_NS_PER_MS);
	assert_int_equal(c[0], 1);
	assert_int_equal(c[1], 0);
	assert_int_equal(c[2], 1);
	/* Cancelling a fired timer does nothing, even after its record is reused. */
	int d = 0;
	sy_timer_id fresh = sy_env_timer_start(e, 5, count_fn, &d);
	sy_env_timer_cancel(e, ids[0]);
	sy_env_timer_cancel(e, ids[2]);
	sim_run_until_idle(s, 10);
	assert_int_equal(d, 1);
	assert_int_not_equal(fresh, ids[0]);
	assert_int_equal(sy_env_wall_ns(e), 1000 + sim_now(s));
	assert_int_equal(sim_stats(s)->timers_fired, 3);
	sim_destroy(s);
}

/* ---- ping-pong workload for the digest ---- */

struct pp {
	struct sim *sim;
	struct sim_node *a, *b;
	struct sy_dgram *sa, *sb;
	struct sy_addr b_addr;
	int sent, pongs;
};

static void pp_b_recv(void *arg, struct sy_dgram *sock, const struct sy_addr *from, const uint8_t *buf, size_t len)
{
	struct pp *p = arg;
	assert_int_equal(sy_env_dgram_send(sim_node_env(p->b), sock, from, buf, len), SY_OK);
}

static void pp_a_recv(void *arg, struct sy_dgram *sock, const struct sy_addr *from, const uint8_t *buf, size_t len)
{
	struct pp *p = arg;
	p->pongs++;
	sy_env_event(sim_node_env(p->a), "pong", buf, len);
}

static void pp_tick(void *arg)
{
	struct pp *p = arg;
	char msg[32];
	int n = snprintf(msg, sizeof(msg), "ping %d", p->sent++);
	sy_env_dgram_send(sim_node_env(p->a), p->sa, &p->b_addr, msg, (size_t)n);
	if (p->sent < 500)
		sy_env_timer_start(sim_node_env(p->a), SY_NS_PER_MS, pp_tick, p);
}

static void pingpong(uint64_t seed, char hex[65], int *pongs)
{
	struct pp p = {0};
	p.sim = sim_create(seed, 0);
	p.a = sim_node_add(p.sim, "a", NULL);
	p.b = sim_node_add(p.sim, "b", NULL);
	struct sim_link_cfg cfg = sim_link_cfg_default();
	cfg.latency = (struct sy_dist){SY_DIST_UNIFORM, 1 * SY_NS_PER_MS, 20 * SY_NS_PER_MS, 0};
	cfg.loss_ppm = 50000;
	cfg.reorder = true;
	sim_net_set_default(p.sim, &cfg);
	struct sy_addr any = sy_addr_v4(0, 0, 0, 0, 5060);
	assert_int_equal(sy_env_dgram_open(sim_node_env(p.b), &any, pp_b_recv, &p, &p.sb), SY_OK);
	any.port = 0;
	assert_int_equal(sy_env_dgram_open(sim_node_env(p.a), &any, pp_a_recv, &p, &p.sa), SY_OK);
	p.b_addr = sim_node_addr(p.b, 5060);
	sim_at(p.sim, 0, pp_tick, &p);
	sim_run_until(p.sim, 2 * SY_NS_PER_S);
	sim_digest_hex(p.sim, hex);
	*pongs = p.pongs;
	sim_destroy(p.sim);
}

static void test_digest_determinism(void **state)
{
	(void)state;
	char h1[65], h2[65], h3[65];
	int p1, p2, p3;
	pingpong(42, h1, &p1);
	pingpong(42, h2, &p2);
	pingpong(43, h3, &p3);
	assert_int_equal(strlen(h1), 64);
	assert_string_equal(h1, h2);
	assert_int_equal(p1, p2);
	assert_string_not_equal(h1, h3);
	/* 5% loss each way: about 90% of 500 pings come back. */
	assert_in_range(p1, 400, 490);
	assert_in_range(p3, 400, 490);
}

static void test_digest_known_vector(void **state)
{
	(void)state;
	/* An empty log hashes to SHA-256 of nothing. */
	struct sim *s = sim_create(1, 0);
	char hex[65];
	sim_digest_hex(s, hex);
	assert_string_equal(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	/* Event records change the digest; the digest stays usable after reading it. */
	struct sim_node *a = sim_node_add(s, "a", NULL);
	sy_env_event(sim_node_env(a), "cdr", "x", 1);
	char hex2[65];
	sim_digest_hex(s, hex2);
	assert_string_not_equal(hex, hex2);
	sim_destroy(s);
}

/* ---- crash and restart ---- */

struct crashy {
	struct sim_node *node;
	struct sy_dgram *sock;
	int recv, crashes, restarts;
};

static void crashy_recv(void *arg, struct sy_dgram *sock, const struct sy_addr *from, const uint8_t *buf, size_t len)
{
	if (arg != NULL)
		((struct crashy *)arg)->recv++;
}

static void crashy_open(struct crashy *c)
{
	struct sy_addr any = sy_addr_v4(0, 0, 0, 0, 9000);
	assert_int_equal(sy_env_dgram_open(sim_node_env(c->node), &any, crashy_recv, c, &c->sock), SY_OK);
}

static void crashy_crash(void *arg, struct sim_node *n)
{
	struct crashy *c = arg;
	c->crashes++;
	sy_env_dgram_close(sim_node_env(n), c->sock); /* harmless on a dead handle */
	c->sock = NULL;
}

static void crashy_restart(void *arg, struct sim_node *n)
{
	struct crashy *c = arg;
	c->restarts++;
	crashy_open(c);
}

static void send_one(struct sim *s, struct sim_node *from, struct sy_dgram *sock, struct sy_addr to)
{
	(void)s;
	assert_int_equal(sy_env_dgram_send(sim_node_env(from), sock, &to, "hi", 2), SY_OK);
}

static void test_crash_drops_timers_and_sockets(void **state)
{
	(void)state;
	struct sim *s = sim_create(3, 0);
	struct sim_node *a = sim_node_add(s, "a", NULL), *b = sim_node_add(s, "b", NULL);
	assert_null(sim_node_add(s, "b", NULL)); /* duplicate name */
	struct crashy cb = {.node = b};
	crashy_open(&cb);
	sim_node_set_hooks(b, crashy_crash, crashy_restart, &cb);
	struct sy_dgram *sa;
	struct sy_addr any = sy_addr_v4(0, 0, 0, 0, 0);
	assert_int_equal(sy_env_dgram_open(sim_node_env(a), &any, crashy_recv, NULL, &sa), SY_OK);
	int fired = 0, a_fired = 0;
	sy_env_timer_start(sim_node_env(b), 10 * SY_NS_PER_MS, count_fn, &fired);
	sy_env_timer_start(sim_node_env(a), 10 * SY_NS_PER_MS, count_fn, &a_fired);
	send_one(s, a, sa, sim_node_addr(b, 9000));
	sim_run_until(s, 5 * SY_NS_PER_MS);
	assert_int_equal(cb.recv, 1);
	sim_node_crash(b);
	assert_false(sim_node_is_up(b));
	send_one(s, a, sa, sim_node_addr(b, 9000));
	sim_run_until(s, 20 * SY_NS_PER_MS);
	assert_int_equal(fired, 0); /* b's timer died with it */
	assert_int_equal(a_fired, 1);
	assert_int_equal(cb.recv, 1);
	assert_int_equal(sim_stats(s)->dgrams_no_socket, 1);
	assert_int_equal(sim_stats(s)->timers_dropped, 1);
	/* A down node cannot bind. */
	struct sy_dgram *tmp;
	assert_int_equal(sy_env_dgram_open(sim_node_env(b), &any, crashy_recv, NULL, &tmp), SY_ERR_STATE);
	sim_node_restart(b);
	assert_int_equal(cb.restarts, 1);
	send_one(s, a, sa, sim_node_addr(b, 9000));
	sim_run_until(s, 30 * SY_NS_PER_MS);
	assert_int_equal(cb.recv, 2);
	/* Scheduled crash and restart. */
	sim_node_crash_at(b, 40 * SY_NS_PER_MS, 5 * SY_NS_PER_MS);
	sim_run_until(s, 50 * SY_NS_PER_MS);
	assert_int_equal(cb.crashes, 2);
	assert_int_equal(cb.restarts, 2);
	assert_true(sim_node_is_up(b));
	sy_env_dgram_close(sim_node_env(a), sa);
	sim_destroy(s);
}

static void test_bind_rules(void **state)
{
	(void)state;
	struct sim *s = sim_create(3, 0);
	struct sim_node *a = sim_node_add(s, "a", "10.9.0.1");
	assert_null(sim_node_add(s, "dup-ip", "10.9.0.1"));
	assert_null(sim_node_add(s, "bad-ip", "not-an-ip"));
	const struct sy_env *e = sim_node_env(a);
	struct sy_dgram *d1, *d2, *d3;
	struct sy_addr own = sy_addr_v4(10, 9, 0, 1, 7000), other = sy_addr_v4(10, 9, 0, 2, 7000);
	assert_int_equal(sy_env_dgram_open(e, &own, crashy_recv, NULL, &d1), SY_OK);
	assert_int_equal(sy_env_dgram_open(e, &own, crashy_recv, NULL, &d2), SY_ERR_STATE);
	assert_int_equal(sy_env_dgram_open(e, &other, crashy_recv, NULL, &d2), SY_ERR_INVAL);
	struct sy_addr eph = sy_addr_v4(0, 0, 0, 0, 0), got;
	assert_int_equal(sy_env_dgram_open(e, &eph, crashy_recv, NULL, &d3), SY_OK);
	sy_env_dgram_local(e, d3, &got);
	assert_int_equal(got.ip[0], 10);
	assert_true(got.port >= 49152);
	static uint8_t big[70000];
	assert_int_equal(sy_env_dgram_send(e, d1, &own, big, sizeof(big)), SY_ERR_INVAL);
	/* An IP nobody owns: accepted like UDP, counted as no route. */
	assert_int_equal(sy_env_dgram_send(e, d1, &other, "x", 1), SY_OK);
	assert_int_equal(sim_stats(s)->dgrams_no_route, 1);
	sy_env_dgram_close(e, d1);
	sy_env_dgram_close(e, d3);
	sim_destroy(s);
}

/* ---- streams ---- */

struct st_side {
	struct sim_node *node;
	struct sy_stream *s;
	int opens, closes;
	enum sy_rc why;
	char data[8192];
	size_t len;
	int reads;	 /* on_data calls */
	bool count_only; /* count bytes, keep none */
};

static void st_open(void *arg, struct sy_stream *s)
{
	struct st_side *x = arg;
	x->opens++;
	x->s = s;
}

static void st_data(void *arg, struct sy_stream *s, const uint8_t *buf, size_t len)
{
	struct st_side *x = arg;
	x->reads++;
	if (!x->count_only) {
		assert_true(x->len + len <= sizeof(x->data));
		memcpy(x->data + x->len, buf, len);
	}
	x->len += len;
}

static void st_close(void *arg, struct sy_stream *s, enum sy_rc why)
{
	struct st_side *x = arg;
	x->closes++;
	x->why = why;
	x->s = NULL;
}

static const struct sy_stream_cbs st_cbs = {st_open, st_data, st_close};

struct st_world {
	struct sim *sim;
	struct sim_node *a, *b;
	struct st_side ca, cb;
	struct sy_listener *l;
};

static void st_world(struct st_world *w, uint64_t seed)
{
	memset(w, 0, sizeof(*w));
	w->sim = sim_create(seed, 0);
	w->a = sim_node_add(w->sim, "a", NULL);
	w->b = sim_node_add(w->sim, "b", NULL);
	w->ca.node = w->a;
	w->cb.node = w->b;
	struct sim_link_cfg cfg = sim_link_cfg_default();
	/* Large jitter: segments would overtake each other if order were not kept. */
	cfg.latency = (struct sy_dist){SY_DIST_UNIFORM, 1 * SY_NS_PER_MS, 30 * SY_NS_PER_MS, 0};
	cfg.jitter_sd_ns = 10 * SY_NS_PER_MS;
	cfg.loss_ppm = 300000; /* streams are reliable: loss does not apply */
	cfg.reorder = true;
	sim_net_set_default(w->sim, &cfg);
	struct sy_addr la = sim_node_addr(w->b, 2775);
	assert_int_equal(sy_env_stream_listen(sim_node_env(w->b), &la, &st_cbs, &w->cb, &w->l), SY_OK);
}

static void test_stream_order_and_close(void **state)
{
	(void)state;
	struct st_world w;
	st_world(&w, 11);
	struct sy_addr to = sim_node_addr(w.b, 2775);
	struct sy_stream *cs;
	const struct sy_env *ea = sim_node_env(w.a);
	assert_int_equal(sy_env_stream_connect(ea, &to, &st_cbs, &w.ca, &cs), SY_OK);
	/* Writes before on_open are kept and delivered after the open, in order. */
	char want[8192];
	size_t wl = 0;
	for (int i = 0; i < 200; i++) {
		char m[16];
		int n = snprintf(m, sizeof(m), "m%d;", i);
		assert_int_equal(sy_env_stream_write(ea, cs, m, (size_t)n), SY_OK);
		memcpy(want + wl, m, (size_t)n);
		wl += (size_t)n;
	}
	assert_int_equal(sy_env_stream_queued(ea, cs), wl);
	sim_run_until(w.sim, SY_NS_PER_S);
	assert_int_equal(w.ca.opens, 1);
	assert_int_equal(w.cb.opens, 1);
	assert_int_equal(sy_env_stream_queued(ea, cs), 0);
	assert_int_equal(w.cb.len, wl);
	assert_memory_equal(w.cb.data, want, wl);
	struct sy_addr peer;
	sy_env_stream_peer(sim_node_env(w.b), w.cb.s, &peer);
	assert_int_equal(peer.ip[3], sim_node_addr(w.a, 0).ip[3]);
	/* Reply and close from b: a gets the bytes, then on_close(SY_OK). */
	assert_int_equal(sy_env_stream_write(sim_node_env(w.b), w.cb.s, "bye", 3), SY_OK);
	sy_env_stream_close(sim_node_env(w.b), w.cb.s);
	sim_run_until(w.sim, 2 * SY_NS_PER_S);
	assert_int_equal(w.ca.len, 3);
	assert_int_equal(w.ca.closes, 1);
	assert_int_equal(w.ca.why, SY_OK);
	assert_int_equal(w.cb.closes, 0); /* the closer gets no callback */
	assert_int_equal(sim_stats(w.sim)->stream_bytes, wl + 3);
	sy_env_listener_close(sim_node_env(w.b), w.l);
	sim_destroy(w.sim);
}

/* Writes at one virtual instant leave in one segment and arrive in one read;
 * writes at later instants, or past the segment size, start another. */
static void test_stream_coalesce(void **state)
{
	(void)state;
	struct st_world w;
	st_world(&w, 13);
	struct sy_addr to = sim_node_addr(w.b, 2775);
	struct sy_stream *cs;
	const struct sy_env *ea = sim_node_env(w.a);
	assert_int_equal(sy_env_stream_connect(ea, &to, &st_cbs, &w.ca, &cs), SY_OK);
	sim_run_until(w.sim, SY_NS_PER_S);
	assert_int_equal(w.cb.opens, 1);
	assert_int_equal(w.cb.reads, 0);
	/* three writes now: one read of all three, in order */
	assert_int_equal(sy_env_stream_write(ea, cs, "aa", 2), SY_OK);
	assert_int_equal(sy_env_stream_write(ea, cs, "bbb", 3), SY_OK);
	assert_int_equal(sy_env_stream_write(ea, cs, "c", 1), SY_OK);
	assert_int_equal(sy_env_stream_queued(ea, cs), 6);
	assert_int_equal(sim_stats(w.sim)->stream_coalesced, 2);
	sim_run_until(w.sim, 2 * SY_NS_PER_S);
	assert_int_equal(w.cb.reads, 1);
	assert_int_equal(w.cb.len, 6);
	assert_memory_equal(w.cb.data, "aabbbc", 6);
	/* a write at a later instant, while the first is still on its way: its own segment, after it */
	assert_int_equal(sy_env_stream_write(ea, cs, "d", 1), SY_OK);
	sim_run_until(w.sim, 2 * SY_NS_PER_S + 1);
	assert_int_equal(sy_env_stream_write(ea, cs, "e", 1), SY_OK);
	sim_run_until(w.sim, 3 * SY_NS_PER_S);
	assert_int_equal(w.cb.reads, 3);
	assert_memory_equal(w.cb.data, "aabbbcde", 8);
	assert_int_equal(sim_stats(w.sim)->stream_coalesced, 2);
	/* a segment holds at most SIM_SEG_MAX bytes: 40,000 + 30,000 written now are two reads */
	static uint8_t big[40000];
	w.cb.count_only = true;
	assert_int_equal(sy_env_stream_write(ea, cs, big, 40000), SY_OK);
	assert_int_equal(sy_env_stream_write(ea, cs, big, 20000), SY_OK); /* joins: 60,000 */
	assert_int_equal(sy_env_stream_write(ea, cs, big, 10000), SY_OK); /* would pass 65,536 */
	assert_int_equal(sim_stats(w.sim)->stream_coalesced, 3);
	sim_run_until(w.sim, 4 * SY_NS_PER_S);
	assert_int_equal(w.cb.reads, 5);
	assert_int_equal(w.cb.len, 8 + 70000);
	assert_int_equal(sy_env_stream_queued(ea, cs), 0);
	sy_env_stream_close(ea, cs);
	sim_run_until(w.sim, 5 * SY_NS_PER_S);
	sy_env_listener_close(sim_node_env(w.b), w.l);
	sim_destroy(w.sim);
}

static void test_stream_refused_and_crash(void **state)
{
	(void)state;
	struct st_world w;
	st_world(&w, 12);
	const struct sy_env *ea = sim_node_env(w.a);
	struct sy_stream *cs;
	struct sy_addr nobody = sim_node_addr(w.b, 1234);
	assert_int_equal(sy_env_stream_connect(ea, &nobody, &st_cbs, &w.ca, &cs), SY_OK);
	sim_run_until(w.sim, SY_NS_PER_S);
	assert_int_equal(w.ca.opens, 0);
	assert_int_equal(w.ca.closes, 1);
	assert_int_equal(w.ca.why, SY_ERR_IO);
	assert_int_equal(sim_stats(w.sim)->streams_refused, 1);
	struct sy_addr off = sy_addr_v4(192, 168, 1, 1, 80);
	assert_int_equal(sy_env_stream_connect(ea, &off, &st_cbs, &w.ca, &cs), SY_ERR_NOTFOUND);
	/* A crash closes a's streams: b hears SY_ERR_IO after latency. */
	memset(&w.ca, 0, sizeof(w.ca));
	struct sy_addr to = sim_node_addr(w.b, 2775);
	assert_int_equal(sy_env_stream_connect(ea, &to, &st_cbs, &w.ca, &cs), SY_OK);
	sim_run_until(w.sim, 2 * SY_NS_PER_S);
	assert_int_equal(w.cb.opens, 1);
	assert_int_equal(sy_env_stream_write(ea, cs, "abc", 3), SY_OK);
	sim_node_crash(w.a);
	sim_run_until(w.sim, 3 * SY_NS_PER_S);
	assert_int_equal(w.cb.len, 3); /* bytes sent before the crash still arrive first */
	assert_int_equal(w.cb.closes, 1);
	assert_int_equal(w.cb.why, SY_ERR_IO);
	assert_int_equal(w.ca.closes, 0);
	sy_env_stream_close(ea, cs); /* harmless on a handle killed by a crash */
	/* b's listener crashed too: a new connect is refused. */
	sim_node_restart(w.a);
	sim_node_crash(w.b);
	memset(&w.ca, 0, sizeof(w.ca));
	assert_int_equal(sy_env_stream_connect(ea, &to, &st_cbs, &w.ca, &cs), SY_OK);
	sim_run_until(w.sim, 4 * SY_NS_PER_S);
	assert_int_equal(w.ca.closes, 1);
	assert_int_equal(w.ca.why, SY_ERR_IO);
	sy_env_listener_close(sim_node_env(w.b), w.l);
	sim_destroy(w.sim);
}

/* ---- series ---- */

static void test_series_csv(void **state)
{
	(void)state;
	struct sim_series s;
	sim_series_init(&s, 10);
	int calls = sim_series_col_add(&s, "calls");
	int active = sim_series_col_add(&s, "active");
	assert_int_equal(sim_series_col_add(&s, "calls"), calls);
	assert_int_equal(sim_series_col_add(&s, "bad,name"), -1);
	assert_int_equal(sim_series_col_add(&s, ""), -1);
	assert_int_equal(sim_series_add(&s, calls, 100, 2), SY_OK);
	assert_int_equal(sim_series_add(&s, calls, SY_NS_PER_S - 1, 3), SY_OK);
	assert_int_equal(sim_series_add(&s, calls, 2 * SY_NS_PER_S, 1), SY_OK);
	assert_int_equal(sim_series_set(&s, active, SY_NS_PER_S, 7), SY_OK);
	assert_int_equal(sim_series_set(&s, active, SY_NS_PER_S + 5, 9), SY_OK);
	assert_int_equal(sim_series_add(&s, 99, 0, 1), SY_ERR_INVAL);
	assert_int_equal(sim_series_add(&s, calls, 11 * SY_NS_PER_S, 1), SY_ERR_FULL);
	sim_series_extend(&s, 4);
	assert_int_equal(sim_series_get(&s, active, 3), 9);
	char *out = NULL;
	size_t outlen = 0;
	FILE *f = open_memstream(&out, &outlen);
	assert_int_equal(sim_series_write_csv(&s, f), SY_OK);
	fclose(f);
	assert_string_equal(out, "t_s,calls,active\n0,5,0\n1,0,9\n2,1,9\n3,0,9\n");
	free(out);
	sim_series_free(&s);
}

static void test_event_text_log(void **state)
{
	(void)state;
	char *out = NULL;
	size_t outlen = 0;
	FILE *f = open_memstream(&out, &outlen);
	struct sim *s = sim_create(5, 0);
	sim_set_event_text(s, f);
	struct sim_node *a = sim_node_add(s, "a", NULL);
	sy_env_event(sim_node_env(a), "cdr", "x", 1);
	struct sy_dgram *d;
	struct sy_addr any = sy_addr_v4(0, 0, 0, 0, 5060), to = sim_node_addr(a, 5060);
	assert_int_equal(sy_env_dgram_open(sim_node_env(a), &any, crashy_recv, NULL, &d), SY_OK);
	assert_int_equal(sy_env_dgram_send(sim_node_env(a), d, &to, "INVITE sip:x\r\n", 14), SY_OK);
	sim_run_until_idle(s, 10);
	fclose(f);
	assert_non_null(strstr(out, "event a cdr len=1"));
	assert_non_null(strstr(out, "0.001000000 dgram 10.0.0.1:5060 > 10.0.0.1:5060 len=14 INVITE sip:x\n"));
	free(out);
	sim_destroy(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_event_order_ties),	cmocka_unit_test(test_run_until_stops_at_bound),
	    cmocka_unit_test(test_timer_cancel),	cmocka_unit_test(test_digest_determinism),
	    cmocka_unit_test(test_digest_known_vector), cmocka_unit_test(test_crash_drops_timers_and_sockets),
	    cmocka_unit_test(test_bind_rules),		cmocka_unit_test(test_stream_order_and_close),
	    cmocka_unit_test(test_stream_coalesce),	cmocka_unit_test(test_stream_refused_and_crash),
	    cmocka_unit_test(test_series_csv),		cmocka_unit_test(test_event_text_log),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
