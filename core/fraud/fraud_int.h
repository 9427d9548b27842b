/* fraud_int.h: the fraud component's inside, shared by its files:
 * fraud.c (create, reload, decisions and observers), fraud_call.c and
 * fraud_sms.c (the entry points), callerid.c, irsf.c and velocity.c (the
 * per-account detectors). Not for other components: they use fraud.h. */
#ifndef SY_FRAUD_FRAUD_INT_H
#define SY_FRAUD_FRAUD_INT_H
#include "core/fraud/cms.h"
#include "core/fraud/fraud.h"
#include "core/fraud/ftab.h"
#include "core/fraud/fwin.h"

/* Buckets per per-account window: a window of W is exact at W/4, so an
 * event leaves it between 3/4 W and W after it happened (fwin.h). Four
 * keeps a tracked account small (docs/fraud.md, "Engine and decisions"). */
#define FRAUD_WIN_BUCKETS 4u
#define FRAUD_ACCT_IDX	  512u /* slots of the account-name index, > 2 x FRAUD_ACCOUNTS_MAX */
#define FRAUD_BURSTS_DEF  65536u

/* The sliding windows an account's state may hold; each is present in the
 * blob only when some rule uses it. */
enum fraud_win {
	FRAUD_W_CALLS = 0,
	FRAUD_W_SPEND,
	FRAUD_W_RISKY_CALLS,
	FRAUD_W_RISKY_SPEND,
	FRAUD_W_NEW_DEST,
	FRAUD_W_SMS,
	FRAUD_W_COUNT
};

/* The head of an account's blob; its windows follow at f->win_off[]. */
struct fraud_acct {
	uint32_t concurrent; /* calls in progress (saturates at 0 after an eviction) */
	uint32_t pad;
};

/* One rule's window geometries (window_ns split into FRAUD_WIN_BUCKETS, or
 * fewer when it does not divide), plus the range-burst one. */
struct fraud_rule_rt {
	struct fraud_fwin_geom g[FRAUD_W_COUNT];
	struct fraud_fwin_geom burst;
};

struct fraud_acct_idx {
	uint64_t key; /* fraud_ftab_key of the account name; 0 = free */
	int32_t acct; /* index into cfg.accounts */
};

struct fraud {
	const struct sy_env *env;
	struct fraud_cfg cfg;
	fraud_event_fn on_decision, on_alert;
	void *arg;
	struct fraud_ranges_set ranges;
	struct fraud_ftab *accts;  /* account key -> struct fraud_acct + windows */
	struct fraud_ftab *bursts; /* (account, risky range) -> a window of new numbers */
	struct fraud_cms *dests;   /* (account, destination) pairs called lately: new_dest */
	struct fraud_cms *bdests;  /* the same for risky calls over the range_burst window */
	struct fraud_wangiri *wangiri;
	struct fraud_smspump *smspump;
	struct fraud_rule_rt rt[FRAUD_RULES_MAX];
	uint32_t win_off[FRAUD_W_COUNT]; /* byte offset in the blob; 0 = not kept */
	uint32_t blob;
	struct fraud_acct_idx idx[FRAUD_ACCT_IDX];
	uint64_t alert_tat_ns;	/* alerts: GCRA's theoretical arrival time */
	uint64_t gauge_next_ns; /* when the Wangiri gauge is read again */
	size_t bytes_fixed;	/* everything but the ranges table */
	struct fraud_stats st;
};

/* What one call's detectors work on, built once at begin. */
struct fraud_ctx {
	struct fraud *f;
	uint64_t now_ns;
	const struct fraud_rule_cfg *rule; /* NULL: no per-account limits */
	const struct fraud_rule_rt *rt;
	const struct fraud_account_cfg *acct_cfg; /* NULL: not listed */
	struct fraud_acct *acct;		  /* NULL when rule is NULL */
	struct sy_str caller, callee;		  /* normalised */
	uint64_t acct_key, dest_key;
	/* the callee's range, when one matched */
	const struct fraud_ranges *ranges;
	uint32_t range; /* entry index + 1; 0 = none */
	enum fraud_risk risk;
	bool risky; /* risk >= the rule's risk_min (and not none) */
	/* side effects held until the decision is known */
	uint64_t pair_key;  /* (account, destination) */
	uint64_t burst_key; /* (account, range); 0 = none */
	bool new_dest;	    /* counted as a new destination */
	bool burst_new;	    /* counted as a new number in its range */
};

/* Decisions (fraud.c). fraud__want: a detector says `a`; true when it now
 * decides (the caller then writes the reason with fraud__reason). */
bool fraud__want(struct fraud_decision *d, enum fraud_detector det, enum fraud_action a);
void fraud__reason(struct fraud_decision *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Applies the mode, fills the statuses, counts, observes and alerts. */
void fraud__finish(struct fraud *f, enum fraud_kind kind, struct fraud_decision *d, const struct fraud_event *ev);
/* The rule for an account key (NULL: none) and its config entry. */
int32_t fraud__rule_of(const struct fraud *f, uint64_t acct_key, const struct fraud_account_cfg **acct);
struct fraud_fwin *fraud__win(const struct fraud *f, struct fraud_acct *a, enum fraud_win w);
/* "600s", "1500ms": a window for reasons. */
const char *fraud__dur(char *buf, size_t n, uint64_t ns);
/* The key of a normalised number in f's seeded hash. */
uint64_t fraud__num_key(const struct fraud *f, struct sy_str digits);
uint64_t fraud__pair(uint64_t a, uint64_t b);
/* Refreshes the gauges in f->st. */
void fraud__gauges(struct fraud *f, uint64_t now_ns);

/* Detectors on one call (callerid.c, irsf.c, velocity.c). */
void fraud_callerid_check(struct fraud_ctx *c, struct fraud_decision *d);
void fraud_irsf_lookup(struct fraud_ctx *c);
void fraud_irsf_check(struct fraud_ctx *c, struct fraud_decision *d);
void fraud_irsf_commit(struct fraud_ctx *c, bool went_on);
bool fraud_irsf_premium(struct fraud *f, struct fraud_call *st, uint64_t now_ns, struct fraud_decision *d);
void fraud_velocity_check(struct fraud_ctx *c, struct fraud_decision *d);
void fraud_velocity_commit(struct fraud_ctx *c, bool went_on);

/* The Wangiri and SMS pumping modules (fraud_mod.c: the one file that
 * calls wangiri.h and smspump.h). */
enum sy_rc fraud__mod_create(struct fraud *f, char *err, size_t errlen);
void fraud__mod_destroy(struct fraud *f);
size_t fraud__mod_bytes(const struct fraud *f);
uint64_t fraud__mod_wangiri_protected(const struct fraud *f, uint64_t now_ns);
void fraud__mod_call(struct fraud *f, const struct fraud_ctx *c, struct fraud_call *st, struct fraud_decision *d);
void fraud__mod_call_end(struct fraud *f, const struct fraud_call *st, const struct fraud_call_end *e, uint64_t now_ns);
void fraud__mod_sms(struct fraud *f, uint64_t acct_key, struct sy_str to, uint64_t now_ns, struct fraud_decision *d);
void fraud__mod_receipt(struct fraud *f, struct sy_str carrier, struct sy_str to, bool delivered, uint64_t now_ns);
#endif
