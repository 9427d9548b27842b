/* esme.c: the SMPP application population. A message is a record with the
 * seed of its text, so parts are rebuilt on every (re)send instead of being
 * kept; each part is a segment record that outlives the message: it holds the
 * id the switch returned until the receipt, then only the id is remembered,
 * in the done window (for duplicate receipts). This file creates
 * the population, keeps its binds, and handles what the switch answers
 * (responses, receipts); what it sends is in esme_send.c. */
#include "esme_int.h"

#include <stdio.h>
#include <stdlib.h>

static const struct smpp_sess_ops esme_ops;

/* ---- creation ---- */

static void cfg_defaults(struct esme_cfg *c)
{
	if (c->name == NULL)
		c->name = "esme";
	if (c->password == NULL)
		c->password = "";
	if (c->system_type == NULL)
		c->system_type = "";
	if (c->src_pattern == NULL)
		c->src_pattern = "1555XXXXXXX";
	c->binds = c->binds ? c->binds : 1;
	c->window = c->window ? c->window : 10;
	c->text_len_min = c->text_len_min ? c->text_len_min : 20;
	c->text_len_max = c->text_len_max >= c->text_len_min ? c->text_len_max : c->text_len_min;
	c->queue_max = c->queue_max ? c->queue_max : 1000;
	c->seg_max = c->seg_max ? c->seg_max : 65536;
	c->resp_timeout_ns = c->resp_timeout_ns ? c->resp_timeout_ns : 10 * SY_NS_PER_S;
	c->throttle_backoff_ns = c->throttle_backoff_ns ? c->throttle_backoff_ns : 200 * SY_NS_PER_MS;
	c->throttle_retries_max = c->throttle_retries_max ? c->throttle_retries_max : 50;
	c->rebind_min_ns = c->rebind_min_ns ? c->rebind_min_ns : 500 * SY_NS_PER_MS;
	c->rebind_max_ns = c->rebind_max_ns >= c->rebind_min_ns ? c->rebind_max_ns : 8 * SY_NS_PER_S;
	c->rebind_tries_max = c->rebind_tries_max ? c->rebind_tries_max : 20;
}

/* Bind i's system_id: the account, or its group's member i mod members
 * (named as core/billing/callbill.c's callbill_member names them). False
 * when it is longer than SMPP allows. */
static bool bind_system_id(const struct esme_cfg *c, uint32_t i, char out[SMPP_SYSTEM_ID_MAX + 1])
{
	int n = c->members > 1 ? snprintf(out, SMPP_SYSTEM_ID_MAX + 1, "%s-%u", c->system_id, i % c->members)
			       : snprintf(out, SMPP_SYSTEM_ID_MAX + 1, "%s", c->system_id);
	return n > 0 && n <= SMPP_SYSTEM_ID_MAX;
}

static bool cfg_ok(const struct esme_cfg *c)
{
	char sid[SMPP_SYSTEM_ID_MAX + 1];
	if (c->system_id == NULL || strlen(c->system_id) == 0 || !bind_system_id(c, c->members - 1, sid))
		return false;
	if (strlen(c->password) > SMPP_PASSWORD_MAX || strlen(c->system_type) > SMPP_SYSTEM_TYPE_MAX)
		return false;
	if (c->tps_milli == 0 || c->binds > ESME_BINDS_MAX || c->dest_n == 0 || c->dest_n > ESME_DEST_MAX)
		return false;
	if (c->text_len_max > ESME_TEXT_CHARS_MAX || c->ucs2_ppm > 1000000 || strlen(c->src_pattern) > SMPP_ADDR_MAX)
		return false;
	if (c->seg_max < ESME_SEG_MAX || c->validity_s >= 100u * 86400u)
		return false;
	for (size_t i = 0; i < c->dest_n; i++)
		if (c->dest[i].pattern == NULL || strlen(c->dest[i].pattern) > SMPP_ADDR_MAX)
			return false;
	return true;
}

/* Relative validity_period "YYMMDDhhmmss000R" (SMPP 3.4 §7.1.1.2). */
static void validity_fmt(uint32_t s, char out[SMPP_TIME_MAX + 1])
{
	out[0] = '\0';
	if (s == 0)
		return;
	char tmp[48];
	s = SY_MIN(s, 99u * 86400 - 1); /* two digits of days */
	snprintf(tmp, sizeof(tmp), "0000%02u%02u%02u%02u000R", s / 86400, s / 3600 % 24, s / 60 % 60, s % 60);
	memcpy(out, tmp, SMPP_TIME_MAX);
	out[SMPP_TIME_MAX] = '\0';
}

static enum sy_rc pools_alloc(struct esme *e)
{
	uint32_t msg_max = e->cfg.queue_max + e->cfg.binds * e->cfg.window;
	if (sy_pool_init(&e->msgs, sizeof(struct esme_msg), msg_max) != SY_OK ||
	    sy_pool_init(&e->segs, sizeof(struct esme_seg), e->cfg.seg_max) != SY_OK)
		return SY_ERR_NOMEM;
	e->msg_free = e->seg_free = NIL;
	e->q_head = e->q_tail = e->r_head = e->r_tail = NIL;
	e->done.cap = e->cfg.seg_max;
	return SY_OK;
}

static enum sy_rc pool_make(struct esme *e)
{
	struct smpp_pool_cfg pc = {
	    .env = e->env,
	    .sess_max = 2 * e->cfg.binds,
	    .window = e->cfg.window,
	    .resp_timeout_ns = e->cfg.resp_timeout_ns,
	    .enquire_interval_ns = e->cfg.enquire_interval_ns,
	    .ops = &esme_ops,
	    .arg = e,
	};
	return smpp_pool_create(&pc, &e->pool);
}

enum sy_rc esme_create(const struct sy_env *env, const struct esme_cfg *cfg, struct esme **out)
{
	struct esme *e = calloc(1, sizeof(*e));
	if (e == NULL)
		return SY_ERR_NOMEM;
	e->env = env;
	e->cfg = *cfg;
	cfg_defaults(&e->cfg);
	enum sy_rc rc = SY_ERR_INVAL;
	if (!cfg_ok(&e->cfg))
		goto out_free;
	for (size_t i = 0; i < e->cfg.dest_n; i++)
		e->weight_total += e->cfg.dest[i].weight;
	validity_fmt(e->cfg.validity_s, e->validity);
	sy_rng_init_split(&e->rng, sy_env_seed(env), "esme", e->cfg.index);
	sy_hist_init(&e->st.submit_resp);
	sy_hist_init(&e->st.receipt);
	for (uint32_t i = 0; i < e->cfg.binds; i++) {
		e->binds[i].e = e;
		bool fits = bind_system_id(&e->cfg, i, e->binds[i].system_id);
		SY_ASSERT(fits); /* cfg_ok tried the longest */
	}
	rc = pools_alloc(e);
	if (rc != SY_OK)
		goto out_free;
	rc = pool_make(e);
	if (rc != SY_OK)
		goto out_free;
	*out = e;
	return SY_OK;
out_free:
	free(e->live.e);
	esme__done_free(&e->done);
	sy_pool_free(&e->msgs);
	sy_pool_free(&e->segs);
	free(e);
	return rc;
}

void esme_destroy(struct esme *e)
{
	if (e == NULL)
		return;
	sy_env_timer_cancel(e->env, e->t_arrival);
	for (uint32_t i = 0; i < e->cfg.binds; i++)
		sy_env_timer_cancel(e->env, e->binds[i].t_rebind);
	sy_env_timer_cancel(e->env, e->t_pause);
	smpp_pool_destroy(e->pool);
	for (uint32_t i = 0; e->ids_heap > 0 && i < sy_pool_used(&e->segs); i++)
		esme__seg_id_clear(e, esme__seg(e, i));
	free(e->live.e);
	esme__done_free(&e->done);
	sy_pool_free(&e->msgs);
	sy_pool_free(&e->segs);
	free(e);
}

const struct esme_stats *esme_stats(const struct esme *e)
{
	return &e->st;
}

uint32_t esme_bound(const struct esme *e)
{
	uint32_t n = 0;
	for (uint32_t i = 0; i < e->cfg.binds; i++)
		n += e->binds[i].bound;
	return n;
}

uint64_t esme_in_flight(const struct esme *e)
{
	return e->live_segs;
}

uint64_t esme_each_unreceipted(const struct esme *e, esme_id_fn fn, void *arg)
{
	uint64_t n = 0;
	for (uint32_t i = 0; i < sy_pool_used(&e->segs); i++) {
		const struct esme_seg *g = esme__seg(e, i);
		if (g->state != S_ACCEPTED)
			continue;
		n++;
		if (fn != NULL)
			fn(arg, sy_str_from(esme__seg_id(g)), g->msg_no, g->part);
	}
	return n;
}

/* ---- binds ---- */

static void bind_connect(struct esme_bind *b);

static void rebind_fire(void *arg)
{
	struct esme_bind *b = arg;
	b->t_rebind = 0;
	bind_connect(b);
}

/* Exponential backoff, bounded in delay and in consecutive failures. */
static void bind_retry_later(struct esme_bind *b)
{
	struct esme *e = b->e;
	if (e->unbinding)
		return;
	if (++b->fails > e->cfg.rebind_tries_max) {
		e->st.binds_given_up++;
		SY_LOG(e->env, SY_LOG_WARN, "esme %s: bind %u given up", e->cfg.name, (unsigned)(b - e->binds));
		return;
	}
	uint64_t d = e->cfg.rebind_min_ns;
	for (uint32_t i = 1; i < b->fails && d < e->cfg.rebind_max_ns; i++)
		d *= 2;
	b->t_rebind = sy_env_timer_start(e->env, d < e->cfg.rebind_max_ns ? d : e->cfg.rebind_max_ns, rebind_fire, b);
}

static void bind_connect(struct esme_bind *b)
{
	struct esme *e = b->e;
	struct smpp_bind_params bp = {
	    .type = SMPP_BIND_TRX,
	    .system_id = sy_str_from(b->system_id),
	    .password = sy_str_from(e->cfg.password),
	    .system_type = sy_str_from(e->cfg.system_type),
	};
	if (smpp_session_connect(e->pool, &e->cfg.target, &bp, &b->s) != SY_OK) {
		b->s = NULL;
		e->st.bind_failures++;
		bind_retry_later(b);
		return;
	}
	smpp_session_set_user(b->s, b);
}

void esme_start(struct esme *e)
{
	SY_ASSERT(!e->started);
	e->started = true;
	uint64_t now = sy_env_now_ns(e->env);
	for (uint32_t i = 0; i < e->cfg.binds; i++)
		bind_connect(&e->binds[i]);
	/* Offsets are relative to this moment; keep them absolute from here on. */
	if (e->cfg.stop_ns != 0)
		e->cfg.stop_ns += now;
	e->next_arrival_ns = now + e->cfg.start_ns;
	esme__schedule_arrival(e);
}

void esme_stop(struct esme *e)
{
	e->stopping = true;
	sy_env_timer_cancel(e->env, e->t_arrival);
	e->t_arrival = 0;
}

void esme_unbind(struct esme *e)
{
	esme_stop(e);
	e->unbinding = true;
	for (uint32_t i = 0; i < e->cfg.binds; i++) {
		struct esme_bind *b = &e->binds[i];
		sy_env_timer_cancel(e->env, b->t_rebind);
		b->t_rebind = 0;
		if (b->s == NULL)
			continue;
		if (b->bound && smpp_session_unbind(b->s) == SY_OK)
			continue;
		smpp_session_close(b->s);
		b->s = NULL;
		b->bound = false;
	}
}

/* ---- session callbacks ---- */

static void on_bound(void *arg, struct smpp_session *s, uint32_t status)
{
	struct esme *e = arg;
	struct esme_bind *b = smpp_session_user(s);
	if (status != ESME_ROK)
		return; /* on_close(BIND_FAILED) follows: counted and retried there */
	e->st.binds_ok++;
	e->st.rebinds += b->ever_bound;
	b->ever_bound = b->bound = true;
	b->broken = false;
	b->fails = 0;
	esme__pump(e);
}

void esme__on_close(void *arg, struct smpp_session *s, enum smpp_close_reason why)
{
	struct esme *e = arg;
	struct esme_bind *b = smpp_session_user(s);
	SY_ASSERT(b != NULL && b->s == s);
	SY_LOG(e->env, SY_LOG_INFO, "esme %s: session closed: %s", e->cfg.name, smpp_close_reason_str(why));
	e->st.session_drops += b->bound;
	e->st.bind_failures += !b->bound;
	b->s = NULL;
	b->bound = false;
	bind_retry_later(b);
}

static void rejected(struct esme *e, struct esme_seg *g, uint32_t status)
{
	e->st.segs_rejected++;
	if (status < 256)
		e->st.rejected_by_status[status]++;
	else
		e->st.rejected_other_status++;
	esme__msg_answer(e, g, false);
	esme__seg_free(e, g);
}

static void pause_fire(void *arg)
{
	struct esme *e = arg;
	e->t_pause = 0;
	esme__pump(e);
}

/* The switch is over our account's rate: the part goes back to the head of
 * the queue and all sending pauses for a while (retrying each part on its
 * own timer would keep the switch saturated and starve unlucky parts). */
void esme__throttled(struct esme *e, struct esme_seg *g)
{
	e->st.throttled++;
	if (++g->throttles > e->cfg.throttle_retries_max || g->throttles == UINT8_MAX) {
		e->st.throttle_gave_up++;
		rejected(e, g, ESME_RTHROTTLED);
		return;
	}
	esme__q_push(e, g, true);
	if (e->t_pause == 0)
		e->t_pause = sy_env_timer_start(e->env, e->cfg.throttle_backoff_ns, pause_fire, e);
}

void esme__accepted(struct esme *e, struct esme_seg *g, struct sy_str id, uint64_t v)
{
	SY_ASSERT(id.len <= SMPP_MESSAGE_ID_MAX);
	e->st.segs_accepted++;
	esme__seg_id_set(e, g, id);
	if (e->cfg.acked_out != NULL)
		fprintf(e->cfg.acked_out, "%s\n", esme__seg_id(g));
	esme__msg_answer(e, g, true);
	if (e->cfg.registered_delivery) {
		esme__seg_accepted(e, g, v);
	} else {
		esme__seg_done(e, g, v);
	}
}

static void on_response(void *arg, struct smpp_session *s, enum smpp_req_outcome how, uint32_t seq, uint64_t tag,
			const struct smpp_pdu *resp)
{
	struct esme *e = arg;
	uint32_t idx = (uint32_t)tag;
	SY_ASSERT(idx < sy_pool_used(&e->segs));
	bool ok = how == SMPP_REQ_RESP && resp->command_id == SMPP_SUBMIT_SM_RESP && resp->command_status == ESME_ROK;
	uint64_t v = ok ? esme__id_value(resp->message_id) : 0;
	if (ok && e->cfg.registered_delivery)
		esme__live_prefetch(e, v); /* its slot's miss overlaps the record's */
	struct esme_seg *g = esme__seg(e, idx);
	SY_ASSERT(g->gen == (uint32_t)(tag >> 32) && g->state == S_INFLIGHT);
	if (how == SMPP_REQ_CLOSED) {
		/* The answer is unknown: send again (a switch with idempotency
		 * keys, or the receipt matching, shows any duplicate). */
		e->st.requeued_closed++;
		esme__q_push(e, g, true);
		return;
	}
	if (how == SMPP_REQ_TIMEOUT) {
		e->st.resp_timeouts++;
		esme__msg_answer(e, g, false);
		esme__seg_free(e, g);
		return;
	}
	sy_hist_add(&e->st.submit_resp, sy_env_now_ns(e->env) - g->last_sent_ns);
	uint32_t status = resp->command_status;
	if (resp->command_id == SMPP_GENERIC_NACK && status == ESME_ROK)
		status = ESME_RSYSERR;
	if (status == ESME_ROK)
		esme__accepted(e, g, resp->message_id, ok ? v : esme__id_value(resp->message_id));
	else if (status == ESME_RTHROTTLED)
		esme__throttled(e, g);
	else
		rejected(e, g, status);
	esme__pump(e);
}

/* ---- receipts ---- */

/* The id and state from the TLVs, else from the receipt text. */
static bool receipt_fields(const struct smpp_pdu *req, struct sy_str *id, uint8_t *state)
{
	const struct smpp_tlvs *t = &req->tlv;
	bool have_id = (t->present & SMPP_TLV_RECEIPTED_MESSAGE_ID) != 0;
	bool have_state = (t->present & SMPP_TLV_MESSAGE_STATE) != 0;
	*id = have_id ? t->receipted_message_id : SY_STR_NULL;
	*state = have_state ? t->message_state : 0;
	if (have_id && have_state)
		return true;
	struct sy_str text = req->short_message;
	if (text.len == 0 && (t->present & SMPP_TLV_MESSAGE_PAYLOAD))
		text = t->message_payload;
	struct smpp_dlr d;
	if (smpp_dlr_parse(text, &d) != SY_OK)
		return false;
	if (!have_id)
		*id = d.id;
	if (!have_state)
		*state = d.state;
	return id->len > 0;
}

static void receipt_count(struct esme *e, uint8_t state)
{
	if (state == SMPP_STATE_DELIVERED)
		e->st.rcpt_delivered++;
	else if (state == SMPP_STATE_UNDELIVERABLE)
		e->st.rcpt_undeliverable++;
	else if (state == SMPP_STATE_EXPIRED)
		e->st.rcpt_expired++;
	else
		e->st.rcpt_other++;
}

void esme__receipt(struct esme *e, const struct smpp_pdu *req)
{
	struct sy_str id;
	uint8_t state;
	e->st.receipts++;
	if (!receipt_fields(req, &id, &state)) {
		e->st.rcpt_bad++;
		return;
	}
	bool intermediate = state == SMPP_STATE_ENROUTE || state == SMPP_STATE_ACCEPTED;
	uint64_t v = esme__id_value(id);
	esme__receipt_prefetch(e, v);
	struct esme_seg *g = esme__live_find(e, id, v);
	if (g == NULL) {
		/* not awaiting a receipt: receipted before, or never ours */
		if (!esme__done_has(&e->done, v))
			e->st.rcpt_unknown++;
		else if (intermediate)
			e->st.rcpt_intermediate++;
		else
			e->st.rcpt_duplicate++;
		return;
	}
	if (intermediate) {
		e->st.rcpt_intermediate++;
		return;
	}
	SY_ASSERT(g->state == S_ACCEPTED);
	receipt_count(e, state);
	sy_hist_add(&e->st.receipt, sy_env_now_ns(e->env) - g->first_sent_ns);
	esme__seg_done(e, g, v);
}

static void on_request(void *arg, struct smpp_session *s, const struct smpp_pdu *req)
{
	struct esme *e = arg;
	uint32_t cmd = req->command_id;
	if (cmd == SMPP_ALERT_NOTIFICATION)
		return;
	if (cmd != SMPP_DELIVER_SM) {
		(void)smpp_session_respond(s, req->sequence_number, ESME_RINVCMDID, SY_STR(""));
		return;
	}
	(void)smpp_session_respond(s, req->sequence_number, ESME_ROK, SY_STR(""));
	if ((req->esm_class & SMPP_ESM_TYPE_MASK) == SMPP_ESM_TYPE_DELIVERY_RECEIPT)
		esme__receipt(e, req);
	else
		e->st.mo_received++;
}

static const struct smpp_sess_ops esme_ops = {
    .on_bound = on_bound,
    .on_request = on_request,
    .on_response = on_response,
    .on_close = esme__on_close,
};
