/* replay_esme.c: role = callers for a capture's SMPP binds (replay.h). Each
 * captured bind is played by an ESME on its own session: it binds to the
 * target SMSC with the scenario's credentials (the captured password is
 * not ours), then sends the capture's submit_sm PDUs again after their
 * captured gaps, decoded and re-encoded so only the sequence number
 * changes (body, data_coding, TLVs kept); deliver_sm from the SMSC are
 * answered ESME_ROK and counted. A bind copy ends when every submit_sm was
 * answered and as many deliver_sm came as the capture had (or its guard
 * ran out), then unbinds. What is compared: the bind status, each
 * submit_sm_resp status in order, the count of deliver_sm. */
#include "replay.h"

#include <stdio.h>
#include <stdlib.h>

#include "core/smpp/session.h"

#define SUBMITS_MAX 64 /* submit_sm of a bind that are compared */
#define NO_SLOT	    UINT32_MAX

struct rp_bind {
	struct replay_esme *e;
	struct smpp_session *s;
	const struct pcap_smpp_bind *b;
	uint64_t copy;
	uint32_t cur, sent, answered, delivers, slot, next_free;
	uint32_t bind_status;
	bool used, bound, timed_out, closing;
	uint64_t last_at;
	sy_timer_id t_step, t_guard;
	uint32_t got[SUBMITS_MAX];
};

struct replay_esme {
	const struct sy_env *env;
	struct replay_cfg cfg;
	const struct pcap_flows *f;
	struct smpp_pool *pool;
	uint64_t *offs;
	uint64_t total, next, start_ns;
	sy_timer_id t_start;
	struct rp_bind *binds;
	uint32_t bind_max, free_head;
	struct replay_stats st;
};

static void step(struct rp_bind *r);

/* ---- the capture's view of a bind ---- */

static bool is_submit(const struct pcap_smpp *p)
{
	return p->from == PCAP_SIDE_CALLER && p->command_id == SMPP_SUBMIT_SM;
}

/* The status the SMSC answered captured submit p with (UINT32_MAX: none seen). */
static uint32_t want_status(const struct pcap_smpp_bind *b, const struct pcap_smpp *p)
{
	for (uint32_t i = 0; i < b->pdu_n; i++)
		if (b->pdus[i].from == PCAP_SIDE_CALLEE && b->pdus[i].command_id == SMPP_SUBMIT_SM_RESP &&
		    b->pdus[i].seq == p->seq)
			return b->pdus[i].status;
	return UINT32_MAX;
}

static uint32_t captured_delivers(const struct pcap_smpp_bind *b)
{
	return b->delivers;
}

/* "bind 0, submit_sm 0 0 0, deliver_sm 3" of the capture (got NULL) or of r. */
static void seq_fmt(const struct rp_bind *r, bool want, char *buf, size_t cap)
{
	const struct pcap_smpp_bind *b = r->b;
	size_t len = 0;
	uint32_t bs = want ? b->bind_status : r->bind_status;
	int w =
	    bs == UINT32_MAX ? snprintf(buf, cap, "bind -, submit_sm") : snprintf(buf, cap, "bind %x, submit_sm", bs);
	len = w > 0 ? SY_MIN((size_t)w, cap - 1) : 0;
	uint32_t k = 0;
	for (uint32_t i = 0; i < b->pdu_n && k < SUBMITS_MAX && len + 12 < cap; i++) {
		if (!is_submit(&b->pdus[i]))
			continue;
		uint32_t s = want ? want_status(b, &b->pdus[i]) : r->got[k];
		w = s == UINT32_MAX ? snprintf(buf + len, cap - len, " -") : snprintf(buf + len, cap - len, " %x", s);
		len += w > 0 ? (size_t)w : 0;
		k++;
	}
	snprintf(buf + len, cap - len, ", deliver_sm %u", want ? captured_delivers(b) : r->delivers);
}

/* ---- a bind copy's life ---- */

static void finish(struct rp_bind *r)
{
	struct replay_esme *e = r->e;
	char want[REPLAY_SEQ_MAX], got[REPLAY_SEQ_MAX];
	seq_fmt(r, true, want, sizeof(want));
	seq_fmt(r, false, got, sizeof(got));
	bool same = strcmp(want, got) == 0;
	if (r->timed_out)
		e->st.failed++;
	else
		e->st.completed++, e->st.matching += same, e->st.divergent += !same;
	if ((r->timed_out || !same) && e->st.div_n < REPLAY_DIVERGENCES_MAX) {
		struct replay_divergence *dv = &e->st.div[e->st.div_n++];
		snprintf(dv->call_id, sizeof(dv->call_id), "smpp %s", r->b->system_id);
		dv->copy = r->copy;
		snprintf(dv->want, sizeof(dv->want), "%s", want);
		snprintf(dv->got, sizeof(dv->got), "%.*s%s", (int)(sizeof(dv->got) - 12), got,
			 r->timed_out ? " (timeout)" : "");
	}
	sy_env_timer_cancel(e->env, r->t_step);
	sy_env_timer_cancel(e->env, r->t_guard);
	r->t_step = r->t_guard = 0;
	r->used = false;
	r->next_free = e->free_head;
	e->free_head = r->slot;
	e->st.active--;
}

/* Ends the copy: unbinds (finish comes with on_close) or finishes now. */
static void end(struct rp_bind *r, bool timeout)
{
	r->timed_out |= timeout;
	if (r->closing)
		return;
	r->closing = true;
	if (r->s != NULL && r->bound && smpp_session_unbind(r->s) == SY_OK)
		return;
	if (r->s != NULL) {
		smpp_session_set_user(r->s, NULL);
		smpp_session_close(r->s);
		r->s = NULL;
	}
	finish(r);
}

static void on_guard(void *arg)
{
	struct rp_bind *r = arg;
	r->t_guard = 0;
	end(r, true);
}

static void arm_guard(struct rp_bind *r, uint64_t ns)
{
	sy_env_timer_cancel(r->e->env, r->t_guard);
	r->t_guard = sy_env_timer_start(r->e->env, ns + 64 * r->e->cfg.t1_ns, on_guard, r);
}

/* Everything sent and answered, every receipt in: done. */
static void maybe_done(struct rp_bind *r)
{
	uint32_t submits = r->b->submits;
	if (r->cur >= r->b->pdu_n && r->answered >= r->sent && r->sent >= SY_MIN(submits, SUBMITS_MAX) &&
	    r->delivers >= captured_delivers(r->b))
		end(r, false);
}

static void on_step(void *arg)
{
	struct rp_bind *r = arg;
	struct replay_esme *e = r->e;
	const struct pcap_smpp *p = &r->b->pdus[r->cur];
	struct smpp_pdu pdu;
	uint32_t st, seq;
	r->t_step = 0;
	uint32_t k = r->sent++;
	if (smpp_pdu_decode(p->pdu, p->pdu + p->len, &pdu, &st) == SY_OK &&
	    smpp_session_send(r->s, &pdu, k, &seq) == SY_OK) {
		e->st.requests++;
	} else {
		e->st.rx_bad++; /* a captured submit_sm that does not go out again: a divergence */
		r->answered++;
		r->got[k] = UINT32_MAX - 1;
	}
	r->last_at = p->at_ns;
	r->cur++;
	step(r);
}

/* Schedules the next captured submit_sm, or waits for the end. */
static void step(struct rp_bind *r)
{
	while (r->cur < r->b->pdu_n && (!is_submit(&r->b->pdus[r->cur]) || r->sent >= SUBMITS_MAX))
		r->cur++;
	if (r->cur >= r->b->pdu_n) {
		arm_guard(r, r->e->cfg.max_gap_ns ? r->e->cfg.max_gap_ns : REPLAY_MAX_GAP_NS);
		maybe_done(r);
		return;
	}
	const struct pcap_smpp *p = &r->b->pdus[r->cur];
	bool cl;
	uint64_t g = replay_gap(&r->e->cfg, p->at_ns > r->last_at ? p->at_ns - r->last_at : 0, &cl);
	r->e->st.gaps_clamped += cl;
	r->t_step = sy_env_timer_start(r->e->env, g, on_step, r);
}

/* ---- session callbacks ---- */

static void on_bound(void *arg, struct smpp_session *s, uint32_t status)
{
	struct rp_bind *r = smpp_session_user(s);
	if (r == NULL)
		return;
	r->bind_status = status;
	r->bound = status == 0;
	if (r->bound) {
		r->last_at = 0;
		step(r);
	}
}

static void on_request(void *arg, struct smpp_session *s, const struct smpp_pdu *req)
{
	struct rp_bind *r = smpp_session_user(s);
	if (smpp_session_respond(s, req->sequence_number, ESME_ROK, SY_STR_NULL) != SY_OK || r == NULL)
		return;
	if (req->command_id == SMPP_DELIVER_SM) {
		r->delivers++;
		r->e->st.answered++;
		maybe_done(r);
	}
}

static void on_response(void *arg, struct smpp_session *s, enum smpp_req_outcome how, uint32_t seq, uint64_t tag,
			const struct smpp_pdu *resp)
{
	struct rp_bind *r = smpp_session_user(s);
	if (r == NULL || tag >= SUBMITS_MAX)
		return;
	if (how != SMPP_REQ_RESP) {
		end(r, true);
		return;
	}
	r->got[tag] = resp->command_status;
	r->answered++;
	maybe_done(r);
}

static void on_close(void *arg, struct smpp_session *s, enum smpp_close_reason why)
{
	struct rp_bind *r = smpp_session_user(s);
	if (r == NULL)
		return;
	r->s = NULL;
	if (!r->closing && why == SMPP_CLOSE_BIND_FAILED) {
		r->closing = true; /* the bind's status is the divergence */
	} else if (!r->closing) {
		r->closing = true;
		r->timed_out = true; /* the session died before the script ended */
	}
	finish(r);
}

static const struct smpp_sess_ops ops = {
    .on_bound = on_bound, .on_request = on_request, .on_response = on_response, .on_close = on_close};

/* ---- starting copies ---- */

static void copy_start(struct replay_esme *e)
{
	uint64_t i = e->next++;
	if (e->free_head == NO_SLOT) {
		e->st.skipped++;
		return;
	}
	struct rp_bind *r = &e->binds[e->free_head];
	e->free_head = r->next_free;
	uint32_t slot = r->slot;
	memset(r, 0, sizeof(*r));
	r->e = e;
	r->slot = slot;
	r->used = true;
	r->copy = i + 1;
	r->b = &e->f->binds[i % e->f->bind_n];
	for (uint32_t k = 0; k < SUBMITS_MAX; k++)
		r->got[k] = UINT32_MAX; /* never answered */
	r->bind_status = UINT32_MAX;
	e->st.dialogs++;
	e->st.active++;
	struct smpp_bind_params bp = {.type = r->b->bind_command == SMPP_BIND_TRANSMITTER ? SMPP_BIND_TX
					      : r->b->bind_command == SMPP_BIND_RECEIVER  ? SMPP_BIND_RX
											  : SMPP_BIND_TRX,
				      .system_id = sy_str_from(e->cfg.system_id),
				      .password = sy_str_from(e->cfg.password)};
	if (smpp_session_connect(e->pool, &e->cfg.target, &bp, &r->s) != SY_OK) {
		r->timed_out = r->closing = true;
		finish(r);
		return;
	}
	smpp_session_set_user(r->s, r);
	arm_guard(r, 10 * SY_NS_PER_S); /* the bind */
}

static void on_start(void *arg)
{
	struct replay_esme *e = arg;
	uint64_t now = sy_env_now_ns(e->env);
	e->t_start = 0;
	while (e->next < e->total &&
	       e->start_ns + e->offs[e->next % e->f->bind_n] + e->next / e->f->bind_n * e->offs[e->f->bind_n] <= now)
		copy_start(e);
	if (e->next >= e->total)
		return;
	uint64_t at = e->start_ns + e->offs[e->next % e->f->bind_n] + e->next / e->f->bind_n * e->offs[e->f->bind_n];
	e->t_start = sy_env_timer_start(e->env, at - now, on_start, e);
}

/* Offsets of the binds' starts in a pass, as replay_offsets does for dialogs. */
static void offsets(struct replay_esme *e)
{
	bool cl;
	uint64_t at = 0;
	for (uint32_t k = 0; k < e->f->bind_n; k++) {
		if (k > 0 && e->cfg.pace == REPLAY_PACE_RATE)
			at += 1000 * SY_NS_PER_S / e->cfg.rate_milli;
		else if (k > 0)
			at += replay_gap(&e->cfg, e->f->binds[k].start_ns - e->f->binds[k - 1].start_ns, &cl);
		e->offs[k] = at;
	}
	uint64_t last = replay_gap(&e->cfg, e->f->binds[e->f->bind_n - 1].duration_ns, &cl);
	e->offs[e->f->bind_n] =
	    e->cfg.pace == REPLAY_PACE_RATE ? at + 1000 * SY_NS_PER_S / e->cfg.rate_milli : at + last + SY_NS_PER_MS;
}

enum sy_rc replay_esme_create(const struct sy_env *env, const struct replay_cfg *cfg, struct replay_esme **out)
{
	if (cfg->flows == NULL || cfg->flows->bind_n == 0 || cfg->system_id == NULL || cfg->password == NULL)
		return SY_ERR_INVAL;
	struct replay_esme *e = calloc(1, sizeof(*e));
	if (e == NULL)
		return SY_ERR_NOMEM;
	e->env = env;
	e->cfg = *cfg;
	e->f = cfg->flows;
	if (e->cfg.t1_ns == 0)
		e->cfg.t1_ns = 500 * SY_NS_PER_MS;
	uint64_t n = (uint64_t)e->f->bind_n * (e->cfg.loop ? e->cfg.loop : 1);
	e->total = e->cfg.limit && e->cfg.limit < n ? e->cfg.limit : n;
	e->bind_max = (uint32_t)SY_MIN(e->total, 256);
	enum sy_rc rc = SY_ERR_NOMEM;
	e->offs = calloc(e->f->bind_n + 1, sizeof(*e->offs));
	e->binds = calloc(e->bind_max, sizeof(*e->binds));
	if (e->offs == NULL || e->binds == NULL)
		goto out_free;
	for (uint32_t i = 0; i < e->bind_max; i++) {
		e->binds[i].slot = i;
		e->binds[i].next_free = i + 1 < e->bind_max ? i + 1 : NO_SLOT;
	}
	offsets(e);
	struct smpp_pool_cfg pc = {.env = env, .sess_max = e->bind_max, .window = 10, .ops = &ops, .arg = e};
	if ((rc = smpp_pool_create(&pc, &e->pool)) != SY_OK)
		goto out_free;
	*out = e;
	return SY_OK;
out_free:
	free(e->offs);
	free(e->binds);
	free(e);
	return rc;
}

void replay_esme_start(struct replay_esme *e)
{
	e->start_ns = sy_env_now_ns(e->env) + e->cfg.start_ns;
	e->t_start = sy_env_timer_start(e->env, e->cfg.start_ns, on_start, e);
}

bool replay_esme_done(const struct replay_esme *e)
{
	return e->next >= e->total && e->st.active == 0;
}

uint64_t replay_esme_span_ns(const struct replay_esme *e)
{
	uint64_t i = e->total ? e->total - 1 : 0;
	return e->cfg.start_ns + e->offs[i % e->f->bind_n] + i / e->f->bind_n * e->offs[e->f->bind_n];
}

const struct replay_stats *replay_esme_stats(const struct replay_esme *e)
{
	return &e->st;
}

void replay_esme_destroy(struct replay_esme *e)
{
	if (e == NULL)
		return;
	sy_env_timer_cancel(e->env, e->t_start);
	for (uint32_t i = 0; i < e->bind_max; i++) {
		sy_env_timer_cancel(e->env, e->binds[i].t_step);
		sy_env_timer_cancel(e->env, e->binds[i].t_guard);
	}
	smpp_pool_destroy(e->pool);
	free(e->offs);
	free(e->binds);
	free(e);
}
