/* test_sim_net.c: the network model: loss rate, latency bounds, ordering
 * with and without reordering, duplication, bandwidth, link down/up, and
 * per-link random streams that do not shift when links are added. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>

#include <cmocka.h>

#include "sim/net.h"
#include "sim/sim.h"

#define RX_MAX 200000

/* Each packet carries (seq, send time); the receiver records both plus arrival. */
struct rx {
	struct sim *sim;
	uint32_t n;
	uint32_t seq[RX_MAX];
	uint64_t latency_ns[RX_MAX];
};

struct pkt {
	uint32_t seq;
	uint64_t sent_ns;
};

static void rx_fn(void *arg, struct sy_dgram *sock, const struct sy_addr *from, const uint8_t *buf, size_t len)
{
	struct rx *r = arg;
	struct pkt p;
	assert_int_equal(len, sizeof(p));
	memcpy(&p, buf, sizeof(p));
	assert_true(r->n < RX_MAX);
	r->seq[r->n] = p.seq;
	r->latency_ns[r->n] = sim_now(r->sim) - p.sent_ns;
	r->n++;
}

struct world {
	struct sim *sim;
	struct sim_node *a, *b, *c;
	struct sy_dgram *sa, *sb, *sc;
	struct rx *rb, *rc;
};

static void world_init(struct world *w, uint64_t seed, bool with_c)
{
	memset(w, 0, sizeof(*w));
	w->sim = sim_create(seed, 0);
	w->a = sim_node_add(w->sim, "a", NULL);
	w->b = sim_node_add(w->sim, "b", NULL);
	w->rb = calloc(1, sizeof(*w->rb));
	w->rb->sim = w->sim;
	struct sy_addr any = sy_addr_v4(0, 0, 0, 0, 5000);
	assert_int_equal(sy_env_dgram_open(sim_node_env(w->a), &any, rx_fn, NULL, &w->sa), SY_OK);
	assert_int_equal(sy_env_dgram_open(sim_node_env(w->b), &any, rx_fn, w->rb, &w->sb), SY_OK);
	if (with_c) {
		w->c = sim_node_add(w->sim, "c", NULL);
		w->rc = calloc(1, sizeof(*w->rc));
		w->rc->sim = w->sim;
		assert_int_equal(sy_env_dgram_open(sim_node_env(w->c), &any, rx_fn, w->rc, &w->sc), SY_OK);
	}
}

static void world_free(struct world *w)
{
	free(w->rb);
	free(w->rc);
	sim_destroy(w->sim);
}

static void send_pkt(struct world *w, struct sim_node *to, uint32_t seq)
{
	struct pkt p = {seq, sim_now(w->sim)};
	struct sy_addr dst = sim_node_addr(to, 5000);
	assert_int_equal(sy_env_dgram_send(sim_node_env(w->a), w->sa, &dst, &p, sizeof(p)), SY_OK);
}

/* Sends n packets a->b, one every gap_ns, running the world as it goes. */
static void send_train(struct world *w, uint32_t n, uint64_t gap_ns)
{
	for (uint32_t i = 0; i < n; i++) {
		send_pkt(w, w->b, i);
		sim_run_until(w->sim, sim_now(w->sim) + gap_ns);
	}
	sim_run_until_idle(w->sim, UINT64_MAX);
}

static void test_loss_rate(void **state)
{
	(void)state;
	struct world w;
	world_init(&w, 99, false);
	struct sim_link_cfg cfg = sim_link_cfg_default();
	cfg.loss_ppm = 100000; /* 10% */
	sim_net_link_set(sim_net_link(w.sim, w.a, w.b), &cfg);
	send_train(&w, 100000, 10 * SY_NS_PER_US);
	/* Binomial(100000, 0.1): sd ~95; 6 sd either side. */
	uint64_t lost = sim_stats(w.sim)->dgrams_lost;
	assert_in_range(lost, 10000 - 570, 10000 + 570);
	assert_int_equal(w.rb->n + lost, 100000);
	assert_int_equal(sim_stats(w.sim)->dgrams_delivered, w.rb->n);
	assert_int_equal(sim_net_link(w.sim, w.a, w.b)->stats.lost, lost);
	world_free(&w);
}

static void test_latency_uniform_bounds(void **state)
{
	(void)state;
	struct world w;
	world_init(&w, 5, false);
	struct sim_link_cfg cfg = sim_link_cfg_default();
	cfg.latency = (struct sy_dist){SY_DIST_UNIFORM, 2 * SY_NS_PER_MS, 5 * SY_NS_PER_MS, 0};
	cfg.reorder = true;
	sim_net_set_default(w.sim, &cfg);
	send_train(&w, 20000, 100 * SY_NS_PER_US);
	assert_int_equal(w.rb->n, 20000);
	uint64_t sum = 0, lo = UINT64_MAX, hi = 0;
	for (uint32_t i = 0; i < w.rb->n; i++) {
		uint64_t l = w.rb->latency_ns[i];
		assert_in_range(l, 2 * SY_NS_PER_MS, 5 * SY_NS_PER_MS);
		sum += l;
		lo = SY_MIN(lo, l);
		hi = SY_MAX(hi, l);
	}
	/* Mean 3.5 ms; the range is actually used. */
	assert_in_range(sum / w.rb->n, 3450 * SY_NS_PER_US, 3550 * SY_NS_PER_US);
	assert_true(lo < 2100 * SY_NS_PER_US && hi > 4900 * SY_NS_PER_US);
	world_free(&w);
}

static uint32_t out_of_order(const struct rx *r)
{
	uint32_t bad = 0;
	for (uint32_t i = 1; i < r->n; i++)
		bad += r->seq[i] < r->seq[i - 1];
	return bad;
}

static void test_reorder_switch(void **state)
{
	(void)state;
	for (int reorder = 0; reorder < 2; reorder++) {
		struct world w;
		world_init(&w, 17, false);
		struct sim_link_cfg cfg = sim_link_cfg_default();
		cfg.latency = (struct sy_dist){SY_DIST_UNIFORM, 1 * SY_NS_PER_MS, 50 * SY_NS_PER_MS, 0};
		cfg.jitter_sd_ns = 5 * SY_NS_PER_MS;
		cfg.reorder = reorder;
		sim_net_set_default(w.sim, &cfg);
		send_train(&w, 10000, 100 * SY_NS_PER_US);
		assert_int_equal(w.rb->n, 10000);
		if (reorder)
			assert_true(out_of_order(w.rb) > 100);
		else
			assert_int_equal(out_of_order(w.rb), 0);
		world_free(&w);
	}
}

static void test_duplication_and_bandwidth(void **state)
{
	(void)state;
	struct world w;
	world_init(&w, 3, false);
	struct sim_link_cfg cfg = sim_link_cfg_default();
	cfg.dup_ppm = 1000000;
	cfg.latency = sy_dist_fixed(SY_NS_PER_MS);
	/* sizeof(struct pkt) = 16 bytes at 1600 B/s: 10 ms on the wire each. */
	cfg.bandwidth_Bps = 1600;
	sim_net_link_set(sim_net_link(w.sim, w.a, w.b), &cfg);
	for (uint32_t i = 0; i < 5; i++)
		send_pkt(&w, w.b, i);
	sim_run_until_idle(w.sim, UINT64_MAX);
	assert_int_equal(w.rb->n, 10);
	assert_int_equal(sim_stats(w.sim)->dgrams_dup, 5);
	for (uint32_t i = 0; i < 10; i++) {
		assert_int_equal(w.rb->seq[i], i / 2);
		/* Packet k leaves when the wire frees up: (k + 1) * 10 ms, plus 1 ms. */
		assert_int_equal(w.rb->latency_ns[i], (i / 2 + 1) * 10 * SY_NS_PER_MS + SY_NS_PER_MS);
	}
	world_free(&w);
}

static void test_link_down(void **state)
{
	(void)state;
	struct world w;
	world_init(&w, 8, false);
	struct sim_link *ab = sim_net_link(w.sim, w.a, w.b);
	sim_net_set_down(ab, true);
	send_train(&w, 100, SY_NS_PER_MS);
	assert_int_equal(w.rb->n, 0);
	assert_int_equal(sim_stats(w.sim)->dgrams_down, 100);
	sim_net_set_down(ab, false);
	send_train(&w, 10, SY_NS_PER_MS);
	assert_int_equal(w.rb->n, 10);
	/* Scheduled outage: packets sent inside [t0, t1) are dropped. */
	uint64_t t0 = sim_now(w.sim) + 20 * SY_NS_PER_MS, t1 = t0 + 50 * SY_NS_PER_MS;
	sim_net_down_between(w.sim, w.a, w.b, true, t0, t1);
	uint32_t before = w.rb->n;
	uint64_t down_before = sim_stats(w.sim)->dgrams_down;
	send_train(&w, 100, SY_NS_PER_MS); /* 100 ms of sending covers the 50 ms outage */
	assert_int_equal(sim_stats(w.sim)->dgrams_down - down_before, 50);
	assert_int_equal(w.rb->n - before, 50);
	assert_false(ab->down);
	world_free(&w);
}

/* Latencies a->b must not depend on whether a->c exists and carries traffic. */
static void a_to_b_latencies(bool with_c, uint64_t *out, uint32_t n)
{
	struct world w;
	world_init(&w, 1234, with_c);
	struct sim_link_cfg cfg = sim_link_cfg_default();
	cfg.latency = (struct sy_dist){SY_DIST_EXP, 10 * SY_NS_PER_MS, 0, 0};
	cfg.jitter_sd_ns = SY_NS_PER_MS;
	cfg.loss_ppm = 10000;
	cfg.reorder = true;
	sim_net_set_default(w.sim, &cfg);
	for (uint32_t i = 0; i < n; i++) {
		if (with_c)
			send_pkt(&w, w.c, i);
		send_pkt(&w, w.b, i);
		sim_run_until(w.sim, sim_now(w.sim) + SY_NS_PER_MS);
	}
	sim_run_until_idle(w.sim, UINT64_MAX);
	memset(out, 0xff, sizeof(*out) * n); /* lost packets keep the marker */
	for (uint32_t i = 0; i < w.rb->n; i++)
		out[w.rb->seq[i]] = w.rb->latency_ns[i];
	if (with_c)
		assert_true(w.rc->n > n / 2);
	world_free(&w);
}

static void test_per_link_rng_independent(void **state)
{
	(void)state;
	enum { N = 2000 };
	uint64_t *alone = malloc(sizeof(uint64_t) * N), *crowded = malloc(sizeof(uint64_t) * N);
	a_to_b_latencies(false, alone, N);
	a_to_b_latencies(true, crowded, N);
	assert_memory_equal(alone, crowded, sizeof(uint64_t) * N);
	uint32_t lost = 0;
	for (uint32_t i = 0; i < N; i++)
		lost += alone[i] == UINT64_MAX;
	assert_in_range(lost, 1, 100); /* 1% loss: the loss draws are covered too */
	free(alone);
	free(crowded);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_loss_rate),
		cmocka_unit_test(test_latency_uniform_bounds),
		cmocka_unit_test(test_reorder_switch),
		cmocka_unit_test(test_duplication_and_bandwidth),
		cmocka_unit_test(test_link_down),
		cmocka_unit_test(test_per_link_rng_independent),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
