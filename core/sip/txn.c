/* txn.c: the RFC 3261 section 17 transaction state machines (ICT, NICT, IST,
 * NIST) over UDP plus the RFC 6026 Accepted state. Transactions live in a
 * pool grown in slabs up to txn_max (core/pool.h), are found through a
 * chained hash table keyed on the Via branch, and each owns at most one env
 * timer set to its next deadline. */
#include "core/sip/osip_pool.h"
#include "core/sip/txn_int.h"

#include <stdio.h>
#include <stdlib.h>

/* ---- pool and hash table ---- */

static uint64_t hash_str(const struct sip_stack *s, struct sy_str v)
{
	return sy_hash64(v.p, v.len, s->hash_seed);
}

/* RFC 3261 17.2.3: the branch identifies the transaction when it carries
 * the magic cookie; else (RFC 2543 peers) Call-ID, CSeq number and From tag
 * do, which ACK and CANCEL of the same INVITE share. */
uint64_t sip_txn__key(const struct sip_stack *s, const struct sip_msg *m)
{
	if (m->branch.len > 7 && memcmp(m->branch.p, MAGIC_COOKIE, 7) == 0)
		return hash_str(s, m->branch);
	uint64_t h = hash_str(s, m->call_id) ^ (m->cseq * 0x9e3779b97f4a7c15ull);
	return h ^ (hash_str(s, m->from_tag) * 31u) ^ 0x2543u;
}

uint64_t sip_txn__sent_by_hash(const struct sip_stack *s, const struct sip_msg *m)
{
	uint64_t h = hash_str(s, m->via_host);
	return m->via_port.p != NULL ? h ^ (hash_str(s, m->via_port) * 7u) : h;
}

static struct sip_txn *txn_at(const struct sip_stack *s, uint32_t i1)
{
	return sy_pool_at(&s->pool, i1 - 1);
}

static uint32_t *bucket_of(struct sip_stack *s, uint64_t key)
{
	return &s->buckets[key & s->mask];
}

void sip_txn__hash_insert(struct sip_stack *s, struct sip_txn *t)
{
	uint32_t *b = bucket_of(s, t->key);
	t->hnext = *b;
	*b = t->self;
}

static void hash_remove(struct sip_stack *s, struct sip_txn *t)
{
	uint32_t *link = bucket_of(s, t->key);
	while (*link != 0 && *link != t->self)
		link = &txn_at(s, *link)->hnext;
	SY_ASSERT(*link == t->self);
	*link = t->hnext;
	t->hnext = 0;
}

bool sip_txn__is_server(const struct sip_txn *t)
{
	return t->kind == SIP_TXN_IST || t->kind == SIP_TXN_NIST;
}

/* server: sent_by must match; client: pass server=false and sent_by 0. */
struct sip_txn *sip_txn__hash_find(struct sip_stack *s, uint64_t key, bool server, uint64_t sent_by,
				   enum sip_method method)
{
	for (uint32_t i = *bucket_of(s, key); i != 0; i = txn_at(s, i)->hnext) {
		struct sip_txn *t = txn_at(s, i);
		if (t->key == key && sip_txn__is_server(t) == server && t->method == method &&
		    (!server || t->sent_by == sent_by) && t->state != SIP_TS_TERMINATED)
			return t;
	}
	return NULL;
}

/* Room for one more transaction of class cls under both limits: new work
 * stops at admit_pct, work inside a dialog may go up to the limit. */
static bool txn_room(const struct sip_stack *s, enum txn_class cls)
{
	uint64_t pct = cls == TXN_NEW ? s->cfg.limits.admit_pct : 100;
	return s->stats.txn_active * 100 < pct * s->txn_cap && s->stats.mem_bytes * 100 < pct * s->cfg.limits.mem_max;
}

static void mem_update(struct sip_stack *s)
{
	s->stats.mem_bytes = s->pool.slab_bytes + s->held_bytes;
	s->stats.mem_peak = SY_MAX(s->stats.mem_peak, s->stats.mem_bytes);
}

/* Bytes a transaction keeps (raw, buf), as osip's pool holds them: the
 * block's size class and its 16-byte header (held_of). */
void sip_txn__held(struct sip_stack *s, int64_t delta)
{
	SY_ASSERT(delta >= 0 || s->held_bytes >= (uint64_t)-delta);
	s->held_bytes = (uint64_t)((int64_t)s->held_bytes + delta);
	mem_update(s);
}

int64_t sip_txn__held_of(const char *p, uint32_t len)
{
	if (p == NULL)
		return 0;
	uint64_t c = 16; /* osip_pool.c's size classes: powers of two, 16 B .. 4 KB */
	while (c < (uint64_t)len + 1 && c <= 4096)
		c <<= 1;
	return (int64_t)(c <= 4096 ? c : (uint64_t)len + 1) + 16;
}

size_t sip_txn_slot_bytes(void)
{
	return sizeof(struct sip_txn);
}

struct sip_txn *sip_txn__alloc(struct sip_stack *s, enum txn_class cls)
{
	struct sip_txn *t;
	uint32_t idx;
	if (!txn_room(s, cls))
		return NULL;
	if (s->free_head != 0) {
		t = txn_at(s, s->free_head);
		s->free_head = t->hnext;
		idx = t->self - 1;
	} else if ((t = sy_pool_grow(&s->pool, &idx)) == NULL) {
		return NULL;
	}
	memset(t, 0, sizeof(*t));
	t->self = idx + 1;
	t->stack = s;
	t->retx_at_ns = t->end_at_ns = NEVER;
	s->stats.txn_active++;
	s->stats.txn_peak = SY_MAX(s->stats.txn_peak, s->stats.txn_active);
	mem_update(s);
	return t;
}

/* The transaction has its final response: from now on it only absorbs
 * retransmissions, holding its key and at most that response's bytes. */
void sip_txn__linger(struct sip_txn *t)
{
	if (t->flags & (F_LINGER | F_STATELESS))
		return;
	t->flags |= F_LINGER;
	t->stack->stats.txn_lingering++;
}

static void endq_remove(struct sip_txn *t);

static void txn_release(struct sip_stack *s, struct sip_txn *t, bool hashed)
{
	if (hashed)
		hash_remove(s, t);
	if (t->endq != 0)
		endq_remove(t);
	else
		sy_env_timer_cancel(s->env, t->timer);
	if (t->req != NULL)
		osip_message_free(t->req);
	sip_txn__held(s, -sip_txn__held_of(t->raw, t->raw_len) - sip_txn__held_of(t->buf, t->buf_len));
	if (t->raw != NULL)
		osip_free(t->raw);
	if (t->buf != NULL)
		osip_free(t->buf);
	if (t->flags & F_LINGER)
		s->stats.txn_lingering--;
	uint32_t self = t->self;
	memset(t, 0, sizeof(*t));
	t->self = self;
	t->state = SIP_TS_TERMINATED;
	t->hnext = s->free_head;
	s->free_head = self;
	s->stats.txn_active--;
}

/* ---- sending and timers ---- */

uint64_t sip_txn__now_ns(const struct sip_stack *s)
{
	return sy_env_now_ns(s->env);
}

void sip_txn__send_bytes(struct sip_stack *s, const struct sy_addr *to, const char *buf, size_t len)
{
	if (sy_env_dgram_send(s->env, s->cfg.sock, to, buf, len) != SY_OK)
		s->stats.tx_errors++;
	s->stats.tx_msgs++;
}

/* Serializes and frees m; sends the bytes and hands them back to keep. */
enum sy_rc sip_txn__send_msg(struct sip_stack *s, osip_message_t *m, const struct sy_addr *to, char **keep,
			     uint32_t *keep_len)
{
	char *buf;
	size_t len;
	enum sy_rc rc = sip_msg_to_buf(m, &buf, &len);
	osip_message_free(m);
	if (rc != SY_OK)
		return rc;
	sip_txn__send_bytes(s, to, buf, len);
	if (keep != NULL) {
		*keep = buf;
		*keep_len = (uint32_t)len;
	} else {
		osip_free(buf);
	}
	return SY_OK;
}

void sip_txn__keep(struct sip_txn *t, char *buf, uint32_t len)
{
	if (!(t->flags & F_STATELESS))
		sip_txn__held(t->stack, sip_txn__held_of(buf, len) - sip_txn__held_of(t->buf, t->buf_len));
	if (t->buf != NULL)
		osip_free(t->buf);
	t->buf = buf;
	t->buf_len = buf != NULL ? len : 0;
}

static void txn_timer_fire(void *arg);
static void endq_fire(void *arg);
void sip_txn__server_sent(struct sip_txn *st, int code, char *buf, uint32_t len);

static void endq_remove(struct sip_txn *t)
{
	struct sip_stack *s = t->stack;
	struct txn_endq *q = &s->endq[t->endq - 1];
	if (t->endq_prev != 0)
		txn_at(s, t->endq_prev)->endq_next = t->endq_next;
	else
		q->head = t->endq_next;
	if (t->endq_next != 0)
		txn_at(s, t->endq_next)->endq_prev = t->endq_prev;
	else
		q->tail = t->endq_prev;
	t->endq = 0;
	t->endq_prev = t->endq_next = 0;
	if (q->head == 0) { /* else a timer set for an earlier head finds nothing due and re-arms */
		sy_env_timer_cancel(s->env, q->timer);
		q->timer = 0;
	}
}

static void endq_arm(struct txn_endq *q, uint64_t now)
{
	struct sip_stack *s = q->stack;
	uint64_t at = txn_at(s, q->head)->end_at_ns;
	q->timer = sy_env_timer_start(s->env, at > now ? at - now : 0, endq_fire, q);
}

/* Queues t for its end if that keeps the queue in order; false: it
 * needs an env timer of its own. */
static bool endq_add(struct sip_txn *t, uint64_t now)
{
	struct sip_stack *s = t->stack;
	if (t->end_at_ns <= now)
		return false;
	uint64_t wait = t->end_at_ns - now;
	struct txn_endq *q = NULL, *idle = NULL;
	for (int i = 0; i < ENDQ_N && q == NULL; i++) {
		if (s->endq[i].wait_ns == wait)
			q = &s->endq[i];
		else if (idle == NULL && s->endq[i].head == 0)
			idle = &s->endq[i];
	}
	if (q == NULL && idle == NULL)
		return false;
	if (q == NULL) { /* an empty queue takes this length of wait */
		q = idle;
		q->wait_ns = wait;
	}
	SY_ASSERT(q->tail == 0 || txn_at(s, q->tail)->end_at_ns <= t->end_at_ns);
	t->endq = (uint8_t)(q - s->endq + 1);
	t->endq_prev = q->tail;
	t->endq_next = 0;
	if (q->tail != 0)
		txn_at(s, q->tail)->endq_next = t->self;
	else
		q->head = t->self;
	q->tail = t->self;
	t->timer_at_ns = t->end_at_ns;
	if (q->timer == 0)
		endq_arm(q, now);
	return true;
}

/* One env timer per transaction, at its earliest deadline. A timer that is
 * already due earlier is left alone: it fires, finds nothing due, re-arms.
 * That makes stopping a timer free, which happens on every 1xx. */
void sip_txn__arm(struct sip_txn *t)
{
	struct sip_stack *s = t->stack;
	uint64_t want = SY_MIN(t->retx_at_ns, t->end_at_ns);
	SY_ASSERT(!(t->flags & F_STATELESS));
	if (t->endq != 0) {
		if (t->retx_at_ns == NEVER && t->timer_at_ns == t->end_at_ns)
			return; /* queued for this very end */
		endq_remove(t);
	}
	if (want == NEVER) {
		sy_env_timer_cancel(s->env, t->timer);
		t->timer = 0;
		return;
	}
	uint64_t now = sip_txn__now_ns(s);
	if (t->retx_at_ns == NEVER) { /* the timer and the queue links share their bytes */
		sy_env_timer_cancel(s->env, t->timer);
		t->timer = 0;
		if (endq_add(t, now))
			return;
	}
	if (t->timer != 0 && t->timer_at_ns <= want)
		return;
	sy_env_timer_cancel(s->env, t->timer);
	t->timer = sy_env_timer_start(s->env, want > now ? want - now : 0, txn_timer_fire, t);
	t->timer_at_ns = SY_MAX(want, now); /* when it should fire: its lateness is the loop's lag */
}

void sip_txn__free_req(struct sip_txn *t)
{
	if (t->flags & F_IN_CB) {
		t->flags |= F_DROP_REQ;
		return;
	}
	if (t->req != NULL && !(t->flags & F_STATELESS))
		osip_message_free(t->req);
	t->req = NULL;
	if (!(t->flags & F_STATELESS))
		sip_txn__held(t->stack, -sip_txn__held_of(t->raw, t->raw_len));
	if (t->raw != NULL)
		osip_free(t->raw);
	t->raw = NULL;
	t->raw_len = 0;
}

/* Timer B, F, H and an un-ACKed L mean the peer is gone: the TU hears
 * on_timeout. D, I, J, K, M and an ACKed L only end absorbing. */
static bool end_is_timeout(const struct sip_txn *t)
{
	switch (t->state) {
	case SIP_TS_CALLING:
	case SIP_TS_TRYING:
	case SIP_TS_PROCEEDING:
		return true;
	case SIP_TS_COMPLETED:
		return t->kind == SIP_TXN_IST;
	case SIP_TS_ACCEPTED:
		return t->kind == SIP_TXN_IST && !(t->flags & F_ACKED);
	default:
		return false;
	}
}

static void txn_terminate(struct sip_txn *t)
{
	struct sip_stack *s = t->stack;
	bool timeout = end_is_timeout(t), tell = !(t->flags & F_INTERNAL);
	t->state = SIP_TS_TERMINATED;
	t->retx_at_ns = t->end_at_ns = NEVER;
	if (timeout)
		s->stats.timeouts++;
	if (timeout && tell && s->cfg.tu->on_timeout != NULL)
		s->cfg.tu->on_timeout(s->cfg.tu_arg, t);
	if (tell && s->cfg.tu->on_terminated != NULL)
		s->cfg.tu->on_terminated(s->cfg.tu_arg, t);
	txn_release(s, t, true);
}

static uint64_t next_interval(const struct sip_txn *t)
{
	const struct sip_timer_cfg *c = &t->stack->cfg.timers;
	if (t->kind == SIP_TXN_ICT) /* Timer A doubles without a cap */
		return t->retx_ival_ns * 2;
	if (t->kind == SIP_TXN_NICT && t->state == SIP_TS_PROCEEDING)
		return c->t2_ns;		      /* 17.1.2.2: E is T2 once a 1xx came */
	return SY_MIN(t->retx_ival_ns * 2, c->t2_ns); /* E, G, 2xx */
}

/* The event loop's lag, as the lateness of transaction timers: under load
 * they fire all the time, and a loop busy with datagrams runs them late.
 * The recent lag is the latest timer of the current 1 s window and the one
 * before; with no timer for 2 s there is no load and no lag. */
uint64_t sip_txn__lag_recent(const struct sip_stack *s, uint64_t now)
{
	uint64_t age = now - s->lag_win_ns;
	if (age < SY_NS_PER_S)
		return SY_MAX(s->lag_cur_ns, s->lag_prev_ns);
	return age < 2 * SY_NS_PER_S ? s->lag_cur_ns : 0;
}

static void lag_sample(struct sip_stack *s, uint64_t now, uint64_t late_ns)
{
	sy_hist_add(&s->stats.lag, late_ns);
	if (now - s->lag_win_ns >= SY_NS_PER_S) {
		s->lag_prev_ns = now - s->lag_win_ns < 2 * SY_NS_PER_S ? s->lag_cur_ns : 0;
		s->lag_cur_ns = 0;
		s->lag_win_ns = now;
	}
	s->lag_cur_ns = SY_MAX(s->lag_cur_ns, late_ns);
	s->stats.lag_ns = sip_txn__lag_recent(s, now);
}

/* The queue's head ends: every transaction due now ends, in queue order. */
static void endq_fire(void *arg)
{
	struct txn_endq *q = arg;
	struct sip_stack *s = q->stack;
	uint64_t now = sip_txn__now_ns(s);
	q->timer = 0;
	while (q->head != 0) {
		struct sip_txn *t = txn_at(s, q->head);
		if (t->end_at_ns > now)
			break;
		endq_remove(t);
		lag_sample(s, now, now - t->end_at_ns);
		txn_terminate(t);
	}
	if (q->head != 0 && q->timer == 0)
		endq_arm(q, now);
}

static void txn_timer_fire(void *arg)
{
	struct sip_txn *t = arg;
	struct sip_stack *s = t->stack;
	uint64_t now = sip_txn__now_ns(s);
	lag_sample(s, now, now > t->timer_at_ns ? now - t->timer_at_ns : 0);
	t->timer = 0;
	if (now >= t->end_at_ns) {
		txn_terminate(t);
		return;
	}
	if (now >= t->retx_at_ns && t->buf != NULL) {
		sip_txn__send_bytes(s, &t->peer, t->buf, t->buf_len);
		s->stats.retransmits_sent++;
		t->retx_ival_ns = next_interval(t);
		t->retx_at_ns = now + t->retx_ival_ns;
	}
	sip_txn__arm(t);
}

/* ---- stack ---- */

static uint32_t pow2_at_least(uint32_t n)
{
	uint32_t p = 16;
	while (p < n && p < (1u << 30))
		p <<= 1;
	return p;
}

/* Defaults, and the slot count: txn_max, else as many slots as mem_max
 * would hold with no message kept. */
static void stack_limits(struct sip_stack *s)
{
	struct sip_limits *c = &s->cfg.limits;
	if (c->mem_max == 0)
		c->mem_max = SIP_TXN_MEM_DEFAULT;
	if (c->admit_pct == 0)
		c->admit_pct = SIP_ADMIT_PCT_DEFAULT;
	if (c->lag_max_ns == 0)
		c->lag_max_ns = SIP_LAG_MAX_DEFAULT;
	if (c->retry_after_s == 0)
		c->retry_after_s = SIP_RETRY_AFTER_DEFAULT;
	uint32_t txn_max = s->cfg.txn_max;
	uint64_t n = txn_max != 0 ? txn_max : c->mem_max / sizeof(struct sip_txn);
	s->txn_cap = (uint32_t)SY_MAX(1, SY_MIN(n, (1u << 28) - 1));
	s->stats.mem_limit = c->mem_max;
	s->stats.txn_cap = s->txn_cap;
	if (c->osip_max != 0) /* [node] osip_memory; the pool is the process's */
		sip_osip_pool_configure(c->osip_max, SY_MIN(SIP_OSIP_POOL_KEEP_DEFAULT, c->osip_max / 8));
}

enum sy_rc sip_stack_create(const struct sip_stack_cfg *cfg, struct sip_stack **out)
{
	SY_ASSERT(cfg != NULL && cfg->env != NULL && cfg->tu != NULL && out != NULL);
	SY_ASSERT(cfg->txn_max < (1u << 28) && cfg->limits.admit_pct <= 100);
	struct sip_stack *s = calloc(1, sizeof(*s));
	if (s == NULL)
		return SY_ERR_NOMEM;
	s->cfg = *cfg;
	s->env = cfg->env;
	if (s->cfg.timers.t1_ns == 0)
		s->cfg.timers.t1_ns = 500 * SY_NS_PER_MS;
	if (s->cfg.timers.t2_ns == 0)
		s->cfg.timers.t2_ns = 4 * SY_NS_PER_S;
	if (s->cfg.timers.t4_ns == 0)
		s->cfg.timers.t4_ns = 5 * SY_NS_PER_S;
	stack_limits(s);
	for (int i = 0; i < ENDQ_N; i++)
		s->endq[i].stack = s;
	/* One bucket per slot: calloc'd pages are touched only as they fill. */
	uint32_t nb = pow2_at_least(s->txn_cap);
	s->mask = nb - 1;
	s->buckets = calloc(nb, sizeof(*s->buckets));
	sy_hist_init(&s->stats.lag);
	if (sy_pool_init(&s->pool, sizeof(struct sip_txn), s->txn_cap) != SY_OK || s->buckets == NULL) {
		sip_stack_destroy(s);
		return SY_ERR_NOMEM;
	}
	/* Branches and Call-IDs are chosen by strangers: an unguessable seed
	 * keeps them from piling into one bucket (sim: the seed's stream). */
	s->hash_seed = sy_env_random_u64(s->env);
	struct sip_wbuf w;
	sip_w_init(&w, s->sent_by, sizeof(s->sent_by));
	sip_w_addr(&w, &s->cfg.local);
	s->sent_by_len = w.len;
	sip_global_init();
	*out = s;
	return SY_OK;
}

void sip_stack_destroy(struct sip_stack *s)
{
	if (s == NULL)
		return;
	for (uint32_t i = 0; i < sy_pool_used(&s->pool); i++) {
		struct sip_txn *t = sy_pool_at(&s->pool, i);
		if (t->stack != NULL)
			txn_release(s, t, true);
	}
	for (int i = 0; i < ENDQ_N; i++)
		sy_env_timer_cancel(s->env, s->endq[i].timer);
	sy_pool_free(&s->pool);
	free(s->buckets);
	free(s);
}

const struct sip_stack_stats *sip_stack_stats(const struct sip_stack *s)
{
	return &s->stats;
}

const struct sy_addr *sip_stack_local(const struct sip_stack *s)
{
	return &s->cfg.local;
}

enum sy_rc sip_stack_send(struct sip_stack *s, osip_message_t *msg, const struct sy_addr *to)
{
	SY_ASSERT(s != NULL && msg != NULL && to != NULL);
	return sip_txn__send_msg(s, msg, to, NULL, NULL);
}

/* Builds a response from the raw request of a server transaction (or of a
 * datagram being received) and returns it in a fresh osip_malloc block. */
char *sip_txn__reply_bytes(struct sy_str req, const struct sip_reply *r, uint32_t *len)
{
	char stack_buf[4096];
	struct sip_wbuf w;
	size_t cap = req.len + r->contact.len + r->extra.len + r->content_type.len + r->body.len + 512;
	char *heap = NULL;
	/* Copied headers grow by their full names (v: -> Via: ) at most 4x. */
	if (cap > sizeof(stack_buf) && (heap = malloc(cap * 4)) == NULL)
		return NULL;
	sip_w_init(&w, heap != NULL ? heap : stack_buf, heap != NULL ? cap * 4 : sizeof(stack_buf));
	sip_raw_response(&w, req, r);
	char *out = w.len <= SIP_MSG_LEN_MAX ? sip_w_dup(&w) : NULL;
	free(heap);
	*len = (uint32_t)w.len;
	return out;
}

/* A To tag for a response the stack makes itself: 64 random bits (an
 * off-path attacker must not guess the dialog it names). */
void sip_txn__tag(struct sip_stack *s, const char *prefix, struct sip_wbuf *w, char *buf, size_t n)
{
	SY_ASSERT(n >= 20);
	sip_w_init(w, buf, n);
	sip_w_cstr(w, prefix);
	sip_w_hex64(w, sy_env_random_u64(s->env));
}

/* A response with no transaction, from the datagram's own bytes. */
enum sy_rc sip_txn__respond_stateless(struct sip_stack *s, const struct sip_msg *req, const struct sy_addr *from,
				      const struct sip_reply *rin)
{
	char tag[24];
	struct sy_addr to;
	if (req->raw.p == NULL || rin->status < 100 || rin->status > 699)
		return SY_ERR_INVAL;
	struct sip_wbuf tw;
	sip_txn__tag(s, "sl", &tw, tag, sizeof(tag));
	char *fixed = malloc(req->raw.len + SY_ADDR_STRLEN + 32);
	if (fixed == NULL)
		return SY_ERR_NOMEM;
	size_t flen = sip_raw_fix_via(req->raw, from, fixed, req->raw.len + SY_ADDR_STRLEN + 32);
	struct sip_reply r = *rin;
	if (r.status > 100)
		r.to_tag = (struct sy_str){tag, tw.len};
	uint32_t len = 0;
	char *buf = flen > 0 ? sip_txn__reply_bytes((struct sy_str){fixed, flen}, &r, &len) : NULL;
	free(fixed);
	if (buf == NULL)
		return SY_ERR_INVAL;
	sip_response_dest(req->m, from, &to);
	sip_txn__send_bytes(s, &to, buf, len);
	osip_free(buf);
	return SY_OK;
}

enum sy_rc sip_stack_respond_stateless(struct sip_stack *s, const struct sip_msg *req, const struct sy_addr *from,
				       int status, const char *reason)
{
	SY_ASSERT(s != NULL && req != NULL && req->m != NULL && from != NULL);
	struct sip_reply r = {.status = status, .reason = reason};
	return sip_txn__respond_stateless(s, req, from, &r);
}

/* ---- overload ---- */

enum sip_overload sip_stack_overload(const struct sip_stack *s)
{
	if (!txn_room(s, TXN_NEW))
		return SIP_OVL_TXN;
	if (sip_txn__lag_recent(s, sip_txn__now_ns(s)) > s->cfg.limits.lag_max_ns)
		return SIP_OVL_LAG;
	struct sip_osip_pool_stats op;
	sip_osip_pool_stats(&op);
	if (op.limit_bytes > 0 && (uint64_t)op.used_bytes * 100 >= (uint64_t)s->cfg.limits.admit_pct * op.limit_bytes)
		return SIP_OVL_MEMORY;
	return SIP_OVL_NONE;
}

uint32_t sip_stack_admit_pct(const struct sip_stack *s)
{
	return s->cfg.limits.admit_pct;
}

/* "Retry-After: N\r\n" into buf (RFC 3261 21.5.4 asks for it with 503). */
size_t sip_txn__retry_after(const struct sip_stack *s, char *buf, size_t n)
{
	struct sip_wbuf w;
	sip_w_init(&w, buf, n);
	sip_w_lit(&w, "Retry-After: ");
	sip_w_u64(&w, s->cfg.limits.retry_after_s);
	sip_w_lit(&w, "\r\n");
	return w.len;
}

enum sy_rc sip_txn_reject(struct sip_txn *st, enum sip_overload why)
{
	SY_ASSERT(st != NULL && why > SIP_OVL_NONE && why < SIP_OVL_N);
	struct sip_stack *s = st->stack;
	char tag[24], ra[40];
	struct sip_wbuf tw;
	sip_txn__tag(s, "ov", &tw, tag, sizeof(tag));
	struct sip_reply r = {.status = 503, .to_tag = {tag, tw.len}};
	r.extra = (struct sy_str){ra, sip_txn__retry_after(s, ra, sizeof(ra))};
	s->stats.rejected[why]++;
	return sip_txn_reply(st, &r);
}

/* ---- accessors ---- */

void *sip_txn_user(const struct sip_txn *t)
{
	return t->user;
}

void sip_txn_set_user(struct sip_txn *t, void *user)
{
	t->user = user;
}

enum sip_txn_kind sip_txn_kind(const struct sip_txn *t)
{
	return (enum sip_txn_kind)t->kind;
}

enum sip_txn_state sip_txn_state(const struct sip_txn *t)
{
	return (enum sip_txn_state)t->state;
}

struct sip_txn *sip_txn_cancel_target(const struct sip_txn *cancel_st)
{
	SY_ASSERT(cancel_st != NULL);
	if (cancel_st->kind != SIP_TXN_NIST || cancel_st->method != SIP_M_CANCEL)
		return NULL;
	/* 9.2: the INVITE with the CANCEL's branch and sent-by. */
	return sip_txn__hash_find(cancel_st->stack, cancel_st->key, true, cancel_st->sent_by, SIP_M_INVITE);
}

const osip_message_t *sip_txn_request(const struct sip_txn *t)
{
	return t->req;
}

struct sy_str sip_txn_request_raw(const struct sip_txn *t)
{
	return t->raw != NULL ? (struct sy_str){t->raw, t->raw_len} : SY_STR_NULL;
}

const struct sy_addr *sip_txn_peer(const struct sip_txn *t)
{
	return &t->peer;
}
