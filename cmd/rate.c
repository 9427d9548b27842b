/* rate.c: `switchyard rate CDRS.csv --tariff T.csv [--out RATED.csv]`:
 * batch re-rating of a voice CDR CSV (core/billing/rate.h). Bad rows are
 * reported as file:line and skipped; the exit status says whether any were. */
#include <stdio.h>
#include <string.h>

#include "cmd.h"
#include "core/billing/rate.h"
#include "core/live/live.h"

#define RATE_ERRS_SHOWN 100

struct rate_errs {
	uint64_t n;
};

static void rate_usage(FILE *f)
{
	fprintf(f, "usage: switchyard rate CDRS.csv --tariff TARIFF.csv [--out RATED.csv] [--currency CCY]\n"
		   "  re-rates a CDR CSV written by switchyard (cdrs.csv): fills cost_micros,\n"
		   "  tariff_id and rated_ms from the tariff (format: docs/billing.md) and\n"
		   "  writes the rated CSV to --out (default: standard output). CDRS.csv '-'\n"
		   "  reads standard input. Exit 0: all rows rated or unrated (no tariff);\n"
		   "  1: some rows were malformed (reported, skipped); 2: usage, tariff or I/O error.\n");
}

static void rate_err(void *arg, const char *msg)
{
	struct rate_errs *e = arg;
	if (e->n++ < RATE_ERRS_SHOWN)
		fprintf(stderr, "%s\n", msg);
}

static int rate_args(int argc, char **argv, const char **in, const char **tariff, const char **out, const char **ccy)
{
	for (int i = 2; i < argc; i++) {
		const char *a = argv[i], *next = i + 1 < argc ? argv[i + 1] : NULL;
		if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
			rate_usage(stdout);
			return 1;
		} else if (strcmp(a, "--tariff") == 0 && next) {
			*tariff = argv[++i];
		} else if (strcmp(a, "--out") == 0 && next) {
			*out = argv[++i];
		} else if (strcmp(a, "--currency") == 0 && next) {
			*ccy = argv[++i];
		} else if ((a[0] != '-' || strcmp(a, "-") == 0) && *in == NULL) {
			*in = a;
		} else {
			fprintf(stderr, "switchyard rate: unexpected argument '%s'\n", a);
			return -1;
		}
	}
	if (*in == NULL || *tariff == NULL) {
		rate_usage(stderr);
		return -1;
	}
	return 0;
}

static int rate_files(const struct bill_tariff *t, const char *in, const char *out, struct bill_batch_stats *st)
{
	const struct sy_env *env = sy_live_files();
	struct sy_file *in_f = NULL, *out_f = NULL;
	memset(st, 0, sizeof *st);
	const char *in_path = strcmp(in, "-") == 0 ? "/dev/stdin" : in;
	enum sy_rc rc = sy_env_file_open(env, in_path, SY_FILE_READ, &in_f);
	if (rc != SY_OK) {
		fprintf(stderr, "switchyard rate: cannot open %s: %s\n", in, sy_env_file_err(rc));
		return 2;
	}
	/* A new output file: an old, longer one would keep its tail. */
	if (out != NULL && sy_env_file_exists(env, out) && (rc = sy_env_file_unlink(env, out)) != SY_OK) {
		fprintf(stderr, "switchyard rate: cannot replace %s: %s\n", out, sy_env_file_err(rc));
		goto out_close;
	}
	/* stdout appends: `>> rated.csv` must not write over what is there */
	unsigned mode = out != NULL ? SY_FILE_WRITE | SY_FILE_CREATE : SY_FILE_WRITE | SY_FILE_APPEND;
	rc = sy_env_file_open(env, out ? out : "/dev/stdout", mode, &out_f);
	if (rc != SY_OK) {
		fprintf(stderr, "switchyard rate: cannot create %s: %s\n", out ? out : "stdout", sy_env_file_err(rc));
		goto out_close;
	}
	struct rate_errs errs = {0};
	rc = bill_rate_csv(t, env, in_f, in, out_f, rate_err, &errs, st);
	if (errs.n > RATE_ERRS_SHOWN)
		fprintf(stderr, "switchyard rate: %llu more errors not shown\n",
			(unsigned long long)(errs.n - RATE_ERRS_SHOWN));
out_close:
	sy_env_file_close(env, in_f);
	sy_env_file_close(env, out_f);
	return rc != SY_OK ? 2 : st->bad > 0 ? 1 : 0;
}

int cmd_rate(int argc, char **argv)
{
	const char *in = NULL, *tariff = NULL, *out = NULL, *ccy = NULL;
	int a = rate_args(argc, argv, &in, &tariff, &out, &ccy);
	if (a != 0)
		return a > 0 ? 0 : 2;
	char err[BILL_ERR_MAX];
	struct bill_tariff_opts topts = {.ccy = ccy, .err = err, .err_len = sizeof err};
	struct bill_tariff t;
	if (bill_tariff_load_file(sy_live_files(), &t, tariff, &topts) != SY_OK) {
		fprintf(stderr, "switchyard rate: %s\n", err);
		return 2;
	}
	struct bill_batch_stats st;
	int status = rate_files(&t, in, out, &st);
	char total[MONEY_FMT_MAX];
	money_fmt(st.cost_micros, total);
	fprintf(stderr, "switchyard rate: %llu rows: %llu rated, %llu without a tariff, %llu bad; total %s %s\n",
		(unsigned long long)st.rows, (unsigned long long)st.rated, (unsigned long long)st.unrated,
		(unsigned long long)st.bad, total, t.ccy.code);
	bill_tariff_free(&t);
	return status;
}
