/* session.c: the SMPP session state machine of session.h: the pool of
 * sessions allocated at start, a session's life (enter/leave, end, failure
 * reported later), writes and sequence numbers, the timers (keepalive,
 * bind, control and response timeouts) and the accessors. What arrives is
 * in session_rx.c, what the owner asks in session_owner.c. */
#include "core/smpp/session_int.h"

#include <stdlib.h>

static const char *const close_names[] = {
    [SMPP_CLOSE_PEER] = "peer closed",
    [SMPP_CLOSE_IO] = "io error",
    [SMPP_CLOSE_UNBOUND] = "unbound",
    [SMPP_CLOSE_PEER_UNBIND] = "peer unbound",
    [SMPP_CLOSE_DEAD_PEER] = "dead peer",
    [SMPP_CLOSE_IDLE] = "idle",
    [SMPP_CLOSE_BAD_LENGTH] = "bad command_length",
    [SMPP_CLOSE_BIND_FAILED] = "bind failed",
    [SMPP_CLOSE_BIND_TIMEOUT] = "bind timeout",
};

const char *smpp_close_reason_str(enum smpp_close_reason why)
{
	if ((size_t)why < SY_ARRAY_LEN(close_names) && close_names[why] != NULL)
		return close_names[why];
	return "unknown";
}

/* ---- token bucket ---- */

void smpp_tbucket_init(struct smpp_tbucket *tb, uint32_t tps, uint32_t burst, uint64_t now_ns)
{
	*tb = (struct smpp_tbucket){.tps = tps, .last_ns = now_ns};
	tb->cap_units = (uint64_t)(burst ? burst : tps) * SY_NS_PER_S;
	tb->units = tb->cap_units;
}

bool smpp_tbucket_take(struct smpp_tbucket *tb, uint64_t now_ns)
{
	if (tb->tps == 0) {
		tb->passed++;
		return true;
	}
	if (now_ns > tb->last_ns) {
		/* Clamp the elapsed time first so elapsed * tps cannot overflow. */
		uint64_t dt = now_ns - tb->last_ns, full_ns = tb->cap_units / tb->tps + 1;
		uint64_t add = SY_MIN(dt, full_ns) * tb->tps;
		tb->units = SY_MIN(tb->cap_units, tb->units + add);
		tb->last_ns = now_ns;
	}
	if (tb->units < SY_NS_PER_S) {
		tb->throttled++;
		return false;
	}
	tb->units -= SY_NS_PER_S;
	tb->passed++;
	return true;
}

/* ---- windows by sequence number ---- */

uint32_t smpp_seqix_find(const struct smpp_seqix *x, uint32_t seq)
{
	for (uint32_t i = smpp_seqix_home(x, seq);; i = (i + 1) & x->mask) {
		uint32_t v = x->slot[i];
		if (v == 0)
			return SMPP_WIN_NIL;
		uint32_t got;
		memcpy(&got, x->recs + (size_t)(v - 1) * x->stride, sizeof(got));
		if (got == seq)
			return v - 1;
	}
}

void smpp_seqix_add(struct smpp_seqix *x, uint32_t seq, uint32_t rec)
{
	uint32_t i = smpp_seqix_home(x, seq);
	while (x->slot[i] != 0)
		i = (i + 1) & x->mask;
	x->slot[i] = rec + 1;
}

static uint32_t seqix_home(const struct smpp_seqix *x, uint32_t v)
{
	uint32_t seq;
	memcpy(&seq, x->recs + (size_t)(v - 1) * x->stride, sizeof(seq));
	return smpp_seqix_home(x, seq);
}

/* Backward shift: each later entry of the cluster whose home is not
 * between the hole and itself moves into the hole, in order. */
void smpp_seqix_del(struct smpp_seqix *x, uint32_t rec)
{
	uint32_t i = seqix_home(x, rec + 1);
	while (x->slot[i] != rec + 1) {
		SY_ASSERT(x->slot[i] != 0);
		i = (i + 1) & x->mask;
	}
	for (uint32_t j = i;;) {
		j = (j + 1) & x->mask;
		uint32_t v = x->slot[j];
		if (v == 0)
			break;
		uint32_t k = seqix_home(x, v);
		bool stays = i <= j ? (i < k && k <= j) : (i < k || k <= j);
		if (stays)
			continue;
		x->slot[i] = v;
		i = j;
	}
	x->slot[i] = 0;
}

void smpp_seqix_clear(struct smpp_seqix *x)
{
	memset(x->slot, 0, sizeof(*x->slot) * ((size_t)x->mask + 1));
}

/* Records are taken recycled first, else fresh in index order, so a
 * session touches only as much of its window as it uses; an index is all
 * zero again once its last record is removed, so only a reset with
 * records left clears it. */
void smpp_sess__out_reset(struct smpp_session *s)
{
	if (s->n_out > 0)
		smpp_seqix_clear(&s->out_ix);
	s->out_free = SMPP_WIN_NIL;
	s->out_fresh = 0;
	s->out_head = s->out_tail = SMPP_WIN_NIL;
	s->n_out = 0;
}

/* A record for a new request; the caller checked n_out < window. */
uint32_t smpp_sess__out_take(struct smpp_session *s)
{
	uint32_t r = s->out_free;
	if (r != SMPP_WIN_NIL)
		s->out_free = s->out[r].next;
	else
		r = s->out_fresh++;
	SY_ASSERT(r < s->pool->cfg.window);
	return r;
}

/* Unlinks our request r (answered, timed out) and frees its record. */
void smpp_sess__out_remove(struct smpp_session *s, uint32_t r)
{
	struct smpp_out *o = &s->out[r];
	smpp_seqix_del(&s->out_ix, r);
	if (o->prev != SMPP_WIN_NIL)
		s->out[o->prev].next = o->next;
	else
		s->out_head = o->next;
	if (o->next != SMPP_WIN_NIL)
		s->out[o->next].prev = o->prev;
	else
		s->out_tail = o->prev;
	o->next = s->out_free;
	s->out_free = r;
	s->n_out--;
}

void smpp_sess__in_reset(struct smpp_session *s)
{
	if (s->n_in > 0)
		smpp_seqix_clear(&s->in_ix);
	s->in_free = SMPP_WIN_NIL;
	s->in_fresh = 0;
	s->n_in = 0;
}

uint32_t smpp_sess__in_take(struct smpp_session *s)
{
	uint32_t r = s->in_free;
	if (r != SMPP_WIN_NIL)
		s->in_free = s->in[r].next_free;
	else
		r = s->in_fresh++;
	SY_ASSERT(r < s->pool->cfg.in_window);
	return r;
}

static uint32_t ix_size(uint32_t recs)
{
	uint32_t n = 4;
	while (n < 2 * recs)
		n <<= 1;
	return n;
}

static uint32_t ix_shift(uint32_t n)
{
	uint32_t bits = 0;
	while ((1u << bits) < n)
		bits++;
	return 32 - bits;
}

/* ---- pool ---- */

static void cfg_defaults(struct smpp_pool_cfg *c)
{
	if (c->sess_max == 0)
		c->sess_max = 64;
	if (c->window == 0)
		c->window = 10;
	if (c->in_window == 0)
		c->in_window = 100;
	if (c->inbuf_max == 0)
		c->inbuf_max = 16384;
	if (c->resp_timeout_ns == 0)
		c->resp_timeout_ns = 10 * SY_NS_PER_S;
	if (c->enquire_interval_ns == 0)
		c->enquire_interval_ns = 30 * SY_NS_PER_S;
	if (c->enquire_timeout_ns == 0)
		c->enquire_timeout_ns = c->resp_timeout_ns;
	if (c->idle_intervals_max == 0)
		c->idle_intervals_max = 3;
	if (c->bind_timeout_ns == 0)
		c->bind_timeout_ns = 10 * SY_NS_PER_S;
}

enum sy_rc smpp_pool_create(const struct smpp_pool_cfg *cfg, struct smpp_pool **out)
{
	SY_ASSERT(cfg != NULL && cfg->env != NULL && cfg->ops != NULL && out != NULL);
	*out = NULL;
	struct smpp_pool_cfg c = *cfg;
	cfg_defaults(&c);
	if (c.inbuf_max < SMPP_HEADER_LEN || c.inbuf_max > SMPP_PDU_LEN_MAX || c.system_id.len > SMPP_SYSTEM_ID_MAX)
		return SY_ERR_INVAL;
	struct smpp_pool *p = calloc(1, sizeof(*p));
	if (p == NULL)
		return SY_ERR_NOMEM;
	p->cfg = c;
	p->env = c.env;
	struct sy_str sid = c.system_id.len ? c.system_id : SY_STR("switchyard");
	memcpy(p->system_id, sid.p, sid.len);
	p->cfg.system_id = (struct sy_str){p->system_id, sid.len};
	p->sess = calloc(c.sess_max, sizeof(*p->sess));
	p->inbufs = malloc((size_t)c.sess_max * c.inbuf_max);
	p->outs = calloc((size_t)c.sess_max * c.window, sizeof(*p->outs));
	p->ins = calloc((size_t)c.sess_max * c.in_window, sizeof(*p->ins));
	p->out_ix_n = ix_size(c.window);
	p->in_ix_n = ix_size(c.in_window);
	p->ix_slots = calloc((size_t)c.sess_max * (p->out_ix_n + p->in_ix_n), sizeof(*p->ix_slots));
	if (p->sess == NULL || p->inbufs == NULL || p->outs == NULL || p->ins == NULL || p->ix_slots == NULL) {
		smpp_pool_destroy(p);
		return SY_ERR_NOMEM;
	}
	for (uint32_t i = c.sess_max; i-- > 0;) {
		struct smpp_session *s = &p->sess[i];
		*s = (struct smpp_session){.pool = p, .idx = i, .gen = 1, .state = SMPP_SS_FREE};
		s->inbuf = p->inbufs + (size_t)i * c.inbuf_max;
		s->out = p->outs + (size_t)i * c.window;
		s->in = p->ins + (size_t)i * c.in_window;
		uint32_t *ix = p->ix_slots + (size_t)i * (p->out_ix_n + p->in_ix_n);
		s->out_ix = (struct smpp_seqix){ix, p->out_ix_n - 1, ix_shift(p->out_ix_n), (const uint8_t *)s->out,
						sizeof(*s->out)};
		s->in_ix = (struct smpp_seqix){ix + p->out_ix_n, p->in_ix_n - 1, ix_shift(p->in_ix_n),
					       (const uint8_t *)s->in, sizeof(*s->in)};
		s->next_free = p->free_list;
		p->free_list = s;
	}
	*out = p;
	return SY_OK;
}

uint64_t smpp_pool_bytes(const struct smpp_pool *p)
{
	const struct smpp_pool_cfg *c = &p->cfg;
	uint64_t per = sizeof(*p->sess) + c->inbuf_max + (uint64_t)c->window * sizeof(*p->outs) +
		       (uint64_t)c->in_window * sizeof(*p->ins) +
		       (uint64_t)(p->out_ix_n + p->in_ix_n) * sizeof(uint32_t);
	return sizeof(*p) + c->sess_max * per;
}

void smpp_pool_destroy(struct smpp_pool *p)
{
	if (p == NULL)
		return;
	sy_env_listener_close(p->env, p->lsn);
	for (uint32_t i = 0; p->sess != NULL && i < p->cfg.sess_max; i++)
		if (p->sess[i].state != SMPP_SS_FREE && p->sess[i].state != SMPP_SS_CLOSED)
			smpp_sess__stop(&p->sess[i]);
	free(p->sess);
	free(p->inbufs);
	free(p->outs);
	free(p->ins);
	free(p->ix_slots);
	free(p);
}

const struct smpp_pool_stats *smpp_pool_stats(const struct smpp_pool *p)
{
	return &p->st;
}

struct smpp_session *smpp_sess__alloc(struct smpp_pool *p, bool is_server)
{
	struct smpp_session *s = p->free_list;
	if (s == NULL) {
		p->st.sessions_refused++;
		return NULL;
	}
	p->free_list = s->next_free;
	SY_ASSERT(s->state == SMPP_SS_FREE && s->busy == 0);
	s->next_free = NULL;
	s->is_server = is_server;
	s->broken = false;
	s->bind_type = 0;
	s->bind_fails = 0;
	s->peer = (struct sy_addr){0};
	s->stream = NULL;
	s->next_seq = 1;
	s->last_rx_ns = sy_env_now_ns(p->env);
	s->tb = NULL;
	s->user = NULL;
	s->in_len = 0;
	s->n_out = s->n_in = 0; /* a free session's indexes are all zero */
	smpp_sess__out_reset(s);
	smpp_sess__in_reset(s);
	s->ctl_seq = s->ctl_cmd = s->enq_seq = 0;
	s->t_ctl = s->t_enq = s->t_keep = s->t_resp = s->t_bind = s->t_fail = 0;
	s->sid[0] = '\0';
	s->bp = (struct smpp_bind_params){0};
	p->st.sessions_active++;
	return s;
}

void smpp_sess__release(struct smpp_session *s)
{
	SY_ASSERT(s->state == SMPP_SS_CLOSED && s->busy == 0);
	s->state = SMPP_SS_FREE;
	s->gen++;
	s->next_free = s->pool->free_list;
	s->pool->free_list = s;
	s->pool->st.sessions_active--;
}

/* Callbacks may close the session; it goes back to the pool only when the
 * outermost env callback for it returns, so no caller sees a reused slot. */
void smpp_sess__enter(struct smpp_session *s)
{
	s->busy++;
}

void smpp_sess__leave(struct smpp_session *s)
{
	SY_ASSERT(s->busy > 0);
	if (--s->busy == 0 && s->state == SMPP_SS_CLOSED)
		smpp_sess__release(s);
}

bool smpp_sess__closed(const struct smpp_session *s)
{
	return s->state == SMPP_SS_CLOSED;
}

/* Cancels timers and closes the stream; outstanding requests stay for smpp_sess__end. */
void smpp_sess__stop(struct smpp_session *s)
{
	const struct sy_env *env = s->pool->env;
	sy_timer_id *ts[] = {&s->t_ctl, &s->t_enq, &s->t_keep, &s->t_resp, &s->t_bind, &s->t_fail};
	for (size_t i = 0; i < SY_ARRAY_LEN(ts); i++) {
		sy_env_timer_cancel(env, *ts[i]);
		*ts[i] = 0;
	}
	if (s->stream != NULL)
		sy_env_stream_close(env, s->stream);
	s->stream = NULL;
	s->state = SMPP_SS_CLOSED;
	if (s->n_in > 0)
		smpp_sess__in_reset(s);
	s->in_len = 0;
}

/* Ends the session from an env callback: outstanding requests are reported
 * (in send order, so an owner can requeue them in order), then on_close. */
void smpp_sess__end(struct smpp_session *s, enum smpp_close_reason why)
{
	SY_ASSERT(s->busy > 0);
	if (smpp_sess__closed(s))
		return;
	struct smpp_pool *p = s->pool;
	smpp_sess__stop(s);
	SY_LOG(p->env, SY_LOG_DEBUG, "smpp: session %u closed: %s", s->idx, smpp_close_reason_str(why));
	for (uint32_t r = s->out_head; r != SMPP_WIN_NIL; r = s->out[r].next)
		if (p->cfg.ops->on_response != NULL)
			p->cfg.ops->on_response(p->cfg.arg, s, SMPP_REQ_CLOSED, s->out[r].seq, s->out[r].tag, NULL);
	smpp_sess__out_reset(s);
	if (p->cfg.ops->on_close != NULL)
		p->cfg.ops->on_close(p->cfg.arg, s, why);
}

static void fail_fire(void *arg)
{
	struct smpp_session *s = arg;
	s->t_fail = 0;
	smpp_sess__enter(s);
	smpp_sess__end(s, s->fail_reason);
	smpp_sess__leave(s);
}

/* A failure found inside an owner's call: end the session from a timer so
 * callbacks never run inside smpp_* calls. */
static void sess_fail_later(struct smpp_session *s, enum smpp_close_reason why)
{
	s->broken = true;
	if (s->t_fail != 0 || smpp_sess__closed(s))
		return;
	s->fail_reason = why;
	s->t_fail = sy_env_timer_start(s->pool->env, 0, fail_fire, s);
}

enum sy_rc smpp_sess__write(struct smpp_session *s, const uint8_t *buf, size_t len)
{
	if (smpp_sess__closed(s) || s->stream == NULL)
		return SY_ERR_STATE;
	if (s->broken)
		return SY_ERR_IO;
	enum sy_rc rc = sy_env_stream_write(s->pool->env, s->stream, buf, len);
	if (rc != SY_OK) {
		s->pool->st.tx_errors++;
		sess_fail_later(s, SMPP_CLOSE_IO);
		return rc;
	}
	s->pool->st.tx_pdus++;
	return SY_OK;
}

uint32_t smpp_sess__next_seq(struct smpp_session *s)
{
	uint32_t q = s->next_seq;
	s->next_seq = q >= SMPP_SEQ_MAX ? 1 : q + 1;
	return q;
}

void smpp_sess__send_hdr(struct smpp_session *s, uint32_t cmd, uint32_t status, uint32_t seq)
{
	uint8_t b[SMPP_HEADER_LEN];
	size_t n;
	if (smpp_encode_header(b, sizeof(b), &n, cmd, status, seq) == SY_OK)
		(void)smpp_sess__write(s, b, n);
}

/* An error answer: bind resps carry our system_id, the rest a bare header. */
void smpp_sess__reply_err(struct smpp_session *s, uint32_t resp_cmd, uint32_t status, uint32_t seq)
{
	uint8_t b[64];
	size_t n;
	if (resp_cmd == SMPP_BIND_RECEIVER_RESP || resp_cmd == SMPP_BIND_TRANSMITTER_RESP ||
	    resp_cmd == SMPP_BIND_TRANSCEIVER_RESP) {
		if (smpp_encode_bind_resp(b, sizeof(b), &n, resp_cmd, status, seq, s->pool->cfg.system_id) == SY_OK)
			(void)smpp_sess__write(s, b, n);
		return;
	}
	smpp_sess__send_hdr(s, resp_cmd, status, seq);
}

/* ---- timers ---- */

static void keep_fire(void *arg);

void smpp_sess__keepalive_start(struct smpp_session *s)
{
	const struct smpp_pool_cfg *c = &s->pool->cfg;
	if (!c->no_keepalive && s->t_keep == 0)
		s->t_keep = sy_env_timer_start(s->pool->env, c->enquire_interval_ns, keep_fire, s);
}

static void enq_fire(void *arg)
{
	struct smpp_session *s = arg;
	s->t_enq = 0;
	smpp_sess__enter(s);
	s->pool->st.closed_dead_peer++;
	smpp_sess__end(s, SMPP_CLOSE_DEAD_PEER);
	smpp_sess__leave(s);
}

static void keep_fire(void *arg)
{
	struct smpp_session *s = arg;
	struct smpp_pool *p = s->pool;
	const struct smpp_pool_cfg *c = &p->cfg;
	s->t_keep = 0;
	smpp_sess__enter(s);
	uint64_t now = sy_env_now_ns(p->env);
	if (now - s->last_rx_ns >= (uint64_t)c->idle_intervals_max * c->enquire_interval_ns) {
		p->st.closed_idle++;
		smpp_sess__end(s, SMPP_CLOSE_IDLE);
		goto out_leave;
	}
	if (s->enq_seq == 0) {
		s->enq_seq = smpp_sess__next_seq(s);
		p->st.enquire_sent++;
		smpp_sess__send_hdr(s, SMPP_ENQUIRE_LINK, ESME_ROK, s->enq_seq);
		s->t_enq = sy_env_timer_start(p->env, c->enquire_timeout_ns, enq_fire, s);
	}
	if (!smpp_sess__closed(s))
		smpp_sess__keepalive_start(s);
out_leave:
	smpp_sess__leave(s);
}

void smpp_sess__bind_fire(void *arg)
{
	struct smpp_session *s = arg;
	s->t_bind = 0;
	smpp_sess__enter(s);
	if (s->state != SMPP_SS_BOUND && s->state != SMPP_SS_UNBINDING)
		smpp_sess__end(s, SMPP_CLOSE_BIND_TIMEOUT);
	smpp_sess__leave(s);
}

void smpp_sess__ctl_fire(void *arg)
{
	struct smpp_session *s = arg;
	s->t_ctl = 0;
	smpp_sess__enter(s);
	smpp_sess__end(s, s->ctl_cmd == SMPP_UNBIND ? SMPP_CLOSE_UNBOUND : SMPP_CLOSE_BIND_TIMEOUT);
	smpp_sess__leave(s);
}

void smpp_sess__resp_fire(void *arg)
{
	struct smpp_session *s = arg;
	struct smpp_pool *p = s->pool;
	s->t_resp = 0;
	smpp_sess__enter(s);
	uint64_t now = sy_env_now_ns(p->env);
	while (!smpp_sess__closed(s) && s->n_out > 0 && s->out[s->out_head].deadline_ns <= now) {
		struct smpp_out o = s->out[s->out_head];
		smpp_sess__out_remove(s, s->out_head);
		p->st.resp_timeouts++;
		if (p->cfg.ops->on_response != NULL)
			p->cfg.ops->on_response(p->cfg.arg, s, SMPP_REQ_TIMEOUT, o.seq, o.tag, NULL);
	}
	if (!smpp_sess__closed(s) && s->n_out > 0 && s->t_resp == 0)
		s->t_resp = sy_env_timer_start(p->env, s->out[s->out_head].deadline_ns - now, smpp_sess__resp_fire, s);
	smpp_sess__leave(s);
}

/* ---- accessors ---- */

uint64_t smpp_session_id(const struct smpp_session *s)
{
	return (uint64_t)s->gen << 32 | (uint64_t)(s->idx + 1);
}

struct smpp_session *smpp_session_find(struct smpp_pool *p, uint64_t id)
{
	uint64_t idx = (id & 0xFFFFFFFFu) - 1;
	if ((id & 0xFFFFFFFFu) == 0 || idx >= p->cfg.sess_max)
		return NULL;
	struct smpp_session *s = &p->sess[idx];
	if (s->gen != (uint32_t)(id >> 32) || s->state == SMPP_SS_FREE || s->state == SMPP_SS_CLOSED)
		return NULL;
	return s;
}

enum smpp_sess_state smpp_session_state(const struct smpp_session *s)
{
	return s->state;
}

enum smpp_bind_type smpp_session_bind_type(const struct smpp_session *s)
{
	return s->bind_type;
}

struct sy_str smpp_session_system_id(const struct smpp_session *s)
{
	return sy_str_from(s->sid);
}

uint32_t smpp_session_outstanding(const struct smpp_session *s)
{
	return s->n_out;
}

uint32_t smpp_session_unanswered(const struct smpp_session *s)
{
	return s->n_in;
}

void *smpp_session_user(const struct smpp_session *s)
{
	return s->user;
}

void smpp_session_set_user(struct smpp_session *s, void *user)
{
	s->user = user;
}

struct smpp_pool *smpp_session_pool(const struct smpp_session *s)
{
	return s->pool;
}

const struct sy_addr *smpp_session_peer(const struct smpp_session *s)
{
	return &s->peer;
}
