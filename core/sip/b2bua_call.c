/* b2bua_call.c: a new call from its INVITE to its answer or failure:
 * routing and the B leg (with failover to the next carrier), the billing
 * authorization before it and the periodic charge while it lasts. */
#include "b2bua_int.h"

#include <stdio.h>
#include <stdlib.h>

/* ---- routing and the B leg ---- */

static enum cdr_disposition disposition_of(int code)
{
	switch (code) {
	case 486:
	case 600:
		return CDR_DISP_BUSY;
	case 408:
	case 480:
		return CDR_DISP_NO_ANSWER;
	case 404:
	case 484:
	case 604:
		return CDR_DISP_NO_ROUTE;
	case 487:
		return CDR_DISP_CANCELLED;
	case 503:
		return CDR_DISP_CONGESTION;
	default:
		return code < 300 ? CDR_DISP_ANSWERED : CDR_DISP_FAILED;
	}
}

/* The caller gets a final failure and the call ends. */
void b2bua__call_fail(struct b2bua *b, struct call *c, int code, const char *reason, enum cdr_disposition d)
{
	c->disposition = d;
	c->hangup = CDR_SIDE_SYSTEM;
	b2bua__a_respond(b, c, code, reason, NULL);
	b2bua__call_free(b, c);
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
		char extra[256];
		b2bua__b_unlink(b, c);
		if (a_inv.len == 0 || b2b_b_invite(b, c, a_inv, &car->addr, SY_STR_NULL, &rq) != SY_OK) {
			b2bua__carrier_release(b, c);
			return false;
		}
		b2bua__st_invite_extra(b, c, &rq, extra, sizeof(extra));
		c->b_dst = car->addr;
		sy_htab_insert(&b->by_call_id, &c->b_node.h, cs(c, c->b_call_id));
		c->b_linked = true;
		c->b_ict = NULL;
		b2bua__send_request(b, &rq, &c->b_dst, &c->b_ict);
		if (c->b_ict == NULL) { /* stack full: overload */
			b2bua__carrier_release(b, c);
			return false;
		}
		sip_txn_set_user(c->b_ict, c);
		c->state = CALL_PROCEEDING;
		c->b_provisional = false;
		b2bua__setup_timer_set(b, c, b->cfg.invite_timeout_ns);
		return true;
	}
	return false;
}

/* The B leg to a registered user's contact (no carrier, no failover). */
static bool b_leg_user(struct b2bua *b, struct call *c, struct sy_str contact, const struct sy_addr *dst)
{
	struct sy_str a_inv = c->a_ist != NULL ? sip_txn_request_raw(c->a_ist) : SY_STR_NULL;
	struct sip_request rq;
	char extra[256];
	if (a_inv.len == 0 || b2b_b_invite(b, c, a_inv, dst, contact, &rq) != SY_OK)
		return false;
	b2bua__st_invite_extra(b, c, &rq, extra, sizeof(extra));
	c->b_dst = *dst;
	sy_htab_insert(&b->by_call_id, &c->b_node.h, cs(c, c->b_call_id));
	c->b_linked = true;
	c->b_ict = NULL;
	b2bua__send_request(b, &rq, &c->b_dst, &c->b_ict);
	if (c->b_ict == NULL)
		return false;
	sip_txn_set_user(c->b_ict, c);
	c->b_provisional = false;
	b2bua__setup_timer_set(b, c, b->cfg.invite_timeout_ns);
	return true;
}

void b2bua__max_call_fire(void *arg);
void b2bua__setup_fire(void *arg);

void b2bua__setup_timer_set(struct b2bua *b, struct call *c, uint64_t ns)
{
	sy_env_timer_cancel(b->env, c->setup_timer);
	c->setup_timer = ns != 0 ? sy_env_timer_start(b->env, ns, b2bua__setup_fire, c) : 0;
}

/* No call is connected without money reserved for it: the first slice is
 * held now, and a refusal is 402/403 with a Reason header saying why. */
static bool bill_authorize(struct b2bua *b, struct call *c)
{
	uint16_t status = 0;
	const char *why = NULL;
	struct sy_str acct = sy_str_from(c->who.account != NULL ? c->who.account : "");
	if (callbill_authorize(b->cfg.bill, acct, cs(c, c->caller), cs(c, c->callee), cs(c, c->a_call_id), &c->bill, &status,
			       &why) == SY_OK)
		return true;
	char extra[160];
	int n = snprintf(extra, sizeof(extra), "Reason: SIP;cause=%u;text=\"%s\"\r\n", status, why);
	b->st.bill_declined++;
	c->disposition = CDR_DISP_FAILED;
	c->hangup = CDR_SIDE_SYSTEM;
	b2bua__a_respond_x(b, c, status, why, NULL, (struct sy_str){extra, n > 0 ? (size_t)n : 0});
	b2bua__call_free(b, c);
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
	b->st.completed++;
	b2bua__call_end(b, c, true, true);
}

/* Overload control (issue 9): a new call is refused with 503 and
 * Retry-After before anything is allocated for it when the calls, the
 * transactions, osip's memory or the event loop are near their limits, so
 * the calls already up keep their BYEs, ACKs and CANCELs served. */
static bool admit_or_reject(struct b2bua *b, struct sip_txn *st)
{
	enum sip_overload why = sip_stack_overload(b->stack);
	if (why == SIP_OVL_NONE && b->st.active * 100 >= (uint64_t)sip_stack_admit_pct(b->stack) * b->cfg.calls_max)
		why = SIP_OVL_CALLS;
	if (why == SIP_OVL_NONE)
		return true;
	b->st.congestion++;
	b->st.final_by_code[503]++;
	sip_txn_reject(st, why);
	return false;
}

/* Default deny: a new request is served only for a trunk or a user whose
 * digest verified; anyone else gets 403 or a challenge, before any state
 * is allocated for them. */
static bool authenticate(struct b2bua *b, struct sip_txn *st, const struct sip_msg *req, const struct sy_addr *from,
			 struct sip_ident *who)
{
	char hdr[640], tag[48];
	size_t n = 0;
	int status = 403;
	switch (sip_auth_check(b->auth, req, from, who, &status, hdr, sizeof(hdr), &n)) {
	case SIP_AUTH_OK:
		return true;
	case SIP_AUTH_FORBIDDEN:
		b2bua__respond_code(b, st, 403, NULL);
		return false;
	case SIP_AUTH_CHALLENGE:
		break;
	}
	if (sip_txn_request_raw(st).len == 0)
		return false;
	b2b_token(b, "s", tag, sizeof(tag));
	struct sip_reply r = {.status = status, .to_tag = sy_str_from(tag), .extra = {hdr, n}};
	sip_txn_reply(st, &r);
	return false;
}

void b2bua__register(struct b2bua *b, struct sip_txn *st, const struct sip_msg *req, const struct sy_addr *from)
{
	struct sip_ident who;
	if (!authenticate(b, st, req, from, &who))
		return;
	char hdr[SIP_REG_PER_USER * (SIP_REG_CONTACT_MAX + 40)], tag[48];
	size_t n = 0;
	int code = sip_reg_update(b->auth, &who, req, from, hdr, sizeof(hdr), &n);
	if (sip_txn_request_raw(st).len == 0)
		return;
	b2b_token(b, "s", tag, sizeof(tag));
	struct sip_reply r = {.status = code, .to_tag = sy_str_from(tag), .extra = {hdr, n}};
	sip_txn_reply(st, &r);
}

/* The callee's user part when it names a registered user: the B leg goes
 * to that user's contact instead of a carrier. */
static bool route_to_user(struct b2bua *b, struct call *c, const struct sip_msg *req)
{
	const osip_uri_t *u = req->m->req_uri;
	struct sy_str contact;
	struct sy_addr dst;
	if (u == NULL || u->username == NULL || !sip_reg_lookup(b->auth, sy_str_from(u->username), &contact, &dst))
		return false;
	if (!b_leg_user(b, c, contact, &dst)) {
		b->st.congestion++;
		b2bua__call_fail(b, c, 503, "Service Unavailable", CDR_DISP_CONGESTION);
	}
	return true;
}

void b2bua__new_invite(struct b2bua *b, struct sip_txn *st, const struct sip_msg *req, const struct sy_addr *from)
{
	b->st.invites++;
	if (req->max_forwards == 0) {
		b2bua__respond_code(b, st, 483, NULL);
		return;
	}
	if (b->closing) { /* shutting down: the BYEs in flight finish, nothing new starts */
		b->st.final_by_code[503]++;
		b2bua__respond_code(b, st, 503, "Shutting Down");
		return;
	}
	struct sip_ident who;
	if (!authenticate(b, st, req, from, &who))
		return;
	if (!admit_or_reject(b, st))
		return;
	if (b->cfg.admit != NULL && !b->cfg.admit(b->cfg.admit_arg)) {
		b->st.final_by_code[503]++;
		b2bua__respond_code(b, st, 503, "Service Unavailable");
		return;
	}
	struct call *c = b2bua__call_alloc(b);
	if (c == NULL) {
		b->st.congestion++;
		b->st.final_by_code[503]++;
		b2bua__respond_code(b, st, 503, "Call Limit Reached");
		return;
	}
	b->st.attempts++;
	c->state = CALL_PROCEEDING;
	c->a_ist = st;
	c->a_src = *from;
	c->who = who;
	c->t_invite_ns = sy_env_now_ns(b->env);
	c->wall_start_ns = sy_env_wall_ns(b->env);
	c->max_forwards = req->max_forwards > 0 ? req->max_forwards - 1 : 69;
	sip_txn_set_user(st, c);
	char tag[48];
	b2b_token(b, "a", tag, sizeof(tag));
	if (b2b_store_a(c, req, sy_str_from(tag)) != SY_OK) {
		/* headers too large for the call record */
		b2bua__call_fail(b, c, 400, "Headers Too Large", CDR_DISP_FAILED);
		return;
	}
	sy_htab_insert(&b->by_call_id, &c->a_node.h, cs(c, c->a_call_id));
	c->a_linked = true;
	if (!b2bua__st_check_a(b, c, req))
		return; /* 422: the caller's session interval is too small */
	b2bua__a_respond(b, c, 100, NULL, NULL);
	if (b->cfg.fraud != NULL && !b2bua__fraud_begin(b, c))
		return; /* refused: 403 (block) or 503 (throttle), CDR written */
	if (b->cfg.bill != NULL && !bill_authorize(b, c))
		return;
	if (route_to_user(b, c, req))
		return;
	c->route_n = (uint8_t)b->cfg.route(b->cfg.route_arg, cs(c, c->callee), c->route_ids, B2BUA_ROUTE_MAX);
	if (c->route_n == 0) {
		b->st.no_route++;
		b2bua__call_fail(b, c, 404, "No Route", CDR_DISP_NO_ROUTE);
		return;
	}
	if (!b_leg_start(b, c)) {
		b->st.congestion++;
		b2bua__call_fail(b, c, 503, "No Carrier Capacity", CDR_DISP_CONGESTION);
	}
}

static void b_answered(struct b2bua *b, struct call *c, const struct sip_msg *resp)
{
	if (c->carrier >= 0)
		b->cfg.carriers[c->carrier].answered++;
	if (b2b_store_b_dialog(c, resp) != SY_OK) {
		/* cannot keep the dialog: ACK what we can and hang up */
		b2bua__send_b_ack(b, c);
		b2bua__send_b_bye(b, c);
		b2bua__call_fail(b, c, 500, "Dialog State Too Large", CDR_DISP_FAILED);
		return;
	}
	b2bua__send_b_ack(b, c);
	if (c->state == CALL_CANCELLING) { /* 200 crossed our CANCEL */
		b2bua__call_end(b, c, false, true);
		return;
	}
	c->state = CALL_ANSWERED;
	b2bua__setup_timer_set(b, c, 0);
	c->answered = true;
	c->t_answer_ns = sy_env_now_ns(b->env);
	c->wall_answer_ns = sy_env_wall_ns(b->env);
	c->disposition = CDR_DISP_ANSWERED;
	b->st.answered++;
	char extra[96];
	struct sy_str se;
	b2bua__st_answered(b, c, resp, extra, sizeof(extra), &se);
	b2bua__a_respond_x(b, c, resp->status, NULL, resp, se);
	if (b->cfg.max_call_ns != 0)
		c->max_timer = sy_env_timer_start(b->env, b->cfg.max_call_ns, b2bua__max_call_fire, c);
	if (b->cfg.bill != NULL && c->bill.resv != 0)
		bill_schedule(b, c, callbill_answered(b->cfg.bill, &c->bill, c->wall_answer_ns));
	if (c->fraud.begun)
		b2bua__fraud_answered(b, c);
}

static bool failover_code(int code)
{
	return code == 408 || (code >= 500 && code < 600 && code != 501 && code != 505);
}

void b2bua__b_failed(struct b2bua *b, struct call *c, int code, const char *reason)
{
	b2bua__setup_timer_set(b, c, 0);
	if (c->carrier >= 0)
		b->cfg.carriers[c->carrier].failed++;
	b2bua__carrier_release(b, c);
	c->b_ict = NULL;
	if (c->state == CALL_CANCELLING) {
		b2bua__call_free(b, c);
		return;
	}
	if (c->se_retry) { /* 422: the same carrier, with the interval it asked for */
		c->se_retry = false;
		if (b_leg_start(b, c))
			return;
	}
	if (b->cfg.failover && failover_code(code) && c->route_pos < c->route_n) {
		b->st.failovers++;
		if (b_leg_start(b, c))
			return;
	}
	b2bua__call_fail(b, c, code, reason, disposition_of(code));
}

void b2bua__on_b_response(struct b2bua *b, struct call *c, struct sip_txn *ct, const struct sip_msg *resp)
{
	int code = resp->status;
	if (resp->method != SIP_M_INVITE)
		return; /* BYE/CANCEL answers need nothing more */
	if (code >= 200 && code < 300) {
		if (c->state == CALL_PROCEEDING || c->state == CALL_CANCELLING)
			b_answered(b, c, resp);
		else if (resp->cseq == c->b_invite_cseq)
			b2bua__send_b_ack(b, c); /* a retransmitted 2xx: ACK again */
		return;
	}
	if (ct == NULL || ct != c->b_ict)
		return;
	if (code < 200) {
		if (!c->b_provisional && c->state == CALL_PROCEEDING) {
			c->b_provisional = true; /* the carrier is alive: now the ring timeout */
			b2bua__setup_timer_set(b, c, b->cfg.ring_timeout_ns);
		}
		if (code > 100 && c->state == CALL_PROCEEDING)
			b2bua__a_respond(b, c, code, NULL, resp);
		return;
	}
	if (code >= 300) {
		char reason[64];
		const char *rp = resp->m->reason_phrase;
		size_t n = rp != NULL ? strnlen(rp, sizeof(reason) - 1) : 0;
		memcpy(reason, rp != NULL ? rp : "", n);
		reason[n] = '\0';
		if (code == 422)
			b2bua__st_on_422(c, resp);
		b2bua__b_failed(b, c, code, n > 0 ? reason : NULL);
	}
}
