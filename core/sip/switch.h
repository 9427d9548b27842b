/* switch.h: one voice switch node assembled from its configuration
 * (struct switch_cfg: carriers and the prefix route table, the B2BUA's
 * timers and pools; core/conf/node.h fills it from a config file), with
 * billing (callbill.h) and the CDR store in the output folder. `serve` runs
 * it on the live backend, `sim` on a simulated node: the same code either
 * way. */
#ifndef SY_SIP_SWITCH_H
#define SY_SIP_SWITCH_H

#include "b2bua.h"
#include "core/billing/callbill.h"
#include "core/route/route.h"

#define SWITCH_NAME_MAX 32
#define SWITCH_ADDR_MAX 64
#define SWITCH_PATH_MAX 256
#define SWITCH_CARRIERS_MAX 64
#define SWITCH_PREFIXES_MAX 64 /* per carrier */
#define SWITCH_PREFIX_LEN_MAX 16

/* A voice carrier: where calls to its prefixes go. */
struct switch_carrier_cfg {
	char name[SWITCH_NAME_MAX];
	uint32_t line; /* in the config file, for messages */
	char prefixes[SWITCH_PREFIXES_MAX][SWITCH_PREFIX_LEN_MAX + 1]; /* digits only */
	uint32_t prefix_n;
	char address[SWITCH_ADDR_MAX]; /* "" = none configured */
	struct sy_addr addr;
	uint32_t capacity; /* max concurrent calls; 0 = unlimited */
	int32_t priority;  /* lower is tried first */
};

/* The switch's own configuration. */
struct switch_cfg {
	char source[SWITCH_PATH_MAX]; /* the config file, for messages */
	struct switch_carrier_cfg carriers[SWITCH_CARRIERS_MAX];
	uint32_t carrier_n;
	uint64_t invite_timeout_ns; /* no 1xx from a carrier by then: next carrier */
	uint64_t ring_timeout_ns;   /* ringing this long: CANCEL, 480 to the caller */
	uint64_t max_call_ns;	    /* connected calls are ended after this */
	uint32_t session_expires_s; /* RFC 4028 session interval; 0 = no session timers */
	uint32_t min_se_s;	    /* least interval accepted from a caller (422 below) */
	uint32_t calls_max;	    /* 0 = auto */
	uint32_t txn_max;	    /* 0 = auto */
	uint64_t t1_ns;		    /* SIP T1 */
	struct sip_limits limits;   /* [node] sip_memory, overload_at, overload_lag, retry_after */
	struct sip_access_cfg access; /* [trunk], [user], [node] realm, auth_unknown, nonce_ttl, register_max */
	struct sip_pike_cfg pike;   /* [node] pike, pike_exempt */
	bool sync_full;		    /* [node] sync = full: CDR batches and ledger commits fsynced */
};

struct vswitch_cfg {
	const struct sy_env *env;
	const struct switch_cfg *sw;
	const struct billing_cfg *billing;
	struct sy_addr listen;	/* where the B2BUA binds */
	const char *out_dir;	/* CDR folder; NULL = no store */
	/* Carrier addresses: addrs[i] for sw->carriers[i] (the simulator
	 * gives its hosts' addresses; serve passes the configured ones). */
	const struct sy_addr *carrier_addrs;
	uint32_t calls_max;	/* 0 = from sw or a default */
	uint32_t txn_max;	/* 0 = from sw or 4 x calls_max */
	/* Billing holds beyond the calls': the USSD gateway's concurrent
	 * charged sessions (ussd_charged_sessions_max); 0 = none */
	uint32_t bill_sessions_max;
	uint64_t flush_every_ns; /* CDR batch flush interval; 0 = 200 ms */
	/* Extra CDR consumer (the simulator's metrics); may be NULL. */
	b2bua_cdr_fn on_cdr;
	void *cdr_arg;
	/* The node's fraud component (the node's assembly creates it and
	 * gives the same one to the SMSC); NULL = fraud off. */
	struct fraud *fraud;
};

/* The CDR buffer: CDRs the store could not take (a full or failing disk),
 * kept in order and written when the store takes them again. */
struct vswitch_disk_stats {
	uint64_t cdrs_buffered;	 /* CDRs that went through the buffer */
	uint64_t buffer_peak;	 /* most CDRs held at once */
	uint64_t buffer_now;	 /* gauge: held now */
	uint64_t calls_refused;	 /* INVITEs answered 503: no room for their CDR */
	uint64_t store_errors;	 /* failed flushes of the CDR store */
};

struct vswitch {
	const struct sy_env *env;
	struct b2bua *b2bua;
	struct route_table routes;
	struct b2bua_carrier carriers[SWITCH_CARRIERS_MAX];
	uint32_t carrier_n;
	struct cdr_store *store;
	struct callbill *bill; /* NULL without [account] sections */
	sy_timer_id flush_timer;
	uint64_t flush_every_ns;
	b2bua_cdr_fn on_cdr;
	void *cdr_arg;
	uint64_t cdrs_emitted, cdrs_store_errors;
	/* Ring of CDRs waiting for the store; cdr_buf_cap bounds the CDRs it
	 * may ever have to hold: those in it plus one per call in progress. */
	struct cdr *cdr_buf;
	uint32_t cdr_buf_cap, cdr_buf_head, cdr_buf_len;
	bool store_failing; /* the last flush failed: CDRs go to the ring */
	struct vswitch_disk_stats disk;
	struct sy_log_limit log_store; /* store failures: a line per 10 s */
	char ledger_path[SWITCH_PATH_MAX + 32]; /* "" without a store */
	char err[256];
};

/* What a crash took with it (vswitch_abandon). */
struct vswitch_crash {
	uint64_t calls_lost;	     /* calls in progress: no CDR, no end on this node */
	uint64_t cdrs_dropped;	     /* ended calls whose CDR was in the unflushed batch */
	uint64_t ledger_ops_dropped; /* billing operations in the uncommitted batch */
};

/* Builds the switch; on failure err says why (file:line when it is the
 * scenario's fault). */
enum sy_rc vswitch_create(const struct vswitch_cfg *cfg, struct vswitch **out, char *err, size_t errlen);
/* Flushes CDRs now (at shutdown, or before reporting). */
enum sy_rc vswitch_flush(struct vswitch *v);
/* Adds v's CDR-buffer counters to *sum (the report sums every instance). */
void vswitch_disk_add(struct vswitch_disk_stats *sum, const struct vswitch *v);
/* CDRs emitted but not durably stored (should be 0 after a flush). */
uint64_t vswitch_cdrs_lost(const struct vswitch *v);
uint64_t vswitch_cdrs_written(const struct vswitch *v);
void vswitch_destroy(struct vswitch *v);
/* kill -9: frees the switch WITHOUT flushing its CDR batch or committing its
 * ledger batch, so the files hold exactly what a killed process leaves.
 * out (may be NULL) says what was lost. */
void vswitch_abandon(struct vswitch *v, struct vswitch_crash *out);

#endif
