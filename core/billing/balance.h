/* balance.h: accounts (prepaid with a balance, postpaid with a credit limit)
 * and the reservations the call path takes against them: reserve a slice at
 * answer, extend it before it runs out, commit the rated cost at hangup.
 * Amounts are int64 micro-units (1 unit = 1,000,000 micros); no floating point.
 *
 * Invariant, checked after every change: for each account
 *   available = balance + credit_limit - sum(open holds) >= 0
 * (credit_limit is 0 for prepaid), so concurrent calls of one account can
 * never overspend together. The core is single-threaded: "concurrent" means
 * interleaved calls, not threads.
 *
 * Every change goes through an optional journal (core/store/ledger.c writes
 * it to sqlite) BEFORE it is applied in memory: if the journal refuses, memory
 * is unchanged. */
#ifndef SY_BILLING_BALANCE_H
#define SY_BILLING_BALANCE_H

#include "core/base.h"

#define BILL_NAME_MAX	  64  /* account name bytes, including a NUL */
#define BILL_CURRENCY_MAX 8   /* "USD"; bytes including a NUL */
#define BILL_CALLID_MAX	  128 /* call id bytes, including a NUL (as CDR_CALLID_MAX) */
/* Bound on any one amount and balance (10^11 units), so that no sum of them
 * can overflow int64 and 60 * amount fits for the seconds helper. */
#define BILL_AMOUNT_MAX (100000000000ll * 1000000ll)

#define BILL_MICROS_PER_UNIT 1000000ll

enum bill_kind { BILL_PREPAID = 1, BILL_POSTPAID = 2 };

/* Why a reservation or extension was declined. */
enum bill_why {
	BILL_WHY_NONE = 0,
	BILL_WHY_FUNDS,	    /* insufficient funds (SIP 402) */
	BILL_WHY_UNKNOWN,   /* unknown account (SIP 403) */
	BILL_WHY_SUSPENDED, /* account suspended (SIP 403) */
	BILL_WHY_COUNT
};
/* "insufficient funds", "unknown account", "account suspended" ("" for none):
 * text for a Reason header. */
const char *bill_why_str(enum bill_why w);
/* 402 for funds, 403 for unknown or suspended, 0 for none. */
uint16_t bill_why_sip_status(enum bill_why w);

/* A reservation handle: (generation << 32 | slot + 1), so a stale handle
 * (committed, released) is detected instead of hitting a reused slot. 0 is
 * never valid. */
typedef uint64_t bill_resv_id;

struct bill_account_def {
	struct sy_str name;	/* 1 .. BILL_NAME_MAX-1 bytes, unique */
	struct sy_str currency; /* 1 .. BILL_CURRENCY_MAX-1 bytes */
	enum bill_kind kind;
	int64_t balance_micros;	     /* prepaid: >= 0; postpaid: >= -credit_limit */
	int64_t credit_limit_micros; /* postpaid: >= 0; prepaid: must be 0 */
	bool suspended;
	/* Lifetime totals, for the conservation check across restarts. When
	 * restore is false they are ignored (initial = balance, others 0);
	 * when true they must satisfy initial + credited - charged == balance. */
	bool restore;
	int64_t initial_micros, charged_micros, credited_micros;
};

struct bill_account_info {
	struct sy_str name; /* points into the book; valid while it lives */
	struct sy_str currency;
	enum bill_kind kind;
	bool suspended;
	int64_t balance_micros;
	int64_t credit_limit_micros;
	int64_t reserved_micros;  /* sum of open holds */
	int64_t available_micros; /* balance + credit_limit - reserved, >= 0 */
	uint32_t open_resv;
	int64_t initial_micros, charged_micros, credited_micros;
};

struct bill_resv_info {
	struct sy_str account; /* point into the book */
	struct sy_str call_id;
	int64_t held_micros; /* money set aside for the call so far */
	int64_t used_micros; /* last "used so far" checkpoint, <= held */
};

/* ---- the journal seam (the ledger implements it) ---- */

enum bill_op {
	BILL_OP_ACCOUNT = 1, /* account created: def is set */
	BILL_OP_OPEN,	     /* reservation opened: amount = held */
	BILL_OP_EXTEND,	     /* amount added (maybe 0), used checkpoint */
	BILL_OP_CHECKPOINT,  /* used checkpoint only */
	BILL_OP_COMMIT,	     /* amount charged, the rest of the hold released */
	BILL_OP_RELEASE,     /* hold released, nothing charged */
	BILL_OP_TOPUP,	     /* amount credited; call_id is the caller's reference */
	BILL_OP_SUSPEND,     /* amount = 1 suspended, 0 resumed */
	BILL_OP_COUNT
};

struct bill_journal_rec {
	enum bill_op op;
	struct sy_str account;
	struct sy_str call_id;
	int64_t amount_micros;
	int64_t held_micros;		    /* the hold after the op (reservation ops) */
	int64_t used_micros;		    /* the checkpoint after the op (reservation ops) */
	const struct bill_account_def *def; /* BILL_OP_ACCOUNT only */
};

/* write() returns SY_OK to let the change happen. For BILL_OP_COMMIT,
 * SY_DECLINED means "this call id was already charged": the book then
 * releases the hold without charging (idempotent commit). Any other rc
 * refuses the change (SY_ERR_STATE: a reservation for this call id is
 * already open; SY_ERR_IO: store failure). */
struct bill_journal {
	enum sy_rc (*write)(void *arg, const struct bill_journal_rec *rec);
	void *arg;
};

/* ---- the book ---- */

struct bill_book_opts {
	uint32_t accounts_max; /* 0: 1024 */
	uint32_t resv_max;     /* open reservations at once; 0: 65536. Their slots come in
				  slabs as holds open: a large bound costs nothing up front */
};

struct bill_stats {
	uint64_t open;	   /* reservations open now */
	uint64_t reserved; /* reservations ever opened */
	uint64_t declined; /* reserve calls declined (all reasons) */
	uint64_t declined_why[BILL_WHY_COUNT];
	uint64_t pool_full; /* reserve calls refused: reservation pool exhausted */
	uint64_t extends, extends_declined;
	uint64_t committed, released;
	uint64_t commits_dup;	  /* commits the journal said were already charged */
	int64_t charged_micros;	  /* charged by this process */
	int64_t shortfall_micros; /* asked at commit beyond what the account could pay */
	int64_t credited_micros;  /* top-ups by this process */
	uint64_t resv_bytes;	  /* reservation slabs allocated: grows with the peak of open holds, not resv_max */
};

struct bill_book;

/* Allocates the account and reservation pools. opts may be NULL. */
enum sy_rc bill_book_new(const struct bill_book_opts *opts, struct bill_book **out);
void bill_book_free(struct bill_book *b);
/* Attaches (copies) a journal, or detaches with NULL. */
void bill_book_set_journal(struct bill_book *b, const struct bill_journal *j);

/* SY_ERR_INVAL: bad name/currency/amounts; SY_ERR_STATE: the name exists (a
 * persisted account wins over one from config); SY_ERR_FULL: pool full. */
enum sy_rc bill_account_add(struct bill_book *b, const struct bill_account_def *d);
enum sy_rc bill_account_get(const struct bill_book *b, struct sy_str name, struct bill_account_info *out);
uint32_t bill_account_count(const struct bill_book *b);
/* The i-th account in creation order (0 <= i < count). */
void bill_account_at(const struct bill_book *b, uint32_t i, struct bill_account_info *out);
/* Adds amount (> 0) to the balance. ref names the payment in the journal. */
enum sy_rc bill_account_topup(struct bill_book *b, struct sy_str name, int64_t amount_micros, struct sy_str ref);
/* A suspended account gets no new reservation nor extension. */
enum sy_rc bill_account_suspend(struct bill_book *b, struct sy_str name, bool suspended);

/* Opens a reservation for call_id holding min(want, available), which must
 * be at least min_micros (pass min == want for all or nothing; 0 <= min <=
 * want). SY_OK: *out set. SY_DECLINED: *why says why (funds, unknown,
 * suspended). SY_ERR_FULL: reservation pool exhausted (overload: 503).
 * SY_ERR_INVAL: bad amounts or call id (empty, >= BILL_CALLID_MAX bytes).
 * SY_ERR_STATE / SY_ERR_IO: the journal refused (duplicate open call id,
 * store failure). why may be NULL. */
enum sy_rc bill_reserve(struct bill_book *b, struct sy_str account, struct sy_str call_id, int64_t want_micros,
			int64_t min_micros, bill_resv_id *out, enum bill_why *why);

/* Adds up to amount to the hold and records used (money consumed so far,
 * the crash-recovery checkpoint; clamped to the hold, never decreasing).
 * SY_OK: all of amount granted. SY_DECLINED: less was granted (*granted may
 * be 0; *why says funds or suspended): the caller now computes the cut-off
 * from the hold (bill_seconds_covered) and ends the call then.
 * SY_ERR_NOTFOUND: stale id. granted and why may be NULL. */
enum sy_rc bill_extend(struct bill_book *b, bill_resv_id id, int64_t amount_micros, int64_t used_micros,
		       int64_t *granted, enum bill_why *why);
/* Records used only (as extend with amount 0, but never declined). */
enum sy_rc bill_checkpoint(struct bill_book *b, bill_resv_id id, int64_t used_micros);

/* Charges charge_micros (>= 0) and releases the rest of the hold; the id is
 * then stale. A charge above the hold takes the excess from the account's
 * available money, and whatever that cannot cover is not charged (counted
 * in shortfall): the invariant holds even for a rating that exceeds the
 * reservation. If the journal reports the call id as already charged,
 * nothing is charged (*charged = 0, commits_dup counted) and rc is SY_OK.
 * charged may be NULL. */
enum sy_rc bill_commit(struct bill_book *b, bill_resv_id id, int64_t charge_micros, int64_t *charged);
/* Releases the whole hold; nothing is charged (call never connected). */
enum sy_rc bill_release(struct bill_book *b, bill_resv_id id);
enum sy_rc bill_resv_get(const struct bill_book *b, bill_resv_id id, struct bill_resv_info *out);

void bill_stats(const struct bill_book *b, struct bill_stats *out);

/* The conservation check, exact in micros: for every account
 * initial + credited - charged == balance (charges are the only decreases),
 * sum of its open holds == reserved, and available >= 0; and over the book
 * sum(charged) == sum(initial + credited - balance). Walks every pool slot:
 * for tests and end of run, not the call path. Totals go to the out
 * parameters when not NULL. */
bool bill_conservation_ok(const struct bill_book *b, int64_t *charged_sum, int64_t *decrease_sum);

/* The same walk, counting each kind of violation instead of one bool, so a
 * run report can show them (bill_conservation_ok is violations == 0 and
 * charged == decrease). */
struct bill_book_check {
	int64_t charged_micros, decrease_micros; /* over the book */
	uint32_t used_over_held;		 /* open reservations whose used checkpoint exceeds the hold */
	uint32_t holds_mismatch;		 /* accounts whose open holds do not sum (or count) to reserved */
	uint32_t totals_mismatch;		 /* accounts where initial + credited - charged != balance */
	uint32_t overdrawn;			 /* accounts with available < 0 */
	uint32_t violations;			 /* the four above, added */
};
void bill_book_check(const struct bill_book *b, struct bill_book_check *out);

/* How many whole seconds of talk money_micros pays for, at rate_per_min
 * micros per minute billed in increments of first_s then next_s seconds
 * (60/60, 30/6, 1/1). Rule: a call of d seconds is billed B(d) = first_s
 * for 0 < d <= first_s, else first_s + ceil((d - first_s) / next_s) * next_s,
 * and costs ceil(B * rate / 60) micros (rounding up to the micro, so the
 * answer is safe under any rounding to the micro). The result is the largest
 * increment boundary B with cost(B) <= money (0 if the first increment is not
 * affordable): cutting the call at B seconds spends at most the money, and
 * one more increment would exceed it, so the cut-off lands within one billing
 * increment of the money running out. money is the whole amount available
 * for the talk time since answer (the hold, minus any connection fee), not
 * the part left after the previous slice. rate 0 means free:
 * UINT32_MAX. first_s and next_s must be > 0. */
uint32_t bill_seconds_covered(int64_t money_micros, int64_t rate_per_min_micros, uint32_t first_s, uint32_t next_s);

#endif
