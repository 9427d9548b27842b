/* test_callbill.c: billing in the call path (core/billing/callbill.h) on
 * virtual time: the first slice at INVITE, extensions, the exact cut-off
 * second, concurrent calls of one account sharing its money, refusals, and
 * the conservation check. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <cmocka.h>

#include "core/billing/callbill.h"
#include "core/conf/node.h"
#include "tests/testenv.h"

struct fx {
	struct testenv te;
	struct scn *scn;
	struct node_cfg *node;
	struct callbill *cb;
	char dir[64], tariff[96];
};

/* 0.06/min = 1,000 micros a second, billed in 6-second blocks. */
static const char tariff_csv[] = "Prefix,Description,Rate,Connection Fee,Increments,Minimum,Band,Service,Currency\n"
				 "1,USA,0.0600,0,6/6,0,,voice,USD\n"
				 "44,UK,0.1200,0.0100,60/60,0,,voice,USD\n"
				 "1,USA,0.0050,,,,,sms,USD\n";

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	char text[1024], err[256];
	strcpy(f->dir, "/tmp/sy-callbill.XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->tariff, sizeof(f->tariff), "%s/t.csv", f->dir);
	FILE *t = fopen(f->tariff, "w");
	fputs(tariff_csv, t);
	fclose(t);
	snprintf(text, sizeof(text),
		 "[tariff retail]\nfile = %s\n\n"
		 "[account alice]\ncallers = +1555000\nbalance = 0.10 USD\n\n"
		 "[account poor]\ncallers = +1555999\nbalance = 0.001 USD\n\n"
		 "[account grp]\ncallers = +1666\ncount = 10\nbalance = 1.00 USD\n",
		 f->tariff);
	assert_int_equal(scn_parse_string(text, "bill.scn", &f->scn, err, sizeof(err)), SY_OK);
	testenv_init(&f->te, 1);
	assert_non_null(f->node = conf_node_new(f->scn));
	struct callbill_cfg c = {.env = &f->te.env, .billing = &f->node->billing, .slice_s = 60, .guard_s = 10};
	assert_int_equal(callbill_create(&c, &f->cb, err, sizeof(err)), SY_OK);
	assert_non_null(f->cb);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	callbill_destroy(f->cb);
	scn_free(f->scn);
	free(f->node);
	testenv_free(&f->te);
	unlink(f->tariff);
	rmdir(f->dir);
	free(f);
	return 0;
}

/* The account is the caller's authenticated identity (a trunk's or a
 * digest user's), which the switch passes; the test names it. */
static enum sy_rc auth_as(struct fx *f, const char *account, const char *caller, const char *callee, const char *cid,
			  struct callbill_call *c, uint16_t *status)
{
	const char *why = NULL;
	*status = 0;
	return callbill_authorize(f->cb, sy_str_from(account), sy_str_from(caller), sy_str_from(callee),
				  sy_str_from(cid), c, status, &why);
}

/* The account owning caller in this fixture's config. */
static enum sy_rc auth(struct fx *f, const char *caller, const char *callee, const char *cid,
		       struct callbill_call *c, uint16_t *status)
{
	const char *acct = strncmp(caller, "1666", 4) == 0 ? "grp" : strncmp(caller, "1555999", 7) == 0 ? "poor"
							     : strncmp(caller, "1555000", 7) == 0 ? "alice"
											       : "nobody";
	return auth_as(f, acct, caller, callee, cid, c, status);
}

/* 0.10 pays 96 s in 6-second blocks (102 s would cost 0.102): the first
 * slice is 60 s, the extension at 50 s gets the last 0.04, and the call is
 * cut at exactly 96 s after answer. */
static void test_cutoff_second(void **state)
{
	struct fx *f = *state;
	struct callbill_call c;
	uint16_t st;
	assert_int_equal(auth(f, "15550001", "12125550100", "c1", &c, &st), SY_OK);
	assert_int_equal(c.held, 60000);
	uint64_t t0 = f->te.wall_base_ns + f->te.now_ns;
	uint64_t d = callbill_answered(f->cb, &c, t0);
	assert_int_equal(d, 50 * SY_NS_PER_S); /* extend 10 s before the slice ends */
	assert_false(c.final);
	testenv_advance(&f->te, d);
	d = callbill_tick(f->cb, &c, t0 + 50 * SY_NS_PER_S);
	assert_true(c.final);
	assert_int_equal(c.held, 100000);
	assert_int_equal(c.covered_s, 96);
	assert_int_equal(d, 46 * SY_NS_PER_S); /* cut at answer + 96 s */
	struct cdr r;
	memset(&r, 0, sizeof(r));
	r.end_ns = t0 + 96 * SY_NS_PER_S; /* on the second the money ran out */
	callbill_end(f->cb, &c, 96000, NULL, true, &r);
	assert_int_equal(r.cost_micros, 96000);
	assert_int_equal(r.rated_ms, 96000);
	struct callbill_stats s;
	callbill_stats(f->cb, &s);
	assert_int_equal(s.cutoff_late_max_ns, 0);
	assert_int_equal(s.cutoff_early, 0);
	assert_int_equal(r.tariff_id, 1);
	assert_int_equal(callbill_cutoff_violations(f->cb), 0);
	int64_t charged, decrease;
	assert_true(callbill_conserved(f->cb, &charged, &decrease));
	assert_int_equal(charged, 96000);
	assert_int_equal(charged, decrease);
	assert_int_equal(callbill_negative_accounts(f->cb), 0);
}

/* A live timer a few ms late must not bill a seventeenth block, and the
 * lateness is measured from the CDR's end. */
static void test_cutoff_late_timer(void **state)
{
	struct fx *f = *state;
	struct callbill_call c;
	uint16_t st;
	assert_int_equal(auth(f, "15550001", "12125550100", "c1", &c, &st), SY_OK);
	callbill_answered(f->cb, &c, 0);
	callbill_tick(f->cb, &c, 50 * SY_NS_PER_S);
	assert_true(c.final);
	struct cdr r;
	memset(&r, 0, sizeof(r));
	r.end_ns = 96003 * SY_NS_PER_MS;
	callbill_end(f->cb, &c, 96003, NULL, true, &r);
	assert_int_equal(r.cost_micros, 96000);
	struct callbill_stats s;
	callbill_stats(f->cb, &s);
	assert_int_equal(s.cutoff_late_max_ns, 3 * SY_NS_PER_MS);
	assert_int_equal(sy_hist_percentile(callbill_cutoff_late(f->cb), 99), 3 * SY_NS_PER_MS);
	assert_int_equal(s.cutoff_early, 0);
}

/* Two calls of one account: together they never spend more than it has. */
static void test_concurrent_calls_share(void **state)
{
	struct fx *f = *state;
	struct callbill_call a, b;
	uint16_t st;
	assert_int_equal(auth(f, "15550001", "12125550100", "a", &a, &st), SY_OK);
	assert_int_equal(auth(f, "15550001", "12125550101", "b", &b, &st), SY_OK);
	assert_int_equal(a.held, 60000);
	assert_int_equal(b.held, 40000); /* what was left */
	assert_true(b.final);
	callbill_answered(f->cb, &a, 0);
	uint64_t d = callbill_answered(f->cb, &b, 0);
	assert_int_equal(b.covered_s, 36);
	assert_int_equal(d, 36 * SY_NS_PER_S);
	struct callbill_call c3;
	assert_int_equal(auth(f, "15550001", "12125550102", "c", &c3, &st), SY_DECLINED);
	assert_int_equal(st, 402);
	callbill_end(f->cb, &b, 36000, NULL, true, NULL);
	callbill_tick(f->cb, &a, 50 * SY_NS_PER_S); /* the other call's change is back: 4000 */
	callbill_end(f->cb, &a, 64000, NULL, false, NULL);
	int64_t charged, decrease;
	assert_true(callbill_conserved(f->cb, &charged, &decrease));
	assert_int_equal(charged, 36000 + 64000);
	assert_int_equal(callbill_negative_accounts(f->cb), 0);
}

static void test_refusals(void **state)
{
	struct fx *f = *state;
	struct callbill_call c;
	uint16_t st;
	assert_int_equal(auth(f, "19990000", "12125550100", "x", &c, &st), SY_DECLINED);
	assert_int_equal(st, 403); /* no such account */
	assert_int_equal(auth(f, "15550001", "33123456", "x", &c, &st), SY_DECLINED);
	assert_int_equal(st, 403); /* no tariff for France */
	assert_int_equal(auth(f, "15559990", "12125550100", "x", &c, &st), SY_DECLINED);
	assert_int_equal(st, 402); /* 0.001 does not pay the first 6 s (0.006) */
	struct callbill_stats s;
	callbill_stats(f->cb, &s);
	assert_int_equal(s.declined, 3);
	assert_int_equal(s.declined_funds, 1);
	assert_int_equal(s.declined_tariff, 1);
}

/* The disk fills while the ledger's batch is open: it keeps the batch (4
 * operations here) and, once that is full, the next reservation cannot be
 * recorded. The caller gets 503 (try again), not 403 "unknown account":
 * the account is fine, the store is not. */
static bool disk_full;
static enum sy_rc (*real_write)(void *ctx, struct sy_file *f, uint64_t off, const void *buf, size_t len);
static enum sy_rc full_write(void *ctx, struct sy_file *f, uint64_t off, const void *buf, size_t len)
{
	return disk_full ? SY_ERR_FULL : real_write(ctx, f, off, buf, len);
}

static void test_ledger_disk_full(void **state)
{
	struct fx *f = *state;
	char path[128], err[256];
	snprintf(path, sizeof(path), "%s/ledger.sqlite", f->dir);
	struct sy_env_ops ops = *f->te.env.ops;
	real_write = ops.file_write;
	ops.file_write = full_write;
	struct sy_env env = f->te.env;
	env.ops = &ops;
	struct callbill *cb;
	struct callbill_cfg c = {.env = &env, .billing = &f->node->billing, .ledger_path = path, .ledger_batch_max = 4};
	disk_full = false;
	assert_int_equal(callbill_create(&c, &cb, err, sizeof(err)), SY_OK);
	callbill_flush(cb); /* the accounts are on disk */
	disk_full = true;
	struct callbill_call calls[8];
	uint16_t st = 0;
	const char *why = NULL;
	uint32_t ok = 0;
	for (uint32_t i = 0; i < 8; i++) {
		char cid[8];
		snprintf(cid, sizeof(cid), "c%u", i);
		enum sy_rc rc = callbill_authorize(cb, sy_str_from("grp"), sy_str_from("16660000"), sy_str_from("12125550100"),
						   sy_str_from(cid), &calls[i], &st, &why);
		if (rc == SY_OK) {
			ok++;
			continue;
		}
		assert_int_equal(rc, SY_DECLINED);
		assert_int_equal(st, 503);
		assert_string_equal(why, "billing store unavailable");
	}
	assert_true(ok >= 1 && ok < 8); /* the batch took some, then refused */
	struct callbill_stats s;
	callbill_stats(cb, &s);
	assert_int_equal(s.declined_store, 8 - ok);
	assert_int_equal(s.declined_unknown, 0);
	disk_full = false;
	callbill_destroy(cb);
	unlink(path);
	strcat(path, "-wal");
	unlink(path);
}

/* The billed account is the authenticated one, never the From digits: a
 * single account pays whatever number its caller shows, and a group's
 * member is picked by the caller number among that group only. */
static void test_identity_not_digits(void **state)
{
	struct fx *f = *state;
	struct callbill_call c;
	uint16_t st;
	/* alice's trunk sends a number of grp (member 0): alice pays, grp is untouched */
	assert_int_equal(auth_as(f, "alice", "16660003", "12125550100", "i1", &c, &st), SY_OK);
	assert_int_equal(c.account, 1); /* alice is book index 0 */
	callbill_end(f->cb, &c, 0, NULL, false, NULL);
	/* grp's own member 3 owns +16663 (one digit: count 10) */
	assert_int_equal(auth_as(f, "grp", "16663", "12125550100", "i2", &c, &st), SY_OK);
	assert_int_equal(c.account, 2 + 3 + 1); /* after alice and poor */
	callbill_end(f->cb, &c, 0, NULL, false, NULL);
	/* grp shows alice's number: no member of grp owns it */
	assert_int_equal(auth_as(f, "grp", "15550001", "12125550100", "i3", &c, &st), SY_DECLINED);
	assert_int_equal(st, 403);
	/* no number at all in a group */
	assert_int_equal(auth_as(f, "grp", "", "12125550100", "i4", &c, &st), SY_DECLINED);
	struct callbill_stats s;
	callbill_stats(f->cb, &s);
	assert_int_equal(s.declined_caller, 2);
	assert_int_equal(s.declined_unknown, 0);
	/* an identity without an account is never billed to anyone */
	assert_int_equal(auth_as(f, "", "15550001", "12125550100", "i5", &c, &st), SY_DECLINED);
	assert_int_equal(st, 403);
}

/* Unanswered calls release their hold; connection fees and 60/60 blocks. */
static void test_release_and_fee(void **state)
{
	struct fx *f = *state;
	struct callbill_call c;
	uint16_t st;
	assert_int_equal(auth(f, "16660003", "447700900123", "uk", &c, &st), SY_OK);
	callbill_end(f->cb, &c, 0, NULL, false, NULL); /* never answered */
	assert_int_equal(auth(f, "16660003", "447700900123", "uk2", &c, &st), SY_OK);
	callbill_answered(f->cb, &c, 0);
	struct cdr r;
	memset(&r, 0, sizeof(r));
	callbill_end(f->cb, &c, 61000, NULL, false, &r);
	assert_int_equal(r.cost_micros, 10000 + 2 * 120000); /* fee + two 60 s blocks */
	assert_int_equal(r.rated_ms, 120000);
	int64_t charged, decrease;
	assert_true(callbill_conserved(f->cb, &charged, &decrease));
	assert_int_equal(charged, 250000);
}

/* An SMS is rated by the system_id that bound: an account, or a group's
 * member NAME-i ([traffic sms] over a group binds as its members), which
 * has its group's tariff; a name that only looks like a member is not. */
static void test_sms_rate_members(void **state)
{
	struct fx *f = *state;
	uint64_t wall = 1700000000ull * SY_NS_PER_S;
	struct sy_str us = sy_str_from("+15551234567"), fr = sy_str_from("+33123456789");
	assert_int_equal(callbill_rate_sms(f->cb, "alice", us, wall), 5000);
	assert_int_equal(callbill_rate_sms(f->cb, "alice", fr, wall), 0); /* no sms row for France */
	assert_int_equal(callbill_rate_sms(f->cb, "grp-0", us, wall), 5000);
	assert_int_equal(callbill_rate_sms(f->cb, "grp-9", us, wall), 5000);
	assert_int_equal(callbill_rate_sms(f->cb, "grp-10", us, wall), 0); /* count = 10: members 0..9 */
	assert_int_equal(callbill_rate_sms(f->cb, "grp-01", us, wall), 0);
	assert_int_equal(callbill_rate_sms(f->cb, "grp-", us, wall), 0);
	assert_int_equal(callbill_rate_sms(f->cb, "alice-0", us, wall), 0); /* alice is no group */
	assert_int_equal(callbill_rate_sms(f->cb, "nobody", us, wall), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_sms_rate_members, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cutoff_second, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ledger_disk_full, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cutoff_late_timer, setup, teardown),
		cmocka_unit_test_setup_teardown(test_concurrent_calls_share, setup, teardown),
		cmocka_unit_test_setup_teardown(test_refusals, setup, teardown),
		cmocka_unit_test_setup_teardown(test_identity_not_digits, setup, teardown),
		cmocka_unit_test_setup_teardown(test_release_and_fee, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
