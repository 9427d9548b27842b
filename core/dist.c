/* dist.c: parsing, sampling and printing of duration distributions (dist.h).
 * Parsing is integer-only so "1.5s" is exactly 1500000000 ns everywhere;
 * sampling uses sy_rng's deterministic math, never libm's exp/log. */
#include "dist.h"

#include <stdio.h>

struct unit {
	const char *name;
	uint64_t ns;
};

static const struct unit units[] = {
	{"ns", 1},
	{"us", SY_NS_PER_US},
	{"ms", SY_NS_PER_MS},
	{"s", SY_NS_PER_S},
	{"m", 60 * SY_NS_PER_S},
	{"h", 3600 * SY_NS_PER_S},
};

/* Largest value a sample may take: keeps double->integer conversion defined. */
#define DIST_SAMPLE_MAX ((double)(1ull << 62))

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static bool is_space(char c)
{
	return c == ' ' || c == '\t';
}

enum sy_rc sy_decimal_parse(struct sy_str s, unsigned scale, uint64_t *out)
{
	uint64_t v = 0;
	size_t i = 0, int_digits = 0, frac_digits = 0;
	SY_ASSERT(scale <= 18);
	for (; i < s.len && is_digit(s.p[i]); i++, int_digits++) {
		if (v > (UINT64_MAX - 9) / 10)
			return SY_ERR_INVAL;
		v = v * 10 + (uint64_t)(s.p[i] - '0');
	}
	if (i < s.len && s.p[i] == '.') {
		for (i++; i < s.len && is_digit(s.p[i]); i++, frac_digits++) {
			if (frac_digits >= scale) {
				if (s.p[i] != '0')
					return SY_ERR_INVAL; /* would lose precision */
				continue;
			}
			if (v > (UINT64_MAX - 9) / 10)
				return SY_ERR_INVAL;
			v = v * 10 + (uint64_t)(s.p[i] - '0');
		}
		if (frac_digits == 0)
			return SY_ERR_INVAL;
	}
	if (i != s.len || int_digits == 0)
		return SY_ERR_INVAL;
	for (size_t k = SY_MIN(frac_digits, scale); k < scale; k++) {
		if (v > UINT64_MAX / 10)
			return SY_ERR_INVAL;
		v *= 10;
	}
	*out = v;
	return SY_OK;
}

enum sy_rc sy_duration_parse_str(struct sy_str s, uint64_t *out_ns)
{
	size_t n = 0;
	while (n < s.len && (is_digit(s.p[n]) || s.p[n] == '.'))
		n++;
	struct sy_str num = {s.p, n}, unit = {s.p + n, s.len - n};
	uint64_t mult = 0;
	if (unit.len == 0)
		mult = SY_NS_PER_S;
	for (size_t i = 0; i < SY_ARRAY_LEN(units) && mult == 0; i++)
		if (sy_str_eq(unit, sy_str_from(units[i].name)))
			mult = units[i].ns;
	uint64_t v;
	if (mult == 0 || sy_decimal_parse(num, 9, &v) != SY_OK)
		return SY_ERR_INVAL;
	/* v is the number times 1e9; the result must be a whole ns count. */
	unsigned __int128 ns = (unsigned __int128)v * mult;
	if (ns % SY_NS_PER_S != 0 || ns / SY_NS_PER_S > UINT64_MAX / 2)
		return SY_ERR_INVAL;
	*out_ns = (uint64_t)(ns / SY_NS_PER_S);
	return SY_OK;
}

enum sy_rc sy_duration_parse(const char *s, uint64_t *out_ns)
{
	return sy_duration_parse_str(sy_str_from(s), out_ns);
}

size_t sy_duration_fmt(uint64_t ns, char *buf, size_t n)
{
	int w;
	if (ns == 0) {
		w = snprintf(buf, n, "0s");
	} else {
		size_t i = SY_ARRAY_LEN(units);
		while (--i > 0 && ns % units[i].ns != 0)
			;
		w = snprintf(buf, n, "%llu%s", (unsigned long long)(ns / units[i].ns), units[i].name);
	}
	return w < 0 ? 0 : (size_t)w;
}

/* Splits s into at most max whitespace-separated tokens; returns the count,
 * or max + 1 when there are more. */
static size_t tokenize(const char *s, struct sy_str *tok, size_t max)
{
	size_t n = 0;
	while (*s) {
		while (is_space(*s))
			s++;
		if (!*s)
			break;
		const char *b = s;
		while (*s && !is_space(*s))
			s++;
		if (n == max)
			return max + 1;
		tok[n++] = (struct sy_str){b, (size_t)(s - b)};
	}
	return n;
}

static enum sy_rc bad(char *err, size_t errlen, const char *what, struct sy_str t)
{
	if (err && errlen)
		snprintf(err, errlen, "%s '%.*s'", what, (int)SY_MIN(t.len, 64), t.p);
	return SY_ERR_INVAL;
}

static enum sy_rc parse_dur(struct sy_str t, uint64_t *ns, char *err, size_t errlen)
{
	if (sy_duration_parse_str(t, ns) != SY_OK)
		return bad(err, errlen, "bad duration", t);
	return SY_OK;
}

static enum sy_rc parse_uniform(struct sy_str t, struct sy_dist *d, char *err, size_t errlen)
{
	const char *dots = NULL;
	for (size_t i = 0; i + 1 < t.len && !dots; i++)
		if (t.p[i] == '.' && t.p[i + 1] == '.')
			dots = t.p + i;
	SY_ASSERT(dots != NULL);
	struct sy_str lo = {t.p, (size_t)(dots - t.p)};
	struct sy_str hi = {dots + 2, t.len - lo.len - 2};
	d->kind = SY_DIST_UNIFORM;
	if (parse_dur(lo, &d->a_ns, err, errlen) || parse_dur(hi, &d->b_ns, err, errlen))
		return SY_ERR_INVAL;
	if (d->a_ns > d->b_ns)
		return bad(err, errlen, "empty range", t);
	return SY_OK;
}

static bool has_dots(struct sy_str t)
{
	for (size_t i = 0; i + 1 < t.len; i++)
		if (t.p[i] == '.' && t.p[i + 1] == '.')
			return true;
	return false;
}

struct dist_form {
	const char *name;
	enum sy_dist_kind kind;
	size_t args; /* tokens after the name */
};

static const struct dist_form forms[] = {
	{"fixed", SY_DIST_FIXED, 1},   {"uniform", SY_DIST_UNIFORM, 2},     {"exp", SY_DIST_EXP, 1},
	{"normal", SY_DIST_NORMAL, 2}, {"lognormal", SY_DIST_LOGNORMAL, 2},
};

static enum sy_rc parse_named(const struct dist_form *f, struct sy_str *tok, size_t n, struct sy_dist *d,
			      char *err, size_t errlen)
{
	if (n != f->args + 1) {
		if (err && errlen)
			snprintf(err, errlen, "'%s' takes %zu value%s", f->name, f->args, f->args > 1 ? "s" : "");
		return SY_ERR_INVAL;
	}
	d->kind = f->kind;
	if (parse_dur(tok[1], &d->a_ns, err, errlen))
		return SY_ERR_INVAL;
	if (f->kind == SY_DIST_LOGNORMAL) {
		uint64_t sigma_u;
		if (sy_decimal_parse(tok[2], 6, &sigma_u) != SY_OK || sigma_u > 20 * 1000000ull)
			return bad(err, errlen, "bad sigma", tok[2]);
		d->sigma = (double)sigma_u / 1e6;
	} else if (f->args == 2 && parse_dur(tok[2], &d->b_ns, err, errlen)) {
		return SY_ERR_INVAL;
	}
	if (f->kind == SY_DIST_UNIFORM && d->a_ns > d->b_ns)
		return bad(err, errlen, "empty range", tok[1]);
	return SY_OK;
}

enum sy_rc sy_dist_parse(const char *s, struct sy_dist *out, char *err, size_t errlen)
{
	struct sy_str tok[4];
	size_t n = tokenize(s, tok, 3);
	struct sy_dist d = {SY_DIST_FIXED, 0, 0, 0.0};
	enum sy_rc rc = SY_ERR_INVAL;
	if (n == 0 || n > 3) {
		rc = bad(err, errlen, "bad distribution", sy_str_from(s));
	} else if (n == 1 && has_dots(tok[0])) {
		rc = parse_uniform(tok[0], &d, err, errlen);
	} else if (n == 1) {
		rc = parse_dur(tok[0], &d.a_ns, err, errlen);
	} else {
		rc = bad(err, errlen, "unknown distribution", tok[0]);
		for (size_t i = 0; i < SY_ARRAY_LEN(forms); i++)
			if (sy_str_eq(tok[0], sy_str_from(forms[i].name)))
				rc = parse_named(&forms[i], tok, n, &d, err, errlen);
	}
	if (rc == SY_OK)
		*out = d;
	return rc;
}

static uint64_t to_ns(double x)
{
	if (!(x > 0.0)) /* negative, zero or NaN */
		return 0;
	if (x >= DIST_SAMPLE_MAX)
		return (uint64_t)DIST_SAMPLE_MAX;
	return (uint64_t)(x + 0.5);
}

uint64_t sy_dist_sample(const struct sy_dist *d, struct sy_rng *r)
{
	switch (d->kind) {
	case SY_DIST_FIXED: return d->a_ns;
	case SY_DIST_UNIFORM: return sy_rng_range(r, d->a_ns, d->b_ns);
	case SY_DIST_EXP: return to_ns(sy_rng_exp(r, (double)d->a_ns));
	case SY_DIST_NORMAL: return to_ns(sy_rng_normal(r, (double)d->a_ns, (double)d->b_ns));
	case SY_DIST_LOGNORMAL:
		return to_ns((double)d->a_ns * sy_exp(d->sigma * sy_rng_normal(r, 0.0, 1.0)));
	}
	SY_ASSERT(!"bad distribution kind");
	return 0;
}

uint64_t sy_dist_mean(const struct sy_dist *d)
{
	switch (d->kind) {
	case SY_DIST_FIXED:
	case SY_DIST_EXP:
	case SY_DIST_NORMAL: return d->a_ns; /* clamping at 0 is ignored: sizing only */
	case SY_DIST_UNIFORM: return d->a_ns + (d->b_ns - d->a_ns) / 2;
	case SY_DIST_LOGNORMAL: return to_ns((double)d->a_ns * sy_exp(d->sigma * d->sigma / 2.0));
	}
	SY_ASSERT(!"bad distribution kind");
	return 0;
}

static size_t fmt_sigma(double sigma, char *buf, size_t n)
{
	uint64_t u = (uint64_t)(sigma * 1e6 + 0.5);
	char frac[8];
	snprintf(frac, sizeof(frac), "%06llu", (unsigned long long)(u % 1000000));
	size_t len = 6;
	while (len > 1 && frac[len - 1] == '0')
		len--;
	int w = snprintf(buf, n, "%llu.%.*s", (unsigned long long)(u / 1000000), (int)len, frac);
	return w < 0 ? 0 : (size_t)w;
}

size_t sy_dist_fmt(const struct sy_dist *d, char *buf, size_t n)
{
	char a[32], b[32];
	int w = 0;
	sy_duration_fmt(d->a_ns, a, sizeof(a));
	sy_duration_fmt(d->b_ns, b, sizeof(b));
	switch (d->kind) {
	case SY_DIST_FIXED: w = snprintf(buf, n, "%s", a); break;
	case SY_DIST_UNIFORM: w = snprintf(buf, n, "%s..%s", a, b); break;
	case SY_DIST_EXP: w = snprintf(buf, n, "exp %s", a); break;
	case SY_DIST_NORMAL: w = snprintf(buf, n, "normal %s %s", a, b); break;
	case SY_DIST_LOGNORMAL:
		fmt_sigma(d->sigma, b, sizeof(b));
		w = snprintf(buf, n, "lognormal %s %s", a, b);
		break;
	}
	return w < 0 ? 0 : (size_t)w;
}
