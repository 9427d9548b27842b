/* fwin.h: a sliding-window counter in fixed memory: the sum of the amounts
 * added over the last W ns, kept in B sub-buckets of bucket_ns each
 * (W = B x bucket_ns), exact at bucket granularity. The state lives in
 * caller memory (no pointer inside), so it can sit in an ftab blob.
 *
 * The window, exactly: an amount added at time t belongs to bucket
 * floor(t / bucket_ns); sum(now) adds the buckets k with
 *     floor(now / bucket_ns) - B < k <= floor(now / bucket_ns),
 * that is the current (partial) bucket and the B - 1 before it. So an
 * amount added at a bucket start t is counted while now < t + W and gone
 * at now = t + W; one added inside a bucket leaves with its bucket, up to
 * bucket_ns - 1 ns before t + W. The covered history is between
 * W - bucket_ns + 1 and W ns long.
 *
 * Time going backwards: a now earlier than the newest bucket seen is taken
 * as that bucket (the window never rewinds: nothing is lost, nothing is
 * counted twice; an event "from the past" counts in the newest bucket).
 * Adds saturate at UINT64_MAX (per bucket, and in the sum).
 *
 * Memory: fraud_fwin_bytes(B) = 16 + 8 x B bytes (B = 8: 80 bytes).
 * Cost: add and sum are O(1) within a bucket; crossing into a newer one
 * costs one step per bucket passed over, at most B (bench/fraud_state.c
 * measures both). */
#ifndef SY_FRAUD_FWIN_H
#define SY_FRAUD_FWIN_H

#include "core/base.h"

#define FRAUD_FWIN_BUCKETS_MAX 4096u

/* The geometry, shared by every window of one rule. */
struct fraud_fwin_geom {
	uint64_t bucket_ns; /* > 0 */
	uint32_t buckets;   /* B, 1..FRAUD_FWIN_BUCKETS_MAX */
};

/* One window's state: zeroed memory is an empty window. */
struct fraud_fwin {
	uint64_t head;	/* index of the newest bucket seen */
	uint64_t total; /* the ring's sum (saturating), so sum at head is O(1) */
	uint64_t b[];	/* b[k % B]: the amount of bucket k */
};

static inline size_t fraud_fwin_bytes(uint32_t buckets)
{
	return sizeof(struct fraud_fwin) + (size_t)buckets * sizeof(uint64_t);
}

/* The geometry for a window of window_ns in `buckets` buckets: window_ns
 * must be a multiple of buckets (SY_ERR_INVAL otherwise). */
enum sy_rc fraud_fwin_geom_init(struct fraud_fwin_geom *g, uint64_t window_ns, uint32_t buckets);

/* Empties w (fraud_fwin_bytes(g->buckets) bytes). */
void fraud_fwin_reset(const struct fraud_fwin_geom *g, struct fraud_fwin *w);

/* Adds amount at now_ns (saturating); returns the window's sum after it. */
uint64_t fraud_fwin_add(const struct fraud_fwin_geom *g, struct fraud_fwin *w, uint64_t now_ns, uint64_t amount);

/* The sum over the window ending at now_ns (saturating); w is not changed. */
uint64_t fraud_fwin_sum(const struct fraud_fwin_geom *g, const struct fraud_fwin *w, uint64_t now_ns);

static inline uint64_t fraud_sat_add(uint64_t a, uint64_t b)
{
	return a > UINT64_MAX - b ? UINT64_MAX : a + b;
}

#endif
