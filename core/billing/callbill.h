/* callbill.h: real-time billing in the voice call path. The switch asks it
 * three things: may this caller call this number (a first slice of money is
 * reserved at INVITE, so no call is connected without a reservation: a
 * refusal is 402 or 403 with a Reason), how long may the answered call run
 * (slices are extended before they run out; when the money cannot cover the
 * next slice the call is cut at the exact second the money runs out), and
 * what did it cost (rated with the account's tariff, charged, the rest of
 * the hold released; the carrier's cost is rated too, for the margin).
 *
 * Its configuration (struct billing_cfg) holds the accounts (a group of N
 * shares one entry), the tariffs (CSV files) and the carriers' rates;
 * core/conf/node.h fills it from [account], [tariff] and [carrier]. The
 * ledger (core/store/ledger.h) journals every reservation so a restart
 * reconciles open ones. Amounts are integer micro-units throughout. */
#ifndef SY_BILLING_CALLBILL_H
#define SY_BILLING_CALLBILL_H

#include "core/billing/balance.h"
#include "core/billing/rate.h"
#include "core/env.h"
#include "core/metrics/hist.h"
#include "core/store/cdr.h"

struct callbill;

#define BILLING_NAME_MAX 32
#define BILLING_PATTERN_MAX 32 /* caller prefix */
#define BILLING_PATH_MAX 256
#define BILLING_ACCOUNTS_MAX 64
#define BILLING_TARIFFS_MAX 8
#define BILLING_CARRIERS_MAX 64

/* An account; with count = N a group NAME-0 .. NAME-(N-1), member i owning
 * the caller number callers + i (zero-padded to the digits of N-1). */
struct billing_account_cfg {
	char name[BILLING_NAME_MAX];
	uint32_t line; /* in the config file, for messages */
	enum bill_kind kind;
	int64_t balance_micros;		   /* prepaid: starting balance (each member) */
	int64_t credit_limit_micros;	   /* postpaid: how far below zero it may go */
	char currency[4];		   /* ISO 4217 */
	char callers[BILLING_PATTERN_MAX]; /* caller-number prefix (digits); "" = none */
	uint32_t count;			   /* 0: a single account */
	char tariff[BILLING_NAME_MAX];	   /* "" = the first tariff */
};

/* A rate sheet in the CSV carriers exchange. */
struct billing_tariff_cfg {
	char name[BILLING_NAME_MAX];
	char file[BILLING_PATH_MAX];
};

/* What a voice carrier charges us. */
struct billing_carrier_cfg {
	char name[BILLING_NAME_MAX];
	uint64_t rate_micro_per_min;
};

struct billing_cfg {
	char source[BILLING_PATH_MAX]; /* the config file, for messages */
	struct billing_account_cfg accounts[BILLING_ACCOUNTS_MAX];
	uint32_t account_n;
	struct billing_tariff_cfg tariffs[BILLING_TARIFFS_MAX];
	uint32_t tariff_n;
	struct billing_carrier_cfg carriers[BILLING_CARRIERS_MAX];
	uint32_t carrier_n;
};

struct callbill_cfg {
	const struct sy_env *env;
	const struct billing_cfg *billing;
	const char *ledger_path;  /* NULL: balances in memory only */
	uint32_t slice_s;	  /* money reserved per slice of talk; default 60 s */
	uint32_t guard_s;	  /* extend this long before a slice runs out; default 10 s */
	uint64_t commit_every_ns; /* ledger batch interval; default 50 ms */
	uint32_t calls_max;	  /* voice calls at once: each holds one reservation */
	uint32_t sessions_max;	  /* other charged sessions at once (USSD), each holding one too;
				     the book's reservations are the two added (0 + 0: 65536) */
	uint32_t ledger_batch_max; /* ledger operations held for one commit (and kept through a
				      failing disk); 0: the ledger's default */
	bool sync_full;		   /* the ledger fsyncs every commit (survives power loss) */
};

/* Billing state of one call, embedded in the switch's call record. */
struct callbill_call {
	bill_resv_id resv;  /* 0: the call is not billed */
	uint32_t account;   /* index + 1 in the book */
	uint32_t tariff_id; /* entry in the account's tariff */
	uint16_t tariff;    /* which [tariff] */
	int64_t held;	    /* money reserved so far */
	uint32_t covered_s; /* talk the hold pays for (an increment boundary) */
	bool final;	    /* no more money: the call ends at answer + covered_s */
	bool answered;
	uint64_t answer_wall_ns;
};

struct callbill_stats {
	int64_t revenue_micros; /* charged to accounts */
	int64_t cost_micros;	/* owed to carriers */
	uint64_t authorized, declined, declined_funds, declined_unknown, declined_tariff;
	uint64_t declined_store; /* 503: the ledger could not record the reservation (disk) */
	uint64_t declined_caller; /* 403: a caller number the authenticated group does not own */
	uint64_t extends, cutoffs;
	/* CDR end - the money-out instant (answer + the seconds the money
	 * covers), over calls cut for money: measured, not assumed */
	uint64_t cutoff_late_max_ns;
	uint64_t cutoff_early; /* cut calls that ended before the money ran out */
};

/* On failure err says why (file:line for a bad tariff or scenario). A
 * scenario without [account] sections, or without [tariff] and without
 * accounts that own callers, gives a NULL callbill: no billing. Accounts
 * that own no callers are not billed per call (SMS accounts); their
 * messages are rated with callbill_rate_sms(). */
enum sy_rc callbill_create(const struct callbill_cfg *cfg, struct callbill **out, char *err, size_t errlen);
void callbill_destroy(struct callbill *cb);

/* At INVITE: account is the caller's authenticated identity's account (a
 * trunk's or a digest user's, never read from the request); for a group
 * (count > 1) the member is the one owning the caller number, among that
 * group only: a number it does not own is 403. Finds the callee's rate and
 * reserves the first slice. SY_DECLINED sets *status (402/403) and *reason. */
enum sy_rc callbill_authorize(struct callbill *cb, struct sy_str account, struct sy_str caller, struct sy_str callee,
			      struct sy_str call_id, struct callbill_call *out, uint16_t *status, const char **reason);
/* At answer: returns how long until the switch must call callbill_tick
 * (to extend) or, when c->final, end the call (the cut-off). */
uint64_t callbill_answered(struct callbill *cb, struct callbill_call *c, uint64_t wall_ns);
/* The slice timer fired: extends (or finds the money is out). Returns the
 * delay to the next tick, or, when c->final, to the cut-off. */
uint64_t callbill_tick(struct callbill *cb, struct callbill_call *c, uint64_t wall_ns);
/* The call ended (talk_ms 0 when never answered): rates it, charges the
 * account, releases the rest, and fills the CDR's cost, tariff and rated
 * duration. cut_off says the switch ended it for lack of money; then the
 * CDR's end_ns (when the switch really ended the call) is compared with the
 * money-out instant for the cut-off lateness. */
void callbill_end(struct callbill *cb, struct callbill_call *c, uint32_t talk_ms, const char *carrier,
		  bool cut_off, struct cdr *cdr);
/* The price of one SMS part to dst under the account's tariff (its
 * [account] section by name; 0 when no tariff entry applies). Suits
 * smsc_cfg.rate. */
int64_t callbill_rate_sms(void *cb, const char *account, struct sy_str dst, uint64_t wall_ns);
/* The ledger's batch, on the switch's timer (also at shutdown). */
void callbill_flush(struct callbill *cb);

void callbill_stats(const struct callbill *cb, struct callbill_stats *out);
/* The cut-off lateness of every call cut for money (for p99). */
const struct sy_hist *callbill_cutoff_late(const struct callbill *cb);
/* Exact conservation: sum of charges == sum of balance decreases. */
bool callbill_conserved(const struct callbill *cb, int64_t *charged, int64_t *decrease);
/* The book's own invariants, checked in memory (bill_book_check). */
void callbill_book_check(const struct callbill *cb, struct bill_book_check *out);
/* Member i of account a: its book name ("a", or "a-i" in a group of
 * count > 1) and the caller prefix it owns (callers + i zero-padded to the
 * digits of count - 1; "" when the account owns none). The one place that
 * names group members: the ledger and the money audit agree on it. */
void callbill_member(const struct billing_account_cfg *a, uint32_t i, char *name, size_t name_len, char *number,
		     size_t number_len);
/* Cut-offs that left the caller a whole increment unused, or overspent. */
uint64_t callbill_cutoff_violations(const struct callbill *cb);
/* Prepaid accounts below zero (must be 0). */
uint32_t callbill_negative_accounts(const struct callbill *cb);

/* ---- USSD sessions (ussdbill.c) ----
 * The gateway (core/ussd/) charges per session or per step: it finds the
 * payer once, holds money at the begin, extends the hold as steps go on,
 * and commits the charge at the end (or releases it). Payers are book
 * members, numbered index + 1 (0: none). */

/* The payer: account's member (for a group, the member owning caller), or
 * with account "" the [account] that owns caller's number (longest prefix,
 * as calls find callers). SY_ERR_NOTFOUND: none. */
enum sy_rc callbill_ussd_payer(struct callbill *cb, struct sy_str account, struct sy_str caller, uint32_t *payer);
/* The charge of n (>= 1) units (sessions or steps) of service code on the
 * payer's tariff at epoch_s: its `ussd` row for the code's digits ("*100*2#"
 * -> "1002", longest prefix) gives fee + rate * n; without a row,
 * flat_micros * n; without either (no row, flat_micros 0), -1: the service
 * has no price for this payer. 0 for n == 0. */
int64_t callbill_ussd_price(const struct callbill *cb, uint32_t payer, struct sy_str code, uint64_t epoch_s,
			    uint32_t n, int64_t flat_micros);
/* Holds min(want, available), at least min, under ref (unique per session).
 * SY_DECLINED: *why (funds, suspended, unknown); SY_ERR_FULL: reservation
 * pool full; SY_ERR_IO/STATE: the ledger refused. */
enum sy_rc callbill_ussd_hold(struct callbill *cb, uint32_t payer, struct sy_str ref, int64_t want_micros,
			      int64_t min_micros, bill_resv_id *resv, enum bill_why *why);
/* What the hold holds now (0 for a stale id). */
int64_t callbill_ussd_held(const struct callbill *cb, bill_resv_id resv);
/* Adds up to amount to the hold; *held is the hold after (granted or not). */
enum sy_rc callbill_ussd_extend(struct callbill *cb, bill_resv_id resv, int64_t amount_micros, int64_t *held);
/* Charges (the rest of the hold released); returns what was charged. */
int64_t callbill_ussd_commit(struct callbill *cb, bill_resv_id resv, int64_t charge_micros);
void callbill_ussd_release(struct callbill *cb, bill_resv_id resv);
/* The payer's book name ("" for 0). */
const char *callbill_payer_name(const struct callbill *cb, uint32_t payer);

#endif
