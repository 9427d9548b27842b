/* audit.h: the money audit of a run, from what is on disk. It re-reads the
 * CDR store (cdrs.sqlite), the UDR store when there is one (udrs.sqlite: the
 * USSD gateway's sessions) and the ledger (ledger.sqlite) with connections
 * of its own, re-rates every CDR with the batch rater (bill_rate_calls, the
 * code behind `switchyard rate`) and every charged UDR with bill_rate_ussd
 * (its service's unit: 1 per session, or its steps), and compares per
 * account, the records being its CDRs and UDRs together:
 *
 *   re-rated records == records' charges     (each record says what it cost)
 *   records' charges == ledger charges       (the charges table)
 *   ledger charges == initial + credits - balance   (the accounts row; the
 *                                                     credits from the journal)
 *
 * and that no reservation is left open and no prepaid balance is below
 * zero. The same comparisons are counted record by record too (a +1 and a
 * -1 in one account cancel in its sums, not in these counts): a CDR against
 * the charges row of its call id, a UDR against the row of
 * UDR_CHARGE_REF_PREFIX + its id. Nothing of the running switch's memory is
 * consulted: a charge lost between the book and the file, a record with the
 * wrong cost, a balance row off by one micro-unit all show as differences,
 * in micro-units.
 *
 * A CDR belongs to the account that owns its caller number (longest
 * prefix), as the call path decides; a UDR to the account it names (the
 * payer the gateway found); a charged record no account owns goes to a row
 * of its own ("(no account)") whose ledger side is zero. A UDR whose code
 * is no configured service re-rates to 0. Charges made by crash recovery
 * for calls whose CDR died with the process have no record: they show in
 * cdr_vs_ledger and charges_without_cdr, and are also summed apart in
 * `recovered`. */
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

/* A USSD service as configured: how its UDRs are re-rated (the UDR has the
 * code, the steps and the payer, not the unit). */
struct audit_ussd_service {
	const char *code;    /* "*123#", as the UDR's code */
	bool per_step;	     /* charge = step: its steps are the units; else 1 (0 without a step) */
	int64_t flat_micros; /* the service's price, without a ussd row in the payer's tariff */
};

struct audit_cfg {
	const struct sy_env *env; /* whose files the stores are read through */
	const char *cdr_path;	  /* cdrs.sqlite */
	const char *ledger_path;  /* ledger.sqlite */
	const char *udr_path;	  /* udrs.sqlite; NULL: the node wrote no UDRs */
	const struct audit_account *accounts;
	uint32_t account_n;
	const struct audit_ussd_service *ussd; /* the charged services */
	uint32_t ussd_n;
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
	int64_t rerated, cdr, udr, ledger, decrease, balance; /* rerated: CDRs and UDRs */
	uint32_t open_resv;
};

struct audit_result {
	uint64_t cdrs;	    /* CDR rows read */
	uint64_t accounts;  /* ledger accounts read */
	int64_t cdr_micros; /* sum of the CDRs' cost */
	int64_t recovered;  /* charged by crash recovery (no CDR) */
	bool udrs_read;	    /* a UDR store was audited */
	uint64_t udrs;	    /* UDR rows read with an account or a charge */
	int64_t udr_micros; /* sum of the UDRs' charges */
	/* per account: re-rated vs the records' charges, the records (CDRs +
	 * UDRs) vs the ledger, the ledger vs the balance */
	struct audit_figure cdr_vs_rerate, cdr_vs_ledger, ledger_vs_balance;
	uint64_t open_resv;	/* reservation rows left in the ledger */
	uint32_t open_accounts; /* accounts holding them */
	uint32_t negative;	/* prepaid accounts with a balance below zero */
	uint32_t offenders;	/* accounts with any difference */
	/* call by call: CDRs whose cost differs from their own re-rating, or
	 * from the charges row of their call id (none counts as 0), and
	 * charges rows whose call id no CDR (nor UDR) has; the same for UDRs */
	uint64_t cdrs_misrated, cdrs_unmatched, charges_without_cdr;
	uint64_t udrs_misrated, udrs_unmatched;
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
