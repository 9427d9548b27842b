/* irsf.c: international revenue share fraud on a new call and while it
 * runs (fraud.h): a destination of class blocked, an account's calls and
 * spend to risky ranges per window, bursts of distinct numbers in one
 * risky range, and calls to premium ranges running past premium_max. */
#include <stdio.h>

#include "core/fraud/fraud_int.h"
#include "core/fraud/mix.h"
#include "core/route/route.h"

/* The callee's range in the table in force. */
void fraud_irsf_lookup(struct fraud_ctx *c)
{
	const struct fraud_ranges *t = fraud_ranges_set_cur(&c->f->ranges);
	uint32_t v;
	size_t len;
	c->ranges = t;
	if (t == NULL || c->callee.len == 0 || !route_lookup(&t->trie, c->callee, &v, &len))
		return;
	SY_ASSERT(v < t->n);
	c->range = v + 1;
	c->risk = (enum fraud_risk)t->e[v].risk;
}

/* "+882 (International Networks)" for the range of entry i. */
static const char *range_text(char *buf, size_t n, const struct fraud_ranges *t, uint32_t i)
{
	struct sy_str p = fraud_ranges_prefix(t, i), l = fraud_ranges_label(t, i);
	if (l.len > 0)
		snprintf(buf, n, "+%.*s (%.*s)", (int)p.len, p.p, (int)l.len, l.p);
	else
		snprintf(buf, n, "+%.*s", (int)p.len, p.p);
	return buf;
}

static void check_burst(struct fraud_ctx *c, struct fraud_decision *d)
{
	struct fraud *f = c->f;
	const struct fraud_limit *l = &c->rule->range_burst;
	struct sy_str p = fraud_ranges_prefix(c->ranges, c->range - 1);
	c->burst_key = fraud__pair(c->acct_key, fraud__num_key(f, p));
	/* A number is new to the burst when the account did not call it over
	 * the last window (the sketch never reads a called pair as 0). */
	c->burst_new = fraud_cms_estimate(f->bdests, c->pair_key, c->now_ns) == 0;
	struct fraud_fwin *w = fraud_ftab_get(f->bursts, c->burst_key, c->now_ns, NULL);
	uint64_t n =
	    c->burst_new ? fraud_fwin_add(&c->rt->burst, w, c->now_ns, 1) : fraud_fwin_sum(&c->rt->burst, w, c->now_ns);
	if (c->burst_new && n > l->max && fraud__want(d, FRAUD_DET_IRSF, l->action)) {
		char dur[24], rt[96];
		fraud__reason(d, "irsf.range_burst: %llu numbers in %s in %s %s", (unsigned long long)n,
			      fraud__dur(dur, sizeof dur, l->window_ns), fraud_risk_name(c->risk),
			      range_text(rt, sizeof rt, c->ranges, c->range - 1));
	}
}

static void check_risky(struct fraud_ctx *c, struct fraud_decision *d)
{
	struct fraud *f = c->f;
	const struct fraud_rule_cfg *r = c->rule;
	char dur[24], rt[96];
	if (r->risky_calls.max > 0) {
		uint64_t n = fraud_fwin_add(&c->rt->g[FRAUD_W_RISKY_CALLS], fraud__win(f, c->acct, FRAUD_W_RISKY_CALLS),
					    c->now_ns, 1);
		if (n > r->risky_calls.max && fraud__want(d, FRAUD_DET_IRSF, r->risky_calls.action))
			fraud__reason(d, "irsf.risky_calls: %llu calls in %s to %s %s", (unsigned long long)n,
				      fraud__dur(dur, sizeof dur, r->risky_calls.window_ns), fraud_risk_name(c->risk),
				      range_text(rt, sizeof rt, c->ranges, c->range - 1));
	}
	if (r->risky_spend.max > 0) {
		uint64_t s = fraud_fwin_sum(&c->rt->g[FRAUD_W_RISKY_SPEND], fraud__win(f, c->acct, FRAUD_W_RISKY_SPEND),
					    c->now_ns);
		if (s > r->risky_spend.max && fraud__want(d, FRAUD_DET_IRSF, r->risky_spend.action))
			fraud__reason(d, "irsf.risky_spend: %llu.%06llu spent in %s on risky ranges (max %llu.%06llu)",
				      (unsigned long long)(s / 1000000), (unsigned long long)(s % 1000000),
				      fraud__dur(dur, sizeof dur, r->risky_spend.window_ns),
				      (unsigned long long)(r->risky_spend.max / 1000000),
				      (unsigned long long)(r->risky_spend.max % 1000000));
	}
	if (r->range_burst.max > 0 && f->bursts != NULL)
		check_burst(c, d);
}

void fraud_irsf_check(struct fraud_ctx *c, struct fraud_decision *d)
{
	const struct fraud_rule_cfg *r = c->rule;
	if (r == NULL || c->range == 0)
		return;
	char rt[96];
	if (c->risk == FRAUD_RISK_BLOCKED && fraud__want(d, FRAUD_DET_IRSF, r->blocked_class))
		fraud__reason(d, "irsf.blocked_class: +%.*s is in blocked range %s", (int)c->callee.len, c->callee.p,
			      range_text(rt, sizeof rt, c->ranges, c->range - 1));
	c->risky = c->risk != FRAUD_RISK_NONE && c->risk >= r->risk_min;
	if (c->risky)
		check_risky(c, d);
}

/* After the decision: a call that went on has called its number, so a
 * retry of a refused one is still new (it cannot slip through by retrying). */
void fraud_irsf_commit(struct fraud_ctx *c, bool went_on)
{
	if (went_on && c->burst_key != 0)
		fraud_cms_add(c->f->bdests, c->pair_key, c->now_ns, 1);
}

/* A running call's premium-range check; true when the limit is crossed. */
bool fraud_irsf_premium(struct fraud *f, struct fraud_call *st, uint64_t now_ns, struct fraud_decision *d)
{
	const struct fraud_rule_cfg *r = &f->cfg.rules[st->rule];
	char dur[24], ran[24], rt[96] = "";
	uint64_t ran_ns = now_ns - st->answer_ns;
	if (ran_ns < r->premium_max_ns)
		return false;
	/* The class is the one the call began with; the label only when the
	 * table is still that generation (a reload may have renumbered it). */
	const struct fraud_ranges *t = fraud_ranges_set_cur(&f->ranges);
	if (t != NULL && (uint16_t)t->generation == st->ranges_gen && st->range > 0 && st->range <= t->n)
		range_text(rt, sizeof rt, t, st->range - 1);
	if (fraud__want(d, FRAUD_DET_IRSF, r->premium_action))
		fraud__reason(d, "irsf.premium_max: call to %s +%s%s%s answered %s ago (max %s)",
			      fraud_risk_name((enum fraud_risk)st->risk), st->callee, rt[0] ? " in " : "", rt,
			      fraud__dur(ran, sizeof ran, ran_ns), fraud__dur(dur, sizeof dur, r->premium_max_ns));
	return true;
}
