/* txn_server.c: the server transactions of RFC 3261 17.2 (IST, NIST) and
 * RFC 6026's Accepted state: the receive path from a datagram to its
 * transaction, absorbing retransmissions, and the TU's responses. */
#include "core/sip/txn_int.h"

#include <stdio.h>
#include <stdlib.h>

/* ---- server transactions ---- */

/* The response of a NIST that kept none (rebuild): made again from the
 * retransmitted request, exactly as the first was from the original, if
 * the bytes are the original's (their hash); another request that only
 * shares the branch gets nothing, as no kept response would fit it. */
static void server_rebuild(struct sip_txn *t, const struct sip_msg *req, const struct sy_addr *from)
{
	struct sip_stack *s = t->stack;
	size_t cap = req->raw.len + SY_ADDR_STRLEN + 32;
	char *fixed = malloc(cap);
	if (fixed == NULL)
		return;
	size_t flen = sip_raw_fix_via(req->raw, from, fixed, cap);
	char *buf = NULL;
	uint32_t len = 0;
	if (flen > 0 && sy_hash64(fixed, flen, s->hash_seed) == t->req_hash) {
		struct sip_reply r = {.status = t->rebuild};
		buf = sip_txn__reply_bytes((struct sy_str){fixed, flen}, &r, &len);
	}
	free(fixed);
	if (buf == NULL)
		return;
	sip_txn__send_bytes(s, &t->peer, buf, len);
	osip_free(buf);
	s->stats.retransmits_sent++;
}

/* A retransmitted request: resend the last response, if any (17.2.1, 17.2.2). */
static void server_absorb(struct sip_txn *t, const struct sip_msg *req, const struct sy_addr *from)
{
	struct sip_stack *s = t->stack;
	s->stats.retransmits_absorbed++;
	if (t->rebuild != 0) {
		server_rebuild(t, req, from);
		return;
	}
	if (t->buf == NULL || t->state == SIP_TS_ACCEPTED)
		return; /* RFC 6026: the 2xx is retransmitted by its own timer */
	sip_txn__send_bytes(s, &t->peer, t->buf, t->buf_len);
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
	struct sip_txn *t = sip_txn__hash_find(s, key, true, sent_by, SIP_M_INVITE);
	if (t != NULL && t->state == SIP_TS_COMPLETED) {
		t->state = SIP_TS_CONFIRMED;
		t->retx_at_ns = NEVER;
		t->end_at_ns = sip_txn__now_ns(s) + s->cfg.timers.t4_ns; /* Timer I */
		sip_txn__keep(t, NULL, 0);
		sip_txn__arm(t);
		return;
	}
	if (t != NULL && t->state == SIP_TS_CONFIRMED) {
		s->stats.retransmits_absorbed++;
		return;
	}
	tu_request(s, NULL, req, from);
}

/* Inside a dialog: a To tag, or a CANCEL (it names an INVITE in progress). */
static bool in_dialog(const struct sip_msg *req)
{
	return req->to_tag.len > 0 || req->method == SIP_M_CANCEL;
}

/* No room for a new out-of-dialog request: 503 with Retry-After. */
static void server_refuse(struct sip_stack *s, struct sip_msg *req, const struct sy_addr *from)
{
	char ra[40];
	struct sip_reply r = {.status = 503};
	r.extra = (struct sy_str){ra, sip_txn__retry_after(s, ra, sizeof(ra))};
	s->stats.txn_full++;
	s->stats.rejected[SIP_OVL_TXN]++;
	sip_txn__respond_stateless(s, req, from, &r);
}

/* Takes the request's bytes (Via fixed: responses are built from them). */
static void server_take_raw(struct sip_txn *t, const struct sip_msg *req, const struct sy_addr *from)
{
	size_t cap = req->raw.len + SY_ADDR_STRLEN + 32;
	t->raw = osip_malloc(cap);
	if (t->raw != NULL)
		t->raw_len = (uint32_t)sip_raw_fix_via(req->raw, from, t->raw, cap);
	if (t->raw != NULL && !(t->flags & F_STATELESS))
		sip_txn__held(t->stack, sip_txn__held_of(t->raw, t->raw_len));
}

static void server_init(struct sip_txn *t, struct sip_msg *req, const struct sy_addr *from, uint64_t key,
			uint64_t sent_by)
{
	t->kind = req->method == SIP_M_INVITE ? SIP_TXN_IST : SIP_TXN_NIST;
	t->state = t->kind == SIP_TXN_IST ? SIP_TS_PROCEEDING : SIP_TS_TRYING;
	t->method = (uint8_t)req->method;
	t->key = key;
	t->sent_by = sent_by;
	sip_response_dest(req->m, from, &t->peer);
	server_take_raw(t, req, from);
}

/* Even the reserve is used up: a BYE or CANCEL is still served, by a
 * transaction on this stack frame that lives for the TU's callback only
 * (sip_txn_stateless), so the TU must answer it there. Its retransmissions
 * are served again the same way; a BYE for a known call is never refused
 * for want of memory. Other in-dialog requests (re-INVITE, UPDATE, INFO),
 * which a TU may relay and answer later, get the 503 instead. */
static void server_stateless(struct sip_stack *s, struct sip_msg *req, const struct sy_addr *from, uint64_t key,
			     uint64_t sent_by)
{
	struct sip_txn t = {.stack = s, .flags = F_STATELESS | F_IN_CB};
	t.retx_at_ns = t.end_at_ns = NEVER;
	server_init(&t, req, from, key, sent_by);
	t.req = req->m; /* borrowed: the datagram's */
	s->stats.served_stateless++;
	tu_request(s, &t, req, from);
	t.req = NULL;
	if (t.raw != NULL)
		osip_free(t.raw);
	if (t.buf != NULL)
		osip_free(t.buf);
}

static void server_new(struct sip_stack *s, struct sip_msg *req, const struct sy_addr *from, uint64_t key,
		       uint64_t sent_by)
{
	bool dialog = in_dialog(req);
	struct sip_txn *t = sip_txn__alloc(s, dialog ? TXN_DIALOG : TXN_NEW);
	if (t == NULL && dialog && (req->method == SIP_M_BYE || req->method == SIP_M_CANCEL)) {
		server_stateless(s, req, from, key, sent_by);
		return;
	}
	if (t == NULL) {
		server_refuse(s, req, from);
		return;
	}
	server_init(t, req, from, key, sent_by);
	t->req = req->m;
	req->m = NULL; /* the transaction owns it now */
	sip_txn__hash_insert(s, t);
	t->flags |= F_IN_CB;
	struct sip_msg view = *req;
	view.m = t->req;
	tu_request(s, t, &view, from);
	t->flags &= (uint8_t)~F_IN_CB;
	if (t->flags & F_DROP_REQ) {
		t->flags &= (uint8_t)~F_DROP_REQ;
		sip_txn__free_req(t);
	} else if (s->cfg.raw_requests && t->req != NULL) { /* the raw bytes stay for the responses */
		osip_message_free(t->req);
		t->req = NULL;
	}
}

static uint64_t source_hash(const struct sip_stack *s, const struct sy_addr *from)
{
	uint8_t k[19] = {from->family, (uint8_t)(from->port >> 8), (uint8_t)from->port};
	memcpy(k + 3, from->ip, 16);
	return sy_hash64(k, sizeof(k), s->hash_seed ^ 0x5352435ull) * 3u;
}

static void recv_request(struct sip_stack *s, struct sip_msg *req, const struct sy_addr *from)
{
	sip_via_fix_received(req->m, from);
	/* The source is part of the transaction's identity (with the Via's
	 * sent-by, RFC 3261 17.2.3): a copy of a branch from elsewhere is
	 * another transaction, so a forged CANCEL or ACK with a known branch
	 * neither finds the INVITE nor absorbs the real one. */
	uint64_t key = sip_txn__key(s, req), sent_by = sip_txn__sent_by_hash(s, req) ^ source_hash(s, from);
	if (req->method == SIP_M_ACK) {
		recv_ack(s, req, from, key, sent_by);
		return;
	}
	struct sip_txn *t = sip_txn__hash_find(s, key, true, sent_by, (enum sip_method)req->method);
	if (t != NULL) {
		server_absorb(t, req, from);
		return;
	}
	server_new(s, req, from, key, sent_by);
}

void sip_stack_recv(struct sip_stack *s, const struct sy_addr *from, const uint8_t *buf, size_t len)
{
	struct sip_msg msg;
	char err[96];
	s->stats.rx_msgs++;
	/* a TU answering from raw bytes (the B2BUA) reads plain 1xx/2xx raw too */
	enum sy_rc rc = s->cfg.raw_requests ? sip_msg_parse_fast(buf, len, &msg, err, sizeof(err))
					    : sip_msg_parse(buf, len, &msg, err, sizeof(err));
	if (rc == SY_ERR_PARSE) {
		s->stats.rx_bad_dropped++;
		return;
	}
	if (rc == SY_ERR_FULL) { /* osip's pool at its bound: overload, not bad input */
		s->stats.rx_pool_exhausted++;
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
	s->rx_from = from;
	if (msg.status != 0)
		sip_txn__recv_response(s, &msg);
	else
		recv_request(s, &msg, from);
	s->rx_from = NULL;
	sip_msg_free(&msg);
}

enum sy_rc sip_txn_respond(struct sip_txn *st, osip_message_t *resp)
{
	SY_ASSERT(st != NULL && resp != NULL);
	struct sip_stack *s = st->stack;
	int code = resp->status_code;
	bool open = st->state == SIP_TS_TRYING || st->state == SIP_TS_PROCEEDING;
	if (!sip_txn__is_server(st) || !open || code < 100 || code > 699) {
		osip_message_free(resp);
		return sip_txn__is_server(st) && open ? SY_ERR_INVAL : SY_ERR_STATE;
	}
	char *buf;
	uint32_t len;
	enum sy_rc rc = sip_txn__send_msg(s, resp, &st->peer, &buf, &len);
	if (rc != SY_OK)
		return rc;
	sip_txn__server_sent(st, code, buf, len);
	return SY_OK;
}

/* A NIST's final response that is a function of its request alone: the
 * status and the copied headers (RFC 3261 8.2.6), its standard phrase, no
 * Contact, extra header or body, and no To tag of ours (the request's To
 * has one: in a dialog, as a BYE is). */
static bool reply_rebuilds(const struct sip_txn *st, const struct sip_reply *r)
{
	if (st->kind != SIP_TXN_NIST || r->status < 200 || (st->flags & F_STATELESS))
		return false;
	if (r->reason != NULL || r->contact.len || r->extra.len || r->content_type.len || r->body.len)
		return false;
	struct sy_str to;
	return r->to_tag.len == 0 ||
	       (sip_raw_find((struct sy_str){st->raw, st->raw_len}, SIP_H_TO, &to) && sip_raw_has_tag(to));
}

enum sy_rc sip_txn_reply(struct sip_txn *st, const struct sip_reply *r)
{
	SY_ASSERT(st != NULL && r != NULL);
	bool open = st->state == SIP_TS_TRYING || st->state == SIP_TS_PROCEEDING;
	if (!sip_txn__is_server(st) || !open)
		return SY_ERR_STATE;
	if (r->status < 100 || r->status > 699 || st->raw == NULL || st->raw_len == 0)
		return SY_ERR_INVAL;
	uint32_t len;
	char *buf = sip_txn__reply_bytes((struct sy_str){st->raw, st->raw_len}, r, &len);
	if (buf == NULL)
		return SY_ERR_INVAL;
	bool rebuild = reply_rebuilds(st, r);
	uint64_t h = rebuild ? sy_hash64(st->raw, st->raw_len, st->stack->hash_seed) : 0;
	sip_txn__send_bytes(st->stack, &st->peer, buf, len);
	sip_txn__server_sent(st, r->status, buf, len);
	if (rebuild) { /* Timer J's 32 s with no bytes held */
		sip_txn__keep(st, NULL, 0);
		st->rebuild = (uint16_t)r->status;
		st->req_hash = h;
	}
	return SY_OK;
}

/* The server transaction sent a response (bytes kept for retransmission). */
void sip_txn__server_sent(struct sip_txn *st, int code, char *buf, uint32_t len)
{
	struct sip_stack *s = st->stack;
	bool first = st->buf == NULL; /* no provisional response went out before */
	sip_txn__keep(st, buf, len);
	uint64_t now = sip_txn__now_ns(s), t1 = s->cfg.timers.t1_ns;
	if (code < 200) {
		st->state = SIP_TS_PROCEEDING;
		return;
	}
	if (st->flags & F_STATELESS) { /* nothing lingers: retransmissions are served anew */
		st->state = SIP_TS_COMPLETED;
		sip_txn__free_req(st);
		return;
	}
	sip_txn__linger(st);
	if (st->kind == SIP_TXN_NIST) {
		st->state = SIP_TS_COMPLETED;
		st->end_at_ns = now + 64 * t1; /* Timer J */
	} else {
		/* 2xx: RFC 6026 Accepted, Timer L; else Completed, Timer G/H */
		st->state = code < 300 ? SIP_TS_ACCEPTED : SIP_TS_COMPLETED;
		st->retx_ival_ns = t1;
		st->retx_at_ns = now + t1;
		st->end_at_ns = now + 64 * t1;
		if (code >= 300 && first) {
			/* A refusal before any 1xx (403, 503, 483, 422 ...): the
			 * caller is still retransmitting its INVITE (Timer A), and
			 * each copy is answered again (server_absorb), so Timer G
			 * would only add 10 unsolicited copies over 32 s toward a
			 * source nobody has vouched for (RFC 3261 17.2.1 keeps its
			 * reliability: docs/security.md). */
			st->retx_at_ns = NEVER;
			s->stats.finals_once++;
		}
	}
	sip_txn__arm(st);
	sip_txn__free_req(st);
}

const struct sy_addr *sip_stack_rx_source(const struct sip_stack *s)
{
	return s->rx_from;
}

bool sip_txn_stateless(const struct sip_txn *st)
{
	return (st->flags & F_STATELESS) != 0;
}

void sip_txn_acked(struct sip_txn *st)
{
	SY_ASSERT(st != NULL);
	if (st->kind != SIP_TXN_IST || st->state != SIP_TS_ACCEPTED || (st->flags & F_ACKED))
		return;
	st->flags |= F_ACKED;
	st->retx_at_ns = NEVER;
	sip_txn__keep(st, NULL, 0);
}
