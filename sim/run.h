/* run.h: a scenario run in the simulator. Builds the world a scenario
 * describes (the switch node, one host per carrier running a UAS, a host of
 * callers running the UAC population, the links between them, the faults),
 * steps it in virtual time, and produces the run report: text for humans,
 * JSON for machines, a per-second CSV and the CDRs, with the determinism
 * digest on the report's last line. */
#ifndef SIM_RUN_H
#define SIM_RUN_H

#include <stdio.h>

#include "core/pcap/tap.h"
#include "expect.h"
#include "peers/world.h"

struct sim_run;

/* A scenario as the simulator reads it: the node's sections (world->scn),
 * the simulated world, and the [expect] lines. */
struct sim_scenario {
	struct world *world;
	struct expect_set expects;
};

/* Errors as scn_parse_file ("file:line: message"). */
enum sy_rc sim_scenario_parse_file(const char *path, struct sim_scenario **out, char *err, size_t errlen);
enum sy_rc sim_scenario_parse_buf(const char *text, size_t len, const char *name, struct sim_scenario **out,
				  char *err, size_t errlen);
enum sy_rc sim_scenario_parse_string(const char *text, const char *name, struct sim_scenario **out, char *err,
				     size_t errlen);
void sim_scenario_free(struct sim_scenario *sc);

struct sim_run_opts {
	uint64_t seed;	    /* used when seed_set, else [run] seed */
	bool seed_set;
	const char *out_dir; /* NULL: out/<scenario name> */
	FILE *trace;	    /* event log as text; NULL = off */
	uint64_t switch_timer_late_ns; /* fault: the switch's timers fire this late (sim_node_set_timer_late) */
	enum sy_log_level log_level;
	/* Sinks of the switch node's traffic (tap.h): the --pcap writer, over
	 * real files, so the capture leaves the simulated disk and the digest
	 * alone. The sinks outlive the run. */
	const struct pcap_sink *sinks;
	uint32_t sink_n;
	/* The node without its fraud component, whatever [fraud] says (the
	 * second run behind fraud.normal_asr_delta, sim/fraud_sim.c). */
	bool fraud_off;
};

/* sc outlives the run. */
enum sy_rc sim_run_create(const struct sim_scenario *sc, const struct sim_run_opts *o, struct sim_run **out,
			  char *err, size_t errlen);
/* Advances virtual time by at most step_ns; returns false once the run is
 * over (traffic done, calls drained or the drain limit reached). */
bool sim_run_step(struct sim_run *r, uint64_t step_ns);
uint64_t sim_run_now(const struct sim_run *r);
/* Virtual seconds the run will last at most (for progress lines). */
uint64_t sim_run_horizon(const struct sim_run *r);
uint64_t sim_run_events(const struct sim_run *r);
/* When the traffic stops (the drain follows). */
uint64_t sim_run_traffic_end(const struct sim_run *r);
uint64_t sim_run_calls(const struct sim_run *r);
/* Answered calls that ended with a BYE. */
uint64_t sim_run_completed(const struct sim_run *r);
/* SMS parts the applications submitted. */
uint64_t sim_run_messages(const struct sim_run *r);
/* The USSD gateway's figures for --bench: false when the run has none. */
struct sim_run_ussd_figures {
	uint64_t concurrent;	    /* the gateway's peak of open sessions */
	uint64_t sessions, steps;   /* begun; application replies */
	uint64_t bytes_per_session; /* the gateway's memory at its peak over the sessions then open */
	uint64_t handsets_bytes;    /* the handsets' node: records, handset table, wheel */
};
bool sim_run_ussd_figures(const struct sim_run *r, struct sim_run_ussd_figures *out);
/* Ends the run: flushes CDRs, evaluates [expect], writes report.txt,
 * report.json and series.csv into the output folder and the text report to
 * `text`. Returns the number of failed expectations. */
size_t sim_run_finish(struct sim_run *r, FILE *text, const char *json_path);
const char *sim_run_out_dir(const struct sim_run *r);
void sim_run_destroy(struct sim_run *r);

#endif
