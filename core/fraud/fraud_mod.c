/* fraud_mod.c: the fraud component's two detector modules, Wangiri
 * (wangiri.h) and SMS pumping (smspump.h): their life, their state's
 * bytes, and what a call, its end, a message and a receipt tell them. The
 * one file of fraud.c's that calls them. */
#include <stdio.h>

#include "core/fraud/fraud_int.h"
#include "core/fraud/smspump.h"
#include "core/fraud/wangiri.h"

/* A module's bad setting is named by its own check ("fraud: wangiri_distinct
 * must be at most 64 ..."), before anything is allocated. */
enum sy_rc fraud__mod_create(struct fraud *f, char *err, size_t errlen)
{
	char why[160] = "";
	enum sy_rc rc = SY_OK;
	if (f->cfg.wangiri.on && !fraud_wangiri_cfg_check(&f->cfg.wangiri, why, sizeof why))
		rc = SY_ERR_INVAL;
	else if (f->cfg.sms.on && !fraud_smspump_cfg_check(&f->cfg.sms, why, sizeof why))
		rc = SY_ERR_INVAL;
	else if (f->cfg.wangiri.on &&
		 (rc = fraud_wangiri_create(&f->cfg.wangiri, sy_env_random_u64(f->env), &f->wangiri)) != SY_OK)
		snprintf(why, sizeof why, "wangiri: %s", sy_rc_str(rc));
	else if (f->cfg.sms.on &&
		 (rc = fraud_smspump_create(&f->cfg.sms, sy_env_random_u64(f->env), &f->smspump)) != SY_OK)
		snprintf(why, sizeof why, "sms: %s", sy_rc_str(rc));
	if (rc != SY_OK)
		snprintf(err, errlen, "fraud: %s", why);
	return rc;
}

void fraud__mod_destroy(struct fraud *f)
{
	if (f->wangiri)
		fraud_wangiri_destroy(f->wangiri);
	if (f->smspump)
		fraud_smspump_destroy(f->smspump);
}

size_t fraud__mod_bytes(const struct fraud *f)
{
	return (f->wangiri ? fraud_wangiri_bytes(f->wangiri) : 0) + (f->smspump ? fraud_smspump_bytes(f->smspump) : 0);
}

uint64_t fraud__mod_wangiri_protected(const struct fraud *f, uint64_t now_ns)
{
	return f->wangiri ? fraud_wangiri_protected(f->wangiri, now_ns) : 0;
}

/* Wangiri on a new call: the caller's source range flooding now, the
 * callee's range under callback protection. */
void fraud__mod_call(struct fraud *f, const struct fraud_ctx *c, struct fraud_call *st, struct fraud_decision *d)
{
	if (f->wangiri == NULL)
		return;
	char why[FRAUD_REASON_MAX];
	st->src_key = fraud_wangiri_src_key(f->wangiri, c->caller);
	why[0] = '\0';
	enum fraud_action a = fraud_wangiri_inbound(f->wangiri, c->caller, c->now_ns, why, sizeof why);
	if (fraud__want(d, FRAUD_DET_WANGIRI, a))
		fraud__reason(d, "%s", why);
	why[0] = '\0';
	a = fraud_wangiri_callback(f->wangiri, c->callee, c->now_ns, why, sizeof why);
	if (fraud__want(d, FRAUD_DET_WANGIRI, a))
		fraud__reason(d, "%s", why);
}

/* A call that went on has ended: short ones count toward its source
 * (by the keys taken at begin: the source range's and the callee's). */
void fraud__mod_call_end(struct fraud *f, const struct fraud_call *st, const struct fraud_call_end *e, uint64_t now_ns)
{
	if (f->wangiri != NULL)
		fraud_wangiri_call_end_keys(f->wangiri, st->src_key, st->dest_key, e, now_ns);
}

void fraud__mod_sms(struct fraud *f, uint64_t acct_key, struct sy_str to, uint64_t now_ns, struct fraud_decision *d)
{
	if (f->smspump == NULL)
		return;
	char why[FRAUD_REASON_MAX] = "";
	enum fraud_action a = fraud_smspump_submit(f->smspump, acct_key, to, now_ns, why, sizeof why);
	if (fraud__want(d, FRAUD_DET_SMS_PUMP, a))
		fraud__reason(d, "%s", why);
}

void fraud__mod_receipt(struct fraud *f, struct sy_str carrier, struct sy_str to, bool delivered, uint64_t now_ns)
{
	if (f->smspump != NULL)
		fraud_smspump_receipt(f->smspump, carrier, to, delivered, now_ns);
}
