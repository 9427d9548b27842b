/* test_audit.c: the end-of-run money audit (core/store/audit.h via
 * sim/audit.h) and the measured cut-off lateness, on a small prepaid
 * scenario run in the simulator. Each corruption is made on disk with a
 * sqlite UPDATE after the run, and each test also computes the check the
 * report used before (billing.conservation_error = charged - decrease of the
 * in-memory book): that one stays 0, the audit names the exact difference. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <cmocka.h>
#include <sqlite3.h>

#include "core/live/live.h"
#include "sim/audit.h"
#include "sim/run_int.h"

struct fx {
	char dir[64], tariff[96], out[96];
	struct sim_scenario *scn;
	struct sim_run *run;
};

/* 0.06/min = 1,000 micros a second in 6-second blocks: 0.05 pays 48 s. */
static const char tariff_csv[] = "Prefix,Description,Rate,Connection Fee,Increments,Minimum,Band,Service,Currency\n"
				 "1,USA,0.0600,0,6/6,0,,voice,USD\n";

static const char scn_fmt[] = "[run]\nduration = 4s\nseed = 7\ndrain = 120s\n\n"
			      "[tariff retail]\nfile = %s\n\n"
			      "[account sub]\ntype = prepaid\ncount = 10\ncallers = +1555000\n"
			      "balance = %s USD\ntariff = retail\n\n"
			      "[carrier tier1]\nprefixes = 1\nanswer = 100%% ring 1s..2s\nrate = 0.0050/min\n"
			      "link = latency 10ms\n\n[trunk callers]\naddress = 10.0.2.1\naccount = sub\n\n"
			      "[traffic voice]\ncps = 5\naccount = sub\nfrom = +1555000X\nto = +1XXXXXXXXXX\n"
			      "hold = exp 60s\nlink = latency 5ms\n\n"
			      "[expect]\n%s";

static const char expect_clean[] = "billing.cutoffs >= 1\n"
				   "billing.conservation_error == 0.00 USD\n"
				   "billing.audit.cdr_vs_rerate == 0.00 USD\n"
				   "billing.audit.cdr_vs_ledger == 0.00 USD\n"
				   "billing.audit.ledger_vs_balance == 0.00 USD\n"
				   "billing.audit.open_reservations == 0\n"
				   "billing.audit.negative == 0\n"
				   "billing.book_violations == 0\n"
				   "billing.cutoff_late_max == 0ms\n";

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	strcpy(f->dir, "/tmp/sy-audit.XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->tariff, sizeof(f->tariff), "%s/t.csv", f->dir);
	snprintf(f->out, sizeof(f->out), "%s/out", f->dir);
	FILE *t = fopen(f->tariff, "w");
	fputs(tariff_csv, t);
	fclose(t);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	sim_run_destroy(f->run);
	sim_scenario_free(f->scn);
	char cmd[160];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
	assert_int_equal(system(cmd), 0);
	free(f);
	return 0;
}

/* Runs the scenario to its end; returns the failed expectations. The run
 * stays alive (its book in memory) for the old check. */
static size_t run_balance(struct fx *f, const char *balance, const char *expect, uint64_t timer_late_ns)
{
	char text[2048], err[256];
	snprintf(text, sizeof(text), scn_fmt, f->tariff, balance, expect);
	assert_int_equal(sim_scenario_parse_string(text, "audit.scn", &f->scn, err, sizeof(err)), SY_OK);
	struct sim_run_opts o = {.out_dir = f->out, .log_level = SY_LOG_ERROR, .switch_timer_late_ns = timer_late_ns};
	assert_int_equal(sim_run_create(f->scn, &o, &f->run, err, sizeof(err)), SY_OK);
	while (sim_run_step(f->run, SY_NS_PER_S))
		;
	return sim_run_finish(f->run, NULL, NULL);
}

static size_t run(struct fx *f, const char *expect, uint64_t timer_late_ns)
{
	return run_balance(f, "0.05", expect, timer_late_ns);
}

/* The figure billing.conservation_error had before the audit. */
static int64_t old_conservation_error(struct fx *f)
{
	int64_t charged = 0, decrease = 0;
	callbill_conserved(f->run->sw->bill, &charged, &decrease);
	return charged - decrease;
}

static void corrupt(struct fx *f, const char *db, const char *sql)
{
	char path[160];
	sqlite3 *h;
	snprintf(path, sizeof(path), "%s/%s", f->out, db);
	assert_int_equal(sqlite3_open(path, &h), SQLITE_OK);
	assert_int_equal(sqlite3_exec(h, sql, NULL, NULL, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_changes(h), 1);
	sqlite3_close(h);
}

static void audit(struct fx *f, struct audit_result *a)
{
	char err[320];
	assert_int_equal(sim_audit_money(sy_live_files(), &f->run->node->billing, &f->run->node->ussd, f->out, a, err, sizeof(err)), SY_OK);
}

static void test_clean_run(void **state)
{
	struct fx *f = *state;
	assert_int_equal(run(f, expect_clean, 0), 0);
	struct audit_result a;
	audit(f, &a);
	assert_int_equal(a.cdrs, b2bua_stats(f->run->sw->b2bua)->cdrs);
	assert_true(a.cdrs > 0 && a.cdr_micros > 0);
	assert_int_equal(a.accounts, 10);
	assert_int_equal(audit_total(&a), 0);
	assert_int_equal(a.offenders, 0);
	assert_int_equal(a.cdrs_misrated + a.cdrs_unmatched + a.charges_without_cdr, 0);
}

/* One charge row one micro-unit high: the CDRs and the balance row both
 * disagree with it, for that account only. */
static void test_ledger_charge_corrupted(void **state)
{
	struct fx *f = *state;
	assert_int_equal(run(f, expect_clean, 0), 0);
	corrupt(f, "ledger.sqlite",
		"UPDATE charges SET amount = amount + 1 WHERE call_id = "
		"(SELECT call_id FROM charges WHERE amount > 0 ORDER BY call_id LIMIT 1)");
	assert_int_equal(old_conservation_error(f), 0); /* the old check passes */
	struct audit_result a;
	audit(f, &a);
	assert_int_equal(a.cdr_vs_rerate.micros, 0);
	assert_int_equal(a.cdr_vs_ledger.micros, 1);
	assert_int_equal(a.cdr_vs_ledger.accounts, 1);
	assert_int_equal(a.ledger_vs_balance.micros, 1);
	assert_int_equal(a.ledger_vs_balance.accounts, 1);
	assert_int_equal(a.offenders, 1);
	assert_int_equal(a.shown_n, 1);
	assert_int_equal(a.shown[0].ledger - a.shown[0].cdr, 1);
	assert_int_equal(a.cdrs_unmatched, 1);
	assert_int_equal(a.cdrs_misrated, 0);
	/* and through the report: its [expect] on the figure now fails */
	assert_int_equal(sim_run_finish(f->run, NULL, NULL), 3);
}

/* The balance row one micro-unit low: only the ledger disagrees with itself. */
static void test_ledger_balance_corrupted(void **state)
{
	struct fx *f = *state;
	assert_int_equal(run(f, expect_clean, 0), 0);
	corrupt(f, "ledger.sqlite", "UPDATE accounts SET balance = balance - 1 WHERE name = 'sub-3'");
	assert_int_equal(old_conservation_error(f), 0);
	struct audit_result a;
	audit(f, &a);
	assert_int_equal(audit_total(&a), 1);
	assert_int_equal(a.ledger_vs_balance.micros, 1);
	assert_int_equal(a.ledger_vs_balance.accounts, 1);
	assert_string_equal(a.shown[0].account, "sub-3");
	assert_int_equal(a.shown[0].decrease - a.shown[0].ledger, 1);
}

/* One CDR's cost one micro-unit high: the re-rating and the ledger both
 * disagree with the CDRs. */
static void test_cdr_cost_corrupted(void **state)
{
	struct fx *f = *state;
	assert_int_equal(run(f, expect_clean, 0), 0);
	corrupt(f, "cdrs.sqlite",
		"UPDATE cdrs SET cost_micros = cost_micros + 1 WHERE rowid = "
		"(SELECT min(rowid) FROM cdrs WHERE cost_micros > 0)");
	assert_int_equal(old_conservation_error(f), 0);
	struct audit_result a;
	audit(f, &a);
	assert_int_equal(a.cdr_vs_rerate.micros, 1);
	assert_int_equal(a.cdr_vs_rerate.accounts, 1);
	assert_int_equal(a.cdr_vs_ledger.micros, 1);
	assert_int_equal(a.cdr_vs_ledger.accounts, 1);
	assert_int_equal(a.ledger_vs_balance.micros, 0);
	assert_int_equal(audit_total(&a), 2);
	assert_int_equal(a.cdrs_misrated, 1);
	assert_int_equal(a.cdrs_unmatched, 1);
}

/* A +1 on one call and a -1 on another of the same account cancel in the
 * account's sums; the call-by-call counts still see both. A charge row
 * whose call has no CDR is counted too. */
static void test_compensating_rows(void **state)
{
	struct fx *f = *state;
	/* 1.00 a member: every call is answered, some accounts make two */
	assert_int_equal(run_balance(f, "1.00", "billing.conservation_error == 0.00 USD\n", 0), 0);
	static const char two[] = "(SELECT account FROM charges WHERE amount > 0 GROUP BY account "
				  "HAVING COUNT(*) >= 2 ORDER BY account LIMIT 1)";
	char sql[512];
	snprintf(sql, sizeof(sql),
		 "UPDATE charges SET amount = amount + 1 WHERE call_id = "
		 "(SELECT call_id FROM charges WHERE account = %s ORDER BY call_id LIMIT 1)",
		 two);
	corrupt(f, "ledger.sqlite", sql);
	snprintf(sql, sizeof(sql),
		 "UPDATE charges SET amount = amount - 1 WHERE call_id = "
		 "(SELECT call_id FROM charges WHERE account = %s ORDER BY call_id DESC LIMIT 1)",
		 two);
	corrupt(f, "ledger.sqlite", sql);
	corrupt(f, "ledger.sqlite", "INSERT INTO charges (call_id,account,amount) VALUES ('ghost','sub-5',0)");
	struct audit_result a;
	audit(f, &a);
	assert_int_equal(audit_total(&a), 0);
	assert_int_equal(a.cdrs_unmatched, 2);
	assert_int_equal(a.charges_without_cdr, 1);
}

/* An audit that cannot read a store has found nothing: it says why, and
 * its figures are missing from the report, so every [expect] on them fails
 * (six in expect_clean) instead of passing on zeros. */
static void test_unreadable_store(void **state)
{
	struct fx *f = *state;
	assert_int_equal(run(f, expect_clean, 0), 0);
	char path[160], err[320];
	snprintf(path, sizeof(path), "%s/ledger.sqlite", f->out);
	assert_int_equal(unlink(path), 0);
	struct audit_result a;
	assert_int_equal(sim_audit_money(sy_live_files(), &f->run->node->billing, &f->run->node->ussd, f->out, &a, err, sizeof(err)), SY_ERR_IO);
	assert_non_null(strstr(err, "ledger.sqlite"));
	assert_int_equal(sim_run_finish(f->run, NULL, NULL), 6);
}

/* A reservation left open and a prepaid balance below zero are named too. */
static void test_open_and_negative(void **state)
{
	struct fx *f = *state;
	assert_int_equal(run(f, expect_clean, 0), 0);
	corrupt(f, "ledger.sqlite", "INSERT INTO reservations (call_id,account,held,used) VALUES ('x','sub-1',5,0)");
	corrupt(f, "ledger.sqlite",
		"UPDATE accounts SET balance = -1, initial = initial - balance - 1 WHERE name = 'sub-2'");
	struct audit_result a;
	audit(f, &a);
	assert_int_equal(a.open_resv, 1);
	assert_int_equal(a.open_accounts, 1);
	assert_int_equal(a.negative, 1);
	assert_int_equal(audit_total(&a), 0); /* initial moved with the balance */
	assert_int_equal(a.offenders, 2);
}

/* The switch's timers fire 7 ms late (a loaded event loop): every call cut
 * for money ends 7 ms after its money ran out, and the report says so. The
 * old figure was 0 whatever happened, so `== 0ms` passed; now it fails. */
static void test_late_cutoff_timer(void **state)
{
	struct fx *f = *state;
	const uint64_t late = 7 * SY_NS_PER_MS;
	assert_int_equal(run(f,
			     "billing.cutoffs >= 1\n"
			     "billing.cutoff_late_max == 7ms\n"
			     "billing.cutoff_late_p99 == 7ms\n"
			     "billing.cutoff_early == 0\n"
			     "billing.cutoff_late_max == 0ms\n",
			     late),
			 1); /* the last line only */
	struct callbill_stats st;
	callbill_stats(f->run->sw->bill, &st);
	assert_true(st.cutoffs >= 1);
	assert_int_equal(st.cutoff_late_max_ns, late);
	/* The CDRs keep the real duration (48.007 s) while the charge stops at
	 * the covered 48 s, so the batch re-rater bills each cut call one more
	 * 6-second block (6,000 micros): the audit shows the late timer too. */
	struct audit_result a;
	audit(f, &a);
	assert_int_equal(a.cdr_vs_rerate.micros, (int64_t)st.cutoffs * 6000);
	assert_int_equal(a.cdr_vs_ledger.micros, 0);
	assert_int_equal(a.ledger_vs_balance.micros, 0);
}

/* ---- USSD: the UDRs' charges on the records' side ---- */

/* *456# 0.01 a session, *123# 0.002 a step; a menu the gateway serves. */
static const char ussd_tariff_csv[] = "Prefix,Description,Rate,Connection Fee,Increments,Minimum,Band,Service,Currency\n"
				      "456,Wallet,0.0100,,,,,ussd,USD\n"
				      "123,Bank,0.0020,,,,,ussd,USD\n";

static const char ussd_scn_fmt[] =
    "[run]\nduration = 4s\nseed = 5\ndrain = 60s\n\n"
    "[ussd]\nlisten = 10.0.0.1:2776\n\n"
    "[ussd-link operator]\nmode = accept\nsystem_id = ussdnode\npassword = Node2026\n\n"
    "[tariff ussd]\nfile = %s\n\n"
    "[account subs]\ntype = prepaid\ncount = 10\ncallers = 25470000000\nbalance = 1.00 USD\ntariff = ussd\n\n"
    "[ussd-service *123#]\nmenu = m\ncharge = step\n\n"
    "[ussd-service *456#]\nmenu = m\ncharge = session\n\n"
    "[ussd-menu m]\nstart = main\nscreen main = Menu\\n1. Balance\\n2. More\noption main 1 = bal\n"
    "option main 2 = more\nend bal = Balance 1.00\nscreen more = More\\n1. Done\noption more 1 = bal\n\n"
    "[traffic ussd]\nrate = 5\nstart = 1s\ncodes = *123# 50%% *456# 50%%\npaths = 1 50%%, 2*1 50%%\n"
    "think = lognormal 1s 0.5\nmsisdn = 2547XXXXXXXX\nhandsets = 10\nlink = latency 5ms\n\n"
    "[expect]\nbilling.conservation_error == 0.00 USD\nussd.refused == 0\n";

static void run_ussd(struct fx *f)
{
	FILE *t = fopen(f->tariff, "w");
	fputs(ussd_tariff_csv, t);
	fclose(t);
	char text[2048], err[256];
	snprintf(text, sizeof(text), ussd_scn_fmt, f->tariff);
	assert_int_equal(sim_scenario_parse_string(text, "audit-ussd.scn", &f->scn, err, sizeof(err)), SY_OK);
	struct sim_run_opts o = {.out_dir = f->out, .log_level = SY_LOG_ERROR};
	assert_int_equal(sim_run_create(f->scn, &o, &f->run, err, sizeof(err)), SY_OK);
	while (sim_run_step(f->run, SY_NS_PER_S))
		;
	assert_int_equal(sim_run_finish(f->run, NULL, NULL), 0);
}

/* Every charged session's UDR is on the records' side of its account:
 * balanced, each UDR re-rated to its charge and matched to its charges row. */
static void test_ussd_balanced(void **state)
{
	struct fx *f = *state;
	run_ussd(f);
	struct audit_result a;
	audit(f, &a);
	assert_true(a.udrs_read);
	assert_int_equal(a.cdrs, 0);
	assert_true(a.udrs >= 10);
	struct callbill_stats cs;
	callbill_stats(f->run->sw->bill, &cs); /* no calls: the revenue is the sessions' */
	assert_int_equal(a.udr_micros, cs.revenue_micros);
	assert_true(a.udr_micros > 0);
	assert_int_equal(audit_total(&a), 0);
	assert_int_equal(a.offenders, 0);
	assert_int_equal(a.udrs_misrated + a.udrs_unmatched + a.charges_without_cdr, 0);
}

/* A session's charge missing from the ledger (its charges row deleted): the
 * records exceed the ledger by exactly that charge, on one account, and the
 * UDR has no charge row; the balance row still has the money taken. */
static void test_ussd_charge_missing(void **state)
{
	struct fx *f = *state;
	run_ussd(f);
	char path[160];
	snprintf(path, sizeof(path), "%s/ledger.sqlite", f->out);
	sqlite3 *h;
	sqlite3_stmt *st;
	assert_int_equal(sqlite3_open(path, &h), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(h, "SELECT amount FROM charges WHERE amount > 0 ORDER BY call_id LIMIT 1", -1,
					    &st, NULL),
			 SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	int64_t gone = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	sqlite3_close(h);
	corrupt(f, "ledger.sqlite",
		"DELETE FROM charges WHERE call_id = (SELECT call_id FROM charges WHERE amount > 0 ORDER BY call_id LIMIT 1)");
	assert_int_equal(old_conservation_error(f), 0); /* the book never knew */
	struct audit_result a;
	audit(f, &a);
	assert_true(gone > 0);
	assert_int_equal(a.cdr_vs_rerate.micros, 0);
	assert_int_equal(a.cdr_vs_ledger.micros, gone);
	assert_int_equal(a.cdr_vs_ledger.accounts, 1);
	assert_int_equal(a.ledger_vs_balance.micros, gone);
	assert_int_equal(a.udrs_unmatched, 1);
	assert_int_equal(a.udrs_misrated, 0);
	assert_int_equal(a.shown_n, 1);
	assert_int_equal(a.shown[0].udr - a.shown[0].ledger, gone);
	/* and the report's [expect] on the conservation error now fails */
	assert_int_equal(sim_run_finish(f->run, NULL, NULL), 1);
}

/* A UDR whose charge is one micro-unit off its re-rating (the tariff's row
 * times its units) is seen by the re-rating, and against the ledger. */
static void test_ussd_udr_misrated(void **state)
{
	struct fx *f = *state;
	run_ussd(f);
	corrupt(f, "udrs.sqlite",
		"UPDATE udrs SET charge_micros = charge_micros + 1 WHERE rowid = "
		"(SELECT min(rowid) FROM udrs WHERE charge_micros > 0)");
	struct audit_result a;
	audit(f, &a);
	assert_int_equal(a.cdr_vs_rerate.micros, 1);
	assert_int_equal(a.cdr_vs_ledger.micros, 1);
	assert_int_equal(a.ledger_vs_balance.micros, 0);
	assert_int_equal(a.udrs_misrated, 1);
	assert_int_equal(a.udrs_unmatched, 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_clean_run, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_ledger_charge_corrupted, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_ledger_balance_corrupted, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_cdr_cost_corrupted, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_compensating_rows, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_unreadable_store, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_open_and_negative, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_late_cutoff_timer, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_ussd_balanced, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_ussd_charge_missing, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_ussd_udr_misrated, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
