/* test_live.c: the live backend on 127.0.0.1 (and ::1 when present): timer
 * order and cancel, UDP echo with every datagram accounted for, batched
 * sends (order, sizes, flush on close and destroy, errors found at flush),
 * TCP streams (1 MB intact, close on both sides, refused connect), trace,
 * stop, signals.
 * Every loop ends by itself; sy_live_run_for() is only a safety net. */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <cmocka.h>

#include "core/live/live.h"
#include "core/live/live_int.h" /* LIVE_TX_QUEUE, LIVE_TX_SLOT */

#define SAFETY_NS (20 * SY_NS_PER_S)

static struct sy_live *live_new(void)
{
	struct sy_live_cfg cfg = {.seed = 42, .log_level = SY_LOG_WARN};
	struct sy_live *l = NULL;
	assert_int_equal(sy_live_create(&cfg, &l), SY_OK);
	assert_non_null(l);
	return l;
}

/* --- create, clock, seed --------------------------------------------- */

/* Random bytes come from a buffer refilled 4 KB at a time: draws across
 * refills are all handed out once (no repeat of a 16-byte window over
 * 12 KB, which a reused buffer would show), and two processes' streams
 * differ (a fresh live, a fresh CSPRNG state). */
static void test_random_buffered(void **state)
{
	struct sy_live *a = live_new(), *b = live_new();
	static uint8_t x[12288], y[16];
	size_t off = 0;
	for (size_t k = 1; off < sizeof(x); k = k % 37 + 1) { /* odd sizes across the 4 KB boundaries */
		size_t n = SY_MIN(k, sizeof(x) - off);
		sy_env_random(sy_live_env(a), x + off, n);
		off += n;
	}
	for (size_t i = 0; i + 16 <= sizeof(x); i += 16)
		for (size_t j = i + 16; j + 16 <= sizeof(x); j += 16)
			assert_false(memcmp(x + i, x + j, 16) == 0);
	sy_env_random(sy_live_env(b), y, sizeof(y));
	assert_false(memcmp(x, y, 16) == 0);
	sy_live_destroy(a);
	sy_live_destroy(b);
}

static void test_create_seed_clock(void **state)
{
	struct sy_live_cfg cfg = {.seed = 0, .log_level = SY_LOG_ERROR};
	struct sy_live *a, *b = live_new();
	assert_int_equal(sy_live_create(&cfg, &a), SY_OK);
	assert_int_not_equal(sy_env_seed(sy_live_env(a)), 0);
	assert_int_equal(sy_env_seed(sy_live_env(b)), 42);
	const struct sy_env *e = sy_live_env(b);
	uint64_t t0 = sy_env_now_ns(e);
	assert_int_equal(sy_env_now_ns(e), t0); /* cached between updates */
	sy_live_time_update(b);
	assert_true(sy_env_now_ns(e) >= t0);
	assert_true(sy_env_wall_ns(e) > 1577836800ull * SY_NS_PER_S); /* after 2020 */
	assert_non_null(sy_live_base(b));
	sy_live_destroy(a);
	sy_live_destroy(b);
}

/* --- timers ------------------------------------------------------------ */

struct tfire {
	const struct sy_env *e;
	uint64_t start_ns;
	int order[64];
	unsigned n;
	uint64_t last_at;
};
struct tcase {
	struct tfire *f;
	int idx;
	uint64_t delay_ns;
};

static void timer_record(void *arg)
{
	struct tcase *c = arg;
	uint64_t now = sy_env_now_ns(c->f->e);
	assert_true(now >= c->f->start_ns + c->delay_ns); /* never early */
	c->f->order[c->f->n++] = c->idx;
}

static void test_timers_order_cancel(void **state)
{
	static const struct {
		uint64_t delay_ms;
		bool cancel;
	} tab[] = {{5, false}, {1, false}, {3, true}, {1, false}, {0, false}, {2, false}, {4, true}, {2, false}};
	/* Expected: by deadline, ties by start order; cancelled ones absent. */
	static const int want[] = {4, 1, 3, 5, 7, 0};
	struct sy_live *l = live_new();
	struct tfire f = {.e = sy_live_env(l)};
	struct tcase c[SY_ARRAY_LEN(tab)];
	sy_timer_id id[SY_ARRAY_LEN(tab)];
	f.start_ns = sy_env_now_ns(f.e);
	for (unsigned i = 0; i < SY_ARRAY_LEN(tab); i++) {
		c[i] = (struct tcase){&f, (int)i, tab[i].delay_ms * SY_NS_PER_MS};
		id[i] = sy_env_timer_start(f.e, c[i].delay_ns, timer_record, &c[i]);
		assert_int_not_equal(id[i], 0);
	}
	for (unsigned i = 0; i < SY_ARRAY_LEN(tab); i++)
		if (tab[i].cancel)
			sy_env_timer_cancel(f.e, id[i]);
	sy_env_timer_cancel(f.e, id[2]); /* twice: harmless */
	sy_env_timer_cancel(f.e, 0);
	/* No sockets: the run ends when the last timer has fired. */
	assert_int_equal(sy_live_run_for(l, SAFETY_NS), SY_OK);
	assert_int_equal(f.n, SY_ARRAY_LEN(want));
	for (unsigned i = 0; i < SY_ARRAY_LEN(want); i++)
		assert_int_equal(f.order[i], want[i]);
	sy_env_timer_cancel(f.e, id[0]); /* already fired: harmless */
	struct sy_live_stats st;
	sy_live_stats(l, &st);
	assert_int_equal(st.timers_fired, SY_ARRAY_LEN(want));
	sy_live_destroy(l);
}

/* Many timers with scattered deadlines: fire order is (deadline, start). */
struct tmany {
	const struct sy_env *e;
	uint64_t last_at, fired;
	uint32_t last_idx;
	uint64_t *at;
};
struct tmany_arg {
	struct tmany *m;
	uint32_t idx;
};

static void timer_many(void *arg)
{
	struct tmany_arg *a = arg;
	struct tmany *m = a->m;
	uint64_t at = m->at[a->idx];
	assert_true(at > m->last_at || (at == m->last_at && (m->fired == 0 || a->idx > m->last_idx)));
	assert_true(sy_env_now_ns(m->e) >= at);
	m->last_at = at;
	m->last_idx = a->idx;
	m->fired++;
}

static void test_timers_many_in_order(void **state)
{
	enum { N = 100000 };
	struct sy_live *l = live_new();
	struct tmany m = {.e = sy_live_env(l), .at = calloc(N, sizeof(uint64_t))};
	struct tmany_arg *args = calloc(N, sizeof(*args));
	assert_non_null(m.at);
	assert_non_null(args);
	uint64_t x = 88172645463325252ull, now = sy_env_now_ns(m.e);
	unsigned cancelled = 0;
	for (uint32_t i = 0; i < N; i++) {
		x ^= x << 13, x ^= x >> 7, x ^= x << 17;
		uint64_t delay = (x % 2000) * 10 * SY_NS_PER_US; /* 0..20 ms, many ties */
		m.at[i] = now + delay;
		args[i] = (struct tmany_arg){&m, i};
		sy_timer_id id = sy_env_timer_start(m.e, delay, timer_many, &args[i]);
		assert_int_not_equal(id, 0);
		if (i % 10 == 3) {
			sy_env_timer_cancel(m.e, id);
			cancelled++;
		}
	}
	assert_int_equal(sy_live_run_for(l, SAFETY_NS), SY_OK);
	assert_int_equal(m.fired, N - cancelled);
	free(args);
	free(m.at);
	sy_live_destroy(l);
}

/* With timer_slack_ns, timers due within one slack step share a wakeup
 * (one batch, one sendmmsg), still in order and never early. 20 timers
 * 100 us apart span at most two 5 ms steps; each step may cost one early
 * wakeup of libevent's millisecond clock, so at most 4 wakeups, where
 * exact timers take up to 20. */
struct tslack {
	const struct sy_env *e;
	uint64_t start_ns, last_now;
	unsigned fired, wakeups;
};
struct tslack_arg {
	struct tslack *t;
	uint64_t delay_ns;
	unsigned idx;
};

static void timer_slack(void *arg)
{
	struct tslack_arg *a = arg;
	struct tslack *t = a->t;
	uint64_t now = sy_env_now_ns(t->e);
	assert_true(now >= t->start_ns + a->delay_ns); /* never early */
	assert_int_equal(a->idx, t->fired);	       /* in order */
	if (now != t->last_now)
		t->wakeups++;
	t->last_now = now;
	t->fired++;
}

static void test_timers_slack_batches(void **state)
{
	struct sy_live_cfg cfg = {.seed = 42, .log_level = SY_LOG_WARN, .timer_slack_ns = 5 * SY_NS_PER_MS};
	struct sy_live *l = NULL;
	assert_int_equal(sy_live_create(&cfg, &l), SY_OK);
	struct tslack t = {.e = sy_live_env(l)};
	struct tslack_arg args[20];
	t.start_ns = sy_env_now_ns(t.e);
	for (unsigned i = 0; i < SY_ARRAY_LEN(args); i++) {
		args[i] = (struct tslack_arg){&t, (i + 1) * 100 * SY_NS_PER_US, i};
		assert_int_not_equal(sy_env_timer_start(t.e, args[i].delay_ns, timer_slack, &args[i]), 0);
	}
	assert_int_equal(sy_live_run_for(l, SAFETY_NS), SY_OK);
	assert_int_equal(t.fired, SY_ARRAY_LEN(args));
	assert_in_range(t.wakeups, 1, 4);
	sy_live_destroy(l);
}

/* A timer restarting itself with delay 0 must not starve the loop, and a
 * timer may cancel another one from inside its callback. */
struct tself {
	const struct sy_env *e;
	unsigned left, victim_fired;
	sy_timer_id victim;
};

static void timer_victim(void *arg)
{
	((struct tself *)arg)->victim_fired++;
}

static void timer_self(void *arg)
{
	struct tself *t = arg;
	if (t->victim != 0) {
		sy_env_timer_cancel(t->e, t->victim);
		t->victim = 0;
	}
	if (--t->left > 0)
		assert_int_not_equal(sy_env_timer_start(t->e, 0, timer_self, t), 0);
}

static void test_timers_restart_and_cancel_inside(void **state)
{
	struct sy_live *l = live_new();
	struct tself t = {.e = sy_live_env(l), .left = 1000};
	sy_env_timer_start(t.e, 0, timer_self, &t);
	t.victim = sy_env_timer_start(t.e, 0, timer_victim, &t); /* same deadline, later seq */
	assert_int_equal(sy_live_run_for(l, SAFETY_NS), SY_OK);
	assert_int_equal(t.left, 0);
	assert_int_equal(t.victim_fired, 0);
	sy_live_destroy(l);
}

static void timer_stop(void *arg)
{
	sy_live_stop(arg);
}

static void dgram_ignore(void *arg, struct sy_dgram *s, const struct sy_addr *from, const uint8_t *b, size_t n)
{
}

static void test_stop_and_run_for(void **state)
{
	struct sy_live *l = live_new();
	const struct sy_env *e = sy_live_env(l);
	struct sy_addr a = sy_addr_v4(127, 0, 0, 1, 0);
	struct sy_dgram *d;
	assert_int_equal(sy_env_dgram_open(e, &a, dgram_ignore, NULL, &d), SY_OK);
	/* The open socket keeps the loop alive: only stop or the limit end it. */
	sy_env_timer_start(e, SY_NS_PER_MS, timer_stop, l);
	assert_int_equal(sy_live_run(l), SY_OK);
	uint64_t t0 = sy_env_now_ns(e);
	assert_int_equal(sy_live_run_for(l, 20 * SY_NS_PER_MS), SY_OK);
	assert_true(sy_env_now_ns(e) >= t0 + 20 * SY_NS_PER_MS); /* not before its limit */
	sy_env_dgram_close(e, d);
	sy_live_destroy(l);
}

static void timer_raise(void *arg)
{
	raise(SIGTERM);
}

static void test_signal_stops(void **state)
{
	struct sy_live *l = live_new();
	const struct sy_env *e = sy_live_env(l);
	assert_int_equal(sy_live_handle_signals(l), SY_OK);
	sy_env_timer_start(e, SY_NS_PER_MS, timer_raise, NULL);
	assert_int_equal(sy_live_run_for(l, SAFETY_NS), SY_OK);
	assert_int_equal(sy_live_stopped_by(l), SIGTERM);
	sy_live_destroy(l);
}

/* --- ready file -------------------------------------------------------- */

static void test_ready_file(void **state)
{
	char dir[] = "/tmp/sy_test_live_ready_XXXXXX", path[96], tmp[104], got[64];
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/ready", dir);
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	struct sy_live *l = live_new();
	assert_int_equal(sy_live_ready_clear(l, path), SY_OK); /* nothing to remove */
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs("stale\n", f);
	fclose(f);
	assert_int_equal(sy_live_ready_clear(l, path), SY_OK);
	assert_int_not_equal(access(path, F_OK), 0);
	assert_int_equal(sy_live_ready_write(l, path, "pid 1\nsip udp 127.0.0.1:5060\n"), SY_OK);
	assert_int_not_equal(access(tmp, F_OK), 0); /* renamed, not copied */
	f = fopen(path, "r");
	assert_non_null(f);
	size_t n = fread(got, 1, sizeof(got) - 1, f);
	fclose(f);
	got[n] = '\0';
	assert_string_equal(got, "pid 1\nsip udp 127.0.0.1:5060\n");
	char missing[128];
	snprintf(missing, sizeof(missing), "%s/no/such/dir/ready", dir);
	assert_int_equal(sy_live_ready_write(l, missing, "x\n"), SY_ERR_IO);
	assert_int_equal(sy_live_ready_clear(l, path), SY_OK);
	assert_int_not_equal(access(path, F_OK), 0);
	sy_live_destroy(l);
	assert_int_equal(rmdir(dir), 0);
}

/* --- trace ------------------------------------------------------------- */

static void test_event_trace(void **state)
{
	char path[] = "/tmp/sy_test_live_trace_XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	close(fd);
	struct sy_live_cfg cfg = {.seed = 1, .log_level = SY_LOG_ERROR, .trace_path = path};
	struct sy_live *l;
	assert_int_equal(sy_live_create(&cfg, &l), SY_OK);
	const struct sy_env *e = sy_live_env(l);
	sy_env_event(e, "cdr", "a=1 b=2", 7);
	static const uint8_t bin[] = {0x00, 0xff, 0x10};
	sy_env_event(e, "bin", bin, sizeof(bin));
	sy_live_destroy(l);
	FILE *f = fopen(path, "r");
	assert_non_null(f);
	char line[256];
	unsigned long long t;
	char kind[16], rest[64];
	size_t n;
	assert_non_null(fgets(line, sizeof(line), f));
	assert_int_equal(sscanf(line, "%llu %15s %zu %63[^\n]", &t, kind, &n, rest), 4);
	assert_string_equal(kind, "cdr");
	assert_int_equal(n, 7);
	assert_string_equal(rest, "a=1 b=2");
	assert_non_null(fgets(line, sizeof(line), f));
	assert_int_equal(sscanf(line, "%llu %15s %zu %63s", &t, kind, &n, rest), 4);
	assert_string_equal(kind, "bin");
	assert_string_equal(rest, "0x00ff10");
	assert_null(fgets(line, sizeof(line), f));
	fclose(f);
	unlink(path);
	/* Without a trace file the op is a no-op. */
	l = live_new();
	sy_env_event(sy_live_env(l), "cdr", "x", 1);
	sy_live_destroy(l);
}

/* --- UDP ---------------------------------------------------------------- */

enum { ECHO_TOTAL = 10000, ECHO_WINDOW = 256, ECHO_LEN = 200 };

struct uecho {
	struct sy_live *l;
	const struct sy_env *e;
	struct sy_dgram *a, *b;
	struct sy_addr addr_a, addr_b;
	uint32_t sent, received, bad;
	uint8_t seen[ECHO_TOTAL];
};

static void echo_fill(uint8_t *buf, uint32_t seq)
{
	memcpy(buf, &seq, sizeof(seq));
	for (unsigned i = sizeof(seq); i < ECHO_LEN; i++)
		buf[i] = (uint8_t)(seq * 31 + i);
}

static void echo_send_next(struct uecho *u)
{
	uint8_t buf[ECHO_LEN];
	echo_fill(buf, u->sent);
	u->sent++;
	/* Sends are queued; a full socket buffer at flush time is counted as a
	 * drop by the backend, and the test checks the books. */
	(void)sy_env_dgram_send(u->e, u->a, &u->addr_b, buf, sizeof(buf));
}

/* B: echo everything back to where it came from. */
static void echo_b(void *arg, struct sy_dgram *s, const struct sy_addr *from, const uint8_t *buf, size_t len)
{
	struct uecho *u = arg;
	if (!sy_addr_eq(from, &u->addr_a))
		u->bad++;
	(void)sy_env_dgram_send(u->e, s, from, buf, len);
}

/* A: check the echo, then keep the window full. */
static void echo_a(void *arg, struct sy_dgram *s, const struct sy_addr *from, const uint8_t *buf, size_t len)
{
	struct uecho *u = arg;
	uint8_t want[ECHO_LEN];
	uint32_t seq;
	if (len != ECHO_LEN || !sy_addr_eq(from, &u->addr_b)) {
		u->bad++;
		return;
	}
	memcpy(&seq, buf, sizeof(seq));
	echo_fill(want, seq);
	if (seq >= ECHO_TOTAL || u->seen[seq] || memcmp(want, buf, len) != 0) {
		u->bad++;
		return;
	}
	u->seen[seq] = 1;
	u->received++;
	if (u->sent < ECHO_TOTAL)
		echo_send_next(u);
	if (u->received == ECHO_TOTAL)
		sy_live_stop(u->l);
}

static void udp_echo_run(const char *host)
{
	struct uecho *u = calloc(1, sizeof(*u));
	assert_non_null(u);
	u->l = live_new();
	u->e = sy_live_env(u->l);
	struct sy_addr any;
	assert_int_equal(sy_addr_parse(host, 0, &any), SY_OK);
	if (sy_env_dgram_open(u->e, &any, echo_a, u, &u->a) != SY_OK) {
		assert_int_equal(any.family, SY_AF_INET6); /* IPv4 loopback must work */
		sy_live_destroy(u->l);
		free(u);
		skip();
		return;
	}
	assert_int_equal(sy_env_dgram_open(u->e, &any, echo_b, u, &u->b), SY_OK);
	sy_env_dgram_local(u->e, u->a, &u->addr_a);
	sy_env_dgram_local(u->e, u->b, &u->addr_b);
	assert_int_equal(u->addr_a.family, any.family);
	assert_int_not_equal(u->addr_a.port, 0);
	assert_int_not_equal(u->addr_a.port, u->addr_b.port);
	for (unsigned i = 0; i < ECHO_WINDOW; i++)
		echo_send_next(u);
	assert_int_equal(sy_live_run_for(u->l, SAFETY_NS), SY_OK);

	struct sy_live_stats st;
	sy_live_stats(u->l, &st);
	assert_int_equal(u->bad, 0);
	assert_int_equal(u->sent, ECHO_TOTAL);
	assert_int_equal(u->received, ECHO_TOTAL);
	/* Every datagram is accounted for: sent = received + lost somewhere. */
	assert_int_equal(st.dgram_tx + st.dgram_tx_dropped + st.dgram_tx_errors, 2 * ECHO_TOTAL);
	assert_int_equal(st.dgram_rx + st.dgram_rx_overflow + st.dgram_rx_truncated + st.dgram_tx_dropped +
			     st.dgram_tx_errors,
			 2 * ECHO_TOTAL);
	assert_int_equal(st.dgram_tx_dropped + st.dgram_tx_errors + st.dgram_rx_overflow, 0);
	assert_int_equal(st.dgram_rx_bytes, 2ull * ECHO_TOTAL * ECHO_LEN);
	assert_int_equal(st.dgram_tx_bytes, 2ull * ECHO_TOTAL * ECHO_LEN);
	sy_env_dgram_close(u->e, u->a);
	sy_env_dgram_close(u->e, u->b);
	sy_live_destroy(u->l);
	free(u);
}

static void test_udp_echo_v4(void **state)
{
	udp_echo_run("127.0.0.1");
}

static void test_udp_echo_v6(void **state)
{
	udp_echo_run("[::1]");
}

/* Closing sockets from inside a receive batch stops the batch safely. */
struct uclose {
	const struct sy_env *e;
	struct sy_dgram *a;
	unsigned got;
};

static void close_in_cb(void *arg, struct sy_dgram *s, const struct sy_addr *from, const uint8_t *buf, size_t len)
{
	struct uclose *c = arg;
	c->got++;
	sy_env_dgram_close(c->e, s);
	sy_env_dgram_close(c->e, c->a);
}

static void test_udp_close_inside_callback(void **state)
{
	struct sy_live *l = live_new();
	struct uclose c = {.e = sy_live_env(l)};
	struct sy_addr any = sy_addr_v4(127, 0, 0, 1, 0), to, v6;
	struct sy_dgram *b;
	assert_int_equal(sy_env_dgram_open(c.e, &any, dgram_ignore, NULL, &c.a), SY_OK);
	assert_int_equal(sy_env_dgram_open(c.e, &any, close_in_cb, &c, &b), SY_OK);
	sy_env_dgram_local(c.e, b, &to);
	for (unsigned i = 0; i < 100; i++)
		assert_int_equal(sy_env_dgram_send(c.e, c.a, &to, "x", 1), SY_OK);
	/* Wrong family for this socket is a value, not a crash. */
	assert_int_equal(sy_addr_parse("[::1]:5060", 0, &v6), SY_OK);
	assert_int_equal(sy_env_dgram_send(c.e, c.a, &v6, "x", 1), SY_ERR_INVAL);
	/* Both sockets closed in the callback: nothing is left, the run ends. */
	assert_int_equal(sy_live_run_for(l, SAFETY_NS), SY_OK);
	assert_int_equal(c.got, 1);
	struct sy_live_stats st;
	sy_live_stats(l, &st);
	assert_int_equal(st.dgram_tx, 100);
	assert_int_equal(st.dgram_tx_errors, 1);
	sy_live_destroy(l);
}

/* Overload on purpose: blast far more than the receive buffer holds before
 * the loop runs. The kernel drops some; SO_RXQ_OVFL reports how many, so
 * received + overflow still equals sent. The drop count is attached to the
 * next datagram queued, so probes are sent until the books balance. */
enum { BLAST_N = 20000, BLAST_LEN = 1400 };

struct ublast {
	struct sy_live *l;
	const struct sy_env *e;
	struct sy_dgram *a, *b;
	struct sy_addr to;
	uint64_t rx_at_tick, probes;
};

static void blast_tick(void *arg)
{
	struct ublast *u = arg;
	struct sy_live_stats st;
	sy_live_stats(u->l, &st);
	if (st.dgram_rx + st.dgram_rx_overflow == st.dgram_tx) {
		sy_live_stop(u->l);
		return;
	}
	if (st.dgram_rx == u->rx_at_tick) { /* queue drained: probe */
		assert_int_equal(sy_env_dgram_send(u->e, u->a, &u->to, "p", 1), SY_OK);
		u->probes++;
	}
	u->rx_at_tick = st.dgram_rx;
	sy_env_timer_start(u->e, SY_NS_PER_MS, blast_tick, u);
}

static void test_udp_overflow_accounted(void **state)
{
	static uint8_t buf[BLAST_LEN];
	struct ublast u = {.l = live_new()};
	u.e = sy_live_env(u.l);
	struct sy_addr any = sy_addr_v4(127, 0, 0, 1, 0);
	assert_int_equal(sy_env_dgram_open(u.e, &any, dgram_ignore, NULL, &u.a), SY_OK);
	assert_int_equal(sy_env_dgram_open(u.e, &any, dgram_ignore, NULL, &u.b), SY_OK);
	sy_env_dgram_local(u.e, u.b, &u.to);
	for (unsigned i = 0; i < BLAST_N; i++)
		(void)sy_env_dgram_send(u.e, u.a, &u.to, buf, sizeof(buf));
	sy_env_timer_start(u.e, SY_NS_PER_MS, blast_tick, &u);
	assert_int_equal(sy_live_run_for(u.l, SAFETY_NS), SY_OK);
	struct sy_live_stats st;
	sy_live_stats(u.l, &st);
	assert_int_equal(st.dgram_tx + st.dgram_tx_dropped + st.dgram_tx_errors, BLAST_N + u.probes);
	assert_true(st.dgram_rx_overflow > 0); /* the overload really happened */
	assert_int_equal(st.dgram_rx + st.dgram_rx_overflow, st.dgram_tx);
	sy_live_destroy(u.l);
}

/* --- UDP send batching --------------------------------------------------- */

/* Lengths cycled through by the batch test: small ones are queued, one of
 * exactly a slot is still queued, bigger ones go out at once with sendto
 * behind what is queued. */
static const size_t batch_len[] = {4, 200, 1, LIVE_TX_SLOT, 900, LIVE_TX_SLOT + 1, 9000, 60000, 300};

enum { BATCH_N = 3 * LIVE_TX_QUEUE + 7 };

struct ubatch {
	struct sy_live *l;
	uint32_t received, bad;
	uint64_t bytes;
};

static size_t batch_len_of(uint32_t seq)
{
	size_t len = batch_len[seq % SY_ARRAY_LEN(batch_len)];
	return len < sizeof(seq) ? sizeof(seq) : len;
}

static void batch_fill(uint8_t *buf, uint32_t seq, size_t len)
{
	memcpy(buf, &seq, sizeof(seq));
	for (size_t i = sizeof(seq); i < len; i++)
		buf[i] = (uint8_t)(seq * 7 + i);
}

/* Loopback keeps one socket's datagrams in order and loses none here, so
 * each one must be the next sequence number, intact. */
static void batch_rx(void *arg, struct sy_dgram *s, const struct sy_addr *from, const uint8_t *buf, size_t len)
{
	static uint8_t want[65536];
	struct ubatch *u = arg;
	uint32_t seq = UINT32_MAX;
	if (len >= sizeof(seq))
		memcpy(&seq, buf, sizeof(seq));
	if (seq != u->received || len != batch_len_of(seq)) {
		u->bad++;
		sy_live_stop(u->l);
		return;
	}
	batch_fill(want, seq, len);
	if (memcmp(want, buf, len) != 0)
		u->bad++;
	u->received++;
	u->bytes += len;
	if (u->received == BATCH_N)
		sy_live_stop(u->l);
}

static void test_udp_batch_order_and_sizes(void **state)
{
	static uint8_t buf[65536];
	struct ubatch u = {.l = live_new()};
	const struct sy_env *e = sy_live_env(u.l);
	struct sy_addr any = sy_addr_v4(127, 0, 0, 1, 0), to;
	struct sy_dgram *a, *b;
	assert_int_equal(sy_env_dgram_open(e, &any, dgram_ignore, NULL, &a), SY_OK);
	assert_int_equal(sy_env_dgram_open(e, &any, batch_rx, &u, &b), SY_OK);
	sy_env_dgram_local(e, b, &to);
	struct sy_live_stats st;
	uint64_t bytes = 0;
	for (uint32_t seq = 0; seq < BATCH_N; seq++) {
		size_t len = batch_len_of(seq);
		batch_fill(buf, seq, len);
		assert_int_equal(sy_env_dgram_send(e, a, &to, buf, len), SY_OK);
		bytes += len;
		sy_live_stats(u.l, &st);
		if (seq == 2) /* three small ones: all still queued */
			assert_int_equal(st.dgram_tx, 0);
		if (seq == 5) /* the first big one went at once, behind the queue */
			assert_int_equal(st.dgram_tx, 6);
	}
	/* Sockets keep the loop alive: only the receiver's stop ends it, so
	 * the last queue must have been flushed without any further event. */
	assert_int_equal(sy_live_run_for(u.l, SAFETY_NS), SY_OK);
	assert_int_equal(u.bad, 0);
	assert_int_equal(u.received, BATCH_N);
	assert_int_equal(u.bytes, bytes);
	sy_live_stats(u.l, &st);
	assert_int_equal(st.dgram_tx, BATCH_N);
	assert_int_equal(st.dgram_tx_bytes, bytes);
	assert_int_equal(st.dgram_tx_dropped + st.dgram_tx_errors, 0);
	sy_live_destroy(u.l);
}

/* What is queued when a socket is closed, or when the backend is destroyed
 * before the loop runs again, still goes out. */
struct ucount {
	struct sy_live *l;
	uint32_t got, want;
};

static void count_rx(void *arg, struct sy_dgram *s, const struct sy_addr *from, const uint8_t *buf, size_t len)
{
	struct ucount *c = arg;
	if (++c->got == c->want)
		sy_live_stop(c->l);
}

static void test_udp_flush_on_close_and_destroy(void **state)
{
	enum { ON_CLOSE = 5, ON_DESTROY = LIVE_TX_QUEUE + 3 };
	struct ucount c = {.l = live_new(), .want = ON_CLOSE + ON_DESTROY};
	struct sy_live *s1 = live_new(), *s2 = live_new();
	struct sy_addr any = sy_addr_v4(127, 0, 0, 1, 0), to;
	struct sy_dgram *b, *a1, *a2;
	assert_int_equal(sy_env_dgram_open(sy_live_env(c.l), &any, count_rx, &c, &b), SY_OK);
	sy_env_dgram_local(sy_live_env(c.l), b, &to);
	assert_int_equal(sy_env_dgram_open(sy_live_env(s1), &any, dgram_ignore, NULL, &a1), SY_OK);
	assert_int_equal(sy_env_dgram_open(sy_live_env(s2), &any, dgram_ignore, NULL, &a2), SY_OK);
	for (unsigned i = 0; i < ON_CLOSE; i++)
		assert_int_equal(sy_env_dgram_send(sy_live_env(s1), a1, &to, "c", 1), SY_OK);
	for (unsigned i = 0; i < ON_DESTROY; i++)
		assert_int_equal(sy_env_dgram_send(sy_live_env(s2), a2, &to, "d", 1), SY_OK);
	struct sy_live_stats st;
	sy_live_stats(s1, &st);
	assert_int_equal(st.dgram_tx, 0);
	sy_env_dgram_close(sy_live_env(s1), a1);
	sy_live_stats(s1, &st);
	assert_int_equal(st.dgram_tx, ON_CLOSE);
	sy_live_destroy(s2); /* a2 still open, with 3 queued */
	assert_int_equal(sy_live_run_for(c.l, SAFETY_NS), SY_OK);
	assert_int_equal(c.got, ON_CLOSE + ON_DESTROY);
	sy_live_destroy(s1);
	sy_live_destroy(c.l);
}

/* A destination the kernel refuses is only known at flush time: the send
 * said SY_OK, the refusal lands in dgram_tx_errors, and the datagrams
 * around it in the same sendmmsg batch still go. Errors known at once
 * (family, a datagram too big for UDP) are still returned. */
static void test_udp_flush_errors_accounted(void **state)
{
	static const struct {
		bool refused; /* to the limited broadcast address, without SO_BROADCAST */
	} tab[] = {{false}, {true}, {false}, {true}, {true}, {false}};
	static uint8_t big[70000];
	struct ucount c = {.l = live_new(), .want = 3};
	const struct sy_env *e = sy_live_env(c.l);
	struct sy_addr any = sy_addr_v4(127, 0, 0, 1, 0), to, bcast = sy_addr_v4(255, 255, 255, 255, 9), v6;
	struct sy_dgram *a, *b;
	assert_int_equal(sy_env_dgram_open(e, &any, dgram_ignore, NULL, &a), SY_OK);
	assert_int_equal(sy_env_dgram_open(e, &any, count_rx, &c, &b), SY_OK);
	sy_env_dgram_local(e, b, &to);
	for (unsigned i = 0; i < SY_ARRAY_LEN(tab); i++)
		assert_int_equal(sy_env_dgram_send(e, a, tab[i].refused ? &bcast : &to, "x", 1), SY_OK);
	assert_int_equal(sy_addr_parse("[::1]:5060", 0, &v6), SY_OK);
	assert_int_equal(sy_env_dgram_send(e, a, &v6, "x", 1), SY_ERR_INVAL);
	struct sy_live_stats st;
	sy_live_stats(c.l, &st);
	assert_int_equal(st.dgram_tx, 0);
	assert_int_equal(st.dgram_tx_errors, 1);
	/* Too big for UDP: sent at once, after the queue, and refused. */
	assert_int_equal(sy_env_dgram_send(e, a, &to, big, sizeof(big)), SY_ERR_INVAL);
	sy_live_stats(c.l, &st);
	assert_int_equal(st.dgram_tx, 3);
	assert_int_equal(st.dgram_tx_errors, 1 + 3 + 1);
	assert_int_equal(st.dgram_tx_dropped, 0);
	assert_int_equal(sy_live_run_for(c.l, SAFETY_NS), SY_OK);
	assert_int_equal(c.got, 3);
	sy_live_destroy(c.l);
}

/* --- TCP ---------------------------------------------------------------- */

enum { TCP_TOTAL = 1 << 20, TCP_CHUNK = 16384 };

static uint8_t tcp_byte(size_t off)
{
	return (uint8_t)(off * 131 + (off >> 12));
}

struct tcpt;
struct tside {
	struct tcpt *t;
	struct sy_stream *s;
	size_t rx;
	unsigned opened, closed, bad;
	enum sy_rc why;
};
struct tcpt {
	struct sy_live *l;
	const struct sy_env *e;
	struct tside cli, srv;
	bool echo; /* server echoes and closes; else client sends and closes */
};

static void side_check(struct tside *d, const uint8_t *buf, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (buf[i] != tcp_byte(d->rx + i)) {
			d->bad++;
			break;
		}
	d->rx += len;
}

static void srv_open(void *arg, struct sy_stream *s)
{
	struct tcpt *t = arg;
	struct sy_addr peer;
	sy_env_stream_peer(t->e, s, &peer);
	if (peer.family != SY_AF_INET || peer.ip[0] != 127 || peer.port == 0)
		t->srv.bad++;
	t->srv.s = s;
	t->srv.opened++;
	sy_env_stream_set_arg(t->e, s, &t->srv);
}

static void srv_data(void *arg, struct sy_stream *s, const uint8_t *buf, size_t len)
{
	struct tside *d = arg;
	side_check(d, buf, len);
	if (!d->t->echo)
		return;
	assert_int_equal(sy_env_stream_write(d->t->e, s, buf, len), SY_OK);
	if (d->rx == TCP_TOTAL) {
		sy_env_stream_close(d->t->e, s); /* flushes the echo first */
		d->s = NULL;
	}
}

static void side_close(void *arg, struct sy_stream *s, enum sy_rc why)
{
	struct tside *d = arg;
	d->closed++;
	d->why = why;
	d->s = NULL;
	sy_live_stop(d->t->l);
}

static void cli_open(void *arg, struct sy_stream *s)
{
	struct tside *d = arg;
	const struct sy_env *e = d->t->e;
	uint8_t chunk[TCP_CHUNK];
	d->opened++;
	for (size_t off = 0; off < TCP_TOTAL; off += TCP_CHUNK) {
		for (size_t i = 0; i < TCP_CHUNK; i++)
			chunk[i] = tcp_byte(off + i);
		assert_int_equal(sy_env_stream_write(e, s, chunk, TCP_CHUNK), SY_OK);
	}
	/* Nothing leaves before the loop runs again: all of it is queued. */
	assert_int_equal(sy_env_stream_queued(e, s), TCP_TOTAL);
	if (!d->t->echo) {
		sy_env_stream_close(e, s); /* graceful: the peer still gets it all */
		d->s = NULL;
	}
}

static void cli_data(void *arg, struct sy_stream *s, const uint8_t *buf, size_t len)
{
	side_check(arg, buf, len);
}

static const struct sy_stream_cbs srv_cbs = {srv_open, srv_data, side_close};
static const struct sy_stream_cbs cli_cbs = {cli_open, cli_data, side_close};

static void tcp_run(bool echo)
{
	struct tcpt t = {.l = live_new(), .echo = echo};
	t.e = sy_live_env(t.l);
	t.cli.t = t.srv.t = &t;
	struct sy_addr any = sy_addr_v4(127, 0, 0, 1, 0), at;
	struct sy_listener *ls;
	assert_int_equal(sy_env_stream_listen(t.e, &any, &srv_cbs, &t, &ls), SY_OK);
	sy_live_listener_local(t.l, ls, &at);
	assert_int_not_equal(at.port, 0);
	assert_int_equal(sy_env_stream_connect(t.e, &at, &cli_cbs, &t.cli, &t.cli.s), SY_OK);
	assert_int_equal(sy_live_run_for(t.l, SAFETY_NS), SY_OK);

	struct tside *closer = echo ? &t.srv : &t.cli, *peer = echo ? &t.cli : &t.srv;
	assert_int_equal(t.cli.opened + t.srv.opened, 2);
	assert_int_equal(t.cli.bad + t.srv.bad, 0);
	assert_int_equal(t.srv.rx, TCP_TOTAL);
	assert_int_equal(t.cli.rx, echo ? TCP_TOTAL : 0);
	assert_int_equal(closer->closed, 0); /* its own close has no callback */
	assert_int_equal(peer->closed, 1);   /* the peer saw an orderly end */
	assert_int_equal(peer->why, SY_OK);
	struct sy_live_stats st;
	sy_live_stats(t.l, &st);
	assert_int_equal(st.stream_rx_bytes, (echo ? 2u : 1u) * TCP_TOTAL);
	assert_int_equal(st.stream_tx_bytes, (echo ? 2u : 1u) * TCP_TOTAL);
	assert_int_equal(st.streams_opened, 2);
	assert_int_equal(st.streams_closed, 2);
	sy_env_listener_close(t.e, ls);
	sy_live_destroy(t.l);
}

static void test_tcp_client_sends_and_closes(void **state)
{
	tcp_run(false);
}

static void test_tcp_echo_server_closes(void **state)
{
	tcp_run(true);
}

static void test_tcp_connect_refused(void **state)
{
	struct tcpt t = {.l = live_new()};
	t.e = sy_live_env(t.l);
	t.cli.t = &t;
	struct sy_addr any = sy_addr_v4(127, 0, 0, 1, 0), at;
	struct sy_listener *ls;
	/* Learn a port nobody listens on: bind one, then close it. */
	assert_int_equal(sy_env_stream_listen(t.e, &any, &srv_cbs, &t, &ls), SY_OK);
	sy_live_listener_local(t.l, ls, &at);
	sy_env_listener_close(t.e, ls);
	assert_int_equal(sy_env_stream_connect(t.e, &at, &cli_cbs, &t.cli, &t.cli.s), SY_OK);
	assert_int_equal(t.cli.closed, 0); /* never from inside connect */
	assert_int_equal(sy_live_run_for(t.l, SAFETY_NS), SY_OK);
	assert_int_equal(t.cli.opened, 0);
	assert_int_equal(t.cli.closed, 1);
	assert_int_equal(t.cli.why, SY_ERR_IO);
	sy_live_destroy(t.l);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_create_seed_clock),
	    cmocka_unit_test(test_random_buffered),
	    cmocka_unit_test(test_timers_order_cancel),
	    cmocka_unit_test(test_timers_many_in_order),
	    cmocka_unit_test(test_timers_restart_and_cancel_inside),
	    cmocka_unit_test(test_timers_slack_batches),
	    cmocka_unit_test(test_stop_and_run_for),
	    cmocka_unit_test(test_signal_stops),
	    cmocka_unit_test(test_event_trace),
	    cmocka_unit_test(test_ready_file),
	    cmocka_unit_test(test_udp_echo_v4),
	    cmocka_unit_test(test_udp_echo_v6),
	    cmocka_unit_test(test_udp_close_inside_callback),
	    cmocka_unit_test(test_udp_overflow_accounted),
	    cmocka_unit_test(test_udp_batch_order_and_sizes),
	    cmocka_unit_test(test_udp_flush_on_close_and_destroy),
	    cmocka_unit_test(test_udp_flush_errors_accounted),
	    cmocka_unit_test(test_tcp_client_sends_and_closes),
	    cmocka_unit_test(test_tcp_echo_server_closes),
	    cmocka_unit_test(test_tcp_connect_refused),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
