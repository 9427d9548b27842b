/* sim.c: the world, its event loop and the node env. Every pending thing
 * (timer, datagram in flight, stream segment in flight) is an event record
 * from a chunked pool, queued in one sy_tq by (time, seq); payloads live in
 * recycled size-class buffers, so the hot path never calls malloc. */
#include "sim/sim_int.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "core/rng.h"
#include "core/timerq.h"
#include "sim/digest.h"
#include "sim/net.h"

static const uint32_t buf_class_cap[BUF_CLASSES] = {512, 2048, 16384, SIM_SEG_MAX};

static const struct sy_env_ops sim_env_ops;

/* ---- event records and buffers ---- */

_Static_assert(offsetof(struct sim_ev, qn) == 0, "a popped queue node is its sim_ev");
_Static_assert(sizeof(struct sim_ev) == 64, "an event record is one cache line");

static bool ev_grow(struct sim *s)
{
	struct sim_ev **c = realloc(s->chunks, sizeof(*c) * (s->nchunks + 1));
	if (c == NULL)
		return false;
	s->chunks = c;
	struct sim_ev *chunk = aligned_alloc(64, EV_CHUNK * sizeof(*chunk));
	if (chunk == NULL)
		return false;
	memset(chunk, 0, EV_CHUNK * sizeof(*chunk));
	c[s->nchunks] = chunk;
	uint32_t base = s->nchunks * EV_CHUNK;
	for (uint32_t i = 0; i < EV_CHUNK; i++) {
		chunk[i].idx = base + i;
		chunk[i].gen = 1;
		chunk[i].link = i + 1 < EV_CHUNK ? base + i + 1 : s->ev_free;
	}
	s->ev_free = base;
	s->nchunks++;
	return true;
}

struct sim_ev *sim_ev_alloc(struct sim *s, struct sim_node *node)
{
	if (s->ev_free == EV_NONE && !ev_grow(s))
		return NULL;
	struct sim_ev *ev = sim_ev_at(s, s->ev_free);
	s->ev_free = ev->link;
	/* The next record to hand out may have been freed long ago: fetch it
	 * now, while the caller fills this one. */
	if (s->ev_free != EV_NONE)
		__builtin_prefetch(sim_ev_at(s, s->ev_free), 1);
	ev->node = node;
	ev->epoch = node->epoch;
	ev->qn.seq = 0;
	ev->cpu_wait = false;
	ev->cancelled = false;
	return ev;
}

void sim_ev_release(struct sim *s, struct sim_ev *ev)
{
	ev->gen = ev->gen + 1 ? ev->gen + 1 : 1;
	ev->qn.seq = 0;
	ev->link = s->ev_free;
	s->ev_free = ev->idx;
}

/* Queues ev (its kind set) at at_ns; false (and ev released) when the queue
 * is full. */
bool sim_ev_queue(struct sim *s, struct sim_ev *ev, uint64_t at_ns)
{
	if (!sy_tq_node_add(&s->q, &ev->qn, at_ns)) {
		sim_ev_release(s, ev);
		return false;
	}
	return true;
}

struct sim_buf *sim_buf_get(struct sim *s, size_t len)
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

size_t sim_buf_cap(const struct sim_buf *b)
{
	return buf_class_cap[b->cls];
}

void sim_buf_put(struct sim *s, struct sim_buf *b)
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
	if (sy_tq_init_intrusive(&s->q, qmax) != SY_OK)
		goto out_free;
	if (sim_digest_init(&s->digest) != SY_OK)
		goto out_tq;
	s->net = sim_net__create(seed, &def);
	if (s->net == NULL)
		goto out_digest;
	s->world.sim = s;
	s->world.env = (struct sy_env){&sim_env_ops, &s->world, s->log_level};
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

static void ev_discard(struct sim *s, struct sim_ev *ev);

void sim_destroy(struct sim *s)
{
	if (s == NULL)
		return;
	uint64_t at;
	struct sy_tq_node *qn;
	for (uint32_t i = 0; i < s->nnodes; i++)
		sim_cpu_discard(s->nodes[i]);
	while ((qn = sy_tq_node_pop(&s->q, UINT64_MAX, &at)) != NULL)
		ev_discard(s, (struct sim_ev *)(void *)qn);
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
	sim_map_free(&s->by_ip);
	sim_map_free(&s->socks_by_addr);
	sim_map_free(&s->lsns_by_addr);
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
		if (sy_addr_parse(ip, 0, &a) != SY_OK || a.family != SY_AF_INET || sim_addr_ip(&a) == 0)
			return false;
		*out = sim_addr_ip(&a);
		return sim_map_get(&s->by_ip, *out) == NULL;
	}
	for (uint32_t n = s->nnodes + 1;; n++) {
		uint32_t cand = 10u << 24 | ((n >> 8) & 0xff) << 8 | (n & 0xff);
		if ((n & 0xff) != 0 && sim_map_get(&s->by_ip, cand) == NULL) {
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
	sy_rng_init_split(&n->rnd, n->seed, "env.random", 0);
	s->nodes[s->nnodes++] = n;
	sim_map_put(&s->by_ip, addr, n);
	return n;
}

struct sim_node *sim_node_find(struct sim *s, const char *name)
{
	for (uint32_t i = 0; i < s->nnodes; i++)
		if (strcmp(s->nodes[i]->name, name) == 0)
			return s->nodes[i];
	return NULL;
}

struct sy_env *sim_world_env(struct sim *s)
{
	return &s->world.env;
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
	return sy_addr_v4((uint8_t)(n->ip >> 24), (uint8_t)(n->ip >> 16), (uint8_t)(n->ip >> 8), (uint8_t)n->ip, port);
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
	bool stale = ev->epoch != n->epoch, cancelled = ev->cancelled;
	if (sim_cpu_timer(n, ev, stale || cancelled))
		return; /* the node is busy: the timer fires when it is free */
	sim_ev_release(s, ev);
	if (cancelled)
		return;
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
	struct sim_ev *ev = sim_ev_alloc(s, n);
	if (ev == NULL)
		return 0;
	ev->kind = EV_TIMER;
	ev->u.t.fn = fn;
	ev->u.t.arg = arg;
	if (!sim_ev_queue(s, ev, at_ns))
		return 0;
	return (uint64_t)ev->gen << 32 | (uint64_t)(ev->idx + 1);
}

static void node_timer_cancel(struct sim *s, sy_timer_id id)
{
	uint32_t idx = (uint32_t)id;
	if (idx == 0 || idx > s->nchunks * EV_CHUNK)
		return;
	struct sim_ev *ev = sim_ev_at(s, idx - 1);
	if (ev->gen != (uint32_t)(id >> 32))
		return;
	if (ev->cpu_wait) { /* in its node's CPU queue: dropped when reached */
		ev->cancelled = true;
		return;
	}
	if (sy_tq_node_cancel(&s->q, &ev->qn))
		sim_ev_release(s, ev);
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
	struct sy_tq_node *qn;
	while (n < max_events && (qn = sy_tq_node_pop(&s->q, until_ns, &at)) != NULL) {
		SY_ASSERT(at >= s->now_ns);
		s->now_ns = at;
		s->stats.events++;
		n++;
		/* the next event's record loads while this one runs */
		struct sy_tq_node *next = sy_tq_node_peek(&s->q);
		if (next != NULL)
			__builtin_prefetch(next);
		struct sim_ev *ev = (struct sim_ev *)(void *)qn; /* its first member */
		switch (ev->kind) {
		case EV_TIMER:
			ev_timer_fire(ev);
			break;
		case EV_DGRAM:
			sim_ev_dgram_fire(ev);
			break;
		default:
			sim_ev_stream_fire(ev);
			break;
		}
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

/* ---- crash and restart ---- */
void sim_node_crash(struct sim_node *n)
{
	struct sim *s = n->sim;
	if (!n->up)
		return;
	n->up = false;
	n->epoch++; /* pending timers of the old epoch are discarded when reached */
	sim_cpu_reset(n);
	for (struct sim_sock *k = s->socks; k; k = k->next)
		if (k->node == n)
			sim_sock_unbind(s, k);
	for (struct sim_lsn *l = s->lsns; l; l = l->next)
		if (l->node == n)
			sim_lsn_unbind(s, l);
	sim_node_drop_streams(s, n);
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
static void ev_discard(struct sim *s, struct sim_ev *ev)
{
	/* Only deliveries own buffers. */
	if (ev->kind == EV_DGRAM)
		sim_buf_put(s, ev->u.d.buf);
	else if (ev->kind == EV_STREAM && ev->u.s.buf != NULL)
		sim_buf_put(s, ev->u.s.buf);
	sim_ev_release(s, ev);
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
	uint64_t late = n->timer_late_ns + sim_node_stall_ns(n);
	delay_ns = delay_ns > UINT64_MAX - late ? UINT64_MAX : delay_ns + late;
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

/* The node's unpredictable bytes: predictable from its seed only. */
static void env_random(void *ctx, void *buf, size_t len)
{
	struct sim_node *n = ctx;
	uint8_t *p = buf;
	while (len > 0) {
		uint64_t v = sy_rng_next(&n->rnd);
		size_t k = len < sizeof(v) ? len : sizeof(v);
		memcpy(p, &v, k);
		p += k;
		len -= k;
	}
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
    .dgram_open = sim_dgram_open,
    .dgram_send = sim_dgram_send,
    .dgram_close = sim_dgram_close,
    .dgram_local = sim_dgram_local,
    .stream_listen = sim_stream_listen,
    .listener_close = sim_listener_close,
    .stream_connect = sim_stream_connect,
    .stream_write = sim_stream_write,
    .stream_set_arg = sim_stream_set_arg,
    .stream_queued = sim_stream_queued,
    .stream_close = sim_stream_close,
    .stream_peer = sim_stream_peer,
    .stream_local = sim_stream_local,
    .seed = env_seed,
    .random = env_random,
    .log = env_log,
    .event = env_event,
    .file_open = sim_file_open,
    .file_read = sim_file_read,
    .file_write = sim_file_write,
    .file_sync = sim_file_sync,
    .file_sync_start = sim_file_sync_start,
    .file_sync_wait = sim_file_sync_wait,
    .file_size = sim_file_size,
    .file_truncate = sim_file_truncate,
    .file_close = sim_file_close,
    .file_lock = sim_file_lock,
    .file_unlink = sim_file_unlink,
    .file_exists = sim_file_exists,
    .dir_make = sim_dir_make,
};
