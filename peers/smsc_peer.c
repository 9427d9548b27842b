/* smsc_peer.c: the simulated carrier SMSC. Accepted messages that want a
 * receipt get a record from a pool, filed in the carrier's receipt wheel
 * (tick_wheel.h) under the 1 ms tick it is due in: one timer per carrier,
 * the receipts of a tick go out together, in the order they were filed; keys are
 * kept for the whole run (smsc_peer_keys.h: the switch's key TLV, and the
 * message's own identity, as 64-bit values in open-addressing tables), so a
 * repeat is found however late it comes. Receipts go round-robin to
 * bound receiver/transceiver sessions of the account; with none bound, or on
 * failure, they wait and are sent again. */
#include "smsc_peer.h"
#include "smsc_peer_keys.h"
#include "tick_wheel.h"

#include <stdlib.h>

#include "core/pool.h"
#include "core/rng.h"
#include "core/smpp/session.h"
#include "core/smpp/text.h"
#include "core/store/smsq.h"

_Static_assert(SMSC_PEER_TAG_KEY == SMSQ_TLV_IDEMPOTENCY_KEY, "the switch's key TLV");

#define NIL	    UINT32_MAX
#define KEY_RAW_MAX (SMSC_PEER_KEY_CAP - 2)

enum { P_FREE = 0, P_WAIT, P_QUEUED, P_INFLIGHT };

/* A receipt to send. */
struct pmsg {
	struct smsc_peer *p;
	uint64_t up_no, submit_wall_ns, done_wall_ns;
	uint32_t idx, next, gen;
	uint8_t state, final_state, text_len;
	struct smpp_addr src, dst; /* addr points into the arrays below */
	sy_timer_id t;		   /* its own timer, only when the wheel had no memory */
	char src_s[SMPP_ADDR_MAX + 1], dst_s[SMPP_ADDR_MAX + 1];
	char text[SMPP_DLR_TEXT_CHARS * 4 + 1]; /* UTF-8 */
};

struct smsc_peer {
	const struct sy_env *env;
	struct smsc_peer_cfg cfg;
	struct sy_rng rng;
	struct smpp_pool *pool;
	struct smpp_tbucket tb;
	uint64_t *sids; /* bound sessions (smpp_session_id), cfg.sess_max slots */
	uint8_t *rx;	/* per slot: may receive deliver_sm */
	uint32_t n_sids, rr;
	struct sy_pool msgs; /* grown as receipts wait; msg_free: recycled ones */
	uint32_t msg_free, q_head, q_tail;
	uint64_t pending, up_seq;
	struct tickw wheel; /* receipts waiting for their time, by 1 ms tick */
	struct peer_keys keys;
	struct smsc_peer_stats st;
};

static const struct smpp_sess_ops peer_ops;

static inline struct pmsg *msg_at(const struct smsc_peer *p, uint32_t i)
{
	return sy_pool_at(&p->msgs, i);
}

/* A recycled record, else a new one; NULL when msg_max are waiting. */
static struct pmsg *msg_take(struct smsc_peer *p)
{
	struct pmsg *m;
	uint32_t idx;
	if (p->msg_free != NIL) {
		m = msg_at(p, p->msg_free);
		p->msg_free = m->next;
		return m;
	}
	if ((m = sy_pool_grow(&p->msgs, &idx)) != NULL) {
		m->p = p;
		m->idx = idx;
	}
	return m;
}

static bool msg_room(const struct smsc_peer *p)
{
	return p->msg_free != NIL || sy_pool_used(&p->msgs) < p->cfg.msg_max;
}

/* ---- creation ---- */

static void cfg_defaults(struct smsc_peer_cfg *c)
{
	if (c->name == NULL)
		c->name = "carrier";
	if (c->password == NULL)
		c->password = "";
	c->sess_max = c->sess_max ? c->sess_max : 16;
	c->window = c->window ? c->window : 10;
	c->dlr_retry_ns = c->dlr_retry_ns ? c->dlr_retry_ns : SY_NS_PER_S;
	c->msg_max = c->msg_max ? c->msg_max : 65536;
	c->keys_max = c->keys_max ? c->keys_max : 1u << 20;
}

static bool cfg_ok(const struct smsc_peer_cfg *c)
{
	return c->system_id != NULL && strlen(c->system_id) > 0 && strlen(c->system_id) <= SMPP_SYSTEM_ID_MAX &&
	       strlen(c->password) <= SMPP_PASSWORD_MAX && strlen(c->name) <= 32 && c->reject_ppm <= 1000000 &&
	       c->undeliv_ppm <= 1000000;
}

static void dlr_due(void *arg, uint32_t idx);
static void dlr_prefetch(void *arg, uint32_t idx);

static enum sy_rc peer_alloc(struct smsc_peer *p)
{
	const struct smsc_peer_cfg *c = &p->cfg;
	tickw_init(&p->wheel, p->env, SY_NS_PER_MS, dlr_due, dlr_prefetch, p);
	p->sids = calloc(c->sess_max, sizeof(*p->sids));
	p->rx = calloc(c->sess_max, 1);
	if (p->sids == NULL || p->rx == NULL || sy_pool_init(&p->msgs, sizeof(struct pmsg), c->msg_max) != SY_OK ||
	    peer_keys_init(&p->keys, c->keys_max) != SY_OK)
		return SY_ERR_NOMEM;
	p->msg_free = NIL;
	p->q_head = p->q_tail = NIL;
	return SY_OK;
}

static void peer_free(struct smsc_peer *p)
{
	tickw_free(&p->wheel);
	peer_keys_free(&p->keys);
	free(p->sids);
	free(p->rx);
	sy_pool_free(&p->msgs);
	free(p);
}

static enum sy_rc peer_listen(struct smsc_peer *p)
{
	struct smpp_pool_cfg pc = {
	    .env = p->env,
	    .sess_max = p->cfg.sess_max,
	    .window = p->cfg.window,
	    .resp_timeout_ns = p->cfg.resp_timeout_ns,
	    .enquire_interval_ns = p->cfg.enquire_interval_ns,
	    .system_id = sy_str_from(p->cfg.name),
	    .ops = &peer_ops,
	    .arg = p,
	};
	enum sy_rc rc = smpp_pool_create(&pc, &p->pool);
	if (rc != SY_OK)
		return rc;
	return smpp_pool_listen(p->pool, &p->cfg.listen);
}

enum sy_rc smsc_peer_create(const struct sy_env *env, const struct smsc_peer_cfg *cfg, struct smsc_peer **out)
{
	struct smsc_peer *p = calloc(1, sizeof(*p));
	if (p == NULL)
		return SY_ERR_NOMEM;
	p->env = env;
	p->cfg = *cfg;
	cfg_defaults(&p->cfg);
	enum sy_rc rc = SY_ERR_INVAL;
	if (!cfg_ok(&p->cfg))
		goto out_free;
	rc = peer_alloc(p);
	if (rc != SY_OK)
		goto out_free;
	sy_rng_init_split(&p->rng, sy_env_seed(env), "smsc_peer", p->cfg.index);
	smpp_tbucket_init(&p->tb, p->cfg.tps, p->cfg.tps_burst, sy_env_now_ns(env));
	rc = peer_listen(p);
	if (rc != SY_OK)
		goto out_pool;
	*out = p;
	return SY_OK;
out_pool:
	smpp_pool_destroy(p->pool);
out_free:
	peer_free(p);
	return rc;
}

void smsc_peer_destroy(struct smsc_peer *p)
{
	if (p == NULL)
		return;
	for (uint32_t i = 0; i < sy_pool_used(&p->msgs); i++)
		sy_env_timer_cancel(p->env, msg_at(p, i)->t);
	smpp_pool_destroy(p->pool);
	peer_free(p);
}

const struct smsc_peer_stats *smsc_peer_stats(struct smsc_peer *p)
{
	p->st.throttled = p->tb.throttled;
	return &p->st;
}

uint32_t smsc_peer_bound(const struct smsc_peer *p)
{
	return p->n_sids;
}

uint64_t smsc_peer_dlr_pending(const struct smsc_peer *p)
{
	return p->pending;
}

uint32_t smsc_peer_key_count(const struct smsc_peer *p, struct sy_str key)
{
	uint32_t n = peer_keys_count(&p->keys, false, key);
	return n != 0 ? n : peer_keys_count(&p->keys, true, key);
}

/* ---- idempotency keys ---- */

static bool key_printable(struct sy_str v)
{
	for (size_t i = 0; i < v.len; i++)
		if (v.p[i] <= 0x20 || v.p[i] >= 0x7F)
			return false;
	return v.len > 0;
}

static uint64_t key_hash(const struct smpp_pdu *r)
{
	const struct smpp_tlvs *t = &r->tlv;
	uint8_t sar[4] = {(uint8_t)(t->sar_msg_ref_num >> 8), (uint8_t)t->sar_msg_ref_num, t->sar_total_segments,
			  t->sar_segment_seqnum};
	uint64_t h = sy_hash64(r->src.addr.p, r->src.addr.len, 0x736D73635F6B6579ull);
	h = sy_hash64(r->dst.addr.p, r->dst.addr.len, h);
	h = sy_hash64(r->short_message.p, r->short_message.len, h);
	if (t->present & SMPP_TLV_MESSAGE_PAYLOAD)
		h = sy_hash64(t->message_payload.p, t->message_payload.len, h);
	if (t->present & SMPP_TLV_SAR_MSG_REF_NUM)
		h = sy_hash64(sar, sizeof(sar), h);
	return h;
}

/* The message as the carrier sees it, with no help from the switch, as
 * text: "h:" and key_hash(), a hash of (source, destination, short_message
 * with its UDH, message_payload, sar_ TLVs). Every part has its own; a
 * re-send of the same part has the same one. */
static void msg_key_text(uint64_t h, char out[SMSC_PEER_KEY_CAP])
{
	snprintf(out, SMSC_PEER_KEY_CAP, "h:%016llx", (unsigned long long)h);
}

/* Writes the switch's key TLV of r into out; false when r has none. */
static bool tlv_key_of(const struct smpp_pdu *r, char out[SMSC_PEER_KEY_CAP])
{
	for (uint16_t i = 0; i < r->tlv.unknown_n; i++) {
		if (r->tlv.unknown[i].tag != SMSC_PEER_TAG_KEY)
			continue;
		struct sy_str v = r->tlv.unknown[i].value;
		while (v.len > 0 && v.p[v.len - 1] == '\0')
			v.len--; /* a C-octet string form */
		if (v.len <= KEY_RAW_MAX && key_printable(v)) {
			memcpy(out, v.p, v.len);
			out[v.len] = '\0';
		} else {
			snprintf(out, SMSC_PEER_KEY_CAP, "H:%016llx", (unsigned long long)sy_hash64(v.p, v.len, 0));
		}
		return true;
	}
	return false;
}

/* "KEY MSG[ again|dup]": see smsc_peer.h. */
static void key_write(struct smsc_peer *p, const char *tlv, uint64_t msg, const char *what)
{
	if (p->cfg.keys_out == NULL)
		return;
	char m[SMSC_PEER_KEY_CAP];
	msg_key_text(msg, m);
	fprintf(p->cfg.keys_out, "%s %s%s%s\n", tlv != NULL ? tlv : "-", m, what ? " " : "", what ? what : "");
}

/* ---- receipts ---- */

static size_t up_id(const struct smsc_peer *p, uint64_t up_no, char *buf, size_t n)
{
	int w = snprintf(buf, n, "%s-%llu", p->cfg.name, (unsigned long long)up_no);
	SY_ASSERT(w > 0 && (size_t)w < n);
	return (size_t)w;
}

static void dlr_send(struct smsc_peer *p, struct pmsg *m);

/* A receipt's own timer (the wheel had no memory for it). */
static void dlr_fire(void *arg)
{
	struct pmsg *m = arg;
	m->t = 0;
	if (m->done_wall_ns == 0)
		m->done_wall_ns = sy_env_wall_ns(m->p->env);
	dlr_send(m->p, m);
}

/* The wheel's hand-out of receipt idx: its time came. */
static void dlr_due(void *arg, uint32_t idx)
{
	struct smsc_peer *p = arg;
	struct pmsg *m = msg_at(p, idx);
	if (m->done_wall_ns == 0)
		m->done_wall_ns = sy_env_wall_ns(p->env);
	dlr_send(p, m);
}

static void dlr_prefetch(void *arg, uint32_t idx)
{
	__builtin_prefetch(msg_at(arg, idx));
}

/* m waits delay_ns (rounded up to a whole 1 ms tick) for its receipt to go
 * out; a receipt the wheel has no memory for gets a timer of its own. */
static void dlr_wait(struct smsc_peer *p, struct pmsg *m, uint64_t delay_ns)
{
	m->state = P_WAIT;
	if (!tickw_add(&p->wheel, m->idx, delay_ns))
		m->t = sy_env_timer_start(p->env, delay_ns, dlr_fire, m);
}

static void dlr_later(struct smsc_peer *p, struct pmsg *m)
{
	dlr_wait(p, m, p->cfg.dlr_retry_ns);
}

static void dlr_free(struct smsc_peer *p, struct pmsg *m)
{
	SY_ASSERT(p->pending > 0);
	m->state = P_FREE;
	m->gen++;
	m->next = p->msg_free;
	p->msg_free = m->idx;
	p->pending--;
}

static void q_push(struct smsc_peer *p, struct pmsg *m)
{
	m->state = P_QUEUED;
	m->next = NIL;
	if (p->q_head == NIL)
		p->q_head = m->idx;
	else
		msg_at(p, p->q_tail)->next = m->idx;
	p->q_tail = m->idx;
}

/* A bound receiver with window room, round-robin; *any says whether some
 * receiver is bound at all (full windows wait in the queue, none bound
 * waits on a timer). */
static struct smpp_session *rx_pick(struct smsc_peer *p, bool *any)
{
	*any = false;
	for (uint32_t k = 0; k < p->n_sids; k++) {
		uint32_t i = (p->rr + k) % p->n_sids;
		struct smpp_session *s = smpp_session_find(p->pool, p->sids[i]);
		if (!p->rx[i] || s == NULL || smpp_session_state(s) != SMPP_SS_BOUND)
			continue;
		*any = true;
		if (smpp_session_outstanding(s) < p->cfg.window) {
			p->rr = (i + 1) % p->n_sids;
			return s;
		}
	}
	return NULL;
}

static void dlr_build(struct smsc_peer *p, const struct pmsg *m, struct smpp_pdu *pdu, char *id, char *txt)
{
	bool ok = m->final_state == SMPP_STATE_DELIVERED;
	size_t id_len = up_id(p, m->up_no, id, SMPP_MESSAGE_ID_MAX + 1), len = 0;
	struct smpp_dlr d = {
	    .id = {id, id_len},
	    .sub = 1,
	    .dlvrd = ok ? 1 : 0,
	    .submit_ns = m->submit_wall_ns,
	    .done_ns = m->done_wall_ns,
	    .state = m->final_state,
	    .err = ok ? 0 : 1,
	    .text = {m->text, m->text_len},
	};
	enum sy_rc rc = smpp_dlr_build(&d, txt, SMPP_DLR_LEN_MAX, &len);
	SY_ASSERT(rc == SY_OK && len <= SMPP_SM_LEN_MAX);
	smpp_pdu_init(pdu, SMPP_DELIVER_SM, 0);
	pdu->src = m->dst; /* the receipt comes from the handset the message went to */
	pdu->dst = m->src;
	pdu->esm_class = SMPP_ESM_TYPE_DELIVERY_RECEIPT;
	pdu->short_message = (struct sy_str){txt, len};
	pdu->tlv.present = SMPP_TLV_RECEIPTED_MESSAGE_ID | SMPP_TLV_MESSAGE_STATE;
	pdu->tlv.receipted_message_id = (struct sy_str){id, id_len};
	pdu->tlv.message_state = m->final_state;
}

static void dlr_send(struct smsc_peer *p, struct pmsg *m)
{
	bool any;
	struct smpp_session *s = rx_pick(p, &any);
	if (s == NULL) {
		if (any)
			q_push(p, m);
		else
			dlr_later(p, m);
		return;
	}
	struct smpp_pdu pdu;
	char id[SMPP_MESSAGE_ID_MAX + 1], txt[SMPP_DLR_LEN_MAX];
	dlr_build(p, m, &pdu, id, txt);
	if (smpp_session_send(s, &pdu, (uint64_t)m->gen << 32 | m->idx, NULL) != SY_OK) {
		p->st.dlr_retries++;
		dlr_later(p, m);
		return;
	}
	m->state = P_INFLIGHT;
	p->st.dlr_sent++;
}

/* Sends receipts that waited for window room. */
static void dlr_pump(struct smsc_peer *p)
{
	while (p->q_head != NIL) {
		bool any;
		struct smpp_session *s = rx_pick(p, &any);
		if (s == NULL)
			return;
		struct pmsg *m = msg_at(p, p->q_head);
		p->q_head = m->next;
		if (p->q_head == NIL)
			p->q_tail = NIL;
		dlr_send(p, m);
	}
}

/* ---- submit_sm ---- */

static void str_copy(char *dst, size_t cap, struct sy_str s)
{
	size_t n = s.len < cap - 1 ? s.len : cap - 1;
	if (n > 0)
		memcpy(dst, s.p, n);
	dst[n] = '\0';
}

/* GSM 03.38 codes that are their own character in ASCII (so in UTF-8):
 * space to '#', '%' to '?', 'A' to 'Z', 'a' to 'z'. */
static bool gsm_is_ascii(uint8_t c)
{
	return (c >= 0x20 && c <= 0x3F && c != 0x24) || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

/* Copies a GSM text made only of those codes (the common case) as it is;
 * false when it has another one. */
static bool gsm_copy_ascii(const uint8_t *sm, size_t len, char *out)
{
	for (size_t i = 0; i < len; i++)
		if (!gsm_is_ascii(sm[i]))
			return false;
	memcpy(out, sm, len);
	return true;
}

/* The receipt's text: field: the first characters of a GSM or UCS2 text
 * (not of a binary or UDH message), as UTF-8. */
static void msg_text(struct pmsg *m, const struct smpp_pdu *r)
{
	const uint8_t *sm = (const uint8_t *)r->short_message.p;
	size_t len = r->short_message.len, n = 0;
	enum sy_rc rc = SY_ERR_PARSE;
	if (r->esm_class & SMPP_ESM_UDHI)
		len = 0;
	size_t first = SY_MIN(len, (size_t)SMPP_DLR_TEXT_CHARS);
	if (len > 0 && r->data_coding == SMPP_DC_DEFAULT && gsm_copy_ascii(sm, first, m->text)) {
		n = first;
		rc = SY_OK;
	} else if (len > 0 && r->data_coding == SMPP_DC_DEFAULT) {
		rc = smpp_gsm_to_utf8(sm, first, m->text, sizeof(m->text) - 1, &n);
	} else if (len > 0 && r->data_coding == SMPP_DC_UCS2) {
		rc = smpp_ucs2_to_utf8(sm, SY_MIN(len & ~(size_t)1, (size_t)2 * SMPP_DLR_TEXT_CHARS), m->text,
				       sizeof(m->text) - 1, &n);
	}
	m->text_len = rc == SY_OK ? (uint8_t)n : 0;
	m->text[m->text_len] = '\0';
}

static void msg_fill(struct smsc_peer *p, struct pmsg *m, const struct smpp_pdu *r, uint64_t up_no, uint8_t state)
{
	str_copy(m->src_s, sizeof(m->src_s), r->src.addr);
	str_copy(m->dst_s, sizeof(m->dst_s), r->dst.addr);
	m->src = (struct smpp_addr){r->src.ton, r->src.npi, {m->src_s, strlen(m->src_s)}};
	m->dst = (struct smpp_addr){r->dst.ton, r->dst.npi, {m->dst_s, strlen(m->dst_s)}};
	m->up_no = up_no;
	m->final_state = state;
	m->submit_wall_ns = sy_env_wall_ns(p->env);
	m->done_wall_ns = 0;
	msg_text(m, r);
}

static bool receipt_wanted(const struct smpp_pdu *r, bool ok)
{
	uint8_t want = r->registered_delivery & SMPP_REGDLV_SMSC_MASK;
	return want == SMPP_REGDLV_SMSC_ALWAYS || (want == SMPP_REGDLV_SMSC_FAILURE && !ok);
}

/* What identifies r: the switch's key TLV (NULL when absent) and the
 * message itself, with what the tables know of each. */
struct submit_keys {
	const char *tlv;
	struct peer_kref tlv_ref;
	uint64_t msg, tlv_up_no;
	bool tlv_seen, msg_seen;
};

/* Delivers r: an upstream id, the counts, and the receipt. A message
 * delivered before is delivered again (the handset gets it twice) and
 * counted as a duplicate, whatever key the switch gave it. */
static void submit_accept(struct smsc_peer *p, struct smpp_session *s, const struct smpp_pdu *r,
			  const struct submit_keys *k, bool ok, uint64_t delay_ns)
{
	bool want = receipt_wanted(r, ok);
	if (want && !msg_room(p)) {
		p->st.queue_full++;
		(void)smpp_session_respond(s, r->sequence_number, ESME_RMSGQFUL, SY_STR(""));
		return;
	}
	uint64_t up_no = ++p->up_seq;
	p->st.accepted++;
	/* the report's old duplicate count: the TLV key, else the message */
	p->st.key_repeats += k->tlv != NULL ? k->tlv_seen : k->msg_seen;
	if (k->msg_seen) {
		p->st.duplicates++;
		peer_keys_msg_again(&p->keys, k->msg);
	} else {
		p->st.received++;
		p->st.keys_untracked += !peer_keys_msg_add(&p->keys, k->msg);
	}
	if (k->tlv_seen)
		peer_keys_key_again(&p->keys, &k->tlv_ref);
	else if (k->tlv != NULL)
		p->st.keys_untracked += !peer_keys_key_add(&p->keys, &k->tlv_ref, up_no);
	key_write(p, k->tlv, k->msg, k->msg_seen ? "again" : NULL);
	char id[SMPP_MESSAGE_ID_MAX + 1];
	size_t n = up_id(p, up_no, id, sizeof(id));
	(void)smpp_session_respond(s, r->sequence_number, ESME_ROK, (struct sy_str){id, n});
	if (!want)
		return;
	struct pmsg *m = msg_take(p);
	p->pending++;
	msg_fill(p, m, r, up_no, ok ? SMPP_STATE_DELIVERED : SMPP_STATE_UNDELIVERABLE);
	p->st.dlr_delivered += ok;
	p->st.dlr_undeliv += !ok;
	dlr_wait(p, m, delay_ns);
}

static void on_submit(struct smsc_peer *p, struct smpp_session *s, const struct smpp_pdu *r)
{
	char tlv[SMSC_PEER_KEY_CAP];
	p->st.submits++;
	struct submit_keys k = {.msg = key_hash(r)};
	if (tlv_key_of(r, tlv)) {
		k.tlv = tlv;
		k.tlv_ref = peer_keys_kref(sy_str_from(tlv));
	}
	peer_keys_prefetch(&p->keys, k.msg, k.tlv != NULL ? &k.tlv_ref : NULL);
	k.msg_seen = peer_keys_msg_seen(&p->keys, k.msg);
	if (k.tlv != NULL)
		k.tlv_seen = peer_keys_key_seen(&p->keys, &k.tlv_ref, &k.tlv_up_no);
	if (k.tlv_seen && !p->cfg.no_dedupe) {
		/* A re-send of a message we have: same answer, no second delivery. */
		char id[SMPP_MESSAGE_ID_MAX + 1];
		size_t n = up_id(p, k.tlv_up_no, id, sizeof(id));
		p->st.key_repeats++;
		p->st.deduped++;
		peer_keys_key_again(&p->keys, &k.tlv_ref);
		key_write(p, tlv, k.msg, "dup");
		(void)smpp_session_respond(s, r->sequence_number, ESME_ROK, (struct sy_str){id, n});
		return;
	}
	/* Every draw is made for every new submit so the stream does not
	 * depend on which branch is taken. */
	bool reject = sy_rng_chance_ppm(&p->rng, p->cfg.reject_ppm);
	bool undeliv = sy_rng_chance_ppm(&p->rng, p->cfg.undeliv_ppm);
	uint64_t delay = sy_dist_sample(&p->cfg.dlr_delay, &p->rng);
	if (reject) {
		p->st.rejected++;
		(void)smpp_session_respond(s, r->sequence_number, ESME_RSYSERR, SY_STR(""));
		return;
	}
	submit_accept(p, s, r, &k, !undeliv, delay);
}

/* ---- session callbacks ---- */

static uint32_t on_auth(void *arg, struct smpp_session *s, struct sy_str system_id, struct sy_str password,
			enum smpp_bind_type type, struct smpp_tbucket **tb)
{
	struct smsc_peer *p = arg;
	uint32_t status = ESME_ROK;
	if (!sy_str_eq(system_id, sy_str_from(p->cfg.system_id)))
		status = ESME_RINVSYSID;
	else if (!sy_str_eq(password, sy_str_from(p->cfg.password)))
		status = ESME_RINVPASWD;
	else if (p->n_sids >= p->cfg.sess_max)
		status = ESME_RBINDFAIL;
	if (status != ESME_ROK) {
		p->st.binds_refused++;
		return status;
	}
	*tb = p->cfg.tps != 0 ? &p->tb : NULL;
	return ESME_ROK;
}

static void on_bound(void *arg, struct smpp_session *s, uint32_t status)
{
	struct smsc_peer *p = arg;
	if (status != ESME_ROK)
		return;
	SY_ASSERT(p->n_sids < p->cfg.sess_max);
	enum smpp_bind_type t = smpp_session_bind_type(s);
	p->rx[p->n_sids] = t == SMPP_BIND_RX || t == SMPP_BIND_TRX;
	p->sids[p->n_sids++] = smpp_session_id(s);
	p->st.binds_ok++;
	dlr_pump(p);
}

static void sid_remove(struct smsc_peer *p, uint64_t sid)
{
	for (uint32_t i = 0; i < p->n_sids; i++) {
		if (p->sids[i] != sid)
			continue;
		/* Keep the order (round-robin stays deterministic and fair). */
		memmove(&p->sids[i], &p->sids[i + 1], (p->n_sids - i - 1) * sizeof(p->sids[0]));
		memmove(&p->rx[i], &p->rx[i + 1], p->n_sids - i - 1);
		p->n_sids--;
		return;
	}
}

static void on_close(void *arg, struct smpp_session *s, enum smpp_close_reason why)
{
	struct smsc_peer *p = arg;
	SY_LOG(p->env, SY_LOG_INFO, "smsc_peer %s: session closed: %s", p->cfg.name, smpp_close_reason_str(why));
	sid_remove(p, smpp_session_id(s));
}

static void on_request(void *arg, struct smpp_session *s, const struct smpp_pdu *req)
{
	struct smsc_peer *p = arg;
	if (req->command_id == SMPP_SUBMIT_SM) {
		on_submit(p, s, req);
		return;
	}
	if (req->command_id == SMPP_ALERT_NOTIFICATION)
		return;
	p->st.other_requests++;
	uint32_t status = req->command_id == SMPP_DELIVER_SM ? ESME_ROK : ESME_RINVCMDID;
	(void)smpp_session_respond(s, req->sequence_number, status, SY_STR(""));
}

static void on_response(void *arg, struct smpp_session *s, enum smpp_req_outcome how, uint32_t seq, uint64_t tag,
			const struct smpp_pdu *resp)
{
	struct smsc_peer *p = arg;
	uint32_t idx = (uint32_t)tag;
	SY_ASSERT(idx < sy_pool_used(&p->msgs));
	struct pmsg *m = msg_at(p, idx);
	if (m->gen != (uint32_t)(tag >> 32) || m->state != P_INFLIGHT)
		return; /* re-sent after a link drop: this copy no longer counts */
	if (how == SMPP_REQ_RESP && resp->command_status == ESME_ROK && resp->command_id == SMPP_DELIVER_SM_RESP) {
		p->st.dlr_acked++;
		dlr_free(p, m);
	} else {
		p->st.dlr_retries++;
		dlr_later(p, m);
	}
	dlr_pump(p);
}

static const struct smpp_sess_ops peer_ops = {
    .auth = on_auth,
    .on_bound = on_bound,
    .on_request = on_request,
    .on_response = on_response,
    .on_close = on_close,
};

/* ---- faults ---- */

uint32_t smsc_peer_drop_links(struct smsc_peer *p)
{
	uint32_t n = 0;
	while (p->n_sids > 0) {
		uint64_t sid = p->sids[p->n_sids - 1];
		p->n_sids--;
		struct smpp_session *s = smpp_session_find(p->pool, sid);
		if (s == NULL)
			continue;
		smpp_session_close(s);
		n++;
	}
	p->st.link_drops += n;
	/* smpp_session_close() reports nothing: receipts that were on those
	 * sessions go out again later, and their old responses are ignored. */
	for (uint32_t i = 0; i < sy_pool_used(&p->msgs); i++) {
		struct pmsg *m = msg_at(p, i);
		if (m->state != P_INFLIGHT)
			continue;
		m->gen++;
		p->st.dlr_retries++;
		dlr_later(p, m);
	}
	return n;
}
