/* process_counters.c: struct sy_process_stats on /metrics (process.h).
 * Prometheus only: a run report has no process of its own. */
#include "core/metrics/counters.h"
#include "core/metrics/process.h"

#define S(f) SY_CTR_AT(struct sy_process_stats, f)

/* clang-format off */
static const struct sy_counter c[] = {
    {"process_resident_memory_bytes", NULL, "resident memory size in bytes", SY_CTR_GAUGE, SY_UNIT_COUNT, S(rss_bytes)},
    {"process_cpu_seconds_total", NULL, "user and system CPU time spent in seconds", SY_CTR_COUNTER, SY_UNIT_NS, S(cpu_ns)},
    {"process_open_fds", NULL, "open file descriptors", SY_CTR_GAUGE, SY_UNIT_COUNT, S(open_fds)},
    {"switchyard_heap_inuse_bytes", NULL, "malloc: bytes in allocated blocks (grows with a leak)", SY_CTR_GAUGE, SY_UNIT_COUNT, S(heap_inuse_bytes)},
    {"switchyard_heap_bytes", NULL, "malloc: bytes the heap holds from the OS (in use plus free and fragmented)", SY_CTR_GAUGE, SY_UNIT_COUNT, S(heap_bytes)},
};
/* clang-format on */

SY_CTR_TABLE(process_counters, "process", c);
