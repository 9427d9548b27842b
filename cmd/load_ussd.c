/* load_ussd.c: `switchyard load` with a [traffic ussd] section: handsets
 * dialling through a simulated operator USSD node (peers/ussd_net.h) that
 * binds over SMPP to any USSD gateway (switchyard's [ussd] or another), the
 * same node the simulator runs. --ussd-log FILE gets one JSON line per
 * ended dialogue, from the node's transcript hook: what the handset sent
 * and received, in order, and how it ended, so a test can check every
 * screen against what the application should have shown. */
#include "cmd/load_ussd.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "peers/ussd_net.h"
#include "peers/world.h"
#include "peers/world_ussd.h"

/* ---- the transcript log ---- */

/* s as a JSON string: quotes, backslash and control characters escaped;
 * UTF-8 passes as is. */
static void json_str(FILE *f, const char *s)
{
	fputc('"', f);
	for (const unsigned char *p = (const unsigned char *)s; *p != '\0'; p++) {
		if (*p == '"' || *p == '\\')
			fprintf(f, "\\%c", *p);
		else if (*p == '\n')
			fputs("\\n", f);
		else if (*p == '\r')
			fputs("\\r", f);
		else if (*p < 0x20)
			fprintf(f, "\\u%04x", *p);
		else
			fputc(*p, f);
	}
	fputc('"', f);
}

/* "sent" or "received": the texts of one direction, in order. */
static void log_texts(FILE *f, const struct ussd_net_session_log *l, bool rx)
{
	bool first = true;
	fputc('[', f);
	for (uint32_t i = 0; i < l->step_n; i++) {
		if (l->steps[i].rx != rx)
			continue;
		if (!first)
			fputc(',', f);
		json_str(f, l->steps[i].text);
		first = false;
	}
	fputc(']', f);
}

static void log_steps(FILE *f, const struct ussd_net_session_log *l)
{
	fputc('[', f);
	for (uint32_t i = 0; i < l->step_n; i++) {
		const struct ussd_net_log_step *st = &l->steps[i];
		fprintf(f, "%s{\"dir\":\"%s\",\"op\":%u,\"release\":%s,\"text\":", i ? "," : "", st->rx ? "rx" : "tx",
			st->op, st->release ? "true" : "false");
		json_str(f, st->text);
		fputc('}', f);
	}
	fputc(']', f);
}

static void log_session(void *arg, const struct ussd_net_session_log *l)
{
	struct load_ussd *lu = arg;
	FILE *f = lu->log;
	fputs("{\"msisdn\":", f);
	json_str(f, l->msisdn);
	fputs(",\"code\":", f);
	json_str(f, l->code);
	fputs(",\"dialled\":", f);
	json_str(f, l->dialled);
	fputs(",\"path\":", f);
	json_str(f, l->path);
	fprintf(f, ",\"ref\":%u,\"end\":\"%s\",\"duration_ms\":%.3f,\"truncated\":%s,\"sent\":", l->ref,
		ussd_net_end_name(l->end), (double)(l->end_ns - l->begin_ns) / 1e6, l->truncated ? "true" : "false");
	log_texts(f, l, false);
	fputs(",\"received\":", f);
	log_texts(f, l, true);
	fputs(",\"steps\":", f);
	log_steps(f, l);
	fputs("}\n", f);
	if (ferror(f))
		lu->log_failed = true;
	lu->logged++;
}

/* ---- the node ---- */

int load_ussd_create(struct load_ussd *lu, const struct sy_env *env, const struct world *w,
		     const struct sy_addr *gateway, const char *log_path)
{
	char err[256];
	struct ussd_net_cfg nc;
	const struct world_ussd_traffic *t = &w->ussd.traffic;
	memset(lu, 0, sizeof(*lu));
	lu->env = env;
	if (world_ussd_net_cfg(w, &nc, err, sizeof(err)) != SY_OK)
		goto fail;
	if (nc.mode == USSD_NET_ACCEPT && !t->listen_set) {
		snprintf(err, sizeof(err), "node = accept needs listen = HOST:PORT (where the gateway binds to)");
		goto fail;
	}
	nc.gateway = *gateway; /* node = bind: the gateway's link listener */
	nc.listen = t->listen_addr;
	if (nc.fail_text_n == 0) { /* no [ussd] in the scenario: switchyard's default release texts */
		if ((lu->texts = malloc(sizeof(*lu->texts))) == NULL) {
			snprintf(err, sizeof(err), "out of memory");
			goto fail;
		}
		ussd_cfg_defaults(lu->texts);
		const char *d[] = {lu->texts->timeout_text, lu->texts->error_text, lu->texts->busy_text,
				   lu->texts->unknown_text};
		for (uint32_t i = 0; i < SY_ARRAY_LEN(d) && nc.fail_text_n < USSD_NET_FAIL_TEXTS_MAX; i++)
			nc.fail_texts[nc.fail_text_n++] = d[i];
	}
	if (ussd_net_create(env, &nc, &lu->net, err, sizeof(err)) != SY_OK)
		goto fail;
	if (log_path == NULL)
		return 0;
	if ((lu->log = fopen(log_path, "w")) == NULL) {
		fprintf(stderr, "switchyard load: cannot write %s\n", log_path);
		return -1;
	}
	ussd_net_on_session_end(lu->net, log_session, lu);
	return 0;
fail:
	fprintf(stderr, "%s:%u: cannot start the handsets of [traffic ussd]: %s\n", w->scn->file, t->line, err);
	return -1;
}

void load_ussd_start(struct load_ussd *lu, uint64_t t0_ns, uint64_t end_ns, uint64_t sessions_max)
{
	lu->t0_ns = t0_ns;
	lu->end_ns = end_ns;
	lu->sessions_max = sessions_max;
	ussd_net_start(lu->net);
}

/* Arrivals are over at the end of the traffic or once `sessions` were drawn. */
static bool arrivals_over(const struct load_ussd *lu, uint64_t now)
{
	const struct ussd_net_stats *st = ussd_net_stats(lu->net);
	return now >= lu->end_ns || (lu->sessions_max != 0 && st->arrivals >= lu->sessions_max);
}

bool load_ussd_drained(struct load_ussd *lu, uint64_t now)
{
	if (lu->arr_ns == 0 && arrivals_over(lu, now)) {
		lu->arr_ns = now;
		ussd_net_stop(lu->net); /* no new dialogues; the open ones go on */
	}
	if (lu->done_ns == 0 && lu->arr_ns != 0 && ussd_net_open(lu->net) == 0)
		lu->done_ns = now;
	return lu->done_ns != 0;
}

void load_ussd_progress(const struct load_ussd *lu, FILE *f)
{
	const struct ussd_net_stats *st = ussd_net_stats(lu->net);
	fprintf(f, "  ussd started %" PRIu64 " completed %" PRIu64 " open %" PRIu64 " bound %u", st->started,
		st->ended[USSD_NET_END_COMPLETED], st->open, ussd_net_bound(lu->net));
}

void load_ussd_wind_down(struct load_ussd *lu)
{
	lu->stopped = ussd_net_open(lu->net);
	if (lu->stopped > 0)
		ussd_net_stop_all(lu->net); /* released toward the gateway, end "stopped" */
	ussd_net_unbind(lu->net);
}

/* ---- the report ---- */

static double ms_f(uint64_t ns)
{
	return (double)ns / 1e6;
}

/* Ends that are not a dialogue's proper conclusion: the gateway went
 * silent or refused our PDUs, the link fell, the drain ran out, or a
 * screen came after the path's last input (the scenario's paths do not fit
 * the menu). An early END (a timeout or error text) is a proper release. */
static uint64_t improper(const struct ussd_net_stats *st)
{
	return st->ended[USSD_NET_END_NO_ANSWER] + st->ended[USSD_NET_END_FAILED] + st->ended[USSD_NET_END_LINK_LOST] +
	       st->ended[USSD_NET_END_STOPPED] + st->ended[USSD_NET_END_OVERRUN];
}

static void report_bench(const struct load_ussd *lu, const char *bench, double rate, uint64_t wall)
{
	const struct ussd_net_stats *st = ussd_net_stats(lu->net);
	fprintf(stderr,
		"{\"bench\":\"%s\",\"sessions_per_s\":%.1f,\"wall_s\":%.2f,\"started\":%" PRIu64
		",\"completed\":%" PRIu64 ",\"abandoned\":%" PRIu64 ",\"ended_early\":%" PRIu64 ",\"improper\":%" PRIu64
		",\"open_peak\":%" PRIu64 ",\"step_p50_ms\":%.2f,\"step_p90_ms\":%.2f,\"step_p99_ms\":%.2f}\n",
		bench, rate, (double)wall / 1e9, st->started, st->ended[USSD_NET_END_COMPLETED],
		st->ended[USSD_NET_END_ABANDONED], st->ended[USSD_NET_END_EARLY], improper(st), st->open_peak,
		ms_f(sy_hist_percentile(&st->step, 50)), ms_f(sy_hist_percentile(&st->step, 90)),
		ms_f(sy_hist_percentile(&st->step, 99)));
}

uint64_t load_ussd_report(const struct load_ussd *lu, uint64_t now, const char *bench)
{
	const struct ussd_net_stats *st = ussd_net_stats(lu->net);
	const uint64_t *e = st->ended;
	uint64_t span = (lu->arr_ns ? lu->arr_ns : now) - lu->t0_ns,
		 wall = (lu->done_ns ? lu->done_ns : now) - lu->t0_ns;
	double rate = span ? (double)st->started * 1e9 / (double)span : 0.0;
	printf("ussd: started %" PRIu64 "  completed %" PRIu64 "  abandoned %" PRIu64 "  ended early %" PRIu64
	       "  skipped %" PRIu64 " (busy %" PRIu64 ", unbound %" PRIu64 ")\n",
	       st->started, e[USSD_NET_END_COMPLETED], e[USSD_NET_END_ABANDONED], e[USSD_NET_END_EARLY],
	       st->skipped_busy + st->skipped_unbound, st->skipped_busy, st->skipped_unbound);
	printf("ussd: no answer %" PRIu64 "  failed %" PRIu64 "  link lost %" PRIu64 "  screen past the path %" PRIu64
	       "  still open at drain end %" PRIu64 "  stray %" PRIu64 "  undecodable %" PRIu64 "\n",
	       e[USSD_NET_END_NO_ANSWER], e[USSD_NET_END_FAILED], e[USSD_NET_END_LINK_LOST], e[USSD_NET_END_OVERRUN],
	       e[USSD_NET_END_STOPPED], st->stray, st->rx_bad);
	printf("ussd: inputs %" PRIu64 "  screens %" PRIu64 "  ends %" PRIu64 "  releases %" PRIu64
	       "  open peak %" PRIu64 "  binds %" PRIu64 " (failed %" PRIu64 ", drops %" PRIu64 ")\n",
	       st->inputs, st->screens, st->ends, st->releases, st->open_peak, st->binds_ok, st->bind_failures,
	       st->session_drops);
	printf("ussd: step p50 %.1f ms  p90 %.1f ms  p99 %.1f ms  max %.1f ms  dialogue p50 %.0f ms  achieved %.1f "
	       "sessions/s\n",
	       ms_f(sy_hist_percentile(&st->step, 50)), ms_f(sy_hist_percentile(&st->step, 90)),
	       ms_f(sy_hist_percentile(&st->step, 99)), ms_f(st->step.max_ns),
	       ms_f(sy_hist_percentile(&st->dialogue, 50)), rate);
	if (lu->log != NULL)
		printf("ussd: %" PRIu64 " transcripts written\n", lu->logged);
	if (bench != NULL)
		report_bench(lu, bench, rate, wall);
	return improper(st) + (st->started == 0 ? 1 : 0);
}

int load_ussd_destroy(struct load_ussd *lu)
{
	int rc = 0;
	if (lu->net != NULL)
		ussd_net_destroy(lu->net); /* no transcript after it */
	if (lu->log != NULL && (fclose(lu->log) != 0 || lu->log_failed))
		rc = -1;
	free(lu->texts); /* after the node that pointed at them */
	lu->net = NULL;
	lu->log = NULL;
	lu->texts = NULL;
	return rc;
}
