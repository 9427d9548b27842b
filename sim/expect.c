/* expect.c: [expect] lines (expect.h): parsed as an extension of the
 * scenario parser, evaluated with integer comparisons only, so the verdict
 * for a given run is the same on every machine. */
#include "expect.h"

#include <stdio.h>

/* ---- [expect] ---- */

struct metric_def {
	const char *name; /* a trailing '.' matches every name below it */
	enum expect_unit unit;
};

static const struct metric_def metrics[] = {
    {"asr", EXPECT_UNIT_PPM},
    {"pdd.", EXPECT_UNIT_NS},
    {"calls.", EXPECT_UNIT_COUNT},
    {"cdr.", EXPECT_UNIT_COUNT},
    {"sms.", EXPECT_UNIT_COUNT},
    {"submit_resp.", EXPECT_UNIT_NS},
    {"billing.revenue", EXPECT_UNIT_MONEY},
    {"billing.cost", EXPECT_UNIT_MONEY},
    {"billing.margin", EXPECT_UNIT_MONEY},
    {"billing.sms_revenue", EXPECT_UNIT_MONEY},
    {"billing.conservation_error", EXPECT_UNIT_MONEY},
    {"billing.cutoffs", EXPECT_UNIT_COUNT},
    {"billing.cutoff_late_max", EXPECT_UNIT_NS},
    {"billing.cutoff_violations", EXPECT_UNIT_COUNT},
    {"billing.declined", EXPECT_UNIT_COUNT},
    {"accounts.negative", EXPECT_UNIT_COUNT},
    {"replay.", EXPECT_UNIT_COUNT},
    /* USSD (sim/run_ussd.c): the handsets' table, the figures comparing
     * them with the gateway's (whose own table, ussd.*, is checked when
     * evaluated) */
    {"handsets.step.", EXPECT_UNIT_NS},
    {"handsets.dialogue.", EXPECT_UNIT_NS},
    {"handsets.", EXPECT_UNIT_COUNT},
    {"ussd.completion_ratio", EXPECT_UNIT_PPM},
    {"ussd.unreleased", EXPECT_UNIT_COUNT},
    {"ussd.open_at_end", EXPECT_UNIT_COUNT},
    {"ussd.udr_missing", EXPECT_UNIT_COUNT},
    /* the fraud evaluator (sim/fraud_eval.c); per detector and attack below */
    {"fraud.money_stopped", EXPECT_UNIT_PPM},
    {"fraud.money_at_risk", EXPECT_UNIT_MONEY},
    {"fraud.money_through", EXPECT_UNIT_MONEY},
    {"fraud.normal_asr", EXPECT_UNIT_PPM},
    {"fraud.normal_asr_off", EXPECT_UNIT_PPM},
    {"fraud.normal_asr_delta", EXPECT_UNIT_PPM},
};

bool expect_metric_unit(const char *metric, enum expect_unit *out)
{
	for (size_t i = 0; i < SY_ARRAY_LEN(metrics); i++) {
		size_t n = strlen(metrics[i].name);
		bool group = metrics[i].name[n - 1] == '.';
		if (group ? strncmp(metric, metrics[i].name, n) == 0 && metric[n]
			  : strcmp(metric, metrics[i].name) == 0) {
			*out = metrics[i].unit;
			return true;
		}
	}
	return false;
}

const char *expect_unit_name(enum expect_unit u)
{
	switch (u) {
	case EXPECT_UNIT_COUNT:
		return "a count";
	case EXPECT_UNIT_PPM:
		return "a percentage";
	case EXPECT_UNIT_NS:
		return "a duration";
	case EXPECT_UNIT_MONEY:
		return "an amount";
	}
	return "?";
}

static const char *const op_names[] = {">=", "<=", "==", "!=", ">", "<"};

const char *expect_op_str(enum expect_op op)
{
	SY_ASSERT((size_t)op < SY_ARRAY_LEN(op_names));
	return op_names[op];
}

/* "65%" (ppm), "200ms" (ns), "-3" or "0" (count), "100.00 USD" (money). */
static bool expect_value(struct sy_str v, int64_t *out, enum expect_unit *unit)
{
	uint32_t ppm;
	uint64_t x;
	if (v.len > 4 && v.p[v.len - 4] == ' ' && scn_currency_ok((struct sy_str){v.p + v.len - 3, 3})) {
		bool neg = v.p[0] == '-';
		struct sy_str d = scn_trim((struct sy_str){v.p + neg, v.len - 4 - neg});
		if (sy_decimal_parse(d, 6, &x) != SY_OK || x > INT64_MAX)
			return false;
		*out = neg ? -(int64_t)x : (int64_t)x;
		*unit = EXPECT_UNIT_MONEY;
		return true;
	}
	if (v.len && v.p[v.len - 1] == '%') {
		if (!scn_parse_pct(v, &ppm))
			return false;
		*out = ppm;
		*unit = EXPECT_UNIT_PPM;
		return true;
	}
	bool neg = v.len > 1 && v.p[0] == '-';
	struct sy_str d = neg ? (struct sy_str){v.p + 1, v.len - 1} : v;
	if (scn_parse_uint(d, INT64_MAX, &x)) {
		*out = neg ? -(int64_t)x : (int64_t)x;
		*unit = EXPECT_UNIT_COUNT;
		return true;
	}
	if (neg || sy_duration_parse_str(v, &x) != SY_OK || x > INT64_MAX)
		return false;
	*out = (int64_t)x;
	*unit = EXPECT_UNIT_NS;
	return true;
}

static bool is_metric_char(char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') || ch == '.' ||
	       ch == '_' || ch == '-';
}

/* "METRIC OP VALUE"; spaces around OP are optional. */
static enum sy_rc expect_line(struct scn_pctx *c, void *obj, struct sy_str line)
{
	struct expect_set *s = obj;
	if (s->n == EXPECTS_MAX)
		return scn_fail(c, "too many expectations (max %d)", EXPECTS_MAX);
	struct expect *e = &s->items[s->n];
	memset(e, 0, sizeof(*e));
	size_t i = 0;
	while (i < line.len && is_metric_char(line.p[i]))
		i++;
	struct sy_str metric = {line.p, i}, rest = scn_trim((struct sy_str){line.p + i, line.len - i}), op;
	size_t o = 0;
	while (o < rest.len && strchr("<>=!~", rest.p[o]))
		o++;
	op = (struct sy_str){rest.p, o};
	struct sy_str val = scn_trim((struct sy_str){rest.p + o, rest.len - o});
	if (metric.len == 0 || op.len == 0 || val.len == 0)
		return scn_fail(c, "expected 'METRIC OP VALUE', got '%.*s'", SCN_SV(line));
	if (!scn_copy_str(e->metric, EXPECT_METRIC_MAX, metric))
		return scn_fail(c, "metric name too long '%.*s'", SCN_SV(metric));
	size_t k = 0;
	while (k < SY_ARRAY_LEN(op_names) && !sy_str_eq(op, sy_str_from(op_names[k])))
		k++;
	if (k == SY_ARRAY_LEN(op_names))
		return scn_fail(c, "bad operator '%.*s' in '%.*s' (use >= <= == != > <)", SCN_SV(op), SCN_SV(line));
	e->op = (enum expect_op)k;
	if (!expect_value(val, &e->value, &e->unit))
		return scn_fail(c, "bad value '%.*s' in '%.*s'", SCN_SV(val), SCN_SV(line));
	enum expect_unit mu;
	if (expect_metric_unit(e->metric, &mu) && mu != e->unit) {
		if (!(e->unit == EXPECT_UNIT_COUNT && e->value == 0))
			return scn_fail(c, "unit mismatch: '%s' is %s, '%.*s' is %s", e->metric, expect_unit_name(mu),
					SCN_SV(val), expect_unit_name(e->unit));
		e->unit = mu; /* a bare 0 fits any unit */
	}
	e->line = scn_pctx_line(c);
	snprintf(e->text, sizeof(e->text), "%.*s", SCN_SV(line));
	s->n++;
	return SY_OK;
}

static void *expect_begin(struct scn_pctx *c, void *arg, struct sy_str name)
{
	return arg;
}

static const struct scn_sec_def expect_sec = {"expect", NULL, NULL, 0, expect_begin, NULL, expect_line, true};

void expect_ext(struct expect_set *set, struct scn_ext *out)
{
	*out = (struct scn_ext){.secs = &expect_sec, .sec_n = 1, .arg = set};
}

/* ns in the largest unit that keeps it >= 1, up to 3 decimals (truncated). */
static size_t fmt_ns(int64_t ns, char *buf, size_t n)
{
	static const struct {
		const char *name;
		uint64_t ns;
	} u[] = {{"s", SY_NS_PER_S}, {"ms", SY_NS_PER_MS}, {"us", SY_NS_PER_US}, {"ns", 1}};
	uint64_t a = ns < 0 ? (uint64_t)0 - (uint64_t)ns : (uint64_t)ns;
	size_t i = 0;
	while (a != 0 && i + 1 < SY_ARRAY_LEN(u) && a < u[i].ns) /* zero prints as "0s" */
		i++;
	uint64_t whole = a / u[i].ns, milli = (a % u[i].ns) / (u[i].ns >= 1000 ? u[i].ns / 1000 : 1);
	if (u[i].ns == 1)
		milli = 0;
	char frac[24];
	snprintf(frac, sizeof(frac), "%03llu", (unsigned long long)milli);
	int len = 3;
	while (len > 0 && frac[len - 1] == '0')
		len--;
	int w = snprintf(buf, n, "%s%llu%s%.*s%s", ns < 0 ? "-" : "", (unsigned long long)whole, len ? "." : "", len,
			 frac, u[i].name);
	return w < 0 ? 0 : (size_t)w;
}

size_t expect_fmt_value(struct expect_value v, char *buf, size_t n)
{
	int w;
	switch (v.unit) {
	case EXPECT_UNIT_PPM:
		return scn_fmt_ppm(v.v, buf, n);
	case EXPECT_UNIT_NS:
		return fmt_ns(v.v, buf, n);
	case EXPECT_UNIT_MONEY:
		return scn_fmt_money(v.v, buf, n);
	case EXPECT_UNIT_COUNT:
		w = snprintf(buf, n, "%lld", (long long)v.v);
		return w < 0 ? 0 : (size_t)w;
	}
	return 0;
}

static bool compare(int64_t a, enum expect_op op, int64_t b)
{
	switch (op) {
	case EXPECT_OP_GE:
		return a >= b;
	case EXPECT_OP_LE:
		return a <= b;
	case EXPECT_OP_EQ:
		return a == b;
	case EXPECT_OP_NE:
		return a != b;
	case EXPECT_OP_GT:
		return a > b;
	case EXPECT_OP_LT:
		return a < b;
	}
	SY_ASSERT(!"bad operator");
	return false;
}

static void eval_one(const char *file, const struct expect *e, expect_lookup_fn lookup, void *ctx,
		     struct expect_result *r)
{
	char val[48], act[48];
	memset(r, 0, sizeof(*r));
	r->line = e->line;
	r->text = e->text;
	r->found = lookup(ctx, e->metric, &r->actual);
	struct expect_value want = {e->value, e->unit};
	/* A bare 0 fits a metric of any unit. */
	if (r->found && want.unit == EXPECT_UNIT_COUNT && want.v == 0)
		want.unit = r->actual.unit;
	r->unit_ok = r->found && want.unit == r->actual.unit;
	r->pass = r->unit_ok && compare(r->actual.v, e->op, want.v);
	expect_fmt_value(want, val, sizeof(val));
	const char *verdict = r->pass ? "PASS" : "FAIL";
	if (!r->found) {
		snprintf(r->report, sizeof(r->report), "FAIL %s %s %s (%s:%u: unknown metric '%s')", e->metric,
			 expect_op_str(e->op), val, file, e->line, e->metric);
		return;
	}
	expect_fmt_value(r->actual, act, sizeof(act));
	if (!r->unit_ok)
		snprintf(r->report, sizeof(r->report), "FAIL %s %s %s (%s:%u: unit mismatch: '%s' is %s, actual %s)",
			 e->metric, expect_op_str(e->op), val, file, e->line, e->metric,
			 expect_unit_name(r->actual.unit), act);
	else
		snprintf(r->report, sizeof(r->report), "%s %s %s %s (actual %s)", verdict, e->metric,
			 expect_op_str(e->op), val, act);
}

size_t expect_eval(const struct expect_set *set, const char *file, expect_lookup_fn lookup, void *ctx,
		   struct expect_result *out)
{
	size_t failed = 0;
	for (uint32_t i = 0; i < set->n; i++) {
		eval_one(file, &set->items[i], lookup, ctx, &out[i]);
		failed += !out[i].pass;
	}
	return failed;
}
