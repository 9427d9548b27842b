/* hist.c: log-linear latency histogram (hist.h). Values below 2^SUB_BITS
 * are exact; above, a bucket is the highest set bit plus the next SUB_BITS
 * bits, so a bucket's width is under 1/128 of its lower edge. */
#include "core/metrics/hist.h"

#define SUB (1u << SY_HIST_SUB_BITS)

_Static_assert(SY_HIST_BUCKETS >= (64 - SY_HIST_SUB_BITS + 1) * (1 << SY_HIST_SUB_BITS),
	       "every 64-bit value needs a bucket");

static uint32_t bucket_of(uint64_t v)
{
	if (v < SUB)
		return (uint32_t)v;
	unsigned msb = 63u - (unsigned)__builtin_clzll(v);
	unsigned shift = msb - SY_HIST_SUB_BITS;
	uint64_t top = v >> shift; /* in [SUB, 2 * SUB) */
	return (msb - SY_HIST_SUB_BITS + 1) * SUB + (uint32_t)(top - SUB);
}

/* Largest value that falls in bucket b. */
static uint64_t bucket_upper(uint32_t b)
{
	if (b < SUB)
		return b;
	unsigned shift = b / SUB - 1;
	uint64_t lower = ((uint64_t)SUB + b % SUB) << shift;
	return lower + ((1ull << shift) - 1);
}

void sy_hist_init(struct sy_hist *h)
{
	memset(h, 0, sizeof(*h));
	h->min_ns = UINT64_MAX;
}

/* Counts saturate rather than wrap: 4e9 samples in one bucket is beyond any
 * run we size for, and a wrapped count would corrupt every percentile. */
static void add_count(uint32_t *c, uint64_t n)
{
	uint64_t v = (uint64_t)*c + n;
	*c = v > UINT32_MAX ? UINT32_MAX : (uint32_t)v;
}

void sy_hist_add(struct sy_hist *h, uint64_t value_ns)
{
	add_count(&h->counts[bucket_of(value_ns)], 1);
	h->count++;
	h->sum_ns += value_ns;
	if (value_ns < h->min_ns)
		h->min_ns = value_ns;
	if (value_ns > h->max_ns)
		h->max_ns = value_ns;
}

void sy_hist_merge(struct sy_hist *into, const struct sy_hist *from)
{
	if (from->count == 0)
		return;
	for (uint32_t i = 0; i < SY_HIST_BUCKETS; i++)
		if (from->counts[i])
			add_count(&into->counts[i], from->counts[i]);
	into->count += from->count;
	into->sum_ns += from->sum_ns;
	into->min_ns = SY_MIN(into->min_ns, from->min_ns);
	into->max_ns = SY_MAX(into->max_ns, from->max_ns);
}

uint64_t sy_hist_percentile(const struct sy_hist *h, double p)
{
	if (h->count == 0)
		return 0;
	if (!(p > 0.0)) /* also NaN */
		p = 0.0;
	if (p > 100.0)
		p = 100.0;
	/* p in millionths of a percent: the only floating point step. */
	uint64_t p_u = (uint64_t)(p * 1e6 + 0.5);
	unsigned __int128 r = (unsigned __int128)h->count * p_u;
	uint64_t rank = (uint64_t)((r + 100000000 - 1) / 100000000);
	/* The first and last ranks are known exactly. */
	if (rank <= 1)
		return h->min_ns;
	if (rank >= h->count)
		return h->max_ns;
	uint64_t seen = 0;
	for (uint32_t b = 0; b < SY_HIST_BUCKETS; b++) {
		seen += h->counts[b];
		if (seen >= rank)
			return SY_MAX(h->min_ns, SY_MIN(bucket_upper(b), h->max_ns));
	}
	return h->max_ns; /* only reachable after saturation */
}

uint64_t sy_hist_mean(const struct sy_hist *h)
{
	return h->count ? h->sum_ns / h->count : 0;
}
