/* base.c: the few out-of-line helpers of base.h. */
#include "base.h"

#include <stdarg.h>
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

int sy_hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

bool sy_unhex(const char *p, size_t len, uint8_t *out, size_t n)
{
	if (len != 2 * n)
		return false;
	for (size_t i = 0; i < n; i++) {
		int hi = sy_hex_digit(p[2 * i]), lo = sy_hex_digit(p[2 * i + 1]);
		if (hi < 0 || lo < 0)
			return false;
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	return true;
}

void sy_hex(char *out, const uint8_t *b, size_t n)
{
	static const char d[] = "0123456789abcdef";
	for (size_t i = 0; i < n; i++) {
		out[2 * i] = d[b[i] >> 4];
		out[2 * i + 1] = d[b[i] & 15];
	}
	out[2 * n] = '\0';
}

struct sy_str sy_str_trim_blank(struct sy_str s)
{
	while (s.len > 0 && (s.p[0] == ' ' || s.p[0] == '\t'))
		s.p++, s.len--;
	while (s.len > 0 && (s.p[s.len - 1] == ' ' || s.p[s.len - 1] == '\t' || s.p[s.len - 1] == '\r'))
		s.len--;
	return s;
}

enum sy_rc sy_parse_err(char *buf, size_t len, const char *name, uint32_t line, const char *fmt, ...)
{
	if (buf == NULL || len == 0)
		return SY_ERR_PARSE;
	int n = snprintf(buf, len, "%s:%u: ", name, line);
	if (n >= 0 && (size_t)n < len) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(buf + n, len - (size_t)n, fmt, ap);
		va_end(ap);
	}
	return SY_ERR_PARSE;
}
