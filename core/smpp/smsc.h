/* smsc.h: the SMSC engine. Accepts submit_sm/data_sm from ESMEs (accounts,
 * TPS buckets), stores each message durably (smsq group commit) before the
 * submit_sm_resp, routes by longest destination prefix to upstream SMPP
 * carriers (binds, windows, round-robin, failover, retry with backoff),
 * matches their receipts, writes MDRs and returns receipts to the ESME.
 * Written only against the env seam: the same code runs in sim and serve. */
#ifndef SY_SMPP_SMSC_H
#define SY_SMPP_SMSC_H

#include "core/env.h"
#include "core/fraud/fraud.h"
#include "core/metrics/hist.h"
#include "core/sec/limit.h"

/* SMPP 5.0 status for an unsupported data_coding (3.4 has none). */
#define SMSC_ESME_RINVDCS 0x00000104u
/* Status for a destination no route covers (documented choice). */
#define SMSC_STATUS_NO_ROUTE ESME_RINVDSTADR

#define SMSC_NAME_MAX 32
#define SMSC_SECRET_MAX 160 /* a $pbkdf2-sha256$ string fits */
#define SMSC_ADDR_MAX 64
#define SMSC_CARRIERS_MAX 32
#define SMSC_PREFIXES_MAX 64 /* per carrier */
#define SMSC_PREFIX_LEN_MAX 16
#define SMSC_PATH_MAX 256 /* store_dir */
#define SMSC_FWD_ID_MAX 65 /* a carrier's message id a receipt may be forwarded with */

/* An ESME account: SMPP credentials and its submit rate. */
struct smsc_account_cfg {
	char name[SMSC_NAME_MAX];	/* system_id */
	char password[SMSC_SECRET_MAX]; /* bind password: clear, $pbkdf2-sha256$ or $sha256$ (core/sec/secret.h) */
	uint32_t tps;			/* submit_sm per second; 0 = unlimited */
	uint32_t count;			/* > 1: a group of callers, not an SMPP account (skipped) */
	bool smpp;			/* may bind over SMPP (needs a password); default no */
	uint32_t binds;			/* sessions bound at once; 0 = 8 */
};


/* An upstream SMSC the node binds to, and the destinations it takes. */
struct smsc_carrier_cfg {
	char name[SMSC_NAME_MAX];
	char prefixes[SMSC_PREFIXES_MAX][SMSC_PREFIX_LEN_MAX + 1]; /* digits only */
	uint32_t prefix_n;
	int32_t priority;	     /* failover order: lower first */
	char address[SMSC_ADDR_MAX]; /* "" = none configured */
	struct sy_addr addr;	     /* where to bind */
	char system_id[16];
	char password[9];
	uint32_t binds;	 /* sessions to keep bound; default 1 */
	uint32_t window; /* outstanding submit_sm per bind; default 100 */
};

/* Zero fields take the defaults given. */
struct smsc_cfg {
	const struct sy_env *env;	    /* required */
	struct sy_addr listen;		    /* ESME listen address; port 0 = do not listen */
	const struct smsc_account_cfg *accounts; /* count > 1 groups skipped */
	uint32_t account_n;
	const struct smsc_carrier_cfg *carriers;
	uint32_t carrier_n;
	const char *store_dir;	      /* DIR/smsq/ (segment log) + DIR/mdrs.*; NULL = queue in memory, no MDR files */
	uint32_t msgs_max;	      /* messages in memory (in flight) (default 65536) */
	uint32_t sessions_max;	      /* ESME sessions (default 64) */
	uint32_t esme_window;	      /* unanswered submit_sm per ESME session (default 1000) */
	uint32_t dlr_window;	      /* our outstanding deliver_sm per ESME session (default 100) */
	uint32_t carrier_queue_max;   /* per-carrier FIFO waiting for window (default 10000) */
	uint32_t attempts_max;	      /* upstream attempts before UNDELIVERABLE (default 5) */
	uint64_t retry_base_ns;	      /* first backoff (default 1 s), doubling */
	uint64_t retry_cap_ns;	      /* backoff cap (default 60 s) */
	uint64_t commit_interval_ns;  /* group commit period (default 5 ms) */
	uint64_t validity_default_ns; /* when submit_sm gives none (default 24 h) */
	uint64_t receipt_grace_ns;    /* wait for a carrier receipt past validity (default 10 s) */
	uint64_t upstream_timeout_ns; /* submit_sm_resp due from carriers (default 10 s) */
	uint64_t reconnect_min_ns;    /* carrier rebind backoff (default 500 ms) */
	uint64_t reconnect_max_ns;    /* (default 30 s) */
	uint64_t enquire_interval_ns; /* keepalive on all links (default 30 s) */
	uint32_t reasm_max;	      /* concatenation records (default 4096) */
	uint64_t reasm_ttl_ns;	      /* a record is forgotten after (default 10 min) */
	uint32_t http_max;	      /* smsc_submit_text() calls awaiting their commit (default 256) */
	uint32_t big_max;	      /* in-memory bodies over 254 octets (default 1024) */
	const char *system_id;	      /* ours in bind_resp (default "switchyard") */
	struct sy_bind_guard guard; /* who may bind, how fast a source may fail (smsc_bind.c) */
	/* Rates one message part to dst for the account (the MDR's cost);
	 * NULL: MDRs carry cost 0. */
	int64_t (*rate)(void *arg, const char *account, struct sy_str dst, uint64_t wall_ns);
	void *rate_arg;
	bool sync_full;		      /* fsync every commit */
	/* Fraud detection (core/fraud/fraud.h), the node's one component,
	 * shared with the B2BUA; NULL = off. */
	struct fraud *fraud;
	/* One SMSC per core ([node] nodes = N, core/smpp/smsc_cluster.h):
	 * this instance's index and the count; node_n 0 or 1 = alone (the
	 * hooks are then never called). */
	uint32_t node_self, node_n;
	const struct smsc_node_ops *node_ops;
	void *node_arg;
};

/* A carrier receipt an instance found no message for, on its way to the
 * next instance (smsc_receipt_forwarded()). */
struct smsc_fwd_receipt {
	uint32_t carrier; /* index in smsc_cfg.carriers (the same on every instance) */
	uint32_t err;
	uint32_t hops; /* instances that looked already */
	uint32_t seq;  /* the deliver_sm to answer, on the instance that received it */
	uint64_t sess; /* its session there, the instance in bits 24..31 (smsc_cluster.c) */
	uint8_t state; /* SMPP message_state */
	uint8_t id_len;
	char id[SMSC_FWD_ID_MAX]; /* the carrier's message id (longer ones are not forwarded) */
};

/* What an instance asks of the cluster it runs in (the simulator or serve). */
struct smsc_node_ops {
	/* An ESME stream whose bind names an account of instance `to`: move
	 * it there and call smsc_adopt() on that instance with the bytes (valid
	 * during the call only). This instance has let go of the stream. */
	void (*handoff)(void *arg, uint32_t to, struct sy_stream *st, const uint8_t *pdu, size_t pdu_len,
			const uint8_t *rest, size_t rest_len);
	/* Deliver r to instance `to` (copy it), which calls
	 * smsc_receipt_forwarded(). The carrier was answered already. */
	void (*forward)(void *arg, uint32_t to, const struct smsc_fwd_receipt *r);
	/* Answer deliver_sm seq on session sess of instance `to` (the one that
	 * received a forwarded receipt): smsc_receipt_ack() there. */
	void (*ack)(void *arg, uint32_t to, uint64_t sess, uint32_t seq);
};

struct smsc_stats {
	uint64_t submitted;			/* submit_sm/data_sm that reached the SMSC (not throttled) */
	uint64_t accepted;			/* answered ESME_ROK (after the commit) */
	uint64_t rejected;			/* answered with an error status */
	uint64_t rejected_by_status[256];	/* by status (& 0xFF; RINVDCS counts at 0x04) */
	uint64_t throttled;			/* ESME_RTHROTTLED by the account buckets */
	uint64_t messages, segments;		/* logical messages (first part seen) and parts */
	uint64_t messages_complete;		/* concatenated messages with every part seen */
	uint64_t reasm_evicted;			/* records dropped before completion (table full or old) */
	uint64_t routed[SMSC_CARRIERS_MAX]; /* submit_sm sent per carrier (attempts) */
	uint64_t upstream_ok, upstream_retries, upstream_perm_errors;
	uint64_t receipts_in, receipts_unknown, mo_dropped;
	uint64_t receipts_early; /* receipts held until their submit_sm_resp arrived */
	uint64_t delivered, undeliverable, expired, rejected_final;
	uint64_t dlr_sent;    /* receipts acknowledged by the ESME */
	uint64_t dlr_pending; /* gauge: receipts owed, waiting for an ESME bind or window */
	uint64_t dlr_errors;  /* receipts answered with an error or lost; sent again */
	uint64_t mdrs;	      /* MDRs written */
	uint64_t recovered, recovered_dlr, recover_backlog;
	/* recovered with no durable upstream id, so sent again with the same
	 * key: the at-least-once window of a crash. A carrier that does not
	 * deduplicate delivers twice those of them it had already accepted. */
	uint64_t recovered_resent;
	uint64_t store_commits, store_errors, store_full;
	uint64_t refused_disk; /* submits answered ESME_RTHROTTLED: the store was failing */
	uint64_t mdr_errors;   /* MDR adds or flushes the disk refused (retried, never dropped) */
	uint64_t in_flight;			       /* gauge: messages in memory */
	uint64_t carrier_bound[SMSC_CARRIERS_MAX]; /* gauge: bound sessions per carrier */
	uint64_t http_submitted;
	/* ESME binds (smsc_bind.c) */
	uint64_t binds_ok;
	uint64_t bind_failures;	     /* binds refused: unknown id, bad password, no SMPP access, blocked source */
	uint64_t bind_checks;	     /* secrets checked (a dummy one for unknown ids: same cost) */
	uint64_t binds_over_cap;     /* right password, but the account's binds were all in use */
	uint64_t bind_closed_fails;  /* streams closed after bind_fails_max failures */
	uint64_t bind_timeouts;	     /* streams closed for not binding in time */
	uint64_t conns_refused_source; /* streams refused: the source's connection cap */
	uint64_t conns_refused_blocked; /* streams refused: the source was backing off */
	uint64_t sources_blocked;    /* failed binds that (re)blocked their source */
	int64_t revenue_micros; /* rated cost of the MDRs written */
	uint64_t fraud_blocked;	/* submits refused by fraud (block: its status) */
	uint64_t fraud_throttled; /* submits answered ESME_RTHROTTLED by fraud */
	struct sy_hist submit_resp; /* submit_sm received -> submit_sm_resp sent */
};

struct smsc;

/* Opens the store, recovers (smsq.h protocol), listens, binds to carriers.
 * On failure *out is NULL and err says why. */
enum sy_rc smsc_create(const struct smsc_cfg *cfg, struct smsc **out, char *err, size_t errlen);
/* Graceful: commits the pending batch (its callbacks run) and flushes MDRs. */
enum sy_rc smsc_flush(struct smsc *s);
/* Frees everything WITHOUT committing the pending batch (as a crash would
 * lose it); call smsc_flush() first for a clean stop. s may be NULL. */
void smsc_destroy(struct smsc *s);
/* Updates the gauges and returns the counters. */
const struct smsc_stats *smsc_stats(struct smsc *s);
/* Carrier index by name, or -1 (for stats.routed[]). */
int smsc_carrier_index(const struct smsc *s, const char *name);

/* HTTP submit (POST /sms): the caller checked the account's token. Encodes
 * GSM7 when every character fits, else UCS2, splits long text with UDH, stores
 * every part, and calls done(arg, rc, first id, parts) once all are durable
 * (rc SY_OK) or failed. Returns SY_OK when done will be called;
 * SY_ERR_NOTFOUND unknown account, SY_ERR_INVAL bad number/text or over 255
 * parts, SY_DECLINED no route, SY_ERR_FULL overload, SY_AGAIN over the
 * account's tps (done is not called). */
typedef void (*smsc_done_fn)(void *arg, enum sy_rc rc, uint64_t first_id, uint32_t parts);
struct smsc_text_req {
	const char *account;
	struct sy_str from, to, text; /* text: UTF-8 */
	bool dlr;		      /* receipt to the account's bound RX/TRX session */
	smsc_done_fn done;
	void *arg;
	/* Optional: the fraud decision, filled when fraud refused the
	 * message (then the call returns SY_ERR_STATE for block, SY_AGAIN
	 * for throttle). */
	struct fraud_decision *fraud;
};
enum sy_rc smsc_submit_text(struct smsc *s, const struct smsc_text_req *req);

/* ---- one SMSC per core (core/smpp/smsc_cluster.c) ---- */

/* The instance, of n, that serves system_id: FNV-1a of its bytes mod n. */
uint32_t smsc_node_of(struct sy_str system_id, uint32_t n);
/* Takes an ESME stream another instance accepted (node_ops.handoff). */
enum sy_rc smsc_adopt(struct smsc *s, struct sy_stream *st, const uint8_t *pdu, size_t pdu_len, const uint8_t *rest,
		      size_t rest_len);
/* A receipt another instance received and found no message for: applied
 * here as if received (no answer: it was given), else passed on to the next
 * instance, and after the last one handled as an unknown receipt. */
void smsc_receipt_forwarded(struct smsc *s, const struct smsc_fwd_receipt *r);
/* Answers a receipt this instance received and forwarded, once the
 * instance that holds its message has its final state durable. */
void smsc_receipt_ack(struct smsc *s, uint64_t sess, uint32_t seq);

struct smsc_node_stats {
	uint64_t binds_handed;	      /* ESME streams handed to their account's instance */
	uint64_t binds_adopted;	      /* ESME streams taken from another instance */
	uint64_t receipts_forwarded;  /* receipts passed to the next instance */
	uint64_t receipts_fwd_in;     /* forwarded receipts that reached this instance */
	uint64_t receipts_fwd_matched; /* of those, applied to one of this instance's messages */
};
const struct smsc_node_stats *smsc_node_stats(const struct smsc *s);
/* Sums for a cluster's report: t += a (counters, gauges and histograms). */
void smsc_stats_add(struct smsc_stats *t, const struct smsc_stats *a);
void smsc_node_stats_add(struct smsc_node_stats *t, const struct smsc_node_stats *a);
/* Its counters (core/metrics/counters.h), summed over the instances. */
struct sy_counter_table;
extern const struct sy_counter_table smsc_node_counters;


#endif
