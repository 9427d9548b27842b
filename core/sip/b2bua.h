/* b2bua.h: the voice switch. An INVITE from the access side becomes a call
 * with two legs: the A leg (the caller's dialog, where we are the UAS) and
 * the B leg (our own dialog towards a carrier chosen by longest-prefix
 * routing). The B2BUA relays 1xx/2xx/final responses, ACK, BYE and CANCEL
 * between them, maps failures (404 no route, 503 no capacity, 408 timeout,
 * carrier codes passed on), fails over to the next carrier on 5xx/timeout,
 * and emits one CDR per call attempt. Calls come from a pool sized at
 * start; an exhausted pool answers 503 (overload), never crashes. */
#ifndef SY_SIP_B2BUA_H
#define SY_SIP_B2BUA_H

#include "core/billing/callbill.h"
#include "core/fraud/fraud.h"
#include "core/metrics/hist.h"
#include "core/store/cdr.h"
#include "auth.h"
#include "pike.h"
#include "txn.h"

#define B2BUA_CARRIER_NAME_MAX 32
#define B2BUA_ROUTE_MAX 8 /* carriers tried per call, in route order */

struct b2bua_carrier {
	char name[B2BUA_CARRIER_NAME_MAX];
	struct sy_addr addr;
	uint32_t capacity; /* concurrent calls; 0 = unlimited */
	/* runtime, updated by the B2BUA */
	uint32_t active;
	uint64_t attempts, answered, failed, timeouts;
};

/* Fills ids[] (indexes into the carrier array, best first) for a number
 * of digits; returns how many. 0 means no route. */
typedef uint32_t (*b2bua_route_fn)(void *arg, struct sy_str number, uint16_t *ids, uint32_t max);
typedef void (*b2bua_cdr_fn)(void *arg, const struct cdr *cdr);

struct b2bua_cfg {
	const struct sy_env *env;
	struct sy_addr listen; /* SIP/UDP address, also advertised in Via/Contact */
	uint32_t calls_max;
	uint32_t txn_max;
	struct sip_limits limits; /* the SIP stack's memory limit and overload thresholds */
	struct sip_timer_cfg timers;
	struct b2bua_carrier *carriers; /* owned by the caller; active counts updated here */
	uint32_t carriers_n;
	b2bua_route_fn route;
	void *route_arg;
	b2bua_cdr_fn on_cdr; /* may be NULL */
	void *cdr_arg;
	bool failover;	     /* try the next carrier on 5xx / timeout (the switch sets true) */
	uint64_t max_call_ns; /* a connected call is ended after this long; 0 = never */
	uint32_t session_expires_s; /* RFC 4028 session interval we ask for; 0 = no session timers */
	uint32_t min_se_s;	    /* the least we accept from a caller (422 below it) */
	uint64_t invite_timeout_ns; /* no 1xx from the carrier: try the next; 0 = timer B only */
	uint64_t ring_timeout_ns;   /* ringing too long: CANCEL, 480 to the caller; 0 = never */
	uint64_t cdr_id_base; /* CDR ids continue after this (the store's last id) */
	struct callbill *bill; /* real-time billing; NULL = calls are not charged */
	/* Who may call (trunks, digest users, the registrar's limits); NULL
	 * is an empty list: every INVITE is refused (default deny). */
	const struct sip_access_cfg *access;
	/* Optional: asked before a new call is created; false answers 503
	 * with no call and no CDR (the switch: no room for its CDR). */
	bool (*admit)(void *arg);
	void *admit_arg;
	/* Per-source request rate limit before parsing ([node] pike,
	 * pike_exempt); the carriers' addresses are exempt too. */
	struct sip_pike_cfg pike;
	/* Fraud detection (core/fraud/fraud.h), shared with the node's SMSC;
	 * NULL = off: no call is asked about, nothing else changes. */
	struct fraud *fraud;
};

/* Why an in-dialog request found no call (st.dlg_refused, each 481). */
enum b2bua_refusal {
	B2BUA_REFUSED_NO_DIALOG = 0, /* no call has its Call-ID */
	B2BUA_REFUSED_TAG,	     /* the Call-ID is known, its tags are not */
	B2BUA_REFUSED_SOURCE,	     /* right tags from the wrong transport source */
	B2BUA_REFUSED_N,
};

struct b2bua_stats {
	uint64_t invites;	 /* initial INVITEs received */
	uint64_t attempts;	 /* calls created (INVITE accepted into the pool) */
	uint64_t answered;	 /* 200 relayed to the caller */
	uint64_t completed;	 /* answered calls that ended with a BYE */
	uint64_t failed;	 /* final non-2xx sent to the caller */
	uint64_t no_route;	 /* 404 for lack of a route */
	uint64_t congestion;	 /* 503: pool full or no carrier capacity */
	uint64_t cancelled;	 /* CANCEL from the caller */
	uint64_t timeouts;	 /* carrier sent nothing (invite timeout or timer B) */
	uint64_t ring_timeouts;	 /* carrier rang too long: cancelled, 480 */
	uint64_t failovers;	 /* B legs retried on the next carrier */
	uint64_t ack_timeouts;	 /* 2xx never ACKed by the caller */
	uint64_t cdrs;		 /* CDRs emitted */
	uint64_t active;	 /* calls in the pool now */
	uint64_t active_peak;
	uint64_t stray;		 /* in-dialog requests for unknown dialogs (481) */
	uint64_t stray_2xx;	 /* 2xx for calls we gave up: ACKed and ended with BYE */
	uint64_t bill_declined;	 /* INVITEs refused by billing (402/403) */
	uint64_t bill_cutoffs;	 /* calls ended because the money ran out */
	uint64_t refreshes;	 /* session refreshes (UPDATE) we sent */
	uint64_t session_expired; /* calls ended: a refresh failed or none came */
	uint64_t bye_timeouts;	 /* BYEs of ours that got no answer (timer F) */
	uint64_t too_small;	 /* 422 Session Interval Too Small sent to callers */
	uint64_t relayed;	 /* re-INVITEs and UPDATEs (with a body) relayed to the other leg */
	uint64_t dlg_refused[B2BUA_REFUSED_N]; /* in-dialog requests matching no call, by reason */
	uint64_t stray_2xx_limited; /* stray 2xx left unanswered: past the rate of ACK+BYE replies */
	uint64_t pike_limited;	    /* sources blocked for their request rate ([node] pike) */
	uint64_t pike_dropped;	    /* requests dropped unparsed: their source blocked */
	uint64_t pike_tracked;	    /* gauge: sources in pike's table */
	uint32_t final_by_code[700]; /* final status sent to callers */
	struct sy_hist pdd;	 /* INVITE in -> first 18x (or final) out */
	struct sy_hist setup;	 /* INVITE in -> 200 out */
};

struct b2bua;

enum sy_rc b2bua_create(const struct b2bua_cfg *cfg, struct b2bua **out);
void b2bua_destroy(struct b2bua *b);
const struct b2bua_stats *b2bua_stats(const struct b2bua *b);
struct sip_stack *b2bua_stack(struct b2bua *b);
/* Authentication and registrar counters (auth.h). */
const struct sip_auth_stats *b2bua_auth_stats(const struct b2bua *b);
/* Shutdown: ends every call in every state (connected: BYE on both legs;
 * in setup: 503 and CANCEL; cancelled and waiting for the carrier: ended
 * as it is), each with its CDR and its billing closed. */
void b2bua_hangup_all(struct b2bua *b);
/* Client transactions still waiting for a final response (the BYEs and
 * CANCELs hangup_all sent): serve keeps its loop running until none are
 * left, or its shutdown grace is over. */
uint64_t b2bua_requests_pending(const struct b2bua *b);

#endif
