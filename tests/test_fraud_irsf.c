/* test_fraud_irsf.c: the IRSF detector (core/fraud/irsf.c) at
 * hand-computed times: a blocked class, risky calls and spend per window
 * (risk_min), bursts of distinct numbers in one range, premium calls torn
 * down on virtual time, and a ranges reload while a call runs (the call
 * keeps its class, new calls see the new table; a bad file keeps the old). */
#include "tests/fraud_fixture.h"

#define RANGES                                                                                                         \
	"prefix,class,label\n"                                                                                         \
	"+882,high,International Networks\n"                                                                           \
	"+881,high\n"                                                                                                  \
	"+1900,premium,US premium rate\n"                                                                              \
	"+53,blocked,Cuba (test)\n"                                                                                    \
	"+4470,medium,UK personal numbering\n"                                                                         \
	"+88299,none,own service\n"
#define CLI "+442071234567"

static void test_blocked_class(void **state)
{
	struct fx *x = fx_new(RANGES);
	fx_rule(x, "default"); /* blocked_class = block by default */
	fx_rule(x, "lenient")->blocked_class = FRAUD_FLAG;
	fx_account(x, "lab", 1, NULL, NULL);
	fx_create(x);
	struct fraud_decision d;
	assert_int_equal(fx_call1(x, "acme", CLI, "+5371234567", &d), FRAUD_BLOCK);
	assert_reason(&d, "irsf.blocked_class: +5371234567 is in blocked range +53 (Cuba (test))");
	assert_int_equal(d.detector, FRAUD_DET_IRSF);
	assert_int_equal(d.sip_status, 403);
	assert_int_equal(d.smpp_status, 0x45);
	assert_int_equal(fx_call1(x, "lab", CLI, "005371234567", &d), FRAUD_ALLOW); /* no intl_prefix: not +53 */
	assert_int_equal(fx_call1(x, "lab", CLI, "+5371234567", &d), FRAUD_FLAG);
	assert_int_equal(fx_call1(x, "acme", CLI, "+882991234567", &d), FRAUD_ALLOW); /* carve-out */
	/* No rule at all: no per-account checks. */
	x->cfg.default_rule = -1;
	fx_free(x);
}

/* risky_calls = 2/10m block at risk_min high: medium does not count,
 * high and premium do; the window has buckets of 150 s. */
static void test_risky_calls(void **state)
{
	struct fx *x = fx_new(RANGES);
	fx_rule(x, "default")->risky_calls = (struct fraud_limit){2, 600 * S, FRAUD_BLOCK};
	struct fraud_rule_cfg *m = fx_rule(x, "medium");
	m->risky_calls = (struct fraud_limit){1, 600 * S, FRAUD_FLAG};
	m->risk_min = FRAUD_RISK_MEDIUM;
	fx_account(x, "med", 1, NULL, NULL);
	fx_create(x);
	struct fraud_decision d;
	assert_int_equal(fx_call1(x, "acme", CLI, "+447012345678", &d), FRAUD_ALLOW); /* medium */
	assert_int_equal(fx_call1(x, "acme", CLI, "+88212345678", &d), FRAUD_ALLOW);
	fx_at(x, 149 * S);
	assert_int_equal(fx_call1(x, "acme", CLI, "+19005550123", &d), FRAUD_ALLOW);
	fx_at(x, 150 * S);
	assert_int_equal(fx_call1(x, "acme", CLI, "+88212345679", &d), FRAUD_BLOCK);
	assert_reason(&d, "irsf.risky_calls: 3 calls in 600s to high +882 (International Networks)");
	assert_int_equal(fx_call1(x, "acme", CLI, "+8811234567", &d), FRAUD_BLOCK);
	assert_reason(&d, "irsf.risky_calls: 4 calls in 600s to high +881");
	/* At 600 s the first two (bucket [0, 150 s)) are out: 2 + this one. */
	fx_at(x, 600 * S);
	assert_int_equal(fx_call1(x, "acme", CLI, "+88212345670", &d), FRAUD_BLOCK);
	assert_reason(&d, "irsf.risky_calls: 3 calls in 600s to high +882 (International Networks)");
	fx_at(x, 750 * S);
	assert_int_equal(fx_call1(x, "acme", CLI, "+88212345670", &d), FRAUD_ALLOW);
	/* risk_min medium: the UK range counts. */
	assert_int_equal(fx_call1(x, "med", CLI, "+447012345678", &d), FRAUD_ALLOW);
	assert_int_equal(fx_call1(x, "med", CLI, "+447012345678", &d), FRAUD_FLAG);
	assert_reason(&d, "irsf.risky_calls: 2 calls in 600s to medium +4470 (UK personal numbering)");
	fx_free(x);
}

/* risky_spend = 5.00/1h flag: only calls to risky ranges add. */
static void test_risky_spend(void **state)
{
	struct fx *x = fx_new(RANGES);
	fx_rule(x, "default")->risky_spend = (struct fraud_limit){5000000, 3600 * S, FRAUD_FLAG};
	fx_create(x);
	struct fraud_call a;
	struct fraud_decision d;
	fx_call(x, "acme", CLI, "+442079460000", &a, &d);
	fx_end(x, &a, 600 * S, 9000000); /* not risky: not counted */
	fx_call(x, "acme", CLI, "+88212345678", &a, &d);
	assert_int_equal(d.action, FRAUD_ALLOW);
	fx_end(x, &a, 600 * S, 5000000);
	assert_int_equal(fx_call(x, "acme", CLI, "+88212345678", &a, &d), FRAUD_ALLOW);
	fx_end(x, &a, 1, 1);
	assert_int_equal(fx_call(x, "acme", CLI, "+88212345678", &a, &d), FRAUD_FLAG);
	assert_reason(&d, "irsf.risky_spend: 5.000001 spent in 3600s on risky ranges (max 5.000000)");
	fx_end(x, &a, 0, 0);
	/* A call to a safe number is not judged on risky spend. */
	assert_int_equal(fx_call1(x, "acme", CLI, "+442079460000", &d), FRAUD_ALLOW);
	fx_free(x);
}

/* range_burst = 3/10m block: distinct numbers per (account, range). */
static void test_range_burst(void **state)
{
	struct fx *x = fx_new(RANGES);
	fx_rule(x, "default")->range_burst = (struct fraud_limit){3, 600 * S, FRAUD_BLOCK};
	fx_create(x);
	struct fraud_decision d;
	assert_int_equal(fx_call1(x, "acme", CLI, "+88212345601", &d), FRAUD_ALLOW);
	assert_int_equal(fx_call1(x, "acme", CLI, "+88212345602", &d), FRAUD_ALLOW);
	assert_int_equal(fx_call1(x, "acme", CLI, "+88212345601", &d), FRAUD_ALLOW); /* again: not distinct */
	assert_int_equal(fx_call1(x, "acme", CLI, "+88212345603", &d), FRAUD_ALLOW);
	assert_int_equal(fx_call1(x, "acme", CLI, "+8811234567", &d), FRAUD_ALLOW); /* another range */
	assert_int_equal(fx_call1(x, "bob", CLI, "+88212345604", &d), FRAUD_ALLOW); /* another account */
	assert_int_equal(fx_call1(x, "acme", CLI, "+88212345604", &d), FRAUD_BLOCK);
	assert_reason(&d, "irsf.range_burst: 4 numbers in 600s in high +882 (International Networks)");
	assert_int_equal(fx_call1(x, "acme", CLI, "+88212345601", &d), FRAUD_ALLOW); /* known: goes on */
	/* The refused number was not called: a retry counts again. */
	assert_int_equal(fx_call1(x, "acme", CLI, "+88212345604", &d), FRAUD_BLOCK);
	assert_reason(&d, "irsf.range_burst: 5 numbers in 600s in high +882 (International Networks)");
	/* Not risky ranges are not counted. */
	for (int i = 0; i < 5; i++)
		assert_int_equal(fx_call1(x, "acme", CLI, "+447012345678", &d), FRAUD_ALLOW);
	/* Two windows on, all of it is gone. */
	fx_at(x, 1200 * S);
	assert_int_equal(fx_call1(x, "acme", CLI, "+88212345604", &d), FRAUD_ALLOW);
	fx_free(x);
}

static uint64_t torn_at;
static struct fx *timer_fx;
static struct fraud_call *timer_call;
static unsigned timer_checks;

/* What the B2BUA does: check when due, re-arm when told (bounded here, so
 * a check that keeps asking for 0 ns fails the test instead of hanging). */
static void on_check(void *arg)
{
	struct fraud_decision d;
	uint64_t next = fraud_call_check(timer_fx->f, timer_call, &d);
	if (d.action == FRAUD_BLOCK)
		torn_at = timer_fx->te.now_ns;
	else if (next != UINT64_MAX && ++timer_checks < 10)
		sy_env_timer_start(&timer_fx->te.env, next, on_check, arg);
}

/* premium_max = 600s block: answered at 10 s, the check's timer fires at
 * 610 s and tears the call down; a call to a high range gets no timer. */
static void test_premium_teardown(void **state)
{
	struct fx *x = fx_new(RANGES);
	fx_rule(x, "default")->premium_max_ns = 600 * S;
	fx_create(x);
	struct fraud_call a, b;
	struct fraud_decision d;
	assert_int_equal(fx_call(x, "acme", CLI, "+19005550123", &a, &d), FRAUD_ALLOW);
	assert_int_equal(fx_call(x, "acme", CLI, "+88212345678", &b, &d), FRAUD_ALLOW);
	fx_at(x, 10 * S);
	assert_true(fraud_call_answered(x->f, &b) == UINT64_MAX);
	uint64_t due = fraud_call_answered(x->f, &a);
	assert_true(due == 600 * S);
	/* A check called early says when it is due and does nothing. */
	fx_at(x, 400 * S);
	assert_true(fraud_call_check(x->f, &a, &d) == 210 * S);
	assert_int_equal(d.action, FRAUD_ALLOW);
	timer_fx = x, timer_call = &a, torn_at = 0, timer_checks = 0;
	sy_env_timer_start(&x->te.env, 210 * S - 1, on_check, NULL); /* 1 ns early: re-armed */
	testenv_advance_to(&x->te, 609 * S);
	assert_true(torn_at == 0);
	testenv_advance_to(&x->te, 700 * S);
	assert_true(torn_at == 610 * S);
	assert_int_equal(timer_checks, 1);
	assert_int_equal(x->last_kind, FRAUD_KIND_MIDCALL);
	assert_string_equal(x->last.reason, "irsf.premium_max: call to premium +19005550123 in +1900 (US premium "
					    "rate) answered 600s ago (max 600s)");
	assert_int_equal(fraud_stats(x->f)->teardowns, 1);
	assert_int_equal(fraud_stats(x->f)->checks, 3);
	assert_int_equal(fraud_stats(x->f)->decisions, 2); /* checks are not new decisions */
	fx_end(x, &a, 600 * S, 0);
	fx_end(x, &b, 690 * S, 0);
	fx_free(x);
}

/* Reload while a premium call runs: it keeps its class and is torn down;
 * a new call sees the new table; a bad file keeps the table in force. */
static void test_reload_while_running(void **state)
{
	struct fx *x = fx_new(RANGES);
	fx_rule(x, "default")->premium_max_ns = 60 * S;
	fx_create(x);
	struct fraud_call a, b;
	struct fraud_decision d;
	char err[256];
	fx_call(x, "acme", CLI, "+19005550123", &a, &d);
	assert_int_equal(fraud_call_answered(x->f, &a), 60 * S);
	fx_write(x, "+1900,none,reclassified\n+53,blocked,Cuba\n");
	assert_int_equal(fraud_reload_ranges(x->f, err, sizeof err), SY_OK);
	assert_int_equal(fraud_stats(x->f)->ranges_reloads, 1);
	fx_call(x, "acme", CLI, "+19005550123", &b, &d);
	assert_true(fraud_call_answered(x->f, &b) == UINT64_MAX);
	fx_at(x, 60 * S);
	assert_true(fraud_call_check(x->f, &a, &d) == UINT64_MAX);
	assert_int_equal(d.action, FRAUD_BLOCK);
	/* The label is gone with the old generation; the class stays. */
	assert_reason(&d, "irsf.premium_max: call to premium +19005550123 answered 60s ago (max 60s)");
	fx_end(x, &a, 60 * S, 0);
	fx_end(x, &b, 60 * S, 0);
	/* A bad file: the message names file:line, the table stays. */
	fx_write(x, "+53,blocked,Cuba\n+44,risky\n");
	assert_int_equal(fraud_reload_ranges(x->f, err, sizeof err), SY_ERR_PARSE);
	assert_non_null(strstr(err, ":2: unknown class 'risky'"));
	assert_non_null(strstr(err, x->path));
	assert_int_equal(fraud_stats(x->f)->ranges_reload_failed, 1);
	assert_int_equal(fx_call1(x, "acme", CLI, "+5371234567", &d), FRAUD_BLOCK);
	fx_free(x);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_blocked_class),    cmocka_unit_test(test_risky_calls),
	    cmocka_unit_test(test_risky_spend),	     cmocka_unit_test(test_range_burst),
	    cmocka_unit_test(test_premium_teardown), cmocka_unit_test(test_reload_while_running),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
