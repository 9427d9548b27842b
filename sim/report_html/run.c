/* run.c: the report of one run's output folder: a summary sentence from
 * report.json, calls per second and active calls from series.csv, PDD
 * percentiles and failures by SIP code over time from cdrs.csv, SMS rates
 * from mdrs.csv. Each part is drawn when its file is there. */
#include <stdlib.h>
#include <string.h>

#include "report_html.h"

#define CODES_MAX 6

/* "2026-01-01T00:00:00.036Z" to ms since 1970, or -1. */
static long long iso_ms(const char *s)
{
	int y, mo, d, h, mi, se, ms = 0;
	if (sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d.%3dZ", &y, &mo, &d, &h, &mi, &se, &ms) < 6)
		return -1;
	y -= mo <= 2;
	long long era = (y >= 0 ? y : y - 399) / 400;
	long long yoe = y - era * 400, doy = (153 * (mo + (mo > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	long long days = era * 146097 + yoe * 365 + yoe / 4 - yoe / 100 + doy - 719468;
	return ((days * 24 + h) * 60 + mi) * 60000LL + se * 1000LL + ms;
}

static int cmp_dbl(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static double pct(const double *v, size_t n, double q)
{
	size_t i = (size_t)(q * (double)(n - 1) + 0.5);
	return v[i < n ? i : n - 1];
}

static void summary(struct rh_page *p, const char *json)
{
	char scn[512] = "?", result[16] = "?";
	double seed = 0, attempted = 0, asr = 0, p99 = 0, peak = 0, failed = 0, sms = 0;
	rh_json_str(json, "scenario", scn, sizeof(scn));
	rh_json_str(json, "result", result, sizeof(result));
	rh_json_num(json, "seed", &seed);
	rh_json_num(json, "failed", &failed);
	bool voice = rh_json_num(json, "calls.attempted", &attempted) && attempted > 0;
	rh_json_num(json, "asr", &asr);
	rh_json_num(json, "pdd.p99", &p99);
	rh_json_num(json, "calls.peak", &peak);
	bool has_sms = rh_json_num(json, "sms.submitted", &sms) && sms > 0;
	size_t nexp = 0;
	for (const char *e = json; (e = rh_json_find(e, "line")) != NULL; e++)
		nexp++;
	char s[1400];
	int n = snprintf(s, sizeof(s), "The run of %s (seed %.0f) %s: ", scn, seed,
			 strcmp(result, "PASS") == 0 ? "met its expectations" : "FAILED");
	if (voice)
		n += snprintf(s + n, sizeof(s) - (size_t)n,
			      "%.0f calls attempted, ASR %.1f%%, PDD p99 %.0f ms, "
			      "at most %.0f calls active at once; ",
			      attempted, asr, p99, peak);
	if (has_sms)
		n += snprintf(s + n, sizeof(s) - (size_t)n, "%.0f SMS submitted; ", sms);
	snprintf(s + n, sizeof(s) - (size_t)n, "%.0f of %zu expectation(s) failed.", failed, nexp);
	fprintf(p->f, "<h1>Run report: ");
	rh_html_text(p->f, scn);
	fprintf(p->f, "</h1>\n<p class=\"summary\" id=\"summary\">");
	rh_html_text(p->f, s);
	fprintf(p->f, "</p>\n<table><tr><th>line</th><th>expectation</th><th>result</th></tr>\n");
	for (const char *e = json; (e = rh_json_find(e, "line")) != NULL; e++) {
		char text[512] = "", rep[512] = "";
		double line = strtod(e, NULL);
		rh_json_str(e, "text", text, sizeof(text));
		rh_json_str(e, "report", rep, sizeof(rep));
		fprintf(p->f, "<tr><td class=\"num\">%.0f</td><td>", line);
		rh_html_text(p->f, text);
		fprintf(p->f, "</td><td class=\"%s\">", strncmp(rep, "PASS", 4) == 0 ? "ok" : "bad");
		rh_html_text(p->f, rep);
		fprintf(p->f, "</td></tr>\n");
	}
	fprintf(p->f, "</table>\n");
}

/* calls per second and active calls, from series.csv */
static int series_plots(struct rh_page *p, char *err, size_t errlen)
{
	char path[RH_PATH_MAX + 64];
	snprintf(path, sizeof(path), "%s/series.csv", p->dir);
	struct rh_table t;
	int rc = rh_table_read(&t, path, err, errlen);
	if (rc != 0)
		return rc;
	static const char *const rate[] = {"offered", "attempts", "answered", "failed", "completed"};
	int cols[6] = {rh_table_col(&t, "t_s")};
	for (int i = 0; i < 5; i++)
		cols[i + 1] = rh_table_col(&t, rate[i]);
	int active = rh_table_col(&t, "active");
	double any = 0, v;
	for (size_t r = 0; r < t.nrows && cols[1] >= 0; r++)
		any += rh_num(rh_table_cell(&t, r, cols[1]), &v) ? v : 0;
	if (any == 0 || cols[0] < 0) { /* no calls (an SMS or USSD run): nothing to draw */
		rh_table_free(&t);
		return 0;
	}
	FILE *d = rh_data_open(p, "calls");
	for (size_t r = 0; d != NULL && r < t.nrows; r++) {
		for (int i = 0; i < 6; i++) {
			double v;
			if (cols[i] >= 0 && !rh_num(rh_table_cell(&t, r, cols[i]), &v)) {
				snprintf(err, errlen, "%s:%zu: %s is not a number", path, r + 2, t.names[cols[i]]);
				fclose(d);
				rh_table_free(&t);
				return 2;
			}
			fprintf(d, "%s%s", i ? "," : "", cols[i] >= 0 ? rh_table_cell(&t, r, cols[i]) : "NaN");
		}
		fprintf(d, ",%s\n", active >= 0 ? rh_table_cell(&t, r, active) : "NaN");
	}
	if (d != NULL)
		fclose(d);
	FILE *gp = rh_plot_begin(p, "calls", "Calls per second", "time since the run started (s)", "calls per second");
	if (gp != NULL)
		fprintf(gp, "plot 'calls.dat' u 1:2 w l ls 7 lw 5 lc rgb '#c7c7c7' t 'offered by callers', '' u 1:3 w "
			    "l ls 1 t 'INVITEs "
			    "at the switch', '' u 1:4 w l ls 3 t 'answered', '' u 1:5 w l ls 4 t 'failed', '' u 1:6 "
			    "w l ls 5 dt 2 t 'completed (BYE)'\n");
	rh_plot_end(p, gp, "calls",
		    "Call attempts, answers, failures and completions per virtual second (the wide grey line, the "
		    "calls the callers offered, lies under the INVITEs the switch received when every one arrived)");
	gp = rh_plot_begin(p, "active", "Active calls", "time since the run started (s)", "calls in progress");
	if (gp != NULL)
		fprintf(gp,
			"set yrange [0:*]\nplot 'calls.dat' u 1:7 w l ls 1 t 'active calls (end of each second)'\n");
	rh_plot_end(p, gp, "active", "Calls in progress at the switch");
	rh_table_free(&t);
	return 0;
}

struct bucket {
	double *pdd;
	size_t n, cap;
	unsigned fails[CODES_MAX + 1];
};

static unsigned bucket_s(long long span_ms)
{
	unsigned w = (unsigned)(span_ms / 1000 / 60);
	return w < 1 ? 1 : w;
}

/* The SIP codes most often seen in failed calls, most frequent first. */
static size_t top_codes(const struct rh_table *t, int status, int disp, int codes[CODES_MAX])
{
	static unsigned count[700];
	memset(count, 0, sizeof(count));
	for (size_t r = 0; r < t->nrows; r++) {
		int c = atoi(rh_table_cell(t, r, status));
		if (c >= 300 && c < 700 && strcmp(rh_table_cell(t, r, disp), "ANSWERED") != 0)
			count[c]++;
	}
	size_t n = 0;
	for (; n < CODES_MAX; n++) {
		int best = 0;
		for (int c = 300; c < 700; c++)
			if (count[c] > count[best])
				best = c;
		if (count[best] == 0)
			break;
		codes[n] = best;
		count[best] = 0;
	}
	return n;
}

static void cdr_write(struct rh_page *p, struct bucket *b, size_t nb, unsigned w, size_t ncodes)
{
	FILE *dp = rh_data_open(p, "pdd"), *df = rh_data_open(p, "fail");
	for (size_t i = 0; dp != NULL && df != NULL && i < nb; i++) {
		double mid = ((double)i + 0.5) * w;
		if (b[i].n > 0) {
			qsort(b[i].pdd, b[i].n, sizeof(double), cmp_dbl);
			fprintf(dp, "%g,%g,%g,%g,%zu\n", mid, pct(b[i].pdd, b[i].n, .5), pct(b[i].pdd, b[i].n, .95),
				pct(b[i].pdd, b[i].n, .99), b[i].n);
		}
		fprintf(df, "%g", mid);
		for (size_t c = 0; c <= ncodes; c++)
			fprintf(df, ",%g", (double)b[i].fails[c] / w);
		fprintf(df, "\n");
	}
	if (dp != NULL)
		fclose(dp);
	if (df != NULL)
		fclose(df);
}

static void cdr_draw(struct rh_page *p, unsigned w, const int *codes, size_t ncodes)
{
	char title[128];
	snprintf(title, sizeof(title), "Post-dial delay by call start (%u s windows)", w);
	FILE *gp = rh_plot_begin(p, "pdd", title, "time since the run started (s)", "PDD (ms)");
	if (gp != NULL)
		fprintf(gp, "set yrange [0:*]\nplot 'pdd.dat' u 1:2 w lp ls 3 pt 7 ps .5 t 'p50', '' u 1:3 w lp ls 2 "
			    "pt 7 ps .5 t 'p95', '' u 1:4 w lp ls 4 pt 7 ps .5 t 'p99'\n");
	rh_plot_end(p, gp, "pdd", "PDD percentiles of the calls that started in each window (cdrs.csv, pdd_ms)");
	snprintf(title, sizeof(title), "Failed calls by SIP final code (%u s windows)", w);
	gp = rh_plot_begin(p, "failures", title, "time since the run started (s)", "failed calls per second");
	if (gp != NULL) {
		fprintf(gp, "set yrange [0:*]\nplot ");
		for (size_t c = 0; c < ncodes; c++)
			fprintf(gp, "%s'fail.dat' u 1:%zu w l ls %zu t 'SIP %d'", c ? ", " : "", c + 2, c + 1,
				codes[c]);
		fprintf(gp, "%s'fail.dat' u 1:%zu w l ls 7 dt 2 t 'other codes'\n", ncodes ? ", " : "", ncodes + 2);
	}
	rh_plot_end(p, gp, "failures", "Calls that ended without an answer, by the SIP code the caller got (cdrs.csv)");
}

static int cdr_plots(struct rh_page *p, long long epoch_ms, char *err, size_t errlen)
{
	char path[RH_PATH_MAX + 64];
	snprintf(path, sizeof(path), "%s/cdrs.csv", p->dir);
	struct rh_table t;
	int rc = rh_table_read(&t, path, err, errlen);
	if (rc != 0)
		return rc;
	int start = rh_table_col(&t, "start"), pdd = rh_table_col(&t, "pdd_ms"),
	    status = rh_table_col(&t, "sip_status");
	int disp = rh_table_col(&t, "disposition");
	if (t.nrows == 0 || start < 0 || pdd < 0 || status < 0 || disp < 0) {
		rh_table_free(&t);
		return 0; /* no calls: nothing to draw */
	}
	long long t0 = epoch_ms, t1 = 0;
	for (size_t r = 0; r < t.nrows; r++) {
		long long ms = iso_ms(rh_table_cell(&t, r, start));
		if (ms < 0) {
			snprintf(err, errlen, "%s:%zu: start is not a time (want 2026-01-01T00:00:00.000Z)", path,
				 r + 2);
			rh_table_free(&t);
			return 2;
		}
		t0 = t0 < 0 || ms < t0 ? ms : t0;
		t1 = ms > t1 ? ms : t1;
	}
	unsigned w = bucket_s(t1 - t0);
	size_t nb = (size_t)((t1 - t0) / 1000 / w) + 1;
	struct bucket *b = calloc(nb, sizeof(*b));
	int codes[CODES_MAX];
	size_t ncodes = top_codes(&t, status, disp, codes);
	for (size_t r = 0; b != NULL && r < t.nrows; r++) {
		struct bucket *k = &b[(size_t)((iso_ms(rh_table_cell(&t, r, start)) - t0) / 1000 / w)];
		double v;
		if (rh_num(rh_table_cell(&t, r, pdd), &v) && v > 0) {
			if (k->n == k->cap) {
				k->cap = k->cap ? k->cap * 2 : 64;
				k->pdd = realloc(k->pdd, k->cap * sizeof(double));
			}
			if (k->pdd != NULL)
				k->pdd[k->n++] = v;
		}
		int c = atoi(rh_table_cell(&t, r, status));
		if (c >= 300 && strcmp(rh_table_cell(&t, r, disp), "ANSWERED") != 0) {
			size_t i = 0;
			while (i < ncodes && codes[i] != c)
				i++;
			k->fails[i]++;
		}
	}
	if (b != NULL)
		cdr_write(p, b, nb, w, ncodes);
	for (size_t i = 0; b != NULL && i < nb; i++)
		free(b[i].pdd);
	free(b);
	rh_table_free(&t);
	cdr_draw(p, w, codes, ncodes);
	return 0;
}

/* SMS submitted, delivered and failed per second (mdrs.csv). */
static int sms_plots(struct rh_page *p, long long epoch_ms, char *err, size_t errlen)
{
	char path[RH_PATH_MAX + 64];
	snprintf(path, sizeof(path), "%s/mdrs.csv", p->dir);
	struct rh_table t;
	int rc = rh_table_read(&t, path, err, errlen);
	if (rc != 0)
		return rc;
	int sub = rh_table_col(&t, "submit"), done = rh_table_col(&t, "done"), state = rh_table_col(&t, "state");
	if (t.nrows == 0 || sub < 0 || done < 0 || state < 0) {
		rh_table_free(&t);
		return 0;
	}
	long long t0 = epoch_ms, t1 = 0;
	for (size_t r = 0; r < t.nrows; r++) {
		long long a = iso_ms(rh_table_cell(&t, r, sub)), b = iso_ms(rh_table_cell(&t, r, done));
		if (a < 0) {
			snprintf(err, errlen, "%s:%zu: submit is not a time", path, r + 2);
			rh_table_free(&t);
			return 2;
		}
		t0 = t0 < 0 || a < t0 ? a : t0;
		t1 = a > t1 ? a : t1;
		t1 = b > t1 ? b : t1;
	}
	size_t ns = (size_t)((t1 - t0) / 1000) + 1;
	unsigned(*c)[3] = calloc(ns, sizeof(*c));
	for (size_t r = 0; c != NULL && r < t.nrows; r++) {
		long long b = iso_ms(rh_table_cell(&t, r, done));
		c[(iso_ms(rh_table_cell(&t, r, sub)) - t0) / 1000][0]++;
		if (b >= t0)
			c[(b - t0) / 1000][strcmp(rh_table_cell(&t, r, state), "DELIVERED") == 0 ? 1 : 2]++;
	}
	FILE *d = rh_data_open(p, "sms");
	for (size_t i = 0; c != NULL && d != NULL && i < ns; i++)
		fprintf(d, "%zu,%u,%u,%u\n", i, c[i][0], c[i][1], c[i][2]);
	if (d != NULL)
		fclose(d);
	free(c);
	rh_table_free(&t);
	FILE *gp = rh_plot_begin(p, "sms", "SMS per second", "time since the run started (s)", "messages per second");
	if (gp != NULL)
		fprintf(gp,
			"set yrange [0:*]\nplot 'sms.dat' u 1:2 w l ls 1 t 'submitted (submit_sm accepted)', '' u 1:3 "
			"w l ls 3 t 'delivered', '' u 1:4 w l ls 4 t 'failed or expired'\n");
	rh_plot_end(
	    p, gp, "sms",
	    "Messages by the second they were submitted, and by the second they were delivered or failed (mdrs.csv)");
	return 0;
}

static bool exists(const char *dir, const char *name)
{
	char path[RH_PATH_MAX + 64];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	FILE *f = fopen(path, "r");
	if (f != NULL)
		fclose(f);
	return f != NULL;
}

int rh_run_report(struct rh_page *p, char *err, size_t errlen)
{
	char path[RH_PATH_MAX + 64];
	snprintf(path, sizeof(path), "%s/report.json", p->dir);
	size_t len = 0;
	char *json = rh_slurp(path, &len);
	if (json == NULL || rh_json_find(json, "metrics") == NULL) {
		snprintf(err, errlen, "%s:1: %s", path,
			 json ? "not a run report (no \"metrics\")" : "missing: not a run's output folder");
		free(json);
		return 2;
	}
	double epoch = -1;
	rh_json_num(json, "epoch_ms", &epoch);
	summary(p, json);
	free(json);
	int rc = 0;
	if (exists(p->dir, "series.csv"))
		rc = series_plots(p, err, errlen);
	if (rc == 0 && exists(p->dir, "cdrs.csv"))
		rc = cdr_plots(p, (long long)epoch, err, errlen);
	if (rc == 0 && exists(p->dir, "mdrs.csv"))
		rc = sms_plots(p, (long long)epoch, err, errlen);
	return rc;
}
