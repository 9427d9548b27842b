/* expect.h: checks a scenario's [expect] lines against the run's metrics at
 * the end of a run. A failed or unknown expectation fails the run, so a
 * scenario doubles as a CI gate. */
#ifndef SY_CONF_EXPECT_H
#define SY_CONF_EXPECT_H

#include "core/conf/scn.h"

struct expect_value {
	int64_t v;	    /* count, ppm or ns, as unit says */
	enum scn_unit unit;
};

/* Fills *out and returns true when the metric exists. */
typedef bool (*expect_lookup_fn)(void *ctx, const char *metric, struct expect_value *out);

#define EXPECT_REPORT_MAX 640

struct expect_result {
	uint32_t line;
	const char *text; /* the expectation as written (points into the scn) */
	bool pass;
	bool found;	  /* false: unknown metric (a failure) */
	bool unit_ok;	  /* false: metric unit differs from the value's (a failure) */
	struct expect_value actual;
	char report[EXPECT_REPORT_MAX]; /* "PASS asr >= 65% (actual 70.12%)" */
};

/* Evaluates every expectation of s into out[0 .. s->expect_n) (out must hold
 * s->expect_n entries, SCN_EXPECTS_MAX is always enough). Returns the number
 * of failures; 0 means the run passed. */
size_t expect_eval(const struct scn *s, expect_lookup_fn lookup, void *ctx, struct expect_result *out);

/* A value with its unit: "70.12%", "231.4ms", "42". */
size_t expect_fmt_value(struct expect_value v, char *buf, size_t n);

#endif
