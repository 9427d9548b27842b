/* mix.h: the 64-bit mixing every structure of core/fraud/ uses to place a
 * caller's key with its seed (cms rows, hll registers, ftab slots). */
#ifndef SY_FRAUD_MIX_H
#define SY_FRAUD_MIX_H

#include <stdint.h>

/* A 64-bit mix (splitmix64's finaliser) for keys and seeds. */
static inline uint64_t fraud_mix64(uint64_t x)
{
	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ull;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebull;
	x ^= x >> 31;
	return x;
}

#endif
