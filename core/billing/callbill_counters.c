/* callbill_counters.c: billing's counters in the call path (struct
 * callbill_stats), one line each, for GET /metrics, report.json and the
 * run report. */
#include "core/billing/callbill.h"
#include "core/metrics/counters.h"

#define C(f) SY_CTR_AT(struct callbill_stats, f)

static int64_t margin(const void *p)
{
	const struct callbill_stats *s = p;
	return s->revenue_micros - s->cost_micros;
}

/* One counter, one line. */
/* clang-format off */
static const struct sy_counter c[] = {
    {"switchyard_billing_revenue", "billing.revenue", "charged to accounts (money units)", SY_CTR_COUNTER, SY_UNIT_MONEY, C(revenue_micros)},
    {"switchyard_billing_cost", "billing.cost", "owed to carriers (money units)", SY_CTR_COUNTER, SY_UNIT_MONEY, C(cost_micros)},
    {NULL, "billing.margin", "revenue - cost", SY_CTR_GAUGE, SY_UNIT_MONEY, SY_CTR_FN_(margin)},
    {"switchyard_billing_cutoffs_total", "billing.cutoffs", "calls ended because the money ran out", SY_CTR_COUNTER, SY_UNIT_COUNT, C(cutoffs)},
    {"switchyard_billing_cutoff_late_max_seconds", "billing.cutoff_late_max", "latest cut-off after the money ran out", SY_CTR_GAUGE, SY_UNIT_NS, C(cutoff_late_max_ns)},
    {"switchyard_billing_cutoff_early_total", "billing.cutoff_early", "cut calls that ended before the money ran out", SY_CTR_COUNTER, SY_UNIT_COUNT, C(cutoff_early)},
    {"switchyard_billing_declined_total", "billing.declined", "calls refused by billing", SY_CTR_COUNTER, SY_UNIT_COUNT, C(declined)},
    {"switchyard_billing_declined_funds_total", "billing.declined_funds", "calls refused 402: insufficient funds", SY_CTR_COUNTER, SY_UNIT_COUNT, C(declined_funds)},
    {"switchyard_billing_declined_unknown_total", "billing.declined_unknown", "calls refused 403: unknown or suspended account", SY_CTR_COUNTER, SY_UNIT_COUNT, C(declined_unknown)},
    {"switchyard_billing_declined_tariff_total", "billing.declined_tariff", "calls refused 403: no tariff for the destination", SY_CTR_COUNTER, SY_UNIT_COUNT, C(declined_tariff)},
    {"switchyard_billing_declined_store_total", "billing.declined_store", "calls refused 503: the ledger could not record them (disk)", SY_CTR_COUNTER, SY_UNIT_COUNT, C(declined_store)},
    {"switchyard_billing_declined_caller_total", "billing.declined_caller", "calls refused 403: a caller number the authenticated account group does not own", SY_CTR_COUNTER, SY_UNIT_COUNT, C(declined_caller)},
    {"switchyard_billing_authorized_total", "billing.authorized", "calls billing authorized", SY_CTR_COUNTER, SY_UNIT_COUNT, C(authorized)},
};
/* clang-format on */

SY_CTR_TABLE(callbill_counters, "billing", c);
