/* load_ussd.h: the USSD part of `switchyard load` (load_ussd.c): a
 * scenario's [traffic ussd] handsets on a simulated operator USSD node
 * (peers/ussd_net.h) over SMPP against any gateway, bounded like the voice
 * and SMS traffic, with a transcript per ended dialogue (--ussd-log). */
#ifndef SY_CMD_LOAD_USSD_H
#define SY_CMD_LOAD_USSD_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "core/env.h"

#define LOAD_USSD_DEFAULT_PORT 2776 /* the gateway's USSD link port, as in the simulator */

struct world;
struct ussd_net;
struct ussd_cfg;

struct load_ussd {
	/* the gateway's release texts the handsets count as an early end when
	 * the scenario has no [ussd]: switchyard's defaults (the node's config
	 * holds the strings it points to) */
	struct ussd_cfg *texts; /* NULL with [ussd] */
	struct ussd_net *net;
	const struct sy_env *env;
	FILE *log;		  /* --ussd-log: one JSON line per ended dialogue; NULL none */
	uint64_t logged;	  /* lines written */
	bool log_failed;	  /* a write failed: the file is incomplete */
	uint64_t t0_ns, end_ns;	  /* absolute monotonic: start, arrivals over */
	uint64_t sessions_max;	  /* arrivals at most (the section's cap); 0 none */
	uint64_t arr_ns, done_ns; /* when arrivals ended, when the last dialogue ended (0: not yet) */
	uint64_t stopped;	  /* dialogues still open at the drain's end: released by us */
};

/* The node from w's [traffic ussd], binding to gateway (or listening where
 * the section says, when the gateway binds to it); log_path NULL or the
 * --ussd-log file. -1 with the reason on stderr. */
int load_ussd_create(struct load_ussd *lu, const struct sy_env *env, const struct world *w,
		     const struct sy_addr *gateway, const char *log_path);
/* Starts binding and the arrivals; they end at end_ns (absolute) or after
 * sessions_max (0: no cap). */
void load_ussd_start(struct load_ussd *lu, uint64_t t0_ns, uint64_t end_ns, uint64_t sessions_max);
/* Arrivals over and no dialogue open. */
bool load_ussd_drained(struct load_ussd *lu, uint64_t now);
void load_ussd_progress(const struct load_ussd *lu, FILE *f);
/* Releases what is still open (counted in stopped) and unbinds; the caller
 * runs the loop a little after it so the releases go out. */
void load_ussd_wind_down(struct load_ussd *lu);
/* Prints the summary (and the bench JSON line when bench is set); returns
 * the dialogues that did not end properly (no answer, failed, link lost,
 * released at the drain's end, a screen past the path), plus 1 when none
 * started at all. */
uint64_t load_ussd_report(const struct load_ussd *lu, uint64_t now, const char *bench);
/* 0, or -1 when the log could not be written completely. */
int load_ussd_destroy(struct load_ussd *lu);

#endif
