/* fraud.h: in-path fraud detection, consulted on every INVITE and every
 * SMS submit (issue 12). One component per node, single-threaded like the
 * rest of the core, deterministic (time from sy_env_now_ns, hash seeds from
 * sy_env_random), bounded memory fixed at create.
 *
 * Detectors, each giving an action and a reason:
 *   IRSF      calls to risky destination ranges (ranges.h): a blocked class,
 *             per-account calls and spend to risky ranges per window, bursts
 *             of distinct numbers in one range, long calls to premium ranges
 *             (checked while the call runs: fraud_call_check).
 *   Wangiri   floods of short/unanswered calls from one source range to many
 *             subscribers (wangiri.h); then calls *to* that range are refused
 *             for callback_ns (callback protection).
 *   SMS pump  bursts to sequential numbers, a destination prefix's rate far
 *             above its own moving baseline, a low delivery-receipt ratio per
 *             prefix (smspump.h).
 *   Velocity  per account: calls per window, concurrent calls, spend per
 *             window, new destinations per window.
 *   Caller-ID malformed or unallocatable caller numbers, caller == callee, a
 *             customer presenting numbers outside its own prefixes.
 *
 * Decisions: allow, flag (recorded with the reason in the CDR/MDR), throttle
 * (SIP 503 + Retry-After / ESME_RTHROTTLED), block (SIP 403 with a Reason
 * header / an SMPP error status). The strongest action of all detectors
 * wins; on a tie the first detector in enum order. A running call whose
 * check says block is torn down (BYE on both legs).
 *
 * Per-account thresholds come from rules (`[fraud-rule NAME]`) chosen by the
 * account's class (`[account] fraud_class`); an account with no class uses
 * the rule named "default" (or, without one, no per-account limits).
 *
 * Modes: enforce (the decision is applied) or monitor (every decision is
 * computed, counted and recorded, but a block or throttle is applied as a
 * flag): how an operator tries a new rule set on live traffic. */
#ifndef SY_FRAUD_FRAUD_H
#define SY_FRAUD_FRAUD_H
#include "core/env.h"
#include "core/fraud/numcheck.h"
#include "core/fraud/ranges.h"

#define FRAUD_NAME_MAX	   32  /* rule, class and account names, with the NUL */
#define FRAUD_RULES_MAX	   16  /* [fraud-rule] sections */
#define FRAUD_ACCOUNTS_MAX 256 /* accounts with a class or own numbers */
#define FRAUD_OWN_MAX	   16  /* own number prefixes per account */
#define FRAUD_REASON_MAX   120 /* "detector.check: detail", with the NUL */
#define FRAUD_PATH_MAX	   256

enum fraud_action {
	FRAUD_ALLOW = 0,
	FRAUD_FLAG,	/* allowed, recorded with the reason */
	FRAUD_THROTTLE, /* refused for now: 503 + Retry-After / ESME_RTHROTTLED */
	FRAUD_BLOCK,	/* refused: 403 + Reason / SMPP error; a running call is torn down */
	FRAUD_ACTION_COUNT
};
/* "allow", "flag", "throttle", "block". */
const char *fraud_action_name(enum fraud_action a);
bool fraud_action_parse(struct sy_str s, enum fraud_action *out);

enum fraud_detector {
	FRAUD_DET_NONE = 0,
	FRAUD_DET_IRSF,
	FRAUD_DET_WANGIRI,
	FRAUD_DET_SMS_PUMP,
	FRAUD_DET_VELOCITY,
	FRAUD_DET_CALLERID,
	FRAUD_DET_COUNT
};
/* "none", "irsf", "wangiri", "sms_pump", "velocity", "callerid". */
const char *fraud_detector_name(enum fraud_detector d);

/* One threshold: more than max in window_ns -> action. max == 0 is off.
 * For concurrent calls window_ns is unused; for spend max is in micros. */
struct fraud_limit {
	uint64_t max;
	uint64_t window_ns;
	enum fraud_action action;
};

/* [fraud-rule NAME]: per-account thresholds for one account class. */
struct fraud_rule_cfg {
	char name[FRAUD_NAME_MAX];
	uint32_t line; /* in the config file, for messages */
	/* velocity */
	struct fraud_limit calls;	 /* calls begun per window */
	struct fraud_limit concurrent;	 /* calls in progress (window unused) */
	struct fraud_limit spend;	 /* rated cost (micros) of ended calls per window */
	struct fraud_limit new_dest;	 /* destinations not called in the last window, per window */
	/* IRSF */
	enum fraud_risk risk_min;	 /* a destination at least this risky counts (default high) */
	struct fraud_limit risky_calls;	 /* calls to risky ranges per window */
	struct fraud_limit risky_spend;	 /* cost (micros) of calls to risky ranges per window */
	struct fraud_limit range_burst;	 /* distinct numbers in one risky range per window */
	enum fraud_action blocked_class; /* a destination of class blocked (default block) */
	uint64_t premium_max_ns;	 /* a call to a premium range longer than this ... (0 = off) */
	enum fraud_action premium_action; /* ... gets this (block = torn down) */
	/* caller-ID */
	enum fraud_action cli_malformed; /* malformed or unallocatable caller number */
	enum fraud_action cli_same;	 /* caller == callee */
	enum fraud_action cli_foreign;	 /* caller outside the account's own prefixes (when it has any) */
	/* SMS, per account */
	struct fraud_limit sms;		 /* messages per window */
};

/* [account NAME] fraud_class, numbers: which rule applies, which caller
 * numbers the customer owns. */
struct fraud_account_cfg {
	char name[FRAUD_NAME_MAX];
	int32_t rule; /* index into rules[]; -1 = the default rule */
	char own[FRAUD_OWN_MAX][FRAUD_NUM_MAX + 2];
	uint32_t own_n;
};

/* Wangiri: global, keyed by the caller number's source range. */
struct fraud_wangiri_cfg {
	bool on;
	uint32_t source_digits;	   /* a source range = the caller's first N digits (default 8) */
	uint64_t short_ns;	   /* "short": unanswered and ended within this, or answered for less (default 5 s) */
	struct fraud_limit flood;  /* short calls from one source range per window (default 30 / 60 s, block) */
	uint32_t distinct_min;	   /* ... to at least this many distinct callees (default 20) */
	uint64_t callback_ns;	   /* calls to a flooding range are refused for this long (default 24 h) */
	enum fraud_action callback; /* what a call to it gets (default block) */
	uint32_t ranges_max;	   /* source ranges tracked (default 65,536) */
};

/* SMS pumping: per destination block and prefix, global. */
struct fraud_sms_cfg {
	bool on;
	uint32_t seq_digits;	  /* a sequential block = the number without its last N digits (default 3) */
	struct fraud_limit seq;	  /* messages from one account to one block per window (default 20 / 60 s, block) */
	uint32_t prefix_digits;	  /* a destination prefix for the baseline (default 5) */
	struct fraud_limit surge; /* window = the baseline's step; max = least messages per step before it can fire */
	uint32_t surge_factor_pct; /* fire above this % of the prefix's moving baseline (default 500) */
	uint32_t baseline_steps;   /* the moving average's length in steps (default 60) */
	struct fraud_limit dlr;	   /* window for the receipt ratio; max = least receipts before it can fire */
	uint32_t dlr_min_pct;	   /* fire when delivered/receipts is below this % (default 20) */
	uint32_t prefixes_max;	   /* destination prefixes and blocks tracked (default 65,536) */
};

/* Alerts: on_alert is called for blocks (and teardowns) within this rate;
 * serve POSTs each as JSON to url (core/live/webhook.c). */
struct fraud_alert_cfg {
	uint32_t per_s;	  /* alerts per second at most (token bucket; default 10) */
	uint32_t burst;	  /* default 20 */
	char url[FRAUD_PATH_MAX]; /* "http://host:port/path"; "" = no webhook */
	uint64_t timeout_ns;	  /* per POST (default 2 s) */
};

/* A decision as observed (sim's evaluator, serve's webhook). */
enum fraud_kind { FRAUD_KIND_CALL = 0, FRAUD_KIND_SMS, FRAUD_KIND_MIDCALL };
struct fraud_decision;
struct fraud_event {
	enum fraud_kind kind;
	const struct fraud_decision *d;
	struct sy_str account, caller, callee; /* as given (not normalised) */
	struct sy_str call_id;		       /* calls; empty for SMS */
	uint64_t now_ns, wall_ns;
};
typedef void (*fraud_event_fn)(void *arg, const struct fraud_event *ev);

struct fraud_cfg {
	bool on;	  /* [fraud] enabled = yes; off: fraud_create is not called */
	bool monitor;	  /* mode = monitor: block and throttle are applied as flag */
	char ranges_path[FRAUD_PATH_MAX]; /* "" = no ranges (IRSF sees nothing risky) */
	uint32_t ranges_line;		  /* for messages */
	struct fraud_num_cfg num;	  /* intl_prefix */
	uint64_t accounts_max;		  /* tracked accounts (default 100,000) */
	uint32_t bursts_max;		  /* (account, risky range) pairs for range_burst (default 65,536) */
	uint32_t retry_after_s;		  /* throttle's Retry-After (default 60) */
	uint16_t block_sip;		  /* default 403 */
	uint32_t block_smpp;		  /* default 0x45 ESME_RSUBMITFAIL */
	struct fraud_rule_cfg rules[FRAUD_RULES_MAX];
	uint32_t rule_n;
	int32_t default_rule; /* index of the rule named "default", or -1 */
	struct fraud_account_cfg accounts[FRAUD_ACCOUNTS_MAX];
	uint32_t account_n;
	struct fraud_wangiri_cfg wangiri;
	struct fraud_sms_cfg sms;
	struct fraud_alert_cfg alert;
};

/* Fills the defaults above (on = false; no rules). */
void fraud_cfg_defaults(struct fraud_cfg *cfg);
/* A new rule's defaults: every limit off, risk_min high, blocked_class
 * block, premium_action block, caller-ID checks off. */
void fraud_rule_defaults(struct fraud_rule_cfg *r);

/* What to do with one call or message. */
struct fraud_decision {
	enum fraud_action action;     /* applied (monitor mode: at most flag) */
	enum fraud_action verdict;    /* what the detectors said */
	enum fraud_detector detector; /* behind the verdict; NONE when allow */
	uint32_t fired;		      /* bit (1 << detector) per detector at flag or more */
	uint16_t sip_status;	      /* block: block_sip; throttle: 503; else 0 */
	uint16_t retry_after_s;	      /* throttle */
	uint32_t smpp_status;	      /* block: block_smpp; throttle: ESME_RTHROTTLED; else 0 */
	char reason[FRAUD_REASON_MAX]; /* "irsf.risky_calls: 11 calls in 600s to high +882 (...)"; "" on allow */
};

/* The per-call state the caller keeps with the call (the B2BUA's call):
 * what the call's later events need. Zeroed is "not begun". */
struct fraud_call {
	uint64_t acct_key;   /* the account's key in the tracked table */
	uint64_t dest_key;   /* the callee (normalised) hashed */
	uint64_t src_key;    /* the caller's source range hashed (Wangiri) */
	uint64_t begin_ns;
	uint64_t answer_ns;
	int32_t rule;	     /* the rule in force for the account; -1 none */
	uint32_t range;	     /* risky range entry index + 1; 0 = none */
	uint8_t risk;	     /* enum fraud_risk of the callee */
	bool begun, counted; /* counted: in the account's concurrent calls */
	uint16_t ranges_gen; /* ranges generation at begin (a reload mid-call keeps the old class) */
	/* Added by the engine (issue 12): whether the call went on (only those
	 * feed Wangiri at their end), and the numbers for the running-call
	 * check's reason and event (no strings are kept by the caller). */
	bool proceeded;			/* allow or flag applied */
	char caller[FRAUD_NUM_MAX + 1]; /* normalised, cut at FRAUD_NUM_MAX */
	char callee[FRAUD_NUM_MAX + 1];
};

/* A new call (every INVITE that passed authentication). */
struct fraud_call_req {
	struct sy_str account; /* the billed account; "" = none (then keyed by trunk/user name) */
	struct sy_str who;     /* the trunk's or user's name (for messages) */
	struct sy_str caller, callee, call_id;
};

/* How a call ended, for velocity (spend, concurrent) and Wangiri. */
struct fraud_call_end {
	bool answered;
	bool by_caller;	      /* cancelled or hung up by the caller */
	uint64_t ring_ns;     /* begin -> answer, or begin -> end when unanswered */
	uint64_t duration_ns; /* answer -> end; 0 unanswered */
	int64_t cost_micros;  /* rated cost; 0 unknown */
};

/* SMS: one submit_sm / data_sm / POST /sms. */
struct fraud_sms_req {
	struct sy_str account, from, to;
	uint32_t segments;
};

/* Counters (core/fraud/fraud_counters.c). */
struct fraud_stats {
	uint64_t decisions;		      /* calls and messages decided */
	uint64_t by_action[FRAUD_ACTION_COUNT]; /* applied actions */
	uint64_t fired[FRAUD_DET_COUNT];	/* decisions where a detector reached flag or more */
	uint64_t blocked_by[FRAUD_DET_COUNT];	/* verdict block, by the deciding detector */
	uint64_t teardowns;		      /* running calls ended by a check */
	uint64_t checks;		      /* running-call checks */
	uint64_t alerts, alerts_suppressed;   /* on_alert calls; blocks past the alert rate */
	uint64_t ranges_reloads, ranges_reload_failed;
	uint64_t wangiri_sources;	      /* source ranges under callback protection now (gauge) */
	uint64_t accounts_tracked, accounts_evicted;
	uint64_t bytes;			      /* memory held (gauge) */
};

struct fraud;

/* Builds the component: loads the ranges file through env (errors name
 * file:line), sizes every table. The observers may be NULL: on_decision
 * sees every decision (allow included), on_alert every block within the
 * alert rate. */
enum sy_rc fraud_create(const struct sy_env *env, const struct fraud_cfg *cfg, fraud_event_fn on_decision,
			fraud_event_fn on_alert, void *arg, struct fraud **out, char *err, size_t errlen);
void fraud_destroy(struct fraud *f);

/* Reloads the ranges file (SIGHUP in serve): the new table is used by new
 * calls, running calls keep the one they began with; on error the old one
 * stays and err says why. */
enum sy_rc fraud_reload_ranges(struct fraud *f, char *err, size_t errlen);

/* A new call: decides and fills *st. Call fraud_call_end for every call
 * begun, whatever the decision. */
void fraud_call_begin(struct fraud *f, const struct fraud_call_req *rq, struct fraud_call *st,
		      struct fraud_decision *d);
/* The call was answered: returns the delay until fraud_call_check is due
 * (UINT64_MAX: never). */
uint64_t fraud_call_answered(struct fraud *f, struct fraud_call *st);
/* A running call's check: d->action BLOCK = end the call now. Returns the
 * delay until the next check (UINT64_MAX: none). */
uint64_t fraud_call_check(struct fraud *f, struct fraud_call *st, struct fraud_decision *d);
void fraud_call_end(struct fraud *f, struct fraud_call *st, const struct fraud_call_end *e);

/* An SMS submit: decides. */
void fraud_sms_submit(struct fraud *f, const struct fraud_sms_req *rq, struct fraud_decision *d);
/* A delivery receipt for a message to `to` sent through carrier (the
 * route): feeds the receipt ratio per route and destination prefix. */
void fraud_sms_receipt(struct fraud *f, struct sy_str carrier, struct sy_str to, bool delivered);

const struct fraud_stats *fraud_stats(const struct fraud *f);
#endif
