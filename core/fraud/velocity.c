/* velocity.c: per-account velocity on a new call (fraud.h): calls begun
 * per window, calls in progress, spend per window, new destinations per
 * window. Every attempt counts, refused ones too: an account that keeps
 * hammering stays over its limit. */
#include "core/fraud/fraud_int.h"

static void check_calls(struct fraud_ctx *c, struct fraud_decision *d)
{
	const struct fraud_limit *l = &c->rule->calls;
	uint64_t n = fraud_fwin_add(&c->rt->g[FRAUD_W_CALLS], fraud__win(c->f, c->acct, FRAUD_W_CALLS), c->now_ns, 1);
	char dur[24];
	if (n > l->max && fraud__want(d, FRAUD_DET_VELOCITY, l->action))
		fraud__reason(d, "velocity.calls: %llu calls in %s (max %llu)", (unsigned long long)n,
			      fraud__dur(dur, sizeof dur, l->window_ns), (unsigned long long)l->max);
}

static void check_concurrent(struct fraud_ctx *c, struct fraud_decision *d)
{
	const struct fraud_limit *l = &c->rule->concurrent;
	uint64_t n = (uint64_t)c->acct->concurrent + 1;
	if (n > l->max && fraud__want(d, FRAUD_DET_VELOCITY, l->action))
		fraud__reason(d, "velocity.concurrent: %llu calls in progress (max %llu)", (unsigned long long)n,
			      (unsigned long long)l->max);
}

static void check_spend(struct fraud_ctx *c, struct fraud_decision *d)
{
	const struct fraud_limit *l = &c->rule->spend;
	uint64_t s = fraud_fwin_sum(&c->rt->g[FRAUD_W_SPEND], fraud__win(c->f, c->acct, FRAUD_W_SPEND), c->now_ns);
	char dur[24];
	if (s > l->max && fraud__want(d, FRAUD_DET_VELOCITY, l->action))
		fraud__reason(d, "velocity.spend: %llu.%06llu spent in %s (max %llu.%06llu)",
			      (unsigned long long)(s / 1000000), (unsigned long long)(s % 1000000),
			      fraud__dur(dur, sizeof dur, l->window_ns), (unsigned long long)(l->max / 1000000),
			      (unsigned long long)(l->max % 1000000));
}

/* A destination is new when the account did not call it over the last
 * window (the sketch covers between one and two windows: a number called
 * then is not new, so new destinations are never over-counted). */
static void check_new_dest(struct fraud_ctx *c, struct fraud_decision *d)
{
	const struct fraud_limit *l = &c->rule->new_dest;
	if (c->f->dests == NULL || fraud_cms_estimate(c->f->dests, c->pair_key, c->now_ns) != 0)
		return;
	c->new_dest = true;
	uint64_t n =
	    fraud_fwin_add(&c->rt->g[FRAUD_W_NEW_DEST], fraud__win(c->f, c->acct, FRAUD_W_NEW_DEST), c->now_ns, 1);
	char dur[24];
	if (n > l->max && fraud__want(d, FRAUD_DET_VELOCITY, l->action))
		fraud__reason(d, "velocity.new_dest: %llu new destinations in %s (max %llu)", (unsigned long long)n,
			      fraud__dur(dur, sizeof dur, l->window_ns), (unsigned long long)l->max);
}

void fraud_velocity_check(struct fraud_ctx *c, struct fraud_decision *d)
{
	const struct fraud_rule_cfg *r = c->rule;
	if (r == NULL)
		return;
	if (r->calls.max > 0)
		check_calls(c, d);
	if (r->concurrent.max > 0)
		check_concurrent(c, d);
	if (r->spend.max > 0)
		check_spend(c, d);
	if (r->new_dest.max > 0)
		check_new_dest(c, d);
}

/* After the decision: a call that went on is in progress and has called
 * its destination (a refused retry stays new). */
void fraud_velocity_commit(struct fraud_ctx *c, bool went_on)
{
	if (!went_on || c->acct == NULL)
		return;
	c->acct->concurrent++;
	if (c->f->dests != NULL && c->rule->new_dest.max > 0)
		fraud_cms_add(c->f->dests, c->pair_key, c->now_ns, 1);
}
