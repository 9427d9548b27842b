/* test_sim_cpu.c: the CPU model of a simulated node (sim/cpu.c). A node
 * that costs rx per datagram received and tx per datagram sent handles a
 * burst one datagram at a time, its replies leave as each is done, a timer
 * due while it is busy fires when its earlier work is done (and one
 * cancelled while it waits does not fire), a full receive
 * buffer drops what does not fit, and with the model off everything happens
 * at the instant it arrives. Exact virtual times: the model is integer
 * nanoseconds. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>

#include <cmocka.h>

#include "sim/sim.h"

#define US    SY_NS_PER_US
#define SEC   SY_NS_PER_S
#define BURST 5
#define LEN   100

struct world {
	struct sim *sim;
	struct sim_node *sw, *peer;
	struct sy_dgram *sw_sock, *peer_sock;
	struct sy_addr sw_addr, peer_addr;
	uint64_t sw_at[BURST], echo_at[BURST];
	uint32_t sw_n, echo_n;
	uint64_t timer_at, cancelled_at;
	sy_timer_id cancel_me;
};

static void timer_fn(void *arg)
{
	struct world *w = arg;
	w->timer_at = sim_now(w->sim);
}

static void cancelled_fn(void *arg)
{
	struct world *w = arg;
	w->cancelled_at = sim_now(w->sim);
}

static void sw_recv(void *arg, struct sy_dgram *s, const struct sy_addr *from, const uint8_t *buf, size_t len)
{
	struct world *w = arg;
	if (w->sw_n == 0)
		sy_env_timer_start(sim_node_env(w->sw), 20 * US, timer_fn, w);
	/* due while the node is busy, then cancelled while it waits: never fires */
	if (w->sw_n == 1)
		w->cancel_me = sy_env_timer_start(sim_node_env(w->sw), 5 * US, cancelled_fn, w);
	if (w->sw_n == 2)
		sy_env_timer_cancel(sim_node_env(w->sw), w->cancel_me);
	w->sw_at[w->sw_n++] = sim_now(w->sim);
	assert_int_equal(sy_env_dgram_send(sim_node_env(w->sw), s, from, buf, len), SY_OK);
}

static void peer_recv(void *arg, struct sy_dgram *s, const struct sy_addr *from, const uint8_t *buf, size_t len)
{
	struct world *w = arg;
	w->echo_at[w->echo_n++] = sim_now(w->sim);
}

static void burst_fn(void *arg)
{
	struct world *w = arg;
	uint8_t msg[LEN] = {0};
	for (int i = 0; i < BURST; i++)
		assert_int_equal(sy_env_dgram_send(sim_node_env(w->peer), w->peer_sock, &w->sw_addr, msg, LEN), SY_OK);
}

/* A world of two nodes, the switch costing *cost; a burst at t=1s. */
static void run(struct world *w, const struct sim_cpu_cost *cost)
{
	memset(w, 0, sizeof(*w));
	w->sim = sim_create(1, 0);
	w->sw = sim_node_add(w->sim, "sw", NULL);
	w->peer = sim_node_add(w->sim, "peer", NULL);
	sim_node_set_cpu(w->sw, cost);
	w->sw_addr = sim_node_addr(w->sw, 5060);
	w->peer_addr = sim_node_addr(w->peer, 5060);
	assert_int_equal(sy_env_dgram_open(sim_node_env(w->sw), &w->sw_addr, sw_recv, w, &w->sw_sock), SY_OK);
	assert_int_equal(sy_env_dgram_open(sim_node_env(w->peer), &w->peer_addr, peer_recv, w, &w->peer_sock), SY_OK);
	sim_at(w->sim, SEC, burst_fn, w);
	sim_run_until(w->sim, 2 * SEC);
}

static void test_burst_queues(void **state)
{
	struct world w;
	run(&w, &(struct sim_cpu_cost){.rx_ns = 10 * US, .tx_ns = 4 * US, .timer_ns = 3 * US});
	assert_int_equal(w.sw_n, BURST);
	assert_int_equal(w.echo_n, BURST);
	uint64_t t0 = w.sw_at[0], link = t0 - SEC; /* the link's one-way delay */
	for (int i = 0; i < BURST; i++) {
		assert_int_equal(w.sw_at[i], t0 + (uint64_t)i * 14 * US); /* one at a time: rx + tx each */
		assert_int_equal(w.echo_at[i], t0 + (uint64_t)(i + 1) * 14 * US + link);
	}
	/* due at t0 + 20us, while the burst keeps the node busy to t0 + 70us */
	assert_int_equal(w.timer_at, t0 + BURST * 14 * US);
	assert_int_equal(w.cancelled_at, 0);
	const struct sim_cpu_stats *c = sim_node_cpu_stats(w.sw);
	assert_int_equal(c->busy_ns, BURST * 14 * US + 3 * US);
	assert_int_equal(c->rx, BURST);
	assert_int_equal(c->tx, BURST);
	assert_int_equal(c->timers, 1); /* the cancelled one did not run */
	assert_int_equal(c->wait_max_ns, (BURST - 1) * 14 * US);
	assert_int_equal(c->rcvbuf_drops, 0);
	sim_destroy(w.sim);
}

static void test_off_is_instant(void **state)
{
	struct world w;
	run(&w, &(struct sim_cpu_cost){0});
	assert_int_equal(w.sw_n, BURST);
	for (int i = 0; i < BURST; i++) {
		assert_int_equal(w.sw_at[i], w.sw_at[0]);
		assert_int_equal(w.echo_at[i], w.sw_at[0] + (w.sw_at[0] - SEC));
	}
	assert_int_equal(w.timer_at, w.sw_at[0] + 20 * US);
	assert_int_equal(sim_node_cpu_stats(w.sw)->busy_ns, 0);
	sim_destroy(w.sim);
}

/* Room for two waiting datagrams: the first is taken at once, two wait,
 * two are dropped. */
static void test_rcvbuf_drops(void **state)
{
	struct world w;
	run(&w, &(struct sim_cpu_cost){.rx_ns = 10 * US, .tx_ns = 4 * US, .rcvbuf_bytes = 2 * (LEN + 768)});
	assert_int_equal(w.sw_n, 3);
	assert_int_equal(w.echo_n, 3);
	assert_int_equal(sim_node_cpu_stats(w.sw)->rcvbuf_drops, 2);
	assert_int_equal(sim_node_cpu_stats(w.sw)->rcvbuf_max, 2 * (LEN + 768));
	sim_destroy(w.sim);
}

/* A world destroyed while datagrams wait for the CPU frees them (ASan's
 * leak check sees it). */
static void test_destroy_while_waiting(void **state)
{
	struct world w;
	memset(&w, 0, sizeof(w));
	w.sim = sim_create(1, 0);
	w.sw = sim_node_add(w.sim, "sw", NULL);
	w.peer = sim_node_add(w.sim, "peer", NULL);
	sim_node_set_cpu(w.sw, &(struct sim_cpu_cost){.rx_ns = 10 * US});
	w.sw_addr = sim_node_addr(w.sw, 5060);
	w.peer_addr = sim_node_addr(w.peer, 5060);
	assert_int_equal(sy_env_dgram_open(sim_node_env(w.sw), &w.sw_addr, sw_recv, &w, &w.sw_sock), SY_OK);
	assert_int_equal(sy_env_dgram_open(sim_node_env(w.peer), &w.peer_addr, peer_recv, &w, &w.peer_sock), SY_OK);
	sim_at(w.sim, SEC, burst_fn, &w);
	while (sim_node_cpu_stats(w.sw)->waited < BURST - 1)
		assert_int_equal(sim_run_until_idle(w.sim, 1), 1);
	assert_int_equal(w.sw_n, 1); /* the rest wait for it */
	sim_destroy(w.sim);
}

static void sw_restarted(void *arg, struct sim_node *node)
{
	struct world *w = arg;
	assert_int_equal(sy_env_dgram_open(sim_node_env(node), &w->sw_addr, sw_recv, w, &w->sw_sock), SY_OK);
}

/* A crash while datagrams wait: they die with the process's socket, and
 * the restarted switch (a new socket on the same port) never sees them. */
static void test_crash_drops_waiting(void **state)
{
	struct world w;
	memset(&w, 0, sizeof(w));
	w.sim = sim_create(1, 0);
	w.sw = sim_node_add(w.sim, "sw", NULL);
	w.peer = sim_node_add(w.sim, "peer", NULL);
	sim_node_set_cpu(w.sw, &(struct sim_cpu_cost){.rx_ns = 10 * US, .tx_ns = 4 * US});
	sim_node_set_hooks(w.sw, NULL, sw_restarted, &w);
	w.sw_addr = sim_node_addr(w.sw, 5060);
	w.peer_addr = sim_node_addr(w.peer, 5060);
	assert_int_equal(sy_env_dgram_open(sim_node_env(w.sw), &w.sw_addr, sw_recv, &w, &w.sw_sock), SY_OK);
	assert_int_equal(sy_env_dgram_open(sim_node_env(w.peer), &w.peer_addr, peer_recv, &w, &w.peer_sock), SY_OK);
	sim_at(w.sim, SEC, burst_fn, &w);
	sim_run_until(w.sim, SEC + SEC / 2);
	uint64_t t0 = w.sw_at[0];
	assert_int_equal(w.sw_n, BURST);
	/* again, crashing 20us after the first arrives: two were taken by then */
	sim_destroy(w.sim);
	memset(&w, 0, sizeof(w));
	w.sim = sim_create(1, 0);
	w.sw = sim_node_add(w.sim, "sw", NULL);
	w.peer = sim_node_add(w.sim, "peer", NULL);
	sim_node_set_cpu(w.sw, &(struct sim_cpu_cost){.rx_ns = 10 * US, .tx_ns = 4 * US});
	sim_node_set_hooks(w.sw, NULL, sw_restarted, &w);
	w.sw_addr = sim_node_addr(w.sw, 5060);
	w.peer_addr = sim_node_addr(w.peer, 5060);
	assert_int_equal(sy_env_dgram_open(sim_node_env(w.sw), &w.sw_addr, sw_recv, &w, &w.sw_sock), SY_OK);
	assert_int_equal(sy_env_dgram_open(sim_node_env(w.peer), &w.peer_addr, peer_recv, &w, &w.peer_sock), SY_OK);
	sim_at(w.sim, SEC, burst_fn, &w);
	sim_node_crash_at(w.sw, t0 + 20 * US, 5 * US);
	sim_run_until(w.sim, 2 * SEC);
	assert_int_equal(w.sw_n, 2);
	assert_true(sim_node_is_up(w.sw));
	sim_destroy(w.sim);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_burst_queues),	  cmocka_unit_test(test_off_is_instant),
	    cmocka_unit_test(test_rcvbuf_drops),	  cmocka_unit_test(test_crash_drops_waiting),
	    cmocka_unit_test(test_destroy_while_waiting),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
