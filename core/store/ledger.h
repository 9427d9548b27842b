/* ledger.h: the billing ledger in sqlite (WAL): accounts with their balances
 * and lifetime totals, open reservations with their last "used so far"
 * checkpoint, one row per charged call (the idempotency key), and an
 * append-only journal of every operation with the call's id. It implements
 * the journal seam of core/billing/balance.h.
 *
 * Batching: each journaled operation runs its statements at once inside an
 * open transaction (so a duplicate charge is known at commit time); the owner
 * calls ledger_commit() on a timer (e.g. every 10-100 ms) to make the batch
 * durable with one WAL append. A batch also commits by itself when it holds
 * batch_max operations. No clocks or timers in here.
 *
 * Crash (kill -9): the last uncommitted batch is lost as a whole, never in
 * part. ledger_recover() then charges each reservation still open in the
 * file for its last committed checkpoint and releases the rest, in one
 * transaction, keyed by call id so that running it twice, or committing the
 * same call again later, charges nothing more. Calls whose reservation was
 * opened in the lost batch were connected less than one commit interval
 * before the crash and are not charged: the price of batching. */
#ifndef SY_STORE_LEDGER_H
#define SY_STORE_LEDGER_H

#include "core/billing/balance.h"
#include "core/env.h"

#define LEDGER_BATCH_DEFAULT 4096
#define LEDGER_ERRMSG_MAX    320

struct ledger;

struct ledger_opts {
	bool sync_full;		  /* synchronous=FULL: fsync per commit (power loss) */
	uint32_t batch_max;	  /* operations per transaction before it commits by itself; 0: default */
	uint32_t busy_timeout_ms; /* 0: 5000 */
};

struct ledger_stats {
	uint64_t ops;	      /* operations journaled (in committed or open batches) */
	uint64_t pending;     /* operations in the open batch, not yet durable */
	uint64_t batches;     /* successful commits */
	uint64_t errors;      /* failed statements or commits */
	uint64_t dup_commits; /* commits refused as already charged */
	uint64_t lost;	      /* kept for the report's columns: a failed commit now loses nothing */
	uint64_t replayed;    /* kept operations replayed after a commit the disk refused */
	uint64_t refused;     /* operations refused: a full batch still waited for the disk */
};

/* What ledger_recover() found and did. */
struct ledger_recovery {
	uint64_t accounts;	  /* accounts loaded into the book */
	uint64_t resv_reconciled; /* open reservations found and closed */
	uint64_t resv_charged;	  /* of which charged (a checkpoint > 0, not charged before) */
	int64_t charged_micros;	  /* charged for their checkpoints */
	int64_t released_micros;  /* hold beyond the checkpoints, released */
};

/* Opens (creating if needed) the ledger at path. opts may be NULL. On
 * failure *out is NULL and err (if not NULL) says why. */
enum sy_rc ledger_open(const struct sy_env *env, const char *path, const struct ledger_opts *opts, struct ledger **out,
		       char *err, size_t err_len);

/* Reconciles the reservations left open by a crash (see above), loads every
 * account into b (which must have no accounts and no journal yet), then
 * attaches the ledger as b's journal. Accounts from config are added after
 * this; bill_account_add() refuses a name the ledger already had
 * (SY_ERR_STATE), so the persisted balance wins. out may be NULL. */
enum sy_rc ledger_recover(struct ledger *l, struct bill_book *b, struct ledger_recovery *out);

/* The journal to attach to a book by hand (ledger_recover does it). */
struct bill_journal ledger_journal(struct ledger *l);

/* Commits the open batch (no-op when empty). On failure the batch is rolled
 * back: the book is then ahead of the file, which the rc and stats.lost say;
 * see the report on resync. */
enum sy_rc ledger_commit(struct ledger *l);

/* Commits, then closes; returns the commit's rc. l may be NULL. */
enum sy_rc ledger_close(struct ledger *l);

/* Closes WITHOUT committing the open batch: what kill -9 leaves on disk.
 * For crash tests. */
void ledger_abandon(struct ledger *l);

/* kill -9 of whoever holds the ledger at path (as given to ledger_open) open
 * on this thread, without its owner's help: the open batch is rolled back
 * now and the handle refuses every later write, so the owner's close commits
 * nothing. Returns the operations dropped. For the simulator's node crash. */
uint64_t ledger_crash_at(const char *path);

const char *ledger_errmsg(const struct ledger *l);
void ledger_stats(const struct ledger *l, struct ledger_stats *out);

/* True when call_id has a committed or pending charge row (for tests and
 * operators). */
bool ledger_charged(struct ledger *l, struct sy_str call_id, int64_t *amount_micros);

#endif
