/* switchyard.c: the command line: `sim`, `serve`, `--help`. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "core/sip/msg.h"
#include "core/sip/osip_pool.h"

#ifndef SY_VERSION
#define SY_VERSION "0.1.0"
#endif

static void usage(FILE *f)
{
	fprintf(f,
		"switchyard %s: a carrier-grade telecom core (SIP B2BUA, SMPP SMSC, billing)\n"
		"\n"
		"usage:\n"
		"  switchyard sim SCENARIO [--seed N] [--out DIR] [--json FILE] [--pcap FILE] [--quiet]\n"
		"                [--set SECTION.KEY=VALUE]...\n"
		"      run a scenario in the discrete-event simulator (virtual time), print\n"
		"      its report; the last line is the determinism digest. Exit 1 when an\n"
		"      [expect] line fails, 2 on a bad scenario file.\n"
		"  switchyard sweep SCENARIO --vary SECTION.KEY=A..B/N [--seeds K] [--jobs J] --out DIR\n"
		"                [--pass-share F] [--erlang-b N --hold SECONDS]\n"
		"      run the scenario at N values of one key, K seeds each, J processes at\n"
		"      once; DIR/sweep.csv, DIR/sweep.json and the knee (docs/capacity.md).\n"
		"  switchyard serve CONFIG [--seed N] [--out DIR] [--ready-file PATH] [--pcap FILE] [-v]\n"
		"      run the switch on real sockets: SIP over UDP, SMPP ([smpp-carrier]),\n"
		"      the HTTP API (POST /sms, GET /metrics), billing ([account], [tariff]);\n"
		"      same file format; SIGINT/SIGTERM end calls and flush every store.\n"
		"  switchyard load SCENARIO --target HOST:PORT [--smpp-target HOST:PORT]\n"
		"                [--ussd-target HOST:PORT] [--ussd-log FILE] [--seed N]\n"
		"                [--bench NAME] [--acked FILE]\n"
		"      the scenario's callers, SMS applications and USSD handsets on real\n"
		"      sockets against a switch: bounded (traffic + drain), prints a report,\n"
		"      exit 1 if any was lost.\n"
		"  switchyard carriers SCENARIO [--keys FILE] [--ready-file PATH]\n"
		"      the scenario's voice and SMPP carriers that have an address, on real\n"
		"      sockets until SIGINT/SIGTERM.\n"
		"  switchyard rate CDRS.csv --tariff T.csv [--out RATED.csv] [--currency CCY]\n"
		"      re-rate a CDR file in batch (docs/billing.md).\n"
		"  switchyard passwd [--token] [--iter N]\n"
		"      print the stored form of a password read from stdin, for [account]\n"
		"      password ($pbkdf2-sha256$, salted) or token ($sha256$, --token).\n"
		"  switchyard pcap info FILE [--filter BPF] [--json]\n"
		"      what a capture holds: SIP dialogs (caller -> callee, transactions,\n"
		"      final codes), SMPP binds, hosts, malformed frames, timing; a summary\n"
		"      line last. Exit 2 when the capture cannot be read (docs/pcap.md).\n"
		"  switchyard replay FILE --target HOST:PORT [--role callers|carriers] [--pace P]\n"
		"                    [--loop N] [--limit N] [--max-gap D] [--listen HOST:PORT]\n"
		"      a capture's callers sent again to a switch (final codes compared with\n"
		"      the capture's; exit 0 when none failed or diverged), or its callees\n"
		"      answering one (docs/pcap.md, \"Replay\").\n"
		"  switchyard report DIR [--gnuplot PATH]\n"
		"      DIR/report.html with gnuplot's pictures from a run's --out folder (calls,\n"
		"      active calls, PDD, failures by code, SMS rates) or a sweep's (ASR, latency,\n"
		"      blocking against load, the knee, Erlang-B); exit 2 on unreadable input\n"
		"      (docs/capacity.md, \"Reports\").\n"
		"  switchyard --help | --version\n"
		"\n"
		"options:\n"
		"  --seed N      master seed (overrides [run] seed)\n"
		"  --out DIR     output folder: report, CDRs (sqlite + CSV), time series\n"
		"  --json FILE   also write the run report as JSON to FILE\n"
		"  --trace FILE  write the ordered event log as text (debugging)\n"
		"  --pcap FILE   (sim, serve, load, carriers) write every SIP datagram and SMPP\n"
		"                stream segment the node sent or received as a pcap (sim: the\n"
		"                switch's, with virtual time and the simulated addresses)\n"
		"  --quiet       no progress line\n"
		"  --ready-file PATH  (serve, carriers) write PATH once every listener is\n"
		"                open, one line per listener (\"sip udp HOST:PORT\"); it is\n"
		"                removed at start and at a clean exit\n"
		"  -v            debug logging\n"
		"\n"
		"The scenario format is documented in docs/scenarios.md.\n",
		SY_VERSION);
}

static int parse_opts(int argc, char **argv, struct cmd_opts *o)
{
	for (int i = 2; i < argc; i++) {
		const char *a = argv[i];
		const char *next = i + 1 < argc ? argv[i + 1] : NULL;
		if (strcmp(a, "--seed") == 0 && next) {
			char *end;
			o->seed = strtoull(next, &end, 10);
			if (*end != '\0') {
				fprintf(stderr, "switchyard: bad --seed '%s' (want an unsigned integer)\n", next);
				return -1;
			}
			o->seed_set = 1;
			i++;
		} else if (strcmp(a, "--out") == 0 && next) {
			o->out = next;
			i++;
		} else if (strcmp(a, "--json") == 0 && next) {
			o->json = next;
			i++;
		} else if (strcmp(a, "--bench") == 0 && next) {
			o->bench = next;
			i++;
		} else if (strcmp(a, "--trace") == 0 && next) {
			o->trace = next;
			i++;
		} else if (strcmp(a, "--pcap") == 0 && next) {
			o->pcap = next;
			i++;
		} else if (strcmp(a, "--set") == 0 && next && strcmp(argv[1], "sim") == 0) {
			if (o->set_n == CMD_SET_MAX) {
				fprintf(stderr, "switchyard: at most %d --set\n", CMD_SET_MAX);
				return -1;
			}
			o->set[o->set_n++] = next;
			i++;
		} else if (strcmp(a, "--target") == 0 && next) {
			o->target = next;
			i++;
		} else if (strcmp(a, "--ready-file") == 0 && next && strcmp(argv[1], "serve") == 0) {
			o->ready_file = next;
			i++;
		} else if (strcmp(a, "--quiet") == 0 || strcmp(a, "-q") == 0) {
			o->quiet = 1;
		} else if (strcmp(a, "-v") == 0 || strcmp(a, "--verbose") == 0) {
			o->verbose = 1;
		} else if (a[0] == '-') {
			fprintf(stderr, "switchyard: unknown option '%s' (see switchyard --help)\n", a);
			return -1;
		} else if (o->file == NULL) {
			o->file = a;
		} else {
			fprintf(stderr, "switchyard: unexpected argument '%s'\n", a);
			return -1;
		}
	}
	if (o->file == NULL) {
		fprintf(stderr, "switchyard %s: missing the scenario/config file (see switchyard --help)\n", argv[1]);
		return -1;
	}
	return 0;
}

/* osip's memory bound (core/sip/osip_pool.h) for a host sized away from
 * the default: SWITCHYARD_OSIP_POOL_MB=N, 16 <= N <= 65536. */
static int osip_pool_from_env(void)
{
	const char *v = getenv("SWITCHYARD_OSIP_POOL_MB");
	if (v == NULL)
		return 0;
	char *end;
	unsigned long long mb = strtoull(v, &end, 10);
	if (*v == '\0' || *end != '\0' || mb < 16 || mb > 65536) {
		fprintf(stderr, "switchyard: SWITCHYARD_OSIP_POOL_MB=%s: want a number of MiB in 16..65536\n", v);
		return -1;
	}
	size_t limit = (size_t)mb << 20;
	sip_osip_pool_configure(limit, SY_MIN(SIP_OSIP_POOL_KEEP_DEFAULT, limit / 8));
	return 0;
}

int main(int argc, char **argv)
{
	/* A peer that closes its TCP connection (HTTP, SMPP) while we write
	 * must cost that connection an EPIPE, never the process. */
	signal(SIGPIPE, SIG_IGN);
	if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
	    strcmp(argv[1], "help") == 0) {
		usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? 2 : 0;
	}
	if (strcmp(argv[1], "--version") == 0) {
		printf("switchyard %s\n", SY_VERSION);
		return 0;
	}
	if (strcmp(argv[1], "rate") == 0)
		return cmd_rate(argc, argv);
	if (strcmp(argv[1], "passwd") == 0)
		return cmd_passwd(argc, argv);
	if (strcmp(argv[1], "pcap") == 0)
		return cmd_pcap(argc, argv);
	if (strcmp(argv[1], "replay") == 0)
		return cmd_replay(argc, argv);
	if (strcmp(argv[1], "sweep") == 0)
		return cmd_sweep(argc, argv);
	if (strcmp(argv[1], "report") == 0)
		return cmd_report(argc, argv);
	if (strcmp(argv[1], "load") == 0 || strcmp(argv[1], "carriers") == 0)
		return strcmp(argv[1], "load") == 0 ? cmd_load(argc, argv) : cmd_carriers(argc, argv);
	struct cmd_opts o;
	memset(&o, 0, sizeof(o));
	sip_global_init();
	if (osip_pool_from_env() != 0)
		return 2;
	if (strcmp(argv[1], "sim") == 0) {
		if (parse_opts(argc, argv, &o) != 0)
			return 2;
		return cmd_sim(&o);
	}
	if (strcmp(argv[1], "serve") == 0) {
		if (parse_opts(argc, argv, &o) != 0)
			return 2;
		return cmd_serve(&o);
	}
	fprintf(stderr, "switchyard: unknown command '%s' (see switchyard --help)\n", argv[1]);
	return 2;
}
