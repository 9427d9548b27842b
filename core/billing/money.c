/* money.c: exact decimal <-> micro-unit conversion and ceiling division
 * (money.h). Digits are accumulated as integers with overflow checks, so a
 * string either converts exactly or is rejected. */
#include "core/billing/money.h"

enum sy_rc money_parse(struct sy_str s, int64_t *out_micros)
{
	size_t i = 0;
	bool neg = false;
	if (s.len > 0 && (s.p[0] == '-' || s.p[0] == '+')) {
		neg = s.p[0] == '-';
		i = 1;
	}
	int64_t units = 0, frac = 0;
	size_t int_digits = 0, frac_digits = 0;
	for (; i < s.len && s.p[i] >= '0' && s.p[i] <= '9'; i++, int_digits++) {
		if (units > MONEY_ABS_MAX / MONEY_MICROS_PER_UNIT)
			return SY_ERR_INVAL;
		units = units * 10 + (s.p[i] - '0');
	}
	if (i < s.len && s.p[i] == '.') {
		for (i++; i < s.len && s.p[i] >= '0' && s.p[i] <= '9'; i++, frac_digits++) {
			if (frac_digits < MONEY_FRAC_DIGITS)
				frac = frac * 10 + (s.p[i] - '0');
			else if (s.p[i] != '0')
				return SY_ERR_PARSE; /* sub-micro precision would be lost */
		}
	}
	if (i != s.len || int_digits + frac_digits == 0)
		return SY_ERR_PARSE;
	for (size_t k = frac_digits; k < MONEY_FRAC_DIGITS; k++)
		frac *= 10;
	if (units > MONEY_ABS_MAX / MONEY_MICROS_PER_UNIT)
		return SY_ERR_INVAL;
	int64_t v = units * MONEY_MICROS_PER_UNIT + frac;
	if (v > MONEY_ABS_MAX)
		return SY_ERR_INVAL;
	*out_micros = neg ? -v : v;
	return SY_OK;
}

size_t money_fmt(int64_t micros, char *buf)
{
	/* Work in uint64 so INT64_MIN formats instead of overflowing. */
	uint64_t v = micros < 0 ? (uint64_t)0 - (uint64_t)micros : (uint64_t)micros;
	uint64_t units = v / MONEY_MICROS_PER_UNIT, frac = v % MONEY_MICROS_PER_UNIT;
	char tmp[24];
	size_t n = 0, len = 0;
	do {
		tmp[n++] = (char)('0' + units % 10);
		units /= 10;
	} while (units != 0);
	if (micros < 0)
		buf[len++] = '-';
	while (n > 0)
		buf[len++] = tmp[--n];
	buf[len++] = '.';
	char f[MONEY_FRAC_DIGITS];
	for (int k = MONEY_FRAC_DIGITS - 1; k >= 0; k--) {
		f[k] = (char)('0' + frac % 10);
		frac /= 10;
	}
	size_t keep = MONEY_FRAC_DIGITS;
	while (keep > 2 && f[keep - 1] == '0')
		keep--;
	memcpy(buf + len, f, keep);
	len += keep;
	buf[len] = '\0';
	SY_ASSERT(len < MONEY_FMT_MAX);
	return len;
}

int64_t money_mul_div_ceil(int64_t a, int64_t b, int64_t d)
{
	SY_ASSERT(a >= 0 && b >= 0 && d > 0);
	SY_ASSERT(b == 0 || a <= INT64_MAX / b);
	int64_t p = a * b;
	return p / d + (p % d != 0);
}

enum sy_rc money_ccy_parse(struct sy_str s, struct money_ccy *out)
{
	if (s.len != 3)
		return SY_ERR_PARSE;
	for (size_t i = 0; i < 3; i++) {
		char c = s.p[i];
		if (c >= 'a' && c <= 'z')
			c = (char)(c - 32);
		if (c < 'A' || c > 'Z')
			return SY_ERR_PARSE;
		out->code[i] = c;
	}
	out->code[3] = '\0';
	return SY_OK;
}

bool money_ccy_eq(struct money_ccy a, struct money_ccy b)
{
	return memcmp(a.code, b.code, sizeof(a.code)) == 0;
}
