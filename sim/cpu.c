/* cpu.c: the CPU model of a node (sim.h). A live switch is one thread on
 * an event loop: when work arrives faster than it is done, datagrams wait in
 * the socket's receive buffer, timers fire late, replies leave late, and a
 * full buffer drops. Here each node with a cost keeps busy_until_ns, the
 * virtual time its earlier work ends; a callback that comes due before then
 * is re-queued at busy_until_ns (so callbacks still run one at a time, in
 * the order they came due), and each one charges its cost. Integer
 * nanoseconds only: same seed, same digest, on every compiler. */
#include "sim/sim_int.h"

/* What a datagram costs in the receive buffer besides its bytes: the
 * kernel's skb overhead on loopback (truesize ~ len + 768). */
#define SIM_SKB_OVERHEAD 768u

void sim_node_set_cpu(struct sim_node *n, const struct sim_cpu_cost *cost)
{
	n->cpu = *cost;
	n->cpu_on = cost->rx_ns != 0 || cost->tx_ns != 0 || cost->timer_ns != 0;
}

const struct sim_cpu_stats *sim_node_cpu_stats(const struct sim_node *n)
{
	return &n->cpu_st;
}

/* A crash ends the work in progress; what waited is discarded with it. */
void sim_cpu_reset(struct sim_node *n)
{
	n->busy_until_ns = 0;
	n->rcvbuf_used = 0;
}

/* Re-queues ev at the end of the node's current work; false when the
 * queue is full (the callback then runs now rather than being lost). */
static bool cpu_wait(struct sim_node *n, struct sim_ev *ev, sy_timer_fn fn)
{
	struct sim *s = n->sim;
	if (ev->first_ns == 0) {
		ev->first_ns = s->now_ns + 1;
		n->cpu_st.waited++;
	}
	ev->tq_id = sy_tq_add(&s->q, n->busy_until_ns, fn, ev);
	return ev->tq_id != 0;
}

/* The node takes ev now: the wait it had is recorded, its cost charged. */
static void cpu_take(struct sim_node *n, struct sim_ev *ev, uint64_t cost)
{
	struct sim *s = n->sim;
	if (ev->first_ns != 0) {
		n->cpu_st.wait_max_ns = SY_MAX(n->cpu_st.wait_max_ns, s->now_ns - (ev->first_ns - 1));
		ev->first_ns = 0;
	}
	n->busy_until_ns = SY_MAX(n->busy_until_ns, s->now_ns) + cost;
	n->cpu_st.busy_ns += cost;
}

bool sim_cpu_defer(struct sim_node *n, struct sim_ev *ev, sy_timer_fn fn, uint64_t cost)
{
	n->cpu_st.timers += ev->first_ns == 0;
	if (!n->cpu_on)
		return false;
	if (n->busy_until_ns > n->sim->now_ns && cpu_wait(n, ev, fn))
		return true;
	cpu_take(n, ev, cost);
	return false;
}

enum sim_cpu_verdict sim_cpu_rx(struct sim_node *n, struct sim_ev *ev, sy_timer_fn fn, uint32_t len)
{
	n->cpu_st.rx += ev->first_ns == 0;
	if (!n->cpu_on)
		return SIM_CPU_RUN;
	uint64_t size = (uint64_t)len + SIM_SKB_OVERHEAD;
	bool queued = ev->first_ns != 0 && ev->epoch == n->epoch; /* holds buffer space */
	if (n->busy_until_ns > n->sim->now_ns) {
		if (!queued) {
			if (n->cpu.rcvbuf_bytes != 0 && n->rcvbuf_used + size > n->cpu.rcvbuf_bytes) {
				n->cpu_st.rcvbuf_drops++;
				return SIM_CPU_DROP;
			}
			n->rcvbuf_used += size;
			n->cpu_st.rcvbuf_max = SY_MAX(n->cpu_st.rcvbuf_max, n->rcvbuf_used);
			ev->epoch = n->epoch;
		}
		if (cpu_wait(n, ev, fn))
			return SIM_CPU_WAIT;
	}
	if (ev->first_ns != 0 && ev->epoch == n->epoch)
		n->rcvbuf_used -= SY_MIN(n->rcvbuf_used, size);
	cpu_take(n, ev, n->cpu.rx_ns);
	return SIM_CPU_RUN;
}

uint64_t sim_cpu_tx(struct sim_node *n)
{
	n->cpu_st.tx++;
	if (!n->cpu_on)
		return 0;
	uint64_t now = n->sim->now_ns;
	n->busy_until_ns = SY_MAX(n->busy_until_ns, now) + n->cpu.tx_ns;
	n->cpu_st.busy_ns += n->cpu.tx_ns;
	return n->busy_until_ns - now;
}
