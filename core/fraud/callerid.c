/* callerid.c: the caller-ID checks on a new call (fraud.h): a malformed or
 * unallocatable caller number, caller equal to callee, and a customer
 * presenting a number outside its own prefixes. Each check's action comes
 * from the account's rule (allow = off). */
#include "core/fraud/fraud_int.h"

/* The account's own prefixes as slices (at most FRAUD_OWN_MAX). */
static size_t own_prefixes(const struct fraud_account_cfg *a, struct sy_str *out)
{
	size_t n = a->own_n < FRAUD_OWN_MAX ? a->own_n : FRAUD_OWN_MAX;
	for (size_t i = 0; i < n; i++)
		out[i] = sy_str_from(a->own[i]);
	return n;
}

void fraud_callerid_check(struct fraud_ctx *c, struct fraud_decision *d)
{
	const struct fraud_rule_cfg *r = c->rule;
	const struct fraud_num_cfg *num = &c->f->cfg.num;
	if (r == NULL)
		return;
	/* c->caller is normalised already: the check must not strip twice. */
	struct sy_str raw = c->caller;
	if (r->cli_malformed != FRAUD_ALLOW) {
		enum fraud_num_verdict v = fraud_num_check(NULL, raw, NULL);
		if (v != FRAUD_NUM_OK && fraud__want(d, FRAUD_DET_CALLERID, r->cli_malformed))
			fraud__reason(d, "callerid.malformed: caller '%.*s' is %s", (int)raw.len, raw.p,
				      fraud_num_verdict_name(v));
	}
	if (r->cli_same != FRAUD_ALLOW && fraud_num_same(NULL, c->caller, c->callee) &&
	    fraud__want(d, FRAUD_DET_CALLERID, r->cli_same))
		fraud__reason(d, "callerid.same: caller +%.*s equals the callee", (int)raw.len, raw.p);
	if (r->cli_foreign != FRAUD_ALLOW && c->acct_cfg != NULL && c->acct_cfg->own_n > 0) {
		struct sy_str own[FRAUD_OWN_MAX];
		size_t n = own_prefixes(c->acct_cfg, own);
		if (!fraud_num_in_prefixes(num, raw, own, n) && fraud__want(d, FRAUD_DET_CALLERID, r->cli_foreign))
			fraud__reason(d, "callerid.foreign: caller +%.*s is outside account %s's numbers", (int)raw.len,
				      raw.p, c->acct_cfg->name);
	}
}
