/* fraud_sms.c: a message's decision in the fraud component (fraud.h): the
 * account's own message rate (velocity.sms) and the SMS pumping module
 * (smspump.h); receipts feed the module's delivery ratio. No caller-ID
 * check on the sender: SMS senders are often alphanumeric (a brand name),
 * which the number checks would call malformed. */
#include "core/fraud/fraud_int.h"

static void check_rate(struct fraud *f, uint64_t acct_key, uint64_t now, struct fraud_decision *d)
{
	const struct fraud_account_cfg *acct;
	int32_t rule = fraud__rule_of(f, acct_key, &acct);
	if (rule < 0 || f->cfg.rules[rule].sms.max == 0)
		return;
	const struct fraud_limit *l = &f->cfg.rules[rule].sms;
	struct fraud_acct *a = fraud_ftab_get(f->accts, acct_key, now, NULL);
	uint64_t n = fraud_fwin_add(&f->rt[rule].g[FRAUD_W_SMS], fraud__win(f, a, FRAUD_W_SMS), now, 1);
	char dur[24];
	if (n > l->max && fraud__want(d, FRAUD_DET_VELOCITY, l->action))
		fraud__reason(d, "velocity.sms: %llu messages in %s (max %llu)", (unsigned long long)n,
			      fraud__dur(dur, sizeof dur, l->window_ns), (unsigned long long)l->max);
}

void fraud_sms_submit(struct fraud *f, const struct fraud_sms_req *rq, struct fraud_decision *d)
{
	uint64_t now = sy_env_now_ns(f->env);
	memset(d, 0, sizeof(*d));
	uint64_t acct_key = fraud_ftab_key(f->accts, rq->account);
	struct sy_str to = fraud_num_norm(&f->cfg.num, rq->to);
	check_rate(f, acct_key, now, d);
	fraud__mod_sms(f, acct_key, to, now, d);
	struct sy_str none = SY_STR_NULL;
	struct fraud_event ev = {FRAUD_KIND_SMS, d, rq->account, rq->from, rq->to, none, now, sy_env_wall_ns(f->env)};
	fraud__finish(f, FRAUD_KIND_SMS, d, &ev);
}

void fraud_sms_receipt(struct fraud *f, struct sy_str carrier, struct sy_str to, bool delivered)
{
	fraud__mod_receipt(f, carrier, fraud_num_norm(&f->cfg.num, to), delivered, sy_env_now_ns(f->env));
}
