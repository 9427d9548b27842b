/* tariff.c: the tariff CSV loader and its time bands (tariff.h); the
 * longest-prefix lookup is in lookup.c. The loader walks the file in place: fields are slices of the
 * caller's buffer, only prefixes and descriptions are copied (into one text
 * arena), so a 1M-row file costs no per-row malloc. */
#include "core/billing/tariff.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>

enum tcol {
	COL_PREFIX,
	COL_DESC,
	COL_RATE,
	COL_FEE,
	COL_INCR,
	COL_FIRST,
	COL_NEXT,
	COL_MIN,
	COL_BAND,
	COL_SERVICE,
	COL_CCY,
	COL_COUNT
};

/* Header names carriers use, normalised (lower case, '_' for ' ', '-', '/'). */
static const struct {
	const char *name;
	enum tcol col;
} tcol_names[] = {
    {"prefix", COL_PREFIX},
    {"code", COL_PREFIX},
    {"dial_code", COL_PREFIX},
    {"dialcode", COL_PREFIX},
    {"destination_code", COL_PREFIX},
    {"dst_prefix", COL_PREFIX},
    {"dialed_prefix", COL_PREFIX},
    {"description", COL_DESC},
    {"destination", COL_DESC},
    {"name", COL_DESC},
    {"country", COL_DESC},
    {"desc", COL_DESC},
    {"rate", COL_RATE},
    {"price", COL_RATE},
    {"rate_per_min", COL_RATE},
    {"rate_per_minute", COL_RATE},
    {"per_minute", COL_RATE},
    {"rate_min", COL_RATE},
    {"cost", COL_RATE},
    {"connection_fee", COL_FEE},
    {"connect_fee", COL_FEE},
    {"connection_charge", COL_FEE},
    {"connection", COL_FEE},
    {"setup_fee", COL_FEE},
    {"increments", COL_INCR},
    {"increment", COL_INCR},
    {"billing_increment", COL_INCR},
    {"billing_increments", COL_INCR},
    {"billing", COL_INCR},
    {"interval", COL_INCR},
    {"first_increment", COL_FIRST},
    {"initial_increment", COL_FIRST},
    {"next_increment", COL_NEXT},
    {"subsequent_increment", COL_NEXT},
    {"minimum", COL_MIN},
    {"minimum_duration", COL_MIN},
    {"min_duration", COL_MIN},
    {"min", COL_MIN},
    {"band", COL_BAND},
    {"time_band", COL_BAND},
    {"period", COL_BAND},
    {"service", COL_SERVICE},
    {"type", COL_SERVICE},
    {"currency", COL_CCY},
};

static const char *const tcol_label[COL_COUNT] = {"prefix",	"description",	   "rate",	     "connection_fee",
						  "increments", "first_increment", "next_increment", "minimum",
						  "band",	"service",	   "currency"};

#define TFIELDS_MAX 64

struct tload {
	struct bill_tariff *t;
	const struct bill_tariff_opts *o;
	const char *name;
	uint32_t line;
	int col[COL_COUNT]; /* field index, -1 when absent */
	char delim;
	bool header_seen, bands_user, ccy_set;
	uint32_t ccy_line;
	struct sy_str f[TFIELDS_MAX];
	size_t nf;
};

/* "name:line: message" into the caller's err buffer; SY_ERR_PARSE. */
#define tload_err(ld, ...) sy_parse_err((ld)->o->err, (ld)->o->err_len, (ld)->name, (ld)->line, __VA_ARGS__)

/* A field quoted for an error message: at most 40 bytes, so a binary blob
 * cannot flood the log. */
#define FLD(s) (int)SY_MIN((s).len, 40), (s).p


/* Splits one line into ld->f (RFC 4180 quotes kept on the slice; see
 * field_value). Fields past TFIELDS_MAX are dropped: no column we read is
 * that far right. False on an unterminated quote. */
static bool tload_split(struct tload *ld, struct sy_str line)
{
	size_t i = 0;
	ld->nf = 0;
	for (;;) {
		size_t start = i;
		while (i < line.len && (line.p[i] == ' ' || line.p[i] == '\t'))
			i++;
		if (i < line.len && line.p[i] == '"') {
			for (i++;; i++) {
				if (i >= line.len)
					return false;
				if (line.p[i] == '"') {
					if (i + 1 < line.len && line.p[i + 1] == '"')
						i++;
					else
						break;
				}
			}
		}
		while (i < line.len && line.p[i] != ld->delim)
			i++;
		if (ld->nf < TFIELDS_MAX)
			ld->f[ld->nf++] = (struct sy_str){line.p + start, i - start};
		if (i >= line.len)
			return true;
		i++;
	}
}

/* The field's text: trimmed, outer quotes removed. Doubled quotes inside
 * stay doubled; only descriptions can hold them and they are copied
 * through text_put, which undoubles. */
static struct sy_str field_value(struct sy_str s, bool *quoted)
{
	s = sy_str_trim_blank(s);
	*quoted = false;
	if (s.len >= 2 && s.p[0] == '"' && s.p[s.len - 1] == '"') {
		*quoted = true;
		s.p++;
		s.len -= 2;
	}
	return s;
}

static struct sy_str tload_field(const struct tload *ld, enum tcol c)
{
	bool q;
	if (ld->col[c] < 0 || (size_t)ld->col[c] >= ld->nf)
		return SY_STR_NULL;
	return field_value(ld->f[ld->col[c]], &q);
}

static void header_norm(struct sy_str s, char *out, size_t cap)
{
	bool q;
	s = field_value(s, &q);
	size_t n = 0;
	for (size_t i = 0; i < s.len && n + 1 < cap; i++) {
		char c = s.p[i];
		if (c >= 'A' && c <= 'Z')
			c = (char)(c + 32);
		else if (c == ' ' || c == '-' || c == '/')
			c = '_';
		out[n++] = c;
	}
	out[n] = '\0';
	/* "Rate (per min)" and friends: drop a parenthesised unit. */
	char *paren = strchr(out, '(');
	if (paren != NULL) {
		while (paren > out && paren[-1] == '_')
			paren--;
		*paren = '\0';
	}
}

static enum sy_rc tload_header(struct tload *ld, struct sy_str line)
{
	size_t commas = 0, semis = 0, tabs = 0;
	for (size_t i = 0; i < line.len; i++) {
		commas += line.p[i] == ',';
		semis += line.p[i] == ';';
		tabs += line.p[i] == '\t';
	}
	ld->delim = commas >= semis && commas >= tabs ? ',' : semis >= tabs ? ';' : '\t';
	if (!tload_split(ld, line))
		return tload_err(ld, "unterminated quote in the header");
	for (size_t c = 0; c < COL_COUNT; c++)
		ld->col[c] = -1;
	for (size_t i = 0; i < ld->nf; i++) {
		char norm[48];
		header_norm(ld->f[i], norm, sizeof norm);
		for (size_t k = 0; k < SY_ARRAY_LEN(tcol_names); k++) {
			if (strcmp(norm, tcol_names[k].name) != 0)
				continue;
			if (ld->col[tcol_names[k].col] >= 0)
				return tload_err(ld, "column '%.*s' repeats %s", FLD(ld->f[i]),
						 tcol_label[tcol_names[k].col]);
			ld->col[tcol_names[k].col] = (int)i;
		}
	}
	if (ld->col[COL_PREFIX] < 0 || ld->col[COL_RATE] < 0)
		return tload_err(ld, "header needs a prefix and a rate column (got '%.*s')", FLD(line));
	if (ld->col[COL_INCR] >= 0 && (ld->col[COL_FIRST] >= 0 || ld->col[COL_NEXT] >= 0))
		return tload_err(ld, "header has both increments and first/next increment columns");
	ld->header_seen = true;
	return SY_OK;
}

/* ---- time bands ---- */

static const char *const day_names[7] = {"mon", "tue", "wed", "thu", "fri", "sat", "sun"};

static int day_index(struct sy_str s)
{
	for (int d = 0; d < 7; d++)
		if (s.len >= 3 && sy_str_ieq((struct sy_str){s.p, 3}, (struct sy_str){day_names[d], 3}) &&
		    (s.len == 3 || s.len == strlen(day_names[d])))
			return d;
	return -1;
}

/* "mon-fri", "sat,sun", "fri-mon", "daily" -> bit per day, Monday = bit 0. */
static bool parse_days(struct sy_str s, unsigned *mask)
{
	*mask = 0;
	if (sy_str_ieq(s, SY_STR("daily")) || sy_str_ieq(s, SY_STR("all"))) {
		*mask = 0x7f;
		return true;
	}
	while (s.len > 0) {
		const char *comma = memchr(s.p, ',', s.len);
		struct sy_str item = {s.p, comma ? (size_t)(comma - s.p) : s.len};
		s = comma ? (struct sy_str){comma + 1, s.len - item.len - 1} : SY_STR_NULL;
		const char *dash = memchr(item.p, '-', item.len);
		struct sy_str a = {item.p, dash ? (size_t)(dash - item.p) : item.len};
		struct sy_str b = dash ? (struct sy_str){dash + 1, item.len - a.len - 1} : a;
		int da = day_index(a), db = day_index(b);
		if (da < 0 || db < 0)
			return false;
		for (int d = da;; d = (d + 1) % 7) {
			*mask |= 1u << d;
			if (d == db)
				break;
		}
	}
	return *mask != 0;
}

static bool parse_hhmm(struct sy_str s, unsigned *min)
{
	if (s.len != 5 || s.p[2] != ':')
		return false;
	for (size_t i = 0; i < 5; i++)
		if (i != 2 && (s.p[i] < '0' || s.p[i] > '9'))
			return false;
	unsigned h = (unsigned)(s.p[0] - '0') * 10 + (unsigned)(s.p[1] - '0');
	unsigned m = (unsigned)(s.p[3] - '0') * 10 + (unsigned)(s.p[4] - '0');
	if (m > 59 || h > 24 || (h == 24 && m != 0))
		return false;
	*min = h * 60 + m;
	return true;
}

static uint8_t band_find(const struct bill_tariff *t, struct sy_str name)
{
	for (uint8_t b = 1; b < t->band_n; b++)
		if (sy_str_ieq(name, sy_str_from(t->band_name[b])))
			return b;
	return BILL_BAND_ANY;
}

static enum sy_rc band_mark(struct bill_tariff *t, uint8_t band, unsigned days, unsigned from, unsigned to)
{
	for (unsigned d = 0; d < 7; d++) {
		if (!(days & (1u << d)))
			continue;
		for (unsigned m = from; m < to; m++) {
			uint8_t *w = &t->week[d * 1440 + m];
			if (*w != BILL_BAND_ANY && *w != band)
				return SY_ERR_INVAL;
			*w = band;
		}
	}
	return SY_OK;
}

static uint8_t band_add(struct bill_tariff *t, struct sy_str name)
{
	uint8_t b = band_find(t, name);
	if (b != BILL_BAND_ANY || t->band_n == BILL_BANDS_MAX)
		return b;
	b = t->band_n++;
	memcpy(t->band_name[b], name.p, name.len);
	t->band_name[b][name.len] = '\0';
	return b;
}

static void bands_default(struct bill_tariff *t)
{
	memset(t->week, 0, sizeof t->week);
	t->band_n = 1;
	uint8_t peak = band_add(t, SY_STR("peak")), off = band_add(t, SY_STR("offpeak"));
	uint8_t wkend = band_add(t, SY_STR("weekend"));
	SY_ASSERT(band_mark(t, peak, 0x1f, 8 * 60, 20 * 60) == SY_OK);
	SY_ASSERT(band_mark(t, off, 0x1f, 0, 8 * 60) == SY_OK);
	SY_ASSERT(band_mark(t, off, 0x1f, 20 * 60, 24 * 60) == SY_OK);
	SY_ASSERT(band_mark(t, wkend, 0x60, 0, 24 * 60) == SY_OK);
}

/* Splits s at spaces into at most max words; returns the count (max + 1
 * when there are more). */
static size_t words(struct sy_str s, struct sy_str *w, size_t max)
{
	size_t n = 0, i = 0;
	while (i < s.len) {
		while (i < s.len && (s.p[i] == ' ' || s.p[i] == '\t'))
			i++;
		size_t st = i;
		while (i < s.len && s.p[i] != ' ' && s.p[i] != '\t')
			i++;
		if (i > st) {
			if (n == max)
				return max + 1;
			w[n++] = (struct sy_str){s.p + st, i - st};
		}
	}
	return n;
}

/* "#band NAME DAYS HH:MM-HH:MM": the first one replaces the default bands. */
static enum sy_rc tload_band(struct tload *ld, struct sy_str *w, size_t nw)
{
	struct bill_tariff *t = ld->t;
	unsigned days, from, to;
	if (nw != 4)
		return tload_err(ld, "want '#band NAME DAYS HH:MM-HH:MM'");
	if (w[1].len == 0 || w[1].len >= BILL_BAND_NAME_MAX || sy_str_ieq(w[1], SY_STR("any")))
		return tload_err(ld, "bad band name '%.*s'", FLD(w[1]));
	if (!parse_days(w[2], &days))
		return tload_err(ld, "bad days '%.*s' (want e.g. mon-fri, sat,sun, daily)", FLD(w[2]));
	if (w[3].len != 11 || w[3].p[5] != '-' || !parse_hhmm((struct sy_str){w[3].p, 5}, &from) ||
	    !parse_hhmm((struct sy_str){w[3].p + 6, 5}, &to) || from >= to)
		return tload_err(ld, "bad hours '%.*s' (want HH:MM-HH:MM, start before end)", FLD(w[3]));
	if (!ld->bands_user) {
		memset(t->week, 0, sizeof t->week);
		t->band_n = 1;
		ld->bands_user = true;
	}
	uint8_t b = band_add(t, w[1]);
	if (b == BILL_BAND_ANY)
		return tload_err(ld, "more than %d bands", BILL_BANDS_MAX - 1);
	if (band_mark(t, b, days, from, to) != SY_OK)
		return tload_err(ld, "band '%.*s' overlaps another band", FLD(w[1]));
	return SY_OK;
}

/* "#tz +HH:MM" / "#tz -HH:MM" / "#tz UTC". */
static enum sy_rc tload_tz(struct tload *ld, struct sy_str *w, size_t nw)
{
	unsigned m;
	if (nw == 2 && sy_str_ieq(w[1], SY_STR("UTC"))) {
		ld->t->tz_offset_min = 0;
		return SY_OK;
	}
	if (nw != 2 || w[1].len != 6 || (w[1].p[0] != '+' && w[1].p[0] != '-') ||
	    !parse_hhmm((struct sy_str){w[1].p + 1, 5}, &m) || m > 14 * 60)
		return tload_err(ld, "want '#tz +HH:MM', '#tz -HH:MM' or '#tz UTC'");
	ld->t->tz_offset_min = w[1].p[0] == '-' ? -(int32_t)m : (int32_t)m;
	return SY_OK;
}

static enum sy_rc tload_comment(struct tload *ld, struct sy_str line)
{
	struct sy_str w[5];
	size_t nw = words((struct sy_str){line.p + 1, line.len - 1}, w, 4);
	bool band = nw > 0 && sy_str_ieq(w[0], SY_STR("band"));
	bool tz = nw > 0 && sy_str_ieq(w[0], SY_STR("tz"));
	if (!band && !tz)
		return SY_OK; /* a comment */
	if (ld->header_seen)
		return tload_err(ld, "#%.*s must come before the header line", FLD(w[0]));
	return band ? tload_band(ld, w, nw) : tload_tz(ld, w, nw);
}

uint8_t bill_tariff_band_at(const struct bill_tariff *t, uint64_t epoch_s)
{
	/* 1970-01-01 was a Thursday: day 3 of a Monday-first week. */
	int64_t min = (int64_t)(epoch_s / 60) + t->tz_offset_min + 3 * 1440;
	int64_t w = min % BILL_WEEK_MIN;
	if (w < 0)
		w += BILL_WEEK_MIN;
	return t->week[w];
}

const char *bill_tariff_band_name(const struct bill_tariff *t, uint8_t band)
{
	return band < t->band_n ? t->band_name[band] : "?";
}

/* ---- rows ---- */

enum sy_rc bill_parse_increments(struct sy_str s, uint32_t *first_s, uint32_t *next_s)
{
	uint64_t v[2] = {0, 0};
	size_t k = 0, digits = 0;
	for (size_t i = 0; i < s.len; i++) {
		char c = s.p[i];
		if (c == '/' && k == 0 && digits > 0) {
			k = 1;
			digits = 0;
		} else if (c >= '0' && c <= '9' && v[k] <= BILL_INCREMENT_S_MAX) {
			v[k] = v[k] * 10 + (uint64_t)(c - '0');
			digits++;
		} else {
			return SY_ERR_PARSE;
		}
	}
	if (digits == 0)
		return SY_ERR_PARSE;
	if (k == 0)
		v[1] = v[0];
	if (v[0] > BILL_INCREMENT_S_MAX || v[1] > BILL_INCREMENT_S_MAX || v[1] == 0)
		return SY_ERR_PARSE;
	*first_s = (uint32_t)v[0];
	*next_s = (uint32_t)v[1];
	return SY_OK;
}

/* Whole seconds, optionally with a trailing 's'. */
static bool parse_seconds(struct sy_str s, uint32_t max, uint32_t *out)
{
	if (s.len > 0 && s.p[s.len - 1] == 's')
		s.len--;
	if (s.len == 0 || s.len > 9)
		return false;
	uint32_t v = 0;
	for (size_t i = 0; i < s.len; i++) {
		if (s.p[i] < '0' || s.p[i] > '9')
			return false;
		v = v * 10 + (uint32_t)(s.p[i] - '0');
	}
	if (v > max)
		return false;
	*out = v;
	return true;
}

static enum sy_rc tload_amount(struct tload *ld, enum tcol c, int64_t *out)
{
	struct sy_str s = tload_field(ld, c);
	*out = 0;
	if (s.len == 0 && c != COL_RATE)
		return SY_OK;
	if (money_parse(s, out) != SY_OK || *out < 0)
		return tload_err(ld, "bad %s '%.*s'", tcol_label[c], FLD(s));
	if (*out > BILL_RATE_MAX)
		return tload_err(ld, "%s '%.*s' above the limit of 1000000", tcol_label[c], FLD(s));
	return SY_OK;
}

static enum sy_rc tload_timing(struct tload *ld, struct bill_tariff_entry *e)
{
	e->first_s = e->next_s = 1; /* per-second billing unless the file says */
	struct sy_str s = tload_field(ld, COL_INCR);
	if (s.len > 0 && bill_parse_increments(s, &e->first_s, &e->next_s) != SY_OK)
		return tload_err(ld, "bad increments '%.*s' (want e.g. 60/60, 30/6, 1/1)", FLD(s));
	s = tload_field(ld, COL_FIRST);
	if (s.len > 0 && !parse_seconds(s, BILL_INCREMENT_S_MAX, &e->first_s))
		return tload_err(ld, "bad first_increment '%.*s'", FLD(s));
	s = tload_field(ld, COL_NEXT);
	if (s.len > 0 && (!parse_seconds(s, BILL_INCREMENT_S_MAX, &e->next_s) || e->next_s == 0))
		return tload_err(ld, "bad next_increment '%.*s'", FLD(s));
	s = tload_field(ld, COL_MIN);
	if (s.len > 0 && !parse_seconds(s, BILL_MINIMUM_S_MAX, &e->min_s))
		return tload_err(ld, "bad minimum '%.*s' (want whole seconds)", FLD(s));
	return SY_OK;
}

static enum sy_rc tload_kind(struct tload *ld, struct bill_tariff_entry *e)
{
	static const char *const svc[BILL_SVC_COUNT] = {"voice", "sms", "ussd"};
	struct sy_str s = tload_field(ld, COL_SERVICE);
	e->service = BILL_SVC_VOICE;
	if (s.len > 0) {
		size_t k = 0;
		while (k < BILL_SVC_COUNT && !sy_str_ieq(s, sy_str_from(svc[k])))
			k++;
		if (k == BILL_SVC_COUNT)
			return tload_err(ld, "bad service '%.*s' (want voice, sms or ussd)", FLD(s));
		e->service = (uint8_t)k;
	}
	s = tload_field(ld, COL_BAND);
	e->band = BILL_BAND_ANY;
	if (s.len > 0 && !sy_str_ieq(s, SY_STR("any")) && !sy_str_eq(s, SY_STR("*"))) {
		e->band = band_find(ld->t, s);
		if (e->band == BILL_BAND_ANY)
			return tload_err(ld, "unknown band '%.*s' (define it with #band)", FLD(s));
	}
	s = tload_field(ld, COL_CCY);
	struct money_ccy c;
	if (s.len == 0)
		return SY_OK;
	if (money_ccy_parse(s, &c) != SY_OK)
		return tload_err(ld, "bad currency '%.*s' (want 3 letters, ISO 4217)", FLD(s));
	if (ld->ccy_set && !money_ccy_eq(c, ld->t->ccy))
		return tload_err(ld, "currency %s differs from %s of line %u", c.code, ld->t->ccy.code, ld->ccy_line);
	if (!ld->ccy_set) {
		ld->t->ccy = c;
		ld->ccy_set = true;
		ld->ccy_line = ld->line;
	}
	return SY_OK;
}

static bool grow(void **p, uint32_t *cap, uint32_t need, size_t elem)
{
	if (need <= *cap)
		return true;
	uint64_t c = *cap ? *cap : 1024;
	while (c < need)
		c *= 2;
	if (c > UINT32_MAX)
		return false;
	void *n = realloc(*p, (size_t)c * elem);
	if (n == NULL)
		return false;
	*p = n;
	*cap = (uint32_t)c;
	return true;
}

/* Appends the prefix and the description (quotes undoubled) to the arena. */
static enum sy_rc tload_text(struct tload *ld, struct sy_str prefix, struct bill_tariff_entry *e)
{
	struct bill_tariff *t = ld->t;
	bool quoted;
	struct sy_str d = ld->col[COL_DESC] >= 0 && (size_t)ld->col[COL_DESC] < ld->nf
			      ? field_value(ld->f[ld->col[COL_DESC]], &quoted)
			      : SY_STR_NULL;
	if (d.len > BILL_DESC_MAX)
		return tload_err(ld, "description longer than %d bytes", BILL_DESC_MAX);
	if ((uint64_t)t->text_len + prefix.len + d.len > UINT32_MAX ||
	    !grow((void **)&t->text, &t->text_cap, t->text_len + (uint32_t)(prefix.len + d.len), 1))
		return SY_ERR_NOMEM;
	e->text_off = t->text_len;
	e->prefix_len = (uint8_t)prefix.len;
	memcpy(t->text + t->text_len, prefix.p, prefix.len);
	t->text_len += (uint32_t)prefix.len;
	uint32_t n = 0;
	for (size_t i = 0; i < d.len; i++) {
		if (quoted && d.p[i] == '"' && i + 1 < d.len && d.p[i + 1] == '"')
			i++;
		t->text[t->text_len + n++] = d.p[i];
	}
	t->text_len += n;
	e->desc_len = (uint16_t)n;
	return SY_OK;
}

/* Links entry idx under its trie key; a repeated (prefix, service, band) is
 * an error naming the first line. */
static enum sy_rc tload_insert(struct tload *ld, struct sy_str prefix, uint32_t idx)
{
	struct bill_tariff *t = ld->t;
	struct bill_tariff_entry *e = &t->e[idx];
	char key[ROUTE_DIGITS_MAX];
	key[0] = (char)('0' + e->service);
	memcpy(key + 1, prefix.p, prefix.len);
	struct sy_str k = {key, prefix.len + 1};
	uint32_t first;
	size_t mlen;
	if (!route_lookup(&t->trie, k, &first, &mlen) || mlen != k.len) {
		enum sy_rc rc = route_add(&t->trie, k, idx);
		return rc == SY_ERR_INVAL ? tload_err(ld, "bad prefix '%.*s'", FLD(prefix)) : rc;
	}
	for (uint32_t i = first;; i = t->e[i].next_band - 1) {
		if (t->e[i].band == e->band)
			return tload_err(ld, "duplicate prefix %.*s%s%s (first at line %u)", FLD(prefix),
					 e->band ? " band " : "", bill_tariff_band_name(t, e->band), t->e[i].line);
		if (t->e[i].next_band == 0) {
			t->e[i].next_band = idx + 1;
			return SY_OK;
		}
	}
}

static enum sy_rc tload_row(struct tload *ld, struct sy_str line)
{
	struct bill_tariff *t = ld->t;
	if (!tload_split(ld, line))
		return tload_err(ld, "unterminated quote");
	struct sy_str prefix = tload_field(ld, COL_PREFIX);
	if (prefix.len > 0 && prefix.p[0] == '+') {
		prefix.p++;
		prefix.len--;
	}
	bool ok = prefix.len > 0 && prefix.len <= BILL_PREFIX_MAX;
	for (size_t i = 0; ok && i < prefix.len; i++)
		ok = prefix.p[i] >= '0' && prefix.p[i] <= '9';
	if (!ok)
		return tload_err(ld, "bad prefix '%.*s' (want 1 to %d digits)", FLD(prefix), BILL_PREFIX_MAX);
	if (t->n == UINT32_MAX - 1 || !grow((void **)&t->e, &t->cap, t->n + 1, sizeof *t->e))
		return SY_ERR_NOMEM;
	struct bill_tariff_entry *e = &t->e[t->n];
	memset(e, 0, sizeof *e);
	e->line = ld->line;
	enum sy_rc rc;
	if ((rc = tload_amount(ld, COL_RATE, &e->rate_micros)) != SY_OK ||
	    (rc = tload_amount(ld, COL_FEE, &e->fee_micros)) != SY_OK || (rc = tload_timing(ld, e)) != SY_OK ||
	    (rc = tload_kind(ld, e)) != SY_OK || (rc = tload_text(ld, prefix, e)) != SY_OK ||
	    (rc = tload_insert(ld, prefix, t->n)) != SY_OK)
		return rc;
	t->n++;
	return SY_OK;
}

static enum sy_rc tload_lines(struct tload *ld, const char *buf, size_t len)
{
	const char *p = buf, *end = buf + len;
	for (ld->line = 1; p < end; ld->line++) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		struct sy_str line = {p, nl ? (size_t)(nl - p) : (size_t)(end - p)};
		p = nl ? nl + 1 : end;
		if (ld->line == 1 && line.len >= 3 && memcmp(line.p, "\xEF\xBB\xBF", 3) == 0) {
			line.p += 3; /* a UTF-8 byte order mark, as spreadsheets write */
			line.len -= 3;
		}
		line = sy_str_trim_blank(line);
		enum sy_rc rc = SY_OK;
		if (line.len == 0)
			continue;
		if (line.p[0] == '#')
			rc = tload_comment(ld, line);
		else if (!ld->header_seen)
			rc = tload_header(ld, line);
		else
			rc = tload_row(ld, line);
		if (rc != SY_OK && rc != SY_ERR_PARSE)
			return tload_err(ld, "out of memory (%s)", sy_rc_str(rc));
		if (rc != SY_OK)
			return rc;
	}
	ld->line--; /* errors after the loop name the last line */
	if (!ld->header_seen)
		return tload_err(ld, "no header line (want e.g. prefix,description,rate)");
	return SY_OK;
}

/* A lookup touches ~8 random trie nodes and one entry: with 4 KB pages
 * each is also a TLB miss on a 100 MB table. Asking for 2 MB pages before
 * the arrays are first written halves the lookup time; it is only a hint
 * (no effect where transparent huge pages are off). */
static void hugepage_hint(void *p, size_t len)
{
#ifdef MADV_HUGEPAGE
	const uintptr_t huge = 2u << 20;
	uintptr_t a = ((uintptr_t)p + huge - 1) & ~(huge - 1), e = ((uintptr_t)p + len) & ~(huge - 1);
	if (e > a)
		(void)madvise((void *)a, e - a, MADV_HUGEPAGE);
#else
	(void)p, (void)len;
#endif
}

enum sy_rc bill_tariff_load_mem(struct bill_tariff *t, const char *name, const char *buf, size_t len,
				const struct bill_tariff_opts *opts)
{
	static const struct bill_tariff_opts defaults;
	struct tload ld = {.t = t, .o = opts ? opts : &defaults, .name = name ? name : "tariff"};
	memset(t, 0, sizeof *t);
	if (ld.o->err != NULL && ld.o->err_len > 0)
		ld.o->err[0] = '\0';
	if (money_ccy_parse(sy_str_from(ld.o->ccy ? ld.o->ccy : "USD"), &t->ccy) != SY_OK) {
		ld.line = 0;
		return tload_err(&ld, "bad default currency '%s'", ld.o->ccy);
	}
	/* Size the arrays from the line count once, instead of doubling. */
	uint64_t lines = 1;
	for (const char *p = buf; (p = memchr(p, '\n', (size_t)(buf + len - p))) != NULL; p++)
		lines++;
	uint32_t rows = (uint32_t)SY_MIN(lines, (uint64_t)UINT32_MAX / 8);
	enum sy_rc rc = route_trie_init(&t->trie, rows * 2);
	if (rc != SY_OK || !grow((void **)&t->e, &t->cap, rows, sizeof *t->e) ||
	    !grow((void **)&t->text, &t->text_cap, (uint32_t)SY_MIN(len, (size_t)UINT32_MAX / 2), 1)) {
		bill_tariff_free(t);
		return tload_err(&ld, "out of memory for %u rows", rows);
	}
	hugepage_hint(t->trie.nodes, (size_t)t->trie.node_cap * sizeof *t->trie.nodes);
	hugepage_hint(t->e, (size_t)t->cap * sizeof *t->e);
	bands_default(t);
	rc = tload_lines(&ld, buf, len);
	if (rc != SY_OK)
		bill_tariff_free(t);
	return rc;
}

enum sy_rc bill_tariff_load_file(const struct sy_env *env, struct bill_tariff *t, const char *path,
				 const struct bill_tariff_opts *opts)
{
	memset(t, 0, sizeof *t);
	char *buf = NULL;
	size_t len = 0;
	enum sy_rc rc = sy_env_file_slurp(env, path, BILL_TARIFF_FILE_MAX, &buf, &len);
	if (rc != SY_OK) {
		if (opts != NULL && opts->err != NULL && opts->err_len > 0)
			snprintf(opts->err, opts->err_len, "%s: cannot read the tariff file: %s", path,
				 rc == SY_ERR_FULL ? "larger than 1 GiB" : sy_env_file_err(rc));
		return SY_ERR_IO;
	}
	rc = bill_tariff_load_mem(t, path, buf, len, opts);
	free(buf);
	return rc;
}

void bill_tariff_free(struct bill_tariff *t)
{
	if (t->trie.nodes != NULL)
		route_trie_free(&t->trie);
	free(t->e);
	free(t->text);
	memset(t, 0, sizeof *t);
}
