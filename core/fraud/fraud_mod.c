/* fraud_mod.c: the fraud component's two detector modules, Wangiri
 * (wangiri.h) and SMS pumping (smspump.h). INTERIM: the modules are being
 * written on branch h12-detect; until it is merged here, a configuration
 * that turns either on is refused at create (never silently ignored), and
 * the component runs IRSF, velocity and caller-ID alone. The merge
 * replaces this file with the calls into wangiri.c and smspump.c. */
#include <stdio.h>

#include "core/fraud/fraud_int.h"

enum sy_rc fraud__mod_create(struct fraud *f, char *err, size_t errlen)
{
	if (!f->cfg.wangiri.on && !f->cfg.sms.on)
		return SY_OK;
	snprintf(err, errlen, "fraud: %s is not in this build yet (wangiri.c, smspump.c: issue 12)",
		 f->cfg.wangiri.on ? "wangiri" : "sms pumping");
	return SY_ERR_INVAL;
}

void fraud__mod_destroy(struct fraud *f)
{
}

size_t fraud__mod_bytes(const struct fraud *f)
{
	return 0;
}

uint64_t fraud__mod_wangiri_protected(const struct fraud *f, uint64_t now_ns)
{
	return 0;
}

void fraud__mod_call(struct fraud *f, const struct fraud_ctx *c, struct fraud_call *st, struct fraud_decision *d)
{
}

void fraud__mod_call_end(struct fraud *f, const struct fraud_call *st, const struct fraud_call_end *e, uint64_t now_ns)
{
}

void fraud__mod_sms(struct fraud *f, uint64_t acct_key, struct sy_str to, uint64_t now_ns, struct fraud_decision *d)
{
}

void fraud__mod_receipt(struct fraud *f, struct sy_str carrier, struct sy_str to, bool delivered, uint64_t now_ns)
{
}
