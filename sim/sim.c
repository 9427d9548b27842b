/* sim.c: the world, its event loop and the node env. Every pending thing
 * (timer, datagram in flight, stream segment in flight) is an event record
 * from a chunked pool, queued in one sy_tq by (time, seq); payloads live in
 * recycled size-class buffers, so the hot path never calls malloc. */
#include "sim/sim.h"

#include <stdlib.h>

#include "core/rng.h"
#include "core/timerq.h"
#include "sim/digest.h"
#include "sim/net.h"

#define EV_CHUNK_SHIFT 12
#define EV_CHUNK (1u << EV_CHUNK_SHIFT)
#define EV_NONE UINT32_MAX
#define SIM_DGRAM_MAX 65535u
#define SIM_SEG_MAX 65536u
#define SIM_EPHEMERAL_LO 49152u

enum { BUF_CLASSES = 4 };
static const uint32_t buf_class_cap[BUF_CLASSES] = {512, 2048, 16384, SIM_SEG_MAX};

struct sim_buf {
	struct sim_buf *next; /* free list */
	uint8_t cls;
	struct sy_addr src, dst;
	uint8_t data[];
};

enum st_what { ST_SYN = 1, ST_SYNACK, ST_DATA, ST_FIN, ST_RST };
enum end_state { END_IDLE = 0, END_CONNECTING, END_OPEN, END_CLOSED };

struct sim_conn;

struct sim_ev {
	struct sim_node *node; /* the node whose crash cancels it (timers) or that receives it */
	sy_timer_id tq_id;
	uint32_t idx, gen;
	uint32_t epoch; /* node epoch at scheduling time */
	uint32_t next_free;
	union {
		struct {
			sy_timer_fn fn;
			void *arg;
		} t;
		struct {
			struct sim_buf *buf;
			uint32_t len;
		} d;
		struct {
			struct sim_conn *c;
			struct sim_buf *buf;
			uint32_t len;
			uint8_t dir; /* the sending end */
			uint8_t what;
		} s;
	} u;
};

struct sim_sock {
	struct sim_node *node;
	struct sy_addr local;
	sy_dgram_recv_fn fn;
	void *arg;
	bool bound;
	struct sim_sock *prev, *next;
};

struct sim_lsn {
	struct sim_node *node;
	struct sy_addr local;
	struct sy_stream_cbs cbs;
	void *arg;
	bool bound;
	struct sim_lsn *prev, *next;
};

struct sim_end {
	struct sim_conn *c;
	struct sim_node *node;
	struct sy_stream_cbs cbs;
	void *arg;
	uint8_t state;
	bool zombie; /* closed by a crash; the owner may still hold the handle */
	uint64_t queued;
	uint64_t last_tx_ns; /* segments never arrive before this: byte order */
	struct sy_addr local, peer;
};

struct sim_conn {
	struct sim_end end[2]; /* [0] connected, [1] accepted */
	uint32_t inflight;     /* events and callbacks that still reference it */
	struct sim_conn *prev, *next;
};

/* Open addressing, linear probing, backward-shift delete; keys are never 0. */
struct sim_map {
	uint64_t *keys;
	void **vals;
	uint32_t cap, n;
};

struct sim_node {
	struct sim *sim;
	struct sy_env env;
	uint32_t idx;
	uint32_t ip; /* IPv4, host order */
	uint32_t epoch;
	bool up;
	uint16_t next_port;
	uint64_t seed;
	sim_node_hook on_crash, on_restart;
	void *hook_arg;
	uint64_t timer_late_ns; /* the loaded-event-loop fault */
	char name[48];
};

struct sim {
	uint64_t now_ns, seed, epoch_ns;
	enum sy_log_level log_level;
	struct sy_tq q;
	struct sim_ev **chunks;
	uint32_t nchunks, ev_free;
	struct sim_buf *buf_free[BUF_CLASSES];
	struct sim_node **nodes;
	uint32_t nnodes, cap_nodes;
	struct sim_node world;
	struct sim_map by_ip, socks_by_addr, lsns_by_addr;
	struct sim_sock *socks;
	struct sim_lsn *lsns;
	struct sim_conn *conns;
	struct sim_net *net;
	struct sim_digest digest;
	struct sim_stats stats;
};

static const struct sy_env_ops sim_env_ops;

/* ---- small containers ---- */

static inline uint32_t map_slot(const struct sim_map *m, uint64_t key)
{
	return (uint32_t)((key * 0x9e3779b97f4a7c15ull) >> 32) & (m->cap - 1);
}

static void *map_get(const struct sim_map *m, uint64_t key)
{
	if (m->cap == 0)
		return NULL;
	for (uint32_t i = map_slot(m, key);; i = (i + 1) & (m->cap - 1)) {
		if (m->keys[i] == key)
			return m->vals[i];
		if (m->keys[i] == 0)
			return NULL;
	}
}

static void map_put_nogrow(struct sim_map *m, uint64_t key, void *val)
{
	uint32_t i = map_slot(m, key);
	while (m->keys[i] != 0 && m->keys[i] != key)
		i = (i + 1) & (m->cap - 1);
	if (m->keys[i] == 0)
		m->n++;
	m->keys[i] = key;
	m->vals[i] = val;
}

static void map_put(struct sim_map *m, uint64_t key, void *val)
{
	SY_ASSERT(key != 0);
	if ((m->n + 1) * 2 > m->cap) {
		struct sim_map old = *m;
		m->cap = old.cap ? old.cap * 2 : 64;
		m->n = 0;
		m->keys = calloc(m->cap, sizeof(*m->keys));
		m->vals = calloc(m->cap, sizeof(*m->vals));
		SY_ASSERT(m->keys != NULL && m->vals != NULL);
		for (uint32_t i = 0; i < old.cap; i++)
			if (old.keys[i] != 0)
				map_put_nogrow(m, old.keys[i], old.vals[i]);
		free(old.keys);
		free(old.vals);
	}
	map_put_nogrow(m, key, val);
}

static void map_del(struct sim_map *m, uint64_t key)
{
	if (m->cap == 0)
		return;
	uint32_t i = map_slot(m, key), mask = m->cap - 1;
	while (m->keys[i] != key) {
		if (m->keys[i] == 0)
			return;
		i = (i + 1) & mask;
	}
	/* Backward shift keeps every probe chain unbroken without tombstones. */
	for (uint32_t j = (i + 1) & mask; m->keys[j] != 0; j = (j + 1) & mask) {
		uint32_t home = map_slot(m, m->keys[j]);
		if (((j - home) & mask) >= ((j - i) & mask)) {
			m->keys[i] = m->keys[j];
			m->vals[i] = m->vals[j];
			i = j;
		}
	}
	m->keys[i] = 0;
	m->vals[i] = NULL;
	m->n--;
}

static void map_free(struct sim_map *m)
{
	free(m->keys);
	free(m->vals);
	memset(m, 0, sizeof(*m));
}

static inline uint32_t addr_ip(const struct sy_addr *a)
{
	return (uint32_t)a->ip[0] << 24 | (uint32_t)a->ip[1] << 16 | (uint32_t)a->ip[2] << 8 | a->ip[3];
}

static inline uint64_t addr_key(const struct sy_addr *a)
{
	return (uint64_t)addr_ip(a) << 16 | a->port;
}

/* ---- event records and buffers ---- */

static inline struct sim_ev *ev_at(struct sim *s, uint32_t idx)
{
	return &s->chunks[idx >> EV_CHUNK_SHIFT][idx & (EV_CHUNK - 1)];
}

static bool ev_grow(struct sim *s)
{
	struct sim_ev **c = realloc(s->chunks, sizeof(*c) * (s->nchunks + 1));
	if (c == NULL)
		return false;
	s->chunks = c;
	struct sim_ev *chunk = calloc(EV_CHUNK, sizeof(*chunk));
	if (chunk == NULL)
		return false;
	c[s->nchunks] = chunk;
	uint32_t base = s->nchunks * EV_CHUNK;
	for (uint32_t i = 0; i < EV_CHUNK; i++) {
		chunk[i].idx = base + i;
		chunk[i].gen = 1;
		chunk[i].next_free = i + 1 < EV_CHUNK ? base + i + 1 : s->ev_free;
	}
	s->ev_free = base;
	s->nchunks++;
	return true;
}

static struct sim_ev *ev_alloc(struct sim *s, struct sim_node *node)
{
	if (s->ev_free == EV_NONE && !ev_grow(s))
		return NULL;
	struct sim_ev *ev = ev_at(s, s->ev_free);
	s->ev_free = ev->next_free;
	ev->node = node;
	ev->epoch = node->epoch;
	ev->tq_id = 0;
	return ev;
}

static void ev_release(struct sim *s, struct sim_ev *ev)
{
	ev->gen = ev->gen + 1 ? ev->gen + 1 : 1;
	ev->tq_id = 0;
	ev->next_free = s->ev_free;
	s->ev_free = ev->idx;
}

/* Queues ev at at_ns; false (and ev released) when the queue is full. */
static bool ev_queue(struct sim *s, struct sim_ev *ev, uint64_t at_ns, sy_timer_fn fn)
{
	ev->tq_id = sy_tq_add(&s->q, at_ns, fn, ev);
	if (ev->tq_id == 0) {
		ev_release(s, ev);
		return false;
	}
	return true;
}

static struct sim_buf *buf_get(struct sim *s, size_t len)
{
	SY_ASSERT(len <= SIM_SEG_MAX);
	uint8_t cls = 0;
	while (buf_class_cap[cls] < len)
		cls++;
	struct sim_buf *b = s->buf_free[cls];
	if (b != NULL) {
		s->buf_free[cls] = b->next;
		return b;
	}
	b = malloc(sizeof(*b) + buf_class_cap[cls]);
	SY_ASSERT(b != NULL);
	b->cls = cls;
	return b;
}

static void buf_put(struct sim *s, struct sim_buf *b)
{
	b->next = s->buf_free[b->cls];
	s->buf_free[b->cls] = b;
}

/* ---- world ---- */

struct sim *sim_create_opts(uint64_t seed, uint64_t epoch_ns, const struct sim_opts *opts)
{
	struct sim *s = calloc(1, sizeof(*s));
	if (s == NULL)
		return NULL;
	s->seed = seed;
	s->epoch_ns = epoch_ns;
	s->log_level = opts && opts->log_level ? opts->log_level : SY_LOG_WARN;
	s->ev_free = EV_NONE;
	uint32_t qmax = opts && opts->queue_max ? opts->queue_max : (1u << 26);
	struct sim_link_cfg def = sim_link_cfg_default();
	if (sy_tq_init(&s->q, 1u << 16, qmax) != SY_OK)
		goto out_free;
	if (sim_digest_init(&s->digest) != SY_OK)
		goto out_tq;
	s->net = sim_net__create(seed, &def);
	if (s->net == NULL)
		goto out_digest;
	s->world.sim = s;
	s->world.up = true;
	s->world.idx = UINT32_MAX;
	strcpy(s->world.name, "world");
	return s;
out_digest:
	sim_digest_free(&s->digest);
out_tq:
	sy_tq_free(&s->q);
out_free:
	free(s);
	return NULL;
}

struct sim *sim_create(uint64_t seed, uint64_t epoch_ns)
{
	return sim_create_opts(seed, epoch_ns, NULL);
}

static void ev_discard(struct sim *s, sy_timer_fn fn, struct sim_ev *ev);

void sim_destroy(struct sim *s)
{
	if (s == NULL)
		return;
	uint64_t at;
	sy_timer_fn fn;
	void *arg;
	while (sy_tq_pop(&s->q, UINT64_MAX, &at, &fn, &arg))
		ev_discard(s, fn, arg);
	while (s->conns) {
		struct sim_conn *c = s->conns;
		s->conns = c->next;
		free(c);
	}
	for (struct sim_sock *k = s->socks, *n; k; k = n) {
		n = k->next;
		free(k);
	}
	for (struct sim_lsn *l = s->lsns, *n; l; l = n) {
		n = l->next;
		free(l);
	}
	for (int i = 0; i < BUF_CLASSES; i++)
		for (struct sim_buf *b = s->buf_free[i], *n; b; b = n) {
			n = b->next;
			free(b);
		}
	for (uint32_t i = 0; i < s->nchunks; i++)
		free(s->chunks[i]);
	free(s->chunks);
	for (uint32_t i = 0; i < s->nnodes; i++)
		free(s->nodes[i]);
	free(s->nodes);
	map_free(&s->by_ip);
	map_free(&s->socks_by_addr);
	map_free(&s->lsns_by_addr);
	sim_net__destroy(s->net);
	sim_digest_free(&s->digest);
	sy_tq_free(&s->q);
	free(s);
}

uint64_t sim_now(const struct sim *s)
{
	return s->now_ns;
}
uint64_t sim_seed(const struct sim *s)
{
	return s->seed;
}
const struct sim_stats *sim_stats(const struct sim *s)
{
	return &s->stats;
}
struct sim_net *sim_net_of(struct sim *s)
{
	return s->net;
}
struct sim_digest *sim_digest_of(struct sim *s)
{
	return &s->digest;
}
uint32_t sim_pending(const struct sim *s)
{
	return sy_tq_count(&s->q);
}
void sim_set_event_text(struct sim *s, FILE *f)
{
	sim_digest_set_text(&s->digest, f);
}

void sim_set_log_level(struct sim *s, enum sy_log_level level)
{
	s->log_level = level;
	for (uint32_t i = 0; i < s->nnodes; i++)
		s->nodes[i]->env.log_level = level;
}

/* ---- nodes ---- */

static bool node_ip_pick(struct sim *s, const char *ip, uint32_t *out)
{
	if (ip != NULL) {
		struct sy_addr a;
		if (sy_addr_parse(ip, 0, &a) != SY_OK || a.family != SY_AF_INET || addr_ip(&a) == 0)
			return false;
		*out = addr_ip(&a);
		return map_get(&s->by_ip, *out) == NULL;
	}
	for (uint32_t n = s->nnodes + 1;; n++) {
		uint32_t cand = 10u << 24 | ((n >> 8) & 0xff) << 8 | (n & 0xff);
		if ((n & 0xff) != 0 && map_get(&s->by_ip, cand) == NULL) {
			*out = cand;
			return true;
		}
	}
}

struct sim_node *sim_node_add(struct sim *s, const char *name, const char *ip)
{
	SY_ASSERT(name != NULL);
	uint32_t addr;
	if (strlen(name) >= sizeof(s->world.name) || sim_node_find(s, name) != NULL || !node_ip_pick(s, ip, &addr))
		return NULL;
	if (s->nnodes == s->cap_nodes) {
		uint32_t ncap = s->cap_nodes ? s->cap_nodes * 2 : 16;
		struct sim_node **nn = realloc(s->nodes, sizeof(*nn) * ncap);
		if (nn == NULL)
			return NULL;
		s->nodes = nn;
		s->cap_nodes = ncap;
	}
	struct sim_node *n = calloc(1, sizeof(*n));
	if (n == NULL)
		return NULL;
	n->sim = s;
	n->env = (struct sy_env){&sim_env_ops, n, s->log_level};
	n->idx = s->nnodes;
	n->ip = addr;
	n->up = true;
	n->next_port = SIM_EPHEMERAL_LO;
	strcpy(n->name, name);
	/* Per-node seed: two nodes running the same component get different streams. */
	n->seed = sy_hash64(name, strlen(name), s->seed);
	s->nodes[s->nnodes++] = n;
	map_put(&s->by_ip, addr, n);
	return n;
}

struct sim_node *sim_node_find(struct sim *s, const char *name)
{
	for (uint32_t i = 0; i < s->nnodes; i++)
		if (strcmp(s->nodes[i]->name, name) == 0)
			return s->nodes[i];
	return NULL;
}

struct sy_env *sim_node_env(struct sim_node *n)
{
	return &n->env;
}
const char *sim_node_name(const struct sim_node *n)
{
	return n->name;
}
uint32_t sim_node_index(const struct sim_node *n)
{
	return n->idx;
}
bool sim_node_is_up(const struct sim_node *n)
{
	return n->up;
}

struct sy_addr sim_node_addr(const struct sim_node *n, uint16_t port)
{
	return sy_addr_v4((uint8_t)(n->ip >> 24), (uint8_t)(n->ip >> 16), (uint8_t)(n->ip >> 8), (uint8_t)n->ip,
			  port);
}

void sim_node_set_hooks(struct sim_node *n, sim_node_hook on_crash, sim_node_hook on_restart, void *arg)
{
	n->on_crash = on_crash;
	n->on_restart = on_restart;
	n->hook_arg = arg;
}

void sim_node_set_timer_late(struct sim_node *n, uint64_t late_ns)
{
	n->timer_late_ns = late_ns;
}

/* ---- timers ---- */

static void ev_timer_fire(void *arg)
{
	struct sim_ev *ev = arg;
	struct sim_node *n = ev->node;
	struct sim *s = n->sim;
	sy_timer_fn fn = ev->u.t.fn;
	void *farg = ev->u.t.arg;
	bool stale = ev->epoch != n->epoch;
	ev_release(s, ev);
	if (stale) {
		s->stats.timers_dropped++;
		return;
	}
	s->stats.timers_fired++;
	fn(farg);
}

static sy_timer_id node_timer_at(struct sim_node *n, uint64_t at_ns, sy_timer_fn fn, void *arg)
{
	struct sim *s = n->sim;
	struct sim_ev *ev = ev_alloc(s, n);
	if (ev == NULL)
		return 0;
	ev->u.t.fn = fn;
	ev->u.t.arg = arg;
	if (!ev_queue(s, ev, at_ns, ev_timer_fire))
		return 0;
	return (uint64_t)ev->gen << 32 | (uint64_t)(ev->idx + 1);
}

static void node_timer_cancel(struct sim *s, sy_timer_id id)
{
	uint32_t idx = (uint32_t)id;
	if (idx == 0 || idx > s->nchunks * EV_CHUNK)
		return;
	struct sim_ev *ev = ev_at(s, idx - 1);
	if (ev->gen != (uint32_t)(id >> 32) || ev->tq_id == 0)
		return;
	if (sy_tq_cancel(&s->q, ev->tq_id))
		ev_release(s, ev);
}

sy_timer_id sim_at(struct sim *s, uint64_t t_ns, sy_timer_fn fn, void *arg)
{
	SY_ASSERT(fn != NULL);
	return node_timer_at(&s->world, SY_MAX(t_ns, s->now_ns), fn, arg);
}

void sim_cancel(struct sim *s, sy_timer_id id)
{
	node_timer_cancel(s, id);
}

/* ---- run loop ---- */

static uint64_t sim_loop(struct sim *s, uint64_t until_ns, uint64_t max_events)
{
	uint64_t n = 0, at;
	sy_timer_fn fn;
	void *arg;
	while (n < max_events && sy_tq_pop(&s->q, until_ns, &at, &fn, &arg)) {
		SY_ASSERT(at >= s->now_ns);
		s->now_ns = at;
		s->stats.events++;
		n++;
		fn(arg);
	}
	return n;
}

uint64_t sim_run_until(struct sim *s, uint64_t t_ns)
{
	uint64_t n = sim_loop(s, t_ns, UINT64_MAX);
	if (s->now_ns < t_ns)
		s->now_ns = t_ns;
	return n;
}

uint64_t sim_run_until_idle(struct sim *s, uint64_t max_events)
{
	return sim_loop(s, UINT64_MAX, max_events);
}

/* ---- datagrams ---- */

static inline struct sim_sock *sock_of(struct sy_dgram *d)
{
	return (struct sim_sock *)(void *)d;
}

static uint16_t node_ephemeral(struct sim_node *n, const struct sim_map *taken)
{
	for (uint32_t tries = 0; tries < 65536 - SIM_EPHEMERAL_LO; tries++) {
		uint16_t p = n->next_port;
		n->next_port = p == 65535 ? SIM_EPHEMERAL_LO : (uint16_t)(p + 1);
		if (taken == NULL || map_get(taken, (uint64_t)n->ip << 16 | p) == NULL)
			return p;
	}
	return 0;
}

/* Resolves a bind address on node n: its own IP or 0.0.0.0. */
static enum sy_rc node_bind_addr(struct sim_node *n, const struct sy_addr *want, const struct sim_map *taken,
				 struct sy_addr *out)
{
	if (!n->up)
		return SY_ERR_STATE;
	if (want->family != SY_AF_INET || (addr_ip(want) != 0 && addr_ip(want) != n->ip))
		return SY_ERR_INVAL;
	*out = sim_node_addr(n, want->port);
	if (out->port == 0 && (out->port = node_ephemeral(n, taken)) == 0)
		return SY_ERR_FULL;
	return map_get(taken, addr_key(out)) ? SY_ERR_STATE : SY_OK;
}

static enum sy_rc env_dgram_open(void *ctx, const struct sy_addr *local, sy_dgram_recv_fn fn, void *arg,
				 struct sy_dgram **out)
{
	struct sim_node *n = ctx;
	struct sim *s = n->sim;
	struct sy_addr a;
	enum sy_rc rc = node_bind_addr(n, local, &s->socks_by_addr, &a);
	if (rc != SY_OK)
		return rc;
	struct sim_sock *k = calloc(1, sizeof(*k));
	if (k == NULL)
		return SY_ERR_NOMEM;
	*k = (struct sim_sock){n, a, fn, arg, true, NULL, s->socks};
	if (s->socks)
		s->socks->prev = k;
	s->socks = k;
	map_put(&s->socks_by_addr, addr_key(&a), k);
	*out = (struct sy_dgram *)(void *)k;
	return SY_OK;
}

static void sock_unbind(struct sim *s, struct sim_sock *k)
{
	if (k->bound) {
		map_del(&s->socks_by_addr, addr_key(&k->local));
		k->bound = false;
	}
}

static void env_dgram_close(void *ctx, struct sy_dgram *d)
{
	struct sim *s = ((struct sim_node *)ctx)->sim;
	struct sim_sock *k = sock_of(d);
	sock_unbind(s, k);
	if (k->prev)
		k->prev->next = k->next;
	else
		s->socks = k->next;
	if (k->next)
		k->next->prev = k->prev;
	free(k);
}

static void env_dgram_local(void *ctx, struct sy_dgram *d, struct sy_addr *out)
{
	*out = sock_of(d)->local;
}

static void ev_dgram_fire(void *arg)
{
	struct sim_ev *ev = arg;
	struct sim *s = ev->node->sim;
	struct sim_buf *b = ev->u.d.buf;
	uint32_t len = ev->u.d.len;
	ev_release(s, ev);
	struct sim_sock *k = map_get(&s->socks_by_addr, addr_key(&b->dst));
	if (k == NULL) {
		s->stats.dgrams_no_socket++;
		sim_digest_drop(&s->digest, s->now_ns, SIM_DROP_NO_SOCKET, &b->src, &b->dst, len);
	} else {
		s->stats.dgrams_delivered++;
		sim_digest_dgram(&s->digest, s->now_ns, &b->src, &b->dst, b->data, len);
		k->fn(k->arg, (struct sy_dgram *)(void *)k, &b->src, b->data, len);
	}
	buf_put(s, b);
}

static enum sy_rc dgram_schedule(struct sim *s, struct sim_node *to, const struct sy_addr *src,
				 const struct sy_addr *dst, const void *buf, size_t len, uint64_t at_ns)
{
	struct sim_ev *ev = ev_alloc(s, to);
	if (ev == NULL)
		return SY_ERR_FULL;
	struct sim_buf *b = buf_get(s, len);
	b->src = *src;
	b->dst = *dst;
	memcpy(b->data, buf, len);
	ev->u.d.buf = b;
	ev->u.d.len = (uint32_t)len;
	if (!ev_queue(s, ev, at_ns, ev_dgram_fire)) {
		buf_put(s, b);
		return SY_ERR_FULL;
	}
	return SY_OK;
}

static enum sy_rc env_dgram_send(void *ctx, struct sy_dgram *d, const struct sy_addr *to, const void *buf,
				 size_t len)
{
	struct sim_node *n = ctx;
	struct sim *s = n->sim;
	struct sim_sock *k = sock_of(d);
	if (!k->bound || !n->up)
		return SY_ERR_STATE;
	if (len > SIM_DGRAM_MAX || to->family != SY_AF_INET)
		return SY_ERR_INVAL;
	s->stats.dgrams_sent++;
	struct sim_node *dn = map_get(&s->by_ip, addr_ip(to));
	if (dn == NULL) {
		s->stats.dgrams_no_route++;
		sim_digest_drop(&s->digest, s->now_ns, SIM_DROP_NO_ROUTE, &k->local, to, len);
		return SY_OK; /* like UDP: the sender cannot tell */
	}
	struct sim_link *l = sim_net__get(s->net, n->idx, dn->idx, n->name, dn->name);
	uint64_t at[2];
	int copies = 0;
	enum sim_tx tx = sim_net__dgram(l, s->now_ns, len, at, &copies);
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

static void ev_stream_fire(void *arg);

/* Queues a segment from end[dir] to the other end; ordered after every earlier one. */
static void seg_send(struct sim *s, struct sim_conn *c, int dir, uint8_t what, const void *buf, size_t len)
{
	struct sim_end *from = &c->end[dir], *to = &c->end[1 - dir];
	struct sim_link *l = sim_net__get(s->net, from->node->idx, to->node->idx, from->node->name, to->node->name);
	uint64_t at = s->now_ns + sim_net__delay(l); /* not inside SY_MAX: it would draw twice */
	at = SY_MAX(at, from->last_tx_ns);
	from->last_tx_ns = at;
	struct sim_ev *ev = ev_alloc(s, to->node);
	SY_ASSERT(ev != NULL);
	ev->u.s.c = c;
	ev->u.s.dir = (uint8_t)dir;
	ev->u.s.what = what;
	ev->u.s.len = (uint32_t)len;
	ev->u.s.buf = NULL;
	if (len > 0) {
		ev->u.s.buf = buf_get(s, len);
		memcpy(ev->u.s.buf->data, buf, len);
		from->queued += len;
	}
	c->inflight++;
	SY_ASSERT(ev_queue(s, ev, at, ev_stream_fire));
}

static void st_syn(struct sim *s, struct sim_conn *c)
{
	struct sim_end *srv = &c->end[1], *cli = &c->end[0];
	struct sim_lsn *l = srv->node->up ? map_get(&s->lsns_by_addr, addr_key(&srv->local)) : NULL;
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

static void ev_stream_fire(void *arg)
{
	struct sim_ev *ev = arg;
	struct sim *s = ev->node->sim;
	struct sim_conn *c = ev->u.s.c;
	int dir = ev->u.s.dir;
	uint8_t what = ev->u.s.what;
	struct sim_buf *b = ev->u.s.buf;
	uint32_t len = ev->u.s.len;
	struct sim_end *to = &c->end[1 - dir];
	ev_release(s, ev);
	/* inflight stays raised during callbacks so a close inside one cannot free c. */
	switch (what) {
	case ST_SYN: st_syn(s, c); break;
	case ST_SYNACK:
		if (to->state == END_CONNECTING) {
			to->state = END_OPEN;
			if (to->cbs.on_open)
				to->cbs.on_open(to->arg, end_handle(to));
		}
		break;
	case ST_DATA: st_data(s, c, dir, b, len); break;
	case ST_FIN: st_close_end(s, to, SY_OK); break;
	case ST_RST: st_close_end(s, to, SY_ERR_IO); break;
	}
	if (b)
		buf_put(s, b);
	c->inflight--;
	conn_maybe_free(s, c);
}

static enum sy_rc env_stream_connect(void *ctx, const struct sy_addr *remote, const struct sy_stream_cbs *cbs,
				     void *arg, struct sy_stream **out)
{
	struct sim_node *n = ctx;
	struct sim *s = n->sim;
	if (!n->up)
		return SY_ERR_STATE;
	if (remote->family != SY_AF_INET)
		return SY_ERR_INVAL;
	struct sim_node *dn = map_get(&s->by_ip, addr_ip(remote));
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
	cli->local = sim_node_addr(n, node_ephemeral(n, NULL));
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

static enum sy_rc env_stream_write(void *ctx, struct sy_stream *st, const void *buf, size_t len)
{
	struct sim *s = ((struct sim_node *)ctx)->sim;
	struct sim_end *e = end_of(st);
	if (e->state != END_OPEN && e->state != END_CONNECTING)
		return SY_ERR_STATE;
	const uint8_t *p = buf;
	while (len > 0) {
		size_t n = SY_MIN(len, (size_t)SIM_SEG_MAX);
		seg_send(s, e->c, e == &e->c->end[0] ? 0 : 1, ST_DATA, p, n);
		p += n;
		len -= n;
	}
	return SY_OK;
}

static void env_stream_close(void *ctx, struct sy_stream *st)
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

static void env_stream_set_arg(void *ctx, struct sy_stream *st, void *arg)
{
	end_of(st)->arg = arg;
}

static size_t env_stream_queued(void *ctx, struct sy_stream *st)
{
	return (size_t)end_of(st)->queued;
}

static void env_stream_peer(void *ctx, struct sy_stream *st, struct sy_addr *out)
{
	*out = end_of(st)->peer;
}

static enum sy_rc env_stream_listen(void *ctx, const struct sy_addr *local, const struct sy_stream_cbs *cbs,
				    void *arg, struct sy_listener **out)
{
	struct sim_node *n = ctx;
	struct sim *s = n->sim;
	struct sy_addr a;
	if (local == NULL || local->port == 0)
		return SY_ERR_INVAL;
	enum sy_rc rc = node_bind_addr(n, local, &s->lsns_by_addr, &a);
	if (rc != SY_OK)
		return rc;
	struct sim_lsn *l = calloc(1, sizeof(*l));
	if (l == NULL)
		return SY_ERR_NOMEM;
	*l = (struct sim_lsn){n, a, *cbs, arg, true, NULL, s->lsns};
	if (s->lsns)
		s->lsns->prev = l;
	s->lsns = l;
	map_put(&s->lsns_by_addr, addr_key(&a), l);
	*out = (struct sy_listener *)(void *)l;
	return SY_OK;
}

static void lsn_unbind(struct sim *s, struct sim_lsn *l)
{
	if (l->bound) {
		map_del(&s->lsns_by_addr, addr_key(&l->local));
		l->bound = false;
	}
}

static void env_listener_close(void *ctx, struct sy_listener *lh)
{
	struct sim *s = ((struct sim_node *)ctx)->sim;
	struct sim_lsn *l = (struct sim_lsn *)(void *)lh;
	lsn_unbind(s, l);
	if (l->prev)
		l->prev->next = l->next;
	else
		s->lsns = l->next;
	if (l->next)
		l->next->prev = l->prev;
	free(l);
}

/* ---- crash and restart ---- */

static void node_drop_streams(struct sim *s, struct sim_node *n)
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

void sim_node_crash(struct sim_node *n)
{
	struct sim *s = n->sim;
	if (!n->up)
		return;
	n->up = false;
	n->epoch++; /* pending timers of the old epoch are discarded when reached */
	for (struct sim_sock *k = s->socks; k; k = k->next)
		if (k->node == n)
			sock_unbind(s, k);
	for (struct sim_lsn *l = s->lsns; l; l = l->next)
		if (l->node == n)
			lsn_unbind(s, l);
	node_drop_streams(s, n);
	sim_digest_event(&s->digest, s->now_ns, n->name, "sim.crash", NULL, 0);
	if (n->on_crash)
		n->on_crash(n->hook_arg, n);
}

void sim_node_restart(struct sim_node *n)
{
	if (n->up)
		return;
	n->up = true;
	sim_digest_event(&n->sim->digest, n->sim->now_ns, n->name, "sim.restart", NULL, 0);
	if (n->on_restart)
		n->on_restart(n->hook_arg, n);
}

static void crash_fn(void *arg)
{
	sim_node_crash(arg);
}

static void restart_fn(void *arg)
{
	sim_node_restart(arg);
}

void sim_node_crash_at(struct sim_node *n, uint64_t t_ns, uint64_t down_ns)
{
	SY_ASSERT(sim_at(n->sim, t_ns, crash_fn, n) != 0);
	SY_ASSERT(sim_at(n->sim, t_ns + down_ns, restart_fn, n) != 0);
}

/* Frees what a never-dispatched event holds (sim_destroy). */
static void ev_discard(struct sim *s, sy_timer_fn fn, struct sim_ev *ev)
{
	/* Only deliveries own buffers; the queued handler tells which kind ev is. */
	if (fn == ev_dgram_fire)
		buf_put(s, ev->u.d.buf);
	else if (fn == ev_stream_fire && ev->u.s.buf != NULL)
		buf_put(s, ev->u.s.buf);
	ev_release(s, ev);
}

/* ---- the env ops ---- */

static uint64_t env_now_ns(void *ctx)
{
	return ((struct sim_node *)ctx)->sim->now_ns;
}

static uint64_t env_wall_ns(void *ctx)
{
	struct sim *s = ((struct sim_node *)ctx)->sim;
	return s->epoch_ns + s->now_ns;
}

static sy_timer_id env_timer_start(void *ctx, uint64_t delay_ns, sy_timer_fn fn, void *arg)
{
	struct sim_node *n = ctx;
	uint64_t now = n->sim->now_ns;
	delay_ns = delay_ns > UINT64_MAX - n->timer_late_ns ? UINT64_MAX : delay_ns + n->timer_late_ns;
	uint64_t at = delay_ns > UINT64_MAX - now ? UINT64_MAX : now + delay_ns;
	return node_timer_at(n, at, fn, arg);
}

static void env_timer_cancel(void *ctx, sy_timer_id id)
{
	node_timer_cancel(((struct sim_node *)ctx)->sim, id);
}

static uint64_t env_seed(void *ctx)
{
	return ((struct sim_node *)ctx)->seed;
}

static void env_log(void *ctx, enum sy_log_level level, const char *fmt, va_list ap)
{
	static const char *names[] = {"ERROR", "WARN", "INFO", "DEBUG"};
	struct sim_node *n = ctx;
	struct sim *s = n->sim;
	if (level > s->log_level)
		return;
	fprintf(stderr, "%llu.%09llu %s %s: ", (unsigned long long)(s->now_ns / SY_NS_PER_S),
		(unsigned long long)(s->now_ns % SY_NS_PER_S), n->name, names[level <= SY_LOG_DEBUG ? level : 3]);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
}

static void env_event(void *ctx, const char *kind, const void *data, size_t len)
{
	struct sim_node *n = ctx;
	sim_digest_event(&n->sim->digest, n->sim->now_ns, n->name, kind, data, len);
}

static const struct sy_env_ops sim_env_ops = {
	.now_ns = env_now_ns,
	.wall_ns = env_wall_ns,
	.timer_start = env_timer_start,
	.timer_cancel = env_timer_cancel,
	.dgram_open = env_dgram_open,
	.dgram_send = env_dgram_send,
	.dgram_close = env_dgram_close,
	.dgram_local = env_dgram_local,
	.stream_listen = env_stream_listen,
	.listener_close = env_listener_close,
	.stream_connect = env_stream_connect,
	.stream_write = env_stream_write,
	.stream_set_arg = env_stream_set_arg,
	.stream_queued = env_stream_queued,
	.stream_close = env_stream_close,
	.stream_peer = env_stream_peer,
	.seed = env_seed,
	.log = env_log,
	.event = env_event,
};
