/* audit.h: the money audit of a simulator run (core/store/audit.h) on the
 * stores the run wrote in its output folder (--out, or out/<scenario>),
 * with the accounts and tariffs of the scenario read afresh: the tariffs
 * are loaded from their files again, not borrowed from the switch. */
#ifndef SIM_AUDIT_H
#define SIM_AUDIT_H

#include "core/billing/callbill.h"
#include "core/store/audit.h"
#include "core/ussd/ussd.h"

/* Reads through env's files. ussd is the node's USSD gateway (NULL or off:
 * none): with records on, its UDRs (udrs.sqlite) are audited too, each
 * re-rated by its service's charge. SY_ERR_IO / SY_ERR_PARSE (err says why)
 * when a store or tariff cannot be read. */
enum sy_rc sim_audit_money(const struct sy_env *env, const struct billing_cfg *s, const struct ussd_cfg *ussd,
			   const char *out_dir, struct audit_result *out, char *err, size_t errlen);

#endif
