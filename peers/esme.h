/* esme.h: a population of SMPP applications (ESMEs) submitting SMS to a
 * switch, written only against the env seam so the same code runs in the
 * simulator and as the live load generator (`switchyard load`). Poisson
 * arrivals, concatenated long messages, receipts matched to accepted ids,
 * throttle backoff and rebinds, with the counters an SMS test needs. */
#ifndef SY_SIM_ESME_H
#define SY_SIM_ESME_H

#include <stdio.h>

#include "core/env.h"
#include "core/metrics/hist.h"

#define ESME_DEST_MAX	    16
#define ESME_SEG_MAX	    16	 /* parts of one message at most */
#define ESME_TEXT_CHARS_MAX 1024 /* text_len_max bound */
#define ESME_BINDS_MAX	    64

struct esme_dest {
	const char *pattern; /* "1XXXXXXXXXX": X -> 0-9, N -> 2-9, other chars kept; < 21 chars */
	uint32_t weight;     /* relative weight */
};

/* Zero fields take the defaults given. */
struct esme_cfg {
	const char *name;	 /* for logs (default "esme") */
	uint32_t index;		 /* rng stream: sy_rng_init_split(seed, "esme", index) */
	struct sy_addr target;	 /* the switch's SMPP address */
	const char *system_id;	 /* required, <= 15 chars */
	uint32_t members;	 /* > 1: system_id names an account group (scn.h [account] count): bind i binds as
				  * "<system_id>-<i mod members>", each <= 15 chars; 0 or 1: every bind as system_id */
	const char *password;	 /* <= 8 chars (default "") */
	const char *system_type; /* <= 12 chars (default "") */
	uint32_t binds;		 /* bind_transceiver sessions (default 1, <= ESME_BINDS_MAX) */
	uint32_t window;	 /* outstanding submit_sm per bind (default 10) */
	uint64_t tps_milli;	 /* mean arrival rate, messages per 1000 s; required */
	struct esme_dest dest[ESME_DEST_MAX];
	size_t dest_n;		       /* >= 1 */
	const char *src_pattern;       /* default "1555XXXXXXX" */
	uint32_t text_len_min;	       /* characters (default 20) */
	uint32_t text_len_max;	       /* characters (default text_len_min; <= ESME_TEXT_CHARS_MAX) */
	uint32_t ucs2_ppm;	       /* share of messages with non-GSM text (sent as UCS2) */
	bool registered_delivery;      /* ask for receipts (SMSC_ALWAYS) */
	uint32_t validity_s;	       /* relative validity_period; 0 = none (SMSC default) */
	uint64_t start_ns;	       /* first arrival after esme_start() + start_ns */
	uint64_t stop_ns;	       /* no arrivals after esme_start() + stop_ns; 0 = never */
	uint64_t max_msgs;	       /* arrivals at most (sent + skipped); 0 = unbounded */
	uint32_t queue_max;	       /* messages waiting for a window slot (default 1000) */
	uint32_t seg_max;	       /* segment records live (queued, in flight, awaiting their receipt), and
					* ids remembered after their receipt for duplicate detection (default 65536) */
	uint64_t resp_timeout_ns;      /* submit_sm_resp due within (default 10 s) */
	uint64_t throttle_backoff_ns;  /* wait after ESME_RTHROTTLED (default 200 ms) */
	uint32_t throttle_retries_max; /* per segment; then counted rejected (default 50) */
	uint64_t rebind_min_ns;	       /* first reconnect delay after a drop (default 500 ms) */
	uint64_t rebind_max_ns;	       /* doubling stops here (default 8 s) */
	uint32_t rebind_tries_max;     /* consecutive failed connects per bind before giving up (default 20) */
	uint64_t enquire_interval_ns;  /* keepalive (session default 30 s) */
	FILE *acked_out;	       /* optional: "ID\n" per accepted part (crash tests) */
};

/* Segments (submit_sm) and messages are counted apart: a message of n parts
 * is n submit_sm, n ids and n receipts. */
struct esme_stats {
	uint64_t arrivals;		  /* messages generated (submitted or skipped) */
	uint64_t skipped;		  /* arrivals beyond window + queue (or segment records) */
	uint64_t msgs_submitted;	  /* messages with their first submit_sm sent */
	uint64_t msgs_accepted;		  /* messages with every part accepted */
	uint64_t msgs_failed;		  /* messages with at least one part rejected or timed out */
	uint64_t msgs_multipart;	  /* messages sent as concatenated parts */
	uint64_t segs_submitted;	  /* submit_sm sent, first tries only */
	uint64_t segs_resubmitted;	  /* submit_sm sent again (throttled, or session lost before its resp) */
	uint64_t segs_accepted;		  /* submit_sm_resp ESME_ROK */
	uint64_t segs_rejected;		  /* a final error status (throttle gave up included) */
	uint64_t rejected_by_status[256]; /* by command_status (< 256) */
	uint64_t rejected_other_status;	  /* statuses >= 256 */
	uint64_t throttled;		  /* ESME_RTHROTTLED responses (each one retried or given up) */
	uint64_t throttle_gave_up;	  /* segments over throttle_retries_max */
	uint64_t resp_timeouts;		  /* no submit_sm_resp in time (not resent: may be accepted) */
	uint64_t requeued_closed;	  /* in flight when the session dropped: sent again */
	uint64_t receipts;		  /* deliver_sm with the receipt bit (all, answered) */
	uint64_t rcpt_delivered, rcpt_undeliverable, rcpt_expired, rcpt_other;
	uint64_t rcpt_intermediate; /* ENROUTE/ACCEPTED receipts: the message stays open */
	uint64_t rcpt_unknown;	    /* id matches no accepted part */
	uint64_t rcpt_duplicate;    /* a second final receipt for the same id */
	uint64_t rcpt_bad;	    /* receipt with no parsable id */
	uint64_t mo_received;	    /* deliver_sm that is not a receipt (answered OK) */
	uint64_t binds_ok, bind_failures, session_drops, rebinds, binds_given_up;
	uint64_t seg_recycled; /* receipted ids forgotten (seg_max newer ones kept): duplicates of those go unseen */
	struct sy_hist submit_resp; /* submit_sm -> submit_sm_resp, every response */
	struct sy_hist receipt;	    /* submit_sm -> final receipt */
};

struct esme;

/* Copies cfg (the pattern strings must outlive the esme) and allocates the
 * pools. SY_ERR_INVAL on a bad cfg, SY_ERR_NOMEM. Nothing is sent before
 * esme_start(). */
enum sy_rc esme_create(const struct sy_env *env, const struct esme_cfg *cfg, struct esme **out);
/* Binds every session and starts arrivals. */
void esme_start(struct esme *e);
/* Stops new arrivals; queued and in-flight parts still go out. */
void esme_stop(struct esme *e);
/* Stops arrivals and unbinds every session; no rebinds after this. */
void esme_unbind(struct esme *e);
const struct esme_stats *esme_stats(const struct esme *e);
/* Bound sessions now. */
uint32_t esme_bound(const struct esme *e);
/* Parts queued or awaiting their submit_sm_resp (0 when the run drained). */
uint64_t esme_in_flight(const struct esme *e);

/* A message's numbers, drawn: a hook may rewrite them in place (the
 * simulator's SMS pumping walks a range, peers/attack.c). src and dst hold
 * cap bytes with the NUL. */
typedef void (*esme_numbers_fn)(void *arg, char *src, char *dst, size_t cap);
void esme_on_numbers(struct esme *e, esme_numbers_fn fn, void *arg);
/* One message now, beside the arrivals, from the same binds (so its
 * receipt finds it): drawn and queued like an arrival, with fn (called once,
 * now) picking its numbers. The simulator's SMS pumping through the
 * application's own account. */
void esme_inject(struct esme *e, esme_numbers_fn fn, void *arg);

/* Every accepted part still without a final receipt ('lost' accounting),
 * in record order (deterministic). Returns the count; fn may be NULL. */
typedef void (*esme_id_fn)(void *arg, struct sy_str message_id, uint64_t msg_no, uint32_t part);
uint64_t esme_each_unreceipted(const struct esme *e, esme_id_fn fn, void *arg);

void esme_destroy(struct esme *e);

#endif
