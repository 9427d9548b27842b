/* smsc_esme.c: the SMSC's ESME side (binds are checked in smsc_bind.c):
 * submit_sm/data_sm validation and durable acceptance (the resp
 * goes out only from the store's commit callback), concatenation counting,
 * receipts back to the ESME, and the HTTP submit entry point. */
#include <stdio.h>
#include <stdlib.h>

#include "core/smpp/smsc_int.h"
#include "core/smpp/text.h"

/* ---- binds ---- */

static void srv_on_bound(void *arg, struct smpp_session *ss, uint32_t status)
{
	struct smsc *s = arg;
	struct smsc_account *a = smpp_session_user(ss);
	if (status != ESME_ROK || a == NULL || smpp_session_bind_type(ss) == SMPP_BIND_TX)
		return;
	for (uint32_t i = 0; i < SMSC_ACCT_SESS_MAX; i++) {
		if (a->rx_sess[i] == 0) {
			a->rx_sess[i] = smpp_session_id(ss);
			break;
		}
	}
	smsc__dlr_pump(s, a); /* receipts kept while nobody was bound */
}

static void srv_on_close(void *arg, struct smpp_session *ss, enum smpp_close_reason why)
{
	smsc__bind_closed(arg, ss, why);
	struct smsc_account *a = smpp_session_user(ss);
	if (a == NULL)
		return;
	uint64_t id = smpp_session_id(ss);
	for (uint32_t i = 0; i < SMSC_ACCT_SESS_MAX; i++)
		if (a->rx_sess[i] == id)
			a->rx_sess[i] = 0;
}

/* ---- concatenation counting ---- */

static void reasm_unlink(struct smsc *s, struct smsc_reasm *r)
{
	if (r->prev != NULL)
		r->prev->next = r->next;
	else
		s->lru_head = r->next;
	if (r->next != NULL)
		r->next->prev = r->prev;
	else
		s->lru_tail = r->prev;
	r->prev = r->next = NULL;
	sy_htab_remove(&s->reasm_h, &r->node);
	if (r->seen_n < r->total)
		s->st.reasm_evicted++;
	r->used = false;
}

static struct smsc_reasm *reasm_new(struct smsc *s)
{
	if (s->reasm_free_pos < s->cfg.reasm_max)
		return &s->reasm[s->reasm_free_pos++];
	for (uint32_t i = 0; i < s->cfg.reasm_max; i++)
		if (!s->reasm[i].used)
			return &s->reasm[i];
	struct smsc_reasm *r = s->lru_head; /* full: forget the oldest */
	reasm_unlink(s, r);
	return r;
}

/* Counts one part: a new logical message on its first part, complete when
 * every part was seen. */
static void reasm_count(struct smsc *s, const struct smsc_msg *m)
{
	s->st.segments++;
	if (m->seg_total <= 1) {
		s->st.messages++;
		return;
	}
	uint8_t key[48];
	int n = snprintf((char *)key, sizeof(key), "%d|%.20s|%.20s", m->account, m->src.digits, m->dst.digits);
	size_t kl = (size_t)SY_MIN(n, (int)sizeof(key) - 3);
	key[kl++] = (uint8_t)(m->seg_ref >> 8);
	key[kl++] = (uint8_t)m->seg_ref;
	key[kl++] = m->seg_total;
	struct sy_hnode *h = sy_htab_find(&s->reasm_h, (struct sy_str){(const char *)key, kl});
	struct smsc_reasm *r = h != NULL ? SY_CONTAINER_OF(h, struct smsc_reasm, node) : NULL;
	if (r == NULL) {
		r = reasm_new(s);
		memset(r, 0, sizeof(*r));
		r->used = true;
		memcpy(r->key, key, kl);
		r->total = m->seg_total;
		r->born_ns = sy_env_now_ns(s->env);
		sy_htab_insert(&s->reasm_h, &r->node, (struct sy_str){(const char *)r->key, kl});
		r->prev = s->lru_tail;
		if (s->lru_tail != NULL)
			s->lru_tail->next = r;
		else
			s->lru_head = r;
		s->lru_tail = r;
		s->st.messages++;
	}
	uint8_t q = m->seg_seq;
	if (!(r->seen[q / 8] & (1u << (q % 8)))) {
		r->seen[q / 8] |= (uint8_t)(1u << (q % 8));
		if (++r->seen_n == r->total) {
			s->st.messages_complete++;
			reasm_unlink(s, r);
		}
	}
}

void smsc__reasm_sweep(struct smsc *s)
{
	uint64_t now = sy_env_now_ns(s->env);
	while (s->lru_head != NULL && now - s->lru_head->born_ns >= s->cfg.reasm_ttl_ns)
		reasm_unlink(s, s->lru_head);
}

void smsc__reasm_free(struct smsc *s)
{
	sy_htab_free(&s->reasm_h);
	free(s->reasm);
	s->reasm = NULL;
}

/* ---- submit_sm / data_sm ---- */

static bool dc_supported(uint8_t dc)
{
	return dc <= SMPP_DC_BINARY2 || dc == SMPP_DC_UCS2 || dc >= 0xF0;
}

static bool digits_ok(struct sy_str a)
{
	size_t i = a.len > 0 && a.p[0] == '+' ? 1 : 0;
	if (a.len <= i || a.len - i >= SMSQ_ADDR_MAX)
		return false;
	for (; i < a.len; i++)
		if (a.p[i] < '0' || a.p[i] > '9')
			return false;
	return true;
}

static void addr_copy(struct smsq_addr *d, const struct smpp_addr *a)
{
	d->ton = a->ton;
	d->npi = a->npi;
	struct sy_str v = a->addr;
	if (v.len > 0 && v.p[0] == '+')
		v.p++, v.len--;
	smsq_set_str(d->digits, sizeof(d->digits), v);
}

/* Concatenation info from the UDH or the sar_ TLVs; a status on error. */
static uint32_t seg_info(struct smsc_msg *m, const struct smpp_pdu *req, struct sy_str body)
{
	if (m->esm_class & SMPP_ESM_UDHI) {
		size_t ul;
		struct smpp_concat c;
		bool has;
		if (smpp_udh_parse((const uint8_t *)body.p, body.len, &ul, &c, &has) != SY_OK)
			return ESME_RINVESMCLASS;
		if (has)
			m->seg_ref = c.ref, m->seg_total = c.total, m->seg_seq = c.seq;
		return ESME_ROK;
	}
	const uint32_t sar = SMPP_TLV_SAR_MSG_REF_NUM | SMPP_TLV_SAR_TOTAL_SEGMENTS | SMPP_TLV_SAR_SEGMENT_SEQNUM;
	if ((req->tlv.present & sar) == sar) {
		const struct smpp_tlvs *t = &req->tlv;
		if (t->sar_total_segments == 0 || t->sar_segment_seqnum == 0 ||
		    t->sar_segment_seqnum > t->sar_total_segments)
			return ESME_RINVOPTPARAMVAL;
		m->seg_ref = t->sar_msg_ref_num, m->seg_total = t->sar_total_segments;
		m->seg_seq = t->sar_segment_seqnum;
		m->sar = true;
	}
	return ESME_ROK;
}

/* Validates req into m; returns ESME_ROK or the status to answer with. */
static uint32_t submit_parse(struct smsc *s, struct smsc_msg *m, const struct smpp_pdu *req)
{
	if (!digits_ok(req->dst.addr))
		return ESME_RINVDSTADR;
	if (req->src.addr.len >= SMSQ_ADDR_MAX)
		return ESME_RINVSRCADR;
	if (!dc_supported(req->data_coding))
		return SMSC_ESME_RINVDCS;
	struct sy_str body = req->short_message;
	if (req->tlv.present & SMPP_TLV_MESSAGE_PAYLOAD) {
		if (body.len > 0)
			return ESME_RINVMSGLEN; /* both: ambiguous */
		body = req->tlv.message_payload;
		m->payload = true;
	}
	if (req->data_coding == SMPP_DC_UCS2 && !(req->esm_class & SMPP_ESM_UDHI) && body.len % 2 != 0)
		return ESME_RINVMSGLEN;
	addr_copy(&m->src, &req->src);
	addr_copy(&m->dst, &req->dst);
	if (smsc__route(s, sy_str_from(m->dst.digits), m) == 0)
		return SMSC_STATUS_NO_ROUTE;
	m->esm_class = req->esm_class & (SMPP_ESM_UDHI | SMPP_ESM_REPLY_PATH);
	m->data_coding = req->data_coding;
	m->registered_delivery = req->registered_delivery;
	uint32_t st = seg_info(m, req, body);
	if (st != ESME_ROK)
		return st;
	uint64_t now = sy_env_wall_ns(s->env), exp = 0;
	enum sy_rc rc = smpp_time_parse(req->validity_period, now, &exp);
	if (rc == SY_DECLINED)
		exp = now + s->cfg.validity_default_ns;
	else if (rc != SY_OK || exp <= now)
		return ESME_RINVEXPIRY;
	m->submit_ns = now;
	m->expiry_ns = exp;
	rc = smsc__body_set(s, m, (const uint8_t *)body.p, body.len);
	return rc == SY_OK ? ESME_ROK : rc == SY_ERR_FULL ? ESME_RMSGQFUL : ESME_RINVMSGLEN;
}

static void reject(struct smsc *s, struct smpp_session *ss, uint32_t seq, uint32_t status)
{
	s->st.rejected++;
	s->st.rejected_by_status[status & 0xFF]++;
	(void)smpp_session_respond(ss, seq, status, SY_STR_NULL);
}

static void srv_submit(struct smsc *s, struct smpp_session *ss, const struct smpp_pdu *req)
{
	s->st.submitted++;
	if (smsq_failing(s->q)) {
		/* The disk is full or failing: nothing new can be made durable,
		 * so nothing new is acknowledged; the ESME backs off and retries.
		 * Messages already taken wait in the batch for the disk. */
		s->st.refused_disk++;
		reject(s, ss, req->sequence_number, ESME_RTHROTTLED);
		return;
	}
	struct smsc_account *a = smpp_session_user(ss);
	struct smsc_msg *m = smsc__msg_alloc(s);
	if (m == NULL) {
		reject(s, ss, req->sequence_number, ESME_RMSGQFUL);
		return;
	}
	m->phase = SMSC_P_STORING;
	m->account = (int32_t)(a - s->accts);
	uint32_t st = submit_parse(s, m, req);
	struct fraud_decision fd;
	if (st == ESME_ROK && s->cfg.fraud != NULL) /* one part, one decision */
		st = smsc__fraud_submit(s, m, 1, &fd);
	if (st != ESME_ROK) {
		smsc__msg_free(s, m);
		reject(s, ss, req->sequence_number, st);
		return;
	}
	m->id = s->next_id;
	s->next_id += s->id_step;
	m->esme_sess = smpp_session_id(ss);
	m->esme_seq = req->sequence_number;
	m->rx_ns = sy_env_now_ns(s->env);
	reasm_count(s, m);
	if (smsc__put(s, m) != SY_OK) {
		smsc__msg_free(s, m);
		reject(s, ss, req->sequence_number, ESME_RMSGQFUL);
	}
	/* m may already be answered and on its way: do not touch it here. */
}

static void srv_on_request(void *arg, struct smpp_session *ss, const struct smpp_pdu *req)
{
	struct smsc *s = arg;
	uint32_t cmd = req->command_id;
	if (cmd == SMPP_SUBMIT_SM || cmd == SMPP_DATA_SM) {
		srv_submit(s, ss, req);
	} else if (cmd == SMPP_DELIVER_SM) {
		(void)smpp_session_respond(ss, req->sequence_number, ESME_RINVCMDID, SY_STR_NULL);
	} else if (cmd != SMPP_ALERT_NOTIFICATION) {
		/* query_sm, cancel_sm, replace_sm: not offered. */
		(void)smpp_session_respond(ss, req->sequence_number, ESME_RX_P_APPN, SY_STR_NULL);
	}
}

/* The put is durable (or failed): answer, then start delivery. */
void smsc__put_done(struct smsc *s, struct smsc_msg *m, enum sy_rc rc)
{
	char idt[SMSQ_ID_TEXT_MAX];
	size_t n = smsq_id_fmt(m->id, idt);
	if (m->http != 0) {
		struct smsc_http *h = &s->http[m->http - 1];
		if (rc != SY_OK)
			h->rc = rc;
		if (--h->remaining == 0) {
			h->used = false;
			h->done(h->arg, h->rc, h->first_id, h->parts);
		}
		m->http = 0;
	} else {
		struct smpp_session *ss = smpp_session_find(s->srv, m->esme_sess);
		uint32_t status = rc == SY_OK ? ESME_ROK : ESME_RSYSERR;
		if (ss != NULL && smpp_session_respond(ss, m->esme_seq, status, (struct sy_str){idt, n}) == SY_OK)
			sy_hist_add(&s->st.submit_resp, sy_env_now_ns(s->env) - m->rx_ns);
		if (rc == SY_OK)
			s->st.accepted++;
		else
			s->st.rejected++, s->st.rejected_by_status[ESME_RSYSERR]++;
	}
	if (rc != SY_OK) {
		smsc__msg_free(s, m);
		return;
	}
	m->phase = SMSC_P_RETRY;
	smsc__dispatch(s, m);
}

static const struct smsc_msg *msg_of_tag(struct smsc *s, uint64_t tag);

static void srv_on_response(void *arg, struct smpp_session *ss, enum smpp_req_outcome how, uint32_t seq, uint64_t tag,
			    const struct smpp_pdu *resp)
{
	struct smsc *s = arg;
	struct smsc_msg *m = (struct smsc_msg *)msg_of_tag(s, tag);
	if (m == NULL || m->phase != SMSC_P_DLR_SENT)
		return;
	if (how == SMPP_REQ_RESP && resp->command_status == ESME_ROK) {
		s->st.dlr_sent++;
		struct smsq_update u = {.state = m->final, .set = SMSQ_SET_DLR_PENDING, .dlr_pending = false};
		(void)smsc__mark(s, m->id, &u, 0); /* lost: the receipt is sent again after a restart */
		int32_t acct = m->account;
		smsc__msg_free(s, m);
		/* A window slot is free: the next waiting receipt goes now, not
		 * at the next housekeeping tick (receipts would crawl behind). */
		if (acct >= 0)
			smsc__dlr_pump(s, &s->accts[acct]);
		return;
	}
	/* Kept for the next bind or the housekeeping pump. */
	s->st.dlr_errors++;
	m->phase = SMSC_P_DLR_WAIT;
	if (m->account >= 0)
		smsc__list_push(&s->accts[m->account].dlr, m);
}

static const struct smsc_msg *msg_of_tag(struct smsc *s, uint64_t tag)
{
	uint32_t idx = (uint32_t)tag, gen = (uint32_t)(tag >> 32) & 0xFFFFFFu;
	const struct smsc_msg *m = smsc__msg_at(s, idx);
	return m != NULL && m->gen == gen ? m : NULL;
}

const struct smpp_sess_ops smsc__srv_ops = {
    .on_accept = smsc__bind_accept,
    .auth = smsc__bind_auth,
    .handoff = smsc__bind_handoff,
    .on_bound = srv_on_bound,
    .on_request = srv_on_request,
    .on_response = srv_on_response,
    .on_close = srv_on_close,
};

/* ---- receipts to the ESME ---- */

/* How many of the n septets at b make the receipt's SMPP_DLR_TEXT_CHARS
 * characters (an escape and its septet are one), so only those are
 * converted; all n are still checked, and a body with a septet above 0x7F
 * in them gets no text, as when all were converted. */
static size_t gsm_text_septets(const uint8_t *b, size_t n)
{
	uint8_t high = 0;
	for (size_t i = 0; i < n; i++)
		high |= b[i];
	if (high > 0x7F)
		return n; /* the conversion refuses it */
	size_t i = 0;
	for (size_t chars = 0; i < n && chars < SMPP_DLR_TEXT_CHARS; chars++)
		i += b[i] == SMPP_GSM_ESC ? 2 : 1;
	return SY_MIN(i, n);
}

/* The first characters of the text for "text:" (UTF-8). */
static size_t dlr_text(const struct smsc_msg *m, char *out, size_t cap)
{
	const uint8_t *b = smsc__body(m);
	size_t n = m->body_len, len = 0, skip = 0;
	if ((m->esm_class & SMPP_ESM_UDHI) && n > 0)
		skip = SY_MIN((size_t)b[0] + 1, n);
	b += skip, n -= skip;
	n = SY_MIN(n, (size_t)80); /* 20 characters are at most 80 octets */
	enum sy_rc rc = SY_ERR_PARSE;
	if (m->data_coding == SMPP_DC_DEFAULT)
		rc = smpp_gsm_to_utf8(b, gsm_text_septets(b, n), out, cap, &len);
	else if (m->data_coding == SMPP_DC_UCS2)
		rc = smpp_ucs2_to_utf8(b, n & ~(size_t)1, out, cap, &len);
	else if (m->data_coding == SMPP_DC_IA5 || m->data_coding == SMPP_DC_LATIN1) {
		for (len = 0; len < n && len < SMPP_DLR_TEXT_CHARS && len < cap; len++)
			out[len] = b[len] < 0x80 && b[len] >= 0x20 ? (char)b[len] : '?';
		rc = SY_OK;
	}
	return rc == SY_OK ? len : 0;
}

static bool dlr_build(struct smsc *s, const struct smsc_msg *m, struct smpp_pdu *p, char *txt, char *idt)
{
	char text[96];
	size_t idn = smsq_id_fmt(m->id, idt), tl = dlr_text(m, text, sizeof(text));
	struct smpp_dlr d = {.id = {idt, idn},
			     .sub = 1,
			     .dlvrd = m->final == SMSQ_DELIVERED,
			     .submit_ns = m->submit_ns,
			     .done_ns = m->done_ns,
			     .state = m->final == SMSQ_DELIVERED  ? SMPP_STATE_DELIVERED
				      : m->final == SMSQ_EXPIRED  ? SMPP_STATE_EXPIRED
				      : m->final == SMSQ_REJECTED ? SMPP_STATE_REJECTED
								  : SMPP_STATE_UNDELIVERABLE,
			     .err = (uint16_t)(m->error_code % 1000),
			     .text = {text, tl}};
	size_t len;
	if (smpp_dlr_build(&d, txt, SMPP_DLR_LEN_MAX, &len) != SY_OK)
		return false;
	smpp_pdu_init(p, SMPP_DELIVER_SM, 0);
	/* The receipt comes from the recipient back to the sender. */
	p->src = (struct smpp_addr){m->dst.ton, m->dst.npi, sy_str_from(m->dst.digits)};
	p->dst = (struct smpp_addr){m->src.ton, m->src.npi, sy_str_from(m->src.digits)};
	p->esm_class = SMPP_ESM_TYPE_DELIVERY_RECEIPT;
	p->short_message = (struct sy_str){txt, SY_MIN(len, (size_t)SMPP_SM_LEN_MAX)};
	p->tlv.present = SMPP_TLV_RECEIPTED_MESSAGE_ID | SMPP_TLV_MESSAGE_STATE;
	p->tlv.receipted_message_id = d.id;
	p->tlv.message_state = d.state;
	return true;
}

/* A bound RX/TRX session of the account with window space, round-robin. */
static struct smpp_session *dlr_session(struct smsc *s, struct smsc_account *a)
{
	for (uint32_t k = 0; k < SMSC_ACCT_SESS_MAX; k++) {
		uint32_t i = (a->rr + k) % SMSC_ACCT_SESS_MAX;
		if (a->rx_sess[i] == 0)
			continue;
		struct smpp_session *ss = smpp_session_find(s->srv, a->rx_sess[i]);
		if (ss == NULL) {
			a->rx_sess[i] = 0;
			continue;
		}
		if (smpp_session_state(ss) == SMPP_SS_BOUND && smpp_session_outstanding(ss) < s->cfg.dlr_window) {
			a->rr = i + 1;
			return ss;
		}
	}
	return NULL;
}

/* Sends m's receipt, or keeps it on the account's list. */
void smsc__dlr_send(struct smsc *s, struct smsc_msg *m)
{
	if (m->account < 0) {
		/* Nobody to tell any more: drop the debt. */
		struct smsq_update u = {.state = m->final, .set = SMSQ_SET_DLR_PENDING, .dlr_pending = false};
		(void)smsc__mark(s, m->id, &u, 0);
		smsc__msg_free(s, m);
		return;
	}
	struct smsc_account *a = &s->accts[m->account];
	struct smpp_session *ss = a->dlr.n == 0 || a->dlr.head == m ? dlr_session(s, a) : NULL;
	struct smpp_pdu p;
	char txt[SMPP_DLR_LEN_MAX], idt[SMSQ_ID_TEXT_MAX];
	if (ss != NULL && dlr_build(s, m, &p, txt, idt) &&
	    smpp_session_send(ss, &p, smsc__token(m, SMSC_T_IGNORE), NULL) == SY_OK) {
		smsc__list_del(m);
		m->phase = SMSC_P_DLR_SENT;
		return;
	}
	m->phase = SMSC_P_DLR_WAIT;
	if (m->on == NULL)
		smsc__list_push(&a->dlr, m);
}

void smsc__dlr_pump(struct smsc *s, struct smsc_account *a)
{
	while (a->dlr.head != NULL) {
		struct smsc_msg *m = a->dlr.head;
		smsc__dlr_send(s, m);
		if (m->phase != SMSC_P_DLR_SENT)
			break;
	}
}

/* ---- HTTP submit ---- */

struct text_parts {
	uint8_t units[SMSQ_BODY_MAX]; /* septets (one per octet) or UTF-16BE */
	size_t len;
	enum smpp_text_enc enc;
};

/* Octets of the next part starting at off: whole escapes and surrogate
 * pairs only. */
static size_t part_len(const struct text_parts *t, size_t off, size_t max_units)
{
	size_t left = t->len - off;
	if (t->enc == SMPP_ENC_GSM7) {
		size_t n = SY_MIN(left, max_units);
		if (n < left && n > 0 && t->units[off + n - 1] == SMPP_GSM_ESC)
			n--;
		return n;
	}
	size_t n = SY_MIN(left, max_units * 2);
	if (n < left && n >= 2 && (t->units[off + n - 2] & 0xFC) == 0xD8)
		n -= 2; /* a high surrogate: keep the pair together */
	return n;
}

static enum sy_rc text_encode(struct sy_str text, struct text_parts *t, uint32_t *parts)
{
	struct smpp_seg_info si;
	if (smpp_text_segments(text, &si) != SY_OK)
		return SY_ERR_INVAL;
	t->enc = si.enc;
	enum sy_rc rc = si.enc == SMPP_ENC_GSM7 ? smpp_gsm_from_utf8(text, t->units, sizeof(t->units), &t->len, NULL)
						: smpp_ucs2_from_utf8(text, t->units, sizeof(t->units), &t->len);
	if (rc != SY_OK || si.segments > 255)
		return SY_ERR_INVAL;
	*parts = (uint32_t)si.segments;
	return SY_OK;
}

static struct smsc_http *http_alloc(struct smsc *s, uint32_t *idx)
{
	for (uint32_t i = 0; i < s->cfg.http_max; i++) {
		if (!s->http[i].used) {
			*idx = i + 1;
			memset(&s->http[i], 0, sizeof(s->http[i]));
			s->http[i].used = true;
			return &s->http[i];
		}
	}
	return NULL;
}

static struct smsc_msg *text_part(struct smsc *s, const struct smsc_text_req *r, int32_t acct,
				  const struct text_parts *t, size_t off, size_t n, uint32_t seq, uint32_t total)
{
	struct smsc_msg *m = smsc__msg_alloc(s);
	SY_ASSERT(m != NULL); /* the caller checked the room */
	m->phase = SMSC_P_STORING;
	m->account = acct;
	m->from_http = true;
	bool alpha = !digits_ok(r->from);
	struct smpp_addr src = {alpha ? SMPP_TON_ALPHANUMERIC : SMPP_TON_INTERNATIONAL, alpha ? 0 : 1, r->from};
	struct smpp_addr dst = {SMPP_TON_INTERNATIONAL, SMPP_NPI_E164, r->to};
	addr_copy(&m->src, &src);
	addr_copy(&m->dst, &dst);
	smsc__route(s, sy_str_from(m->dst.digits), m);
	m->data_coding = t->enc == SMPP_ENC_GSM7 ? SMPP_DC_DEFAULT : SMPP_DC_UCS2;
	m->registered_delivery = r->dlr ? SMPP_REGDLV_SMSC_ALWAYS : 0;
	m->submit_ns = sy_env_wall_ns(s->env);
	m->expiry_ns = m->submit_ns + s->cfg.validity_default_ns;
	size_t ul = 0;
	if (total > 1) {
		struct smpp_concat c = {.ref = s->http_ref, .total = (uint8_t)total, .seq = (uint8_t)seq};
		(void)smpp_udh_build(&c, m->body, sizeof(m->body), &ul);
		m->esm_class = SMPP_ESM_UDHI;
		m->seg_ref = c.ref, m->seg_total = c.total, m->seg_seq = c.seq;
	}
	SY_ASSERT(ul + n <= sizeof(m->body));
	memcpy(m->body + ul, t->units + off, n);
	m->body_len = (uint32_t)(ul + n);
	m->id = s->next_id;
	s->next_id += s->id_step;
	m->rx_ns = sy_env_now_ns(s->env);
	return m;
}

static enum sy_rc text_check(struct smsc *s, const struct smsc_text_req *r, int32_t *acct)
{
	*acct = r->account != NULL ? smsc__account_find(s, sy_str_from(r->account)) : -1;
	if (*acct < 0)
		return SY_ERR_NOTFOUND;
	/* The account's one TPS bucket, shared with its SMPP sessions: a POST
	 * counts as one submit, whatever its parts. */
	if (!smpp_tbucket_take(&s->accts[*acct].tb, sy_env_now_ns(s->env)))
		return SY_AGAIN;
	if (!digits_ok(r->to) || r->from.len == 0 || r->from.len >= SMSQ_ADDR_MAX || r->done == NULL)
		return SY_ERR_INVAL;
	struct smsc_msg probe;
	struct sy_str to = r->to;
	if (to.p[0] == '+')
		to.p++, to.len--;
	return smsc__route(s, to, &probe) == 0 ? SY_DECLINED : SY_OK;
}

/* One decision for the whole text (its parts as segments), made on a
 * probe message; a flag is kept by every part's MDR. */
static enum sy_rc text_fraud(struct smsc *s, const struct smsc_text_req *r, int32_t acct, uint32_t parts,
			     struct fraud_decision *fd)
{
	struct smsc_msg probe = {.account = acct};
	bool alpha = !digits_ok(r->from);
	struct smpp_addr src = {alpha ? SMPP_TON_ALPHANUMERIC : SMPP_TON_INTERNATIONAL, alpha ? 0 : 1, r->from};
	struct smpp_addr dst = {SMPP_TON_INTERNATIONAL, SMPP_NPI_E164, r->to};
	addr_copy(&probe.src, &src);
	addr_copy(&probe.dst, &dst);
	uint32_t st = smsc__fraud_submit(s, &probe, parts, fd);
	free(probe.fraud_reason);
	if (st == ESME_ROK)
		return SY_OK;
	if (r->fraud != NULL)
		*r->fraud = *fd;
	return fd->action == FRAUD_THROTTLE ? SY_AGAIN : SY_ERR_STATE;
}

enum sy_rc smsc_submit_text(struct smsc *s, const struct smsc_text_req *r)
{
	int32_t acct;
	enum sy_rc rc = text_check(s, r, &acct);
	if (rc != SY_OK)
		return rc;
	static struct text_parts t; /* 64 KB: off the stack; the core is single-threaded */
	uint32_t parts;
	if (text_encode(r->text, &t, &parts) != SY_OK)
		return SY_ERR_INVAL;
	uint32_t hidx;
	if (smsq_failing(s->q)) { /* as srv_submit: the disk cannot take it now */
		s->st.refused_disk++;
		return SY_ERR_FULL;
	}
	if (smsc__msgs_free(s) < parts + 1)
		return SY_ERR_FULL;
	struct fraud_decision fd = {.action = FRAUD_ALLOW};
	if (s->cfg.fraud != NULL && (rc = text_fraud(s, r, acct, parts, &fd)) != SY_OK)
		return rc;
	struct smsc_http *h = http_alloc(s, &hidx);
	if (h == NULL)
		return SY_ERR_FULL;
	*h = (struct smsc_http){.done = r->done, .arg = r->arg, .remaining = parts, .parts = parts, .used = true};
	s->http_ref++;
	size_t max = t.enc == SMPP_ENC_GSM7 ? (parts > 1 ? SMPP_GSM_SEG_MULTI : SMPP_GSM_SEG_SINGLE)
					    : (parts > 1 ? SMPP_UCS2_SEG_MULTI : SMPP_UCS2_SEG_SINGLE);
	size_t off = 0;
	s->st.http_submitted++;
	for (uint32_t i = 1; i <= parts; i++) {
		size_t n = part_len(&t, off, max);
		struct smsc_msg *m = text_part(s, r, acct, &t, off, n, i, parts);
		off += n;
		if (i == 1)
			h->first_id = m->id;
		m->http = hidx;
		if (fd.action == FRAUD_FLAG)
			smsc__fraud_keep(m, &fd);
		reasm_count(s, m);
		if (smsc__put(s, m) != SY_OK) {
			/* Parts already put still report through the callback. */
			smsc__msg_free(s, m);
			h->rc = SY_ERR_FULL;
			h->remaining -= parts - i + 1;
			if (h->remaining == 0) {
				h->used = false;
				h->done(h->arg, h->rc, h->first_id, parts);
			}
			break;
		}
	}
	return SY_OK;
}
