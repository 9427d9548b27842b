/* fraud_call.c: a call's life in the fraud component (fraud.h): the
 * decision at INVITE, the premium-range check while it runs, and its end
 * (concurrent calls, spend, Wangiri's short calls). */
#include <stdio.h>

#include "core/fraud/fraud_int.h"

/* Copies a normalised number into a call's fixed field (cut at 15). */
static void keep_num(char *dst, struct sy_str s)
{
	size_t n = s.len < FRAUD_NUM_MAX ? s.len : FRAUD_NUM_MAX;
	if (n > 0) /* an empty number may have no pointer at all */
		memcpy(dst, s.p, n);
	dst[n] = '\0';
}

static void ctx_init(struct fraud *f, const struct fraud_call_req *rq, struct fraud_ctx *c)
{
	*c = (struct fraud_ctx){.f = f, .now_ns = sy_env_now_ns(f->env)};
	c->caller = fraud_num_norm(&f->cfg.num, rq->caller);
	c->callee = fraud_num_norm(&f->cfg.num, rq->callee);
	struct sy_str id = rq->account.len > 0 ? rq->account : rq->who;
	c->acct_key = fraud_ftab_key(f->accts, id);
	c->dest_key = fraud__num_key(f, c->callee);
	c->pair_key = fraud__pair(c->acct_key, c->dest_key);
	int32_t rule = fraud__rule_of(f, c->acct_key, &c->acct_cfg);
	if (rule >= 0) {
		c->rule = &f->cfg.rules[rule];
		c->rt = &f->rt[rule];
		c->acct = fraud_ftab_get(f->accts, c->acct_key, c->now_ns, NULL);
	}
}

void fraud_call_begin(struct fraud *f, const struct fraud_call_req *rq, struct fraud_call *st, struct fraud_decision *d)
{
	struct fraud_ctx c;
	ctx_init(f, rq, &c);
	memset(st, 0, sizeof(*st));
	memset(d, 0, sizeof(*d));
	fraud_irsf_lookup(&c);
	fraud_callerid_check(&c, d);
	fraud_irsf_check(&c, d);
	fraud__mod_call(f, &c, st, d);
	fraud_velocity_check(&c, d);

	*st = (struct fraud_call){.acct_key = c.acct_key,
				  .dest_key = c.dest_key,
				  .src_key = st->src_key,
				  .begin_ns = c.now_ns,
				  .rule = c.rule ? (int32_t)(c.rule - f->cfg.rules) : -1,
				  .range = c.range,
				  .risk = (uint8_t)c.risk,
				  .begun = true,
				  .ranges_gen = c.ranges ? (uint16_t)c.ranges->generation : 0};
	keep_num(st->caller, c.caller);
	keep_num(st->callee, c.callee);
	struct fraud_event ev = {FRAUD_KIND_CALL, d,	       rq->account, rq->caller,
				 rq->callee,	  rq->call_id, c.now_ns,    sy_env_wall_ns(f->env)};
	fraud__finish(f, FRAUD_KIND_CALL, d, &ev);
	st->proceeded = d->action <= FRAUD_FLAG;
	st->counted = st->proceeded && c.acct != NULL;
	fraud_velocity_commit(&c, st->proceeded);
	fraud_irsf_commit(&c, st->proceeded);
}

uint64_t fraud_call_answered(struct fraud *f, struct fraud_call *st)
{
	if (!st->begun)
		return UINT64_MAX;
	st->answer_ns = sy_env_now_ns(f->env);
	if (st->rule < 0 || st->risk != FRAUD_RISK_PREMIUM)
		return UINT64_MAX;
	uint64_t max = f->cfg.rules[st->rule].premium_max_ns;
	return max > 0 ? max : UINT64_MAX;
}

uint64_t fraud_call_check(struct fraud *f, struct fraud_call *st, struct fraud_decision *d)
{
	memset(d, 0, sizeof(*d));
	if (!st->begun || st->rule < 0 || st->risk != FRAUD_RISK_PREMIUM)
		return UINT64_MAX;
	uint64_t now = sy_env_now_ns(f->env), max = f->cfg.rules[st->rule].premium_max_ns;
	if (max == 0)
		return UINT64_MAX;
	f->st.checks++;
	if (!fraud_irsf_premium(f, st, now, d))
		return st->answer_ns + max - now; /* early: check again when due */
	struct sy_str none = SY_STR_NULL;
	struct fraud_event ev = {FRAUD_KIND_MIDCALL,	  d,	none, sy_str_from(st->caller),
				 sy_str_from(st->callee), none, now,  sy_env_wall_ns(f->env)};
	fraud__finish(f, FRAUD_KIND_MIDCALL, d, &ev);
	if (d->action == FRAUD_BLOCK)
		f->st.teardowns++;
	return UINT64_MAX;
}

/* Spend of an ended call, into the account's windows. */
static void add_spend(struct fraud *f, const struct fraud_call *st, struct fraud_acct *a, uint64_t cost, uint64_t now)
{
	const struct fraud_rule_cfg *r = &f->cfg.rules[st->rule];
	const struct fraud_rule_rt *rt = &f->rt[st->rule];
	if (r->spend.max > 0)
		fraud_fwin_add(&rt->g[FRAUD_W_SPEND], fraud__win(f, a, FRAUD_W_SPEND), now, cost);
	if (r->risky_spend.max > 0 && st->risk != FRAUD_RISK_NONE && st->risk >= r->risk_min)
		fraud_fwin_add(&rt->g[FRAUD_W_RISKY_SPEND], fraud__win(f, a, FRAUD_W_RISKY_SPEND), now, cost);
}

void fraud_call_end(struct fraud *f, struct fraud_call *st, const struct fraud_call_end *e)
{
	if (!st->begun)
		return;
	uint64_t now = sy_env_now_ns(f->env);
	if (st->rule >= 0 && (st->counted || e->cost_micros > 0)) {
		struct fraud_acct *a = fraud_ftab_get(f->accts, st->acct_key, now, NULL);
		/* After an eviction the account's state is new: never below 0. */
		if (st->counted && a->concurrent > 0)
			a->concurrent--;
		if (e->cost_micros > 0)
			add_spend(f, st, a, (uint64_t)e->cost_micros, now);
	}
	if (st->proceeded)
		fraud__mod_call_end(f, st, e, now);
	st->begun = false;
	st->counted = false;
}
