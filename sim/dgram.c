/* dgram.c: modelled datagram sockets: bind, send through the link model,
 * deliver as an event. */
#include <stdlib.h>

#include "sim/net.h"
#include "sim/sim_int.h"

static inline struct sim_sock *sock_of(struct sy_dgram *d)
{
	return (struct sim_sock *)(void *)d;
}

uint16_t sim_node_ephemeral(struct sim_node *n, const struct sim_map *taken)
{
	for (uint32_t tries = 0; tries < 65536 - SIM_EPHEMERAL_LO; tries++) {
		uint16_t p = n->next_port;
		n->next_port = p == 65535 ? SIM_EPHEMERAL_LO : (uint16_t)(p + 1);
		if (taken == NULL || sim_map_get(taken, (uint64_t)n->ip << 16 | p) == NULL)
			return p;
	}
	return 0;
}

/* Resolves a bind address on node n: its own IP or 0.0.0.0. */
enum sy_rc sim_node_bind_addr(struct sim_node *n, const struct sy_addr *want, const struct sim_map *taken,
			      struct sy_addr *out)
{
	if (!n->up)
		return SY_ERR_STATE;
	if (want->family != SY_AF_INET || (sim_addr_ip(want) != 0 && sim_addr_ip(want) != n->ip))
		return SY_ERR_INVAL;
	*out = sim_node_addr(n, want->port);
	if (out->port == 0 && (out->port = sim_node_ephemeral(n, taken)) == 0)
		return SY_ERR_FULL;
	return sim_map_get(taken, sim_addr_key(out)) ? SY_ERR_STATE : SY_OK;
}

enum sy_rc sim_dgram_open(void *ctx, const struct sy_addr *local, sy_dgram_recv_fn fn, void *arg, struct sy_dgram **out)
{
	struct sim_node *n = ctx;
	struct sim *s = n->sim;
	struct sy_addr a;
	enum sy_rc rc = sim_node_bind_addr(n, local, &s->socks_by_addr, &a);
	if (rc != SY_OK)
		return rc;
	struct sim_sock *k = calloc(1, sizeof(*k));
	if (k == NULL)
		return SY_ERR_NOMEM;
	*k = (struct sim_sock){n, a, fn, arg, true, NULL, s->socks};
	if (s->socks)
		s->socks->prev = k;
	s->socks = k;
	sim_map_put(&s->socks_by_addr, sim_addr_key(&a), k);
	*out = (struct sy_dgram *)(void *)k;
	return SY_OK;
}

void sim_sock_unbind(struct sim *s, struct sim_sock *k)
{
	if (k->bound) {
		sim_map_del(&s->socks_by_addr, sim_addr_key(&k->local));
		k->bound = false;
	}
}

void sim_dgram_close(void *ctx, struct sy_dgram *d)
{
	struct sim *s = ((struct sim_node *)ctx)->sim;
	struct sim_sock *k = sock_of(d);
	sim_sock_unbind(s, k);
	if (k->prev)
		k->prev->next = k->next;
	else
		s->socks = k->next;
	if (k->next)
		k->next->prev = k->prev;
	free(k);
}

void sim_dgram_local(void *ctx, struct sy_dgram *d, struct sy_addr *out)
{
	*out = sock_of(d)->local;
}

void sim_ev_dgram_fire(void *arg)
{
	struct sim_ev *ev = arg;
	struct sim *s = ev->node->sim;
	struct sim_buf *b = ev->u.d.buf;
	uint32_t len = ev->len;
	struct sim_sock *k = sim_map_get(&s->socks_by_addr, sim_addr_key(&b->dst));
	/* one that waited for its node's CPU leaves the node's queue even if its socket is gone */
	enum sim_cpu_verdict v = SIM_CPU_RUN;
	if (k != NULL || ev->cpu_wait)
		v = sim_cpu_rx(ev->node, ev, len);
	if (v == SIM_CPU_WAIT)
		return; /* in the receive buffer until the node is free */
	sim_ev_release(s, ev);
	if (v == SIM_CPU_DROP) {
		sim_digest_drop(&s->digest, s->now_ns, SIM_DROP_RCVBUF, &b->src, &b->dst, len);
	} else if (k == NULL) {
		s->stats.dgrams_no_socket++;
		sim_digest_drop(&s->digest, s->now_ns, SIM_DROP_NO_SOCKET, &b->src, &b->dst, len);
	} else {
		s->stats.dgrams_delivered++;
		sim_digest_dgram(&s->digest, s->now_ns, &b->src, &b->dst, b->data, len);
		k->fn(k->arg, (struct sy_dgram *)(void *)k, &b->src, b->data, len);
	}
	sim_buf_put(s, b);
}

static enum sy_rc dgram_schedule(struct sim *s, struct sim_node *to, const struct sy_addr *src,
				 const struct sy_addr *dst, const void *buf, size_t len, uint64_t at_ns)
{
	struct sim_ev *ev = sim_ev_alloc(s, to);
	if (ev == NULL)
		return SY_ERR_FULL;
	struct sim_buf *b = sim_buf_get(s, len);
	b->src = *src;
	b->dst = *dst;
	memcpy(b->data, buf, len);
	ev->kind = EV_DGRAM;
	ev->u.d.buf = b;
	ev->len = (uint32_t)len;
	if (!sim_ev_queue(s, ev, at_ns)) {
		sim_buf_put(s, b);
		return SY_ERR_FULL;
	}
	return SY_OK;
}

enum sy_rc sim_dgram_send(void *ctx, struct sy_dgram *d, const struct sy_addr *to, const void *buf, size_t len)
{
	struct sim_node *n = ctx;
	struct sim *s = n->sim;
	struct sim_sock *k = sock_of(d);
	if (!k->bound || !n->up)
		return SY_ERR_STATE;
	if (len > SIM_DGRAM_MAX || to->family != SY_AF_INET)
		return SY_ERR_INVAL;
	s->stats.dgrams_sent++;
	struct sim_node *dn = sim_map_get(&s->by_ip, sim_addr_ip(to));
	if (dn == NULL) {
		s->stats.dgrams_no_route++;
		sim_digest_drop(&s->digest, s->now_ns, SIM_DROP_NO_ROUTE, &k->local, to, len);
		return SY_OK; /* like UDP: the sender cannot tell */
	}
	struct sim_link *l = sim_net__get(s->net, n->idx, dn->idx, n->name, dn->name);
	uint64_t at[2];
	int copies = 0;
	uint64_t busy = sim_cpu_tx(n); /* it leaves once the work before it is done */
	uint64_t late = SY_MAX(sim_node_stall_ns(n), busy);
	enum sim_tx tx = sim_net__dgram(l, s->now_ns + late, len, at, &copies);
	if (tx != SIM_TX_OK) {
		enum sim_drop_reason why = tx == SIM_TX_LOST ? SIM_DROP_LOSS : SIM_DROP_LINK_DOWN;
		if (tx == SIM_TX_LOST)
			s->stats.dgrams_lost++;
		else
			s->stats.dgrams_down++;
		sim_digest_drop(&s->digest, s->now_ns, why, &k->local, to, len);
		return SY_OK;
	}
	s->stats.dgrams_dup += (uint64_t)(copies - 1);
	for (int i = 0; i < copies; i++) {
		enum sy_rc rc = dgram_schedule(s, dn, &k->local, to, buf, len, at[i]);
		if (rc != SY_OK)
			return rc;
	}
	return SY_OK;
}

/* ---- streams ---- */
