/* base.c: the few out-of-line helpers of base.h. */
#include "base.h"

#include <stdio.h>
#include <stdlib.h>

bool sy_str_ieq(struct sy_str a, struct sy_str b)
{
	if (a.len != b.len)
		return false;
	for (size_t i = 0; i < a.len; i++) {
		unsigned char x = (unsigned char)a.p[i], y = (unsigned char)b.p[i];
		if (x >= 'A' && x <= 'Z')
			x += 32;
		if (y >= 'A' && y <= 'Z')
			y += 32;
		if (x != y)
			return false;
	}
	return true;
}

/* A 64-bit hash for tables and stream splitting (wyhash-style mixing of
 * 8-byte words); stable across machines of either endianness. */
uint64_t sy_hash64(const void *data, size_t len, uint64_t seed)
{
	const uint8_t *p = data;
	uint64_t h = seed ^ (len * 0x9e3779b97f4a7c15ull);
	while (len >= 8) {
		uint64_t w = 0;
		for (int i = 7; i >= 0; i--)
			w = (w << 8) | p[i];
		unsigned __int128 m = (unsigned __int128)(w ^ 0xa0761d6478bd642full) * (h ^ 0xe7037ed1a0b428dbull);
		h = (uint64_t)m ^ (uint64_t)(m >> 64);
		p += 8;
		len -= 8;
	}
	uint64_t w = 0;
	for (size_t i = len; i > 0; i--)
		w = (w << 8) | p[i - 1];
	unsigned __int128 m = (unsigned __int128)(w ^ 0x8ebc6af09c88c6e3ull) * (h ^ 0x589965cc75374cc3ull);
	h = (uint64_t)m ^ (uint64_t)(m >> 64);
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdull;
	h ^= h >> 33;
	return h;
}

const char *sy_rc_str(enum sy_rc rc)
{
	switch (rc) {
	case SY_OK: return "ok";
	case SY_AGAIN: return "again";
	case SY_DECLINED: return "declined";
	case SY_ERR_PARSE: return "parse error";
	case SY_ERR_INVAL: return "invalid value";
	case SY_ERR_FULL: return "pool full";
	case SY_ERR_NOTFOUND: return "not found";
	case SY_ERR_STATE: return "wrong state";
	case SY_ERR_IO: return "i/o error";
	case SY_ERR_NOMEM: return "out of memory";
	}
	return "unknown";
}

void sy_assert_fail(const char *expr, const char *file, int line)
{
	fprintf(stderr, "switchyard: assertion failed: %s (%s:%d)\n", expr, file, line);
	fflush(stderr);
	abort();
}
