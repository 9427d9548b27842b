/* b2bua_tu.c: the transaction-user callbacks the SIP stack calls (requests
 * from either side, responses, timeouts, terminated transactions) and the
 * call timers (setup and maximum duration). */
#include "b2bua_int.h"

#include <stdio.h>
#include <stdlib.h>

/* ---- requests from either side ---- */

static void end_call_from(struct b2bua *b, struct call *c, enum call_leg leg, struct sip_txn *st)
{
	b2bua__respond_code(b, st, 200, NULL);
	if (c->state == CALL_ANSWERED && c->a_ist != NULL)
		sip_txn_acked(c->a_ist); /* a BYE implies the ACK was sent */
	c->hangup = leg == LEG_A ? CDR_SIDE_CALLER : CDR_SIDE_CALLEE;
	b->st.completed++;
	b2bua__call_end(b, c, leg == LEG_B, leg == LEG_A);
}

static void in_dialog(struct b2bua *b, struct sip_txn *st, const struct sip_msg *req, const struct sy_addr *from)
{
	enum call_leg leg;
	enum b2bua_refusal why;
	struct call *c = b2bua__dialog_match(b, req, from, &leg, &why);
	if (req->method == SIP_M_ACK) {
		if (c != NULL && b2bua__relay_ack(b, c, leg, req))
			return;
		if (c != NULL && leg == LEG_A && c->state == CALL_ANSWERED && c->a_ist != NULL) {
			sip_txn_acked(c->a_ist);
			c->state = CALL_CONFIRMED;
		}
		return;
	}
	if (c != NULL && c->state == CALL_PROCEEDING && leg == LEG_A && req->method == SIP_M_BYE) {
		/* BYE on an early dialog (RFC 3261 15): end it like a CANCEL */
		b2bua__respond_code(b, st, 200, NULL);
		b2bua__cancel_call(b, c);
		return;
	}
	if (c != NULL && c->state == CALL_ENDING && req->method == SIP_M_BYE) {
		b2bua__respond_code(b, st, 200, NULL); /* crossed ours: both ends agree */
		return;
	}
	if (c == NULL || c->state == CALL_PROCEEDING || c->state == CALL_CANCELLING || c->state == CALL_ENDING) {
		b->st.stray++;
		b2bua__respond_code(b, st, 481, NULL);
		return;
	}
	switch (req->method) {
	case SIP_M_BYE:
		end_call_from(b, c, leg, st);
		break;
	case SIP_M_INVITE: /* hold, resume, a new offer: to the other leg */
		if (c->state != CALL_CONFIRMED) {
			b2bua__respond_code(b, st, 491, NULL); /* our 200 is not ACKed yet */
			break;
		}
		b2bua__relay_request(b, c, leg, st, req);
		break;
	case SIP_M_UPDATE: /* with a body: relayed; without: a session refresh (RFC 4028) */
		if (b2bua__relay_request(b, c, leg, st, req))
			break;
		b2bua__st_refreshed(b, c, leg);
		b2bua__respond_code(b, st, 200, NULL);
		break;
	case SIP_M_OPTIONS:
	case SIP_M_INFO:
		b2bua__respond_code(b, st, 200, NULL);
		break;
	default:
		b2bua__respond_code(b, st, 501, NULL);
	}
}

static void on_cancel(struct b2bua *b, struct sip_txn *st)
{
	struct sip_txn *inv = sip_txn_cancel_target(st);
	struct call *c = inv != NULL ? sip_txn_user(inv) : NULL;
	if (c == NULL) { /* also from another source: txn_server.c source_hash */
		b2bua__respond_code(b, st, 481, NULL);
		return;
	}
	b2bua__respond_code(b, st, 200, NULL);
	if (c->state != CALL_PROCEEDING)
		return; /* already answered: the caller will BYE */
	b2bua__cancel_call(b, c);
}

void b2bua__cancel_call(struct b2bua *b, struct call *c)
{
	b->st.cancelled++;
	c->disposition = CDR_DISP_CANCELLED;
	c->hangup = CDR_SIDE_CALLER;
	b2bua__a_respond(b, c, 487, NULL, NULL);
	if (c->b_ict != NULL) {
		c->state = CALL_CANCELLING;
		sip_txn_client_cancel(c->b_ict);
	} else {
		b2bua__call_free(b, c);
	}
}

void b2bua__on_request(void *arg, struct sip_txn *st, const struct sip_msg *req, const struct sy_addr *from)
{
	struct b2bua *b = arg;
	if (req->to_tag.len > 0 || req->method == SIP_M_ACK) {
		in_dialog(b, st, req, from);
		return;
	}
	switch (req->method) {
	case SIP_M_INVITE:
		b2bua__new_invite(b, st, req, from);
		break;
	case SIP_M_REGISTER:
		b2bua__register(b, st, req, from);
		break;
	case SIP_M_CANCEL:
		on_cancel(b, st);
		break;
	case SIP_M_OPTIONS:
		b2bua__respond_code(b, st, 200, NULL);
		break;
	case SIP_M_BYE:
		b->st.stray++;
		b2bua__respond_code(b, st, 481, NULL);
		break;
	default:
		b2bua__respond_code(b, st, 405, NULL);
	}
}

/* host:port of a SIP URI with an IP literal ("sip:u@10.0.0.1:5060;x"). */
static bool uri_addr(struct sy_str uri, struct sy_addr *out)
{
	char buf[SY_ADDR_STRLEN];
	const char *p = memchr(uri.p, '@', uri.len), *end = uri.p + uri.len;
	p = p != NULL ? p + 1 : (uri.len > 4 && memcmp(uri.p, "sip:", 4) == 0 ? uri.p + 4 : NULL);
	if (p == NULL)
		return false;
	size_t n = 0;
	while (p + n < end && p[n] != ';' && p[n] != '>' && p[n] != '?')
		n++;
	if (n == 0 || n >= sizeof(buf))
		return false;
	memcpy(buf, p, n);
	buf[n] = '\0';
	return sy_addr_parse(buf, 5060, out) == SY_OK;
}


static bool stray_2xx_admit(struct b2bua *b)
{
	uint64_t now = sy_env_now_ns(b->env), cap = (uint64_t)STRAY_2XX_BURST * SY_NS_PER_S;
	uint64_t gain = (now - b->stray_at_ns) * STRAY_2XX_RATE;
	if (now - b->stray_at_ns > (uint64_t)STRAY_2XX_BURST * SY_NS_PER_S)
		gain = cap;
	b->stray_tokens = SY_MIN(cap, b->stray_tokens + gain);
	b->stray_at_ns = now;
	if (b->stray_tokens < SY_NS_PER_S) {
		b->st.stray_2xx_limited++;
		return false;
	}
	b->stray_tokens -= SY_NS_PER_S;
	return true;
}

/* A 2xx to an INVITE that belongs to no call (a carrier we gave up on
 * answered late, or a 2xx crossed a shutdown CANCEL): RFC 3261 13.2.2.4
 * says ACK it, and the unwanted dialog is then ended with BYE, so the
 * carrier does not keep (and bill) a call no CDR records. With a matched
 * transaction (ours, to our carrier) the ACK and the BYE go to the
 * Contact, the BYE in a transaction. With none (`stray`: anyone can send
 * that 2xx) one ACK and one BYE go to the 2xx's source, never to the
 * Contact it names, with no transaction and at STRAY_2XX_RATE at most. */
static void end_stray_2xx(struct b2bua *b, const struct sip_msg *resp, bool bye, bool stray)
{
	struct sy_str from, to, cid, contact, cseq;
	struct sy_addr dst;
	const struct sy_addr *src = sip_stack_rx_source(b->stack);
	if (!sip_raw_find(resp->raw, SIP_H_FROM, &from) || !sip_raw_find(resp->raw, SIP_H_TO, &to) ||
	    !sip_raw_find(resp->raw, SIP_H_CALL_ID, &cid) || !sip_raw_find(resp->raw, SIP_H_CSEQ, &cseq) ||
	    !sip_raw_find(resp->raw, SIP_H_CONTACT, &contact))
		return;
	struct sy_str ruri = sip_raw_uri_of(contact);
	if (stray && src != NULL)
		dst = *src;
	else if (!uri_addr(ruri, &dst))
		return;
	if (stray && !stray_2xx_admit(b))
		return;
	struct sip_request rq = {.method = "ACK",
				 .ruri = ruri,
				 .from = from,
				 .to = to,
				 .call_id = cid,
				 .cseq = resp->cseq,
				 .max_forwards = 70};
	sip_stack_send_request(b->stack, &rq, b2b_branch(b), &dst);
	if (!bye)
		return;
	rq.method = "BYE";
	rq.cseq = resp->cseq + 1;
	if (stray)
		sip_stack_send_request(b->stack, &rq, b2b_branch(b), &dst);
	else
		sip_txn_client_send(b->stack, &rq, b2b_branch(b), &dst, NULL, NULL);
	b->st.stray_2xx++;
}

void b2bua__on_response(void *arg, struct sip_txn *ct, const struct sip_msg *resp)
{
	struct b2bua *b = arg;
	struct call *c = ct != NULL ? sip_txn_user(ct) : NULL;
	if (c == &b->orphan) { /* its call ended at shutdown, before any BYE */
		if (resp->status >= 200 && resp->status < 300 && resp->method == SIP_M_INVITE) {
			sip_txn_set_user(ct, NULL); /* a retransmission is only ACKed */
			end_stray_2xx(b, resp, true, false);
		}
		return;
	}
	if (c == NULL && resp->status >= 200 && resp->status < 300 && resp->method == SIP_M_INVITE) {
		enum call_leg leg;
		c = b2bua__call_find(b, resp->call_id, &leg); /* 2xx retransmission after the ICT ended */
		if (c != NULL && leg == LEG_B && !b2bua__from_b_peer(c, sip_stack_rx_source(b->stack)))
			c = NULL; /* the B leg's Call-ID from elsewhere than its carrier: a stray */
		if (c == NULL || leg != LEG_B) {
			/* With a transaction, the call was ours and has already
			 * ended (its BYE is out): only the ACK is owed. */
			end_stray_2xx(b, resp, ct == NULL, ct == NULL);
			return;
		}
	}
	if (c != NULL && !b2bua__st_response(b, c, ct, resp) && !b2bua__relay_response(b, c, ct, resp))
		b2bua__on_b_response(b, c, ct, resp);
}

void b2bua__on_timeout(void *arg, struct sip_txn *t)
{
	struct b2bua *b = arg;
	struct call *c = sip_txn_user(t);
	if (c == NULL || c == &b->orphan || b2bua__st_timeout(b, c, t) || b2bua__relay_timeout(b, c, t))
		return;
	if (t == c->b_ict) { /* the carrier never answered */
		b->st.timeouts++;
		if (c->carrier >= 0) /* -1: a registered user's contact */
			b->cfg.carriers[c->carrier].timeouts++;
		b2bua__b_failed(b, c, 408, NULL);
	} else if (t == c->a_ist && c->state == CALL_ANSWERED) { /* no ACK from the caller */
		b->st.ack_timeouts++;
		c->hangup = CDR_SIDE_SYSTEM;
		b2bua__call_end(b, c, true, true);
	}
}

void b2bua__on_terminated(void *arg, struct sip_txn *t)
{
	struct b2bua *b = arg;
	struct call *c = sip_txn_user(t);
	if (c == NULL || c == &b->orphan || b2bua__relay_terminated(c, t))
		return;
	if (c->a_ist == t)
		c->a_ist = NULL;
	if (c->b_ict == t)
		c->b_ict = NULL;
}

/* The carrier sent nothing within invite_timeout: give it up and fail over
 * (a dead carrier costs seconds, not timer B's 32 s). Or it rang for
 * ring_timeout: CANCEL it and tell the caller 480. */
void b2bua__setup_fire(void *arg)
{
	struct call *c = arg;
	struct b2bua *b = c->owner;
	c->setup_timer = 0;
	if (c->state != CALL_PROCEEDING || c->b_ict == NULL)
		return;
	if (!c->b_provisional) {
		struct sip_txn *t = c->b_ict;
		c->b_ict = NULL;
		sip_txn_abandon(t);
		b->st.timeouts++;
		if (c->carrier >= 0) /* -1: a registered user's contact */
			b->cfg.carriers[c->carrier].timeouts++;
		b2bua__b_failed(b, c, 408, "Carrier Timeout");
		return;
	}
	b->st.ring_timeouts++;
	c->disposition = CDR_DISP_NO_ANSWER;
	c->hangup = CDR_SIDE_SYSTEM;
	b2bua__a_respond(b, c, 480, "No Answer", NULL);
	c->state = CALL_CANCELLING;
	sip_txn_client_cancel(c->b_ict);
}

/* A connected call reached max_call_ns: the switch hangs up both legs, so
 * a lost BYE can never hold a pool slot (or a prepaid balance) forever. */
void b2bua__max_call_fire(void *arg)
{
	struct call *c = arg;
	struct b2bua *b = c->owner;
	c->max_timer = 0;
	c->hangup = CDR_SIDE_SYSTEM;
	b->st.completed++;
	b2bua__call_end(b, c, true, true);
}
