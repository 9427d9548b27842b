/* peers.c: `switchyard load` (a scenario's callers and applications) and
 * `switchyard carriers` (its voice and SMS carriers) on real sockets: the
 * simulated peers of peers/, configured by peers/scn_peers, on the
 * libevent backend. A load is bounded: traffic duration plus drain. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "cmd.h"
#include "cmd/load_ussd.h"
#include "core/live/live.h"
#include "core/pcap/tap.h"
#include "peers/scn_peers.h"

#define STEP_NS		  (100 * SY_NS_PER_MS)
#define PROGRESS_EVERY_NS (10 * SY_NS_PER_S)
#define HANGUP_GRACE_NS	  (5 * SY_NS_PER_S)
#define UNBIND_GRACE_NS	  (1 * SY_NS_PER_S)
#define SMPP_DEFAULT_PORT 2775

struct peers_args {
	const char *file, *target, *smpp_target, *bench, *acked, *keys, *ready_file, *pcap, *ussd_target, *ussd_log;
	uint64_t seed;
	bool seed_set, verbose;
};

/* ---- arguments ---- */

static void load_usage(FILE *f)
{
	fprintf(f, "usage: switchyard load SCENARIO --target HOST:PORT [--smpp-target HOST:PORT] [--seed N]\n"
		   "                       [--ussd-target HOST:PORT] [--ussd-log FILE]\n"
		   "                       [--bench NAME] [--acked FILE] [--pcap FILE] [-v]\n"
		   "  runs the scenario's [traffic voice] callers (SIP/UDP to --target),\n"
		   "  [traffic sms] applications (SMPP to --smpp-target, default --target's host\n"
		   "  port 2775) and [traffic ussd] handsets (an operator USSD node binding over\n"
		   "  SMPP to --ussd-target, default --target's host port 2776; --ussd-log FILE:\n"
		   "  one JSON line per ended dialogue) on real sockets for the traffic\n"
		   "  duration plus [run] drain, prints a report; exit 0 when nothing was\n"
		   "  lost, 1 otherwise, 2 usage.\n"
		   "  A scenario with [replay] sections and no [traffic] replays their callers\n"
		   "  against --target (docs/pcap.md, \"Replay\").\n");
}

static void carriers_usage(FILE *f)
{
	fprintf(f,
		"usage: switchyard carriers SCENARIO [--keys FILE] [--ready-file PATH] [--seed N] [--pcap FILE] [-v]\n"
		"  the scenario's [carrier] (SIP UAS) and [smpp-carrier] (SMSC) sections that\n"
		"  have an address, listening there until SIGINT/SIGTERM; --keys FILE gets\n"
		"  one line per message the SMSCs accepted (\"KEY\" or \"KEY dup\");\n"
		"  --ready-file PATH is written once every carrier listens (one line each).\n");
}

static int value_opt(const char *a, const char *next, struct peers_args *pa)
{
	const char **slot = strcmp(a, "--target") == 0	      ? &pa->target
			    : strcmp(a, "--smpp-target") == 0 ? &pa->smpp_target
			    : strcmp(a, "--bench") == 0	      ? &pa->bench
			    : strcmp(a, "--acked") == 0	      ? &pa->acked
			    : strcmp(a, "--keys") == 0	      ? &pa->keys
			    : strcmp(a, "--ready-file") == 0  ? &pa->ready_file
			    : strcmp(a, "--pcap") == 0	      ? &pa->pcap
			    : strcmp(a, "--ussd-target") == 0 ? &pa->ussd_target
			    : strcmp(a, "--ussd-log") == 0    ? &pa->ussd_log
							      : NULL;
	if (slot != NULL) {
		*slot = next;
		return 0;
	}
	if (strcmp(a, "--seed") == 0) {
		char *end;
		pa->seed = strtoull(next, &end, 10);
		pa->seed_set = true;
		return *end == '\0' && next[0] != '\0' ? 0 : -1;
	}
	return -1;
}

/* Returns 0, 1 for --help, -1 on a usage error (reported). */
static int peers_args(int argc, char **argv, struct peers_args *pa, const char *const *allowed)
{
	int i = 2;
	for (; i < argc; i++) {
		const char *a = argv[i];
		if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0)
			return 1;
		if (strcmp(a, "-v") == 0 || strcmp(a, "--verbose") == 0) {
			pa->verbose = true;
			continue;
		}
		if (a[0] != '-') {
			if (pa->file != NULL)
				goto bad;
			pa->file = a;
			continue;
		}
		bool ok = false;
		for (const char *const *o = allowed; *o != NULL; o++)
			ok |= strcmp(*o, a) == 0;
		if (!ok || i + 1 >= argc || value_opt(a, argv[i + 1], pa) != 0)
			goto bad;
		i++;
	}
	if (pa->file != NULL)
		return 0;
	fprintf(stderr, "switchyard %s: missing the scenario file\n", argv[1]);
	return -1;
bad:
	fprintf(stderr, "switchyard %s: bad or unexpected argument '%s'\n", argv[1], argv[i]);
	return -1;
}

/* ---- shared setup ---- */

static struct sy_live *live_start(const struct peers_args *pa, const struct scn *scn, enum sy_log_level lv,
				  uint64_t slack_ns)
{
	struct sy_live_cfg lc = {.seed = pa->seed_set ? pa->seed : scn->run.seed,
				 .log_level = pa->verbose ? SY_LOG_DEBUG : lv,
				 .timer_slack_ns = slack_ns};
	struct sy_live *l = NULL;
	if (sy_live_create(&lc, &l) != SY_OK || sy_live_handle_signals(l) != SY_OK) {
		fprintf(stderr, "switchyard: cannot start the event loop\n");
		sy_live_destroy(l);
		return NULL;
	}
	return l;
}

/* --pcap: the peers' side of the traffic, on the loop's env, flushed every
 * second and at exit. Without it the env is the loop's own. */
static const struct sy_env *capture_start(struct sy_live *l, const char *path, struct pcap_node_tap *nt)
{
	char err[512];
	pcap_node_tap_init(nt, sy_live_env(l));
	if (path != NULL && pcap_node_tap_pcap(nt, sy_live_files(), path, sy_live_env(l), err, sizeof(err)) != SY_OK) {
		fprintf(stderr, "switchyard: --pcap %s\n", err);
		return NULL;
	}
	return pcap_node_tap_env(nt);
}

/* After the peers are gone; 0, or -1 when the capture is incomplete. */
static int capture_end(struct pcap_node_tap *nt, const char *path)
{
	enum sy_rc rc = pcap_node_tap_close(nt);
	if (rc == SY_OK)
		return 0;
	fprintf(stderr, "switchyard: --pcap %s: %s\n", path, sy_env_file_err(rc));
	return -1;
}

/* The local address the kernel would send to target from (port 0): the SIP
 * callers put it in Via and Contact, so it must be reachable, not 0.0.0.0. */
struct sy_addr cmd_local_for(const struct sy_addr *target)
{
	struct sy_addr out = *target;
	out.port = 0;
	struct sockaddr_storage ss;
	socklen_t len;
	memset(&ss, 0, sizeof(ss));
	if (target->family == SY_AF_INET) {
		struct sockaddr_in *in = (struct sockaddr_in *)&ss;
		in->sin_family = AF_INET;
		in->sin_port = htons(target->port);
		memcpy(&in->sin_addr, target->ip, 4);
		len = sizeof(*in);
	} else {
		struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;
		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons(target->port);
		memcpy(&in6->sin6_addr, target->ip, 16);
		len = sizeof(*in6);
	}
	int fd = socket(ss.ss_family, SOCK_DGRAM, 0);
	if (fd < 0)
		return out;
	if (connect(fd, (struct sockaddr *)&ss, len) == 0 && getsockname(fd, (struct sockaddr *)&ss, &len) == 0) {
		if (ss.ss_family == AF_INET)
			memcpy(out.ip, &((struct sockaddr_in *)&ss)->sin_addr, 4);
		else
			memcpy(out.ip, &((struct sockaddr_in6 *)&ss)->sin6_addr, 16);
	}
	close(fd);
	return out;
}

static uint64_t ms_of(uint64_t ns)
{
	return ns / SY_NS_PER_MS;
}

static double ms_f(uint64_t ns)
{
	return (double)ns / 1e6;
}

/* ---- load ---- */

struct load {
	const struct scn *scn; /* world->scn */
	const struct world *world;
	struct sy_live *live;
	const struct sy_env *env;
	struct pcap_node_tap tap;
	struct uac *uac;
	struct esme *esme;
	struct load_ussd ussd; /* [traffic ussd]: ussd.net NULL without */
	struct uac_dest dests[WORLD_DESTS_MAX];
	char patterns[WORLD_DESTS_MAX][WORLD_PATTERN_MAX];
	FILE *acked;
	uint64_t t0_ns, voice_end_ns, sms_end_ns;			/* absolute monotonic */
	uint64_t voice_arr_ns, voice_done_ns, sms_sent_ns, sms_done_ns; /* when each side drained (0: not yet) */
	uint64_t hung_up; /* calls still up at the drain's end: we sent their BYE */
};

static uint64_t traffic_end(const struct scn *s, uint64_t start_ns, uint64_t dur_ns)
{
	return start_ns + (dur_ns ? dur_ns : s->run.duration_ns);
}

static enum sy_rc load_voice(struct load *ld, const struct sy_addr *target)
{
	const struct scn *s = ld->scn;
	struct uac_cfg u;
	uint32_t calls_max = s->run.calls_max ? s->run.calls_max : scn_peers_calls_max(ld->world);
	scn_peers_uac(ld->world, cmd_local_for(target), *target, calls_max, ld->dests, &u);
	enum sy_rc rc = uac_create(ld->env, &u, &ld->uac);
	if (rc != SY_OK)
		fprintf(stderr, "%s:%u: cannot start the callers of [traffic voice]: %s\n", s->file,
			ld->world->voice.line, sy_rc_str(rc));
	return rc;
}

static enum sy_rc load_sms(struct load *ld, const struct sy_addr *target)
{
	const struct scn *s = ld->scn;
	struct esme_cfg ec;
	scn_peers_esme(ld->world, *target, ld->patterns, &ec);
	/* Live receipts take real seconds: keep a record per part for ~30 s of traffic. */
	ec.acked_out = ld->acked;
	enum sy_rc rc = esme_create(ld->env, &ec, &ld->esme);
	if (rc != SY_OK)
		fprintf(stderr, "%s:%u: cannot start the applications of [traffic sms]: %s\n", s->file,
			ld->world->sms.line, sy_rc_str(rc));
	return rc;
}

static int load_targets(const struct peers_args *pa, struct sy_addr *sip, struct sy_addr *smpp, struct sy_addr *ussd)
{
	if (pa->target == NULL) {
		fprintf(stderr, "switchyard load: --target HOST:PORT is required\n");
		return -1;
	}
	if (sy_addr_parse(pa->target, 5060, sip) != SY_OK) {
		fprintf(stderr, "switchyard load: bad --target '%s' (want host:port)\n", pa->target);
		return -1;
	}
	*smpp = *sip;
	smpp->port = SMPP_DEFAULT_PORT;
	if (pa->smpp_target != NULL && sy_addr_parse(pa->smpp_target, SMPP_DEFAULT_PORT, smpp) != SY_OK) {
		fprintf(stderr, "switchyard load: bad --smpp-target '%s' (want host:port)\n", pa->smpp_target);
		return -1;
	}
	*ussd = *sip;
	ussd->port = LOAD_USSD_DEFAULT_PORT;
	if (pa->ussd_target != NULL && sy_addr_parse(pa->ussd_target, LOAD_USSD_DEFAULT_PORT, ussd) != SY_OK) {
		fprintf(stderr, "switchyard load: bad --ussd-target '%s' (want host:port)\n", pa->ussd_target);
		return -1;
	}
	return 0;
}

static uint64_t sms_receipts(const struct esme_stats *st)
{
	return st->rcpt_delivered + st->rcpt_undeliverable + st->rcpt_expired + st->rcpt_other;
}

static uint64_t sms_lost(const struct load *ld)
{
	return esme_each_unreceipted(ld->esme, NULL, NULL);
}

/* Arrivals are over at the end of the traffic, or once a `calls` or
 * `messages` cap was reached. */
static bool voice_arrivals_over(const struct load *ld, uint64_t now)
{
	const struct uac_stats *u = uac_stats(ld->uac);
	uint64_t cap = ld->world->voice.calls_max;
	return now >= ld->voice_end_ns || (cap != 0 && u->attempted + u->skipped >= cap);
}

static bool sms_arrivals_over(const struct load *ld, uint64_t now)
{
	uint64_t cap = ld->world->sms.messages_max;
	return now >= ld->sms_end_ns || (cap != 0 && esme_stats(ld->esme)->arrivals >= cap);
}

/* Done: arrivals over, every call ended, every part answered and receipted. */
static bool load_drained(struct load *ld, uint64_t now)
{
	bool done = true;
	if (ld->uac != NULL) {
		if (ld->voice_arr_ns == 0 && voice_arrivals_over(ld, now))
			ld->voice_arr_ns = now;
		if (ld->voice_done_ns == 0 && ld->voice_arr_ns != 0 && uac_stats(ld->uac)->active == 0)
			ld->voice_done_ns = now;
		done &= ld->voice_done_ns != 0;
	}
	if (ld->esme != NULL) {
		if (ld->sms_sent_ns == 0 && sms_arrivals_over(ld, now) && esme_in_flight(ld->esme) == 0)
			ld->sms_sent_ns = now;
		if (ld->sms_done_ns == 0 && ld->sms_sent_ns != 0 && sms_lost(ld) == 0)
			ld->sms_done_ns = now;
		done &= ld->sms_done_ns != 0;
	}
	if (ld->ussd.net != NULL)
		done &= load_ussd_drained(&ld->ussd, now);
	return done;
}

static void load_progress(const struct load *ld, uint64_t now)
{
	fprintf(stderr, "[load] %.0f s", (double)(now - ld->t0_ns) / 1e9);
	if (ld->uac != NULL) {
		const struct uac_stats *u = uac_stats(ld->uac);
		fprintf(stderr, "  calls %llu answered %llu active %llu", (unsigned long long)u->attempted,
			(unsigned long long)u->answered, (unsigned long long)u->active);
	}
	if (ld->esme != NULL) {
		const struct esme_stats *e = esme_stats(ld->esme);
		fprintf(stderr, "  sms submitted %llu accepted %llu receipts %llu bound %u",
			(unsigned long long)e->segs_submitted, (unsigned long long)e->segs_accepted,
			(unsigned long long)sms_receipts(e), esme_bound(ld->esme));
	}
	if (ld->ussd.net != NULL)
		load_ussd_progress(&ld->ussd, stderr);
	fputc('\n', stderr);
}

/* Runs traffic then drain; returns the signal that stopped it, or 0. */
static int load_loop(struct load *ld)
{
	uint64_t end = SY_MAX(SY_MAX(ld->voice_end_ns, ld->sms_end_ns), ld->ussd.end_ns);
	uint64_t drain_end = end + ld->scn->run.drain_ns, next_progress = ld->t0_ns + PROGRESS_EVERY_NS;
	for (;;) {
		sy_live_run_for(ld->live, STEP_NS);
		if (sy_live_stopped_by(ld->live) != 0)
			return sy_live_stopped_by(ld->live);
		sy_live_time_update(ld->live);
		uint64_t now = sy_env_now_ns(ld->env);
		if (now >= next_progress) {
			load_progress(ld, now);
			next_progress += PROGRESS_EVERY_NS;
		}
		if (load_drained(ld, now) || now >= drain_end)
			return 0;
	}
}

/* Ends what is left: BYE on answered calls, unbind; waits a little for it. */
static void load_wind_down(struct load *ld)
{
	if (ld->uac != NULL && uac_stats(ld->uac)->active > 0) {
		ld->hung_up = uac_stats(ld->uac)->active;
		uac_stop_and_hangup(ld->uac);
		sy_live_time_update(ld->live);
		uint64_t until = sy_env_now_ns(ld->env) + HANGUP_GRACE_NS;
		while (uac_stats(ld->uac)->active > 0 && sy_env_now_ns(ld->env) < until) {
			sy_live_run_for(ld->live, STEP_NS);
			sy_live_time_update(ld->live);
		}
	}
	if (ld->ussd.net != NULL)
		load_ussd_wind_down(&ld->ussd);
	if (ld->esme != NULL)
		esme_unbind(ld->esme);
	if (ld->esme != NULL || ld->ussd.net != NULL)
		sy_live_run_for(ld->live, UNBIND_GRACE_NS / 4);
}

static uint64_t elapsed_or(uint64_t at_ns, uint64_t t0_ns, uint64_t fallback_ns)
{
	return (at_ns ? at_ns : fallback_ns) - t0_ns;
}

/* Voice report; returns the calls that did not end properly. */
static uint64_t voice_report(const struct load *ld, uint64_t now, const char *bench)
{
	const struct uac_stats *u = uac_stats(ld->uac);
	uint64_t unfinished = u->active + u->timeouts + u->bye_failed + ld->hung_up;
	uint64_t asr = u->attempted ? u->answered * 10000 / u->attempted : 0;
	uint64_t wall = elapsed_or(ld->voice_done_ns, ld->t0_ns, now);
	uint64_t traffic = elapsed_or(ld->voice_arr_ns, ld->t0_ns, now); /* the arrivals' span */
	printf("voice: offered %llu  answered %llu  failed %llu  timeouts %llu  skipped %llu\n",
	       (unsigned long long)u->attempted, (unsigned long long)u->answered, (unsigned long long)u->failed,
	       (unsigned long long)u->timeouts, (unsigned long long)u->skipped);
	printf("voice: completed %llu  still up at drain end %llu  BYE failed %llu  retransmits %llu\n",
	       (unsigned long long)u->completed, (unsigned long long)(u->active + ld->hung_up),
	       (unsigned long long)u->bye_failed, (unsigned long long)u->retransmits);
	printf("voice: ASR %llu.%02llu%%  PDD p50 %.1f ms  p99 %.1f ms  setup p99 %.1f ms  achieved %.1f cps\n",
	       (unsigned long long)(asr / 100), (unsigned long long)(asr % 100), ms_f(sy_hist_percentile(&u->pdd, 50)),
	       ms_f(sy_hist_percentile(&u->pdd, 99)), ms_f(sy_hist_percentile(&u->setup, 99)),
	       traffic ? (double)u->attempted * 1e9 / (double)traffic : 0.0);
	if (bench != NULL)
		fprintf(stderr,
			"{\"bench\":\"%s\",\"cps\":%.1f,\"wall_s\":%.2f,\"calls\":%llu,\"answered\":%llu,"
			"\"completed\":%llu,\"failed\":%llu,\"pdd_p50_ms\":%.2f,\"pdd_p99_ms\":%.2f}\n",
			bench, traffic ? (double)u->attempted * 1e9 / (double)traffic : 0.0, (double)wall / 1e9,
			(unsigned long long)u->attempted, (unsigned long long)u->answered,
			(unsigned long long)u->completed, (unsigned long long)u->failed,
			ms_f(sy_hist_percentile(&u->pdd, 50)), ms_f(sy_hist_percentile(&u->pdd, 99)));
	return unfinished;
}

/* SMS report; returns the accepted parts without a receipt. */
static uint64_t sms_report(const struct load *ld, uint64_t now, const char *bench)
{
	const struct esme_stats *e = esme_stats(ld->esme);
	uint64_t lost = sms_lost(ld), rcpts = sms_receipts(e);
	/* Achieved TPS: accepted parts over the time until the last answer. */
	uint64_t sent = elapsed_or(ld->sms_sent_ns, ld->t0_ns, now);
	uint64_t wall = elapsed_or(ld->sms_done_ns, ld->t0_ns, now);
	double tps = sent ? (double)e->segs_accepted * 1e9 / (double)sent : 0.0;
	printf("sms: submitted %llu  accepted %llu  rejected %llu  throttled %llu  resp timeouts %llu  skipped %llu\n",
	       (unsigned long long)e->segs_submitted, (unsigned long long)e->segs_accepted,
	       (unsigned long long)e->segs_rejected, (unsigned long long)e->throttled,
	       (unsigned long long)e->resp_timeouts, (unsigned long long)e->skipped);
	printf("sms: receipts %llu (delivered %llu, undeliverable %llu, expired %llu; unknown id %llu)  lost %llu  "
	       "duplicates %llu  resent %llu  rebinds %llu  bind failures %llu\n",
	       (unsigned long long)rcpts, (unsigned long long)e->rcpt_delivered,
	       (unsigned long long)e->rcpt_undeliverable, (unsigned long long)e->rcpt_expired,
	       (unsigned long long)(e->rcpt_unknown + e->rcpt_bad), (unsigned long long)lost,
	       (unsigned long long)e->rcpt_duplicate, (unsigned long long)(e->segs_resubmitted),
	       (unsigned long long)e->rebinds, (unsigned long long)e->bind_failures);
	printf("sms: submit_resp p50 %.2f ms  p99 %.2f ms  receipt p99 %llu ms  achieved %.0f TPS over %.1f s\n",
	       ms_f(sy_hist_percentile(&e->submit_resp, 50)), ms_f(sy_hist_percentile(&e->submit_resp, 99)),
	       (unsigned long long)ms_of(sy_hist_percentile(&e->receipt, 99)), tps, (double)sent / 1e9);
	if (bench != NULL)
		fprintf(stderr,
			"{\"bench\":\"%s\",\"tps\":%.0f,\"wall_s\":%.2f,\"submitted\":%llu,\"accepted\":%llu,"
			"\"receipts\":%llu,\"lost\":%llu,\"resp_p50_ms\":%.2f,\"resp_p99_ms\":%.2f}\n",
			bench, tps, (double)wall / 1e9, (unsigned long long)e->segs_submitted,
			(unsigned long long)e->segs_accepted, (unsigned long long)rcpts, (unsigned long long)lost,
			ms_f(sy_hist_percentile(&e->submit_resp, 50)), ms_f(sy_hist_percentile(&e->submit_resp, 99)));
	return lost;
}

/* 0 when nothing was lost and each traffic kind got through at all. */
static int load_report(struct load *ld, const char *bench)
{
	sy_live_time_update(ld->live);
	uint64_t now = sy_env_now_ns(ld->env);
	char name[128];
	bool both = (ld->uac != NULL) + (ld->esme != NULL) + (ld->ussd.net != NULL) > 1;
	int rc = 0;
	if (ld->uac != NULL) {
		snprintf(name, sizeof(name), "%s%s", bench ? bench : "", both ? "-voice" : "");
		uint64_t bad = voice_report(ld, now, bench ? name : NULL);
		const struct uac_stats *u = uac_stats(ld->uac);
		if (bad > 0 || (u->attempted > 0 && u->answered + u->failed == 0) || u->attempted == 0)
			rc = 1;
		if (bad > 0)
			printf("voice: %llu calls did not end properly (no answer at all, BYE failed, or still up)\n",
			       (unsigned long long)bad);
	}
	if (ld->esme != NULL) {
		snprintf(name, sizeof(name), "%s%s", bench ? bench : "", both ? "-sms" : "");
		uint64_t lost = sms_report(ld, now, bench ? name : NULL);
		const struct esme_stats *e = esme_stats(ld->esme);
		if (lost > 0 || e->segs_accepted == 0)
			rc = 1;
		if (lost > 0)
			printf("sms: %llu accepted messages got no receipt\n", (unsigned long long)lost);
		else if (e->segs_accepted == 0)
			printf("sms: no message was accepted\n");
	}
	if (ld->ussd.net != NULL) {
		snprintf(name, sizeof(name), "%s%s", bench ? bench : "", both ? "-ussd" : "");
		uint64_t bad = load_ussd_report(&ld->ussd, now, bench ? name : NULL);
		if (bad > 0)
			rc = 1;
		if (bad > 0)
			printf("ussd: %llu dialogues did not end properly (or none started)\n",
			       (unsigned long long)bad);
	}
	printf("load: %s\n", rc == 0 ? "PASS" : "FAIL");
	return rc;
}

static int load_setup(struct load *ld, const struct peers_args *pa)
{
	struct sy_addr sip, smpp, ussd;
	const struct scn *s = ld->scn;
	const struct world *w = ld->world;
	bool any = w->voice.present || w->sms.present || w->ussd.traffic.present;
	if (load_targets(pa, &sip, &smpp, &ussd) != 0)
		return 2;
	if (!any && w->replay_n > 0)
		return cmd_replay_world(w, &sip, &smpp, pa->verbose) + 10; /* the load was a replay: done */
	if (!any) {
		fprintf(stderr, "%s: no [traffic voice], [traffic sms] or [traffic ussd] section: nothing to load\n",
			s->file);
		return 2;
	}
	if (pa->acked != NULL && (ld->acked = fopen(pa->acked, "w")) == NULL) {
		fprintf(stderr, "switchyard load: cannot write %s\n", pa->acked);
		return 2;
	}
	/* Timers (arrivals, hangups, retransmissions, SMS submits) on a 1 ms
	 * grid, as SIPp's scheduler runs: one wakeup and one sendmmsg per
	 * millisecond at 5,000 CPS instead of one per call (uac starts overdue
	 * arrivals in a burst), and at 50,000 SMS/s one wakeup per millisecond
	 * instead of one per message (each cost an epoll_ctl and a
	 * timerfd_settime: a quarter of the load's CPU). Overdue timers are not
	 * rounded (live_timer_slot), so a backlog drains at once. */
	ld->live = live_start(pa, s, SY_LOG_WARN, SY_NS_PER_MS);
	if (ld->live == NULL)
		return 1;
	if ((ld->env = capture_start(ld->live, pa->pcap, &ld->tap)) == NULL)
		return 1;
	if (w->voice.present && load_voice(ld, &sip) != SY_OK)
		return 1;
	if (w->sms.present && load_sms(ld, &smpp) != SY_OK)
		return 1;
	if (w->ussd.traffic.present && load_ussd_create(&ld->ussd, ld->env, w, &ussd, pa->ussd_log) != 0)
		return 1;
	return 0;
}

int cmd_load(int argc, char **argv)
{
	static const char *const allowed[] = {"--target", "--smpp-target", "--seed",	 "--bench", "--acked",
					      "--pcap",	  "--ussd-target", "--ussd-log", NULL};
	struct peers_args pa = {0};
	int a = peers_args(argc, argv, &pa, allowed);
	if (a != 0) {
		load_usage(a > 0 ? stdout : stderr);
		return a > 0 ? 0 : 2;
	}
	char err[512];
	struct world *w = NULL;
	if (world_parse_file(pa.file, NULL, 0, &w, err, sizeof(err)) != SY_OK) {
		fprintf(stderr, "%s\n", err);
		return 2;
	}
	const struct scn *scn = w->scn;
	struct load ld = {.scn = scn, .world = w};
	int rc = load_setup(&ld, &pa);
	if (rc >= 10) { /* [replay] only: it ran */
		world_free(w);
		return rc - 10;
	}
	if (rc == 0) {
		ld.t0_ns = sy_env_now_ns(ld.env);
		ld.voice_end_ns = ld.t0_ns + traffic_end(scn, w->voice.start_ns, w->voice.duration_ns);
		ld.sms_end_ns = ld.t0_ns + traffic_end(scn, w->sms.start_ns, w->sms.duration_ns);
		if (ld.uac != NULL)
			uac_start(ld.uac);
		if (ld.esme != NULL)
			esme_start(ld.esme);
		const struct world_ussd_traffic *ut = &w->ussd.traffic;
		if (ld.ussd.net != NULL)
			load_ussd_start(&ld.ussd, ld.t0_ns, ld.t0_ns + traffic_end(scn, ut->start_ns, ut->duration_ns),
					ut->sessions_max);
		int sig = load_loop(&ld);
		load_wind_down(&ld);
		if (sig != 0)
			printf("load: stopped by signal %d before the end\n", sig);
		rc = load_report(&ld, pa.bench);
		if (sig != 0)
			rc = 1;
	}
	if (ld.acked != NULL && fclose(ld.acked) != 0) {
		fprintf(stderr, "switchyard load: error writing %s\n", pa.acked);
		rc = 1;
	}
	esme_destroy(ld.esme);
	if (load_ussd_destroy(&ld.ussd) != 0) {
		fprintf(stderr, "switchyard load: error writing %s\n", pa.ussd_log);
		rc = 1;
	}
	if (ld.uac != NULL)
		uac_destroy(ld.uac);
	if (capture_end(&ld.tap, pa.pcap) != 0)
		rc = 1;
	sy_live_destroy(ld.live);
	world_free(w);
	return rc;
}

/* ---- carriers ---- */

struct carriers {
	const struct scn *scn; /* world->scn */
	const struct world *world;
	struct sy_live *live;
	const struct sy_env *env;
	struct pcap_node_tap tap;
	const char *pcap;
	struct uas *uas[SCN_CARRIERS_MAX];
	struct smsc_peer *smsc[SCN_SMPP_CARRIERS_MAX];
	FILE *keys;
	sy_timer_id t_status;
};

static void carriers_counts(struct carriers *c, FILE *f, const char *lead)
{
	for (uint32_t i = 0; i < c->scn->carrier_n; i++) {
		if (c->uas[i] == NULL)
			continue;
		const struct uas_stats *u = uas_stats(c->uas[i]);
		fprintf(f, "%scarrier %s: invites %llu answered %llu rejected %llu byes %llu active %llu\n", lead,
			c->scn->carriers[i].name, (unsigned long long)u->invites, (unsigned long long)u->answered,
			(unsigned long long)u->rejected, (unsigned long long)u->byes, (unsigned long long)u->active);
	}
	for (uint32_t i = 0; i < c->scn->smpp_carrier_n; i++) {
		if (c->smsc[i] == NULL)
			continue;
		const struct smsc_peer_stats *p = smsc_peer_stats(c->smsc[i]);
		fprintf(f,
			"%ssmpp-carrier %s: bound %u submits %llu accepted %llu received %llu duplicates %llu "
			"deduped %llu receipts sent %llu acked %llu pending %llu\n",
			lead, c->scn->smpp_carriers[i].name, smsc_peer_bound(c->smsc[i]),
			(unsigned long long)p->submits, (unsigned long long)p->accepted,
			(unsigned long long)p->received, (unsigned long long)p->duplicates,
			(unsigned long long)p->deduped, (unsigned long long)p->dlr_sent,
			(unsigned long long)p->dlr_acked, (unsigned long long)smsc_peer_dlr_pending(c->smsc[i]));
	}
}

static void carriers_status(void *arg)
{
	struct carriers *c = arg;
	carriers_counts(c, stderr, "[carriers] ");
	c->t_status = sy_env_timer_start(c->env, PROGRESS_EVERY_NS, carriers_status, c);
}

static int carriers_start(struct carriers *c)
{
	const struct scn *s = c->scn;
	uint32_t calls_max = SY_MAX(s->run.calls_max ? s->run.calls_max : scn_peers_calls_max(c->world), 10000u);
	for (uint32_t i = 0; i < s->carrier_n; i++) {
		if (s->carriers[i].address[0] == '\0')
			continue;
		struct uas_cfg u;
		scn_peers_uas(c->world, i, s->carriers[i].addr, calls_max, &u);
		if (uas_create(c->env, &u, &c->uas[i]) != SY_OK) {
			fprintf(stderr, "%s:%u: cannot listen on %s for [carrier %s]\n", s->file, s->carriers[i].line,
				s->carriers[i].address, s->carriers[i].name);
			return -1;
		}
		uas_start(c->uas[i]);
		SY_LOG(c->env, SY_LOG_INFO, "carrier %s: SIP UAS on udp:%s", u.name, s->carriers[i].address);
	}
	for (uint32_t i = 0; i < s->smpp_carrier_n; i++) {
		const struct scn_smpp_carrier *k = &s->smpp_carriers[i];
		if (k->address[0] == '\0')
			continue;
		struct smsc_peer_cfg pc;
		scn_peers_smsc(c->world, i, k->addr, &pc);
		pc.keys_out = c->keys;
		if (smsc_peer_create(c->env, &pc, &c->smsc[i]) != SY_OK) {
			fprintf(stderr, "%s:%u: cannot listen on %s for [smpp-carrier %s]\n", s->file, k->line,
				k->address, k->name);
			return -1;
		}
		SY_LOG(c->env, SY_LOG_INFO, "smpp-carrier %s: SMSC on tcp:%s (system_id %s)", k->name, k->address,
		       k->system_id);
	}
	return 0;
}

/* --ready-file: one line per listening carrier, written after the last one. */
#define READY_LINE_MAX 128
_Static_assert(sizeof("smpp-carrier  tcp \n") + SCN_NAME_MAX + SCN_ADDR_MAX <= READY_LINE_MAX, "line fits");

static int carriers_ready(struct carriers *c, const char *path)
{
	const struct scn *s = c->scn;
	size_t cap = 64 + (size_t)(s->carrier_n + s->smpp_carrier_n) * READY_LINE_MAX, n;
	char *text = malloc(cap);
	if (text == NULL)
		return -1;
	n = (size_t)snprintf(text, cap, "pid %ld\n", (long)getpid());
	for (uint32_t i = 0; i < s->carrier_n; i++)
		if (c->uas[i] != NULL)
			n += (size_t)snprintf(text + n, cap - n, "carrier %s udp %s\n", s->carriers[i].name,
					      s->carriers[i].address);
	for (uint32_t i = 0; i < s->smpp_carrier_n; i++)
		if (c->smsc[i] != NULL)
			n += (size_t)snprintf(text + n, cap - n, "smpp-carrier %s tcp %s\n", s->smpp_carriers[i].name,
					      s->smpp_carriers[i].address);
	SY_ASSERT(n < cap);
	int rc = sy_live_ready_write(c->live, path, text) == SY_OK ? 0 : -1;
	free(text);
	return rc;
}

static int carriers_free(struct carriers *c)
{
	for (uint32_t i = 0; i < SCN_CARRIERS_MAX; i++)
		if (c->uas[i] != NULL)
			uas_destroy(c->uas[i]);
	for (uint32_t i = 0; i < SCN_SMPP_CARRIERS_MAX; i++)
		smsc_peer_destroy(c->smsc[i]);
	int rc = capture_end(&c->tap, c->pcap);
	sy_live_destroy(c->live);
	if (c->keys != NULL)
		fclose(c->keys);
	return rc;
}

static bool any_address(const struct scn *s)
{
	for (uint32_t i = 0; i < s->carrier_n; i++)
		if (s->carriers[i].address[0] != '\0')
			return true;
	for (uint32_t i = 0; i < s->smpp_carrier_n; i++)
		if (s->smpp_carriers[i].address[0] != '\0')
			return true;
	return false;
}

int cmd_carriers(int argc, char **argv)
{
	static const char *const allowed[] = {"--keys", "--seed", "--ready-file", "--pcap", NULL};
	struct peers_args pa = {0};
	int a = peers_args(argc, argv, &pa, allowed);
	if (a != 0) {
		carriers_usage(a > 0 ? stdout : stderr);
		return a > 0 ? 0 : 2;
	}
	char err[512];
	struct world *w = NULL;
	if (world_parse_file(pa.file, NULL, 0, &w, err, sizeof(err)) != SY_OK) {
		fprintf(stderr, "%s\n", err);
		return 2;
	}
	const struct scn *scn = w->scn;
	struct carriers c = {.scn = scn, .world = w, .pcap = pa.pcap};
	int rc = 2;
	if (!any_address(scn)) {
		fprintf(stderr, "%s: no [carrier] or [smpp-carrier] with an address: nothing to run\n", scn->file);
		goto out;
	}
	if (pa.keys != NULL) {
		if ((c.keys = fopen(pa.keys, "w")) == NULL) {
			fprintf(stderr, "switchyard carriers: cannot write %s\n", pa.keys);
			goto out;
		}
		setvbuf(c.keys, NULL, _IOLBF, 0); /* a test reads it while we run */
	}
	rc = 1;
	/* Receipt delays (100 ms and more) on the same 1 ms grid. */
	if ((c.live = live_start(&pa, scn, SY_LOG_INFO, SY_NS_PER_MS)) == NULL)
		goto out;
	if ((c.env = capture_start(c.live, pa.pcap, &c.tap)) == NULL)
		goto out;
	if (pa.ready_file != NULL && sy_live_ready_clear(c.live, pa.ready_file) != SY_OK)
		goto out;
	if (carriers_start(&c) != 0)
		goto out;
	if (pa.ready_file != NULL && carriers_ready(&c, pa.ready_file) != 0)
		goto out;
	c.t_status = sy_env_timer_start(c.env, PROGRESS_EVERY_NS, carriers_status, &c);
	sy_live_run(c.live);
	if (pa.ready_file != NULL)
		sy_live_ready_clear(c.live, pa.ready_file);
	sy_env_timer_cancel(c.env, c.t_status);
	printf("carriers: stopped (signal %d)\n", sy_live_stopped_by(c.live));
	carriers_counts(&c, stdout, "");
	rc = 0;
out:
	if (carriers_free(&c) != 0 && rc == 0)
		rc = 1;
	world_free(w);
	return rc;
}
