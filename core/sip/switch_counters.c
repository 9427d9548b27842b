/* switch_counters.c: the switch's own counters (CDRs), read through its
 * accessors, for GET /metrics. */
#include "core/metrics/counters.h"
#include "core/sip/switch.h"

static int64_t cdrs_written(const void *p)
{
	return (int64_t)vswitch_cdrs_written(p);
}

static int64_t cdrs_lost(const void *p)
{
	return (int64_t)vswitch_cdrs_lost(p);
}

/* One counter, one line. */
/* clang-format off */
static const struct sy_counter c[] = {
    {"switchyard_cdrs_written_total", NULL, "CDRs durably written", SY_CTR_COUNTER, SY_UNIT_COUNT, SY_CTR_FN_(cdrs_written)},
    {"switchyard_cdrs_lost_total", NULL, "CDRs the store could not take", SY_CTR_COUNTER, SY_UNIT_COUNT, SY_CTR_FN_(cdrs_lost)},
};
/* clang-format on */

SY_CTR_TABLE(vswitch_counters, "switch", c);
