/* money.h: amounts as integer micro-units (int64, 1 unit = 1,000,000 micros)
 * and ISO 4217 currency codes. Exact decimal parsing and formatting, and the
 * one rounding rule billing uses (ceiling, in the carrier's favour). No
 * floating point anywhere. */
#ifndef SY_BILLING_MONEY_H
#define SY_BILLING_MONEY_H

#include "core/base.h"

#define MONEY_MICROS_PER_UNIT 1000000ll
#define MONEY_FRAC_DIGITS     6
/* Largest magnitude money_parse accepts: 9 * 10^12 units, so sums of a few
 * hundred thousand such amounts and rate * seconds products stay in int64. */
#define MONEY_ABS_MAX (9000000000000ll * MONEY_MICROS_PER_UNIT)
/* "-9000000000000.000000" plus NUL, rounded up. */
#define MONEY_FMT_MAX 32

/* An ISO 4217 alphabetic code ("USD"), upper case, NUL-terminated. */
struct money_ccy {
	char code[4];
};

/* Parses an exact decimal: optional sign, digits, optional '.' and at most
 * MONEY_FRAC_DIGITS fraction digits (more are accepted only when the extra
 * ones are zeros, "0.01230000"). No exponent, no grouping, no spaces.
 * SY_ERR_PARSE on anything else, SY_ERR_INVAL above MONEY_ABS_MAX. */
enum sy_rc money_parse(struct sy_str s, int64_t *out_micros);

/* Formats micros as a decimal with at least 2 and at most 6 fraction digits,
 * trailing zeros beyond the second dropped: 12345600 -> "12.3456",
 * 1000000 -> "1.00", -5 -> "-0.000005". buf needs MONEY_FMT_MAX bytes;
 * returns the length (NUL written). */
size_t money_fmt(int64_t micros, char *buf);

/* ceil(a * b / d) for a, b >= 0 and d > 0: the carrier-favour rounding.
 * Asserts the product fits (callers bound their inputs). */
int64_t money_mul_div_ceil(int64_t a, int64_t b, int64_t d);

/* Three ASCII letters, any case; stored upper case. SY_ERR_PARSE otherwise. */
enum sy_rc money_ccy_parse(struct sy_str s, struct money_ccy *out);
bool money_ccy_eq(struct money_ccy a, struct money_ccy b);

#endif
