/* stream.c: modelled byte streams: connect, segments in flight as events,
 * listeners, and what a crash does to open streams. */
#include <stdlib.h>

#include "sim/net.h"
#include "sim/sim_int.h"

static inline struct sim_end *end_of(struct sy_stream *st)
{
	return (struct sim_end *)(void *)st;
}
static inline struct sy_stream *end_handle(struct sim_end *e)
{
	return (struct sy_stream *)(void *)e;
}

static void conn_maybe_free(struct sim *s, struct sim_conn *c)
{
	for (int i = 0; i < 2; i++)
		if ((c->end[i].state != END_CLOSED && c->end[i].state != END_IDLE) || c->end[i].zombie)
			return;
	if (c->inflight > 0)
		return;
	if (c->prev)
		c->prev->next = c->next;
	else
		s->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	free(c);
}

/* Appends a write to the data segment this end sent at this same instant,
 * if that segment is still on its way: the bytes of one instant's writes
 * leave in one segment, as a kernel's socket buffer would send them, and
 * arrive together (one event, one read for the receiver instead of one per
 * write). False when there is no such segment or it is full. */
static bool seg_coalesce(struct sim *s, struct sim_end *from, const void *buf, size_t len)
{
	if (from->tail_gen == 0 || from->tail_at_ns != s->now_ns)
		return false;
	struct sim_ev *ev = sim_ev_at(s, from->tail_idx);
	if (ev->gen != from->tail_gen || ev->qn.seq == 0 || ev->len + len > SIM_SEG_MAX)
		return false;
	struct sim_buf *b = ev->u.s.buf;
	if (ev->len + len > sim_buf_cap(b)) {
		struct sim_buf *nb = sim_buf_get(s, ev->len + len);
		memcpy(nb->data, b->data, ev->len);
		sim_buf_put(s, b);
		ev->u.s.buf = b = nb;
	}
	memcpy(b->data + ev->len, buf, len);
	ev->len += (uint32_t)len;
	from->queued += len;
	s->stats.stream_coalesced++;
	return true;
}

/* Queues a segment from end[dir] to the other end; ordered after every earlier one. */
static void seg_send(struct sim *s, struct sim_conn *c, int dir, uint8_t what, const void *buf, size_t len)
{
	struct sim_end *from = &c->end[dir], *to = &c->end[1 - dir];
	struct sim_link *l = sim_net__get(s->net, from->node->idx, to->node->idx, from->node->name, to->node->name);
	/* not inside SY_MAX: it would draw twice */
	uint64_t at = s->now_ns + sim_node_stall_ns(from->node) + sim_net__delay(l);
	at = SY_MAX(at, from->last_tx_ns);
	from->last_tx_ns = at;
	struct sim_ev *ev = sim_ev_alloc(s, to->node);
	SY_ASSERT(ev != NULL);
	ev->kind = EV_STREAM;
	ev->u.s.c = c;
	ev->what = (uint8_t)(what | dir << 7);
	ev->len = (uint32_t)len;
	ev->u.s.buf = NULL;
	if (len > 0) {
		ev->u.s.buf = sim_buf_get(s, len);
		memcpy(ev->u.s.buf->data, buf, len);
		from->queued += len;
	}
	c->inflight++;
	SY_ASSERT(sim_ev_queue(s, ev, at));
	from->tail_gen = what == ST_DATA ? ev->gen : 0;
	from->tail_idx = ev->idx;
	from->tail_at_ns = s->now_ns;
}

static void st_syn(struct sim *s, struct sim_conn *c)
{
	struct sim_end *srv = &c->end[1], *cli = &c->end[0];
	struct sim_lsn *l = srv->node->up ? sim_map_get(&s->lsns_by_addr, sim_addr_key(&srv->local)) : NULL;
	if (l == NULL) {
		s->stats.streams_refused++;
		sim_digest_stream(&s->digest, s->now_ns, SIM_STREAM_RESET, &srv->local, &cli->local, NULL, 0);
		srv->last_tx_ns = s->now_ns;
		seg_send(s, c, 1, ST_RST, NULL, 0);
		return;
	}
	s->stats.streams_opened++;
	srv->cbs = l->cbs;
	srv->arg = l->arg;
	srv->state = END_OPEN;
	srv->last_tx_ns = s->now_ns;
	sim_digest_stream(&s->digest, s->now_ns, SIM_STREAM_OPEN, &cli->local, &srv->local, NULL, 0);
	seg_send(s, c, 1, ST_SYNACK, NULL, 0);
	if (srv->cbs.on_open)
		srv->cbs.on_open(srv->arg, end_handle(srv));
}

static void st_close_end(struct sim *s, struct sim_end *e, enum sy_rc why)
{
	if (e->state != END_CONNECTING && e->state != END_OPEN)
		return;
	e->state = END_CLOSED;
	sim_digest_stream(&s->digest, s->now_ns, why == SY_OK ? SIM_STREAM_CLOSE : SIM_STREAM_RESET, &e->peer,
			  &e->local, NULL, 0);
	if (e->cbs.on_close)
		e->cbs.on_close(e->arg, end_handle(e), why);
}

static void st_data(struct sim *s, struct sim_conn *c, int dir, struct sim_buf *b, uint32_t len)
{
	struct sim_end *from = &c->end[dir], *to = &c->end[1 - dir];
	from->queued -= len;
	if (to->state != END_OPEN) {
		s->stats.stream_dropped += len;
		sim_digest_drop(&s->digest, s->now_ns, SIM_DROP_STREAM_CLOSED, &from->local, &to->local, len);
		return;
	}
	s->stats.stream_bytes += len;
	sim_digest_stream(&s->digest, s->now_ns, SIM_STREAM_DATA, &from->local, &to->local, b->data, len);
	if (to->cbs.on_data)
		to->cbs.on_data(to->arg, end_handle(to), b->data, len);
}

void sim_ev_stream_fire(void *arg)
{
	struct sim_ev *ev = arg;
	struct sim *s = ev->node->sim;
	struct sim_conn *c = ev->u.s.c;
	int dir = ev->what >> 7;
	uint8_t what = ev->what & 0x7f;
	struct sim_buf *b = ev->u.s.buf;
	uint32_t len = ev->len;
	struct sim_end *to = &c->end[1 - dir];
	sim_ev_release(s, ev);
	/* inflight stays raised during callbacks so a close inside one cannot free c. */
	switch (what) {
	case ST_SYN:
		st_syn(s, c);
		break;
	case ST_SYNACK:
		if (to->state == END_CONNECTING) {
			to->state = END_OPEN;
			if (to->cbs.on_open)
				to->cbs.on_open(to->arg, end_handle(to));
		}
		break;
	case ST_DATA:
		st_data(s, c, dir, b, len);
		break;
	case ST_FIN:
		st_close_end(s, to, SY_OK);
		break;
	case ST_RST:
		st_close_end(s, to, SY_ERR_IO);
		break;
	}
	if (b)
		sim_buf_put(s, b);
	c->inflight--;
	conn_maybe_free(s, c);
}

enum sy_rc sim_stream_connect(void *ctx, const struct sy_addr *remote, const struct sy_stream_cbs *cbs, void *arg,
			      struct sy_stream **out)
{
	struct sim_node *n = ctx;
	struct sim *s = n->sim;
	if (!n->up)
		return SY_ERR_STATE;
	if (remote->family != SY_AF_INET)
		return SY_ERR_INVAL;
	struct sim_node *dn = sim_map_get(&s->by_ip, sim_addr_ip(remote));
	if (dn == NULL)
		return SY_ERR_NOTFOUND;
	struct sim_conn *c = calloc(1, sizeof(*c));
	if (c == NULL)
		return SY_ERR_NOMEM;
	struct sim_end *cli = &c->end[0], *srv = &c->end[1];
	cli->c = srv->c = c;
	cli->node = n;
	srv->node = dn;
	cli->cbs = *cbs;
	cli->arg = arg;
	cli->state = END_CONNECTING;
	cli->local = sim_node_addr(n, sim_node_ephemeral(n, NULL));
	cli->peer = srv->local = *remote;
	srv->peer = cli->local;
	c->next = s->conns;
	if (s->conns)
		s->conns->prev = c;
	s->conns = c;
	seg_send(s, c, 0, ST_SYN, NULL, 0);
	*out = end_handle(cli);
	return SY_OK;
}

enum sy_rc sim_stream_write(void *ctx, struct sy_stream *st, const void *buf, size_t len)
{
	struct sim *s = ((struct sim_node *)ctx)->sim;
	struct sim_end *e = end_of(st);
	if (e->state != END_OPEN && e->state != END_CONNECTING)
		return SY_ERR_STATE;
	const uint8_t *p = buf;
	while (len > 0) {
		size_t n = SY_MIN(len, (size_t)SIM_SEG_MAX);
		if (!seg_coalesce(s, e, p, n))
			seg_send(s, e->c, e == &e->c->end[0] ? 0 : 1, ST_DATA, p, n);
		p += n;
		len -= n;
	}
	return SY_OK;
}

void sim_stream_close(void *ctx, struct sy_stream *st)
{
	struct sim *s = ((struct sim_node *)ctx)->sim;
	struct sim_end *e = end_of(st);
	struct sim_conn *c = e->c;
	int dir = e == &c->end[0] ? 0 : 1;
	e->zombie = false;
	if (e->state == END_OPEN || e->state == END_CONNECTING) {
		e->state = END_CLOSED;
		if (c->end[1 - dir].state != END_CLOSED)
			seg_send(s, c, dir, ST_FIN, NULL, 0);
	}
	conn_maybe_free(s, c);
}

void sim_stream_set_arg(void *ctx, struct sy_stream *st, void *arg)
{
	end_of(st)->arg = arg;
}

size_t sim_stream_queued(void *ctx, struct sy_stream *st)
{
	return (size_t)end_of(st)->queued;
}

void sim_stream_peer(void *ctx, struct sy_stream *st, struct sy_addr *out)
{
	*out = end_of(st)->peer;
}

void sim_stream_local(void *ctx, struct sy_stream *st, struct sy_addr *out)
{
	*out = end_of(st)->local;
}

enum sy_rc sim_stream_listen(void *ctx, const struct sy_addr *local, const struct sy_stream_cbs *cbs, void *arg,
			     struct sy_listener **out)
{
	struct sim_node *n = ctx;
	struct sim *s = n->sim;
	struct sy_addr a;
	if (local == NULL || local->port == 0)
		return SY_ERR_INVAL;
	enum sy_rc rc = sim_node_bind_addr(n, local, &s->lsns_by_addr, &a);
	if (rc != SY_OK)
		return rc;
	struct sim_lsn *l = calloc(1, sizeof(*l));
	if (l == NULL)
		return SY_ERR_NOMEM;
	*l = (struct sim_lsn){n, a, *cbs, arg, true, NULL, s->lsns};
	if (s->lsns)
		s->lsns->prev = l;
	s->lsns = l;
	sim_map_put(&s->lsns_by_addr, sim_addr_key(&a), l);
	*out = (struct sy_listener *)(void *)l;
	return SY_OK;
}

void sim_lsn_unbind(struct sim *s, struct sim_lsn *l)
{
	if (l->bound) {
		sim_map_del(&s->lsns_by_addr, sim_addr_key(&l->local));
		l->bound = false;
	}
}

void sim_listener_close(void *ctx, struct sy_listener *lh)
{
	struct sim *s = ((struct sim_node *)ctx)->sim;
	struct sim_lsn *l = (struct sim_lsn *)(void *)lh;
	sim_lsn_unbind(s, l);
	if (l->prev)
		l->prev->next = l->next;
	else
		s->lsns = l->next;
	if (l->next)
		l->next->prev = l->prev;
	free(l);
}

void sim_node_drop_streams(struct sim *s, struct sim_node *n)
{
	for (struct sim_conn *c = s->conns, *next; c; c = next) {
		next = c->next;
		c->inflight++; /* pin c while both ends are handled */
		for (int dir = 0; dir < 2; dir++) {
			struct sim_end *e = &c->end[dir];
			if (e->node != n || (e->state != END_OPEN && e->state != END_CONNECTING))
				continue;
			e->state = END_CLOSED;
			e->zombie = true;
			if (c->end[1 - dir].state != END_CLOSED)
				seg_send(s, c, dir, ST_RST, NULL, 0);
		}
		c->inflight--;
		conn_maybe_free(s, c);
	}
}
