/* callbill_int.h: the billing engine's state, shared by callbill.c (calls,
 * SMS) and ussdbill.c (USSD sessions) inside core/billing/. */
#ifndef SY_BILLING_CALLBILL_INT_H
#define SY_BILLING_CALLBILL_INT_H

#include "core/billing/callbill.h"
#include "core/route/route.h"

#define NAME_MAX_ (BILLING_NAME_MAX + 12)

struct callbill {
	struct sy_log_limit log_ledger; /* ledger failures: a line per 10 s */
	struct callbill_cfg cfg;
	const struct sy_env *env;
	struct bill_book *book;
	struct ledger *ledger;
	struct route_trie callers; /* caller prefix -> account index + 1 */
	struct bill_tariff tariffs[BILLING_TARIFFS_MAX];
	uint32_t tariff_n;
	uint16_t *acct_tariff;	      /* per account index */
	char (*acct_name)[NAME_MAX_]; /* per account index */
	uint32_t acct_n;
	/* [account] k's members are book indexes grp_first[k] ..
	 * grp_first[k + 1] - 1: a caller number picks a member of its own
	 * authenticated group only */
	uint32_t grp_first[BILLING_ACCOUNTS_MAX + 1];
	sy_timer_id commit_timer;
	struct callbill_stats st;
	uint64_t cutoff_violations;
	struct sy_hist cutoff_late; /* CDR end - money-out, per cut call */
};

/* The book member that pays for account (a group's member owning caller);
 * *foreign: a group that does not own caller. callbill.c. */
bool callbill__member_of(struct callbill *cb, struct sy_str account, struct sy_str caller, uint32_t *idx,
			 bool *foreign);

#endif
