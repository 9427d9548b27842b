/* test_fraud_callerid.c: the caller-ID checks (core/fraud/callerid.c): a
 * malformed or unallocatable caller, caller equal to callee (after
 * normalisation), a customer presenting numbers outside its own prefixes
 * (written with +, bare or with the international prefix), and each check
 * off when its action is allow. */
#include "tests/fraud_fixture.h"

#define CALLEE "+33123456789"

static struct fx *setup(void)
{
	struct fx *x = fx_new(NULL);
	assert_int_equal(fraud_num_cfg_set_intl(&x->cfg.num, SY_STR("00")), SY_OK);
	struct fraud_rule_cfg *r = fx_rule(x, "default");
	r->cli_malformed = FRAUD_FLAG;
	r->cli_same = FRAUD_BLOCK;
	r->cli_foreign = FRAUD_THROTTLE;
	fx_rule(x, "off");
	fx_account(x, "acme", -1, "+4420", "004421");
	fx_account(x, "free", 1, "+4420", NULL);
	fx_create(x);
	return x;
}

static void test_malformed(void **state)
{
	struct fx *x = setup();
	struct fraud_decision d;
	assert_int_equal(fx_call1(x, "bob", "+442071234567", CALLEE, &d), FRAUD_ALLOW);
	assert_int_equal(fx_call1(x, "bob", "+28212345678", CALLEE, &d), FRAUD_FLAG);
	assert_reason(&d, "callerid.malformed: caller '28212345678' is cc_spare");
	assert_int_equal(d.detector, FRAUD_DET_CALLERID);
	assert_int_equal(fx_call1(x, "bob", "anonymous", CALLEE, &d), FRAUD_FLAG);
	assert_reason(&d, "callerid.malformed: caller 'anonymous' is non_digit");
	assert_int_equal(fx_call1(x, "bob", "+4412", CALLEE, &d), FRAUD_FLAG);
	assert_reason(&d, "callerid.malformed: caller '4412' is too_short");
	assert_int_equal(fx_call1(x, "bob", "+12125550123", CALLEE, &d), FRAUD_ALLOW);
	assert_int_equal(fx_call1(x, "bob", "+10125550123", CALLEE, &d), FRAUD_FLAG);
	assert_reason(&d, "callerid.malformed: caller '10125550123' is nanp_area");
	assert_int_equal(fx_call1(x, "bob", "0033987654321", CALLEE, &d), FRAUD_ALLOW); /* 00 = + */
	assert_int_equal(fx_call1(x, "free", "anonymous", CALLEE, &d), FRAUD_ALLOW);	/* rule "off" */
	assert_int_equal(fraud_stats(x->f)->fired[FRAUD_DET_CALLERID], 4);
	fx_free(x);
}

static void test_same(void **state)
{
	struct fx *x = setup();
	struct fraud_decision d;
	assert_int_equal(fx_call1(x, "bob", CALLEE, CALLEE, &d), FRAUD_BLOCK);
	assert_reason(&d, "callerid.same: caller +33123456789 equals the callee");
	assert_int_equal(fx_call1(x, "bob", "0033123456789", CALLEE, &d), FRAUD_BLOCK); /* same once normalised */
	assert_int_equal(fx_call1(x, "bob", "+33123456788", CALLEE, &d), FRAUD_ALLOW);
	fx_free(x);
}

static void test_foreign(void **state)
{
	struct fx *x = setup();
	struct fraud_decision d;
	assert_int_equal(fx_call1(x, "acme", "+442071234567", CALLEE, &d), FRAUD_ALLOW);
	assert_int_equal(fx_call1(x, "acme", "+442171234567", CALLEE, &d), FRAUD_ALLOW); /* "004421" */
	assert_int_equal(fx_call1(x, "acme", "00442071234567", CALLEE, &d), FRAUD_ALLOW);
	assert_int_equal(fx_call1(x, "acme", "+442271234567", CALLEE, &d), FRAUD_THROTTLE);
	assert_reason(&d, "callerid.foreign: caller +442271234567 is outside account acme's numbers");
	/* Without own numbers there is nothing to be outside of. */
	assert_int_equal(fx_call1(x, "bob", "+442271234567", CALLEE, &d), FRAUD_ALLOW);
	/* Several checks: the strongest wins (same: block over foreign:
	 * throttle over malformed: flag), each one marked as fired. */
	assert_int_equal(fx_call1(x, "acme", "+33123456789", CALLEE, &d), FRAUD_BLOCK);
	assert_reason(&d, "callerid.same: caller +33123456789 equals the callee");
	fx_free(x);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_malformed),
	    cmocka_unit_test(test_same),
	    cmocka_unit_test(test_foreign),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
