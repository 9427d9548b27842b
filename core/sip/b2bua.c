/* b2bua.c: call logic of the voice switch: the transaction user on top of
 * the SIP stack. See b2bua.h for what it does; b2bua_msg.c builds messages. */
#include "b2bua_int.h"

#include <stdio.h>
#include <stdlib.h>

static void on_request(void *arg, struct sip_txn *st, const struct sip_msg *req, const struct sy_addr *from);
static void cancel_call(struct b2bua *b, struct call *c);
static void on_response(void *arg, struct sip_txn *ct, const struct sip_msg *resp);
static void on_timeout(void *arg, struct sip_txn *t);
static void on_terminated(void *arg, struct sip_txn *t);
static void setup_timer_set(struct b2bua *b, struct call *c, uint64_t ns);

static const struct sip_tu b2bua_tu = {on_request, on_response, on_timeout, on_terminated};

/* A response made from the transaction's own request (no call state). */
static void respond_code(struct b2bua *b, struct sip_txn *st, int code, const char *reason)
{
	char tag[48];
	if (sip_txn_request_raw(st).len == 0)
		return;
	b2b_token(b, "s", tag, sizeof(tag));
	struct sip_reply r = {.status = code, .reason = reason, .to_tag = sy_str_from(tag)};
	if (code == 405) /* RFC 3261 21.4.6: a 405 lists what we do accept */
		r.extra = SY_STR("Allow: INVITE, ACK, CANCEL, BYE, OPTIONS\r\n");
	sip_txn_reply(st, &r);
}

/* ---- call pool and index ---- */

static struct call *call_alloc(struct b2bua *b)
{
	uint32_t idx = b->free_head;
	struct call *c;
	if (idx != CALL_NONE) {
		c = sy_pool_at(&b->calls, idx);
		b->free_head = c->next_free;
	} else if ((c = sy_pool_grow(&b->calls, &idx)) == NULL) {
		return NULL;
	}
	memset(c, 0, offsetof(struct call, buf));
	c->idx = idx;
	c->carrier = -1;
	c->last_carrier = -1;
	c->owner = b;
	c->a_node.leg = LEG_A;
	c->b_node.leg = LEG_B;
	c->seq = ++b->call_seq;
	b->st.active++;
	if (b->st.active > b->st.active_peak)
		b->st.active_peak = b->st.active;
	return c;
}

static struct call *call_of(struct sy_hnode *n)
{
	struct leg_node *ln = SY_CONTAINER_OF(n, struct leg_node, h);
	return ln->leg == LEG_A ? SY_CONTAINER_OF(ln, struct call, a_node)
				: SY_CONTAINER_OF(ln, struct call, b_node);
}

static struct call *call_find(struct b2bua *b, struct sy_str call_id, enum call_leg *leg)
{
	struct sy_hnode *n = sy_htab_find(&b->by_call_id, call_id);
	if (n == NULL)
		return NULL;
	*leg = SY_CONTAINER_OF(n, struct leg_node, h)->leg;
	return call_of(n);
}

static void b_unlink(struct b2bua *b, struct call *c)
{
	if (c->b_linked) {
		sy_htab_remove(&b->by_call_id, &c->b_node.h);
		c->b_linked = false;
	}
}

static void carrier_release(struct b2bua *b, struct call *c)
{
	if (c->carrier >= 0) {
		struct b2bua_carrier *car = &b->cfg.carriers[c->carrier];
		SY_ASSERT(car->active > 0);
		car->active--;
		c->carrier = -1;
	}
}

/* ---- CDRs ---- */

static void call_emit_cdr(struct b2bua *b, struct call *c)
{
	uint64_t now = sy_env_now_ns(b->env);
	struct cdr r;
	memset(&r, 0, sizeof(r));
	r.id = ++b->cdr_seq;
	r.start_ns = c->wall_start_ns;
	r.answer_ns = c->wall_answer_ns;
	r.end_ns = c->wall_start_ns + (now - c->t_invite_ns);
	if (c->answered)
		r.duration_ms = (uint32_t)((now - c->t_answer_ns) / SY_NS_PER_MS);
	uint64_t pdd_end = c->got_18x ? c->t_18x_ns : now;
	r.pdd_ms = (uint32_t)((pdd_end - c->t_invite_ns) / SY_NS_PER_MS);
	r.disposition = c->disposition;
	r.sip_status = (uint16_t)c->final_code;
	r.hangup = c->hangup;
	if (c->last_carrier >= 0)
		cdr_set_str(r.carrier, sizeof(r.carrier), sy_str_from(b->cfg.carriers[c->last_carrier].name));
	cdr_set_str(r.caller, sizeof(r.caller), cs(c, c->caller));
	cdr_set_str(r.callee, sizeof(r.callee), cs(c, c->callee));
	cdr_set_str(r.a_call_id, sizeof(r.a_call_id), cs(c, c->a_call_id));
	cdr_set_str(r.b_call_id, sizeof(r.b_call_id), cs(c, c->b_call_id));
	if (b->cfg.bill != NULL) /* charge the account before the CDR leaves */
		callbill_end(b->cfg.bill, &c->bill, r.duration_ms, r.carrier, c->cut_off, &r);
	b->st.cdrs++;
	if (b->cfg.on_cdr != NULL)
		b->cfg.on_cdr(b->cfg.cdr_arg, &r);
}

/* Ends the call record: CDR out, pool slot back. Transactions that still
 * point at the call are detached, so late responses find no call. */
static void call_free(struct b2bua *b, struct call *c)
{
	SY_ASSERT(c->state != CALL_FREE);
	call_emit_cdr(b, c);
	if (c->a_ist != NULL)
		sip_txn_set_user(c->a_ist, NULL);
	if (c->b_ict != NULL)
		sip_txn_set_user(c->b_ict, NULL);
	sy_env_timer_cancel(b->env, c->max_timer);
	sy_env_timer_cancel(b->env, c->setup_timer);
	sy_env_timer_cancel(b->env, c->bill_timer);
	if (c->a_linked)
		sy_htab_remove(&b->by_call_id, &c->a_node.h);
	b_unlink(b, c);
	carrier_release(b, c);
	c->state = CALL_FREE;
	c->next_free = b->free_head;
	b->free_head = c->idx;
	SY_ASSERT(b->st.active > 0);
	b->st.active--;
}

/* ---- sending ---- */

static void send_request(struct b2bua *b, const struct sip_request *rq, const struct sy_addr *to,
			 struct sip_txn **out)
{
	uint64_t branch = sy_rng_next(&b->rng);
	if (strcmp(rq->method, "ACK") == 0)
		sip_stack_send_request(b->stack, rq, branch, to);
	else
		sip_txn_client_send(b->stack, rq, branch, to, NULL, out);
}

/* Final or provisional response to the caller on the A-leg INVITE, with
 * the body (SDP) of body_from (the carrier's 18x/200) when given. */
static void a_respond_x(struct b2bua *b, struct call *c, int code, const char *reason,
			const struct sip_msg *body_from, struct sy_str extra)
{
	if (c->a_ist == NULL || sip_txn_request_raw(c->a_ist).len == 0)
		return;
	struct sip_reply r = {.status = code, .reason = reason, .extra = extra};
	if (code > 100)
		r.to_tag = cs(c, c->a_tag);
	if (code > 100 && code < 300)
		r.contact = sy_str_from(b->contact);
	if (body_from != NULL)
		sip_raw_body(body_from->raw, &r.content_type, &r.body);
	if (code >= 180 && !c->got_18x) {
		c->got_18x = true; /* the PDD ends at the first 18x, or at the final response */
		c->t_18x_ns = sy_env_now_ns(b->env);
	}
	if (code >= 200) {
		c->final_code = code;
		b->st.final_by_code[code < 700 ? code : 0]++;
		uint64_t dt = sy_env_now_ns(b->env) - c->t_invite_ns;
		if (!c->relayed_18x)
			sy_hist_add(&b->st.pdd, dt);
		if (code < 300)
			sy_hist_add(&b->st.setup, dt);
		else
			b->st.failed++;
	} else if (code >= 180 && !c->relayed_18x) {
		c->relayed_18x = true;
		sy_hist_add(&b->st.pdd, sy_env_now_ns(b->env) - c->t_invite_ns);
	}
	sip_txn_reply(c->a_ist, &r);
}

static void a_respond(struct b2bua *b, struct call *c, int code, const char *reason, const struct sip_msg *body_from)
{
	a_respond_x(b, c, code, reason, body_from, SY_STR_NULL);
}

static void send_b_bye(struct b2bua *b, struct call *c)
{
	struct sip_request rq;
	struct sy_str routes[B2BUA_ROUTES_MAX];
	b2b_b_indialog(c, "BYE", ++c->b_cseq, &rq, routes);
	send_request(b, &rq, &c->b_dst, NULL);
}

static void send_a_bye(struct b2bua *b, struct call *c)
{
	struct sip_request rq;
	b2b_a_bye(c, &rq);
	send_request(b, &rq, &c->a_src, NULL);
}

static void send_b_ack(struct b2bua *b, struct call *c)
{
	struct sip_request rq;
	struct sy_str routes[B2BUA_ROUTES_MAX];
	b2b_b_indialog(c, "ACK", c->b_invite_cseq, &rq, routes);
	send_request(b, &rq, &c->b_dst, NULL);
}

/* ---- routing and the B leg ---- */

static enum cdr_disposition disposition_of(int code)
{
	switch (code) {
	case 486:
	case 600: return CDR_DISP_BUSY;
	case 408:
	case 480: return CDR_DISP_NO_ANSWER;
	case 404:
	case 484:
	case 604: return CDR_DISP_NO_ROUTE;
	case 487: return CDR_DISP_CANCELLED;
	case 503: return CDR_DISP_CONGESTION;
	default: return code < 300 ? CDR_DISP_ANSWERED : CDR_DISP_FAILED;
	}
}

/* The caller gets a final failure and the call ends. */
static void call_fail(struct b2bua *b, struct call *c, int code, const char *reason, enum cdr_disposition d)
{
	c->disposition = d;
	c->hangup = CDR_SIDE_SYSTEM;
	a_respond(b, c, code, reason, NULL);
	call_free(b, c);
}

/* Starts the B leg on the next carrier of the route that has capacity.
 * Returns false when none is left. */
static bool b_leg_start(struct b2bua *b, struct call *c)
{
	struct sy_str a_inv = c->a_ist != NULL ? sip_txn_request_raw(c->a_ist) : SY_STR_NULL;
	while (c->route_pos < c->route_n) {
		uint16_t id = c->route_ids[c->route_pos++];
		struct b2bua_carrier *car = &b->cfg.carriers[id];
		if (car->capacity != 0 && car->active >= car->capacity)
			continue;
		c->carrier = (int16_t)id;
		c->last_carrier = (int16_t)id;
		car->active++;
		car->attempts++;
		struct sip_request rq;
		b_unlink(b, c);
		if (a_inv.len == 0 || b2b_b_invite(b, c, a_inv, &rq) != SY_OK) {
			carrier_release(b, c);
			return false;
		}
		c->b_dst = car->addr;
		sy_htab_insert(&b->by_call_id, &c->b_node.h, cs(c, c->b_call_id));
		c->b_linked = true;
		c->b_ict = NULL;
		send_request(b, &rq, &c->b_dst, &c->b_ict);
		if (c->b_ict == NULL) { /* stack full: overload */
			carrier_release(b, c);
			return false;
		}
		sip_txn_set_user(c->b_ict, c);
		c->state = CALL_PROCEEDING;
		c->b_provisional = false;
		setup_timer_set(b, c, b->cfg.invite_timeout_ns);
		return true;
	}
	return false;
}

static void max_call_fire(void *arg);
static void setup_fire(void *arg);

static void setup_timer_set(struct b2bua *b, struct call *c, uint64_t ns)
{
	sy_env_timer_cancel(b->env, c->setup_timer);
	c->setup_timer = ns != 0 ? sy_env_timer_start(b->env, ns, setup_fire, c) : 0;
}

/* No call is connected without money reserved for it: the first slice is
 * held now, and a refusal is 402/403 with a Reason header saying why. */
static bool bill_authorize(struct b2bua *b, struct call *c)
{
	uint16_t status = 0;
	const char *why = NULL;
	if (callbill_authorize(b->cfg.bill, cs(c, c->caller), cs(c, c->callee), cs(c, c->a_call_id), &c->bill,
			       &status, &why) == SY_OK)
		return true;
	char extra[160];
	int n = snprintf(extra, sizeof(extra), "Reason: SIP;cause=%u;text=\"%s\"\r\n", status, why);
	b->st.bill_declined++;
	c->disposition = CDR_DISP_FAILED;
	c->hangup = CDR_SIDE_SYSTEM;
	a_respond_x(b, c, status, why, NULL, (struct sy_str){extra, n > 0 ? (size_t)n : 0});
	call_free(b, c);
	return false;
}

static void bill_fire(void *arg);

static void bill_schedule(struct b2bua *b, struct call *c, uint64_t delay_ns)
{
	c->bill_timer = delay_ns == UINT64_MAX ? 0 : sy_env_timer_start(b->env, delay_ns, bill_fire, c);
}

/* The slice timer: extend the reservation, or, when the money is out, end
 * the call on the second it ran out (BYE on both legs). */
static void bill_fire(void *arg)
{
	struct call *c = arg;
	struct b2bua *b = c->owner;
	c->bill_timer = 0;
	if (!c->bill.final) {
		bill_schedule(b, c, callbill_tick(b->cfg.bill, &c->bill, sy_env_wall_ns(b->env)));
		return;
	}
	c->cut_off = true;
	c->hangup = CDR_SIDE_SYSTEM;
	b->st.bill_cutoffs++;
	send_b_bye(b, c);
	send_a_bye(b, c);
	b->st.completed++;
	call_free(b, c);
}

static void new_invite(struct b2bua *b, struct sip_txn *st, const struct sip_msg *req, const struct sy_addr *from)
{
	b->st.invites++;
	if (req->max_forwards == 0) {
		respond_code(b, st, 483, NULL);
		return;
	}
	if (b->cfg.admit != NULL && !b->cfg.admit(b->cfg.admit_arg)) {
		b->st.final_by_code[503]++;
		respond_code(b, st, 503, "Service Unavailable");
		return;
	}
	struct call *c = call_alloc(b);
	if (c == NULL) {
		b->st.congestion++;
		b->st.final_by_code[503]++;
		respond_code(b, st, 503, "Call Limit Reached");
		return;
	}
	b->st.attempts++;
	c->state = CALL_PROCEEDING;
	c->a_ist = st;
	c->a_src = *from;
	c->t_invite_ns = sy_env_now_ns(b->env);
	c->wall_start_ns = sy_env_wall_ns(b->env);
	c->max_forwards = req->max_forwards > 0 ? req->max_forwards - 1 : 69;
	sip_txn_set_user(st, c);
	char tag[48];
	b2b_token(b, "a", tag, sizeof(tag));
	if (b2b_store_a(c, req, sy_str_from(tag)) != SY_OK) {
		/* headers too large for the call record */
		call_fail(b, c, 400, "Headers Too Large", CDR_DISP_FAILED);
		return;
	}
	sy_htab_insert(&b->by_call_id, &c->a_node.h, cs(c, c->a_call_id));
	c->a_linked = true;
	a_respond(b, c, 100, NULL, NULL);
	if (b->cfg.bill != NULL && !bill_authorize(b, c))
		return;
	c->route_n = (uint8_t)b->cfg.route(b->cfg.route_arg, cs(c, c->callee), c->route_ids, B2BUA_ROUTE_MAX);
	if (c->route_n == 0) {
		b->st.no_route++;
		call_fail(b, c, 404, "No Route", CDR_DISP_NO_ROUTE);
		return;
	}
	if (!b_leg_start(b, c)) {
		b->st.congestion++;
		call_fail(b, c, 503, "No Carrier Capacity", CDR_DISP_CONGESTION);
	}
}

static void b_answered(struct b2bua *b, struct call *c, const struct sip_msg *resp)
{
	struct b2bua_carrier *car = &b->cfg.carriers[c->carrier];
	car->answered++;
	if (b2b_store_b_dialog(c, resp) != SY_OK) {
		/* cannot keep the dialog: ACK what we can and hang up */
		send_b_ack(b, c);
		send_b_bye(b, c);
		call_fail(b, c, 500, "Dialog State Too Large", CDR_DISP_FAILED);
		return;
	}
	send_b_ack(b, c);
	if (c->state == CALL_CANCELLING) { /* 200 crossed our CANCEL */
		send_b_bye(b, c);
		call_free(b, c);
		return;
	}
	c->state = CALL_ANSWERED;
	setup_timer_set(b, c, 0);
	c->answered = true;
	c->t_answer_ns = sy_env_now_ns(b->env);
	c->wall_answer_ns = sy_env_wall_ns(b->env);
	c->disposition = CDR_DISP_ANSWERED;
	b->st.answered++;
	a_respond(b, c, resp->status, NULL, resp);
	if (b->cfg.max_call_ns != 0)
		c->max_timer = sy_env_timer_start(b->env, b->cfg.max_call_ns, max_call_fire, c);
	if (b->cfg.bill != NULL && c->bill.resv != 0)
		bill_schedule(b, c, callbill_answered(b->cfg.bill, &c->bill, c->wall_answer_ns));
}

static bool failover_code(int code)
{
	return code == 408 || (code >= 500 && code < 600 && code != 501 && code != 505);
}

static void b_failed(struct b2bua *b, struct call *c, int code, const char *reason)
{
	setup_timer_set(b, c, 0);
	struct b2bua_carrier *car = &b->cfg.carriers[c->carrier];
	car->failed++;
	carrier_release(b, c);
	c->b_ict = NULL;
	if (c->state == CALL_CANCELLING) {
		call_free(b, c);
		return;
	}
	if (b->cfg.failover && failover_code(code) && c->route_pos < c->route_n) {
		b->st.failovers++;
		if (b_leg_start(b, c))
			return;
	}
	call_fail(b, c, code, reason, disposition_of(code));
}

static void on_b_response(struct b2bua *b, struct call *c, struct sip_txn *ct, const struct sip_msg *resp)
{
	int code = resp->status;
	if (resp->method != SIP_M_INVITE)
		return; /* BYE/CANCEL answers need nothing more */
	if (code >= 200 && code < 300) {
		if (c->state == CALL_PROCEEDING || c->state == CALL_CANCELLING)
			b_answered(b, c, resp);
		else
			send_b_ack(b, c); /* a retransmitted 2xx: ACK again */
		return;
	}
	if (ct == NULL || ct != c->b_ict)
		return;
	if (code < 200) {
		if (!c->b_provisional && c->state == CALL_PROCEEDING) {
			c->b_provisional = true; /* the carrier is alive: now the ring timeout */
			setup_timer_set(b, c, b->cfg.ring_timeout_ns);
		}
		if (code > 100 && c->state == CALL_PROCEEDING)
			a_respond(b, c, code, NULL, resp);
		return;
	}
	if (code >= 300) {
		char reason[64];
		const char *rp = resp->m->reason_phrase;
		size_t n = rp != NULL ? strnlen(rp, sizeof(reason) - 1) : 0;
		memcpy(reason, rp != NULL ? rp : "", n);
		reason[n] = '\0';
		b_failed(b, c, code, n > 0 ? reason : NULL);
	}
}

/* ---- requests from either side ---- */

static void end_call_from(struct b2bua *b, struct call *c, enum call_leg leg, struct sip_txn *st)
{
	respond_code(b, st, 200, NULL);
	if (c->state == CALL_ANSWERED && c->a_ist != NULL)
		sip_txn_acked(c->a_ist); /* a BYE implies the ACK was sent */
	c->hangup = leg == LEG_A ? CDR_SIDE_CALLER : CDR_SIDE_CALLEE;
	if (leg == LEG_A)
		send_b_bye(b, c);
	else
		send_a_bye(b, c);
	b->st.completed++;
	call_free(b, c);
}

static void in_dialog(struct b2bua *b, struct sip_txn *st, const struct sip_msg *req)
{
	enum call_leg leg;
	struct call *c = call_find(b, req->call_id, &leg);
	if (req->method == SIP_M_ACK) {
		if (c != NULL && leg == LEG_A && c->state == CALL_ANSWERED && c->a_ist != NULL) {
			sip_txn_acked(c->a_ist);
			c->state = CALL_CONFIRMED;
		}
		return;
	}
	if (c != NULL && c->state == CALL_PROCEEDING && leg == LEG_A && req->method == SIP_M_BYE) {
		/* BYE on an early dialog (RFC 3261 15): end it like a CANCEL */
		respond_code(b, st, 200, NULL);
		cancel_call(b, c);
		return;
	}
	if (c == NULL || c->state == CALL_PROCEEDING || c->state == CALL_CANCELLING) {
		b->st.stray++;
		respond_code(b, st, 481, NULL);
		return;
	}
	switch (req->method) {
	case SIP_M_BYE:
		end_call_from(b, c, leg, st);
		break;
	case SIP_M_INVITE:
		/* A refused re-INVITE leaves the session as it was (RFC 3261
		 * 14.2); relaying offers across legs comes with media anchoring. */
		respond_code(b, st, 488, "Re-INVITE Not Supported");
		break;
	case SIP_M_OPTIONS:
	case SIP_M_UPDATE:
	case SIP_M_INFO:
		respond_code(b, st, 200, NULL);
		break;
	default:
		respond_code(b, st, 501, NULL);
	}
}

static void on_cancel(struct b2bua *b, struct sip_txn *st)
{
	struct sip_txn *inv = sip_txn_cancel_target(st);
	struct call *c = inv != NULL ? sip_txn_user(inv) : NULL;
	if (c == NULL) {
		respond_code(b, st, 481, NULL);
		return;
	}
	respond_code(b, st, 200, NULL);
	if (c->state != CALL_PROCEEDING)
		return; /* already answered: the caller will BYE */
	cancel_call(b, c);
}

static void cancel_call(struct b2bua *b, struct call *c)
{
	b->st.cancelled++;
	c->disposition = CDR_DISP_CANCELLED;
	c->hangup = CDR_SIDE_CALLER;
	a_respond(b, c, 487, NULL, NULL);
	if (c->b_ict != NULL) {
		c->state = CALL_CANCELLING;
		sip_txn_client_cancel(c->b_ict);
	} else {
		call_free(b, c);
	}
}

static void on_request(void *arg, struct sip_txn *st, const struct sip_msg *req, const struct sy_addr *from)
{
	struct b2bua *b = arg;
	if (req->to_tag.len > 0 || req->method == SIP_M_ACK) {
		in_dialog(b, st, req);
		return;
	}
	switch (req->method) {
	case SIP_M_INVITE:
		new_invite(b, st, req, from);
		break;
	case SIP_M_CANCEL:
		on_cancel(b, st);
		break;
	case SIP_M_OPTIONS:
		respond_code(b, st, 200, NULL);
		break;
	case SIP_M_BYE:
		b->st.stray++;
		respond_code(b, st, 481, NULL);
		break;
	default:
		respond_code(b, st, 405, NULL);
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

/* A 2xx to an INVITE that belongs to no call (a carrier we gave up on
 * answered late, or a 2xx crossed a shutdown CANCEL): RFC 3261 13.2.2.4
 * says ACK it, and the unwanted dialog is then ended with BYE, so the
 * carrier does not keep (and bill) a call no CDR records. */
static void end_stray_2xx(struct b2bua *b, const struct sip_msg *resp, bool bye)
{
	struct sy_str from, to, cid, contact, cseq;
	struct sy_addr dst;
	if (!sip_raw_find(resp->raw, SIP_H_FROM, &from) || !sip_raw_find(resp->raw, SIP_H_TO, &to) ||
	    !sip_raw_find(resp->raw, SIP_H_CALL_ID, &cid) || !sip_raw_find(resp->raw, SIP_H_CSEQ, &cseq) ||
	    !sip_raw_find(resp->raw, SIP_H_CONTACT, &contact))
		return;
	struct sy_str ruri = sip_raw_uri_of(contact);
	if (!uri_addr(ruri, &dst))
		return;
	struct sip_request rq = {.method = "ACK", .ruri = ruri, .from = from, .to = to, .call_id = cid,
				 .cseq = resp->cseq, .max_forwards = 70};
	sip_stack_send_request(b->stack, &rq, sy_rng_next(&b->rng), &dst);
	if (!bye)
		return;
	rq.method = "BYE";
	rq.cseq = resp->cseq + 1;
	sip_txn_client_send(b->stack, &rq, sy_rng_next(&b->rng), &dst, NULL, NULL);
	b->st.stray_2xx++;
}

static void on_response(void *arg, struct sip_txn *ct, const struct sip_msg *resp)
{
	struct b2bua *b = arg;
	struct call *c = ct != NULL ? sip_txn_user(ct) : NULL;
	if (c == NULL && resp->status >= 200 && resp->status < 300 && resp->method == SIP_M_INVITE) {
		enum call_leg leg;
		c = call_find(b, resp->call_id, &leg); /* 2xx retransmission after the ICT ended */
		if (c == NULL || leg != LEG_B) {
			/* With a transaction, the call was ours and has already
			 * ended (its BYE is out): only the ACK is owed. */
			end_stray_2xx(b, resp, ct == NULL);
			return;
		}
	}
	if (c != NULL)
		on_b_response(b, c, ct, resp);
}

static void on_timeout(void *arg, struct sip_txn *t)
{
	struct b2bua *b = arg;
	struct call *c = sip_txn_user(t);
	if (c == NULL)
		return;
	if (t == c->b_ict) { /* the carrier never answered */
		b->st.timeouts++;
		b->cfg.carriers[c->carrier].timeouts++;
		b_failed(b, c, 408, NULL);
	} else if (t == c->a_ist && c->state == CALL_ANSWERED) { /* no ACK from the caller */
		b->st.ack_timeouts++;
		c->hangup = CDR_SIDE_SYSTEM;
		send_b_bye(b, c);
		send_a_bye(b, c);
		call_free(b, c);
	}
}

static void on_terminated(void *arg, struct sip_txn *t)
{
	(void)arg;
	struct call *c = sip_txn_user(t);
	if (c == NULL)
		return;
	if (c->a_ist == t)
		c->a_ist = NULL;
	if (c->b_ict == t)
		c->b_ict = NULL;
}

/* The carrier sent nothing within invite_timeout: give it up and fail over
 * (a dead carrier costs seconds, not timer B's 32 s). Or it rang for
 * ring_timeout: CANCEL it and tell the caller 480. */
static void setup_fire(void *arg)
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
		b->cfg.carriers[c->carrier].timeouts++;
		b_failed(b, c, 408, "Carrier Timeout");
		return;
	}
	b->st.ring_timeouts++;
	c->disposition = CDR_DISP_NO_ANSWER;
	c->hangup = CDR_SIDE_SYSTEM;
	a_respond(b, c, 480, "No Answer", NULL);
	c->state = CALL_CANCELLING;
	sip_txn_client_cancel(c->b_ict);
}

/* A connected call reached max_call_ns: the switch hangs up both legs, so
 * a lost BYE can never hold a pool slot (or a prepaid balance) forever. */
static void max_call_fire(void *arg)
{
	struct call *c = arg;
	struct b2bua *b = c->owner;
	c->max_timer = 0;
	c->hangup = CDR_SIDE_SYSTEM;
	send_b_bye(b, c);
	send_a_bye(b, c);
	b->st.completed++;
	call_free(b, c);
}

/* ---- setup ---- */

static void on_datagram(void *arg, struct sy_dgram *sock, const struct sy_addr *from, const uint8_t *buf, size_t len)
{
	struct b2bua *b = arg;
	(void)sock;
	sip_stack_recv(b->stack, from, buf, len);
}

enum sy_rc b2bua_create(const struct b2bua_cfg *cfg, struct b2bua **out)
{
	SY_ASSERT(cfg->env != NULL && cfg->route != NULL && cfg->calls_max > 0);
	struct b2bua *b = calloc(1, sizeof(*b));
	if (b == NULL)
		return SY_ERR_NOMEM;
	b->cfg = *cfg;
	b->env = cfg->env;
	b->cdr_seq = cfg->cdr_id_base;
	sy_rng_init_split(&b->rng, sy_env_seed(b->env), "b2bua", 0);
	sy_hist_init(&b->st.pdd);
	sy_hist_init(&b->st.setup);
	b->free_head = CALL_NONE;
	if (sy_pool_init(&b->calls, sizeof(struct call), cfg->calls_max) != SY_OK ||
	    sy_htab_init(&b->by_call_id, (uint64_t)cfg->calls_max * 2) != SY_OK)
		goto out_free;
	if (sy_env_dgram_open(b->env, &cfg->listen, on_datagram, b, &b->sock) != SY_OK)
		goto out_free;
	struct sy_addr local;
	sy_env_dgram_local(b->env, b->sock, &local);
	sy_addr_fmt_host(&local, b->host, sizeof(b->host));
	char hp[SY_ADDR_STRLEN];
	sy_addr_fmt(&local, hp, sizeof(hp));
	snprintf(b->contact, sizeof(b->contact), "<sip:switchyard@%s>", hp);
	struct sip_stack_cfg sc = {
		.env = b->env, .sock = b->sock, .local = local, .txn_max = cfg->txn_max,
		.timers = cfg->timers, .tu = &b2bua_tu, .tu_arg = b,
	};
	if (sip_stack_create(&sc, &b->stack) != SY_OK)
		goto out_close;
	*out = b;
	return SY_OK;
out_close:
	sy_env_dgram_close(b->env, b->sock);
out_free:
	sy_htab_free(&b->by_call_id);
	sy_pool_free(&b->calls);
	free(b);
	return SY_ERR_NOMEM;
}

void b2bua_hangup_all(struct b2bua *b)
{
	for (uint32_t i = 0; i < sy_pool_used(&b->calls); i++) {
		struct call *c = sy_pool_at(&b->calls, i);
		if (c->state == CALL_ANSWERED || c->state == CALL_CONFIRMED) {
			c->hangup = CDR_SIDE_SYSTEM;
			send_b_bye(b, c);
			send_a_bye(b, c);
			call_free(b, c);
		} else if (c->state == CALL_PROCEEDING) {
			if (c->b_ict != NULL)
				sip_txn_client_cancel(c->b_ict);
			call_fail(b, c, 503, "Shutting Down", CDR_DISP_FAILED);
		}
	}
}

void b2bua_destroy(struct b2bua *b)
{
	if (b == NULL)
		return;
	sip_stack_destroy(b->stack);
	sy_env_dgram_close(b->env, b->sock);
	sy_htab_free(&b->by_call_id);
	sy_pool_free(&b->calls);
	free(b);
}

const struct b2bua_stats *b2bua_stats(const struct b2bua *b)
{
	return &b->st;
}

struct sip_stack *b2bua_stack(struct b2bua *b)
{
	return b->stack;
}
