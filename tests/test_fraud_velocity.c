/* test_fraud_velocity.c: the velocity detector (core/fraud/velocity.c and
 * the SMS rate in fraud_sms.c) at hand-computed times: calls per window
 * with its exact edge (an event at t + W is out), concurrent calls,
 * spend per window with saturation, new destinations, messages per
 * window. A window of W is kept in 4 buckets of W/4 (fraud_int.h). */
#include "tests/fraud_fixture.h"

#define A_NUM "+442071234567"

/* calls = 3/1s block: buckets of 250 ms. Every attempt counts, refused
 * ones too. */
static void test_calls_window(void **state)
{
	struct fx *x = fx_new(NULL);
	struct fraud_rule_cfg *r = fx_rule(x, "default");
	r->calls = (struct fraud_limit){3, 1 * S, FRAUD_BLOCK};
	fx_create(x);
	struct fraud_decision d;
	for (int i = 0; i < 3; i++)
		assert_int_equal(fx_call1(x, "acme", A_NUM, "+442079460000", &d), FRAUD_ALLOW);
	assert_string_equal(d.reason, "");
	assert_int_equal(fx_call1(x, "acme", A_NUM, "+442079460000", &d), FRAUD_BLOCK);
	assert_reason(&d, "velocity.calls: 4 calls in 1s (max 3)");
	assert_int_equal(d.detector, FRAUD_DET_VELOCITY);
	assert_int_equal(d.sip_status, 403);
	/* Another account has its own window. */
	assert_int_equal(fx_call1(x, "other", A_NUM, "+442079460000", &d), FRAUD_ALLOW);
	/* 1 ns before t + W the four of t = 0 are still in: the fifth. */
	fx_at(x, 1 * S - 1);
	assert_int_equal(fx_call1(x, "acme", A_NUM, "+442079460000", &d), FRAUD_BLOCK);
	assert_reason(&d, "velocity.calls: 5 calls in 1s (max 3)");
	/* At exactly t + W the bucket of t = 0 is out: 1 (the call at 1 s - 1
	 * stays: it is in the bucket [750, 1000) ms, so 2). */
	fx_at(x, 1 * S);
	assert_int_equal(fx_call1(x, "acme", A_NUM, "+442079460000", &d), FRAUD_ALLOW);
	assert_int_equal(fx_call1(x, "acme", A_NUM, "+442079460000", &d), FRAUD_ALLOW);
	assert_int_equal(fx_call1(x, "acme", A_NUM, "+442079460000", &d), FRAUD_BLOCK);
	assert_reason(&d, "velocity.calls: 4 calls in 1s (max 3)");
	const struct fraud_stats *st = fraud_stats(x->f);
	assert_int_equal(st->decisions, 9);
	assert_int_equal(st->by_action[FRAUD_BLOCK], 3);
	assert_int_equal(st->by_action[FRAUD_ALLOW], 6);
	assert_int_equal(st->blocked_by[FRAUD_DET_VELOCITY], 3);
	assert_int_equal(st->fired[FRAUD_DET_VELOCITY], 3);
	fx_free(x);
}

/* concurrent = 2 throttle: a refused call is not in progress; ends give
 * the slot back, a second end of one call does nothing. */
static void test_concurrent(void **state)
{
	struct fx *x = fx_new(NULL);
	fx_rule(x, "default")->concurrent = (struct fraud_limit){2, 0, FRAUD_THROTTLE};
	x->cfg.retry_after_s = 30;
	fx_create(x);
	struct fraud_call a, b, c, e;
	struct fraud_decision d;
	assert_int_equal(fx_call(x, "acme", A_NUM, "+442079460001", &a, &d), FRAUD_ALLOW);
	assert_int_equal(fx_call(x, "acme", A_NUM, "+442079460002", &b, &d), FRAUD_ALLOW);
	assert_int_equal(fx_call(x, "acme", A_NUM, "+442079460003", &c, &d), FRAUD_THROTTLE);
	assert_reason(&d, "velocity.concurrent: 3 calls in progress (max 2)");
	assert_int_equal(d.sip_status, 503);
	assert_int_equal(d.retry_after_s, 30);
	assert_int_equal(d.smpp_status, 0x58);
	assert_false(c.counted);
	fx_end(x, &c, 0, 0); /* the refused call ends: nothing given back */
	assert_int_equal(fx_call(x, "acme", A_NUM, "+442079460003", &c, &d), FRAUD_THROTTLE);
	fx_end(x, &c, 0, 0);
	fx_end(x, &a, 60 * S, 0);
	fx_end(x, &a, 60 * S, 0); /* twice: ignored */
	assert_int_equal(fx_call(x, "acme", A_NUM, "+442079460004", &e, &d), FRAUD_ALLOW);
	assert_int_equal(fx_call(x, "acme", A_NUM, "+442079460005", &c, &d), FRAUD_THROTTLE);
	fx_end(x, &c, 0, 0);
	fx_end(x, &b, 0, 0);
	fx_end(x, &e, 0, 0);
	assert_int_equal(fx_call(x, "acme", A_NUM, "+442079460006", &a, &d), FRAUD_ALLOW);
	assert_int_equal(fx_call(x, "acme", A_NUM, "+442079460007", &b, &d), FRAUD_ALLOW);
	fx_end(x, &a, 0, 0);
	fx_end(x, &b, 0, 0);
	/* Throttles are not alerted (blocks are). */
	assert_int_equal(x->alerts, 0);
	assert_int_equal(fraud_stats(x->f)->alerts_suppressed, 0);
	assert_int_equal(fraud_stats(x->f)->by_action[FRAUD_THROTTLE], 3);
	fx_free(x);
}

/* spend = 1.00/1h flag (micros), checked at begin on ended calls' cost;
 * buckets of 15 min. Costs saturate instead of wrapping. */
static void test_spend(void **state)
{
	struct fx *x = fx_new(NULL);
	fx_rule(x, "default")->spend = (struct fraud_limit){1000000, 3600 * S, FRAUD_FLAG};
	fx_create(x);
	struct fraud_call a;
	struct fraud_decision d;
	fx_call(x, "acme", A_NUM, "+442079460001", &a, &d);
	fx_at(x, 60 * S);
	fx_end(x, &a, 55 * S, 600000); /* bucket 0 */
	assert_int_equal(fx_call(x, "acme", A_NUM, "+442079460001", &a, &d), FRAUD_ALLOW);
	fx_at(x, 20 * 60 * S);
	fx_end(x, &a, 1000 * S, 400000); /* bucket 1: 1.000000, not more than 1.00 */
	assert_int_equal(fx_call(x, "acme", A_NUM, "+442079460001", &a, &d), FRAUD_ALLOW);
	fx_end(x, &a, 1, 1); /* 1.000001 */
	assert_int_equal(fx_call(x, "acme", A_NUM, "+442079460001", &a, &d), FRAUD_FLAG);
	assert_reason(&d, "velocity.spend: 1.000001 spent in 3600s (max 1.000000)");
	assert_int_equal(d.sip_status, 0);
	assert_true(a.proceeded);
	fx_end(x, &a, 0, 0);
	/* At 1 h bucket 0 (0.6) is out: 0.400001 left. */
	fx_at(x, 3600 * S);
	assert_int_equal(fx_call(x, "acme", A_NUM, "+442079460001", &a, &d), FRAUD_ALLOW);
	/* Saturation: two huge costs do not wrap to a small sum. */
	fx_end(x, &a, 1, INT64_MAX);
	fx_call(x, "acme", A_NUM, "+442079460001", &a, &d);
	fx_end(x, &a, 1, INT64_MAX);
	fx_call(x, "acme", A_NUM, "+442079460001", &a, &d);
	assert_int_equal(d.action, FRAUD_FLAG);
	fx_end(x, &a, 0, 0);
	fx_free(x);
}

/* new_dest = 2/1h flag, then block in another rule: a destination is new
 * when not called over the last window; a refused call does not make its
 * destination known (a retry is new again). */
static void test_new_dest(void **state)
{
	struct fx *x = fx_new(NULL);
	fx_rule(x, "default")->new_dest = (struct fraud_limit){2, 3600 * S, FRAUD_FLAG};
	fx_rule(x, "strict")->new_dest = (struct fraud_limit){1, 3600 * S, FRAUD_BLOCK};
	fx_account(x, "tight", 1, NULL, NULL);
	fx_create(x);
	struct fraud_decision d;
	assert_int_equal(fx_call1(x, "acme", A_NUM, "+442079460001", &d), FRAUD_ALLOW);
	assert_int_equal(fx_call1(x, "acme", A_NUM, "+442079460002", &d), FRAUD_ALLOW);
	assert_int_equal(fx_call1(x, "acme", A_NUM, "+442079460001", &d), FRAUD_ALLOW); /* known */
	assert_int_equal(fx_call1(x, "acme", A_NUM, "+442079460003", &d), FRAUD_FLAG);
	assert_reason(&d, "velocity.new_dest: 3 new destinations in 3600s (max 2)");
	assert_int_equal(fx_call1(x, "acme", A_NUM, "+442079460003", &d), FRAUD_ALLOW); /* it went on: known */

	assert_int_equal(fx_call1(x, "tight", A_NUM, "+442079460001", &d), FRAUD_ALLOW);
	assert_int_equal(fx_call1(x, "tight", A_NUM, "+442079460002", &d), FRAUD_BLOCK);
	assert_int_equal(fx_call1(x, "tight", A_NUM, "+442079460002", &d), FRAUD_BLOCK); /* still new */
	assert_reason(&d, "velocity.new_dest: 3 new destinations in 3600s (max 1)");
	assert_int_equal(fx_call1(x, "tight", A_NUM, "+442079460001", &d), FRAUD_ALLOW);

	/* Two windows later (the sketch keeps between one and two) the
	 * numbers are new again, and the counting window is empty. */
	fx_at(x, 2 * 3600 * S);
	assert_int_equal(fx_call1(x, "acme", A_NUM, "+442079460001", &d), FRAUD_ALLOW);
	assert_int_equal(fx_call1(x, "acme", A_NUM, "+442079460002", &d), FRAUD_ALLOW);
	assert_int_equal(fx_call1(x, "acme", A_NUM, "+442079460003", &d), FRAUD_FLAG);
	fx_free(x);
}

/* sms = 2/1s throttle: the third message in a second is refused with
 * ESME_RTHROTTLED; an account without a listed class takes the default. */
static void test_sms_rate(void **state)
{
	struct fx *x = fx_new(NULL);
	fx_rule(x, "default")->sms = (struct fraud_limit){2, 1 * S, FRAUD_THROTTLE};
	fx_create(x);
	struct fraud_decision d;
	struct fraud_sms_req rq = {SY_STR("esme1"), SY_STR("Brand"), SY_STR("+447700900001"), 1};
	fraud_sms_submit(x->f, &rq, &d);
	assert_int_equal(d.action, FRAUD_ALLOW);
	fraud_sms_submit(x->f, &rq, &d);
	assert_int_equal(d.action, FRAUD_ALLOW);
	fraud_sms_submit(x->f, &rq, &d);
	assert_int_equal(d.action, FRAUD_THROTTLE);
	assert_int_equal(d.smpp_status, 0x58);
	assert_reason(&d, "velocity.sms: 3 messages in 1s (max 2)");
	assert_int_equal(x->last_kind, FRAUD_KIND_SMS);
	assert_string_equal(x->last_account, "esme1");
	fx_at(x, 1 * S);
	fraud_sms_submit(x->f, &rq, &d);
	assert_int_equal(d.action, FRAUD_ALLOW);
	assert_int_equal(fraud_stats(x->f)->decisions, 4);
	fx_free(x);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_calls_window), cmocka_unit_test(test_concurrent), cmocka_unit_test(test_spend),
	    cmocka_unit_test(test_new_dest),	 cmocka_unit_test(test_sms_rate),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
