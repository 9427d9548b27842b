/* counters.h: one table per component names each of its counters once
 * (Prometheus name, report key, help, type, unit, where the value lives),
 * and the renderers that read every table alike: the Prometheus text
 * exposition of `serve`'s GET /metrics, the simulator's report.json
 * metrics and its text report. Adding a counter is one line in one table.
 * Pure: renderers write into a caller's buffer, no IO, no allocation. */
#ifndef SY_METRICS_COUNTERS_H
#define SY_METRICS_COUNTERS_H

#include <stddef.h>

#include "core/metrics/hist.h"

enum sy_ctr_type {
	SY_CTR_COUNTER, /* only goes up */
	SY_CTR_GAUGE,	/* a level now (calls active, messages in memory) */
	SY_CTR_HIST,	/* a struct sy_hist: a summary in Prometheus, six figures in the report */
};

/* What a value counts; the report formats and compares by it. */
enum sy_ctr_unit {
	SY_UNIT_COUNT,
	SY_UNIT_NS,    /* nanoseconds: ms in the report, seconds in Prometheus */
	SY_UNIT_PPM,   /* parts per million: percent in the report */
	SY_UNIT_MONEY, /* micro-units of money */
};

/* Where the value is read in the component's stats struct. */
enum sy_ctr_field { SY_CTR_U64, SY_CTR_I64, SY_CTR_U32, SY_CTR_HISTF, SY_CTR_FN };

struct sy_counter {
	const char *prom; /* Prometheus name, "switchyard_..."; NULL: not exported */
	const char *key;  /* report and report.json name ("calls.attempted"); NULL: not in the report */
	const char *help; /* one line for # HELP */
	enum sy_ctr_type type;
	enum sy_ctr_unit unit;
	enum sy_ctr_field field;
	size_t off;			   /* offsetof into the stats struct (SY_CTR_FN: unused) */
	int64_t (*get)(const void *stats); /* SY_CTR_FN: a value derived from several fields */
};

/* A component's table and the struct its offsets index. */
struct sy_counter_table {
	const char *component; /* "b2bua", "sip", "smsc", ... */
	const struct sy_counter *c;
	size_t n;
};

/* A field of struct T, typed at compile time: a counter table line is
 * {"switchyard_x_total", "x", "help", SY_CTR_COUNTER, SY_UNIT_COUNT, SY_CTR_AT(struct s, x)}. */
#define SY_CTR_AT(T, f)                                                                                                \
	_Generic(((T *)0)->f, uint64_t                                                                                 \
		 : SY_CTR_U64, int64_t                                                                                 \
		 : SY_CTR_I64, uint32_t                                                                                \
		 : SY_CTR_U32, struct sy_hist                                                                          \
		 : SY_CTR_HISTF),                                                                                      \
	    offsetof(T, f), NULL
#define SY_CTR_FN_(fn) SY_CTR_FN, 0, (fn)
#define SY_CTR_TABLE(name, comp, arr)                                                                                  \
	const struct sy_counter_table name = {(comp), (arr), sizeof(arr) / sizeof((arr)[0])}

/* The components' tables (each next to its component). */
extern const struct sy_counter_table b2bua_counters;	 /* struct b2bua_stats */
extern const struct sy_counter_table sip_stack_counters; /* struct sip_stack_stats */
extern const struct sy_counter_table vswitch_counters;	 /* struct vswitch */
extern const struct sy_counter_table vswitch_disk_counters; /* struct vswitch_disk_stats */
extern const struct sy_counter_table smsc_counters;	 /* struct smsc_stats */
extern const struct sy_counter_table callbill_counters;	 /* struct callbill_stats */
extern const struct sy_counter_table sip_auth_counters;	 /* struct sip_auth_stats */
extern const struct sy_counter_table api_http_counters;	 /* struct api_http_stats */
extern const struct sy_counter_table process_counters;	 /* struct sy_process_stats */
extern const struct sy_counter_table fraud_counters;	 /* struct fraud_stats (core/fraud/fraud.h) */
extern const struct sy_counter_table ussd_counters;	 /* struct ussd_stats (core/ussd/ussd.h) */
extern const struct sy_counter_table ussd_http_counters; /* struct ussd_http_stats (core/ussd/http.h) */

/* A value (SY_CTR_HIST: its count); a histogram entry's struct. */
int64_t sy_counter_value(const struct sy_counter *c, const void *stats);
const struct sy_hist *sy_counter_hist(const struct sy_counter *c, const void *stats);

/* An output buffer that never overflows: what does not fit is cut and
 * `cut` is set, so the caller can answer 503 instead of half a page. */
struct sy_ctr_out {
	char *p;
	size_t cap, len;
	bool cut;
};
void sy_ctr_printf(struct sy_ctr_out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* The Prometheus text exposition (format 0.0.4) of every exported entry. */
void sy_counters_prom(struct sy_ctr_out *o, const struct sy_counter_table *t, const void *stats);

/* Every report entry as (key, unit, value); a histogram gives six:
 * KEY.p50, .p90, .p95, .p99, .max, .mean (SY_UNIT_NS). key is valid only
 * during the call (a histogram's names are built on the stack). */
typedef void (*sy_ctr_visit_fn)(void *arg, const char *key, enum sy_ctr_unit unit, int64_t v);
void sy_counters_visit(const struct sy_counter_table *t, const void *stats, sy_ctr_visit_fn fn, void *arg);

/* A value as report.json writes it: percent for PPM, ms for NS, units with
 * six decimals for MONEY, else the integer. */
void sy_ctr_json_value(struct sy_ctr_out *o, enum sy_ctr_unit unit, int64_t v);
/* The table's report entries as one JSON object {"key":value,...}. */
void sy_counters_json(struct sy_ctr_out *o, const struct sy_counter_table *t, const void *stats);
/* The table's report entries as text lines "LABEL key v, key v, ..."
 * wrapped before `width` columns; values as the JSON's, with " ms" and "%"
 * after durations and ratios. */
void sy_counters_text(struct sy_ctr_out *o, const char *label, const struct sy_counter_table *t, const void *stats,
		      size_t width);

#endif
