/* test_fraud_engine.c: the fraud component's frame (core/fraud/fraud.c):
 * names and defaults, create's errors (file:line of the ranges, a rule's
 * window), which detector decides (strongest action, ties to the first in
 * enum order), monitor mode, the observers, the alert rate on virtual
 * time, the account table's eviction, and the counter table. */
#include "core/metrics/counters.h"
#include "tests/fraud_fixture.h"

#define RANGES "+882,high,International Networks\n+53,blocked,Cuba\n"
#define CLI    "+442071234567"

static void test_names(void **state)
{
	enum fraud_action a;
	assert_string_equal(fraud_action_name(FRAUD_THROTTLE), "throttle");
	assert_true(fraud_action_parse(SY_STR("Block"), &a) && a == FRAUD_BLOCK);
	assert_true(fraud_action_parse(SY_STR("allow"), &a) && a == FRAUD_ALLOW);
	assert_false(fraud_action_parse(SY_STR("deny"), &a));
	assert_false(fraud_action_parse(SY_STR(""), &a));
	assert_string_equal(fraud_detector_name(FRAUD_DET_SMS_PUMP), "sms_pump");
	assert_string_equal(fraud_detector_name(FRAUD_DET_CALLERID), "callerid");
	assert_string_equal(fraud_detector_name(FRAUD_DET_COUNT), "?");
	struct fraud_cfg c;
	fraud_cfg_defaults(&c);
	assert_false(c.on);
	assert_int_equal(c.accounts_max, 100000);
	assert_int_equal(c.block_sip, 403);
	assert_int_equal(c.block_smpp, 0x45);
	assert_int_equal(c.retry_after_s, 60);
	assert_int_equal(c.default_rule, -1);
	assert_int_equal(c.alert.per_s, 10);
	assert_int_equal(c.alert.burst, 20);
	assert_int_equal(c.wangiri.flood.max, 30);
	assert_int_equal(c.sms.dlr_min_pct, 20);
	struct fraud_rule_cfg r;
	fraud_rule_defaults(&r);
	assert_int_equal(r.risk_min, FRAUD_RISK_HIGH);
	assert_int_equal(r.blocked_class, FRAUD_BLOCK);
	assert_int_equal(r.calls.max, 0);
	assert_int_equal(r.cli_same, FRAUD_ALLOW);
}

static void test_create_errors(void **state)
{
	char err[256];
	struct fraud *f;
	/* A bad line in the ranges file: file:line. */
	struct fx *x = fx_new("+882,high\n+44 20,high\n");
	assert_int_equal(fraud_create(&x->te.env, &x->cfg, NULL, NULL, NULL, &f, err, sizeof err), SY_ERR_PARSE);
	assert_null(f);
	assert_non_null(strstr(err, x->path));
	assert_non_null(strstr(err, ":2: bad prefix"));
	fx_free(x);
	/* A missing file. */
	x = fx_new(NULL);
	snprintf(x->cfg.ranges_path, sizeof x->cfg.ranges_path, "/nonexistent/sy-ranges.csv");
	assert_int_equal(fraud_create(&x->te.env, &x->cfg, NULL, NULL, NULL, &f, err, sizeof err), SY_ERR_IO);
	assert_non_null(strstr(err, "/nonexistent/sy-ranges.csv"));
	/* A limit without a window: the rule and its line. */
	x->cfg.ranges_path[0] = '\0';
	fx_rule(x, "gold")->calls = (struct fraud_limit){5, 0, FRAUD_BLOCK};
	assert_int_equal(fraud_create(&x->te.env, &x->cfg, NULL, NULL, NULL, &f, err, sizeof err), SY_ERR_INVAL);
	assert_string_equal(err, "fraud-rule gold (line 10): calls: the window must be > 0");
	/* An account naming a rule that is not there. */
	x->cfg.rules[0].calls.window_ns = 3 * S; /* 3 buckets of 1 s: 4 does not divide it */
	fx_account(x, "acme", 3, NULL, NULL);
	assert_int_equal(fraud_create(&x->te.env, &x->cfg, NULL, NULL, NULL, &f, err, sizeof err), SY_ERR_INVAL);
	assert_string_equal(err, "account acme: no fraud-rule #3");
	x->cfg.accounts[0].rule = 0;
	x->cfg.default_rule = 1;
	assert_int_equal(fraud_create(&x->te.env, &x->cfg, NULL, NULL, NULL, &f, err, sizeof err), SY_ERR_INVAL);
	assert_string_equal(err, "fraud: no fraud-rule #1 for the default");
	x->cfg.default_rule = 0;
	/* A module's bad setting, named by its key. */
	x->cfg.wangiri.on = true;
	x->cfg.wangiri.distinct_min = 1000;
	assert_int_equal(fraud_create(&x->te.env, &x->cfg, NULL, NULL, NULL, &f, err, sizeof err), SY_ERR_INVAL);
	assert_true(strncmp(err, "fraud: wangiri_distinct must be at most 64", 42) == 0);
	x->cfg.wangiri.on = false;
	fx_create(x);
	/* A call with no numbers at all (empty slices without pointers). */
	struct fraud_call st;
	struct fraud_decision d;
	fraud_call_begin(x->f, &(struct fraud_call_req){0}, &st, &d);
	assert_int_equal(d.action, FRAUD_ALLOW);
	fx_end(x, &st, 0, 0);
	assert_true(fraud_stats(x->f)->bytes > 0);
	/* No ranges file: a reload says so. */
	assert_int_equal(fraud_reload_ranges(x->f, err, sizeof err), SY_ERR_INVAL);
	fx_free(x);
}

/* The strongest action wins; on a tie the first detector in enum order
 * (irsf before velocity before callerid); every one at flag or more is
 * marked in fired. */
static void test_precedence(void **state)
{
	struct fx *x = fx_new(RANGES);
	struct fraud_rule_cfg *r = fx_rule(x, "default");
	r->cli_same = FRAUD_BLOCK;				/* callerid */
	r->calls = (struct fraud_limit){1, 60 * S, FRAUD_FLAG}; /* velocity */
	fx_create(x);
	struct fraud_decision d;
	/* Blocked class (irsf, block) and caller == callee (callerid, block):
	 * irsf comes first. */
	assert_int_equal(fx_call1(x, "acme", "+5371234567", "+5371234567", &d), FRAUD_BLOCK);
	assert_int_equal(d.detector, FRAUD_DET_IRSF);
	assert_int_equal(d.fired, (1u << FRAUD_DET_IRSF) | (1u << FRAUD_DET_CALLERID));
	assert_reason(&d, "irsf.blocked_class: +5371234567 is in blocked range +53 (Cuba)");
	/* velocity says flag, callerid says block: callerid. */
	assert_int_equal(fx_call1(x, "acme", "+33123456789", "+33123456789", &d), FRAUD_BLOCK);
	assert_int_equal(d.detector, FRAUD_DET_CALLERID);
	assert_int_equal(d.fired, (1u << FRAUD_DET_VELOCITY) | (1u << FRAUD_DET_CALLERID));
	/* velocity alone. */
	assert_int_equal(fx_call1(x, "acme", CLI, "+33123456789", &d), FRAUD_FLAG);
	assert_reason(&d, "velocity.calls: 3 calls in 60s (max 1)");
	const struct fraud_stats *st = fraud_stats(x->f);
	assert_int_equal(st->fired[FRAUD_DET_IRSF], 1);
	assert_int_equal(st->fired[FRAUD_DET_CALLERID], 2);
	assert_int_equal(st->fired[FRAUD_DET_VELOCITY], 2);
	assert_int_equal(st->blocked_by[FRAUD_DET_IRSF], 1);
	assert_int_equal(st->blocked_by[FRAUD_DET_CALLERID], 1);
	assert_int_equal(st->by_action[FRAUD_FLAG], 1);
	fx_free(x);
}

/* Monitor: the verdict is kept, the applied action is at most flag, the
 * call goes on (and counts as in progress), a premium call is not torn
 * down, and alerts still go out. */
static void test_monitor(void **state)
{
	struct fx *x = fx_new(RANGES "+1900,premium\n");
	x->cfg.monitor = true;
	struct fraud_rule_cfg *r = fx_rule(x, "default");
	r->concurrent = (struct fraud_limit){1, 0, FRAUD_BLOCK};
	r->premium_max_ns = 10 * S;
	fx_create(x);
	struct fraud_call a, b;
	struct fraud_decision d;
	assert_int_equal(fx_call(x, "acme", CLI, "+5371234567", &a, &d), FRAUD_FLAG);
	assert_int_equal(d.verdict, FRAUD_BLOCK);
	assert_int_equal(d.sip_status, 0);
	assert_int_equal(d.smpp_status, 0);
	assert_true(a.proceeded && a.counted);
	assert_int_equal(fx_call(x, "acme", CLI, "+19005550123", &b, &d), FRAUD_FLAG);
	assert_reason(&d, "velocity.concurrent: 2 calls in progress (max 1)");
	fraud_call_answered(x->f, &b);
	fx_at(x, 10 * S);
	fraud_call_check(x->f, &b, &d);
	assert_int_equal(d.verdict, FRAUD_BLOCK);
	assert_int_equal(d.action, FRAUD_FLAG);
	const struct fraud_stats *st = fraud_stats(x->f);
	assert_int_equal(st->teardowns, 0);
	assert_int_equal(st->by_action[FRAUD_FLAG], 2);
	assert_int_equal(st->by_action[FRAUD_BLOCK], 0);
	assert_int_equal(st->blocked_by[FRAUD_DET_IRSF], 2);
	assert_int_equal(st->alerts, 3);
	fx_end(x, &a, 10 * S, 0);
	fx_end(x, &b, 10 * S, 0);
	fx_free(x);
}

/* on_decision sees every decision (allow too); on_alert the blocks
 * within per_s = 1, burst = 2 (GCRA on virtual time); the rest counted. */
static void test_alert_rate(void **state)
{
	struct fx *x = fx_new(RANGES);
	x->cfg.alert.per_s = 1;
	x->cfg.alert.burst = 2;
	fx_rule(x, "default");
	fx_create(x);
	struct fraud_decision d;
	fx_call1(x, "acme", CLI, "+442079460000", &d);
	assert_int_equal(x->decisions, 1);
	assert_int_equal(x->last.action, FRAUD_ALLOW);
	assert_string_equal(x->last_callee, "+442079460000");
	for (int i = 0; i < 5; i++)
		fx_call1(x, "acme", CLI, "+5371234567", &d);
	assert_int_equal(x->decisions, 6);
	assert_int_equal(x->alerts, 2);
	const struct fraud_stats *st = fraud_stats(x->f);
	assert_int_equal(st->alerts, 2);
	assert_int_equal(st->alerts_suppressed, 3);
	/* One more token a second. */
	fx_at(x, 1 * S - 1);
	fx_call1(x, "acme", CLI, "+5371234567", &d);
	assert_int_equal(x->alerts, 2);
	fx_at(x, 1 * S);
	fx_call1(x, "acme", CLI, "+5371234567", &d);
	fx_call1(x, "acme", CLI, "+5371234567", &d);
	assert_int_equal(x->alerts, 3);
	/* Idle long enough: the burst again, not more. */
	fx_at(x, 100 * S);
	for (int i = 0; i < 4; i++)
		fx_call1(x, "acme", CLI, "+5371234567", &d);
	assert_int_equal(x->alerts, 5);
	assert_int_equal(st->alerts_suppressed, 7);
	fx_free(x);
}

/* accounts = 4: 8 slots, so the ninth account pushes out the one seen
 * longest ago; its state starts again (and a running call's end does not
 * drive its concurrent count below 0). */
static void test_eviction(void **state)
{
	struct fx *x = fx_new(NULL);
	x->cfg.accounts_max = 4;
	struct fraud_rule_cfg *r = fx_rule(x, "default");
	r->calls = (struct fraud_limit){1, 3600 * S, FRAUD_BLOCK};
	r->concurrent = (struct fraud_limit){1, 0, FRAUD_BLOCK};
	fx_create(x);
	struct fraud_call a0, other;
	struct fraud_decision d;
	char name[16];
	assert_int_equal(fx_call(x, "acct0", CLI, "+442079460000", &a0, &d), FRAUD_ALLOW);
	for (int i = 1; i < 8; i++) {
		fx_at(x, (uint64_t)i * S);
		snprintf(name, sizeof name, "acct%d", i);
		assert_int_equal(fx_call1(x, name, CLI, "+442079460000", &d), FRAUD_ALLOW);
	}
	assert_int_equal(fraud_stats(x->f)->accounts_tracked, 8);
	assert_int_equal(fraud_stats(x->f)->accounts_evicted, 0);
	fx_at(x, 8 * S);
	assert_int_equal(fx_call1(x, "acct8", CLI, "+442079460000", &d), FRAUD_ALLOW);
	assert_int_equal(fraud_stats(x->f)->accounts_evicted, 1);
	/* acct7 is still tracked: over its limit. acct0 was pushed out. */
	assert_int_equal(fx_call1(x, "acct7", CLI, "+442079460000", &d), FRAUD_BLOCK);
	fx_end(x, &a0, 60 * S, 0); /* acct0 comes back with a fresh state: 0, not -1 */
	assert_int_equal(fx_call(x, "acct0", CLI, "+442079460000", &a0, &d), FRAUD_ALLOW);
	assert_int_equal(fx_call(x, "acct0", CLI, "+442079460000", &other, &d), FRAUD_BLOCK);
	assert_reason(&d, "velocity.calls: 2 calls in 3600s (max 1)");
	assert_int_equal(d.fired, 1u << FRAUD_DET_VELOCITY);
	fx_end(x, &other, 0, 0);
	fx_end(x, &a0, 0, 0);
	fx_free(x);
}

static void visit(void *arg, const char *key, enum sy_ctr_unit unit, int64_t v)
{
	if (strcmp(key, "fraud.blocked") == 0 || strcmp(key, "fraud.fired.irsf") == 0 ||
	    strcmp(key, "fraud.decisions") == 0)
		*(int64_t *)arg += v;
}

/* The counter table reads struct fraud_stats. */
static void test_counters(void **state)
{
	struct fx *x = fx_new(RANGES);
	fx_rule(x, "default");
	fx_create(x);
	struct fraud_decision d;
	fx_call1(x, "acme", CLI, "+5371234567", &d);
	fx_call1(x, "acme", CLI, "+442079460000", &d);
	int64_t sum = 0;
	sy_counters_visit(&fraud_counters, fraud_stats(x->f), visit, &sum);
	assert_int_equal(sum, 2 + 1 + 1);
	char buf[8192];
	struct sy_ctr_out o = {buf, sizeof buf, 0, false};
	sy_counters_prom(&o, &fraud_counters, fraud_stats(x->f));
	assert_false(o.cut);
	assert_non_null(strstr(buf, "switchyard_fraud_blocked_total 1\n"));
	assert_non_null(strstr(buf, "switchyard_fraud_accounts_tracked 1\n"));
	fx_free(x);
}

/* The Wangiri module through the component: short calls that went on
 * from one source range to several subscribers flood it; then a call from
 * that range is refused (inbound) and a call to it too (callback). A
 * refused call does not feed the module. */
static void test_wangiri(void **state)
{
	struct fx *x = fx_new(NULL);
	x->cfg.wangiri = (struct fraud_wangiri_cfg){.on = true,
						    .source_digits = 8,
						    .short_ns = 5 * S,
						    .flood = {5, 60 * S, FRAUD_BLOCK},
						    .distinct_min = 3,
						    .callback_ns = 3600 * S,
						    .callback = FRAUD_BLOCK,
						    .ranges_max = 1024};
	fx_rule(x, "one_call")->calls = (struct fraud_limit){1, 3600 * S, FRAUD_BLOCK};
	fx_account(x, "limited", 0, NULL, NULL); /* the only account with a rule */
	fx_create(x);
	struct fraud_call st;
	struct fraud_decision d;
	char callee[32];
	/* Seven short calls from one range, six of them refused (velocity):
	 * only the one that went on reaches Wangiri, no flood. */
	for (int i = 0; i < 7; i++) {
		snprintf(callee, sizeof callee, "+4479000001%02d", i);
		fx_call(x, "limited", "+23299999100", callee, &st, &d);
		assert_int_equal(d.action, i == 0 ? FRAUD_ALLOW : FRAUD_BLOCK);
		struct fraud_call_end e = {.ring_ns = 1 * S};
		fraud_call_end(x->f, &st, &e);
	}
	assert_int_equal(fx_call1(x, "carrierX", "+23299999200", "+447900000099", &d), FRAUD_ALLOW);
	for (int i = 0; i < 6; i++) {
		snprintf(callee, sizeof callee, "+4479000000%02d", i);
		assert_int_equal(fx_call(x, "carrierX", "+23212345100", callee, &st, &d), FRAUD_ALLOW);
		assert_true(st.src_key != 0);
		struct fraud_call_end e = {.ring_ns = 2 * S}; /* one ring and cut */
		fraud_call_end(x->f, &st, &e);
	}
	assert_int_equal(fx_call1(x, "carrierX", "+23212345999", "+447900000099", &d), FRAUD_BLOCK);
	assert_int_equal(d.detector, FRAUD_DET_WANGIRI);
	assert_true(strncmp(d.reason, "wangiri.flood: 6 short calls in 60s from ", 41) == 0);
	/* A subscriber calls back: refused. Another range: allowed. */
	assert_int_equal(fx_call1(x, "subscriber", "+447900000001", "+23212345100", &d), FRAUD_BLOCK);
	assert_true(strncmp(d.reason, "wangiri.callback: +23212345... flooded us", 41) == 0);
	assert_int_equal(fx_call1(x, "subscriber", "+447900000001", "+23212346100", &d), FRAUD_ALLOW);
	fx_at(x, 30 * 60 * S);
	fraud_call_begin(x->f, &(struct fraud_call_req){.caller = SY_STR("+447900000001")}, &st, &d);
	assert_int_equal(fraud_stats(x->f)->wangiri_sources, 1);
	fx_free(x);
}

/* The SMS pumping module through the component: one account walking a
 * block of numbers is blocked with the SMPP error; receipts pass through. */
static void test_sms_pump(void **state)
{
	struct fx *x = fx_new(NULL);
	x->cfg.sms.on = true;
	x->cfg.sms.seq = (struct fraud_limit){3, 60 * S, FRAUD_BLOCK};
	x->cfg.block_smpp = 0x0b;
	fx_create(x);
	struct fraud_decision d;
	char to[32];
	for (int i = 0; i < 4; i++) {
		snprintf(to, sizeof to, "+4475000000%03d", i);
		struct fraud_sms_req rq = {SY_STR("pumper"), SY_STR("Brand"), sy_str_from(to), 1};
		fraud_sms_submit(x->f, &rq, &d);
		fraud_sms_receipt(x->f, SY_STR("routeA"), sy_str_from(to), false);
	}
	assert_int_equal(d.action, FRAUD_BLOCK);
	assert_int_equal(d.detector, FRAUD_DET_SMS_PUMP);
	assert_int_equal(d.smpp_status, 0x0b);
	assert_true(strncmp(d.reason, "sms_pump.seq: 4 messages in ", 28) == 0);
	assert_int_equal(fraud_stats(x->f)->blocked_by[FRAUD_DET_SMS_PUMP], 1);
	/* A message with nothing in it, and its receipt. */
	fraud_sms_submit(x->f, &(struct fraud_sms_req){0}, &d);
	assert_int_equal(d.action, FRAUD_ALLOW);
	fraud_sms_receipt(x->f, SY_STR_NULL, SY_STR_NULL, true);
	fx_free(x);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_names),    cmocka_unit_test(test_create_errors), cmocka_unit_test(test_precedence),
	    cmocka_unit_test(test_monitor),  cmocka_unit_test(test_alert_rate),	   cmocka_unit_test(test_eviction),
	    cmocka_unit_test(test_counters), cmocka_unit_test(test_wangiri),	   cmocka_unit_test(test_sms_pump),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
