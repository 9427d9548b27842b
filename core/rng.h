/* rng.h: the one PRNG in the tree: xoshiro256** seeded through splitmix64,
 * state in an explicit struct, one stream per component derived from the
 * run's master seed and the component's name (TigerBeetle's approach).
 * Distributions use only IEEE-754 basic operations (+ - * / sqrt) and our
 * own ln/exp, so a seed gives the same numbers on every machine and libm. */
#ifndef SY_RNG_H
#define SY_RNG_H

#include "base.h"

struct sy_rng {
	uint64_t s[4];
};

void sy_rng_init(struct sy_rng *r, uint64_t seed);
/* A stream for one component: depends only on (master seed, name, index). */
void sy_rng_init_split(struct sy_rng *r, uint64_t master_seed, const char *component, uint64_t index);
uint64_t sy_rng_next(struct sy_rng *r);
/* Uniform in [0, n), unbiased; n > 0. */
uint64_t sy_rng_below(struct sy_rng *r, uint64_t n);
/* Uniform in [lo, hi] inclusive. */
uint64_t sy_rng_range(struct sy_rng *r, uint64_t lo, uint64_t hi);
/* True with probability ppm / 1,000,000. */
bool sy_rng_chance_ppm(struct sy_rng *r, uint32_t ppm);
/* Uniform double in [0, 1) with 53 random bits. */
double sy_rng_unit(struct sy_rng *r);
/* Exponential with the given mean (same unit as mean). */
double sy_rng_exp(struct sy_rng *r, double mean);
/* Normal(mean, sd) by the Marsaglia polar method. */
double sy_rng_normal(struct sy_rng *r, double mean, double sd);

/* Deterministic natural log and exp (x > 0 for ln), correct to ~1 ulp. */
double sy_ln(double x);
double sy_exp(double x);

uint64_t sy_splitmix64(uint64_t *state);

#endif
