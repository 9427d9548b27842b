/* sim_events.c: microbenchmark of the simulator's hot path: N timer events
 * (with about a million pending at once) and M datagrams between two nodes.
 * Prints one JSON line; wall time from clock_gettime (bench/ is outside core). */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "sim/digest.h"
#include "sim/net.h"
#include "sim/sim.h"

#define TIMERS 5000000ull
#define DGRAMS 2000000ull
#ifndef PENDING
#define PENDING 1000000ull
#endif

struct bench {
	struct sim *sim;
	struct sim_node *a, *b;
	struct sy_dgram *sa, *sb;
	struct sy_addr b_addr;
	uint64_t timers_left, dgrams_left, fired, received;
	uint64_t lcg;
};

static void on_timer(void *arg);

/* Deadlines spread over ~10 s of virtual time so the heap stays deep. */
static void arm(struct bench *b)
{
	b->lcg = b->lcg * 6364136223846793005ull + 1442695040888963407ull;
	sy_env_timer_start(sim_node_env(b->a), (b->lcg >> 33) % (10 * SY_NS_PER_S), on_timer, b);
}

static void on_timer(void *arg)
{
	struct bench *b = arg;
	b->fired++;
	if (b->timers_left > 0) {
		b->timers_left--;
		arm(b);
	}
}

static void on_recv(void *arg, struct sy_dgram *s, const struct sy_addr *from, const uint8_t *buf, size_t len)
{
	((struct bench *)arg)->received++;
}

static void on_send(void *arg)
{
	struct bench *b = arg;
	static const char msg[400] = "INVITE sip:bench@example.com SIP/2.0\r\n";
	for (int i = 0; i < 10 && b->dgrams_left > 0; i++, b->dgrams_left--)
		sy_env_dgram_send(sim_node_env(b->a), b->sa, &b->b_addr, msg, sizeof(msg));
	if (b->dgrams_left > 0)
		sy_env_timer_start(sim_node_env(b->a), 100 * SY_NS_PER_US, on_send, b);
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(void)
{
	struct bench b = {0};
	b.sim = sim_create(1, 0);
	b.a = sim_node_add(b.sim, "a", NULL);
	b.b = sim_node_add(b.sim, "b", NULL);
	struct sim_link_cfg cfg = sim_link_cfg_default();
	cfg.latency = (struct sy_dist){SY_DIST_UNIFORM, 1 * SY_NS_PER_MS, 20 * SY_NS_PER_MS, 0};
	cfg.loss_ppm = 1000;
	sim_net_set_default(b.sim, &cfg);
	struct sy_addr any = sy_addr_v4(0, 0, 0, 0, 5060);
	if (sy_env_dgram_open(sim_node_env(b.a), &any, on_recv, &b, &b.sa) != SY_OK ||
	    sy_env_dgram_open(sim_node_env(b.b), &any, on_recv, &b, &b.sb) != SY_OK)
		return 1;
	b.b_addr = sim_node_addr(b.b, 5060);
	b.lcg = 42;
	b.timers_left = TIMERS - PENDING;
	b.dgrams_left = DGRAMS;
	double t0 = now_s();
	for (uint64_t i = 0; i < PENDING; i++)
		arm(&b);
	sim_at(b.sim, 0, on_send, &b);
	uint64_t events = sim_run_until_idle(b.sim, UINT64_MAX);
	double wall = now_s() - t0;
	char hex[65];
	sim_digest_hex(b.sim, hex);
	printf("{\"bench\":\"sim-events\",\"events\":%llu,\"timers\":%llu,\"dgrams\":%llu,\"delivered\":%llu,"
	       "\"wall_s\":%.3f,\"ns_per_event\":%.1f,\"digest\":\"%.16s\"}\n",
	       (unsigned long long)events, (unsigned long long)b.fired, (unsigned long long)DGRAMS,
	       (unsigned long long)b.received, wall, wall * 1e9 / (double)events, hex);
	sim_destroy(b.sim);
	return 0;
}
