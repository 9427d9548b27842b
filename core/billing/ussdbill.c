/* ussdbill.c: charging USSD sessions (callbill.h, "USSD sessions"): the
 * payer found as calls find callers, the price from the payer's tariff rows
 * of service ussd, and holds on the same book and ledger as calls, so one
 * balance pays for calls, messages and USSD without overspending. */
#include "core/billing/callbill.h"
#include "core/billing/callbill_int.h"

#include <stdio.h>

enum sy_rc callbill_ussd_payer(struct callbill *cb, struct sy_str account, struct sy_str caller, uint32_t *payer)
{
	uint32_t idx;
	bool foreign;
	*payer = 0;
	if (account.len > 0) {
		if (!callbill__member_of(cb, account, caller, &idx, &foreign))
			return SY_ERR_NOTFOUND;
	} else if (!route_lookup(&cb->callers, caller, &idx, NULL)) {
		return SY_ERR_NOTFOUND;
	} else {
		idx--; /* the trie holds index + 1 */
	}
	*payer = idx + 1;
	return SY_OK;
}

int64_t callbill_ussd_price(const struct callbill *cb, uint32_t payer, struct sy_str code, uint64_t epoch_s, uint32_t n,
			    int64_t flat_micros)
{
	SY_ASSERT(payer >= 1 && payer <= cb->acct_n);
	return bill_rate_ussd(&cb->tariffs[cb->acct_tariff[payer - 1]], code, epoch_s, n, flat_micros);
}

enum sy_rc callbill_ussd_hold(struct callbill *cb, uint32_t payer, struct sy_str ref, int64_t want_micros,
			      int64_t min_micros, bill_resv_id *resv, enum bill_why *why)
{
	SY_ASSERT(payer >= 1 && payer <= cb->acct_n && min_micros <= want_micros);
	*why = BILL_WHY_NONE;
	enum sy_rc rc =
	    bill_reserve(cb->book, sy_str_from(cb->acct_name[payer - 1]), ref, want_micros, min_micros, resv, why);
	if (rc == SY_OK) {
		cb->st.authorized++;
		return SY_OK;
	}
	cb->st.declined++;
	if (*why == BILL_WHY_FUNDS)
		cb->st.declined_funds++;
	else if (*why != BILL_WHY_NONE)
		cb->st.declined_unknown++;
	else if (rc == SY_ERR_IO || rc == SY_ERR_STATE)
		cb->st.declined_store++;
	return rc;
}

int64_t callbill_ussd_held(const struct callbill *cb, bill_resv_id resv)
{
	struct bill_resv_info ri;
	return bill_resv_get(cb->book, resv, &ri) == SY_OK ? ri.held_micros : 0;
}

enum sy_rc callbill_ussd_extend(struct callbill *cb, bill_resv_id resv, int64_t amount_micros, int64_t *held)
{
	enum sy_rc rc = bill_extend(cb->book, resv, amount_micros > 0 ? amount_micros : 0, 0, NULL, NULL);
	*held = callbill_ussd_held(cb, resv);
	cb->st.extends++;
	return rc;
}

int64_t callbill_ussd_commit(struct callbill *cb, bill_resv_id resv, int64_t charge_micros)
{
	int64_t charged = 0;
	if (bill_commit(cb->book, resv, charge_micros, &charged) != SY_OK)
		return 0;
	cb->st.revenue_micros += charged;
	return charged;
}

void callbill_ussd_release(struct callbill *cb, bill_resv_id resv)
{
	bill_release(cb->book, resv);
}

const char *callbill_payer_name(const struct callbill *cb, uint32_t payer)
{
	return payer >= 1 && payer <= cb->acct_n ? cb->acct_name[payer - 1] : "";
}
