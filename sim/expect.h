/* expect.h: a scenario's [expect] lines ("METRIC OP VALUE"), parsed in the
 * scenario's one pass as an extension of the parser (core/conf/scn_ext.h),
 * and checked against the run's metrics at the end of a run. A failed or
 * unknown expectation fails the run, so a scenario doubles as a CI gate. */
#ifndef SY_SIM_EXPECT_H
#define SY_SIM_EXPECT_H

#include "core/conf/scn_ext.h"

#define EXPECTS_MAX	  64
#define EXPECT_METRIC_MAX 48
#define EXPECT_TEXT_MAX	  128

/* The unit of an expectation value or of a metric. */
enum expect_unit { EXPECT_UNIT_COUNT = 0, EXPECT_UNIT_PPM, EXPECT_UNIT_NS, EXPECT_UNIT_MONEY /* micro-units */ };
enum expect_op { EXPECT_OP_GE = 0, EXPECT_OP_LE, EXPECT_OP_EQ, EXPECT_OP_NE, EXPECT_OP_GT, EXPECT_OP_LT };

struct expect {
	uint32_t line;
	char metric[EXPECT_METRIC_MAX];
	enum expect_op op;
	int64_t value;		    /* count, ppm (for %), or ns */
	enum expect_unit unit;	    /* COUNT for a bare integer */
	char text[EXPECT_TEXT_MAX]; /* the line as written, trimmed */
};

struct expect_set {
	struct expect items[EXPECTS_MAX];
	uint32_t n;
};

/* The parser extension that fills set from [expect] sections. */
void expect_ext(struct expect_set *set, struct scn_ext *out);

struct expect_value {
	int64_t v; /* count, ppm or ns, as unit says */
	enum expect_unit unit;
};

/* Fills *out and returns true when the metric exists. */
typedef bool (*expect_lookup_fn)(void *ctx, const char *metric, struct expect_value *out);

#define EXPECT_REPORT_MAX 640

struct expect_result {
	uint32_t line;
	const char *text; /* the expectation as written (points into the set) */
	bool pass;
	bool found;   /* false: unknown metric (a failure) */
	bool unit_ok; /* false: metric unit differs from the value's (a failure) */
	struct expect_value actual;
	char report[EXPECT_REPORT_MAX]; /* "PASS asr >= 65% (actual 70.12%)" */
};

/* Evaluates every expectation of set into out[0 .. set->n) (out must hold
 * set->n entries, EXPECTS_MAX is always enough); file names the scenario in
 * messages. Returns the number of failures; 0 means the run passed. */
size_t expect_eval(const struct expect_set *set, const char *file, expect_lookup_fn lookup, void *ctx,
		   struct expect_result *out);

/* A value with its unit: "70.12%", "231.4ms", "42". */
size_t expect_fmt_value(struct expect_value v, char *buf, size_t n);
/* The unit a known metric is measured in; false for names not in the table
 * (those are checked only when evaluated). */
bool expect_metric_unit(const char *metric, enum expect_unit *out);
/* "a percentage", "a duration", "a count". */
const char *expect_unit_name(enum expect_unit u);
/* ">=" etc. */
const char *expect_op_str(enum expect_op op);

#endif
