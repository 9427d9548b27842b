/* audit.h: the money audit of a run, from what is on disk. It re-reads the
 * CDR store (cdrs.sqlite) and the ledger (ledger.sqlite) with connections of
 * its own, re-rates every CDR with the batch rater (bill_rate_calls, the
 * code behind `switchyard rate`), and compares per account:
 *
 *   re-rated CDR charges == CDR charges      (the CDR says what it cost)
 *   CDR charges == ledger charges            (the charges table)
 *   ledger charges == initial + credits - balance   (the accounts row; the
 *                                                     credits from the journal)
 *
 * and that no reservation is left open and no prepaid balance is below
 * zero. The same comparisons are counted call by call too (a +1 and a -1
 * in one account cancel in its sums, not in these counts). Nothing of the running switch's memory is consulted: a
 * charge lost between the book and the file, a CDR with the wrong cost, a balance row off by one micro-unit all show as
 * differences, in micro-units.
 *
 * A CDR belongs to the account that owns its caller number (longest
 * prefix), as the call path decides; a CDR no account owns goes to a row of
 * its own ("(no account)") whose ledger side is zero. Charges made by crash
 * recovery for calls whose CDR died with the process have no CDR: they
 * show in cdr_vs_ledger and charges_without_cdr, and are also summed apart
 * in `recovered`. */
#ifndef SY_STORE_AUDIT_H
#define SY_STORE_AUDIT_H

#include "core/billing/balance.h"
#include "core/billing/tariff.h"
#include "core/env.h"

/* One account as the configuration defines it. */
struct audit_account {
	const char *name;		  /* as in the ledger */
	const char *callers;		  /* caller prefix it owns; "" or NULL: none */
	const struct bill_tariff *tariff; /* rates its calls; NULL: calls rate 0 */
};

struct audit_cfg {
	const struct sy_env *env; /* whose files the stores are read through */
	const char *cdr_path;	  /* cdrs.sqlite */
	const char *ledger_path;  /* ledger.sqlite */
	const struct audit_account *accounts;
	uint32_t account_n;
};

/* An absolute sum of per-account differences, and how many accounts had one. */
struct audit_figure {
	int64_t micros;
	uint32_t accounts;
};

/* An account with some difference, with its four totals. */
#define AUDIT_SHOW_MAX 5
struct audit_row {
	char account[BILL_NAME_MAX];
	int64_t rerated, cdr, ledger, decrease, balance;
	uint32_t open_resv;
};

struct audit_result {
	uint64_t cdrs;	    /* CDR rows read */
	uint64_t accounts;  /* ledger accounts read */
	int64_t cdr_micros; /* sum of the CDRs' cost */
	int64_t recovered;  /* charged by crash recovery (no CDR) */
	struct audit_figure cdr_vs_rerate, cdr_vs_ledger, ledger_vs_balance;
	uint64_t open_resv;	/* reservation rows left in the ledger */
	uint32_t open_accounts; /* accounts holding them */
	uint32_t negative;	/* prepaid accounts with a balance below zero */
	uint32_t offenders;	/* accounts with any difference */
	/* call by call: CDRs whose cost differs from their own re-rating, or
	 * from the charges row of their call id (none counts as 0), and
	 * charges rows whose call id no CDR has */
	uint64_t cdrs_misrated, cdrs_unmatched, charges_without_cdr;
	struct audit_row shown[AUDIT_SHOW_MAX]; /* the first offenders, in ledger order */
	uint32_t shown_n;
};

/* The sum the run report calls the conservation error: every money
 * difference the audit found, in micro-units. */
int64_t audit_total(const struct audit_result *r);

/* Runs the audit. SY_ERR_IO (err says why) when a store cannot be read:
 * an audit that could not look has found nothing, and says so. */
enum sy_rc audit_run(const struct audit_cfg *cfg, struct audit_result *out, char *err, size_t errlen);

#endif
