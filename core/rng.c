/* rng.c: xoshiro256** and deterministic distributions; see rng.h. */
#include "rng.h"

#include <math.h>

uint64_t sy_splitmix64(uint64_t *state)
{
	uint64_t z = (*state += 0x9e3779b97f4a7c15ull);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

void sy_rng_init(struct sy_rng *r, uint64_t seed)
{
	uint64_t st = seed;
	for (int i = 0; i < 4; i++)
		r->s[i] = sy_splitmix64(&st);
	SY_ASSERT((r->s[0] | r->s[1] | r->s[2] | r->s[3]) != 0);
}

void sy_rng_init_split(struct sy_rng *r, uint64_t master_seed, const char *component, uint64_t index)
{
	uint64_t h = sy_hash64(component, strlen(component), master_seed);
	uint64_t st = h ^ (index * 0xd1b54a32d192ed03ull);
	sy_rng_init(r, sy_splitmix64(&st));
}

static inline uint64_t rotl(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

uint64_t sy_rng_next(struct sy_rng *r)
{
	uint64_t *s = r->s;
	uint64_t result = rotl(s[1] * 5, 7) * 9;
	uint64_t t = s[1] << 17;
	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = rotl(s[3], 45);
	return result;
}

/* Lemire's nearly divisionless method: unbiased. */
uint64_t sy_rng_below(struct sy_rng *r, uint64_t n)
{
	SY_ASSERT(n > 0);
	unsigned __int128 m = (unsigned __int128)sy_rng_next(r) * n;
	uint64_t l = (uint64_t)m;
	if (l < n) {
		uint64_t t = (0 - n) % n;
		while (l < t) {
			m = (unsigned __int128)sy_rng_next(r) * n;
			l = (uint64_t)m;
		}
	}
	return (uint64_t)(m >> 64);
}

uint64_t sy_rng_range(struct sy_rng *r, uint64_t lo, uint64_t hi)
{
	SY_ASSERT(lo <= hi);
	if (hi - lo == UINT64_MAX)
		return sy_rng_next(r);
	return lo + sy_rng_below(r, hi - lo + 1);
}

bool sy_rng_chance_ppm(struct sy_rng *r, uint32_t ppm)
{
	if (ppm >= 1000000)
		return true;
	return sy_rng_below(r, 1000000) < ppm;
}

double sy_rng_unit(struct sy_rng *r)
{
	return (double)(sy_rng_next(r) >> 11) * 0x1.0p-53;
}

double sy_rng_exp(struct sy_rng *r, double mean)
{
	/* 1 - u is in (0, 1], so ln never sees zero. */
	double u = 1.0 - sy_rng_unit(r);
	return -mean * sy_ln(u);
}

double sy_rng_normal(struct sy_rng *r, double mean, double sd)
{
	double u, v, s;
	do {
		u = 2.0 * sy_rng_unit(r) - 1.0;
		v = 2.0 * sy_rng_unit(r) - 1.0;
		s = u * u + v * v;
	} while (s >= 1.0 || s == 0.0);
	return mean + sd * u * sqrt(-2.0 * sy_ln(s) / s);
}

/* ln(x) = k ln2 + ln(m), m in [sqrt(1/2), sqrt(2)), with the atanh series
 * ln(m) = 2 (z + z^3/3 + z^5/5 + ...), z = (m-1)/(m+1), |z| < 0.172. Only
 * basic operations, evaluated in a fixed order: the same bits everywhere. */
double sy_ln(double x)
{
	SY_ASSERT(x > 0.0);
	union {
		double d;
		uint64_t u;
	} b = {x};
	int k = (int)((b.u >> 52) & 0x7ff) - 1023;
	if (k == -1023) { /* subnormal: scale up first */
		b.d = x * 0x1.0p54;
		k = (int)((b.u >> 52) & 0x7ff) - 1023 - 54;
	}
	b.u = (b.u & 0x000fffffffffffffull) | 0x3ff0000000000000ull;
	double m = b.d;
	if (m > 1.4142135623730951) {
		m *= 0.5;
		k++;
	}
	double z = (m - 1.0) / (m + 1.0), z2 = z * z, term = z, sum = 0.0;
	for (int n = 1; n <= 29; n += 2) {
		sum += term / n;
		term *= z2;
	}
	return (double)k * 0.6931471805599453 + 2.0 * sum;
}

/* exp(x) = 2^k e^r, r = x - k ln2 in [-ln2/2, ln2/2], Taylor to 20 terms. */
double sy_exp(double x)
{
	if (x > 709.0)
		return INFINITY;
	if (x < -745.0)
		return 0.0;
	double kd = x / 0.6931471805599453;
	int k = (int)(kd < 0 ? kd - 0.5 : kd + 0.5);
	double r = x - (double)k * 0.6931471805599453;
	double term = 1.0, sum = 1.0;
	for (int n = 1; n <= 20; n++) {
		term *= r / n;
		sum += term;
	}
	return ldexp(sum, k);
}
