/* smsc_up.c: the SMSC's carrier side: keeps `binds` transceiver sessions per
 * upstream carrier (rebinding with backoff), routes each message over the
 * carriers of its longest prefix in failover order, spreads submits
 * round-robin over sessions with window space, retries temporary failures
 * with exponential backoff, matches carrier receipts by upstream id and
 * drives every message to its final state (mark, MDR, receipt). */
#include <stdio.h>
#include <stdlib.h>

#include "core/smpp/smsc_int.h"
#include "core/smpp/text.h"

static void bind_connect(struct smsc_bind *b);

/* ---- binds ---- */

static void reconnect_fire(void *arg)
{
	struct smsc_bind *b = arg;
	b->t_reconnect = 0;
	bind_connect(b);
}

static void bind_retry_later(struct smsc_bind *b)
{
	struct smsc *s = b->c->smsc;
	b->s = NULL;
	b->bound = false;
	b->backoff_ns =
	    b->backoff_ns == 0 ? s->cfg.reconnect_min_ns : SY_MIN(b->backoff_ns * 2, s->cfg.reconnect_max_ns);
	b->t_reconnect = sy_env_timer_start(s->env, b->backoff_ns, reconnect_fire, b);
}

static void bind_connect(struct smsc_bind *b)
{
	struct smsc *s = b->c->smsc;
	const struct smsc_carrier_cfg *cc = b->c->cfg;
	struct smpp_bind_params bp = {
	    .type = SMPP_BIND_TRX, .system_id = sy_str_from(cc->system_id), .password = sy_str_from(cc->password)};
	struct smpp_session *ss;
	if (smpp_session_connect(s->cli, &cc->addr, &bp, &ss) != SY_OK) {
		bind_retry_later(b);
		return;
	}
	smpp_session_set_user(ss, b);
	b->s = ss;
	b->bound = false;
}

static void carrier_pump(struct smsc *s, struct smsc_carrier *c);

static void cli_on_bound(void *arg, struct smpp_session *ss, uint32_t status)
{
	struct smsc *s = arg;
	struct smsc_bind *b = smpp_session_user(ss);
	if (status != ESME_ROK) {
		SY_LOG(s->env, SY_LOG_WARN, "smsc: carrier %s refused bind: %s", b->c->cfg->name,
		       smpp_status_name(status));
		return; /* on_close follows */
	}
	b->bound = true;
	b->backoff_ns = 0;
	carrier_pump(s, b->c);
}

static void cli_on_close(void *arg, struct smpp_session *ss, enum smpp_close_reason why)
{
	struct smsc_bind *b = smpp_session_user(ss);
	SY_LOG(b->c->smsc->env, SY_LOG_INFO, "smsc: carrier %s link closed: %s", b->c->cfg->name,
	       smpp_close_reason_str(why));
	bind_retry_later(b);
}

enum sy_rc smsc__carriers_start(struct smsc *s, char *err, size_t errlen)
{
	uint32_t n = s->cfg.carrier_n, sess = 0, window = 1;
	if (n > SMSC_CARRIERS_MAX) {
		snprintf(err, errlen, "smsc: %u carriers, at most %d", n, SMSC_CARRIERS_MAX);
		return SY_ERR_INVAL;
	}
	s->carriers = calloc(n + 1, sizeof(*s->carriers));
	if (s->carriers == NULL)
		return SY_ERR_NOMEM;
	for (uint32_t i = 0; i < n; i++) {
		const struct smsc_carrier_cfg *cc = &s->cfg.carriers[i];
		struct smsc_carrier *c = &s->carriers[i];
		*c = (struct smsc_carrier){.smsc = s, .cfg = cc, .idx = i};
		c->bind_n = SY_MIN(SY_MAX(cc->binds, 1u), (uint32_t)SMSC_BINDS_MAX);
		sess += c->bind_n;
		window = SY_MAX(window, cc->window != 0 ? cc->window : 100);
		for (uint32_t p = 0; p < cc->prefix_n; p++) {
			if (route_table_add(&s->rt, sy_str_from(cc->prefixes[p]), (uint16_t)i, cc->priority) != SY_OK) {
				snprintf(err, errlen, "smsc: carrier %s: bad prefix '%s'", cc->name, cc->prefixes[p]);
				return SY_ERR_INVAL;
			}
		}
	}
	s->carrier_n = n;
	/* One client pool; its window is the largest, each carrier's own is
	 * enforced when picking a session. */
	struct smpp_pool_cfg pc = {.env = s->env,
				   .sess_max = SY_MAX(sess, 1u),
				   .window = window,
				   .resp_timeout_ns = s->cfg.upstream_timeout_ns,
				   .enquire_interval_ns = s->cfg.enquire_interval_ns,
				   .ops = &smsc__cli_ops,
				   .arg = s};
	if (smpp_pool_create(&pc, &s->cli) != SY_OK) {
		snprintf(err, errlen, "smsc: carrier session pool");
		return SY_ERR_NOMEM;
	}
	for (uint32_t i = 0; i < n; i++)
		for (uint32_t k = 0; k < s->carriers[i].bind_n; k++) {
			s->carriers[i].binds[k].c = &s->carriers[i];
			bind_connect(&s->carriers[i].binds[k]);
		}
	return SY_OK;
}

/* ---- sending ---- */

static uint32_t carrier_window(const struct smsc_carrier *c)
{
	return c->cfg->window != 0 ? c->cfg->window : 100;
}

static struct smpp_session *carrier_session(struct smsc_carrier *c)
{
	for (uint32_t k = 0; k < c->bind_n; k++) {
		struct smsc_bind *b = &c->binds[(c->rr + k) % c->bind_n];
		if (b->bound && b->s != NULL && smpp_session_state(b->s) == SMPP_SS_BOUND &&
		    smpp_session_outstanding(b->s) < carrier_window(c)) {
			c->rr = (c->rr + k + 1) % c->bind_n;
			return b->s;
		}
	}
	return NULL;
}

static bool carrier_up(const struct smsc_carrier *c)
{
	for (uint32_t k = 0; k < c->bind_n; k++)
		if (c->binds[k].bound)
			return true;
	return false;
}

static void submit_build(const struct smsc_msg *m, struct smpp_pdu *p, char *idt)
{
	smpp_pdu_init(p, SMPP_SUBMIT_SM, 0);
	p->src = (struct smpp_addr){m->src.ton, m->src.npi, sy_str_from(m->src.digits)};
	p->dst = (struct smpp_addr){m->dst.ton, m->dst.npi, sy_str_from(m->dst.digits)};
	p->esm_class = m->esm_class;
	p->data_coding = m->data_coding;
	/* We always want the carrier's receipt: it ends the message. */
	p->registered_delivery = SMPP_REGDLV_SMSC_ALWAYS;
	struct sy_str body = {(const char *)smsc__body(m), m->body_len};
	if (m->payload) {
		p->tlv.present |= SMPP_TLV_MESSAGE_PAYLOAD;
		p->tlv.message_payload = body;
	} else {
		p->short_message = body;
	}
	if (m->sar) {
		p->tlv.present |= SMPP_TLV_SAR_MSG_REF_NUM | SMPP_TLV_SAR_TOTAL_SEGMENTS | SMPP_TLV_SAR_SEGMENT_SEQNUM;
		p->tlv.sar_msg_ref_num = m->seg_ref;
		p->tlv.sar_total_segments = m->seg_total;
		p->tlv.sar_segment_seqnum = m->seg_seq;
	}
	size_t n = smsq_id_fmt(m->id, idt);
	p->tlv.unknown_n = 1;
	p->tlv.unknown[0] = (struct smpp_tlv_raw){SMSQ_TLV_IDEMPOTENCY_KEY, {idt, n}}; /* text, smsq_id_parse() form */
}

static void retry_fire(void *arg);

/* One attempt on carrier c; false when it has no session with window. */
static bool carrier_send(struct smsc *s, struct smsc_carrier *c, struct smsc_msg *m)
{
	struct smpp_session *ss = carrier_session(c);
	if (ss == NULL)
		return false;
	struct smpp_pdu p;
	char idt[SMSQ_ID_TEXT_MAX];
	submit_build(m, &p, idt);
	m->attempts++;
	m->carrier = (int32_t)c->idx;
	if (m->attempts > 1) {
		/* A retry keeps its count across a restart. The first attempt
		 * needs no write: ACCEPTED already means "send, maybe again",
		 * and a re-send carries the same key (smsq.h), so a fifth of
		 * the store's writes per message are saved. */
		struct smsq_update u = {
		    .state = SMSQ_ENROUTE, .set = SMSQ_SET_ATTEMPTS | SMSQ_SET_CARRIER, .attempts = m->attempts};
		SMSQ_SET_STR(&u, carrier, sy_str_from(c->cfg->name));
		(void)smsc__mark(s, m->id, &u, 0);
	}
	smsc__list_del(m);
	m->phase = SMSC_P_SENT;
	s->st.routed[c->idx]++;
	enum sy_rc rc = smpp_session_send(ss, &p, smsc__token(m, SMSC_T_IGNORE), NULL);
	if (rc != SY_OK) {
		/* The link is failing: try again after the backoff. */
		m->phase = SMSC_P_RETRY;
		s->st.upstream_retries++;
		smsc__timer(s, m, sy_env_wall_ns(s->env) + s->cfg.retry_base_ns, retry_fire);
	}
	return true;
}

static bool route_usable(const struct smsc_msg *m, uint32_t i)
{
	return !(m->perm_mask & (1u << i));
}

static void carrier_pump(struct smsc *s, struct smsc_carrier *c)
{
	while (c->fifo.head != NULL) {
		struct smsc_msg *m = c->fifo.head;
		if (sy_env_wall_ns(s->env) >= m->expiry_ns) {
			smsc__list_del(m);
			smsc__finalize(s, m, SMSQ_EXPIRED, 0);
			continue;
		}
		if (!carrier_send(s, c, m))
			break;
	}
}

static uint64_t backoff_ns(const struct smsc *s, uint32_t attempts)
{
	uint64_t d = s->cfg.retry_base_ns;
	for (uint32_t i = 1; i < attempts && d < s->cfg.retry_cap_ns; i++)
		d *= 2;
	return SY_MIN(d, s->cfg.retry_cap_ns);
}

static void park(struct smsc *s, struct smsc_msg *m)
{
	m->phase = SMSC_P_RETRY;
	uint64_t at = sy_env_wall_ns(s->env) + backoff_ns(s, 1);
	smsc__timer(s, m, SY_MIN(at, m->expiry_ns), retry_fire);
}

/* Picks a carrier for m: the first in failover order with window space; if
 * none, the FIFO of the first one that is bound (or of the first at all);
 * beyond the FIFO bound, a retry timer. */
void smsc__dispatch(struct smsc *s, struct smsc_msg *m)
{
	if (sy_env_wall_ns(s->env) >= m->expiry_ns) {
		smsc__finalize(s, m, SMSQ_EXPIRED, 0);
		return;
	}
	int32_t first = -1, first_up = -1;
	for (uint32_t i = 0; i < m->route_n; i++) {
		if (!route_usable(m, i))
			continue;
		struct smsc_carrier *c = &s->carriers[m->route[i]];
		if (c->fifo.n == 0 && carrier_send(s, c, m))
			return;
		if (first < 0)
			first = (int32_t)m->route[i];
		if (first_up < 0 && carrier_up(c))
			first_up = (int32_t)m->route[i];
	}
	if (first < 0) {
		smsc__finalize(s, m, m->route_n == 0 ? SMSQ_UNDELIVERABLE : SMSQ_REJECTED, m->error_code);
		return;
	}
	struct smsc_carrier *c = &s->carriers[first_up >= 0 ? first_up : first];
	if (c->fifo.n < s->cfg.carrier_queue_max) {
		sy_env_timer_cancel(s->env, m->timer);
		m->timer = 0;
		smsc__list_del(m);
		m->phase = SMSC_P_QUEUED;
		smsc__list_push(&c->fifo, m);
		smsc__timer(s, m, m->expiry_ns, smsc__expiry_fire);
		return;
	}
	park(s, m);
}

static void retry_fire(void *arg)
{
	struct smsc_msg *m = arg;
	m->timer = 0;
	if (m->phase == SMSC_P_RETRY)
		smsc__dispatch(m->smsc, m);
}

/* ---- responses ---- */

static bool status_temporary(uint32_t st)
{
	return st == ESME_RTHROTTLED || st == ESME_RMSGQFUL || st == ESME_RSYSERR || st == ESME_RX_T_APPN ||
	       st == ESME_RSUBMITFAIL || st == ESME_RUNKNOWNERR;
}

void smsc__ukey(struct smsc_msg *m, uint32_t carrier, struct sy_str uid, struct sy_str *key)
{
	size_t n = SY_MIN(uid.len, (size_t)SMSQ_UPSTREAM_ID_MAX - 1);
	m->ukey_carrier = (uint8_t)carrier;
	if (uid.p != m->upstream_id && n > 0)
		memcpy(m->upstream_id, uid.p, n);
	m->upstream_id[n] = '\0';
	*key = (struct sy_str){(const char *)&m->ukey_carrier, n + 1};
}

struct up_probe {
	const struct smsc *s;
	struct sy_str key;
};

static bool up_eq(const void *arg, uint32_t idx)
{
	const struct up_probe *p = arg;
	const struct smsc_msg *m = sy_pool_at(&p->s->msgs, idx);
	return m->ukey_carrier == (uint8_t)p->key.p[0] && memcmp(m->upstream_id, p->key.p + 1, p->key.len - 1) == 0 &&
	       m->upstream_id[p->key.len - 1] == '\0';
}

struct smsc_msg *smsc__up_find(const struct smsc *s, uint64_t h, struct sy_str key)
{
	struct up_probe p = {s, key};
	uint32_t idx = smsc_uidx_find(&s->up, h, up_eq, &p);
	return idx != UINT32_MAX ? sy_pool_at(&s->msgs, idx) : NULL;
}

/* Carrier has m (upstream_id set): wait for its receipt until validity
 * ends plus a grace. */
void smsc__enroute(struct smsc *s, struct smsc_msg *m)
{
	struct sy_str key;
	smsc__ukey(m, (uint32_t)m->carrier, sy_str_from(m->upstream_id), &key);
	uint64_t h = smsc_uidx_hash(&s->up, key);
	struct smsc_msg *o = smsc__up_find(s, h, key);
	if (o != NULL) {
		/* The same upstream id twice (a carrier that reuses ids): the
		 * newer message wins the receipt. */
		smsc_uidx_remove(&s->up, h, o->idx);
		o->in_htab = false;
	}
	m->uhash = h;
	/* Out of memory for the index: its receipt will count as unknown and
	 * the message ends at its expiry, as one whose receipt never came. */
	m->in_htab = smsc_uidx_insert(&s->up, h, m->idx) == SY_OK;
	m->phase = SMSC_P_ENROUTE;
	smsc__timer(s, m, m->expiry_ns + s->cfg.receipt_grace_ns, smsc__expiry_fire);
	struct sy_hnode *eh = s->early != NULL ? sy_htab_find(&s->early_h, key) : NULL;
	if (eh != NULL) { /* its receipt came first */
		struct smsc_early *e = SY_CONTAINER_OF(eh, struct smsc_early, node);
		sy_htab_remove(&s->early_h, eh);
		e->used = false;
		m->rcpt_sess = e->sess;
		m->rcpt_seq = e->seq;
		if (s->cfg.fraud != NULL)
			smsc__fraud_receipt(s, &s->carriers[m->carrier], m, e->state == SMSQ_DELIVERED);
		smsc__finalize(s, m, (enum smsq_state)e->state, e->err);
	}
}

static void resp_ok(struct smsc *s, struct smsc_msg *m, const struct smpp_pdu *resp)
{
	s->st.upstream_ok++;
	smsq_set_str(m->upstream_id, sizeof(m->upstream_id), resp->message_id);
	/* With the carrier: an upstream id means something only at its carrier,
	 * and a first attempt wrote none (carrier_send), so without it recovery
	 * would send again every message still waiting for its receipt. */
	struct smsq_update u = {.state = SMSQ_ENROUTE, .set = SMSQ_SET_UPSTREAM_ID | SMSQ_SET_CARRIER};
	memcpy(u.upstream_id, m->upstream_id, sizeof(u.upstream_id));
	SMSQ_SET_STR(&u, carrier, sy_str_from(s->carriers[m->carrier].cfg->name));
	(void)smsc__mark(s, m->id, &u, 0); /* lost: a re-send after a crash is deduped by the key */
	smsc__enroute(s, m);
}

static void resp_failed(struct smsc *s, struct smsc_msg *m, uint32_t status, bool temporary)
{
	m->error_code = status;
	if (!temporary) {
		s->st.upstream_perm_errors++;
		for (uint32_t i = 0; i < m->route_n; i++)
			if (m->route[i] == (uint16_t)m->carrier)
				m->perm_mask |= 1u << i;
		m->phase = SMSC_P_RETRY;
		smsc__dispatch(s, m); /* next carrier in failover order, or final */
		return;
	}
	if (m->attempts >= s->cfg.attempts_max) {
		smsc__finalize(s, m, SMSQ_UNDELIVERABLE, status);
		return;
	}
	s->st.upstream_retries++;
	m->phase = SMSC_P_RETRY;
	uint64_t at = sy_env_wall_ns(s->env) + backoff_ns(s, m->attempts);
	smsc__timer(s, m, SY_MIN(at, m->expiry_ns), retry_fire);
}

static void cli_on_response(void *arg, struct smpp_session *ss, enum smpp_req_outcome how, uint32_t seq, uint64_t tag,
			    const struct smpp_pdu *resp)
{
	struct smsc *s = arg;
	struct smsc_bind *b = smpp_session_user(ss);
	uint32_t idx = (uint32_t)tag, gen = (uint32_t)(tag >> 32) & 0xFFFFFFu;
	struct smsc_msg *m = smsc__msg_at(s, idx);
	if (m != NULL && m->gen == gen && m->phase == SMSC_P_SENT) {
		if (how == SMPP_REQ_RESP && resp->command_status == ESME_ROK && resp->command_id == SMPP_SUBMIT_SM_RESP)
			resp_ok(s, m, resp);
		else if (how == SMPP_REQ_RESP)
			resp_failed(s, m, resp->command_status, status_temporary(resp->command_status));
		else
			resp_failed(s, m, ESME_RSYSERR, true); /* timeout or link lost: outcome unknown, key dedupes */
	}
	if (how != SMPP_REQ_CLOSED)
		carrier_pump(s, b->c);
}

/* ---- receipts from carriers ---- */

static enum smsq_state final_of(uint8_t st)
{
	switch (st) {
	case SMPP_STATE_DELIVERED:
		return SMSQ_DELIVERED;
	case SMPP_STATE_EXPIRED:
		return SMSQ_EXPIRED;
	case SMPP_STATE_REJECTED:
		return SMSQ_REJECTED;
	case SMPP_STATE_ENROUTE:
	case SMPP_STATE_ACCEPTED:
		return SMSQ_ENROUTE; /* intermediate: not final */
	default:
		return SMSQ_UNDELIVERABLE;
	}
}

/* A receipt for an upstream id no message holds yet. The ring overwrites
 * the oldest entry: a receipt nobody claims is dropped in the end. */
static void rcpt_answer(struct smsc *s, uint64_t sess, uint32_t seq)
{
	if (seq != 0 && (sess & SMSC_SESS_NODE_MASK) != 0) {
		smsc__ack_forward(s, sess, seq); /* received by another instance */
		return;
	}
	struct smpp_session *ss = seq != 0 ? smpp_session_find(s->cli, sess) : NULL;
	if (ss != NULL)
		(void)smpp_session_respond(ss, seq, ESME_ROK, SY_STR_NULL);
}

void smsc__rcpt_ack(struct smsc *s, struct smsc_msg *m)
{
	rcpt_answer(s, m->rcpt_sess, m->rcpt_seq);
	m->rcpt_seq = 0;
}

/* Returns false when the receipt was answered at once (nothing kept). */
static bool early_keep(struct smsc *s, struct sy_str key, enum smsq_state fs, uint32_t err, uint64_t sess, uint32_t seq,
		       bool quiet)
{
	if (s->early == NULL || sy_htab_find(&s->early_h, key) != NULL)
		return false;
	struct smsc_early *e = &s->early[s->early_next];
	s->early_next = (s->early_next + 1) % SMSC_EARLY_MAX;
	if (e->used) {
		sy_htab_remove(&s->early_h, &e->node);
		if (!e->quiet)
			s->st.receipts_unknown++; /* never claimed */
		rcpt_answer(s, e->sess, e->seq);
	}
	e->sess = sess;
	e->seq = seq;
	memcpy(e->key, key.p, key.len);
	e->used = true;
	e->quiet = quiet;
	e->state = (uint8_t)fs;
	e->err = err;
	sy_htab_insert(&s->early_h, &e->node, (struct sy_str){(const char *)e->key, key.len});
	s->st.receipts_early++;
	return true;
}

/* A receipt for the carrier's id: finalizes its message, answered (seq
 * != 0) once the final state is durable. With nodes = N a receipt no
 * message here holds goes on to the next instance, as long as some have not
 * looked (hops: those that have), answered by the one that received it.
 * h: the key's index hash if the caller has it (its slot prefetched), else
 * 0 (a hash that is 0 is just computed again). Returns true when the answer
 * is deferred. */
static bool rcpt_match(struct smsc *s, struct smsc_carrier *c, struct sy_str id, uint8_t state, uint32_t err,
		       uint64_t sess, uint32_t seq, uint32_t hops, uint64_t h)
{
	struct smsc_msg probe;
	struct sy_str key;
	smsc__ukey(&probe, c->idx, id, &key);
	if (h == 0)
		h = smsc_uidx_hash(&s->up, key);
	struct smsc_msg *m = id.len > 0 ? smsc__up_find(s, h, key) : NULL;
	enum smsq_state fs = final_of(state);
	if (m == NULL && s->cfg.node_n > 1 && s->cfg.node_ops != NULL && hops + 1 < s->cfg.node_n && id.len > 0 &&
	    id.len <= SMSC_FWD_ID_MAX) {
		/* Each instance it passes keeps a quiet copy, for a submit_sm_resp
		 * of its own still on the way that names it; the answer waits for
		 * the instance that holds the message (or the last one to look). */
		if (fs != SMSQ_ENROUTE)
			early_keep(s, key, fs, fs == SMSQ_DELIVERED ? 0 : err, 0, 0, true);
		smsc__forward(s, c, id, state, err, hops, sess, seq);
		return true;
	}
	if (m == NULL) {
		/* Answered at once: most unknown receipts are for messages that
		 * are already final (a carrier re-sending after a drop), and a
		 * held answer would block the carrier's window. The rare receipt
		 * that races its own submit_sm_resp is kept for it. */
		if (fs != SMSQ_ENROUTE && id.len > 0)
			early_keep(s, key, fs, fs == SMSQ_DELIVERED ? 0 : err, 0, 0, false);
		else
			s->st.receipts_unknown++;
		return false;
	}
	if (hops > 0)
		s->node_st.receipts_fwd_matched++;
	if (fs == SMSQ_ENROUTE || m->phase != SMSC_P_ENROUTE)
		return false;
	m->rcpt_sess = sess;
	m->rcpt_seq = seq;
	if (s->cfg.fraud != NULL)
		smsc__fraud_receipt(s, c, m, fs == SMSQ_DELIVERED);
	smsc__finalize(s, m, fs, fs == SMSQ_DELIVERED ? 0 : err);
	return true;
}

/* Returns true when the answer to the carrier is deferred (sent once the
 * final state is durable). */
static bool cli_receipt(struct smsc *s, struct smsc_carrier *c, struct smpp_session *ss, const struct smpp_pdu *req)
{
	s->st.receipts_in++;
	struct smsc_msg probe;
	struct sy_str key;
	uint64_t h = 0;
	bool tlv_id = (req->tlv.present & SMPP_TLV_RECEIPTED_MESSAGE_ID) != 0;
	if (tlv_id) { /* the index slot's cache miss overlaps the text's parse */
		smsc__ukey(&probe, c->idx, req->tlv.receipted_message_id, &key);
		h = smsc_uidx_hash(&s->up, key);
		smsc_uidx_prefetch(&s->up, h);
	}
	struct sy_str text = req->short_message.len > 0 ? req->short_message : req->tlv.message_payload;
	struct smpp_dlr d;
	bool parsed = smpp_dlr_parse(text, &d) == SY_OK;
	struct sy_str id = tlv_id ? req->tlv.receipted_message_id : parsed ? d.id : SY_STR_NULL;
	uint8_t state = (req->tlv.present & SMPP_TLV_MESSAGE_STATE) ? req->tlv.message_state
			: parsed				    ? d.state
								    : SMPP_STATE_UNKNOWN;
	uint32_t err = parsed ? d.err : 0;
	if (req->tlv.present & SMPP_TLV_NETWORK_ERROR_CODE)
		err = req->tlv.network_error_code;
	/* the hash computed above when the TLV named the id (its slot is on its way) */
	return rcpt_match(s, c, id, state, err, smpp_session_id(ss), req->sequence_number, 0, tlv_id ? h : 0);
}

void smsc_receipt_forwarded(struct smsc *s, const struct smsc_fwd_receipt *r)
{
	if (r->carrier >= s->carrier_n || r->id_len == 0 || r->id_len > sizeof(r->id))
		return;
	s->node_st.receipts_fwd_in++;
	if (!rcpt_match(s, &s->carriers[r->carrier], (struct sy_str){r->id, r->id_len}, r->state, r->err, r->sess,
			r->seq, r->hops, 0))
		rcpt_answer(s, r->sess, r->seq); /* nothing to wait for: answered now */
}

void smsc_receipt_ack(struct smsc *s, uint64_t sess, uint32_t seq)
{
	rcpt_answer(s, sess, seq);
}

static void cli_on_request(void *arg, struct smpp_session *ss, const struct smpp_pdu *req)
{
	struct smsc *s = arg;
	struct smsc_bind *b = smpp_session_user(ss);
	if (req->command_id == SMPP_ALERT_NOTIFICATION)
		return;
	if (req->command_id != SMPP_DELIVER_SM && req->command_id != SMPP_DATA_SM) {
		(void)smpp_session_respond(ss, req->sequence_number, ESME_RX_P_APPN, SY_STR_NULL);
		return;
	}
	if ((req->esm_class & SMPP_ESM_TYPE_MASK) == SMPP_ESM_TYPE_DELIVERY_RECEIPT ||
	    (req->tlv.present & SMPP_TLV_RECEIPTED_MESSAGE_ID)) {
		if (cli_receipt(s, b->c, ss, req))
			return;
	} else {
		s->st.mo_dropped++; /* mobile-originated traffic is not routed yet */
	}
	/* An unknown receipt is acknowledged: resent forever it helps nobody. */
	(void)smpp_session_respond(ss, req->sequence_number, ESME_ROK, SY_STR_NULL);
}

const struct smpp_sess_ops smsc__cli_ops = {
    .on_bound = cli_on_bound,
    .on_request = cli_on_request,
    .on_response = cli_on_response,
    .on_close = cli_on_close,
};

/* ---- final states ---- */

static void final_retry_fire(void *arg)
{
	struct smsc_msg *m = arg;
	m->timer = 0;
	if (m->phase == SMSC_P_FINALIZING && m->final_retry)
		smsc__finalize(m->smsc, m, m->final, m->error_code);
}

static bool want_dlr(const struct smsc_msg *m, enum smsq_state st)
{
	uint8_t r = m->registered_delivery & SMPP_REGDLV_SMSC_MASK;
	return r == SMPP_REGDLV_SMSC_ALWAYS || (r == SMPP_REGDLV_SMSC_FAILURE && st != SMSQ_DELIVERED);
}

/* false: the MDR store cannot take it now (the disk); try again later. */
static bool mdr_write(struct smsc *s, const struct smsc_msg *m)
{
	if (s->mdr == NULL) {
		s->st.mdrs++;
		return true;
	}
	struct mdr r = {.id = m->id,
			.submit_ns = m->submit_ns,
			.done_ns = m->done_ns,
			.state = m->final,
			.error_code = m->error_code,
			.segments = m->seg_total > 0 ? m->seg_total : 1,
			.data_coding = m->data_coding};
	if (m->account >= 0)
		MDR_SET_STR(&r, account, sy_str_from(s->accts[m->account].cfg->name));
	/* a part the carrier took is charged whatever its receipt says */
	if (s->cfg.rate != NULL && m->account >= 0 && m->final != SMSQ_REJECTED && m->upstream_id[0] != '\0') {
		r.cost_micros = s->cfg.rate(s->cfg.rate_arg, s->accts[m->account].cfg->name, sy_str_from(m->dst.digits),
					    m->submit_ns);
	}
	MDR_SET_STR(&r, from, sy_str_from(m->src.digits));
	MDR_SET_STR(&r, to, sy_str_from(m->dst.digits));
	if (m->carrier >= 0)
		MDR_SET_STR(&r, carrier, sy_str_from(s->carriers[m->carrier].cfg->name));
	MDR_SET_STR(&r, upstream_id, sy_str_from(m->upstream_id));
	if (m->fraud_action != FRAUD_ALLOW)
		smsc__fraud_mdr(m, &r);
	if (mdr_store_add(s->mdr, &r) != SY_OK) {
		s->st.mdr_errors++;
		SY_LOG(s->env, SY_LOG_ERROR, "smsc: mdr: %s", mdr_store_errmsg(s->mdr));
		return false;
	}
	s->mdr_unflushed++;
	s->st.mdrs++;
	if (m->account >= 0 && s->cfg.rate != NULL && m->final != SMSQ_REJECTED && m->upstream_id[0] != '\0')
		s->st.revenue_micros += r.cost_micros;
	return true;
}

/* Final state: the MDR now (flushed before the commit that holds the
 * mark), the receipt only once the mark is durable. */
void smsc__finalize(struct smsc *s, struct smsc_msg *m, enum smsq_state st, uint32_t err)
{
	sy_env_timer_cancel(s->env, m->timer);
	m->timer = 0;
	smsc__list_del(m);
	if (m->in_htab)
		smsc_uidx_remove(&s->up, m->uhash, m->idx);
	m->in_htab = false;
	bool again = m->phase == SMSC_P_FINALIZING && m->final_retry;
	m->final = st;
	m->error_code = err;
	if (!again) {
		m->done_ns = sy_env_wall_ns(s->env);
		m->mdr_owed = true;
	}
	m->phase = SMSC_P_FINALIZING;
	m->final_retry = false;
	/* No final mark (which deletes the row) before the MDR is taken. */
	if (m->mdr_owed && !mdr_write(s, m)) {
		m->final_retry = true;
		m->timer = sy_env_timer_start(s->env, s->cfg.commit_interval_ns, final_retry_fire, m);
		return;
	}
	m->mdr_owed = false;
	struct smsq_update u = {.state = st,
				.set = SMSQ_SET_DONE | SMSQ_SET_ERROR | SMSQ_SET_DLR_PENDING,
				.done_ns = m->done_ns,
				.error_code = err,
				.dlr_pending = want_dlr(m, st) && m->account >= 0};
	if (smsc__mark(s, m->id, &u, smsc__token(m, SMSC_T_FINAL)) != SY_OK) {
		m->final_retry = true; /* the batch is full: try again shortly */
		m->timer = sy_env_timer_start(s->env, s->cfg.commit_interval_ns, final_retry_fire, m);
	}
}

void smsc__final_done(struct smsc *s, struct smsc_msg *m, enum sy_rc rc)
{
	smsc__rcpt_ack(s, m); /* the final state is durable: the carrier may forget the receipt */
	switch (m->final) {
	case SMSQ_DELIVERED:
		s->st.delivered++;
		break;
	case SMSQ_EXPIRED:
		s->st.expired++;
		break;
	case SMSQ_REJECTED:
		s->st.rejected_final++;
		break;
	default:
		s->st.undeliverable++;
	}
	if (rc == SY_OK && want_dlr(m, m->final) && m->account >= 0) {
		m->phase = SMSC_P_DLR_WAIT;
		smsc__dlr_send(s, m);
		return;
	}
	smsc__msg_free(s, m);
}

void smsc__expiry_fire(void *arg)
{
	struct smsc_msg *m = arg;
	struct smsc *s = m->smsc;
	m->timer = 0;
	switch (m->phase) {
	case SMSC_P_QUEUED:
	case SMSC_P_RETRY:
	case SMSC_P_ENROUTE:
		smsc__finalize(s, m, SMSQ_EXPIRED, 0);
		break;
	default:
		break; /* SENT: the response decides; others are past expiry */
	}
}
