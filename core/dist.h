/* dist.h: random distributions of durations as scenario files write them
 * ("2s", "2s..6s", "exp 90s", "normal 20ms 5ms", "lognormal 90s 1.0"),
 * sampled from a component's own sy_rng so runs stay deterministic. */
#ifndef SY_DIST_H
#define SY_DIST_H

#include "rng.h"

enum sy_dist_kind { SY_DIST_FIXED = 0, SY_DIST_UNIFORM, SY_DIST_EXP, SY_DIST_NORMAL, SY_DIST_LOGNORMAL };

struct sy_dist {
	enum sy_dist_kind kind;
	uint64_t a_ns; /* fixed value, uniform low, exp mean, normal mean, lognormal median */
	uint64_t b_ns; /* uniform high, normal standard deviation */
	double sigma;  /* lognormal shape */
};

static inline struct sy_dist sy_dist_fixed(uint64_t ns)
{
	return (struct sy_dist){SY_DIST_FIXED, ns, 0, 0.0};
}

/* Parses the forms above (units ns us ms s m h; a bare number is seconds).
 * Returns SY_ERR_INVAL with a reason in err on bad input. */
enum sy_rc sy_dist_parse(const char *s, struct sy_dist *out, char *err, size_t errlen);
/* Parses one duration ("250ms", "1.5s", "2m"); a bare number is seconds. */
enum sy_rc sy_duration_parse(const char *s, uint64_t *out_ns);
/* A sample, never negative. */
uint64_t sy_dist_sample(const struct sy_dist *d, struct sy_rng *r);
/* The mean, for sizing pools. */
uint64_t sy_dist_mean(const struct sy_dist *d);
/* Writes the canonical text form ("exp 90s"). */
size_t sy_dist_fmt(const struct sy_dist *d, char *buf, size_t n);

/* Helpers shared with the scenario parser (no floating point, exact):
 * a non-negative decimal ("12", "0.0100") as value * 10^scale; more
 * fractional digits than scale are an error unless they are zeros. */
enum sy_rc sy_decimal_parse(struct sy_str s, unsigned scale, uint64_t *out);
/* One duration from a slice; same rules as sy_duration_parse. */
enum sy_rc sy_duration_parse_str(struct sy_str s, uint64_t *out_ns);
/* The shortest exact form: "90s", "1500ms", "2m", "0s". */
size_t sy_duration_fmt(uint64_t ns, char *buf, size_t n);

#endif
