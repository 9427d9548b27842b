/* sweep.c: the report of a sweep's output folder (sweep.csv, sweep.json;
 * docs/capacity.md): the capacity sentence from the knee, and ASR, latency
 * percentiles and blocking against the swept key with 95% confidence
 * intervals over the seeds, the knee marked; where the sweep names a trunk's
 * circuits and offered Erlangs, Erlang-B's B(N, A) over the measured blocking. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "report_html.h"

#define POINTS_MAX 512
#define SLOTS	   14

/* The metrics drawn, by their report keys (sweep.csv columns). */
enum {
	S_ASR,
	S_PDD50,
	S_PDD95,
	S_PDD99,
	S_SET95,
	S_SET99,
	S_BLOCK,
	S_ERL_N,
	S_ERL_A,
	S_CPDD99,
	S_CASR,
	S_POOL,
	S_CPU,
	S_CPUT
};
static const char *const SLOT_KEY[SLOTS] = {"asr",
					    "pdd.p50",
					    "pdd.p95",
					    "pdd.p99",
					    "setup.p95",
					    "setup.p99",
					    "blocking",
					    "erlang.circuits",
					    "erlang.offered",
					    "caller.pdd.p99",
					    "caller.asr",
					    "sip.pool_peak",
					    "cpu.load",
					    /* S_CPUT: derived below, no column */ ""};

struct point {
	double value;
	size_t runs, passed;
	double sum[SLOTS], sq[SLOTS];
	size_t n[SLOTS];
};

/* A rate run live (DIR/live.csv, bench/voice-knee-compare.sh). */
struct live_point {
	double value, setup_p99_ms, calls, failed, runs, runs_passed;
	bool passed, skipped, has_p99;
};

struct sweep {
	struct point pt[POINTS_MAX];
	size_t npts;
	struct live_point live[POINTS_MAX];
	size_t nlive;
	double live_knee;
	bool has_live_knee;
	bool has_cput; /* the CPU's busy share while traffic ran could be derived */
	int col[SLOTS];
	char key[256], scenario[512], limiting[512], confidence[64];
	double knee;
	bool has_knee;
	double erl_n, erl_hold_s; /* sweep.json "erlang_b":{"circuits","hold_s"} (switchyard sweep --erlang-b) */
};

/* Student's t, two-sided 95%, for df = 1..30 (then the normal's 1.96). */
static double t95(size_t df)
{
	static const double t[] = {0,	  12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228,
				   2.201, 2.179,  2.160, 2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086, 2.080,
				   2.074, 2.069,  2.064, 2.060, 2.056, 2.052, 2.048, 2.045, 2.042};
	return df == 0 ? 0 : df <= 30 ? t[df] : 1.96;
}

static double mean(const struct point *p, int s)
{
	return p->n[s] ? p->sum[s] / (double)p->n[s] : NAN;
}

static double ci95(const struct point *p, int s)
{
	size_t n = p->n[s];
	if (n < 2)
		return 0;
	double m = p->sum[s] / (double)n, var = (p->sq[s] - (double)n * m * m) / (double)(n - 1);
	return t95(n - 1) * sqrt(var > 0 ? var : 0) / sqrt((double)n);
}

static struct point *point_of(struct sweep *s, double v)
{
	for (size_t i = 0; i < s->npts; i++)
		if (s->pt[i].value == v)
			return &s->pt[i];
	if (s->npts == POINTS_MAX)
		return NULL;
	struct point *p = &s->pt[s->npts++];
	memset(p, 0, sizeof(*p));
	p->value = v;
	return p;
}

static int cmp_point(const void *a, const void *b)
{
	double x = ((const struct point *)a)->value, y = ((const struct point *)b)->value;
	return x < y ? -1 : x > y;
}

static int find_blocking(const struct rh_table *t)
{
	int c = rh_table_col(t, "blocking");
	for (size_t i = 0; c < 0 && i < t->ncols; i++)
		if (strncmp(t->names[i], "blocking", 8) == 0)
			c = (int)i;
	return c;
}

static int read_csv(struct sweep *s, const char *path, char *err, size_t errlen)
{
	struct rh_table t;
	int rc = rh_table_read(&t, path, err, errlen);
	if (rc != 0)
		return rc;
	int key = rh_table_col(&t, "key"), val = rh_table_col(&t, "value"), pass = rh_table_col(&t, "pass");
	if (key < 0 || val < 0 || pass < 0 || rh_table_col(&t, "seed") < 0) {
		snprintf(err, errlen, "%s:1: the header must start key,value,seed,pass (docs/capacity.md)", path);
		rh_table_free(&t);
		return 2;
	}
	for (int i = 0; i < SLOTS; i++)
		s->col[i] = i == S_BLOCK ? find_blocking(&t) : i == S_CPUT ? -1 : rh_table_col(&t, SLOT_KEY[i]);
	/* The CPU model's busy share while traffic ran: cpu_per_call_us x
	 * calls.attempted over the traffic's seconds (calls.offered /
	 * offered_cps). cpu.load divides by the whole run, drain included, which
	 * hides a saturated core behind an idle drain. */
	int cpc = rh_table_col(&t, "cpu_per_call_us"), att = rh_table_col(&t, "calls.attempted");
	int off = rh_table_col(&t, "calls.offered"), ocps = rh_table_col(&t, "offered_cps");
	for (size_t r = 0; r < t.nrows && rc == 0; r++) {
		double v;
		struct point *p = NULL;
		if (!rh_num(rh_table_cell(&t, r, val), &v))
			snprintf(err, errlen, "%s:%zu: value '%.40s' is not a number", path, r + 2,
				 rh_table_cell(&t, r, val)),
			    rc = 2;
		else if ((p = point_of(s, v)) == NULL)
			snprintf(err, errlen, "%s:%zu: more than %d points", path, r + 2, POINTS_MAX), rc = 2;
		for (int i = 0; rc == 0 && i < SLOTS; i++) {
			const char *c = rh_table_cell(&t, r, s->col[i]);
			double m;
			if (s->col[i] < 0 || *c == '\0')
				continue; /* absent, or not measured in that run */
			if (!rh_num(c, &m)) {
				snprintf(err, errlen, "%s:%zu: %s '%.40s' is not a number", path, r + 2,
					 t.names[s->col[i]], c);
				rc = 2;
			} else {
				p->sum[i] += m, p->sq[i] += m * m, p->n[i]++;
			}
		}
		double a[4];
		if (rc == 0 && cpc >= 0 && att >= 0 && off >= 0 && ocps >= 0 &&
		    rh_num(rh_table_cell(&t, r, cpc), &a[0]) && rh_num(rh_table_cell(&t, r, att), &a[1]) &&
		    rh_num(rh_table_cell(&t, r, off), &a[2]) && rh_num(rh_table_cell(&t, r, ocps), &a[3]) && a[2] > 0) {
			double m = a[0] * a[1] * a[3] / a[2] / 1e4; /* us x calls / s / 1e6 x 100 */
			p->sum[S_CPUT] += m, p->sq[S_CPUT] += m * m, p->n[S_CPUT]++;
			s->has_cput = true;
		}
		if (rc == 0) {
			p->runs++;
			p->passed += strcmp(rh_table_cell(&t, r, pass), "1") == 0 ||
				     strcmp(rh_table_cell(&t, r, pass), "true") == 0;
			snprintf(s->key, sizeof(s->key), "%s", rh_table_cell(&t, r, key));
		}
	}
	if (rc == 0 && s->npts == 0)
		snprintf(err, errlen, "%s:2: no runs", path), rc = 2;
	rh_table_free(&t);
	qsort(s->pt, s->npts, sizeof(s->pt[0]), cmp_point);
	return rc;
}

static int read_json(struct sweep *s, const char *path, char *err, size_t errlen)
{
	size_t len;
	char *j = rh_slurp(path, &len);
	if (j == NULL) {
		snprintf(err, errlen, "%s:1: missing: the sweep's summary (switchyard sweep writes it)", path);
		return 2;
	}
	const char *knee = rh_json_find(j, "knee");
	if (knee == NULL || (*knee != '{' && strncmp(knee, "null", 4) != 0)) {
		snprintf(err, errlen, "%s:1: no \"knee\" object (docs/capacity.md)", path);
		free(j);
		return 2;
	}
	rh_json_str(j, "scenario", s->scenario, sizeof(s->scenario));
	char key[256];
	if (rh_json_str(j, "key", key, sizeof(key)))
		snprintf(s->key, sizeof(s->key), "%s", key);
	const char *erl = rh_json_find(j, "erlang_b");
	if (erl != NULL && *erl == '{' &&
	    !(rh_json_num(erl, "circuits", &s->erl_n) && rh_json_num(erl, "hold_s", &s->erl_hold_s)))
		s->erl_n = s->erl_hold_s = 0;
	if (*knee == '{') {
		s->has_knee = rh_json_num(knee, "value", &s->knee);
		rh_json_str(knee, "limiting", s->limiting, sizeof(s->limiting));
		double c;
		if (rh_json_str(knee, "confidence", s->confidence, sizeof(s->confidence)))
			;
		else if (rh_json_num(knee, "confidence", &c))
			snprintf(s->confidence, sizeof(s->confidence), "%.0f%%", c <= 1 ? c * 100 : c);
	}
	free(j);
	return 0;
}

/* DIR/live.csv, when the folder has one: value,passed,calls,failed,
 * setup_p50_ms,setup_p99_ms,us_per_call,skipped (bench/voice-knee-compare.sh).
 * The live knee is the highest value with it and every lower one passing. */
static int read_live(struct sweep *s, const char *path, char *err, size_t errlen)
{
	FILE *probe = fopen(path, "r");
	if (probe == NULL)
		return 0; /* no live runs: the page has none */
	fclose(probe);
	struct rh_table t;
	int rc = rh_table_read(&t, path, err, errlen);
	if (rc != 0)
		return rc;
	int val = rh_table_col(&t, "value"), pass = rh_table_col(&t, "passed"), p99 = rh_table_col(&t, "setup_p99_ms");
	int calls = rh_table_col(&t, "calls"), failed = rh_table_col(&t, "failed"), skip = rh_table_col(&t, "skipped");
	int runs = rh_table_col(&t, "runs"), runs_passed = rh_table_col(&t, "runs_passed");
	if (val < 0 || pass < 0 || p99 < 0) {
		snprintf(err, errlen, "%s:1: the header must name value, passed and setup_p99_ms (docs/capacity.md)",
			 path);
		rh_table_free(&t);
		return 2;
	}
	bool knee_open = true;
	for (size_t r = 0; r < t.nrows && rc == 0 && s->nlive < POINTS_MAX; r++) {
		struct live_point *l = &s->live[s->nlive];
		memset(l, 0, sizeof(*l));
		if (!rh_num(rh_table_cell(&t, r, val), &l->value)) {
			snprintf(err, errlen, "%s:%zu: value '%.40s' is not a number", path, r + 2,
				 rh_table_cell(&t, r, val));
			rc = 2;
			break;
		}
		l->passed = strcmp(rh_table_cell(&t, r, pass), "1") == 0;
		l->skipped = skip >= 0 && strcmp(rh_table_cell(&t, r, skip), "1") == 0;
		l->has_p99 = rh_num(rh_table_cell(&t, r, p99), &l->setup_p99_ms);
		if (calls < 0 || !rh_num(rh_table_cell(&t, r, calls), &l->calls))
			l->calls = NAN;
		if (failed < 0 || !rh_num(rh_table_cell(&t, r, failed), &l->failed))
			l->failed = NAN;
		/* several runs a rate: how many met the criterion; else one run */
		if (runs < 0 || runs_passed < 0 || !rh_num(rh_table_cell(&t, r, runs), &l->runs) ||
		    !rh_num(rh_table_cell(&t, r, runs_passed), &l->runs_passed) || l->runs < 1)
			l->runs = 1, l->runs_passed = l->passed;
		if (r > 0 && l->value <= s->live[s->nlive - 1].value) {
			snprintf(err, errlen, "%s:%zu: values must increase", path, r + 2);
			rc = 2;
			break;
		}
		if (knee_open && l->passed)
			s->live_knee = l->value, s->has_live_knee = true;
		knee_open = knee_open && l->passed;
		s->nlive++;
	}
	rh_table_free(&t);
	return rc;
}

static void live_summary(struct rh_page *p, const struct sweep *s)
{
	char line[600];
	if (!s->has_live_knee)
		snprintf(line, sizeof(line), "Live (live.csv): no rate met the criterion, the lowest tried was %g.",
			 s->live[0].value);
	else if (s->has_knee)
		snprintf(line, sizeof(line),
			 "Live (live.csv): the knee is %g; the simulator's is %g, %+.1f%% of the live "
			 "figure.",
			 s->live_knee, s->knee, (s->knee - s->live_knee) * 100.0 / s->live_knee);
	else
		snprintf(line, sizeof(line), "Live (live.csv): the knee is %g; the simulator met no point.",
			 s->live_knee);
	fprintf(p->f, "<p class=\"summary\" id=\"live-summary\">");
	rh_html_text(p->f, line);
	fprintf(p->f, "</p>\n<table><tr><th>");
	rh_html_text(p->f, s->key);
	fprintf(p->f, "</th><th>live calls</th><th>failed</th><th>setup p99 ms (SIPp rtd; median of the runs)</th>"
		      "<th>runs meeting the criterion</th></tr>\n");
	for (size_t i = 0; i < s->nlive; i++) {
		const struct live_point *l = &s->live[i];
		if (l->skipped) {
			fprintf(p->f,
				"<tr><td class=\"num\">%g</td><td colspan=\"3\">not run (two lower rates failed)</td>"
				"<td class=\"bad\">no</td></tr>\n",
				l->value);
			continue;
		}
		fprintf(p->f,
			"<tr><td class=\"num\">%g</td><td class=\"num\">%.0f</td><td class=\"num\">%.0f</td>"
			"<td class=\"num\">%.2f</td><td class=\"%s\">%.0f of %.0f</td></tr>\n",
			l->value, l->calls, l->failed, l->has_p99 ? l->setup_p99_ms : NAN, l->passed ? "ok" : "bad",
			l->runs_passed, l->runs);
	}
	fprintf(p->f, "</table>\n");
}

static void summary(struct rh_page *p, const struct sweep *s)
{
	char line[1600];
	const struct point *top = &s->pt[s->npts - 1];
	const char *lim = s->limiting[0] ? s->limiting : "an [expect] line sweep.json does not name";
	if (!s->has_knee)
		snprintf(line, sizeof(line),
			 "No point of the sweep met every expectation: the capacity of %s is below "
			 "%s = %g, limited by %s.",
			 s->scenario, s->key, s->pt[0].value, lim);
	else if (s->knee >= top->value && top->passed == top->runs)
		snprintf(line, sizeof(line),
			 "%s carries at least %s = %g (the highest point tried, every run met its "
			 "expectations): extend the sweep to find its limit.",
			 s->scenario, s->key, s->knee);
	else
		snprintf(line, sizeof(line),
			 "%s carries up to %s = %g (runs at the knee pass with a share of at least %s "
			 "at 95%% confidence); above it the limiting resource is the first expectation to fail: %s.",
			 s->scenario, s->key, s->knee, s->confidence[0] ? s->confidence : "?", lim);
	fprintf(p->f, "<h1>Sweep report: ");
	rh_html_text(p->f, s->scenario);
	fprintf(p->f, "</h1>\n<p class=\"summary\" id=\"summary\">");
	rh_html_text(p->f, line);
	fprintf(p->f, "</p>\n<table><tr><th>");
	rh_html_text(p->f, s->key);
	fprintf(p->f,
		"</th><th>runs</th><th>met [expect]</th><th>ASR %%</th><th>PDD p99 ms</th><th>blocking %%</th></tr>\n");
	for (size_t i = 0; i < s->npts; i++) {
		const struct point *q = &s->pt[i];
		fprintf(p->f,
			"<tr><td class=\"num\">%g</td><td class=\"num\">%zu</td><td class=\"%s\">%zu of %zu</td>"
			"<td class=\"num\">%.2f &plusmn; %.2f</td><td class=\"num\">%.1f &plusmn; %.1f</td>"
			"<td class=\"num\">%.3f &plusmn; %.3f</td></tr>\n",
			q->value, q->runs, q->passed == q->runs ? "ok" : "bad", q->passed, q->runs, mean(q, S_ASR),
			ci95(q, S_ASR), mean(q, S_PDD99), ci95(q, S_PDD99), mean(q, S_BLOCK), ci95(q, S_BLOCK));
	}
	fprintf(p->f, "</table>\n");
}

/* The knee as a dashed vertical line with a label and a legend entry. */
static void knee_mark(FILE *gp, const struct sweep *s)
{
	fprintf(gp, "set offsets graph 0.03, graph 0.03, graph 0.05, 0\n"); /* no point on the frame */
	if (s->has_knee)
		fprintf(gp,
			"set arrow 1 from %.17g, graph 0 to %.17g, graph 1 nohead lc rgb '#d62728' dt 2 lw 2\n"
			"set label 1 'knee %g' at %.17g, graph 0.93 offset 0.6,0 tc rgb '#d62728' boxed front\n",
			s->knee, s->knee, s->knee, s->knee);
}

static const char *knee_key(const struct sweep *s)
{
	return s->has_knee ? ", NaN w l lc rgb '#d62728' dt 2 lw 2 t 'knee (highest load meeting [expect])'" : "";
}

static void write_data(struct rh_page *p, const struct sweep *s)
{
	FILE *d = rh_data_open(p, "sweep");
	for (size_t i = 0; d != NULL && i < s->npts; i++) {
		const struct point *q = &s->pt[i];
		fprintf(d, "%.17g", q->value);
		for (int k = 0; k < SLOTS; k++) {
			fprintf(d, ",%.17g,%.17g", mean(q, k), ci95(q, k));
		}
		fprintf(d, "\n");
	}
	if (d != NULL)
		fclose(d);
}

/* B(N, A) along the sweep: A = value x holding time when sweep.json gives
 * them (the swept key is the call rate), else the sweep.csv columns
 * erlang.circuits and erlang.offered, A interpolated between the points. */
static bool write_erlang(struct rh_page *p, const struct sweep *s)
{
	bool json = s->erl_n > 0 && s->erl_hold_s > 0;
	if (!json && (s->col[S_ERL_N] < 0 || s->col[S_ERL_A] < 0))
		return false;
	FILE *d = rh_data_open(p, "erlang");
	for (size_t i = 0; d != NULL && i + 1 < s->npts; i++) {
		const struct point *a = &s->pt[i], *b = &s->pt[i + 1];
		for (int k = 0; k <= 20; k++) {
			double f = k / 20.0, x = a->value + f * (b->value - a->value);
			double erl =
			    json ? x * s->erl_hold_s : mean(a, S_ERL_A) + f * (mean(b, S_ERL_A) - mean(a, S_ERL_A));
			double n = json ? s->erl_n : mean(a, S_ERL_N);
			if (isfinite(erl) && isfinite(n) && n >= 0)
				fprintf(d, "%.17g,%.17g\n", x, 100 * rh_erlang_b((unsigned)(n + 0.5), erl));
		}
	}
	if (d != NULL)
		fclose(d);
	return d != NULL;
}

#define MCOL(k) (2 + 2 * (k))

/* The swept key with its unit, when its name says it. */
static const char *x_label(const struct sweep *s, char *buf, size_t n)
{
	static const char *const units[][2] = {{".cps", "calls per second"},
					       {".mps", "messages per second"},
					       {".erlangs", "Erlangs"},
					       {".rate", "per second"},
					       {"_max", "count"},
					       {".circuits", "circuits"}};
	size_t kl = strlen(s->key);
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		size_t sl = strlen(units[i][0]);
		if (kl >= sl && strcmp(s->key + kl - sl, units[i][0]) == 0) {
			snprintf(buf, n, "%s (%s)", s->key, units[i][1]);
			return buf;
		}
	}
	snprintf(buf, n, "%s", s->key);
	return buf;
}

static void latency_plot(struct rh_page *p, const struct sweep *s, const char *name, const char *title, int from,
			 int to, const char *caption)
{
	static const char *const what[] = {"PDD p50", "PDD p95", "PDD p99", "setup p95", "setup p99"};
	char xl[300];
	FILE *gp = rh_plot_begin(p, name, title, x_label(s, xl, sizeof(xl)), "milliseconds");
	if (gp != NULL) {
		knee_mark(gp, s);
		fprintf(gp, "set yrange [0:*]\nplot ");
		int drawn = 0;
		for (int k = from; k <= to; k++)
			if (s->col[k] >= 0)
				fprintf(gp, "%s'sweep.dat' u 1:%d:%d w yerrorlines ls %d pt %d ps 1.3 t '%s'",
					drawn++ ? ", " : "", MCOL(k), MCOL(k) + 1, k - from + 1, 5 + 2 * (k - from),
					what[k - S_PDD50]);
		fprintf(gp, "%s%s\n", drawn ? "" : "NaN t 'not in sweep.csv'", knee_key(s));
	}
	rh_plot_end(p, gp, name, caption);
}

static void plot_asr_latency(struct rh_page *p, const struct sweep *s)
{
	char xl[300];
	FILE *gp =
	    rh_plot_begin(p, "sweep-asr", "Answer-seizure ratio against load", x_label(s, xl, sizeof(xl)), "ASR (%)");
	if (gp != NULL) {
		knee_mark(gp, s);
		fprintf(gp,
			"set yrange [0:105]\nplot 'sweep.dat' u 1:%d:%d w yerrorlines ls 1 pt 7 t 'at the switch: "
			"answered / "
			"INVITEs it took, 95%% CI'",
			MCOL(S_ASR), MCOL(S_ASR) + 1);
		if (s->col[S_CASR] >= 0)
			fprintf(gp,
				", 'sweep.dat' u 1:%d:%d w yerrorlines ls 3 pt 5 t 'at the callers: answered / calls "
				"offered'",
				MCOL(S_CASR), MCOL(S_CASR) + 1);
		fprintf(gp, "%s\n", knee_key(s));
	}
	rh_plot_end(
	    p, gp, "sweep-asr",
	    "ASR at each point of the sweep; error bars: 95% confidence interval over the seeds. The "
	    "callers' ASR also counts the calls the switch refused before taking them (a full transaction pool)");
	latency_plot(p, s, "sweep-pdd", "Post-dial delay against load", S_PDD50, S_PDD99,
		     "PDD (INVITE to the first ringing or answer) percentiles, mean and 95% CI over the seeds");
	latency_plot(p, s, "sweep-setup", "Call setup time against load", S_SET95, S_SET99,
		     "Setup (INVITE to answer) percentiles, mean and 95% CI over the seeds");
}

static void plot_blocking(struct rh_page *p, const struct sweep *s)
{
	char xl[300];
	bool erl = write_erlang(p, s);
	FILE *gp =
	    rh_plot_begin(p, "sweep-blocking", erl ? "Blocking against load, with Erlang-B" : "Blocking against load",
			  x_label(s, xl, sizeof(xl)), "calls blocked (% of offered)");
	if (gp != NULL) {
		knee_mark(gp, s);
		fprintf(gp,
			"set yrange [0:*]\nplot 'sweep.dat' u 1:%d:%d w yerrorbars ls 4 pt 7 ps 1.2 t 'measured "
			"blocking, 95%% CI', '' u 1:%d w l ls 4 notitle",
			MCOL(S_BLOCK), MCOL(S_BLOCK) + 1, MCOL(S_BLOCK));
		if (erl)
			fprintf(gp, ", 'erlang.dat' u 1:2 w l ls 1 lw 2 t 'Erlang-B B(N, A)'");
		fprintf(gp, "%s\n", knee_key(s));
	}
	rh_plot_end(p, gp, "sweep-blocking",
		    erl ? "Calls refused for capacity per call offered; the line is Erlang-B for the trunk's N "
			  "circuits at the offered Erlangs A of each point"
			: "Calls refused for capacity per call offered, mean and 95% CI over the seeds");
}

/* The live knee as a dotted green line, its label at height y (graph units). */
static void live_knee_mark(FILE *gp, const struct sweep *s, double y)
{
	if (s->has_live_knee)
		fprintf(gp,
			"set arrow 2 from %.17g, graph 0 to %.17g, graph 1 nohead lc rgb '#2ca02c' dt 3 lw 2\n"
			"set label 2 'live knee %g' at %.17g, graph %g offset 0.6,0 tc rgb '#2ca02c' boxed front\n",
			s->live_knee, s->live_knee, s->live_knee, s->live_knee, y);
}

/* The simulator's and the live switch's curves on one plot each: the
 * callers' setup p99 (log scale) and the share of runs meeting the
 * criterion, both knees marked. */
static void plot_live(struct rh_page *p, const struct sweep *s)
{
	char xl[300];
	FILE *d = rh_data_open(p, "live");
	for (size_t i = 0; d != NULL && i < s->nlive; i++) {
		const struct live_point *l = &s->live[i];
		if (!l->skipped)
			fprintf(d, "%.17g,%.17g,%.17g\n", l->value,
				l->has_p99 && l->setup_p99_ms > 0 ? l->setup_p99_ms : NAN,
				100.0 * l->runs_passed / l->runs);
	}
	if (d != NULL)
		fclose(d);
	int sim_col = s->col[S_CPDD99] >= 0 ? S_CPDD99 : S_SET99;
	FILE *gp = rh_plot_begin(p, "sweep-live-setup", "Call setup p99 against load: simulator and live",
				 x_label(s, xl, sizeof(xl)), "setup p99 (ms, log scale)");
	if (gp != NULL) {
		knee_mark(gp, s);
		live_knee_mark(gp, s, 0.83);
		/* log scale: an interval reaching below zero is drawn down to a tenth of the mean */
		int m = MCOL(sim_col), c = MCOL(sim_col) + 1;
		fprintf(gp,
			"set logscale y\nplot 'sweep.dat' u 1:%d:($%d-$%d > 0 ? $%d-$%d : $%d/10):($%d+$%d) w "
			"yerrorlines ls 1 pt 7 "
			"t 'simulator: %s, 95%% CI', 'live.dat' u 1:2 w lp ls 3 pt 5 ps 1.3 t 'live: SIPp rtd p99, "
			"median'%s%s\n",
			m, m, c, m, c, m, m, c, sim_col == S_CPDD99 ? "caller pdd.p99" : "setup p99", knee_key(s),
			s->has_live_knee ? ", NaN w l lc rgb '#2ca02c' dt 3 lw 2 t 'live knee'" : "");
	}
	rh_plot_end(p, gp, "sweep-live-setup",
		    "The callers' INVITE-to-answer time at the 99th percentile: the simulator's sweep "
		    "(error bars over the seeds) and the live runs of the same configuration (live.csv)");
	FILE *g2 = rh_plot_begin(p, "sweep-live-pass", "Runs meeting the criterion: simulator and live",
				 x_label(s, xl, sizeof(xl)), "runs meeting [expect] (%)");
	if (g2 != NULL) {
		FILE *pd = rh_data_open(p, "pass");
		for (size_t i = 0; pd != NULL && i < s->npts; i++)
			fprintf(pd, "%.17g,%.17g\n", s->pt[i].value,
				s->pt[i].runs ? 100.0 * (double)s->pt[i].passed / (double)s->pt[i].runs : NAN);
		if (pd != NULL)
			fclose(pd);
		knee_mark(g2, s);
		live_knee_mark(g2, s, 0.5);
		fprintf(g2,
			"set yrange [-5:110]\nplot 'pass.dat' u 1:2 w lp ls 1 pt 7 t 'simulator (share of seeds)', "
			"'live.dat' u 1:3 w lp ls 3 pt 5 ps 1.3 t 'live (share of the runs at that rate)'%s%s\n",
			knee_key(s), s->has_live_knee ? ", NaN w l lc rgb '#2ca02c' dt 3 lw 2 t 'live knee'" : "");
	}
	rh_plot_end(p, g2, "sweep-live-pass",
		    "The share of the runs at each load that met the scenario's expectations (live: every call "
		    "completed and setup p99 within the bound); a point passes when most of its runs do");
}

/* What runs out: the transaction pool's highest use and the modelled CPU's
 * busy share, both in percent of their limit. */
static void plot_resources(struct rh_page *p, const struct sweep *s)
{
	if (s->col[S_POOL] < 0 && s->col[S_CPU] < 0 && !s->has_cput)
		return;
	char xl[300];
	FILE *gp = rh_plot_begin(p, "sweep-resources", "Resource use against load", x_label(s, xl, sizeof(xl)),
				 "% of the limit");
	if (gp != NULL) {
		knee_mark(gp, s);
		fprintf(gp, "set yrange [0:*]\nplot ");
		int drawn = 0;
		if (s->col[S_POOL] >= 0)
			fprintf(gp,
				"%s'sweep.dat' u 1:%d:%d w yerrorlines ls 2 pt 7 t 'SIP transaction pool, peak "
				"(sip.pool_peak)'",
				drawn++ ? ", " : "", MCOL(S_POOL), MCOL(S_POOL) + 1);
		if (s->has_cput)
			fprintf(gp,
				"%s'sweep.dat' u 1:%d:%d w yerrorlines ls 5 pt 9 t 'CPU model, busy while traffic ran'",
				drawn++ ? ", " : "", MCOL(S_CPUT), MCOL(S_CPUT) + 1);
		else if (s->col[S_CPU] >= 0)
			fprintf(gp,
				"%s'sweep.dat' u 1:%d:%d w yerrorlines ls 5 pt 9 t 'CPU model, busy over the run "
				"(cpu.load)'",
				drawn++ ? ", " : "", MCOL(S_CPU), MCOL(S_CPU) + 1);
		fprintf(gp, ", 90 w l lc rgb '#404040' dt 3 lw 1.5 t 'overload control starts (90%%)'%s\n",
			knee_key(s));
	}
	rh_plot_end(
	    p, gp, "sweep-resources",
	    "The SIP transaction pool's highest use ([node] sip_memory or txn_max): from 90% new requests are answered "
	    "503 + Retry-After with no transaction (sip.txn_full) and only requests inside a dialog use the rest; and "
	    "the switch's modelled CPU: its busy time over the seconds traffic ran (cpu_per_call_us x calls.attempted "
	    "/ "
	    "traffic seconds; the drain's work counted, so past 100% it is saturated), else cpu.load over the whole "
	    "run. "
	    "Mean and 95% CI over the seeds");
}

int rh_sweep_report(struct rh_page *p, char *err, size_t errlen)
{
	static struct sweep s; /* large; one report at a time */
	memset(&s, 0, sizeof(s));
	char path[RH_PATH_MAX + 64];
	snprintf(path, sizeof(path), "%s/sweep.csv", p->dir);
	int rc = read_csv(&s, path, err, errlen);
	if (rc != 0)
		return rc;
	snprintf(path, sizeof(path), "%s/sweep.json", p->dir);
	if ((rc = read_json(&s, path, err, errlen)) != 0)
		return rc;
	snprintf(path, sizeof(path), "%s/live.csv", p->dir);
	if ((rc = read_live(&s, path, err, errlen)) != 0)
		return rc;
	if (s.scenario[0] == '\0')
		snprintf(s.scenario, sizeof(s.scenario), "the scenario");
	summary(p, &s);
	if (s.nlive > 0)
		live_summary(p, &s);
	write_data(p, &s);
	if (s.nlive > 0)
		plot_live(p, &s);
	plot_asr_latency(p, &s);
	plot_blocking(p, &s);
	plot_resources(p, &s);
	return 0;
}
