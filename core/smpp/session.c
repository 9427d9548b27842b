/* session.c: the SMPP session state machine of session.h. One struct per
 * TCP link, from a pool allocated at start; framing over on_data chunks with
 * a bounded per-session buffer, bind/unbind, windows of outstanding requests
 * in both directions, keepalive and throttling, all timed by env timers. */
#include "core/smpp/session.h"

#include <stdlib.h>

#define SMPP_SEQ_MAX 0x7FFFFFFFu

struct smpp_out {
	uint32_t seq, cmd;
	uint64_t deadline_ns;
	uint64_t tag;
};

struct smpp_in {
	uint32_t seq, cmd;
};

struct smpp_session {
	struct smpp_pool *pool;
	uint32_t idx, gen;
	enum smpp_sess_state state;
	enum smpp_bind_type bind_type;
	bool is_server, broken;
	uint32_t busy; /* depth of env callbacks running for this session */
	struct sy_stream *stream;
	uint32_t next_seq;
	uint64_t last_rx_ns;
	struct smpp_tbucket *tb;
	void *user;

	uint8_t *inbuf;
	size_t in_len;
	struct smpp_out *out; /* in send order, so deadlines are non-decreasing */
	uint32_t n_out;
	struct smpp_in *in;
	uint32_t n_in;

	uint32_t ctl_seq, ctl_cmd; /* our bind or unbind awaiting its response */
	uint32_t enq_seq;	   /* our enquire_link awaiting its response */
	sy_timer_id t_ctl, t_enq, t_keep, t_resp, t_bind, t_fail;
	enum smpp_close_reason fail_reason;

	struct smpp_bind_params bp; /* client: strings point at the arrays below */
	char sid[SMPP_SYSTEM_ID_MAX + 1], pwd[SMPP_PASSWORD_MAX + 1], stype[SMPP_SYSTEM_TYPE_MAX + 1],
	    range[SMPP_ADDRESS_RANGE_MAX + 1];
	struct smpp_session *next_free;
};

struct smpp_pool {
	struct smpp_pool_cfg cfg;
	const struct sy_env *env;
	char system_id[SMPP_SYSTEM_ID_MAX + 1];
	struct smpp_session *sess;
	uint8_t *inbufs;
	struct smpp_out *outs;
	struct smpp_in *ins;
	struct smpp_session *free_list;
	struct sy_listener *lsn;
	struct smpp_pool_stats st;
	uint8_t scratch[SMPP_PDU_LEN_MAX]; /* encode buffer: the core is single-threaded */
};

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

/* ---- pool ---- */

static void put_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static uint32_t get_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

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
	if (p->sess == NULL || p->inbufs == NULL || p->outs == NULL || p->ins == NULL) {
		smpp_pool_destroy(p);
		return SY_ERR_NOMEM;
	}
	for (uint32_t i = c.sess_max; i-- > 0;) {
		struct smpp_session *s = &p->sess[i];
		*s = (struct smpp_session){.pool = p, .idx = i, .gen = 1, .state = SMPP_SS_FREE};
		s->inbuf = p->inbufs + (size_t)i * c.inbuf_max;
		s->out = p->outs + (size_t)i * c.window;
		s->in = p->ins + (size_t)i * c.in_window;
		s->next_free = p->free_list;
		p->free_list = s;
	}
	*out = p;
	return SY_OK;
}

static void sess_stop(struct smpp_session *s);

void smpp_pool_destroy(struct smpp_pool *p)
{
	if (p == NULL)
		return;
	sy_env_listener_close(p->env, p->lsn);
	for (uint32_t i = 0; p->sess != NULL && i < p->cfg.sess_max; i++)
		if (p->sess[i].state != SMPP_SS_FREE && p->sess[i].state != SMPP_SS_CLOSED)
			sess_stop(&p->sess[i]);
	free(p->sess);
	free(p->inbufs);
	free(p->outs);
	free(p->ins);
	free(p);
}

const struct smpp_pool_stats *smpp_pool_stats(const struct smpp_pool *p)
{
	return &p->st;
}

static struct smpp_session *sess_alloc(struct smpp_pool *p, bool is_server)
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
	s->stream = NULL;
	s->next_seq = 1;
	s->last_rx_ns = sy_env_now_ns(p->env);
	s->tb = NULL;
	s->user = NULL;
	s->in_len = s->n_out = s->n_in = 0;
	s->ctl_seq = s->ctl_cmd = s->enq_seq = 0;
	s->t_ctl = s->t_enq = s->t_keep = s->t_resp = s->t_bind = s->t_fail = 0;
	s->sid[0] = '\0';
	s->bp = (struct smpp_bind_params){0};
	p->st.sessions_active++;
	return s;
}

static void sess_release(struct smpp_session *s)
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
static void sess_enter(struct smpp_session *s)
{
	s->busy++;
}

static void sess_leave(struct smpp_session *s)
{
	SY_ASSERT(s->busy > 0);
	if (--s->busy == 0 && s->state == SMPP_SS_CLOSED)
		sess_release(s);
}

static bool sess_closed(const struct smpp_session *s)
{
	return s->state == SMPP_SS_CLOSED;
}

/* Cancels timers and closes the stream; outstanding requests stay for sess_end. */
static void sess_stop(struct smpp_session *s)
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
	s->n_in = 0;
	s->in_len = 0;
}

/* Ends the session from an env callback: outstanding requests are reported
 * (in send order, so an owner can requeue them in order), then on_close. */
static void sess_end(struct smpp_session *s, enum smpp_close_reason why)
{
	SY_ASSERT(s->busy > 0);
	if (sess_closed(s))
		return;
	struct smpp_pool *p = s->pool;
	sess_stop(s);
	SY_LOG(p->env, SY_LOG_DEBUG, "smpp: session %u closed: %s", s->idx, smpp_close_reason_str(why));
	for (uint32_t i = 0; i < s->n_out; i++)
		if (p->cfg.ops->on_response != NULL)
			p->cfg.ops->on_response(p->cfg.arg, s, SMPP_REQ_CLOSED, s->out[i].seq, s->out[i].tag, NULL);
	s->n_out = 0;
	if (p->cfg.ops->on_close != NULL)
		p->cfg.ops->on_close(p->cfg.arg, s, why);
}

static void fail_fire(void *arg)
{
	struct smpp_session *s = arg;
	s->t_fail = 0;
	sess_enter(s);
	sess_end(s, s->fail_reason);
	sess_leave(s);
}

/* A failure found inside an owner's call: end the session from a timer so
 * callbacks never run inside smpp_* calls. */
static void sess_fail_later(struct smpp_session *s, enum smpp_close_reason why)
{
	s->broken = true;
	if (s->t_fail != 0 || sess_closed(s))
		return;
	s->fail_reason = why;
	s->t_fail = sy_env_timer_start(s->pool->env, 0, fail_fire, s);
}

static enum sy_rc sess_write(struct smpp_session *s, const uint8_t *buf, size_t len)
{
	if (sess_closed(s) || s->stream == NULL)
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

static uint32_t sess_next_seq(struct smpp_session *s)
{
	uint32_t q = s->next_seq;
	s->next_seq = q >= SMPP_SEQ_MAX ? 1 : q + 1;
	return q;
}

static void sess_send_hdr(struct smpp_session *s, uint32_t cmd, uint32_t status, uint32_t seq)
{
	uint8_t b[SMPP_HEADER_LEN];
	size_t n;
	if (smpp_encode_header(b, sizeof(b), &n, cmd, status, seq) == SY_OK)
		(void)sess_write(s, b, n);
}

/* An error answer: bind resps carry our system_id, the rest a bare header. */
static void sess_reply_err(struct smpp_session *s, uint32_t resp_cmd, uint32_t status, uint32_t seq)
{
	uint8_t b[64];
	size_t n;
	if (resp_cmd == SMPP_BIND_RECEIVER_RESP || resp_cmd == SMPP_BIND_TRANSMITTER_RESP ||
	    resp_cmd == SMPP_BIND_TRANSCEIVER_RESP) {
		if (smpp_encode_bind_resp(b, sizeof(b), &n, resp_cmd, status, seq, s->pool->cfg.system_id) == SY_OK)
			(void)sess_write(s, b, n);
		return;
	}
	sess_send_hdr(s, resp_cmd, status, seq);
}

/* ---- timers ---- */

static void keep_fire(void *arg);

static void sess_keepalive_start(struct smpp_session *s)
{
	const struct smpp_pool_cfg *c = &s->pool->cfg;
	if (!c->no_keepalive && s->t_keep == 0)
		s->t_keep = sy_env_timer_start(s->pool->env, c->enquire_interval_ns, keep_fire, s);
}

static void enq_fire(void *arg)
{
	struct smpp_session *s = arg;
	s->t_enq = 0;
	sess_enter(s);
	s->pool->st.closed_dead_peer++;
	sess_end(s, SMPP_CLOSE_DEAD_PEER);
	sess_leave(s);
}

static void keep_fire(void *arg)
{
	struct smpp_session *s = arg;
	struct smpp_pool *p = s->pool;
	const struct smpp_pool_cfg *c = &p->cfg;
	s->t_keep = 0;
	sess_enter(s);
	uint64_t now = sy_env_now_ns(p->env);
	if (now - s->last_rx_ns >= (uint64_t)c->idle_intervals_max * c->enquire_interval_ns) {
		p->st.closed_idle++;
		sess_end(s, SMPP_CLOSE_IDLE);
		goto out_leave;
	}
	if (s->enq_seq == 0) {
		s->enq_seq = sess_next_seq(s);
		p->st.enquire_sent++;
		sess_send_hdr(s, SMPP_ENQUIRE_LINK, ESME_ROK, s->enq_seq);
		s->t_enq = sy_env_timer_start(p->env, c->enquire_timeout_ns, enq_fire, s);
	}
	if (!sess_closed(s))
		sess_keepalive_start(s);
out_leave:
	sess_leave(s);
}

static void bind_fire(void *arg)
{
	struct smpp_session *s = arg;
	s->t_bind = 0;
	sess_enter(s);
	if (s->state != SMPP_SS_BOUND && s->state != SMPP_SS_UNBINDING)
		sess_end(s, SMPP_CLOSE_BIND_TIMEOUT);
	sess_leave(s);
}

static void ctl_fire(void *arg)
{
	struct smpp_session *s = arg;
	s->t_ctl = 0;
	sess_enter(s);
	sess_end(s, s->ctl_cmd == SMPP_UNBIND ? SMPP_CLOSE_UNBOUND : SMPP_CLOSE_BIND_TIMEOUT);
	sess_leave(s);
}

static void resp_fire(void *arg)
{
	struct smpp_session *s = arg;
	struct smpp_pool *p = s->pool;
	s->t_resp = 0;
	sess_enter(s);
	uint64_t now = sy_env_now_ns(p->env);
	while (!sess_closed(s) && s->n_out > 0 && s->out[0].deadline_ns <= now) {
		struct smpp_out o = s->out[0];
		memmove(&s->out[0], &s->out[1], (s->n_out - 1) * sizeof(s->out[0]));
		s->n_out--;
		p->st.resp_timeouts++;
		if (p->cfg.ops->on_response != NULL)
			p->cfg.ops->on_response(p->cfg.arg, s, SMPP_REQ_TIMEOUT, o.seq, o.tag, NULL);
	}
	if (!sess_closed(s) && s->n_out > 0 && s->t_resp == 0)
		s->t_resp = sy_env_timer_start(p->env, s->out[0].deadline_ns - now, resp_fire, s);
	sess_leave(s);
}

/* ---- received requests ---- */

static enum smpp_bind_type bind_type_of(uint32_t cmd)
{
	switch (cmd) {
	case SMPP_BIND_TRANSMITTER:
		return SMPP_BIND_TX;
	case SMPP_BIND_RECEIVER:
		return SMPP_BIND_RX;
	default:
		return SMPP_BIND_TRX;
	}
}

static uint32_t bind_cmd_of(enum smpp_bind_type t)
{
	return t == SMPP_BIND_TX   ? SMPP_BIND_TRANSMITTER
	       : t == SMPP_BIND_RX ? SMPP_BIND_RECEIVER
				   : SMPP_BIND_TRANSCEIVER;
}

/* Whether a request may arrive on a link bound as t (SMPP 3.4 section 2.3):
 * the ESME's submissions need a transmitter, deliveries a receiver. */
static bool bind_allows(enum smpp_bind_type t, uint32_t cmd)
{
	switch (cmd) {
	case SMPP_SUBMIT_SM:
	case SMPP_QUERY_SM:
	case SMPP_CANCEL_SM:
	case SMPP_REPLACE_SM:
		return t != SMPP_BIND_RX;
	case SMPP_DELIVER_SM:
	case SMPP_ALERT_NOTIFICATION:
		return t != SMPP_BIND_TX;
	default:
		return true;
	}
}

static void sess_on_bind(struct smpp_session *s, const struct smpp_pdu *req)
{
	struct smpp_pool *p = s->pool;
	uint32_t rcmd = req->command_id | SMPP_RESP_BIT;
	if (!s->is_server || s->state != SMPP_SS_OPEN) {
		p->st.bind_bad_state++;
		sess_reply_err(s, rcmd, s->is_server ? ESME_RALYBND : ESME_RINVBNDSTS, req->sequence_number);
		return;
	}
	enum smpp_bind_type type = bind_type_of(req->command_id);
	struct smpp_tbucket *tb = NULL;
	uint32_t status = ESME_RBINDFAIL;
	if (p->cfg.ops->auth != NULL)
		status = p->cfg.ops->auth(p->cfg.arg, s, req->system_id, req->password, type, &tb);
	if (sess_closed(s))
		return;
	if (status != ESME_ROK) {
		p->st.binds_failed++;
		sess_reply_err(s, rcmd, status, req->sequence_number);
		return;
	}
	SY_ASSERT(req->system_id.len <= SMPP_SYSTEM_ID_MAX);
	if (req->system_id.len > 0)
		memcpy(s->sid, req->system_id.p, req->system_id.len);
	s->sid[req->system_id.len] = '\0';
	s->bind_type = type;
	s->tb = tb;
	s->state = SMPP_SS_BOUND;
	sy_env_timer_cancel(p->env, s->t_bind);
	s->t_bind = 0;
	p->st.binds_ok++;
	sess_reply_err(s, rcmd, ESME_ROK, req->sequence_number);
	sess_keepalive_start(s);
	if (p->cfg.ops->on_bound != NULL)
		p->cfg.ops->on_bound(p->cfg.arg, s, ESME_ROK);
}

/* Requests that are the session's own business; false for the owner's. */
static bool sess_on_ctl_req(struct smpp_session *s, const struct smpp_pdu *req)
{
	uint32_t cmd = req->command_id, seq = req->sequence_number;
	switch (cmd) {
	case SMPP_ENQUIRE_LINK:
		sess_send_hdr(s, SMPP_ENQUIRE_LINK_RESP, ESME_ROK, seq);
		return true;
	case SMPP_BIND_RECEIVER:
	case SMPP_BIND_TRANSMITTER:
	case SMPP_BIND_TRANSCEIVER:
		sess_on_bind(s, req);
		return true;
	case SMPP_UNBIND:
		if (s->state != SMPP_SS_BOUND && s->state != SMPP_SS_UNBINDING) {
			s->pool->st.bind_bad_state++;
			sess_send_hdr(s, SMPP_UNBIND_RESP, ESME_RINVBNDSTS, seq);
			return true;
		}
		sess_send_hdr(s, SMPP_UNBIND_RESP, ESME_ROK, seq);
		sess_end(s, SMPP_CLOSE_PEER_UNBIND);
		return true;
	case SMPP_OUTBIND:
		sess_send_hdr(s, SMPP_GENERIC_NACK, ESME_RINVCMDID, seq);
		return true;
	default:
		return false;
	}
}

static void sess_on_req(struct smpp_session *s, const struct smpp_pdu *req)
{
	struct smpp_pool *p = s->pool;
	uint32_t cmd = req->command_id, seq = req->sequence_number, rcmd = cmd | SMPP_RESP_BIT;
	if (sess_on_ctl_req(s, req))
		return;
	if (s->state != SMPP_SS_BOUND || !bind_allows(s->bind_type, cmd)) {
		p->st.bind_bad_state++;
		sess_send_hdr(s, rcmd, ESME_RINVBNDSTS, seq);
		return;
	}
	if (cmd != SMPP_ALERT_NOTIFICATION) {
		bool submit = cmd == SMPP_SUBMIT_SM || cmd == SMPP_DATA_SM;
		if (s->is_server && submit && s->tb != NULL && !smpp_tbucket_take(s->tb, sy_env_now_ns(p->env))) {
			p->st.throttled++;
			sess_send_hdr(s, rcmd, ESME_RTHROTTLED, seq);
			return;
		}
		if (s->n_in >= p->cfg.in_window) {
			/* The peer ignores our window: tell it to slow down. */
			p->st.in_window_full++;
			sess_send_hdr(s, rcmd, ESME_RTHROTTLED, seq);
			return;
		}
		s->in[s->n_in++] = (struct smpp_in){seq, cmd};
	}
	if (p->cfg.ops->on_request != NULL)
		p->cfg.ops->on_request(p->cfg.arg, s, req);
}

/* ---- received responses ---- */

static void sess_on_ctl_resp(struct smpp_session *s, const struct smpp_pdu *resp)
{
	struct smpp_pool *p = s->pool;
	uint32_t ctl = s->ctl_cmd;
	s->ctl_seq = s->ctl_cmd = 0;
	sy_env_timer_cancel(p->env, s->t_ctl);
	s->t_ctl = 0;
	if (ctl == SMPP_UNBIND) {
		sess_end(s, SMPP_CLOSE_UNBOUND);
		return;
	}
	uint32_t status = resp->command_status;
	if (resp->command_id == SMPP_GENERIC_NACK && status == ESME_ROK)
		status = ESME_RBINDFAIL;
	if (status == ESME_ROK) {
		s->state = SMPP_SS_BOUND;
		p->st.binds_ok++;
		sess_keepalive_start(s);
	} else {
		p->st.binds_failed++;
	}
	if (p->cfg.ops->on_bound != NULL)
		p->cfg.ops->on_bound(p->cfg.arg, s, status);
	if (status != ESME_ROK)
		sess_end(s, SMPP_CLOSE_BIND_FAILED);
}

static void sess_on_resp(struct smpp_session *s, const struct smpp_pdu *resp)
{
	struct smpp_pool *p = s->pool;
	uint32_t seq = resp->sequence_number, cmd = resp->command_id;
	bool nack = cmd == SMPP_GENERIC_NACK;
	if (s->ctl_seq != 0 && seq == s->ctl_seq && (nack || cmd == (s->ctl_cmd | SMPP_RESP_BIT))) {
		sess_on_ctl_resp(s, resp);
		return;
	}
	if (s->enq_seq != 0 && seq == s->enq_seq && (nack || cmd == SMPP_ENQUIRE_LINK_RESP)) {
		s->enq_seq = 0;
		sy_env_timer_cancel(p->env, s->t_enq);
		s->t_enq = 0;
		p->st.enquire_answered++;
		return;
	}
	for (uint32_t i = 0; i < s->n_out; i++) {
		if (s->out[i].seq != seq || !(nack || cmd == (s->out[i].cmd | SMPP_RESP_BIT)))
			continue;
		struct smpp_out o = s->out[i];
		memmove(&s->out[i], &s->out[i + 1], (s->n_out - i - 1) * sizeof(s->out[0]));
		s->n_out--;
		if (p->cfg.ops->on_response != NULL)
			p->cfg.ops->on_response(p->cfg.arg, s, SMPP_REQ_RESP, seq, o.tag, resp);
		return;
	}
	p->st.stray_resps++;
}

/* ---- framing ---- */

static void sess_pdu(struct smpp_session *s, const uint8_t *p, size_t len)
{
	struct smpp_pool *pool = s->pool;
	struct smpp_pdu pdu;
	uint32_t status = ESME_ROK;
	pool->st.rx_pdus++;
	if (smpp_pdu_decode(p, p + len, &pdu, &status) != SY_OK) {
		/* Framing already checked the header, so command_id and the
		 * sequence number are from the wire. */
		pool->st.rx_bad++;
		uint32_t cmd = get_be32(p + 4), seq = get_be32(p + 12);
		sess_reply_err(s, smpp_error_resp_cmd(cmd, status), status, seq);
		return;
	}
	if (smpp_cmd_is_resp(pdu.command_id))
		sess_on_resp(s, &pdu);
	else
		sess_on_req(s, &pdu);
}

/* command_length that cannot be framed (or buffered): the byte stream has
 * lost sync and cannot be recovered, so nack it and hang up. */
static void sess_bad_length(struct smpp_session *s, const uint8_t *p, size_t avail)
{
	s->pool->st.rx_bad++;
	s->pool->st.closed_bad_length++;
	sess_send_hdr(s, SMPP_GENERIC_NACK, ESME_RINVCMDLEN, avail >= SMPP_HEADER_LEN ? get_be32(p + 12) : 0);
	sess_end(s, SMPP_CLOSE_BAD_LENGTH);
}

/* Handles the complete PDUs at the start of [p, p+len) in place; returns the
 * bytes used (len when the session closed). */
static size_t sess_frames(struct smpp_session *s, const uint8_t *p, size_t len)
{
	size_t off = 0;
	while (off < len && !sess_closed(s)) {
		size_t flen = 0;
		enum sy_rc rc = smpp_frame_len(p + off, len - off, &flen);
		if (rc == SY_ERR_PARSE || flen > s->pool->cfg.inbuf_max) {
			sess_bad_length(s, p + off, len - off);
			return len;
		}
		if (rc == SY_AGAIN)
			break;
		sess_pdu(s, p + off, flen);
		off += flen;
	}
	return sess_closed(s) ? len : off;
}

/* Adds bytes to a buffered partial PDU, up to its end, and handles it once
 * complete. Returns the bytes used. */
static size_t sess_fill(struct smpp_session *s, const uint8_t *buf, size_t len)
{
	size_t used = 0, flen = 0;
	if (s->in_len < 4) {
		used = SY_MIN(4 - s->in_len, len);
		memcpy(s->inbuf + s->in_len, buf, used);
		s->in_len += used;
		if (s->in_len < 4)
			return used;
	}
	enum sy_rc rc = smpp_frame_len(s->inbuf, s->in_len, &flen);
	if (rc == SY_ERR_PARSE || flen > s->pool->cfg.inbuf_max) {
		sess_bad_length(s, s->inbuf, s->in_len);
		return len;
	}
	size_t k = SY_MIN(flen - s->in_len, len - used);
	memcpy(s->inbuf + s->in_len, buf + used, k);
	s->in_len += k;
	used += k;
	if (s->in_len == flen) {
		s->in_len = 0;
		sess_pdu(s, s->inbuf, flen);
	}
	return used;
}

/* Whole PDUs are decoded straight from the chunk; only a PDU split across
 * chunks is copied, into the session's bounded buffer. */
static void sess_feed(struct smpp_session *s, const uint8_t *buf, size_t len)
{
	while (len > 0 && !sess_closed(s)) {
		if (s->in_len > 0) {
			size_t n = sess_fill(s, buf, len);
			buf += n;
			len -= n;
			continue;
		}
		size_t n = sess_frames(s, buf, len);
		buf += n;
		len -= n;
		if (len > 0 && !sess_closed(s)) {
			SY_ASSERT(len < s->pool->cfg.inbuf_max); /* sess_frames checked the frame fits */
			memcpy(s->inbuf, buf, len);
			s->in_len = len;
			return;
		}
	}
}

/* ---- stream callbacks ---- */

static void st_on_data(void *arg, struct sy_stream *st, const uint8_t *buf, size_t len)
{
	struct smpp_session *s = arg;
	if (sess_closed(s))
		return;
	sess_enter(s);
	s->last_rx_ns = sy_env_now_ns(s->pool->env);
	sess_feed(s, buf, len);
	sess_leave(s);
}

static void st_on_close(void *arg, struct sy_stream *st, enum sy_rc why)
{
	struct smpp_session *s = arg;
	if (sess_closed(s))
		return;
	sess_enter(s);
	s->stream = NULL; /* gone after this callback */
	sess_end(s, why == SY_OK ? SMPP_CLOSE_PEER : SMPP_CLOSE_IO);
	sess_leave(s);
}

static void st_on_accept(void *arg, struct sy_stream *st)
{
	struct smpp_pool *p = arg;
	struct smpp_session *s = sess_alloc(p, true);
	if (s == NULL) {
		sy_env_stream_close(p->env, st);
		return;
	}
	s->stream = st;
	s->state = SMPP_SS_OPEN;
	sy_env_stream_set_arg(p->env, st, s);
	s->t_bind = sy_env_timer_start(p->env, p->cfg.bind_timeout_ns, bind_fire, s);
}

static const struct sy_stream_cbs lsn_cbs = {
    .on_open = st_on_accept,
    .on_data = st_on_data,
    .on_close = st_on_close,
};

enum sy_rc smpp_pool_listen(struct smpp_pool *p, const struct sy_addr *local)
{
	SY_ASSERT(p->lsn == NULL);
	return sy_env_stream_listen(p->env, local, &lsn_cbs, p, &p->lsn);
}

/* ---- client side ---- */

static void st_on_open(void *arg, struct sy_stream *st)
{
	struct smpp_session *s = arg;
	struct smpp_pool *p = s->pool;
	if (sess_closed(s))
		return;
	sess_enter(s);
	struct smpp_pdu pdu;
	size_t n;
	smpp_pdu_init(&pdu, bind_cmd_of(s->bp.type), sess_next_seq(s));
	pdu.system_id = s->bp.system_id;
	pdu.password = s->bp.password;
	pdu.system_type = s->bp.system_type;
	pdu.address_range = s->bp.address_range;
	if (smpp_pdu_encode(&pdu, p->scratch, sizeof(p->scratch), &n) != SY_OK) {
		sess_end(s, SMPP_CLOSE_BIND_FAILED); /* lengths were checked in connect */
		goto out_leave;
	}
	s->state = SMPP_SS_BINDING;
	s->ctl_seq = pdu.sequence_number;
	s->ctl_cmd = pdu.command_id;
	s->t_ctl = sy_env_timer_start(p->env, p->cfg.resp_timeout_ns, ctl_fire, s);
	(void)sess_write(s, p->scratch, n);
out_leave:
	sess_leave(s);
}

static const struct sy_stream_cbs conn_cbs = {
    .on_open = st_on_open,
    .on_data = st_on_data,
    .on_close = st_on_close,
};

static bool copy_str(char *dst, size_t max, struct sy_str src, struct sy_str *out)
{
	if (src.len > max || (src.len > 0 && memchr(src.p, '\0', src.len) != NULL))
		return false;
	if (src.len > 0)
		memcpy(dst, src.p, src.len);
	dst[src.len] = '\0';
	*out = (struct sy_str){dst, src.len};
	return true;
}

static bool bind_params_copy(struct smpp_session *s, const struct smpp_bind_params *bp)
{
	s->bp = *bp;
	return copy_str(s->sid, SMPP_SYSTEM_ID_MAX, bp->system_id, &s->bp.system_id) &&
	       copy_str(s->pwd, SMPP_PASSWORD_MAX, bp->password, &s->bp.password) &&
	       copy_str(s->stype, SMPP_SYSTEM_TYPE_MAX, bp->system_type, &s->bp.system_type) &&
	       copy_str(s->range, SMPP_ADDRESS_RANGE_MAX, bp->address_range.addr, &s->bp.address_range.addr);
}

enum sy_rc smpp_session_connect(struct smpp_pool *p, const struct sy_addr *remote, const struct smpp_bind_params *bp,
				struct smpp_session **out)
{
	SY_ASSERT(p != NULL && remote != NULL && bp != NULL && out != NULL);
	*out = NULL;
	if (bp->type < SMPP_BIND_TX || bp->type > SMPP_BIND_TRX)
		return SY_ERR_INVAL;
	struct smpp_session *s = sess_alloc(p, false);
	if (s == NULL)
		return SY_ERR_FULL;
	s->state = SMPP_SS_CONNECTING;
	enum sy_rc rc = SY_ERR_INVAL;
	if (!bind_params_copy(s, bp))
		goto out_release;
	s->bind_type = bp->type;
	rc = sy_env_stream_connect(p->env, remote, &conn_cbs, s, &s->stream);
	if (rc != SY_OK)
		goto out_release;
	*out = s;
	return SY_OK;
out_release:
	s->stream = NULL;
	sess_stop(s);
	sess_release(s);
	return rc;
}

/* ---- owner calls ---- */

enum sy_rc smpp_session_send(struct smpp_session *s, const struct smpp_pdu *req, uint64_t tag, uint32_t *seq_out)
{
	SY_ASSERT(s != NULL && req != NULL && s->state != SMPP_SS_FREE);
	struct smpp_pool *p = s->pool;
	if (s->state != SMPP_SS_BOUND)
		return SY_ERR_STATE;
	uint32_t cmd = req->command_id;
	bool tracked = cmd != SMPP_ALERT_NOTIFICATION; /* the one request with no response */
	if (smpp_cmd_is_resp(cmd) || !smpp_cmd_known(cmd))
		return SY_ERR_INVAL;
	if (tracked && s->n_out >= p->cfg.window) {
		p->st.window_full++;
		return SY_AGAIN;
	}
	size_t n;
	if (smpp_pdu_encode(req, p->scratch, sizeof(p->scratch), &n) != SY_OK)
		return SY_ERR_INVAL;
	/* The sequence number is ours to allocate: patch it in after encoding
	 * rather than copying the caller's PDU. */
	uint32_t seq = sess_next_seq(s);
	put_be32(p->scratch + 12, seq);
	enum sy_rc rc = sess_write(s, p->scratch, n);
	if (rc != SY_OK)
		return rc;
	if (tracked) {
		uint64_t deadline = sy_env_now_ns(p->env) + p->cfg.resp_timeout_ns;
		s->out[s->n_out++] = (struct smpp_out){seq, cmd, deadline, tag};
		if (s->t_resp == 0)
			s->t_resp = sy_env_timer_start(p->env, p->cfg.resp_timeout_ns, resp_fire, s);
	}
	if (seq_out != NULL)
		*seq_out = seq;
	return SY_OK;
}

static int sess_in_find(const struct smpp_session *s, uint32_t seq)
{
	for (uint32_t i = 0; i < s->n_in; i++)
		if (s->in[i].seq == seq)
			return (int)i;
	return -1;
}

static void sess_in_remove(struct smpp_session *s, int i)
{
	memmove(&s->in[i], &s->in[i + 1], (s->n_in - (uint32_t)i - 1) * sizeof(s->in[0]));
	s->n_in--;
}

enum sy_rc smpp_session_respond(struct smpp_session *s, uint32_t seq, uint32_t status, struct sy_str message_id)
{
	SY_ASSERT(s != NULL && s->state != SMPP_SS_FREE);
	struct smpp_pool *p = s->pool;
	if (sess_closed(s))
		return SY_ERR_STATE;
	int i = sess_in_find(s, seq);
	if (i < 0)
		return SY_ERR_NOTFOUND;
	uint32_t cmd = s->in[i].cmd, rcmd = cmd | SMPP_RESP_BIT;
	size_t n;
	enum sy_rc rc;
	if (cmd == SMPP_SUBMIT_SM || cmd == SMPP_DELIVER_SM || cmd == SMPP_DATA_SM) {
		rc = smpp_encode_msgid_resp(p->scratch, sizeof(p->scratch), &n, rcmd, status, seq, message_id);
	} else if (cmd == SMPP_QUERY_SM && status == ESME_ROK) {
		struct smpp_pdu r;
		smpp_pdu_init(&r, rcmd, seq);
		r.message_id = message_id;
		r.message_state = SMPP_STATE_UNKNOWN;
		rc = smpp_pdu_encode(&r, p->scratch, sizeof(p->scratch), &n);
	} else {
		rc = smpp_encode_header(p->scratch, sizeof(p->scratch), &n, rcmd, status, seq);
	}
	if (rc != SY_OK)
		return SY_ERR_INVAL;
	sess_in_remove(s, i);
	return sess_write(s, p->scratch, n);
}

enum sy_rc smpp_session_respond_pdu(struct smpp_session *s, const struct smpp_pdu *resp)
{
	SY_ASSERT(s != NULL && resp != NULL && s->state != SMPP_SS_FREE);
	struct smpp_pool *p = s->pool;
	if (sess_closed(s))
		return SY_ERR_STATE;
	int i = sess_in_find(s, resp->sequence_number);
	if (i < 0)
		return SY_ERR_NOTFOUND;
	if (resp->command_id != (s->in[i].cmd | SMPP_RESP_BIT) && resp->command_id != SMPP_GENERIC_NACK)
		return SY_ERR_INVAL;
	size_t n;
	if (smpp_pdu_encode(resp, p->scratch, sizeof(p->scratch), &n) != SY_OK)
		return SY_ERR_INVAL;
	sess_in_remove(s, i);
	return sess_write(s, p->scratch, n);
}

enum sy_rc smpp_session_unbind(struct smpp_session *s)
{
	SY_ASSERT(s != NULL && s->state != SMPP_SS_FREE);
	struct smpp_pool *p = s->pool;
	if (s->state != SMPP_SS_BOUND)
		return SY_ERR_STATE;
	uint32_t seq = sess_next_seq(s);
	s->state = SMPP_SS_UNBINDING;
	s->ctl_seq = seq;
	s->ctl_cmd = SMPP_UNBIND;
	s->t_ctl = sy_env_timer_start(p->env, p->cfg.resp_timeout_ns, ctl_fire, s);
	sess_send_hdr(s, SMPP_UNBIND, ESME_ROK, seq);
	return s->broken ? SY_ERR_IO : SY_OK;
}

void smpp_session_close(struct smpp_session *s)
{
	SY_ASSERT(s != NULL && s->state != SMPP_SS_FREE);
	if (!sess_closed(s))
		sess_stop(s);
	s->n_out = 0;
	if (s->busy == 0)
		sess_release(s);
}

void smpp_session_seq_set(struct smpp_session *s, uint32_t next_seq)
{
	SY_ASSERT(next_seq >= 1 && next_seq <= SMPP_SEQ_MAX);
	s->next_seq = next_seq;
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
