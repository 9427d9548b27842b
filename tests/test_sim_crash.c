/* test_sim_crash.c: a node crash as kill -9. The abandon paths leave on disk
 * only what was committed (CDR batch, ledger batch); a simulated crash keeps
 * the dead switch's counters in the run's totals and accounts for every call
 * (a CDR on disk, a CDR lost with the unflushed batch, or lost in progress);
 * the carrier counts the re-sends it did not deduplicate as duplicates. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "core/live/live.h"
#include "core/store/cdr.h"
#include "core/store/ledger.h"
#include "sim/run_int.h"

#define U 1000000LL

static int rm_entry(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb, (void)flag, (void)ftw;
	return remove(p);
}

static int setup_dir(void **state)
{
	static char dir[64];
	snprintf(dir, sizeof dir, "/tmp/sy_test_crash.XXXXXX");
	if (mkdtemp(dir) == NULL)
		return -1;
	*state = dir;
	return 0;
}

static int teardown_dir(void **state)
{
	nftw(*state, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	return 0;
}

static uint64_t lines_of(const char *path)
{
	FILE *f = fopen(path, "r");
	uint64_t n = 0;
	if (f == NULL)
		return 0;
	for (int c; (c = fgetc(f)) != EOF;)
		n += c == '\n';
	fclose(f);
	return n;
}

/* ---- abandon: the unflushed batch never reaches the files ---- */

static void test_cdr_abandon_drops_batch(void **state)
{
	const char *dir = *state;
	struct cdr_store *s;
	assert_int_equal(cdr_store_open(sy_live_files(), dir, NULL, &s), SY_OK);
	for (uint64_t i = 1; i <= 8; i++) {
		struct cdr c = {.id = i, .start_ns = i * SY_NS_PER_S, .end_ns = i * SY_NS_PER_S + 1};
		CDR_SET_STR(&c, carrier, SY_STR("tier1"));
		assert_int_equal(cdr_store_add(s, &c), SY_OK);
		if (i == 5)
			assert_int_equal(cdr_store_flush(s), SY_OK); /* 1..5 committed */
	}
	assert_int_equal(cdr_store_abandon(s), 3); /* 6..8 were in the batch */
	uint64_t rows = 99;
	char err[256];
	assert_int_equal(cdr_store_count_rows(sy_live_files(), dir, &rows, err, sizeof err), SY_OK);
	assert_int_equal(rows, 5);
	char csv[128];
	snprintf(csv, sizeof csv, "%s/cdrs.csv", dir);
	assert_int_equal(lines_of(csv), 1 + 5); /* header and the committed rows */
	/* A restarted node continues after the last CDR on disk. */
	assert_int_equal(cdr_store_open(sy_live_files(), dir, NULL, &s), SY_OK);
	assert_int_equal(cdr_store_last_id(s), 5);
	assert_int_equal(cdr_store_close(s), SY_OK);
	/* Nothing written at all: no file, no rows. */
	assert_int_equal(
	    cdr_store_count_rows(sy_live_files(), "/tmp/sy-no-such-dir-for-crash-test", &rows, err, sizeof err), SY_OK);
	assert_int_equal(rows, 0);
}

static void test_ledger_crash_drops_batch(void **state)
{
	const char *dir = *state;
	char path[128], err[LEDGER_ERRMSG_MAX];
	snprintf(path, sizeof path, "%s/ledger.sqlite", dir);
	struct bill_book_opts bo = {.accounts_max = 8, .resv_max = 64};
	struct ledger *l;
	struct bill_book *b;
	struct ledger_recovery rec;
	assert_int_equal(ledger_open(sy_live_files(), path, NULL, &l, err, sizeof err), SY_OK);
	assert_int_equal(bill_book_new(&bo, &b), SY_OK);
	assert_int_equal(ledger_recover(l, b, &rec), SY_OK);
	struct bill_account_def d = {
	    .name = SY_STR("acme"), .currency = SY_STR("EUR"), .kind = BILL_PREPAID, .balance_micros = 50 * U};
	assert_int_equal(bill_account_add(b, &d), SY_OK);
	bill_resv_id r;
	assert_int_equal(bill_reserve(b, SY_STR("acme"), SY_STR("call-1"), 10 * U, 10 * U, &r, NULL), SY_OK);
	assert_int_equal(bill_commit(b, r, 3 * U, NULL), SY_OK);
	assert_int_equal(ledger_commit(l), SY_OK); /* call-1 is durable */
	assert_int_equal(bill_reserve(b, SY_STR("acme"), SY_STR("call-2"), 10 * U, 10 * U, &r, NULL), SY_OK);
	assert_int_equal(bill_commit(b, r, 4 * U, NULL), SY_OK);
	assert_int_equal(ledger_crash_at("/tmp/not-this-one.sqlite"), 0);
	assert_true(ledger_crash_at(path) >= 2); /* call-2's reserve and commit */
	/* The owner goes on, unaware: nothing more reaches the file. */
	assert_int_not_equal(bill_reserve(b, SY_STR("acme"), SY_STR("call-3"), 1 * U, 1 * U, &r, NULL), SY_OK);
	assert_int_equal(ledger_close(l), SY_OK);
	bill_book_free(b);

	assert_int_equal(ledger_open(sy_live_files(), path, NULL, &l, err, sizeof err), SY_OK);
	assert_true(ledger_charged(l, SY_STR("call-1"), NULL));
	assert_false(ledger_charged(l, SY_STR("call-2"), NULL));
	assert_false(ledger_charged(l, SY_STR("call-3"), NULL));
	ledger_abandon(l);
}

/* ---- a simulated crash ---- */

static struct sim_run *run_text(const char *text, const char *dir, struct sim_scenario **scn)
{
	char err[512];
	if (sim_scenario_parse_string(text, "crash.scn", scn, err, sizeof err) != SY_OK)
		fail_msg("%s", err);
	struct sim_run_opts o = {.out_dir = dir, .log_level = SY_LOG_ERROR};
	struct sim_run *r;
	if (sim_run_create(*scn, &o, &r, err, sizeof err) != SY_OK)
		fail_msg("%s", err);
	while (sim_run_step(r, SY_NS_PER_S))
		;
	return r;
}

/* The metric as report.json gives it (counts are plain integers). */
static int64_t json_metric(const char *dir, const char *name)
{
	char path[128], key[64];
	snprintf(path, sizeof path, "%s/report.json", dir);
	FILE *f = fopen(path, "r");
	assert_non_null(f);
	static char buf[1 << 16];
	size_t n = fread(buf, 1, sizeof buf - 1, f);
	fclose(f);
	buf[n] = '\0';
	snprintf(key, sizeof key, "\"%s\":", name);
	const char *p = strstr(buf, key);
	if (p == NULL)
		fail_msg("no metric %s in report.json", name);
	return strtoll(p + strlen(key), NULL, 10);
}

static const char voice_crash[] = "[run]\nduration = 12s\nseed = 7\ndrain = 40s\n\n"
				  "[carrier tier1]\nprefixes = 1\nanswer = 90% ring 1s..2s\n\n[trunk callers]\naddress = 10.0.2.1\n\n"
				  "[traffic voice]\ncps = 30\nto = +1XXXXXXXXXX\nhold = exp 6s\n\n"
				  "[fault]\nat = 5s\nnode = switch crash 1s\n";

static void test_crash_counters_summed(void **state)
{
	const char *dir = *state;
	struct sim_scenario *scn;
	struct sim_run *r = run_text(voice_crash, dir, &scn);
	assert_int_equal(sim_run_finish(r, NULL, NULL), 0);
	assert_int_equal(r->crashes, 1);
	assert_non_null(r->sw);
	const struct b2bua_stats *live = b2bua_stats(r->sw->b2bua);
	const struct b2bua_stats *dead = &r->dead.b2b;
	struct sim_voice_totals t;
	sim_run__voice_totals(r, &t);
	/* both instances took calls, and the run's totals are their sum */
	assert_true(dead->attempts > 0 && live->attempts > 0);
	assert_int_equal(t.b2b.attempts, dead->attempts + live->attempts);
	assert_int_equal(t.b2b.answered, dead->answered + live->answered);
	assert_int_equal(t.sip.rx_msgs, r->dead.sip.rx_msgs + sip_stack_stats(b2bua_stack(r->sw->b2bua))->rx_msgs);
	assert_int_equal(t.carriers[0].attempts, t.b2b.attempts);
	assert_int_equal(json_metric(dir, "calls.attempted"), (int64_t)t.b2b.attempts);
	/* every call is accounted for: a CDR, in progress, or lost in the crash */
	assert_true(r->crash.calls_lost > 0);
	assert_int_equal(dead->active, r->crash.calls_lost);
	assert_int_equal(t.b2b.attempts, t.b2b.cdrs + t.b2b.active + r->crash.calls_lost);
	assert_int_equal(json_metric(dir, "crash.calls_lost"), (int64_t)r->crash.calls_lost);
	assert_int_equal(json_metric(dir, "cdr.missing"), 0);
	/* every CDR emitted is on disk but the batch the crash dropped */
	uint64_t rows;
	char err[256];
	assert_int_equal(cdr_store_count_rows(sy_live_files(), dir, &rows, err, sizeof err), SY_OK);
	assert_int_equal(rows + r->crash.cdrs_dropped, t.b2b.cdrs);
	assert_int_equal(json_metric(dir, "cdr.count"), (int64_t)rows);
	assert_int_equal(json_metric(dir, "cdr.lost"), (int64_t)r->crash.cdrs_dropped);
	/* this seed's crash finds one ended call's CDR in the unflushed batch */
	assert_int_equal(r->crash.cdrs_dropped, 1);
	/* every call the callers made reached one instance or the other (an
	 * INVITE sent while the node was down is retransmitted to the new one) */
	assert_int_equal(t.b2b.attempts, uac_stats(r->uac)->attempted);
	sim_run_destroy(r);
	sim_scenario_free(scn);
}

static const char sms_crash[] = "[run]\nduration = 12s\nseed = 5\ndrain = 40s\n\n"
				"[account app]\nsmpp = yes\npassword = secret\ntps = 2000\n\n"
				"[smpp-carrier alpha]\nprefixes = 1\nbinds = 2\nwindow = 50\ndedup = %s\n"
				"delivery = 100%% delay 500ms..3s\nlink = latency 10ms jitter 2ms\n\n"
				"[traffic sms]\naccount = app\ntps = 400\nbinds = 2\nwindow = 20\n"
				"to = +1XXXXXXXXXX\nlength = 20..160\nlink = latency 5ms\n\n"
				"[fault]\nat = 6s\nnode = switch crash 2s\n";

static void sms_run(const char *dir, const char *dedup, struct smsc_peer_stats *out)
{
	char text[sizeof sms_crash + 8];
	snprintf(text, sizeof text, sms_crash, dedup);
	struct sim_scenario *scn;
	struct sim_run *r = run_text(text, dir, &scn);
	sim_run_finish(r, NULL, NULL);
	assert_int_equal(r->crashes, 1);
	*out = *smsc_peer_stats(r->sms_peers[0]);
	assert_int_equal(json_metric(dir, "sms.duplicate"), (int64_t)out->duplicates);
	assert_int_equal(json_metric(dir, "sms.carrier_deduped"), (int64_t)out->deduped);
	assert_int_equal(json_metric(dir, "sms.lost"), 0);
	assert_true(json_metric(dir, "sms.resent_after_crash") > 0);
	sim_run_destroy(r);
	sim_scenario_free(scn);
}

static void test_sms_duplicate_counts_resends(void **state)
{
	const char *dir = *state;
	struct smsc_peer_stats yes, no;
	/* The only carrier the simulator used to have deduplicates: the crash's
	 * re-sends are answered with the first id and land once. The old
	 * sms.duplicate (key repeats minus the deduplicated) is 0 there. */
	sms_run(dir, "yes", &yes);
	assert_true(yes.deduped > 0);
	assert_int_equal(yes.duplicates, 0);
	assert_int_equal(yes.key_repeats - yes.deduped, 0);
	/* A carrier that does not deduplicate delivers them twice, and
	 * sms.duplicate says so, within the window. */
	sms_run(dir, "no", &no);
	assert_int_equal(no.deduped, 0);
	assert_true(no.duplicates > 0);
	assert_true(no.duplicates <= 2 * 50 + 400 * 5 / 1000 + 1);
}

/* Billing flows (revenue, authorizations, cut-offs) cover the instance the
 * crash killed too, not only the restarted one. */
static const char billed_crash[] = "[run]\nduration = 12s\nseed = 5\ndrain = 60s\n\n"
				   "[tariff retail]\nfile = scenarios/tariffs/retail.csv\n\n"
				   "[account sub]\ntype = prepaid\ncount = 100\ncallers = +15550000\n"
				   "balance = 0.005 USD\ntariff = retail\n\n"
				   "[carrier tier1]\nprefixes = 1\nanswer = 90% ring 1s..2s\n\n[trunk callers]\naddress = 10.0.2.1\naccount = sub\n\n"
				   "[traffic voice]\ncps = 20\naccount = sub\nfrom = +15550000XXX\n"
				   "to = +1XXXXXXXXXX\nhold = exp 30s\n\n"
				   "[fault]\nat = 6s\nnode = switch crash 1s\n";

static void test_crash_billing_summed(void **state)
{
	const char *dir = *state;
	struct sim_scenario *scn;
	struct sim_run *r = run_text(billed_crash, dir, &scn);
	sim_run_finish(r, NULL, NULL);
	assert_int_equal(r->crashes, 1);
	assert_non_null(r->sw);
	assert_non_null(r->sw->bill);
	struct callbill_stats live;
	callbill_stats(r->sw->bill, &live);
	const struct callbill_stats *dead = &r->dead.bill;
	assert_true(r->dead.billed);
	assert_true(dead->authorized > 0 && live.authorized > 0);
	assert_true(dead->revenue_micros > 0 && live.revenue_micros > 0);
	assert_int_equal(json_metric(dir, "billing.authorized"), (int64_t)(dead->authorized + live.authorized));
	assert_int_equal(json_metric(dir, "billing.cutoffs"), (int64_t)(dead->cutoffs + live.cutoffs));
	assert_true(dead->cutoffs + live.cutoffs > 0);
	sim_run_destroy(r);
	sim_scenario_free(scn);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_cdr_abandon_drops_batch, setup_dir, teardown_dir),
	    cmocka_unit_test_setup_teardown(test_ledger_crash_drops_batch, setup_dir, teardown_dir),
	    cmocka_unit_test_setup_teardown(test_crash_counters_summed, setup_dir, teardown_dir),
	    cmocka_unit_test_setup_teardown(test_crash_billing_summed, setup_dir, teardown_dir),
	    cmocka_unit_test_setup_teardown(test_sms_duplicate_counts_resends, setup_dir, teardown_dir),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
