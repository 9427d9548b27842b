/* keys.c: the value types of scenario keys (scn_ext.h): numbers, durations,
 * percentages, distributions, addresses, prefixes, paths, timestamps.
 * Values are parsed exactly with integer arithmetic. */
#include "core/conf/scn_ext.h"

#include <stdio.h>

/* ---- small lexical helpers ---- */

static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r';
}

struct sy_str scn_trim(struct sy_str s)
{
	while (s.len && is_space(s.p[0]))
		s.p++, s.len--;
	while (s.len && is_space(s.p[s.len - 1]))
		s.len--;
	return s;
}

bool scn_next_tok(struct sy_str *rest, struct sy_str *tok, bool commas)
{
	size_t i = 0;
	while (i < rest->len && (is_space(rest->p[i]) || (commas && rest->p[i] == ',')))
		i++;
	size_t b = i;
	while (i < rest->len && !is_space(rest->p[i]) && !(commas && rest->p[i] == ','))
		i++;
	*tok = (struct sy_str){rest->p + b, i - b};
	*rest = (struct sy_str){rest->p + i, rest->len - i};
	return tok->len > 0;
}

bool scn_copy_str(char *dst, size_t size, struct sy_str s)
{
	if (s.len >= size)
		return false;
	memcpy(dst, s.p, s.len);
	dst[s.len] = '\0';
	return true;
}

bool scn_ends_with(struct sy_str s, const char *suffix, struct sy_str *head)
{
	size_t n = strlen(suffix);
	if (s.len < n || memcmp(s.p + s.len - n, suffix, n) != 0)
		return false;
	*head = (struct sy_str){s.p, s.len - n};
	return true;
}

bool scn_parse_pct(struct sy_str t, uint32_t *ppm)
{
	struct sy_str num;
	uint64_t v;
	if (!scn_ends_with(t, "%", &num) || sy_decimal_parse(num, 4, &v) != SY_OK || v > SCN_PPM)
		return false;
	*ppm = (uint32_t)v;
	return true;
}

bool scn_parse_uint(struct sy_str t, uint64_t max, uint64_t *out)
{
	uint64_t v;
	if (sy_decimal_parse(t, 0, &v) != SY_OK || v > max)
		return false;
	*out = v;
	return true;
}

bool scn_currency_ok(struct sy_str t)
{
	if (t.len != 3)
		return false;
	for (size_t i = 0; i < 3; i++)
		if (t.p[i] < 'A' || t.p[i] > 'Z')
			return false;
	return true;
}

/* ---- key handlers: the field is at k->off in the section object ---- */

#define FIELD(type, obj, off) ((type *)((char *)(obj) + (off)))

enum sy_rc scn_key_duration(struct scn_pctx *c, void *obj, const struct scn_key_def *k, struct sy_str v)
{
	if (sy_duration_parse_str(v, FIELD(uint64_t, obj, k->off)) != SY_OK)
		return scn_bad(c, "duration", v, k);
	return SY_OK;
}

enum sy_rc scn_key_duration_nz(struct scn_pctx *c, void *obj, const struct scn_key_def *k, struct sy_str v)
{
	uint64_t ns;
	if (sy_duration_parse_str(v, &ns) != SY_OK || ns == 0)
		return scn_bad(c, "duration", v, k);
	*FIELD(uint64_t, obj, k->off) = ns;
	return SY_OK;
}

enum sy_rc scn_key_u64(struct scn_pctx *c, void *obj, const struct scn_key_def *k, struct sy_str v)
{
	if (!scn_parse_uint(v, UINT64_MAX, FIELD(uint64_t, obj, k->off)))
		return scn_bad(c, "number", v, k);
	return SY_OK;
}

enum sy_rc scn_key_u32(struct scn_pctx *c, void *obj, const struct scn_key_def *k, struct sy_str v)
{
	uint64_t x;
	if (!scn_parse_uint(v, UINT32_MAX, &x))
		return scn_bad(c, "number", v, k);
	*FIELD(uint32_t, obj, k->off) = (uint32_t)x;
	return SY_OK;
}

enum sy_rc scn_key_i32(struct scn_pctx *c, void *obj, const struct scn_key_def *k, struct sy_str v)
{
	bool neg = v.len > 0 && v.p[0] == '-';
	struct sy_str d = neg ? (struct sy_str){v.p + 1, v.len - 1} : v;
	uint64_t x;
	if (!scn_parse_uint(d, (uint64_t)INT32_MAX, &x))
		return scn_bad(c, "number", v, k);
	*FIELD(int32_t, obj, k->off) = neg ? -(int32_t)x : (int32_t)x;
	return SY_OK;
}

enum sy_rc scn_key_str(struct scn_pctx *c, void *obj, const struct scn_key_def *k, struct sy_str v)
{
	if (!scn_copy_str(FIELD(char, obj, k->off), k->off2, v))
		return scn_fail(c, "value too long for '%s' (max %zu)", k->name, k->off2 - 1);
	return SY_OK;
}

enum sy_rc scn_key_dist(struct scn_pctx *c, void *obj, const struct scn_key_def *k, struct sy_str v)
{
	char buf[SCN_VALUE_MAX], why[128];
	SY_ASSERT(scn_copy_str(buf, sizeof(buf), v));
	if (sy_dist_parse(buf, FIELD(struct sy_dist, obj, k->off), why, sizeof(why)) != SY_OK)
		return scn_fail(c, "%s for '%s'", why, k->name);
	return SY_OK;
}

enum sy_rc scn_key_addr(struct scn_pctx *c, void *obj, const struct scn_key_def *k, struct sy_str v)
{
	char *dst = FIELD(char, obj, k->off);
	struct sy_addr *a = FIELD(struct sy_addr, obj, k->off2);
	if (!scn_copy_str(dst, SCN_ADDR_MAX, v) || sy_addr_parse(dst, 5060, a) != SY_OK) {
		dst[0] = '\0';
		return scn_bad(c, "address", v, k);
	}
	return SY_OK;
}

enum sy_rc scn_key_pct(struct scn_pctx *c, void *obj, const struct scn_key_def *k, struct sy_str v)
{
	if (!scn_parse_pct(v, FIELD(uint32_t, obj, k->off)))
		return scn_bad(c, "percentage", v, k);
	return SY_OK;
}

enum sy_rc scn_key_bool(struct scn_pctx *c, void *obj, const struct scn_key_def *k, struct sy_str v)
{
	bool *b = FIELD(bool, obj, k->off);
	if (sy_str_eq(v, SY_STR("on")) || sy_str_eq(v, SY_STR("yes")) || sy_str_eq(v, SY_STR("true")))
		*b = true;
	else if (sy_str_eq(v, SY_STR("off")) || sy_str_eq(v, SY_STR("no")) || sy_str_eq(v, SY_STR("false")))
		*b = false;
	else
		return scn_fail(c, "bad value '%.*s' for '%s' (on or off)", SCN_SV(v), k->name);
	return SY_OK;
}

enum sy_rc scn_key_prefixes(struct scn_pctx *c, void *obj, const struct scn_key_def *k, struct sy_str v)
{
	char(*prefixes)[SCN_PREFIX_LEN_MAX + 1] = (void *)FIELD(char, obj, k->off);
	uint32_t *prefix_n = FIELD(uint32_t, obj, k->off2);
	struct sy_str tok;
	while (scn_next_tok(&v, &tok, true)) {
		struct sy_str d = tok;
		if (d.p[0] == '+')
			d.p++, d.len--;
		bool ok = d.len > 0 && d.len <= SCN_PREFIX_LEN_MAX;
		for (size_t i = 0; ok && i < d.len; i++)
			ok = d.p[i] >= '0' && d.p[i] <= '9';
		if (!ok)
			return scn_bad(c, "prefix", tok, k);
		for (uint32_t i = 0; i < *prefix_n; i++)
			if (sy_str_eq(d, sy_str_from(prefixes[i])))
				return scn_fail(c, "duplicate prefix '%.*s' for '%s'", SCN_SV(tok), k->name);
		if (*prefix_n == SCN_PREFIXES_MAX)
			return scn_fail(c, "too many prefixes for '%s' (max %d)", k->name, SCN_PREFIXES_MAX);
		scn_copy_str(prefixes[(*prefix_n)++], SCN_PREFIX_LEN_MAX + 1, d);
	}
	return SY_OK;
}

enum sy_rc scn_key_digits(struct scn_pctx *c, void *obj, const struct scn_key_def *k, struct sy_str v)
{
	struct sy_str d = v;
	if (d.len > 0 && d.p[0] == '+')
		d.p++, d.len--;
	bool ok = d.len > 0 && d.len < k->off2;
	for (size_t i = 0; ok && i < d.len; i++)
		ok = d.p[i] >= '0' && d.p[i] <= '9';
	if (!ok)
		return scn_bad(c, "number prefix", v, k);
	scn_copy_str(FIELD(char, obj, k->off), k->off2, d);
	return SY_OK;
}

enum sy_rc scn_key_file(struct scn_pctx *c, void *obj, const struct scn_key_def *k, struct sy_str v)
{
	char *dst = FIELD(char, obj, k->off);
	const char *file = scn_pctx_file(c);
	const char *slash = strrchr(file, '/');
	int n;
	if (v.p[0] == '/' || slash == NULL)
		n = snprintf(dst, SCN_PATH_MAX, "%.*s", SCN_SV(v));
	else /* relative to the scenario's folder */
		n = snprintf(dst, SCN_PATH_MAX, "%.*s/%.*s", (int)(slash - file), file, SCN_SV(v));
	if (n < 0 || n >= SCN_PATH_MAX)
		return scn_fail(c, "path too long for '%s'", k->name);
	return SY_OK;
}

/* ---- timestamps ---- */

static bool leap(uint64_t y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

/* Days since 1970-01-01 of a civil date (Howard Hinnant's algorithm). */
static uint64_t days_from_civil(uint64_t y, uint64_t m, uint64_t d)
{
	y -= m <= 2;
	uint64_t era = y / 400, yoe = y - era * 400;
	uint64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	uint64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

static bool num_at(struct sy_str v, size_t at, size_t n, uint64_t *out)
{
	return at + n <= v.len && scn_parse_uint((struct sy_str){v.p + at, n}, UINT64_MAX, out);
}

/* "2026-01-01T00:00:00Z", UTC only. */
enum sy_rc scn_key_epoch(struct scn_pctx *c, void *obj, const struct scn_key_def *k, struct sy_str v)
{
	static const uint8_t mdays[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	uint64_t y, mo, d, h, mi, s;
	bool ok = v.len == 20 && v.p[4] == '-' && v.p[7] == '-' && v.p[10] == 'T' && v.p[13] == ':' && v.p[16] == ':' &&
		  v.p[19] == 'Z' && num_at(v, 0, 4, &y) && num_at(v, 5, 2, &mo) && num_at(v, 8, 2, &d) &&
		  num_at(v, 11, 2, &h) && num_at(v, 14, 2, &mi) && num_at(v, 17, 2, &s);
	ok = ok && y >= 1970 && mo >= 1 && mo <= 12 && d >= 1 && h < 24 && mi < 60 && s < 60;
	ok = ok && d <= (uint64_t)mdays[mo - 1] + (mo == 2 && leap(y));
	if (!ok)
		return scn_bad(c, "UTC timestamp", v, k);
	uint64_t secs = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + s;
	*FIELD(uint64_t, obj, k->off) = secs * SY_NS_PER_S;
	return SY_OK;
}

/* ---- formatting ---- */

size_t scn_fmt_ppm(int64_t ppm, char *buf, size_t n)
{
	uint64_t a = ppm < 0 ? (uint64_t)0 - (uint64_t)ppm : (uint64_t)ppm;
	char frac[8];
	snprintf(frac, sizeof(frac), "%04llu", (unsigned long long)(a % 10000));
	int len = 4;
	while (len > 0 && frac[len - 1] == '0')
		len--;
	int w = snprintf(buf, n, "%s%llu%s%.*s%%", ppm < 0 ? "-" : "", (unsigned long long)(a / 10000), len ? "." : "",
			 len, frac);
	return w < 0 ? 0 : (size_t)w;
}

size_t scn_fmt_money(int64_t micros, char *buf, size_t n)
{
	/* at least two decimals, more only when the micros need them */
	uint64_t a = micros < 0 ? (uint64_t)0 - (uint64_t)micros : (uint64_t)micros;
	char frac[8];
	snprintf(frac, sizeof(frac), "%06llu", (unsigned long long)(a % 1000000));
	int len = 6;
	while (len > 2 && frac[len - 1] == '0')
		len--;
	int w = snprintf(buf, n, "%s%llu.%.*s", micros < 0 ? "-" : "", (unsigned long long)(a / 1000000), len, frac);
	return w < 0 ? 0 : (size_t)w;
}
