/* cmd.h: the subcommands of the switchyard binary. */
#ifndef SY_CMD_H
#define SY_CMD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CMD_SET_MAX 8

struct cmd_opts {
	const char *file;	/* scenario / config */
	const char *out;	/* --out DIR */
	uint64_t seed;		/* --seed N */
	int seed_set;
	int quiet;		/* --quiet: no progress line */
	int verbose;		/* -v: debug log */
	const char *json;	/* --json FILE: the report as JSON */
	const char *bench;	/* --bench NAME: print one bench JSON line */
	const char *trace;	/* --trace FILE: event log as text */
	const char *target;	/* --target HOST:PORT (load) */
	const char *ready_file;	/* --ready-file PATH (serve): written once every listener is open */
	const char *pcap;	/* --pcap FILE: the node's traffic as a capture (sim: the switch's) */
	const char *set[CMD_SET_MAX]; /* sim --set traffic.voice.cps=2000: a scenario key overridden */
	int set_n;
};

int cmd_sim(const struct cmd_opts *o);
int cmd_serve(const struct cmd_opts *o);
int cmd_rate(int argc, char **argv); /* switchyard rate: batch CDR re-rating */
int cmd_load(int argc, char **argv);	/* switchyard load: peers as a load generator (peers.c) */
int cmd_passwd(int argc, char **argv);   /* switchyard passwd: stored secrets for the config (passwd.c) */
int cmd_carriers(int argc, char **argv); /* switchyard carriers: carrier peers on real sockets (peers.c) */
int cmd_pcap(int argc, char **argv);	 /* switchyard pcap info: what a capture holds (pcap.c) */
int cmd_replay(int argc, char **argv);	 /* switchyard replay: a capture played on real sockets (replay.c) */
int cmd_sweep(int argc, char **argv);	 /* switchyard sweep: the simulator over a range of one key (sweep.c) */
/* The whole file, NUL-terminated (malloc'd), or NULL (sweep.c). */
char *cmd_read_file(const char *path, size_t *len);
int cmd_report(int argc, char **argv);	 /* switchyard report: report.html with plots (report.c) */

struct sy_addr;
struct world;
struct replay_cfg;
/* The local address the kernel would send to target from (port 0) (peers.c). */
struct sy_addr cmd_local_for(const struct sy_addr *target);
/* The callers of a replay on real sockets (SIP to target, SMPP to smpp); the exit status (replay.c). */
int cmd_replay_callers(const struct replay_cfg *cfg, const struct sy_addr *target, const struct sy_addr *smpp,
		       bool verbose);
/* `load --target` of a scenario with [replay] sections (replay.c). */
int cmd_replay_world(const struct world *w, const struct sy_addr *target, const struct sy_addr *smpp, bool verbose);

#endif
