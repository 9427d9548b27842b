/* sim.c: `switchyard sim SCENARIO`: run a scenario in virtual time, print
 * the report, exit 1 when an expectation fails. The wall clock is read here
 * (outside core/ and sim/) only for the progress line and --bench figures. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "cmd.h"
#include "core/live/live.h"
#include "core/pcap/tap.h"
#include "sim/run.h"
#include "sim/sweep.h"

#define STEP_NS (100 * SY_NS_PER_MS)
#define PROGRESS_EVERY_S 2.0

static double wall_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double cpu_s(void)
{
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 + (double)ru.ru_stime.tv_sec +
	       (double)ru.ru_stime.tv_usec / 1e6;
}

static long rss_mb(void)
{
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_maxrss / 1024;
}

static void progress(const struct sim_run *r, double t0, int final)
{
	double w = wall_s() - t0;
	double v = (double)sim_run_now(r) / 1e9;
	fprintf(stderr, "\r[sim] virtual %.0f/%.0f s  wall %.1f s  speed %.2fx  calls %llu  events %llu%s",
		v, (double)sim_run_horizon(r) / 1e9, w, w > 0 ? v / w : 0.0, (unsigned long long)sim_run_calls(r),
		(unsigned long long)sim_run_events(r), final ? "\n" : "   ");
	fflush(stderr);
}

/* One JSON line on stderr. speed: virtual traffic seconds per wall second
 * while traffic runs (the drain after it is cheaper and would flatter the
 * figure); speed_run covers the whole run, drain included. Voice runs count
 * calls, SMS-only runs count message parts. */
static void bench_line(const char *name, const struct sim_run *r, double wall, double wall_traffic, double cpu)
{
	struct sim_run_ussd_figures u;
	if (sim_run_ussd_figures(r, &u)) { /* USSD: sessions held at once, and what each costs */
		fprintf(stderr,
			"{\"bench\":\"%s\",\"concurrent\":%llu,\"sessions\":%llu,\"steps\":%llu,\"bytes_per_session\":%llu,"
			"\"handsets_bytes\":%llu,\"rss_mb\":%ld,\"speed\":%.3f,\"virtual_s\":%.1f,\"wall_s\":%.2f,"
			"\"events\":%llu}\n",
			name, (unsigned long long)u.concurrent, (unsigned long long)u.sessions, (unsigned long long)u.steps,
			(unsigned long long)u.bytes_per_session, (unsigned long long)u.handsets_bytes, rss_mb(),
			(double)sim_run_now(r) / 1e9 / wall, (double)sim_run_now(r) / 1e9, wall,
			(unsigned long long)sim_run_events(r));
		return;
	}
	double virt = (double)sim_run_now(r) / 1e9, traffic = (double)sim_run_traffic_end(r) / 1e9;
	unsigned long long calls = (unsigned long long)sim_run_calls(r);
	bool sms = calls == 0 && sim_run_messages(r) > 0;
	unsigned long long n = sms ? (unsigned long long)sim_run_messages(r) : calls;
	double us = n ? cpu * 1e6 / (double)n : 0.0;
	char completed[48] = "";
	if (!sms)
		snprintf(completed, sizeof(completed), ",\"completed\":%llu", (unsigned long long)sim_run_completed(r));
	fprintf(stderr,
		"{\"bench\":\"%s\",\"%s\":%.0f,\"virtual_s\":%.1f,\"traffic_s\":%.1f,\"wall_s\":%.2f,"
		"\"wall_traffic_s\":%.2f,\"speed\":%.3f,\"speed_run\":%.3f,\"%s\":%llu%s,\"%s\":%.1f,\"%s\":%.0f,"
		"\"events\":%llu,\"rss_mb\":%ld}\n",
		name, sms ? "tps" : "cps", traffic > 0 ? (double)n / traffic : 0.0, virt, traffic, wall, wall_traffic,
		traffic / wall_traffic, virt / wall, sms ? "messages" : "calls", n, completed,
		sms ? "us_per_msg" : "us_per_call", us, sms ? "capacity_tps" : "capacity_cps", us > 0 ? 1e6 / us : 0.0,
		(unsigned long long)sim_run_events(r), rss_mb());
}

/* --pcap: a capture that could not be written in full is an error. */
static int capture_close(struct pcap_writer *w, const char *path)
{
	if (w == NULL)
		return 0;
	enum sy_rc rc = pcap_writer_close(w);
	if (rc == SY_OK)
		return 0;
	fprintf(stderr, "switchyard: %s: %s\n", path, sy_env_file_err(rc));
	return -1;
}

/* The scenario file with every --set applied (sim/sweep.h), parsed. */
static enum sy_rc parse_with_sets(const struct cmd_opts *o, struct sim_scenario **sc, char *err, size_t errlen)
{
	if (o->set_n == 0)
		return sim_scenario_parse_file(o->file, sc, err, errlen);
	size_t len = 0;
	char *text = cmd_read_file(o->file, &len);
	if (text == NULL) {
		snprintf(err, errlen, "switchyard: cannot read %s", o->file);
		return SY_ERR_IO;
	}
	for (int i = 0; i < o->set_n; i++) {
		const char *eq = strchr(o->set[i], '=');
		char key[SWEEP_KEY_MAX];
		if (eq == NULL || eq == o->set[i] || (size_t)(eq - o->set[i]) >= sizeof(key)) {
			snprintf(err, errlen, "switchyard: --set '%s': expected SECTION.KEY=VALUE", o->set[i]);
			free(text);
			return SY_ERR_INVAL;
		}
		snprintf(key, sizeof(key), "%.*s", (int)(eq - o->set[i]), o->set[i]);
		char *next = sweep_override(text, len, key, eq + 1, err, errlen);
		free(text);
		if ((text = next) == NULL)
			return SY_ERR_INVAL;
		len = strlen(text);
	}
	enum sy_rc rc = sim_scenario_parse_buf(text, len, o->file, sc, err, errlen);
	free(text);
	return rc;
}

int cmd_sim(const struct cmd_opts *o)
{
	char err[512];
	struct sim_scenario *sc = NULL;
	if (parse_with_sets(o, &sc, err, sizeof(err)) != SY_OK) {
		fprintf(stderr, "%s\n", err);
		return 2;
	}
	FILE *trace = NULL;
	if (o->trace != NULL && (trace = fopen(o->trace, "w")) == NULL) {
		fprintf(stderr, "switchyard: cannot write %s\n", o->trace);
		sim_scenario_free(sc);
		return 2;
	}
	struct sim_run_opts ro = {.seed = o->seed, .seed_set = o->seed_set != 0, .out_dir = o->out,
				  .trace = trace, .log_level = o->verbose ? SY_LOG_DEBUG : SY_LOG_WARN};
	struct pcap_writer *pw = NULL;
	struct pcap_sink sink;
	struct sim_run *r = NULL;
	if (o->pcap != NULL && pcap_writer_open(sy_live_files(), o->pcap, &pw, err, sizeof(err)) != SY_OK)
		goto out_err;
	if (pw != NULL) {
		sink = pcap_writer_sink(pw);
		ro.sinks = &sink;
		ro.sink_n = 1;
	}
	if (sim_run_create(sc, &ro, &r, err, sizeof(err)) != SY_OK)
		goto out_err;
	int show = !o->quiet && isatty(STDERR_FILENO);
	double t0 = wall_s(), c0 = cpu_s(), last = t0, wall_traffic = 0;
	int shown = 0;
	while (sim_run_step(r, STEP_NS)) {
		if (wall_traffic == 0 && sim_run_now(r) >= sim_run_traffic_end(r))
			wall_traffic = wall_s() - t0;
		if (!o->quiet && wall_s() - last >= PROGRESS_EVERY_S) {
			last = wall_s();
			progress(r, t0, !show);
			shown = 1;
		}
	}
	double wall = wall_s() - t0, cpu = cpu_s() - c0;
	if (shown && show)
		progress(r, t0, 1);
	size_t fails = sim_run_finish(r, stdout, o->json);
	if (o->bench != NULL)
		bench_line(o->bench, r, wall, wall_traffic ? wall_traffic : wall, cpu);
	sim_run_destroy(r);
	if (trace != NULL)
		fclose(trace);
	sim_scenario_free(sc);
	return capture_close(pw, o->pcap) != 0 ? 2 : fails == 0 ? 0 : 1;
out_err:
	fprintf(stderr, "switchyard: %s\n", err);
	pcap_writer_close(pw);
	if (trace != NULL)
		fclose(trace);
	sim_scenario_free(sc);
	return 2;
}
