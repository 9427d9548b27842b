/* hist.h: latency histograms with log-linear buckets (HdrHistogram-like,
 * about 1% relative precision from 1 us to ~1000 s), fixed size, no
 * allocation after init, integer-only so percentiles are deterministic. */
#ifndef SY_HIST_H
#define SY_HIST_H

#include "core/base.h"

#define SY_HIST_SUB_BITS 7 /* 128 sub-buckets per power of two: <1% error */
#define SY_HIST_BUCKETS (64 * (1 << SY_HIST_SUB_BITS))

struct sy_hist {
	uint64_t count;
	uint64_t sum_ns;
	uint64_t min_ns, max_ns;
	uint32_t counts[SY_HIST_BUCKETS];
};

void sy_hist_init(struct sy_hist *h);
void sy_hist_add(struct sy_hist *h, uint64_t value_ns);
void sy_hist_merge(struct sy_hist *into, const struct sy_hist *from);
/* Value at percentile p (0..100, e.g. 99.9); 0 when empty. The result is the
 * upper edge of the bucket holding that rank, clamped to max. */
uint64_t sy_hist_percentile(const struct sy_hist *h, double p);
uint64_t sy_hist_mean(const struct sy_hist *h);

#endif
