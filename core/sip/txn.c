/* txn.c: the RFC 3261 section 17 transaction state machines (ICT, NICT, IST,
 * NIST) over UDP plus the RFC 6026 Accepted state. Transactions live in a
 * pool grown in slabs up to txn_max (core/pool.h), are found through a
 * chained hash table keyed on the Via branch, and each owns at most one env
 * timer set to its next deadline. */
#include "core/sip/txn.h"
#include "core/pool.h"

#include <stdio.h>
#include <stdlib.h>

#define NEVER	     UINT64_MAX
#define MAGIC_COOKIE "z9hG4bK"

enum {
	F_INTERNAL = 1 << 0,	   /* a CANCEL the stack sent: no TU callbacks */
	F_CANCEL_PENDING = 1 << 1, /* ICT: send CANCEL on the first 1xx */
	F_CANCEL_SENT = 1 << 2,
	F_ACKED = 1 << 3, /* IST Accepted: the TU saw the 2xx's ACK */
	F_IN_CB = 1 << 4, /* inside on_request: defer freeing req */
	F_DROP_REQ = 1 << 5,
};

/* Kept small: at 10K calls/s a NIST sits 32 s in Completed, so this struct
 * and the last response's bytes are all a finished transaction holds. */
struct sip_txn {
	struct sip_stack *stack;
	uint32_t hnext; /* next index + 1 in the bucket chain or free list */
	uint32_t self;	/* own index + 1 in the pool */
	uint8_t kind, state, method, flags;
	uint64_t key;	     /* hash of the branch (or RFC 2543 identity) */
	uint64_t sent_by;    /* server: hash of the top Via sent-by */
	osip_message_t *req; /* see sip_txn_request() in txn.h */
	char *raw;	     /* server: the request's bytes (Via fixed), as long as req */
	char *buf;	     /* bytes to retransmit: request, ACK or last response */
	uint32_t buf_len, raw_len;
	uint64_t retx_at_ns, retx_ival_ns, end_at_ns, timer_at_ns;
	sy_timer_id timer;
	struct sy_addr peer;
	void *user;
};

struct sip_stack {
	struct sip_stack_cfg cfg;
	const struct sy_env *env;
	struct sy_pool pool;
	uint32_t *buckets; /* index + 1 of the chain head, 0 = empty */
	uint32_t mask;
	uint32_t free_head; /* index + 1 of a recycled txn; 0: grow the pool */
	uint64_t hash_seed;
	uint64_t tag_seq;
	char sent_by[SY_ADDR_STRLEN]; /* our Via sent-by, "host:port" */
	size_t sent_by_len;
	struct sip_stack_stats stats;
};

_Static_assert(sizeof(struct sip_txn) <= 160, "keep transactions small");

/* ---- pool and hash table ---- */

static uint64_t hash_str(const struct sip_stack *s, struct sy_str v)
{
	return sy_hash64(v.p, v.len, s->hash_seed);
}

/* RFC 3261 17.2.3: the branch identifies the transaction when it carries
 * the magic cookie; else (RFC 2543 peers) Call-ID, CSeq number and From tag
 * do, which ACK and CANCEL of the same INVITE share. */
static uint64_t txn_key(const struct sip_stack *s, const struct sip_msg *m)
{
	if (m->branch.len > 7 && memcmp(m->branch.p, MAGIC_COOKIE, 7) == 0)
		return hash_str(s, m->branch);
	uint64_t h = hash_str(s, m->call_id) ^ (m->cseq * 0x9e3779b97f4a7c15ull);
	return h ^ (hash_str(s, m->from_tag) * 31u) ^ 0x2543u;
}

static uint64_t sent_by_hash(const struct sip_stack *s, const osip_message_t *m)
{
	osip_via_t *via = osip_list_get(&m->vias, 0);
	uint64_t h = hash_str(s, sy_str_from(via->host));
	return via->port != NULL ? h ^ (hash_str(s, sy_str_from(via->port)) * 7u) : h;
}

static struct sip_txn *txn_at(const struct sip_stack *s, uint32_t i1)
{
	return sy_pool_at(&s->pool, i1 - 1);
}

static uint32_t *bucket_of(struct sip_stack *s, uint64_t key)
{
	return &s->buckets[key & s->mask];
}

static void hash_insert(struct sip_stack *s, struct sip_txn *t)
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

static bool is_server(const struct sip_txn *t)
{
	return t->kind == SIP_TXN_IST || t->kind == SIP_TXN_NIST;
}

/* server: sent_by must match; client: pass server=false and sent_by 0. */
static struct sip_txn *hash_find(struct sip_stack *s, uint64_t key, bool server, uint64_t sent_by,
				 enum sip_method method)
{
	for (uint32_t i = *bucket_of(s, key); i != 0; i = txn_at(s, i)->hnext) {
		struct sip_txn *t = txn_at(s, i);
		if (t->key == key && is_server(t) == server && t->method == method &&
		    (!server || t->sent_by == sent_by) && t->state != SIP_TS_TERMINATED)
			return t;
	}
	return NULL;
}

static struct sip_txn *txn_alloc(struct sip_stack *s)
{
	struct sip_txn *t;
	uint32_t idx;
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
	return t;
}

static void txn_release(struct sip_stack *s, struct sip_txn *t, bool hashed)
{
	if (hashed)
		hash_remove(s, t);
	sy_env_timer_cancel(s->env, t->timer);
	if (t->req != NULL)
		osip_message_free(t->req);
	if (t->raw != NULL)
		osip_free(t->raw);
	if (t->buf != NULL)
		osip_free(t->buf);
	uint32_t self = t->self;
	memset(t, 0, sizeof(*t));
	t->self = self;
	t->state = SIP_TS_TERMINATED;
	t->hnext = s->free_head;
	s->free_head = self;
	s->stats.txn_active--;
}

/* ---- sending and timers ---- */

static uint64_t now_ns(const struct sip_stack *s)
{
	return sy_env_now_ns(s->env);
}

static void send_bytes(struct sip_stack *s, const struct sy_addr *to, const char *buf, size_t len)
{
	if (sy_env_dgram_send(s->env, s->cfg.sock, to, buf, len) != SY_OK)
		s->stats.tx_errors++;
	s->stats.tx_msgs++;
}

/* Serializes and frees m; sends the bytes and hands them back to keep. */
static enum sy_rc send_msg(struct sip_stack *s, osip_message_t *m, const struct sy_addr *to, char **keep,
			   uint32_t *keep_len)
{
	char *buf;
	size_t len;
	enum sy_rc rc = sip_msg_to_buf(m, &buf, &len);
	osip_message_free(m);
	if (rc != SY_OK)
		return rc;
	send_bytes(s, to, buf, len);
	if (keep != NULL) {
		*keep = buf;
		*keep_len = (uint32_t)len;
	} else {
		osip_free(buf);
	}
	return SY_OK;
}

static void txn_keep(struct sip_txn *t, char *buf, uint32_t len)
{
	if (t->buf != NULL)
		osip_free(t->buf);
	t->buf = buf;
	t->buf_len = len;
}

static void txn_timer_fire(void *arg);
static void server_sent(struct sip_txn *st, int code, char *buf, uint32_t len);

/* One env timer per transaction, at its earliest deadline. A timer that is
 * already due earlier is left alone: it fires, finds nothing due, re-arms.
 * That makes stopping a timer free, which happens on every 1xx. */
static void txn_arm(struct sip_txn *t)
{
	struct sip_stack *s = t->stack;
	uint64_t want = SY_MIN(t->retx_at_ns, t->end_at_ns);
	if (want == NEVER) {
		sy_env_timer_cancel(s->env, t->timer);
		t->timer = 0;
		return;
	}
	if (t->timer != 0 && t->timer_at_ns <= want)
		return;
	sy_env_timer_cancel(s->env, t->timer);
	uint64_t now = now_ns(s);
	t->timer = sy_env_timer_start(s->env, want > now ? want - now : 0, txn_timer_fire, t);
	t->timer_at_ns = want;
}

static void txn_free_req(struct sip_txn *t)
{
	if (t->flags & F_IN_CB) {
		t->flags |= F_DROP_REQ;
		return;
	}
	if (t->req != NULL)
		osip_message_free(t->req);
	t->req = NULL;
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

static void txn_timer_fire(void *arg)
{
	struct sip_txn *t = arg;
	struct sip_stack *s = t->stack;
	uint64_t now = now_ns(s);
	t->timer = 0;
	if (now >= t->end_at_ns) {
		txn_terminate(t);
		return;
	}
	if (now >= t->retx_at_ns && t->buf != NULL) {
		send_bytes(s, &t->peer, t->buf, t->buf_len);
		s->stats.retransmits_sent++;
		t->retx_ival_ns = next_interval(t);
		t->retx_at_ns = now + t->retx_ival_ns;
	}
	txn_arm(t);
}

/* ---- stack ---- */

static uint32_t pow2_at_least(uint32_t n)
{
	uint32_t p = 16;
	while (p < n && p < (1u << 30))
		p <<= 1;
	return p;
}

enum sy_rc sip_stack_create(const struct sip_stack_cfg *cfg, struct sip_stack **out)
{
	SY_ASSERT(cfg != NULL && cfg->env != NULL && cfg->tu != NULL && out != NULL);
	SY_ASSERT(cfg->txn_max > 0 && cfg->txn_max < (1u << 28));
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
	uint32_t nb = pow2_at_least(cfg->txn_max * 2);
	s->mask = nb - 1;
	s->buckets = calloc(nb, sizeof(*s->buckets));
	if (sy_pool_init(&s->pool, sizeof(struct sip_txn), cfg->txn_max) != SY_OK || s->buckets == NULL) {
		sip_stack_destroy(s);
		return SY_ERR_NOMEM;
	}
	s->hash_seed = sy_env_seed(s->env) ^ 0x5349505458ull;
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
	return send_msg(s, msg, to, NULL, NULL);
}

/* Builds a response from the raw request of a server transaction (or of a
 * datagram being received) and returns it in a fresh osip_malloc block. */
static char *reply_bytes(struct sy_str req, const struct sip_reply *r, uint32_t *len)
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

enum sy_rc sip_stack_respond_stateless(struct sip_stack *s, const struct sip_msg *req, const struct sy_addr *from,
				       int status, const char *reason)
{
	char tag[24];
	struct sy_addr to;
	SY_ASSERT(s != NULL && req != NULL && req->m != NULL && from != NULL);
	if (req->raw.p == NULL || status < 100 || status > 699)
		return SY_ERR_INVAL;
	/* Deterministic and unique per stack: a counter, not a random draw. */
	struct sip_wbuf tw;
	sip_w_init(&tw, tag, sizeof(tag));
	sip_w_lit(&tw, "sl");
	sip_w_hex(&tw, ++s->tag_seq);
	char *fixed = malloc(req->raw.len + SY_ADDR_STRLEN + 32);
	if (fixed == NULL)
		return SY_ERR_NOMEM;
	size_t flen = sip_raw_fix_via(req->raw, from, fixed, req->raw.len + SY_ADDR_STRLEN + 32);
	struct sip_reply r = {.status = status, .reason = reason};
	if (status > 100)
		r.to_tag = (struct sy_str){tag, tw.len};
	uint32_t len = 0;
	char *buf = flen > 0 ? reply_bytes((struct sy_str){fixed, flen}, &r, &len) : NULL;
	free(fixed);
	if (buf == NULL)
		return SY_ERR_INVAL;
	sip_response_dest(req->m, from, &to);
	send_bytes(s, &to, buf, len);
	osip_free(buf);
	return SY_OK;
}

/* ---- client transactions ---- */

/* A client transaction for bytes already built (buf from osip_malloc, owned
 * from here on); req is the parsed form when the TU passed one, else NULL. */
static enum sy_rc client_begin(struct sip_stack *s, const struct sip_msg *m, char *buf, size_t len,
			       osip_message_t *req, const struct sy_addr *to, void *user, uint8_t flags,
			       struct sip_txn **out)
{
	/* Responses are matched by branch alone, so it must be RFC 3261's. */
	if (m->method == SIP_M_ACK || m->branch.len <= 7 || memcmp(m->branch.p, MAGIC_COOKIE, 7) != 0)
		goto out_inval;
	uint64_t key = txn_key(s, m);
	if (hash_find(s, key, false, 0, m->method) != NULL)
		goto out_inval;
	struct sip_txn *t = txn_alloc(s);
	if (t == NULL) {
		s->stats.txn_full++;
		osip_free(buf);
		if (req != NULL)
			osip_message_free(req);
		return SY_ERR_FULL;
	}
	t->buf = buf;
	t->buf_len = (uint32_t)len;
	t->kind = m->method == SIP_M_INVITE ? SIP_TXN_ICT : SIP_TXN_NICT;
	t->state = t->kind == SIP_TXN_ICT ? SIP_TS_CALLING : SIP_TS_TRYING;
	t->method = (uint8_t)m->method;
	t->flags = flags;
	t->key = key;
	t->req = req;
	t->peer = *to;
	t->user = user;
	hash_insert(s, t);
	send_bytes(s, to, t->buf, t->buf_len);
	uint64_t now = now_ns(s), t1 = s->cfg.timers.t1_ns;
	t->retx_ival_ns = t1;
	t->retx_at_ns = now + t1;     /* Timer A / E */
	t->end_at_ns = now + 64 * t1; /* Timer B / F */
	txn_arm(t);
	if (out != NULL)
		*out = t;
	return SY_OK;
out_inval:
	osip_free(buf);
	if (req != NULL)
		osip_message_free(req);
	return SY_ERR_INVAL;
}

static enum sy_rc client_start(struct sip_stack *s, osip_message_t *req, const struct sy_addr *to, void *user,
			       uint8_t flags, struct sip_txn **out)
{
	struct sip_msg m = {.m = req};
	osip_via_t *via = osip_list_get(&req->vias, 0);
	osip_generic_param_t *br = NULL;
	char *buf;
	size_t len;
	if (req->sip_method == NULL || via == NULL || osip_via_param_get_byname(via, "branch", &br) != 0 ||
	    br == NULL || br->gvalue == NULL || req->cseq == NULL || req->call_id == NULL)
		goto out_inval;
	m.method = sip_method_from(sy_str_from(req->sip_method));
	m.branch = sy_str_from(br->gvalue);
	if (sip_msg_to_buf(req, &buf, &len) != SY_OK)
		goto out_inval;
	return client_begin(s, &m, buf, len, req, to, user, flags, out);
out_inval:
	osip_message_free(req);
	return SY_ERR_INVAL;
}

/* Writes a request with our Via and a branch made from branch_id. */
static char *request_bytes(struct sip_stack *s, const struct sip_request *rq, uint64_t branch_id, char *branch,
			   uint32_t *len)
{
	char stack_buf[4096];
	struct sip_wbuf w;
	size_t cap = rq->ruri.len + rq->from.len + rq->to.len + rq->call_id.len + rq->contact.len + rq->extra.len +
		     rq->content_type.len + rq->body.len + 512;
	for (size_t i = 0; i < rq->route_n; i++)
		cap += rq->routes[i].len + 16;
	char *heap = NULL;
	if (cap > sizeof(stack_buf) && (heap = malloc(cap)) == NULL)
		return NULL;
	sip_branch_make(branch, 24, branch_id);
	sip_w_init(&w, heap != NULL ? heap : stack_buf, heap != NULL ? cap : sizeof(stack_buf));
	sip_raw_request(&w, (struct sy_str){s->sent_by, s->sent_by_len}, (struct sy_str){branch, 23}, rq);
	char *out = w.len <= SIP_MSG_LEN_MAX ? sip_w_dup(&w) : NULL;
	free(heap);
	*len = (uint32_t)w.len;
	return out;
}

enum sy_rc sip_txn_client_send(struct sip_stack *s, const struct sip_request *rq, uint64_t branch_id,
			       const struct sy_addr *to, void *user, struct sip_txn **out)
{
	SY_ASSERT(s != NULL && rq != NULL && to != NULL);
	char branch[24];
	uint32_t len;
	if (out != NULL)
		*out = NULL;
	char *buf = request_bytes(s, rq, branch_id, branch, &len);
	if (buf == NULL)
		return SY_ERR_INVAL;
	struct sip_msg m = {
	    .method = sip_method_from(sy_str_from(rq->method)),
	    .branch = {branch, 23},
	};
	return client_begin(s, &m, buf, len, NULL, to, user, 0, out);
}

enum sy_rc sip_stack_send_request(struct sip_stack *s, const struct sip_request *rq, uint64_t branch_id,
				  const struct sy_addr *to)
{
	SY_ASSERT(s != NULL && rq != NULL && to != NULL);
	char branch[24];
	uint32_t len;
	char *buf = request_bytes(s, rq, branch_id, branch, &len);
	if (buf == NULL)
		return SY_ERR_INVAL;
	send_bytes(s, to, buf, len);
	osip_free(buf);
	return SY_OK;
}

/* CANCEL or the ACK of a 3xx-6xx, from the INVITE's bytes (still in buf). */
static char *cancel_ack_bytes(const struct sip_txn *t, const char *method, struct sy_str resp_to, uint32_t *len)
{
	struct sip_wbuf w;
	size_t cap = (size_t)t->buf_len + resp_to.len + 256;
	char *tmp = malloc(cap);
	if (tmp == NULL)
		return NULL;
	sip_w_init(&w, tmp, cap);
	sip_raw_cancel_ack(&w, (struct sy_str){t->buf, t->buf_len}, method, resp_to);
	char *out = sip_w_dup(&w);
	free(tmp);
	*len = (uint32_t)w.len;
	return out;
}

enum sy_rc sip_txn_client_start(struct sip_stack *s, osip_message_t *req, const struct sy_addr *to, void *user,
				struct sip_txn **out)
{
	SY_ASSERT(s != NULL && req != NULL && to != NULL);
	if (out != NULL)
		*out = NULL;
	return client_start(s, req, to, user, 0, out);
}

static enum sy_rc send_cancel(struct sip_txn *ict)
{
	struct sip_stack *s = ict->stack;
	uint32_t len;
	SY_ASSERT(ict->buf != NULL);
	char *buf = cancel_ack_bytes(ict, "CANCEL", SY_STR_NULL, &len);
	if (buf == NULL)
		return SY_ERR_INVAL;
	struct sip_msg m = {.method = SIP_M_CANCEL};
	struct sy_str via;
	if (sip_raw_find((struct sy_str){buf, len}, SIP_H_VIA, &via))
		m.branch = sip_raw_via_branch(via);
	enum sy_rc rc = client_begin(s, &m, buf, len, NULL, &ict->peer, ict->user, F_INTERNAL, NULL);
	if (rc != SY_OK)
		return rc;
	ict->flags = (uint8_t)((ict->flags & ~F_CANCEL_PENDING) | F_CANCEL_SENT);
	/* RFC 3261 9.1: no final response within 64*T1 of the CANCEL means
	 * the INVITE is given up. */
	ict->end_at_ns = now_ns(s) + 64 * s->cfg.timers.t1_ns;
	txn_arm(ict);
	return SY_OK;
}

enum sy_rc sip_txn_client_cancel(struct sip_txn *ict)
{
	SY_ASSERT(ict != NULL);
	if (ict->kind != SIP_TXN_ICT)
		return SY_ERR_INVAL;
	if (ict->flags & (F_CANCEL_PENDING | F_CANCEL_SENT))
		return SY_OK;
	if (ict->state == SIP_TS_CALLING) {
		ict->flags |= F_CANCEL_PENDING;
		return SY_OK;
	}
	if (ict->state == SIP_TS_PROCEEDING)
		return send_cancel(ict);
	return SY_OK; /* a final response came: nothing to cancel */
}

void sip_txn_abandon(struct sip_txn *ct)
{
	SY_ASSERT(ct != NULL && ct->kind == SIP_TXN_ICT);
	/* No response yet, so no CANCEL is possible (RFC 3261 9.1): stop
	 * retransmitting and end silently; a late response is a stray. */
	ct->flags |= F_INTERNAL;
	ct->user = NULL;
	ct->retx_at_ns = NEVER;
	ct->end_at_ns = now_ns(ct->stack);
	txn_arm(ct);
}

static void tu_response(struct sip_txn *t, const struct sip_msg *resp)
{
	struct sip_stack *s = t->stack;
	if (!(t->flags & F_INTERNAL) && s->cfg.tu->on_response != NULL)
		s->cfg.tu->on_response(s->cfg.tu_arg, t, resp);
}

static void ict_final_error(struct sip_txn *t, const struct sip_msg *resp)
{
	struct sip_stack *s = t->stack;
	struct sy_str to = SY_STR_NULL;
	uint32_t len = 0;
	/* 17.1.1.3: the transaction acknowledges 3xx-6xx itself. */
	sip_raw_find(resp->raw, SIP_H_TO, &to);
	char *buf = t->buf != NULL ? cancel_ack_bytes(t, "ACK", to, &len) : NULL;
	if (buf != NULL) {
		send_bytes(s, &t->peer, buf, len);
		txn_keep(t, buf, len);
	}
	t->state = SIP_TS_COMPLETED;
	t->retx_at_ns = NEVER;
	t->end_at_ns = now_ns(s) + SY_MAX(64 * s->cfg.timers.t1_ns, 32 * SY_NS_PER_S); /* Timer D */
	txn_arm(t);
	tu_response(t, resp);
	txn_free_req(t);
}

static void ict_response(struct sip_txn *t, const struct sip_msg *resp)
{
	struct sip_stack *s = t->stack;
	int code = resp->status;
	if (t->state == SIP_TS_CALLING || t->state == SIP_TS_PROCEEDING) {
		if (code < 200) {
			t->state = SIP_TS_PROCEEDING;
			t->retx_at_ns = NEVER;
			if (!(t->flags & F_CANCEL_SENT))
				t->end_at_ns = NEVER; /* Timer B only runs in Calling */
			if (t->flags & F_CANCEL_PENDING)
				send_cancel(t);
			tu_response(t, resp);
		} else if (code < 300) {
			t->state = SIP_TS_ACCEPTED;
			t->retx_at_ns = NEVER;
			t->end_at_ns = now_ns(s) + 64 * s->cfg.timers.t1_ns; /* Timer M */
			txn_keep(t, NULL, 0);
			txn_arm(t);
			tu_response(t, resp);
			txn_free_req(t);
		} else {
			ict_final_error(t, resp);
		}
		return;
	}
	if (t->state == SIP_TS_COMPLETED && code >= 300 && t->buf != NULL) {
		send_bytes(s, &t->peer, t->buf, t->buf_len);
		s->stats.retransmits_absorbed++;
	} else if (t->state == SIP_TS_ACCEPTED && code >= 200 && code < 300) {
		tu_response(t, resp);
	} else {
		s->stats.retransmits_absorbed++;
	}
}

static void nict_response(struct sip_txn *t, const struct sip_msg *resp)
{
	struct sip_stack *s = t->stack;
	if (t->state != SIP_TS_TRYING && t->state != SIP_TS_PROCEEDING) {
		s->stats.retransmits_absorbed++;
		return;
	}
	if (resp->status < 200) {
		t->state = SIP_TS_PROCEEDING;
		tu_response(t, resp);
		return;
	}
	t->state = SIP_TS_COMPLETED;
	t->retx_at_ns = NEVER;
	t->end_at_ns = now_ns(s) + s->cfg.timers.t4_ns; /* Timer K */
	txn_keep(t, NULL, 0);
	txn_arm(t);
	tu_response(t, resp);
	txn_free_req(t);
}

static void recv_response(struct sip_stack *s, const struct sip_msg *resp)
{
	struct sip_txn *t = hash_find(s, txn_key(s, resp), false, 0, resp->method);
	if (t == NULL) {
		/* A 2xx outliving its ICT (Timer M): the TU resends its ACK. */
		if (resp->method == SIP_M_INVITE && resp->status >= 200 && resp->status < 300 &&
		    s->cfg.tu->on_response != NULL)
			s->cfg.tu->on_response(s->cfg.tu_arg, NULL, resp);
		else
			s->stats.rx_stray_responses++;
		return;
	}
	if (t->kind == SIP_TXN_ICT)
		ict_response(t, resp);
	else
		nict_response(t, resp);
}

/* ---- server transactions ---- */

/* A retransmitted request: resend the last response, if any (17.2.1, 17.2.2). */
static void server_absorb(struct sip_txn *t)
{
	struct sip_stack *s = t->stack;
	s->stats.retransmits_absorbed++;
	if (t->buf == NULL || t->state == SIP_TS_ACCEPTED)
		return; /* RFC 6026: the 2xx is retransmitted by its own timer */
	send_bytes(s, &t->peer, t->buf, t->buf_len);
	s->stats.retransmits_sent++;
}

static void tu_request(struct sip_stack *s, struct sip_txn *st, const struct sip_msg *req, const struct sy_addr *from)
{
	if (s->cfg.tu->on_request != NULL)
		s->cfg.tu->on_request(s->cfg.tu_arg, st, req, from);
}

/* ACK: ends an IST's Completed state (17.2.1) or goes to the TU. */
static void recv_ack(struct sip_stack *s, const struct sip_msg *req, const struct sy_addr *from, uint64_t key,
		     uint64_t sent_by)
{
	struct sip_txn *t = hash_find(s, key, true, sent_by, SIP_M_INVITE);
	if (t != NULL && t->state == SIP_TS_COMPLETED) {
		t->state = SIP_TS_CONFIRMED;
		t->retx_at_ns = NEVER;
		t->end_at_ns = now_ns(s) + s->cfg.timers.t4_ns; /* Timer I */
		txn_keep(t, NULL, 0);
		txn_arm(t);
		return;
	}
	if (t != NULL && t->state == SIP_TS_CONFIRMED) {
		s->stats.retransmits_absorbed++;
		return;
	}
	tu_request(s, NULL, req, from);
}

static void server_new(struct sip_stack *s, struct sip_msg *req, const struct sy_addr *from, uint64_t key,
		       uint64_t sent_by)
{
	struct sip_txn *t = txn_alloc(s);
	if (t == NULL) {
		s->stats.txn_full++;
		sip_stack_respond_stateless(s, req, from, 503, NULL);
		return;
	}
	t->kind = req->method == SIP_M_INVITE ? SIP_TXN_IST : SIP_TXN_NIST;
	t->state = t->kind == SIP_TXN_IST ? SIP_TS_PROCEEDING : SIP_TS_TRYING;
	t->method = (uint8_t)req->method;
	t->key = key;
	t->sent_by = sent_by;
	sip_response_dest(req->m, from, &t->peer);
	/* Responses are built from these bytes (sip_txn_reply). */
	size_t cap = req->raw.len + SY_ADDR_STRLEN + 32;
	t->raw = osip_malloc(cap);
	if (t->raw != NULL)
		t->raw_len = (uint32_t)sip_raw_fix_via(req->raw, from, t->raw, cap);
	t->req = req->m;
	req->m = NULL; /* the transaction owns it now */
	hash_insert(s, t);
	t->flags |= F_IN_CB;
	struct sip_msg view = *req;
	view.m = t->req;
	tu_request(s, t, &view, from);
	t->flags &= (uint8_t)~F_IN_CB;
	if (t->flags & F_DROP_REQ) {
		t->flags &= (uint8_t)~F_DROP_REQ;
		txn_free_req(t);
	}
}

static void recv_request(struct sip_stack *s, struct sip_msg *req, const struct sy_addr *from)
{
	sip_via_fix_received(req->m, from);
	uint64_t key = txn_key(s, req), sent_by = sent_by_hash(s, req->m);
	if (req->method == SIP_M_ACK) {
		recv_ack(s, req, from, key, sent_by);
		return;
	}
	struct sip_txn *t = hash_find(s, key, true, sent_by, (enum sip_method)req->method);
	if (t != NULL) {
		server_absorb(t);
		return;
	}
	server_new(s, req, from, key, sent_by);
}

void sip_stack_recv(struct sip_stack *s, const struct sy_addr *from, const uint8_t *buf, size_t len)
{
	struct sip_msg msg;
	char err[96];
	s->stats.rx_msgs++;
	enum sy_rc rc = sip_msg_parse(buf, len, &msg, err, sizeof(err));
	if (rc == SY_ERR_PARSE) {
		s->stats.rx_bad_dropped++;
		return;
	}
	if (rc != SY_OK) {
		bool answer = msg.status == 0 && msg.method != SIP_M_ACK && osip_list_size(&msg.m->vias) > 0 &&
			      msg.m->from != NULL && msg.m->to != NULL;
		if (answer && sip_stack_respond_stateless(s, &msg, from, 400, err) == SY_OK)
			s->stats.rx_bad_400++;
		else
			s->stats.rx_bad_dropped++;
		sip_msg_free(&msg);
		return;
	}
	if (msg.status != 0)
		recv_response(s, &msg);
	else
		recv_request(s, &msg, from);
	sip_msg_free(&msg);
}

enum sy_rc sip_txn_respond(struct sip_txn *st, osip_message_t *resp)
{
	SY_ASSERT(st != NULL && resp != NULL);
	struct sip_stack *s = st->stack;
	int code = resp->status_code;
	bool open = st->state == SIP_TS_TRYING || st->state == SIP_TS_PROCEEDING;
	if (!is_server(st) || !open || code < 100 || code > 699) {
		osip_message_free(resp);
		return is_server(st) && open ? SY_ERR_INVAL : SY_ERR_STATE;
	}
	char *buf;
	uint32_t len;
	enum sy_rc rc = send_msg(s, resp, &st->peer, &buf, &len);
	if (rc != SY_OK)
		return rc;
	server_sent(st, code, buf, len);
	return SY_OK;
}

enum sy_rc sip_txn_reply(struct sip_txn *st, const struct sip_reply *r)
{
	SY_ASSERT(st != NULL && r != NULL);
	bool open = st->state == SIP_TS_TRYING || st->state == SIP_TS_PROCEEDING;
	if (!is_server(st) || !open)
		return SY_ERR_STATE;
	if (r->status < 100 || r->status > 699 || st->raw == NULL || st->raw_len == 0)
		return SY_ERR_INVAL;
	uint32_t len;
	char *buf = reply_bytes((struct sy_str){st->raw, st->raw_len}, r, &len);
	if (buf == NULL)
		return SY_ERR_INVAL;
	send_bytes(st->stack, &st->peer, buf, len);
	server_sent(st, r->status, buf, len);
	return SY_OK;
}

/* The server transaction sent a response (bytes kept for retransmission). */
static void server_sent(struct sip_txn *st, int code, char *buf, uint32_t len)
{
	struct sip_stack *s = st->stack;
	txn_keep(st, buf, len);
	uint64_t now = now_ns(s), t1 = s->cfg.timers.t1_ns;
	if (code < 200) {
		st->state = SIP_TS_PROCEEDING;
		return;
	}
	if (st->kind == SIP_TXN_NIST) {
		st->state = SIP_TS_COMPLETED;
		st->end_at_ns = now + 64 * t1; /* Timer J */
	} else {
		/* 2xx: RFC 6026 Accepted, Timer L; else Completed, Timer G/H */
		st->state = code < 300 ? SIP_TS_ACCEPTED : SIP_TS_COMPLETED;
		st->retx_ival_ns = t1;
		st->retx_at_ns = now + t1;
		st->end_at_ns = now + 64 * t1;
	}
	txn_arm(st);
	txn_free_req(st);
}

void sip_txn_acked(struct sip_txn *st)
{
	SY_ASSERT(st != NULL);
	if (st->kind != SIP_TXN_IST || st->state != SIP_TS_ACCEPTED || (st->flags & F_ACKED))
		return;
	st->flags |= F_ACKED;
	st->retx_at_ns = NEVER;
	txn_keep(st, NULL, 0);
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
	return hash_find(cancel_st->stack, cancel_st->key, true, cancel_st->sent_by, SIP_M_INVITE);
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
