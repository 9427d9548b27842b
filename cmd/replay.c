/* replay.c: `switchyard replay FILE` (a capture played on real sockets,
 * as its callers against --target or as its callees answering a switch)
 * and the [replay] sections of `switchyard load --target`: argument
 * parsing and the loop; the replay itself is peers/replay*.c, the same
 * code `sim` runs. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "core/live/live.h"
#include "core/sip/wire.h"
#include "peers/replay.h"
#include "peers/world.h"

#define STEP_NS (100 * SY_NS_PER_MS)

struct replay_args {
	const char *file, *target, *smpp_target, *listen, *filter, *ready_file;
	struct replay_cfg cfg;
	enum replay_role role;
	bool verbose;
};

static void replay_usage(FILE *f)
{
	fprintf(
	    f,
	    "usage: switchyard replay FILE --target HOST:PORT [--role callers|carriers]\n"
	    "                         [--pace original|N/s|xK] [--loop N] [--limit N] [--max-gap DURATION]\n"
	    "                         [--key number|round-robin] [--filter BPF] [--listen HOST:PORT]\n"
	    "                         [--ready-file PATH] [--smpp-target HOST:PORT --system-id ID --password PW] [-v]\n"
	    "  callers (default): the capture's dialogs sent again to --target over UDP, each\n"
	    "  copy with its own Call-ID, tags and branches; the final codes that come back\n"
	    "  are compared with the capture's. SMPP binds: their submit_sm sent again to\n"
	    "  --smpp-target (default --target's host, port 2775), bound with --system-id\n"
	    "  and --password. Exit 0 when no dialog or bind failed or diverged.\n"
	    "  carriers: answers on --listen (default 0.0.0.0:5060) the way the capture's\n"
	    "  callees did, until SIGINT/SIGTERM. docs/pcap.md, \"Replay\".\n");
}

/* "original", "2000/s", "x10". */
static bool parse_pace(const char *v, struct replay_cfg *c)
{
	uint64_t x;
	size_t n = strlen(v);
	if (strcmp(v, "original") == 0) {
		c->pace = REPLAY_PACE_ORIGINAL;
		return true;
	}
	if (n > 2 && strcmp(v + n - 2, "/s") == 0 && sy_decimal_parse((struct sy_str){v, n - 2}, 3, &x) == SY_OK &&
	    x > 0) {
		c->pace = REPLAY_PACE_RATE;
		c->rate_milli = x;
		return true;
	}
	if (n > 1 && v[0] == 'x' && sy_decimal_parse((struct sy_str){v + 1, n - 1}, 3, &x) == SY_OK && x > 0 &&
	    x <= UINT32_MAX) {
		c->pace = REPLAY_PACE_FACTOR;
		c->factor_milli = (uint32_t)x;
		return true;
	}
	return false;
}

static bool parse_u64(const char *v, uint64_t *out)
{
	char *end;
	*out = strtoull(v, &end, 10);
	return v[0] >= '0' && v[0] <= '9' && *end == '\0';
}

static bool value_opt(struct replay_args *a, const char *o, const char *v)
{
	uint64_t n;
	const char **slot = strcmp(o, "--target") == 0	      ? &a->target
			    : strcmp(o, "--smpp-target") == 0 ? &a->smpp_target
			    : strcmp(o, "--listen") == 0      ? &a->listen
			    : strcmp(o, "--filter") == 0      ? &a->filter
			    : strcmp(o, "--ready-file") == 0  ? &a->ready_file
			    : strcmp(o, "--system-id") == 0   ? &a->cfg.system_id
			    : strcmp(o, "--password") == 0    ? &a->cfg.password
							      : NULL;
	if (slot != NULL) {
		*slot = v;
		return true;
	}
	if (strcmp(o, "--role") == 0) {
		a->role = strcmp(v, "carriers") == 0 ? REPLAY_CARRIERS : REPLAY_CALLERS;
		return strcmp(v, "carriers") == 0 || strcmp(v, "callers") == 0;
	}
	if (strcmp(o, "--key") == 0) {
		a->cfg.key = strcmp(v, "round-robin") == 0 ? REPLAY_KEY_ROUND_ROBIN : REPLAY_KEY_NUMBER;
		return strcmp(v, "round-robin") == 0 || strcmp(v, "number") == 0;
	}
	if (strcmp(o, "--pace") == 0)
		return parse_pace(v, &a->cfg);
	if (strcmp(o, "--max-gap") == 0)
		return sy_duration_parse_str(sy_str_from(v), &a->cfg.max_gap_ns) == SY_OK && a->cfg.max_gap_ns > 0;
	if (strcmp(o, "--loop") == 0 && parse_u64(v, &n) && n > 0 && n <= UINT32_MAX) {
		a->cfg.loop = (uint32_t)n;
		return true;
	}
	return strcmp(o, "--limit") == 0 && parse_u64(v, &a->cfg.limit);
}

/* 0, 1 for --help, -1 on a usage error (reported). */
static int replay_args(int argc, char **argv, struct replay_args *a)
{
	for (int i = 2; i < argc; i++) {
		const char *o = argv[i];
		if (strcmp(o, "--help") == 0 || strcmp(o, "-h") == 0)
			return 1;
		if (strcmp(o, "-v") == 0) {
			a->verbose = true;
		} else if (o[0] != '-' && a->file == NULL) {
			a->file = o;
		} else if (i + 1 >= argc || !value_opt(a, o, argv[i + 1])) {
			fprintf(stderr, "switchyard replay: bad or unexpected argument '%s'\n", o);
			return -1;
		} else {
			i++;
		}
	}
	if (a->file == NULL || (a->role == REPLAY_CALLERS && a->target == NULL)) {
		fprintf(stderr, "switchyard replay: %s\n", a->file ? "--target HOST:PORT is required" : "missing FILE");
		return -1;
	}
	return 0;
}

static void print_stats(const char *label, const struct replay_stats *s)
{
	char buf[4096];
	struct sy_ctr_out o = {buf, sizeof(buf), 0, false};
	sy_counters_text(&o, label, &replay_counters, s, 110);
	fputs(buf, stdout);
	for (uint32_t i = 0; i < s->div_n; i++)
		printf("diverged: %s (copy %llu): want %s, got %s\n", s->div[i].call_id,
		       (unsigned long long)s->div[i].copy, s->div[i].want, s->div[i].got);
}

static struct sy_live *live_new(bool verbose)
{
	struct sy_live_cfg lc = {.log_level = verbose ? SY_LOG_DEBUG : SY_LOG_WARN, .timer_slack_ns = SY_NS_PER_MS};
	struct sy_live *l = NULL;
	if (sy_live_create(&lc, &l) != SY_OK || sy_live_handle_signals(l) != SY_OK) {
		fprintf(stderr, "switchyard replay: cannot start the event loop\n");
		sy_live_destroy(l);
		return NULL;
	}
	return l;
}

static int verdict(const char *label, const struct replay_stats *s, int sig)
{
	print_stats(label, s);
	int out = s->failed == 0 && s->divergent == 0 && s->skipped == 0 && s->dialogs > 0 && sig == 0 ? 0 : 1;
	printf("%s: %s\n", label, out == 0 ? "PASS" : "FAIL");
	return out;
}

/* Plays cfg's callers (flows, pacing set): SIP dialogs to target, SMPP
 * binds to smpp (with cfg's system_id); the exit status. */
int cmd_replay_callers(const struct replay_cfg *base, const struct sy_addr *target, const struct sy_addr *smpp,
		       bool verbose)
{
	struct sy_live *l = live_new(verbose);
	if (l == NULL)
		return 1;
	struct replay_cfg cfg = *base;
	struct replay_uac *u = NULL;
	struct replay_esme *e = NULL;
	enum sy_rc rc = SY_OK;
	cfg.target = *target;
	cfg.local = cmd_local_for(target);
	if (cfg.flows->dialog_n > 0)
		rc = replay_uac_create(sy_live_env(l), &cfg, &u);
	cfg.target = *smpp;
	if (rc == SY_OK && cfg.flows->bind_n > 0 && cfg.system_id != NULL)
		rc = replay_esme_create(sy_live_env(l), &cfg, &e);
	int out = 1, sig = 0;
	if (rc != SY_OK || (u == NULL && e == NULL)) {
		fprintf(stderr, "switchyard replay: cannot start the callers: %s\n",
			rc != SY_OK ? sy_rc_str(rc) : "no SIP dialog, and SMPP binds need --system-id and --password");
		goto out;
	}
	if (u != NULL)
		replay_uac_start(u);
	if (e != NULL)
		replay_esme_start(e);
	while (((u != NULL && !replay_uac_done(u)) || (e != NULL && !replay_esme_done(e))) &&
	       (sig = sy_live_stopped_by(l)) == 0)
		sy_live_run_for(l, STEP_NS);
	out = 0;
	if (u != NULL)
		out |= verdict("replay", replay_uac_stats(u), sig);
	if (e != NULL)
		out |= verdict("replay-smpp", replay_esme_stats(e), sig);
out:
	replay_uac_destroy(u);
	replay_esme_destroy(e);
	sy_live_destroy(l);
	return out;
}

static int run_carriers(const struct replay_args *a)
{
	struct sy_live *l = live_new(a->verbose);
	if (l == NULL)
		return 1;
	struct replay_cfg cfg = a->cfg;
	if (sy_addr_parse(a->listen ? a->listen : "0.0.0.0:5060", 5060, &cfg.local) != SY_OK) {
		fprintf(stderr, "switchyard replay: bad --listen '%s'\n", a->listen);
		sy_live_destroy(l);
		return 2;
	}
	struct replay_uas *s = NULL;
	enum sy_rc rc = replay_uas_create(sy_live_env(l), &cfg, &s);
	int out = 1;
	if (rc != SY_OK) {
		fprintf(stderr, "switchyard replay: cannot listen on %s: %s\n", a->listen, sy_rc_str(rc));
		goto out;
	}
	char line[SY_ADDR_STRLEN + 16];
	struct sy_addr at;
	replay_uas_local(s, &at);
	sy_addr_fmt(&at, line, sizeof(line));
	strcat(line, "\n");
	if (a->ready_file != NULL && sy_live_ready_write(l, a->ready_file, line) != SY_OK) {
		fprintf(stderr, "switchyard replay: cannot write %s\n", a->ready_file);
		goto out;
	}
	while (sy_live_stopped_by(l) == 0)
		sy_live_run_for(l, STEP_NS);
	print_stats("replay-carriers", replay_uas_stats(s));
	out = 0;
out:
	replay_uas_destroy(s);
	sy_live_destroy(l);
	return out;
}

/* --smpp-target, or --target's host on port 2775. */
static enum sy_rc smpp_target(const char *arg, const struct sy_addr *sip, struct sy_addr *out)
{
	*out = *sip;
	out->port = 2775;
	return arg == NULL ? SY_OK : sy_addr_parse(arg, 2775, out);
}

int cmd_replay(int argc, char **argv)
{
	struct replay_args a = {0};
	int r = replay_args(argc, argv, &a);
	if (r != 0) {
		replay_usage(r > 0 ? stdout : stderr);
		return r > 0 ? 0 : 2;
	}
	struct sy_addr target, smpp;
	if (a.target != NULL &&
	    (sy_addr_parse(a.target, 5060, &target) != SY_OK || smpp_target(a.smpp_target, &target, &smpp) != SY_OK)) {
		fprintf(stderr, "switchyard replay: bad --target or --smpp-target (want host:port)\n");
		return 2;
	}
	if ((a.cfg.system_id == NULL) != (a.cfg.password == NULL)) {
		fprintf(stderr, "switchyard replay: --system-id and --password go together\n");
		return 2;
	}
	struct pcap_read_cfg rc = {.filter = a.filter};
	struct pcap_flows *f = NULL;
	char err[512];
	if (pcap_flows_load(sy_live_files(), a.file, &rc, &f, err, sizeof(err)) != SY_OK) {
		fprintf(stderr, "switchyard replay: %s\n", err);
		return 2;
	}
	int out = 2;
	if (f->dialog_n == 0 && (a.role == REPLAY_CARRIERS || f->bind_n == 0)) {
		fprintf(stderr, "%s: no SIP dialog%s to replay\n", a.file,
			a.role == REPLAY_CARRIERS ? "" : " or SMPP bind");
		goto done;
	}
	a.cfg.flows = f;
	out = a.role == REPLAY_CARRIERS ? run_carriers(&a) : cmd_replay_callers(&a.cfg, &target, &smpp, a.verbose);
done:
	pcap_flows_free(f);
	return out;
}

/* `load --target` with [replay] sections: each callers section in turn. */
int cmd_replay_world(const struct world *w, const struct sy_addr *target, const struct sy_addr *smpp, bool verbose)
{
	int out = 0, ran = 0;
	for (uint32_t i = 0; i < w->replay_n; i++) {
		const struct world_replay *wr = &w->replays[i];
		if (wr->role != WORLD_REPLAY_CALLERS)
			continue;
		struct pcap_read_cfg rc = {.filter = wr->filter[0] ? wr->filter : NULL};
		struct pcap_flows *f = NULL;
		char err[512];
		if (pcap_flows_load(sy_live_files(), wr->pcap, &rc, &f, err, sizeof(err)) != SY_OK) {
			fprintf(stderr, "%s:%u: [replay]: %s\n", w->scn->file, wr->line, err);
			return 2;
		}
		struct replay_cfg cfg;
		world_replay_cfg(wr, &cfg);
		cfg.flows = f;
		printf("replay: %s\n", wr->pcap);
		int r = cmd_replay_callers(&cfg, target, smpp, verbose);
		out = out ? out : r;
		ran++;
		pcap_flows_free(f);
	}
	if (ran == 0) {
		fprintf(stderr, "%s: no [replay] section with role = callers\n", w->scn->file);
		return 2;
	}
	return out;
}
