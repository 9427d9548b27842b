/* cpu.c: the CPU model of a node (sim.h). A live switch is one thread on
 * an event loop: when work arrives faster than it is done, datagrams wait in
 * the socket's receive buffer, timers fire late, replies leave late, and a
 * full buffer drops. Here a node with a cost keeps busy_until_ns, the
 * virtual time its earlier work ends, and one FIFO of the callbacks that
 * came due while it was busy. Only the FIFO's head is in the event queue
 * (at busy_until_ns), so a backlog of N costs O(N), not O(N^2) re-queues.
 * Integer nanoseconds only: same seed, same digest, on every compiler. */
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

/* A crash ends the work in progress. What waits stays queued: its timers
 * are stale and its datagrams find no socket, so it drains at no cost. */
void sim_cpu_reset(struct sim_node *n)
{
	n->busy_until_ns = 0;
	n->rcvbuf_used = 0;
}

/* Puts the FIFO's head in the event queue at the end of the current work;
 * if the queue is full it waits for the next callback to try again. */
static void cpu_wake(struct sim_node *n)
{
	struct sim_ev *h = n->wait_head;
	if (h == NULL || h->qn.seq != 0)
		return;
	(void)sy_tq_node_add(&n->sim->q, &h->qn, SY_MAX(n->busy_until_ns, n->sim->now_ns));
}

static void cpu_append(struct sim_node *n, struct sim_ev *ev)
{
	ev->cpu_wait = true;
	ev->link = EV_NONE;
	ev->first_ns = n->sim->now_ns;
	SY_ASSERT(ev->qn.seq == 0); /* popped: out of the event queue */
	if (n->wait_tail != NULL)
		n->wait_tail->link = ev->idx;
	else
		n->wait_head = ev;
	n->wait_tail = ev;
	n->cpu_st.waited++;
	cpu_wake(n);
}

/* ev, the FIFO's head, leaves it; the next head is queued. */
static void cpu_pop(struct sim_node *n, struct sim_ev *ev)
{
	SY_ASSERT(n->wait_head == ev);
	n->wait_head = ev->link == EV_NONE ? NULL : sim_ev_at(n->sim, ev->link);
	if (n->wait_head == NULL)
		n->wait_tail = NULL;
	ev->cpu_wait = false;
	n->cpu_st.wait_max_ns = SY_MAX(n->cpu_st.wait_max_ns, n->sim->now_ns - ev->first_ns);
}

/* The common gate: SIM_CPU_WAIT when ev must (go on) wait(ing) behind
 * earlier work; else it runs now, charged cost unless skip (a stale or
 * cancelled timer, which costs nothing). */
static enum sim_cpu_verdict cpu_gate(struct sim_node *n, struct sim_ev *ev, uint64_t cost, bool skip)
{
	uint64_t now = n->sim->now_ns;
	if (ev->cpu_wait) { /* the head, come due */
		if (!skip && n->busy_until_ns > now) {
			cpu_wake(n); /* the work before it grew: later */
			return SIM_CPU_WAIT;
		}
		cpu_pop(n, ev);
	} else if (!skip && (n->busy_until_ns > now || n->wait_head != NULL)) {
		cpu_append(n, ev);
		return SIM_CPU_WAIT;
	}
	if (!skip) {
		n->busy_until_ns = SY_MAX(n->busy_until_ns, now) + cost;
		n->cpu_st.busy_ns += cost;
	}
	cpu_wake(n);
	return SIM_CPU_RUN;
}

bool sim_cpu_timer(struct sim_node *n, struct sim_ev *ev, bool skip)
{
	bool wait = (n->cpu_on || ev->cpu_wait) && cpu_gate(n, ev, n->cpu.timer_ns, skip) == SIM_CPU_WAIT;
	n->cpu_st.timers += !wait && !skip; /* callbacks that ran */
	return wait;
}

enum sim_cpu_verdict sim_cpu_rx(struct sim_node *n, struct sim_ev *ev, uint32_t len)
{
	uint64_t size = (uint64_t)len + SIM_SKB_OVERHEAD;
	if (!ev->cpu_wait) {
		n->cpu_st.rx++;
		if (!n->cpu_on)
			return SIM_CPU_RUN;
		bool busy = n->busy_until_ns > n->sim->now_ns || n->wait_head != NULL;
		if (busy && n->cpu.rcvbuf_bytes != 0 && n->rcvbuf_used + size > n->cpu.rcvbuf_bytes) {
			n->cpu_st.rcvbuf_drops++;
			return SIM_CPU_DROP;
		}
		if (busy) {
			n->rcvbuf_used += size;
			n->cpu_st.rcvbuf_max = SY_MAX(n->cpu_st.rcvbuf_max, n->rcvbuf_used);
			ev->epoch = n->epoch;
		}
	}
	if (ev->cpu_wait && ev->epoch != n->epoch) { /* its buffer died with the crashed process */
		cpu_gate(n, ev, 0, true);
		return SIM_CPU_DROP;
	}
	bool was_waiting = ev->cpu_wait;
	enum sim_cpu_verdict v = cpu_gate(n, ev, n->cpu.rx_ns, false);
	if (v == SIM_CPU_RUN && was_waiting && ev->epoch == n->epoch)
		n->rcvbuf_used -= SY_MIN(n->rcvbuf_used, size);
	return v;
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

/* sim_destroy: the datagrams that wait outside the event queue. */
void sim_cpu_discard(struct sim_node *n)
{
	for (struct sim_ev *ev = n->wait_head; ev != NULL;
	     ev = ev->link == EV_NONE ? NULL : sim_ev_at(n->sim, ev->link))
		if (ev->qn.seq == 0 && ev->kind == EV_DGRAM)
			sim_buf_put(n->sim, ev->u.d.buf);
	n->wait_head = n->wait_tail = NULL;
}
