/* counters.c: the renderers of the counter tables (counters.h): Prometheus
 * text, report entries, report.json values and text lines. */
#include "counters.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

int64_t sy_counter_value(const struct sy_counter *c, const void *stats)
{
	const char *p = (const char *)stats + c->off;
	uint64_t u;
	int64_t i;
	uint32_t w;
	switch (c->field) {
	case SY_CTR_U64:
		memcpy(&u, p, sizeof(u));
		return (int64_t)u;
	case SY_CTR_I64:
		memcpy(&i, p, sizeof(i));
		return i;
	case SY_CTR_U32:
		memcpy(&w, p, sizeof(w));
		return (int64_t)w;
	case SY_CTR_HISTF:
		return (int64_t)sy_counter_hist(c, stats)->count;
	case SY_CTR_FN:
		return c->get(stats);
	}
	SY_ASSERT(!"unknown counter field");
	return 0;
}

const struct sy_hist *sy_counter_hist(const struct sy_counter *c, const void *stats)
{
	SY_ASSERT(c->field == SY_CTR_HISTF);
	return (const struct sy_hist *)(const void *)((const char *)stats + c->off);
}

void sy_ctr_printf(struct sy_ctr_out *o, const char *fmt, ...)
{
	if (o->cut)
		return;
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(o->p + o->len, o->cap - o->len, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= o->cap - o->len) {
		o->cut = true;
		o->p[o->len] = '\0'; /* nothing half-written */
		return;
	}
	o->len += (size_t)n;
}

static const char *prom_type(const struct sy_counter *c)
{
	return c->type == SY_CTR_HIST ? "summary" : c->type == SY_CTR_GAUGE ? "gauge" : "counter";
}

/* A histogram is a summary in seconds: quantiles and count, as scrapers
 * of latency expect; the buckets stay in the process. */
static void prom_hist(struct sy_ctr_out *o, const struct sy_counter *c, const struct sy_hist *h)
{
	static const double qs[] = {0.5, 0.9, 0.99};
	for (size_t i = 0; i < sizeof(qs) / sizeof(qs[0]); i++)
		sy_ctr_printf(o, "%s{quantile=\"%g\"} %.6f\n", c->prom, qs[i],
			      (double)sy_hist_percentile(h, qs[i] * 100) / 1e9);
	sy_ctr_printf(o, "%s_count %" PRIu64 "\n", c->prom, h->count);
}

void sy_counters_prom(struct sy_ctr_out *o, const struct sy_counter_table *t, const void *stats)
{
	for (size_t i = 0; i < t->n; i++) {
		const struct sy_counter *c = &t->c[i];
		if (c->prom == NULL)
			continue;
		sy_ctr_printf(o, "# HELP %s %s\n# TYPE %s %s\n", c->prom, c->help, c->prom, prom_type(c));
		if (c->type == SY_CTR_HIST)
			prom_hist(o, c, sy_counter_hist(c, stats));
		else if (c->unit == SY_UNIT_NS)
			sy_ctr_printf(o, "%s %.6f\n", c->prom, (double)sy_counter_value(c, stats) / 1e9);
		else if (c->unit == SY_UNIT_MONEY || c->unit == SY_UNIT_PPM) /* money units; a ratio 0..1 */
			sy_ctr_printf(o, "%s %.6f\n", c->prom, (double)sy_counter_value(c, stats) / 1e6);
		else
			sy_ctr_printf(o, "%s %" PRId64 "\n", c->prom, sy_counter_value(c, stats));
	}
}

static void visit_hist(const char *key, const struct sy_hist *h, sy_ctr_visit_fn fn, void *arg)
{
	static const char *const sfx[] = {"p50", "p90", "p95", "p99", "max", "mean"};
	const int64_t v[] = {(int64_t)sy_hist_percentile(h, 50),
			     (int64_t)sy_hist_percentile(h, 90),
			     (int64_t)sy_hist_percentile(h, 95),
			     (int64_t)sy_hist_percentile(h, 99),
			     (int64_t)h->max_ns,
			     (int64_t)sy_hist_mean(h)};
	char name[96];
	for (size_t i = 0; i < 6; i++) {
		int n = snprintf(name, sizeof(name), "%s.%s", key, sfx[i]);
		SY_ASSERT(n > 0 && (size_t)n < sizeof(name));
		fn(arg, name, SY_UNIT_NS, v[i]);
	}
}

void sy_counters_visit(const struct sy_counter_table *t, const void *stats, sy_ctr_visit_fn fn, void *arg)
{
	for (size_t i = 0; i < t->n; i++) {
		const struct sy_counter *c = &t->c[i];
		if (c->key == NULL)
			continue;
		if (c->type == SY_CTR_HIST)
			visit_hist(c->key, sy_counter_hist(c, stats), fn, arg);
		else
			fn(arg, c->key, c->unit, sy_counter_value(c, stats));
	}
}

void sy_ctr_json_value(struct sy_ctr_out *o, enum sy_ctr_unit unit, int64_t v)
{
	uint64_t a = v < 0 ? -(uint64_t)v : (uint64_t)v;
	switch (unit) {
	case SY_UNIT_PPM:
		sy_ctr_printf(o, "%.4f", (double)v / 10000.0); /* percent */
		return;
	case SY_UNIT_NS:
		sy_ctr_printf(o, "%.3f", (double)v / 1e6); /* milliseconds */
		return;
	case SY_UNIT_MONEY:
		sy_ctr_printf(o, "%s%" PRIu64 ".%06" PRIu64, v < 0 ? "-" : "", a / 1000000, a % 1000000);
		return;
	case SY_UNIT_COUNT:
		break;
	}
	sy_ctr_printf(o, "%" PRId64, v);
}

struct json_walk {
	struct sy_ctr_out *o;
	bool first;
};

static void json_one(void *arg, const char *key, enum sy_ctr_unit unit, int64_t v)
{
	struct json_walk *w = arg;
	/* keys are identifiers from the tables: nothing to escape */
	sy_ctr_printf(w->o, "%s\"%s\":", w->first ? "" : ",", key);
	sy_ctr_json_value(w->o, unit, v);
	w->first = false;
}

void sy_counters_json(struct sy_ctr_out *o, const struct sy_counter_table *t, const void *stats)
{
	struct json_walk w = {o, true};
	sy_ctr_printf(o, "{");
	sy_counters_visit(t, stats, json_one, &w);
	sy_ctr_printf(o, "}");
}

struct text_walk {
	struct sy_ctr_out *o;
	const char *label;
	size_t col, width;
};

static void text_one(void *arg, const char *key, enum sy_ctr_unit unit, int64_t v)
{
	struct text_walk *w = arg;
	char val[48];
	struct sy_ctr_out vo = {val, sizeof(val), 0, false};
	sy_ctr_json_value(&vo, unit, v);
	sy_ctr_printf(&vo, "%s", unit == SY_UNIT_NS ? " ms" : unit == SY_UNIT_PPM ? "%" : "");
	size_t need = strlen(key) + 1 + vo.len + 2;
	if (w->col == 0 || w->col + need > w->width) {
		/* at least one space after a long label */
		sy_ctr_printf(w->o, "%s%-9s ", w->col == 0 ? "" : "\n", w->col == 0 ? w->label : "");
		w->col = 10;
	} else {
		sy_ctr_printf(w->o, ", ");
		w->col += 2;
	}
	sy_ctr_printf(w->o, "%s %s", key, val);
	w->col += need - 2;
}

void sy_counters_text(struct sy_ctr_out *o, const char *label, const struct sy_counter_table *t, const void *stats,
		      size_t width)
{
	struct text_walk w = {o, label, 0, width};
	sy_counters_visit(t, stats, text_one, &w);
	if (w.col > 0)
		sy_ctr_printf(o, "\n");
}
