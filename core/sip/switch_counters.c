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

#define D(f) SY_CTR_AT(struct vswitch_disk_stats, f)

/* The CDR buffer that carries the switch through a full or failing disk
 * (docs/operations.md). */
/* clang-format off */
static const struct sy_counter d[] = {
    {"switchyard_cdrs_buffered_total", "cdr.buffered", "CDRs held in memory while the store could not take them", SY_CTR_COUNTER, SY_UNIT_COUNT, D(cdrs_buffered)},
    {"switchyard_cdr_buffer_peak", "cdr.buffer_peak", "most CDRs held in the buffer at once", SY_CTR_GAUGE, SY_UNIT_COUNT, D(buffer_peak)},
    {"switchyard_cdr_buffer", "cdr.buffer_left", "CDRs in the buffer now", SY_CTR_GAUGE, SY_UNIT_COUNT, D(buffer_now)},
    {"switchyard_cdr_store_errors_total", "cdr.store_errors", "failed flushes of the CDR store", SY_CTR_COUNTER, SY_UNIT_COUNT, D(store_errors)},
    {"switchyard_calls_refused_disk_total", "calls.refused_disk", "INVITEs answered 503: no room left for their CDR", SY_CTR_COUNTER, SY_UNIT_COUNT, D(calls_refused)},
};
/* clang-format on */

SY_CTR_TABLE(vswitch_disk_counters, "switch-disk", d);
