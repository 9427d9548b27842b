/* test_ledger.c: the billing ledger: balances survive a clean restart
 * exactly; a crash (the last batch never committed, and a real SIGKILL of a
 * child process) is reconciled by charging open reservations for their last
 * committed checkpoint; recovery and repeated commits never charge a call
 * twice; duplicate open call ids and config-vs-persisted accounts. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/live/live.h"
#include "tests/faultfs.h"
#include "core/store/ledger.h"

#define U BILL_MICROS_PER_UNIT

struct fixture {
	char dir[64];
	char path[128];
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof *f);
	snprintf(f->dir, sizeof f->dir, "/tmp/sy_test_ledger.XXXXXX");
	if (mkdtemp(f->dir) == NULL)
		return -1;
	snprintf(f->path, sizeof f->path, "%s/ledger.sqlite", f->dir);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	char p[160];
	const char *sfx[] = {"", "-wal", "-shm"};
	for (size_t i = 0; i < SY_ARRAY_LEN(sfx); i++) {
		snprintf(p, sizeof p, "%s%s", f->path, sfx[i]);
		unlink(p);
	}
	rmdir(f->dir);
	free(f);
	return 0;
}

/* Opens the ledger and a fresh book, and recovers the book from it. */
static void start(const struct fixture *f, struct ledger **l, struct bill_book **b, struct ledger_recovery *rec)
{
	char err[LEDGER_ERRMSG_MAX];
	struct bill_book_opts bo = {.accounts_max = 8, .resv_max = 64};
	assert_int_equal(ledger_open(sy_live_files(), f->path, NULL, l, err, sizeof err), SY_OK);
	assert_int_equal(bill_book_new(&bo, b), SY_OK);
	struct ledger_recovery r;
	assert_int_equal(ledger_recover(*l, *b, rec != NULL ? rec : &r), SY_OK);
}

static void add_acct(struct bill_book *b, const char *name, enum bill_kind k, int64_t bal, int64_t credit)
{
	struct bill_account_def d = {.name = sy_str_from(name),
				     .currency = SY_STR("EUR"),
				     .kind = k,
				     .balance_micros = bal,
				     .credit_limit_micros = credit};
	assert_int_equal(bill_account_add(b, &d), SY_OK);
}

static struct bill_account_info info(struct bill_book *b, const char *name)
{
	struct bill_account_info i;
	assert_int_equal(bill_account_get(b, sy_str_from(name), &i), SY_OK);
	return i;
}

static void test_clean_restart(void **state)
{
	struct fixture *f = *state;
	struct ledger *l;
	struct bill_book *b;
	struct ledger_recovery rec;
	start(f, &l, &b, &rec);
	assert_int_equal(rec.accounts, 0);
	add_acct(b, "pre", BILL_PREPAID, 50 * U, 0);
	add_acct(b, "post", BILL_POSTPAID, -2 * U, 30 * U);
	bill_resv_id r;
	assert_int_equal(bill_reserve(b, SY_STR("pre"), SY_STR("call-1"), 10 * U, 10 * U, &r, NULL), SY_OK);
	assert_int_equal(bill_extend(b, r, 10 * U, 7 * U, NULL, NULL), SY_OK);
	assert_int_equal(bill_commit(b, r, 12345678, NULL), SY_OK);
	assert_int_equal(bill_reserve(b, SY_STR("post"), SY_STR("call-2"), 5 * U, 5 * U, &r, NULL), SY_OK);
	assert_int_equal(bill_commit(b, r, 3 * U, NULL), SY_OK);
	assert_int_equal(bill_account_topup(b, SY_STR("pre"), 1, SY_STR("pay-1")), SY_OK);
	assert_int_equal(bill_account_suspend(b, SY_STR("post"), true), SY_OK);
	struct ledger_stats st;
	ledger_stats(l, &st);
	assert_int_equal(st.pending, 9);
	assert_int_equal(ledger_close(l), SY_OK);
	bill_book_free(b);

	start(f, &l, &b, &rec);
	assert_int_equal(rec.accounts, 2);
	assert_int_equal(rec.resv_reconciled, 0);
	struct bill_account_info i = info(b, "pre");
	assert_int_equal(i.balance_micros, 50 * U - 12345678 + 1);
	assert_int_equal(i.charged_micros, 12345678);
	assert_int_equal(i.credited_micros, 1);
	assert_int_equal(i.initial_micros, 50 * U);
	assert_true(sy_str_eq(i.currency, SY_STR("EUR")));
	i = info(b, "post");
	assert_int_equal(i.balance_micros, -5 * U);
	assert_int_equal(i.credit_limit_micros, 30 * U);
	assert_int_equal(i.kind, BILL_POSTPAID);
	assert_true(i.suspended);
	int64_t c, d;
	assert_true(bill_conservation_ok(b, &c, &d));
	assert_int_equal(c, 12345678 + 3 * U);
	/* Config naming a persisted account does not reset its balance. */
	struct bill_account_def again = {
	    .name = SY_STR("pre"), .currency = SY_STR("EUR"), .kind = BILL_PREPAID, .balance_micros = 50 * U};
	assert_int_equal(bill_account_add(b, &again), SY_ERR_STATE);
	assert_int_equal(info(b, "pre").balance_micros, 50 * U - 12345678 + 1);
	assert_int_equal(ledger_close(l), SY_OK);
	bill_book_free(b);
}

/* Batch 1 (committed): accounts, three calls opened, checkpoints.
 * Batch 2 (lost): more extends and checkpoints, one call committed. */
static void crash_workload(struct ledger *l, struct bill_book *b)
{
	add_acct(b, "alice", BILL_PREPAID, 10 * U, 0);
	add_acct(b, "bob", BILL_POSTPAID, 0, 5 * U);
	bill_resv_id a1, a2, b1;
	assert_int_equal(bill_reserve(b, SY_STR("alice"), SY_STR("a1"), 3 * U, 3 * U, &a1, NULL), SY_OK);
	assert_int_equal(bill_reserve(b, SY_STR("alice"), SY_STR("a2"), 3 * U, 3 * U, &a2, NULL), SY_OK);
	assert_int_equal(bill_reserve(b, SY_STR("bob"), SY_STR("b1"), 2 * U, 2 * U, &b1, NULL), SY_OK);
	assert_int_equal(bill_extend(b, a1, 2 * U, 2500000, NULL, NULL), SY_OK); /* a1 held 5, used 2.5 */
	assert_int_equal(bill_checkpoint(b, b1, 1 * U), SY_OK);			 /* b1 held 2, used 1 */
	/* a2 stays at used 0: connected, no checkpoint yet. */
	assert_int_equal(ledger_commit(l), SY_OK);
	assert_int_equal(bill_extend(b, a1, 2 * U, 4 * U, NULL, NULL), SY_OK);
	assert_int_equal(bill_checkpoint(b, b1, 1900000), SY_OK);
	assert_int_equal(bill_commit(b, a2, 2 * U, NULL), SY_OK);
}

static void check_after_crash(struct bill_book *b, const struct ledger_recovery *rec)
{
	assert_int_equal(rec->accounts, 2);
	assert_int_equal(rec->resv_reconciled, 3);
	assert_int_equal(rec->resv_charged, 2);
	assert_int_equal(rec->charged_micros, 2500000 + 1 * U);
	assert_int_equal(rec->released_micros, (5 * U - 2500000) + 3 * U + (2 * U - 1 * U));
	struct bill_account_info i = info(b, "alice");
	assert_int_equal(i.balance_micros, 10 * U - 2500000); /* a2's commit was lost with its batch */
	assert_int_equal(i.reserved_micros, 0);
	assert_int_equal(i.charged_micros, 2500000);
	i = info(b, "bob");
	assert_int_equal(i.balance_micros, -1 * U);
	assert_true(bill_conservation_ok(b, NULL, NULL));
}

static void test_crash_unflushed_batch(void **state)
{
	struct fixture *f = *state;
	struct ledger *l;
	struct bill_book *b;
	struct ledger_recovery rec;
	start(f, &l, &b, NULL);
	crash_workload(l, b);
	ledger_abandon(l); /* the second batch never reaches the file */
	bill_book_free(b);

	start(f, &l, &b, &rec);
	check_after_crash(b, &rec);
	int64_t amt = -1;
	assert_true(ledger_charged(l, SY_STR("a1"), &amt));
	assert_int_equal(amt, 2500000);
	assert_true(ledger_charged(l, SY_STR("a2"), &amt)); /* reconciled at 0 */
	assert_int_equal(amt, 0);
	/* The same call committed again (a replayed hangup) charges nothing. */
	bill_resv_id r;
	assert_int_equal(bill_reserve(b, SY_STR("alice"), SY_STR("a1"), 1 * U, 1 * U, &r, NULL), SY_OK);
	int64_t ch = -1;
	assert_int_equal(bill_commit(b, r, 1 * U, &ch), SY_OK);
	assert_int_equal(ch, 0);
	assert_int_equal(info(b, "alice").balance_micros, 10 * U - 2500000);
	assert_int_equal(info(b, "alice").reserved_micros, 0);
	struct ledger_stats st;
	ledger_stats(l, &st);
	assert_int_equal(st.dup_commits, 1);
	assert_int_equal(ledger_close(l), SY_OK);
	bill_book_free(b);

	/* Recovering again finds nothing open and changes nothing. */
	start(f, &l, &b, &rec);
	assert_int_equal(rec.resv_reconciled, 0);
	assert_int_equal(info(b, "alice").balance_micros, 10 * U - 2500000);
	assert_int_equal(info(b, "bob").balance_micros, -1 * U);
	assert_true(bill_conservation_ok(b, NULL, NULL));
	assert_int_equal(ledger_close(l), SY_OK);
	bill_book_free(b);
}

/* The same workload in a child killed by SIGKILL mid-batch. */
static void test_crash_sigkill(void **state)
{
	struct fixture *f = *state;
	fflush(NULL);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct ledger *l;
		struct bill_book *b;
		struct bill_book_opts bo = {.accounts_max = 8, .resv_max = 64};
		if (ledger_open(sy_live_files(), f->path, NULL, &l, NULL, 0) != SY_OK ||
		    bill_book_new(&bo, &b) != SY_OK || ledger_recover(l, b, NULL) != SY_OK)
			_exit(3);
		crash_workload(l, b);
		kill(getpid(), SIGKILL);
		_exit(4);
	}
	int status = 0;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
	struct ledger *l;
	struct bill_book *b;
	struct ledger_recovery rec;
	start(f, &l, &b, &rec);
	check_after_crash(b, &rec);
	assert_int_equal(ledger_close(l), SY_OK);
	bill_book_free(b);
}

static void test_duplicate_open_and_batches(void **state)
{
	struct fixture *f = *state;
	struct ledger *l;
	struct bill_book *b;
	char err[LEDGER_ERRMSG_MAX];
	struct ledger_opts o = {.batch_max = 4};
	assert_int_equal(ledger_open(sy_live_files(), f->path, &o, &l, err, sizeof err), SY_OK);
	struct bill_book_opts bo = {.accounts_max = 4, .resv_max = 8};
	assert_int_equal(bill_book_new(&bo, &b), SY_OK);
	assert_int_equal(ledger_recover(l, b, NULL), SY_OK);
	add_acct(b, "x", BILL_PREPAID, 10 * U, 0);
	bill_resv_id r1, r2;
	assert_int_equal(bill_reserve(b, SY_STR("x"), SY_STR("same"), U, U, &r1, NULL), SY_OK);
	/* A second open reservation under one call id is refused, and the
	 * book is left as it was. */
	assert_int_equal(bill_reserve(b, SY_STR("x"), SY_STR("same"), U, U, &r2, NULL), SY_ERR_STATE);
	assert_int_equal(info(b, "x").reserved_micros, U);
	assert_int_equal(bill_extend(b, r1, U, 10, NULL, NULL), SY_OK);
	assert_int_equal(bill_checkpoint(b, r1, 20), SY_OK); /* 4th op: the batch commits by itself */
	struct ledger_stats st;
	ledger_stats(l, &st);
	assert_int_equal(st.batches, 1);
	assert_int_equal(st.pending, 0);
	assert_int_equal(st.ops, 4);
	assert_int_equal(bill_release(b, r1), SY_OK);
	ledger_abandon(l); /* the release is lost: recovery charges the checkpoint */
	bill_book_free(b);
	struct ledger_recovery rec;
	start(f, &l, &b, &rec);
	assert_int_equal(rec.resv_reconciled, 1);
	assert_int_equal(rec.charged_micros, 20);
	assert_int_equal(info(b, "x").balance_micros, 10 * U - 20);
	assert_int_equal(ledger_close(l), SY_OK);
	bill_book_free(b);
}

/* The disk refuses the commit: the batch is kept (rolled back, replayed
 * into the next attempt), not lost; once the disk takes it, every operation
 * is on disk once. Before, a failed commit dropped the batch: charges the
 * book had made were missing from the ledger. */
static void test_full_disk_keeps_batch(void **state)
{
	struct fixture *f = *state;
	struct faultfs ff;
	faultfs_init(&ff);
	struct ledger *l;
	struct bill_book *b;
	char err[LEDGER_ERRMSG_MAX];
	assert_int_equal(ledger_open(&ff.env, f->path, NULL, &l, err, sizeof err), SY_OK);
	struct bill_book_opts bo = {.accounts_max = 4, .resv_max = 8};
	assert_int_equal(bill_book_new(&bo, &b), SY_OK);
	assert_int_equal(ledger_recover(l, b, NULL), SY_OK);
	add_acct(b, "x", BILL_PREPAID, 10 * U, 0);
	assert_int_equal(ledger_commit(l), SY_OK);
	ff.full = true;
	bill_resv_id r;
	int64_t charged = 0;
	assert_int_equal(bill_reserve(b, SY_STR("x"), SY_STR("c1"), U, U, &r, NULL), SY_OK);
	assert_int_equal(ledger_commit(l), SY_ERR_IO);
	assert_int_equal(bill_commit(b, r, 30, &charged), SY_OK); /* replays the reserve, adds the charge */
	assert_int_equal(ledger_commit(l), SY_ERR_IO);
	struct ledger_stats st;
	ledger_stats(l, &st);
	assert_int_equal(st.pending, 2);
	assert_true(st.replayed >= 1);
	ff.full = false;
	assert_int_equal(ledger_commit(l), SY_OK);
	assert_int_equal(ledger_close(l), SY_OK);
	bill_book_free(b);
	struct ledger_recovery rec;
	start(f, &l, &b, &rec);
	assert_int_equal(rec.resv_reconciled, 0);
	assert_int_equal(info(b, "x").balance_micros, 10 * U - 30);
	assert_int_equal(ledger_close(l), SY_OK);
	bill_book_free(b);
}

static void test_open_errors(void **state)
{
	(void)state;
	struct ledger *l = (struct ledger *)1;
	char err[LEDGER_ERRMSG_MAX] = "";
	assert_int_not_equal(
	    ledger_open(sy_live_files(), "/nonexistent-dir/x/ledger.sqlite", NULL, &l, err, sizeof err), SY_OK);
	assert_null(l);
	assert_true(strlen(err) > 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_clean_restart, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_crash_unflushed_batch, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_crash_sigkill, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_duplicate_open_and_batches, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_full_disk_keeps_batch, setup, teardown),
	    cmocka_unit_test(test_open_errors),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
