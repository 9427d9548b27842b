/* pcap.c: `switchyard pcap info FILE [--filter BPF] [--json]`: what a
 * capture holds (core/pcap/flows.h), printed by core/pcap/info.c. Exit 0,
 * or 2 on a usage error or a capture that cannot be read (the reader's
 * message names the file and the frame). */
#include <stdio.h>
#include <string.h>

#include "cmd.h"
#include "core/live/live.h"
#include "core/pcap/info.h"

static void pcap_usage(FILE *f)
{
	fprintf(f, "usage: switchyard pcap info FILE [--filter BPF] [--json]\n"
		   "  reads a capture (pcap or pcapng) and prints its SIP dialogs (Call-ID,\n"
		   "  caller -> callee, users, transactions with final codes, messages,\n"
		   "  duration), SMPP binds, hosts, malformed frames and timing warnings,\n"
		   "  ending with a summary line. --filter keeps the frames a BPF expression\n"
		   "  (tcpdump syntax) matches; --json prints one JSON object instead.\n"
		   "  Exit 0; 2 on a usage error or a capture that cannot be read.\n");
}

static int pcap_args(int argc, char **argv, const char **file, const char **filter, int *json)
{
	if (argc < 3 || strcmp(argv[2], "--help") == 0 || strcmp(argv[2], "-h") == 0) {
		pcap_usage(argc < 3 ? stderr : stdout);
		return argc < 3 ? -1 : 1;
	}
	if (strcmp(argv[2], "info") != 0) {
		fprintf(stderr, "switchyard pcap: unknown subcommand '%s' (see switchyard pcap --help)\n", argv[2]);
		return -1;
	}
	for (int i = 3; i < argc; i++) {
		const char *a = argv[i];
		if (strcmp(a, "--filter") == 0 && i + 1 < argc) {
			*filter = argv[++i];
		} else if (strcmp(a, "--json") == 0) {
			*json = 1;
		} else if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
			pcap_usage(stdout);
			return 1;
		} else if (a[0] != '-' && *file == NULL) {
			*file = a;
		} else {
			fprintf(stderr, "switchyard pcap info: unexpected argument '%s'\n", a);
			return -1;
		}
	}
	if (*file == NULL) {
		pcap_usage(stderr);
		return -1;
	}
	return 0;
}

int cmd_pcap(int argc, char **argv)
{
	const char *file = NULL, *filter = NULL;
	int json = 0;
	int r = pcap_args(argc, argv, &file, &filter, &json);
	if (r != 0)
		return r < 0 ? 2 : 0;
	struct pcap_read_cfg cfg = {.filter = filter};
	struct pcap_flows *f;
	char err[512];
	if (pcap_flows_load(sy_live_files(), file, &cfg, &f, err, sizeof(err)) != SY_OK) {
		fprintf(stderr, "switchyard pcap info: %s\n", err);
		return 2;
	}
	struct pcap_text t = {0};
	if (json)
		pcap_info_json(&t, f, file);
	else
		pcap_info_text(&t, f, file);
	int rc = 0;
	if (t.oom) {
		fprintf(stderr, "switchyard pcap info: %s: out of memory\n", file);
		rc = 2;
	} else if (fwrite(t.p, 1, t.len, stdout) != t.len || fflush(stdout) != 0) {
		fprintf(stderr, "switchyard pcap info: cannot write the report\n");
		rc = 2;
	}
	pcap_text_free(&t);
	pcap_flows_free(f);
	return rc;
}
