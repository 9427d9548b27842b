/* sweep.h: the pure parts of `switchyard sweep` (cmd/sweep.c runs the
 * processes): the --vary range, a scenario key overridden in the text,
 * per-point statistics (t-distribution over seeds, Wilson interval), the
 * knee, and Erlang-B. No I/O here. docs/capacity.md. */
#ifndef SY_SIM_SWEEP_H
#define SY_SIM_SWEEP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SWEEP_KEY_MAX	 96
#define SWEEP_POINTS_MAX 200

/* KEY=A..B/N: N points from A to B inclusive, evenly spaced. */
struct sweep_range {
	char key[SWEEP_KEY_MAX]; /* section.name.key, e.g. traffic.voice.cps */
	double a, b;
	unsigned n;
	bool integer; /* A and B are integers: every value is rounded */
};

/* 0 on success; otherwise -1 with a message in err. */
int sweep_range_parse(const char *spec, struct sweep_range *out, char *err, size_t errlen);
double sweep_range_value(const struct sweep_range *r, unsigned i);
/* The value as the scenario would spell it: "1500", "1.25". */
void sweep_value_fmt(const struct sweep_range *r, double v, char *buf, size_t n);

/* The scenario text with KEY (section words joined by '.', then the key:
 * traffic.voice.cps is `cps` under [traffic voice], run.duration `duration`
 * under [run]) set to value: the key's line replaced, or added after the
 * section's header when absent. The section must exist (its first
 * occurrence is used). Returns a malloc'd NUL-terminated text, or NULL with
 * err set. */
char *sweep_override(const char *text, size_t len, const char *key, const char *value, char *err, size_t errlen);

/* Two-sided 95% quantile of Student's t with df degrees of freedom (df >= 1). */
double sweep_t95(unsigned df);
/* Mean and 95% half-width (t over the n samples; 0 when n < 2). */
void sweep_mean_ci(const double *x, size_t n, double *mean, double *ci95);
/* Wilson score interval for k successes of n at z (1.96 for 95%). */
void sweep_wilson(unsigned k, unsigned n, double z, double *lo, double *hi);
/* Erlang-B blocking of n circuits offered a Erlangs (the stable recursion). */
double sweep_erlang_b(unsigned n, double a);

/* One point of a sweep, in increasing value order. */
struct sweep_point_pass {
	double value;
	unsigned runs, passed;
};
struct sweep_knee {
	int index;	   /* the knee's point, -1: even the lowest load fails */
	int first_fail;	   /* the first point above it that fails, -1: none */
	double confidence; /* Wilson 95% lower bound of the pass share at the knee */
};
/* The highest load such that it and every lower point pass: a point passes
 * when passed >= frac x runs (frac 1: every seed). */
struct sweep_knee sweep_knee_find(const struct sweep_point_pass *p, size_t n, double frac);

/* The value of "name" in report.json's "metrics" object; false if absent. */
bool sweep_json_metric(const char *json, const char *name, double *out);

#endif
