/* sweep.c: `switchyard sweep SCENARIO --vary KEY=A..B/N [--seeds K]
 * [--jobs J] --out DIR`: `switchyard sim` at N values of one scenario key,
 * K seeds each, J processes at once (fork and exec of this binary); each
 * run's report.json is gathered into DIR/sweep.csv (one row a run) and
 * DIR/sweep.json (per point: mean and 95% confidence interval over the
 * seeds; the knee). The statistics are sim/sweep.c's. docs/capacity.md. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <fcntl.h>
#include <unistd.h>

#include "cmd.h"
#include "sim/sweep.h"

#define SWEEP_SEEDS_MAX 64
#define SWEEP_FAILS_MAX 8

/* The metrics a sweep gathers: report.json's names. cpu_per_call_us is
 * derived (cpu.busy / calls.attempted, the sim's CPU model). Metrics a
 * scenario does not report are left empty. */
static const char *const metric_names[] = {
    "calls.offered",	"offered_cps",	  "calls.attempted", "asr",
    "pdd.p50",		"pdd.p95",	  "pdd.p99",	     "setup.p50",
    "setup.p95",	"setup.p99",	  "blocking",	     "calls.congestion",
    "calls.failed",	"calls.peak",	  "cpu.load",	     "cpu_per_call_us",
    "sip.txn_full",	"sms.submitted",  "sms.delivered",   "sms.throttled",
    "submit_resp.p99",	"sms.accepted",	  "ussd.started",    "ussd.completion_ratio",
    "ussd.active_peak", "caller.pdd.p99", "caller.failed",   "cpu.rcvbuf_drops",
    "caller.asr",	"sip.pool_peak",
};
#define METRIC_N (sizeof(metric_names) / sizeof(metric_names[0]))

/* A metric's column; the names used below are in the table. */
static size_t mi(const char *name)
{
	for (size_t k = 0; k < METRIC_N; k++)
		if (strcmp(metric_names[k], name) == 0)
			return k;
	abort();
}

struct sweep_run {
	unsigned point, seed;
	char dir[512];
	pid_t pid;
	int status; /* exit status; -1 not run yet */
	bool pass;
	bool have[METRIC_N];
	double m[METRIC_N];
	char fails[SWEEP_FAILS_MAX][160]; /* the [expect] lines that failed */
	unsigned fail_n;
};

/* sim takes 8 --set; the swept key is one of them. */
#define SWEEP_SETS_MAX 7

struct sweep {
	const char *scenario, *out;
	struct sweep_range range;
	const char *sets[SWEEP_SETS_MAX]; /* --set: fixed overrides, passed to every run */
	unsigned set_n;
	unsigned seeds, jobs, erlang_n;
	double pass_share, hold_s;
	struct sweep_run *runs;
	size_t run_n;
};

char *cmd_read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	if (f == NULL)
		return NULL;
	size_t cap = 4096, n = 0;
	char *buf = malloc(cap);
	for (size_t got; buf != NULL && (got = fread(buf + n, 1, cap - n - 1, f)) > 0;) {
		n += got;
		if (cap - n - 1 == 0) {
			char *nb = realloc(buf, cap * 2);
			if (nb == NULL)
				free(buf);
			buf = nb;
			cap *= 2;
		}
	}
	fclose(f);
	if (buf != NULL)
		buf[n] = '\0';
	*len = n;
	return buf;
}

static int usage_err(const char *msg, const char *arg)
{
	fprintf(stderr, "switchyard sweep: %s%s%s\n", msg, arg ? " " : "", arg ? arg : "");
	fprintf(
	    stderr,
	    "usage: switchyard sweep SCENARIO --vary SECTION.KEY=A..B/N [--seeds K] [--jobs J] --out DIR\n"
	    "                        [--set SECTION.KEY=VALUE]... [--pass-share F] [--erlang-b N --hold SECONDS]\n");
	return 2;
}

static bool num_arg(const char *s, double lo, double hi, double *out)
{
	char *end;
	*out = strtod(s, &end);
	return *s != '\0' && *end == '\0' && *out >= lo && *out <= hi;
}

static int parse_args(int argc, char **argv, struct sweep *sw)
{
	char err[256];
	const char *vary = NULL;
	double v;
	long cores = sysconf(_SC_NPROCESSORS_ONLN);
	sw->seeds = 3, sw->jobs = cores > 0 ? (unsigned)cores : 1, sw->pass_share = 1.0;
	for (int i = 2; i < argc; i++) {
		const char *a = argv[i], *next = i + 1 < argc ? argv[i + 1] : NULL;
		bool takes = next != NULL && a[0] == '-';
		if (takes && strcmp(a, "--vary") == 0)
			vary = next;
		else if (takes && strcmp(a, "--out") == 0)
			sw->out = next;
		else if (takes && strcmp(a, "--set") == 0) {
			if (sw->set_n == SWEEP_SETS_MAX)
				return usage_err("at most 7 --set", next);
			if (strchr(next, '=') == NULL || strchr(next, '.') == NULL ||
			    strchr(next, '.') > strchr(next, '='))
				return usage_err("--set takes SECTION.KEY=VALUE, got", next);
			sw->sets[sw->set_n++] = next;
		} else if (takes && strcmp(a, "--seeds") == 0 && num_arg(next, 1, SWEEP_SEEDS_MAX, &v))
			sw->seeds = (unsigned)v;
		else if (takes && strcmp(a, "--jobs") == 0 && num_arg(next, 1, 256, &v))
			sw->jobs = (unsigned)v;
		else if (takes && strcmp(a, "--pass-share") == 0 && num_arg(next, 0.01, 1, &v))
			sw->pass_share = v;
		else if (takes && strcmp(a, "--erlang-b") == 0 && num_arg(next, 1, 100000, &v))
			sw->erlang_n = (unsigned)v;
		else if (takes && strcmp(a, "--hold") == 0 && num_arg(next, 1e-6, 1e9, &v))
			sw->hold_s = v;
		else if (a[0] != '-' && sw->scenario == NULL) {
			sw->scenario = a;
			continue;
		} else
			return usage_err("bad or unknown argument", a);
		i++;
	}
	if (sw->scenario == NULL || vary == NULL || sw->out == NULL)
		return usage_err("SCENARIO, --vary and --out are required", NULL);
	if ((sw->erlang_n != 0) != (sw->hold_s > 0))
		return usage_err("--erlang-b N and --hold SECONDS go together", NULL);
	if (sweep_range_parse(vary, &sw->range, err, sizeof(err)) != 0)
		return usage_err(err, NULL);
	return 0;
}

static int mkdir_p(const char *dir)
{
	char tmp[512];
	snprintf(tmp, sizeof(tmp), "%s", dir);
	for (char *p = tmp + 1; *p; p++)
		if (*p == '/') {
			*p = '\0';
			if (mkdir(tmp, 0755) != 0 && errno != EEXIST)
				return -1;
			*p = '/';
		}
	return mkdir(tmp, 0755) != 0 && errno != EEXIST ? -1 : 0;
}

/* One `switchyard sim` with the key set; stdout and stderr to the run's folder. */
static pid_t spawn(const struct sweep *sw, struct sweep_run *r)
{
	char val[64], set[SWEEP_KEY_MAX + 72], seed[24], path[600];
	sweep_value_fmt(&sw->range, sweep_range_value(&sw->range, r->point), val, sizeof(val));
	snprintf(set, sizeof(set), "%s=%s", sw->range.key, val);
	snprintf(seed, sizeof(seed), "%u", r->seed);
	pid_t pid = fork();
	if (pid != 0)
		return pid;
	snprintf(path, sizeof(path), "%s/stdout.txt", r->dir);
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	snprintf(path, sizeof(path), "%s/stderr.txt", r->dir);
	int fe = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd < 0 || fe < 0 || dup2(fd, STDOUT_FILENO) < 0 || dup2(fe, STDERR_FILENO) < 0)
		_exit(126);
	const char *argv[12 + 2 * SWEEP_SETS_MAX];
	int n = 0;
	argv[n++] = "switchyard", argv[n++] = "sim", argv[n++] = sw->scenario;
	for (unsigned i = 0; i < sw->set_n; i++)
		argv[n++] = "--set", argv[n++] = sw->sets[i];
	argv[n++] = "--set", argv[n++] = set; /* last: the swept value wins over a fixed one */
	argv[n++] = "--seed", argv[n++] = seed, argv[n++] = "--out", argv[n++] = r->dir;
	argv[n++] = "--quiet", argv[n] = NULL;
	execv("/proc/self/exe", (char *const *)argv);
	_exit(127);
}

/* At most jobs runs at once; each run's exit status kept. */
static int run_all(struct sweep *sw)
{
	size_t next = 0, done = 0, running = 0;
	while (done < sw->run_n) {
		while (running < sw->jobs && next < sw->run_n) {
			struct sweep_run *r = &sw->runs[next++];
			if (mkdir_p(r->dir) != 0 || (r->pid = spawn(sw, r)) < 0) {
				fprintf(stderr, "switchyard sweep: cannot start the run in %s: %s\n", r->dir,
					strerror(errno));
				return -1;
			}
			running++;
		}
		int st;
		pid_t pid = wait(&st);
		if (pid < 0)
			return -1;
		for (size_t i = 0; i < sw->run_n; i++)
			if (sw->runs[i].pid == pid && sw->runs[i].status < 0)
				sw->runs[i].status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
		running--;
		done++;
		if (isatty(STDERR_FILENO))
			fprintf(stderr, "\r[sweep] %zu/%zu runs%s", done, sw->run_n, done == sw->run_n ? "\n" : "");
	}
	return 0;
}

/* The [expect] lines report.json marks failed: {"line":N,"text":"...","pass":false,...}. */
static void read_fails(struct sweep_run *r, const char *json)
{
	const char *p = strstr(json, "\"expect\":[");
	for (p = p ? strstr(p, "{\"line\":") : NULL; p != NULL && r->fail_n < SWEEP_FAILS_MAX;
	     p = strstr(p + 1, "{\"line\":")) {
		const char *t = strstr(p, "\"text\":\""), *f = strstr(p, "\"pass\":false"), *e = strchr(p, '}');
		if (t == NULL || f == NULL || e == NULL || f > e)
			continue;
		t += 8;
		const char *q = t;
		while (*q && !(*q == '"' && q[-1] != '\\'))
			q++;
		snprintf(r->fails[r->fail_n++], sizeof(r->fails[0]), "%.*s", (int)(q - t), t);
	}
}

static int collect(struct sweep_run *r)
{
	char path[600];
	size_t len;
	snprintf(path, sizeof(path), "%s/report.json", r->dir);
	char *json = cmd_read_file(path, &len);
	if (json == NULL || (r->status != 0 && r->status != 1)) {
		fprintf(stderr, "switchyard sweep: run %s failed (exit %d); see its stderr.txt\n", r->dir, r->status);
		free(json);
		return -1;
	}
	r->pass = r->status == 0 && strstr(json, "\"result\":\"PASS\"") != NULL;
	for (size_t k = 0; k < METRIC_N; k++)
		r->have[k] = sweep_json_metric(json, metric_names[k], &r->m[k]);
	double busy, calls;
	size_t cpc = mi("cpu_per_call_us");
	if (sweep_json_metric(json, "cpu.busy", &busy) && sweep_json_metric(json, "calls.attempted", &calls) &&
	    calls > 0) {
		r->have[cpc] = true;
		r->m[cpc] = busy * 1000.0 / calls; /* cpu.busy is in ms */
	}
	/* offered_cps: calls offered over the seconds traffic ran (report.json's traffic_s). */
	const char *ts = strstr(json, "\"traffic_s\":");
	double traffic_s = ts ? strtod(ts + 12, NULL) : 0, offered;
	if (traffic_s > 0 && sweep_json_metric(json, "calls.offered", &offered)) {
		r->have[mi("offered_cps")] = true;
		r->m[mi("offered_cps")] = offered / traffic_s;
	}
	read_fails(r, json);
	free(json);
	return 0;
}

struct point_stat {
	double value;
	unsigned runs, passed;
	bool have[METRIC_N];
	double mean[METRIC_N], ci[METRIC_N];
	double erlang_b; /* B(N, value x hold) in %, with --erlang-b */
	bool erlang_ok;
};

/* B(N, value x hold) against the measured blocking: within the t interval
 * over the seeds, or within the Wilson 95% interval of the calls pooled over
 * the seeds (congestion / attempted). The pooled interval is the floor
 * where the seeds agree too well for a t interval: at low load every seed
 * may see no blocking at all (B(30, 15) = 0.022%). */
static void erlang_check(const struct sweep *sw, unsigned p, struct point_stat *ps)
{
	const size_t kb = mi("blocking"), kc = mi("calls.congestion"), ka = mi("calls.attempted");
	double blocked = 0, calls = 0, lo, hi;
	for (size_t i = 0; i < sw->run_n; i++)
		if (sw->runs[i].point == p && sw->runs[i].have[kc] && sw->runs[i].have[ka])
			blocked += sw->runs[i].m[kc], calls += sw->runs[i].m[ka];
	ps->erlang_b = 100.0 * sweep_erlang_b(sw->erlang_n, ps->value * sw->hold_s);
	sweep_wilson((unsigned)blocked, (unsigned)calls, 1.96, &lo, &hi);
	bool in_t = ps->have[kb] && fabs(ps->mean[kb] - ps->erlang_b) <= ps->ci[kb];
	bool in_w = calls > 0 && ps->erlang_b >= 100.0 * lo && ps->erlang_b <= 100.0 * hi;
	ps->erlang_ok = in_t || in_w;
}

static void point_stats(const struct sweep *sw, unsigned p, struct point_stat *ps)
{
	double x[SWEEP_SEEDS_MAX];
	memset(ps, 0, sizeof(*ps));
	ps->value = sweep_range_value(&sw->range, p);
	for (size_t k = 0; k < METRIC_N; k++) {
		size_t n = 0;
		for (size_t i = 0; i < sw->run_n; i++)
			if (sw->runs[i].point == p && sw->runs[i].have[k])
				x[n++] = sw->runs[i].m[k];
		if ((ps->have[k] = n > 0))
			sweep_mean_ci(x, n, &ps->mean[k], &ps->ci[k]);
	}
	for (size_t i = 0; i < sw->run_n; i++)
		if (sw->runs[i].point == p)
			ps->runs++, ps->passed += sw->runs[i].pass;
	if (sw->erlang_n)
		erlang_check(sw, p, ps);
}

/* The [expect] line that failed in most runs of point p (file order on ties). */
static const char *limiting(const struct sweep *sw, unsigned p)
{
	const char *best = NULL;
	unsigned best_n = 0;
	for (size_t i = 0; i < sw->run_n; i++) {
		const struct sweep_run *r = &sw->runs[i];
		for (unsigned f = 0; r->point == p && f < r->fail_n; f++) {
			unsigned n = 0;
			for (size_t j = 0; j < sw->run_n; j++)
				for (unsigned g = 0; sw->runs[j].point == p && g < sw->runs[j].fail_n; g++)
					n += strcmp(sw->runs[j].fails[g], r->fails[f]) == 0;
			if (n > best_n)
				best = r->fails[f], best_n = n;
		}
	}
	return best;
}

static void json_str(FILE *f, const char *s)
{
	fputc('"', f);
	for (; s && *s; s++) {
		if (*s == '"' || *s == '\\')
			fputc('\\', f);
		fputc(*s, f);
	}
	fputc('"', f);
}

static int write_csv(const struct sweep *sw)
{
	char path[600], val[64];
	snprintf(path, sizeof(path), "%s/sweep.csv", sw->out);
	FILE *f = fopen(path, "w");
	if (f == NULL)
		return -1;
	fprintf(f, "key,value,seed,pass");
	for (size_t k = 0; k < METRIC_N; k++)
		fprintf(f, ",%s", metric_names[k]);
	fputc('\n', f);
	for (size_t i = 0; i < sw->run_n; i++) {
		const struct sweep_run *r = &sw->runs[i];
		sweep_value_fmt(&sw->range, sweep_range_value(&sw->range, r->point), val, sizeof(val));
		fprintf(f, "%s,%s,%u,%d", sw->range.key, val, r->seed, r->pass ? 1 : 0);
		for (size_t k = 0; k < METRIC_N; k++)
			r->have[k] ? fprintf(f, ",%.6g", r->m[k]) : fprintf(f, ",");
		fputc('\n', f);
	}
	return fclose(f) == 0 ? 0 : -1;
}

static void write_point(FILE *f, const struct sweep *sw, const struct point_stat *ps)
{
	char val[64];
	sweep_value_fmt(&sw->range, ps->value, val, sizeof(val));
	fprintf(f, "    {\"value\":%s,\"runs\":%u,\"passed\":%u,\"metrics\":{", val, ps->runs, ps->passed);
	bool first = true;
	for (size_t k = 0; k < METRIC_N; k++) {
		if (!ps->have[k])
			continue;
		fprintf(f, "%s\"%s\":{\"mean\":%.6g,\"ci95\":%.6g}", first ? "" : ",", metric_names[k], ps->mean[k],
			ps->ci[k]);
		first = false;
	}
	fputc('}', f);
	if (sw->erlang_n)
		fprintf(f, ",\"erlangs\":%.6g,\"erlang_b\":%.6g,\"erlang_b_ok\":%s", ps->value * sw->hold_s,
			ps->erlang_b, ps->erlang_ok ? "true" : "false");
	fputc('}', f);
}

static int write_json(const struct sweep *sw, const struct point_stat *ps, const struct sweep_knee *k)
{
	char path[600], val[64];
	snprintf(path, sizeof(path), "%s/sweep.json", sw->out);
	FILE *f = fopen(path, "w");
	if (f == NULL)
		return -1;
	fprintf(f, "{\"scenario\":");
	json_str(f, sw->scenario);
	fprintf(f, ",\"key\":");
	json_str(f, sw->range.key);
	fprintf(f, ",\"set\":[");
	for (unsigned i = 0; i < sw->set_n; i++) {
		fputs(i ? "," : "", f);
		json_str(f, sw->sets[i]);
	}
	fprintf(f, "],\"seeds\":%u,\"pass_share\":%.6g,", sw->seeds, sw->pass_share);
	if (sw->erlang_n)
		fprintf(f, "\"erlang_b\":{\"circuits\":%u,\"hold_s\":%.6g},", sw->erlang_n, sw->hold_s);
	fprintf(f, "\"points\":[\n");
	for (unsigned p = 0; p < sw->range.n; p++) {
		write_point(f, sw, &ps[p]);
		fprintf(f, "%s\n", p + 1 < sw->range.n ? "," : "");
	}
	fprintf(f, "  ],\n  \"knee\":{\"value\":");
	if (k->index >= 0) {
		sweep_value_fmt(&sw->range, ps[k->index].value, val, sizeof(val));
		fprintf(f, "%s", val);
	} else {
		fprintf(f, "null");
	}
	fprintf(f, ",\"confidence\":%.4f,\"limiting\":", k->confidence);
	const char *lim = k->first_fail >= 0 ? limiting(sw, (unsigned)k->first_fail) : NULL;
	lim ? json_str(f, lim) : (void)fprintf(f, "null");
	fprintf(f, "}}\n");
	return fclose(f) == 0 ? 0 : -1;
}

/* The table on stdout: per point its passes, ASR, PDD p99 and blocking; then the knee. */
static int summary(const struct sweep *sw, const struct point_stat *ps, const struct sweep_knee *k)
{
	char val[64];
	int bad = 0;
	printf("sweep %s: %s over %u points, %u seeds each\n", sw->scenario, sw->range.key, sw->range.n, sw->seeds);
	printf("%14s %7s %16s %18s %18s%s\n", "value", "passed", "asr %", "pdd.p99 ms", "blocking %",
	       sw->erlang_n ? "   Erlang-B %" : "");
	for (unsigned p = 0; p < sw->range.n; p++) {
		const struct point_stat *s = &ps[p];
		sweep_value_fmt(&sw->range, s->value, val, sizeof(val));
		size_t a = mi("asr"), d = mi("pdd.p99"), b = mi("blocking");
		printf("%14s %3u/%-3u %8.3f ±%6.3f %9.3f ±%7.3f %9.4f ±%7.4f", val, s->passed, s->runs, s->mean[a],
		       s->ci[a], s->mean[d], s->ci[d], s->mean[b], s->ci[b]);
		if (sw->erlang_n)
			printf("   %8.4f %s", s->erlang_b, s->erlang_ok ? "ok" : "OUTSIDE the 95% interval");
		printf("\n");
		bad += sw->erlang_n && !s->erlang_ok;
	}
	const char *lim = k->first_fail >= 0 ? limiting(sw, (unsigned)k->first_fail) : NULL;
	if (k->index < 0) {
		printf("knee      none: the lowest value already fails (%s)\n", lim ? lim : "a run failed");
	} else {
		sweep_value_fmt(&sw->range, ps[k->index].value, val, sizeof(val));
		printf("knee      %s = %s (%u of %u runs pass; pass share >= %.3f with 95%% confidence)", sw->range.key,
		       val, ps[k->index].passed, ps[k->index].runs, k->confidence);
		printf(k->first_fail >= 0 ? "; above it first fails: %s\n" : "%s; no point fails in the range\n",
		       lim ? lim : "");
	}
	if (sw->erlang_n)
		printf("erlang-b  %s: measured blocking %s B(%u, value x %gs) at every point\n", bad ? "FAIL" : "PASS",
		       bad ? "is not within the 95% interval of" : "within the 95% interval of", sw->erlang_n,
		       sw->hold_s);
	return bad;
}

static int plan(struct sweep *sw)
{
	char val[64];
	sw->run_n = (size_t)sw->range.n * sw->seeds;
	if ((sw->runs = calloc(sw->run_n, sizeof(*sw->runs))) == NULL)
		return -1;
	for (unsigned p = 0; p < sw->range.n; p++)
		for (unsigned s = 0; s < sw->seeds; s++) {
			struct sweep_run *r = &sw->runs[(size_t)p * sw->seeds + s];
			r->point = p, r->seed = s + 1, r->status = -1;
			sweep_value_fmt(&sw->range, sweep_range_value(&sw->range, p), val, sizeof(val));
			snprintf(r->dir, sizeof(r->dir), "%s/runs/%s-%s-s%u", sw->out, sw->range.key, val, r->seed);
		}
	return 0;
}

int cmd_sweep(int argc, char **argv)
{
	struct sweep sw = {0};
	if (parse_args(argc, argv, &sw) != 0)
		return 2;
	if (access(sw.scenario, R_OK) != 0) {
		fprintf(stderr, "switchyard sweep: cannot read %s\n", sw.scenario);
		return 2;
	}
	if (mkdir_p(sw.out) != 0 || plan(&sw) != 0 || run_all(&sw) != 0) {
		fprintf(stderr, "switchyard sweep: cannot run into %s\n", sw.out);
		free(sw.runs);
		return 2;
	}
	int rc = 0;
	for (size_t i = 0; i < sw.run_n; i++)
		rc |= collect(&sw.runs[i]);
	struct point_stat *ps = calloc(sw.range.n, sizeof(*ps));
	struct sweep_point_pass pp[SWEEP_POINTS_MAX];
	if (rc != 0 || ps == NULL) {
		free(ps);
		free(sw.runs);
		return 2;
	}
	for (unsigned p = 0; p < sw.range.n; p++) {
		point_stats(&sw, p, &ps[p]);
		pp[p] = (struct sweep_point_pass){ps[p].value, ps[p].runs, ps[p].passed};
	}
	struct sweep_knee k = sweep_knee_find(pp, sw.range.n, sw.pass_share);
	if (write_csv(&sw) != 0 || write_json(&sw, ps, &k) != 0) {
		fprintf(stderr, "switchyard sweep: cannot write %s/sweep.csv or sweep.json\n", sw.out);
		rc = 2;
	}
	if (rc == 0 && summary(&sw, ps, &k) != 0)
		rc = 1;
	free(ps);
	free(sw.runs);
	return rc;
}
