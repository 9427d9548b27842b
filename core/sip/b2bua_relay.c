/* b2bua_relay.c: re-INVITE and UPDATE relayed end to end on a connected
 * call (hold and resume, codec or address changes, a peer's own session
 * refresh): the request from one leg goes out on the other leg with its
 * body, and the other leg's final response comes back with its body. One
 * relayed request per call at a time; a second one meanwhile gets 491
 * (RFC 3261 14.1 glare). A bodiless UPDATE is a session refresh of its own
 * leg (RFC 4028) and is answered here, not relayed.
 *
 * The other leg's 2xx to a re-INVITE is ACKed by the switch: at once when
 * the re-INVITE carried the offer, or, for a re-INVITE without a body (the
 * offer comes in the 2xx), when the originator's ACK brings the answer,
 * which is relayed in the ACK. A 2xx refreshes both legs' session timers. */
#include "b2bua_int.h"

/* An in-dialog request towards the caller: From is A's To with our tag. */
static void a_indialog(struct call *c, const char *method, uint32_t cseq, struct sip_request *rq)
{
	*rq = (struct sip_request){
	    .method = method,
	    .ruri = cs(c, c->a_contact),
	    .from = cs(c, c->a_local),
	    .to = cs(c, c->a_from),
	    .call_id = cs(c, c->a_call_id),
	    .cseq = cseq,
	    .max_forwards = 70,
	};
}

/* Builds method on leg `to` (cseq given) and sends it; ACK has no txn. */
static void leg_send(struct b2bua *b, struct call *c, enum call_leg to, const char *method, uint32_t cseq,
		     struct sy_str raw_body_from, struct sip_txn **out)
{
	struct sip_request rq;
	struct sy_str routes[B2BUA_ROUTES_MAX];
	if (to == LEG_A)
		a_indialog(c, method, cseq, &rq);
	else
		b2b_b_indialog(c, method, cseq, &rq, routes);
	if (method[0] == 'I')
		rq.contact = sy_str_from(b->contact);
	if (raw_body_from.len > 0)
		sip_raw_body(raw_body_from, &rq.content_type, &rq.body);
	b2bua__send_request(b, &rq, to == LEG_A ? &c->a_src : &c->b_dst, out);
}

static void rl_clear(struct call *c)
{
	if (c->rl_ct != NULL)
		sip_txn_set_user(c->rl_ct, NULL);
	if (c->rl_st != NULL)
		sip_txn_set_user(c->rl_st, NULL);
	c->rl_ct = c->rl_st = NULL;
	c->rl_wait_ack = false;
}

bool b2bua__relay_request(struct b2bua *b, struct call *c, enum call_leg leg, struct sip_txn *st,
			  const struct sip_msg *req)
{
	struct sy_str ctype, body;
	sip_raw_body(req->raw, &ctype, &body);
	bool invite = req->method == SIP_M_INVITE;
	if (!invite && body.len == 0)
		return false; /* a session refresh of this leg: answered locally */
	if (c->rl_st != NULL || c->rl_ct != NULL) {
		b2bua__respond_code(b, st, 491, NULL); /* one offer at a time */
		return true;
	}
	enum call_leg to = leg == LEG_A ? LEG_B : LEG_A;
	uint32_t cseq = to == LEG_A ? ++c->a_cseq : ++c->b_cseq;
	leg_send(b, c, to, invite ? "INVITE" : "UPDATE", cseq, req->raw, &c->rl_ct);
	if (c->rl_ct == NULL) { /* the stack is full */
		b2bua__respond_code(b, st, 500, "Server Internal Error");
		return true;
	}
	sip_txn_set_user(c->rl_ct, c);
	sip_txn_set_user(st, c);
	c->rl_st = st;
	c->rl_from = (uint8_t)leg;
	c->rl_out_cseq = cseq;
	c->rl_in_cseq = req->cseq;
	c->rl_invite = invite;
	c->rl_offer = body.len > 0;
	b->st.relayed++;
	return true;
}

/* The other leg's final (or provisional) response, back to the originator. */
bool b2bua__relay_response(struct b2bua *b, struct call *c, struct sip_txn *ct, const struct sip_msg *resp)
{
	if (ct == NULL || ct != c->rl_ct)
		return false;
	if (resp->status < 200 || c->rl_st == NULL) /* 1xx: our 100 said enough */
		return true;
	enum call_leg to = c->rl_from == LEG_A ? LEG_B : LEG_A;
	struct sip_reply r = {.status = resp->status};
	sip_raw_body(resp->raw, &r.content_type, &r.body);
	bool ok = resp->status < 300;
	if (ok && c->rl_invite)
		r.contact = sy_str_from(b->contact);
	sip_txn_reply(c->rl_st, &r);
	sip_txn_set_user(ct, NULL);
	c->rl_ct = NULL;
	if (ok) {
		b2bua__st_refreshed(b, c, LEG_A);
		b2bua__st_refreshed(b, c, LEG_B);
	}
	if (ok && c->rl_invite && c->rl_offer)
		leg_send(b, c, to, "ACK", c->rl_out_cseq, SY_STR_NULL, NULL);
	/* after a 2xx to a re-INVITE, the originator's ACK is awaited (it
	 * stops our 2xx retransmissions); a non-2xx's ACK is the stack's */
	c->rl_wait_ack = ok && c->rl_invite;
	if (!c->rl_wait_ack)
		rl_clear(c);
	return true;
}

/* The originator's ACK of our relayed 2xx: stops its retransmissions and,
 * when the offer was in the 2xx, carries the answer to the other leg. */
bool b2bua__relay_ack(struct b2bua *b, struct call *c, enum call_leg leg, const struct sip_msg *ack)
{
	if (!c->rl_wait_ack || c->rl_from != leg || ack->cseq != c->rl_in_cseq)
		return false;
	enum call_leg to = leg == LEG_A ? LEG_B : LEG_A;
	if (!c->rl_offer)
		leg_send(b, c, to, "ACK", c->rl_out_cseq, ack->raw, NULL);
	if (c->rl_st != NULL)
		sip_txn_acked(c->rl_st);
	rl_clear(c);
	return true;
}

/* Our relayed request timed out, or the originator never ACKed our 2xx. */
bool b2bua__relay_timeout(struct b2bua *b, struct call *c, struct sip_txn *t)
{
	if (t == c->rl_ct) {
		sip_txn_set_user(t, NULL);
		c->rl_ct = NULL;
		if (c->rl_st != NULL)
			b2bua__respond_code(b, c->rl_st, 408, NULL);
		rl_clear(c);
		return true;
	}
	if (t == c->rl_st) {
		if (c->rl_wait_ack && !c->rl_offer) /* the other leg still wants its ACK */
			leg_send(b, c, c->rl_from == LEG_A ? LEG_B : LEG_A, "ACK", c->rl_out_cseq, SY_STR_NULL, NULL);
		rl_clear(c);
		return true;
	}
	return false;
}

bool b2bua__relay_terminated(struct call *c, struct sip_txn *t)
{
	if (t != c->rl_st && t != c->rl_ct)
		return false;
	if (t == c->rl_st)
		c->rl_st = NULL;
	else
		c->rl_ct = NULL;
	sip_txn_set_user(t, NULL);
	if (c->rl_st == NULL && c->rl_ct == NULL)
		c->rl_wait_ack = false;
	return true;
}

void b2bua__relay_detach(struct call *c)
{
	rl_clear(c);
}
