/* hll.h: HyperLogLog distinct counts in fixed memory (Flajolet et al.
 * 2007, with a 64-bit hash as in Heule et al. 2013): "how many distinct
 * numbers did this account call", and a windowed variant for "distinct
 * numbers per hour".
 *
 * Precision p (4..16): m = 2^p one-byte registers. Standard error
 * 1.04 / sqrt(m): p = 10 (1 KiB) 3.25%, p = 12 (4 KiB) 1.63%, p = 14
 * 0.81%. Small counts (raw estimate <= 2.5 m with an empty register) use
 * linear counting, exact-ish: m ln(m / zeros). With a 64-bit hash no large
 * range correction is needed.
 *
 * Keys are 64-bit (the caller hashes the number); they are mixed with the
 * seed given at init (from sy_env_random in the component; fixed in tests,
 * so the same seed gives the same estimate). Sketches merge (register max)
 * only when p and seed are equal.
 *
 * Windowed: N rotating sketches of epoch_ns each; an estimate merges them,
 * covering between (N - 1) x epoch_ns and N x epoch_ns of history (an item
 * added at t counts while floor(now/epoch) - floor(t/epoch) < N). A now
 * earlier than the newest epoch seen is taken as that epoch.
 *
 * Memory: fraud_hll_bytes(p) = 16 + 2^p bytes; windowed: N + 1 of them
 * (the ring and the window's register max) + 64.
 * Cost: add O(1) (one hash, one register, the running sum); estimate O(1);
 * merge O(m). Windowed: add O(1), but the add that enters a new epoch
 * rebuilds the window's sketch, O(N x m) once per epoch; an estimate in the
 * newest epoch added to is O(1), a later one (no add since) merges the live
 * sketches on the fly, O(N x m). */
#ifndef SY_FRAUD_HLL_H
#define SY_FRAUD_HLL_H

#include "core/base.h"

#define FRAUD_HLL_P_MIN	 4u
#define FRAUD_HLL_P_MAX	 16u
#define FRAUD_HLLW_N_MAX 64u

/* A sketch in caller memory (fraud_hll_bytes(p)); no pointer inside. The
 * register sum is kept as registers change, so an estimate is O(1). */
struct fraud_hll {
	uint8_t p;
	uint8_t pad[3];
	uint32_t zeros; /* registers at 0 */
	uint64_t sum;	/* sum of 2^-reg in units of 2^-(63 - p) */
	uint8_t reg[];	/* 2^p registers: the longest run of leading zeros + 1 */
};

static inline size_t fraud_hll_bytes(uint32_t p)
{
	return sizeof(struct fraud_hll) + ((size_t)1 << p);
}

/* Empties h for precision p (4..16; SY_ERR_INVAL otherwise). */
enum sy_rc fraud_hll_init(struct fraud_hll *h, uint32_t p);
void fraud_hll_add(struct fraud_hll *h, uint64_t key, uint64_t seed);
/* dst |= src (same p; SY_ERR_INVAL otherwise). */
enum sy_rc fraud_hll_merge(struct fraud_hll *dst, const struct fraud_hll *src);
uint64_t fraud_hll_estimate(const struct fraud_hll *h);

struct fraud_hllw_cfg {
	uint32_t p;	   /* precision of each sketch */
	uint32_t n;	   /* sketches in the ring, 1..FRAUD_HLLW_N_MAX */
	uint64_t epoch_ns; /* > 0 */
	uint64_t seed;
};

struct fraud_hllw;

enum sy_rc fraud_hllw_create(const struct fraud_hllw_cfg *cfg, struct fraud_hllw **out);
void fraud_hllw_destroy(struct fraud_hllw *w);
void fraud_hllw_add(struct fraud_hllw *w, uint64_t key, uint64_t now_ns);
/* Distinct keys over the window ending at now_ns (w is not changed). */
uint64_t fraud_hllw_estimate(const struct fraud_hllw *w, uint64_t now_ns);
size_t fraud_hllw_bytes(const struct fraud_hllw *w);

#endif
