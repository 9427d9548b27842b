/* main.c: switchyard-load, the live peers without the simulator: `load`
 * (callers and applications as a load generator) and `carriers` (carrier
 * peers on real sockets), the same code as `switchyard load|carriers`
 * (cmd/peers.c), linked from peers/, core/live/ and core/ only. A host
 * that generates traffic needs no simulator; tests/it_layering.sh checks
 * that its symbols hold no part of the simulator's event loop. */
#include <stdbool.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "cmd/cmd.h"

static void usage(FILE *f)
{
	fprintf(f, "usage: switchyard-load load SCENARIO --target HOST:PORT [options]\n"
		   "       switchyard-load carriers SCENARIO [options]\n"
		   "`switchyard-load load --help` and `switchyard-load carriers --help` list the options.\n");
}

int main(int argc, char **argv)
{
	/* A peer that closes its TCP connection (HTTP, SMPP) while we write
	 * must cost that connection an EPIPE, never the process. */
	signal(SIGPIPE, SIG_IGN);
	if (argc >= 2 && strcmp(argv[1], "load") == 0)
		return cmd_load(argc, argv);
	if (argc >= 2 && strcmp(argv[1], "carriers") == 0)
		return cmd_carriers(argc, argv);
	bool help = argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0);
	usage(help ? stdout : stderr);
	return help ? 0 : 2;
}
