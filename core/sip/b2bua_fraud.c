/* b2bua_fraud.c: the fraud component (core/fraud/fraud.h) in the call
 * path. A new call is decided after authentication, admission and its
 * allocation, before billing holds money for it: allow and flag go on,
 * block is a final 403 (block_sip) with a Reason header, throttle a 503
 * with Retry-After. An answered call is checked while it runs (a premium
 * range's call that lasts too long) and torn down on block: BYE on both
 * legs, each with the Reason. Every call begun gets fraud_call_end when
 * its record is freed, with what it cost, so the account's concurrent
 * calls and spend stay true. With b2bua_cfg.fraud NULL nothing here runs:
 * the callers test one pointer (or fraud.begun, never set then). */
#include "b2bua_int.h"

#include <stdio.h>

/* The decision as the CDR will say it; the strongest one wins (a flag at
 * INVITE, then a block mid-call). */
static void fraud_record(struct call *c, const struct fraud_decision *d)
{
	if (d->action == FRAUD_ALLOW || d->action < c->fraud_action)
		return;
	c->fraud_action = (uint8_t)d->action;
	c->fraud_detector = (uint8_t)d->detector;
	size_t n = strnlen(d->reason, sizeof(d->reason));
	if (!call_put(c, &c->fraud_reason, d->reason, n)) /* the record is full: keep what fits */
		c->fraud_reason.len = 0;
}

/* `Reason: SIP;cause=N;text="fraud: REASON"` (RFC 3326), with the
 * reason's quotes and backslashes made harmless and control bytes
 * dropped: it comes from numbers strangers dial. Returns its length. */
size_t b2bua__fraud_reason_hdr(const struct call *c, int cause, char *buf, size_t n)
{
	struct sy_str r = cs(c, c->fraud_reason);
	int k = snprintf(buf, n, "Reason: SIP;cause=%d;text=\"fraud: ", cause);
	if (k < 0 || (size_t)k + 4 > n)
		return 0;
	size_t o = (size_t)k;
	for (size_t i = 0; i < r.len && o + 4 < n; i++) {
		char ch = r.p[i];
		if ((unsigned char)ch < 0x20 || ch == 0x7f)
			continue;
		buf[o++] = ch == '"' || ch == '\\' ? '\'' : ch;
	}
	memcpy(buf + o, "\"\r\n", 3);
	return o + 3;
}

/* A refused call: its final response and its CDR (disposition FAILED,
 * the status sent, the decision). */
static void fraud_refuse(struct b2bua *b, struct call *c, const struct fraud_decision *d)
{
	char extra[64 + FRAUD_REASON_MAX];
	bool throttle = d->action == FRAUD_THROTTLE;
	int code = throttle ? 503 : (d->sip_status != 0 ? d->sip_status : 403);
	int n = throttle ? snprintf(extra, sizeof(extra), "Retry-After: %u\r\n", d->retry_after_s) : 0;
	if (n < 0)
		n = 0;
	n += (int)b2bua__fraud_reason_hdr(c, code, extra + n, sizeof(extra) - (size_t)n);
	c->disposition = CDR_DISP_FAILED;
	c->hangup = CDR_SIDE_SYSTEM;
	b2bua__a_respond_x(b, c, code, throttle ? "Service Unavailable" : "Forbidden", NULL,
			   (struct sy_str){extra, (size_t)n});
	b2bua__call_free(b, c);
}

bool b2bua__fraud_begin(struct b2bua *b, struct call *c)
{
	struct fraud_call_req rq = {
	    .account = sy_str_from(c->who.account != NULL ? c->who.account : ""),
	    .who = sy_str_from(c->who.name != NULL ? c->who.name : ""),
	    .caller = cs(c, c->caller),
	    .callee = cs(c, c->callee),
	    .call_id = cs(c, c->a_call_id),
	};
	struct fraud_decision d;
	fraud_call_begin(b->cfg.fraud, &rq, &c->fraud, &d);
	fraud_record(c, &d);
	if (d.action != FRAUD_BLOCK && d.action != FRAUD_THROTTLE)
		return true;
	fraud_refuse(b, c, &d);
	return false;
}

static void fraud_fire(void *arg);

static void fraud_schedule(struct b2bua *b, struct call *c, uint64_t delay_ns)
{
	c->fraud_timer = delay_ns == UINT64_MAX ? 0 : sy_env_timer_start(b->env, delay_ns, fraud_fire, c);
}

/* A running call's check: block ends it now, on both legs, the BYEs
 * saying why (b2bua__send_a_bye_x / _b_bye_x add the Reason). */
static void fraud_fire(void *arg)
{
	struct call *c = arg;
	struct b2bua *b = c->owner;
	struct fraud_decision d;
	c->fraud_timer = 0;
	if (c->state != CALL_ANSWERED && c->state != CALL_CONFIRMED)
		return;
	uint64_t next = fraud_call_check(b->cfg.fraud, &c->fraud, &d);
	fraud_record(c, &d);
	if (d.action != FRAUD_BLOCK) {
		fraud_schedule(b, c, next);
		return;
	}
	c->fraud_teardown = true;
	c->hangup = CDR_SIDE_SYSTEM;
	b->st.completed++;
	b2bua__call_end(b, c, true, true);
}

void b2bua__fraud_answered(struct b2bua *b, struct call *c)
{
	fraud_schedule(b, c, fraud_call_answered(b->cfg.fraud, &c->fraud));
}

/* Once per call begun, when its record is freed (the CDR has left, so
 * the cost is known). */
void b2bua__fraud_end(struct b2bua *b, struct call *c)
{
	uint64_t now = sy_env_now_ns(b->env);
	uint64_t end = c->ending ? c->t_end_ns : now;
	uint64_t ring_end = c->answered ? c->t_answer_ns : end;
	struct fraud_call_end e = {
	    .answered = c->answered,
	    .by_caller = c->hangup == CDR_SIDE_CALLER || c->disposition == CDR_DISP_CANCELLED,
	    .ring_ns = ring_end - c->t_invite_ns,
	    .duration_ns = c->answered ? end - c->t_answer_ns : 0,
	    .cost_micros = c->bill_cost,
	};
	sy_env_timer_cancel(b->env, c->fraud_timer);
	c->fraud_timer = 0;
	fraud_call_end(b->cfg.fraud, &c->fraud, &e);
	c->fraud.begun = false;
}
