/* audit.c: the money audit (audit.h): read-only sqlite connections to the
 * stores (the UDRs attached to the CDRs' connection), per-account sums in
 * one array, CDRs re-rated in groups with the batch rater, UDRs one by one. Read-only and off the call path: it runs
 * once, at the end of a run. */
#include "audit.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>

#include "core/billing/rate.h"
#include "core/htab.h"
#include "core/route/route.h"
#include "core/store/cdr.h"
#include "core/store/udr.h"
#include "core/store/vfs.h"

/* The ledger's journal ops (ledger.c): a top-up, and a charge made by crash
 * recovery for a reservation the dead process left open. */
#define AUDIT_OP_TOPUP	 BILL_OP_TOPUP
#define AUDIT_OP_RECOVER 65

#define AUDIT_GROUP 256 /* CDRs rated together */

struct acct {
	struct sy_hnode node;
	char name[BILL_NAME_MAX];
	const struct bill_tariff *tariff;
	bool in_ledger, prepaid;
	int64_t rerated, cdr, udr, ledger, initial, credited, balance;
	uint64_t open_resv;
};

struct audit {
	const struct audit_cfg *cfg;
	sqlite3 *cdrs, *ledger;
	struct acct *a; /* cfg accounts, then "(no account)", then ledger-only ones */
	uint32_t n, cap;
	struct sy_htab by_name;
	struct route_trie callers;
	struct audit_result *out;
	char *err;
	size_t errlen;
	/* the group being rated */
	struct bill_call calls[AUDIT_GROUP];
	char numbers[AUDIT_GROUP][CDR_NUMBER_MAX];
	uint32_t who[AUDIT_GROUP];
	int64_t cost[AUDIT_GROUP];
	uint32_t group_n;
	const struct bill_tariff *group_tariff;
};

static enum sy_rc audit_fail(struct audit *au, sqlite3 *db, const char *what)
{
	snprintf(au->err, au->errlen, "audit: %s: %s", what, db != NULL ? sqlite3_errmsg(db) : "out of memory");
	return SY_ERR_IO;
}

static enum sy_rc audit_open(struct audit *au, const char *path, sqlite3 **db)
{
	char why[256];
	if (store_vfs_open(au->cfg->env, path, SQLITE_OPEN_READONLY, db, why, sizeof why) != SY_OK) {
		snprintf(au->err, au->errlen, "audit: %s", why);
		return SY_ERR_IO;
	}
	return SY_OK;
}

static struct acct *audit_add(struct audit *au, struct sy_str name)
{
	SY_ASSERT(au->n < au->cap);
	struct acct *a = &au->a[au->n++];
	memset(a, 0, sizeof *a);
	size_t len = SY_MIN(name.len, sizeof a->name - 1);
	memcpy(a->name, name.p, len);
	sy_htab_insert(&au->by_name, &a->node, (struct sy_str){a->name, len});
	return a;
}

static enum sy_rc audit_setup(struct audit *au, uint32_t ledger_rows)
{
	const struct audit_cfg *cfg = au->cfg;
	au->cap = cfg->account_n + 1 + ledger_rows + 64; /* + charges of accounts without a row */
	au->a = calloc(au->cap, sizeof *au->a);
	if (au->a == NULL || sy_htab_init(&au->by_name, au->cap) != SY_OK ||
	    route_trie_init(&au->callers, cfg->account_n + 1) != SY_OK)
		return audit_fail(au, NULL, "setup");
	for (uint32_t i = 0; i < cfg->account_n; i++) {
		const struct audit_account *d = &cfg->accounts[i];
		struct acct *a = audit_add(au, sy_str_from(d->name));
		a->tariff = d->tariff;
		if (d->callers != NULL && d->callers[0] != '\0' &&
		    route_add(&au->callers, sy_str_from(d->callers), i + 1) != SY_OK) {
			snprintf(au->err, au->errlen, "audit: account %s: bad caller prefix '%s'", d->name, d->callers);
			return SY_ERR_INVAL;
		}
	}
	/* Not in the hash: no ledger row can be named this. */
	struct acct *none = &au->a[au->n++];
	memset(none, 0, sizeof *none);
	snprintf(none->name, sizeof none->name, "(no account)");
	return SY_OK;
}

static uint32_t audit_count(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *st;
	uint32_t n = 0;
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW)
		n = (uint32_t)sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return n;
}

/* ---- the CDRs ---- */

static void audit_rate_group(struct audit *au)
{
	struct bill_rating rt[AUDIT_GROUP];
	if (au->group_n == 0)
		return;
	if (au->group_tariff != NULL)
		bill_rate_calls(au->group_tariff, au->calls, au->group_n, rt);
	else
		memset(rt, 0, sizeof rt);
	for (uint32_t i = 0; i < au->group_n; i++) {
		au->a[au->who[i]].rerated += rt[i].cost_micros;
		au->out->cdrs_misrated += rt[i].cost_micros != au->cost[i];
	}
	au->group_n = 0;
}

/* Rated as `switchyard rate` rates a CSV row: the callee, the answer second
 * (the start when unanswered), the duration in ms. */
static void audit_cdr(struct audit *au, sqlite3_stmt *st)
{
	struct sy_str caller = {(const char *)sqlite3_column_text(st, 0), (size_t)sqlite3_column_bytes(st, 0)};
	uint32_t idx1 = 0; /* account index + 1; 0: "(no account)" */
	size_t len;
	if (!route_lookup(&au->callers, caller, &idx1, &len))
		idx1 = 0;
	uint32_t idx = idx1 != 0 ? idx1 - 1 : au->cfg->account_n;
	struct acct *a = &au->a[idx];
	int64_t cost = sqlite3_column_int64(st, 5);
	a->cdr += cost;
	au->out->cdr_micros += cost;
	au->out->cdrs++;
	if (a->tariff != au->group_tariff || au->group_n == AUDIT_GROUP) {
		audit_rate_group(au);
		au->group_tariff = a->tariff;
	}
	uint32_t k = au->group_n++;
	struct sy_str callee = {(const char *)sqlite3_column_text(st, 1), (size_t)sqlite3_column_bytes(st, 1)};
	callee.len = SY_MIN(callee.len, (size_t)CDR_NUMBER_MAX - 1);
	memcpy(au->numbers[k], callee.p, callee.len);
	uint64_t start = (uint64_t)sqlite3_column_int64(st, 2), answer = (uint64_t)sqlite3_column_int64(st, 3);
	au->calls[k] = (struct bill_call){
	    .number = {au->numbers[k], callee.len},
	    .answer_epoch_s = (answer != 0 ? answer : start) / SY_NS_PER_S,
	    .duration_ms = (uint32_t)sqlite3_column_int64(st, 4),
	};
	au->who[k] = idx;
	au->cost[k] = cost;
}

static enum sy_rc audit_cdrs(struct audit *au)
{
	sqlite3_stmt *st;
	const char *sql = "SELECT caller,callee,start_ns,answer_ns,duration_ms,cost_micros FROM cdrs ORDER BY rowid";
	if (sqlite3_prepare_v2(au->cdrs, sql, -1, &st, NULL) != SQLITE_OK)
		return audit_fail(au, au->cdrs, "read cdrs");
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		audit_cdr(au, st);
	sqlite3_finalize(st);
	audit_rate_group(au);
	return rc == SQLITE_DONE ? SY_OK : audit_fail(au, au->cdrs, "read cdrs");
}

static struct acct *audit_find(struct audit *au, struct sy_str name)
{
	struct sy_hnode *h = sy_htab_find(&au->by_name, name);
	if (h != NULL)
		return SY_CONTAINER_OF(h, struct acct, node);
	return au->n < au->cap ? audit_add(au, name) : NULL;
}

/* ---- the UDRs ---- */

static const struct audit_ussd_service *audit_service(const struct audit *au, struct sy_str code)
{
	for (uint32_t i = 0; i < au->cfg->ussd_n; i++)
		if (sy_str_eq(sy_str_from(au->cfg->ussd[i].code), code))
			return &au->cfg->ussd[i];
	return NULL;
}

/* As the gateway charged it (ussd.c): nothing without an application
 * reply, else the service's units on the payer's tariff at the begin. */
static int64_t audit_udr_rerate(const struct audit *au, const struct acct *a, struct sy_str code, uint32_t steps,
				uint64_t begin_ns)
{
	const struct audit_ussd_service *svc = audit_service(au, code);
	if (svc == NULL || steps == 0)
		return 0;
	int64_t p =
	    bill_rate_ussd(a->tariff, code, begin_ns / SY_NS_PER_S, svc->per_step ? steps : 1, svc->flat_micros);
	return p > 0 ? p : 0;
}

static bool audit_udr(struct audit *au, sqlite3_stmt *st)
{
	struct sy_str name = {(const char *)sqlite3_column_text(st, 0), (size_t)sqlite3_column_bytes(st, 0)};
	struct sy_str code = {(const char *)sqlite3_column_text(st, 1), (size_t)sqlite3_column_bytes(st, 1)};
	struct acct *a = name.len > 0 ? audit_find(au, name) : &au->a[au->cfg->account_n];
	if (a == NULL)
		return false;
	int64_t charge = sqlite3_column_int64(st, 4);
	int64_t rerated =
	    audit_udr_rerate(au, a, code, (uint32_t)sqlite3_column_int64(st, 2), (uint64_t)sqlite3_column_int64(st, 3));
	a->udr += charge;
	a->rerated += rerated;
	au->out->udrs++;
	au->out->udr_micros += charge;
	au->out->udrs_misrated += rerated != charge;
	return true;
}

static enum sy_rc audit_udrs(struct audit *au)
{
	if (au->cfg->udr_path == NULL)
		return SY_OK;
	au->out->udrs_read = true;
	sqlite3_stmt *st;
	const char *sql = "SELECT account,code,steps,begin_ns,charge_micros FROM u.udrs "
			  "WHERE account != '' OR charge_micros != 0 ORDER BY rowid";
	if (sqlite3_prepare_v2(au->cdrs, sql, -1, &st, NULL) != SQLITE_OK)
		return audit_fail(au, au->cdrs, "read udrs");
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		if (!audit_udr(au, st)) {
			rc = SQLITE_FULL;
			break;
		}
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? SY_OK : audit_fail(au, au->cdrs, "read udrs");
}

/* ---- the ledger ---- */

/* Runs a (account, integer) query and hands each row to fn. */
static enum sy_rc audit_each(struct audit *au, const char *sql, void (*fn)(struct acct *, sqlite3_stmt *))
{
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(au->ledger, sql, -1, &st, NULL) != SQLITE_OK)
		return audit_fail(au, au->ledger, sql);
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct sy_str name = {(const char *)sqlite3_column_text(st, 0), (size_t)sqlite3_column_bytes(st, 0)};
		struct acct *a = audit_find(au, name);
		if (a == NULL) {
			rc = SQLITE_FULL;
			break;
		}
		fn(a, st);
	}
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? SY_OK : audit_fail(au, au->ledger, sql);
}

static void row_account(struct acct *a, sqlite3_stmt *st)
{
	a->in_ledger = true;
	a->prepaid = sqlite3_column_int(st, 1) == BILL_PREPAID;
	a->balance = sqlite3_column_int64(st, 2);
	a->initial = sqlite3_column_int64(st, 3);
}

static void row_charged(struct acct *a, sqlite3_stmt *st)
{
	a->ledger = sqlite3_column_int64(st, 1);
}

static void row_credited(struct acct *a, sqlite3_stmt *st)
{
	a->credited = sqlite3_column_int64(st, 1);
}

static void row_open(struct acct *a, sqlite3_stmt *st)
{
	a->open_resv = (uint64_t)sqlite3_column_int64(st, 1);
}

static enum sy_rc audit_ledger(struct audit *au)
{
	enum sy_rc rc = audit_each(au, "SELECT name,kind,balance,initial FROM accounts ORDER BY rowid", row_account);
	if (rc == SY_OK)
		rc = audit_each(au, "SELECT account,SUM(amount) FROM charges GROUP BY account", row_charged);
	if (rc == SY_OK)
		rc =
		    audit_each(au, "SELECT account,SUM(amount) FROM journal WHERE op=7 GROUP BY account", row_credited);
	if (rc == SY_OK)
		rc = audit_each(au, "SELECT account,COUNT(*) FROM reservations GROUP BY account", row_open);
	if (rc != SY_OK)
		return rc;
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(au->ledger, "SELECT COALESCE(SUM(amount),0) FROM journal WHERE op=65", -1, &st, NULL) !=
	    SQLITE_OK)
		return audit_fail(au, au->ledger, "read journal");
	if (sqlite3_step(st) == SQLITE_ROW)
		au->out->recovered = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return SY_OK;
}

_Static_assert(AUDIT_OP_TOPUP == 7, "the journal query names op 7");
_Static_assert(AUDIT_OP_RECOVER == 65, "the journal query names op 65");

/* Call by call, through the ledger attached to the CDR connection as l:
 * the charges row of each CDR's call id (the key the call path charges
 * under) must hold the CDR's cost, and every charges row must have a CDR.
 * Per-account sums would let a +1 and a -1 in one account cancel. */
static enum sy_rc audit_calls(struct audit *au)
{
	static const char unmatched[] = "SELECT COUNT(*) FROM cdrs c LEFT JOIN l.charges h ON h.call_id = c.a_call_id "
					"WHERE c.cost_micros != COALESCE(h.amount, 0)";
	static const char udr_unmatched[] =
	    "SELECT COUNT(*) FROM u.udrs d LEFT JOIN l.charges h ON h.call_id = '" UDR_CHARGE_REF_PREFIX
	    "' || d.id WHERE d.charge_micros != COALESCE(h.amount, 0)";
	static const char udr_matched[] = "SELECT COUNT(DISTINCT h.call_id) FROM u.udrs d JOIN l.charges h "
					  "ON h.call_id = '" UDR_CHARGE_REF_PREFIX "' || d.id";
	static const char *const sql[5] = {
	    unmatched,
	    "SELECT COUNT(*) FROM l.charges",
	    "SELECT COUNT(DISTINCT h.call_id) FROM cdrs c JOIN l.charges h ON h.call_id = c.a_call_id",
	    udr_unmatched,
	    udr_matched,
	};
	int64_t v[5] = {0};
	for (int i = 0; i < (au->cfg->udr_path != NULL ? 5 : 3); i++) {
		sqlite3_stmt *st;
		if (sqlite3_prepare_v2(au->cdrs, sql[i], -1, &st, NULL) != SQLITE_OK)
			return audit_fail(au, au->cdrs, "match cdrs with charges");
		int rc = sqlite3_step(st);
		v[i] = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
		sqlite3_finalize(st);
		if (rc != SQLITE_ROW)
			return audit_fail(au, au->cdrs, "match cdrs with charges");
	}
	au->out->cdrs_unmatched = (uint64_t)v[0];
	au->out->charges_without_cdr = (uint64_t)(v[1] - v[2] - v[4]);
	au->out->udrs_unmatched = (uint64_t)v[3];
	return SY_OK;
}

/* The ledger (and the UDRs) attached read-only (as the connection) before
 * the snapshot. */
static enum sy_rc audit_attach(struct audit *au, const char *sql, const char *path, const char *what)
{
	sqlite3_stmt *st;
	if (path == NULL)
		return SY_OK;
	if (sqlite3_prepare_v2(au->cdrs, sql, -1, &st, NULL) != SQLITE_OK)
		return audit_fail(au, au->cdrs, what);
	sqlite3_bind_text(st, 1, path, -1, SQLITE_STATIC);
	int rc = sqlite3_step(st);
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? SY_OK : audit_fail(au, au->cdrs, what);
}

/* ---- the comparison ---- */

static bool figure_add(struct audit_figure *f, int64_t a, int64_t b)
{
	if (a == b)
		return false;
	f->micros += a > b ? a - b : b - a;
	f->accounts++;
	return true;
}

static void audit_compare(struct audit *au)
{
	struct audit_result *r = au->out;
	for (uint32_t i = 0; i < au->n; i++) {
		const struct acct *a = &au->a[i];
		int64_t decrease = a->initial + a->credited - a->balance;
		bool bad = figure_add(&r->cdr_vs_rerate, a->rerated, a->cdr + a->udr);
		bad |= figure_add(&r->cdr_vs_ledger, a->cdr + a->udr, a->ledger);
		bad |= figure_add(&r->ledger_vs_balance, a->ledger, decrease);
		r->accounts += a->in_ledger;
		r->open_resv += a->open_resv;
		r->open_accounts += a->open_resv > 0;
		r->negative += a->prepaid && a->balance < 0;
		bad |= a->open_resv > 0 || (a->prepaid && a->balance < 0);
		if (!bad)
			continue;
		r->offenders++;
		if (r->shown_n == AUDIT_SHOW_MAX)
			continue;
		struct audit_row *w = &r->shown[r->shown_n++];
		*w = (struct audit_row){.rerated = a->rerated,
					.cdr = a->cdr,
					.udr = a->udr,
					.ledger = a->ledger,
					.decrease = decrease,
					.balance = a->balance,
					.open_resv = (uint32_t)SY_MIN(a->open_resv, UINT32_MAX)};
		snprintf(w->account, sizeof w->account, "%s", a->name);
	}
}

int64_t audit_total(const struct audit_result *r)
{
	return r->cdr_vs_rerate.micros + r->cdr_vs_ledger.micros + r->ledger_vs_balance.micros;
}

enum sy_rc audit_run(const struct audit_cfg *cfg, struct audit_result *out, char *err, size_t errlen)
{
	memset(out, 0, sizeof *out);
	struct audit *au = calloc(1, sizeof *au);
	if (au == NULL)
		return SY_ERR_NOMEM;
	*au = (struct audit){.cfg = cfg, .out = out, .err = err, .errlen = errlen};
	enum sy_rc rc = audit_open(au, cfg->cdr_path, &au->cdrs);
	if (rc == SY_OK)
		rc = audit_open(au, cfg->ledger_path, &au->ledger);
	if (rc == SY_OK)
		rc = audit_attach(au, "ATTACH DATABASE ? AS l", cfg->ledger_path, "attach the ledger");
	if (rc == SY_OK)
		rc = audit_attach(au, "ATTACH DATABASE ? AS u", cfg->udr_path, "attach the udrs");
	/* Read in one snapshot each, so the stores cannot move under the sums. */
	if (rc == SY_OK && (sqlite3_exec(au->cdrs, "BEGIN", NULL, NULL, NULL) != SQLITE_OK ||
			    sqlite3_exec(au->ledger, "BEGIN", NULL, NULL, NULL) != SQLITE_OK))
		rc = audit_fail(au, au->ledger, "begin");
	if (rc == SY_OK)
		rc = audit_setup(au, audit_count(au->ledger, "SELECT COUNT(*) FROM accounts"));
	if (rc == SY_OK)
		rc = audit_cdrs(au);
	if (rc == SY_OK)
		rc = audit_udrs(au);
	if (rc == SY_OK)
		rc = audit_ledger(au);
	if (rc == SY_OK)
		rc = audit_calls(au);
	if (rc == SY_OK)
		audit_compare(au);
	store_vfs_close(au->cdrs); /* a read transaction ends with its connection */
	store_vfs_close(au->ledger);
	route_trie_free(&au->callers);
	if (au->by_name.buckets != NULL)
		sy_htab_free(&au->by_name);
	free(au->a);
	free(au);
	return rc;
}
