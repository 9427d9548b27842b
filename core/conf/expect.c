/* expect.c: evaluation of [expect] lines (expect.h). Integer comparisons only,
 * so the verdict for a given run is the same on every machine. */
#include "core/conf/expect.h"

#include <stdio.h>

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
	int w = snprintf(buf, n, "%s%llu%s%.*s%s", ns < 0 ? "-" : "", (unsigned long long)whole, len ? "." : "",
			 len, frac, u[i].name);
	return w < 0 ? 0 : (size_t)w;
}

size_t expect_fmt_value(struct expect_value v, char *buf, size_t n)
{
	int w;
	switch (v.unit) {
	case SCN_UNIT_PPM: return scn_fmt_ppm(v.v, buf, n);
	case SCN_UNIT_NS: return fmt_ns(v.v, buf, n);
	case SCN_UNIT_MONEY: return scn_fmt_money(v.v, buf, n);
	case SCN_UNIT_COUNT:
		w = snprintf(buf, n, "%lld", (long long)v.v);
		return w < 0 ? 0 : (size_t)w;
	}
	return 0;
}

static bool compare(int64_t a, enum scn_op op, int64_t b)
{
	switch (op) {
	case SCN_OP_GE: return a >= b;
	case SCN_OP_LE: return a <= b;
	case SCN_OP_EQ: return a == b;
	case SCN_OP_NE: return a != b;
	case SCN_OP_GT: return a > b;
	case SCN_OP_LT: return a < b;
	}
	SY_ASSERT(!"bad operator");
	return false;
}

static void eval_one(const struct scn *s, const struct scn_expect *e, expect_lookup_fn lookup, void *ctx,
		     struct expect_result *r)
{
	char val[48], act[48];
	memset(r, 0, sizeof(*r));
	r->line = e->line;
	r->text = e->text;
	r->found = lookup(ctx, e->metric, &r->actual);
	struct expect_value want = {e->value, e->unit};
	/* A bare 0 fits a metric of any unit. */
	if (r->found && want.unit == SCN_UNIT_COUNT && want.v == 0)
		want.unit = r->actual.unit;
	r->unit_ok = r->found && want.unit == r->actual.unit;
	r->pass = r->unit_ok && compare(r->actual.v, e->op, want.v);
	expect_fmt_value(want, val, sizeof(val));
	const char *verdict = r->pass ? "PASS" : "FAIL";
	if (!r->found) {
		snprintf(r->report, sizeof(r->report), "FAIL %s %s %s (%s:%u: unknown metric '%s')", e->metric,
			 scn_op_str(e->op), val, s->file, e->line, e->metric);
		return;
	}
	expect_fmt_value(r->actual, act, sizeof(act));
	if (!r->unit_ok)
		snprintf(r->report, sizeof(r->report), "FAIL %s %s %s (%s:%u: unit mismatch: '%s' is %s, actual %s)",
			 e->metric, scn_op_str(e->op), val, s->file, e->line, e->metric,
			 scn_unit_name(r->actual.unit), act);
	else
		snprintf(r->report, sizeof(r->report), "%s %s %s %s (actual %s)", verdict, e->metric,
			 scn_op_str(e->op), val, act);
}

size_t expect_eval(const struct scn *s, expect_lookup_fn lookup, void *ctx, struct expect_result *out)
{
	size_t failed = 0;
	for (uint32_t i = 0; i < s->expect_n; i++) {
		eval_one(s, &s->expects[i], lookup, ctx, &out[i]);
		failed += !out[i].pass;
	}
	return failed;
}
