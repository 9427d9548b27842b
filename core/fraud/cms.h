/* cms.h: a windowed count-min sketch: approximate amounts per key (calls
 * to a number prefix, messages to a destination) in fixed memory, over a
 * sliding window made of two alternating epochs.
 *
 * Window: time is cut into epochs of epoch_ns; an estimate covers the
 * current epoch and the previous one, i.e. between epoch_ns and
 * 2 x epoch_ns of history (an amount added at t is counted while
 * floor(now / epoch_ns) - floor(t / epoch_ns) <= 1). A now earlier than
 * the newest epoch seen is taken as that epoch (never rewinds).
 *
 * Error: depth d rows of width w counters (w a power of two), conservative
 * update. An estimate never under-counts (as long as no counter saturates
 * at UINT32_MAX); with N the total added over the window,
 *     estimate <= true + (e / w) x N   with probability >= 1 - e^-d
 * (Cormode and Muthukrishnan's bound; conservative update only lowers it).
 * d = 4, w = 2048: over-count <= 0.13% of N with probability 98.2%.
 *
 * Hashing: the caller's 64-bit key is mixed with a seed (from
 * sy_env_random in the component, so a peer cannot aim collisions; fixed
 * in tests: same seed, same estimates), rows by double hashing.
 * Memory: 2 x d x w x 4 bytes + 64, allocated at create (d = 4, w = 2048:
 * 64 KiB). Cost: add and estimate touch d counters in each of the two
 * epochs (O(d)); crossing an epoch clears one epoch's array (O(d x w),
 * once per epoch). */
#ifndef SY_FRAUD_CMS_H
#define SY_FRAUD_CMS_H

#include "core/base.h"
#include "core/fraud/mix.h"

struct fraud_cms_cfg {
	uint32_t depth;	   /* d, 1..16 */
	uint32_t width;	   /* w, a power of two, 16..2^24 */
	uint64_t epoch_ns; /* > 0 */
	uint64_t seed;
};

struct fraud_cms;

enum sy_rc fraud_cms_create(const struct fraud_cms_cfg *cfg, struct fraud_cms **out);
void fraud_cms_destroy(struct fraud_cms *c);

/* Adds amount to key at now_ns; returns the key's estimate after it. */
uint64_t fraud_cms_add(struct fraud_cms *c, uint64_t key, uint64_t now_ns, uint32_t amount);

/* The key's estimate over the window ending at now_ns (c is not changed). */
uint64_t fraud_cms_estimate(const struct fraud_cms *c, uint64_t key, uint64_t now_ns);

/* The total added over the window (N in the bound above). */
uint64_t fraud_cms_total(const struct fraud_cms *c, uint64_t now_ns);

size_t fraud_cms_bytes(const struct fraud_cms *c);

#endif
