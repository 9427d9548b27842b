/* scn.c: the scenario / config parser (scn.h). One table row per section and
 * per key: a new section ([traffic sms], [account NAME]) is a new table, not
 * new parsing code. Values are parsed exactly with integer arithmetic. */
#include "core/conf/scn.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

struct pctx;
struct key_def;
typedef enum sy_rc (*key_fn)(struct pctx *c, void *obj, const struct key_def *k, struct sy_str v);

struct key_def {
	const char *name;
	key_fn fn;
	size_t off;  /* of the field within the section's object */
	size_t off2; /* second field (parsed address) or string size */
	bool required;
};

struct sec_def {
	const char *kind;
	const char *name; /* NULL: takes no name; "*": needs one; else that name */
	const struct key_def *keys;
	size_t key_n;
	void *(*begin)(struct pctx *c, struct sy_str name);
	enum sy_rc (*end)(struct pctx *c, void *obj);
	enum sy_rc (*line)(struct pctx *c, struct sy_str line); /* non key=value */
	bool multi;
};

struct pctx {
	struct scn *s;
	const char *file;
	uint32_t line;
	char *err;
	size_t errlen;
	const struct sec_def *sec; /* current section, NULL before the first */
	void *obj;
	uint64_t seen_keys;
	uint32_t sec_line;
	char label[SCN_NAME_MAX + 32]; /* "[carrier tier1]" */
	uint64_t seen_secs;	       /* single sections already opened */
};

#define VALUE_MAX 512

static enum sy_rc vfail(struct pctx *c, uint32_t line, const char *fmt, va_list ap)
{
	if (c->err == NULL || c->errlen == 0)
		return SY_ERR_PARSE;
	int n = snprintf(c->err, c->errlen, "%s:%u: ", c->file, line);
	if (n >= 0 && (size_t)n < c->errlen)
		vsnprintf(c->err + n, c->errlen - (size_t)n, fmt, ap);
	return SY_ERR_PARSE;
}

static enum sy_rc fail_at(struct pctx *c, uint32_t line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static enum sy_rc fail_at(struct pctx *c, uint32_t line, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	enum sy_rc rc = vfail(c, line, fmt, ap);
	va_end(ap);
	return rc;
}

static enum sy_rc fail(struct pctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static enum sy_rc fail(struct pctx *c, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	enum sy_rc rc = vfail(c, c->line, fmt, ap);
	va_end(ap);
	return rc;
}

#define SV(s) (int)SY_MIN((s).len, 200), (s).p

static enum sy_rc bad(struct pctx *c, const char *what, struct sy_str tok, const struct key_def *k)
{
	return fail(c, "bad %s '%.*s' for '%s'", what, SV(tok), k->name);
}

/* ---- small lexical helpers ---- */

static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r';
}

static struct sy_str trim(struct sy_str s)
{
	while (s.len && is_space(s.p[0]))
		s.p++, s.len--;
	while (s.len && is_space(s.p[s.len - 1]))
		s.len--;
	return s;
}

/* Next token separated by blanks (and commas when commas is set). */
static bool next_tok(struct sy_str *rest, struct sy_str *tok, bool commas)
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

static bool copy_str(char *dst, size_t size, struct sy_str s)
{
	if (s.len >= size)
		return false;
	memcpy(dst, s.p, s.len);
	dst[s.len] = '\0';
	return true;
}

static bool ends_with(struct sy_str s, const char *suffix, struct sy_str *head)
{
	size_t n = strlen(suffix);
	if (s.len < n || memcmp(s.p + s.len - n, suffix, n) != 0)
		return false;
	*head = (struct sy_str){s.p, s.len - n};
	return true;
}

/* "70%", "0.1%" -> ppm; at most 4 decimals, at most 100%. */
static bool parse_pct(struct sy_str t, uint32_t *ppm)
{
	struct sy_str num;
	uint64_t v;
	if (!ends_with(t, "%", &num) || sy_decimal_parse(num, 4, &v) != SY_OK || v > SCN_PPM)
		return false;
	*ppm = (uint32_t)v;
	return true;
}

static bool parse_uint(struct sy_str t, uint64_t max, uint64_t *out)
{
	uint64_t v;
	if (sy_decimal_parse(t, 0, &v) != SY_OK || v > max)
		return false;
	*out = v;
	return true;
}

/* ---- generic key handlers: the field is at k->off in the section object ---- */

static enum sy_rc k_duration(struct pctx *c, void *obj, const struct key_def *k, struct sy_str v)
{
	if (sy_duration_parse_str(v, (uint64_t *)((char *)obj + k->off)) != SY_OK)
		return bad(c, "duration", v, k);
	return SY_OK;
}

static enum sy_rc k_duration_nz(struct pctx *c, void *obj, const struct key_def *k, struct sy_str v)
{
	uint64_t ns;
	if (sy_duration_parse_str(v, &ns) != SY_OK || ns == 0)
		return bad(c, "duration", v, k);
	*(uint64_t *)((char *)obj + k->off) = ns;
	return SY_OK;
}

static enum sy_rc k_u64(struct pctx *c, void *obj, const struct key_def *k, struct sy_str v)
{
	if (!parse_uint(v, UINT64_MAX, (uint64_t *)((char *)obj + k->off)))
		return bad(c, "number", v, k);
	return SY_OK;
}

static enum sy_rc k_u32(struct pctx *c, void *obj, const struct key_def *k, struct sy_str v)
{
	uint64_t x;
	if (!parse_uint(v, UINT32_MAX, &x))
		return bad(c, "number", v, k);
	*(uint32_t *)((char *)obj + k->off) = (uint32_t)x;
	return SY_OK;
}

static enum sy_rc k_i32(struct pctx *c, void *obj, const struct key_def *k, struct sy_str v)
{
	bool neg = v.len > 0 && v.p[0] == '-';
	struct sy_str d = neg ? (struct sy_str){v.p + 1, v.len - 1} : v;
	uint64_t x;
	if (!parse_uint(d, (uint64_t)INT32_MAX, &x))
		return bad(c, "number", v, k);
	*(int32_t *)((char *)obj + k->off) = neg ? -(int32_t)x : (int32_t)x;
	return SY_OK;
}

static enum sy_rc k_str(struct pctx *c, void *obj, const struct key_def *k, struct sy_str v)
{
	if (!copy_str((char *)obj + k->off, k->off2, v))
		return fail(c, "value too long for '%s' (max %zu)", k->name, k->off2 - 1);
	return SY_OK;
}

static enum sy_rc k_dist(struct pctx *c, void *obj, const struct key_def *k, struct sy_str v)
{
	char buf[VALUE_MAX], why[128];
	SY_ASSERT(copy_str(buf, sizeof(buf), v));
	if (sy_dist_parse(buf, (struct sy_dist *)((char *)obj + k->off), why, sizeof(why)) != SY_OK)
		return fail(c, "%s for '%s'", why, k->name);
	return SY_OK;
}

/* host:port into a string at off and a struct sy_addr at off2. */
static enum sy_rc k_addr(struct pctx *c, void *obj, const struct key_def *k, struct sy_str v)
{
	char *dst = (char *)obj + k->off;
	struct sy_addr *a = (struct sy_addr *)((char *)obj + k->off2);
	if (!copy_str(dst, SCN_ADDR_MAX, v) || sy_addr_parse(dst, 5060, a) != SY_OK) {
		dst[0] = '\0';
		return bad(c, "address", v, k);
	}
	return SY_OK;
}

/* "latency 20ms jitter 5ms loss 0.1%"; latency may be a distribution. */
static enum sy_rc k_link(struct pctx *c, void *obj, const struct key_def *k, struct sy_str v)
{
	struct scn_link *l = (struct scn_link *)((char *)obj + k->off);
	struct sy_str rest = v, tok, arg;
	*l = (struct scn_link){.set = true};
	while (next_tok(&rest, &tok, false)) {
		/* The argument runs to the next keyword. */
		struct sy_str look = rest, t2;
		arg = (struct sy_str){rest.p, 0};
		while (next_tok(&look, &t2, false) && !sy_str_eq(t2, SY_STR("latency")) &&
		       !sy_str_eq(t2, SY_STR("jitter")) && !sy_str_eq(t2, SY_STR("loss"))) {
			arg.len = (size_t)(t2.p + t2.len - arg.p);
			rest = look;
		}
		arg = trim(arg);
		if (arg.len == 0)
			return fail(c, "missing value after '%.*s' for '%s'", SV(tok), k->name);
		if (sy_str_eq(tok, SY_STR("latency"))) {
			char buf[VALUE_MAX];
			copy_str(buf, sizeof(buf), arg);
			if (sy_dist_parse(buf, &l->latency, NULL, 0) != SY_OK)
				return bad(c, "latency", arg, k);
		} else if (sy_str_eq(tok, SY_STR("jitter"))) {
			if (sy_duration_parse_str(arg, &l->jitter_ns) != SY_OK)
				return bad(c, "duration", arg, k);
		} else if (sy_str_eq(tok, SY_STR("loss"))) {
			if (!parse_pct(arg, &l->loss_ppm))
				return bad(c, "percentage", arg, k);
		} else {
			return fail(c, "unknown link setting '%.*s' for '%s' (use latency, jitter, loss)", SV(tok), k->name);
		}
	}
	return SY_OK;
}

/* ---- [run] ---- */

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
	return at + n <= v.len && parse_uint((struct sy_str){v.p + at, n}, UINT64_MAX, out);
}

/* "2026-01-01T00:00:00Z", UTC only. */
static enum sy_rc k_epoch(struct pctx *c, void *obj, const struct key_def *k, struct sy_str v)
{
	static const uint8_t mdays[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	uint64_t y, mo, d, h, mi, s;
	bool ok = v.len == 20 && v.p[4] == '-' && v.p[7] == '-' && v.p[10] == 'T' && v.p[13] == ':' &&
		  v.p[16] == ':' && v.p[19] == 'Z' && num_at(v, 0, 4, &y) && num_at(v, 5, 2, &mo) &&
		  num_at(v, 8, 2, &d) && num_at(v, 11, 2, &h) && num_at(v, 14, 2, &mi) && num_at(v, 17, 2, &s);
	ok = ok && y >= 1970 && mo >= 1 && mo <= 12 && d >= 1 && h < 24 && mi < 60 && s < 60;
	ok = ok && d <= (uint64_t)mdays[mo - 1] + (mo == 2 && leap(y));
	if (!ok)
		return bad(c, "UTC timestamp", v, k);
	uint64_t secs = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + s;
	*(uint64_t *)((char *)obj + k->off) = secs * SY_NS_PER_S;
	return SY_OK;
}

#define RUN(f) offsetof(struct scn_run, f)
static const struct key_def run_keys[] = {
	{"duration", k_duration_nz, RUN(duration_ns), 0, false},
	{"seed", k_u64, RUN(seed), 0, false},
	{"drain", k_duration, RUN(drain_ns), 0, false},
	{"epoch", k_epoch, RUN(epoch_ns), 0, false},
	{"calls_max", k_u32, RUN(calls_max), 0, false},
	{"txn_max", k_u32, RUN(txn_max), 0, false},
	{"t1", k_duration_nz, RUN(t1_ns), 0, false},
};

static void *run_begin(struct pctx *c, struct sy_str name)
{
	return &c->s->run;
}

/* ---- [node] ---- */

#define NODE(f) offsetof(struct scn_node, f)
static const struct key_def node_keys[] = {
	{"sip", k_addr, NODE(sip), NODE(sip_addr), false},
	{"out", k_str, NODE(out), SCN_PATH_MAX, false},
	{"name", k_str, NODE(name), SCN_NAME_MAX, false},
	{"invite_timeout", k_duration_nz, NODE(invite_timeout_ns), 0, false},
	{"ring_timeout", k_duration_nz, NODE(ring_timeout_ns), 0, false},
	{"max_call", k_duration_nz, NODE(max_call_ns), 0, false},
	{"smpp", k_addr, NODE(smpp), NODE(smpp_addr), false},
	{"http", k_addr, NODE(http), NODE(http_addr), false},
};

static void *node_begin(struct pctx *c, struct sy_str name)
{
	return &c->s->node;
}

/* ---- [carrier NAME] ---- */

/* Prefix list at k->off, its count (uint32_t) at k->off2. */
static enum sy_rc k_prefixes(struct pctx *c, void *obj, const struct key_def *k, struct sy_str v)
{
	char(*prefixes)[SCN_PREFIX_LEN_MAX + 1] = (void *)((char *)obj + k->off);
	uint32_t *prefix_n = (uint32_t *)((char *)obj + k->off2);
	struct sy_str tok;
	while (next_tok(&v, &tok, true)) {
		struct sy_str d = tok;
		if (d.p[0] == '+')
			d.p++, d.len--;
		bool ok = d.len > 0 && d.len <= SCN_PREFIX_LEN_MAX;
		for (size_t i = 0; ok && i < d.len; i++)
			ok = d.p[i] >= '0' && d.p[i] <= '9';
		if (!ok)
			return bad(c, "prefix", tok, k);
		for (uint32_t i = 0; i < *prefix_n; i++)
			if (sy_str_eq(d, sy_str_from(prefixes[i])))
				return fail(c, "duplicate prefix '%.*s' for '%s'", SV(tok), k->name);
		if (*prefix_n == SCN_PREFIXES_MAX)
			return fail(c, "too many prefixes for '%s' (max %d)", k->name, SCN_PREFIXES_MAX);
		copy_str(prefixes[(*prefix_n)++], SCN_PREFIX_LEN_MAX + 1, d);
	}
	return SY_OK;
}

static enum sy_rc k_capacity(struct pctx *c, void *obj, const struct key_def *k, struct sy_str v)
{
	struct scn_carrier *ca = obj;
	struct sy_str rest = v, num, unit, extra;
	uint64_t x;
	next_tok(&rest, &num, false);
	bool has_unit = next_tok(&rest, &unit, false);
	if (!parse_uint(num, UINT32_MAX, &x) || next_tok(&rest, &extra, false) ||
	    (has_unit && !sy_str_eq(unit, SY_STR("calls"))))
		return bad(c, "capacity", v, k);
	ca->capacity = (uint32_t)x;
	return SY_OK;
}

/* "70% ring 2s..6s" or "70%". */
static enum sy_rc k_answer(struct pctx *c, void *obj, const struct key_def *k, struct sy_str v)
{
	struct scn_carrier *ca = obj;
	struct sy_str rest = v, tok;
	next_tok(&rest, &tok, false);
	if (!parse_pct(tok, &ca->answer_ppm))
		return bad(c, "percentage", tok, k);
	ca->ring = sy_dist_fixed(0);
	if (!next_tok(&rest, &tok, false))
		return SY_OK;
	if (!sy_str_eq(tok, SY_STR("ring")) || trim(rest).len == 0)
		return fail(c, "expected '%s = PERCENT ring DISTRIBUTION', got '%.*s'", k->name, SV(v));
	return k_dist(c, ca, &(struct key_def){k->name, NULL, offsetof(struct scn_carrier, ring), 0, 0}, trim(rest));
}

/* "486" or "486 60% 503 40%". */
static enum sy_rc k_reject(struct pctx *c, void *obj, const struct key_def *k, struct sy_str v)
{
	struct scn_carrier *ca = obj;
	struct sy_str rest = v, tok;
	uint32_t sum = 0, weighted = 0;
	ca->reject_n = 0;
	while (next_tok(&rest, &tok, false)) {
		uint64_t code;
		if (!parse_uint(tok, 699, &code) || code < 400)
			return bad(c, "status", tok, k);
		if (ca->reject_n == SCN_REJECTS_MAX)
			return fail(c, "too many statuses for '%s' (max %d)", k->name, SCN_REJECTS_MAX);
		struct scn_share *sh = &ca->reject[ca->reject_n++];
		*sh = (struct scn_share){(uint16_t)code, SCN_PPM};
		struct sy_str look = rest, w;
		if (next_tok(&look, &w, false) && w.p[w.len - 1] == '%') {
			if (!parse_pct(w, &sh->ppm))
				return bad(c, "percentage", w, k);
			sum += sh->ppm;
			weighted++;
			rest = look;
		}
	}
	if (ca->reject_n > 1 && weighted != ca->reject_n)
		return fail(c, "each status in '%s' needs a share when there are several", k->name);
	if (ca->reject_n > 1 && sum != SCN_PPM) {
		char pct[32];
		scn_fmt_ppm(sum, pct, sizeof(pct));
		return fail(c, "shares for '%s' sum to %s, not 100%%", k->name, pct);
	}
	if (ca->reject_n == 1)
		ca->reject[0].ppm = SCN_PPM;
	return SY_OK;
}

/* "0.0100/min": millionths of a currency unit per minute, exactly. */
static enum sy_rc k_rate(struct pctx *c, void *obj, const struct key_def *k, struct sy_str v)
{
	struct scn_carrier *ca = obj;
	struct sy_str num = v;
	ends_with(v, "/min", &num);
	if (sy_decimal_parse(num, 6, &ca->rate_micro_per_min) != SY_OK)
		return bad(c, "rate", v, k);
	return SY_OK;
}

#define CAR(f) offsetof(struct scn_carrier, f)
static const struct key_def carrier_keys[] = {
	{"prefixes", k_prefixes, CAR(prefixes), CAR(prefix_n), true},
	{"address", k_addr, CAR(address), CAR(addr), false},
	{"capacity", k_capacity, 0, 0, false},	     {"priority", k_i32, CAR(priority), 0, false},
	{"answer", k_answer, 0, 0, false},	     {"reject", k_reject, 0, 0, false},
	{"link", k_link, CAR(link), 0, false},	     {"rate", k_rate, 0, 0, false},
	{"noanswer", k_duration, CAR(noanswer_ns), 0, false},
};

static void *carrier_begin(struct pctx *c, struct sy_str name)
{
	struct scn *s = c->s;
	for (uint32_t i = 0; i < s->carrier_n; i++)
		if (sy_str_eq(name, sy_str_from(s->carriers[i].name))) {
			fail(c, "duplicate section [carrier %.*s]", SV(name));
			return NULL;
		}
	if (s->carrier_n == SCN_CARRIERS_MAX) {
		fail(c, "too many carriers (max %d)", SCN_CARRIERS_MAX);
		return NULL;
	}
	struct scn_carrier *ca = &s->carriers[s->carrier_n];
	memset(ca, 0, sizeof(*ca));
	if (!copy_str(ca->name, SCN_NAME_MAX, name)) {
		fail(c, "carrier name too long '%.*s' (max %d)", SV(name), SCN_NAME_MAX - 1);
		return NULL;
	}
	s->carrier_n++;
	ca->line = c->line;
	ca->answer_ppm = SCN_PPM;
	ca->ring = sy_dist_fixed(0);
	ca->reject[0] = (struct scn_share){486, SCN_PPM};
	ca->reject_n = 1;
	return ca;
}

/* ---- [traffic voice] ---- */

static bool pattern_ok(struct sy_str t)
{
	size_t i = t.len > 0 && t.p[0] == '+';
	if (t.len <= i || t.len >= SCN_PATTERN_MAX)
		return false;
	for (; i < t.len; i++)
		if (!((t.p[i] >= '0' && t.p[i] <= '9') || t.p[i] == 'X'))
			return false;
	return true;
}

static enum sy_rc k_pattern(struct pctx *c, void *obj, const struct key_def *k, struct sy_str v)
{
	if (!pattern_ok(v))
		return bad(c, "number pattern", v, k);
	copy_str((char *)obj + k->off, SCN_PATTERN_MAX, v);
	return SY_OK;
}

struct dests {
	struct scn_dest *to;
	uint32_t to_n;
};

static enum sy_rc to_weights(struct pctx *c, struct dests *t, uint32_t weighted, uint32_t sum,
			     const struct key_def *k)
{
	if (weighted == 0) { /* equal shares; the remainder goes to the first */
		for (uint32_t i = 0; i < t->to_n; i++)
			t->to[i].weight_ppm = SCN_PPM / t->to_n;
		t->to[0].weight_ppm += SCN_PPM % t->to_n;
		return SY_OK;
	}
	if (weighted != t->to_n)
		return fail(c, "weights for '%s' must be given for every pattern or for none", k->name);
	if (sum != SCN_PPM) {
		char pct[32];
		scn_fmt_ppm(sum, pct, sizeof(pct));
		return fail(c, "weights for '%s' sum to %s, not 100%%", k->name, pct);
	}
	return SY_OK;
}

/* "+1XXXXXXXXXX 70% +44XXXXXXXXXX 30%" or patterns without weights; the
 * array is at k->off and its count at k->off2. */
static enum sy_rc k_to(struct pctx *c, void *obj, const struct key_def *k, struct sy_str v)
{
	struct dests dd = {(struct scn_dest *)((char *)obj + k->off), 0}, *t = &dd;
	uint32_t *to_n = (uint32_t *)((char *)obj + k->off2);
	enum sy_rc rc;
	struct sy_str tok;
	uint32_t weighted = 0, sum = 0;
	bool last_weighted = true;
	t->to_n = 0;
	while (next_tok(&v, &tok, false)) {
		if (tok.p[tok.len - 1] == '%') {
			if (t->to_n == 0 || last_weighted || !parse_pct(tok, &t->to[t->to_n - 1].weight_ppm))
				return bad(c, "weight", tok, k);
			sum += t->to[t->to_n - 1].weight_ppm;
			weighted++;
			last_weighted = true;
			continue;
		}
		if (!pattern_ok(tok))
			return bad(c, "number pattern", tok, k);
		if (t->to_n == SCN_DESTS_MAX)
			return fail(c, "too many patterns for '%s' (max %d)", k->name, SCN_DESTS_MAX);
		copy_str(t->to[t->to_n].pattern, SCN_PATTERN_MAX, tok);
		t->to[t->to_n++].weight_ppm = 0;
		last_weighted = false;
	}
	rc = to_weights(c, t, weighted, sum, k);
	*to_n = t->to_n;
	return rc;
}

static enum sy_rc k_cps(struct pctx *c, void *obj, const struct key_def *k, struct sy_str v)
{
	uint64_t *cps = (uint64_t *)((char *)obj + k->off);
	if (sy_decimal_parse(v, 3, cps) != SY_OK || *cps == 0)
		return bad(c, "rate", v, k);
	return SY_OK;
}

static enum sy_rc k_account_ref(struct pctx *c, void *obj, const struct key_def *k, struct sy_str v);

#define VOICE(f) offsetof(struct scn_traffic_voice, f)
static const struct key_def voice_keys[] = {
	{"cps", k_cps, VOICE(cps_milli), 0, true},	 {"to", k_to, VOICE(to), VOICE(to_n), true},
	{"from", k_pattern, VOICE(from), 0, false},	 {"hold", k_dist, VOICE(hold), 0, false},
	{"link", k_link, VOICE(link), 0, false},	 {"start", k_duration, VOICE(start_ns), 0, false},
	{"duration", k_duration_nz, VOICE(duration_ns), 0, false}, {"calls", k_u64, VOICE(calls_max), 0, false},
	{"account", k_account_ref, VOICE(account), VOICE(account_line), false},
};

static void *voice_begin(struct pctx *c, struct sy_str name)
{
	struct scn_traffic_voice *t = &c->s->voice;
	t->present = true;
	t->line = c->line;
	return t;
}


/* ---- [account NAME] ---- */

static bool currency_ok(struct sy_str t)
{
	if (t.len != 3)
		return false;
	for (size_t i = 0; i < 3; i++)
		if (t.p[i] < 'A' || t.p[i] > 'Z')
			return false;
	return true;
}

/* "1000.00 USD" or "1000.00": exact micro-units; the currency is kept. */
static bool parse_money(struct sy_str v, int64_t *micros, char currency[4])
{
	struct sy_str rest = v, num, cur, extra;
	uint64_t x;
	if (!next_tok(&rest, &num, false) || sy_decimal_parse(num, 6, &x) != SY_OK || x > INT64_MAX)
		return false;
	if (next_tok(&rest, &cur, false)) {
		if (!currency_ok(cur) || next_tok(&rest, &extra, false))
			return false;
		if (currency != NULL)
			memcpy(currency, cur.p, 3), currency[3] = '\0';
	}
	*micros = (int64_t)x;
	return true;
}

static enum sy_rc k_money(struct pctx *c, void *obj, const struct key_def *k, struct sy_str v)
{
	struct scn_account *a = obj;
	char cur[4] = "";
	if (!parse_money(v, (int64_t *)((char *)obj + k->off), cur))
		return bad(c, "amount", v, k);
	if (cur[0] != '\0') {
		if (a->currency[0] != '\0' && strcmp(a->currency, cur) != 0)
			return fail(c, "currency %s differs from %s in %s", cur, a->currency, c->label);
		memcpy(a->currency, cur, 4);
	}
	return SY_OK;
}

static enum sy_rc k_account_type(struct pctx *c, void *obj, const struct key_def *k, struct sy_str v)
{
	struct scn_account *a = obj;
	if (sy_str_eq(v, SY_STR("prepaid")))
		a->type = SCN_ACCOUNT_PREPAID;
	else if (sy_str_eq(v, SY_STR("postpaid")))
		a->type = SCN_ACCOUNT_POSTPAID;
	else
		return fail(c, "bad type '%.*s' for '%s' (prepaid or postpaid)", SV(v), k->name);
	return SY_OK;
}

static enum sy_rc k_digits(struct pctx *c, void *obj, const struct key_def *k, struct sy_str v)
{
	struct sy_str d = v;
	if (d.len > 0 && d.p[0] == '+')
		d.p++, d.len--;
	bool ok = d.len > 0 && d.len < k->off2;
	for (size_t i = 0; ok && i < d.len; i++)
		ok = d.p[i] >= '0' && d.p[i] <= '9';
	if (!ok)
		return bad(c, "number prefix", v, k);
	copy_str((char *)obj + k->off, k->off2, d);
	return SY_OK;
}

#define ACC(f) offsetof(struct scn_account, f)
static const struct key_def account_keys[] = {
	{"type", k_account_type, 0, 0, false},
	{"balance", k_money, ACC(balance_micros), 0, false},
	{"credit_limit", k_money, ACC(credit_limit_micros), 0, false},
	{"callers", k_digits, ACC(callers), SCN_PATTERN_MAX, false},
	{"count", k_u32, ACC(count), 0, false},
	{"tariff", k_str, ACC(tariff), SCN_NAME_MAX, false},
	{"password", k_str, ACC(password), SCN_SECRET_MAX, false},
	{"token", k_str, ACC(token), SCN_SECRET_MAX, false},
	{"tps", k_u32, ACC(tps), 0, false},
};

static void *account_begin(struct pctx *c, struct sy_str name)
{
	struct scn *s = c->s;
	for (uint32_t i = 0; i < s->account_n; i++)
		if (sy_str_eq(name, sy_str_from(s->accounts[i].name))) {
			fail(c, "duplicate section [account %.*s]", SV(name));
			return NULL;
		}
	if (s->account_n == SCN_ACCOUNTS_MAX) {
		fail(c, "too many accounts (max %d)", SCN_ACCOUNTS_MAX);
		return NULL;
	}
	struct scn_account *a = &s->accounts[s->account_n];
	memset(a, 0, sizeof(*a));
	if (!copy_str(a->name, SCN_NAME_MAX, name)) {
		fail(c, "account name too long '%.*s' (max %d)", SV(name), SCN_NAME_MAX - 1);
		return NULL;
	}
	s->account_n++;
	a->line = c->line;
	return a;
}

static enum sy_rc account_end(struct pctx *c, void *obj)
{
	struct scn_account *a = obj;
	if (a->currency[0] == '\0')
		strcpy(a->currency, "USD");
	if (a->count > 1000000)
		return fail_at(c, a->line, "[account %s] count %u is over 1000000", a->name, a->count);
	if (a->count > 1 && a->callers[0] == '\0')
		return fail_at(c, a->line, "[account %s] with count needs 'callers' (the number prefix)", a->name);
	return SY_OK;
}

/* ---- [tariff NAME] ---- */

static enum sy_rc k_file(struct pctx *c, void *obj, const struct key_def *k, struct sy_str v)
{
	char *dst = (char *)obj + k->off;
	const char *slash = strrchr(c->file, '/');
	int n;
	if (v.p[0] == '/' || slash == NULL)
		n = snprintf(dst, SCN_PATH_MAX, "%.*s", SV(v));
	else /* relative to the scenario's folder */
		n = snprintf(dst, SCN_PATH_MAX, "%.*s/%.*s", (int)(slash - c->file), c->file, SV(v));
	if (n < 0 || n >= SCN_PATH_MAX)
		return fail(c, "path too long for '%s'", k->name);
	return SY_OK;
}

static const struct key_def tariff_keys[] = {
	{"file", k_file, offsetof(struct scn_tariff, file), 0, true},
};

static void *tariff_begin(struct pctx *c, struct sy_str name)
{
	struct scn *s = c->s;
	for (uint32_t i = 0; i < s->tariff_n; i++)
		if (sy_str_eq(name, sy_str_from(s->tariffs[i].name))) {
			fail(c, "duplicate section [tariff %.*s]", SV(name));
			return NULL;
		}
	if (s->tariff_n == SCN_TARIFFS_MAX) {
		fail(c, "too many tariffs (max %d)", SCN_TARIFFS_MAX);
		return NULL;
	}
	struct scn_tariff *t = &s->tariffs[s->tariff_n];
	memset(t, 0, sizeof(*t));
	if (!copy_str(t->name, SCN_NAME_MAX, name)) {
		fail(c, "tariff name too long '%.*s'", SV(name));
		return NULL;
	}
	s->tariff_n++;
	t->line = c->line;
	return t;
}

/* ---- [smpp-carrier NAME] ---- */

/* "98% delay 1s..5s" or "98%". */
static enum sy_rc k_delivery(struct pctx *c, void *obj, const struct key_def *k, struct sy_str v)
{
	struct scn_smpp_carrier *sc = obj;
	struct sy_str rest = v, tok;
	next_tok(&rest, &tok, false);
	if (!parse_pct(tok, &sc->deliver_ppm))
		return bad(c, "percentage", tok, k);
	if (!next_tok(&rest, &tok, false))
		return SY_OK;
	if (!sy_str_eq(tok, SY_STR("delay")) || trim(rest).len == 0)
		return fail(c, "expected '%s = PERCENT delay DISTRIBUTION', got '%.*s'", k->name, SV(v));
	return k_dist(c, sc, &(struct key_def){k->name, NULL, offsetof(struct scn_smpp_carrier, dlr_delay), 0, 0},
		      trim(rest));
}

static enum sy_rc k_pct(struct pctx *c, void *obj, const struct key_def *k, struct sy_str v)
{
	if (!parse_pct(v, (uint32_t *)((char *)obj + k->off)))
		return bad(c, "percentage", v, k);
	return SY_OK;
}

/* "0.0050" or "0.0050/msg": micro-units per message. */
static enum sy_rc k_msg_rate(struct pctx *c, void *obj, const struct key_def *k, struct sy_str v)
{
	struct sy_str num = v;
	ends_with(v, "/msg", &num);
	if (sy_decimal_parse(num, 6, (uint64_t *)((char *)obj + k->off)) != SY_OK)
		return bad(c, "rate", v, k);
	return SY_OK;
}

static enum sy_rc k_bool(struct pctx *c, void *obj, const struct key_def *k, struct sy_str v);

#define SC(f) offsetof(struct scn_smpp_carrier, f)
static const struct key_def smpp_carrier_keys[] = {
	{"prefixes", k_prefixes, SC(prefixes), SC(prefix_n), true},
	{"priority", k_i32, SC(priority), 0, false},
	{"address", k_addr, SC(address), SC(addr), false},
	{"system_id", k_str, SC(system_id), 16, false},
	{"password", k_str, SC(password), 9, false},
	{"binds", k_u32, SC(binds), 0, false},
	{"window", k_u32, SC(window), 0, false},
	{"tps", k_u32, SC(tps), 0, false},
	{"accept", k_pct, SC(accept_ppm), 0, false},
	{"delivery", k_delivery, 0, 0, false},
	{"link", k_link, SC(link), 0, false},
	{"rate", k_msg_rate, SC(rate_micros), 0, false},
	{"dedup", k_bool, SC(dedup), 0, false},
};

static void *smpp_carrier_begin(struct pctx *c, struct sy_str name)
{
	struct scn *s = c->s;
	for (uint32_t i = 0; i < s->smpp_carrier_n; i++)
		if (sy_str_eq(name, sy_str_from(s->smpp_carriers[i].name))) {
			fail(c, "duplicate section [smpp-carrier %.*s]", SV(name));
			return NULL;
		}
	if (s->smpp_carrier_n == SCN_SMPP_CARRIERS_MAX) {
		fail(c, "too many SMPP carriers (max %d)", SCN_SMPP_CARRIERS_MAX);
		return NULL;
	}
	struct scn_smpp_carrier *sc = &s->smpp_carriers[s->smpp_carrier_n];
	memset(sc, 0, sizeof(*sc));
	if (!copy_str(sc->name, SCN_NAME_MAX, name)) {
		fail(c, "SMPP carrier name too long '%.*s'", SV(name));
		return NULL;
	}
	s->smpp_carrier_n++;
	sc->line = c->line;
	copy_str(sc->system_id, sizeof(sc->system_id), (struct sy_str){name.p, SY_MIN(name.len, 15)});
	strcpy(sc->password, "secret");
	sc->binds = 1;
	sc->window = 100;
	sc->accept_ppm = SCN_PPM;
	sc->deliver_ppm = SCN_PPM;
	sc->dedup = true;
	sc->dlr_delay = (struct sy_dist){SY_DIST_UNIFORM, SY_NS_PER_S, 5 * SY_NS_PER_S, 0.0};
	return sc;
}

static enum sy_rc smpp_carrier_end(struct pctx *c, void *obj)
{
	struct scn_smpp_carrier *sc = obj;
	if (sc->binds == 0 || sc->binds > 64)
		return fail_at(c, sc->line, "[smpp-carrier %s] binds must be 1..64", sc->name);
	if (sc->window == 0)
		return fail_at(c, sc->line, "[smpp-carrier %s] window must be at least 1", sc->name);
	return SY_OK;
}

/* ---- [traffic sms] ---- */

/* "20..140" characters, or one number. */
static enum sy_rc k_length(struct pctx *c, void *obj, const struct key_def *k, struct sy_str v)
{
	struct scn_traffic_sms *t = obj;
	const char *dots = NULL;
	for (size_t i = 0; i + 1 < v.len; i++)
		if (v.p[i] == '.' && v.p[i + 1] == '.')
			dots = v.p + i;
	uint64_t lo, hi;
	bool ok = dots ? parse_uint((struct sy_str){v.p, (size_t)(dots - v.p)}, 10000, &lo) &&
			       parse_uint((struct sy_str){dots + 2, v.len - (size_t)(dots - v.p) - 2}, 10000, &hi)
		       : parse_uint(v, 10000, &lo) && (hi = lo, true);
	if (!ok || lo == 0 || hi < lo)
		return bad(c, "length", v, k);
	t->length_min = (uint32_t)lo;
	t->length_max = (uint32_t)hi;
	return SY_OK;
}

static enum sy_rc k_bool(struct pctx *c, void *obj, const struct key_def *k, struct sy_str v)
{
	bool *b = (bool *)((char *)obj + k->off);
	if (sy_str_eq(v, SY_STR("on")) || sy_str_eq(v, SY_STR("yes")) || sy_str_eq(v, SY_STR("true")))
		*b = true;
	else if (sy_str_eq(v, SY_STR("off")) || sy_str_eq(v, SY_STR("no")) || sy_str_eq(v, SY_STR("false")))
		*b = false;
	else
		return fail(c, "bad value '%.*s' for '%s' (on or off)", SV(v), k->name);
	return SY_OK;
}

static enum sy_rc k_account_ref(struct pctx *c, void *obj, const struct key_def *k, struct sy_str v)
{
	if (!copy_str((char *)obj + k->off, SCN_NAME_MAX, v))
		return bad(c, "account name", v, k);
	*(uint32_t *)((char *)obj + k->off2) = c->line;
	return SY_OK;
}

#define SMS(f) offsetof(struct scn_traffic_sms, f)
static const struct key_def sms_keys[] = {
	{"account", k_account_ref, SMS(account), SMS(account_line), true},
	{"tps", k_cps, SMS(tps_milli), 0, true},
	{"binds", k_u32, SMS(binds), 0, false},
	{"window", k_u32, SMS(window), 0, false},
	{"to", k_to, SMS(to), SMS(to_n), true},
	{"from", k_pattern, SMS(from), 0, false},
	{"length", k_length, 0, 0, false},
	{"ucs2", k_pct, SMS(ucs2_ppm), 0, false},
	{"dlr", k_bool, SMS(dlr), 0, false},
	{"validity", k_duration_nz, SMS(validity_ns), 0, false},
	{"link", k_link, SMS(link), 0, false},
	{"start", k_duration, SMS(start_ns), 0, false},
	{"duration", k_duration_nz, SMS(duration_ns), 0, false},
	{"messages", k_u64, SMS(messages_max), 0, false},
};

static void *sms_begin(struct pctx *c, struct sy_str name)
{
	struct scn_traffic_sms *t = &c->s->sms;
	t->present = true;
	t->line = c->line;
	return t;
}

static enum sy_rc sms_end(struct pctx *c, void *obj)
{
	struct scn_traffic_sms *t = obj;
	if (t->binds == 0 || t->binds > 64)
		return fail_at(c, t->line, "[traffic sms] binds must be 1..64");
	if (t->window == 0)
		return fail_at(c, t->line, "[traffic sms] window must be at least 1");
	return SY_OK;
}

/* ---- [fault] ---- */

/* "NAME down 10s". */
static enum sy_rc k_fault_carrier(struct pctx *c, void *obj, const struct key_def *k, struct sy_str v)
{
	struct scn_fault *f = obj;
	struct sy_str rest = v, name, verb, dur, extra;
	bool ok = next_tok(&rest, &name, false) && next_tok(&rest, &verb, false) &&
		  sy_str_eq(verb, SY_STR("down")) && next_tok(&rest, &dur, false) && !next_tok(&rest, &extra, false);
	if (!ok)
		return fail(c, "expected '%s = NAME down DURATION', got '%.*s'", k->name, SV(v));
	if (f->kind != SCN_FAULT_NONE)
		return fail(c, "[fault] has more than one fault; use one section per fault");
	if (sy_duration_parse_str(dur, &f->duration_ns) != SY_OK)
		return bad(c, "duration", dur, k);
	if (!copy_str(f->target, SCN_NAME_MAX, name))
		return bad(c, "carrier name", name, k);
	f->kind = SCN_FAULT_CARRIER_DOWN;
	f->target_line = c->line;
	return SY_OK;
}

/* "NAME drop 5s" (SMPP binds cut) or "NAME crash 5s" (node killed). */
static enum sy_rc fault_verb(struct pctx *c, void *obj, const struct key_def *k, struct sy_str v, const char *verb,
			     enum scn_fault_kind kind)
{
	struct scn_fault *f = obj;
	struct sy_str rest = v, name, word, dur, extra;
	bool ok = next_tok(&rest, &name, false) && next_tok(&rest, &word, false) &&
		  sy_str_eq(word, sy_str_from(verb)) && next_tok(&rest, &dur, false) && !next_tok(&rest, &extra, false);
	if (!ok)
		return fail(c, "expected '%s = NAME %s DURATION', got '%.*s'", k->name, verb, SV(v));
	if (f->kind != SCN_FAULT_NONE)
		return fail(c, "[fault] has more than one fault; use one section per fault");
	if (sy_duration_parse_str(dur, &f->duration_ns) != SY_OK)
		return bad(c, "duration", dur, k);
	if (!copy_str(f->target, SCN_NAME_MAX, name))
		return bad(c, "name", name, k);
	f->kind = kind;
	f->target_line = c->line;
	return SY_OK;
}

static enum sy_rc k_fault_smpp(struct pctx *c, void *obj, const struct key_def *k, struct sy_str v)
{
	return fault_verb(c, obj, k, v, "drop", SCN_FAULT_SMPP_DROP);
}

static enum sy_rc k_fault_node(struct pctx *c, void *obj, const struct key_def *k, struct sy_str v)
{
	return fault_verb(c, obj, k, v, "crash", SCN_FAULT_NODE_CRASH);
}

/* "slow 50ms [for 10s]", "full [for] 10s", "fsync-fail [for 10s]". */
static enum sy_rc k_fault_disk(struct pctx *c, void *obj, const struct key_def *k, struct sy_str v)
{
	struct scn_fault *f = obj;
	struct sy_str rest = v, kind, tok;
	enum scn_fault_kind kinds[] = {SCN_FAULT_DISK_SLOW, SCN_FAULT_DISK_FULL, SCN_FAULT_DISK_FSYNC_FAIL};
	const char *names[] = {"slow", "full", "fsync-fail"};
	uint32_t i = 0;
	bool ok = next_tok(&rest, &kind, false);
	while (ok && i < 3 && !sy_str_eq(kind, sy_str_from(names[i])))
		i++;
	ok = ok && i < 3;
	if (ok && kinds[i] == SCN_FAULT_DISK_SLOW)
		ok = next_tok(&rest, &tok, false) && sy_duration_parse_str(tok, &f->latency_ns) == SY_OK &&
		     f->latency_ns > 0;
	bool more = ok && next_tok(&rest, &tok, false);
	if (more && sy_str_eq(tok, SY_STR("for")))
		more = next_tok(&rest, &tok, false), ok = more;
	if (more)
		ok = sy_duration_parse_str(tok, &f->duration_ns) == SY_OK && f->duration_ns > 0 &&
		     !next_tok(&rest, &tok, false);
	if (!ok)
		return fail(c, "expected '%s = slow LATENCY [for DURATION]', 'full [for DURATION]' or "
			       "'fsync-fail [for DURATION]', got '%.*s'",
			    k->name, SV(v));
	if (f->kind != SCN_FAULT_NONE)
		return fail(c, "[fault] has more than one fault; use one section per fault");
	f->kind = kinds[i];
	return SY_OK;
}

static const struct key_def fault_keys[] = {
	{"at", k_duration, offsetof(struct scn_fault, at_ns), 0, true},
	{"carrier", k_fault_carrier, 0, 0, false},
	{"smpp-carrier", k_fault_smpp, 0, 0, false},
	{"node", k_fault_node, 0, 0, false},
	{"disk", k_fault_disk, 0, 0, false},
};

static void *fault_begin(struct pctx *c, struct sy_str name)
{
	if (c->s->fault_n == SCN_FAULTS_MAX) {
		fail(c, "too many [fault] sections (max %d)", SCN_FAULTS_MAX);
		return NULL;
	}
	struct scn_fault *f = &c->s->faults[c->s->fault_n++];
	memset(f, 0, sizeof(*f));
	f->line = c->line;
	f->carrier = -1;
	return f;
}

static enum sy_rc fault_end(struct pctx *c, void *obj)
{
	struct scn_fault *f = obj;
	if (f->kind == SCN_FAULT_NONE)
		return fail_at(c, f->line, "[fault] says no fault (e.g. carrier = NAME down 10s)");
	return SY_OK;
}

/* ---- [expect] ---- */

struct metric_def {
	const char *name; /* a trailing '.' matches every name below it */
	enum scn_unit unit;
};

static const struct metric_def metrics[] = {
	{"asr", SCN_UNIT_PPM},
	{"pdd.", SCN_UNIT_NS},
	{"calls.", SCN_UNIT_COUNT},
	{"cdr.", SCN_UNIT_COUNT},
	{"sms.", SCN_UNIT_COUNT},
	{"submit_resp.", SCN_UNIT_NS},
	{"billing.revenue", SCN_UNIT_MONEY},
	{"billing.cost", SCN_UNIT_MONEY},
	{"billing.margin", SCN_UNIT_MONEY},
	{"billing.sms_revenue", SCN_UNIT_MONEY},
	{"billing.conservation_error", SCN_UNIT_MONEY},
	{"billing.cutoffs", SCN_UNIT_COUNT},
	{"billing.cutoff_late_max", SCN_UNIT_NS},
	{"billing.cutoff_violations", SCN_UNIT_COUNT},
	{"billing.declined", SCN_UNIT_COUNT},
	{"accounts.negative", SCN_UNIT_COUNT},
};

bool scn_metric_unit(const char *metric, enum scn_unit *out)
{
	for (size_t i = 0; i < SY_ARRAY_LEN(metrics); i++) {
		size_t n = strlen(metrics[i].name);
		bool group = metrics[i].name[n - 1] == '.';
		if (group ? strncmp(metric, metrics[i].name, n) == 0 && metric[n] : strcmp(metric, metrics[i].name) == 0) {
			*out = metrics[i].unit;
			return true;
		}
	}
	return false;
}

const char *scn_unit_name(enum scn_unit u)
{
	switch (u) {
	case SCN_UNIT_COUNT: return "a count";
	case SCN_UNIT_PPM: return "a percentage";
	case SCN_UNIT_NS: return "a duration";
	case SCN_UNIT_MONEY: return "an amount";
	}
	return "?";
}

static const char *const op_names[] = {">=", "<=", "==", "!=", ">", "<"};

const char *scn_op_str(enum scn_op op)
{
	SY_ASSERT((size_t)op < SY_ARRAY_LEN(op_names));
	return op_names[op];
}

/* "65%" (ppm), "200ms" (ns), "-3" or "0" (count), "100.00 USD" (money). */
static bool expect_value(struct sy_str v, int64_t *out, enum scn_unit *unit)
{
	uint32_t ppm;
	uint64_t x;
	if (v.len > 4 && v.p[v.len - 4] == ' ' && currency_ok((struct sy_str){v.p + v.len - 3, 3})) {
		bool neg = v.p[0] == '-';
		struct sy_str d = trim((struct sy_str){v.p + neg, v.len - 4 - neg});
		if (sy_decimal_parse(d, 6, &x) != SY_OK || x > INT64_MAX)
			return false;
		*out = neg ? -(int64_t)x : (int64_t)x;
		*unit = SCN_UNIT_MONEY;
		return true;
	}
	if (v.len && v.p[v.len - 1] == '%') {
		if (!parse_pct(v, &ppm))
			return false;
		*out = ppm;
		*unit = SCN_UNIT_PPM;
		return true;
	}
	bool neg = v.len > 1 && v.p[0] == '-';
	struct sy_str d = neg ? (struct sy_str){v.p + 1, v.len - 1} : v;
	if (parse_uint(d, INT64_MAX, &x)) {
		*out = neg ? -(int64_t)x : (int64_t)x;
		*unit = SCN_UNIT_COUNT;
		return true;
	}
	if (neg || sy_duration_parse_str(v, &x) != SY_OK || x > INT64_MAX)
		return false;
	*out = (int64_t)x;
	*unit = SCN_UNIT_NS;
	return true;
}

static bool is_metric_char(char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') || ch == '.' ||
	       ch == '_' || ch == '-';
}

/* "METRIC OP VALUE"; spaces around OP are optional. */
static enum sy_rc expect_line(struct pctx *c, struct sy_str line)
{
	struct scn *s = c->s;
	if (s->expect_n == SCN_EXPECTS_MAX)
		return fail(c, "too many expectations (max %d)", SCN_EXPECTS_MAX);
	struct scn_expect *e = &s->expects[s->expect_n];
	memset(e, 0, sizeof(*e));
	size_t i = 0;
	while (i < line.len && is_metric_char(line.p[i]))
		i++;
	struct sy_str metric = {line.p, i}, rest = trim((struct sy_str){line.p + i, line.len - i}), op;
	size_t o = 0;
	while (o < rest.len && strchr("<>=!~", rest.p[o]))
		o++;
	op = (struct sy_str){rest.p, o};
	struct sy_str val = trim((struct sy_str){rest.p + o, rest.len - o});
	if (metric.len == 0 || op.len == 0 || val.len == 0)
		return fail(c, "expected 'METRIC OP VALUE', got '%.*s'", SV(line));
	if (!copy_str(e->metric, SCN_METRIC_MAX, metric))
		return fail(c, "metric name too long '%.*s'", SV(metric));
	size_t k = 0;
	while (k < SY_ARRAY_LEN(op_names) && !sy_str_eq(op, sy_str_from(op_names[k])))
		k++;
	if (k == SY_ARRAY_LEN(op_names))
		return fail(c, "bad operator '%.*s' in '%.*s' (use >= <= == != > <)", SV(op), SV(line));
	e->op = (enum scn_op)k;
	if (!expect_value(val, &e->value, &e->unit))
		return fail(c, "bad value '%.*s' in '%.*s'", SV(val), SV(line));
	enum scn_unit mu;
	if (scn_metric_unit(e->metric, &mu) && mu != e->unit) {
		if (!(e->unit == SCN_UNIT_COUNT && e->value == 0))
			return fail(c, "unit mismatch: '%s' is %s, '%.*s' is %s", e->metric, scn_unit_name(mu),
				    SV(val), scn_unit_name(e->unit));
		e->unit = mu; /* a bare 0 fits any unit */
	}
	e->line = c->line;
	snprintf(e->text, sizeof(e->text), "%.*s", SV(line));
	s->expect_n++;
	return SY_OK;
}

size_t scn_fmt_ppm(int64_t ppm, char *buf, size_t n)
{
	uint64_t a = ppm < 0 ? (uint64_t)0 - (uint64_t)ppm : (uint64_t)ppm;
	char frac[8];
	snprintf(frac, sizeof(frac), "%04llu", (unsigned long long)(a % 10000));
	int len = 4;
	while (len > 0 && frac[len - 1] == '0')
		len--;
	int w = snprintf(buf, n, "%s%llu%s%.*s%%", ppm < 0 ? "-" : "", (unsigned long long)(a / 10000),
			 len ? "." : "", len, frac);
	return w < 0 ? 0 : (size_t)w;
}

static void *expect_begin(struct pctx *c, struct sy_str name)
{
	return c->s;
}

/* ---- the section table ---- */

#define KEYS(t) (t), SY_ARRAY_LEN(t)
static const struct sec_def sections[] = {
	{"run", NULL, KEYS(run_keys), run_begin, NULL, NULL, false},
	{"node", NULL, KEYS(node_keys), node_begin, NULL, NULL, false},
	{"carrier", "*", KEYS(carrier_keys), carrier_begin, NULL, NULL, true},
	{"traffic", "voice", KEYS(voice_keys), voice_begin, NULL, NULL, false},
	{"fault", NULL, KEYS(fault_keys), fault_begin, fault_end, NULL, true},
	{"account", "*", KEYS(account_keys), account_begin, account_end, NULL, true},
	{"tariff", "*", KEYS(tariff_keys), tariff_begin, NULL, NULL, true},
	{"smpp-carrier", "*", KEYS(smpp_carrier_keys), smpp_carrier_begin, smpp_carrier_end, NULL, true},
	{"traffic", "sms", KEYS(sms_keys), sms_begin, sms_end, NULL, false},
	{"expect", NULL, NULL, 0, expect_begin, NULL, expect_line, true},
};
_Static_assert(SY_ARRAY_LEN(sections) <= 64, "seen_secs is a 64-bit mask");

/* Closes the open section: required keys, then its own checks. */
static enum sy_rc section_end(struct pctx *c)
{
	if (c->sec == NULL)
		return SY_OK;
	for (size_t i = 0; i < c->sec->key_n; i++)
		if (c->sec->keys[i].required && !(c->seen_keys & (1ull << i)))
			return fail_at(c, c->sec_line, "%s needs '%s'", c->label, c->sec->keys[i].name);
	enum sy_rc rc = c->sec->end ? c->sec->end(c, c->obj) : SY_OK;
	c->sec = NULL;
	return rc;
}

static const struct sec_def *section_find(struct pctx *c, struct sy_str kind, struct sy_str name)
{
	bool kind_known = false;
	for (size_t i = 0; i < SY_ARRAY_LEN(sections); i++) {
		const struct sec_def *d = &sections[i];
		if (!sy_str_eq(kind, sy_str_from(d->kind)))
			continue;
		kind_known = true;
		if (d->name == NULL && name.len == 0)
			return d;
		if (d->name && strcmp(d->name, "*") == 0 && name.len > 0)
			return d;
		if (d->name && sy_str_eq(name, sy_str_from(d->name)))
			return d;
	}
	if (kind_known && name.len == 0)
		fail(c, "section [%.*s] needs a name", SV(kind));
	else if (name.len == 0)
		fail(c, "unknown section [%.*s]", SV(kind));
	else
		fail(c, "unknown section [%.*s %.*s]", SV(kind), SV(name));
	return NULL;
}

static enum sy_rc section_open(struct pctx *c, struct sy_str hdr)
{
	struct sy_str in, kind, name, extra;
	enum sy_rc rc = section_end(c);
	if (rc != SY_OK)
		return rc;
	if (hdr.p[hdr.len - 1] != ']')
		return fail(c, "bad section header '%.*s'", SV(hdr));
	in = (struct sy_str){hdr.p + 1, hdr.len - 2};
	if (!next_tok(&in, &kind, false))
		return fail(c, "bad section header '%.*s'", SV(hdr));
	next_tok(&in, &name, false);
	if (next_tok(&in, &extra, false))
		return fail(c, "bad section header '%.*s'", SV(hdr));
	const struct sec_def *d = section_find(c, kind, name);
	if (d == NULL)
		return SY_ERR_PARSE;
	uint64_t bit = 1ull << (d - sections);
	if (!d->multi && (c->seen_secs & bit))
		return fail(c, "duplicate section %.*s", SV(hdr));
	c->seen_secs |= bit;
	snprintf(c->label, sizeof(c->label), "[%.*s%s%.*s]", SV(kind), name.len ? " " : "",
		 (int)SY_MIN(name.len, SCN_NAME_MAX), name.p);
	c->obj = d->begin(c, name);
	if (c->obj == NULL)
		return SY_ERR_PARSE;
	c->sec = d;
	c->seen_keys = 0;
	c->sec_line = c->line;
	return SY_OK;
}

static enum sy_rc key_line(struct pctx *c, struct sy_str line)
{
	const char *eq = memchr(line.p, '=', line.len);
	if (eq == NULL)
		return fail(c, "expected 'key = value', got '%.*s'", SV(line));
	struct sy_str key = trim((struct sy_str){line.p, (size_t)(eq - line.p)});
	struct sy_str val = trim((struct sy_str){eq + 1, line.len - (size_t)(eq - line.p) - 1});
	for (size_t i = 0; i < c->sec->key_n; i++) {
		const struct key_def *k = &c->sec->keys[i];
		if (!sy_str_eq(key, sy_str_from(k->name)))
			continue;
		if (c->seen_keys & (1ull << i))
			return fail(c, "duplicate key '%.*s' in %s", SV(key), c->label);
		c->seen_keys |= 1ull << i;
		if (val.len == 0)
			return fail(c, "empty value for '%.*s'", SV(key));
		if (val.len >= VALUE_MAX)
			return fail(c, "value too long for '%.*s'", SV(key));
		return k->fn(c, c->obj, k, val);
	}
	return fail(c, "unknown key '%.*s' in %s", SV(key), c->label);
}

static enum sy_rc do_line(struct pctx *c, struct sy_str line)
{
	const char *hash = memchr(line.p, '#', line.len);
	if (hash)
		line.len = (size_t)(hash - line.p);
	line = trim(line);
	if (line.len == 0)
		return SY_OK;
	if (line.p[0] == '[')
		return section_open(c, line);
	if (c->sec == NULL)
		return fail(c, "'%.*s' outside any section", SV(line));
	if (c->sec->line)
		return c->sec->line(c, line);
	return key_line(c, line);
}

/* Checks that need the whole file: names that refer to other sections. */
static enum sy_rc cross_check(struct pctx *c)
{
	struct scn *s = c->s;
	for (uint32_t i = 0; i < s->fault_n; i++) {
		struct scn_fault *f = &s->faults[i];
		if (f->kind == SCN_FAULT_CARRIER_DOWN) {
			f->carrier = scn_carrier_find(s, f->target);
			if (f->carrier < 0)
				return fail_at(c, f->target_line, "[fault] names unknown carrier '%s'", f->target);
		} else if (f->kind == SCN_FAULT_SMPP_DROP) {
			f->carrier = scn_smpp_carrier_find(s, f->target);
			if (f->carrier < 0)
				return fail_at(c, f->target_line, "[fault] names unknown smpp-carrier '%s'", f->target);
		} else if (f->kind == SCN_FAULT_NODE_CRASH && strcmp(f->target, "switch") != 0) {
			return fail_at(c, f->target_line, "[fault] names unknown node '%s' (the switch is 'switch')",
				       f->target);
		}
	}
	if (s->voice.account[0] != '\0' && scn_account_find(s, s->voice.account) < 0)
		return fail_at(c, s->voice.account_line, "[traffic voice] names unknown account '%s'", s->voice.account);
	if (s->sms.present && scn_account_find(s, s->sms.account) < 0)
		return fail_at(c, s->sms.account_line, "[traffic sms] names unknown account '%s'", s->sms.account);
	for (uint32_t i = 0; i < s->account_n; i++) {
		const struct scn_account *a = &s->accounts[i];
		bool found = a->tariff[0] == '\0';
		for (uint32_t t = 0; !found && t < s->tariff_n; t++)
			found = strcmp(s->tariffs[t].name, a->tariff) == 0;
		if (!found)
			return fail_at(c, a->line, "[account %s] names unknown tariff '%s'", a->name, a->tariff);
	}
	return SY_OK;
}

static void defaults(struct scn *s)
{
	s->run.duration_ns = 60 * SY_NS_PER_S;
	s->run.seed = 1;
	s->run.drain_ns = 120 * SY_NS_PER_S;
	s->run.epoch_ns = 1767225600ull * SY_NS_PER_S; /* 2026-01-01T00:00:00Z */
	s->run.t1_ns = 500 * SY_NS_PER_MS;
	strcpy(s->node.sip, "127.0.0.1:5060");
	s->node.invite_timeout_ns = 3 * SY_NS_PER_S;
	s->node.ring_timeout_ns = 120 * SY_NS_PER_S;
	s->node.max_call_ns = 4 * 3600 * SY_NS_PER_S;
	SY_ASSERT(sy_addr_parse(s->node.sip, 5060, &s->node.sip_addr) == SY_OK);
	strcpy(s->node.smpp, "127.0.0.1:2775");
	SY_ASSERT(sy_addr_parse(s->node.smpp, 2775, &s->node.smpp_addr) == SY_OK);
	strcpy(s->node.http, "127.0.0.1:8080");
	SY_ASSERT(sy_addr_parse(s->node.http, 8080, &s->node.http_addr) == SY_OK);
	strcpy(s->voice.from, "+1555XXXXXXX");
	strcpy(s->sms.from, "+1555XXXXXXX");
	s->sms.binds = 1;
	s->sms.window = 10;
	s->sms.length_min = 20;
	s->sms.length_max = 140;
	s->sms.dlr = true;
	s->sms.validity_ns = 24 * 3600 * SY_NS_PER_S;
	s->voice.hold = (struct sy_dist){SY_DIST_EXP, 90 * SY_NS_PER_S, 0, 0.0};
}

static enum sy_rc parse_lines(struct pctx *c, const char *text, size_t len)
{
	const char *p = text, *end = text + len;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *le = nl ? nl : end;
		c->line++;
		if (memchr(p, '\0', (size_t)(le - p)))
			return fail(c, "NUL byte in the file");
		enum sy_rc rc = do_line(c, (struct sy_str){p, (size_t)(le - p)});
		if (rc != SY_OK)
			return rc;
		p = le + (nl != NULL);
	}
	enum sy_rc rc = section_end(c);
	return rc != SY_OK ? rc : cross_check(c);
}

enum sy_rc scn_parse_buf(const char *text, size_t len, const char *name, struct scn **out, char *err,
			 size_t errlen)
{
	*out = NULL;
	if (err && errlen)
		err[0] = '\0';
	struct scn *s = calloc(1, sizeof(*s));
	if (s == NULL) {
		if (err && errlen)
			snprintf(err, errlen, "%s: out of memory", name);
		return SY_ERR_NOMEM;
	}
	snprintf(s->file, sizeof(s->file), "%s", name);
	defaults(s);
	struct pctx c = {.s = s, .file = name, .err = err, .errlen = errlen};
	enum sy_rc rc = parse_lines(&c, text, len);
	if (rc != SY_OK) {
		free(s);
		return rc;
	}
	*out = s;
	return SY_OK;
}

enum sy_rc scn_parse_string(const char *text, const char *name, struct scn **out, char *err, size_t errlen)
{
	return scn_parse_buf(text, strlen(text), name, out, err, errlen);
}

/* Reads up to SCN_FILE_MAX + 1 bytes (one more says "too large") into a
 * buffer that doubles as needed: files are a few KB, and a 16 MB buffer
 * up front cost serve's start-up milliseconds (tens under ASan). */
static char *scn_read_all(FILE *f, size_t *len)
{
	size_t cap = 64 * 1024, n = 0;
	char *buf = malloc(cap);
	while (buf != NULL) {
		n += fread(buf + n, 1, cap - n, f);
		if (n < cap || cap == SCN_FILE_MAX + 1 || ferror(f))
			break;
		size_t next = SY_MIN((size_t)SCN_FILE_MAX + 1, cap * 2);
		char *grown = realloc(buf, next);
		if (grown == NULL) {
			free(buf);
			buf = NULL;
			break;
		}
		buf = grown;
		cap = next;
	}
	*len = n;
	return buf;
}

enum sy_rc scn_parse_file(const char *path, struct scn **out, char *err, size_t errlen)
{
	*out = NULL;
	FILE *f = fopen(path, "rb");
	if (f == NULL) {
		if (err && errlen)
			snprintf(err, errlen, "%s: cannot open: %s", path, strerror(errno));
		return SY_ERR_IO;
	}
	size_t n = 0;
	char *buf = scn_read_all(f, &n);
	bool rerr = ferror(f);
	fclose(f);
	enum sy_rc rc = SY_ERR_IO;
	char dummy[8];
	if (err == NULL || errlen == 0)
		err = dummy, errlen = sizeof(dummy);
	if (buf == NULL)
		snprintf(err, errlen, "%s: out of memory", path);
	else if (rerr)
		snprintf(err, errlen, "%s: read error", path);
	else if (n > SCN_FILE_MAX)
		snprintf(err, errlen, "%s: larger than %u bytes", path, SCN_FILE_MAX);
	else
		rc = scn_parse_buf(buf, n, path, out, err, errlen);
	free(buf);
	return rc;
}

void scn_free(struct scn *s)
{
	free(s);
}

int scn_smpp_carrier_find(const struct scn *s, const char *name)
{
	for (uint32_t i = 0; i < s->smpp_carrier_n; i++)
		if (strcmp(s->smpp_carriers[i].name, name) == 0)
			return (int)i;
	return -1;
}

int scn_account_find(const struct scn *s, const char *name)
{
	for (uint32_t i = 0; i < s->account_n; i++)
		if (strcmp(s->accounts[i].name, name) == 0)
			return (int)i;
	return -1;
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

int scn_carrier_find(const struct scn *s, const char *name)
{
	for (uint32_t i = 0; i < s->carrier_n; i++)
		if (strcmp(s->carriers[i].name, name) == 0)
			return (int)i;
	return -1;
}
