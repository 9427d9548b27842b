/* txn_client.c: the client transactions of RFC 3261 17.1 (ICT, NICT):
 * starting them from a request this node sends, CANCEL, and the responses
 * that drive their state machines. */
#include "core/sip/txn_int.h"

#include <stdio.h>
#include <stdlib.h>

/* ---- client transactions ---- */

/* A client transaction for bytes already built (buf from osip_malloc, owned
 * from here on); req is the parsed form when the TU passed one, else NULL. */
static enum sy_rc client_begin(struct sip_stack *s, const struct sip_msg *m, char *buf, size_t len, osip_message_t *req,
			       const struct sy_addr *to, void *user, uint8_t flags, struct sip_txn **out)
{
	/* Responses are matched by branch alone, so it must be RFC 3261's. */
	if (m->method == SIP_M_ACK || m->branch.len <= 7 || memcmp(m->branch.p, MAGIC_COOKIE, 7) != 0)
		goto out_inval;
	uint64_t key = sip_txn__key(s, m);
	if (sip_txn__hash_find(s, key, false, 0, m->method) != NULL)
		goto out_inval;
	/* Client transactions belong to work already admitted (a call's B
	 * leg, its BYE, a CANCEL): they may use the reserve. */
	struct sip_txn *t = sip_txn__alloc(s, TXN_DIALOG);
	if (t == NULL) {
		s->stats.txn_full++;
		if (m->method != SIP_M_INVITE) {
			/* No slot even in the reserve: a BYE or CANCEL still
			 * goes out, once, with no retransmissions. */
			sip_txn__send_bytes(s, to, buf, len);
			s->stats.sent_stateless++;
		}
		osip_free(buf);
		if (req != NULL)
			osip_message_free(req);
		return SY_ERR_FULL;
	}
	t->buf = buf;
	t->buf_len = (uint32_t)len;
	sip_txn__held(s, sip_txn__held_of(buf, (uint32_t)len));
	t->kind = m->method == SIP_M_INVITE ? SIP_TXN_ICT : SIP_TXN_NICT;
	t->state = t->kind == SIP_TXN_ICT ? SIP_TS_CALLING : SIP_TS_TRYING;
	t->method = (uint8_t)m->method;
	t->flags = flags;
	t->key = key;
	t->req = req;
	t->peer = *to;
	t->user = user;
	sip_txn__hash_insert(s, t);
	sip_txn__send_bytes(s, to, t->buf, t->buf_len);
	uint64_t now = sip_txn__now_ns(s), t1 = s->cfg.timers.t1_ns;
	t->retx_ival_ns = t1;
	t->retx_at_ns = now + t1;     /* Timer A / E */
	t->end_at_ns = now + 64 * t1; /* Timer B / F */
	sip_txn__arm(t);
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
	sip_txn__send_bytes(s, to, buf, len);
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
	if (rc != SY_OK && rc != SY_ERR_FULL) /* FULL: sent once with no transaction */
		return rc;
	ict->flags = (uint8_t)((ict->flags & ~F_CANCEL_PENDING) | F_CANCEL_SENT);
	/* RFC 3261 9.1: no final response within 64*T1 of the CANCEL means
	 * the INVITE is given up. */
	ict->end_at_ns = sip_txn__now_ns(s) + 64 * s->cfg.timers.t1_ns;
	sip_txn__arm(ict);
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
	ct->end_at_ns = sip_txn__now_ns(ct->stack);
	sip_txn__arm(ct);
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
		sip_txn__send_bytes(s, &t->peer, buf, len);
		sip_txn__keep(t, buf, len);
	}
	t->state = SIP_TS_COMPLETED;
	sip_txn__linger(t);
	t->retx_at_ns = NEVER;
	t->end_at_ns = sip_txn__now_ns(s) + SY_MAX(64 * s->cfg.timers.t1_ns, 32 * SY_NS_PER_S); /* Timer D */
	sip_txn__arm(t);
	tu_response(t, resp);
	sip_txn__free_req(t);
}

/* The first 1xx ends Timer A: from now on the INVITE's bytes only serve
 * to build its CANCEL or the ACK of a 3xx-6xx, which take the request line,
 * top Via, Route, From, To, Call-ID and CSeq (sip_raw_cancel_ack). Keep just
 * those, as sip_raw_cancel_ack writes them: it writes the same from them
 * again, so CANCEL and ACK stay byte for byte what they were. At 10K calls/s
 * some 20K B-leg INVITEs ring at once; the body and the other headers are
 * half of each. */
static void ict_keep_skeleton(struct sip_txn *t)
{
	if (t->buf == NULL || (t->flags & F_STATELESS))
		return;
	uint32_t len;
	char *skel = cancel_ack_bytes(t, "INVITE", SY_STR_NULL, &len);
	if (skel == NULL)
		return; /* out of memory: keep the whole INVITE */
	if (len >= t->buf_len) {
		osip_free(skel);
		return;
	}
	sip_txn__keep(t, skel, len);
}

static void ict_response(struct sip_txn *t, const struct sip_msg *resp)
{
	struct sip_stack *s = t->stack;
	int code = resp->status;
	if (t->state == SIP_TS_CALLING || t->state == SIP_TS_PROCEEDING) {
		if (code < 200) {
			if (t->state == SIP_TS_CALLING)
				ict_keep_skeleton(t);
			t->state = SIP_TS_PROCEEDING;
			t->retx_at_ns = NEVER;
			if (!(t->flags & F_CANCEL_SENT))
				t->end_at_ns = NEVER; /* Timer B only runs in Calling */
			if (t->flags & F_CANCEL_PENDING)
				send_cancel(t);
			tu_response(t, resp);
		} else if (code < 300) {
			t->state = SIP_TS_ACCEPTED;
			sip_txn__linger(t);
			t->retx_at_ns = NEVER;
			t->end_at_ns = sip_txn__now_ns(s) + 64 * s->cfg.timers.t1_ns; /* Timer M */
			sip_txn__keep(t, NULL, 0);
			sip_txn__arm(t);
			tu_response(t, resp);
			sip_txn__free_req(t);
		} else {
			ict_final_error(t, resp);
		}
		return;
	}
	if (t->state == SIP_TS_COMPLETED && code >= 300 && t->buf != NULL) {
		sip_txn__send_bytes(s, &t->peer, t->buf, t->buf_len);
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
	sip_txn__linger(t);
	t->retx_at_ns = NEVER;
	t->end_at_ns = sip_txn__now_ns(s) + s->cfg.timers.t4_ns; /* Timer K */
	sip_txn__keep(t, NULL, 0);
	sip_txn__arm(t);
	tu_response(t, resp);
	sip_txn__free_req(t);
}

void sip_txn__recv_response(struct sip_stack *s, const struct sip_msg *resp)
{
	struct sip_txn *t = sip_txn__hash_find(s, sip_txn__key(s, resp), false, 0, resp->method);
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
