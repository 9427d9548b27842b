/* process.h: the process as an operator's dashboards expect it on
 * /metrics (Prometheus' process_* names): resident memory, CPU time, open
 * file descriptors, and the heap as malloc sees it, so a growing RSS can be
 * told apart: heap in use growing is a leak, RSS growing over a flat heap
 * in use is the allocator's fragmentation. Filled by the live backend
 * (core/live/proc.c); the simulator has no process to report. */
#ifndef SY_METRICS_PROCESS_H
#define SY_METRICS_PROCESS_H

#include <stdint.h>

struct sy_process_stats {
	uint64_t rss_bytes;	   /* resident set */
	uint64_t cpu_ns;	   /* user + system */
	uint64_t open_fds;	   /* descriptors open now */
	uint64_t heap_inuse_bytes; /* malloc: bytes in allocated blocks */
	uint64_t heap_bytes;	   /* malloc: bytes the heap holds from the OS (arena + mmapped) */
};

typedef void (*sy_process_stats_fn)(struct sy_process_stats *out);

#endif
